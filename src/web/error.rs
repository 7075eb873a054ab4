//! Errors: `ApiError` answers JSON (`{"error": {code, message, details}}`),
//! `PageError` answers an HTML page in the reader's language. Both are logged
//! once, by the trace layer, never with personal data.

use super::i18n::{Locale, Tr, message};
use crate::db;
use crate::domain::Validation;
use crate::domain::lifecycle::LifecycleError;
use askama::Template;
use axum::Json;
use axum::extract::Request;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::json;

/// An error answered as JSON by the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed request (bad JSON, wrong types).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// No or invalid token / credentials.
    #[error("unauthorized")]
    Unauthorized,
    /// Logged in, but the role or scope does not allow it.
    #[error("forbidden")]
    Forbidden,
    /// Not found (or outside the caller's scope).
    #[error("not found")]
    NotFound,
    /// The request conflicts with the current state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Invalid fields; nothing was written.
    #[error(transparent)]
    Validation(#[from] Validation),
    /// The action is not legal from the request's current status.
    #[error("illegal move {action} from {status}")]
    IllegalMove {
        /// Current status.
        status: crate::domain::request::Status,
        /// Refused action.
        action: crate::domain::lifecycle::Action,
    },
    /// Too many attempts.
    #[error("too many requests")]
    TooManyRequests,
    /// Something broke on our side.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<db::Error> for ApiError {
    fn from(e: db::Error) -> Self {
        match e {
            db::Error::Invalid(v) => ApiError::Validation(v),
            db::Error::NotFound => ApiError::NotFound,
            db::Error::Db(e) => ApiError::Internal(e.to_string()),
            db::Error::Lifecycle(LifecycleError::Forbidden) => ApiError::Forbidden,
            db::Error::Lifecycle(LifecycleError::Illegal { status, action }) => {
                ApiError::IllegalMove { status, action }
            }
            db::Error::Lifecycle(LifecycleError::Invalid(v)) => ApiError::Validation(v),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let zh = Locale::Zh.code();
        let (status, code, msg, details) = match &self {
            ApiError::BadRequest(detail) => (
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("{}: {detail}", message("err.bad_request", zh)),
                None,
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                message("err.unauthorized", zh),
                None,
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                message("err.forbidden", zh),
                None,
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                message("err.not_found", zh),
                None,
            ),
            ApiError::Conflict(key) => (StatusCode::CONFLICT, "conflict", message(key, zh), None),
            ApiError::Validation(v) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                message("err.validation", zh),
                Some(
                    v.0.iter()
                        .map(|e| json!({"field": e.field, "code": e.key, "message": message(&e.key, zh)}))
                        .collect::<Vec<_>>(),
                ),
            ),
            ApiError::IllegalMove { status, action } => {
                let body = json!({"error": {
                    "code": "illegal_transition",
                    "message": message("err.illegal_move", zh)
                        .replace("{action}", &message(&format!("action.{action}"), zh))
                        .replace("{status}", &message(&format!("status.{status}"), zh)),
                    "status": status.as_str(),
                    "action": action.as_str(),
                }});
                return (StatusCode::CONFLICT, Json(body)).into_response();
            }
            ApiError::TooManyRequests => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                message("err.too_many", zh),
                None,
            ),
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    message("err.internal", zh),
                    None,
                )
            }
        };
        let mut body = json!({"error": {"code": code, "message": msg}});
        if let Some(d) = details {
            body["error"]["details"] = json!(d);
        }
        (status, Json(body)).into_response()
    }
}

/// An error answered as an HTML page.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Not logged in: go to the login page, then back to `0`.
    #[error("login required")]
    Login(String),
    /// Malformed form.
    #[error("bad request")]
    BadRequest,
    /// The form's CSRF token is missing or wrong.
    #[error("csrf token mismatch")]
    Csrf,
    /// Role or scope does not allow it.
    #[error("forbidden")]
    Forbidden,
    /// Not found (or outside the reader's scope).
    #[error("not found")]
    NotFound,
    /// The action is not legal from the current status (someone else moved it).
    #[error("conflict")]
    Conflict,
    /// Too many failed attempts from this client.
    #[error("too many requests")]
    TooManyRequests,
    /// Something broke on our side.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<db::Error> for PageError {
    fn from(e: db::Error) -> Self {
        match e {
            db::Error::NotFound => PageError::NotFound,
            db::Error::Invalid(_) | db::Error::Lifecycle(LifecycleError::Invalid(_)) => {
                PageError::BadRequest
            }
            db::Error::Lifecycle(LifecycleError::Forbidden) => PageError::Forbidden,
            db::Error::Lifecycle(LifecycleError::Illegal { .. }) => PageError::Conflict,
            db::Error::Db(e) => PageError::Internal(e.to_string()),
        }
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::Internal(e.to_string())
    }
}

/// Marker put on error responses; [`render_error_pages`] fills in the page.
#[derive(Debug, Clone, Copy)]
struct ErrorPage(&'static str);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, key) = match &self {
            PageError::Login(next) => {
                let target = format!(
                    "/login?next={}",
                    serde_urlencoded::to_string([("n", next)])
                        .unwrap_or_default()
                        .trim_start_matches("n=")
                );
                return Redirect::to(&target).into_response();
            }
            PageError::BadRequest => (StatusCode::BAD_REQUEST, "err.bad_request"),
            PageError::Csrf => (StatusCode::FORBIDDEN, "err.csrf"),
            PageError::Forbidden => (StatusCode::FORBIDDEN, "err.forbidden"),
            PageError::NotFound => (StatusCode::NOT_FOUND, "err.not_found"),
            PageError::Conflict => (StatusCode::CONFLICT, "err.conflict_page"),
            PageError::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "err.too_many"),
            PageError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "err.internal")
            }
        };
        let mut res = status.into_response();
        res.extensions_mut().insert(ErrorPage(key));
        res
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate {
    tr: Tr,
    status: u16,
    message: String,
}

/// Renders the body of page errors in the reader's language.
pub async fn render_error_pages(req: Request, next: Next) -> Response {
    let locale = super::form::cookie(req.headers(), "lang")
        .and_then(|c| Locale::from_code(&c))
        .unwrap_or_default();
    let large = super::form::cookie(req.headers(), "size").is_some_and(|v| v == "large");
    let res = next.run(req).await;
    let Some(ErrorPage(key)) = res.extensions().get::<ErrorPage>().copied() else {
        return res;
    };
    let tr = Tr(locale, large);
    let page = ErrorTemplate {
        tr,
        status: res.status().as_u16(),
        message: tr.t(key),
    };
    match page.render() {
        Ok(html) => (res.status(), Html(html)).into_response(),
        Err(_) => res,
    }
}

/// Fallback: JSON 404 under `/api`, a page elsewhere.
pub async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::NotFound.into_response()
    } else {
        PageError::NotFound.into_response()
    }
}
