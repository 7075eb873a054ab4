//! Open311 GeoReport v2 under `/open311/v2`: categories as services, requests
//! without personal data, and intake with a staff API token as `api_key`
//! (docs/OPEN311.md has the mapping).

use super::AppState;
use super::i18n::message;
use crate::db::categories::{self, Category};
use crate::db::requests::{Filter, Request};
use crate::db::sessions::{self, SessionKind};
use crate::db::units::Unit;
use crate::db::{self};
use crate::domain::calendar::china_rfc3339;
use crate::domain::intake::{Intake, IntakeRaw};
use crate::domain::request::{Status, TrackingNo};
use crate::domain::role::Role;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The GeoReport v2 routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(top).post(post_top))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(one_request))
}

/// At most this many requests in one answer (the spec's default).
const MAX_REQUESTS: u64 = 1000;
/// Without dates, the answer covers this many days back from now.
const DEFAULT_DAYS: i64 = 90;
const ZH: &str = "zh-CN";

/// Answer format, from the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// Splits `requests.json` into `("requests", Json)`.
fn split(file: &str) -> Option<(&str, Format)> {
    let (stem, ext) = file.rsplit_once('.')?;
    let format = match ext {
        "json" => Format::Json,
        "xml" => Format::Xml,
        _ => return None,
    };
    Some((stem, format))
}

/// An Open311 error: `[{"code": 400, "description": "..."}]`.
#[derive(Debug, Serialize)]
struct ErrorItem {
    code: u16,
    description: String,
}

/// One or more errors with their HTTP status, answered in the asked format.
struct Errors(StatusCode, Vec<ErrorItem>, Format);

impl Errors {
    fn one(status: StatusCode, key: &str, format: Format) -> Errors {
        Errors(
            status,
            vec![ErrorItem {
                code: status.as_u16(),
                description: message(key, ZH),
            }],
            format,
        )
    }

    fn not_found(format: Format) -> Errors {
        Errors::one(StatusCode::NOT_FOUND, "err.not_found", format)
    }

    fn internal(e: db::Error, format: Format) -> Errors {
        tracing::error!(error = %e, "open311 failed");
        Errors::one(StatusCode::INTERNAL_SERVER_ERROR, "err.internal", format)
    }
}

impl IntoResponse for Errors {
    fn into_response(self) -> Response {
        let Errors(status, items, format) = self;
        let mut x = Xml::new();
        x.open("errors");
        for e in &items {
            x.open("error");
            x.leaf("code", &e.code.to_string());
            x.leaf("description", &e.description);
            x.close("error");
        }
        x.close("errors");
        answer(status, format, &items, x)
    }
}

/// The body in the asked format.
fn answer<T: Serialize>(status: StatusCode, format: Format, json: &T, xml: Xml) -> Response {
    match format {
        Format::Json => (status, axum::Json(json)).into_response(),
        Format::Xml => (
            status,
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            xml.finish(),
        )
            .into_response(),
    }
}

/// A small XML writer that escapes text and drops characters XML 1.0 forbids.
struct Xml(String);

