//! GOMAXPROCS and GOMEMLIMIT for a box, each with the reason in words.
//!
//! `go125` is what Go 1.25+ does by itself (runtime/cgroup_linux.go): round the quota up, at
//! least 2, never above the CPUs the process may run on. `floor` is automaxprocs' rounding,
//! `ceil` the JVM's and .NET's. Unlike automaxprocs, every policy is capped by the CPU count.
//! GOMEMLIMIT is automemlimit's rule (90% of the limit, truncated), plus `memory.high`.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::model::{BoxInfo, MemoryLimit};
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
    fn default_min(self) -> u32 {
        match self {
            CpuPolicy::Go125 => 2,
            CpuPolicy::Floor | CpuPolicy::Ceil => 1,
        }
    }
}

impl FromStr for CpuPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "go125" => Ok(CpuPolicy::Go125),
            "floor" => Ok(CpuPolicy::Floor),
            "ceil" => Ok(CpuPolicy::Ceil),
            other => Err(format!(
                "unknown CPU policy {other:?}; expected go125, floor or ceil"
            )),
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

    pub fn new(r: f64) -> Result<MemoryRatio, String> {
        if r.is_finite() && r > 0.0 && r <= 1.0 {
            Ok(MemoryRatio(r))
        } else {
            Err(format!("memory ratio {r} is outside (0, 1]"))
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
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let r: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("memory ratio {s:?} is not a number"))?;
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
    let count_words = format!("{count} CPU{} allowed", if count == 1 { "" } else { "s" });
    let Some(q) = &b.cpu.quota else {
        return (
            count,
            format!("no cpu quota, {count_words}"),
            format!("no cpu quota; {count_words} (affinity, cpuset and online CPUs)"),
        );
    };
    let min = opts
        .min_procs
        .unwrap_or(opts.cpu_policy.default_min())
        .max(1);
    let rounded = match opts.cpu_policy {
        CpuPolicy::Go125 | CpuPolicy::Ceil => q.quota_us.div_ceil(q.period_us),
        CpuPolicy::Floor => q.quota_us / q.period_us,
    };
    let rounded = u32::try_from(rounded).unwrap_or(u32::MAX);
    let procs = rounded.max(min).min(count);
    let rule = match opts.cpu_policy {
        CpuPolicy::Go125 => "Go 1.25 rule: round up",
        CpuPolicy::Ceil => "ceil rule: round up",
        CpuPolicy::Floor => "floor rule: round down",
    };
    let cores = units::decimal(q.cores, 3);
    let reason = format!(
        "cpu quota {cores} ({}/{} us) from {}; {rule}, at least {min}, at most the {count_words}",
        q.quota_us,
        q.period_us,
        q.source.display()
    );
    (procs, format!("cpu quota {cores}"), reason)
}

fn gomemlimit(b: &BoxInfo, ratio: MemoryRatio) -> (Option<u64>, String, String) {
    // memory.high counts: past it the kernel throttles and reclaims hard, so the GC should
    // work before the process gets there.
    let lowest: Option<&MemoryLimit> = [b.memory.limit.as_ref(), b.memory.high.as_ref()]
        .into_iter()
        .flatten()
        .min_by_key(|l| l.bytes);
    let Some(l) = lowest else {
        return (
            None,
            "no memory limit".into(),
            "no memory limit in the cgroup or its ancestors".into(),
        );
    };
    let bytes = ratio.apply(l.bytes);
    let percent = units::decimal(ratio.get() * 100.0, 2);
    let why = format!("{percent}% of {} {}", l.kind.name(), units::bytes(l.bytes));
    let reason = format!("{why} ({} bytes) from {}", l.bytes, l.source.display());
    (Some(bytes), why, reason)
}
