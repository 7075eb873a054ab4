//! Categories: the two-level tree with time limits and bring notes.

use super::FormErrors;
use crate::db::{self, categories::Category, categories::RawCategory};
use crate::domain::Validation;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::PageError;
use crate::web::form::{StaffForm, opt_id, opt_int};
use crate::web::page::PageCtx;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

/// `/admin/categories`, `/admin/categories/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/categories", get(index).post(create))
        .route("/admin/categories/{id}", get(edit).post(update))
}

/// The category form as posted.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    time_limit_days: String,
    #[serde(default)]
    bring_note: String,
}

impl CategoryForm {
    fn parse(&self) -> Result<RawCategory, Validation> {
        let mut v = Validation::new();
        let parent_id = opt_id(&mut v, "parent_id", &self.parent_id);
        let time_limit_days = opt_int(&mut v, "time_limit_days", &self.time_limit_days);
        if self.time_limit_days.trim().is_empty() {
            v.add("time_limit_days", "err.required");
        }
        v.finish()?;
        Ok(RawCategory {
            name: self.name.clone(),
            parent_id,
            time_limit_days,
            bring_note: Some(self.bring_note.clone()),
        })
    }

    fn parent_is(&self, id: &i32) -> bool {
        self.parent_id.trim() == id.to_string()
    }
}

#[derive(Template)]
#[template(path = "admin/categories.html")]
struct CategoriesPage {
    ctx: PageCtx,
    groups: Vec<(Category, Vec<Category>)>,
    tops: Vec<Category>,
    form: CategoryForm,
    errors: FormErrors,
    edit_id: Option<i32>,
}

async fn page(
    state: &AppState,
    staff: &Staff,
    form: CategoryForm,
    errors: FormErrors,
    edit_id: Option<i32>,
) -> Result<CategoriesPage, PageError> {
    let all = db::categories::all(state.db()).await?;
    let groups = db::categories::grouped(&all);
    let tops = all
        .iter()
        .filter(|c| c.parent_id.is_none() && Some(c.id) != edit_id)
        .cloned()
        .collect();
    Ok(CategoriesPage {
        ctx: staff.ctx(),
        groups,
        tops,
        form,
        errors,
        edit_id,
    })
}

async fn index(State(state): State<AppState>, staff: Staff) -> Result<Html<String>, PageError> {
    let form = CategoryForm {
        time_limit_days: "5".into(),
        ..Default::default()
    };
    Ok(Html(
        page(&state, &staff, form, FormErrors::default(), None)
            .await?
            .render()?,
    ))
}

async fn edit(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
) -> Result<Html<String>, PageError> {
    staff.require_admin()?;
    let c = db::categories::get(state.db(), id).await?;
    let form = CategoryForm {
        name: c.name,
        parent_id: c.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        time_limit_days: c.time_limit_days.to_string(),
        bring_note: c.bring_note.unwrap_or_default(),
    };
    Ok(Html(
        page(&state, &staff, form, FormErrors::default(), Some(id))
            .await?
            .render()?,
    ))
}

async fn save(
    state: AppState,
    staff: Staff,
    id: Option<i32>,
    form: CategoryForm,
) -> Result<Response, PageError> {
    staff.require_admin()?;
    let result = match form.parse() {
        Ok(raw) => db::categories::save(state.db(), id, &raw).await,
        Err(v) => Err(v.into()),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/categories").into_response()),
        Err(db::Error::Invalid(v)) => {
            let errors = FormErrors::from_validation(&v, staff.tr);
            let p = page(&state, &staff, form, errors, id).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(p.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn create(
    State(state): State<AppState>,
    StaffForm { staff, form }: StaffForm<CategoryForm>,
) -> Result<Response, PageError> {
    save(state, staff, None, form).await
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<i32>,
    StaffForm { staff, form }: StaffForm<CategoryForm>,
) -> Result<Response, PageError> {
    save(state, staff, Some(id), form).await
}
