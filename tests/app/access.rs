use crate::helpers::TestApp;
use axum::http::StatusCode;
use serde_json::json;

/// (role, page, may open)
const PAGES: [(&str, &str, bool); 25] = [
    ("admin", "/admin/units", true),
    ("admin", "/admin/categories", true),
    ("admin", "/admin/rules", true),
    ("admin", "/admin/calendar", true),
    ("admin", "/admin/users", true),
    ("dispatcher", "/admin/units", true),
    ("dispatcher", "/admin/categories", true),
    ("dispatcher", "/admin/rules", true),
    ("dispatcher", "/admin/calendar", true),
    ("dispatcher", "/admin/users", false),
    ("supervisor", "/admin/units", true),
    ("supervisor", "/admin/categories", true),
    ("supervisor", "/admin/rules", true),
    ("supervisor", "/admin/calendar", true),
    ("supervisor", "/admin/users", false),
    ("handler", "/admin/units", true),
    ("handler", "/admin/categories", true),
    ("handler", "/admin/rules", false),
    ("handler", "/admin/calendar", true),
    ("handler", "/admin/users", false),
    ("cadre", "/admin/units", true),
    ("cadre", "/admin/categories", true),
    ("cadre", "/admin/rules", false),
    ("cadre", "/admin/calendar", true),
    ("cadre", "/admin/users", false),
];

#[tokio::test]
async fn each_demo_role_opens_only_its_pages() {
    let app = TestApp::demo().await;
    for role in ["admin", "dispatcher", "supervisor", "handler", "cadre"] {
        assert_eq!(
            app.login(role).await.status,
            StatusCode::SEE_OTHER,
            "{role} logs in"
        );
        let home = app.get("/staff").await;
        assert_eq!(home.status, StatusCode::OK);
        for (r, page, ok) in PAGES.iter().filter(|(r, _, _)| *r == role) {
            let res = app.get(page).await;
            let expected = if *ok {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(res.status, expected, "{r} on {page}");
            // The navigation offers exactly what the role may open.
            assert_eq!(
                home.body.contains(&format!("href=\"{page}\"")),
                *ok,
                "{r} nav {page}"
            );
        }
    }
}

#[tokio::test]
async fn a_cadre_sees_only_its_village_and_no_edit_forms() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let page = app.get("/admin/units").await;
    assert!(page.body.contains("金星村"));
    assert!(!page.body.contains("马桥村"));
    assert!(!page.body.contains("城建办"));
    assert!(!page.body.contains("action=\"/admin/units\""));
    let cats = app.get("/admin/categories").await;
    assert!(cats.body.contains("路灯"));
    assert!(!cats.body.contains("action=\"/admin/categories\""));
}

#[tokio::test]
async fn non_admins_cannot_change_anything_through_pages() {
    let app = TestApp::demo().await;
    app.login("dispatcher").await;
    let before = app.unit_count().await;
    let town = app.unit_id("马桥镇").await.to_string();
    let r = app
        .submit(
            "/staff",
            "/admin/units",
            &[("name", "新村"), ("kind", "village"), ("parent_id", &town)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.unit_count().await, before);
    let r = app
        .submit(
            "/staff",
            "/admin/categories",
            &[("name", "新分类"), ("time_limit_days", "3")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn api_scope_follows_the_unit_tree() {
    let app = TestApp::demo().await;
    let cadre = app.token("cadre").await;
    let units = app
        .api("GET", "/api/v1/units", Some(&cadre), None)
        .await
        .json();
    let names: Vec<&str> = units["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["金星村"]);
    assert_eq!(units["total"], 1);
    let town = app.unit_id("马桥镇").await;
    let r = app
        .api("GET", &format!("/api/v1/units/{town}"), Some(&cadre), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    for (method, path, body) in [
        (
            "POST",
            "/api/v1/units",
            json!({"name": "x", "kind": "village", "parent_id": town}),
        ),
        (
            "POST",
            "/api/v1/categories",
            json!({"name": "x", "time_limit_days": 1}),
        ),
        (
            "POST",
            "/api/v1/users",
            json!({"username": "xx1", "password": "long-enough", "display_name": "x", "role": "cadre", "unit_id": town}),
        ),
        ("GET", "/api/v1/users", json!(null)),
        ("GET", "/api/v1/routing-rules", json!(null)),
    ] {
        let body = if body.is_null() { None } else { Some(body) };
        let r = app.api(method, path, Some(&cadre), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(r.json()["error"]["code"], "forbidden");
    }
    let dispatcher = app.token("dispatcher").await;
    let r = app
        .api("GET", "/api/v1/routing-rules", Some(&dispatcher), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["total"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_township_admin_cannot_reach_outside_its_township() {
    let app = TestApp::demo().await;
    let admin = app.token("admin").await;
    let county = app.unit_id("闵行区").await;
    let town = app.unit_id("马桥镇").await;
    let other = app
        .api(
            "POST",
            "/api/v1/units",
            Some(&admin),
            Some(json!({"name": "七宝镇", "kind": "township", "parent_id": county})),
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.body);
    let other_id = other.json()["id"].as_i64().unwrap();
    let r = app
        .api("POST", "/api/v1/users", Some(&admin), Some(json!({"username": "mq_admin", "password": "long-enough-1", "display_name": "镇管理员", "role": "admin", "unit_id": town})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .api(
            "POST",
            "/api/v1/auth/token",
            None,
            Some(json!({"username": "mq_admin", "password": "long-enough-1"})),
        )
        .await;
    let t = r.json()["token"].as_str().unwrap().to_owned();
    let r = app
        .api(
            "POST",
            "/api/v1/units",
            Some(&t),
            Some(json!({"name": "越权村", "kind": "village", "parent_id": other_id})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["details"][0]["field"], "parent_id");
    let r = app
        .api("POST", "/api/v1/users", Some(&t), Some(json!({"username": "spy", "password": "long-enough-1", "display_name": "x", "role": "cadre", "unit_id": other_id})))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["details"][0]["field"], "unit_id");
}
