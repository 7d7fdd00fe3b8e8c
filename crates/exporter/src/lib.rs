//! `boxwise exporter`: a fleet snapshot as Prometheus text exposition (format 0.0.4),
//! served over HTTP from a cache that a background thread refreshes, so a scrape never
//! waits on /proc.
//!
//! [`render`] is pure (snapshot in, text out); [`serve`] is the I/O edge.

#![forbid(unsafe_code)]

pub mod render;
pub mod serve;

pub use render::{METRICS, exposition};
pub use serve::{Config, serve};
