//! Exports of search results and the ledger (CSV, XLSX) and the import of
//! paper-logged requests, as the staff use them.

use crate::helpers::{Resp, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use zhouzhouhui::db;
use zhouzhouhui::db::entities::request;
use zhouzhouhui::db::requests::Filter;
use zhouzhouhui::ledger::COLUMNS;

const BOM: &[u8] = b"\xEF\xBB\xBF";

async fn demo_with_requests() -> TestApp {
    let app = TestApp::demo().await;
    db::demo::seed_requests(&app.db).await.unwrap();
    app
}

async fn count_all(app: &TestApp) -> u64 {
    db::requests::count(&app.db, &Filter::default())
        .await
        .unwrap()
}

/// Requests visible in `unit`'s subtree, as the lists scope them.
async fn count_in(app: &TestApp, unit: &str) -> u64 {
    let tree = db::units::tree(&app.db).await.unwrap();
    let filter = Filter {
        scope: Some(tree.subtree(app.unit_id(unit).await)),
        ..Default::default()
    };
    db::requests::count(&app.db, &filter).await.unwrap()
}

/// The records of a CSV download (BOM checked and dropped).
fn csv_records(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(bytes.starts_with(BOM), "no BOM");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[3..])
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// The cells of the first sheet of an XLSX download, and the sheet's name.
fn xlsx_rows(bytes: &[u8]) -> (String, Vec<Vec<String>>) {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let rows = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    (name, rows)
}

/// Uploads a file to the import page as a browser would.
async fn upload(app: &TestApp, name: &str, bytes: &[u8], mode: &str) -> Resp {
    let csrf = app.get("/requests/import").await.csrf();
    let boundary = "----zzhtestboundary7MA4YWxk";
    let mut body = Vec::new();
    for (field, value) in [("csrf", csrf.as_str()), ("mode", mode)] {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    app.send(
        Request::post("/requests/import")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn search_csv_has_the_bom_the_header_and_the_filtered_rows_raw_for_a_cadre() {
    let app = demo_with_requests().await;
    app.login("cadre").await;
    let page = app.get("/requests?status=done").await;
    assert!(page.body.contains("/requests/export.csv?status=done"));
    let total: usize = page
        .body
        .split("data-total=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(total > 0);
    let (status, headers, bytes) = app.get_bytes("/requests/export.csv?status=done").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let records = csv_records(&bytes);
    assert_eq!(records[0], COLUMNS.to_vec());
    assert_eq!(records.len() - 1, total);
    assert!(records[1..].iter().all(|r| r[11].starts_with("已办结")));
    // The cadre sees the phone number as logged.
    assert!(
        records[1..]
            .iter()
            .any(|r| r[5] == "13800001001" && r[4] == "张建国"),
        "{records:?}"
    );
}

#[tokio::test]
async fn a_supervisor_gets_masked_names_and_phones() {
    let app = demo_with_requests().await;
    app.login("supervisor").await;
    let (status, _, bytes) = app.get_bytes("/requests/ledger.csv").await;
    assert_eq!(status, StatusCode::OK);
    let records = csv_records(&bytes);
    assert_eq!(records.len() as u64 - 1, count_in(&app, "马桥镇").await);
    for r in &records[1..] {
        assert!(r[5].contains("****"), "{r:?}");
        assert_eq!(r[4].chars().count(), 2, "{r:?}");
        assert!(r[4].ends_with('*'));
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("13800001001") && !text.contains("张建国"));
}

#[tokio::test]
async fn the_ledger_xlsx_opens_with_its_header_every_row_of_the_scope_and_a_chinese_name() {
    let app = demo_with_requests().await;
    app.login("cadre").await;
    let (status, headers, bytes) = app.get_bytes("/requests/ledger.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment; filename=\"zhouzhouhui-ledger-"));
    // 周周会诉求台账_
    assert!(disposition.contains(
        "filename*=UTF-8''%E5%91%A8%E5%91%A8%E4%BC%9A%E8%AF%89%E6%B1%82%E5%8F%B0%E8%B4%A6_"
    ));
    let (sheet, rows) = xlsx_rows(&bytes);
    assert_eq!(sheet, "诉求台账");
    assert_eq!(rows[0], COLUMNS.to_vec());
    let in_scope = count_in(&app, "金星村").await;
    assert!(in_scope > 0 && in_scope < count_all(&app).await);
    assert_eq!(rows.len() as u64 - 1, in_scope);
    assert!(rows[1..].iter().all(|r| r[2] == "金星村"), "{rows:?}");
    // A date range that holds nothing gives the header alone.
    let (_, _, bytes) = app
        .get_bytes("/requests/ledger.xlsx?from=2001-01-01&to=2001-01-31")
        .await;
    assert_eq!(xlsx_rows(&bytes).1.len(), 1);
}

#[tokio::test]
async fn an_exported_ledger_imports_into_a_fresh_app_once() {
    let source = demo_with_requests().await;
    source.login("dispatcher").await;
    let (_, _, bytes) = source.get_bytes("/requests/ledger.xlsx").await;
    let exported = xlsx_rows(&bytes).1.len() - 1;
    assert_eq!(exported as u64, count_in(&source, "马桥镇").await);

    let target = TestApp::demo().await;
    target.login("dispatcher").await;
    let check = upload(&target, "台账.xlsx", &bytes, "check").await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    assert!(check.body.contains(&format!("共 {exported} 条诉求")));
    assert_eq!(count_all(&target).await, 0, "a check writes nothing");

    let done = upload(&target, "台账.xlsx", &bytes, "import").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains(&format!("已导入 {exported} 条诉求")));
    assert_eq!(count_all(&target).await, exported as u64);
    let imported = request::Entity::find()
        .filter(request::Column::Source.eq("import"))
        .all(&target.db)
        .await
        .unwrap();
    assert_eq!(imported.len(), exported);
    // Routed as intake routes: a handling unit or a dispatcher queue.
    assert!(
        imported
            .iter()
            .all(|r| r.handler_unit_id.is_some() || r.queue_unit_id.is_some())
    );
    assert!(imported.iter().any(|r| r.requester_name == "张建国"));

    // The same file again adds nothing.
    let again = upload(&target, "台账.xlsx", &bytes, "import").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert!(again.body.contains("已导入 0 条诉求"));
    assert_eq!(count_all(&target).await, exported as u64);
}

#[tokio::test]
async fn a_gb18030_csv_from_chinese_excel_imports() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let text = "村居,地址,诉求人,联系电话,诉求分类,类型,诉求内容\r\n\
                金星村,3组,王小二,139 0000 1111,道路交通 › 路灯,投诉,村口路灯不亮\r\n\
                金星村,,李四,021-64001234,路灯,,河边护栏松动，请修理\r\n";
    let (bytes, _, bad) = encoding_rs::GB18030.encode(text);
    assert!(!bad);
    assert!(std::str::from_utf8(&bytes).is_err(), "really GB18030");
    let r = upload(&app, "登记.csv", &bytes, "import").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("已导入 2 条诉求"), "{}", r.body);
    let rows = request::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len(), 2);
    let wang = rows.iter().find(|r| r.requester_name == "王小二").unwrap();
    assert_eq!(wang.phone, "13900001111");
    assert_eq!(wang.req_type, "complaint");
    assert_eq!(wang.source, "import");
    assert!(wang.logged_by.is_some());
}

