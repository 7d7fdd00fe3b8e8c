//! What a Linux box allows a process, and what the Go runtime should be told about it.
//!
//! Data flows one way: [`host`] reads files under a root directory, [`parse`] turns their
//! text into values (pure functions), [`layout`] maps a process onto its cgroup directories, [`cgroup`] reads each controller's v1 or v2 files,
//! [`probe`] assembles the [`model::BoxInfo`], and [`policy`] derives GOMAXPROCS and
//! GOMEMLIMIT from it. Only [`host`] touches the file system.

#![forbid(unsafe_code)]

pub mod cgroup;
pub mod container;
pub mod error;
pub mod goenv;
pub mod host;
pub mod layout;
pub mod locate;
pub mod model;
pub mod parse;
pub mod plan;
pub mod policy;
pub mod probe;
pub mod units;

pub use error::{Error, ParseError};
pub use model::BoxInfo;
