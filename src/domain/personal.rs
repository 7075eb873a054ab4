//! Personal data newtypes whose `Display` and `Debug` are masked, so that a
//! name or phone number cannot reach a log or a public page by accident.
//! Staff pages that may show the raw value call `.raw()` explicitly.

use std::fmt;

/// A requester's name. Displays as 张* / 欧阳** style masks.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// Trims and checks a name: 1–30 characters, no control characters.
    pub fn parse(s: &str) -> Result<PersonName, &'static str> {
        let t = s.trim();
        if t.is_empty() {
            return Err("err.required");
        }
        if t.chars().count() > 30 {
            return Err("err.too_long");
        }
        if t.chars().any(|c| c.is_control() || matches!(c, '<' | '>')) {
            return Err("err.name_chars");
        }
        Ok(PersonName(t.to_owned()))
    }

    /// Wraps a stored value without checks.
    pub fn from_stored(s: String) -> PersonName {
        PersonName(s)
    }

    /// The unmasked name (staff detail pages and exports only).
    pub fn raw(&self) -> &str {
        &self.0
    }

    /// The masked form: the first character and one `*`, whatever the
    /// length (张*), so that not even the name's length shows.
    pub fn masked(&self) -> String {
        let first = self.0.chars().next().map(String::from).unwrap_or_default();
        format!("{first}*")
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({})", self.masked())
    }
}

/// A Chinese mobile (11 digits starting 1[3-9]) or landline (area code
/// 0xx/0xxx and a 7–8 digit number) phone number, stored as digits (landline
/// as `0xx-xxxxxxxx`). Displays masked: 138****1234.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses what a person types: spaces, dashes and a +86 prefix are allowed.
    pub fn parse(s: &str) -> Result<Phone, &'static str> {
        let t = s.trim();
        if t.is_empty() {
            return Err("err.required");
        }
        let mut digits: String = t
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '（' | '）'))
            .collect();
        if let Some(rest) = digits.strip_prefix("+86") {
            digits = rest.to_owned();
        } else if digits.len() == 13
            && let Some(rest) = digits.strip_prefix("86")
        {
            digits = rest.to_owned();
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err("err.phone");
        }
        let b = digits.as_bytes();
        if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
            return Ok(Phone(digits));
        }
        if b.first() == Some(&b'0') && b.get(1).is_some_and(|c| *c != b'0') {
            // Area codes: 010, 02x are 3 digits; others are 4 digits.
            let area_len = if b[1] == b'1' || b[1] == b'2' { 3 } else { 4 };
            let local = b.len().saturating_sub(area_len);
            if (7..=8).contains(&local) {
                return Ok(Phone(format!(
                    "{}-{}",
                    &digits[..area_len],
                    &digits[area_len..]
                )));
            }
        }
        Err("err.phone")
    }

    /// Wraps a stored value without checks.
    pub fn from_stored(s: String) -> Phone {
        Phone(s)
    }

    /// The unmasked number (staff detail pages and exports only).
    pub fn raw(&self) -> &str {
        &self.0
    }

    /// Masked: the first three and last four digits remain.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() <= 7 {
            return "*".repeat(chars.len());
        }
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

/// An email address (light check: one `@`, a dot in the domain, no spaces).
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses an address.
    pub fn parse(s: &str) -> Result<Email, &'static str> {
        let t = s.trim();
        let ok = t.len() <= 254
            && !t
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
            && t.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if ok {
            Ok(Email(t.to_owned()))
        } else {
            Err("err.email")
        }
    }

    /// Wraps a stored value without checks.
    pub fn from_stored(s: String) -> Email {
        Email(s)
    }

    /// The unmasked address.
    pub fn raw(&self) -> &str {
        &self.0
    }

    /// Masked: z***@example.com.
    pub fn masked(&self) -> String {
        match self.0.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            None => "***".into(),
        }
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_masked_after_the_first_character() {
        let cases = [
            ("张三", "张*"),
            ("张", "张*"),
            ("欧阳娜娜", "欧*"),
            ("Li Wei", "L*"),
        ];
        for (name, masked) in cases {
            let n = PersonName::parse(name).unwrap();
            assert_eq!(n.to_string(), masked);
            assert_eq!(format!("{n:?}"), format!("PersonName({masked})"));
            assert_eq!(n.raw(), name);
        }
        assert_eq!(PersonName::parse("  "), Err("err.required"));
        assert_eq!(PersonName::parse("<b>"), Err("err.name_chars"));
    }

    #[test]
    fn phones_parse_as_chinese_mobiles_or_landlines() {
        let ok = [
            ("13812341234", "13812341234", "138****1234"),
            ("138 1234 1234", "13812341234", "138****1234"),
            ("+86 199-0000-1111", "19900001111", "199****1111"),
            ("021-64001234", "021-64001234", "021*****1234"),
            ("0571 8888888", "0571-8888888", "057*****8888"),
            ("01088886666", "010-88886666", "010*****6666"),
        ];
        for (input, stored, masked) in ok {
            let p = Phone::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(p.raw(), stored, "{input}");
            assert_eq!(p.to_string(), masked, "{input}");
        }
        for bad in [
            "12345",
            "1234567890123",
            "23812341234",
            "12012341234",
            "abc",
            "021-123",
            "0021-6400123",
        ] {
            assert_eq!(Phone::parse(bad), Err("err.phone"), "{bad}");
        }
        assert_eq!(Phone::parse(""), Err("err.required"));
    }

    #[test]
    fn emails_are_checked_lightly_and_masked() {
        let e = Email::parse(" zhang@example.cn ").unwrap();
        assert_eq!(e.to_string(), "z***@example.cn");
        for bad in ["zhang", "a@b", "a b@c.cn", "@c.cn", "a@.cn", "a@b@c.cn"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
