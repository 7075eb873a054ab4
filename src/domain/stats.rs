//! The dashboard's measures (DESIGN.md §2): 响应率, 办结率, 按时办结率, 反馈率
//! and 满意率, counted from plain data the caller loads.

use super::calendar::WorkCalendar;
use super::tally::rate;
use chrono::{Datelike, Days, NaiveDate};

/// Fewest cases in a denominator before a rate is shown.
pub const MIN_SAMPLE: u64 = 10;

/// One handoff-related event of a request, in event order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handoff {
    /// The request.
    pub request_id: i32,
    /// Sent to a handling unit (dispatch, reassign, delegate, or intake routed
    /// to a unit) or accepted (签收).
    pub kind: HandoffKind,
    /// The unit it was sent to, or the unit that accepted.
    pub unit_id: i32,
    /// China date of the event.
    pub on: NaiveDate,
}

/// Sent or accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoffKind {
    /// Handed to a unit that must accept it.
    Sent,
    /// The unit signed for it.
    Accepted,
    /// Done or deferred (e.g. fixed on the spot) without being accepted.
    Closed,
}

/// Numerator and denominator of 响应率: `(accepted within one working day,
/// dispatched)`. Events must be grouped by request and in order. A dispatch
/// still within its day on `today` and not yet accepted is not counted, nor
/// one closed within its day without an accept (nothing left to accept).
pub fn response(events: &[Handoff], cal: &WorkCalendar, today: NaiveDate) -> (u64, u64) {
    let (mut in_time, mut sent) = (0, 0);
    let mut pending: Option<Handoff> = None;
    let settle = |p: Option<Handoff>, sent: &mut u64| {
        if let Some(p) = p
            && cal.working_days_between(p.on, today) > 1
        {
            *sent += 1;
        }
    };
    for e in events {
        if pending.is_some_and(|p| p.request_id != e.request_id) {
            settle(pending.take(), &mut sent);
        }
        match e.kind {
            HandoffKind::Sent => {
                settle(pending.replace(*e), &mut sent);
            }
            HandoffKind::Accepted => {
                if let Some(p) = pending.take_if(|p| p.unit_id == e.unit_id) {
                    sent += 1;
                    if cal.working_days_between(p.on, e.on) <= 1 {
                        in_time += 1;
                    }
                }
            }
            HandoffKind::Closed => {
                if let Some(p) = pending.take()
                    && cal.working_days_between(p.on, e.on) > 1
                {
                    sent += 1;
                }
            }
        }
    }
    settle(pending, &mut sent);
    (in_time, sent)
}

/// The counts behind the five rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Counts {
    /// Dispatches whose day to accept is over, or accepted.
    pub dispatched: u64,
    /// Of those, accepted within one working day.
    pub accepted_in_time: u64,
    /// Requests received.
    pub received: u64,
    /// Requests done.
    pub done: u64,
    /// Done requests completed on or before their due date.
    pub done_on_time: u64,
    /// Answered (done or deferred) requests: feedback owed.
    pub feedback_owed: u64,
    /// Of those, whose latest answer was delivered.
    pub feedback_delivered: u64,
    /// Rated requests.
    pub rated: u64,
    /// Rated 非常满意, 满意 or 基本满意.
    pub satisfied: u64,
}

/// The five rates in percent; `None` under [`MIN_SAMPLE`] cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Rates {
    /// 响应率.
    pub response_rate: Option<f64>,
    /// 办结率.
    pub completion_rate: Option<f64>,
    /// 按时办结率.
    pub on_time_rate: Option<f64>,
    /// 反馈率.
    pub feedback_rate: Option<f64>,
    /// 满意率.
    pub satisfaction_rate: Option<f64>,
}

