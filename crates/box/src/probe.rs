//! Assemble a [`BoxInfo`] for one process from the files under a [`Host`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::container::{self, Clues};
use crate::error::Result;
use crate::goenv::GoEnv;
use crate::host::Host;
use crate::layout::{self, CgroupDir, Hierarchy, Layout};
use crate::locate;
use crate::model::*;
use crate::parse::cgroupfs::{self, Keyed, Quota};
use crate::parse::{CpuList, mountinfo, proc_cgroup, psi, stat, status};

/// How much to read: `exec` needs only the limits, `inspect` wants everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Limits,
    Full,
}

/// Which process to look at, and how closely.
#[derive(Debug, Clone)]
pub struct Target {
    /// `None` is boxwise itself (`/proc/self`).
    pub pid: Option<u32>,
    pub detail: Detail,
    /// The Go environment to report when the process is boxwise itself on the live host
    /// (its own environment, which `/proc/self/environ` may not show after changes).
    pub own_env: Option<GoEnv>,
}

/// Namespace kinds whose initial inode number is fixed by the kernel (include/linux/proc_ns.h).
const INITIAL_NS: [(&str, u64); 6] = [
    ("ipc", 0xEFFF_FFFF),
    ("uts", 0xEFFF_FFFE),
    ("user", 0xEFFF_FFFD),
    ("pid", 0xEFFF_FFFC),
    ("cgroup", 0xEFFF_FFFB),
    ("time", 0xEFFF_FFFA),
];
const NAMESPACES: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

pub fn probe(host: &Host, target: &Target) -> Result<BoxInfo> {
    let proc_dir = match target.pid {
        Some(pid) => PathBuf::from(format!("/proc/{pid}")),
        None => PathBuf::from("/proc/self"),
    };
    if let Some(pid) = target.pid
        && !host.exists(&proc_dir)
    {
        return Err(crate::Error::Layout(format!(
            "no process with pid {pid} ({} does not exist)",
            host.path(&proc_dir).display()
        )));
    }
    if let Some(pid) = target.pid
        && let Some(flags) = host.parse(&proc_dir.join("stat"), stat::flags)?
        && stat::is_kernel_thread(flags)
    {
        return Err(crate::Error::Layout(format!(
            "pid {pid} is a kernel thread: it runs no program, so it has no Go runtime and no \
             limits of its own to inspect"
        )));
    }
    let lines = host.parse_required(&proc_dir.join("cgroup"), proc_cgroup::parse)?;
    let status = host
        .parse(&proc_dir.join("status"), status::parse)?
        .unwrap_or_default();
    let full = target.detail == Detail::Full;
    let (mut layout, mounts, view) = place(host, target, &proc_dir, &lines)?;
    // `cgroup.procs` lists pids as the reader sees them: boxwise's own, or the one given.
    let pid = match (target.pid, host.is_live()) {
        (Some(pid), _) => Some(pid),
        (None, true) => Some(std::process::id()),
        (None, false) => status.pid,
    };
    locate::locate(
        host,
        &mut layout,
        pid,
        locate::private_cgroup_namespace(host),
    );
    let mut warnings = layout.notes.clone();

    let affinity = status
        .cpus_allowed
        .map(|cpus| cpu_set(cpus, proc_dir.join("status")));
    let online_path = Path::new("/sys/devices/system/cpu/online");
    let online = host
        .parse(online_path, CpuList::parse)?
        .map(|cpus| cpu_set(cpus, online_path.to_path_buf()));

    let cpu = read_cpu(host, &layout, affinity, online, full)?;
    if cpu.cpu_count().is_none() {
        warnings.push("no CPU count found (affinity, cpuset, online); assuming 1".into());
    }
    let memory = read_memory(host, &layout, full)?;
    let pids = read_pids(host, &layout, full)?;
    let pressure = if full {
        read_pressure(host, &layout)?
    } else {
        PressureInfo {
            cpu: None,
            memory: None,
            io: None,
        }
    };

    let go_env = match (&target.own_env, target.pid, host.is_live()) {
        (Some(env), None, true) => env.clone(),
        _ => host
            .read_bytes(&proc_dir.join("environ"))
            .map(|b| GoEnv::from_environ(&b))
            .unwrap_or_default(),
    };
    let (namespaces, container) = if full {
        (
            read_namespaces(host, &proc_dir),
            detect_container(host, &proc_dir, &view, &lines, &mounts),
        )
    } else {
        (Vec::new(), container::detect(&Clues::default()))
    };

    Ok(BoxInfo {
        pid: target.pid,
        cgroup: CgroupInfo {
            version: layout.version,
            ancestors_hidden: layout.ancestors_hidden(),
            controllers: layout
                .controllers
                .iter()
                .cloned()
                .collect::<BTreeMap<_, _>>(),
            unified: layout.unified.clone(),
        },
        cpu,
        memory,
        pids,
        pressure,
        namespaces,
        container,
        go_env,
        warnings,
    })
}

