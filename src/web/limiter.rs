//! Failure-based rate limiting per client: residents on one carrier or
//! office address share an IP, so successes never count, only failures
//! (wrong access codes, wrong passwords). Over the budget, a client is
//! refused with 429 until its window passes.

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per window.
pub const MAX_FAILURES: u32 = 10;
/// Length of a window.
pub const WINDOW: Duration = Duration::from_secs(600);
/// Entries kept before old ones are pruned.
const MAX_ENTRIES: usize = 50_000;

/// Counts failures per client key.
#[derive(Debug, Default)]
pub struct FailureLimiter {
    entries: Mutex<HashMap<String, (u32, Instant)>>,
}

impl FailureLimiter {
    /// Whether `key` may try again now.
    pub fn allowed(&self, key: &str) -> bool {
        let Ok(map) = self.entries.lock() else {
            return true;
        };
        match map.get(key) {
            Some((n, since)) if since.elapsed() < WINDOW => *n < MAX_FAILURES,
            _ => true,
        }
    }

    /// Records one failure of `key`.
    pub fn fail(&self, key: &str) {
        let Ok(mut map) = self.entries.lock() else {
            return;
        };
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        let entry = map.entry(key.to_owned()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }
}

/// The client's address: the socket peer, or the last `X-Forwarded-For`
/// entry (the one our reverse proxy appended; earlier ones are whatever the
/// client sent) when `ZZH_TRUST_PROXY` is set.
pub fn client_key(parts: &Parts, trust_proxy: bool) -> String {
    if trust_proxy
        && let Some(ip) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    {
        return ip.to_owned();
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".to_owned())
}

/// Extractor for the client key.
#[derive(Debug, Clone)]
pub struct ClientKey(pub String);

impl ClientKey {
    /// The key for status lookups (a separate budget from logins, so that
    /// residents guessing at a shared address do not lock staff out).
    pub fn lookups(&self) -> String {
        format!("lookup:{}", self.0)
    }

    /// The key for logins and API tokens.
    pub fn logins(&self) -> String {
        format!("login:{}", self.0)
    }
}

impl axum::extract::FromRequestParts<super::AppState> for ClientKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &super::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientKey(client_key(parts, state.config().trust_proxy)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_count_and_other_clients_are_unaffected() {
        let l = FailureLimiter::default();
        for _ in 0..MAX_FAILURES {
            assert!(l.allowed("a"));
            l.fail("a");
        }
        assert!(!l.allowed("a"));
        assert!(l.allowed("b"));
    }
}
