//! Errors that stop a load run before or instead of producing a report. Failures of single
//! requests are not errors here: they are counted in the report.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL is not `http://host[:port][/path]`.
    #[error("URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    /// A load setting is out of range.
    #[error("{0}")]
    Spec(String),
    /// The URL's host did not resolve to an address.
    #[error("URL {url:?}: cannot resolve {host:?}: {source}")]
    Resolve {
        url: String,
        host: String,
        source: std::io::Error,
    },
    /// The server never answered within the readiness timeout.
    #[error("{url} did not answer within {:.1} s (last error: {last})", waited.as_secs_f64())]
    NotReady {
        url: String,
        waited: Duration,
        last: String,
    },
    /// A connection thread could not be started.
    #[error("cannot start load thread {index}: {source}")]
    Spawn {
        index: usize,
        source: std::io::Error,
    },
}
