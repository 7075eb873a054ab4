//! Form and cookie helpers: number fields, cookies, and `StaffForm`, the
//! extractor that checks the CSRF token of every staff form.

use super::AppState;
use super::auth::Staff;
use super::error::PageError;
use crate::domain::Validation;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Parses an optional integer field: empty is `None`, junk is an error on `field`.
pub fn opt_int(v: &mut Validation, field: &str, raw: &str) -> Option<i64> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            v.add(field, "err.number");
            None
        }
    }
}

/// Like [`opt_int`] for ids.
pub fn opt_id(v: &mut Validation, field: &str, raw: &str) -> Option<i32> {
    opt_int(v, field, raw).and_then(|n| match i32::try_from(n) {
        Ok(i) => Some(i),
        Err(_) => {
            v.add(field, "err.number");
            None
        }
    })
}

#[derive(serde::Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// A logged-in staff member's form submission whose CSRF token matched.
pub struct StaffForm<T> {
    /// Who posted it.
    pub staff: Staff,
    /// The parsed form.
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for StaffForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let staff = Staff::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| PageError::BadRequest)?;
        let token: CsrfOnly =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| PageError::BadRequest)?;
        if !constant_time_eq(token.csrf.as_bytes(), staff.csrf.as_bytes()) {
            return Err(PageError::Csrf);
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| PageError::BadRequest)?;
        Ok(StaffForm { staff, form })
    }
}

/// Compares two secrets without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A safe local redirect target: a path on this site, never `//host`.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_owned(),
        _ => "/staff".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_redirect_targets() {
        assert_eq!(local_path(Some("/admin/units")), "/admin/units");
        assert_eq!(local_path(Some("//evil.example")), "/staff");
        assert_eq!(local_path(Some("https://evil.example")), "/staff");
        assert_eq!(local_path(None), "/staff");
    }

    #[test]
    fn integer_fields_accept_empty_and_reject_junk() {
        let mut v = Validation::new();
        assert_eq!(opt_int(&mut v, "a", " 5 "), Some(5));
        assert_eq!(opt_int(&mut v, "b", ""), None);
        assert_eq!(opt_int(&mut v, "c", "五"), None);
        assert_eq!(v.for_field("c"), Some("err.number"));
        assert!(v.for_field("b").is_none());
    }
}
