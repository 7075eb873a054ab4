use crate::helpers::TestApp;
use axum::http::StatusCode;

#[tokio::test]
async fn liveness_and_readiness_answer() {
    let app = TestApp::empty().await;
    let live = app.get("/healthz").await;
    assert_eq!(live.status, StatusCode::OK);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    let backend = ready.json()["database"].as_str().unwrap().to_owned();
    assert!(backend == "sqlite" || backend == "postgres");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::empty().await;
    for path in ["/login", "/healthz", "/nope", "/static/app.css"] {
        let r = app.get(path).await;
        let csp = r.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(csp.contains("script-src 'self'"), "{path}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(r.headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(r.headers["referrer-policy"], "same-origin", "{path}");
    }
}

#[tokio::test]
async fn stylesheets_are_served_from_the_binary() {
    let app = TestApp::empty().await;
    let pico = app.get("/static/pico.min.css").await;
    assert_eq!(pico.status, StatusCode::OK);
    assert!(
        pico.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let ours = app.get("/static/app.css").await;
    assert!(ours.body.contains("Noto Sans CJK SC"));
    assert!(ours.body.contains("html.large"));
    assert_eq!(
        app.get("/static/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn unknown_pages_answer_404_in_chinese_and_unknown_api_paths_in_json() {
    let app = TestApp::empty().await;
    let page = app.get("/no-such-page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("找不到"));
    let api = app.get("/api/v1/no-such-thing").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.json()["error"]["code"], "not_found");
}
