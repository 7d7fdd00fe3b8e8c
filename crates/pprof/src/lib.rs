//! pprof profiles without a Go toolchain: decode (`decode`), the resolved model (`model`),
//! pprof's own pre-report edits (`filter`), and the reports: `top` (identical to
//! `go tool pprof -top`), `flame` and `summary`; `url` builds the
//! address a profile is fetched from.

#![forbid(unsafe_code)]

pub mod decode;
pub mod filter;
pub mod flame;
pub mod graph;
mod intern;
pub mod model;
pub mod proto;
pub mod stacks;
pub mod summary;
#[cfg(feature = "test-support")]
pub mod synth;
pub mod top;
pub mod units;
pub mod url;

pub use decode::{DecodeError, decode, decode_reader};
pub use model::{Profile, SampleIndexError};
pub use regex;
