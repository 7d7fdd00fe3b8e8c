//! What one snapshot holds. Serialised as `boxwise top --json`: snake_case, bytes as
//! integers, absent values as `null`.

use std::time::Instant;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub taken_unix_ms: u64,
    /// When it was taken, for rates (monotonic).
    #[serde(skip)]
    pub at: Instant,
    /// How long reading took.
    pub collect_seconds: f64,
    /// `v1`, `v2`, `hybrid` or `none`.
    pub cgroup_version: String,
    pub cgroups: Vec<CgroupSample>,
    /// More cgroups existed than the cap allowed.
    pub cgroups_truncated: bool,
    pub go: Vec<GoProcess>,
    pub go_truncated: bool,
    /// What could not be read, one line each.
    pub errors: Vec<String>,
}

/// One cgroup's counters and limits, as its own files say (not its ancestors').
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CgroupSample {
    /// The cgroup path, as in `/proc/<pid>/cgroup` (cAdvisor's `id` label).
    pub id: String,
    /// The container it is, when the path names one (`docker/0123456789ab`).
    pub container: Option<String>,
    /// The container's full id, when the path names one (to ask the engine its name).
    #[serde(skip)]
    pub container_id: Option<String>,
    /// The container's name from the Docker engine (`web-1`), when its socket answered.
    pub container_name: Option<String>,
    /// The Kubernetes pod's UID, when the path is a kubelet's (`kubepods/.../pod<uid>`).
    pub pod_uid: Option<String>,
    pub cpu_usage_seconds: Option<f64>,
    pub cfs_periods: Option<u64>,
    pub cfs_throttled_periods: Option<u64>,
    pub cfs_throttled_seconds: Option<f64>,
    pub cpu_quota_us: Option<u64>,
    pub cpu_period_us: Option<u64>,
    pub memory_usage_bytes: Option<u64>,
    pub memory_working_set_bytes: Option<u64>,
    /// `null` when unlimited.
    pub memory_limit_bytes: Option<u64>,
    pub oom_kills: Option<u64>,
    /// PSI `some avg10`, percent of wall time (unified hierarchy only).
    pub cpu_pressure_some_avg10: Option<f64>,
    pub memory_pressure_some_avg10: Option<f64>,
    /// PSI `some avg60`.
    pub cpu_pressure_some_avg60: Option<f64>,
    pub memory_pressure_some_avg60: Option<f64>,
    /// PSI `total`: seconds some (or, for memory, all) tasks stalled since the cgroup
    /// was made; a counter.
    pub cpu_pressure_some_stall_seconds: Option<f64>,
    pub memory_pressure_some_stall_seconds: Option<f64>,
    pub memory_pressure_full_stall_seconds: Option<f64>,
}

impl CgroupSample {
    /// What to call it: the engine's container name, else `runtime/short-id`.
    pub fn display_name(&self) -> Option<&str> {
        self.container_name.as_deref().or(self.container.as_deref())
    }

    /// The CPU quota in cores.
    pub fn quota_cores(&self) -> Option<f64> {
        match (self.cpu_quota_us, self.cpu_period_us) {
            (Some(q), Some(p)) if p > 0 => Some(q as f64 / p as f64),
            _ => None,
        }
    }
}

/// One Go process, its settings, and what its box calls for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoProcess {
    pub pid: u32,
    pub name: Option<String>,
    /// Its cgroup's `id` (the cpu hierarchy's path; the unified path on v2).
    pub cgroup: Option<String>,
    pub container: Option<String>,
    /// The container's name from the Docker engine, when its socket answered.
    pub container_name: Option<String>,
    pub go_version: Option<String>,
    pub rss_bytes: Option<u64>,
    /// The GOMAXPROCS it runs with (environment, or what its Go version chooses).
    pub gomaxprocs: Option<u32>,
    pub gomaxprocs_recommended: Option<u32>,
    /// `null` when unset (no soft limit).
    pub gomemlimit_bytes: Option<u64>,
    /// `null` when the box has no memory limit to derive it from.
    pub gomemlimit_recommended_bytes: Option<u64>,
    /// The GOGC in effect (`100` when unset, `off`).
    pub gogc: Option<String>,
    pub cpu_quota_cores: Option<f64>,
    pub memory_limit_bytes: Option<u64>,
    /// `false` when doctor says GOMAXPROCS does not fit the CPU limit.
    pub gomaxprocs_fit: Option<bool>,
    /// `false` when doctor says GOMEMLIMIT does not fit the memory limit.
    pub gomemlimit_fit: Option<bool>,
    pub findings: Vec<FindingRef>,
    /// Why its box could not be read.
    pub error: Option<String>,
}

impl GoProcess {
    /// What to call its container: the engine's name, else `runtime/short-id`.
    pub fn container_display(&self) -> Option<&str> {
        self.container_name.as_deref().or(self.container.as_deref())
    }
}

/// A doctor finding by its stable id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingRef {
    pub id: String,
    pub severity: String,
}
