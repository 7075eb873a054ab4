//! Builds the application from a configuration and serves it.

use crate::config::Config;
use crate::db;
use crate::web::{self, AppState};
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// A bound, ready-to-run application.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Database(#[from] db::ConnectError),
    /// The mail settings are unusable.
    #[error(transparent)]
    Mail(#[from] crate::mail::ConfigError),
    /// Serving failed.
    #[error("server error: {0}")]
    Serve(std::io::Error),
    /// The listen address is taken or not ours.
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
}

impl Application {
    /// Opens and migrates the database, then binds the listener (port 0 picks a free port).
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let db = db::connect_and_migrate(&config.database_url, config.pool_size).await?;
        Self::with_database(config, db).await
    }

    /// Binds the listener for an already-open database.
    pub async fn with_database(
        config: Config,
        db: sea_orm::DatabaseConnection,
    ) -> Result<Self, StartError> {
        crate::db::outbox::set_mail_domain(crate::mail::domain_of(&config.mail_from));
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| StartError::Listen(config.listen, e))?;
        Ok(Application {
            listener,
            state: AppState::new(config, db),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Shared state (for tests and commands).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests.
    /// The outbox worker runs beside the server and stops with it.
    pub async fn run(self) -> Result<(), StartError> {
        let channels = crate::mail::channels(self.state.config())?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(crate::mail::worker::run(
            self.state.db().clone(),
            channels,
            std::time::Duration::from_secs(5),
            stopped,
        ));
        let router = web::router(self.state);
        let served = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await;
        let _ = stop.send(true);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), worker).await;
        served.map_err(StartError::Serve)
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