impl Xml {
    fn new() -> Xml {
        Xml(String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#))
    }

    fn open(&mut self, name: &str) {
        self.0.push('<');
        self.0.push_str(name);
        self.0.push('>');
    }

    fn close(&mut self, name: &str) {
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
    }

    fn text(&mut self, s: &str) {
        for c in s.chars() {
            match c {
                '&' => self.0.push_str("&amp;"),
                '<' => self.0.push_str("&lt;"),
                '>' => self.0.push_str("&gt;"),
                '"' => self.0.push_str("&quot;"),
                '\'' => self.0.push_str("&apos;"),
                '\t' | '\n' | '\r' => self.0.push(c),
                c if c < ' ' || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
                c => self.0.push(c),
            }
        }
    }

    fn leaf(&mut self, name: &str, value: &str) {
        self.open(name);
        self.text(value);
        self.close(name);
    }

    fn opt(&mut self, name: &str, value: Option<&str>) {
        self.leaf(name, value.unwrap_or_default());
    }

    fn finish(self) -> String {
        self.0
    }
}

async fn top(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    match split(&file) {
        Some(("discovery", f)) => discovery(&state, f),
        Some(("services", f)) => services(&state, f).await.into_response(),
        Some(("requests", f)) => requests(&state, f, query.as_deref().unwrap_or_default())
            .await
            .into_response(),
        Some((_, f)) => Errors::not_found(f).into_response(),
        None => Errors::not_found(Format::Json).into_response(),
    }
}

async fn post_top(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    match split(&file) {
        Some(("requests", f)) => create(&state, f, query.as_deref().unwrap_or_default(), &body)
            .await
            .into_response(),
        Some((_, f)) => Errors::not_found(f).into_response(),
        None => Errors::not_found(Format::Json).into_response(),
    }
}

/// The discovery document.
#[derive(Serialize)]
struct Discovery {
    changeset: String,
    contact: String,
    key_service: String,
    endpoints: Vec<Endpoint>,
}

#[derive(Serialize)]
struct Endpoint {
    specification: &'static str,
    url: String,
    changeset: String,
    #[serde(rename = "type")]
    kind: &'static str,
    formats: [&'static str; 2],
}

/// When this implementation last changed shape (the spec's `changeset`).
const CHANGESET: &str = "2026-11-30T00:00:00+08:00";

fn discovery(state: &AppState, format: Format) -> Response {
    let base = state.config().public_url.trim_end_matches('/');
    let d = Discovery {
        changeset: CHANGESET.into(),
        contact: message("open311.contact", ZH),
        key_service: message("open311.key_service", ZH),
        endpoints: vec![Endpoint {
            specification: "http://wiki.open311.org/GeoReport_v2",
            url: format!("{base}/open311/v2"),
            changeset: CHANGESET.into(),
            kind: "production",
            formats: ["application/json", "text/xml"],
        }],
    };
    let mut x = Xml::new();
    x.open("discovery");
    x.leaf("changeset", &d.changeset);
    x.leaf("contact", &d.contact);
    x.leaf("key_service", &d.key_service);
    x.open("endpoints");
    for e in &d.endpoints {
        x.open("endpoint");
        x.leaf("specification", e.specification);
        x.leaf("url", &e.url);
        x.leaf("changeset", &e.changeset);
        x.leaf("type", e.kind);
        x.open("formats");
        for f in e.formats {
            x.leaf("format", f);
        }
        x.close("formats");
        x.close("endpoint");
    }
    x.close("endpoints");
    x.close("discovery");
    answer(StatusCode::OK, format, &d, x)
}

/// A category as an Open311 service.
#[derive(Serialize)]
struct Service {
    service_code: String,
    service_name: String,
    description: String,
    metadata: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    keywords: String,
    group: String,
}

impl Service {
    fn new(cats: &[Category], c: &Category) -> Service {
        let top = c
            .parent_id
            .and_then(|p| cats.iter().find(|x| x.id == p))
            .unwrap_or(c);
        Service {
            service_code: c.id.to_string(),
            service_name: categories::label(cats, c.id),
            description: c.bring_note.clone().unwrap_or_else(|| c.name.clone()),
            metadata: false,
            kind: "realtime",
            keywords: String::new(),
            group: top.name.clone(),
        }
    }
}

async fn services(state: &AppState, format: Format) -> Result<Response, Errors> {
    let cats = categories::all(state.db())
        .await
        .map_err(|e| Errors::internal(e, format))?;
    let list: Vec<Service> = cats.iter().map(|c| Service::new(&cats, c)).collect();
    let mut x = Xml::new();
    x.open("services");
    for s in &list {
        x.open("service");
        x.leaf("service_code", &s.service_code);
        x.leaf("service_name", &s.service_name);
        x.leaf("description", &s.description);
        x.leaf("metadata", if s.metadata { "true" } else { "false" });
        x.leaf("type", s.kind);
        x.leaf("keywords", &s.keywords);
        x.leaf("group", &s.group);
        x.close("service");
    }
    x.close("services");
    Ok(answer(StatusCode::OK, format, &list, x))
}

/// A service definition: no extra attributes (every service has `metadata: false`).
#[derive(Serialize)]
struct Definition {
    service_code: String,
    attributes: [(); 0],
}

async fn service_definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, Errors> {
    let (code, format) = split(&file).ok_or(Errors::not_found(Format::Json))?;
    let id: i32 = code.parse().map_err(|_| Errors::not_found(format))?;
    match categories::get(state.db(), id).await {
        Ok(_) => {}
        Err(db::Error::NotFound) => return Err(Errors::not_found(format)),
        Err(e) => return Err(Errors::internal(e, format)),
    }
    let d = Definition {
        service_code: id.to_string(),
        attributes: [],
    };
    let mut x = Xml::new();
    x.open("service_definition");
    x.leaf("service_code", &d.service_code);
    x.open("attributes");
    x.close("attributes");
    x.close("service_definition");
    Ok(answer(StatusCode::OK, format, &d, x))
}

/// A request as Open311 shows it: no name, phone, email or address.
#[derive(Serialize)]
struct ServiceRequest {
    service_request_id: String,
    status: &'static str,
    status_notes: Option<String>,
    service_name: String,
    service_code: String,
    description: String,
    agency_responsible: Option<String>,
    service_notice: Option<String>,
    requested_datetime: String,
    updated_datetime: String,
    expected_datetime: Option<String>,
    address: String,
    address_id: String,
    zipcode: Option<String>,
    lat: Option<f64>,
    long: Option<f64>,
    media_url: Option<String>,
}

/// What the answers need to name units and categories.
struct Names {
    units: Vec<Unit>,
    cats: Vec<Category>,
}

impl Names {
    async fn load(state: &AppState) -> Result<Names, db::Error> {
        Ok(Names {
            units: db::units::all(state.db()).await?,
            cats: categories::all(state.db()).await?,
        })
    }

