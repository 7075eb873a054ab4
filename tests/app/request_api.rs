use crate::helpers::TestApp;
use axum::http::StatusCode;
use serde_json::{Value, json};

async fn log_request(app: &TestApp, token: &str, category: &str, extra: Value) -> Value {
    let village = app.unit_id("金星村").await;
    let cat = app.category_id(category).await;
    let mut body = json!({
        "requester_name": "张三丰",
        "phone": "13812345678",
        "village_id": village,
        "category_id": cat,
        "content": "村口三盏路灯不亮，晚上出行不便",
        "source": "meeting",
        "address": "金星村3组",
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let r = app
        .api("POST", "/api/v1/requests", Some(token), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

async fn act(app: &TestApp, token: &str, no: &str, body: Value) -> crate::helpers::Resp {
    app.api(
        "POST",
        &format!("/api/v1/requests/{no}/actions"),
        Some(token),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn a_cadre_logs_a_request_and_it_is_routed_by_the_rules() {
    let app = TestApp::demo().await;
    let cadre = app.token("cadre").await;
    let r = log_request(&app, &cadre, "路灯", json!({})).await;
    let no = r["tracking_no"].as_str().unwrap();
    assert!(no.starts_with("ZZH-20") && no.ends_with("-000001"), "{no}");
    assert_eq!(r["status"], "received");
    assert_eq!(r["handler_unit_id"], app.unit_id("城建办").await);
    assert_eq!(r["routed_by"], "由规则 道路交通 › 路灯@马桥镇 派至 城建办");
    let code = r["access_code"].as_str().unwrap();
    assert_eq!(code.len(), 10);
    let due = chrono::NaiveDate::parse_from_str(r["due_on"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert!(due > zhouzhouhui::web::scope::today());
    // The detail shows the raw personal data to staff, the list masks it.
    let d = app
        .api("GET", &format!("/api/v1/requests/{no}"), Some(&cadre), None)
        .await
        .json();
    assert_eq!(d["phone_full"], "13812345678");
    assert_eq!(d["events"][0]["action"], "intake");
    let list = app
        .api("GET", "/api/v1/requests", Some(&cadre), None)
        .await
        .json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["requester_name"], "张*");
    assert_eq!(list["items"][0]["phone"], "138****5678");
    assert!(!list.to_string().contains("13812345678"));
}

#[tokio::test]
async fn without_a_rule_a_request_waits_in_the_township_queue() {
    let app = TestApp::demo().await;
    let admin = app.token("admin").await;
    let c = app
        .api(
            "POST",
            "/api/v1/categories",
            Some(&admin),
            Some(json!({"name": "无人认领", "time_limit_days": 4})),
        )
        .await
        .json();
    let cadre = app.token("cadre").await;
    let village = app.unit_id("金星村").await;
    let r = app
        .api("POST", "/api/v1/requests", Some(&cadre), Some(json!({"requester_name": "李四", "phone": "021-64001234", "village_id": village, "category_id": c["id"], "content": "不知道归谁管的事", "source": "walk_in"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = r.json();
    assert_eq!(r["handler_unit_id"], Value::Null);
    assert_eq!(r["queue_unit_id"], app.unit_id("马桥镇").await);
    assert_eq!(r["routed_by"], "无匹配规则，进入 马桥镇 派单员队列");
    // The dispatcher dispatches it.
    let dispatcher = app.token("dispatcher").await;
    let no = r["tracking_no"].as_str().unwrap();
    let water = app.unit_id("水务站").await;
    let d = act(
        &app,
        &dispatcher,
        no,
        json!({"action": "dispatch", "unit_id": water, "note": "归水务站"}),
    )
    .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    assert_eq!(d.json()["handler_unit_id"], water);
    assert_eq!(d.json()["queue_unit_id"], Value::Null);
}

#[tokio::test]
async fn the_same_idempotency_key_creates_one_request() {
    let app = TestApp::demo().await;
    let cadre = app.token("cadre").await;
    let village = app.unit_id("金星村").await;
    let cat = app.category_id("路灯").await;
    let body = json!({"requester_name": "王五", "phone": "13900001111", "village_id": village, "category_id": cat, "content": "路灯坏了", "source": "meeting"});
    let send = || async {
        app.send(
            axum::http::Request::post("/api/v1/requests")
                .header("authorization", format!("Bearer {cadre}"))
                .header("content-type", "application/json")
                .header("idempotency-key", "sheet-7-row-3")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    };
    let first = send().await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = send().await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(first.json()["tracking_no"], second.json()["tracking_no"]);
    let list = app
        .api("GET", "/api/v1/requests", Some(&cadre), None)
        .await
        .json();
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn bad_intake_is_refused_field_by_field_and_only_cadres_and_dispatchers_log() {
    let app = TestApp::demo().await;
    let cadre = app.token("cadre").await;
    let other_village = app.unit_id("马桥村").await;
    let r = app
        .api("POST", "/api/v1/requests", Some(&cadre), Some(json!({"requester_name": "", "phone": "123", "village_id": other_village, "category_id": 99999, "content": "", "source": "carrier-pigeon", "type": "rant", "email": "not-an-email"})))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = r.json()["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_owned())
        .collect();
    for f in [
        "requester_name",
        "phone",
        "village_id",
        "category_id",
        "content",
        "source",
        "type",
        "email",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
    let handler = app.token("handler").await;
    let village = app.unit_id("金星村").await;
    let r = app
        .api("POST", "/api/v1/requests", Some(&handler), Some(json!({"requester_name": "x", "phone": "13800000000", "village_id": village, "category_id": app.category_id("路灯").await, "content": "一些内容"})))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.api("GET", "/api/v1/requests", Some(&cadre), None)
            .await
            .json()["total"],
        0
    );
}

#[tokio::test]
async fn a_request_goes_through_its_whole_life() {
    let app = TestApp::demo().await;
    let cadre = app.token("cadre").await;
    let handler = app.token("handler").await;
    let dispatcher = app.token("dispatcher").await;
    let r = log_request(&app, &cadre, "路灯", json!({})).await;
    let no = r["tracking_no"].as_str().unwrap().to_owned();

    // Completing needs a result; accepting moves it to in progress.
    let x = act(&app, &handler, &no, json!({"action": "complete"})).await;
    assert_eq!(x.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(x.json()["error"]["details"][0]["field"], "result");
    let x = act(&app, &handler, &no, json!({"action": "accept"})).await;
    assert_eq!(x.json()["status"], "in_progress");
    let x = act(&app, &handler, &no, json!({"action": "accept"})).await;
    assert_eq!(x.status, StatusCode::CONFLICT);
    assert_eq!(x.json()["error"]["status"], "in_progress");
    // The cadre may add a note but not close it.
    let x = act(
        &app,
        &cadre,
        &no,
        json!({"action": "complete", "result": "x"}),
    )
    .await;
    assert_eq!(x.status, StatusCode::FORBIDDEN);
    let x = act(
        &app,
        &cadre,
        &no,
        json!({"action": "progress", "public_note": "已向群众说明进度"}),
    )
    .await;
    assert_eq!(x.status, StatusCode::OK);
    // Defer needs reason, explanation and a future review date.
    let x = act(
        &app,
        &handler,
        &no,
        json!({"action": "defer", "reason": "funding", "explanation": "明年预算"}),
    )
    .await;
    assert_eq!(x.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(x.json()["error"]["details"][0]["field"], "review_on");
    let x = act(&app, &handler, &no, json!({"action": "defer", "reason": "funding", "explanation": "更换灯杆需列入明年预算", "review_on": "2099-03-01"})).await;
    assert_eq!(x.status, StatusCode::OK, "{}", x.body);
    assert_eq!(x.json()["status"], "deferred");
    assert_eq!(x.json()["defer_reason"], "funding");
    let x = act(
        &app,
        &handler,
        &no,
        json!({"action": "review", "note": "资金已到位"}),
    )
    .await;
    assert_eq!(x.json()["status"], "in_progress");
    let x = act(
        &app,
        &handler,
        &no,
        json!({"action": "complete", "result": "已更换三盏路灯", "on_the_spot": false}),
    )
    .await;
    assert_eq!(x.json()["status"], "done");
    let x = act(
        &app,
        &handler,
        &no,
        json!({"action": "complete", "result": "again"}),
    )
    .await;
    assert_eq!(x.status, StatusCode::CONFLICT);
    assert_eq!(x.json()["error"]["status"], "done");
    // 重办 is the dispatcher's.
    let x = act(
        &app,
        &handler,
        &no,
        json!({"action": "reopen", "note": "x"}),
    )
    .await;
    assert_eq!(x.status, StatusCode::FORBIDDEN);
    let x = act(
        &app,
        &dispatcher,
        &no,
        json!({"action": "reopen", "note": "群众反映仍有一盏不亮"}),
    )
    .await;
    assert_eq!(x.status, StatusCode::OK);
    assert_eq!(x.json()["status"], "in_progress");
    assert_eq!(x.json()["accepted"], false);
    let actions: Vec<String> = x.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "intake", "accept", "progress", "defer", "review", "complete", "reopen"
        ]
    );
    let bad = act(&app, &dispatcher, &no, json!({"action": "teleport"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn handoffs_return_escalate_and_reassign_keep_one_place() {
    let app = TestApp::demo().await;
    let cadre = app.token("cadre").await;
    let handler = app.token("handler").await;
    let dispatcher = app.token("dispatcher").await;
    let r = log_request(&app, &cadre, "路灯", json!({})).await;
    let no = r["tracking_no"].as_str().unwrap().to_owned();
    let town = app.unit_id("马桥镇").await;
    let x = act(&app, &handler, &no, json!({"action": "return"})).await;
    assert_eq!(
        x.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a return needs a reason"
    );
    let x = act(
        &app,
        &handler,
        &no,
        json!({"action": "return", "reason": "不属于城建办职责，应由供电所处理"}),
    )
    .await;
    assert_eq!(x.status, StatusCode::OK);
    assert_eq!(x.json()["queue_unit_id"], town);
    assert_eq!(x.json()["handler_unit_id"], Value::Null);
    // The handler no longer sees it.
    let x = app
        .api(
            "GET",
            &format!("/api/v1/requests/{no}"),
            Some(&handler),
            None,
        )
        .await;
    assert_eq!(x.status, StatusCode::NOT_FOUND);
    let builder = app.unit_id("城建办").await;
    let x = act(
        &app,
        &dispatcher,
        &no,
        json!({"action": "dispatch", "unit_id": builder}),
    )
    .await;
    assert_eq!(x.json()["handler_unit_id"], builder);
    let x = act(
        &app,
        &handler,
        &no,
        json!({"action": "escalate", "reason": "需镇里协调"}),
    )
    .await;
    assert_eq!(x.json()["queue_unit_id"], town);
    let water = app.unit_id("水务站").await;
    let x = act(
        &app,
        &dispatcher,
        &no,
        json!({"action": "dispatch", "unit_id": water}),
    )
    .await;
    assert_eq!(x.json()["handler_unit_id"], water);
    let x = act(
        &app,
        &dispatcher,
        &no,
        json!({"action": "reassign", "unit_id": water}),
    )
    .await;
    assert_eq!(x.status, StatusCode::UNPROCESSABLE_ENTITY, "same unit");
    let x = act(
        &app,
        &dispatcher,
        &no,
        json!({"action": "reassign", "unit_id": town}),
    )
    .await;
    assert_eq!(
        x.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a township is not a handler"
    );
    let x = act(
        &app,
        &dispatcher,
        &no,
        json!({"action": "reassign", "unit_id": builder}),
    )
    .await;
    assert_eq!(x.json()["handler_unit_id"], builder);
    // A supervisor flags it; it shows first for the handler.
    let supervisor = app.token("supervisor").await;
    let x = act(
        &app,
        &supervisor,
        &no,
        json!({"action": "supervise", "note": "群众多次反映"}),
    )
    .await;
    assert_eq!(x.json()["supervised"], true);
}

#[tokio::test]
async fn another_units_request_is_invisible_and_untouchable() {
    let app = TestApp::demo().await;
    let admin = app.token("admin").await;
    let water = app.unit_id("水务站").await;
    let r = app
        .api("POST", "/api/v1/users", Some(&admin), Some(json!({"username": "water", "password": "water-2026-x", "display_name": "水务站承办人", "role": "handler", "unit_id": water})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let t = app
        .api(
            "POST",
            "/api/v1/auth/token",
            None,
            Some(json!({"username": "water", "password": "water-2026-x"})),
        )
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let cadre = app.token("cadre").await;
    let r = log_request(&app, &cadre, "路灯", json!({})).await;
    let no = r["tracking_no"].as_str().unwrap();
    assert_eq!(
        app.api("GET", &format!("/api/v1/requests/{no}"), Some(&t), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let x = act(
        &app,
        &t,
        no,
        json!({"action": "complete", "result": "hijack"}),
    )
    .await;
    assert_eq!(x.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.api("GET", "/api/v1/requests", Some(&t), None)
            .await
            .json()["total"],
        0
    );
    let d = app
        .api("GET", &format!("/api/v1/requests/{no}"), Some(&cadre), None)
        .await
        .json();
    assert_eq!(d["status"], "received");
    assert_eq!(d["events"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn thirty_two_concurrent_intakes_get_thirty_two_consecutive_numbers() {
    let app = std::sync::Arc::new(TestApp::demo().await);
    let cadre = app.token("cadre").await;
    let village = app.unit_id("金星村").await;
    let cat = app.category_id("路灯").await;
    let mut tasks = Vec::new();
    for i in 0..32 {
        let app = app.clone();
        let cadre = cadre.clone();
        tasks.push(tokio::spawn(async move {
            let r = app
                .api("POST", "/api/v1/requests", Some(&cadre), Some(json!({"requester_name": format!("居民{i}"), "phone": "13800001111", "village_id": village, "category_id": cat, "content": format!("第{i}条诉求"), "source": "meeting"})))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.json()["tracking_no"].as_str().unwrap().to_owned()
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        let no = t.await.unwrap();
        seqs.push(no.rsplit('-').next().unwrap().parse::<u32>().unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=32).collect::<Vec<_>>());
}

#[tokio::test]
async fn absurd_page_numbers_answer_an_empty_page() {
    let app = TestApp::demo().await;
    let cadre = app.token("cadre").await;
    log_request(&app, &cadre, "路灯", json!({})).await;
    for page in ["9223372036854775808", "18446744073709551615", "0"] {
        let r = app
            .api(
                "GET",
                &format!("/api/v1/requests?page={page}"),
                Some(&cadre),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "page {page}: {}", r.body);
        assert_eq!(r.json()["total"], 1);
    }
    app.login("cadre").await;
    assert_eq!(
        app.get("/requests?page=9223372036854775808").await.status,
        StatusCode::OK
    );
}
