//! Units: the tree view, creating and editing (admins, within their subtree).

use super::{FormErrors, TreeRow, UnitOption, tree_rows, unit_options};
use crate::db::{self, units::UnitInput};
use crate::domain::Validation;
use crate::domain::unit::UnitKind;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::PageError;
use crate::web::form::{StaffForm, opt_id};
use crate::web::page::PageCtx;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

/// `/admin/units`, `/admin/units/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/units", get(index).post(create))
        .route("/admin/units/{id}", get(edit).post(update))
}

#[derive(Template)]
#[template(path = "admin/units.html")]
struct UnitsPage {
    ctx: PageCtx,
    rows: Vec<TreeRow>,
    parents: Vec<UnitOption>,
    kinds: Vec<&'static str>,
    form: UnitFormData,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "admin/unit_edit.html")]
struct UnitEditPage {
    ctx: PageCtx,
    id: i32,
    parents: Vec<UnitOption>,
    kinds: Vec<&'static str>,
    form: UnitFormData,
    errors: FormErrors,
}

/// The unit form as posted.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct UnitFormData {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    parent_id: String,
}

impl UnitFormData {
    fn parse(&self) -> Result<UnitInput, Validation> {
        let mut v = Validation::new();
        let parent_id = opt_id(&mut v, "parent_id", &self.parent_id);
        v.finish()?;
        Ok(UnitInput {
            name: self.name.clone(),
            kind: self.kind.clone(),
            parent_id,
        })
    }

    /// Whether option `id` is the selected parent.
    fn parent_is(&self, id: &i32) -> bool {
        self.parent_id.trim() == id.to_string()
    }
}

fn kinds() -> Vec<&'static str> {
    UnitKind::ALL.iter().map(|k| k.as_str()).collect()
}

async fn units_page(
    state: &AppState,
    staff: &Staff,
    form: UnitFormData,
    errors: FormErrors,
) -> Result<UnitsPage, PageError> {
    let all = db::units::all(state.db()).await?;
    Ok(UnitsPage {
        ctx: staff.ctx(),
        rows: tree_rows(&all, staff.unit.id),
        parents: unit_options(&all, staff.unit.id),
        kinds: kinds(),
        form,
        errors,
    })
}

async fn index(State(state): State<AppState>, staff: Staff) -> Result<Html<String>, PageError> {
    let form = UnitFormData {
        parent_id: staff.unit.id.to_string(),
        kind: "village".into(),
        ..Default::default()
    };
    Ok(Html(
        units_page(&state, &staff, form, FormErrors::default())
            .await?
            .render()?,
    ))
}

async fn create(
    State(state): State<AppState>,
    StaffForm { staff, form }: StaffForm<UnitFormData>,
) -> Result<Response, PageError> {
    staff.require_admin()?;
    let result = match form.parse() {
        Ok(input) => db::units::save(state.db(), None, &input, Some(staff.unit.id)).await,
        Err(v) => Err(v.into()),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/units").into_response()),
        Err(db::Error::Invalid(v)) => {
            let errors = FormErrors::from_validation(&v, staff.tr);
            let page = units_page(&state, &staff, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_page(
    state: &AppState,
    staff: &Staff,
    id: i32,
    form: Option<UnitFormData>,
    errors: FormErrors,
) -> Result<UnitEditPage, PageError> {
    let all = db::units::all(state.db()).await?;
    let tree = db::units::tree_of(&all);
    if !tree.is_within(id, staff.unit.id) {
        return Err(PageError::NotFound);
    }
    let unit = all.iter().find(|u| u.id == id).ok_or(PageError::NotFound)?;
    let form = form.unwrap_or_else(|| UnitFormData {
        name: unit.name.clone(),
        kind: unit.kind.as_str().to_owned(),
        parent_id: unit.parent_id.map(|p| p.to_string()).unwrap_or_default(),
    });
    Ok(UnitEditPage {
        ctx: staff.ctx(),
        id,
        parents: unit_options(&all, staff.unit.id)
            .into_iter()
            .filter(|o| !tree.is_within(o.id, id))
            .collect(),
        kinds: kinds(),
        form,
        errors,
    })
}

async fn edit(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
) -> Result<Html<String>, PageError> {
    staff.require_admin()?;
    Ok(Html(
        edit_page(&state, &staff, id, None, FormErrors::default())
            .await?
            .render()?,
    ))
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<i32>,
    StaffForm { staff, form }: StaffForm<UnitFormData>,
) -> Result<Response, PageError> {
    staff.require_admin()?;
    let result = match form.parse() {
        Ok(input) => db::units::save(state.db(), Some(id), &input, Some(staff.unit.id)).await,
        Err(v) => Err(v.into()),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/units").into_response()),
        Err(db::Error::Invalid(v)) => {
            let errors = FormErrors::from_validation(&v, staff.tr);
            let page = edit_page(&state, &staff, id, Some(form), errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