    fn unit(&self, id: Option<i32>) -> Option<String> {
        id.and_then(|i| self.units.iter().find(|u| u.id == i))
            .map(|u| u.name.clone())
    }
}

/// `open` or `closed`: only 办结 is closed; 暂不能办 stays open (it comes back for review).
fn open311_status(s: Status) -> &'static str {
    match s {
        Status::Done => "closed",
        Status::Received | Status::InProgress | Status::Deferred => "open",
    }
}

fn status_notes(r: &Request) -> Option<String> {
    let label = message(&format!("status.{}", r.status.as_str()), ZH);
    match r.status {
        Status::Done => r.result.clone().or(Some(label)),
        Status::Deferred => {
            let reason = r
                .defer_reason
                .map(|d| message(&format!("defer_reason.{}", d.as_str()), ZH))
                .unwrap_or_default();
            let mut note = format!("{label}（{reason}）");
            if let Some(e) = &r.defer_explanation {
                note.push('：');
                note.push_str(e);
            }
            if let Some(d) = r.review_on {
                note.push_str(&message("open311.review_on", ZH).replace("{date}", &d.to_string()));
            }
            Some(note)
        }
        Status::Received | Status::InProgress => Some(label),
    }
}

impl ServiceRequest {
    fn new(r: &Request, names: &Names) -> ServiceRequest {
        ServiceRequest {
            service_request_id: r.tracking_no.clone(),
            status: open311_status(r.status),
            status_notes: status_notes(r),
            service_name: categories::label(&names.cats, r.category_id),
            service_code: r.category_id.to_string(),
            description: if r.consent_publish {
                r.content.clone()
            } else {
                String::new()
            },
            agency_responsible: names.unit(r.current_unit()),
            service_notice: None,
            requested_datetime: china_rfc3339(r.received_at),
            updated_datetime: china_rfc3339(r.updated_at),
            expected_datetime: r
                .status
                .is_open()
                .then(|| format!("{}T23:59:59+08:00", r.due_on)),
            address: names.unit(Some(r.village_id)).unwrap_or_default(),
            address_id: r.village_id.to_string(),
            zipcode: None,
            lat: None,
            long: None,
            media_url: None,
        }
    }
}

fn requests_answer(list: &[ServiceRequest], format: Format) -> Response {
    let mut x = Xml::new();
    x.open("service_requests");
    for r in list {
        x.open("request");
        x.leaf("service_request_id", &r.service_request_id);
        x.leaf("status", r.status);
        x.opt("status_notes", r.status_notes.as_deref());
        x.leaf("service_name", &r.service_name);
        x.leaf("service_code", &r.service_code);
        x.leaf("description", &r.description);
        x.opt("agency_responsible", r.agency_responsible.as_deref());
        x.opt("service_notice", r.service_notice.as_deref());
        x.leaf("requested_datetime", &r.requested_datetime);
        x.leaf("updated_datetime", &r.updated_datetime);
        x.opt("expected_datetime", r.expected_datetime.as_deref());
        x.leaf("address", &r.address);
        x.leaf("address_id", &r.address_id);
        x.leaf("zipcode", "");
        x.leaf("lat", "");
        x.leaf("long", "");
        x.leaf("media_url", "");
        x.close("request");
    }
    x.close("service_requests");
    answer(StatusCode::OK, format, &list, x)
}

/// The query of `GET requests`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RequestsQuery {
    service_request_id: Option<String>,
    service_code: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    status: Option<String>,
}

