//! Who is asking: web sessions (cookie + CSRF token), API bearer tokens, and
//! the login, logout and language-switch routes.

use super::AppState;
use super::error::{ApiError, PageError};
use super::form::{constant_time_eq, cookie, local_path};
use super::i18n::{Locale, Tr};
use super::limiter::ClientKey;
use super::page::PageCtx;
use crate::db::sessions::{self, SessionKind};
use crate::db::units::{self, Unit};
use crate::db::users::{self, User};
use crate::domain::role::Role;
use askama::Template;
use axum::Router;
use axum::extract::{Form, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "zzh_session";
/// Name of the pre-login CSRF cookie.
const LOGIN_CSRF_COOKIE: &str = "zzh_login_csrf";
/// Lifetime of a web session.
pub const WEB_SESSION_HOURS: i64 = 12;
/// Lifetime of an API token.
pub const API_TOKEN_DAYS: i64 = 30;

/// A logged-in staff member on a page request.
#[derive(Debug, Clone)]
pub struct Staff {
    /// The account.
    pub user: User,
    /// The account's unit.
    pub unit: Unit,
    /// CSRF token to put in forms.
    pub csrf: String,
    /// Reader's language.
    pub tr: Tr,
    /// Path of the current page (for the language switch).
    pub path: String,
}

impl Staff {
    /// The role.
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Fails unless the role is admin.
    pub fn require_admin(&self) -> Result<(), PageError> {
        if self.role().can_administer() {
            Ok(())
        } else {
            Err(PageError::Forbidden)
        }
    }

    /// The shared page context for templates.
    pub fn ctx(&self) -> PageCtx {
        PageCtx::for_staff(self)
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/staff".into());
        let login = || PageError::Login(path.clone());
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(login)?;
        let session = sessions::lookup(state.db(), &token, SessionKind::Web)
            .await?
            .ok_or_else(login)?;
        let unit = units::get(state.db(), session.user.unit_id).await?;
        Ok(Staff {
            user: session.user,
            unit,
            csrf: session.csrf_token,
            tr: Tr::from_parts(parts),
            path: parts.uri.path().to_owned(),
        })
    }
}

/// A staff member authenticated by `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct ApiStaff {
    /// The account.
    pub user: User,
}

impl ApiStaff {
    /// Fails with 403 unless the role is admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.user.role.can_administer() {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for ApiStaff {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        let session = sessions::lookup(state.db(), token.trim(), SessionKind::Api)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(ApiStaff { user: session.user })
    }
}

/// `/login`, `/logout`, `/lang/{code}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/lang/{code}", get(switch_language))
        .route("/size/{size}", get(switch_size))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: PageCtx,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
}

fn cookie_header(name: &str, value: &str, max_age_secs: i64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .ok()
}

async fn login_form(
    State(state): State<AppState>,
    tr: Tr,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    // Reuse the visitor's pre-login token so two open tabs both work.
    let token = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_else(sessions::random_token);
    let page = LoginPage {
        ctx: PageCtx::anonymous(tr, "/login", &token),
        next: local_path(q.next.as_deref()),
        username: String::new(),
        error: None,
    };
    let mut res = Html(page.render()?).into_response();
    if let Some(c) = cookie_header(
        LOGIN_CSRF_COOKIE,
        &token,
        3600,
        state.config().secure_cookies,
    ) {
        res.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(res)
}

#[derive(serde::Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientKey,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        return Err(PageError::Csrf);
    }
    if !state.failures().allowed(&client.logins()) {
        return Err(PageError::TooManyRequests);
    }
    let next = local_path(form.next.as_deref());
    match users::authenticate(state.db(), &form.username, &form.password).await? {
        Some(user) => {
            let token = sessions::create(
                state.db(),
                user.id,
                SessionKind::Web,
                chrono::Duration::hours(WEB_SESSION_HOURS),
            )
            .await?;
            tracing::info!(user_id = user.id, "login");
            let mut res = Redirect::to(&next).into_response();
            let secure = state.config().secure_cookies;
            if let Some(c) = cookie_header(SESSION_COOKIE, &token, WEB_SESSION_HOURS * 3600, secure)
            {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            if let Some(c) = cookie_header(LOGIN_CSRF_COOKIE, "", 0, secure) {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            Ok(res)
        }
        None => {
            state.failures().fail(&client.logins());
            tracing::info!("login failed");
            let page = LoginPage {
                ctx: PageCtx::anonymous(tr, "/login", &expected),
                next,
                username: form.username.trim().to_owned(),
                error: Some(tr.t("login.failed")),
            };
            Ok((StatusCode::UNAUTHORIZED, Html(page.render()?)).into_response())
        }
    }
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: super::form::StaffForm<Empty>,
) -> Result<Response, PageError> {
    let _ = form.form;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        sessions::delete(state.db(), &token).await?;
    }
    tracing::info!(user_id = form.staff.user.id, "logout");
    let mut res = Redirect::to("/login").into_response();
    if let Some(c) = cookie_header(SESSION_COOKIE, "", 0, state.config().secure_cookies) {
        res.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(res)
}

async fn switch_language(
    Path(code): Path<String>,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    let locale = Locale::from_code(&code).ok_or(PageError::NotFound)?;
    let mut res = Redirect::to(&local_path(q.next.as_deref())).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "lang={}; Path=/; SameSite=Lax; Max-Age=31536000",
        locale.code()
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

async fn switch_size(
    Path(size): Path<String>,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    let value = match size.as_str() {
        "large" => "large",
        "normal" => "normal",
        _ => return Err(PageError::NotFound),
    };
    let mut res = Redirect::to(&local_path(q.next.as_deref())).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "size={value}; Path=/; SameSite=Lax; Max-Age=31536000"
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}
