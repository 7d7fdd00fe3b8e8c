//! The controllers boxwise knows, by kernel name. Kept apart from the readers in
//! `cgroup/` so the layout can name a controller without depending on them.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::Serialize;

/// cgroup v2's domain controllers, by name: the ones a cgroup holding processes may not
/// enable for its children.
pub const V2_DOMAIN: [&str; 2] = ["memory", "io"];

/// A cgroup controller boxwise reads or writes. Declared in name order, so ordering (and a
/// `BTreeMap` keyed by it) matches ordering by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Controller {
    Cpu,
    /// v1 only: v2 folds CPU accounting into `cpu`.
    Cpuacct,
    Cpuset,
    /// v2 `io`, v1 `blkio`: only written (`run --io-*`), never probed, so it is not in
    /// [`Controller::ALL`]; a layout has it when asked for (`layout::resolve_with`).
    Io,
    Memory,
    Pids,
}

impl Controller {
    /// Every controller boxwise probes, in name order.
    pub const ALL: [Controller; 5] = [
        Controller::Cpu,
        Controller::Cpuacct,
        Controller::Cpuset,
        Controller::Memory,
        Controller::Pids,
    ];

    /// The kernel's name, as in `/proc/cgroups` and `cgroup.controllers`.
    pub fn name(self) -> &'static str {
        match self {
            Controller::Cpu => "cpu",
            Controller::Cpuacct => "cpuacct",
            Controller::Cpuset => "cpuset",
            Controller::Io => "io",
            Controller::Memory => "memory",
            Controller::Pids => "pids",
        }
    }

    /// The name of its v1 hierarchy (mount option and `/proc/self/cgroup` field): the
    /// io controller was `blkio` there.
    pub fn v1_name(self) -> &'static str {
        match self {
            Controller::Io => "blkio",
            c => c.name(),
        }
    }

    /// The controller that serves this one on cgroup v2.
    pub fn v2(self) -> Controller {
        match self {
            Controller::Cpuacct => Controller::Cpu,
            c => c,
        }
    }

    /// cgroup v2 threaded controllers (cpu, cpuset, pids) may be enabled in a cgroup that
    /// holds processes, which turns it `domain threaded`; domain ones (memory) may not.
    pub fn is_threaded(self) -> bool {
        !V2_DOMAIN.contains(&self.name())
    }
}

// Hashed as its name so that `Borrow<str>` keeps maps' lookups by name consistent.
impl Hash for Controller {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name().hash(state)
    }
}

/// Lets maps keyed by controller be looked up by name (`controllers["cpu"]`).
impl Borrow<str> for Controller {
    fn borrow(&self) -> &str {
        self.name()
    }
}

impl fmt::Display for Controller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
