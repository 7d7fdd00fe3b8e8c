//! A snapshot of a machine's cgroups and Go processes, for `boxwise top` and the exporter.
//!
//! Data flows one way: [`hierarchy`] finds the cgroup mounts (pure, from mountinfo),
//! [`walk`] lists and reads the cgroups through `boxwise-box`'s readers, [`goprocs`] finds
//! the Go processes with `boxwise-goprog` and judges each with `boxwise-box`'s policy and
//! `boxwise-doctor`, [`names`] keeps the Docker engine's container names, and [`rates`]
//! turns two snapshots into per-second rates (pure).

#![forbid(unsafe_code)]

pub mod counter;
pub mod goprocs;
pub mod hierarchy;
pub mod model;
pub mod names;
pub mod rates;
pub mod walk;

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use boxwise_box::host::Host;

pub use goprocs::JudgeCache;
pub use model::{CgroupSample, FindingRef, GoProcess, Snapshot};
pub use names::Names;
pub use rates::{CgroupRates, rates};
pub use walk::{Pace, Walker};

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
    Collector::new(opts.clone(), Pace::FULL, None, None).snapshot(host)
}

/// Takes snapshot after snapshot, keeping between them what need not be read again: the
/// walker's open files and listing, recent Go process judgements, container names.
pub struct Collector {
    opts: Options,
    walker: Walker,
    judge: Option<JudgeCache>,
    names: Option<Names>,
    found: Option<hierarchy::Hierarchies>,
    /// The last Go processes found, their errors and whether the cap cut them short: a
    /// live pace lists them as seldom as the cgroups.
    go: Option<(Vec<GoProcess>, Vec<String>, bool)>,
    refreshes: u32,
}

impl Collector {
    /// `judge_reuse`: keep a Go process's judgement for that many snapshots (`None`: judge
    /// every time). `names`: the engine's container names, when its socket is there.
    pub fn new(
        opts: Options,
        pace: Pace,
        judge_reuse: Option<u32>,
        names: Option<Names>,
    ) -> Collector {
        Collector {
            opts,
            walker: Walker::new(pace),
            judge: judge_reuse.map(JudgeCache::new),
            names,
            found: None,
            go: None,
            refreshes: 0,
        }
    }

    /// The container names, to wait for their first answer.
    pub fn names(&self) -> Option<&Names> {
        self.names.as_ref()
    }

    pub fn snapshot(&mut self, host: &Host) -> Snapshot {
        let started = Instant::now();
        let taken_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut errors = Vec::new();
        // The mounts change as rarely as the listing is renewed.
        let relist = self.walker.pace().relist.max(1);
        let listing = self.refreshes.is_multiple_of(relist);
        if self.found.is_none() || listing {
            self.found = Some(hierarchy::find(host).unwrap_or_else(|e| {
                errors.push(e.to_string());
                hierarchy::Hierarchies::default()
            }));
        }
        self.refreshes = self.refreshes.wrapping_add(1);
        let found = self.found.clone().unwrap_or_default();
        let mut walked = self.walker.walk(host, &found, &self.opts);
        errors.append(&mut walked.errors);
        // Finding the Go processes reads every process's `exe`: as seldom as the listing.
        if self.go.is_none() || listing {
            self.go = Some(goprocs::collect(
                host,
                &found,
                &self.opts,
                self.judge.as_mut(),
            ));
        }
        let (mut go, go_errors, go_truncated) = self.go.clone().unwrap_or_default();
        errors.extend(go_errors);
        if let Some(names) = &self.names {
            name_containers(names, &mut walked.cgroups, &mut go);
        }
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

    /// Read the costly files of the cgroups `ids` into `snap` (working set, PSI, limits,
    /// OOM kills): what a live view shows on screen.
    pub fn detail(&mut self, host: &Host, snap: &mut Snapshot, ids: &[&str]) {
        self.walker.detail(host, &mut snap.cgroups, ids);
    }
}

/// The engine's names onto the cgroups that are its containers, and onto the Go processes
/// in them.
fn name_containers(names: &Names, cgroups: &mut [CgroupSample], go: &mut [GoProcess]) {
    let mut by_cgroup = HashMap::new();
    for c in cgroups.iter_mut() {
        if let Some(id) = &c.container_id {
            c.container_name = names.get(id);
            if let Some(n) = &c.container_name {
                by_cgroup.insert(c.id.clone(), n.clone());
            }
        }
    }
    for p in go.iter_mut() {
        p.container_name = p.cgroup.as_ref().and_then(|c| by_cgroup.get(c).cloned());
    }
}
