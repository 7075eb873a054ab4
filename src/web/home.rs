//! The staff home page and the site root.

use super::AppState;
use super::auth::Staff;
use super::error::PageError;
use super::page::PageCtx;
use crate::db::units;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

/// `/staff`.
pub fn router() -> Router<AppState> {
    Router::new().route("/staff", get(index))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    villages: usize,
    offices: usize,
    subunits: usize,
}

async fn index(State(state): State<AppState>, staff: Staff) -> Result<Html<String>, PageError> {
    let all = units::all(state.db()).await?;
    let tree = units::tree_of(&all);
    let mine: Vec<_> = all
        .iter()
        .filter(|u| tree.is_within(u.id, staff.unit.id))
        .collect();
    let count = |k: crate::domain::unit::UnitKind| mine.iter().filter(|u| u.kind == k).count();
    let page = HomePage {
        ctx: staff.ctx(),
        villages: count(crate::domain::unit::UnitKind::Village),
        offices: count(crate::domain::unit::UnitKind::Office),
        subunits: mine.len().saturating_sub(1),
    };
    Ok(Html(page.render()?))
}
