//! `bench net` and `bench io`: what a network mode or a filesystem costs, measured on this
//! machine rather than quoted from an article.
//!
//! [`spec`] (what to measure) and [`model`] (latency summaries, results) are pure;
//! [`io`] and [`net`] time real system calls; [`netns`] makes and removes the network
//! namespaces, veth pairs and bridge the net bench needs, and [`interrupt`] turns Ctrl-C
//! into an early, clean stop so that teardown always runs.

pub mod docker;
pub mod error;
pub mod interrupt;
pub mod io;
pub mod limit;
pub mod model;
pub mod net;
pub mod netns;
pub mod spec;

pub use error::{Error, Result};
pub use model::{BufferedResult, IoReport, IoResult, Latency, NetReport, NetResult};
pub use spec::{IoSpec, NetMode, NetSpec, SyncMode};
