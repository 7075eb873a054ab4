use crate::helpers::TestApp;
use axum::http::StatusCode;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use zhouzhouhui::db::{self, outbox::Reach, requests::RouteWords};
use zhouzhouhui::domain::intake::{Intake, IntakeRaw};
use zhouzhouhui::domain::lifecycle::{Action, Actor, Command};
use zhouzhouhui::domain::request::{Rating, TrackingNo};

/// China time on a day of March or April 2026.
fn at(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, month, day, hour, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

struct Script<'a> {
    app: &'a TestApp,
}

impl Script<'_> {
    /// Logs a 路灯 request in 金星村 (routed to 城建办); returns its number and id.
    async fn intake(&self, when: DateTime<Utc>) -> (TrackingNo, i32) {
        let raw = IntakeRaw {
            requester_name: "王建国".into(),
            phone: "13800138000".into(),
            village_id: Some(self.app.unit_id("金星村").await),
            category_id: Some(self.app.category_id("路灯").await),
            content: "路灯不亮".into(),
            ..Default::default()
        };
        let intake = Intake::parse(&raw, |_| None, |_| true).unwrap();
        let words = RouteWords {
            by_rule: "{rule} {unit}".into(),
            queued: "{unit}".into(),
        };
        let cadre = self.user("cadre").await;
        let c = db::requests::create(
            &self.app.db,
            &intake,
            cadre.id,
            None,
            &words,
            Reach::default(),
            when,
        )
        .await
        .unwrap();
        assert_eq!(
            c.request.handler_unit_id,
            Some(self.app.unit_id("城建办").await)
        );
        (
            TrackingNo::parse(&c.request.tracking_no).unwrap(),
            c.request.id,
        )
    }

    async fn user(&self, name: &str) -> db::users::User {
        db::users::list(&self.app.db, None)
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.username == name)
            .unwrap()
    }

    async fn act(&self, no: &TrackingNo, action: Action, cmd: Command, when: DateTime<Utc>) {
        let h = self.user("handler").await;
        let actor = Actor {
            role: h.role,
            unit_id: h.unit_id,
        };
        db::requests::transition(
            &self.app.db,
            no,
            Some(h.id),
            actor,
            action,
            &cmd,
            Reach::default(),
            when,
        )
        .await
        .unwrap();
    }

    async fn complete(&self, no: &TrackingNo, when: DateTime<Utc>) {
        let cmd = Command {
            result: Some("已修复".into()),
            ..Default::default()
        };
        self.act(no, Action::Complete, cmd, when).await;
    }
}

async fn stats(app: &TestApp, token: &str, query: &str) -> (StatusCode, Value) {
    let r = app
        .api("GET", &format!("/api/v1/stats{query}"), Some(token), None)
        .await;
    let body = if r.status == StatusCode::OK {
        r.json()
    } else {
        Value::Null
    };
    (r.status, body)
}

