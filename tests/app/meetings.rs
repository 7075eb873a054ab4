use crate::helpers::TestApp;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::json;
use zhouzhouhui::db;
use zhouzhouhui::db::meetings::{CloseInput, MeetingInput};
use zhouzhouhui::domain::calendar::china_offset;
use zhouzhouhui::domain::intake::{Intake, IntakeRaw};
use zhouzhouhui::domain::lifecycle::{Action, Actor, Command};
use zhouzhouhui::domain::request::{Status, TrackingNo};

/// `hour` o'clock China time on `day`.
fn at(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    china_offset()
        .from_local_datetime(&day.and_hms_opt(hour, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

struct Town {
    app: TestApp,
    village: i32,
    cadre: i32,
}

impl Town {
    async fn new() -> Town {
        let app = TestApp::demo().await;
        let village = app.unit_id("金星村").await;
        let cadre = db::users::list(&app.db, None)
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.username == "cadre")
            .unwrap()
            .id;
        Town {
            app,
            village,
            cadre,
        }
    }

    async fn meeting(&self, day: NaiveDate) -> db::meetings::Meeting {
        let input = MeetingInput {
            village_id: Some(self.village),
            held_on: Some(day.to_string()),
            ..Default::default()
        };
        db::meetings::create(&self.app.db, &input, |_| None, self.cadre, at(day, 9))
            .await
            .unwrap()
    }

    async fn log(&self, category: &str, meeting: Option<i32>, when: DateTime<Utc>) -> TrackingNo {
        let raw = IntakeRaw {
            requester_name: "王大妈".into(),
            phone: "13800002222".into(),
            village_id: Some(self.village),
            category_id: Some(self.app.category_id(category).await),
            content: format!("{category}的问题"),
            meeting_id: meeting,
            ..Default::default()
        };
        let intake = Intake::parse(&raw, |_| None, |_| true).unwrap();
        let words = zhouzhouhui::web::scope::route_words();
        let r = db::requests::create(
            &self.app.db,
            &intake,
            self.cadre,
            None,
            &words,
            Default::default(),
            when,
        )
        .await
        .unwrap();
        TrackingNo::parse(&r.request.tracking_no).unwrap()
    }

    async fn act(
        &self,
        no: &TrackingNo,
        username: &str,
        action: Action,
        cmd: Command,
        when: DateTime<Utc>,
    ) {
        let users = db::users::list(&self.app.db, None).await.unwrap();
        let u = users.iter().find(|u| u.username == username).unwrap();
        let actor = Actor {
            role: u.role,
            unit_id: u.unit_id,
        };
        db::requests::transition(
            &self.app.db,
            no,
            Some(u.id),
            actor,
            action,
            &cmd,
            Default::default(),
            when,
        )
        .await
        .unwrap();
    }

    async fn close(&self, m: &db::meetings::Meeting, limit: u32) -> db::meetings::Closed {
        db::meetings::close_and_flag(
            &self.app.db,
            m.id,
            &CloseInput::default(),
            self.cadre,
            at(m.held_on, 20),
            limit,
        )
        .await
        .unwrap()
    }
}

fn nos(items: &[db::meetings::AgendaItem]) -> Vec<(String, u32)> {
    items
        .iter()
        .map(|i| (i.request.tracking_no.clone(), i.carried))
        .collect()
}

#[tokio::test]
async fn three_weeks_of_meetings_carry_open_items_and_publish_tallies_that_add_up() {
    let t = Town::new().await;
    let w0 = zhouzhouhui::web::scope::today() - Duration::days(21);
    let m1 = t.meeting(w0).await;
    let r1 = t.log("路灯", Some(m1.id), at(w0, 10)).await;
    let r2 = t.log("道路破损", Some(m1.id), at(w0, 10)).await;
    let r3 = t.log("邻里纠纷", Some(m1.id), at(w0, 11)).await;
    let a1 = db::meetings::agenda(&t.app.db, &m1).await.unwrap();
    assert_eq!(a1.new.len(), 3);
    assert!(a1.carried_over.is_empty());
    let c1 = t.close(&m1, 3).await;
    assert_eq!((c1.tally.received, c1.tally.in_progress), (3, 3));
    assert!(c1.tally.adds_up());

    // Between meetings: r1 is fixed, r3 deferred until after the next meeting.
    t.act(
        &r1,
        "handler",
        Action::Complete,
        Command {
            result: Some("已修好".into()),
            ..Default::default()
        },
        at(w0 + Duration::days(2), 15),
    )
    .await;
    let review = w0 + Duration::days(10);
    t.act(
        &r3,
        "cunwei",
        Action::Defer,
        Command {
            reason: Some("coordination".into()),
            explanation: Some("需镇司法所协调".into()),
            review_on: Some(review),
            ..Default::default()
        },
        at(w0 + Duration::days(3), 15),
    )
    .await;

    let m2 = t.meeting(w0 + Duration::days(7)).await;
    let a2 = db::meetings::agenda(&t.app.db, &m2).await.unwrap();
    assert_eq!(nos(&a2.carried_over), vec![(r2.to_string(), 1)]);
    assert!(a2.due_for_review.is_empty(), "review date not yet come");
    let owed: Vec<String> = a2
        .report_back
        .iter()
        .map(|i| i.request.tracking_no.clone())
        .collect();
    assert_eq!(owed, vec![r1.to_string(), r3.to_string()]);
    // r1 is reported back in person at meeting 2; r4 is heard there.
    let r1_id = db::requests::get(&t.app.db, &r1).await.unwrap().id;
    db::meetings::report_back(
        &t.app.db,
        r1_id,
        Some(m2.id),
        Some("当面告知"),
        t.cadre,
        at(m2.held_on, 10),
    )
    .await
    .unwrap();
    let again = db::meetings::report_back(
        &t.app.db,
        r1_id,
        Some(m2.id),
        None,
        t.cadre,
        at(m2.held_on, 10),
    )
    .await;
    assert!(
        matches!(again, Err(db::Error::Invalid(_))),
        "nothing owed twice"
    );
    let r2_id = db::requests::get(&t.app.db, &r2).await.unwrap().id;
    let decision = db::meetings::DecisionInput {
        tracking_no: r2.to_string(),
        decision: "城建办两周内修复".into(),
        next_check_on: Some((w0 + Duration::days(14)).to_string()),
        ..Default::default()
    };
    db::meetings::decide(
        &t.app.db,
        m2.id,
        r2_id,
        &decision,
        t.cadre,
        at(m2.held_on, 10),
    )
    .await
    .unwrap();
    let r4 = t.log("路灯", Some(m2.id), at(m2.held_on, 10)).await;
    let c2 = t.close(&m2, 3).await;
    assert_eq!(
        (
            c2.tally.received,
            c2.tally.done,
            c2.tally.in_progress,
            c2.tally.deferred
        ),
        (4, 1, 2, 1)
    );
    assert_eq!(
        (c2.period.received, c2.period.in_progress),
        (1, 1),
        "only r4 is new this period"
    );

    let m3 = t.meeting(w0 + Duration::days(14)).await;
    let a3 = db::meetings::agenda(&t.app.db, &m3).await.unwrap();
    assert_eq!(
        nos(&a3.carried_over),
        vec![(r2.to_string(), 2), (r4.to_string(), 1)]
    );
    let carried_r2 = &a3.carried_over[0];
    assert!(
        carried_r2.decision.is_none(),
        "nothing decided at this meeting yet"
    );
    assert_eq!(
        carried_r2.previous_decision.as_ref().unwrap().decision,
        "城建办两周内修复"
    );
    assert_eq!(nos(&a3.due_for_review), vec![(r3.to_string(), 0)]);
    let owed: Vec<String> = a3
        .report_back
        .iter()
        .map(|i| i.request.tracking_no.clone())
        .collect();
    assert_eq!(owed, vec![r3.to_string()]);
    // The grouped-query version agrees with the agenda's event walk.
    let r3_id = db::requests::get(&t.app.db, &r3).await.unwrap().id;
    assert_eq!(
        db::meetings::owed_ids(&t.app.db, &[t.village])
            .await
            .unwrap(),
        vec![r3_id]
    );
    // With a carry limit of 1, closing flags r2 (carried twice) but not r4.
    let c3 = t.close(&m3, 1).await;
    assert_eq!(c3.flagged, vec![r2.to_string()]);
    let r2_now = db::requests::get(&t.app.db, &r2).await.unwrap();
    assert!(r2_now.supervised);
    let events = db::requests::events(&t.app.db, r2_now.id).await.unwrap();
    assert_eq!(events.last().unwrap().actor_kind, "system");

    // Later moves never change a published tally, and every tally re-derives.
    t.act(
        &r2,
        "handler",
        Action::Complete,
        Command {
            result: Some("已修复路面".into()),
            ..Default::default()
        },
        at(w0 + Duration::days(16), 9),
    )
    .await;
    for m in [&m1, &m2, &m3] {
        let check = db::meetings::check(&t.app.db, m.id).await.unwrap();
        assert!(check.matches, "meeting {}: {check:?}", m.id);
    }
    let (stored1, _) = db::meetings::stored_tallies(&t.app.db, m1.id)
        .await
        .unwrap();
    assert_eq!(stored1, c1.tally);
    // A closed meeting is frozen.
    let r = db::meetings::close(
        &t.app.db,
        m1.id,
        &CloseInput::default(),
        t.cadre,
        Utc::now(),
    )
    .await;
    assert!(matches!(r, Err(db::Error::Invalid(_))));
}

#[tokio::test]
async fn a_replay_of_hundreds_of_requests_over_many_weeks_matches_every_published_number() {
    let t = Town::new().await;
    let start = zhouzhouhui::web::scope::today() - Duration::days(7 * 12);
    let cats = ["路灯", "道路破损", "垃圾清运", "邻里纠纷", "河道保洁"];
    let mut open: Vec<TrackingNo> = Vec::new();
    let mut meetings = Vec::new();
    let mut n = 0u64;
    for week in 0..12i64 {
        let day = start + Duration::days(7 * week);
        let m = t.meeting(day).await;
        for i in 0..25 {
            let cat = cats[(i + week as usize) % cats.len()];
            open.push(t.log(cat, Some(m.id), at(day, 10)).await);
            n += 1;
        }
        meetings.push(t.close(&m, 100).await);
        // Work on the open items during the week after.
        let mid = at(day + Duration::days(2), 14);
        let mut still = Vec::new();
        for (k, no) in open.drain(..).enumerate() {
            let r = db::requests::get(&t.app.db, &no).await.unwrap();
            let who = if r.handler_unit_id == Some(t.village) {
                "cunwei"
            } else if r.handler_unit_id == Some(t.app.unit_id("城建办").await) {
                "handler"
            } else {
                "dispatcher"
            };
            match k % 5 {
                0 | 1 => {
                    t.act(
                        &no,
                        who,
                        Action::Complete,
                        Command {
                            result: Some("已办结".into()),
                            on_the_spot: k % 10 == 0,
                            ..Default::default()
                        },
                        mid,
                    )
                    .await
                }
                2 if k % 3 == 0 => {
                    t.act(
                        &no,
                        who,
                        Action::Defer,
                        Command {
                            reason: Some("funding".into()),
                            explanation: Some("待资金".into()),
                            review_on: Some(day + Duration::days(30)),
                            ..Default::default()
                        },
                        mid,
                    )
                    .await
                }
                _ => still.push(no),
            }
        }
        open = still;
    }
    let last = meetings.last().unwrap();
    assert_eq!(last.tally.received, n);
    assert_eq!(
        meetings.iter().map(|c| c.period.received).sum::<u64>(),
        n,
        "periods partition the whole"
    );
    for c in &meetings {
        assert!(c.tally.adds_up() && c.period.adds_up());
    }
    for id in db::meetings::closed_ids(&t.app.db).await.unwrap() {
        assert!(
            db::meetings::check(&t.app.db, id).await.unwrap().matches,
            "meeting {id}"
        );
    }
    // A final meeting today publishes exactly the live state.
    let (all, _) = db::requests::list(
        &t.app.db,
        &db::requests::Filter {
            village_id: Some(t.village),
            ..Default::default()
        },
        1,
        10_000,
    )
    .await
    .unwrap();
    let live = zhouzhouhui::domain::tally::Tally::of(all.iter().map(|r| (r.status, r.on_the_spot)));
    let today = zhouzhouhui::web::scope::today();
    let fin = t.meeting(today).await;
    let closed = db::meetings::close_and_flag(
        &t.app.db,
        fin.id,
        &CloseInput::default(),
        t.cadre,
        Utc::now(),
        100,
    )
    .await
    .unwrap();
    assert_eq!(closed.tally, live);
    assert!(all.iter().any(|r| r.status == Status::Deferred) && all.iter().any(|r| r.on_the_spot));
}

#[tokio::test]
async fn meetings_through_the_api_and_the_public_board() {
    let app = TestApp::demo().await;
    let cadre = app.token("cadre").await;
    let village = app.unit_id("金星村").await;
    let today = zhouzhouhui::web::scope::today().to_string();
    let m = app
        .api("POST", "/api/v1/meetings", Some(&cadre), Some(json!({"village_id": village, "held_on": today, "place": "村委会议室", "host": "李书记"})))
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.body);
    let id = m.json()["id"].as_i64().unwrap();
    let dup = app
        .api(
            "POST",
            "/api/v1/meetings",
            Some(&cadre),
            Some(json!({"village_id": village, "held_on": today})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    let other = app.unit_id("马桥村").await;
    let r = app
        .api(
            "POST",
            "/api/v1/meetings",
            Some(&cadre),
            Some(json!({"village_id": other, "held_on": today})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let handler = app.token("handler").await;
    let r = app
        .api(
            "POST",
            "/api/v1/meetings",
            Some(&handler),
            Some(json!({"village_id": village, "held_on": "2026-01-05"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Requests heard at the meeting link to it; another village's meeting is refused.
    let lamp = app.category_id("路灯").await;
    let body = |meeting: i64, consent: bool| json!({"requester_name": "赵六", "phone": "13700001234", "village_id": village, "category_id": lamp, "content": "路灯不亮请修理", "source": "meeting", "meeting_id": meeting, "consent_publish": consent});
    for consent in [true, false] {
        let r = app
            .api(
                "POST",
                "/api/v1/requests",
                Some(&cadre),
                Some(body(id, consent)),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = app
        .api(
            "POST",
            "/api/v1/requests",
            Some(&cadre),
            Some(body(99999, true)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["details"][0]["field"], "meeting_id");

    let agenda = app
        .api(
            "GET",
            &format!("/api/v1/meetings/{id}/agenda"),
            Some(&cadre),
            None,
        )
        .await;
    assert_eq!(agenda.status, StatusCode::OK);
    let a = agenda.json();
    assert_eq!(a["new"].as_array().unwrap().len(), 2);
    assert_eq!(a["tally"]["received"], 2);
    assert_eq!(a["new"][0]["requester_name"], "赵*");
    let no = a["new"][0]["tracking_no"].as_str().unwrap().to_owned();
    let d = app
        .api("POST", &format!("/api/v1/meetings/{id}/decisions"), Some(&cadre), Some(json!({"tracking_no": no, "decision": "城建办本周内更换", "next_check_on": "2099-01-01"})))
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    assert_eq!(
        d.json()["new"][0]["decision"]["decision"],
        "城建办本周内更换"
    );

    let closed = app
        .api(
            "POST",
            &format!("/api/v1/meetings/{id}/close"),
            Some(&cadre),
            Some(
                json!({"minutes": "两条路灯诉求", "attendees": "李书记、王主任", "headcount": 23}),
            ),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    let t = &closed.json()["tally"];
    assert_eq!(
        (
            t["received"].as_u64(),
            t["in_progress"].as_u64(),
            t["done"].as_u64(),
            t["deferred"].as_u64()
        ),
        (Some(2), Some(2), Some(0), Some(0))
    );
    let again = app
        .api(
            "POST",
            &format!("/api/v1/meetings/{id}/close"),
            Some(&cadre),
            Some(json!({})),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    let check = app
        .api(
            "GET",
            &format!("/api/v1/meetings/{id}/tally-check"),
            Some(&cadre),
            None,
        )
        .await;
    assert_eq!(check.json()["matches"], true);

    // The board: published tally, masked items, summaries only with consent.
    let board = app
        .api(
            "GET",
            &format!("/api/v1/public/boards/{village}"),
            None,
            None,
        )
        .await;
    assert_eq!(board.status, StatusCode::OK);
    let b = board.json();
    assert_eq!(b["tally"]["received"], 2);
    assert!(!board.body.contains("13700001234") && !board.body.contains("赵六"));
    let items = b["items"].as_array().unwrap();
    assert_eq!(items.iter().filter(|i| i["summary"].is_string()).count(), 1);
    let town = app.unit_id("马桥镇").await;
    let tb = app
        .api("GET", &format!("/api/v1/public/boards/{town}"), None, None)
        .await
        .json();
    assert_eq!(
        tb["tally"]["received"], 2,
        "the township rolls up its villages' published tallies"
    );
    let office = app.unit_id("城建办").await;
    assert_eq!(
        app.api(
            "GET",
            &format!("/api/v1/public/boards/{office}"),
            None,
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_cadre_runs_a_meeting_through_the_pages_and_the_board_shows_no_personal_data() {
    let app = TestApp::demo().await;
    let village = app.unit_id("金星村").await.to_string();
    app.login("cadre").await;
    let today = zhouzhouhui::web::scope::today().to_string();
    let r = app
        .submit(
            "/meetings",
            "/meetings",
            &[
                ("village_id", &village),
                ("held_on", &today),
                ("place", "村委会议室"),
                ("host", "李书记"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page_url = r.location();
    let r = app
        .submit(
            "/meetings",
            "/meetings/series",
            &[
                ("village_id", &village),
                ("cadence", "fortnightly"),
                ("weekday", "5"),
                ("place", "村委会议室"),
                ("host", "李书记"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        app.get("/meetings")
            .await
            .body
            .contains("金星村：隔周 星期五 · 村委会议室")
    );
    let r = app
        .submit(
            "/meetings",
            "/meetings/series",
            &[
                ("village_id", &village),
                ("cadence", "daily"),
                ("weekday", "9"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let dup = app
        .submit(
            "/meetings",
            "/meetings",
            &[("village_id", &village), ("held_on", &today)],
        )
        .await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(dup.body.contains("这个村当天已经有一次周周会"));
    let id: i32 = page_url.rsplit('/').next().unwrap().parse().unwrap();

    // A request heard at the meeting, completed at once by the handler.
    let cadre = app.token("cadre").await;
    let lamp = app.category_id("路灯").await;
    let logged = app
        .api("POST", "/api/v1/requests", Some(&cadre), Some(json!({"requester_name": "钱七", "phone": "13600001111", "village_id": village.parse::<i32>().unwrap(), "category_id": lamp, "content": "路灯闪烁", "meeting_id": id, "consent_publish": true})))
        .await
        .json();
    let no = logged["tracking_no"].as_str().unwrap().to_owned();
    let handler = app.token("handler").await;
    app.api(
        "POST",
        &format!("/api/v1/requests/{no}/actions"),
        Some(&handler),
        Some(json!({"action": "complete", "result": "已更换灯具"})),
    )
    .await;

    let agenda = app.get(&page_url).await;
    assert_eq!(agenda.status, StatusCode::OK);
    for shown in [
        "本次收到的诉求（1）",
        "需当面反馈（1）",
        "钱*",
        "通过周周会收到诉求 1 条，已办结 1 条",
    ] {
        assert!(agenda.body.contains(shown), "{shown}");
    }
    assert!(!agenda.body.contains("钱七") && !agenda.body.contains("13600001111"));
    let r = app
        .submit(
            &page_url,
            &format!("/meetings/{id}/decisions"),
            &[
                ("tracking_no", &no),
                ("decision", "已办结，当面告知"),
                ("next_check_on", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .submit(
            &page_url,
            &format!("/meetings/{id}/decisions"),
            &[("tracking_no", &no), ("decision", " ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .submit(
            &page_url,
            &format!("/meetings/{id}/report-back"),
            &[("tracking_no", &no), ("note", "会上当面告知")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.get(&page_url).await.body.contains("需当面反馈（0）"));
    assert!(
        app.get("/report-back")
            .await
            .body
            .contains("没有需要当面反馈的诉求")
    );
    let r = app
        .submit(
            &page_url,
            &format!("/meetings/{id}/close"),
            &[
                ("minutes", "一条诉求已办结"),
                ("attendees", "李书记"),
                ("headcount", "12"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let closed = app.get(&page_url).await;
    assert!(closed.body.contains("已结束并公布") && closed.body.contains("一条诉求已办结"));
    assert!(
        !closed
            .body
            .contains(&format!("action=\"/meetings/{id}/close\""))
    );
    assert_eq!(
        app.get(&format!("/meetings/{id}/print")).await.status,
        StatusCode::OK
    );

    // The public board, without login.
    app.clear_cookies();
    let board = app.get(&format!("/board/{village}")).await;
    assert_eq!(board.status, StatusCode::OK);
    assert!(
        board
            .body
            .contains("通过周周会收到诉求 1 条，已办结 1 条，正在办理 0 条，暂时不能办的有 0 条。")
    );
    assert!(board.body.contains("钱*") && board.body.contains("路灯闪烁"));
    assert!(!board.body.contains("钱七") && !board.body.contains("13600001111"));
    assert!(board.body.contains("data:image/svg+xml;base64,"));
    assert!(board.body.contains("（盖章）"));
    // Handlers do not run meetings.
    app.login("handler").await;
    assert_eq!(app.get("/meetings").await.status, StatusCode::FORBIDDEN);
}
