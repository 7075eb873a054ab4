use crate::helpers::TestApp;
use axum::body::Body;
use axum::http::{Request, StatusCode};

#[tokio::test]
async fn an_admin_adds_a_village_through_the_page() {
    let app = TestApp::demo().await;
    app.login("admin").await;
    let town = app.unit_id("马桥镇").await.to_string();
    let r = app
        .submit(
            "/admin/units",
            "/admin/units",
            &[
                ("name", "新建村"),
                ("kind", "village"),
                ("parent_id", &town),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/admin/units");
    assert!(app.get("/admin/units").await.body.contains("新建村"));
}

#[tokio::test]
async fn bad_unit_input_re_renders_the_form_with_chinese_messages_and_changes_nothing() {
    let app = TestApp::demo().await;
    app.login("admin").await;
    let before = app.unit_count().await;
    let town = app.unit_id("马桥镇").await.to_string();
    let county = app.unit_id("闵行区").await.to_string();
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("name", "  "), ("kind", "village"), ("parent_id", &town)],
            "此项必填",
        ),
        (
            &[
                ("name", "金星村"),
                ("kind", "village"),
                ("parent_id", &town),
            ],
            "同一上级下已有同名单位",
        ),
        (
            &[
                ("name", "错位村"),
                ("kind", "village"),
                ("parent_id", &county),
            ],
            "村居挂镇街下",
        ),
        (
            &[
                ("name", "无主村"),
                ("kind", "village"),
                ("parent_id", "99999"),
            ],
            "上级单位不存在",
        ),
        (
            &[
                ("name", "乱码村"),
                ("kind", "village"),
                ("parent_id", "abc"),
            ],
            "请填写数字",
        ),
    ];
    for (fields, message) in cases {
        let r = app.submit("/admin/units", "/admin/units", fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(r.body.contains(message), "expected {message}");
        assert!(r.body.contains("请按下方提示修改"), "summary for {message}");
    }
    assert_eq!(app.unit_count().await, before);
}

