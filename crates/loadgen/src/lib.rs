//! An open-loop HTTP/1.1 load generator for `boxwise sweep --http` and `boxwise load`.
//!
//! Requests leave at a constant arrival rate whatever the server does, and each latency is
//! measured from the request's *intended* send time, as wrk2 does: when the server stalls, the
//! requests that should have been sent meanwhile count their wait, so a pause shows in the tail
//! instead of being hidden by the generator waiting along with it (coordinated omission).
//!
//! One thread per connection with blocking keep-alive sockets and a small HTTP/1.1 GET
//! client (response heads parsed by httparse): enough for tens of thousands of requests per
//! second on one core, with no runtime.

#![forbid(unsafe_code)]

mod conn;
mod error;
mod http;
mod ready;
mod report;
mod run;
mod schedule;
mod spec;
mod text;
mod units;
mod url;

pub use error::Error;
pub use http::{HttpError, Response, ResponseReader};
pub use ready::wait_ready;
pub use report::LoadReport;
pub use run::run;
pub use schedule::Schedule;
pub use spec::LoadSpec;
pub use units::{DurationError, parse_duration};
pub use url::HttpUrl;
