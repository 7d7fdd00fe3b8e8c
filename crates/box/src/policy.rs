//! GOMAXPROCS and GOMEMLIMIT for a box, each with the reason in words.
//!
//! `go125` is what Go 1.25+ does by itself (runtime/cgroup_linux.go): round the quota up, at
//! least 2, never above the CPUs the process may run on. `floor` is automaxprocs' rounding,
//! `ceil` the JVM's and .NET's. Unlike automaxprocs, every policy is capped by the CPU count.
//! GOMEMLIMIT is automemlimit's rule (90% of the limit, truncated), plus `memory.high`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::Serialize;

use crate::cgroup::Controller;
use crate::goenv;
use crate::model::{BoxInfo, CpuQuotaInfo, MemoryLimit};
use crate::units;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CpuPolicy {
    #[default]
    Go125,
    Floor,
    Ceil,
}

impl CpuPolicy {
    pub const NAMES: [&str; 3] = ["go125", "floor", "ceil"];

    /// The smallest GOMAXPROCS the policy gives under a quota.
    pub fn default_min(self) -> u32 {
        match self {
            CpuPolicy::Go125 => 2,
            CpuPolicy::Floor | CpuPolicy::Ceil => 1,
        }
    }
}

/// Why a `--cpu-policy` or `--memory-ratio` value (or its BOXWISE_* variable) is not usable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("unknown CPU policy {0:?}; expected go125, floor or ceil")]
    UnknownCpuPolicy(String),
    #[error("memory ratio {0:?} is not a number")]
    RatioNotANumber(String),
    #[error("memory ratio {0} is outside (0, 1]")]
    RatioOutOfRange(f64),
}

impl FromStr for CpuPolicy {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, PolicyError> {
        match s {
            "go125" => Ok(CpuPolicy::Go125),
            "floor" => Ok(CpuPolicy::Floor),
            "ceil" => Ok(CpuPolicy::Ceil),
            other => Err(PolicyError::UnknownCpuPolicy(other.to_string())),
        }
    }
}

impl fmt::Display for CpuPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CpuPolicy::Go125 => "go125",
            CpuPolicy::Floor => "floor",
            CpuPolicy::Ceil => "ceil",
        })
    }
}

/// A fraction of the memory limit in (0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct MemoryRatio(f64);

impl MemoryRatio {
    pub const DEFAULT: MemoryRatio = MemoryRatio(0.9);

