//! The vocabulary of a request: statuses, types, sources, reasons, ratings,
//! the tracking number and the access code.

use std::fmt;

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Stored and API name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            /// Parses a stored or submitted name.
            pub fn parse(s: &str) -> Option<$name> {
                match s.trim() { $($s => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use named_enum;

named_enum!(
    /// Where a request stands (DESIGN.md §2).
    Status {
        /// 已受理 — counted as 正在办理 on the board.
        Received = "received",
        /// 正在办理
        InProgress = "in_progress",
        /// 已办结
        Done = "done",
        /// 暂不能办
        Deferred = "deferred",
    }
);

impl Status {
    /// The board's three-way bucket: done, in progress (received included), deferred.
    pub fn board_bucket(self) -> Status {
        match self {
            Status::Received | Status::InProgress => Status::InProgress,
            other => other,
        }
    }

    /// Whether the request still needs work (counts towards deadlines).
    pub fn is_open(self) -> bool {
        matches!(self, Status::Received | Status::InProgress)
    }
}

named_enum!(
    /// 诉求类型.
    RequestType {
        /// 咨询
        Consultation = "consultation",
        /// 求助
        Help = "help",
        /// 投诉
        Complaint = "complaint",
        /// 举报
        Report = "report",
        /// 建议
        Suggestion = "suggestion",
        /// 表扬
        Praise = "praise",
    }
);

named_enum!(
    /// How urgent the requester or cadre judged it.
    Urgency {
        /// 一般
        Normal = "normal",
        /// 紧急
        Urgent = "urgent",
        /// 特急
        Critical = "critical",
    }
);

named_enum!(
    /// How the request reached us.
    Source {
        /// 周周会
        Meeting = "meeting",
        /// 来访
        WalkIn = "walk_in",
        /// 来电
        Phone = "phone",
        /// 网上
        Online = "online",
        /// 导入
        Import = "import",
    }
);

named_enum!(
    /// Why a request cannot be handled for now (暂不能办).
    DeferReason {
        /// 政策限制
        Policy = "policy",
        /// 资金未落实
        Funding = "funding",
        /// 规划未定
        Planning = "planning",
        /// 权属不清
        Ownership = "ownership",
        /// 需上级协调
        Coordination = "coordination",
        /// 季节原因
        Season = "season",
        /// 其他
        Other = "other",
    }
);

named_enum!(
    /// The resident's rating of the outcome.
    Rating {
        /// 非常满意
        VerySatisfied = "very_satisfied",
        /// 满意
        Satisfied = "satisfied",
        /// 基本满意
        BasicallySatisfied = "basically_satisfied",
        /// 不满意
        Dissatisfied = "dissatisfied",
        /// 非常不满意
        VeryDissatisfied = "very_dissatisfied",
    }
);

impl Rating {
    /// 不满意 or worse: the dispatcher reviews the request for 重办.
    pub fn calls_for_review(self) -> bool {
        matches!(self, Rating::Dissatisfied | Rating::VeryDissatisfied)
    }

    /// Counts towards 满意率.
    pub fn is_satisfied(self) -> bool {
        !self.calls_for_review()
    }
}

/// A tracking number, `ZZH-2026-000438`: year and a yearly sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackingNo {
    /// Year of receipt.
    pub year: i32,
    /// Sequence within the year, from 1.
    pub seq: i64,
}

impl TrackingNo {
    /// Parses `ZZH-2026-000438`, case-insensitively, with or without dashes
    /// or spaces (`zzh 2026 438` works over the phone too).
    pub fn parse(s: &str) -> Option<TrackingNo> {
        let cleaned: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '_' | '—' | '－'))
            .collect::<String>()
            .to_ascii_uppercase();
        let digits = cleaned.strip_prefix("ZZH").unwrap_or(&cleaned);
        if digits.len() < 5 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let year: i32 = digits[..4].parse().ok()?;
        let seq: i64 = digits[4..].parse().ok()?;
        if !(2000..=9999).contains(&year) || seq < 1 || digits.len() > 4 + 12 {
            return None;
        }
        Some(TrackingNo { year, seq })
    }
}

