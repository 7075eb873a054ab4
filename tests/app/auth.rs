use crate::helpers::{PW, TestApp};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn staff_pages_send_visitors_to_the_login_page_and_back() {
    let app = TestApp::demo().await;
    let r = app.get("/admin/units").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login?next=%2Fadmin%2Funits");
    let page = app.get("/login?next=/admin/units").await;
    let csrf = page.csrf();
    let r = app
        .post_form(
            "/login",
            &[
                ("username", "admin"),
                ("password", PW),
                ("csrf", &csrf),
                ("next", "/admin/units"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/admin/units");
    assert_eq!(app.get("/admin/units").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_a_clear_message_and_no_session() {
    let app = TestApp::demo().await;
    let csrf = app.get("/login").await.csrf();
    let r = app
        .post_form(
            "/login",
            &[
                ("username", "admin"),
                ("password", "wrong-password"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("用户名或密码不正确"));
    assert!(r.headers.get("set-cookie").is_none());
    assert_eq!(app.get("/staff").await.status, StatusCode::SEE_OTHER);
    // An unknown user answers the same way.
    let r = app
        .post_form(
            "/login",
            &[("username", "nobody"), ("password", PW), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("用户名或密码不正确"));
}

#[tokio::test]
async fn a_login_form_without_its_csrf_token_is_refused() {
    let app = TestApp::demo().await;
    app.get("/login").await;
    let r = app
        .post_form("/login", &[("username", "admin"), ("password", PW)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("表单已过期"));
    assert_eq!(app.get("/staff").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn logging_out_ends_the_session() {
    let app = TestApp::demo().await;
    assert_eq!(app.login("cadre").await.status, StatusCode::SEE_OTHER);
    let home = app.get("/staff").await;
    assert_eq!(home.status, StatusCode::OK);
    let r = app.post_form("/logout", &[("csrf", &home.csrf())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/staff").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn api_tokens_are_issued_for_right_passwords_only() {
    let app = TestApp::demo().await;
    let bad = app
        .api(
            "POST",
            "/api/v1/auth/token",
            None,
            Some(json!({"username": "admin", "password": "nope"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad.json()["error"]["code"], "unauthorized");
    let token = app.token("dispatcher").await;
    let me = app.api("GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["role"], "dispatcher");
    assert!(me.json().get("password_hash").is_none());
    let none = app.api("GET", "/api/v1/me", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    let junk = app.api("GET", "/api/v1/me", Some("junk"), None).await;
    assert_eq!(junk.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn malformed_json_gets_a_400_in_our_error_format() {
    let app = TestApp::demo().await;
    let r = app
        .send(
            axum::http::Request::post("/api/v1/auth/token")
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "bad_request");
}

#[tokio::test]
async fn a_disabled_account_can_no_longer_log_in() {
    let app = TestApp::demo().await;
    let admin = app.token("admin").await;
    let users = app
        .api("GET", "/api/v1/users", Some(&admin), None)
        .await
        .json();
    let cadre_id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "cadre")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let cadre_token = app.token("cadre").await;
    let r = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{cadre_id}"),
            Some(&admin),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.login("cadre").await.status, StatusCode::UNAUTHORIZED);
    let me = app.api("GET", "/api/v1/me", Some(&cadre_token), None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_interface_switches_to_english_and_to_large_text() {
    let app = TestApp::demo().await;
    app.login("admin").await;
    let r = app.get("/lang/en?next=/admin/units").await;
    assert_eq!(r.location(), "/admin/units");
    let page = app.get("/admin/units").await;
    assert!(page.body.contains("Units (places and offices)"));
    assert!(page.body.contains("lang=\"en\""));
    app.get("/size/large?next=/admin/units").await;
    assert!(
        app.get("/admin/units")
            .await
            .body
            .contains("class=\"large\"")
    );
    app.get("/lang/zh-CN").await;
    assert!(
        app.get("/admin/units")
            .await
            .body
            .contains("单位（辖区与部门）")
    );
    // Only local redirect targets.
    assert_eq!(
        app.get("/lang/en?next=//evil.example").await.location(),
        "/staff"
    );
}
