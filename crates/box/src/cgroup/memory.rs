//! The memory controller: limits, swap, usage, peak and OOM events.

use std::path::PathBuf;

use super::{Controller, file, lowest_over_levels};
use crate::error::Result;
use crate::host::Host;
use crate::layout::{Hierarchy, Layout};
use crate::model::{MemoryInfo, MemoryLimit, MemoryLimitKind};
use crate::parse::cgroupfs::{self, Keyed};

pub const STAT: &str = "memory.stat";
/// Both `memory.events` (v2) and `memory.oom_control` (v1) count kills under this key.
pub const OOM_KILL: &str = "oom_kill";
/// v1's memory+swap limit.
const V1_MEMSW: &str = "memory.memsw.limit_in_bytes";

/// v1's soft limit (Docker's `--memory-reservation`; v2 has `memory.low` instead).
pub const V1_SOFT_LIMIT: &str = "memory.soft_limit_in_bytes";

/// The hard limit: v1 `memory.limit_in_bytes`, v2 `memory.max`.
pub fn limit_file(h: Hierarchy) -> &'static str {
    h.pick("memory.limit_in_bytes", "memory.max")
}

/// The swap limit's file and value for a memory limit and a memory+swap total: v1 limits
/// the total (`memory.memsw.limit_in_bytes`), v2 the swap alone (`memory.swap.max`).
pub fn swap_write(h: Hierarchy, memory: u64, total: u64) -> (&'static str, u64) {
    match h {
        Hierarchy::V1 => (V1_MEMSW, total),
        Hierarchy::V2 => ("memory.swap.max", total.saturating_sub(memory)),
    }
}

/// The highest usage seen: v1 `memory.max_usage_in_bytes`, v2 `memory.peak`.
pub fn peak_file(h: Hierarchy) -> &'static str {
    h.pick("memory.max_usage_in_bytes", "memory.peak")
}

/// The file counting OOM kills under [`OOM_KILL`].
pub fn events_file(h: Hierarchy) -> &'static str {
    h.pick("memory.oom_control", "memory.events")
}

pub fn usage_file(h: Hierarchy) -> &'static str {
    h.pick("memory.usage_in_bytes", "memory.current")
}

/// `memory.stat`'s inactive file cache key (v1 counts the hierarchy in `total_*`).
pub fn inactive_file_key(h: Hierarchy) -> &'static str {
    h.pick("total_inactive_file", "inactive_file")
}

pub(crate) fn read(host: &Host, layout: &Layout, full: bool) -> Result<MemoryInfo> {
    let mut info = MemoryInfo {
        limit_bytes: None,
        limit: None,
        high: None,
        high_bytes: None,
        low_bytes: None,
        min_bytes: None,
        swap_max_bytes: None,
        memsw_limit_bytes: None,
        soft_limit_bytes: None,
        usage_bytes: None,
        peak_bytes: None,
        working_set_bytes: None,
        oom_events: None,
        oom_kill_events: None,
    };
    let Some(d) = layout.controller(Controller::Memory) else {
        return Ok(info);
    };
    let limit = |(bytes, source): (u64, PathBuf), kind| MemoryLimit {
        bytes,
        kind,
        source,
    };
    let mut hard: Vec<MemoryLimit> = Vec::new();
    let stat_path = d.dir.join(STAT);
    // Read once: v1 needs it for the hierarchical limit, the full probe for the working set.
    let stat = if d.hierarchy == Hierarchy::V1 || full {
        host.parse(&stat_path, cgroupfs::keyed)?
    } else {
        None
    };
    match d.hierarchy {
        Hierarchy::V2 => {
            hard.extend(
                lowest_over_levels(host, d, limit_file(d.hierarchy), cgroupfs::max_or_integer)?
                    .map(|l| limit(l, MemoryLimitKind::MemoryMax)),
            );
            info.high = lowest_over_levels(host, d, "memory.high", cgroupfs::max_or_integer)?
                .map(|l| limit(l, MemoryLimitKind::MemoryHigh));
            info.high_bytes = info.high.as_ref().map(|h| h.bytes);
            if full {
                // `max` protects everything: u64::MAX says so in bytes.
                let protection = |name| -> Result<Option<u64>> {
                    Ok(file(host, &d.dir, name, cgroupfs::max_or_integer)?
                        .map(|v| v.unwrap_or(u64::MAX)))
                };
                info.low_bytes = protection("memory.low")?;
                info.min_bytes = protection("memory.min")?;
            }
            info.swap_max_bytes =
                lowest_over_levels(host, d, "memory.swap.max", cgroupfs::max_or_integer)?
                    .map(|(b, _)| b);
        }
        Hierarchy::V1 => {
            hard.extend(
                lowest_over_levels(host, d, limit_file(d.hierarchy), cgroupfs::v1_limit)?
                    .map(|l| limit(l, MemoryLimitKind::LimitInBytes)),
            );
            if let Some(h) = stat
                .as_ref()
                .and_then(|s| s.get("hierarchical_memory_limit"))
                && h < cgroupfs::V1_UNLIMITED_FLOOR
            {
                hard.push(MemoryLimit {
                    bytes: h,
                    kind: MemoryLimitKind::HierarchicalLimit,
                    source: stat_path.clone(),
                });
            }
            info.memsw_limit_bytes = file(host, &d.dir, V1_MEMSW, cgroupfs::v1_limit)?.flatten();
            info.soft_limit_bytes =
                file(host, &d.dir, V1_SOFT_LIMIT, cgroupfs::v1_limit)?.flatten();
        }
    }
    // On a tie the cgroup's own file is the clearer source than the hierarchical summary.
    info.limit = hard
        .into_iter()
        .min_by_key(|l| (l.bytes, l.kind == MemoryLimitKind::HierarchicalLimit));
    info.limit_bytes = info.limit.as_ref().map(|l| l.bytes);

    if full {
        let h = d.hierarchy;
        info.usage_bytes = file(host, &d.dir, usage_file(h), cgroupfs::integer)?;
        info.peak_bytes = file(host, &d.dir, peak_file(h), cgroupfs::integer)?;
        let events = file(host, &d.dir, events_file(h), cgroupfs::keyed)?;
        // v1 does not count OOM events, only kills.
        if h == Hierarchy::V2 {
            info.oom_events = events.as_ref().and_then(|e| e.get("oom"));
        }
        info.oom_kill_events = events.as_ref().and_then(|e| e.get(OOM_KILL));
        info.working_set_bytes = working_set(info.usage_bytes, stat.as_ref(), inactive_file_key(h));
    }
    Ok(info)
}

pub fn working_set(usage: Option<u64>, stat: Option<&Keyed>, inactive_key: &str) -> Option<u64> {
    let inactive = stat.and_then(|s| s.get(inactive_key)).unwrap_or(0);
    usage.map(|u| u.saturating_sub(inactive))
}