    pub fn new(r: f64) -> Result<MemoryRatio, PolicyError> {
        if r.is_finite() && r > 0.0 && r <= 1.0 {
            Ok(MemoryRatio(r))
        } else {
            Err(PolicyError::RatioOutOfRange(r))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }

    /// Truncate like automemlimit (`uint64(float64(limit) * ratio)`).
    pub fn apply(self, bytes: u64) -> u64 {
        (bytes as f64 * self.0) as u64
    }
}

impl Default for MemoryRatio {
    fn default() -> Self {
        MemoryRatio::DEFAULT
    }
}

impl FromStr for MemoryRatio {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, PolicyError> {
        let r: f64 = s
            .trim()
            .parse()
            .map_err(|_| PolicyError::RatioNotANumber(s.to_string()))?;
        MemoryRatio::new(r)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Options {
    pub cpu_policy: CpuPolicy,
    /// Overrides the policy's minimum (2 for go125, 1 otherwise).
    pub min_procs: Option<u32>,
    pub memory_ratio: MemoryRatio,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub policy: CpuPolicy,
    pub gomaxprocs: u32,
    /// Short form for the `exec` log line, e.g. `cpu quota 1.5`.
    pub gomaxprocs_why: String,
    /// Full reason with the source file and the rule.
    pub gomaxprocs_reason: String,
    pub memory_ratio: MemoryRatio,
    pub gomemlimit_bytes: Option<u64>,
    pub gomemlimit_why: String,
    pub gomemlimit_reason: String,
}

pub fn recommend(b: &BoxInfo, opts: &Options) -> Recommendation {
    let (gomaxprocs, gomaxprocs_why, gomaxprocs_reason) = gomaxprocs(b, opts);
    let (gomemlimit_bytes, gomemlimit_why, gomemlimit_reason) = gomemlimit(b, opts.memory_ratio);
    Recommendation {
        policy: opts.cpu_policy,
        gomaxprocs,
        gomaxprocs_why,
        gomaxprocs_reason,
        memory_ratio: opts.memory_ratio,
        gomemlimit_bytes,
        gomemlimit_why,
        gomemlimit_reason,
    }
}

fn gomaxprocs(b: &BoxInfo, opts: &Options) -> (u32, String, String) {
    let count = b.cpu.cpu_count().unwrap_or(1);
    let count_words = count_words(count);
    let Some(q) = &b.cpu.quota else {
        // "none" only where the whole tree was seen: a parent's quota may bind unseen.
        let none = if b.cgroup.ancestors_hidden {
            "no cpu quota seen, parent cgroups hidden"
        } else {
            "no cpu quota"
        };
        let sep = if b.cgroup.ancestors_hidden { ";" } else { "," };
        return (
            count,
            format!("{none}{sep} {count_words}"),
            format!("{none}; {count_words} (affinity, cpuset and online CPUs)"),
        );
    };
    let min = opts
        .min_procs
        .unwrap_or(opts.cpu_policy.default_min())
        .max(1);
    let procs = quota_procs(q, opts.cpu_policy, min, count);
    let rule = match opts.cpu_policy {
        CpuPolicy::Go125 => "Go 1.25 rule: round up",
        CpuPolicy::Ceil => "ceil rule: round up",
        CpuPolicy::Floor => "floor rule: round down",
    };
    let cores = units::decimal(q.cores, 3);
    let mut reason = format!(
        "cpu quota {cores} ({}/{} us) from {}; {rule}, at least {min}, at most the {count_words}",
        q.quota_us,
        q.period_us,
        q.source.display()
    );
    let mut note = format!("cpu quota {cores}");
    if opts.cpu_policy != CpuPolicy::Go125 {
        note.push_str(&format!(", policy {}", opts.cpu_policy));
    }
    if above_quota_for_gc(procs, q.cores) {
        reason.push_str(&format!("; 2, not 1: {WHY_TWO}"));
        note.push_str("; 2, not 1, so the GC does not stall the program");
    }
    (procs, note, reason)
}

/// Why 2 and not 1 under a quota below 2, in one sentence (Go 1.25's runtime keeps at least
/// 2 for the same reason; the numbers were measured on this project's test machine).
pub const WHY_TWO: &str = "with one P the garbage collector's work stalls the program (Go \
    1.25's own rule; under a 0.6-CPU quota GOMAXPROCS=1 gave a p99 of 25-60 ms against about \
    1.2 ms with 2)";

/// True when GOMAXPROCS 2 is recommended under a quota of 1 CPU or less: the minimum, not
/// the rounding, chose 2, which [`WHY_TWO`] explains.
pub fn above_quota_for_gc(procs: u32, quota_cores: f64) -> bool {
    procs == 2 && quota_cores <= 1.0
}

fn count_words(count: u32) -> String {
    format!("{count} CPU{} allowed", if count == 1 { "" } else { "s" })
}

/// GOMAXPROCS under a quota: rounded by the policy, at least `min`, at most `cpus`. With
/// `Go125` and a minimum of 2 this is the runtime's own rule (runtime/cgroup_linux.go
/// `adjustCgroupGOMAXPROCS`: ceil, at least 2, then the CPU count wins).
fn quota_procs(q: &CpuQuotaInfo, policy: CpuPolicy, min: u32, cpus: u32) -> u32 {
    procs_for_quota(q.quota_us, q.period_us, policy, min, cpus)
}

/// GOMAXPROCS for a quota of `quota_us` per `period_us` under `policy`, at least `min` and at
/// most `cpus`: the same rule without a probed box, for limits read from manifests (lint).
pub fn procs_for_quota(
    quota_us: u64,
    period_us: u64,
    policy: CpuPolicy,
    min: u32,
    cpus: u32,
) -> u32 {
    let period_us = period_us.max(1);
    let rounded = match policy {
        CpuPolicy::Go125 | CpuPolicy::Ceil => quota_us.div_ceil(period_us),
        CpuPolicy::Floor => quota_us / period_us,
    };
    u32::try_from(rounded)
        .unwrap_or(u32::MAX)
        .max(min)
        .min(cpus)
}

/// What decides the GOMAXPROCS a Go program picks by itself, as plain facts read from the
/// program by the caller (goprog reads binaries; box does not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoRuntime {
    /// The toolchain as recorded, e.g. `go1.25.12`, for messages.
    pub version: String,
    /// `(major, minor)`, e.g. `(1, 25)`.
    pub release: (u32, u32),
    /// Go 1.25+ with `containermaxprocs` on once DefaultGODEBUG and GODEBUG are applied.
    pub container_aware: bool,
    /// Where `containermaxprocs` was turned off: `GODEBUG` or `DefaultGODEBUG`.
    pub disabled_by: Option<&'static str>,
    /// Go 1.25+ with `updatemaxprocs` on: it re-reads the limit about once a second.
    pub updates: bool,
}

impl GoRuntime {
    /// From the binary's version and DefaultGODEBUG, and the GODEBUG it will run with (which
    /// the runtime applies over DefaultGODEBUG).
    pub fn new(
        version: &str,
        release: (u32, u32),
        default_godebug: Option<&str>,
        env_godebug: Option<&str>,
    ) -> GoRuntime {
        let since_125 = release >= (1, 25);
        let setting = |key: &str| -> (i32, Option<&'static str>) {
            let env = env_godebug.and_then(|g| goenv::godebug_int(g, key));
            let default = default_godebug.and_then(|g| goenv::godebug_int(g, key));
            match (env, default) {
                (Some(v), _) => (v, Some("GODEBUG")),
                (None, Some(v)) => (v, Some("DefaultGODEBUG")),
                (None, None) => (1, None),
            }
        };
        let (containermaxprocs, from) = setting("containermaxprocs");
        // runtime: `debug.containermaxprocs > 0`, `debug.updatemaxprocs != 0`.
        let container_aware = since_125 && containermaxprocs > 0;
        GoRuntime {
            version: version
                .split_whitespace()
                .next()
                .unwrap_or(version)
                .to_string(),
            release,
            container_aware,
            disabled_by: (since_125 && !container_aware).then_some(from).flatten(),
            updates: since_125 && setting("updatemaxprocs").0 != 0,
        }
    }

