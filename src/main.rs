//! The `zhouzhouhui` command: serve, migrate, create-admin, demo, export,
//! import, check-tallies, outbox.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;
use zhouzhouhui::app::Application;
use zhouzhouhui::config::{Config, Overrides, redact_url};
use zhouzhouhui::db;
use zhouzhouhui::db::users::UserInput;
use zhouzhouhui::domain::role::Role;

#[derive(Parser)]
#[command(
    name = "zhouzhouhui",
    version,
    about = "周周会 — weekly-meeting request tracking"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args, Clone)]
struct Common {
    /// Database URL: sqlite:PATH or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// TOML configuration file.
    #[arg(long, global = true, env = "ZZH_CONFIG")]
    config: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "ZZH_LISTEN")]
        listen: Option<String>,
        /// Public base URL for links and QR codes.
        #[arg(long, env = "ZZH_PUBLIC_URL")]
        public_url: Option<String>,
        /// Load the demo town first if the database is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Create or upgrade the database schema.
    Migrate,
    /// Create an administrator account at the top of the unit tree.
    CreateAdmin {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Password (or ZZH_ADMIN_PASSWORD).
        #[arg(long, env = "ZZH_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        /// Display name.
        #[arg(long, default_value = "管理员")]
        display_name: String,
        /// Unit id to attach the account to (default: the first top-level unit,
        /// created as 本级 if there is none).
        #[arg(long)]
        unit_id: Option<i32>,
    },
    /// Load the demo town (马桥镇) into an empty database.
    Demo,
    /// Re-derive every published meeting tally from the event history and
    /// compare; exits non-zero if any differs.
    CheckTallies,
    /// Export the ledger (台账) to a file. An operator tool: names and phone
    /// numbers are written unmasked — keep the file safe.
    Export {
        /// File format.
        #[arg(long, value_parser = ["csv", "xlsx"])]
        format: String,
        /// File to write.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Only requests in this unit's subtree (default: every request).
        #[arg(long)]
        unit_id: Option<i32>,
    },
    /// Import paper-logged requests from an XLSX or CSV file (UTF-8 or
    /// GB18030), logged as a cadre's or dispatcher's account. A file with any
    /// bad row imports nothing; importing the same file again adds nothing.
    Import {
        /// The XLSX or CSV file.
        file: std::path::PathBuf,
        /// Username of the cadre or dispatcher the requests are logged by.
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        /// Only check the file and report every bad row; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The outbox of outgoing messages.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Send every message that is due now, then print the counts.
    Drain,
    /// Print how many messages are queued, sending, sent and dead.
    Status,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误 / error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve {
        listen: None,
        public_url: None,
        demo: false,
    });
    let (listen, public_url) = match &command {
        Command::Serve {
            listen, public_url, ..
        } => (listen.clone(), public_url.clone()),
        _ => (None, None),
    };
    let config = Config::load(Overrides {
        database_url: cli.common.database_url,
        listen,
        public_url,
        config_file: cli.common.config,
    })?;
    zhouzhouhui::telemetry::init(config.log_format);

    match command {
        Command::Serve { demo, .. } => {
            let app = Application::build(config.clone()).await?;
            if demo {
                load_demo(app.state().db(), true).await?;
            }
            let addr = app.local_addr()?;
            tracing::info!(database = %redact_url(&config.database_url), "listening on http://{addr}");
            println!(
                "周周会 running at http://{addr}  (database: {})",
                redact_url(&config.database_url)
            );
            app.run().await?;
        }
        Command::Migrate => {
            db::connect_and_migrate(&config.database_url, 1).await?;
            println!(
                "database is up to date: {}",
                redact_url(&config.database_url)
            );
        }
        Command::CreateAdmin {
            username,
            password,
            display_name,
            unit_id,
        } => {
            let conn = db::connect_and_migrate(&config.database_url, 1).await?;
            let unit_id = match unit_id {
                Some(u) => u,
                None => db::units::top_level_or_create(&conn).await?,
            };
            let input = UserInput {
                username: username.clone(),
                password,
                display_name,
                role: Role::Admin.as_str().to_owned(),
                unit_id: Some(unit_id),
                active: None,
                email: None,
            };
            match db::users::save(&conn, None, &input, None).await {
                Ok(u) => println!("created administrator {} (id {})", u.username, u.id),
                Err(db::Error::Invalid(v)) => {
                    let fields: Vec<String> =
                        v.0.iter()
                            .map(|e| {
                                format!(
                                    "{}: {}",
                                    e.field,
                                    zhouzhouhui::web::i18n::message(&e.key, "zh-CN")
                                )
                            })
                            .collect();
                    anyhow::bail!("cannot create {username}: {}", fields.join("; "));
                }
                Err(e) => return Err(e).context("cannot create the administrator"),
            }
        }
        Command::Demo => {
            let conn = db::connect_and_migrate(&config.database_url, 1).await?;
            load_demo(&conn, false).await?;
        }
        Command::Outbox { command } => {
            let conn = db::connect_and_migrate(&config.database_url, 2).await?;
            if let OutboxCommand::Drain = command {
                let channels = zhouzhouhui::mail::channels(&config)?;
                if channels.email.is_none() {
                    println!("ZZH_SMTP_URL is not set: email stays queued");
                }
                let r =
                    zhouzhouhui::mail::worker::drain(&conn, &channels, chrono::Utc::now()).await?;
                println!(
                    "drained: {} sent, {} to retry, {} dead, {} taken over",
                    r.sent, r.retried, r.dead, r.lost
                );
            }
            let c = db::outbox::counts(&conn).await?;
            println!(
                "outbox: {} queued, {} sending, {} sent, {} dead",
                c.queued, c.sending, c.sent, c.dead
            );
        }
        Command::Export {
            format,
            out,
            unit_id,
        } => {
            let conn = db::connect_and_migrate(&config.database_url, 1).await?;
            let scope = match unit_id {
                Some(u) => Some(db::units::tree(&conn).await?.subtree(u)),
                None => None,
            };
            let filter = db::requests::Filter {
                scope,
                ..Default::default()
            };
            let file = std::fs::File::create(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let rows = zhouzhouhui::ledger::export::to_file(
                &conn,
                filter,
                zhouzhouhui::ledger::Privacy::Raw,
                format == "xlsx",
                file,
            )
            .await?;
            println!("exported {rows} requests to {}", out.display());
        }
        Command::Import {
            file,
            as_user,
            dry_run,
        } => {
            let conn = db::connect_and_migrate(&config.database_url, 1).await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let user = db::users::list(&conn, None)
                .await?
                .into_iter()
                .find(|u| u.username == as_user && u.active)
                .with_context(|| format!("no active account {as_user}"))?;
            let report = zhouzhouhui::ledger::import::run(
                &conn,
                &user,
                &bytes,
                dry_run,
                &zhouzhouhui::web::scope::route_words(),
                config.reach(),
                chrono::Utc::now(),
            )
            .await?;
            let c = &report.checked;
            for e in &c.file_errors {
                println!("{}", e.text("zh-CN"));
            }
            for e in &c.cell_errors {
                println!("{}", e.text("zh-CN"));
            }
            if !c.is_clean() {
                anyhow::bail!(
                    "nothing imported: {} bad rows (没有导入任何诉求)",
                    c.bad_rows().len()
                );
            }
            if dry_run {
                println!("check passed: {} requests, nothing written", c.ok.len());
            } else {
                println!(
                    "imported {} requests ({} already imported from this file)",
                    report.created.len(),
                    report.replayed
                );
            }
        }
        Command::CheckTallies => {
            let conn = db::connect_and_migrate(&config.database_url, 1).await?;
            let ids = db::meetings::closed_ids(&conn).await?;
            let mut bad = 0;
            for id in &ids {
                let c = db::meetings::check(&conn, *id).await?;
                if !c.matches {
                    bad += 1;
                    println!(
                        "meeting {id}: published {:?} / {:?}, re-derived {:?} / {:?}",
                        c.stored, c.stored_period, c.recomputed, c.recomputed_period
                    );
                }
            }
            println!("{} published tallies checked, {bad} differ", ids.len());
            if bad > 0 {
                anyhow::bail!("{bad} published tallies differ from the event history");
            }
        }
    }
    Ok(())
}

/// Loads the demo town; with `skip_if_present`, an existing database is left as is.
async fn load_demo(
    conn: &sea_orm::DatabaseConnection,
    skip_if_present: bool,
) -> anyhow::Result<()> {
    match db::demo::load(conn).await {
        Ok(s) => {
            let requests = db::demo::seed_requests(conn)
                .await
                .context("cannot log the demo requests")?;
            println!(
                "demo town loaded: {} units, {} categories, {} routing rules, {requests} requests",
                s.units, s.categories, s.rules
            );
            println!(
                "demo accounts (password for all: {}):",
                db::demo::DEMO_PASSWORD
            );
            for (user, role, name, unit) in db::demo::DEMO_ACCOUNTS {
                println!("  {user:<11} {:<11} {name} ({unit})", role.as_str());
            }
            Ok(())
        }
        Err(db::Error::Invalid(_)) if skip_if_present => {
            println!("database already has data; demo town not loaded");
            Ok(())
        }
        Err(db::Error::Invalid(_)) => anyhow::bail!(
            "the database already has data; `demo` only loads into an empty database \
             (数据库已有数据，演示数据只能导入空数据库)"
        ),
        Err(e) => Err(e).context("cannot load the demo town"),
    }
}