#[tokio::test]
async fn a_file_with_three_bad_rows_imports_nothing_and_names_the_three_rows() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let text = "\u{feff}村居,诉求人,联系电话,诉求分类,诉求内容\n\
                金星村,王小二,12345,路灯,村口路灯不亮\n\
                金星村,李四,13900001112,路灯,路灯又坏了\n\
                火星村,赵五,13900001113,路灯,路灯坏了\n\
                金星村,钱六,13900001114,没有的分类,路灯坏了\n\
                金星村,孙七,13900001115,路灯,桥头路灯闪烁\n";
    let r = upload(&app, "登记.csv", text.as_bytes(), "import").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("有 3 行有问题"), "{}", r.body);
    for line in [
        "第 2 行 联系电话：",
        "第 4 行 村居：没有这个村居",
        "第 5 行 诉求分类：没有这个诉求分类",
    ] {
        assert!(r.body.contains(line), "{line} in {}", r.body);
    }
    assert!(!r.body.contains("第 3 行") && !r.body.contains("第 6 行"));
    assert_eq!(count_all(&app).await, 0);
}

#[tokio::test]
async fn a_cadre_cannot_import_for_another_village_and_missing_columns_are_named() {
    let app = TestApp::demo().await;
    app.login("cadre").await;
    let text = "村居,诉求人,联系电话,诉求分类,诉求内容\n马桥村,王小二,13900001111,路灯,路灯坏了\n";
    let r = upload(&app, "a.csv", text.as_bytes(), "check").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("第 2 行 村居：超出您的管辖范围"),
        "{}",
        r.body
    );
    let r = upload(
        &app,
        "b.csv",
        "村居,诉求人\n金星村,王\n".as_bytes(),
        "check",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("缺少“联系电话”列"), "{}", r.body);
}

