//! The request state machine: who may do what, from which status, with which
//! fields, and where the request goes. Pure: the caller loads the unit tree
//! and persists the decision (see `db::requests::transition`).

use super::Validation;
use super::request::{DeferReason, Status, named_enum};
use super::role::Role;
use super::unit::{UnitKind, UnitTree};
use chrono::NaiveDate;
use std::fmt;

named_enum!(
    /// What a staff member does to a request (DESIGN.md §5).
    Action {
        /// 派单: from the dispatcher queue to a unit.
        Dispatch = "dispatch",
        /// 签收
        Accept = "accept",
        /// 退回 to the dispatcher, with a reason.
        Return = "return",
        /// 上报 to the parent level.
        Escalate = "escalate",
        /// 下派 to a unit below the current one.
        Delegate = "delegate",
        /// 改派 to another unit.
        Reassign = "reassign",
        /// 进展: a note, no status change.
        Progress = "progress",
        /// 办结
        Complete = "complete",
        /// 暂不能办
        Defer = "defer",
        /// 复查: a deferred request is taken up again.
        Review = "review",
        /// 重办
        Reopen = "reopen",
        /// 督办
        Supervise = "supervise",
    }
);

/// Longest text of a result, explanation or note.
pub const MAX_TEXT: usize = 2000;

/// The request as the state machine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestState {
    /// Current status.
    pub status: Status,
    /// The village it came from.
    pub village_id: i32,
    /// Current handling unit (exclusive with `queue_unit_id`).
    pub handler_unit_id: Option<i32>,
    /// Dispatcher queue it waits in (exclusive with `handler_unit_id`).
    pub queue_unit_id: Option<i32>,
    /// Whether the handling unit has signed for it (签收).
    pub accepted: bool,
    /// Already flagged for supervision (督办).
    pub supervised: bool,
}

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// Role.
    pub role: Role,
    /// The actor's unit.
    pub unit_id: i32,
}

/// What was asked, with the fields each action may need.
#[derive(Debug, Clone, Default)]
pub struct Command {
    /// Target unit of dispatch / delegate / reassign.
    pub unit_id: Option<i32>,
    /// Internal note (staff only).
    pub note: Option<String>,
    /// Resident-facing note.
    pub public_note: Option<String>,
    /// Result for `complete`.
    pub result: Option<String>,
    /// Fixed on the spot (当场解决), with `complete`.
    pub on_the_spot: bool,
    /// Reason: a `DeferReason` name for `defer`, free text for return/escalate.
    pub reason: Option<String>,
    /// Explanation to the resident for `defer`.
    pub explanation: Option<String>,
    /// Review date for `defer`.
    pub review_on: Option<NaiveDate>,
}

/// Where a request ends up after an action; the caller writes exactly this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Status after the action.
    pub to_status: Status,
    /// Handling unit after the action.
    pub handler_unit_id: Option<i32>,
    /// Dispatcher queue after the action.
    pub queue_unit_id: Option<i32>,
    /// Signed for after the action.
    pub accepted: bool,
    /// Flagged for supervision (督办) by this action.
    pub supervise: bool,
    /// Result text and the on-the-spot flag (complete).
    pub result: Option<(String, bool)>,
    /// Deferral: reason, explanation, review date (defer).
    pub deferral: Option<(DeferReason, String, NaiveDate)>,
    /// The due date restarts from today (review, reopen).
    pub restart_clock: bool,
    /// The requester is owed an answer (done or deferred).
    pub feedback_owed: bool,
    /// Clears the "dissatisfied, review for 重办" flag (reopen).
    pub clears_review_flag: bool,
    /// Reason text recorded on the event (return, escalate, defer).
    pub reason: Option<String>,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// The actor's role or place does not allow this action on this request.
    #[error("not allowed for this account")]
    Forbidden,
    /// The action is not legal from the current status or position.
    #[error("{action} is not allowed while the request is {status}")]
    Illegal {
        /// Current status.
        status: Status,
        /// The refused action.
        action: Action,
    },
    /// Required fields are missing or invalid.
    #[error(transparent)]
    Invalid(#[from] Validation),
}

