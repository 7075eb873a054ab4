use crate::helpers::TestApp;
use axum::http::StatusCode;
use serde_json::json;

async fn logged(app: &TestApp) -> (String, String) {
    let cadre = app.token("cadre").await;
    let village = app.unit_id("金星村").await;
    let cat = app.category_id("路灯").await;
    let r = app
        .api("POST", "/api/v1/requests", Some(&cadre), Some(json!({"requester_name": "欧阳娜娜", "phone": "13912345678", "email": "ouyang@example.cn", "village_id": village, "category_id": cat, "content": "路灯坏了", "source": "meeting"})))
        .await
        .json();
    (
        r["tracking_no"].as_str().unwrap().to_owned(),
        r["access_code"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_resident_looks_up_with_the_slip_and_sees_no_internal_data() {
    let app = TestApp::demo().await;
    let (no, code) = logged(&app).await;
    let handler = app.token("handler").await;
    app.api(
        "POST",
        &format!("/api/v1/requests/{no}/actions"),
        Some(&handler),
        Some(json!({"action": "accept", "note": "内部：先派老王去看"})),
    )
    .await;
    app.api("POST", &format!("/api/v1/requests/{no}/actions"), Some(&handler), Some(json!({"action": "progress", "note": "内部：灯杆锈蚀", "public_note": "已安排维修人员"}))).await;
    // Case, dashes and spaces do not matter.
    let typed_code = format!("{}-{}", &code[..5].to_lowercase(), &code[5..]);
    let r = app
        .get(&format!("/s/{}?code={typed_code}", no.to_lowercase()))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for shown in [
        "正在办理",
        "城建办",
        "欧*",
        "已安排维修人员",
        "道路交通 › 路灯",
    ] {
        assert!(r.body.contains(shown), "{shown}");
    }
    for hidden in [
        "欧阳娜娜",
        "13912345678",
        "ouyang@",
        "内部",
        "老王",
        "城建办承办人",
    ] {
        assert!(!r.body.contains(hidden), "{hidden} leaked");
    }
    let api = app
        .api(
            "GET",
            &format!("/api/v1/public/requests/{no}?code={code}"),
            None,
            None,
        )
        .await;
    assert_eq!(api.status, StatusCode::OK);
    assert_eq!(api.json()["status"], "in_progress");
    assert_eq!(api.json()["requester"], "欧*");
    for hidden in ["欧阳娜娜", "13912345678", "ouyang", "内部"] {
        assert!(!api.body.contains(hidden), "{hidden} leaked in API");
    }
    // The lookup form redirects to the status page.
    let l = app
        .get(&format!("/lookup?no={}&code={code}", no.replace('-', "+")))
        .await;
    assert_eq!(l.status, StatusCode::SEE_OTHER);
    assert!(l.location().starts_with(&format!("/s/{no}?code=")));
}

#[tokio::test]
async fn wrong_codes_and_unknown_numbers_answer_identically_then_get_limited() {
    let app = TestApp::demo().await;
    let (no, _code) = logged(&app).await;
    let wrong = app
        .api(
            "GET",
            &format!("/api/v1/public/requests/{no}?code=0000000000"),
            None,
            None,
        )
        .await;
    let unknown = app
        .api(
            "GET",
            "/api/v1/public/requests/ZZH-2026-999999?code=0000000000",
            None,
            None,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.body, unknown.body);
    let page_wrong = app.get(&format!("/s/{no}?code=0000000000")).await;
    let page_unknown = app.get("/s/ZZH-2026-999999?code=0000000000").await;
    assert_eq!(page_wrong.status, StatusCode::NOT_FOUND);
    // Identical apart from echoing what was typed.
    assert_eq!(
        page_wrong.body.replace(&format!("value=\"{no}\""), "N"),
        page_unknown.body.replace("value=\"ZZH-2026-999999\"", "N")
    );
    assert!(page_wrong.body.contains("工单编号或查询码不正确"));
    // Four failures so far; the tenth failure closes the door.
    for _ in 0..6 {
        app.get(&format!("/s/{no}?code=1111111111")).await;
    }
    let limited = app.get(&format!("/s/{no}?code=2222222222")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let api = app
        .api(
            "GET",
            &format!("/api/v1/public/requests/{no}?code=2222222222"),
            None,
            None,
        )
        .await;
    assert_eq!(api.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(api.json()["error"]["code"], "too_many_requests");
}

#[tokio::test]
async fn residents_rate_answered_requests_and_dissatisfaction_calls_for_review() {
    let app = TestApp::demo().await;
    let (no, code) = logged(&app).await;
    let early = app
        .api(
            "POST",
            &format!("/api/v1/public/requests/{no}/rating"),
            None,
            Some(json!({"code": code, "rating": "satisfied"})),
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    let handler = app.token("handler").await;
    let done = app
        .api(
            "POST",
            &format!("/api/v1/requests/{no}/actions"),
            Some(&handler),
            Some(json!({"action": "complete", "result": "已修好"})),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    let page = app.get(&format!("/s/{no}?code={code}")).await;
    assert!(
        page.body.contains("已办结")
            && page.body.contains("已修好")
            && page.body.contains("请您评价办理结果")
    );
    let bad = app
        .api(
            "POST",
            &format!("/api/v1/public/requests/{no}/rating"),
            None,
            Some(json!({"code": code, "rating": "meh"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Rated through the page form.
    let r = app
        .post_form(
            &format!("/s/{no}/rating"),
            &[
                ("code", &code),
                ("rating", "dissatisfied"),
                ("comment", "还有一盏不亮"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let no_parsed = zhouzhouhui::domain::request::TrackingNo::parse(&no).unwrap();
    let stored = zhouzhouhui::db::requests::get(&app.db, &no_parsed)
        .await
        .unwrap();
    assert!(stored.needs_review);
    assert_eq!(
        stored.rating,
        Some(zhouzhouhui::domain::request::Rating::Dissatisfied)
    );
    // The dispatcher reopens it, which clears the flag.
    let dispatcher = app.token("dispatcher").await;
    let x = app
        .api(
            "POST",
            &format!("/api/v1/requests/{no}/actions"),
            Some(&dispatcher),
            Some(json!({"action": "reopen", "note": "群众不满意，重办"})),
        )
        .await;
    assert_eq!(x.status, StatusCode::OK);
    let stored = zhouzhouhui::db::requests::get(&app.db, &no_parsed)
        .await
        .unwrap();
    assert!(!stored.needs_review);
}

#[tokio::test]
async fn the_home_page_is_the_lookup_form() {
    let app = TestApp::demo().await;
    let r = app.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("查询诉求办理进度"));
    assert!(r.body.contains("name=\"code\""));
}
