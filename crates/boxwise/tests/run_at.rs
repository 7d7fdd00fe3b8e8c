//! `boxwise run --at`: limits changed while the workload runs, read back from the run's
//! own cgroup files during the run. Needs root and writable cgroups (skips otherwise,
//! fails under BOXWISE_REQUIRE_PRIVILEGED=1).

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_boxwise");

fn read(dir: &Path, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::fs::read_to_string(dir.join(n)).ok())
        .map(|s| s.trim().to_string())
}

/// Push `v` unless it repeats the last value seen.
fn note(seen: &mut Vec<String>, v: Option<String>) {
    if let Some(v) = v
        && seen.last() != Some(&v)
    {
        seen.push(v);
    }
}

#[test]
#[ignore = "needs root and writable cgroups"]
fn at_changes_cpu_and_memory_limits_during_the_run() {
    let probe = support::run(Command::new(BIN).args(["run", "--", "true"]));
    if !support::require(
        probe.status.success(),
        &format!(
            "`boxwise run -- true` failed: {}",
            String::from_utf8_lossy(&probe.stderr).trim()
        ),
    ) {
        return;
    }
    let mut child = Command::new(BIN)
        .args(["run", "--cpus", "1", "--memory", "512m"])
        .args(["--at", "1s:cpus=0.5", "--at", "2s:memory=256m,cpus=1.5"])
        .args(["--stats-json", "-", "--", "sleep", "4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (mut quotas, mut memories) = (Vec::new(), Vec::new());
    // Poll the run's cgroup until the command is gone (bounded, never a timing assertion).
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        for dir in support::boxwise_run_cgroups(pid) {
            note(&mut quotas, read(&dir, &["cpu.cfs_quota_us", "cpu.max"]));
            note(
                &mut memories,
                read(&dir, &["memory.limit_in_bytes", "memory.max"]),
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let first = |q: &str| q.split_whitespace().next().unwrap_or("").to_string();
    let quotas: Vec<String> = quotas.iter().map(|q| first(q)).collect();
    assert_eq!(quotas, ["100000", "50000", "150000"], "{err}");
    assert_eq!(memories, ["536870912", "268435456"], "{err}");
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = stats["limit_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{stats}");
    assert_eq!(changes[0]["cpu_quota_us"], 50000);
    assert_eq!(changes[1]["memory_bytes"], 268435456u64);
    assert!(changes.iter().all(|c| c["error"].is_null()), "{stats}");
    assert!(err.contains("boxwise: at 1.0s: cpus=0.5"), "{err}");
    assert!(support::boxwise_run_cgroups(pid).is_empty());
}

#[test]
fn at_usage_errors_name_the_value() {
    let out = support::run(Command::new(BIN).args(["run", "--at", "5x:cpus=1", "--", "true"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("5x:cpus=1"));
}

#[test]
#[ignore = "needs root and writable cgroups"]
fn neighbour_burns_cpu_in_a_sibling_cgroup_and_goes_away() {
    let probe = support::run(Command::new(BIN).args(["run", "--", "true"]));
    if !support::require(probe.status.success(), "`boxwise run -- true` failed") {
        return;
    }
    let mut child = Command::new(BIN)
        .args(["run", "--neighbour", "cpu=1,memory=32m", "--", "sleep", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // The neighbour's cgroup: the sibling whose quota is one CPU. Watch its CPU time and
    // memory grow (bounded polling, no timing assertion).
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut max_usage, mut max_memory, mut quota_seen, mut procs_seen) = (0u64, 0u64, false, 0);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        let dirs = support::boxwise_run_cgroups(pid);
        for dir in &dirs {
            if read(dir, &["cpu.cfs_quota_us"]).as_deref() == Some("100000") {
                quota_seen = true;
                let procs = read(dir, &["cgroup.procs"]).unwrap_or_default();
                procs_seen = procs_seen.max(procs.lines().count());
                // Periods with runnable tasks under the quota: the spinner was there.
                let periods = read(dir, &["cpu.stat"]).and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("nr_periods "))
                        .and_then(|v| v.trim().parse().ok())
                });
                max_usage = max_usage.max(periods.unwrap_or(0));
            }
            if let Some(m) = read(dir, &["memory.usage_in_bytes"]).and_then(|u| u.parse().ok()) {
                max_memory = max_memory.max(m);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(quota_seen, "no sibling cgroup with a 1-CPU quota appeared");
    assert!(procs_seen >= 1, "the neighbour cgroup held no process");
    assert!(
        max_usage > 0,
        "the neighbour never ran under its quota (cpu.stat nr_periods 0)"
    );
    assert!(
        max_memory >= 32 << 20,
        "no cgroup held the neighbour's 32 MiB: {max_memory}"
    );
    assert!(
        support::boxwise_run_cgroups(pid).is_empty(),
        "cgroups left behind"
    );
}
