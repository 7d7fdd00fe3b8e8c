//! `boxwise run`'s lines on stderr: what the kernel did to the command, said plainly.

use boxwise_box::units;
use boxwise_lab::RunStats;

/// One line per limit that bit: the OOM killer, refused forks and threads.
pub fn notes(stats: &RunStats, program: &str) -> Vec<String> {
    let mut out = Vec::new();
    if stats.oom_killed {
        let limit = stats.limits.memory_bytes.map_or_else(
            || "its memory limit".to_string(),
            |m| format!("--memory {}", units::bytes(m)),
        );
        out.push(format!(
            "boxwise: OOM: the run hit {limit} and the kernel's OOM killer killed a process \
             in it ({program} exited {})",
            stats.exit_code
        ));
    }
    if let Some(hits) = stats.pids_limit_hits.filter(|&n| n > 0) {
        let limit = stats
            .limits
            .pids
            .map_or_else(|| "pids limit".to_string(), |n| format!("pids limit {n}"));
        out.push(format!(
            "boxwise: {limit} was hit {hits} time{}: the kernel refused new threads or \
             processes; a Go program dies with `failed to create new OS thread`",
            if hits == 1 { "" } else { "s" }
        ));
    }
    out
}

/// One `--at` change as it is made (printed at that moment), or as it was refused.
pub fn change_line(c: &boxwise_lab::AppliedChange) -> String {
    let what = asked(c);
    match &c.error {
        None => format!("boxwise: at {:.1}s: {what}", c.at_seconds),
        Some(e) => format!("boxwise: at {:.1}s: {what} refused: {e}", c.at_seconds),
    }
}

/// `--at` changes that never happened: the command ended first.
pub fn missed_changes(given: usize, stats: &RunStats) -> Option<String> {
    let missed = given.saturating_sub(stats.limit_changes.len());
    (missed > 0).then(|| {
        format!(
            "boxwise: {missed} --at change{} not made: the command ended after {} s, before \
             {}",
            if missed == 1 { " was" } else { "s were" },
            units::decimal(stats.wall_seconds, 2),
            if missed == 1 {
                "its time"
            } else {
                "their times"
            }
        )
    })
}

/// ", then 0.5 at 1.5s" for each CPU (or memory) change that took effect.
fn then(stats: &RunStats, value: impl Fn(&boxwise_lab::AppliedChange) -> Option<String>) -> String {
    stats
        .limit_changes
        .iter()
        .filter(|c| c.error.is_none())
        .filter_map(|c| value(c).map(|v| format!(", then {v} at {:.1}s", c.at_seconds)))
        .collect()
}

/// What `--at` asked for, as written (`cpus=0.5,cpuset=0`).
fn asked(c: &boxwise_lab::AppliedChange) -> String {
    let mut what: Vec<String> = Vec::new();
    if let Some(n) = c.cpus {
        what.push(format!("cpus={n}"));
    }
    if let Some(m) = c.memory_bytes {
        what.push(format!("memory={}", units::bytes(m)));
    }
    if let Some(l) = &c.cpuset {
        what.push(format!("cpuset={l}"));
    }
    what.join(",")
}

/// GOMAXPROCS over the run (`--track-gomaxprocs`): where it started and each change, with
/// the `--at` change before it and when the runtime's trace showed it (the trace comes at
/// intervals, once a second by default, so that is later than the program took it up); or
/// that it never moved although a limit did. `None` when not tracked.
fn gomaxprocs(stats: &RunStats) -> Option<String> {
    let points = stats.gomaxprocs_timeline.as_ref()?;
    let Some(first) = points.first() else {
        return Some("unknown (no schedtrace line on stderr: not a Go program?)".into());
    };
    let made: Vec<_> = stats
        .limit_changes
        .iter()
        .filter(|c| c.error.is_none())
        .collect();
    let mut changes = Vec::new();
    for p in &points[1..] {
        let cause = made
            .iter()
            .rev()
            .find(|c| c.at_seconds <= p.t_seconds)
            .map(|c| format!(" after {} at {:.1}s,", asked(c), c.at_seconds))
            .unwrap_or_default();
        changes.push(format!(
            "-> {}{cause} seen in the trace at {:.1}s",
            p.gomaxprocs, p.t_seconds
        ));
    }
    let mut parts = vec![first.gomaxprocs.to_string()];
    if !changes.is_empty() {
        parts.push(changes.join("; "));
    }
    if points.len() == 1 {
        let after: Vec<String> = made
            .iter()
            .filter(|c| c.cpus.is_some() || c.cpuset.is_some())
            .map(|c| format!("{} at {:.1}s", asked(c), c.at_seconds))
            .collect();
        if !after.is_empty() {
            parts.push(format!("throughout: did not follow {}", after.join(", ")));
        }
    }
    Some(parts.join(" "))
}