#[tokio::test]
async fn handlers_cannot_import_and_nobody_exports_without_logging_in() {
    let app = TestApp::demo().await;
    let r = app.get("/requests/ledger.csv").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    app.login("handler").await;
    assert_eq!(
        app.get("/requests/import").await.status,
        StatusCode::FORBIDDEN
    );
    let r = upload(&app, "a.csv", "村居\n".as_bytes(), "import").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A handler exports what it handles, raw.
    let (status, _, _) = app.get_bytes("/requests/ledger.csv").await;
    assert_eq!(status, StatusCode::OK);
    // Templates download for the staff.
    app.login("cadre").await;
    let (status, _, bytes) = app.get_bytes("/requests/import/template.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    let (sheet, rows) = xlsx_rows(&bytes);
    assert_eq!(sheet, "诉求导入模板");
    assert_eq!(rows.len(), 1);
    let (_, _, bytes) = app.get_bytes("/requests/import/template.csv").await;
    assert_eq!(csv_records(&bytes)[0][0], "村居");
}

#[test]
fn the_command_line_exports_the_raw_ledger_and_checks_an_import() {
    use std::process::Command;
    let bin = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_zhouzhouhui"));
        c.env_remove("DATABASE_URL").env("RUST_LOG", "warn");
        c
    };
    let dir = std::env::temp_dir().join(format!("zzh-cli-ledger-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| {
        let out = bin().current_dir(&dir).args(args).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    assert!(run(&["demo"]).0);
    let (ok, text) = run(&["export", "--format", "csv", "--out", "ledger.csv"]);
    assert!(ok, "{text}");
    let records = csv_records(&std::fs::read(dir.join("ledger.csv")).unwrap());
    assert_eq!(records[0], COLUMNS.to_vec());
    assert!(text.contains(&format!("exported {} requests", records.len() - 1)));
    // An operator tool: the data as logged.
    assert!(records.iter().any(|r| r[5] == "13800001001"));
    let (ok, text) = run(&["export", "--format", "xlsx", "--out", "ledger.xlsx"]);
    assert!(ok, "{text}");
    let (_, rows) = xlsx_rows(&std::fs::read(dir.join("ledger.xlsx")).unwrap());
    assert_eq!(rows.len(), records.len());

    let (ok, text) = run(&["import", "ledger.csv", "--as", "dispatcher", "--dry-run"]);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("check passed: {} requests", records.len() - 1)),
        "{text}"
    );
    std::fs::write(
        dir.join("bad.csv"),
        "村居,诉求人,联系电话,诉求分类,诉求内容\n金星村,王小二,12345,路灯,路灯不亮\n",
    )
    .unwrap();
    let (ok, text) = run(&["import", "bad.csv", "--as", "cadre"]);
    assert!(!ok);
    assert!(text.contains("第 2 行 联系电话："), "{text}");
    let (ok, text) = run(&["import", "bad.csv", "--as", "handler"]);
    assert!(!ok);
    assert!(text.contains("只有村干部和派单员可以登记诉求"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn queue_tabs_the_overdue_list_and_agendas_download_with_their_rows() {
    let app = TestApp::demo().await;
    zhouzhouhui::db::demo::seed_requests(&app.db).await.unwrap();
    let dispatcher = app.token("dispatcher").await;
    let overdue = app
        .api(
            "GET",
            "/api/v1/requests?overdue=true&per_page=200",
            Some(&dispatcher),
            None,
        )
        .await
        .json();
    app.login("dispatcher").await;
    let (status, _, bytes) = app.get_bytes("/overdue/export.csv").await;
    assert_eq!(status, StatusCode::OK);
    let rows = csv_records(&bytes);
    assert_eq!(
        rows.len() as u64 - 1,
        overdue["total"].as_u64().unwrap(),
        "header + one row each"
    );
    let (status, _, bytes) = app.get_bytes("/queue/export.xlsx?tab=dispatch").await;
    assert_eq!(status, StatusCode::OK);
    let (_, sheet) = xlsx_rows(&bytes);
    assert!(!sheet.is_empty());

    // A cadre has no overdue list, but downloads its queue and today's agenda.
    app.login("cadre").await;
    let (status, _, _) = app.get_bytes("/overdue/export.csv").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let cadre = app.token("cadre").await;
    let meetings = app
        .api("GET", "/api/v1/meetings", Some(&cadre), None)
        .await
        .json();
    let open = meetings["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["closed"] == false)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let agenda = app
        .api(
            "GET",
            &format!("/api/v1/meetings/{open}/agenda"),
            Some(&cadre),
            None,
        )
        .await
        .json();
    let mut expected: Vec<&str> = ["new", "carried_over", "due_for_review", "report_back"]
        .iter()
        .flat_map(|k| agenda[*k].as_array().unwrap().iter())
        .map(|i| i["tracking_no"].as_str().unwrap())
        .collect();
    expected.sort_unstable();
    expected.dedup();
    let (status, _, bytes) = app.get_bytes(&format!("/meetings/{open}/agenda.csv")).await;
    assert_eq!(status, StatusCode::OK);
    let rows = csv_records(&bytes);
    let mut got: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    got.sort_unstable();
    assert_eq!(got, expected);
    assert_eq!(
        app.get_bytes(&format!("/meetings/{open}/agenda.pdf"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_board_downloads_exactly_what_it_publishes() {
    let app = TestApp::demo().await;
    zhouzhouhui::db::demo::seed_requests(&app.db).await.unwrap();
    let village = app.unit_id("金星村").await;
    let (status, _, bytes) = app.get_bytes(&format!("/board/{village}/export.csv")).await;
    assert_eq!(status, StatusCode::OK);
    let rows = csv_records(&bytes);
    assert_eq!(rows[0][0], "工单编号");
    let board = app
        .api(
            "GET",
            &format!("/api/v1/public/boards/{village}"),
            None,
            None,
        )
        .await
        .json();
    assert_eq!(rows.len() - 1, board["items"].as_array().unwrap().len());
    let text = String::from_utf8_lossy(&bytes);
    for raw in ["张建国", "13800001001", "金星村3组"] {
        assert!(!text.contains(raw), "{raw} leaked");
    }
    let (status, _, bytes) = app
        .get_bytes(&format!("/board/{village}/export.xlsx"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (sheet, cells) = xlsx_rows(&bytes);
    assert_eq!(sheet, "公开栏");
    assert_eq!(cells.len(), rows.len());
}