impl Counts {
    /// The rates these counts give.
    pub fn rates(&self) -> Rates {
        Rates {
            response_rate: rate(self.accepted_in_time, self.dispatched, MIN_SAMPLE),
            completion_rate: rate(self.done, self.received, MIN_SAMPLE),
            on_time_rate: rate(self.done_on_time, self.done, MIN_SAMPLE),
            feedback_rate: rate(self.feedback_delivered, self.feedback_owed, MIN_SAMPLE),
            satisfaction_rate: rate(self.satisfied, self.rated, MIN_SAMPLE),
        }
    }
}

/// The last `n` ISO weeks up to the one holding `today`, oldest first, as
/// (Monday, Sunday).
pub fn last_weeks(today: NaiveDate, n: u32) -> Vec<(NaiveDate, NaiveDate)> {
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    (0..n)
        .rev()
        .filter_map(|i| {
            let start = monday.checked_sub_days(Days::new(7 * u64::from(i)))?;
            Some((start, start.checked_add_days(Days::new(6))?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn ev(request_id: i32, kind: HandoffKind, unit_id: i32, on: &str) -> Handoff {
        Handoff {
            request_id,
            kind,
            unit_id,
            on: d(on),
        }
    }

    #[test]
    fn accepting_by_the_next_working_day_counts_as_a_response() {
        use HandoffKind::*;
        let cal = WorkCalendar::new([]);
        // 2026-03-06 is a Friday: accepting on Monday is one working day later.
        let events = [
            ev(1, Sent, 10, "2026-03-06"),
            ev(1, Accepted, 10, "2026-03-09"),
            // Two working days: late.
            ev(2, Sent, 10, "2026-03-09"),
            ev(2, Accepted, 10, "2026-03-11"),
            // Reassigned before anyone accepted: the first dispatch missed.
            ev(3, Sent, 10, "2026-03-02"),
            ev(3, Sent, 11, "2026-03-05"),
            ev(3, Accepted, 11, "2026-03-05"),
            // Never accepted, window over.
            ev(4, Sent, 10, "2026-03-02"),
        ];
        assert_eq!(response(&events, &cal, d("2026-03-20")), (2, 5));
    }

    #[test]
    fn a_dispatch_still_within_its_day_is_not_counted_yet() {
        use HandoffKind::*;
        let cal = WorkCalendar::new([]);
        let events = [ev(1, Sent, 10, "2026-03-09")];
        assert_eq!(response(&events, &cal, d("2026-03-10")), (0, 0));
        assert_eq!(response(&events, &cal, d("2026-03-11")), (0, 1));
        // An accept by another unit does not answer the dispatch.
        let other = [
            ev(1, Sent, 10, "2026-03-09"),
            ev(1, Accepted, 11, "2026-03-09"),
        ];
        assert_eq!(response(&other, &cal, d("2026-03-09")), (0, 0));
    }

    #[test]
    fn closing_without_accepting_counts_only_once_the_day_is_over() {
        use HandoffKind::*;
        let cal = WorkCalendar::new([]);
        let events = [
            // Fixed on the spot the day it came in: no dispatch to answer.
            ev(1, Sent, 10, "2026-03-09"),
            ev(1, Closed, 10, "2026-03-09"),
            // Closed three working days later, never accepted: a miss.
            ev(2, Sent, 10, "2026-03-09"),
            ev(2, Closed, 10, "2026-03-12"),
        ];
        assert_eq!(response(&events, &cal, d("2026-03-20")), (0, 1));
    }

    #[test]
    fn rates_need_ten_cases() {
        let c = Counts {
            received: 9,
            done: 9,
            rated: 10,
            satisfied: 7,
            ..Default::default()
        };
        let r = c.rates();
        assert_eq!(r.completion_rate, None);
        assert_eq!(r.satisfaction_rate, Some(70.0));
        assert_eq!(r.response_rate, None);
    }

    #[test]
    fn the_last_weeks_run_monday_to_sunday_and_end_with_this_one() {
        let w = last_weeks(d("2026-03-11"), 12);
        assert_eq!(w.len(), 12);
        assert_eq!(w[11], (d("2026-03-09"), d("2026-03-15")));
        assert_eq!(w[0], (d("2025-12-22"), d("2025-12-28")));
    }
}
