use crate::helpers::{SmtpMode, SmtpServer, TestApp, free_addr};
use chrono::{DateTime, Duration, Utc};
use zhouzhouhui::db;
use zhouzhouhui::db::outbox::status;
use zhouzhouhui::domain::intake::{Intake, IntakeRaw};
use zhouzhouhui::domain::lifecycle::{Action, Actor, Command};
use zhouzhouhui::domain::request::TrackingNo;
use zhouzhouhui::mail::worker::{self, Channels, Outcome, Report};
use zhouzhouhui::mail::{LogTransport, SmtpTransport};

fn channels(url: &str) -> Channels<SmtpTransport> {
    Channels {
        email: Some(SmtpTransport::new(url, zhouzhouhui::mail::DEFAULT_FROM).unwrap()),
        sms: None,
        log: LogTransport,
        public_url: "http://zzh.test".into(),
    }
}

async fn log_request(app: &TestApp, email: Option<&str>) -> (TrackingNo, i32) {
    let cadre = user(app, "cadre").await;
    let raw = IntakeRaw {
        requester_name: "王大妈".into(),
        phone: "13800002222".into(),
        email: email.map(str::to_owned),
        village_id: Some(app.unit_id("金星村").await),
        category_id: Some(app.category_id("路灯").await),
        content: "路灯坏了".into(),
        ..Default::default()
    };
    let intake = Intake::parse(&raw, |_| None, |_| true).unwrap();
    let words = zhouzhouhui::web::scope::route_words();
    let r = db::requests::create(
        &app.db,
        &intake,
        cadre.id,
        None,
        &words,
        Default::default(),
        Utc::now(),
    )
    .await
    .unwrap();
    (
        TrackingNo::parse(&r.request.tracking_no).unwrap(),
        r.request.id,
    )
}

async fn user(app: &TestApp, name: &str) -> db::users::User {
    db::users::list(&app.db, None)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == name)
        .unwrap()
}

async fn complete(app: &TestApp, no: &TrackingNo) {
    let u = user(app, "handler").await;
    let actor = Actor {
        role: u.role,
        unit_id: u.unit_id,
    };
    let cmd = Command {
        result: Some("已更换灯泡，路灯恢复照明".into()),
        ..Default::default()
    };
    db::requests::transition(
        &app.db,
        no,
        Some(u.id),
        actor,
        Action::Complete,
        &cmd,
        Default::default(),
        Utc::now(),
    )
    .await
    .unwrap();
}

async fn owed(app: &TestApp) -> Vec<String> {
    let v = app.unit_id("金星村").await;
    db::meetings::owed_in(&app.db, &[v])
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.tracking_no)
        .collect()
}

fn later(minutes: i64) -> DateTime<Utc> {
    Utc::now() + Duration::minutes(minutes)
}

#[tokio::test]
async fn a_completed_request_emails_the_result_once_and_leaves_the_report_back_list() {
    let app = TestApp::demo().await;
    let smtp = SmtpServer::start().await;
    let (no, id) = log_request(&app, Some("wang@example.cn")).await;
    complete(&app, &no).await;
    assert_eq!(owed(&app).await, vec![no.to_string()]);

    let r = worker::drain(&app.db, &channels(&smtp.url()), Utc::now())
        .await
        .unwrap();
    assert_eq!(r.sent, 2, "{r:?}"); // receipt and answer
    let msgs = smtp.messages();
    assert_eq!(msgs.len(), 2);
    let answers: Vec<_> = msgs
        .iter()
        .filter(|m| m.text().contains("已更换灯泡"))
        .collect();
    assert_eq!(answers.len(), 1);
    let body = answers[0].text();
    assert!(answers[0].rcpt[0].contains("wang@example.cn"));
    assert!(body.contains("已办结"), "{body}");
    let row = db::requests::get(&app.db, &no).await.unwrap();
    let link = format!("http://zzh.test/s/{}?code={}", no, row.access_code.as_str());
    assert!(body.contains(&link), "{body}");
    assert!(
        owed(&app).await.is_empty(),
        "the emailed answer counts as feedback"
    );
    let rows = db::outbox::for_request(&app.db, id).await.unwrap();
    assert!(rows.iter().all(|r| r.status == status::SENT));
    assert_eq!(
        worker::drain_once(&app.db, &channels(&smtp.url()), later(60))
            .await
            .unwrap(),
        Outcome::Empty
    );
}

