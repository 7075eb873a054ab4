//! The receipt slip (回执): tracking number, access code and QR code to hand
//! to the resident, printable on A4 or 80-mm receipt paper.

use super::{Lookup, day, excerpt};
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::PageError;
use crate::web::page::PageCtx;
use crate::web::scope;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;

/// Characters of the request text printed on the slip.
const RECEIPT_TEXT_CHARS: usize = 120;

/// Paper the slip is laid out for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paper {
    A4,
    Roll80,
}

impl Paper {
    fn parse(s: Option<&str>) -> Paper {
        match s {
            Some("80mm") => Paper::Roll80,
            _ => Paper::A4,
        }
    }
}

#[derive(serde::Deserialize)]
pub(super) struct ReceiptQuery {
    paper: Option<String>,
}

#[derive(Template)]
#[template(path = "requests/receipt.html")]
struct ReceiptPage {
    ctx: PageCtx,
    /// `receipt-a4.css` or `receipt-80mm.css`.
    stylesheet: &'static str,
    /// Link to the other layout, and its label key.
    other_paper: (&'static str, &'static str),
    /// "Log the next request" link (same meeting), for those who log.
    next_intake: Option<String>,
    tracking_no: String,
    code: String,
    /// `data:image/svg+xml;base64,…` of the status URL.
    qr: String,
    lookup_url: String,
    category: String,
    time_limit: String,
    due_on: String,
    received_on: String,
    bring_note: Option<String>,
    requester: String,
    village: String,
    content: String,
    supervision: String,
}

/// Smallest side of the QR code, in pixels.
const QR_SIZE: u32 = 160;

/// `GET /requests/{no}/receipt[?paper=80mm]`.
pub(super) async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(no): Path<String>,
    Query(q): Query<ReceiptQuery>,
) -> Result<Html<String>, PageError> {
    let (req, _) = scope::visible_request(&state, &staff.user, &no).await?;
    let lookup = Lookup::load(&state).await?;
    let tr = staff.tr;
    let paper = Paper::parse(q.paper.as_deref());
    let base = state.config().public_url.trim_end_matches('/');
    let status_url = format!(
        "{base}/s/{}?code={}",
        req.tracking_no,
        req.access_code.as_str()
    );
    let lookup_url = format!("{base}/lookup");
    // The category's own notice, else its parent's.
    let bring_note = lookup
        .cats
        .iter()
        .find(|c| c.id == req.category_id)
        .and_then(|c| {
            c.bring_note.clone().or_else(|| {
                c.parent_id
                    .and_then(|p| lookup.cats.iter().find(|x| x.id == p))
                    .and_then(|p| p.bring_note.clone())
            })
        })
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    let phone = state.config().supervision_phone.trim();
    let time_limit = if req.time_limit_days == 0 {
        tr.t("req.receipt.on_the_spot")
    } else {
        tr.t("req.receipt.working_days")
            .replace("{n}", &req.time_limit_days.to_string())
    };
    let page = ReceiptPage {
        ctx: staff.ctx(),
        stylesheet: match paper {
            Paper::A4 => "receipt-a4.css",
            Paper::Roll80 => "receipt-80mm.css",
        },
        other_paper: match paper {
            Paper::A4 => ("?paper=80mm", "req.receipt.paper_80mm"),
            Paper::Roll80 => ("?paper=a4", "req.receipt.paper_a4"),
        },
        next_intake: super::intake::require_intake(&staff)
            .is_ok()
            .then(|| match req.meeting_id {
                Some(m) => format!("/requests/new?meeting_id={m}"),
                None => "/requests/new".to_owned(),
            }),
        qr: crate::web::qr::data_uri(&status_url, QR_SIZE)
            .ok_or_else(|| PageError::Internal("QR code of the status URL".into()))?,
        code: req.access_code.grouped(),
        category: lookup.category(req.category_id),
        time_limit,
        due_on: day(req.due_on),
        received_on: day(crate::domain::calendar::china_date(req.received_at)),
        bring_note,
        requester: req.name.to_string(),
        village: lookup.unit_name(Some(req.village_id)),
        content: excerpt(&req.content, RECEIPT_TEXT_CHARS),
        supervision: tr.t("req.receipt.supervision").replace("{phone}", phone),
        lookup_url,
        tracking_no: req.tracking_no,
    };
    Ok(Html(page.render()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_defaults_to_a4() {
        assert_eq!(Paper::parse(None), Paper::A4);
        assert_eq!(Paper::parse(Some("letter")), Paper::A4);
        assert_eq!(Paper::parse(Some("80mm")), Paper::Roll80);
    }
}