/// The short account printed after every run (unless `--quiet`): how long, how much CPU and
/// how much of it the quota held back, the memory peak, OOM kills and the pids peak, each
/// against its limit, and the I/O caps (`io_path`: the `--io-device` given, if one was).
/// "unknown" where the kernel does not keep the counter.
pub fn summary(stats: &RunStats, io_path: Option<&std::path::Path>) -> Vec<String> {
    let l = &stats.limits;
    let unknown = || "unknown".to_string();
    let how = match stats.signal {
        Some(sig) => format!("killed by signal {sig}"),
        None => format!("exited {}", stats.exit_code),
    };
    let mut out = vec![format!(
        "boxwise: run: {how} after {} s",
        units::decimal(stats.wall_seconds, 2)
    )];
    let mut row = |label: &str, value: String| out.push(format!("  {label:<10} {value}"));
    let cpu = stats.cpu_seconds.map_or_else(unknown, |c| {
        let avg = if stats.wall_seconds > 0.0 {
            format!(", {} on average", units::cpus(c / stats.wall_seconds))
        } else {
            String::new()
        };
        let changes = then(stats, |c| c.cpus.map(|n| n.to_string()));
        let limit = l
            .cpus
            .map_or_else(String::new, |n| format!(" (--cpus {n}{changes})"));
        format!("{} s{avg}{limit}", units::decimal(c, 2))
    });
    row("cpu", cpu);
    if l.cpus.is_some() {
        let throttled = match (stats.throttled_periods, stats.nr_periods) {
            (Some(t), Some(n)) => {
                let pct = if n > 0 {
                    t as f64 * 100.0 / n as f64
                } else {
                    0.0
                };
                let held = stats.throttled_seconds.map_or_else(String::new, |s| {
                    format!(", held back {} s", units::decimal(s, 2))
                });
                format!("{t} of {n} periods ({}%){held}", units::decimal(pct, 0))
            }
            _ => unknown(),
        };
        row("throttled", throttled);
    }
    if let Some(line) = gomaxprocs(stats) {
        row("GOMAXPROCS", line);
    }
    let memory_changes = then(stats, |c| c.memory_bytes.map(units::bytes));
    let limit = |b: Option<u64>| {
        b.map_or_else(String::new, |m| {
            format!(" of --memory {}{memory_changes}", units::bytes(m))
        })
    };
    row(
        "memory",
        stats.peak_memory_bytes.map_or_else(unknown, |p| {
            format!("peak {}{}", units::bytes(p), limit(l.memory_bytes))
        }),
    );
    row(
        "OOM kills",
        if stats.oom_killed {
            "yes (see below)".into()
        } else {
            "none".into()
        },
    );
    let pids_limit = l
        .pids
        .map_or_else(String::new, |n| format!(" of --pids {n}"));
    let pids = match (stats.peak_pids, stats.pids_limit_hits) {
        (None, None) => unknown(),
        (peak, hits) => {
            let peak = peak.map_or_else(|| "peak unknown".into(), |p| format!("peak {p}"));
            let hits = match hits {
                Some(0) | None => String::new(),
                Some(h) => format!("; limit hit {h} time{}", if h == 1 { "" } else { "s" }),
            };
            format!("{peak}{pids_limit}{hits}")
        }
    };
    row("pids", pids);
    if let Some(io) = &l.io {
        row("io", io_caps(io, io_path));
    }
    if let Some(n) = &stats.neighbour {
        row("neighbour", neighbour(n));
    }
    out
}

