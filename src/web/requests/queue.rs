//! "My queue" (我的待办) by role, and the overdue list (超期督办).

use super::{Lookup, PER_PAGE, Pager, RequestRow};
use crate::db::requests::{self, Filter};
use crate::domain::lifecycle::{self, Action};
use crate::domain::request::Status;
use crate::domain::role::Role;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::PageError;
use crate::web::page::PageCtx;
use crate::web::scope;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;

/// `?tab=&page=`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct QueueQuery {
    tab: String,
    page: String,
}

fn page_no(raw: &str) -> u64 {
    raw.trim().parse::<u64>().unwrap_or(1).max(1)
}

/// One section of the queue.
struct Section {
    key: &'static str,
    label_key: &'static str,
    filter: Filter,
}

/// A tab link with its count.
#[derive(Debug, Clone)]
struct Tab {
    key: &'static str,
    label: String,
    count: u64,
    active: bool,
}

#[derive(Template)]
#[template(path = "requests/queue.html")]
struct QueuePage {
    ctx: PageCtx,
    intro: String,
    tabs: Vec<Tab>,
    title: String,
    active_key: &'static str,
    rows: Vec<RequestRow>,
    pager: Pager,
}

/// The sections a role works through, in order.
fn sections(staff: &Staff, lookup: &Lookup) -> Vec<Section> {
    let me = staff.user.unit_id;
    let in_scope = Some(scope::subtree(&lookup.tree, &staff.user));
    let today = Some(lookup.today);
    let s = |key, label_key, filter| Section {
        key,
        label_key,
        filter,
    };
    match staff.role() {
        Role::Handler => {
            let mine = Filter {
                handler_unit_id: Some(me),
                ..Default::default()
            };
            vec![
                s(
                    "pending",
                    "req.queue.pending",
                    Filter {
                        accepted: Some(false),
                        open: true,
                        ..mine.clone()
                    },
                ),
                s(
                    "working",
                    "req.queue.working",
                    Filter {
                        accepted: Some(true),
                        open: true,
                        ..mine.clone()
                    },
                ),
                s(
                    "overdue",
                    "deadline.overdue",
                    Filter {
                        overdue_on: today,
                        ..mine.clone()
                    },
                ),
                s(
                    "deferred",
                    "req.queue.deferred",
                    Filter {
                        review_by: today,
                        ..mine
                    },
                ),
            ]
        }
        Role::Dispatcher => {
            let mine = Filter {
                scope: in_scope.clone(),
                ..Default::default()
            };
            vec![
                s(
                    "dispatch",
                    "req.queue.dispatch",
                    Filter {
                        queue_units: in_scope,
                        open: true,
                        ..mine.clone()
                    },
                ),
                s(
                    "needs_review",
                    "req.queue.needs_review",
                    Filter {
                        needs_review: Some(true),
                        ..mine.clone()
                    },
                ),
                s(
                    "overdue",
                    "deadline.overdue",
                    Filter {
                        overdue_on: today,
                        ..mine.clone()
                    },
                ),
                s(
                    "deferred",
                    "req.queue.deferred",
                    Filter {
                        review_by: today,
                        ..mine
                    },
                ),
            ]
        }
        Role::Cadre => {
            let mine = Filter {
                scope: in_scope,
                ..Default::default()
            };
            vec![
                s(
                    "open",
                    "req.queue.open",
                    Filter {
                        open: true,
                        ..mine.clone()
                    },
                ),
                s(
                    "done",
                    "status.done",
                    Filter {
                        status: Some(Status::Done),
                        newest_first: true,
                        ..mine.clone()
                    },
                ),
                s(
                    "deferred",
                    "status.deferred",
                    Filter {
                        status: Some(Status::Deferred),
                        ..mine
                    },
                ),
            ]
        }
        Role::Supervisor | Role::Admin => {
            let mine = Filter {
                scope: in_scope,
                ..Default::default()
            };
            vec![
                s(
                    "overdue",
                    "deadline.overdue",
                    Filter {
                        overdue_on: today,
                        ..mine.clone()
                    },
                ),
                s(
                    "supervised",
                    "req.queue.supervised",
                    Filter {
                        supervised: Some(true),
                        open: true,
                        ..mine
                    },
                ),
            ]
        }
    }
}

