//! The only module that speaks HTTP: one router per resource, merged here
//! under one middleware stack.

pub mod admin;
pub mod api;
pub mod assets;
pub mod auth;
pub mod dashboard;
pub mod error;
pub mod form;
pub mod health;
pub mod home;
pub mod i18n;
pub mod limiter;
pub mod meetings;
pub mod middleware;
pub mod open311;
pub mod page;
pub mod public;
pub mod qr;
pub mod requests;
pub mod scope;

use crate::config::Config;
use axum::Router;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

pub use error::{ApiError, PageError};

/// Shared state handed to every handler.
#[derive(Clone)]
pub struct AppState(Arc<App>);

/// What the handlers share.
pub struct App {
    /// Database pool.
    pub db: DatabaseConnection,
    /// Configuration the server started with.
    pub config: Config,
    /// Failed lookups and logins per client.
    pub failures: limiter::FailureLimiter,
}

impl AppState {
    /// Wraps a database and configuration.
    pub fn new(config: Config, db: DatabaseConnection) -> Self {
        AppState(Arc::new(App {
            db,
            config,
            failures: limiter::FailureLimiter::default(),
        }))
    }

    /// The database pool.
    pub fn db(&self) -> &DatabaseConnection {
        &self.0.db
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The failure limiter for lookups and logins.
    pub fn failures(&self) -> &limiter::FailureLimiter {
        &self.0.failures
    }
}

/// The whole application router with its middleware.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(assets::router())
        .merge(auth::router())
        .merge(home::router())
        .merge(dashboard::router())
        .merge(admin::router())
        .merge(requests::router())
        .merge(public::router())
        .merge(meetings::router())
        .nest("/api/v1", api::router())
        .merge(open311::router())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::origin_check,
        ))
        .layer(axum::middleware::from_fn(error::render_error_pages))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            2 * 1024 * 1024,
        ))
        .layer(middleware::trace_layer())
        .with_state(state)
}