    /// Go 1.26 maps the cgroup path through the mount's root; Go 1.25 appends it to the mount
    /// point, which misses a v1 mount whose root is not `/` (golang/go#76390; measured in
    /// docs/exec.md: go1.25.12 still does, go1.26.11 does not).
    fn maps_mount_root(&self) -> bool {
        self.release >= (1, 26)
    }
}

/// The GOMAXPROCS a Go runtime picks by itself in a box, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimePick {
    pub gomaxprocs: u32,
    pub basis: PickBasis,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PickBasis {
    /// Before Go 1.25: the CPU count, whatever the cgroup says.
    BeforeGo125,
    /// Go 1.25+ with `containermaxprocs` off: the CPU count.
    Disabled,
    /// The runtime looks for its cgroup at `looks_at`, which is not its cgroup (or finds no
    /// cpu cgroup at all): the CPU count, and no later updates from the limit.
    CgroupNotFound {
        looks_at: Option<PathBuf>,
        /// The mount starts above the process's cgroup namespace (root `/..`): no Go version
        /// maps that, unlike golang/go#76390, which Go 1.26 fixed.
        outside_namespace: bool,
    },
    /// It reads its own cgroup, which sets no quota: the CPU count.
    NoOwnQuota,
    /// Its own cgroup's quota, by the Go 1.25 rule.
    OwnQuota(CpuQuotaInfo),
}

impl PickBasis {
    /// The runtime reads its own cgroup's limit, so it follows changes to it.
    pub fn reads_own_cgroup(&self) -> bool {
        matches!(self, PickBasis::NoOwnQuota | PickBasis::OwnQuota(_))
    }
}

/// What the Go runtime `rt` picks for GOMAXPROCS by itself in box `b` (runtime/cgroup_linux.go
/// `defaultGOMAXPROCS`): the CPUs it may run on, lowered by its own cgroup's quota only when it
/// is container-aware and finds that cgroup. It never reads a parent's quota.
pub fn runtime_gomaxprocs(b: &BoxInfo, rt: &GoRuntime) -> RuntimePick {
    let cpus = b.cpu.cpu_count().unwrap_or(1);
    let basis = if rt.release < (1, 25) {
        PickBasis::BeforeGo125
    } else if !rt.container_aware {
        PickBasis::Disabled
    } else if let Some(looks_at) = misses_own_cgroup(b, rt) {
        PickBasis::CgroupNotFound {
            outside_namespace: looks_at.as_ref().is_some_and(|_| mount_above_namespace(b)),
            looks_at,
        }
    } else {
        match &b.cpu.own_quota {
            Some(q) => PickBasis::OwnQuota(q.clone()),
            None => PickBasis::NoOwnQuota,
        }
    };
    let gomaxprocs = match &basis {
        PickBasis::OwnQuota(q) => quota_procs(q, CpuPolicy::Go125, 2, cpus),
        _ => cpus,
    };
    RuntimePick { gomaxprocs, basis }
}

/// The cpu mount's root, as the process sees it, lies above its cgroup namespace's root.
fn mount_above_namespace(b: &BoxInfo) -> bool {
    b.cgroup.controllers.get(&Controller::Cpu).is_some_and(|d| {
        let root = d.mount_root.trim_end_matches('/');
        root == "/.." || root.starts_with("/../")
    })
}

/// `Some(where it looks)` when the runtime will not find the process's cpu cgroup directory.
/// Decided from the mount root as the process sees it (`CgroupDir::mount_root`), so it holds
/// when boxwise reads the process from the host's view too.
fn misses_own_cgroup(b: &BoxInfo, rt: &GoRuntime) -> Option<Option<PathBuf>> {
    let Some(d) = b.cgroup.controllers.get(&Controller::Cpu) else {
        return Some(None);
    };
    let root = d.mount_root.trim_end_matches('/');
    // A root of `/..` (cgroup namespace, no remount): neither version searches for the
    // directory as boxwise does.
    if d.unmapped || mount_above_namespace(b) {
        return Some(Some(d.mount_point.clone()));
    }
    if rt.maps_mount_root() {
        // Go 1.26 maps the path through the mount's root as boxwise does.
        return None;
    }
    // Go 1.25 appends the path to the mount point: right only where the mount shows the
    // hierarchy from its root.
    (!root.is_empty()).then(|| Some(d.mount_point.join(d.cgroup_path.trim_start_matches('/'))))
}

fn gomemlimit(b: &BoxInfo, ratio: MemoryRatio) -> (Option<u64>, String, String) {
    // memory.high counts: past it the kernel throttles and reclaims hard, so the GC should
    // work before the process gets there.
    let lowest: Option<&MemoryLimit> = [b.memory.limit.as_ref(), b.memory.high.as_ref()]
        .into_iter()
        .flatten()
        .min_by_key(|l| l.bytes);
    let Some(l) = lowest else {
        return if b.cgroup.ancestors_hidden {
            (
                None,
                "no memory limit seen, parent cgroups hidden".into(),
                "no memory limit in the cgroup or the ancestors visible from here".into(),
            )
        } else {
            (
                None,
                "no memory limit".into(),
                "no memory limit in the cgroup or its ancestors".into(),
            )
        };
    };
    let bytes = ratio.apply(l.bytes);
    let percent = units::decimal(ratio.get() * 100.0, 2);
    let why = format!("{percent}% of {} {}", l.kind.name(), units::bytes(l.bytes));
    let reason = format!("{why} ({} bytes) from {}", l.bytes, l.source.display());
    (Some(bytes), why, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CLI and the BOXWISE_* warnings print these words; keep them as they were.
    #[test]
    fn two_under_one_cpu_says_why_and_other_policies_are_named() {
        assert!(above_quota_for_gc(2, 0.5) && above_quota_for_gc(2, 1.0));
        assert!(!above_quota_for_gc(2, 1.5) && !above_quota_for_gc(1, 0.5));
        assert!(!above_quota_for_gc(3, 0.5));
    }

    #[test]
    fn error_messages() {
        let e = "fast".parse::<CpuPolicy>().unwrap_err();
        assert_eq!(e, PolicyError::UnknownCpuPolicy("fast".into()));
        assert_eq!(
            e.to_string(),
            r#"unknown CPU policy "fast"; expected go125, floor or ceil"#
        );
        assert_eq!(
            "lots".parse::<MemoryRatio>().unwrap_err().to_string(),
            r#"memory ratio "lots" is not a number"#
        );
        assert_eq!(
            "1.5".parse::<MemoryRatio>().unwrap_err().to_string(),
            "memory ratio 1.5 is outside (0, 1]"
        );
        assert_eq!(
            MemoryRatio::new(0.0).unwrap_err().to_string(),
            "memory ratio 0 is outside (0, 1]"
        );
        assert_eq!(" 0.5 ".parse::<MemoryRatio>().unwrap().get(), 0.5);
        assert_eq!("ceil".parse::<CpuPolicy>().unwrap(), CpuPolicy::Ceil);
    }
}
