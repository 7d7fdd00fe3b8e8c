//! The cpu controller (and v1's cpuacct): quota, burst, weight, usage and throttling.

use std::path::{Path, PathBuf};

use super::file;
use crate::error::Result;
use crate::host::Host;
use crate::layout::{Hierarchy, Layout};
use crate::model::{CpuInfo, CpuQuotaInfo, CpuSetInfo, Throttling};
use crate::parse::cgroupfs::{self, Keyed, Quota};

use super::Controller;

/// Counters on both versions; the keys differ (see [`throttled_seconds`]).
pub const STAT: &str = "cpu.stat";
/// v1 `cpuacct.usage`: CPU time in ns.
pub const V1_ACCT_USAGE: &str = "cpuacct.usage";
/// v1 `cpu.cfs_quota_us`, also the source named for a v1 quota.
pub const V1_QUOTA: &str = "cpu.cfs_quota_us";
pub const V1_PERIOD: &str = "cpu.cfs_period_us";
/// v2 `cpu.max`: `$QUOTA $PERIOD`.
pub const V2_MAX: &str = "cpu.max";

/// The burst allowance beside a quota (absent before Linux 5.14).
pub fn burst_file(h: Hierarchy) -> &'static str {
    h.pick("cpu.cfs_burst_us", "cpu.max.burst")
}

/// The files and values that set a quota, in the order the kernel accepts them.
pub fn quota_writes(h: Hierarchy, quota_us: u64, period_us: u64) -> Vec<(&'static str, String)> {
    match h {
        Hierarchy::V1 => vec![
            (V1_PERIOD, period_us.to_string()),
            (V1_QUOTA, quota_us.to_string()),
        ],
        Hierarchy::V2 => vec![(V2_MAX, format!("{quota_us} {period_us}"))],
    }
}

/// `cpu.stat`'s throttled-time key and how many of its units make a second.
fn throttled_key(h: Hierarchy) -> (&'static str, f64) {
    h.pick(("throttled_time", 1e9), ("throttled_usec", 1e6))
}

/// Time spent throttled, from `cpu.stat`.
pub fn throttled_seconds(h: Hierarchy, stat: &Keyed) -> Option<f64> {
    let (key, per_second) = throttled_key(h);
    stat.get(key).map(|v| v as f64 / per_second)
}

/// v2 CPU usage, from `cpu.stat`'s `usage_usec` (v1 counts it in `cpuacct.usage`).
pub fn v2_usage_seconds(stat: &Keyed) -> Option<f64> {
    stat.get("usage_usec").map(|us| us as f64 / 1e6)
}

/// v1 `cpuacct.usage` (ns) in seconds.
pub fn v1_usage_seconds(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// The quota set at one cgroup level, if any.
pub fn quota_at(host: &Host, hierarchy: Hierarchy, dir: &Path) -> Result<Option<(Quota, PathBuf)>> {
    Ok(match hierarchy {
        Hierarchy::V2 => file(host, dir, V2_MAX, cgroupfs::cpu_max)?
            .flatten()
            .map(|q| (q, dir.join(V2_MAX))),
        Hierarchy::V1 => {
            let quota = file(host, dir, V1_QUOTA, cgroupfs::cfs_value)?.flatten();
            let period = file(host, dir, V1_PERIOD, cgroupfs::cfs_value)?.flatten();
            match (quota, period) {
                (Some(q), Some(p)) => Quota::new(q, p).map(|q| (q, dir.join(V1_QUOTA))),
                _ => None,
            }
        }
    })
}

/// The CPU facts: the lowest quota over the levels, the cpuset, and with `full` the
/// weight, usage and throttling.
pub(crate) fn read(
    host: &Host,
    layout: &Layout,
    affinity: Option<CpuSetInfo>,
    online: Option<CpuSetInfo>,
    full: bool,
) -> Result<CpuInfo> {
    let cpu_dir = layout.controller(Controller::Cpu);
    // The lowest quota over the cgroup and every ancestor; remember its level for the stats.
    let mut quota: Option<(Quota, PathBuf, PathBuf, Option<u64>)> = None;
    // The process's own cgroup's quota, the only one the Go 1.25 runtime reads.
    let mut own_quota = None;
    if let Some(d) = cpu_dir {
        for level in d.levels() {
            let Some((q, source)) = quota_at(host, d.hierarchy, &level)? else {
                continue;
            };
            let burst = file(host, &level, burst_file(d.hierarchy), cgroupfs::integer)?;
            if level == d.dir {
                own_quota = Some(quota_info(&q, &source, burst));
            }
            if quota
                .as_ref()
                .is_none_or(|(best, _, _, _)| q.cores() < best.cores())
            {
                quota = Some((q, source, level, burst));
            }
        }
    }

    let cpuset = match layout.controller(Controller::Cpuset) {
        Some(d) => super::cpuset::read(host, d)?,
        None => None,
    };

    let mut info = CpuInfo {
        effective_cores: 0.0,
        quota: quota
            .as_ref()
            .map(|(q, source, _, burst)| quota_info(q, source, *burst)),
        own_quota,
        cpuset,
        affinity,
        online,
        shares: None,
        weight: None,
        usage_seconds: None,
        usage_source: None,
        throttling: None,
    };
    let count = info.cpu_count().map(f64::from);
    info.effective_cores = match (info.quota.as_ref().map(|q| q.cores), count) {
        (Some(q), Some(c)) => q.min(c),
        (Some(q), None) => q,
        (None, Some(c)) => c,
        (None, None) => 1.0,
    };

    if full && let Some(d) = cpu_dir {
        let stats_dir = quota
            .as_ref()
            .map_or(d.dir.clone(), |(_, _, level, _)| level.clone());
        let stat_path = stats_dir.join(STAT);
        let stat = host.parse(&stat_path, cgroupfs::keyed)?;
        info.throttling = stat
            .as_ref()
            .and_then(|s| throttling(d.hierarchy, s, &stat_path));
        match d.hierarchy {
            Hierarchy::V1 => {
                info.shares = file(host, &d.dir, "cpu.shares", cgroupfs::integer)?;
                if let Some(acct) = layout.controller(Controller::Cpuacct) {
                    info.usage_seconds = file(host, &acct.dir, V1_ACCT_USAGE, cgroupfs::integer)?
                        .map(v1_usage_seconds);
                    info.usage_source = info.usage_seconds.map(|_| acct.dir.join(V1_ACCT_USAGE));
                }
            }
            Hierarchy::V2 => {
                info.weight = file(host, &d.dir, "cpu.weight", cgroupfs::integer)?;
                // The same file when the quota is the cgroup's own: not read twice.
                let own = if stats_dir == d.dir {
                    stat.clone()
                } else {
                    file(host, &d.dir, STAT, cgroupfs::keyed)?
                };
                info.usage_seconds = own.as_ref().and_then(v2_usage_seconds);
                info.usage_source = info.usage_seconds.map(|_| d.dir.join(STAT));
            }
        }
    }
    Ok(info)
}

fn quota_info(q: &Quota, source: &Path, burst_us: Option<u64>) -> CpuQuotaInfo {
    CpuQuotaInfo {
        cores: q.cores(),
        quota_us: q.quota_us,
        period_us: q.period_us,
        source: source.to_path_buf(),
        burst_us,
    }
}

fn throttling(h: Hierarchy, stat: &Keyed, source: &Path) -> Option<Throttling> {
    Some(Throttling {
        nr_periods: stat.get("nr_periods")?,
        nr_throttled: stat.get("nr_throttled")?,
        throttled_seconds: throttled_seconds(h, stat)?,
        source: source.to_path_buf(),
    })
}
