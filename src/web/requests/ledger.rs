//! Downloads of the ledger (台账) and of search results, CSV or XLSX, and the
//! import template. Rows are read 1,000 at a time: CSV streams as it is
//! written; XLSX is assembled in a temporary file, then streamed.

use super::Lookup;
use super::search::SearchQuery;
use crate::db::requests::Filter;
use crate::domain::Validation;
use crate::ledger::{self, Chunks, Names, Privacy, export};
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::PageError;
use crate::web::scope;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use tokio::sync::mpsc;

/// CSV or XLSX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// `csv` or `xlsx` from a path's extension.
    pub(crate) fn parse(ext: &str) -> Option<Format> {
        match ext {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    fn mime(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// `attachment; filename="ascii.csv"; filename*=UTF-8''%E5%91%A8…`.
fn disposition(stem: &str, ascii: &str, ext: &str) -> String {
    let encoded: String = format!("{stem}.{ext}")
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}.{ext}\"; filename*=UTF-8''{encoded}")
}

fn internal(e: ledger::Error) -> PageError {
    PageError::Internal(e.to_string())
}

/// A file download: the headers and a body.
pub(crate) fn download(format: Format, title: &str, ascii: &str, body: Body) -> Response {
    let today = scope::today();
    (
        [
            (header::CONTENT_TYPE, format.mime().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                disposition(
                    &ledger::file_stem(title, today),
                    &ledger::ascii_stem(ascii, today),
                    format.ext(),
                ),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// Streams the rows of `filter` as a file.
pub(crate) async fn export(
    state: AppState,
    filter: Filter,
    privacy: Privacy,
    format: Format,
    title: &'static str,
    ascii: &'static str,
) -> Result<Response, PageError> {
    let names = Names::load(state.db(), Utc::now())
        .await
        .map_err(internal)?;
    match format {
        Format::Csv => {
            let head = export::csv_head().map_err(internal)?;
            let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
            tokio::spawn(async move {
                if tx.send(Ok(Bytes::from(head))).await.is_err() {
                    return;
                }
                let mut chunks = Chunks::new(filter, privacy);
                loop {
                    match chunks.next(state.db(), &names).await {
                        Ok(Some(rows)) => {
                            let chunk = export::csv_rows(&rows)
                                .map(Bytes::from)
                                .map_err(|e| std::io::Error::other(e.to_string()));
                            // A closed channel: the client went away.
                            if tx.send(chunk).await.is_err() {
                                return;
                            }
                        }
                        Ok(None) => return,
                        Err(e) => {
                            // The status line is gone: cut the body short.
                            tracing::error!(error = %e, "csv export failed");
                            let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                            return;
                        }
                    }
                }
            });
            let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|item| (item, rx))
            });
            Ok(download(format, title, ascii, Body::from_stream(stream)))
        }
        Format::Xlsx => {
            let file = xlsx_file(&state, Chunks::new(filter, privacy), &names, title).await?;
            let file = tokio::fs::File::from_std(file);
            let stream = futures_util::stream::unfold(file, |mut f| async move {
                use tokio::io::AsyncReadExt;
                let mut buf = vec![0u8; 64 * 1024];
                match f.read(&mut buf).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok::<_, std::io::Error>(Bytes::from(buf)), f))
                    }
                    Err(e) => Some((Err(e), f)),
                }
            });
            Ok(download(format, title, ascii, Body::from_stream(stream)))
        }
    }
}

/// Writes the XLSX into an anonymous temporary file, rewound for reading.
async fn xlsx_file(
    state: &AppState,
    mut chunks: Chunks,
    names: &Names,
    sheet: &'static str,
) -> Result<std::fs::File, PageError> {
    let (tx, mut rx) = mpsc::channel::<Vec<Vec<String>>>(2);
    let writer = tokio::task::spawn_blocking(move || -> Result<std::fs::File, ledger::Error> {
        use std::io::Seek;
        let mut x = export::XlsxWriter::new(sheet)?;
        while let Some(rows) = rx.blocking_recv() {
            x.push(&rows)?;
        }
        let mut file = tempfile::tempfile()?;
        x.finish(&mut file)?;
        file.rewind()?;
        Ok(file)
    });
    let fed = async {
        while let Some(rows) = chunks.next(state.db(), names).await? {
            if tx.send(rows).await.is_err() {
                break;
            }
        }
        Ok::<(), ledger::Error>(())
    }
    .await;
    drop(tx);
    let file = writer
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .map_err(internal)?;
    fed.map_err(internal)?;
    Ok(file)
}

