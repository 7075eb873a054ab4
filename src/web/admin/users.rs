//! Accounts: list, create and edit (admins, within their subtree).

use super::{FormErrors, UnitOption, unit_options};
use crate::db::{self, users::User, users::UserInput};
use crate::domain::Validation;
use crate::domain::role::Role;
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

/// `/admin/users`, `/admin/users/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(index).post(create))
        .route("/admin/users/{id}", get(edit).post(update))
}

/// The account form as posted.
#[derive(Clone, Default, serde::Deserialize)]
pub struct UserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit_id: String,
    active: Option<String>,
    #[serde(default)]
    email: String,
}

impl UserForm {
    fn parse(&self) -> Result<UserInput, Validation> {
        let mut v = Validation::new();
        let unit_id = opt_id(&mut v, "unit_id", &self.unit_id);
        v.finish()?;
        Ok(UserInput {
            username: self.username.clone(),
            password: self.password.clone(),
            display_name: self.display_name.clone(),
            role: self.role.clone(),
            unit_id,
            active: self.active.clone(),
            email: Some(self.email.clone()),
        })
    }

    fn unit_is(&self, id: &i32) -> bool {
        self.unit_id.trim() == id.to_string()
    }

    fn is_active(&self) -> bool {
        self.active.is_some()
    }
}

/// An account as listed.
struct UserRow {
    user: User,
    unit: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    ctx: PageCtx,
    users: Vec<UserRow>,
    units: Vec<UnitOption>,
    roles: Vec<&'static str>,
    form: UserForm,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "admin/user_edit.html")]
struct UserEditPage {
    ctx: PageCtx,
    id: i32,
    username: String,
    units: Vec<UnitOption>,
    roles: Vec<&'static str>,
    form: UserForm,
    errors: FormErrors,
}

fn roles() -> Vec<&'static str> {
    Role::ALL.iter().map(|r| r.as_str()).collect()
}

async fn page(
    state: &AppState,
    staff: &Staff,
    form: UserForm,
    errors: FormErrors,
) -> Result<UsersPage, PageError> {
    let all = db::units::all(state.db()).await?;
    let options = unit_options(&all, staff.unit.id);
    let ids: Vec<i32> = options.iter().map(|o| o.id).collect();
    let users = db::users::list(state.db(), Some(&ids))
        .await?
        .into_iter()
        .map(|u| UserRow {
            unit: all
                .iter()
                .find(|x| x.id == u.unit_id)
                .map(|x| x.name.clone())
                .unwrap_or_default(),
            user: u,
        })
        .collect();
    Ok(UsersPage {
        ctx: staff.ctx(),
        users,
        units: options,
        roles: roles(),
        form,
        errors,
    })
}

async fn index(State(state): State<AppState>, staff: Staff) -> Result<Html<String>, PageError> {
    staff.require_admin()?;
    let form = UserForm {
        role: "cadre".into(),
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
    StaffForm { staff, form }: StaffForm<UserForm>,
) -> Result<Response, PageError> {
    staff.require_admin()?;
    let result = match form.parse() {
        Ok(input) => db::users::save(state.db(), None, &input, Some(staff.unit.id)).await,
        Err(v) => Err(v.into()),
    };
    match result {
        Ok(u) => {
            tracing::info!(user_id = u.id, by = staff.user.id, "account created");
            Ok(Redirect::to("/admin/users").into_response())
        }
        Err(db::Error::Invalid(v)) => {
            let errors = FormErrors::from_validation(&v, staff.tr);
            let mut form = form;
            form.password.clear();
            let p = page(&state, &staff, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(p.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_page(
    state: &AppState,
    staff: &Staff,
    id: i32,
    form: Option<UserForm>,
    errors: FormErrors,
) -> Result<UserEditPage, PageError> {
    let all = db::units::all(state.db()).await?;
    let tree = db::units::tree_of(&all);
    let user = db::users::get(state.db(), id).await?;
    if !tree.is_within(user.unit_id, staff.unit.id) {
        return Err(PageError::NotFound);
    }
    let form = form.unwrap_or_else(|| UserForm {
        username: user.username.clone(),
        password: String::new(),
        display_name: user.display_name.clone(),
        role: user.role.as_str().to_owned(),
        unit_id: user.unit_id.to_string(),
        active: user.active.then(|| "on".to_owned()),
        email: user.email.clone().unwrap_or_default(),
    });
    Ok(UserEditPage {
        ctx: staff.ctx(),
        id,
        username: user.username,
        units: unit_options(&all, staff.unit.id),
        roles: roles(),
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
    StaffForm { staff, form }: StaffForm<UserForm>,
) -> Result<Response, PageError> {
    staff.require_admin()?;
    if id == staff.user.id && (form.active.is_none() || form.role != Role::Admin.as_str()) {
        // An admin cannot lock themself out.
        let v = Validation::one("role", "err.user.self_lockout");
        let errors = FormErrors::from_validation(&v, staff.tr);
        let p = edit_page(&state, &staff, id, Some(form), errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(p.render()?)).into_response());
    }
    let result = match form.parse() {
        Ok(input) => db::users::save(state.db(), Some(id), &input, Some(staff.unit.id)).await,
        Err(v) => Err(v.into()),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(db::Error::Invalid(v)) => {
            let errors = FormErrors::from_validation(&v, staff.tr);
            let mut form = form;
            form.password.clear();
            let p = edit_page(&state, &staff, id, Some(form), errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(p.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
