//! Staff request pages: intake, receipt, batch entry, queue, detail actions,
//! search and the overdue list, driven through the HTML forms.

use crate::helpers::{Resp, TestApp};
use axum::http::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use zhouzhouhui::db;
use zhouzhouhui::db::entities::request;
use zhouzhouhui::db::requests::{Filter, Request};
use zhouzhouhui::domain::request::{Status, TrackingNo};

/// The value of the hidden (or any) input `name` on a page.
fn input_value(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body
        .find(&marker)
        .map(|i| i + marker.len())
        .unwrap_or_else(|| panic!("no input {name}"));
    body[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Every action a detail page offers.
fn offered_actions(body: &str) -> Vec<String> {
    body.split("name=\"action\" value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

async fn count(app: &TestApp) -> u64 {
    db::requests::count(&app.db, &Filter::default())
        .await
        .unwrap()
}

async fn load(app: &TestApp, no: &str) -> Request {
    db::requests::get(&app.db, &TrackingNo::parse(no).unwrap())
        .await
        .unwrap()
}

/// The intake form's fields for a request from 金星村.
async fn intake_fields(app: &TestApp, category: &str, content: &str) -> Vec<(String, String)> {
    let village = app.unit_id("金星村").await.to_string();
    let cat = app.category_id(category).await.to_string();
    [
        ("village_id", village.as_str()),
        ("category_id", cat.as_str()),
        ("type", "help"),
        ("urgency", "normal"),
        ("requester_name", "张三丰"),
        ("phone", "138 1234 5678"),
        ("email", ""),
        ("address", "3组12号"),
        ("content", content),
        ("source", "meeting"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Opens the intake form and posts it with `fields` (csrf and key from the page).
async fn post_intake(app: &TestApp, fields: &[(String, String)]) -> Resp {
    let form = app.get("/requests/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let key = input_value(&form.body, "idempotency_key");
    let csrf = form.csrf();
    let mut all: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    all.push(("idempotency_key", &key));
    all.push(("csrf", &csrf));
    app.post_form("/requests/new", &all).await
}

/// Logs a request as the logged-in cadre; returns its tracking number.
async fn log_request(app: &TestApp, category: &str, content: &str) -> String {
    let fields = intake_fields(app, category, content).await;
    let r = post_intake(app, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    r.location()
        .trim_start_matches("/requests/")
        .trim_end_matches("/receipt")
        .to_owned()
}

/// Posts an action from the detail page.
async fn act(app: &TestApp, no: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
    let mut all = vec![("action", action)];
    all.extend_from_slice(fields);
    app.submit(
        &format!("/requests/{no}"),
        &format!("/requests/{no}/actions"),
        &all,
    )
    .await
}

#[tokio::test]
async fn a_cadre_logs_a_request_and_lands_on_the_receipt() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let form = app.get("/requests/new").await;
    assert!(form.body.contains("登记诉求"));
    assert!(form.body.contains("type=\"tel\" inputmode=\"tel\""));
    let village = app.unit_id("金星村").await;
    assert!(
        form.body
            .contains(&format!("<option value=\"{village}\" selected>金星村")),
        "the cadre's only village is preselected"
    );

    let no = log_request(&app, "路灯", "村口路灯坏了三盏，晚上很黑").await;
    let year = chrono::Datelike::year(&zhouzhouhui::web::scope::today());
    assert_eq!(no, format!("ZZH-{year}-000001"));

    let receipt = app.get(&format!("/requests/{no}/receipt")).await;
    assert_eq!(receipt.status, StatusCode::OK);
    let req = load(&app, &no).await;
    assert!(receipt.body.contains(&no));
    assert!(receipt.body.contains(&req.access_code.grouped()));
    assert!(receipt.body.contains("src=\"data:image/svg+xml;base64,"));
    assert!(receipt.body.contains("张*"), "masked name");
    assert!(!receipt.body.contains("张三丰"), "never the raw name");
    assert!(!receipt.body.contains("13812345678"));
    assert!(receipt.body.contains("道路交通 › 路灯"));
    assert!(receipt.body.contains("12345"), "supervision phone");
    assert!(receipt.body.contains("/static/receipt-a4.css"));
    assert!(!receipt.body.contains("style="), "no inline styles (CSP)");

    let slip = app.get(&format!("/requests/{no}/receipt?paper=80mm")).await;
    assert!(slip.body.contains("/static/receipt-80mm.css"));
    let css = app.get("/static/receipt-80mm.css").await;
    assert!(css.body.contains("@page"));
}

#[tokio::test]
async fn submitting_the_same_intake_form_twice_logs_one_request() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let form = app.get("/requests/new").await;
    let key = input_value(&form.body, "idempotency_key");
    let csrf = form.csrf();
    let fields = intake_fields(&app, "路灯", "路灯不亮").await;
    let mut all: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    all.push(("idempotency_key", &key));
    all.push(("csrf", &csrf));
    let first = app.post_form("/requests/new", &all).await;
    let second = app.post_form("/requests/new", &all).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    assert_eq!(first.location(), second.location());
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn bad_intake_input_re_renders_in_chinese_and_logs_nothing() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let mut fields = intake_fields(&app, "路灯", "").await;
    for (k, v) in fields.iter_mut() {
        if k == "phone" {
            *v = "12345".into();
        }
    }
    let r = post_intake(&app, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("请填写正确的手机号"));
    assert!(r.body.contains("此项必填"));
    assert!(r.body.contains("请按下方提示修改"));
    assert!(r.body.contains("value=\"张三丰\""), "typed values are kept");
    assert_eq!(count(&app).await, 0);
}

#[tokio::test]
async fn only_cadres_and_dispatchers_may_log_requests() {
    let app = TestApp::demo().await;
    for user in ["handler", "supervisor", "admin"] {
        app.login(user).await;
        assert_eq!(
            app.get("/requests/new").await.status,
            StatusCode::FORBIDDEN,
            "{user}"
        );
        assert_eq!(
            app.get("/requests/batch").await.status,
            StatusCode::FORBIDDEN,
            "{user}"
        );
    }
    app.login("dispatcher").await;
    assert_eq!(app.get("/requests/new").await.status, StatusCode::OK);
}

/// A batch sheet of rows `(name, phone, category, content)`.
async fn post_batch(app: &TestApp, rows: &[(&str, &str, &str, &str)]) -> Resp {
    let page = app.get("/requests/batch?rows=5").await;
    assert_eq!(page.status, StatusCode::OK);
    let mut fields: Vec<(String, String)> = vec![
        ("csrf".into(), page.csrf()),
        ("batch_key".into(), input_value(&page.body, "batch_key")),
        ("rows".into(), "5".into()),
        ("village_id".into(), app.unit_id("金星村").await.to_string()),
        ("source".into(), "meeting".into()),
    ];
    for (i, (name, phone, cat, content)) in rows.iter().enumerate() {
        let cat = app.category_id(cat).await.to_string();
        for (k, v) in [
            ("name", *name),
            ("phone", *phone),
            ("category", cat.as_str()),
            ("type", "help"),
            ("address", "5组"),
            ("content", *content),
        ] {
            fields.push((format!("{k}_{i}"), v.to_owned()));
        }
    }
    // The untouched rows still carry the default type.
    for i in rows.len()..5 {
        fields.push((format!("type_{i}"), "help".into()));
    }
    let all: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.post_form("/requests/batch", &all).await
}

#[tokio::test]
async fn a_batch_with_one_bad_row_saves_nothing_and_names_the_row() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let r = post_batch(
        &app,
        &[
            ("李四", "13900001111", "路灯", "路灯坏了"),
            ("王五", "139", "垃圾清运", "垃圾没人收"),
            ("赵六", "13900003333", "邻里纠纷", "邻居占道堆物"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("第 2 行：联系电话 — 请填写正确的手机号"),
        "{}",
        r.body
    );
    assert!(r.body.contains("本表未保存"));
    assert!(r.body.contains("value=\"赵六\""), "typed rows are kept");
    assert_eq!(count(&app).await, 0);
}

#[tokio::test]
async fn a_good_batch_saves_every_row_once() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let rows = [
        ("李四", "13900001111", "路灯", "路灯坏了"),
        ("王五", "13900002222", "垃圾清运", "垃圾没人收"),
        ("赵六", "13900003333", "邻里纠纷", "邻居占道堆物"),
    ];
    let r = post_batch(&app, &rows).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location().starts_with("/requests/batch/done?nos="));
    assert_eq!(count(&app).await, 3);
    let done = app.get(&r.location()).await;
    assert_eq!(done.status, StatusCode::OK);
    let (items, _) = db::requests::list(&app.db, &Filter::default(), 1, 10)
        .await
        .unwrap();
    for req in &items {
        assert!(
            done.body
                .contains(&format!("/requests/{}/receipt", req.tracking_no))
        );
    }
    assert!(done.body.contains("李*"));
    assert!(!done.body.contains("李四"));

    // The handler at 城建办 only sees what it may see.
    app.login("handler").await;
    let theirs = app.get(&r.location()).await;
    let visible = theirs.body.matches("/receipt\"").count();
    assert_eq!(
        visible, 2,
        "路灯 and 垃圾清运 go to 城建办, the dispute stays in the village"
    );
}

#[tokio::test]
async fn the_handler_accepts_and_completes_a_request_from_the_queue() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let no = log_request(&app, "路灯", "村口路灯坏了三盏").await;

    app.login("handler").await;
    let queue = app.get("/queue").await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(queue.body.contains("待签收"));
    assert!(queue.body.contains(&no), "in the 待签收 tab");
    assert!(queue.body.contains("张*"));
    assert!(!queue.body.contains("张三丰"));

    let detail = app.get(&format!("/requests/{no}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(
        detail.body.contains("张三丰"),
        "raw name on the staff detail"
    );
    assert!(detail.body.contains("13812345678"));
    assert!(detail.body.contains("由规则"));
    let actions = offered_actions(&detail.body);
    assert!(actions.contains(&"accept".to_owned()));
    assert!(!actions.contains(&"dispatch".to_owned()));

    let r = act(&app, &no, "accept", &[("note", "")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), format!("/requests/{no}"));
    assert_eq!(load(&app, &no).await.status, Status::InProgress);
    assert!(app.get("/queue?tab=working").await.body.contains(&no));

    // Signing twice is not a legal move.
    let again = act(&app, &no, "accept", &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    let r = act(
        &app,
        &no,
        "complete",
        &[("result", "已更换三盏灯泡"), ("note", "内部：库存灯泡")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let detail = app.get(&format!("/requests/{no}")).await;
    assert!(detail.body.contains("已办结"));
    assert!(detail.body.contains("已更换三盏灯泡"));
    assert!(detail.body.contains("内部：库存灯泡"));
    for label in ["登记受理", "签收", "办结"] {
        assert!(detail.body.contains(label), "{label} in the timeline");
    }
    assert!(detail.body.contains("已受理 → 正在办理"));
    assert_eq!(
        offered_actions(&detail.body),
        vec!["progress".to_owned()],
        "only the dispatcher reopens"
    );
}

#[tokio::test]
async fn a_handler_cannot_see_a_request_routed_elsewhere() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let no = log_request(&app, "邻里纠纷", "邻居占道堆物").await;
    app.login("handler").await;
    assert_eq!(
        app.get(&format!("/requests/{no}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/requests/{no}/receipt")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!app.get("/queue").await.body.contains(&no));
    assert!(!app.get("/requests?q=占道").await.body.contains(&no));
    assert_eq!(
        app.get("/requests/ZZH-2026-999999").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn deferring_without_a_review_date_is_rejected_and_changes_nothing() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let no = log_request(&app, "路灯", "主干道路灯全部不亮").await;
    app.login("handler").await;
    let r = act(
        &app,
        &no,
        "defer",
        &[
            ("reason", "funding"),
            ("explanation", "改造资金明年到位"),
            ("review_on", ""),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("此项必填"));
    assert!(r.body.contains("改造资金明年到位"), "typed text is kept");
    assert!(
        r.body.contains("id=\"action-defer\" open") || r.body.contains("open id=\"action-defer\"")
    );
    assert_eq!(load(&app, &no).await.status, Status::Received);

    let bad_date = act(
        &app,
        &no,
        "defer",
        &[
            ("reason", "funding"),
            ("explanation", "改造资金明年到位"),
            ("review_on", "明年"),
        ],
    )
    .await;
    assert_eq!(bad_date.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_date.body.contains("日期格式应为"));

    let unknown = act(&app, &no, "teleport", &[]).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains("未知的操作"));

    let review_on = (zhouzhouhui::web::scope::today() + chrono::Days::new(30))
        .format("%Y-%m-%d")
        .to_string();
    let ok = act(
        &app,
        &no,
        "defer",
        &[
            ("reason", "funding"),
            ("explanation", "改造资金明年到位"),
            ("review_on", &review_on),
        ],
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let detail = app.get(&format!("/requests/{no}")).await;
    assert!(detail.body.contains("暂不能办"));
    assert!(detail.body.contains("资金未落实"));
    assert!(detail.body.contains(&review_on));
}

#[tokio::test]
async fn the_cadre_may_only_record_progress() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let no = log_request(&app, "邻里纠纷", "邻居占道堆物").await;
    let detail = app.get(&format!("/requests/{no}")).await;
    assert_eq!(offered_actions(&detail.body), vec!["progress".to_owned()]);
    assert!(detail.body.contains("记录进展"));

    let empty = act(&app, &no, "progress", &[("public_note", " ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("请填写进展说明"));

    let r = act(
        &app,
        &no,
        "progress",
        &[("public_note", "已约双方周五面谈")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        app.get(&format!("/requests/{no}"))
            .await
            .body
            .contains("已约双方周五面谈")
    );
    // A move the cadre may not make is refused outright.
    let refused = act(&app, &no, "complete", &[("result", "好了")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // The village committee's handler settles it on the spot.
    app.login("cunwei").await;
    let r = act(
        &app,
        &no,
        "complete",
        &[("result", "双方当场达成一致"), ("on_the_spot", "1")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let detail = app.get(&format!("/requests/{no}")).await;
    assert!(detail.body.contains("当场解决"));
    assert!(detail.body.contains("办结方式：当场解决"), "timeline");
    assert!(load(&app, &no).await.on_the_spot);
}

#[tokio::test]
async fn a_returned_request_waits_for_the_dispatcher_who_dispatches_it_again() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let no = log_request(&app, "路灯", "路灯杆倾斜").await;
    app.login("handler").await;
    let missing = act(&app, &no, "return", &[("reason", "")]).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = act(&app, &no, "return", &[("reason", "不属于本单位职责")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    app.login("dispatcher").await;
    let queue = app.get("/queue?tab=dispatch").await;
    assert!(queue.body.contains(&no), "{}", queue.body);
    let detail = app.get(&format!("/requests/{no}")).await;
    assert!(offered_actions(&detail.body).contains(&"dispatch".to_owned()));
    assert!(detail.body.contains("不属于本单位职责"));
    let water = app.unit_id("水务站").await.to_string();
    let r = act(&app, &no, "dispatch", &[("unit_id", &water), ("note", "")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let req = load(&app, &no).await;
    assert_eq!(req.handler_unit_id, Some(app.unit_id("水务站").await));
    assert!(!req.accepted);
}

#[tokio::test]
async fn search_filters_by_status_and_text() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let lamp = log_request(&app, "路灯", "村口路灯坏了三盏").await;
    let bins = log_request(&app, "垃圾清运", "垃圾桶满了没人收").await;

    let r = app
        .get("/requests?status=received&q=%E8%B7%AF%E7%81%AF")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(&lamp));
    assert!(!r.body.contains(&bins));
    assert!(r.body.contains("共 1 条"));

    let none = app.get("/requests?status=done&q=%E8%B7%AF%E7%81%AF").await;
    assert!(!none.body.contains(&lamp));

    let road = app.category_id("道路交通").await;
    let by_top = app.get(&format!("/requests?category_id={road}")).await;
    assert!(
        by_top.body.contains(&lamp),
        "a top category includes its children"
    );
    assert!(!by_top.body.contains(&bins));

    let all = app.get("/requests").await;
    assert!(all.body.contains(&lamp) && all.body.contains(&bins));

    let bad = app.get("/requests?from=yesterday").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("日期格式应为"));
}

#[tokio::test]
async fn overdue_requests_are_listed_for_supervision_but_not_for_cadres() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let no = log_request(&app, "路灯", "路灯坏了一个月").await;
    assert_eq!(app.get("/overdue").await.status, StatusCode::FORBIDDEN);

    let past = zhouzhouhui::web::scope::today() - chrono::Days::new(3);
    request::Entity::update_many()
        .col_expr(request::Column::DueOn, Expr::value(past))
        .filter(request::Column::TrackingNo.eq(no.as_str()))
        .exec(&app.db)
        .await
        .unwrap();

    app.login("supervisor").await;
    let page = app.get("/overdue").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&no));
    assert!(page.body.contains("已超期"));
    assert!(page.body.contains("value=\"supervise\""));
    let r = app
        .submit(
            "/overdue",
            &format!("/requests/{no}/actions"),
            &[("action", "supervise"), ("next", "/overdue")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/overdue");
    assert!(load(&app, &no).await.supervised);
    let page = app.get("/overdue").await;
    assert!(
        !page.body.contains("value=\"supervise\""),
        "already supervised"
    );

    let queue = app.get("/queue?tab=supervised").await;
    assert!(queue.body.contains(&no));

    app.login("handler").await;
    let queue = app.get("/queue?tab=overdue").await;
    assert!(queue.body.contains(&no));
    assert!(queue.body.contains("督办"));
}

#[tokio::test]
async fn the_pages_speak_english_when_asked() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let no = log_request(&app, "路灯", "路灯坏了").await;
    app.get("/lang/en?next=/staff").await;
    let form = app.get("/requests/new").await;
    assert!(form.body.contains("Log a request"));
    let detail = app.get(&format!("/requests/{no}")).await;
    assert!(detail.body.contains("Timeline"));
    let receipt = app.get(&format!("/requests/{no}/receipt")).await;
    assert!(receipt.body.contains("Access code"));
}

#[tokio::test]
async fn every_request_page_is_translated_in_both_languages() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let no = log_request(&app, "户籍证明", "需要开具户籍证明").await;
    let pages = [
        "/requests/new".to_owned(),
        "/requests/batch".to_owned(),
        "/queue".to_owned(),
        "/queue?tab=done".to_owned(),
        "/requests".to_owned(),
        format!("/requests/{no}"),
        format!("/requests/{no}/receipt"),
        format!("/requests/{no}/receipt?paper=80mm"),
        format!("/requests/batch/done?nos={no}"),
    ];
    for lang in ["zh-CN", "en"] {
        for user in ["cadre", "dispatcher"] {
            app.login(user).await;
            app.get(&format!("/lang/{lang}?next=/staff")).await;
            let mut all = pages.to_vec();
            if user == "dispatcher" {
                all.push("/overdue".to_owned());
            }
            for path in &all {
                let r = app.get(path).await;
                assert_eq!(r.status, StatusCode::OK, "{user} {lang} {path}");
                assert!(
                    !r.body.contains("req.") && !r.body.contains("zh-CN."),
                    "{user} {lang} {path}: untranslated key in {}",
                    r.body
                );
            }
        }
    }
    app.get("/lang/zh-CN?next=/staff").await;
    let receipt = app.get(&format!("/requests/{no}/receipt")).await;
    assert!(
        receipt.body.contains("请携带户口簿、身份证"),
        "one-time notice"
    );
    assert!(receipt.body.contains("当场办理"), "0-day limit");
}

#[tokio::test]
async fn requests_logged_from_a_meeting_are_attached_to_it() {
    let app = TestApp::demo().await;
    let token = app.token("cadre").await;
    let village = app.unit_id("金星村").await;
    let today = zhouzhouhui::web::scope::today()
        .format("%Y-%m-%d")
        .to_string();
    let m = app
        .api(
            "POST",
            "/api/v1/meetings",
            Some(&token),
            Some(serde_json::json!({"village_id": village, "held_on": today})),
        )
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.body);
    let meeting = m.json()["id"].as_i64().unwrap().to_string();

    app.login("cadre").await;
    let form = app
        .get(&format!("/requests/new?meeting_id={meeting}"))
        .await;
    assert!(form.body.contains("的周周会"), "the form names the meeting");
    assert_eq!(input_value(&form.body, "meeting_id"), meeting);
    let mut fields = intake_fields(&app, "路灯", "会上反映路灯坏了").await;
    fields.push(("meeting_id".into(), meeting.clone()));
    let no = {
        let csrf = form.csrf();
        let key = input_value(&form.body, "idempotency_key");
        let mut all: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        all.push(("idempotency_key", &key));
        all.push(("csrf", &csrf));
        let r = app.post_form("/requests/new", &all).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        r.location()
            .trim_start_matches("/requests/")
            .trim_end_matches("/receipt")
            .to_owned()
    };
    assert_eq!(
        load(&app, &no).await.meeting_id.map(|m| m.to_string()),
        Some(meeting.clone())
    );
    let receipt = app.get(&format!("/requests/{no}/receipt")).await;
    assert!(
        receipt
            .body
            .contains(&format!("/requests/new?meeting_id={meeting}")),
        "the next request goes to the same meeting"
    );

    for (k, v) in fields.iter_mut() {
        if k == "meeting_id" {
            *v = "99999".into();
        }
    }
    let r = post_intake(&app, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("周周会不存在"));
    assert_eq!(count(&app).await, 1);
}
