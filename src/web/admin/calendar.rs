//! The working-day calendar: holidays and make-up workdays.

use super::FormErrors;
use crate::db::{self, calendar::CalendarDay, calendar::DayInput};
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::PageError;
use crate::web::form::StaffForm;
use crate::web::page::PageCtx;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;

/// `/admin/calendar`, `/admin/calendar/{day}/delete`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/calendar", get(index).post(create))
        .route("/admin/calendar/{day}/delete", post(delete))
}

#[derive(Template)]
#[template(path = "admin/calendar.html")]
struct CalendarPage {
    ctx: PageCtx,
    days: Vec<CalendarDay>,
    form: DayInput,
    errors: FormErrors,
}

async fn page(
    state: &AppState,
    staff: &Staff,
    form: DayInput,
    errors: FormErrors,
) -> Result<CalendarPage, PageError> {
    Ok(CalendarPage {
        ctx: staff.ctx(),
        days: db::calendar::all(state.db()).await?,
        form,
        errors,
    })
}

async fn index(State(state): State<AppState>, staff: Staff) -> Result<Html<String>, PageError> {
    let form = DayInput {
        kind: "holiday".into(),
        ..Default::default()
    };
    Ok(Html(
        page(&state, &staff, form, FormErrors::default())
            .await?
            .render()?,
    ))
}

async fn create(
    State(state): State<AppState>,
    StaffForm { staff, form }: StaffForm<DayInput>,
) -> Result<Response, PageError> {
    staff.require_admin()?;
    match db::calendar::set(state.db(), &form).await {
        Ok(_) => Ok(Redirect::to("/admin/calendar").into_response()),
        Err(db::Error::Invalid(v)) => {
            let errors = FormErrors::from_validation(&v, staff.tr);
            let p = page(&state, &staff, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(p.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn delete(
    State(state): State<AppState>,
    Path(day): Path<String>,
    StaffForm { staff, form }: StaffForm<Empty>,
) -> Result<Response, PageError> {
    let Empty {} = form;
    staff.require_admin()?;
    let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|_| PageError::NotFound)?;
    db::calendar::remove(state.db(), day).await?;
    Ok(Redirect::to("/admin/calendar").into_response())
}
