//! The pure half of `boxwise sweep`: which configurations to run ([`matrix`]), in what order
//! ([`order`]), how to summarise repeated measurements ([`stats`]) and when one configuration
//! is really better than the others ([`verdict`]). Running the workloads is the caller's job.

pub mod matrix;
pub mod metrics;
pub mod order;
pub mod stats;
pub mod verdict;

pub use matrix::{Config, matrix};
pub use stats::Summary;
