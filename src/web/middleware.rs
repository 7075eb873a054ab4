//! Cross-cutting HTTP layers: request spans, security headers, and the
//! Origin / Sec-Fetch-Site check on unsafe methods.

use super::AppState;
use super::error::ApiError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::TraceLayer;
use tracing::Span;

type Trace<M, R> = TraceLayer<SharedClassifier<ServerErrorsAsFailures>, M, (), R>;

/// One span per request with method and path only: query strings may carry
/// access codes, so they are never logged.
#[allow(clippy::type_complexity)]
pub fn trace_layer() -> Trace<
    impl Fn(&Request<Body>) -> Span + Clone,
    impl Fn(&Response, std::time::Duration, &Span) + Clone,
> {
    TraceLayer::new_for_http()
        .make_span_with(|req: &Request<Body>| {
            tracing::info_span!(
                "http",
                method = %req.method(),
                path = %req.uri().path(),
                status = tracing::field::Empty,
            )
        })
        .on_request(())
        .on_response(
            |res: &Response, latency: std::time::Duration, span: &Span| {
                span.record("status", res.status().as_u16());
                tracing::info!(
                    status = res.status().as_u16(),
                    ms = latency.as_millis() as u64,
                    "response"
                );
            },
        )
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Adds the security headers to every response.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    res
}

/// Refuses cross-site form posts: browsers send `Sec-Fetch-Site` and
/// `Origin`; requests authenticated by a bearer token carry no ambient
/// credentials and are exempt.
pub async fn origin_check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "));
    if unsafe_method && !bearer && !same_origin(&state, &req) {
        tracing::warn!("cross-site request refused");
        return if req.uri().path().starts_with("/api/") {
            ApiError::Forbidden.into_response()
        } else {
            super::error::PageError::Csrf.into_response()
        };
    }
    next.run(req).await
}

fn same_origin(state: &AppState, req: &Request) -> bool {
    let headers = req.headers();
    // Modern browsers say where a request comes from; trust that first.
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin == "null" {
        // Privacy modes send an opaque origin; the CSRF token still guards the form.
        return true;
    }
    if origin == state.config().public_url {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or_default();
    !host.is_empty() && origin_host == host
}