#[tokio::test]
async fn moving_a_township_under_its_own_village_is_refused() {
    let app = TestApp::demo().await;
    app.login("admin").await;
    let town = app.unit_id("马桥镇").await;
    let village = app.unit_id("金星村").await.to_string();
    let page = format!("/admin/units/{town}");
    assert_eq!(app.get(&page).await.status, StatusCode::OK);
    let r = app
        .submit(
            &page,
            &page,
            &[
                ("name", "马桥镇"),
                ("kind", "township"),
                ("parent_id", &village),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("不能把单位挂到它自己或它的下级单位下面"));
    let county = app.unit_id("闵行区").await;
    let unit = zhouzhouhui::db::units::get(&app.db, town).await.unwrap();
    assert_eq!(unit.parent_id, Some(county));
}

#[tokio::test]
async fn forms_without_the_csrf_token_or_from_another_site_change_nothing() {
    let app = TestApp::demo().await;
    app.login("admin").await;
    let before = app.unit_count().await;
    let town = app.unit_id("马桥镇").await.to_string();
    let fields = [
        ("name", "伪造村"),
        ("kind", "village"),
        ("parent_id", town.as_str()),
    ];
    let r = app.post_form("/admin/units", &fields).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("表单已过期"));
    let r = app
        .post_form(
            "/admin/units",
            &[fields[0], fields[1], fields[2], ("csrf", "wrong")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Right token, but posted from another site.
    let csrf = app.get("/admin/units").await.csrf();
    let body =
        serde_urlencoded::to_string([fields[0], fields[1], fields[2], ("csrf", csrf.as_str())])
            .unwrap();
    let r = app
        .send(
            Request::post("/admin/units")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "cross-site")
                .header("origin", "https://evil.example")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .send(
            Request::post("/admin/units")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", "https://evil.example")
                .header("host", "zzh.test")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.unit_count().await, before);
}

#[tokio::test]
async fn categories_are_created_and_edited_with_two_levels_at_most() {
    let app = TestApp::demo().await;
    app.login("admin").await;
    let r = app
        .submit(
            "/admin/categories",
            "/admin/categories",
            &[
                ("name", "文化体育"),
                ("time_limit_days", "10"),
                ("parent_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let top = app.category_id("文化体育").await.to_string();
    let r = app
        .submit(
            "/admin/categories",
            "/admin/categories",
            &[
                ("name", "健身设施"),
                ("time_limit_days", "5"),
                ("parent_id", &top),
                ("bring_note", "请提供设施位置"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let child = app.category_id("健身设施").await.to_string();
    let r = app
        .submit(
            "/admin/categories",
            "/admin/categories",
            &[
                ("name", "第三级"),
                ("time_limit_days", "5"),
                ("parent_id", &child),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("分类最多两级"));
    let r = app
        .submit(
            "/admin/categories",
            "/admin/categories",
            &[("name", "负时限"), ("time_limit_days", "-1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("时限应为 0 到 365 个工作日"));
    let page = app.get("/admin/categories").await;
    assert!(page.body.contains("健身设施") && page.body.contains("请提供设施位置"));
    assert!(!page.body.contains("第三级"));
    // Edit the child's limit.
    let edit = format!("/admin/categories/{child}");
    let r = app
        .submit(
            &edit,
            &edit,
            &[
                ("name", "健身设施"),
                ("time_limit_days", "7"),
                ("parent_id", &top),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let c = zhouzhouhui::db::categories::get(&app.db, child.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(c.time_limit_days, 7);
}

#[tokio::test]
async fn the_test_a_route_box_names_the_unit_and_the_rule() {
    let app = TestApp::demo().await;
    app.login("dispatcher").await;
    let village = app.unit_id("金星村").await;
    let lamp = app.category_id("路灯").await;
    let r = app
        .get(&format!(
            "/admin/rules?village_id={village}&category_id={lamp}"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("派至：城建办"), "{}", r.body);
    assert!(r.body.contains("由规则 道路交通 › 路灯@马桥镇 派至 城建办"));
    let potholes = app.category_id("道路破损").await;
    let r = app
        .get(&format!(
            "/admin/rules?village_id={village}&category_id={potholes}"
        ))
        .await;
    assert!(
        r.body.contains("由规则 道路交通@马桥镇 派至 城建办"),
        "child falls back to parent"
    );
    // Dispatchers read but do not edit rules.
    assert!(
        !r.body
            .contains("<form method=\"post\" action=\"/admin/rules\">")
    );
    assert!(!r.body.contains("/delete"));
}

#[tokio::test]
async fn an_admin_adds_and_deletes_a_rule_through_the_page() {
    let app = TestApp::demo().await;
    app.login("admin").await;
    let village = app.unit_id("金星村").await.to_string();
    let water = app.unit_id("水务站").await.to_string();
    let lamp = app.category_id("路灯").await.to_string();
    let r = app
        .submit(
            "/admin/rules",
            "/admin/rules",
            &[
                ("category_id", &lamp),
                ("area_unit_id", &village),
                ("handler_unit_id", &water),
                ("time_limit_days", "2"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .get(&format!(
            "/admin/rules?village_id={village}&category_id={lamp}"
        ))
        .await;
    assert!(r.body.contains("由规则 道路交通 › 路灯@金星村 派至 水务站"));
    // Same (category, area) twice is refused.
    let r = app
        .submit(
            "/admin/rules",
            "/admin/rules",
            &[
                ("category_id", &lamp),
                ("area_unit_id", &village),
                ("handler_unit_id", &water),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("该分类在该辖区已有规则"));
    // A handler that does not exist.
    let r = app
        .submit(
            "/admin/rules",
            "/admin/rules",
            &[
                ("category_id", &lamp),
                ("area_unit_id", &app.unit_id("马桥村").await.to_string()),
                ("handler_unit_id", "99999"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("单位不存在"));
    let rules = zhouzhouhui::db::rules::all(&app.db).await.unwrap();
    let added = rules
        .iter()
        .find(|r| r.area_unit_id.to_string() == village && r.category_id.to_string() == lamp)
        .unwrap();
    let r = app
        .submit(
            "/admin/rules",
            &format!("/admin/rules/{}/delete", added.id),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .get(&format!(
            "/admin/rules?village_id={village}&category_id={lamp}"
        ))
        .await;
    assert!(r.body.contains("由规则 道路交通 › 路灯@马桥镇 派至 城建办"));
}

#[tokio::test]
async fn holidays_and_make_up_days_are_recorded_and_bad_dates_refused() {
    let app = TestApp::demo().await;
    app.login("admin").await;
    let r = app
        .submit(
            "/admin/calendar",
            "/admin/calendar",
            &[
                ("day", "2027-05-03"),
                ("kind", "holiday"),
                ("note", "劳动节"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.get("/admin/calendar").await.body.contains("2027-05-03"));
    let r = app
        .submit(
            "/admin/calendar",
            "/admin/calendar",
            &[("day", "2027-13-40"), ("kind", "holiday")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("日期格式应为 YYYY-MM-DD"));
    let cal = zhouzhouhui::db::calendar::load(&app.db).await.unwrap();
    let d = chrono::NaiveDate::from_ymd_opt(2027, 4, 30).unwrap();
    // Friday 2027-04-30 + 1 working day skips the weekend and the 3rd.
    assert_eq!(
        cal.due_on(d, 1),
        chrono::NaiveDate::from_ymd_opt(2027, 5, 4).unwrap()
    );
    let r = app
        .submit("/admin/calendar", "/admin/calendar/2027-05-03/delete", &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!app.get("/admin/calendar").await.body.contains("2027-05-03"));
}

#[tokio::test]
async fn accounts_are_created_with_checks_and_the_new_user_can_log_in() {
    let app = TestApp::demo().await;
    app.login("admin").await;
    let village = app.unit_id("同心村").await.to_string();
    let base = [
        ("display_name", "王书记"),
        ("role", "cadre"),
        ("unit_id", village.as_str()),
    ];
    let with = |u: &'static str, p: &'static str| {
        let mut v = base.to_vec();
        v.push(("username", u));
        v.push(("password", p));
        v
    };
    let r = app
        .submit(
            "/admin/users",
            "/admin/users",
            &with("cadre", "long-enough-1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("用户名已被使用"));
    let r = app
        .submit("/admin/users", "/admin/users", &with("tongxin", "short"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("密码至少 8 位"));
    let r = app
        .submit(
            "/admin/users",
            "/admin/users",
            &with("空 格", "long-enough-1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .submit(
            "/admin/users",
            "/admin/users",
            &with("tongxin", "long-enough-1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // The new cadre logs in and sees 同心村.
    app.clear_cookies();
    let csrf = app.get("/login").await.csrf();
    let r = app
        .post_form(
            "/login",
            &[
                ("username", "tongxin"),
                ("password", "long-enough-1"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let home = app.get("/staff").await;
    assert!(home.body.contains("王书记") && home.body.contains("同心村"));
}

#[tokio::test]
async fn an_admin_cannot_lock_themself_out() {
    let app = TestApp::demo().await;
    app.login("admin").await;
    let users = zhouzhouhui::db::users::list(&app.db, None).await.unwrap();
    let me = users.iter().find(|u| u.username == "admin").unwrap();
    let page = format!("/admin/users/{}", me.id);
    let unit = me.unit_id.to_string();
    let r = app
        .submit(
            &page,
            &page,
            &[
                ("display_name", "x"),
                ("role", "cadre"),
                ("unit_id", &unit),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        zhouzhouhui::db::users::get(&app.db, me.id)
            .await
            .unwrap()
            .role,
        zhouzhouhui::domain::role::Role::Admin
    );
}