/// The search page's filter for this reader, or 400 for filters that do not parse.
async fn search_filter(
    state: &AppState,
    staff: &Staff,
    form: &SearchQuery,
) -> Result<Filter, PageError> {
    let lookup = Lookup::load(state).await?;
    let scope_ids = scope::subtree(&lookup.tree, &staff.user);
    form.filter(&lookup, scope_ids)
        .map_err(|_| PageError::BadRequest)
}

/// The format chosen by a route: `XLSX` true for `.xlsx`, false for `.csv`.
fn format_of<const XLSX: bool>() -> Format {
    if XLSX { Format::Xlsx } else { Format::Csv }
}

/// `GET /requests/export.{csv,xlsx}?…`: the search results.
pub(super) async fn search<const XLSX: bool>(
    State(state): State<AppState>,
    staff: Staff,
    Query(form): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let filter = search_filter(&state, &staff, &form).await?;
    let privacy = Privacy::for_role(staff.user.role);
    let format = format_of::<XLSX>();
    export(
        state,
        filter,
        privacy,
        format,
        ledger::title::SEARCH,
        "search",
    )
    .await
}

/// `?from=&to=` of the ledger (received dates, China time).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct RangeQuery {
    from: String,
    to: String,
}

fn ledger_filter(
    state_lookup: &Lookup,
    staff: &Staff,
    q: &RangeQuery,
) -> Result<Filter, PageError> {
    let mut form = SearchQuery::default();
    form.from = q.from.clone();
    form.to = q.to.clone();
    let scope_ids = scope::subtree(&state_lookup.tree, &staff.user);
    form.filter(state_lookup, scope_ids)
        .map_err(|_: Validation| PageError::BadRequest)
}

/// `GET /requests/ledger.{csv,xlsx}[?from=&to=]`: the whole ledger of the reader's scope.
pub(super) async fn ledger<const XLSX: bool>(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<RangeQuery>,
) -> Result<Response, PageError> {
    let lookup = Lookup::load(&state).await?;
    let filter = ledger_filter(&lookup, &staff, &q)?;
    let privacy = Privacy::for_role(staff.user.role);
    let format = format_of::<XLSX>();
    export(
        state,
        filter,
        privacy,
        format,
        ledger::title::LEDGER,
        "ledger",
    )
    .await
}

/// `GET /requests/import/template.xlsx`.
pub(super) async fn template_xlsx(_staff: Staff) -> Result<Response, PageError> {
    let bytes = export::template_xlsx().map_err(internal)?;
    Ok(download(
        Format::Xlsx,
        ledger::title::TEMPLATE,
        "template",
        Body::from(bytes),
    ))
}

/// `GET /requests/import/template.csv`.
pub(super) async fn template_csv(_staff: Staff) -> Result<Response, PageError> {
    let bytes = export::template_csv().map_err(internal)?;
    Ok(download(
        Format::Csv,
        ledger::title::TEMPLATE,
        "template",
        Body::from(bytes),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_have_an_ascii_fallback_and_an_encoded_utf8_name() {
        let d = disposition(
            "周周会诉求台账_2026年第48周",
            "zhouzhouhui-ledger-2026-W48",
            "xlsx",
        );
        assert!(d.starts_with("attachment; filename=\"zhouzhouhui-ledger-2026-W48.xlsx\"; "));
        assert!(d.contains("filename*=UTF-8''%E5%91%A8%E5%91%A8%E4%BC%9A"));
        assert!(d.ends_with("_2026%E5%B9%B4%E7%AC%AC48%E5%91%A8.xlsx"));
    }
}

/// `?tab=` of a queue export.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct QueueTab {
    tab: String,
}

/// `GET /queue/export.{csv,xlsx}?tab=…`: one tab of the reader's queue.
pub(super) async fn queue<const XLSX: bool>(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<QueueTab>,
) -> Result<Response, PageError> {
    let lookup = Lookup::load(&state).await?;
    let filter = super::queue::tab_filter(&staff, &lookup, &q.tab).ok_or(PageError::NotFound)?;
    let privacy = Privacy::for_role(staff.user.role);
    let format = format_of::<XLSX>();
    export(
        state,
        filter,
        privacy,
        format,
        ledger::title::QUEUE,
        "queue",
    )
    .await
}

/// `GET /overdue/export.{csv,xlsx}`: the overdue list (403 for cadres).
pub(super) async fn overdue<const XLSX: bool>(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, PageError> {
    let lookup = Lookup::load(&state).await?;
    let filter = super::queue::overdue_filter(&staff, &lookup)?;
    let privacy = Privacy::for_role(staff.user.role);
    let format = format_of::<XLSX>();
    export(
        state,
        filter,
        privacy,
        format,
        ledger::title::OVERDUE,
        "overdue",
    )
    .await
}
