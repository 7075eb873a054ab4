//! Units, categories, routing rules, calendar and accounts over JSON.

use super::{ApiJson, List};
use crate::db::{
    self, calendar::CalendarDay, calendar::DayInput, categories::Category, categories::RawCategory,
    rules::RuleInput, units::Unit, units::UnitInput, users::User, users::UserInput,
};
use crate::domain::Validation;
use crate::domain::routing::Rule;
use crate::web::AppState;
use crate::web::auth::ApiStaff;
use crate::web::error::ApiError;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

/// Administration routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/units", get(list_units).post(create_unit))
        .route("/units/{id}", get(get_unit).patch(update_unit))
        .route("/categories", get(list_categories).post(create_category))
        .route("/categories/{id}", get(get_category).patch(update_category))
        .route("/routing-rules", get(list_rules).post(create_rule))
        .route("/routing-rules/resolve", get(resolve))
        .route("/routing-rules/{id}", delete(delete_rule))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user).patch(update_user))
        .route("/calendar", get(list_days).post(set_day))
        .route("/calendar/{day}", delete(delete_day))
}

/// The units of your subtree.
#[utoipa::path(get, path = "/api/v1/units", tag = "units", security(("bearer" = [])),
    responses((status = 200, body = List<Unit>), (status = 401, body = super::openapi::ErrorBody)))]
async fn list_units(
    State(s): State<AppState>,
    staff: ApiStaff,
) -> Result<Json<List<Unit>>, ApiError> {
    let all = db::units::all(s.db()).await?;
    let tree = db::units::tree_of(&all);
    let mine: Vec<Unit> = all
        .into_iter()
        .filter(|u| tree.is_within(u.id, staff.user.unit_id))
        .collect();
    Ok(Json(mine.into()))
}

/// One unit of your subtree.
#[utoipa::path(get, path = "/api/v1/units/{id}", tag = "units", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Unit), (status = 401, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
async fn get_unit(
    State(s): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<i32>,
) -> Result<Json<Unit>, ApiError> {
    let tree = db::units::tree(s.db()).await?;
    if !tree.is_within(id, staff.user.unit_id) {
        return Err(ApiError::NotFound);
    }
    Ok(Json(db::units::get(s.db(), id).await?))
}

/// Creates a unit (admin).
#[utoipa::path(post, path = "/api/v1/units", tag = "units", security(("bearer" = [])), request_body = UnitInput, 
    responses((status = 201, body = Unit), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn create_unit(
    State(s): State<AppState>,
    staff: ApiStaff,
    ApiJson(input): ApiJson<UnitInput>,
) -> Result<(StatusCode, Json<Unit>), ApiError> {
    staff.require_admin()?;
    let u = db::units::save(s.db(), None, &input, Some(staff.user.unit_id)).await?;
    Ok((StatusCode::CREATED, Json(u)))
}

/// A partial unit update.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct UnitPatch {
    name: Option<String>,
    kind: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<i32>)]
    parent_id: Option<Option<i32>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// Changes a unit (admin); omitted fields keep their value.
#[utoipa::path(patch, path = "/api/v1/units/{id}", tag = "units", security(("bearer" = [])), params(("id" = i32, Path)), request_body = UnitPatch, 
    responses((status = 200, body = Unit), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn update_unit(
    State(s): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<i32>,
    ApiJson(p): ApiJson<UnitPatch>,
) -> Result<Json<Unit>, ApiError> {
    staff.require_admin()?;
    let tree = db::units::tree(s.db()).await?;
    if !tree.is_within(id, staff.user.unit_id) {
        return Err(ApiError::NotFound);
    }
    let old = db::units::get(s.db(), id).await?;
    let input = UnitInput {
        name: p.name.unwrap_or(old.name),
        kind: p.kind.unwrap_or_else(|| old.kind.as_str().to_owned()),
        parent_id: p.parent_id.unwrap_or(old.parent_id),
    };
    Ok(Json(
        db::units::save(s.db(), Some(id), &input, Some(staff.user.unit_id)).await?,
    ))
}

/// Every category, parents before children.
#[utoipa::path(get, path = "/api/v1/categories", tag = "categories", security(("bearer" = [])),
    responses((status = 200, body = List<Category>), (status = 401, body = super::openapi::ErrorBody)))]
