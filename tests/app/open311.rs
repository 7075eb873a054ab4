use crate::helpers::{Resp, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::Value;
use zhouzhouhui::db;

async fn seeded() -> TestApp {
    let app = TestApp::demo().await;
    db::demo::seed_requests(&app.db).await.unwrap();
    app
}

/// Every request in the database.
async fn all_requests(app: &TestApp) -> Vec<db::requests::Request> {
    db::requests::list(&app.db, &db::requests::Filter::default(), 1, 1000)
        .await
        .unwrap()
        .0
}

async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Resp {
    let body = serde_urlencoded::to_string(fields).unwrap();
    app.send(
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

/// A minimal well-formedness check: one root, every tag closed in order,
/// no stray `<` or `&` in text.
fn assert_well_formed(xml: &str) {
    let body = xml
        .strip_prefix(r#"<?xml version="1.0" encoding="utf-8"?>"#)
        .expect("xml declaration");
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    let mut rest = body;
    while let Some(at) = rest.find('<') {
        let text = &rest[..at];
        assert!(
            !stack.is_empty() || text.trim().is_empty(),
            "text outside the root"
        );
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..text[i..].find(';').map(|e| i + e + 1).expect("entity end")];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&entity),
                "{entity}"
            );
        }
        let end = rest[at..].find('>').expect("tag end") + at;
        let tag = &rest[at + 1..end];
        assert!(!tag.contains('<'), "{tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name), "closing {name}");
        } else {
            if stack.is_empty() {
                roots += 1;
            }
            stack.push(tag);
        }
        rest = &rest[end + 1..];
    }
    assert!(
        rest.trim().is_empty() && stack.is_empty(),
        "unclosed {stack:?}"
    );
    assert_eq!(roots, 1);
}

fn json(r: &Resp) -> Value {
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{:?}",
        r.headers
    );
    r.json()
}

fn xml(r: &Resp) -> &str {
    assert_eq!(r.headers[header::CONTENT_TYPE], "text/xml; charset=utf-8");
    assert_well_formed(&r.body);
    &r.body
}