#[tokio::test]
async fn without_a_mail_server_messages_wait_and_are_delivered_once_it_is_up() {
    let app = TestApp::demo().await;
    let addr = free_addr().await;
    let (no, id) = log_request(&app, Some("wang@example.cn")).await;
    complete(&app, &no).await;
    let ch = channels(&format!("smtp://{addr}"));
    let now = Utc::now();
    let r = worker::drain(&app.db, &ch, now).await.unwrap();
    assert_eq!(r.retried, 2, "{r:?}");
    let first = db::outbox::for_request(&app.db, id).await.unwrap();
    assert!(first.iter().all(|m| m.status == status::QUEUED
        && m.attempts == 1
        && m.next_attempt_at > now
        && m.last_error.is_some()));
    assert_eq!(owed(&app).await.len(), 1);

    let smtp = SmtpServer::start_on(addr).await;
    // Not due yet: nothing is sent before the back-off has passed.
    assert_eq!(
        worker::drain_once(&app.db, &ch, now).await.unwrap(),
        Outcome::Empty
    );
    let r = worker::drain(&app.db, &ch, later(2)).await.unwrap();
    assert_eq!(r.sent, 2, "{r:?}");
    let msgs = smtp.messages();
    assert_eq!(msgs.len(), 2);
    let ids: Vec<String> = msgs.iter().map(|m| m.message_id()).collect();
    let stored: Vec<String> = first.iter().map(|m| m.message_id.clone()).collect();
    for id in &ids {
        assert!(stored.contains(id), "{id} not in {stored:?}");
    }
    assert!(owed(&app).await.is_empty());
    let r = worker::drain(&app.db, &ch, later(600)).await.unwrap();
    assert_eq!(r, Report::default());
    assert_eq!(smtp.messages().len(), 2);
}

#[tokio::test]
async fn a_temporary_refusal_is_retried_and_a_permanent_one_is_not() {
    let app = TestApp::demo().await;
    let smtp = SmtpServer::start().await;
    let ch = channels(&smtp.url());
    let (no, id) = log_request(&app, Some("wang@example.cn")).await;
    smtp.set_mode(SmtpMode::RejectRcpt(451));
    let r = worker::drain(&app.db, &ch, Utc::now()).await.unwrap();
    assert_eq!(r.retried, 1);
    smtp.set_mode(SmtpMode::Accept);
    let r = worker::drain(&app.db, &ch, later(2)).await.unwrap();
    assert_eq!(r.sent, 1);

    complete(&app, &no).await;
    smtp.set_mode(SmtpMode::RejectRcpt(550));
    let r = worker::drain(&app.db, &ch, later(3)).await.unwrap();
    assert_eq!(r.dead, 1, "{r:?}");
    smtp.set_mode(SmtpMode::Accept);
    let r = worker::drain(&app.db, &ch, later(24 * 60)).await.unwrap();
    assert_eq!(r, Report::default(), "dead messages are not retried");
    assert_eq!(smtp.messages().len(), 1);
    let rows = db::outbox::for_request(&app.db, id).await.unwrap();
    let dead: Vec<_> = rows.iter().filter(|r| r.status == status::DEAD).collect();
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("550")
    );
    assert_eq!(
        owed(&app).await,
        vec![no.to_string()],
        "still to be told in person"
    );
    assert_eq!(db::outbox::counts(&app.db).await.unwrap().dead, 1);

    // An administrator requeues it; it is delivered and the debt is paid.
    db::outbox::retry(&app.db, dead[0].id, later(24 * 60))
        .await
        .unwrap();
    let r = worker::drain(&app.db, &ch, later(24 * 60)).await.unwrap();
    assert_eq!(r.sent, 1);
    assert!(owed(&app).await.is_empty());
}

