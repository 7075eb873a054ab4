//! Import of paper-logged requests (导入纸质登记) from XLSX or CSV: a check
//! that names every bad row and cell, and an import that writes all rows or none.

use crate::ledger::import;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::PageError;
use crate::web::form::constant_time_eq;
use crate::web::page::PageCtx;
use crate::web::scope;
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;

/// Tracking numbers listed after an import (the rest are in the search).
const LISTED: usize = 200;

#[derive(Template)]
#[template(path = "requests/import.html")]
struct ImportPage {
    ctx: PageCtx,
    /// The outcome in one sentence.
    outcome: Option<String>,
    /// Whether the outcome is an error.
    failed: bool,
    /// "第 N 行 联系电话：…", every problem.
    problems: Vec<String>,
    /// Requests created now.
    created: Vec<String>,
    max_rows: usize,
}

impl ImportPage {
    fn blank(staff: &Staff) -> ImportPage {
        ImportPage {
            ctx: staff.ctx(),
            outcome: None,
            failed: false,
            problems: Vec::new(),
            created: Vec::new(),
            max_rows: import::MAX_ROWS,
        }
    }

    fn failed(staff: &Staff, key: &str) -> Response {
        let page = ImportPage {
            outcome: Some(staff.tr.t(key)),
            failed: true,
            ..ImportPage::blank(staff)
        };
        render(StatusCode::UNPROCESSABLE_ENTITY, &page)
    }
}

fn render(status: StatusCode, page: &ImportPage) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => PageError::from(e).into_response(),
    }
}

fn require_import(staff: &Staff) -> Result<(), PageError> {
    if scope::runs_any_meeting(&staff.user) {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

/// `GET /requests/import`.
pub(super) async fn new(staff: Staff) -> Result<Response, PageError> {
    require_import(&staff)?;
    Ok(render(StatusCode::OK, &ImportPage::blank(&staff)))
}

/// The upload: CSRF token, mode (`check` or `import`) and the file.
#[derive(Default)]
struct Upload {
    csrf: String,
    dry_run: bool,
    file: Vec<u8>,
}

async fn read_upload(
    mut mp: Multipart,
) -> Result<Upload, axum::extract::multipart::MultipartError> {
    let mut up = Upload::default();
    while let Some(field) = mp.next_field().await? {
        match field.name().unwrap_or_default() {
            "csrf" => up.csrf = field.text().await?,
            "mode" => up.dry_run = field.text().await? != "import",
            "file" => up.file = field.bytes().await?.to_vec(),
            _ => {}
        }
    }
    Ok(up)
}

/// `POST /requests/import` (multipart): check, or check and import.
pub(super) async fn create(
    State(state): State<AppState>,
    staff: Staff,
    mp: Multipart,
) -> Result<Response, PageError> {
    require_import(&staff)?;
    let up = match read_upload(mp).await {
        Ok(up) => up,
        Err(_) => return Ok(ImportPage::failed(&staff, "exp.err.upload")),
    };
    if !constant_time_eq(up.csrf.as_bytes(), staff.csrf.as_bytes()) {
        return Err(PageError::Csrf);
    }
    if up.file.is_empty() {
        return Ok(ImportPage::failed(&staff, "exp.err.no_file"));
    }
    let report = import::run(
        state.db(),
        &staff.user,
        &up.file,
        up.dry_run,
        &scope::route_words(),
        state.config().reach(),
        Utc::now(),
    )
    .await
    .map_err(|e| PageError::Internal(e.to_string()))?;
    let tr = staff.tr;
    let lang = tr.lang();
    let c = &report.checked;
    let mut page = ImportPage::blank(&staff);
    page.problems = c
        .file_errors
        .iter()
        .map(|e| e.text(lang))
        .chain(c.cell_errors.iter().map(|e| e.text(lang)))
        .collect();
    let status = if !page.problems.is_empty() {
        page.failed = true;
        let key = if c.file_errors.is_empty() {
            "exp.import.bad_rows"
        } else {
            "exp.import.bad_file"
        };
        page.outcome = Some(tr.t(key).replace("{n}", &c.bad_rows().len().to_string()));
        StatusCode::UNPROCESSABLE_ENTITY
    } else if up.dry_run {
        page.outcome = Some(
            tr.t("exp.import.check_ok")
                .replace("{n}", &c.ok.len().to_string()),
        );
        StatusCode::OK
    } else {
        let mut text = tr
            .t("exp.import.done")
            .replace("{n}", &report.created.len().to_string());
        if report.replayed > 0 {
            text.push_str(
                &tr.t("exp.import.replayed")
                    .replace("{n}", &report.replayed.to_string()),
            );
        }
        page.outcome = Some(text);
        page.created = report.created.into_iter().take(LISTED).collect();
        StatusCode::OK
    };
    Ok(render(status, &page))
}
