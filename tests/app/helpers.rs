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

    /// A GET whose body is kept as bytes (downloads).
    pub async fn get_bytes(&self, path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let mut req = Request::get(path).body(Body::empty()).expect("request");
        let cookies = self.cookie_header();
        if !cookies.is_empty() {
            req.headers_mut()
                .insert(header::COOKIE, cookies.parse().expect("cookie header"));
        }
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let (status, headers) = (res.status(), res.headers().clone());
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        (status, headers, bytes.to_vec())
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

/// What the test SMTP server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    /// 250 to everything.
    Accept,
    /// This code to RCPT TO (e.g. 451, 550).
    RejectRcpt(u16),
}

/// One message the test SMTP server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub rcpt: Vec<String>,
    pub data: String,
}

impl Received {
    /// The decoded text of every part (base64 and quoted-printable undone).
    pub fn text(&self) -> String {
        use base64::Engine;
        let mut out = String::new();
        for part in self.data.split("\r\n--") {
            let Some((head, body)) = part.split_once("\r\n\r\n") else {
                continue;
            };
            let head = head.to_ascii_lowercase();
            if head.contains("content-transfer-encoding: base64") {
                let joined: String = body
                    .split_whitespace()
                    .take_while(|l| !l.starts_with("--"))
                    .collect();
                if let Ok(b) = base64::engine::general_purpose::STANDARD.decode(joined) {
                    out.push_str(&String::from_utf8_lossy(&b));
                }
            } else if head.contains("content-transfer-encoding: quoted-printable") {
                out.push_str(&decode_qp(body));
            } else {
                out.push_str(body);
            }
            out.push('\n');
        }
        out
    }

    /// The Message-ID header.
    pub fn message_id(&self) -> String {
        self.data
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("message-id")
                    .then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    }
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A minimal in-process SMTP server (EHLO/HELO, MAIL, RCPT, DATA, RSET, QUIT).
pub struct SmtpServer {
    pub addr: std::net::SocketAddr,
    pub received: std::sync::Arc<Mutex<Vec<Received>>>,
    pub mode: std::sync::Arc<Mutex<SmtpMode>>,
    task: tokio::task::JoinHandle<()>,
}

/// A local address where nothing listens (yet).
pub async fn free_addr() -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    l.local_addr().expect("addr")
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        SmtpServer::start_on(free_addr().await).await
    }

    pub async fn start_on(addr: std::net::SocketAddr) -> SmtpServer {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind smtp");
        let received = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mode = std::sync::Arc::new(Mutex::new(SmtpMode::Accept));
        let (r, m) = (received.clone(), mode.clone());
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (r, m) = (r.clone(), m.clone());
                tokio::spawn(async move {
                    let (rd, mut wr) = sock.into_split();
                    let mut lines = BufReader::new(rd);
                    let _ = wr.write_all(b"220 test ESMTP\r\n").await;
                    let mut rcpt = Vec::new();
                    loop {
                        let mut line = String::new();
                        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let up = line.to_ascii_uppercase();
                        let reply: String = if up.starts_with("EHLO") || up.starts_with("HELO") {
                            "250-test\r\n250 8BITMIME\r\n".into()
                        } else if up.starts_with("MAIL FROM") {
                            rcpt.clear();
                            "250 OK\r\n".into()
                        } else if up.starts_with("RCPT TO") {
                            match *m.lock().expect("mode") {
                                SmtpMode::RejectRcpt(code) => format!("{code} no\r\n"),
                                SmtpMode::Accept => {
                                    rcpt.push(line[8..].trim().to_owned());
                                    "250 OK\r\n".into()
                                }
                            }
                        } else if up.starts_with("DATA") {
                            let _ = wr.write_all(b"354 go on\r\n").await;
                            let mut data = String::new();
                            loop {
                                let mut l = String::new();
                                if lines.read_line(&mut l).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if l == ".\r\n" {
                                    break;
                                }
                                data.push_str(&l);
                            }
                            r.lock().expect("received").push(Received {
                                rcpt: rcpt.clone(),
                                data,
                            });
                            "250 queued\r\n".into()
                        } else if up.starts_with("QUIT") {
                            let _ = wr.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            "250 OK\r\n".into()
                        };
                        if wr.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        SmtpServer {
            addr,
            received,
            mode,
            task,
        }
    }

    pub fn set_mode(&self, m: SmtpMode) {
        *self.mode.lock().expect("mode") = m;
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().expect("received").clone()
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