/// Map the process onto its cgroup directories, and say where its own files are (its root
/// directory when it lives in another mount namespace). Returns the layout, the mounts
/// used, and that view.
///
/// Another process's `/proc/PID/cgroup` reads relative to boxwise's own cgroup namespace,
/// so boxwise's own mounts map it first: from the host they show the whole hierarchy, and
/// limits on a pod's or `--cgroup-parent`'s cgroup count. Only when they cannot (boxwise in
/// one container, the process in another) are the process's own mounts read, through its
/// root directory, where only what it sees can be seen.
fn place(
    host: &Host,
    target: &Target,
    proc_dir: &Path,
    lines: &[crate::parse::CgroupLine],
) -> Result<(Layout, Vec<crate::parse::Mount>, PathBuf)> {
    let own_mounts = || host.parse_required(&proc_dir.join("mountinfo"), mountinfo::parse);
    let Some(pid) = target.pid.filter(|_| host.is_live()) else {
        let mounts = own_mounts()?;
        return Ok((layout::resolve(&mounts, lines), mounts, PathBuf::from("/")));
    };
    let ours = host.read_link(Path::new("/proc/self/ns/mnt"));
    let theirs = host.read_link(&proc_dir.join("ns/mnt"));
    match (ours, theirs) {
        (Some(a), Some(b)) if a == b => {
            let mounts = own_mounts()?;
            Ok((layout::resolve(&mounts, lines), mounts, PathBuf::from("/")))
        }
        (_, Some(_)) => {
            let view = proc_dir.join("root");
            let their_mounts = own_mounts()?;
            let boxwise_mounts =
                host.parse_required(Path::new("/proc/self/mountinfo"), mountinfo::parse)?;
            let from_host = layout::resolve(&boxwise_mounts, lines);
            let mapped = !from_host.controllers.is_empty()
                && from_host
                    .controllers
                    .iter()
                    .all(|(_, d)| !d.unmapped || d.levels_above_namespace.is_some());
            if mapped {
                let mut from_host = from_host;
                let own_view = layout::resolve(&their_mounts, lines);
                let same_ns = host.read_link(Path::new("/proc/self/ns/cgroup"))
                    == host.read_link(&proc_dir.join("ns/cgroup"));
                for (name, d) in from_host.controllers.iter_mut() {
                    if let Some(theirs) = own_view.controller(name) {
                        d.mount_root = root_as_seen_by(theirs, same_ns);
                    }
                }
                Ok((from_host, their_mounts, view))
            } else {
                let l = layout::resolve(&their_mounts, lines).rebased(&view);
                Ok((l, their_mounts, view))
            }
        }
        _ => {
            let mounts = own_mounts()?;
            let mut l = layout::resolve(&mounts, lines);
            l.notes.push(format!(
                "cannot read {}/ns/mnt: if pid {pid} is in another mount namespace, its cgroup files are read as boxwise sees them",
                proc_dir.display()
            ));
            Ok((l, mounts, PathBuf::from("/")))
        }
    }
}

