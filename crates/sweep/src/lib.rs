//! The pure half of `boxwise sweep`: which configurations to run ([`matrix`]), in what order
//! ([`order`]), what a run measured and whether it failed ([`measure`], in typed
//! [`metric`]s), which metric decides ([`objective`]), how to summarise repeated
//! measurements ([`stats`], [`summary`]) and when one configuration is really better than
//! the others ([`verdict`]). Running the workloads is the caller's job.

#![forbid(unsafe_code)]

pub mod matrix;
pub mod measure;
pub mod metric;
pub mod metrics;
pub mod objective;
pub mod order;
pub mod stats;
pub mod summary;
pub mod verdict;

pub use matrix::{Config, matrix};
pub use metric::{Metric, MetricId, Metrics};
pub use objective::Objective;
pub use stats::Summary;
