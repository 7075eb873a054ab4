//! TestApp: the real router on a fresh database (SQLite file, or a fresh
//! PostgreSQL database when ZZH_TEST_DATABASE_URL is set), driven in-process.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use rand::Rng;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::Value;
use std::sync::Mutex;
use tower::ServiceExt;
use zhouzhouhui::config::{Config, Overrides};
use zhouzhouhui::db;
use zhouzhouhui::web::{self, AppState};

/// Password of every demo account.
pub const PW: &str = zhouzhouhui::db::demo::DEMO_PASSWORD;

/// A running app on its own database.
pub struct TestApp {
    pub router: Router,
    pub db: DatabaseConnection,
    cookies: Mutex<Vec<(String, String)>>,
}

/// An HTTP answer.
pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    pub fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .map(|i| i + marker.len())
            .unwrap_or(0);
        self.body[start..]
            .split('"')
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}

fn random_suffix() -> String {
    let n: u64 = rand::thread_rng().r#gen();
    format!("{n:016x}")
}

/// A fresh, migrated database for one test.
pub async fn fresh_database() -> (DatabaseConnection, String) {
    match std::env::var("ZZH_TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let admin = Database::connect(&base)
                .await
                .expect("PostgreSQL from ZZH_TEST_DATABASE_URL is unreachable");
            let name = format!("zzh_t_{}", random_suffix());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            let _ = admin.close().await;
            let url = match base.rfind('/') {
                Some(i) if i > "postgres://".len() => format!("{}/{name}", &base[..i]),
                _ => format!("{base}/{name}"),
            };
            let db = db::connect_and_migrate(&url, 4).await.expect("migrate");
            (db, url)
        }
        _ => {
            let dir = std::env::temp_dir().join("zzh-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            let path = dir.join(format!("{}.db", random_suffix()));
            let url = format!("sqlite://{}?mode=rwc", path.display());
            let db = db::connect_and_migrate(&url, 4).await.expect("migrate");
            (db, url)
        }
    }
}

impl TestApp {
    /// An app on an empty (migrated) database.
    pub async fn empty() -> TestApp {
        let (db, url) = fresh_database().await;
        let config = Config::load(Overrides {
            database_url: Some(url),
            listen: Some("127.0.0.1:0".into()),
            public_url: Some("http://zzh.test".into()),
            config_file: None,
        })
        .expect("config");
        let state = AppState::new(config, db.clone());
        TestApp {
            router: web::router(state),
            db,
            cookies: Mutex::new(Vec::new()),
        }
    }

    /// An app with the demo town loaded.
    pub async fn demo() -> TestApp {
        let app = TestApp::empty().await;
        db::demo::load(&app.db).await.expect("demo loads");
        app
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .expect("cookie jar")
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn store_cookies(&self, headers: &axum::http::HeaderMap) {
        let mut jar = self.cookies.lock().expect("cookie jar");
        for v in headers.get_all(header::SET_COOKIE) {
            let Some(first) = v.to_str().ok().and_then(|s| s.split(';').next()) else {
                continue;
            };
            let Some((k, val)) = first.split_once('=') else {
                continue;
            };
            jar.retain(|(name, _)| name != k);
            if !val.is_empty() {
                jar.push((k.to_owned(), val.to_owned()));
            }
        }
    }

    /// Forgets the browser's cookies.
    pub fn clear_cookies(&self) {
        self.cookies.lock().expect("cookie jar").clear();
    }

    /// Sends a request with the browser's cookies and remembers new ones.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        let mut req = req;
        let cookies = self.cookie_header();
        if !cookies.is_empty() {
            req.headers_mut()
                .insert(header::COOKIE, cookies.parse().expect("cookie header"));
        }
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        self.store_cookies(res.headers());
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }

    /// Posts a form as a same-origin browser would.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).expect("form");
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(body))
                .expect("request"),
        )
        .await
    }

    /// Posts a form with the CSRF token taken from `form_page`.
    pub async fn submit(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
        let csrf = self.get(form_page).await.csrf();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf", &csrf));
        self.post_form(action, &all).await
    }

    /// Logs in through the login page.
    pub async fn login(&self, username: &str) -> Resp {
        self.clear_cookies();
        let page = self.get("/login").await;
        let csrf = page.csrf();
        self.post_form(
            "/login",
            &[("username", username), ("password", PW), ("csrf", &csrf)],
        )
        .await
    }

    /// A bearer token for an account.
    pub async fn token(&self, username: &str) -> String {
        let r = self
            .api(
                "POST",
                "/api/v1/auth/token",
                None,
                Some(serde_json::json!({"username": username, "password": PW})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "token for {username}: {}", r.body);
        r.json()["token"].as_str().expect("token").to_owned()
    }

    /// A JSON API call (no cookies).
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        }
        .expect("request");
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Id of the unit with this name.
    pub async fn unit_id(&self, name: &str) -> i32 {
        db::units::all(&self.db)
            .await
            .expect("units")
            .into_iter()
            .find(|u| u.name == name)
            .unwrap_or_else(|| panic!("no unit {name}"))
            .id
    }

    /// Id of the category with this name.
    pub async fn category_id(&self, name: &str) -> i32 {
        db::categories::all(&self.db)
            .await
            .expect("categories")
            .into_iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no category {name}"))
            .id
    }

    pub async fn unit_count(&self) -> usize {
        db::units::all(&self.db).await.expect("units").len()
    }
}