fn bad(key: &str, field: &str, format: Format) -> Errors {
    Errors(
        StatusCode::BAD_REQUEST,
        vec![ErrorItem {
            code: 400,
            description: format!("{field}: {}", message(key, ZH)),
        }],
        format,
    )
}

fn parse_time(
    s: Option<&str>,
    field: &str,
    format: Format,
) -> Result<Option<DateTime<Utc>>, Errors> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| bad("open311.err.datetime", field, format)),
    }
}

async fn requests(state: &AppState, format: Format, query: &str) -> Result<Response, Errors> {
    let q: RequestsQuery = serde_urlencoded::from_str(query)
        .map_err(|_| Errors::one(StatusCode::BAD_REQUEST, "err.bad_request", format))?;
    let names = Names::load(state)
        .await
        .map_err(|e| Errors::internal(e, format))?;
    // With ids, the spec says every other parameter is ignored.
    if let Some(ids) = q
        .service_request_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        let mut out = Vec::new();
        let most = usize::try_from(MAX_REQUESTS).unwrap_or(usize::MAX);
        for no in ids.split(',').filter_map(TrackingNo::parse).take(most) {
            match db::requests::get(state.db(), &no).await {
                Ok(r) => out.push(ServiceRequest::new(&r, &names)),
                Err(db::Error::NotFound) => {}
                Err(e) => return Err(Errors::internal(e, format)),
            }
        }
        return Ok(requests_answer(&out, format));
    }
    let end = parse_time(q.end_date.as_deref(), "end_date", format)?;
    let start = parse_time(q.start_date.as_deref(), "start_date", format)?
        .unwrap_or_else(|| end.unwrap_or_else(Utc::now) - Duration::days(DEFAULT_DAYS));
    let mut f = Filter {
        received_from: Some(start),
        received_before: end,
        newest_first: true,
        ..Default::default()
    };
    if let Some(code) = q.service_code.as_deref().filter(|s| !s.trim().is_empty()) {
        let id: i32 = code
            .trim()
            .parse()
            .map_err(|_| bad("err.rule.no_category", "service_code", format))?;
        f.category_ids = Some(categories::with_children(&names.cats, id));
    }
    let statuses: Vec<Option<Status>> = match q.status.as_deref().map(str::trim) {
        None | Some("") => vec![None],
        Some("closed") => vec![Some(Status::Done)],
        Some("open") => vec![
            Some(Status::Received),
            Some(Status::InProgress),
            Some(Status::Deferred),
        ],
        Some(_) => return Err(bad("err.choice", "status", format)),
    };
    let mut found: Vec<Request> = Vec::new();
    for s in statuses {
        f.status = s;
        let (items, _) = db::requests::list(state.db(), &f, 1, MAX_REQUESTS)
            .await
            .map_err(|e| Errors::internal(e, format))?;
        found.extend(items);
    }
    found.sort_by(|a, b| b.received_at.cmp(&a.received_at).then(b.id.cmp(&a.id)));
    found.truncate(usize::try_from(MAX_REQUESTS).unwrap_or(usize::MAX));
    let list: Vec<ServiceRequest> = found
        .iter()
        .map(|r| ServiceRequest::new(r, &names))
        .collect();
    Ok(requests_answer(&list, format))
}

async fn one_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, Errors> {
    let (id, format) = split(&file).ok_or(Errors::not_found(Format::Json))?;
    let no = TrackingNo::parse(id).ok_or(Errors::not_found(format))?;
    let r = match db::requests::get(state.db(), &no).await {
        Ok(r) => r,
        Err(db::Error::NotFound) => return Err(Errors::not_found(format)),
        Err(e) => return Err(Errors::internal(e, format)),
    };
    let names = Names::load(&state)
        .await
        .map_err(|e| Errors::internal(e, format))?;
    Ok(requests_answer(&[ServiceRequest::new(&r, &names)], format))
}

