//! Administration pages: units, categories, routing rules, calendar, accounts, outbox.

pub mod calendar;
pub mod categories;
pub mod outbox;
pub mod rules;
pub mod units;
pub mod users;

use super::AppState;
use super::i18n::Tr;
use crate::domain::Validation;
use axum::Router;

/// Every administration route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(units::router())
        .merge(categories::router())
        .merge(rules::router())
        .merge(calendar::router())
        .merge(users::router())
        .merge(outbox::router())
}

/// Field errors of a re-rendered form, already translated.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(Vec<(String, String)>);

impl FormErrors {
    /// Translates a validation result.
    pub fn from_validation(v: &Validation, tr: Tr) -> Self {
        FormErrors(
            v.0.iter()
                .map(|e| (e.field.clone(), tr.t(&e.key)))
                .collect(),
        )
    }

    /// The message for `field`, if it was wrong.
    pub fn get(&self, field: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
    }

    /// Whether any field was wrong.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// All messages with their fields (for a summary at the top of a form).
    pub fn all(&self) -> &[(String, String)] {
        &self.0
    }
}

/// A unit as shown in pickers: id and an indented label.
#[derive(Debug, Clone)]
pub struct UnitOption {
    /// Id.
    pub id: i32,
    /// Name with the path above it, e.g. 马桥镇 › 金星村.
    pub label: String,
    /// Kind name.
    pub kind: &'static str,
}

/// The units within `root`'s subtree as picker options, tree-ordered.
pub fn unit_options(all: &[crate::db::units::Unit], root: i32) -> Vec<UnitOption> {
    tree_rows(all, root)
        .into_iter()
        .map(|r| UnitOption {
            id: r.id,
            label: format!("{}{}", "　".repeat(r.depth), r.name),
            kind: r.kind,
        })
        .collect()
}

/// One row of the indented unit tree.
#[derive(Debug, Clone)]
pub struct TreeRow {
    /// Id.
    pub id: i32,
    /// Name.
    pub name: String,
    /// Kind name.
    pub kind: &'static str,
    /// Depth below the root.
    pub depth: usize,
    /// Parent id.
    pub parent_id: Option<i32>,
}

/// Depth-first rows of the subtree of `root`.
pub fn tree_rows(all: &[crate::db::units::Unit], root: i32) -> Vec<TreeRow> {
    fn walk(all: &[crate::db::units::Unit], id: i32, depth: usize, out: &mut Vec<TreeRow>) {
        let Some(u) = all.iter().find(|u| u.id == id) else {
            return;
        };
        if out.iter().any(|r| r.id == id) {
            return;
        }
        out.push(TreeRow {
            id: u.id,
            name: u.name.clone(),
            kind: u.kind.as_str(),
            depth,
            parent_id: u.parent_id,
        });
        let mut kids: Vec<_> = all.iter().filter(|c| c.parent_id == Some(id)).collect();
        kids.sort_by_key(|c| (c.kind == crate::domain::unit::UnitKind::Office, c.id));
        for k in kids {
            walk(all, k.id, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(all, root, 0, &mut out);
    out
}

/// Fails with 403 unless `ok`.
pub fn allow(ok: bool) -> Result<(), super::PageError> {
    if ok {
        Ok(())
    } else {
        Err(super::PageError::Forbidden)
    }
}
