//! Resident pages, no login: the lookup form, the status page (tracking
//! number + access code) and the rating form. Wrong codes and unknown numbers
//! answer identically; repeated failures from one client are refused (429).

use super::AppState;
use super::error::PageError;
use super::i18n::Tr;
use super::limiter::ClientKey;
use super::page::PageCtx;
use crate::db::{self, requests::Request};
use crate::domain::calendar::china_offset;
use crate::domain::request::{AccessCode, Rating, Status, TrackingNo};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// `/`, `/lookup`, `/s/{tracking_no}`, `/s/{tracking_no}/rating`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/lookup", get(lookup))
        .route("/s/{tracking_no}", get(status_page))
        .route("/s/{tracking_no}/rating", post(rate))
}

/// One line of the resident's timeline: no staff names, no internal notes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicEvent {
    /// RFC 3339 time, +08:00.
    pub at: String,
    /// `YYYY-MM-DD HH:MM` China time, for the page.
    #[serde(skip)]
    pub at_display: String,
    /// Action name (`intake`, `accept`, …).
    pub action: String,
    /// Status after the event.
    pub status: String,
    /// Unit holding the request after the event.
    pub unit: Option<String>,
    /// The resident-facing note.
    pub note: Option<String>,
}

/// What a resident sees of a request: masked, resident-facing only.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicView {
    /// Tracking number.
    pub tracking_no: String,
    /// Status name.
    #[schema(value_type = String, example = "in_progress")]
    pub status: Status,
    /// Category label.
    pub category: String,
    /// Village name.
    pub village: String,
    /// Masked requester name.
    pub requester: String,
    /// The unit handling it now.
    pub current_unit: Option<String>,
    /// Due date (open requests).
    pub due_on: Option<NaiveDate>,
    /// Received, RFC 3339 +08:00.
    pub received_at: String,
    /// Fixed on the spot.
    pub on_the_spot: bool,
    /// Result, when done.
    pub result: Option<String>,
    /// Deferral reason name, when deferred.
    pub defer_reason: Option<String>,
    /// Deferral explanation, when deferred.
    pub defer_explanation: Option<String>,
    /// Review date, when deferred.
    pub review_on: Option<NaiveDate>,
    /// The resident's rating, if given.
    #[schema(value_type = Option<String>)]
    pub rating: Option<Rating>,
    /// Whether the resident may rate now.
    pub can_rate: bool,
    /// Timeline.
    pub timeline: Vec<PublicEvent>,
}

/// Why a public lookup failed.
#[derive(Debug)]
pub enum LookupError {
    /// Unknown number or wrong code (answered identically).
    NotFound,
    /// Too many failures from this client.
    TooMany,
    /// The database failed.
    Db(db::Error),
}

/// Finds a request by number and code, counting failures per client.
pub async fn find(
    state: &AppState,
    client: &str,
    tracking_no: &str,
    code: &str,
) -> Result<Request, LookupError> {
    if !state.failures().allowed(client) {
        return Err(LookupError::TooMany);
    }
    let fail = || {
        state.failures().fail(client);
        tracing::info!("status lookup failed");
        LookupError::NotFound
    };
    let (Some(no), Some(code)) = (TrackingNo::parse(tracking_no), AccessCode::parse(code)) else {
        return Err(fail());
    };
    match db::requests::get(state.db(), &no).await {
        Ok(r) if r.access_code.matches(&code) => Ok(r),
        Ok(_) | Err(db::Error::NotFound) => Err(fail()),
        Err(e) => Err(LookupError::Db(e)),
    }
}

/// Builds the resident's view of a request.
pub async fn view(state: &AppState, r: &Request) -> Result<PublicView, db::Error> {
    let units = db::units::all(state.db()).await?;
    let cats = db::categories::all(state.db()).await?;
    let unit_name = |id: Option<i32>| {
        id.and_then(|i| units.iter().find(|u| u.id == i))
            .map(|u| u.name.clone())
    };
    let events = db::requests::events(state.db(), r.id).await?;
    let timeline = events
        .into_iter()
        .filter(|e| e.action != "rating")
        .map(|e| {
            let at = e.at.with_timezone(&china_offset());
            PublicEvent {
                at_display: at.format("%Y-%m-%d %H:%M").to_string(),
                at: crate::web::api::requests::cst(e.at),
                action: e.action,
                status: e.to_status,
                unit: unit_name(e.to_unit_id),
                note: e.public_note,
            }
        })
        .collect();
    Ok(PublicView {
        tracking_no: r.tracking_no.clone(),
        status: r.status,
        category: db::categories::label(&cats, r.category_id),
        village: unit_name(Some(r.village_id)).unwrap_or_default(),
        requester: r.name.masked(),
        current_unit: unit_name(r.current_unit()),
        due_on: r.status.is_open().then_some(r.due_on),
        received_at: crate::web::api::requests::cst(r.received_at),
        on_the_spot: r.on_the_spot,
        result: (r.status == Status::Done)
            .then(|| r.result.clone())
            .flatten(),
        defer_reason: (r.status == Status::Deferred)
            .then(|| r.defer_reason.map(|d| d.as_str().to_owned()))
            .flatten(),
        defer_explanation: (r.status == Status::Deferred)
            .then(|| r.defer_explanation.clone())
            .flatten(),
        review_on: (r.status == Status::Deferred)
            .then_some(r.review_on)
            .flatten(),
        rating: r.rating,
        can_rate: matches!(r.status, Status::Done | Status::Deferred),
        timeline,
    })
}

