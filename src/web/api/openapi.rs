//! The OpenAPI 3 document of `/api/v1`, generated from the handlers'
//! annotations and served at `/api/v1/openapi.json`.

use super::{List, admin, auth, meetings, public, requests, stats};
use crate::db::{categories::Category, units::Unit, users::User};
use crate::web::AppState;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// `GET /api/v1/openapi.json`.
pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(document))
}

async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Every error of `/api/v1`: `{"error": {...}}`.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the body `ApiError` writes
pub struct ErrorBody {
    error: ErrorInfo,
}

/// The error itself.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorInfo {
    /// Stable code: `bad_request`, `unauthorized`, `forbidden`, `not_found`,
    /// `illegal_transition`, `conflict`, `validation`, `too_many_requests`, `internal`.
    #[schema(example = "validation")]
    code: String,
    /// Message in Simplified Chinese.
    message: String,
    /// Only with `validation`: every invalid field.
    details: Option<Vec<FieldError>>,
    /// Only with `illegal_transition`: the request's current status.
    status: Option<String>,
    /// Only with `illegal_transition`: the refused action.
    action: Option<String>,
}

/// One invalid field.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FieldError {
    /// The JSON field.
    field: String,
    /// Stable message key, e.g. `err.required`.
    code: String,
    /// The message.
    message: String,
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "周周会 API",
        description = "The JSON API of 周周会 (docs/API.md). This document covers authentication, units, categories, routing rules, accounts, the calendar, requests, the resident's status and rating, meetings and the public boards: the whole of docs/API.md except /healthz and /readyz."
    ),
    paths(
        auth::token,
        auth::me,
        admin::list_units,
        admin::get_unit,
        admin::list_categories,
        admin::get_category,
        admin::create_unit,
        admin::update_unit,
        admin::create_category,
        admin::update_category,
        admin::list_rules,
        admin::create_rule,
        admin::delete_rule,
        admin::resolve,
        admin::list_users,
        admin::get_user,
        admin::create_user,
        admin::update_user,
        admin::list_days,
        admin::set_day,
        admin::delete_day,
        requests::index,
        requests::create,
        requests::show,
        requests::act,
        public::show,
        public::rate,
        meetings::index,
        meetings::create,
        meetings::set_series,
        meetings::show,
        meetings::agenda,
        meetings::decide,
        meetings::report_back,
        meetings::close,
        meetings::check,
        meetings::board,
        stats::show,
    ),
    components(schemas(ErrorBody, ErrorInfo, FieldError, Unit, Category, User, List<Unit>, List<Category>)),
    modifiers(&Bearer)
)]
struct ApiDoc;