/// What `POST requests` answers.
#[derive(Serialize)]
struct Created {
    service_request_id: String,
    service_notice: String,
    account_id: Option<String>,
}

/// Open311 field names of our intake fields, for error messages.
fn open311_field(field: &str) -> &str {
    match field {
        "requester_name" => "name",
        "content" => "description",
        "category_id" => "service_code",
        "village_id" => "address_id",
        other => other,
    }
}

async fn create(
    state: &AppState,
    format: Format,
    query: &str,
    body: &[u8],
) -> Result<Response, Errors> {
    let mut fields: HashMap<String, String> = serde_urlencoded::from_str(query).unwrap_or_default();
    let posted: HashMap<String, String> = serde_urlencoded::from_bytes(body)
        .map_err(|_| Errors::one(StatusCode::BAD_REQUEST, "err.bad_request", format))?;
    fields.extend(posted);
    let field = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let forbidden = || Errors::one(StatusCode::FORBIDDEN, "open311.err.api_key", format);
    let key = field("api_key").ok_or_else(forbidden)?;
    let user = match sessions::lookup(state.db(), &key, SessionKind::Api).await {
        Ok(Some(s)) => s.user,
        Ok(None) => return Err(forbidden()),
        Err(e) => return Err(Errors::internal(e, format)),
    };
    if !matches!(user.role, Role::Cadre | Role::Dispatcher) {
        return Err(forbidden());
    }
    // Chinese order: family name first.
    let name = field("name").unwrap_or_else(|| {
        format!(
            "{}{}",
            field("last_name").unwrap_or_default(),
            field("first_name").unwrap_or_default()
        )
    });
    // A value that is not a number names nothing: the intake reports it as unknown.
    let id = |k: &str| field(k).map(|v| v.parse::<i32>().unwrap_or(-1));
    let category_id = id("service_code");
    let village_id = id("address_id");
    let raw = IntakeRaw {
        requester_name: name,
        phone: field("phone").unwrap_or_default(),
        email: field("email"),
        address: None,
        village_id,
        category_id,
        req_type: None,
        content: field("description").unwrap_or_default(),
        source: Some("online".into()),
        meeting_id: None,
        urgency: None,
        consent_publish: Some(false),
    };
    let invalid = |v: crate::domain::Validation| {
        let items =
            v.0.iter()
                .map(|e| ErrorItem {
                    code: 400,
                    description: format!("{}: {}", open311_field(&e.field), message(&e.key, ZH)),
                })
                .collect();
        Errors(StatusCode::BAD_REQUEST, items, format)
    };
    let tree = db::units::tree(state.db())
        .await
        .map_err(|e| Errors::internal(e, format))?;
    let cats = categories::all(state.db())
        .await
        .map_err(|e| Errors::internal(e, format))?;
    let intake = Intake::parse(
        &raw,
        |v| super::scope::may_log_for(&tree, &user, v),
        |c| cats.iter().any(|x| x.id == c),
    )
    .map_err(invalid)?;
    let created = match db::requests::create(
        state.db(),
        &intake,
        user.id,
        None,
        &super::scope::route_words(),
        state.config().reach(),
        Utc::now(),
    )
    .await
    {
        Ok(c) => c,
        Err(db::Error::Invalid(v)) => return Err(invalid(v)),
        Err(e) => return Err(Errors::internal(e, format)),
    };
    let r = created.request;
    tracing::info!(tracking_no = %r.tracking_no, user_id = user.id, "open311 request logged");
    let out = [Created {
        service_request_id: r.tracking_no.clone(),
        service_notice: message("open311.notice", ZH)
            .replace("{code}", r.access_code.as_str())
            .replace("{routed_by}", &r.routed_by),
        account_id: None,
    }];
    let mut x = Xml::new();
    x.open("service_requests");
    for c in &out {
        x.open("request");
        x.leaf("service_request_id", &c.service_request_id);
        x.leaf("service_notice", &c.service_notice);
        x.leaf("account_id", "");
        x.close("request");
    }
    x.close("service_requests");
    Ok(answer(StatusCode::CREATED, format, &out, x))
}