#[tokio::test]
async fn discovery_and_services_answer_in_json_and_xml() {
    let app = TestApp::demo().await;
    let d = app.get("/open311/v2/discovery.json").await;
    assert_eq!(d.status, StatusCode::OK);
    let d = json(&d);
    assert_eq!(d["endpoints"][0]["url"], "http://zzh.test/open311/v2");
    assert_eq!(
        d["endpoints"][0]["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    let dx = app.get("/open311/v2/discovery.xml").await;
    assert!(xml(&dx).contains("<format>text/xml</format>"));

    let lamp = app.category_id("路灯").await;
    let s = json(&app.get("/open311/v2/services.json").await);
    let list = s.as_array().unwrap();
    let cats = db::categories::all(&app.db).await.unwrap();
    assert_eq!(list.len(), cats.len());
    let one = list
        .iter()
        .find(|x| x["service_code"].as_str() == Some(lamp.to_string().as_str()))
        .unwrap();
    assert_eq!(one["service_name"], "道路交通 › 路灯");
    assert_eq!(one["group"], "道路交通");
    assert_eq!(one["metadata"], false);
    assert_eq!(one["type"], "realtime");
    assert!(one["description"].as_str().is_some_and(|x| !x.is_empty()));

    let sx = app.get("/open311/v2/services.xml").await;
    let body = xml(&sx);
    assert!(body.contains("<services><service>"));
    assert!(body.contains("<service_name>道路交通 › 路灯</service_name>"));
    assert_eq!(body.matches("<service>").count(), cats.len());

    let def = app.get(&format!("/open311/v2/services/{lamp}.json")).await;
    assert_eq!(json(&def)["service_code"], lamp.to_string());
    let defx = app.get(&format!("/open311/v2/services/{lamp}.xml")).await;
    assert!(xml(&defx).contains("<service_definition>"));
    let missing = app.get("/open311/v2/services/9999.xml").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(xml(&missing).contains("<errors><error><code>404</code>"));
    let missing = app.get("/open311/v2/services/9999.json").await;
    assert_eq!(json(&missing)[0]["code"], 404);
}

#[tokio::test]
async fn request_lists_filter_by_id_code_status_and_dates_within_ninety_days() {
    let app = seeded().await;
    let all = all_requests(&app).await;
    let everything = json(&app.get("/open311/v2/requests.json").await);
    assert_eq!(everything.as_array().unwrap().len(), all.len());
    let newest = &everything[0]["requested_datetime"];
    assert!(newest.as_str().unwrap().ends_with("+08:00"));
    assert!(everything[0]["service_request_id"].is_string());

    // Status: done is closed; everything else open.
    let done = all.iter().filter(|r| r.status.as_str() == "done").count();
    let closed = json(&app.get("/open311/v2/requests.json?status=closed").await);
    assert_eq!(closed.as_array().unwrap().len(), done);
    assert!(
        closed
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "closed")
    );
    let open = json(&app.get("/open311/v2/requests.json?status=open").await);
    assert_eq!(open.as_array().unwrap().len(), all.len() - done);
    assert!(
        open.as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "open")
    );
    let bad = app.get("/open311/v2/requests.json?status=pending").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(json(&bad)[0]["code"], 400);

    // Service code: that category only.
    let lamp = app.category_id("路灯").await;
    let lamps = json(
        &app.get(&format!("/open311/v2/requests.json?service_code={lamp}"))
            .await,
    );
    let n = all.iter().filter(|r| r.category_id == lamp).count();
    assert!(n > 0);
    assert_eq!(lamps.as_array().unwrap().len(), n);

    // Ids: a comma list; other filters are then ignored.
    let ids = format!("{},{}", all[0].tracking_no, all[1].tracking_no);
    let two = json(
        &app.get(&format!(
            "/open311/v2/requests.json?service_request_id={ids}&status=closed&service_code=9999"
        ))
        .await,
    );
    assert_eq!(two.as_array().unwrap().len(), 2);

    // Dates: RFC 3339, inclusive start, exclusive end.
    let far = app
        .get("/open311/v2/requests.json?end_date=2000-01-01T00:00:00%2B08:00")
        .await;
    assert_eq!(json(&far).as_array().unwrap().len(), 0);
    let recent = chrono::Utc::now() - chrono::Duration::days(10);
    let since: Vec<_> = all.iter().filter(|r| r.received_at >= recent).collect();
    let q = serde_urlencoded::to_string([("start_date", recent.to_rfc3339())]).unwrap();
    let got = json(&app.get(&format!("/open311/v2/requests.json?{q}")).await);
    assert_eq!(got.as_array().unwrap().len(), since.len());
    let wrong = app
        .get("/open311/v2/requests.xml?start_date=yesterday")
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(xml(&wrong).contains("start_date"));

    // Received 120 days ago: outside the default window, found with dates.
    let old = &all[0];
    db::entities::request::Entity::update_many()
        .col_expr(
            db::entities::request::Column::ReceivedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::days(120)),
        )
        .filter(db::entities::request::Column::Id.eq(old.id))
        .exec(&app.db)
        .await
        .unwrap();
    let window = app.get("/open311/v2/requests.json").await;
    assert_eq!(json(&window).as_array().unwrap().len(), all.len() - 1);
    assert!(!window.body.contains(&old.tracking_no));
    let start = (chrono::Utc::now() - chrono::Duration::days(200)).to_rfc3339();
    let q = serde_urlencoded::to_string([("start_date", start)]).unwrap();
    let wide = app.get(&format!("/open311/v2/requests.json?{q}")).await;
    assert_eq!(json(&wide).as_array().unwrap().len(), all.len());

    let x = app.get("/open311/v2/requests.xml?status=open").await;
    let body = xml(&x);
    assert!(body.contains("<service_requests><request>"));
    assert_eq!(body.matches("<request>").count(), all.len() - done);
}

