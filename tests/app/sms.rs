use crate::helpers::TestApp;
use axum::http::{HeaderMap, StatusCode};
use chrono::{Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use std::sync::{Arc, Mutex};
use zhouzhouhui::db;
use zhouzhouhui::db::outbox::{Reach, status};
use zhouzhouhui::domain::intake::{Intake, IntakeRaw};
use zhouzhouhui::domain::lifecycle::{Action, Actor, Command};
use zhouzhouhui::domain::request::TrackingNo;
use zhouzhouhui::mail::sms::SmsBody;
use zhouzhouhui::mail::worker::{self, Channels, Report};
use zhouzhouhui::mail::{LogTransport, SmsTransport, SmtpTransport};

const SECRET: &str = "test-secret";
const SMS: Reach = Reach { sms: true };

/// An in-process SMS gateway adapter: checks the signature, records the
/// call and answers with the status it is told to.
struct Gateway {
    url: String,
    calls: Arc<Mutex<Vec<(SmsBody, bool)>>>,
    answer: Arc<Mutex<u16>>,
    task: tokio::task::JoinHandle<()>,
}

impl Gateway {
    async fn start() -> Gateway {
        let calls: Arc<Mutex<Vec<(SmsBody, bool)>>> = Arc::default();
        let answer = Arc::new(Mutex::new(200u16));
        let (c, a) = (calls.clone(), answer.clone());
        let app = axum::Router::new().route(
            "/sms",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let (c, a) = (c.clone(), a.clone());
                async move {
                    let mut mac =
                        <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
                    mac.update(&body);
                    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
                    let signed = headers
                        .get("x-zzh-signature")
                        .is_some_and(|v| v.as_bytes() == expected.as_bytes())
                        && headers
                            .get("x-zzh-timestamp")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<i64>().ok())
                            .is_some_and(|t| (Utc::now().timestamp() - t).abs() < 60);
                    let parsed: SmsBody = serde_json::from_slice(&body).unwrap();
                    c.lock().unwrap().push((parsed, signed));
                    let code = if signed { *a.lock().unwrap() } else { 401 };
                    StatusCode::from_u16(code).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/sms", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Gateway {
            url,
            calls,
            answer,
            task,
        }
    }

    fn answer(&self, code: u16) {
        *self.answer.lock().unwrap() = code;
    }

    fn calls(&self) -> Vec<(SmsBody, bool)> {
        self.calls.lock().unwrap().clone()
    }

    fn channels(&self) -> Channels<SmtpTransport> {
        Channels {
            email: None,
            sms: Some(SmsTransport::new(&self.url, SECRET).unwrap()),
            log: LogTransport,
            public_url: "http://zzh.test".into(),
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn user(app: &TestApp, name: &str) -> db::users::User {
    db::users::list(&app.db, None)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == name)
        .unwrap()
}

async fn log_request(app: &TestApp, phone: &str, reach: Reach) -> (TrackingNo, i32) {
    let cadre = user(app, "cadre").await;
    let raw = IntakeRaw {
        requester_name: "王大妈".into(),
        phone: phone.into(),
        email: None,
        village_id: Some(app.unit_id("金星村").await),
        category_id: Some(app.category_id("路灯").await),
        content: "路灯坏了".into(),
        ..Default::default()
    };
    let intake = Intake::parse(&raw, |_| None, |_| true).unwrap();
    let words = zhouzhouhui::web::scope::route_words();
    let r = db::requests::create(&app.db, &intake, cadre.id, None, &words, reach, Utc::now())
        .await
        .unwrap();
    (
        TrackingNo::parse(&r.request.tracking_no).unwrap(),
        r.request.id,
    )
}

async fn complete(app: &TestApp, no: &TrackingNo, reach: Reach) {
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
        reach,
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

#[tokio::test]
async fn an_answer_without_email_goes_once_by_signed_sms_and_counts_as_feedback() {
    let app = TestApp::demo().await;
    let gw = Gateway::start().await;
    let (no, id) = log_request(&app, "138 0000 2222", SMS).await;
    complete(&app, &no, SMS).await;
    assert_eq!(owed(&app).await, vec![no.to_string()]);

    let r = worker::drain(&app.db, &gw.channels(), Utc::now())
        .await
        .unwrap();
    assert_eq!(r.sent, 2, "{r:?}"); // receipt and answer
    let calls = gw.calls();
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|(_, signed)| *signed));
    let (done, _) = calls
        .iter()
        .find(|(b, _)| b.template_id == "ZZH_DONE")
        .unwrap();
    assert_eq!(done.phone, "13800002222");
    let row = db::requests::get(&app.db, &no).await.unwrap();
    let link = format!("http://zzh.test/s/{}?code={}", no, row.access_code.as_str());
    assert_eq!(
        done.params,
        vec![no.to_string(), "已更换灯泡，路灯恢复照明".into(), link]
    );
    assert!(calls.iter().any(|(b, _)| b.template_id == "ZZH_RECEIPT"));
    let rows = db::outbox::for_request(&app.db, id).await.unwrap();
    assert!(
        rows.iter()
            .all(|m| m.channel == "sms" && m.status == status::SENT)
    );
    assert_eq!(done.message_id, rows[1].message_id);
    assert!(owed(&app).await.is_empty(), "the SMS counts as feedback");

    let r = worker::drain(&app.db, &gw.channels(), Utc::now() + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(r, Report::default());
    assert_eq!(gw.calls().len(), 2, "sent once");
}

#[tokio::test]
async fn a_gateway_error_is_retried_and_a_refusal_is_not() {
    let app = TestApp::demo().await;
    let gw = Gateway::start().await;
    let ch = gw.channels();
    let (no, id) = log_request(&app, "13800002222", SMS).await;
    gw.answer(500);
    let r = worker::drain(&app.db, &ch, Utc::now()).await.unwrap();
    assert_eq!(r.retried, 1, "{r:?}");
    gw.answer(200);
    let r = worker::drain(&app.db, &ch, Utc::now() + Duration::minutes(2))
        .await
        .unwrap();
    assert_eq!(r.sent, 1, "{r:?}");

    complete(&app, &no, SMS).await;
    gw.answer(400);
    let r = worker::drain(&app.db, &ch, Utc::now() + Duration::minutes(3))
        .await
        .unwrap();
    assert_eq!(r.dead, 1, "{r:?}");
    gw.answer(200);
    let r = worker::drain(&app.db, &ch, Utc::now() + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(r, Report::default(), "dead messages are not retried");
    assert_eq!(gw.calls().len(), 3);
    let calls = gw.calls();
    assert_eq!(
        calls[0].0.message_id, calls[1].0.message_id,
        "same id on retry"
    );
    let rows = db::outbox::for_request(&app.db, id).await.unwrap();
    let dead = rows.iter().find(|m| m.status == status::DEAD).unwrap();
    assert!(
        dead.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("400")
    );
    assert_eq!(
        owed(&app).await,
        vec![no.to_string()],
        "still owed in person"
    );
}

#[tokio::test]
async fn a_gateway_that_is_down_or_throttling_is_retried() {
    let app = TestApp::demo().await;
    let gw = Gateway::start().await;
    log_request(&app, "13800002222", SMS).await;
    gw.answer(429);
    let r = worker::drain(&app.db, &gw.channels(), Utc::now())
        .await
        .unwrap();
    assert_eq!(r.retried, 1, "{r:?}");
    let down = Channels::<SmtpTransport> {
        sms: Some(
            SmsTransport::new(
                &format!("http://{}/sms", crate::helpers::free_addr().await),
                SECRET,
            )
            .unwrap(),
        ),
        ..gw.channels()
    };
    let r = worker::drain(&app.db, &down, Utc::now() + Duration::minutes(2))
        .await
        .unwrap();
    assert_eq!(r.retried, 1, "{r:?}");
}

#[tokio::test]
async fn without_the_sms_channel_nothing_is_written_for_a_phone_only_requester() {
    let app = TestApp::demo().await;
    let (no, id) = log_request(&app, "13800002222", Reach::default()).await;
    complete(&app, &no, Reach::default()).await;
    assert!(
        db::outbox::for_request(&app.db, id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(owed(&app).await, vec![no.to_string()]);
    // A landline cannot take a text message, even with the channel on.
    let (no, id) = log_request(&app, "021-12345678", SMS).await;
    complete(&app, &no, SMS).await;
    assert!(
        db::outbox::for_request(&app.db, id)
            .await
            .unwrap()
            .is_empty()
    );
}
