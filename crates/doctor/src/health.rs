//! What the box itself records: throttling, OOM kills, memory use, pressure stalls.

use boxwise_box::model::PressureFile;
use boxwise_box::units;

use crate::facts::{Facts, limit_words};
use crate::finding::{Finding, FindingId, Severity, env_fix, finding};

/// Share of periods throttled above which `cpu-throttled` fires.
const THROTTLED_SHARE: f64 = 0.05;
/// Memory use above this share of the limit is `memory-near-limit`.
const NEAR_LIMIT: f64 = 0.90;
/// PSI `some avg60` above this percentage is `pressure-high`.
const PRESSURE_PERCENT: f64 = 10.0;

/// `cpu-throttled`, from the counters of the cgroup level that sets the quota.
pub(crate) fn throttled(f: &Facts, out: &mut Vec<Finding>) {
    let info = f.info;
    if let Some(t) = &info.cpu.throttling
        && t.nr_periods > 0
    {
        let share = t.nr_throttled as f64 / t.nr_periods as f64;
        if share > THROTTLED_SHARE {
            out.push(finding(
                FindingId::CpuThrottled,
                Severity::Warning,
                format!(
                    "throttled in {}% of CPU periods",
                    units::decimal(share * 100.0, 1)
                ),
                vec![format!(
                    "{} of {} periods throttled, {} s in all, from {}",
                    t.nr_throttled,
                    t.nr_periods,
                    units::decimal(t.throttled_seconds, 2),
                    t.source.display()
                )],
                throttled_fix(f),
            ));
        }
    }
}

/// `oom-killed`.
pub(crate) fn oom_killed(f: &Facts, out: &mut Vec<Finding>) {
    let info = f.info;
    let fix = match f.rec.gomemlimit_bytes {
        Some(b) => format!(
            "{}; or raise the memory limit",
            env_fix("GOMEMLIMIT", &b.to_string())
        ),
        None => "set a memory limit and GOMEMLIMIT below it".into(),
    };
    let history = f.oom_history.filter(|h| h.any());
    if let Some(n) = info.memory.oom_kill_events.filter(|&n| n > 0) {
        let mut evidence = vec![format!("{n} OOM kill(s) recorded for this cgroup")];
        if let Some(l) = &info.memory.limit {
            evidence.push(limit_words(l));
        }
        evidence.extend(history.map(history_evidence).unwrap_or_default());
        out.push(finding(
            FindingId::OomKilled,
            Severity::Error,
            format!("the kernel OOM-killed {n} process(es) in this cgroup"),
            evidence,
            fix,
        ));
    } else if let Some(h) = history {
        // The cgroup's own counter starts at 0 again after a restart; the kill is not gone.
        let title = match h.kernel_kills.as_ref().and_then(|k| k.last()) {
            Some(k) => format!(
                "OOM-killed before this cgroup's counter started: {} (pid {}){}",
                k.task,
                k.pid,
                k.rss_bytes.map_or_else(String::new, |b| format!(
                    " with {} resident",
                    units::bytes(b)
                ))
            ),
            None => "OOM-killed before: the container's earlier run was killed".to_string(),
        };
        let mut evidence = vec![format!(
            "this cgroup's own counter says {}: it was made anew (a restart)",
            info.memory
                .oom_kill_events
                .map_or("unknown".into(), |n| n.to_string())
        )];
        evidence.extend(history_evidence(h));
        if let Some(l) = &info.memory.limit {
            evidence.push(limit_words(l));
        }
        out.push(finding(
            FindingId::OomKilled,
            Severity::Error,
            title,
            evidence,
            fix,
        ));
    }
}

/// `42 s`, `12 min`, `5 h`, `3 days`: how long ago, as a person says it.
fn ago_words(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..90 => format!("{s} s"),
        90..5400 => format!("{} min", s / 60),
        5400..172_800 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

/// One line per source that recorded a kill: the kernel log's last three kills (when,
/// which process, its RSS), the parent's counter, the Docker engine's state.
fn history_evidence(h: &boxwise_oom::History) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(kills) = &h.kernel_kills {
        let shown = kills.len().saturating_sub(3);
        if shown > 0 {
            out.push(format!("kernel log: {shown} earlier OOM kill(s) not shown"));
        }
        for k in &kills[shown..] {
            let when = match h.uptime_seconds {
                Some(up) => {
                    let ago = (up - k.usec as f64 / 1e6).max(0.0);
                    format!("{} ago", ago_words(ago))
                }
                None => format!("{} s after boot", units::decimal(k.usec as f64 / 1e6, 1)),
            };
            // The limit that was hit is said only when it was a parent's (a pod's).
            let limit = if k.oom_memcg == k.task_memcg {
                String::new()
            } else {
                format!(" (the limit of {} was hit)", k.oom_memcg)
            };
            out.push(format!(
                "kernel log: {when}, the OOM killer killed {} (pid {}, RSS {}) in {}{limit}",
                k.task,
                k.pid,
                k.rss_bytes.map_or("unknown".into(), units::bytes),
                k.task_memcg,
            ));
        }
    }
    if let Some(p) = h.parent_oom_kills.as_ref().filter(|p| p.oom_kill > 0) {
        out.push(format!(
            "{} oom_kill {} (counts every cgroup below it, earlier ones too)",
            p.path.display(),
            p.oom_kill
        ));
    }
    if let Some(d) = h.docker.as_ref().filter(|d| d.oom_killed) {
        out.push(format!(
            "Docker engine: container {} OOMKilled=true, restarted {} time(s){}",
            d.name.as_deref().unwrap_or(&d.id[..d.id.len().min(12)]),
            d.restart_count,
            d.finished_at
                .as_ref()
                .map_or_else(String::new, |t| format!(", last exit {t}"))
        ));
    }
    out
}