async fn list_categories(
    State(s): State<AppState>,
    _staff: ApiStaff,
) -> Result<Json<List<Category>>, ApiError> {
    Ok(Json(db::categories::all(s.db()).await?.into()))
}

/// One category.
#[utoipa::path(get, path = "/api/v1/categories/{id}", tag = "categories", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = Category), (status = 401, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
async fn get_category(
    State(s): State<AppState>,
    _staff: ApiStaff,
    Path(id): Path<i32>,
) -> Result<Json<Category>, ApiError> {
    Ok(Json(db::categories::get(s.db(), id).await?))
}

/// Creates a category (admin).
#[utoipa::path(post, path = "/api/v1/categories", tag = "categories", security(("bearer" = [])), request_body = RawCategory, 
    responses((status = 201, body = Category), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn create_category(
    State(s): State<AppState>,
    staff: ApiStaff,
    ApiJson(raw): ApiJson<RawCategory>,
) -> Result<(StatusCode, Json<Category>), ApiError> {
    staff.require_admin()?;
    Ok((
        StatusCode::CREATED,
        Json(db::categories::save(s.db(), None, &raw).await?),
    ))
}

/// A partial category update.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct CategoryPatch {
    name: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<i32>)]
    parent_id: Option<Option<i32>>,
    time_limit_days: Option<i64>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    bring_note: Option<Option<String>>,
}

/// Changes a category (admin); omitted fields keep their value.
#[utoipa::path(patch, path = "/api/v1/categories/{id}", tag = "categories", security(("bearer" = [])), params(("id" = i32, Path)), request_body = CategoryPatch, 
    responses((status = 200, body = Category), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn update_category(
    State(s): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<i32>,
    ApiJson(p): ApiJson<CategoryPatch>,
) -> Result<Json<Category>, ApiError> {
    staff.require_admin()?;
    let old = db::categories::get(s.db(), id).await?;
    let raw = RawCategory {
        name: p.name.unwrap_or(old.name),
        parent_id: p.parent_id.unwrap_or(old.parent_id),
        time_limit_days: Some(p.time_limit_days.unwrap_or(i64::from(old.time_limit_days))),
        bring_note: p.bring_note.unwrap_or(old.bring_note),
    };
    Ok(Json(db::categories::save(s.db(), Some(id), &raw).await?))
}

/// A rule as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct RuleView {
    id: i32,
    category_id: i32,
    area_unit_id: i32,
    handler_unit_id: i32,
    time_limit_days: Option<i32>,
}

impl From<Rule> for RuleView {
    fn from(r: Rule) -> Self {
        RuleView {
            id: r.id,
            category_id: r.category_id,
            area_unit_id: r.area_unit_id,
            handler_unit_id: r.handler_unit_id,
            time_limit_days: r.time_limit_days,
        }
    }
}

fn require_routing_reader(staff: &ApiStaff) -> Result<(), ApiError> {
    if staff.user.role.can_read_routing() {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The rules whose area lies in your subtree.
#[utoipa::path(get, path = "/api/v1/routing-rules", tag = "routing", security(("bearer" = [])), 
    responses((status = 200, body = List<RuleView>), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody)))]
async fn list_rules(
    State(s): State<AppState>,
    staff: ApiStaff,
) -> Result<Json<List<RuleView>>, ApiError> {
    require_routing_reader(&staff)?;
    let tree = db::units::tree(s.db()).await?;
    let rules: Vec<RuleView> = db::rules::all(s.db())
        .await?
        .into_iter()
        .filter(|r| {
            tree.is_within(r.area_unit_id, staff.user.unit_id)
                || tree.is_within(staff.user.unit_id, r.area_unit_id)
        })
        .map(RuleView::from)
        .collect();
    Ok(Json(rules.into()))
}

