//! The two-level category tree and its time limits.

use super::error::{Validation, required_text};

/// Longest time limit an administrator may set, in working days.
pub const MAX_TIME_LIMIT_DAYS: i32 = 365;

/// A validated new or edited category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryInput {
    /// Display name.
    pub name: String,
    /// Parent (a top-level category) or none.
    pub parent_id: Option<i32>,
    /// Working days to handle; 0 means fixed on the spot.
    pub time_limit_days: i32,
    /// What the resident must bring (一次性告知).
    pub bring_note: Option<String>,
}

impl CategoryInput {
    /// Validates raw input. `parent_is_top_level` answers whether the chosen
    /// parent exists and is itself top-level (`None` when it does not exist).
    pub fn parse(
        name: &str,
        parent_id: Option<i32>,
        time_limit_days: Option<i64>,
        bring_note: Option<&str>,
        parent_is_top_level: impl Fn(i32) -> Option<bool>,
    ) -> Result<Self, Validation> {
        let mut v = Validation::new();
        let name = required_text(&mut v, "name", name, 50);
        let limit = match time_limit_days {
            None => {
                v.add("time_limit_days", "err.required");
                None
            }
            Some(d) if !(0..=i64::from(MAX_TIME_LIMIT_DAYS)).contains(&d) => {
                v.add("time_limit_days", "err.time_limit_range");
                None
            }
            Some(d) => i32::try_from(d).ok(),
        };
        if let Some(p) = parent_id {
            match parent_is_top_level(p) {
                None => v.add("parent_id", "err.category.no_parent"),
                Some(false) => v.add("parent_id", "err.category.too_deep"),
                Some(true) => {}
            }
        }
        let bring_note = bring_note.map(str::trim).filter(|s| !s.is_empty());
        if bring_note.is_some_and(|b| b.chars().count() > 500) {
            v.add("bring_note", "err.too_long");
        }
        v.finish()?;
        Ok(CategoryInput {
            name: name.unwrap_or_default(),
            parent_id,
            time_limit_days: limit.unwrap_or_default(),
            bring_note: bring_note.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(id: i32) -> Option<bool> {
        match id {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }

    #[test]
    fn a_valid_child_category_parses() {
        let c = CategoryInput::parse(" 路灯 ", Some(1), Some(5), Some(" "), top).unwrap();
        assert_eq!(c.name, "路灯");
        assert_eq!(c.bring_note, None);
    }

    #[test]
    fn categories_are_at_most_two_levels_deep() {
        let e = CategoryInput::parse("x", Some(2), Some(5), None, top).unwrap_err();
        assert_eq!(e.for_field("parent_id"), Some("err.category.too_deep"));
        let e = CategoryInput::parse("x", Some(9), Some(5), None, top).unwrap_err();
        assert_eq!(e.for_field("parent_id"), Some("err.category.no_parent"));
    }

    #[test]
    fn time_limits_must_be_in_range_and_every_bad_field_is_named() {
        let e = CategoryInput::parse("", None, Some(-1), None, top).unwrap_err();
        assert_eq!(e.for_field("name"), Some("err.required"));
        assert_eq!(e.for_field("time_limit_days"), Some("err.time_limit_range"));
        assert!(CategoryInput::parse("x", None, Some(0), None, top).is_ok());
        assert!(CategoryInput::parse("x", None, Some(366), None, top).is_err());
        assert!(CategoryInput::parse("x", None, None, None, top).is_err());
    }
}
