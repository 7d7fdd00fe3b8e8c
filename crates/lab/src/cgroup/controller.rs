//! The controllers a run uses, by name instead of bare strings.

use std::fmt;

/// cgroup v2's domain controllers, by name (`io` included, which boxwise does not use):
/// the ones a cgroup holding processes may not enable for its children.
pub const V2_DOMAIN: [&str; 2] = ["memory", "io"];

/// A cgroup controller boxwise writes limits to or reads counters from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Controller {
    Cpu,
    /// v1 only: v2 folds CPU accounting into `cpu`.
    Cpuacct,
    Memory,
    Pids,
    Cpuset,
}

impl Controller {
    /// The kernel's name, as in `/proc/cgroups` and `cgroup.controllers`.
    pub fn name(self) -> &'static str {
        match self {
            Controller::Cpu => "cpu",
            Controller::Cpuacct => "cpuacct",
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Cpuset => "cpuset",
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

impl fmt::Display for Controller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
