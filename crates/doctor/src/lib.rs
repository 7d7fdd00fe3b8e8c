//! `doctor`'s judgement: rules over what is known about the box, the Go binary, the
//! process's environment and, when given, a CPU profile. Pure: the caller gathers the facts, this crate only decides.

mod finding;
pub mod profile;
mod rules;
mod vantage;

pub use finding::{Finding, Severity};
pub use profile::{ProfileCategory, ProfileFacts};
pub use rules::{Facts, GoMaxProcs, diagnose, effective_gomaxprocs};