/// `write capped at 5 MiB/s on 254:0 (/var/tmp)`: the `--io-*` caps, on which disk.
fn io_caps(io: &boxwise_box::cgroup::io::DeviceCaps, path: Option<&std::path::Path>) -> String {
    let c = &io.caps;
    let caps: Vec<String> = [
        c.read_bps.map(|b| format!("read at {}/s", units::bytes(b))),
        c.write_bps
            .map(|b| format!("write at {}/s", units::bytes(b))),
        c.read_iops.map(|n| format!("{n} reads/s")),
        c.write_iops.map(|n| format!("{n} writes/s")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let what = match caps.as_slice() {
        [] => "nothing capped".to_string(),
        [one, rest @ ..] => {
            let mut first = one.replacen(" at ", " capped at ", 1);
            if !first.contains("capped") {
                first = format!("capped at {first}");
            }
            std::iter::once(first)
                .chain(rest.iter().cloned())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let path = path.map_or_else(String::new, |p| format!(" ({})", p.display()));
    format!("{what} on {}{path}", io.device)
}

/// `cpu=1,memory=32 MiB: used 2.95 s CPU, peak 33 MiB`: what `--neighbour` was and used.
fn neighbour(n: &boxwise_lab::NeighbourStats) -> String {
    let asked: Vec<String> = n
        .cpus
        .map(|c| format!("cpu={c}"))
        .into_iter()
        .chain(
            n.memory_bytes
                .map(|m| format!("memory={}", units::bytes(m))),
        )
        .collect();
    let cpu = n
        .cpu_seconds
        .map_or_else(|| "unknown".into(), |c| units::decimal(c, 2));
    let peak = n
        .peak_memory_bytes
        .map_or_else(|| "unknown".into(), units::bytes);
    format!("{}: used {cpu} s CPU, peak {peak}", asked.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use boxwise_lab::AppliedLimits;

    fn stats(oom: bool, hits: Option<u64>) -> RunStats {
        RunStats {
            exit_code: 2,
            wall_seconds: 0.1,
            cpu_seconds: None,
            throttled_periods: None,
            nr_periods: None,
            throttled_seconds: None,
            peak_memory_bytes: None,
            oom_killed: oom,
            pids_limit_hits: hits,
            peak_pids: Some(8),
            limits: AppliedLimits {
                memory_bytes: Some(64 << 20),
                pids: Some(20),
                ..AppliedLimits::default()
            },
            limit_changes: Vec::new(),
            gomaxprocs_timeline: None,
            neighbour: None,
            signal: None,
        }
    }

    fn change(at: f64, cpus: Option<f64>, cpuset: Option<&str>) -> boxwise_lab::AppliedChange {
        boxwise_lab::AppliedChange {
            at_seconds: at,
            cpus,
            cpu_quota_us: None,
            memory_bytes: None,
            cpuset: cpuset.map(str::to_string),
            error: None,
        }
    }

    fn point(t: f64, n: u32) -> boxwise_lab::GomaxprocsPoint {
        boxwise_lab::GomaxprocsPoint {
            t_seconds: t,
            gomaxprocs: n,
        }
    }

    #[test]
    fn gomaxprocs_follows_or_not() {
        let mut s = stats(false, None);
        assert_eq!(gomaxprocs(&s), None);
        s.gomaxprocs_timeline = Some(vec![]);
        assert_eq!(
            gomaxprocs(&s).unwrap(),
            "unknown (no schedtrace line on stderr: not a Go program?)"
        );
        s.limit_changes = vec![change(3.0, None, Some("0")), change(6.0, Some(0.5), None)];
        s.gomaxprocs_timeline = Some(vec![point(0.01, 2), point(4.0, 1)]);
        assert_eq!(
            gomaxprocs(&s).unwrap(),
            "2 -> 1 after cpuset=0 at 3.0s, seen in the trace at 4.0s"
        );
        s.gomaxprocs_timeline = Some(vec![point(1.0, 2)]);
        assert_eq!(
            gomaxprocs(&s).unwrap(),
            "2 throughout: did not follow cpuset=0 at 3.0s, cpus=0.5 at 6.0s"
        );
        // The row in the summary, under cpu.
        let rows = summary(&s, None);
        assert!(
            rows.iter()
                .any(|r| r.starts_with("  GOMAXPROCS 2 throughout")),
            "{rows:?}"
        );
        // A change before any --at (start-up) names no cause.
        s.gomaxprocs_timeline = Some(vec![point(0.0, 8), point(1.0, 2)]);
        assert_eq!(gomaxprocs(&s).unwrap(), "8 -> 2 seen in the trace at 1.0s");
        // Two changes, each after its own --at.
        s.gomaxprocs_timeline = Some(vec![point(0.0, 2), point(4.0, 1), point(7.0, 2)]);
        s.limit_changes = vec![change(3.0, None, Some("0")), change(6.0, None, Some("0-1"))];
        assert_eq!(
            gomaxprocs(&s).unwrap(),
            "2 -> 1 after cpuset=0 at 3.0s, seen in the trace at 4.0s; \
             -> 2 after cpuset=0-1 at 6.0s, seen in the trace at 7.0s"
        );
    }

    #[test]
    fn io_row() {
        use boxwise_box::cgroup::io::{Caps, Device, DeviceCaps};
        let mut s = stats(false, None);
        let device = Device {
            major: 254,
            minor: 0,
        };
        s.limits.io = Some(DeviceCaps {
            device,
            caps: Caps {
                write_bps: Some(5 << 20),
                ..Caps::default()
            },
        });
        let rows = summary(&s, Some(std::path::Path::new("/var/tmp")));
        assert_eq!(
            rows.last().unwrap(),
            "  io         write capped at 5 MiB/s on 254:0 (/var/tmp)"
        );
        s.limits.io = Some(DeviceCaps {
            device,
            caps: Caps {
                read_bps: Some(10 << 20),
                write_iops: Some(100),
                ..Caps::default()
            },
        });
        assert_eq!(
            summary(&s, None).last().unwrap(),
            "  io         read capped at 10 MiB/s, 100 writes/s on 254:0"
        );
        s.limits.io = Some(DeviceCaps {
            device,
            caps: Caps {
                read_iops: Some(50),
                ..Caps::default()
            },
        });
        assert_eq!(
            summary(&s, None).last().unwrap(),
            "  io         capped at 50 reads/s on 254:0"
        );
    }

    #[test]
    fn neighbour_row() {
        let mut s = stats(false, None);
        s.neighbour = Some(boxwise_lab::NeighbourStats {
            cpus: Some(1.0),
            memory_bytes: Some(32 << 20),
            cpu_seconds: Some(2.954),
            peak_memory_bytes: None,
        });
        let rows = summary(&s, None);
        assert_eq!(
            rows.last().unwrap(),
            "  neighbour  cpu=1,memory=32 MiB: used 2.95 s CPU, peak unknown"
        );
    }

    #[test]
    fn pids_hits_are_explained() {
        assert_eq!(
            notes(&stats(false, Some(3)), "worker"),
            [
                "boxwise: pids limit 20 was hit 3 times: the kernel refused new threads or \
              processes; a Go program dies with `failed to create new OS thread`"
            ]
        );
        assert!(notes(&stats(false, Some(1)), "w")[0].contains("was hit 1 time:"));
        assert!(notes(&stats(false, Some(0)), "w").is_empty());
        assert!(notes(&stats(false, None), "w").is_empty());
    }

    #[test]
    fn summary_against_the_limits() {
        let mut s = stats(false, Some(3));
        s.cpu_seconds = Some(0.5);
        s.wall_seconds = 1.0;
        s.peak_memory_bytes = Some(10 << 20);
        assert_eq!(
            summary(&s, None),
            [
                "boxwise: run: exited 2 after 1 s",
                "  cpu        0.5 s, 0.5 CPUs on average",
                "  memory     peak 10 MiB of --memory 64 MiB",
                "  OOM kills  none",
                "  pids       peak 8 of --pids 20; limit hit 3 times",
            ]
        );
        s.limits.cpus = Some(0.5);
        s.nr_periods = Some(10);
        s.throttled_periods = Some(4);
        s.throttled_seconds = Some(0.25);
        s.peak_pids = None;
        s.cpu_seconds = None;
        let lines = summary(&s, None);
        assert_eq!(lines[1], "  cpu        unknown");
        assert_eq!(
            lines[2],
            "  throttled  4 of 10 periods (40%), held back 0.25 s"
        );
        assert_eq!(
            lines[5],
            "  pids       peak unknown of --pids 20; limit hit 3 times"
        );
    }

    #[test]
    fn oom_comes_first() {
        let lines = notes(&stats(true, Some(2)), "worker");
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            "boxwise: OOM: the run hit --memory 64 MiB and the kernel's OOM killer killed a \
             process in it (worker exited 2)"
        );
    }

    #[test]
    fn limit_changes_are_listed_and_refusals_said() {
        let mut s = stats(false, None);
        s.limit_changes = vec![
            boxwise_lab::AppliedChange {
                at_seconds: 5.01,
                cpus: Some(0.5),
                cpu_quota_us: Some(50_000),
                memory_bytes: Some(256 << 20),
                cpuset: None,
                error: None,
            },
            boxwise_lab::AppliedChange {
                at_seconds: 10.0,
                cpus: None,
                cpu_quota_us: None,
                memory_bytes: Some(1 << 20),
                cpuset: None,
                error: Some("device busy".into()),
            },
        ];
        let lines: Vec<String> = s.limit_changes.iter().map(change_line).collect();
        assert_eq!(
            lines,
            [
                "boxwise: at 5.0s: cpus=0.5,memory=256 MiB",
                "boxwise: at 10.0s: memory=1 MiB refused: device busy"
            ]
        );
        // The summary says what the limits became; a refused change did not count.
        s.limits.cpus = Some(1.0);
        s.limits.memory_bytes = Some(512 << 20);
        s.cpu_seconds = Some(0.05);
        s.peak_memory_bytes = Some(100 << 20);
        let summary = summary(&s, None);
        assert!(
            summary[1].ends_with("(--cpus 1, then 0.5 at 5.0s)"),
            "{summary:?}"
        );
        assert!(
            summary[3].ends_with("of --memory 512 MiB, then 256 MiB at 5.0s"),
            "{summary:?}"
        );
        assert_eq!(missed_changes(2, &s), None);
        assert_eq!(
            missed_changes(3, &s).unwrap(),
            "boxwise: 1 --at change was not made: the command ended after 0.1 s, before its \
             time"
        );
    }
}
