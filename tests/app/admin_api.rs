use crate::helpers::TestApp;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn units_categories_rules_and_users_are_created_through_the_api() {
    let app = TestApp::demo().await;
    let t = app.token("admin").await;
    let town = app.unit_id("马桥镇").await;
    let u = app
        .api(
            "POST",
            "/api/v1/units",
            Some(&t),
            Some(json!({"name": "新华村", "kind": "village", "parent_id": town})),
        )
        .await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.body);
    let village = u.json()["id"].as_i64().unwrap();
    assert_eq!(u.json()["kind"], "village");

    let c = app
        .api(
            "POST",
            "/api/v1/categories",
            Some(&t),
            Some(json!({"name": "文明创建", "time_limit_days": 7, "bring_note": "无"})),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let cat = c.json()["id"].as_i64().unwrap();
    let child = app
        .api(
            "POST",
            "/api/v1/categories",
            Some(&t),
            Some(json!({"name": "宣传栏", "parent_id": cat, "time_limit_days": 3})),
        )
        .await;
    assert_eq!(child.status, StatusCode::CREATED);
    let child_id = child.json()["id"].as_i64().unwrap();

    // No rule yet: the township dispatcher's queue.
    let q = app
        .api(
            "GET",
            &format!("/api/v1/routing-rules/resolve?village_id={village}&category_id={child_id}"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    assert_eq!(q.json()["queued"], true);
    assert_eq!(q.json()["handler_unit_id"], town);
    assert_eq!(q.json()["time_limit_days"], 3);
    assert!(
        q.json()["routed_by"]
            .as_str()
            .unwrap()
            .contains("马桥镇 派单员队列")
    );

    let office = app.unit_id("社区事务受理中心").await;
    let r = app
        .api(
            "POST",
            "/api/v1/routing-rules",
            Some(&t),
            Some(json!({"category_id": cat, "area_unit_id": town, "handler_unit_id": office})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let q = app
        .api(
            "GET",
            &format!("/api/v1/routing-rules/resolve?village_id={village}&category_id={child_id}"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(q.json()["queued"], false);
    assert_eq!(q.json()["handler_unit_id"], office);
    assert_eq!(
        q.json()["time_limit_days"],
        3,
        "the child category's own limit applies"
    );
    assert_eq!(
        q.json()["routed_by"],
        "由规则 文明创建@马桥镇 派至 社区事务受理中心"
    );

    let user = app
        .api("POST", "/api/v1/users", Some(&t), Some(json!({"username": "xinhua", "password": "xinhua-2026", "display_name": "新华村干部", "role": "cadre", "unit_id": village})))
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
    assert_eq!(user.json()["role"], "cadre");
    assert!(user.json().get("password").is_none() && user.json().get("password_hash").is_none());
}

#[tokio::test]
async fn bad_api_input_gets_422_with_the_field_and_changes_nothing() {
    let app = TestApp::demo().await;
    let t = app.token("admin").await;
    let town = app.unit_id("马桥镇").await;
    let village = app.unit_id("金星村").await;
    let lamp = app.category_id("路灯").await;
    let units_before = app.unit_count().await;
    let rules_before = zhouzhouhui::db::rules::all(&app.db).await.unwrap().len();
    let cases = [
        (
            "/api/v1/units",
            json!({"name": "", "kind": "village", "parent_id": town}),
            "name",
        ),
        (
            "/api/v1/units",
            json!({"name": "x", "kind": "planet", "parent_id": town}),
            "kind",
        ),
        (
            "/api/v1/units",
            json!({"name": "x", "kind": "village", "parent_id": 99999}),
            "parent_id",
        ),
        (
            "/api/v1/categories",
            json!({"name": "   ", "time_limit_days": 3}),
            "name",
        ),
        (
            "/api/v1/categories",
            json!({"name": "x", "time_limit_days": 400}),
            "time_limit_days",
        ),
        (
            "/api/v1/categories",
            json!({"name": "x", "time_limit_days": 3, "parent_id": lamp}),
            "parent_id",
        ),
        (
            "/api/v1/routing-rules",
            json!({"category_id": lamp, "area_unit_id": village, "handler_unit_id": 99999}),
            "handler_unit_id",
        ),
        (
            "/api/v1/routing-rules",
            json!({"category_id": 99999, "area_unit_id": village, "handler_unit_id": town}),
            "category_id",
        ),
        (
            "/api/v1/routing-rules",
            json!({"category_id": lamp, "area_unit_id": app.unit_id("城建办").await, "handler_unit_id": town}),
            "area_unit_id",
        ),
        (
            "/api/v1/routing-rules",
            json!({"category_id": lamp, "area_unit_id": town, "handler_unit_id": town}),
            "category_id",
        ),
        (
            "/api/v1/users",
            json!({"username": "admin", "password": "long-enough", "display_name": "x", "role": "cadre", "unit_id": village}),
            "username",
        ),
        (
            "/api/v1/users",
            json!({"username": "newbie", "password": "long-enough", "display_name": "x", "role": "king", "unit_id": village}),
            "role",
        ),
        (
            "/api/v1/users",
            json!({"username": "newbie", "password": "long-enough", "display_name": "x", "role": "cadre", "unit_id": 99999}),
            "unit_id",
        ),
    ];
    for (path, body, field) in cases {
        let r = app.api("POST", path, Some(&t), Some(body.clone())).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {body}: {}",
            r.body
        );
        let e = r.json();
        assert_eq!(e["error"]["code"], "validation");
        let fields: Vec<&str> = e["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{path} {body}: {fields:?}");
        assert!(
            !e["error"]["details"][0]["message"]
                .as_str()
                .unwrap()
                .is_empty()
        );
    }
    assert_eq!(app.unit_count().await, units_before);
    assert_eq!(
        zhouzhouhui::db::rules::all(&app.db).await.unwrap().len(),
        rules_before
    );
    assert!(
        zhouzhouhui::db::users::list(&app.db, None)
            .await
            .unwrap()
            .iter()
            .all(|u| u.username != "newbie")
    );
}

#[tokio::test]
async fn a_cycle_in_the_unit_tree_is_refused_through_the_api() {
    let app = TestApp::demo().await;
    let t = app.token("admin").await;
    let town = app.unit_id("马桥镇").await;
    let village = app.unit_id("金星村").await;
    let r = app
        .api(
            "PATCH",
            &format!("/api/v1/units/{town}"),
            Some(&t),
            Some(json!({"parent_id": village})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["details"][0]["field"], "parent_id");
    assert!(
        r.json()["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("下级")
    );
    let r = app
        .api(
            "PATCH",
            &format!("/api/v1/units/{town}"),
            Some(&t),
            Some(json!({"parent_id": town})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A legal rename works.
    let r = app
        .api(
            "PATCH",
            &format!("/api/v1/units/{village}"),
            Some(&t),
            Some(json!({"name": "金星村委会"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["name"], "金星村委会");
    assert_eq!(r.json()["parent_id"], town);
}

#[tokio::test]
async fn wrong_json_types_answer_in_our_error_format() {
    let app = TestApp::demo().await;
    let t = app.token("admin").await;
    let r = app
        .api(
            "POST",
            "/api/v1/units",
            Some(&t),
            Some(json!({"name": "x", "kind": "village", "parent_id": "abc"})),
        )
        .await;
    assert!(r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::BAD_REQUEST);
    assert!(r.json()["error"]["code"].is_string());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("parent_id")
    );
}

#[tokio::test]
async fn the_calendar_is_edited_through_the_api() {
    let app = TestApp::demo().await;
    let t = app.token("admin").await;
    let r = app
        .api(
            "POST",
            "/api/v1/calendar",
            Some(&t),
            Some(json!({"day": "2027-06-14", "kind": "holiday", "note": "端午节"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .api(
            "POST",
            "/api/v1/calendar",
            Some(&t),
            Some(json!({"day": "yesterday", "kind": "sometimes"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["details"].as_array().unwrap().len(), 2);
    let list = app
        .api("GET", "/api/v1/calendar", Some(&t), None)
        .await
        .json();
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["day"] == "2027-06-14")
    );
    let r = app
        .api("DELETE", "/api/v1/calendar/2027-06-14", Some(&t), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .api("DELETE", "/api/v1/calendar/2027-06-14", Some(&t), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn thirty_two_concurrent_writers_all_succeed() {
    let app = std::sync::Arc::new(TestApp::demo().await);
    let t = app.token("admin").await;
    let town = app.unit_id("马桥镇").await;
    let before = app.unit_count().await;
    let mut tasks = Vec::new();
    for i in 0..32 {
        let app = app.clone();
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            app.api(
                "POST",
                "/api/v1/units",
                Some(&t),
                Some(json!({"name": format!("并发村{i}"), "kind": "village", "parent_id": town})),
            )
            .await
            .status
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::CREATED);
    }
    assert_eq!(app.unit_count().await, before + 32);
}
