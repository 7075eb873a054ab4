use crate::helpers::TestApp;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// Follows `$ref`s and picks the non-null side of `oneOf` (an `Option`).
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        return resolve(doc, &doc["components"]["schemas"][name]);
    }
    if let Some(s) = schema["oneOf"]
        .as_array()
        .and_then(|any| any.iter().find(|s| s["type"] != "null"))
    {
        return resolve(doc, s);
    }
    schema
}

/// An object schema's properties and required names, `allOf` merged.
fn object(doc: &Value, schema: &Value) -> Option<(serde_json::Map<String, Value>, Vec<String>)> {
    let s = resolve(doc, schema);
    let mut props = s["properties"].as_object().cloned().unwrap_or_default();
    let mut required: Vec<String> = s["required"]
        .as_array()
        .map(|r| r.iter().map(|x| x.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    for part in s["allOf"].as_array().into_iter().flatten() {
        let (p, r) = object(doc, part)?;
        props.extend(p);
        required.extend(r);
    }
    (!props.is_empty()).then_some((props, required))
}

/// Every key of `value` is a property of the schema, every required
/// property is there, and the same holds all the way down.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let s = resolve(doc, schema);
    match value {
        Value::Object(map) => {
            let (props, required) =
                object(doc, s).unwrap_or_else(|| panic!("{at}: no object schema in {s}"));
            for k in map.keys() {
                assert!(props.contains_key(k), "{at}.{k} is not in the schema");
            }
            for r in &required {
                assert!(map.contains_key(r), "{at}.{r} is required but missing");
            }
            for (k, v) in map {
                if !v.is_null() {
                    conforms(doc, &props[k], v, &format!("{at}.{k}"));
                }
            }
        }
        Value::Array(items) => {
            let item = &s["items"];
            assert!(!item.is_null(), "{at}: no array schema in {s}");
            for (i, v) in items.iter().enumerate() {
                conforms(doc, item, v, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

fn response_schema<'a>(doc: &'a Value, path: &str, method: &str, status: u16) -> &'a Value {
    let s = &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]
        ["schema"];
    assert!(!s.is_null(), "{method} {path} {status} is not described");
    s
}

#[tokio::test]
async fn the_document_describes_what_the_server_really_sends() {
    let app = TestApp::demo().await;
    zhouzhouhui::db::demo::seed_requests(&app.db).await.unwrap();
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let check = |path: &str, method: &str, status: u16, body: &Value| {
        conforms(
            &doc,
            response_schema(&doc, path, method, status),
            body,
            path,
        );
    };

    let token = app.token("cadre").await;
    let t = app
        .api(
            "POST",
            "/api/v1/auth/token",
            None,
            Some(json!({"username": "cadre", "password": crate::helpers::PW})),
        )
        .await;
    check("/api/v1/auth/token", "post", 200, &t.json());
    let wrong = app
        .api(
            "POST",
            "/api/v1/auth/token",
            None,
            Some(json!({"username": "cadre", "password": "wrong"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    check("/api/v1/auth/token", "post", 401, &wrong.json());
    let me = app.api("GET", "/api/v1/me", Some(&token), None).await;
    check("/api/v1/me", "get", 200, &me.json());

    // The check itself catches an undescribed key and a missing required one.
    let units_schema = response_schema(&doc, "/api/v1/units", "get", 200);
    for wrong in [
        json!({"items": [], "total": 0, "secret": 1}),
        json!({"items": [{"id": 1, "name": "x", "kind": "village", "phone": "1"}], "total": 1}),
        json!({"items": []}),
    ] {
        let caught = std::panic::catch_unwind(|| conforms(&doc, units_schema, &wrong, "x"));
        assert!(caught.is_err(), "{wrong}");
    }

    let units = app.api("GET", "/api/v1/units", Some(&token), None).await;
    assert_eq!(units.status, StatusCode::OK);
    check("/api/v1/units", "get", 200, &units.json());
    let cats = app
        .api("GET", "/api/v1/categories", Some(&token), None)
        .await;
    check("/api/v1/categories", "get", 200, &cats.json());

    let page = app.api("GET", "/api/v1/requests", Some(&token), None).await;
    let page = page.json();
    check("/api/v1/requests", "get", 200, &page);
    let no = page["items"][0]["tracking_no"].as_str().unwrap().to_owned();
    let detail = app
        .api("GET", &format!("/api/v1/requests/{no}"), Some(&token), None)
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    check("/api/v1/requests/{tracking_no}", "get", 200, &detail.json());

    let village = app.unit_id("金星村").await;
    let cat = app.category_id("路灯").await;
    let created = app
        .api("POST", "/api/v1/requests", Some(&token), Some(json!({"requester_name": "欧阳娜娜", "phone": "13912345678", "village_id": village, "category_id": cat, "content": "路灯坏了"})))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let created = created.json();
    check("/api/v1/requests", "post", 201, &created);
    let public = app
        .get(&format!(
            "/api/v1/public/requests/{}?code={}",
            created["tracking_no"].as_str().unwrap(),
            created["access_code"].as_str().unwrap()
        ))
        .await;
    assert_eq!(public.status, StatusCode::OK);
    check(
        "/api/v1/public/requests/{tracking_no}",
        "get",
        200,
        &public.json(),
    );

    let done = zhouzhouhui::db::requests::list(
        &app.db,
        &zhouzhouhui::db::requests::Filter {
            status: Some(zhouzhouhui::domain::request::Status::Done),
            ..Default::default()
        },
        1,
        1,
    )
    .await
    .unwrap()
    .0
    .remove(0);
    let rated = app
        .api(
            "POST",
            &format!("/api/v1/public/requests/{}/rating", done.tracking_no),
            None,
            Some(json!({"code": done.access_code.as_str(), "rating": "satisfied"})),
        )
        .await;
    assert_eq!(rated.status, StatusCode::OK, "{}", rated.body);
    check(
        "/api/v1/public/requests/{tracking_no}/rating",
        "post",
        200,
        &rated.json(),
    );

    // Statistics.
    let dispatcher = app.token("dispatcher").await;
    let stats = app
        .api("GET", "/api/v1/stats", Some(&dispatcher), None)
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    check("/api/v1/stats", "get", 200, &stats.json());

    // Meetings and boards.
    let meetings = app.api("GET", "/api/v1/meetings", Some(&token), None).await;
    assert_eq!(meetings.status, StatusCode::OK);
    let meetings = meetings.json();
    check("/api/v1/meetings", "get", 200, &meetings);
    let closed = meetings["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["closed"] == true)
        .unwrap()["id"]
        .clone();
    for (path, template) in [
        (
            format!("/api/v1/meetings/{closed}"),
            "/api/v1/meetings/{id}",
        ),
        (
            format!("/api/v1/meetings/{closed}/agenda"),
            "/api/v1/meetings/{id}/agenda",
        ),
        (
            format!("/api/v1/meetings/{closed}/tally-check"),
            "/api/v1/meetings/{id}/tally-check",
        ),
    ] {
        let r = app.api("GET", &path, Some(&token), None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        check(template, "get", 200, &r.json());
    }
    let board = app.get(&format!("/api/v1/public/boards/{village}")).await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    check("/api/v1/public/boards/{unit_id}", "get", 200, &board.json());

    // The administrator's side.
    let admin = app.token("admin").await;
    for path in ["/api/v1/routing-rules", "/api/v1/users", "/api/v1/calendar"] {
        let r = app.api("GET", path, Some(&admin), None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        check(path, "get", 200, &r.json());
    }
    let user = app.api("GET", "/api/v1/users/1", Some(&admin), None).await;
    check("/api/v1/users/{id}", "get", 200, &user.json());
    let resolved = app
        .api(
            "GET",
            &format!("/api/v1/routing-rules/resolve?village_id={village}&category_id={cat}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK);
    check(
        "/api/v1/routing-rules/resolve",
        "get",
        200,
        &resolved.json(),
    );
    let town = app.unit_id("马桥镇").await;
    let unit = app
        .api(
            "POST",
            "/api/v1/units",
            Some(&admin),
            Some(json!({"name": "新华村", "kind": "village", "parent_id": town})),
        )
        .await;
    assert_eq!(unit.status, StatusCode::CREATED);
    check("/api/v1/units", "post", 201, &unit.json());
    let day = app
        .api(
            "POST",
            "/api/v1/calendar",
            Some(&admin),
            Some(json!({"day": "2027-06-14", "kind": "holiday", "note": "端午节"})),
        )
        .await;
    assert_eq!(day.status, StatusCode::CREATED);
    check("/api/v1/calendar", "post", 201, &day.json());

    // Errors: not found, validation with details, an illegal move.
    let missing = app
        .api("GET", "/api/v1/units/9999", Some(&token), None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    check("/api/v1/units/{id}", "get", 404, &missing.json());
    let invalid = app
        .api(
            "POST",
            "/api/v1/requests",
            Some(&token),
            Some(json!({"content": "x"})),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    check("/api/v1/requests", "post", 422, &invalid.json());
    let handler = app.token("handler").await;
    let path = format!(
        "/api/v1/requests/{}/actions",
        created["tracking_no"].as_str().unwrap()
    );
    app.api(
        "POST",
        &path,
        Some(&handler),
        Some(json!({"action": "accept"})),
    )
    .await;
    let twice = app
        .api(
            "POST",
            &path,
            Some(&handler),
            Some(json!({"action": "accept"})),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    check(
        "/api/v1/requests/{tracking_no}/actions",
        "post",
        409,
        &twice.json(),
    );
}
