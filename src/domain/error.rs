//! Validation errors that name the field and carry a message key for i18n.

/// One invalid field: the field name and a message key in the locale files.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// Form or JSON field name, e.g. `name`.
    pub field: String,
    /// i18n key of the message, e.g. `err.required`.
    pub key: String,
}

/// All the invalid fields of one input, collected before anything is written.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", self.0.iter().map(|e| e.field.as_str()).collect::<Vec<_>>().join(", "))]
pub struct Validation(pub Vec<FieldError>);

impl Validation {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// A single error.
    pub fn one(field: &str, key: &str) -> Self {
        let mut v = Self::new();
        v.add(field, key);
        v
    }

    /// Records an invalid field.
    pub fn add(&mut self, field: &str, key: &str) {
        self.0.push(FieldError {
            field: field.to_owned(),
            key: key.to_owned(),
        });
    }

    /// `Ok(())` when nothing was recorded.
    pub fn finish(self) -> Result<(), Validation> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    /// The first message key recorded for `field`, if any.
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.key.as_str())
    }
}

/// Trims a required text field and checks its length in characters.
pub fn required_text(
    v: &mut Validation,
    field: &str,
    value: &str,
    max_chars: usize,
) -> Option<String> {
    let t = value.trim();
    if t.is_empty() {
        v.add(field, "err.required");
        None
    } else if t.chars().count() > max_chars {
        v.add(field, "err.too_long");
        None
    } else if t.chars().any(|c| c.is_control() && c != '\n') {
        v.add(field, "err.control_chars");
        None
    } else {
        Some(t.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_trims_and_checks_length() {
        let mut v = Validation::new();
        assert_eq!(
            required_text(&mut v, "name", "  金星村 ", 10),
            Some("金星村".into())
        );
        assert_eq!(required_text(&mut v, "name", "   ", 10), None);
        assert_eq!(required_text(&mut v, "long", "一二三四五六", 5), None);
        assert_eq!(v.for_field("name"), Some("err.required"));
        assert_eq!(v.for_field("long"), Some("err.too_long"));
    }
}
