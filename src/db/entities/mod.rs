//! Table shapes as sea-orm entities. Only derives here; logic lives in `db::*`.

pub mod calendar_day;
pub mod category;
pub mod digest;
pub mod feedback;
pub mod meeting;
pub mod meeting_decision;
pub mod meeting_series;
pub mod meeting_tally;
pub mod outbox;
pub mod request;
pub mod request_event;
pub mod routing_rule;
pub mod session;
pub mod unit;
pub mod user;
