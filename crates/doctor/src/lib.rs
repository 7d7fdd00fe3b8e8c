//! `doctor`'s judgement: rules over what is known about the box, the Go binary and the
//! process's environment. Pure: the caller gathers the facts, this crate only decides.

mod finding;
mod rules;

pub use finding::{Finding, Severity};
pub use rules::{Facts, GoMaxProcs, diagnose, effective_gomaxprocs};
