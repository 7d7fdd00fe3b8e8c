//! `doctor`'s judgement: rules over what is known about the box, the Go binary, the
//! process's environment and, when given, a CPU profile. Pure: the caller gathers the facts, this crate only decides.
//!
//! Modules depend one way: the rule groups read `facts` and build `finding`s; only
//! `diagnose` knows them all. Finding ids are stable API (docs/rules.md).

#![forbid(unsafe_code)]

mod binary;
mod facts;
mod finding;
mod gomaxprocs;
mod gomemlimit;
mod health;
pub mod profile;
mod syscalls;
mod vantage;

pub use facts::{
    Facts, GoMaxProcs, ProfileCategory, ProfileFacts, SyscallFacts, SyscallNote,
    effective_gomaxprocs,
};
pub use finding::{Finding, FindingId, Severity, fold};

/// Every rule, ranked errors first; within a severity, in the order below.
pub fn diagnose(f: &Facts) -> Vec<Finding> {
    let mut out = Vec::new();
    gomaxprocs::gomaxprocs(f, &mut out);
    gomaxprocs::not_container_aware(f, &mut out);
    gomemlimit::gomemlimit(f, &mut out);
    gomemlimit::gogc_off(f, &mut out);
    health::throttled(f, &mut out);
    health::oom_killed(f, &mut out);
    health::memory_near_limit(f, &mut out);
    health::pressure(f, &mut out);
    vantage::hidden_ancestors(f, &mut out);
    binary::dynamic(f, &mut out);
    binary::debug_info(f, &mut out);
    profile::profile(f, &mut out);
    syscalls::syscalls(f, &mut out);
    out.sort_by_key(|finding| finding.severity);
    out
}

#[cfg(test)]
mod tests;