/// The mount root as the process itself reads it. Its mountinfo, read by boxwise, shows the
/// root relative to boxwise's cgroup namespace; in the process's own namespace a cgroupfs
/// mounted at the namespace's root (what Docker and Kubernetes do) reads `/`.
fn root_as_seen_by(theirs: &CgroupDir, same_namespace: bool) -> String {
    if !same_namespace
        && theirs.mount_root.trim_end_matches('/') == theirs.cgroup_path.trim_end_matches('/')
    {
        "/".to_string()
    } else {
        theirs.mount_root.clone()
    }
}

fn cpu_set(cpus: CpuList, source: PathBuf) -> CpuSetInfo {
    CpuSetInfo {
        count: cpus.count(),
        cpus,
        source,
    }
}

/// Parse `dir/name` with `parser`, if the file exists.
fn file<T>(
    host: &Host,
    dir: &Path,
    name: &str,
    parser: impl FnOnce(&str) -> std::result::Result<T, crate::ParseError>,
) -> Result<Option<T>> {
    host.parse(&dir.join(name), parser)
}

/// The quota set at one cgroup level, if any.
fn quota_at(host: &Host, hierarchy: Hierarchy, dir: &Path) -> Result<Option<(Quota, PathBuf)>> {
    Ok(match hierarchy {
        Hierarchy::V2 => file(host, dir, "cpu.max", cgroupfs::cpu_max)?
            .flatten()
            .map(|q| (q, dir.join("cpu.max"))),
        Hierarchy::V1 => {
            let quota = file(host, dir, "cpu.cfs_quota_us", cgroupfs::cfs_value)?.flatten();
            let period = file(host, dir, "cpu.cfs_period_us", cgroupfs::cfs_value)?.flatten();
            match (quota, period) {
                (Some(q), Some(p)) => Quota::new(q, p).map(|q| (q, dir.join("cpu.cfs_quota_us"))),
                _ => None,
            }
        }
    })
}

