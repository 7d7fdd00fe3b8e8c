//! The typed facts about one process's box. Serialised as the `inspect --json` API:
//! snake_case keys, bytes as integers, absent values as `null`.

use std::path::PathBuf;

use serde::Serialize;

use crate::cgroup::Controller;
use crate::container::Container;
use crate::goenv::GoEnv;
use crate::layout::{CgroupDir, CgroupVersion};
use crate::parse::Pressure;

#[derive(Debug, Clone, Serialize)]
pub struct BoxInfo {
    /// The inspected process; `None` for boxwise itself.
    pub pid: Option<u32>,
    pub cgroup: CgroupInfo,
    pub cpu: CpuInfo,
    pub memory: MemoryInfo,
    pub pids: PidsInfo,
    pub pressure: PressureInfo,
    pub namespaces: Vec<Namespace>,
    pub container: Container,
    /// The Go settings found in the process's environment.
    pub go_env: GoEnv,
    /// Oddities that did not stop the probe (e.g. an unmappable cgroup path).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CgroupInfo {
    pub version: CgroupVersion,
    /// Limits set above the top visible cgroup cannot be seen from here (a private cgroup
    /// namespace, Docker's v1 mounts of the container's own cgroup): a quota or memory
    /// limit on a parent would not show. Inspect the process from the host to see them.
    pub ancestors_hidden: bool,
    /// The process's directory per controller.
    pub controllers: std::collections::BTreeMap<Controller, CgroupDir>,
    pub unified: Option<CgroupDir>,
}

/// A value and the file it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuQuotaInfo {
    pub cores: f64,
    pub quota_us: u64,
    pub period_us: u64,
    /// The quota file of the cgroup level that sets the lowest quota.
    pub source: PathBuf,
    /// How far the cgroup may run past its quota from unused runtime saved up
    /// (v2 `cpu.max.burst`, v1 `cpu.cfs_burst_us`, Linux 5.14+); `null` where the kernel
    /// has no such file.
    pub burst_us: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuSetInfo {
    /// Serialized in canonical form, e.g. `0-3,8`.
    pub cpus: crate::parse::CpuList,
    pub count: u32,
    pub source: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Throttling {
    pub nr_periods: u64,
    pub nr_throttled: u64,
    pub throttled_seconds: f64,
    pub source: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuInfo {
    /// min(quota, cpuset count, affinity count, online count).
    pub effective_cores: f64,
    /// The lowest quota over the cgroup and its ancestors.
    pub quota: Option<CpuQuotaInfo>,
    /// The quota of the process's own cgroup alone: what the Go 1.25 runtime reads (it
    /// ignores parents).
    pub own_quota: Option<CpuQuotaInfo>,
    pub cpuset: Option<CpuSetInfo>,
    pub affinity: Option<CpuSetInfo>,
    pub online: Option<CpuSetInfo>,
    /// v1 `cpu.shares` (relative weight, 1024 by default).
    pub shares: Option<u64>,
    /// v2 `cpu.weight` (relative weight, 100 by default).
    pub weight: Option<u64>,
    /// CPU time used by the cgroup since it was created.
    pub usage_seconds: Option<f64>,
    /// The file `usage_seconds` was read from (v1 `cpuacct.usage`, v2 `cpu.stat`): on a
    /// hybrid host cpuacct may sit at its root, which counts the whole machine.
    pub usage_source: Option<PathBuf>,
    pub throttling: Option<Throttling>,
}

impl CpuInfo {
    /// How many CPUs the process may run on at once, ignoring the quota.
    pub fn cpu_count(&self) -> Option<u32> {
        [&self.affinity, &self.cpuset, &self.online]
            .into_iter()
            .flatten()
            .map(|s| s.count)
            .filter(|&c| c > 0)
            .min()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemoryLimitKind {
    /// v2 `memory.max`
    MemoryMax,
    /// v2 `memory.high` (throttles and reclaims rather than kills)
    MemoryHigh,
    /// v1 `memory.limit_in_bytes`
    LimitInBytes,
    /// v1 `hierarchical_memory_limit` in `memory.stat` (the lowest limit above the cgroup)
    HierarchicalLimit,
}

impl MemoryLimitKind {
    /// The file (or key) name users know it by.
    pub fn name(self) -> &'static str {
        match self {
            MemoryLimitKind::MemoryMax => "memory.max",
            MemoryLimitKind::MemoryHigh => "memory.high",
            MemoryLimitKind::LimitInBytes => "memory.limit_in_bytes",
            MemoryLimitKind::HierarchicalLimit => "hierarchical_memory_limit",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryLimit {
    pub bytes: u64,
    pub kind: MemoryLimitKind,
    pub source: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryInfo {
    /// The effective hard limit: the lowest of memory.max / limit_in_bytes / hierarchical
    /// limit over the cgroup and its ancestors. `null` when unlimited.
    pub limit_bytes: Option<u64>,
    /// Where `limit_bytes` came from.
    pub limit: Option<MemoryLimit>,
    /// The lowest v2 `memory.high` over the cgroup and its ancestors.
    pub high: Option<MemoryLimit>,
    /// `high` in bytes, beside `limit_bytes`.
    pub high_bytes: Option<u64>,
    /// v2 `memory.low` of the process's own cgroup: memory reclaimed only when nothing
    /// unprotected is left.
    pub low_bytes: Option<u64>,
    /// v2 `memory.min` of the process's own cgroup: memory never reclaimed.
    pub min_bytes: Option<u64>,
    /// v2 `memory.swap.max` (lowest over the levels).
    pub swap_max_bytes: Option<u64>,
    /// v1 `memory.memsw.limit_in_bytes`: memory plus swap.
    pub memsw_limit_bytes: Option<u64>,
    /// v1 `memory.soft_limit_in_bytes` of the process's own cgroup (Docker's
    /// `--memory-reservation`): where the kernel reclaims first under host memory pressure.
    pub soft_limit_bytes: Option<u64>,
    pub usage_bytes: Option<u64>,
    pub peak_bytes: Option<u64>,
    /// Usage less inactive file cache, as `docker stats` and the kubelet count it.
    pub working_set_bytes: Option<u64>,
    /// Times the cgroup ran out of memory (v2 `memory.events` oom; not counted by v1).
    pub oom_events: Option<u64>,
    /// Processes killed by the OOM killer in this cgroup.
    pub oom_kill_events: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PidsInfo {
    pub max: Option<u64>,
    pub max_source: Option<PathBuf>,
    pub current: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PressureInfo {
    pub cpu: Option<PressureFile>,
    pub memory: Option<PressureFile>,
    pub io: Option<PressureFile>,
}

/// One PSI file's numbers and where they were read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PressureFile {
    #[serde(flatten)]
    pub pressure: Pressure,
    pub source: PathBuf,
}

impl std::ops::Deref for PressureFile {
    type Target = Pressure;
    fn deref(&self) -> &Pressure {
        &self.pressure
    }
}

/// One namespace of the process, compared with PID 1's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Namespace {
    pub kind: String,
    /// The link text, e.g. `net:[4026531840]`.
    pub id: String,
    /// `None` when PID 1's link cannot be read (not root).
    pub same_as_pid1: Option<bool>,
    /// Whether this is the kernel's initial namespace (known for the kinds whose initial
    /// inode number is fixed).
    pub initial: Option<bool>,
}
