//! Table shapes as sea-orm entities. Only derives here; logic lives in `db::*`.

pub mod calendar_day;
pub mod category;
pub mod request;
pub mod request_event;
pub mod routing_rule;
pub mod session;
pub mod unit;
pub mod user;