/// Creates a rule (admin).
#[utoipa::path(post, path = "/api/v1/routing-rules", tag = "routing", security(("bearer" = [])), request_body = RuleInput, 
    responses((status = 201, body = RuleView), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn create_rule(
    State(s): State<AppState>,
    staff: ApiStaff,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<(StatusCode, Json<RuleView>), ApiError> {
    staff.require_admin()?;
    let r = db::rules::create(s.db(), &input, Some(staff.user.unit_id)).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// Deletes a rule (admin).
#[utoipa::path(delete, path = "/api/v1/routing-rules/{id}", tag = "routing", security(("bearer" = [])), params(("id" = i32, Path)), 
    responses((status = 204, description = "deleted"), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
async fn delete_rule(
    State(s): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<i32>,
) -> Result<StatusCode, ApiError> {
    staff.require_admin()?;
    db::rules::delete(s.db(), id, Some(staff.user.unit_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ResolveQuery {
    village_id: i32,
    category_id: i32,
}

/// The answer of a route test.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Resolved {
    /// Unit the request goes to (the township for the dispatcher queue).
    handler_unit_id: Option<i32>,
    /// Matching rule, if any.
    rule_id: Option<i32>,
    /// True when it waits in the dispatcher queue.
    queued: bool,
    /// Time limit in working days.
    time_limit_days: i32,
    /// Human explanation (Chinese).
    routed_by: String,
}

/// Where a request from this village in this category would go.
#[utoipa::path(get, path = "/api/v1/routing-rules/resolve", tag = "routing", security(("bearer" = [])), params(ResolveQuery), 
    responses((status = 200, body = Resolved), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn resolve(
    State(s): State<AppState>,
    staff: ApiStaff,
    q: Result<Query<ResolveQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Resolved>, ApiError> {
    require_routing_reader(&staff)?;
    let Query(q) = q?;
    let units = db::units::all(s.db()).await?;
    let tree = db::units::tree_of(&units);
    if !tree.is_within(q.village_id, staff.user.unit_id)
        || tree.kind(q.village_id) != Some(crate::domain::unit::UnitKind::Village)
    {
        return Err(Validation::one("village_id", "err.rule.test_village").into());
    }
    let route = match db::rules::resolve(s.db(), q.village_id, q.category_id).await {
        Err(db::Error::NotFound) => {
            return Err(Validation::one("category_id", "err.rule.no_category").into());
        }
        other => other?,
    };
    let cats = db::categories::all(s.db()).await?;
    let (_, text) =
        crate::web::admin::rules::explain(&route, &units, &cats, crate::web::i18n::Tr::default());
    let (rule_id, limit) = (route.rule_id(), route.time_limit_days());
    Ok(Json(Resolved {
        handler_unit_id: route.target_unit(),
        rule_id,
        queued: rule_id.is_none(),
        time_limit_days: limit,
        routed_by: text,
    }))
}

/// The accounts of your subtree (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", security(("bearer" = [])), 
    responses((status = 200, body = List<User>), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody)))]
async fn list_users(
    State(s): State<AppState>,
    staff: ApiStaff,
) -> Result<Json<List<User>>, ApiError> {
    staff.require_admin()?;
    let tree = db::units::tree(s.db()).await?;
    let ids = tree.subtree(staff.user.unit_id);
    Ok(Json(db::users::list(s.db(), Some(&ids)).await?.into()))
}

/// One account (admin).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "accounts", security(("bearer" = [])), params(("id" = i32, Path)), 
    responses((status = 200, body = User), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
async fn get_user(
    State(s): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<i32>,
) -> Result<Json<User>, ApiError> {
    staff.require_admin()?;
    let user = db::users::get(s.db(), id).await?;
    if !db::units::tree(s.db())
        .await?
        .is_within(user.unit_id, staff.user.unit_id)
    {
        return Err(ApiError::NotFound);
    }
    Ok(Json(user))
}

/// A new account as posted to the API.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct NewUser {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    unit_id: Option<i32>,
    email: Option<String>,
}

/// Creates an account (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", security(("bearer" = [])), request_body = NewUser, 
    responses((status = 201, body = User), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn create_user(
    State(s): State<AppState>,
    staff: ApiStaff,
    ApiJson(n): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    staff.require_admin()?;
    let input = UserInput {
        username: n.username,
        password: n.password,
        display_name: n.display_name,
        role: n.role,
        unit_id: n.unit_id,
        active: None,
        email: n.email,
    };
    let u = db::users::save(s.db(), None, &input, Some(staff.user.unit_id)).await?;
    tracing::info!(user_id = u.id, by = staff.user.id, "account created");
    Ok((StatusCode::CREATED, Json(u)))
}

/// A partial account update.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct UserPatch {
    password: Option<String>,
    display_name: Option<String>,
    role: Option<String>,
    unit_id: Option<i32>,
    active: Option<bool>,
    /// New address; `""` clears it, absent keeps it.
    email: Option<String>,
}

/// Changes an account (admin); omitted fields keep their value.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "accounts", security(("bearer" = [])), params(("id" = i32, Path)), request_body = UserPatch, 
    responses((status = 200, body = User), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn update_user(
    State(s): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<i32>,
    ApiJson(p): ApiJson<UserPatch>,
) -> Result<Json<User>, ApiError> {
    staff.require_admin()?;
    let old = db::users::get(s.db(), id).await?;
    if !db::units::tree(s.db())
        .await?
        .is_within(old.unit_id, staff.user.unit_id)
    {
        return Err(ApiError::NotFound);
    }
    let active = p.active.unwrap_or(old.active);
    let role = p.role.unwrap_or_else(|| old.role.as_str().to_owned());
    if id == staff.user.id && (!active || role != "admin") {
        let field = if active { "role" } else { "active" };
        return Err(Validation::one(field, "err.user.self_lockout").into());
    }
    let input = UserInput {
        username: old.username,
        password: p.password.unwrap_or_default(),
        display_name: p.display_name.unwrap_or(old.display_name),
        role,
        unit_id: Some(p.unit_id.unwrap_or(old.unit_id)),
        active: active.then(|| "true".to_owned()),
        email: p.email.or(old.email),
    };
    Ok(Json(
        db::users::save(s.db(), Some(id), &input, Some(staff.user.unit_id)).await?,
    ))
}

/// Every recorded day, in date order.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "calendar", security(("bearer" = [])), 
    responses((status = 200, body = List<CalendarDay>), (status = 401, body = super::openapi::ErrorBody)))]
async fn list_days(
    State(s): State<AppState>,
    _staff: ApiStaff,
) -> Result<Json<List<CalendarDay>>, ApiError> {
    Ok(Json(db::calendar::all(s.db()).await?.into()))
}

/// Records a day (admin), replacing an earlier entry.
#[utoipa::path(post, path = "/api/v1/calendar", tag = "calendar", security(("bearer" = [])), request_body = DayInput, 
    responses((status = 201, body = CalendarDay), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn set_day(
    State(s): State<AppState>,
    staff: ApiStaff,
    ApiJson(input): ApiJson<DayInput>,
) -> Result<(StatusCode, Json<CalendarDay>), ApiError> {
    staff.require_admin()?;
    Ok((
        StatusCode::CREATED,
        Json(db::calendar::set(s.db(), &input).await?),
    ))
}

/// Forgets a recorded day (admin).
#[utoipa::path(delete, path = "/api/v1/calendar/{day}", tag = "calendar", security(("bearer" = [])), params(("day" = String, Path, example = "2027-06-14")), 
    responses((status = 204, description = "deleted"), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn delete_day(
    State(s): State<AppState>,
    staff: ApiStaff,
    Path(day): Path<String>,
) -> Result<StatusCode, ApiError> {
    staff.require_admin()?;
    let day = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
        .map_err(|_| ApiError::from(Validation::one("day", "err.date")))?;
    db::calendar::remove(s.db(), day).await?;
    Ok(StatusCode::NO_CONTENT)
}
