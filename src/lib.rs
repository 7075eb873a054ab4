//! zhouzhouhui (周周会): residents' requests heard at village meetings,
//! routed by jurisdiction, tracked until the resident has been told.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

rust_i18n::i18n!("src/locales", fallback = "zh-CN");

/// Application start-up: router, listener, graceful shutdown.
pub mod app;
/// Typed configuration from flags, environment and file.
pub mod config;
/// Database access: connection, write transactions, entities, queries.
pub mod db;
/// Pure rules of the practice: units, categories, routing, calendar, roles.
pub mod domain;
/// The ledger (台账) as CSV/XLSX files: exports and imports.
pub mod ledger;
/// Outgoing messages: templates, channels (SMTP, log) and the outbox worker.
pub mod mail;
/// Password hashing (argon2id).
pub mod password;
/// Tracing set-up.
pub mod telemetry;
/// HTTP: pages, JSON API, extractors, errors.
pub mod web;