/// `memory-near-limit`: the working set (warning) or only the raw usage (info).
pub(crate) fn memory_near_limit(f: &Facts, out: &mut Vec<Finding>) {
    let info = f.info;
    if let Some(l) = &info.memory.limit {
        let share = |b: u64| b as f64 / l.bytes as f64;
        let ws = info.memory.working_set_bytes;
        let usage = info.memory.usage_bytes;
        let words = format!(
            "usage {}, working set {} of the limit {}",
            usage.map_or("-".into(), units::bytes),
            ws.map_or("-".into(), units::bytes),
            limit_words(l)
        );
        let fix = "give the GC a target below the limit (GOMEMLIMIT), find what holds the heap (`boxwise pprof` on a heap profile), or raise the limit".to_string();
        if ws.is_some_and(|b| share(b) > NEAR_LIMIT) {
            out.push(finding(
                FindingId::MemoryNearLimit,
                Severity::Warning,
                "memory in use is above 90% of the limit".into(),
                vec![words],
                fix,
            ));
        } else if usage.is_some_and(|b| share(b) > NEAR_LIMIT) {
            out.push(finding(
                FindingId::MemoryNearLimit,
                Severity::Info,
                "memory usage is above 90% of the limit, mostly reclaimable page cache".into(),
                vec![words],
                fix,
            ));
        }
    }
}

/// `pressure-high`, once per resource.
pub(crate) fn pressure(f: &Facts, out: &mut Vec<Finding>) {
    let info = f.info;
    let pressures: [(&str, &Option<PressureFile>); 3] = [
        ("cpu", &info.pressure.cpu),
        ("memory", &info.pressure.memory),
        ("io", &info.pressure.io),
    ];
    // At the cgroup2 root (a hybrid host's unified hierarchy, where the process sits at `/`)
    // the pressure is every process's on the machine, not this box's.
    let whole_machine = info
        .cgroup
        .unified
        .as_ref()
        .is_some_and(|u| u.cgroup_path == "/" && u.mount_root == "/" && !u.ancestors_hidden);
    let whose = if whole_machine {
        "on the whole machine (the cgroup root)"
    } else {
        "in this cgroup"
    };
    for (resource, p) in pressures {
        if let Some(p) = p.as_ref().filter(|p| p.some.avg60 > PRESSURE_PERCENT) {
            out.push(finding(
                FindingId::PressureHigh,
                Severity::Warning,
                format!(
                    "{resource} pressure {whose}: tasks stalled {}% of the last minute",
                    units::decimal(p.some.avg60, 1)
                ),
                vec![format!(
                    "some avg10={} avg60={} avg300={} from {}",
                    p.some.avg10,
                    p.some.avg60,
                    p.some.avg300,
                    p.source.display()
                )],
                pressure_fix(f, resource, whole_machine),
            ));
        }
    }
}

/// A fix that fits whose pressure it is and whether a quota exists.
fn pressure_fix(f: &Facts, resource: &str, whole_machine: bool) -> String {
    match (resource, whole_machine, &f.info.cpu.quota) {
        ("cpu", true, _) => "other processes compete for this machine's CPUs; no Go setting \
            causes that: run less here, or move the service to a machine with spare CPUs"
            .into(),
        ("cpu", false, Some(q)) => format!(
            "keep GOMAXPROCS at {} (recommended for the quota of {}), or raise the CPU limit",
            f.rec.gomaxprocs,
            units::cpus(q.cores)
        ),
        ("cpu", false, None) => "this cgroup has no CPU quota, so its tasks wait for CPUs other \
            processes hold: give it more CPUs (or a cpuset of its own), or run less beside it"
            .into(),
        ("memory", true, _) => "the machine as a whole is short of memory: run less here or \
            add memory; a GOMEMLIMIT keeps this program's heap from adding to it"
            .into(),
        ("memory", false, _) => "set GOMEMLIMIT below the limit or raise the memory limit".into(),
        (_, true, _) => "the machine as a whole waits on disk or swap".into(),
        _ => "look for heavy disk or swap use in this cgroup".into(),
    }
}

/// The fix for throttling: GOMAXPROCS at the quota, except that under 1 CPU or less the
/// recommended 2 is above it on purpose (say why, so it does not read as a contradiction).
fn throttled_fix(f: &Facts) -> String {
    let rec = f.rec.gomaxprocs;
    match &f.info.cpu.quota {
        Some(q) if boxwise_box::policy::above_quota_for_gc(rec, q.cores) => format!(
            "set GOMAXPROCS={rec}, just above the {} quota on purpose: {}; if the throttling \
             still hurts, raise the CPU limit; measure with `boxwise run`",
            units::cpus(q.cores),
            boxwise_box::policy::WHY_TWO
        ),
        _ => format!(
            "keep GOMAXPROCS at or below the quota (recommended {rec}), or raise the CPU limit; \
             measure with `boxwise run`"
        ),
    }
}
