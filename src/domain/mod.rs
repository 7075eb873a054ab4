//! Pure rules of the practice: unit tree, categories, routing, calendar, roles.
//! No web, no database, no I/O: callers load data and pass it in.

pub mod calendar;
pub mod category;
pub mod error;
pub mod intake;
pub mod lifecycle;
pub mod personal;
pub mod request;
pub mod role;
pub mod routing;
pub mod stats;
pub mod tally;
pub mod unit;

pub use error::{FieldError, Validation};
