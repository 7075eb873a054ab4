//! The staff home page: the reader's scope at a glance.

use super::AppState;
use super::auth::Staff;
use super::error::PageError;
use super::page::PageCtx;
use super::scope;
use crate::db::requests::{self, Filter};
use crate::db::units;
use crate::domain::request::Status;
use crate::domain::unit::UnitKind;
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
    received: u64,
    in_progress: u64,
    done: u64,
    deferred: u64,
    overdue: u64,
}

async fn index(State(state): State<AppState>, staff: Staff) -> Result<Html<String>, PageError> {
    let all = units::all(state.db()).await?;
    let tree = units::tree_of(&all);
    let mine = tree.subtree(staff.unit.id);
    let count = |k: UnitKind| mine.iter().filter(|u| tree.kind(**u) == Some(k)).count();
    let in_scope = Filter {
        scope: Some(mine.clone()),
        ..Default::default()
    };
    let with = |status| Filter {
        status: Some(status),
        ..in_scope.clone()
    };
    let db = state.db();
    let done = requests::count(db, &with(Status::Done)).await?;
    let deferred = requests::count(db, &with(Status::Deferred)).await?;
    let open = requests::count(
        db,
        &Filter {
            open: true,
            ..in_scope.clone()
        },
    )
    .await?;
    let overdue = requests::count(
        db,
        &Filter {
            overdue_on: Some(scope::today()),
            ..in_scope.clone()
        },
    )
    .await?;
    let page = HomePage {
        ctx: staff.ctx(),
        villages: count(UnitKind::Village),
        offices: count(UnitKind::Office),
        received: open + done + deferred,
        in_progress: open,
        done,
        deferred,
        overdue,
    };
    Ok(Html(page.render()?))
}
