use crate::helpers::{SmtpServer, TestApp};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use zhouzhouhui::db;
use zhouzhouhui::db::digests::{Written, enqueue_digests};
use zhouzhouhui::db::entities::{outbox, user};
use zhouzhouhui::db::outbox::{Payload, kind};
use zhouzhouhui::domain::calendar::china_offset;
use zhouzhouhui::domain::intake::{Intake, IntakeRaw};
use zhouzhouhui::domain::lifecycle::{Action, Actor, Command};
use zhouzhouhui::domain::request::TrackingNo;
use zhouzhouhui::mail::worker::{self, Channels};
use zhouzhouhui::mail::{LogTransport, SmtpTransport};

/// `h:00` China time on this China date.
fn china(d: NaiveDate, h: u32) -> DateTime<Utc> {
    china_offset()
        .from_local_datetime(&d.and_hms_opt(h, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

async fn set_email(app: &TestApp, username: &str, email: &str) {
    let u = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut am: user::ActiveModel = u.into();
    am.email = Set(Some(email.to_owned()));
    am.update(&app.db).await.unwrap();
}

/// A street-light request logged at `at`, routed to 城建办; its due date.
async fn log_request(app: &TestApp, at: DateTime<Utc>) -> (String, NaiveDate) {
    let cadre = db::users::list(&app.db, None)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "cadre")
        .unwrap();
    let raw = IntakeRaw {
        requester_name: "王大妈".into(),
        phone: "13800002222".into(),
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
        at,
    )
    .await
    .unwrap();
    (r.request.tracking_no, r.request.due_on)
}

/// Digest rows in the outbox of this kind: (recipient, payload).
async fn digests(app: &TestApp, k: &str) -> Vec<(String, Payload)> {
    outbox::Entity::find()
        .filter(outbox::Column::Kind.eq(k))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            (
                m.recipient.unwrap_or_default(),
                serde_json::from_str(&m.payload).unwrap(),
            )
        })
        .collect()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[tokio::test]
async fn a_unit_gets_one_daily_digest_a_day_of_its_items_due_or_overdue() {
    let app = TestApp::demo().await;
    set_email(&app, "handler", "chengjian@example.cn").await;
    let (no, due) = log_request(&app, china(day(2030, 3, 4), 9)).await;
    let morning = china(due + Duration::days(2), 8);

    // Before seven nothing is written.
    let early = china(due + Duration::days(2), 6);
    assert_eq!(
        enqueue_digests(&app.db, early).await.unwrap(),
        Written::default()
    );

    let first = enqueue_digests(&app.db, morning).await.unwrap();
    assert_eq!(first.daily, 1, "{first:?}");
    let again = enqueue_digests(&app.db, morning + Duration::hours(3))
        .await
        .unwrap();
    assert_eq!(again, Written::default(), "once per China day");
    let rows = digests(&app, kind::DAILY_DIGEST).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "chengjian@example.cn");
    let item = rows[0]
        .1
        .items
        .iter()
        .find(|i| i.tracking_no == no)
        .unwrap();
    assert_eq!(item.state, "已超期 2 天");
    assert_eq!(item.name, "王*");

    let next = enqueue_digests(&app.db, morning + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(next.daily, 1, "the next day brings a new digest");
    assert_eq!(digests(&app, kind::DAILY_DIGEST).await.len(), 2);
}

#[tokio::test]
async fn the_digest_mail_links_each_item_for_staff_without_personal_data() {
    let app = TestApp::demo().await;
    set_email(&app, "handler", "chengjian@example.cn").await;
    let (no, due) = log_request(&app, china(day(2030, 3, 4), 9)).await;
    // The morning before the due date: it is due tomorrow.
    let now = china(due - Duration::days(1), 7);
    enqueue_digests(&app.db, now).await.unwrap();
    let smtp = SmtpServer::start().await;
    let ch = Channels {
        email: Some(SmtpTransport::new(&smtp.url(), zhouzhouhui::mail::DEFAULT_FROM).unwrap()),
        sms: None,
        log: LogTransport,
        public_url: "http://zzh.test".into(),
    };
    worker::drain(&app.db, &ch, now).await.unwrap();
    let mail = smtp
        .messages()
        .into_iter()
        .find(|m| m.text().contains("明日到期"))
        .expect("the digest was sent");
    let text = mail.text();
    assert!(
        text.contains(&format!("http://zzh.test/requests/{no}")),
        "{text}"
    );
    assert!(text.contains("明日到期"), "{text}");
    assert!(
        !text.contains("王大妈") && !text.contains("13800002222"),
        "{text}"
    );
    assert!(!text.contains("/s/"), "{text}");
}

#[tokio::test]
async fn nothing_due_means_no_digest() {
    let app = TestApp::demo().await;
    set_email(&app, "handler", "chengjian@example.cn").await;
    set_email(&app, "supervisor", "duban@example.cn").await;
    // Long before anything in the demo town was due.
    let w = enqueue_digests(&app.db, china(day(2001, 1, 8), 8))
        .await
        .unwrap();
    assert_eq!(w, Written::default());
    assert!(digests(&app, kind::DAILY_DIGEST).await.is_empty());
    assert!(digests(&app, kind::WEEKLY_OVERDUE).await.is_empty());
}

#[tokio::test]
async fn supervisors_get_the_overdue_summary_once_a_week() {
    let app = TestApp::demo().await;
    set_email(&app, "supervisor", "duban@example.cn").await;
    let (no, due) = log_request(&app, china(day(2030, 3, 4), 9)).await;
    // A Monday some days after the due date, and later days of that week.
    let mut monday = due + Duration::days(3);
    while chrono::Datelike::weekday(&monday) != chrono::Weekday::Mon {
        monday += Duration::days(1);
    }
    let w = enqueue_digests(&app.db, china(monday, 8)).await.unwrap();
    assert_eq!(w.weekly, 1, "{w:?}");
    for later in 1..7 {
        let w = enqueue_digests(&app.db, china(monday + Duration::days(later), 8))
            .await
            .unwrap();
        assert_eq!(w.weekly, 0, "day {later} of the same ISO week");
    }
    let rows = digests(&app, kind::WEEKLY_OVERDUE).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "duban@example.cn");
    assert!(rows[0].1.items.iter().any(|i| i.tracking_no == no));
    assert!(
        rows[0]
            .1
            .items
            .iter()
            .all(|i| i.state.starts_with("已超期"))
    );
    assert!(
        digests(&app, kind::DAILY_DIGEST).await.is_empty(),
        "no unit staff has an email"
    );

    let w = enqueue_digests(&app.db, china(monday + Duration::days(7), 8))
        .await
        .unwrap();
    assert_eq!(w.weekly, 1, "the next week brings a new summary");
}