/// Fourteen requests received Monday 2 March 2026 (due 9 March), with a
/// known value for every rate.
async fn scripted(app: &TestApp) {
    let s = Script { app };
    let mut reqs = Vec::new();
    for _ in 0..14 {
        reqs.push(s.intake(at(3, 2, 10)).await);
    }
    for (i, (no, _)) in reqs.iter().enumerate() {
        // 12 accepted the next working day, 2 two working days later.
        let day = if i < 12 { 3 } else { 5 };
        s.act(no, Action::Accept, Command::default(), at(3, day, 9))
            .await;
    }
    // 10 done on time, 2 done late, 1 deferred, 1 still in progress.
    for (no, _) in &reqs[..10] {
        s.complete(no, at(3, 4, 16)).await;
    }
    for (no, _) in &reqs[10..12] {
        s.complete(no, at(3, 20, 16)).await;
    }
    let defer = Command {
        reason: Some("funding".into()),
        explanation: Some("资金未落实".into()),
        review_on: Some(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()),
        ..Default::default()
    };
    s.act(&reqs[12].0, Action::Defer, defer, at(3, 6, 9)).await;
    // The answer reached 10 of the 13 requesters.
    let cadre = s.user("cadre").await;
    for (_, id) in &reqs[..10] {
        db::meetings::report_back(&app.db, *id, None, None, cadre.id, at(3, 25, 9))
            .await
            .unwrap();
    }
    // 12 rated: 11 satisfied in some measure, 1 not.
    for (i, (no, _)) in reqs[..12].iter().enumerate() {
        let rating = match i {
            0..=8 => Rating::Satisfied,
            9 => Rating::BasicallySatisfied,
            10 => Rating::Dissatisfied,
            _ => Rating::VerySatisfied,
        };
        let r = db::requests::get(&app.db, no).await.unwrap();
        db::requests::rate(&app.db, no, &r.access_code, rating, None, at(3, 26, 9))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_api_answers_every_rate_by_its_definition() {
    let app = TestApp::demo().await;
    scripted(&app).await;
    // Later history that the period leaves out.
    db::demo::seed_requests(&app.db).await.unwrap();
    let t = app.token("supervisor").await;
    let (status, s) = stats(&app, &t, "?from=2026-03-01&to=2026-03-31").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        [
            &s["received"],
            &s["done"],
            &s["on_the_spot"],
            &s["in_progress"],
            &s["deferred"],
            &s["overdue"]
        ],
        [
            &json!(14),
            &json!(12),
            &json!(0),
            &json!(1),
            &json!(1),
            &json!(1)
        ]
    );
    let c = &s["counts"];
    assert_eq!(
        (&c["dispatched"], &c["accepted_in_time"]),
        (&json!(14), &json!(12))
    );
    assert_eq!(
        (
            &c["done_on_time"],
            &c["feedback_owed"],
            &c["feedback_delivered"]
        ),
        (&json!(10), &json!(13), &json!(10))
    );
    assert_eq!((&c["rated"], &c["satisfied"]), (&json!(12), &json!(11)));
    assert_eq!(
        s["rates"],
        json!({
            "response_rate": 85.7,
            "completion_rate": 85.7,
            "on_time_rate": 83.3,
            "feedback_rate": 76.9,
            "satisfaction_rate": 91.7,
        })
    );
    // Narrowed to the handling unit: the same fourteen.
    let unit = app.unit_id("城建办").await;
    let (_, narrowed) = stats(
        &app,
        &t,
        &format!("?unit_id={unit}&from=2026-03-01&to=2026-03-31"),
    )
    .await;
    assert_eq!(narrowed["received"], 14);

    // The dashboard shows the same rates and ranks 城建办 (14 items, ≥ 10).
    app.login("supervisor").await;
    let dash = app.get("/dashboard?from=2026-03-01&to=2026-03-31").await;
    assert_eq!(dash.status, StatusCode::OK);
    for shown in ["85.7%", "83.3%", "76.9%", "91.7%", "12 / 14", "10 / 13"] {
        assert!(dash.body.contains(shown), "{shown}");
    }
    let ranking = &dash.body[dash.body.find("承办单位排名").unwrap()..];
    assert!(ranking.contains("<td>1</td><th scope=\"row\">城建办</th>"));
    assert!(ranking.contains("<td>85.7%</td><td>83.3%</td>"));
}

#[tokio::test]
async fn rates_are_null_under_ten_cases_and_tallies_add_up() {
    let app = TestApp::demo().await;
    let s = Script { app: &app };
    for _ in 0..3 {
        let (no, _) = s.intake(at(4, 6, 10)).await;
        s.complete(&no, at(4, 6, 11)).await;
    }
    db::demo::seed_requests(&app.db).await.unwrap();
    let t = app.token("dispatcher").await;
    let (_, small) = stats(&app, &t, "?from=2026-04-06&to=2026-04-06").await;
    assert_eq!(
        (small["received"].clone(), small["done"].clone()),
        (json!(3), json!(3))
    );
    for rate in [
        "response_rate",
        "completion_rate",
        "on_time_rate",
        "feedback_rate",
        "satisfaction_rate",
    ] {
        assert!(small["rates"][rate].is_null(), "{rate}");
    }
    let (_, all) = stats(&app, &t, "").await;
    let n = |k: &str| all[k].as_u64().unwrap();
    assert!(n("received") > 10);
    assert_eq!(n("received"), n("done") + n("in_progress") + n("deferred"));
    assert!(n("on_the_spot") <= n("done"));
    assert!(all["rates"]["completion_rate"].is_number());
}

#[tokio::test]
async fn only_dispatchers_supervisors_and_admins_see_stats_within_their_scope() {
    let app = TestApp::demo().await;
    db::demo::seed_requests(&app.db).await.unwrap();
    for user in ["cadre", "handler"] {
        let t = app.token(user).await;
        assert_eq!(stats(&app, &t, "").await.0, StatusCode::FORBIDDEN, "{user}");
        app.login(user).await;
        assert_eq!(app.get("/dashboard").await.status, StatusCode::FORBIDDEN);
        assert!(!app.get("/staff").await.body.contains("href=\"/dashboard\""));
    }
    assert_eq!(
        app.api("GET", "/api/v1/stats", None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let admin = app.token("admin").await;
    let (_, everything) = stats(&app, &admin, "").await;
    assert!(everything["received"].as_u64().unwrap() > 0);
    assert_eq!(
        stats(&app, &admin, "?unit_id=999999").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        stats(&app, &admin, "?from=2026-03-02&to=2026-03-01")
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Another township and its dispatcher see none of 马桥镇's requests.
    let county = app.unit_id("闵行区").await;
    let town = app
        .api(
            "POST",
            "/api/v1/units",
            Some(&admin),
            Some(json!({"name": "新虹街道", "kind": "township", "parent_id": county})),
        )
        .await;
    assert_eq!(town.status, StatusCode::CREATED, "{}", town.body);
    let town = town.json()["id"].as_i64().unwrap();
    let user = app
        .api(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"username": "xinhong", "password": "xinhong-2026", "display_name": "新虹派单员", "role": "dispatcher", "unit_id": town})),
        )
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
    let r = app
        .api(
            "POST",
            "/api/v1/auth/token",
            None,
            Some(json!({"username": "xinhong", "password": "xinhong-2026"})),
        )
        .await;
    let other = r.json()["token"].as_str().unwrap().to_owned();
    let (status, theirs) = stats(&app, &other, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(theirs["received"], 0);
    let maqiao = app.unit_id("马桥镇").await;
    assert_eq!(
        stats(&app, &other, &format!("?unit_id={maqiao}")).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, mine) = stats(&app, &app.token("supervisor").await, "").await;
    assert_eq!(mine["received"], everything["received"]);
}

/// Every `href="/requests…" data-n="N"` on a page.
fn figures(body: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find("<a href=\"/requests") {
        rest = &rest[i + "<a href=\"".len()..];
        let raw = rest.split('"').next().unwrap();
        let href = raw.replace("&#38;", "&").replace("&amp;", "&");
        let tail = &rest[raw.len()..];
        if let Some(n) = tail
            .strip_prefix("\" data-n=\"")
            .and_then(|t| t.split('"').next())
        {
            out.push((href, n.parse().unwrap()));
        }
    }
    out
}

fn total(body: &str) -> u64 {
    let marker = "data-total=\"";
    let at = body.find(marker).expect("search total") + marker.len();
    body[at..].split('"').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn every_dashboard_figure_links_to_a_list_of_that_many() {
    let app = TestApp::demo().await;
    db::demo::seed_requests(&app.db).await.unwrap();
    app.login("dispatcher").await;
    let home = app.get("/staff").await;
    assert!(home.body.contains("href=\"/dashboard\""));
    for page in ["/dashboard", "/dashboard?from=2026-01-01&to=2030-12-31"] {
        let dash = app.get(page).await;
        assert_eq!(dash.status, StatusCode::OK, "{page}");
        assert!(dash.body.contains("<svg") && dash.body.contains("<polyline"));
        assert!(dash.body.contains("<details>"));
        let figs = figures(&dash.body);
        assert!(figs.len() > 40, "{page}: {} figures", figs.len());
        assert!(figs.iter().any(|(_, n)| *n > 0));
        let mut seen = std::collections::HashSet::new();
        for (href, n) in figs {
            if seen.insert(href.clone()) {
                let list = app.get(&href).await;
                assert_eq!(list.status, StatusCode::OK, "{href}");
                assert_eq!(total(&list.body), n, "{page}: {href}");
            }
        }
    }
    let bad = app.get("/dashboard?from=yesterday").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}