impl fmt::Display for TrackingNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ZZH-{}-{:06}", self.year, self.seq)
    }
}

/// Crockford base32 alphabet (no I, L, O, U).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Length of an access code: 10 characters × 5 bits = 50 bits.
pub const ACCESS_CODE_LEN: usize = 10;

/// The random access code (查询码) printed on the receipt slip.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessCode(String);

impl AccessCode {
    /// A fresh code from 50 random bits.
    pub fn generate(rng: &mut impl rand::RngCore) -> AccessCode {
        let bits = rng.next_u64() & ((1u64 << 50) - 1);
        let code = (0..ACCESS_CODE_LEN)
            .rev()
            .map(|i| CROCKFORD[((bits >> (i * 5)) & 31) as usize] as char)
            .collect();
        AccessCode(code)
    }

    /// Normalises what a resident types: case, dashes and spaces do not
    /// matter, and O/I/L read as 0/1/1.
    pub fn parse(s: &str) -> Option<AccessCode> {
        let code: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '—' | '－'))
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .collect();
        (code.len() == ACCESS_CODE_LEN && code.bytes().all(|b| CROCKFORD.contains(&b)))
            .then_some(AccessCode(code))
    }

    /// Wraps a stored code.
    pub fn from_stored(s: String) -> AccessCode {
        AccessCode(s)
    }

    /// The canonical 10 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Grouped for print: `ABCDE-FGHJK`.
    pub fn grouped(&self) -> String {
        let (a, b) = self.0.split_at(self.0.len().min(5));
        format!("{a}-{b}")
    }

    /// Constant-time comparison with another code.
    pub fn matches(&self, other: &AccessCode) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for AccessCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessCode(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn tracking_numbers_print_and_parse_forgivingly() {
        let n = TrackingNo {
            year: 2026,
            seq: 438,
        };
        assert_eq!(n.to_string(), "ZZH-2026-000438");
        for s in [
            "ZZH-2026-000438",
            "zzh-2026-000438",
            " zzh 2026 438 ",
            "2026000438",
            "ZZH2026-438",
        ] {
            assert_eq!(TrackingNo::parse(s), Some(n), "{s}");
        }
        for bad in [
            "",
            "ZZH-26-1",
            "ZZH-2026-000000",
            "ABC-2026-1",
            "ZZH-2026-12a",
        ] {
            assert_eq!(TrackingNo::parse(bad), None, "{bad}");
        }
        let big = TrackingNo {
            year: 2027,
            seq: 1_234_567,
        };
        assert_eq!(TrackingNo::parse(&big.to_string()), Some(big));
    }

    #[test]
    fn access_codes_have_fifty_bits_and_forgive_case_dashes_and_lookalikes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let c = AccessCode::generate(&mut rng);
            assert_eq!(c.as_str().len(), 10);
            assert!(c.as_str().bytes().all(|b| CROCKFORD.contains(&b)));
            assert_eq!(
                AccessCode::parse(&c.grouped().to_lowercase()),
                Some(c.clone())
            );
            seen.insert(c.as_str().to_owned());
        }
        assert_eq!(seen.len(), 1000);
        let c = AccessCode::parse("1234567890").unwrap();
        assert_eq!(AccessCode::parse("I234567890"), Some(c.clone()));
        assert_eq!(AccessCode::parse("l23456789o"), Some(c.clone()));
        assert!(AccessCode::parse("U234567890").is_none());
        assert!(AccessCode::parse("12345").is_none());
        assert_eq!(format!("{c:?}"), "AccessCode(***)");
    }

    #[test]
    fn the_board_counts_received_as_in_progress() {
        assert_eq!(Status::Received.board_bucket(), Status::InProgress);
        assert_eq!(Status::Done.board_bucket(), Status::Done);
        assert_eq!(Status::Deferred.board_bucket(), Status::Deferred);
        assert!(Rating::Dissatisfied.calls_for_review());
        assert!(Rating::BasicallySatisfied.is_satisfied());
    }
}
