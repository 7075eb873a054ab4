//! The one integration-test binary: the app used from outside, on SQLite or
//! (with ZZH_TEST_DATABASE_URL) PostgreSQL.
#![allow(clippy::unwrap_used)]

mod helpers;

mod access;
mod admin_api;
mod admin_pages;
mod auth;
mod cli;
mod digests;
mod exports;
mod health;
mod home;
mod meetings;
mod open311;
mod openapi;
mod outbox;
mod public_status;
mod request_api;
mod request_pages;
mod routing;
mod sms;
mod stats;