#[tokio::test]
async fn two_workers_on_one_outbox_deliver_each_message_once() {
    let app = TestApp::demo().await;
    let smtp = SmtpServer::start().await;
    for i in 0..12 {
        let (no, _) = log_request(&app, Some(&format!("r{i}@example.cn"))).await;
        complete(&app, &no).await;
    }
    let url = smtp.url();
    let now = Utc::now();
    let (a, b) = tokio::join!(
        {
            let db = app.db.clone();
            let ch = channels(&url);
            tokio::spawn(async move { worker::drain(&db, &ch, now).await.unwrap() })
        },
        {
            let db = app.db.clone();
            let ch = channels(&url);
            tokio::spawn(async move { worker::drain(&db, &ch, now).await.unwrap() })
        }
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 24, "{a:?} {b:?}");
    let msgs = smtp.messages();
    assert_eq!(msgs.len(), 24);
    let mut ids: Vec<String> = msgs.iter().map(|m| m.message_id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 24);
    assert!(owed(&app).await.is_empty());
}

#[tokio::test]
async fn without_smtp_email_stays_queued_and_readyz_counts_it() {
    let app = TestApp::demo().await;
    let (no, _) = log_request(&app, Some("wang@example.cn")).await;
    complete(&app, &no).await;
    let ch: Channels<SmtpTransport> = Channels {
        email: None,
        sms: None,
        log: LogTransport,
        public_url: "http://zzh.test".into(),
    };
    assert_eq!(
        worker::drain_once(&app.db, &ch, later(60)).await.unwrap(),
        Outcome::Empty
    );
    let r = app.get("/readyz").await;
    assert_eq!(r.json()["outbox"]["queued"], 2, "{}", r.body);
    assert_eq!(r.json()["outbox"]["dead"], 0);
}

#[tokio::test]
async fn a_request_without_email_writes_nothing_for_the_requester() {
    let app = TestApp::demo().await;
    let (no, id) = log_request(&app, None).await;
    complete(&app, &no).await;
    assert!(
        db::outbox::for_request(&app.db, id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(owed(&app).await, vec![no.to_string()]);
}

#[tokio::test]
async fn a_unit_notice_goes_to_its_handlers_with_masked_personal_data() {
    let app = TestApp::demo().await;
    let smtp = SmtpServer::start().await;
    let admin = app.token("admin").await;
    let h = user(&app, "handler").await;
    let r = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{}", h.id),
            Some(&admin),
            Some(serde_json::json!({"email": "chengjian@example.cn"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, id) = log_request(&app, None).await;
    worker::drain(&app.db, &channels(&smtp.url()), Utc::now())
        .await
        .unwrap();
    let msgs = smtp.messages();
    assert_eq!(
        msgs.len(),
        1,
        "{:?}",
        db::outbox::for_request(&app.db, id).await
    );
    let text = msgs[0].text();
    assert!(msgs[0].rcpt[0].contains("chengjian@example.cn"));
    assert!(text.contains("http://zzh.test/requests/ZZH-"), "{text}");
    assert!(
        !text.contains("王大妈") && !text.contains("13800002222"),
        "{text}"
    );
    assert!(!text.contains("/s/"), "{text}");
}

#[tokio::test]
async fn the_outbox_page_shows_masked_recipients_and_requeues_dead_messages() {
    let app = TestApp::demo().await;
    let smtp = SmtpServer::start().await;
    let (_, id) = log_request(&app, Some("wang@example.cn")).await;
    smtp.set_mode(SmtpMode::RejectRcpt(550));
    worker::drain(&app.db, &channels(&smtp.url()), Utc::now())
        .await
        .unwrap();
    app.login("handler").await;
    assert_eq!(app.get("/admin/outbox").await.status, 403);
    app.login("admin").await;
    let page = app.get("/admin/outbox").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("w***@example.cn"), "{}", page.body);
    assert!(!page.body.contains("wang@example.cn"));
    assert!(page.body.contains("发送失败"));
    let row = &db::outbox::for_request(&app.db, id).await.unwrap()[0];
    let r = app
        .submit(
            "/admin/outbox",
            &format!("/admin/outbox/{}/retry", row.id),
            &[],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let row = &db::outbox::for_request(&app.db, id).await.unwrap()[0];
    assert_eq!(row.status, status::QUEUED);
}
