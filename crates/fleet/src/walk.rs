//! List the cgroups of each hierarchy and read each one's own counters and limits, through
//! `boxwise-box`'s file names and parsers.

use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;

use boxwise_box::cgroup::{cpu, memory};
use boxwise_box::container::{self, Clues, Runtime};
use boxwise_box::host::Host;
use boxwise_box::layout::Hierarchy;
use boxwise_box::parse::cgroupfs::{self, Keyed};
use boxwise_box::parse::psi;

use crate::Options;
use crate::hierarchy::{Hierarchies, Mounted};
use crate::model::CgroupSample;

pub struct Walked {
    pub cgroups: Vec<CgroupSample>,
    pub truncated: bool,
    pub errors: Vec<String>,
}

/// Every cgroup id in the cpu and memory hierarchies (v1 keeps separate trees, so the same
/// id may exist in one only), in path order, at most `opts.max_cgroups`.
pub fn walk(host: &Host, h: &Hierarchies, opts: &Options) -> Walked {
    let mut ids = BTreeSet::new();
    let mut truncated = false;
    let mut seen_points = Vec::new();
    for m in [&h.cpu, &h.memory].into_iter().flatten() {
        if seen_points.contains(&m.mount_point) {
            continue;
        }
        seen_points.push(m.mount_point.clone());
        truncated |= list(host, m, opts, &mut ids);
    }
    let mut errors = Vec::new();
    let cgroups = ids
        .into_iter()
        .map(|id| read(host, h, &id, &mut errors))
        .collect();
    Walked {
        cgroups,
        truncated,
        errors,
    }
}

/// Breadth first under the mount point; true when the cap cut it short.
fn list(host: &Host, m: &Mounted, opts: &Options, ids: &mut BTreeSet<String>) -> bool {
    let mut queue = VecDeque::from([(m.mount_point.clone(), 0usize)]);
    while let Some((dir, depth)) = queue.pop_front() {
        if ids.len() >= opts.max_cgroups && !ids.contains(&m.id_of(&dir)) {
            return true;
        }
        ids.insert(m.id_of(&dir));
        if depth < opts.max_depth {
            let mut subs = host.subdirs(&dir);
            subs.sort();
            queue.extend(subs.into_iter().map(|d| (d, depth + 1)));
        }
    }
    false
}

/// One cgroup's files; a file that is missing is `None`, one that is unreadable or
/// malformed is `None` and an error line.
fn read(host: &Host, h: &Hierarchies, id: &str, errors: &mut Vec<String>) -> CgroupSample {
    let get = |m: &Option<Mounted>| -> Option<(PathBuf, Hierarchy)> {
        let m = m.as_ref()?;
        let dir = m.dir_of(id)?;
        host.exists(&dir).then_some((dir, m.hierarchy))
    };
    let cpu_dir = get(&h.cpu);
    let acct_dir = get(&h.cpuacct);
    let mem_dir = get(&h.memory);
    let psi_dir = get(&h.unified);
    let mut s = CgroupSample {
        id: id.to_string(),
        container: container_of(id),
        cpu_usage_seconds: None,
        cfs_periods: None,
        cfs_throttled_periods: None,
        cfs_throttled_seconds: None,
        cpu_quota_us: None,
        cpu_period_us: None,
        memory_usage_bytes: None,
        memory_working_set_bytes: None,
        memory_limit_bytes: None,
        oom_kills: None,
        cpu_pressure_some_avg10: None,
        memory_pressure_some_avg10: None,
    };
    if let Some((dir, hy)) = &cpu_dir {
        let stat: Option<Keyed> = ok(errors, host.parse(&dir.join(cpu::STAT), cgroupfs::keyed));
        if let Some(stat) = &stat {
            s.cfs_periods = stat.get("nr_periods");
            s.cfs_throttled_periods = stat.get("nr_throttled");
            s.cfs_throttled_seconds = cpu::throttled_seconds(*hy, stat);
            if *hy == Hierarchy::V2 {
                s.cpu_usage_seconds = cpu::v2_usage_seconds(stat);
            }
        }
        if let Some(q) = ok(
            errors,
            cpu::quota_at(host, *hy, dir).map(|q| q.map(|(q, _)| q)),
        ) {
            s.cpu_quota_us = Some(q.quota_us);
            s.cpu_period_us = Some(q.period_us);
        }
    }
    if let Some((dir, Hierarchy::V1)) = &acct_dir {
        s.cpu_usage_seconds = ok(
            errors,
            host.parse(&dir.join(cpu::V1_ACCT_USAGE), cgroupfs::integer),
        )
        .map(cpu::v1_usage_seconds);
    }
    if let Some((dir, hy)) = &mem_dir {
        let hy = *hy;
        s.memory_usage_bytes = ok(
            errors,
            host.parse(&dir.join(memory::usage_file(hy)), cgroupfs::integer),
        );
        let stat: Option<Keyed> = ok(errors, host.parse(&dir.join(memory::STAT), cgroupfs::keyed));
        s.memory_working_set_bytes = memory::working_set(
            s.memory_usage_bytes,
            stat.as_ref(),
            memory::inactive_file_key(hy),
        );
        let limit = match hy {
            Hierarchy::V1 => cgroupfs::v1_limit,
            Hierarchy::V2 => cgroupfs::max_or_integer,
        };
        s.memory_limit_bytes =
            ok(errors, host.parse(&dir.join(memory::limit_file(hy)), limit)).flatten();
        s.oom_kills = ok(
            errors,
            host.parse(&dir.join(memory::events_file(hy)), cgroupfs::keyed),
        )
        .and_then(|e| e.get(memory::OOM_KILL));
    }
    if let Some((dir, _)) = &psi_dir {
        let avg10 = |name: &str| -> Option<f64> {
            // The root cgroup has no pressure files on older kernels; absent is fine.
            host.parse(&dir.join(name), psi::parse)
                .ok()
                .flatten()
                .map(|p| p.some.avg10)
        };
        s.cpu_pressure_some_avg10 = avg10("cpu.pressure");
        s.memory_pressure_some_avg10 = avg10("memory.pressure");
    }
    s
}

/// The value, or `None` and the error noted.
fn ok<T>(errors: &mut Vec<String>, r: boxwise_box::error::Result<Option<T>>) -> Option<T> {
    r.unwrap_or_else(|e| {
        errors.push(e.to_string());
        None
    })
}

/// `runtime/short-id` when the cgroup path names a container, by `boxwise-box`'s detector.
pub fn container_of(id: &str) -> Option<String> {
    let found = container::detect(&Clues {
        cgroup_paths: vec![id],
        ..Clues::default()
    });
    let runtime = match found.runtime {
        Runtime::None | Runtime::Systemd => return None,
        r => format!("{r:?}").to_lowercase(),
    };
    let id = found.id?;
    Some(format!("{runtime}/{}", &id[..12.min(id.len())]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_names_come_from_the_path() {
        let id = "a".repeat(64);
        assert_eq!(
            container_of(&format!("/docker/{id}")).as_deref(),
            Some("docker/aaaaaaaaaaaa")
        );
        assert_eq!(container_of("/user.slice/session-1.scope"), None);
        assert_eq!(container_of("/"), None);
    }
}