fn read_cpu(
    host: &Host,
    layout: &Layout,
    affinity: Option<CpuSetInfo>,
    online: Option<CpuSetInfo>,
    full: bool,
) -> Result<CpuInfo> {
    let cpu_dir = layout.controller("cpu");
    // The lowest quota over the cgroup and every ancestor; remember its level for the stats.
    let mut quota: Option<(Quota, PathBuf, PathBuf, Option<u64>)> = None;
    // The process's own cgroup's quota, the only one the Go 1.25 runtime reads.
    let mut own_quota = None;
    if let Some(d) = cpu_dir {
        for level in d.levels() {
            let Some((q, source)) = quota_at(host, d.hierarchy, &level)? else {
                continue;
            };
            let burst = burst_at(host, d.hierarchy, &level)?;
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

    let cpuset = match layout.controller("cpuset") {
        Some(d) => read_cpuset(host, d)?,
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
        let stat_path = stats_dir.join("cpu.stat");
        let stat = host.parse(&stat_path, cgroupfs::keyed)?;
        match d.hierarchy {
            Hierarchy::V1 => {
                info.shares = file(host, &d.dir, "cpu.shares", cgroupfs::integer)?;
                info.throttling = stat
                    .as_ref()
                    .and_then(|s| throttling(s, "throttled_time", 1e9, &stat_path));
                if let Some(acct) = layout.controller("cpuacct") {
                    info.usage_seconds = file(host, &acct.dir, "cpuacct.usage", cgroupfs::integer)?
                        .map(|ns| ns as f64 / 1e9);
                }
            }
            Hierarchy::V2 => {
                info.weight = file(host, &d.dir, "cpu.weight", cgroupfs::integer)?;
                info.throttling = stat
                    .as_ref()
                    .and_then(|s| throttling(s, "throttled_usec", 1e6, &stat_path));
                // The same file when the quota is the cgroup's own: not read twice.
                let own = if stats_dir == d.dir {
                    stat.clone()
                } else {
                    file(host, &d.dir, "cpu.stat", cgroupfs::keyed)?
                };
                info.usage_seconds = own
                    .and_then(|s| s.get("usage_usec"))
                    .map(|us| us as f64 / 1e6);
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

/// The burst allowance beside a quota (absent before Linux 5.14).
fn burst_at(host: &Host, hierarchy: Hierarchy, dir: &Path) -> Result<Option<u64>> {
    let name = match hierarchy {
        Hierarchy::V2 => "cpu.max.burst",
        Hierarchy::V1 => "cpu.cfs_burst_us",
    };
    file(host, dir, name, cgroupfs::integer)
}

fn throttling(stat: &Keyed, time_key: &str, per_second: f64, source: &Path) -> Option<Throttling> {
    Some(Throttling {
        nr_periods: stat.get("nr_periods")?,
        nr_throttled: stat.get("nr_throttled")?,
        throttled_seconds: stat.get(time_key)? as f64 / per_second,
        source: source.to_path_buf(),
    })
}

/// The effective cpuset: v1 keeps it in every cgroup; on v2 the file exists only where the
/// cpuset controller is enabled, so take the nearest level that has it.
fn read_cpuset(host: &Host, d: &CgroupDir) -> Result<Option<CpuSetInfo>> {
    let name = match d.hierarchy {
        Hierarchy::V1 => "cpuset.effective_cpus",
        Hierarchy::V2 => "cpuset.cpus.effective",
    };
    for level in d.levels() {
        if let Some(cpus) = file(host, &level, name, CpuList::parse)?
            && !cpus.is_empty()
        {
            return Ok(Some(cpu_set(cpus, level.join(name))));
        }
    }
    Ok(None)
}

/// The lowest limit in file `name` over the levels, with where it was found.
fn lowest_over_levels(
    host: &Host,
    d: &CgroupDir,
    name: &str,
    parser: fn(&str) -> std::result::Result<Option<u64>, crate::ParseError>,
) -> Result<Option<(u64, PathBuf)>> {
    let mut best: Option<(u64, PathBuf)> = None;
    for level in d.levels() {
        if let Some(Some(v)) = file(host, &level, name, parser)?
            && best.as_ref().is_none_or(|(b, _)| v < *b)
        {
            best = Some((v, level.join(name)));
        }
    }
    Ok(best)
}

fn read_memory(host: &Host, layout: &Layout, full: bool) -> Result<MemoryInfo> {
    let mut info = MemoryInfo {
        limit_bytes: None,
        limit: None,
        high: None,
        high_bytes: None,
        low_bytes: None,
        min_bytes: None,
        swap_max_bytes: None,
        memsw_limit_bytes: None,
        usage_bytes: None,
        peak_bytes: None,
        working_set_bytes: None,
        oom_events: None,
        oom_kill_events: None,
    };
    let Some(d) = layout.controller("memory") else {
        return Ok(info);
    };
    let limit = |(bytes, source): (u64, PathBuf), kind| MemoryLimit {
        bytes,
        kind,
        source,
    };
    let mut hard: Vec<MemoryLimit> = Vec::new();
    let stat_path = d.dir.join("memory.stat");
    // Read once: v1 needs it for the hierarchical limit, the full probe for the working set.
    let stat = if d.hierarchy == Hierarchy::V1 || full {
        host.parse(&stat_path, cgroupfs::keyed)?
    } else {
        None
    };
    match d.hierarchy {
        Hierarchy::V2 => {
            hard.extend(
                lowest_over_levels(host, d, "memory.max", cgroupfs::max_or_integer)?
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
                lowest_over_levels(host, d, "memory.limit_in_bytes", cgroupfs::v1_limit)?
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
            info.memsw_limit_bytes = file(
                host,
                &d.dir,
                "memory.memsw.limit_in_bytes",
                cgroupfs::v1_limit,
            )?
            .flatten();
        }
    }
    // On a tie the cgroup's own file is the clearer source than the hierarchical summary.
    info.limit = hard
        .into_iter()
        .min_by_key(|l| (l.bytes, l.kind == MemoryLimitKind::HierarchicalLimit));
    info.limit_bytes = info.limit.as_ref().map(|l| l.bytes);

    if full {
        match d.hierarchy {
            Hierarchy::V2 => {
                info.usage_bytes = file(host, &d.dir, "memory.current", cgroupfs::integer)?;
                info.peak_bytes = file(host, &d.dir, "memory.peak", cgroupfs::integer)?;
                let events = file(host, &d.dir, "memory.events", cgroupfs::keyed)?;
                info.oom_events = events.as_ref().and_then(|e| e.get("oom"));
                info.oom_kill_events = events.as_ref().and_then(|e| e.get("oom_kill"));
                info.working_set_bytes =
                    working_set(info.usage_bytes, stat.as_ref(), "inactive_file");
            }
            Hierarchy::V1 => {
                info.usage_bytes = file(host, &d.dir, "memory.usage_in_bytes", cgroupfs::integer)?;
                info.peak_bytes =
                    file(host, &d.dir, "memory.max_usage_in_bytes", cgroupfs::integer)?;
                let oom = file(host, &d.dir, "memory.oom_control", cgroupfs::keyed)?;
                info.oom_kill_events = oom.as_ref().and_then(|o| o.get("oom_kill"));
                info.working_set_bytes =
                    working_set(info.usage_bytes, stat.as_ref(), "total_inactive_file");
            }
        }
    }
    Ok(info)
}

fn working_set(usage: Option<u64>, stat: Option<&Keyed>, inactive_key: &str) -> Option<u64> {
    let inactive = stat.and_then(|s| s.get(inactive_key)).unwrap_or(0);
    usage.map(|u| u.saturating_sub(inactive))
}

fn read_pids(host: &Host, layout: &Layout, full: bool) -> Result<PidsInfo> {
    let mut info = PidsInfo {
        max: None,
        max_source: None,
        current: None,
    };
    if let (true, Some(d)) = (full, layout.controller("pids")) {
        if let Some((max, source)) =
            lowest_over_levels(host, d, "pids.max", cgroupfs::max_or_integer)?
        {
            info.max = Some(max);
            info.max_source = Some(source);
        }
        info.current = file(host, &d.dir, "pids.current", cgroupfs::integer)?;
    }
    Ok(info)
}

fn read_pressure(host: &Host, layout: &Layout) -> Result<PressureInfo> {
    let Some(u) = &layout.unified else {
        return Ok(PressureInfo {
            cpu: None,
            memory: None,
            io: None,
        });
    };
    let read = |name: &str| -> Result<Option<PressureFile>> {
        Ok(
            file(host, &u.dir, name, psi::parse)?.map(|pressure| PressureFile {
                pressure,
                source: u.dir.join(name),
            }),
        )
    };
    Ok(PressureInfo {
        cpu: read("cpu.pressure")?,
        memory: read("memory.pressure")?,
        io: read("io.pressure")?,
    })
}

fn read_namespaces(host: &Host, proc_dir: &Path) -> Vec<Namespace> {
    NAMESPACES
        .iter()
        .filter_map(|&kind| {
            let id = host.read_link(&proc_dir.join("ns").join(kind))?;
            let init = host.read_link(&Path::new("/proc/1/ns").join(kind));
            let inode = id
                .split_once(":[")
                .and_then(|(_, rest)| rest.strip_suffix(']'))
                .and_then(|n| n.parse::<u64>().ok());
            let initial = INITIAL_NS
                .iter()
                .find(|(k, _)| *k == kind)
                .and_then(|&(_, ino)| inode.map(|i| i == ino));
            Some(Namespace {
                kind: kind.to_string(),
                same_as_pid1: init.map(|i| i == id),
                id,
                initial,
            })
        })
        .collect()
}

fn detect_container(
    host: &Host,
    proc_dir: &Path,
    view: &Path,
    lines: &[crate::parse::CgroupLine],
    mounts: &[crate::parse::Mount],
) -> container::Container {
    let env = host
        .read_bytes(&proc_dir.join("environ"))
        .unwrap_or_default();
    let kubernetes_env = env
        .split(|&b| b == 0)
        .any(|e| e.starts_with(b"KUBERNETES_SERVICE_HOST="));
    container::detect(&Clues {
        cgroup_paths: lines.iter().map(|l| l.path.as_str()).collect(),
        mount_roots: mounts.iter().map(|m| m.root.as_str()).collect(),
        dockerenv: host.exists(&view.join(".dockerenv")),
        containerenv: host.exists(&view.join("run/.containerenv")),
        kubernetes_env,
    })
}
