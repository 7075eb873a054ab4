//! Who may see which request, shared by the request pages and the API.

use super::AppState;
use crate::db::{self, requests::Request, requests::RouteWords, users::User};
use crate::domain::calendar::china_date;
use crate::domain::lifecycle::{self, Actor};
use crate::domain::request::TrackingNo;
use crate::domain::unit::UnitTree;
use chrono::NaiveDate;

/// The lifecycle's view of a staff account.
pub fn actor(user: &User) -> Actor {
    Actor {
        role: user.role,
        unit_id: user.unit_id,
    }
}

/// Today in China.
pub fn today() -> NaiveDate {
    china_date(chrono::Utc::now())
}

/// The stored routing explanation, always in Chinese (it is part of the record).
pub fn route_words() -> RouteWords {
    let t = |k: &str| super::i18n::message(k, "zh-CN");
    RouteWords {
        by_rule: t("rules.explain_rule"),
        queued: t("rules.explain_queue"),
    }
}

/// Loads a request the user may see, by its tracking number as typed.
/// Unknown numbers and requests outside the user's scope are both `NotFound`.
pub async fn visible_request(
    state: &AppState,
    user: &User,
    tracking_no: &str,
) -> Result<(Request, UnitTree), db::Error> {
    let no = TrackingNo::parse(tracking_no).ok_or(db::Error::NotFound)?;
    let req = db::requests::get(state.db(), &no).await?;
    let tree = db::units::tree(state.db()).await?;
    if lifecycle::in_scope(&req.state(), &actor(user), &tree) {
        Ok((req, tree))
    } else {
        Err(db::Error::NotFound)
    }
}

/// The units in the user's subtree (list filters).
pub fn subtree(tree: &UnitTree, user: &User) -> Vec<i32> {
    tree.subtree(user.unit_id)
}

/// Villages the user may log requests for (cadres: their village; dispatchers:
/// the villages of their township).
pub fn may_log_for(tree: &UnitTree, user: &User, village_id: i32) -> Option<&'static str> {
    use crate::domain::role::Role;
    use crate::domain::unit::UnitKind;
    if !matches!(user.role, Role::Cadre | Role::Dispatcher) {
        return Some("err.intake.role");
    }
    match tree.kind(village_id) {
        None => Some("err.rule.no_unit"),
        Some(UnitKind::Village) if tree.is_within(village_id, user.unit_id) => None,
        Some(UnitKind::Village) => Some("err.out_of_scope"),
        Some(_) => Some("err.intake.village"),
    }
}

/// Whether the account's role runs meetings at all (cadres and dispatchers).
pub fn runs_any_meeting(user: &User) -> bool {
    use crate::domain::role::Role;
    matches!(user.role, Role::Cadre | Role::Dispatcher)
}

/// Whether the user runs this village's meetings: its cadre or the
/// township's dispatcher.
pub fn may_run_meetings(tree: &UnitTree, user: &User, village_id: i32) -> bool {
    runs_any_meeting(user) && tree.is_within(village_id, user.unit_id)
}

/// `None` when the user may hold meetings for `village_id`, else an error key.
pub fn meeting_village_check(
    tree: &UnitTree,
    user: &User,
    village_id: i32,
) -> Option<&'static str> {
    use crate::domain::unit::UnitKind;
    match tree.kind(village_id) {
        None => Some("err.rule.no_unit"),
        Some(UnitKind::Village) if may_run_meetings(tree, user, village_id) => None,
        Some(UnitKind::Village) => Some("err.out_of_scope"),
        Some(_) => Some("err.intake.village"),
    }
}