/// `GET /queue?tab=`.
/// The filter of one queue tab (the first tab when `tab` is unknown).
pub(super) fn tab_filter(staff: &Staff, lookup: &Lookup, tab: &str) -> Option<Filter> {
    let all = sections(staff, lookup);
    let i = all
        .iter()
        .position(|s| s.key == tab.trim())
        .unwrap_or_default();
    all.into_iter().nth(i).map(|s| s.filter)
}

/// The overdue list's filter, or 403 for cadres (who have no overdue page).
pub(super) fn overdue_filter(staff: &Staff, lookup: &Lookup) -> Result<Filter, PageError> {
    if staff.role() == Role::Cadre {
        return Err(PageError::Forbidden);
    }
    Ok(Filter {
        scope: Some(scope::subtree(&lookup.tree, &staff.user)),
        overdue_on: Some(lookup.today),
        ..Default::default()
    })
}

pub(super) async fn index(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<QueueQuery>,
) -> Result<Html<String>, PageError> {
    let lookup = Lookup::load(&state).await?;
    let tr = staff.tr;
    let all = sections(&staff, &lookup);
    let active = all
        .iter()
        .position(|s| s.key == q.tab.trim())
        .unwrap_or_default();
    let mut tabs = Vec::with_capacity(all.len());
    for (i, s) in all.iter().enumerate() {
        tabs.push(Tab {
            key: s.key,
            label: tr.t(s.label_key),
            count: requests::count(state.db(), &s.filter).await?,
            active: i == active,
        });
    }
    let (rows, pager, title) = match all.get(active) {
        Some(s) => {
            let page = page_no(&q.page);
            let (items, total) = requests::list(state.db(), &s.filter, page, PER_PAGE).await?;
            let base = format!("/queue?tab={}", s.key);
            (
                items.iter().map(|r| lookup.row(r, tr)).collect(),
                Pager::new(tr, &base, page, total),
                tr.t(s.label_key),
            )
        }
        None => (Vec::new(), Pager::new(tr, "/queue", 1, 0), String::new()),
    };
    let page = QueuePage {
        active_key: all.get(active).map(|s| s.key).unwrap_or_default(),
        ctx: staff.ctx(),
        intro: tr.tp("req.queue.intro.", staff.role().as_str()),
        tabs,
        title,
        rows,
        pager,
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "requests/overdue.html")]
struct OverduePage {
    ctx: PageCtx,
    overdue: Vec<RequestRow>,
    pager: Pager,
    due_soon: Vec<RequestRow>,
    due_soon_total: u64,
    /// Where the 督办 buttons come back to.
    next: String,
}

/// `GET /overdue`: overdue and due-soon requests in the reader's scope.
pub(super) async fn overdue(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<QueueQuery>,
) -> Result<Html<String>, PageError> {
    let lookup = Lookup::load(&state).await?;
    let late = overdue_filter(&staff, &lookup)?;
    let tr = staff.tr;
    let actor = scope::actor(&staff.user);
    let in_scope = Some(scope::subtree(&lookup.tree, &staff.user));
    let row = |r: &requests::Request| {
        let mut row = lookup.row(r, tr);
        row.can_supervise = !r.supervised
            && lifecycle::available(&r.state(), &actor, &lookup.tree).contains(&Action::Supervise);
        row
    };
    let page = page_no(&q.page);
    let (items, total) = requests::list(state.db(), &late, page, PER_PAGE).await?;
    let pager = Pager::new(tr, "/overdue", page, total);
    let soon = Filter {
        scope: in_scope,
        due_from: Some(lookup.today),
        due_by: Some(lookup.cal.due_on(lookup.today, 1)),
        ..Default::default()
    };
    let (soon_items, due_soon_total) = requests::list(state.db(), &soon, 1, PER_PAGE).await?;
    let due_soon = soon_items.iter().map(row).collect();
    let next = if pager.page > 1 {
        format!("/overdue?page={}", pager.page)
    } else {
        "/overdue".to_owned()
    };
    let page = OverduePage {
        ctx: staff.ctx(),
        overdue: items.iter().map(row).collect(),
        pager,
        due_soon,
        due_soon_total,
        next,
    };
    Ok(Html(page.render()?))
}
