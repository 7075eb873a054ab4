use crate::helpers::TestApp;
use axum::http::StatusCode;

/// The number in the card that links to `href`.
fn card(body: &str, href: &str) -> u64 {
    let at = body
        .find(&format!("<a href=\"{href}\">"))
        .unwrap_or_else(|| panic!("no card {href}"));
    let rest = &body[at..];
    let start = rest.find("class=\"big\">").unwrap() + "class=\"big\">".len();
    rest[start..].split('<').next().unwrap().parse().unwrap()
}

/// The total a search page reports.
fn total(app_body: &str) -> u64 {
    let marker = "data-total=\"";
    let at = app_body
        .find(marker)
        .map(|i| i + marker.len())
        .expect("search total");
    app_body[at..].split('"').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn home_figures_add_up_and_match_the_lists_behind_them() {
    let app = TestApp::demo().await;
    zhouzhouhui::db::demo::seed_requests(&app.db).await.unwrap();
    for user in ["dispatcher", "cadre"] {
        app.login(user).await;
        let home = app.get("/staff").await;
        assert_eq!(home.status, StatusCode::OK);
        let received = card(&home.body, "/requests");
        let done = card(&home.body, "/requests?status=done");
        let open = card(&home.body, "/requests?status=open");
        let deferred = card(&home.body, "/requests?status=deferred");
        assert_eq!(received, done + open + deferred, "{user}");
        assert!(received > 0);
        for (href, n) in [
            ("/requests", received),
            ("/requests?status=done", done),
            ("/requests?status=open", open),
            ("/requests?status=deferred", deferred),
        ] {
            assert_eq!(total(&app.get(href).await.body), n, "{user} {href}");
        }
    }
}
