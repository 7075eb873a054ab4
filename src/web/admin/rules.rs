//! Routing rules: list, create, delete, and the "test a route" box.

use super::{FormErrors, UnitOption, allow, unit_options};
use crate::db::{self, categories::Category, rules::RuleInput, units::Unit};
use crate::domain::Validation;
use crate::domain::routing::{Route, Rule};
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::PageError;
use crate::web::form::{StaffForm, opt_id, opt_int};
use crate::web::page::PageCtx;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

/// `/admin/rules`, `/admin/rules/{id}/delete`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/rules", get(index).post(create))
        .route("/admin/rules/{id}/delete", post(delete))
}

/// The rule form as posted.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    category_id: String,
    #[serde(default)]
    area_unit_id: String,
    #[serde(default)]
    handler_unit_id: String,
    #[serde(default)]
    time_limit_days: String,
}

impl RuleForm {
    fn parse(&self) -> Result<RuleInput, Validation> {
        let mut v = Validation::new();
        let input = RuleInput {
            category_id: opt_id(&mut v, "category_id", &self.category_id),
            area_unit_id: opt_id(&mut v, "area_unit_id", &self.area_unit_id),
            handler_unit_id: opt_id(&mut v, "handler_unit_id", &self.handler_unit_id),
            time_limit_days: opt_int(&mut v, "time_limit_days", &self.time_limit_days),
        };
        v.finish()?;
        Ok(input)
    }
}

/// The "test a route" query.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TestQuery {
    #[serde(default)]
    village_id: String,
    #[serde(default)]
    category_id: String,
}

/// A rule as listed.
#[derive(Debug, Clone)]
struct RuleRow {
    id: i32,
    category: String,
    area: String,
    handler: String,
    time_limit: String,
}

/// The answer of the test box.
#[derive(Debug, Clone)]
struct TestResult {
    /// Unit the request would go to.
    target: String,
    /// Human explanation ("由规则 道路交通@马桥镇 派至 城建办").
    explanation: String,
    /// Working days.
    time_limit_days: i32,
    /// True when no rule matched.
    queued: bool,
}

#[derive(Template)]
#[template(path = "admin/rules.html")]
struct RulesPage {
    ctx: PageCtx,
    rules: Vec<RuleRow>,
    categories: Vec<Category>,
    areas: Vec<UnitOption>,
    handlers: Vec<UnitOption>,
    villages: Vec<UnitOption>,
    form: RuleForm,
    errors: FormErrors,
    test: TestQuery,
    test_result: Option<TestResult>,
    test_error: Option<String>,
}

/// Explains a route in the reader's language: 由规则 道路交通@马桥镇 派至 城建办.
pub fn explain(
    route: &Route,
    units: &[Unit],
    cats: &[Category],
    tr: crate::web::i18n::Tr,
) -> (String, String) {
    let target = route
        .target_unit()
        .and_then(|t| units.iter().find(|u| u.id == t))
        .map(|u| u.name.clone())
        .unwrap_or_else(|| "?".into());
    let text = db::rules::explain(
        route,
        units,
        cats,
        &tr.t("rules.explain_rule"),
        &tr.t("rules.explain_queue"),
    );
    (target, text)
}

fn name_of(units: &[Unit], id: i32) -> &str {
    units
        .iter()
        .find(|u| u.id == id)
        .map(|u| u.name.as_str())
        .unwrap_or("?")
}

async fn page(
    state: &AppState,
    staff: &Staff,
    form: RuleForm,
    errors: FormErrors,
    test: TestQuery,
) -> Result<RulesPage, PageError> {
    let units = db::units::all(state.db()).await?;
    let tree = db::units::tree_of(&units);
    let cats = db::categories::all(state.db()).await?;
    let rules: Vec<Rule> = db::rules::all(state.db())
        .await?
        .into_iter()
        .filter(|r| {
            tree.is_within(r.area_unit_id, staff.unit.id)
                || tree.is_within(staff.unit.id, r.area_unit_id)
        })
        .collect();
    let rows = rules
        .iter()
        .map(|r| RuleRow {
            id: r.id,
            category: db::categories::label(&cats, r.category_id),
            area: name_of(&units, r.area_unit_id).to_owned(),
            handler: name_of(&units, r.handler_unit_id).to_owned(),
            time_limit: r
                .time_limit_days
                .map(|d| d.to_string())
                .unwrap_or_else(|| staff.tr.t("rules.category_default")),
        })
        .collect();
    let options = unit_options(&units, staff.unit.id);
    // Handlers may be anywhere in the tree (a county office, say), not only below us.
    let handler_root = tree
        .chain(staff.unit.id)
        .last()
        .copied()
        .unwrap_or(staff.unit.id);
    let handlers = unit_options(&units, handler_root)
        .into_iter()
        .filter(|o| o.kind != "county")
        .collect();
    let mut test_error = None;
    let mut test_result = None;
    let mut v = Validation::new();
    let village = opt_id(&mut v, "village_id", &test.village_id);
    let category = opt_id(&mut v, "category_id", &test.category_id);
    if let (Some(vid), Some(cid)) = (village, category) {
        if !tree.is_within(vid, staff.unit.id)
            || tree.kind(vid) != Some(crate::domain::unit::UnitKind::Village)
        {
            test_error = Some(staff.tr.t("err.rule.test_village"));
        } else {
            match db::rules::resolve(state.db(), vid, cid).await {
                Ok(route) => {
                    let (target, explanation) = explain(&route, &units, &cats, staff.tr);
                    test_result = Some(TestResult {
                        target,
                        explanation,
                        time_limit_days: route.time_limit_days(),
                        queued: route.rule_id().is_none(),
                    });
                }
                Err(db::Error::NotFound) => test_error = Some(staff.tr.t("err.rule.no_category")),
                Err(e) => return Err(e.into()),
            }
        }
    } else if !v.0.is_empty() {
        test_error = Some(staff.tr.t("err.number"));
    }
    Ok(RulesPage {
        ctx: staff.ctx(),
        rules: rows,
        categories: cats,
        villages: options
            .iter()
            .filter(|o| o.kind == "village")
            .cloned()
            .collect(),
        areas: options.into_iter().filter(|o| o.kind != "office").collect(),
        handlers,
        form,
        errors,
        test,
        test_result,
        test_error,
    })
}

async fn index(
    State(state): State<AppState>,
    staff: Staff,
    Query(test): Query<TestQuery>,
) -> Result<Html<String>, PageError> {
    allow(staff.role().can_read_routing())?;
    let p = page(
        &state,
        &staff,
        RuleForm::default(),
        FormErrors::default(),
        test,
    )
    .await?;
    Ok(Html(p.render()?))
}

async fn create(
    State(state): State<AppState>,
    StaffForm { staff, form }: StaffForm<RuleForm>,
) -> Result<Response, PageError> {
    staff.require_admin()?;
    let result = match form.parse() {
        Ok(input) => db::rules::create(state.db(), &input, Some(staff.unit.id)).await,
        Err(v) => Err(v.into()),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/rules").into_response()),
        Err(db::Error::Invalid(v)) => {
            let errors = FormErrors::from_validation(&v, staff.tr);
            let p = page(&state, &staff, form, errors, TestQuery::default()).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(p.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn delete(
    State(state): State<AppState>,
    Path(id): Path<i32>,
    StaffForm { staff, form }: StaffForm<Empty>,
) -> Result<Response, PageError> {
    let Empty {} = form;
    staff.require_admin()?;
    db::rules::delete(state.db(), id, Some(staff.unit.id)).await?;
    Ok(Redirect::to("/admin/rules").into_response())
}
