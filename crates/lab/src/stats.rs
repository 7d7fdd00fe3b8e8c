//! What one run did, as JSON consumers (`--stats-json`, `sweep`) read it.

use std::process::ExitStatus;

use serde::Serialize;

use crate::spec::Namespace;

/// The result of one run. The JSON keys are a stable API; counters the kernel does not
/// offer (e.g. `memory.peak` before Linux 5.19 on v2) are `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunStats {
    /// The command's exit status, or 128 + the signal that killed it (137 for an OOM kill).
    pub exit_code: i32,
    pub wall_seconds: f64,
    /// User + system CPU time of everything that ran in the cgroup.
    pub cpu_seconds: Option<f64>,
    /// CFS periods in which the cgroup was throttled.
    pub throttled_periods: Option<u64>,
    /// CFS periods in which the cgroup was runnable.
    pub nr_periods: Option<u64>,
    /// Total time the cgroup's tasks were held back by the quota.
    pub throttled_seconds: Option<f64>,
    /// The highest memory use of the cgroup.
    pub peak_memory_bytes: Option<u64>,
    /// The kernel's OOM killer killed a process in the cgroup.
    pub oom_killed: bool,
    /// Forks and thread creations refused by the pids limit (`pids.events` `max`).
    pub pids_limit_hits: Option<u64>,
    /// The most tasks in the cgroup at once (`pids.peak`, newer kernels only).
    pub peak_pids: Option<u64>,
    pub limits: AppliedLimits,
    /// Limits changed during the run (`run --at`), in the order made.
    pub limit_changes: Vec<crate::change::AppliedChange>,
    /// GOMAXPROCS over the run, one point per change, from the runtime's schedtrace
    /// (`run --track-gomaxprocs`); `null` when not tracked, empty when no line came.
    pub gomaxprocs_timeline: Option<Vec<crate::gomaxprocs::Point>>,
    /// The noisy neighbour (`run --neighbour`): what it was and what it used.
    pub neighbour: Option<NeighbourStats>,
    /// The signal that killed the command, if one did (also folded into `exit_code`).
    #[serde(skip)]
    pub signal: Option<i32>,
}

/// The limits as written to the cgroup (`null`: not limited).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AppliedLimits {
    pub cpus: Option<f64>,
    pub cpu_quota_us: Option<u64>,
    pub cpu_period_us: Option<u64>,
    pub memory_bytes: Option<u64>,
    /// Memory plus swap, as Docker's `--memory-swap`.
    pub memory_swap_bytes: Option<u64>,
    pub pids: Option<u64>,
    pub cpuset: Option<String>,
    /// Caps on one disk (`run --io-*`): `device` (`MAJ:MIN`) and the four caps.
    pub io: Option<boxwise_box::cgroup::io::DeviceCaps>,
    pub namespaces: Vec<Namespace>,
    /// `v1` or `v2`: the hierarchy the memory limit went to.
    pub cgroup_version: &'static str,
}

/// The cgroup's counters after the run, in the units the stats use.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counters {
    pub cpu_seconds: Option<f64>,
    pub nr_periods: Option<u64>,
    pub throttled_periods: Option<u64>,
    pub throttled_seconds: Option<f64>,
    pub peak_memory_bytes: Option<u64>,
    pub oom_kills: Option<u64>,
    pub pids_limit_hits: Option<u64>,
    pub peak_pids: Option<u64>,
}

/// The shell's convention: the exit status, or 128 + signal.
pub fn exit_code(status: ExitStatus) -> (i32, Option<i32>) {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => (code, None),
        (None, Some(sig)) => (128 + sig, Some(sig)),
        (None, None) => (1, None),
    }
}

impl RunStats {
    pub fn new(
        status: ExitStatus,
        wall_seconds: f64,
        counters: Counters,
        limits: AppliedLimits,
    ) -> RunStats {
        let (exit_code, signal) = exit_code(status);
        RunStats {
            exit_code,
            wall_seconds,
            cpu_seconds: counters.cpu_seconds,
            throttled_periods: counters.throttled_periods,
            nr_periods: counters.nr_periods,
            throttled_seconds: counters.throttled_seconds,
            peak_memory_bytes: counters.peak_memory_bytes,
            oom_killed: counters.oom_kills.is_some_and(|n| n > 0),
            pids_limit_hits: counters.pids_limit_hits,
            peak_pids: counters.peak_pids,
            limits,
            limit_changes: Vec::new(),
            gomaxprocs_timeline: None,
            neighbour: None,
            signal,
        }
    }
}

/// What the neighbour was and what it used, for the run's stats (`neighbour`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NeighbourStats {
    /// As asked: CPUs' worth of spinning and memory held (`null`: none).
    pub cpus: Option<f64>,
    pub memory_bytes: Option<u64>,
    /// Used: CPU time and the memory peak of its cgroup (`null`: unreadable here).
    pub cpu_seconds: Option<f64>,
    pub peak_memory_bytes: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn exit_codes_follow_the_shell() {
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), (3, None));
        assert_eq!(exit_code(ExitStatus::from_raw(9)), (137, Some(9)));
        assert_eq!(exit_code(ExitStatus::from_raw(2)), (130, Some(2)));
    }

    #[test]
    fn json_has_exactly_the_documented_keys() {
        let stats = RunStats::new(
            ExitStatus::from_raw(9),
            1.5,
            Counters {
                cpu_seconds: Some(0.75),
                oom_kills: Some(1),
                ..Counters::default()
            },
            AppliedLimits {
                memory_bytes: Some(64 << 20),
                cgroup_version: "v1",
                ..AppliedLimits::default()
            },
        );
        let json = serde_json::to_value(&stats).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut expected = vec![
            "exit_code",
            "wall_seconds",
            "cpu_seconds",
            "throttled_periods",
            "nr_periods",
            "throttled_seconds",
            "peak_memory_bytes",
            "oom_killed",
            "pids_limit_hits",
            "peak_pids",
            "limits",
            "limit_changes",
            "gomaxprocs_timeline",
            "neighbour",
        ];
        expected.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(json["exit_code"], 137);
        assert_eq!(json["oom_killed"], true);
        assert_eq!(json["peak_memory_bytes"], serde_json::Value::Null);
        assert_eq!(json["pids_limit_hits"], serde_json::Value::Null);
        assert_eq!(json["limits"]["memory_bytes"], 64 << 20);
        assert_eq!(json["gomaxprocs_timeline"], serde_json::Value::Null);
        assert_eq!(json["neighbour"], serde_json::Value::Null);
    }

    #[test]
    fn timeline_and_neighbour_keys() {
        let mut stats = RunStats::new(
            ExitStatus::from_raw(0),
            1.0,
            Counters::default(),
            AppliedLimits::default(),
        );
        stats.gomaxprocs_timeline = Some(vec![crate::gomaxprocs::Point {
            t_seconds: 0.5,
            gomaxprocs: 2,
        }]);
        stats.neighbour = Some(NeighbourStats {
            cpus: Some(1.0),
            memory_bytes: None,
            cpu_seconds: Some(0.9),
            peak_memory_bytes: Some(1 << 20),
        });
        let json = serde_json::to_value(&stats).unwrap();
        assert_eq!(
            json["gomaxprocs_timeline"],
            serde_json::json!([{"t_seconds": 0.5, "gomaxprocs": 2}])
        );
        assert_eq!(
            json["neighbour"],
            serde_json::json!({"cpus": 1.0, "memory_bytes": null, "cpu_seconds": 0.9,
                               "peak_memory_bytes": 1048576})
        );
    }
}
