//! Typed configuration: command-line flags, then environment variables, then
//! an optional TOML file, then defaults. Secrets are never printed.

use std::net::SocketAddr;
use std::path::Path;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

/// Everything the app needs to start.
#[derive(Clone)]
pub struct Config {
    /// `sqlite:…` or `postgres://…`.
    pub database_url: String,
    /// Address `serve` listens on.
    pub listen: SocketAddr,
    /// Public base URL used in links and QR codes (no trailing slash).
    pub public_url: String,
    /// Database pool size.
    pub pool_size: u32,
    /// Log format.
    pub log_format: LogFormat,
    /// Set the `Secure` flag on cookies (public URL is https).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (behind a proxy).
    pub trust_proxy: bool,
    /// Phone number printed on receipt slips for complaints about handling.
    pub supervision_phone: String,
    /// Requests carried over more meetings than this are flagged 督办.
    pub carry_limit: u32,
    /// `ZZH_SMTP_URL` in lettre's form; `None`: email stays queued.
    pub smtp_url: Option<String>,
    /// `ZZH_MAIL_FROM`: sender of every email.
    pub mail_from: String,
    /// `ZZH_SMS_WEBHOOK_URL`: the SMS gateway adapter (`http://` on a
    /// local or private address); `None`: no SMS is written.
    pub sms_webhook_url: Option<String>,
    /// `ZZH_SMS_SECRET`: the HMAC key signing every SMS webhook call.
    pub sms_secret: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("smtp", &self.smtp_url.as_deref().map(redact_url))
            .field("sms", &self.sms_webhook_url.as_deref().map(redact_url))
            .finish_non_exhaustive()
    }
}

/// Values that may come from a TOML file (`--config` / `ZZH_CONFIG`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Same as `DATABASE_URL`.
    pub database_url: Option<String>,
    /// Same as `ZZH_LISTEN`.
    pub listen: Option<String>,
    /// Same as `ZZH_PUBLIC_URL`.
    pub public_url: Option<String>,
    /// Same as `ZZH_DB_POOL`.
    pub pool_size: Option<u32>,
    /// Same as `ZZH_LOG_FORMAT`.
    pub log_format: Option<String>,
}

/// Values given on the command line or in the environment (clap merges both).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--database-url` / `DATABASE_URL`.
    pub database_url: Option<String>,
    /// `--listen` / `ZZH_LISTEN`.
    pub listen: Option<String>,
    /// `--public-url` / `ZZH_PUBLIC_URL`.
    pub public_url: Option<String>,
    /// `--config` / `ZZH_CONFIG`.
    pub config_file: Option<String>,
}

/// A configuration problem, reported before anything starts.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML file could not be read or parsed.
    #[error("cannot read config file {0}: {1}")]
    File(String, String),
    /// A listen address that doesn't parse.
    #[error("invalid listen address {0:?} (expected e.g. 127.0.0.1:8080)")]
    Listen(String),
    /// A database URL of an unknown kind.
    #[error("invalid database URL {0} (expected sqlite:PATH or postgres://USER@HOST/DB)")]
    DatabaseUrl(String),
    /// A public URL that isn't http(s).
    #[error("invalid public URL {0:?} (expected http://… or https://…)")]
    PublicUrl(String),
    /// An SMS webhook that is not plain http, or has no secret.
    #[error("invalid SMS webhook: {0}")]
    Sms(&'static str),
}

impl Config {
    /// Resolves the configuration from overrides, environment and file.
    pub fn load(o: Overrides) -> Result<Config, ConfigError> {
        let file = match &o.config_file {
            Some(path) => {
                let text = std::fs::read_to_string(Path::new(path))
                    .map_err(|e| ConfigError::File(path.clone(), e.to_string()))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| ConfigError::File(path.clone(), e.to_string()))?
            }
            None => FileConfig::default(),
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());

        let database_url = o
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| crate::db::DEFAULT_URL.to_owned());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::DatabaseUrl(redact_url(&database_url)));
        }
        let listen_raw = o
            .listen
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen: SocketAddr = listen_raw
            .parse()
            .map_err(|_| ConfigError::Listen(listen_raw.clone()))?;
        let public_url = o
            .public_url
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::PublicUrl(public_url));
        }
        let pool_size = env("ZZH_DB_POOL")
            .and_then(|v| v.parse().ok())
            .or(file.pool_size)
            .unwrap_or(8);
        let log_format = match env("ZZH_LOG_FORMAT").or(file.log_format).as_deref() {
            Some("json") => LogFormat::Json,
            _ => LogFormat::Human,
        };
        let sms_webhook_url = env("ZZH_SMS_WEBHOOK_URL");
        let sms_secret = env("ZZH_SMS_SECRET");
        if let Some(url) = &sms_webhook_url {
            if !url.starts_with("http://") {
                return Err(ConfigError::Sms(
                    "ZZH_SMS_WEBHOOK_URL must be http:// to a local or private adapter",
                ));
            }
            if sms_secret.is_none() {
                return Err(ConfigError::Sms(
                    "ZZH_SMS_SECRET is required with a webhook",
                ));
            }
        }
        Ok(Config {
            sms_webhook_url,
            sms_secret,
            smtp_url: env("ZZH_SMTP_URL"),
            mail_from: env("ZZH_MAIL_FROM").unwrap_or_else(|| crate::mail::DEFAULT_FROM.to_owned()),
            carry_limit: env("ZZH_CARRY_LIMIT")
                .and_then(|v| v.parse().ok())
                .unwrap_or(3),
            trust_proxy: env("ZZH_TRUST_PROXY").is_some_and(|v| v == "1" || v == "true"),
            supervision_phone: env("ZZH_SUPERVISION_PHONE").unwrap_or_else(|| "12345".to_owned()),
            secure_cookies: public_url.starts_with("https://"),
            database_url,
            listen,
            public_url,
            pool_size,
            log_format,
        })
    }
}

impl Config {
    /// The channels that can reach requesters besides email.
    pub fn reach(&self) -> crate::db::outbox::Reach {
        crate::db::outbox::Reach {
            sms: self.sms_webhook_url.is_some() && self.sms_secret.is_some(),
        }
    }
}

/// A database URL with any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((creds, host)) = rest.split_once('@')
    {
        let user = creds.split(':').next().unwrap_or_default();
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://zzh:s3cret@db:5432/zzh"),
            "postgres://zzh:***@db:5432/zzh"
        );
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
    }

    #[test]
    fn defaults_are_the_embedded_database_on_localhost() {
        let c = Config::load(Overrides::default()).unwrap();
        assert_eq!(c.database_url, crate::db::DEFAULT_URL);
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn bad_values_are_refused() {
        let bad_listen = Overrides {
            listen: Some("nonsense".into()),
            ..Default::default()
        };
        assert!(matches!(
            Config::load(bad_listen),
            Err(ConfigError::Listen(_))
        ));
        let bad_db = Overrides {
            database_url: Some("mysql://x".into()),
            ..Default::default()
        };
        assert!(matches!(
            Config::load(bad_db),
            Err(ConfigError::DatabaseUrl(_))
        ));
    }
}
