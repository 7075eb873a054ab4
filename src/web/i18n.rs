//! Locale per request (cookie `lang`, default Simplified Chinese) and the
//! translator handed to templates. Never process-global.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::convert::Infallible;

// Cargo does not watch the locale files that `rust_i18n::i18n!` reads; these
// make a change to any of them rebuild the crate.
const _: &str = include_str!("../locales/zh-CN.yml");
const _: &str = include_str!("../locales/en.yml");
const _: &str = include_str!("../locales/requests.yml");
const _: &str = include_str!("../locales/exports.yml");
const _: &str = include_str!("../locales/stats.yml");
const _: &str = include_str!("../locales/open311.yml");

/// A supported UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    /// 简体中文 (default).
    #[default]
    Zh,
    /// English.
    En,
}

impl Locale {
    /// Locale code of the locale files.
    pub fn code(self) -> &'static str {
        match self {
            Locale::Zh => "zh-CN",
            Locale::En => "en",
        }
    }

    /// Parses a code from the cookie or the switch link.
    pub fn from_code(s: &str) -> Option<Locale> {
        match s {
            "zh-CN" | "zh" => Some(Locale::Zh),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// Reads the `lang` cookie of a request.
    pub fn from_parts(parts: &Parts) -> Locale {
        super::form::cookie(&parts.headers, "lang")
            .and_then(|c| Locale::from_code(&c))
            .unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Locale {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Locale::from_parts(parts))
    }
}

/// Translates `key` in the locale `code`.
pub fn message(key: &str, code: &str) -> String {
    rust_i18n::t!(key, locale = code).into_owned()
}

/// Translator for templates: `{{ tr.t("nav.home") }}`. It also carries the
/// reader's large-text preference (长者模式), which travels the same way.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tr(pub Locale, pub bool);

impl Tr {
    /// Reads language and text size from a request's cookies.
    pub fn from_parts(parts: &Parts) -> Tr {
        let large = super::form::cookie(&parts.headers, "size").is_some_and(|v| v == "large");
        Tr(Locale::from_parts(parts), large)
    }

    /// Whether the reader chose large text.
    pub fn large(&self) -> bool {
        self.1
    }

    /// The message for `key`.
    pub fn t(&self, key: &str) -> String {
        message(key, self.0.code())
    }

    /// The message for `prefix` + `name`, e.g. `("role.", "admin")`.
    pub fn tp(&self, prefix: &str, name: &str) -> String {
        message(&format!("{prefix}{name}"), self.0.code())
    }

    /// `zh-CN` or `en`, for `<html lang>`.
    pub fn lang(&self) -> &'static str {
        self.0.code()
    }

    /// Whether the page is in English (for the language switch).
    pub fn is_en(&self) -> bool {
        self.0 == Locale::En
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tr {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Tr::from_parts(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_the_default_and_english_is_available() {
        assert_eq!(Tr(Locale::Zh, false).t("nav.home"), "首页");
        assert_eq!(Tr(Locale::En, false).t("nav.home"), "Home");
    }

    #[test]
    fn both_locale_files_have_the_same_keys() {
        let keys = |file: &str| -> Vec<String> {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let mut k: Vec<String> = text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && l.contains(':'))
                .filter_map(|l| l.split(':').next().map(str::to_owned))
                .collect();
            k.sort();
            k
        };
        let zh = keys("src/locales/zh-CN.yml");
        let en = keys("src/locales/en.yml");
        assert!(zh.len() > 50);
        assert_eq!(zh, en);
    }
}
