//! The memory limits a trace is judged against, given by the user: GOMEMLIMIT and the
//! container's memory limit.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Limits {
    pub gomemlimit_bytes: Option<u64>,
    pub memory_limit_bytes: Option<u64>,
}