#[tokio::test]
async fn one_request_is_an_array_and_statuses_are_mapped_honestly() {
    let app = seeded().await;
    let all = all_requests(&app).await;
    let done = all
        .iter()
        .find(|r| r.status.as_str() == "done" && !r.on_the_spot)
        .unwrap();
    let r = app
        .get(&format!("/open311/v2/requests/{}.json", done.tracking_no))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let v = json(&r);
    assert_eq!(v.as_array().unwrap().len(), 1);
    let v = &v[0];
    assert_eq!(v["service_request_id"], done.tracking_no.as_str());
    assert_eq!(v["status"], "closed");
    assert_eq!(v["status_notes"], done.result.as_deref().unwrap());
    assert_eq!(v["expected_datetime"], Value::Null);
    assert!(v["updated_datetime"].as_str().unwrap().ends_with("+08:00"));
    assert_eq!(v["service_code"], done.category_id.to_string());
    assert_eq!(v["address_id"], done.village_id.to_string());
    let units = db::units::all(&app.db).await.unwrap();
    let name = |id: i32| units.iter().find(|u| u.id == id).unwrap().name.clone();
    assert_eq!(v["address"], name(done.village_id));
    assert_eq!(v["agency_responsible"], name(done.current_unit().unwrap()));
    // The text only with consent.
    let expected = if done.consent_publish {
        done.content.as_str()
    } else {
        ""
    };
    assert_eq!(v["description"], expected);
    for r in &all {
        let v = json(
            &app.get(&format!("/open311/v2/requests/{}.json", r.tracking_no))
                .await,
        );
        if r.consent_publish {
            assert_eq!(v[0]["description"], r.content.as_str());
        } else {
            assert_eq!(v[0]["description"], "");
        }
    }

    let deferred = all
        .iter()
        .find(|r| r.status.as_str() == "deferred")
        .unwrap();
    let v = json(
        &app.get(&format!(
            "/open311/v2/requests/{}.json",
            deferred.tracking_no
        ))
        .await,
    );
    assert_eq!(v[0]["status"], "open");
    let notes = v[0]["status_notes"].as_str().unwrap();
    assert!(notes.contains("暂不能办"), "{notes}");
    assert!(notes.contains("资金未落实"), "{notes}");
    assert!(notes.contains(deferred.defer_explanation.as_deref().unwrap()));
    assert!(
        notes.contains(&deferred.review_on.unwrap().to_string()),
        "{notes}"
    );

    let waiting = all
        .iter()
        .find(|r| r.status.as_str() == "received")
        .unwrap();
    let v = json(
        &app.get(&format!(
            "/open311/v2/requests/{}.json",
            waiting.tracking_no
        ))
        .await,
    );
    assert_eq!(v[0]["status"], "open");
    assert_eq!(
        v[0]["expected_datetime"],
        format!("{}T23:59:59+08:00", waiting.due_on)
    );

    let x = app
        .get(&format!(
            "/open311/v2/requests/{}.xml",
            deferred.tracking_no
        ))
        .await;
    let body = xml(&x);
    assert_eq!(body.matches("<request>").count(), 1);
    assert!(body.contains("<status>open</status>"));

    let missing = app.get("/open311/v2/requests/ZZH-2026-999999.json").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(json(&missing)[0]["code"], 404);
    let format = app.get("/open311/v2/requests.csv").await;
    assert_eq!(format.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn no_personal_data_in_any_answer() {
    let app = seeded().await;
    let all = all_requests(&app).await;
    let mut bodies = vec![
        app.get("/open311/v2/requests.json").await.body,
        app.get("/open311/v2/requests.xml").await.body,
    ];
    for r in &all {
        for f in ["json", "xml"] {
            bodies.push(
                app.get(&format!("/open311/v2/requests/{}.{f}", r.tracking_no))
                    .await
                    .body,
            );
        }
    }
    for r in &all {
        let mut secrets = vec![
            r.name.raw().to_owned(),
            r.name.masked(),
            r.phone.raw().to_owned(),
            r.phone.masked(),
            r.access_code.as_str().to_owned(),
        ];
        if let Some(e) = &r.email {
            secrets.push(e.raw().to_owned());
        }
        if !r.address.is_empty() {
            secrets.push(r.address.clone());
        }
        for body in &bodies {
            for s in &secrets {
                assert!(!body.contains(s.as_str()), "{s} leaked");
            }
        }
    }
    for leak in ["张建国", "13800001001", "李秀英", "13800001002"] {
        for body in &bodies {
            assert!(!body.contains(leak), "{leak} leaked");
        }
    }
}

#[tokio::test]
async fn posting_needs_a_cadre_or_dispatcher_key_and_the_required_fields() {
    let app = TestApp::demo().await;
    let village = app.unit_id("金星村").await.to_string();
    let lamp = app.category_id("路灯").await.to_string();
    let form = |key: Option<&str>| {
        let mut f = vec![
            ("service_code", lamp.as_str()),
            ("address_id", village.as_str()),
            ("description", "村口路灯不亮"),
            ("last_name", "欧阳"),
            ("first_name", "娜娜"),
            ("phone", "13912345678"),
        ];
        if let Some(k) = key {
            f.push(("api_key", k));
        }
        f.into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<Vec<_>>()
    };

    // No key, a wrong key, a key of a role that may not log requests.
    let handler = app.token("handler").await;
    for key in [None, Some("wrong"), Some(handler.as_str())] {
        let fields = form(key);
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let r = post(&app, "/open311/v2/requests.json", &pairs).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{key:?}");
        assert_eq!(json(&r)[0]["code"], 403);
    }
    assert_eq!(all_requests(&app).await.len(), 0);

    // Missing fields: all reported, in Open311 form.
    let cadre = app.token("cadre").await;
    let r = post(
        &app,
        "/open311/v2/requests.json",
        &[("api_key", cadre.as_str())],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let errors = json(&r);
    let text = errors.to_string();
    for field in ["service_code", "description", "name", "phone", "address_id"] {
        assert!(text.contains(&format!("{field}: ")), "{field}: {text}");
    }
    assert!(errors.as_array().unwrap().iter().all(|e| e["code"] == 400));
    let r = post(
        &app,
        "/open311/v2/requests.xml",
        &[("api_key", cadre.as_str())],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(xml(&r).contains("<errors><error><code>400</code>"));
    assert_eq!(all_requests(&app).await.len(), 0);

    // The key in the query string, the rest in the form.
    let ok = serde_urlencoded::to_string(form(None)).unwrap();
    let r = app
        .send(
            Request::post(format!("/open311/v2/requests.json?api_key={cadre}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(ok))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = json(&r);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["account_id"], Value::Null);
    let no = v[0]["service_request_id"].as_str().unwrap().to_owned();
    let stored = all_requests(&app).await;
    assert_eq!(stored.len(), 1);
    let s = &stored[0];
    assert_eq!(s.tracking_no, no);
    assert_eq!(s.name.raw(), "欧阳娜娜");
    assert_eq!(s.source.as_str(), "online");
    assert!(!s.consent_publish);
    assert!(
        v[0]["service_notice"]
            .as_str()
            .unwrap()
            .contains(s.access_code.as_str())
    );

    // XML answer, with a `name` and the key in the form.
    let r = post(
        &app,
        "/open311/v2/requests.xml",
        &[
            ("api_key", cadre.as_str()),
            ("service_code", lamp.as_str()),
            ("address_id", village.as_str()),
            ("name", "王<五>"),
            ("phone", "13912345679"),
            ("description", "路灯 & 电线"),
        ],
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "names with <> are refused"
    );
    assert!(xml(&r).contains("name: "));
    let r = post(
        &app,
        "/open311/v2/requests.xml",
        &[
            ("api_key", cadre.as_str()),
            ("service_code", lamp.as_str()),
            ("address_id", village.as_str()),
            ("name", "王五"),
            ("phone", "13912345679"),
            ("description", "路灯 & <电线>"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(xml(&r).contains("<service_request_id>ZZH-"));

    // Another village than the cadre's is refused.
    let other = app.unit_id("马桥村").await.to_string();
    let r = post(
        &app,
        "/open311/v2/requests.json",
        &[
            ("api_key", cadre.as_str()),
            ("service_code", lamp.as_str()),
            ("address_id", other.as_str()),
            ("name", "王五"),
            ("phone", "13912345679"),
            ("description", "路灯不亮"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("address_id: "), "{}", r.body);
}
