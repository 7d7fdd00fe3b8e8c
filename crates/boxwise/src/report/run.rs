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
            "boxwise: {limit} reached {hits} time{}: the kernel refused new threads or \
             processes; a Go program dies with `failed to create new OS thread`",
            if hits == 1 { "" } else { "s" }
        ));
    }
    for c in &stats.limit_changes {
        let what: Vec<String> = c
            .cpus
            .map(|n| format!("cpus={n}"))
            .into_iter()
            .chain(
                c.memory_bytes
                    .map(|m| format!("memory={}", units::bytes(m))),
            )
            .collect();
        out.push(match &c.error {
            None => format!("boxwise: at {:.1}s: {}", c.at_seconds, what.join(",")),
            Some(e) => format!(
                "boxwise: at {:.1}s: {} refused: {e}",
                c.at_seconds,
                what.join(",")
            ),
        });
    }
    out
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
            signal: None,
        }
    }

    #[test]
    fn pids_hits_are_explained() {
        assert_eq!(
            notes(&stats(false, Some(3)), "worker"),
            [
                "boxwise: pids limit 20 reached 3 times: the kernel refused new threads or \
              processes; a Go program dies with `failed to create new OS thread`"
            ]
        );
        assert!(notes(&stats(false, Some(1)), "w")[0].contains("reached 1 time:"));
        assert!(notes(&stats(false, Some(0)), "w").is_empty());
        assert!(notes(&stats(false, None), "w").is_empty());
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
                error: None,
            },
            boxwise_lab::AppliedChange {
                at_seconds: 10.0,
                cpus: None,
                cpu_quota_us: None,
                memory_bytes: Some(1 << 20),
                error: Some("device busy".into()),
            },
        ];
        assert_eq!(
            notes(&s, "w"),
            [
                "boxwise: at 5.0s: cpus=0.5,memory=256 MiB",
                "boxwise: at 10.0s: memory=1 MiB refused: device busy"
            ]
        );
    }
}