impl fmt::Display for RequestState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)
    }
}

/// Whether the request lies in the actor's scope (by village, queue or handler).
pub fn in_scope(req: &RequestState, actor: &Actor, tree: &UnitTree) -> bool {
    tree.is_within(req.village_id, actor.unit_id)
        || req
            .handler_unit_id
            .is_some_and(|u| tree.is_within(u, actor.unit_id))
        || req
            .queue_unit_id
            .is_some_and(|u| tree.is_within(u, actor.unit_id))
}

fn at_handler(req: &RequestState, actor: &Actor) -> bool {
    actor.role == Role::Handler && req.handler_unit_id == Some(actor.unit_id)
}

fn dispatcher_here(req: &RequestState, actor: &Actor, tree: &UnitTree) -> bool {
    actor.role == Role::Dispatcher && in_scope(req, actor, tree)
}

/// Role and position check only (no status, no fields).
fn permitted(action: Action, req: &RequestState, actor: &Actor, tree: &UnitTree) -> bool {
    let handler = at_handler(req, actor);
    let dispatcher = dispatcher_here(req, actor, tree);
    match action {
        Action::Dispatch | Action::Reassign | Action::Reopen => dispatcher,
        Action::Accept | Action::Return | Action::Escalate => handler,
        Action::Delegate | Action::Complete | Action::Defer | Action::Review => {
            handler || dispatcher
        }
        Action::Progress => {
            handler
                || dispatcher
                || (actor.role == Role::Cadre && tree.is_within(req.village_id, actor.unit_id))
        }
        Action::Supervise => {
            dispatcher || (actor.role == Role::Supervisor && in_scope(req, actor, tree))
        }
    }
}

/// Status and position check only (no role, no fields).
fn legal_from(action: Action, req: &RequestState) -> bool {
    let open = req.status.is_open();
    match action {
        Action::Dispatch => open && req.queue_unit_id.is_some(),
        Action::Reassign | Action::Delegate => open && req.handler_unit_id.is_some(),
        Action::Accept => open && req.handler_unit_id.is_some() && !req.accepted,
        Action::Return | Action::Escalate => open && req.handler_unit_id.is_some(),
        Action::Progress => true,
        Action::Complete | Action::Defer => open,
        Action::Supervise => open && !req.supervised,
        Action::Review => req.status == Status::Deferred,
        Action::Reopen => req.status == Status::Done,
    }
}

/// The actions this actor may take on this request now (for the UI).
pub fn available(req: &RequestState, actor: &Actor, tree: &UnitTree) -> Vec<Action> {
    Action::ALL
        .iter()
        .copied()
        .filter(|a| permitted(*a, req, actor, tree) && legal_from(*a, req))
        .collect()
}

fn text(v: &mut Validation, field: &str, value: &Option<String>, required: bool) -> Option<String> {
    let t = value.as_deref().map(str::trim).filter(|s| !s.is_empty());
    match t {
        None if required => {
            v.add(field, "err.required");
            None
        }
        None => None,
        Some(s) if s.chars().count() > MAX_TEXT => {
            v.add(field, "err.too_long");
            None
        }
        Some(s) => Some(s.to_owned()),
    }
}

/// A unit a dispatcher may send work to: an office or village in the same
/// county tree (county offices included), not the current handler.
fn valid_target(tree: &UnitTree, actor: &Actor, target: i32) -> bool {
    let root = tree
        .chain(actor.unit_id)
        .last()
        .copied()
        .unwrap_or(actor.unit_id);
    matches!(
        tree.kind(target),
        Some(UnitKind::Office | UnitKind::Village)
    ) && tree.is_within(target, root)
}

