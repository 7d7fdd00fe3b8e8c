//! A snapshot of a machine's cgroups and Go processes, for `boxwise top` and the exporter.
//!
//! Data flows one way: [`hierarchy`] finds the cgroup mounts (pure, from mountinfo),
//! [`walk`] lists and reads the cgroups through `boxwise-box`'s readers, [`goprocs`] finds
//! the Go processes with `boxwise-goprog` and judges each with `boxwise-box`'s policy and
//! `boxwise-doctor`, and [`rates`] turns two snapshots into per-second rates (pure).

#![forbid(unsafe_code)]

pub mod goprocs;
pub mod hierarchy;
pub mod model;
pub mod rates;
pub mod walk;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use boxwise_box::host::Host;

pub use goprocs::JudgeCache;
pub use model::{CgroupSample, FindingRef, GoProcess, Snapshot};
pub use rates::{CgroupRates, rates};

/// How much to collect: both caps bound the memory and the label cardinality of a node.
#[derive(Debug, Clone)]
pub struct Options {
    /// At most this many cgroups (the walk stops there and says so).
    pub max_cgroups: usize,
    /// At most this many Go processes.
    pub max_processes: usize,
    /// Directory levels walked below each hierarchy's mount point.
    pub max_depth: usize,
    /// Left out of the Go processes (the exporter itself).
    pub skip_pid: Option<u32>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_cgroups: 2000,
            max_processes: 500,
            max_depth: 8,
            skip_pid: None,
        }
    }
}

/// Read everything once. Never fails as a whole: what could not be read is listed in
/// [`Snapshot::errors`] and the values say `None`.
pub fn snapshot(host: &Host, opts: &Options) -> Snapshot {
    snapshot_with(host, opts, None)
}

/// Like [`snapshot`], reusing recent Go process judgements from `cache` (for `top`, which
/// refreshes every second; the counters and cgroups are always read afresh).
pub fn snapshot_with(host: &Host, opts: &Options, cache: Option<&mut JudgeCache>) -> Snapshot {
    let started = Instant::now();
    let taken_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut errors = Vec::new();
    let found = hierarchy::find(host).unwrap_or_else(|e| {
        errors.push(e.to_string());
        hierarchy::Hierarchies::default()
    });
    let walked = walk::walk(host, &found, opts);
    errors.extend(walked.errors);
    let (go, go_errors, go_truncated) = goprocs::collect(host, &found, opts, cache);
    errors.extend(go_errors);
    Snapshot {
        taken_unix_ms,
        at: started,
        collect_seconds: started.elapsed().as_secs_f64(),
        cgroup_version: found.version().to_string(),
        cgroups: walked.cgroups,
        cgroups_truncated: walked.truncated,
        go,
        go_truncated,
        errors,
    }
}
