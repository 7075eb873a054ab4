//! The working-day calendar: weekends off, plus holidays and make-up workdays
//! (调休) that the administrator edits.

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, Utc, Weekday};
use std::collections::BTreeSet;

/// China Standard Time (+08:00), the offset of every date and time we show.
pub fn china_offset() -> FixedOffset {
    #[allow(clippy::unwrap_used)] // +08:00 is always a valid offset
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// The calendar day in China of an instant.
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&china_offset()).date_naive()
}

/// RFC 3339 with the +08:00 offset, to the second (the API's time format).
pub fn china_rfc3339(at: DateTime<Utc>) -> String {
    at.with_timezone(&china_offset())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Kind of an edited calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A weekday off (法定节假日).
    Holiday,
    /// A weekend day worked (调休上班).
    Workday,
}

impl DayKind {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    /// Parses a stored or submitted name.
    pub fn parse(s: &str) -> Option<DayKind> {
        match s.trim() {
            "holiday" => Some(DayKind::Holiday),
            "workday" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

/// Holidays and make-up workdays, as loaded from the database.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

impl WorkCalendar {
    /// Builds a calendar from `(day, kind)` rows.
    pub fn new(days: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Self {
        let mut c = WorkCalendar::default();
        for (d, k) in days {
            match k {
                DayKind::Holiday => c.holidays.insert(d),
                DayKind::Workday => c.workdays.insert(d),
            };
        }
        c
    }

    /// Whether staff work on `day`.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.workdays.contains(&day) {
            return true;
        }
        if self.holidays.contains(&day) {
            return false;
        }
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The due date of something received on `start` with a limit of
    /// `working_days`: the `working_days`-th working day after `start`.
    /// A limit of 0 (fix on the spot) is due the day it is received.
    pub fn due_on(&self, start: NaiveDate, working_days: u32) -> NaiveDate {
        let mut day = start;
        let mut left = working_days;
        while left > 0 {
            match day.checked_add_days(Days::new(1)) {
                Some(next) => day = next,
                None => return day,
            }
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// Working days strictly after `from` up to and including `to` (0 if `to <= from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut day = from;
        while day < to {
            match day.checked_add_days(Days::new(1)) {
                Some(next) => day = next,
                None => break,
            }
            if self.is_working_day(day) {
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// 2026 National Day: Oct 1–7 off, Sep 27 (Sun) and Oct 10 (Sat) worked.
    fn national_day_2026() -> WorkCalendar {
        let mut days: Vec<_> = (1..=7)
            .map(|i| (d(&format!("2026-10-0{i}")), DayKind::Holiday))
            .collect();
        days.push((d("2026-09-27"), DayKind::Workday));
        days.push((d("2026-10-10"), DayKind::Workday));
        WorkCalendar::new(days)
    }

    #[test]
    fn due_dates_table() {
        let plain = WorkCalendar::default();
        let nd = national_day_2026();
        let cases: [(&WorkCalendar, &str, u32, &str, &str); 8] = [
            (
                &plain,
                "2026-11-30",
                0,
                "2026-11-30",
                "on the spot is due the same day",
            ),
            (
                &plain,
                "2026-11-30",
                1,
                "2026-12-01",
                "Monday + 1 is Tuesday",
            ),
            (
                &plain,
                "2026-12-04",
                1,
                "2026-12-07",
                "Friday + 1 skips the weekend",
            ),
            (
                &plain,
                "2026-12-05",
                1,
                "2026-12-07",
                "received on Saturday, due Monday",
            ),
            (
                &plain,
                "2026-11-30",
                5,
                "2026-12-07",
                "five working days is a week",
            ),
            (&nd, "2026-09-30", 1, "2026-10-08", "holidays are skipped"),
            (
                &nd,
                "2026-09-25",
                1,
                "2026-09-27",
                "a make-up Sunday counts",
            ),
            (
                &nd,
                "2026-10-09",
                1,
                "2026-10-10",
                "a make-up Saturday counts",
            ),
        ];
        for (cal, start, n, due, why) in cases {
            assert_eq!(cal.due_on(d(start), n), d(due), "{why}");
        }
    }

    #[test]
    fn working_day_flags() {
        let nd = national_day_2026();
        assert!(!nd.is_working_day(d("2026-10-01")));
        assert!(nd.is_working_day(d("2026-09-27")));
        assert!(!nd.is_working_day(d("2026-10-11")));
        assert!(nd.is_working_day(d("2026-10-12")));
    }

    #[test]
    fn working_days_between_counts_after_the_start() {
        let plain = WorkCalendar::default();
        assert_eq!(
            plain.working_days_between(d("2026-11-30"), d("2026-12-07")),
            5
        );
        assert_eq!(
            plain.working_days_between(d("2026-12-07"), d("2026-11-30")),
            0
        );
    }
}