/// Decides an action. Checks, in order: role and place (403), status and
/// position (409), fields (422).
pub fn decide(
    action: Action,
    req: &RequestState,
    actor: &Actor,
    cmd: &Command,
    tree: &UnitTree,
    today: NaiveDate,
) -> Result<Decision, LifecycleError> {
    if !permitted(action, req, actor, tree) {
        return Err(LifecycleError::Forbidden);
    }
    if !legal_from(action, req) {
        return Err(LifecycleError::Illegal {
            status: req.status,
            action,
        });
    }
    let mut v = Validation::new();
    let note = text(&mut v, "note", &cmd.note, false);
    let public_note = text(&mut v, "public_note", &cmd.public_note, false);
    let mut d = Decision {
        to_status: req.status,
        handler_unit_id: req.handler_unit_id,
        queue_unit_id: req.queue_unit_id,
        accepted: req.accepted,
        supervise: false,
        result: None,
        deferral: None,
        restart_clock: false,
        feedback_owed: false,
        clears_review_flag: false,
        reason: None,
    };
    let target = |v: &mut Validation| -> Option<i32> {
        match cmd.unit_id {
            None => {
                v.add("unit_id", "err.required");
                None
            }
            Some(t) if tree.kind(t).is_none() => {
                v.add("unit_id", "err.rule.no_unit");
                None
            }
            Some(t) => Some(t),
        }
    };
    match action {
        Action::Dispatch | Action::Reassign => {
            if let Some(t) = target(&mut v) {
                if !valid_target(tree, actor, t) {
                    v.add("unit_id", "err.action.target_kind");
                } else if Some(t) == req.handler_unit_id {
                    v.add("unit_id", "err.action.same_unit");
                }
                d.handler_unit_id = Some(t);
                d.queue_unit_id = None;
                d.accepted = false;
            }
        }
        Action::Delegate => {
            if let Some(t) = target(&mut v) {
                let from = req.handler_unit_id.unwrap_or_default();
                if t == from || !tree.is_within(t, from) {
                    v.add("unit_id", "err.action.not_below");
                }
                d.handler_unit_id = Some(t);
                d.accepted = false;
            }
        }
        Action::Accept => {
            d.accepted = true;
            if req.status == Status::Received {
                d.to_status = Status::InProgress;
            }
        }
        Action::Return => {
            d.reason = text(&mut v, "reason", &cmd.reason, true);
            match tree.township_of(req.village_id) {
                Some(town) => {
                    d.queue_unit_id = Some(town);
                    d.handler_unit_id = None;
                    d.accepted = false;
                }
                None => v.add("unit_id", "err.action.no_township"),
            }
        }
        Action::Escalate => {
            d.reason = text(&mut v, "reason", &cmd.reason, true);
            let from = req.handler_unit_id.unwrap_or_default();
            match tree.parent(from).map(|p| (p, tree.kind(p))) {
                Some((p, Some(UnitKind::Township | UnitKind::County))) => {
                    d.queue_unit_id = Some(p);
                    d.handler_unit_id = None;
                }
                Some((p, Some(_))) => {
                    d.handler_unit_id = Some(p);
                    d.queue_unit_id = None;
                }
                _ => v.add("unit_id", "err.action.no_parent"),
            }
            d.accepted = false;
        }
        Action::Progress => {
            if note.is_none() && public_note.is_none() {
                v.add("public_note", "err.action.note_required");
            }
        }
        Action::Complete => {
            if let Some(r) = text(&mut v, "result", &cmd.result, true) {
                d.result = Some((r, cmd.on_the_spot));
            }
            d.to_status = Status::Done;
            d.accepted = d.handler_unit_id.is_some();
            d.feedback_owed = true;
        }
        Action::Defer => {
            let reason = match cmd.reason.as_deref().map(DeferReason::parse) {
                Some(Some(r)) => Some(r),
                Some(None) => {
                    v.add("reason", "err.action.defer_reason");
                    None
                }
                None => {
                    v.add("reason", "err.required");
                    None
                }
            };
            let explanation = text(&mut v, "explanation", &cmd.explanation, true);
            let review_on = match cmd.review_on {
                None => {
                    v.add("review_on", "err.required");
                    None
                }
                Some(day) if day <= today => {
                    v.add("review_on", "err.action.review_in_future");
                    None
                }
                Some(day) => Some(day),
            };
            if let (Some(r), Some(e), Some(day)) = (reason, explanation, review_on) {
                d.reason = Some(r.as_str().to_owned());
                d.deferral = Some((r, e, day));
            }
            d.to_status = Status::Deferred;
            d.feedback_owed = true;
        }
        Action::Review => {
            d.to_status = Status::InProgress;
            d.restart_clock = true;
        }
        Action::Reopen => {
            if note.is_none() && public_note.is_none() {
                v.add("note", "err.action.reopen_reason");
            }
            d.to_status = Status::InProgress;
            d.accepted = false;
            d.restart_clock = true;
            d.clears_review_flag = true;
        }
        Action::Supervise => {
            d.supervise = true;
        }
    }
    v.finish()?;
    debug_assert!(d.handler_unit_id.is_some() != d.queue_unit_id.is_some());
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use Status::*;

    // 1 county › 2 township › 3 village, 4 village; 5 城建办 (office of 2);
    // 6 other township › 7 village; 8 county office.
    fn tree() -> UnitTree {
        UnitTree::new([
            (1, None, UnitKind::County),
            (2, Some(1), UnitKind::Township),
            (3, Some(2), UnitKind::Village),
            (4, Some(2), UnitKind::Village),
            (5, Some(2), UnitKind::Office),
            (6, Some(1), UnitKind::Township),
            (7, Some(6), UnitKind::Village),
            (8, Some(1), UnitKind::Office),
        ])
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const TODAY: &str = "2026-11-30";

    fn at(status: Status, handler: Option<i32>, accepted: bool) -> RequestState {
        RequestState {
            status,
            village_id: 3,
            handler_unit_id: handler,
            queue_unit_id: if handler.is_none() { Some(2) } else { None },
            accepted,
            supervised: false,
        }
    }

    fn handler() -> Actor {
        Actor {
            role: Role::Handler,
            unit_id: 5,
        }
    }
    fn dispatcher() -> Actor {
        Actor {
            role: Role::Dispatcher,
            unit_id: 2,
        }
    }
    fn cadre() -> Actor {
        Actor {
            role: Role::Cadre,
            unit_id: 3,
        }
    }
    fn supervisor() -> Actor {
        Actor {
            role: Role::Supervisor,
            unit_id: 2,
        }
    }

    /// Every field filled, so only role and status decide.
    fn full() -> Command {
        Command {
            unit_id: Some(5),
            note: Some("内部备注".into()),
            public_note: Some("已安排人员".into()),
            result: Some("已修复".into()),
            on_the_spot: false,
            reason: Some("funding".into()),
            explanation: Some("资金明年到位".into()),
            review_on: Some(day("2027-03-01")),
        }
    }

    fn run(action: Action, req: &RequestState, actor: Actor) -> Result<Decision, LifecycleError> {
        let mut cmd = full();
        if action == Delegate {
            cmd.unit_id = Some(5);
        }
        if matches!(action, Dispatch | Reassign) && req.handler_unit_id == Some(5) {
            cmd.unit_id = Some(8);
        }
        decide(action, req, &actor, &cmd, &tree(), day(TODAY))
    }

    #[test]
    fn every_status_move_of_the_design_is_allowed() {
        // (action, from, actor, to)
        let queued = at(Received, None, false);
        let assigned = at(Received, Some(5), false);
        let working = at(InProgress, Some(5), true);
        let cases: Vec<(Action, RequestState, Actor, Status)> = vec![
            (Accept, assigned.clone(), handler(), InProgress),
            (Dispatch, queued.clone(), dispatcher(), Received),
            (Complete, assigned.clone(), handler(), Done),
            (Complete, queued.clone(), dispatcher(), Done),
            (Defer, assigned.clone(), handler(), Deferred),
            (Complete, working.clone(), handler(), Done),
            (Defer, working.clone(), dispatcher(), Deferred),
            (Review, at(Deferred, Some(5), true), handler(), InProgress),
            (Reopen, at(Done, Some(5), true), dispatcher(), InProgress),
            (Progress, working.clone(), cadre(), InProgress),
            (Supervise, working.clone(), supervisor(), InProgress),
            (Return, working.clone(), handler(), InProgress),
            (Reassign, working.clone(), dispatcher(), InProgress),
        ];
        for (action, from, actor, to) in cases {
            let d = run(action, &from, actor)
                .unwrap_or_else(|e| panic!("{action} from {}: {e}", from.status));
            assert_eq!(d.to_status, to, "{action} from {}", from.status);
            assert!(
                d.handler_unit_id.is_some() != d.queue_unit_id.is_some(),
                "{action}: one place"
            );
        }
    }

    #[test]
    fn every_forbidden_status_move_is_a_conflict() {
        let cases = [
            (Accept, at(Done, Some(5), true)),
            (Accept, at(InProgress, Some(5), true)),
            (Complete, at(Done, Some(5), true)),
            (Complete, at(Deferred, Some(5), true)),
            (Defer, at(Deferred, Some(5), true)),
            (Defer, at(Done, Some(5), true)),
            (Review, at(InProgress, Some(5), true)),
            (Review, at(Done, Some(5), true)),
            (Return, at(Done, Some(5), true)),
            (Escalate, at(Deferred, Some(5), true)),
            (Delegate, at(Done, Some(5), true)),
        ];
        for (action, req) in cases {
            assert_eq!(
                run(action, &req, handler()),
                Err(LifecycleError::Illegal {
                    status: req.status,
                    action
                }),
                "{action} from {}",
                req.status
            );
        }
        let d = dispatcher();
        for (action, req) in [
            (Reopen, at(InProgress, Some(5), true)),
            (Reopen, at(Deferred, Some(5), true)),
            (Dispatch, at(InProgress, Some(5), true)),
            (Reassign, at(Received, None, false)),
            (Supervise, at(Done, Some(5), true)),
            (
                Supervise,
                RequestState {
                    supervised: true,
                    ..at(InProgress, Some(5), true)
                },
            ),
        ] {
            assert!(
                matches!(run(action, &req, d), Err(LifecycleError::Illegal { .. })),
                "{action}"
            );
        }
    }

    #[test]
    fn roles_only_do_their_own_part() {
        let working = at(InProgress, Some(5), true);
        let other_handler = Actor {
            role: Role::Handler,
            unit_id: 8,
        };
        let other_dispatcher = Actor {
            role: Role::Dispatcher,
            unit_id: 6,
        };
        let forbidden = [
            (Complete, cadre()),
            (Defer, cadre()),
            (Supervise, cadre()),
            (Complete, supervisor()),
            (Complete, other_handler),
            (Progress, other_handler),
            (Reassign, handler()),
            (Reopen, handler()),
            (Complete, other_dispatcher),
            (Supervise, other_dispatcher),
            (
                Progress,
                Actor {
                    role: Role::Cadre,
                    unit_id: 4,
                },
            ),
            (
                Complete,
                Actor {
                    role: Role::Admin,
                    unit_id: 1,
                },
            ),
        ];
        for (action, actor) in forbidden {
            assert_eq!(
                run(action, &working, actor),
                Err(LifecycleError::Forbidden),
                "{action} by {actor:?}"
            );
        }
    }

    #[test]
    fn required_fields_are_named() {
        let working = at(InProgress, Some(5), true);
        let t = tree();
        let today = day(TODAY);
        let empty = Command::default();
        let err = |action, actor: Actor, cmd: &Command| match decide(
            action, &working, &actor, cmd, &t, today,
        ) {
            Err(LifecycleError::Invalid(v)) => v,
            other => panic!("{action}: {other:?}"),
        };
        assert_eq!(
            err(Complete, handler(), &empty).for_field("result"),
            Some("err.required")
        );
        let v = err(Defer, handler(), &empty);
        assert!(
            v.for_field("reason").is_some()
                && v.for_field("explanation").is_some()
                && v.for_field("review_on").is_some()
        );
        let mut past = full();
        past.review_on = Some(today);
        assert_eq!(
            err(Defer, handler(), &past).for_field("review_on"),
            Some("err.action.review_in_future")
        );
        let mut bad_reason = full();
        bad_reason.reason = Some("lazy".into());
        assert_eq!(
            err(Defer, handler(), &bad_reason).for_field("reason"),
            Some("err.action.defer_reason")
        );
        assert_eq!(
            err(Return, handler(), &empty).for_field("reason"),
            Some("err.required")
        );
        assert!(
            err(Progress, handler(), &empty)
                .for_field("public_note")
                .is_some()
        );
        let mut to_township = full();
        to_township.unit_id = Some(6);
        assert_eq!(
            err(Reassign, dispatcher(), &to_township).for_field("unit_id"),
            Some("err.action.target_kind")
        );
        let mut ghost = full();
        ghost.unit_id = Some(99);
        assert_eq!(
            err(Reassign, dispatcher(), &ghost).for_field("unit_id"),
            Some("err.rule.no_unit")
        );
    }

    #[test]
    fn handoffs_always_leave_exactly_one_place() {
        let working = at(InProgress, Some(5), true);
        let d = run(Return, &working, handler()).unwrap();
        assert_eq!(
            (d.handler_unit_id, d.queue_unit_id, d.accepted),
            (None, Some(2), false)
        );
        let d = run(Escalate, &working, handler()).unwrap();
        assert_eq!(
            (d.handler_unit_id, d.queue_unit_id),
            (None, Some(2)),
            "城建办 escalates to the township queue"
        );
        let d = run(Dispatch, &at(Received, None, false), dispatcher()).unwrap();
        assert_eq!(
            (d.handler_unit_id, d.queue_unit_id, d.accepted),
            (Some(5), None, false)
        );
        let d = run(Reassign, &working, dispatcher()).unwrap();
        assert_eq!(
            d.handler_unit_id,
            Some(8),
            "a county office is a valid target"
        );
        // Delegation goes strictly below the current unit.
        let mut cmd = full();
        cmd.unit_id = Some(3);
        let at_town = RequestState {
            handler_unit_id: Some(2),
            queue_unit_id: None,
            ..working.clone()
        };
        let town_handler = Actor {
            role: Role::Handler,
            unit_id: 2,
        };
        let d = decide(Delegate, &at_town, &town_handler, &cmd, &tree(), day(TODAY)).unwrap();
        assert_eq!(d.handler_unit_id, Some(3));
        cmd.unit_id = Some(7);
        assert!(decide(Delegate, &at_town, &town_handler, &cmd, &tree(), day(TODAY)).is_err());
    }

    #[test]
    fn the_ui_offers_only_legal_moves() {
        let t = tree();
        let assigned = at(Received, Some(5), false);
        assert_eq!(
            available(&assigned, &handler(), &t),
            vec![
                Accept, Return, Escalate, Delegate, Progress, Complete, Defer
            ]
        );
        assert_eq!(
            available(&at(Done, Some(5), true), &handler(), &t),
            vec![Progress]
        );
        assert_eq!(
            available(&at(Done, Some(5), true), &dispatcher(), &t),
            vec![Progress, Reopen]
        );
        assert_eq!(available(&assigned, &cadre(), &t), vec![Progress]);
        assert_eq!(available(&assigned, &supervisor(), &t), vec![Supervise]);
        assert!(
            available(
                &assigned,
                &Actor {
                    role: Role::Cadre,
                    unit_id: 7
                },
                &t
            )
            .is_empty()
        );
    }

    #[test]
    fn answers_owe_feedback_and_reopening_restarts_the_clock() {
        let working = at(InProgress, Some(5), true);
        assert!(run(Complete, &working, handler()).unwrap().feedback_owed);
        assert!(run(Defer, &working, handler()).unwrap().feedback_owed);
        assert!(!run(Progress, &working, handler()).unwrap().feedback_owed);
        let d = run(Reopen, &at(Done, Some(5), true), dispatcher()).unwrap();
        assert!(d.restart_clock && d.clears_review_flag && !d.accepted);
    }
}