#[tokio::test]
async fn two_workers_at_once_write_each_digest_once() {
    let app = TestApp::demo().await;
    set_email(&app, "handler", "chengjian@example.cn").await;
    set_email(&app, "supervisor", "duban@example.cn").await;
    let (_, due) = log_request(&app, china(day(2030, 3, 4), 9)).await;
    let now = china(due + Duration::days(2), 8);
    let (a, b) = tokio::join!(
        {
            let db = app.db.clone();
            tokio::spawn(async move { enqueue_digests(&db, now).await.unwrap() })
        },
        {
            let db = app.db.clone();
            tokio::spawn(async move { enqueue_digests(&db, now).await.unwrap() })
        }
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.daily + b.daily, 1, "{a:?} {b:?}");
    assert_eq!(a.weekly + b.weekly, 1, "{a:?} {b:?}");
    assert_eq!(digests(&app, kind::DAILY_DIGEST).await.len(), 1);
    assert_eq!(digests(&app, kind::WEEKLY_OVERDUE).await.len(), 1);
}

#[tokio::test]
async fn a_township_queue_digest_goes_to_its_dispatchers() {
    let app = TestApp::demo().await;
    set_email(&app, "dispatcher", "paidan@example.cn").await;
    let at = china(day(2030, 3, 4), 9);
    let (no, due) = log_request(&app, at).await;
    let h = db::users::list(&app.db, None)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "handler")
        .unwrap();
    let cmd = Command {
        reason: Some("不属于本单位职责".into()),
        ..Default::default()
    };
    let actor = Actor {
        role: h.role,
        unit_id: h.unit_id,
    };
    let no = TrackingNo::parse(&no).unwrap();
    db::requests::transition(
        &app.db,
        &no,
        Some(h.id),
        actor,
        Action::Return,
        &cmd,
        Default::default(),
        at,
    )
    .await
    .unwrap();
    let w = enqueue_digests(&app.db, china(due, 8)).await.unwrap();
    assert_eq!(w.daily, 1, "{w:?}");
    let rows = digests(&app, kind::DAILY_DIGEST).await;
    assert_eq!(rows[0].0, "paidan@example.cn");
    assert_eq!(rows[0].1.unit, "马桥镇");
    let item = rows[0]
        .1
        .items
        .iter()
        .find(|i| i.tracking_no == no.to_string());
    assert_eq!(item.unwrap().state, "今日到期");
}