#[derive(Template)]
#[template(path = "public/lookup.html")]
struct LookupPage {
    ctx: PageCtx,
    no: String,
    code: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "public/status.html")]
struct StatusPage {
    ctx: PageCtx,
    v: PublicView,
    code: String,
    ratings: Vec<&'static str>,
    rating_error: Option<String>,
    thanks: bool,
}

async fn home(tr: Tr) -> Result<Html<String>, PageError> {
    let page = LookupPage {
        ctx: PageCtx::anonymous(tr, "/", ""),
        no: String::new(),
        code: String::new(),
        error: None,
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LookupQuery {
    no: String,
    code: String,
}

async fn lookup(Query(q): Query<LookupQuery>) -> Response {
    if q.no.trim().is_empty() {
        return Redirect::to("/").into_response();
    }
    let no = TrackingNo::parse(&q.no)
        .map(|n| n.to_string())
        .unwrap_or_else(|| q.no.trim().to_owned());
    let target = format!(
        "/s/{}?{}",
        urlencode(&no),
        serde_urlencoded::to_string([("code", q.code.trim())]).unwrap_or_default()
    );
    Redirect::to(&target).into_response()
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)])
        .unwrap_or_default()
        .trim_start_matches("x=")
        .to_owned()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeQuery {
    code: String,
    thanks: Option<String>,
}

fn ratings() -> Vec<&'static str> {
    Rating::ALL.iter().map(|r| r.as_str()).collect()
}

async fn status_page(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientKey,
    Path(no): Path<String>,
    Query(q): Query<CodeQuery>,
) -> Result<Response, PageError> {
    match find(&state, &client.lookups(), &no, &q.code).await {
        Ok(r) => {
            let page = StatusPage {
                ctx: PageCtx::anonymous(tr, "/", ""),
                v: view(&state, &r).await?,
                code: r.access_code.as_str().to_owned(),
                ratings: ratings(),
                rating_error: None,
                thanks: q.thanks.is_some(),
            };
            Ok(Html(page.render()?).into_response())
        }
        Err(e) => lookup_failed(e, tr, &no, &q.code),
    }
}

fn lookup_failed(e: LookupError, tr: Tr, no: &str, code: &str) -> Result<Response, PageError> {
    let (status, key) = match e {
        LookupError::TooMany => (StatusCode::TOO_MANY_REQUESTS, "err.too_many"),
        LookupError::NotFound => (StatusCode::NOT_FOUND, "err.lookup"),
        LookupError::Db(e) => return Err(e.into()),
    };
    let page = LookupPage {
        ctx: PageCtx::anonymous(tr, "/", ""),
        no: no.trim().to_owned(),
        code: code.trim().to_owned(),
        error: Some(tr.t(key)),
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RatingForm {
    code: String,
    rating: String,
    comment: String,
}

async fn rate(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientKey,
    Path(no): Path<String>,
    Form(form): Form<RatingForm>,
) -> Result<Response, PageError> {
    let r = match find(&state, &client.lookups(), &no, &form.code).await {
        Ok(r) => r,
        Err(e) => return lookup_failed(e, tr, &no, &form.code),
    };
    let error_key = match Rating::parse(&form.rating) {
        None => Some("err.choice"),
        Some(rating) => {
            let tracking = TrackingNo::parse(&r.tracking_no).ok_or(PageError::NotFound)?;
            match db::requests::rate(
                state.db(),
                &tracking,
                &r.access_code,
                rating,
                Some(&form.comment),
                chrono::Utc::now(),
            )
            .await
            {
                Ok(_) => None,
                Err(db::Error::Lifecycle(_)) => Some("err.rating.not_yet"),
                Err(db::Error::Invalid(_)) => Some("err.rating.comment_long"),
                Err(e) => return Err(e.into()),
            }
        }
    };
    match error_key {
        None => {
            let target = format!(
                "/s/{}?{}",
                r.tracking_no,
                serde_urlencoded::to_string([("code", r.access_code.as_str()), ("thanks", "1")])
                    .unwrap_or_default()
            );
            Ok(Redirect::to(&target).into_response())
        }
        Some(key) => {
            let page = StatusPage {
                ctx: PageCtx::anonymous(tr, "/", ""),
                v: view(&state, &r).await?,
                code: r.access_code.as_str().to_owned(),
                ratings: ratings(),
                rating_error: Some(tr.t(key)),
                thanks: false,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}
