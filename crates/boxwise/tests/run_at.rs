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
    let json = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(BIN)
        .args(["run", "--neighbour", "cpu=1,memory=32m", "--stats-json"])
        .arg(json.path())
        .args(["--", "sleep", "3"])
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
    // The stats say what the neighbour was and what it used.
    let stats: Value = serde_json::from_slice(&std::fs::read(json.path()).unwrap()).unwrap();
    let n = &stats["neighbour"];
    assert_eq!(n["cpus"], 1.0, "{stats}");
    assert_eq!(n["memory_bytes"], 32u64 << 20, "{stats}");
    assert!(
        n["cpu_seconds"].as_f64().is_some_and(|c| c > 0.0),
        "{stats}"
    );
    assert!(
        n["peak_memory_bytes"]
            .as_u64()
            .is_some_and(|p| p >= 32 << 20),
        "{stats}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("  neighbour  cpu=1,memory=32 MiB: used "),
        "{err}"
    );
}

/// `tests/go/gmpwatch` built by `go` from a copy whose go line says `go_line` (Go 1.23
/// refuses the repo's `go 1.25`; the go line also sets which GODEBUG defaults apply).
fn gmpwatch(go: &str, go_line: &str, label: &str) -> Option<std::path::PathBuf> {
    let src = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("gmpwatch-src-{label}"));
    std::fs::create_dir_all(&src).unwrap();
    let orig = support::workspace_root().join("tests/go/gmpwatch");
    std::fs::copy(orig.join("main.go"), src.join("main.go")).unwrap();
    std::fs::write(
        src.join("go.mod"),
        format!("module boxwise.test/gmpwatch\n\ngo {go_line}\n"),
    )
    .unwrap();
    support::build_go_program_with(Path::new(go), src.to_str().unwrap(), label)
}

/// `boxwise run --at 2s:cpuset=0 --stats-json FILE -- gmpwatch 5s`: the GOMAXPROCS values
/// of the recorded timeline, the program's own last report, and run's stderr.
fn timeline_under_cpuset_change(program: &Path) -> (Vec<u64>, u64, String) {
    let json = tempfile::NamedTempFile::new().unwrap();
    let out = support::run(
        Command::new(BIN)
            .args(["run", "--at", "2s:cpuset=0", "--stats-json"])
            .arg(json.path())
            .arg("--")
            .arg(program)
            .arg("5s"),
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    let stats: Value = serde_json::from_slice(&std::fs::read(json.path()).unwrap()).unwrap();
    let timeline = stats["gomaxprocs_timeline"]
        .as_array()
        .unwrap_or_else(|| panic!("no timeline: {stats}"));
    let values: Vec<u64> = timeline
        .iter()
        .map(|p| p["gomaxprocs"].as_u64().unwrap())
        .collect();
    // Times rise from the start; no assertion on how fast anything happened.
    let times: Vec<f64> = timeline
        .iter()
        .map(|p| p["t_seconds"].as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{stats}");
    let own = String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .find_map(|l| l.split("gomaxprocs=").nth(1)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("gmpwatch printed nothing: {err}"));
    // The schedtrace lines boxwise asked for are kept off the user's stderr.
    assert!(!err.contains("SCHED "), "{err}");
    assert_eq!(stats["limit_changes"][0]["cpuset"], "0", "{stats}");
    (values, own, err)
}

#[test]
#[ignore = "needs root, writable cgroups, Go 1.25 and Go 1.23"]
fn gomaxprocs_timeline_shows_go125_following_a_cpuset_change_and_go123_not() {
    if !support::two_cpus_or_skip() {
        return;
    }
    let probe = support::run(Command::new(BIN).args(["run", "--", "true"]));
    if !support::require(probe.status.success(), "`boxwise run -- true` failed") {
        return;
    }
    let Some(go125) = gmpwatch("/opt/boxwise-go/go-1.25/bin/go", "1.25", "go1.25") else {
        return;
    };
    let Some(go123) = gmpwatch("/usr/lib/go-1.23/bin/go", "1.23", "go1.23") else {
        return;
    };
    // Go 1.25 re-reads its CPUs (affinity and quota) about once a second and follows.
    let (values, own, err) = timeline_under_cpuset_change(&go125);
    assert!(values.len() >= 2 && values[0] >= 2, "{values:?}\n{err}");
    assert_eq!(*values.last().unwrap(), 1, "{values:?}\n{err}");
    assert_eq!(own, 1, "the program's own GOMAXPROCS at the end\n{err}");
    // The change, after which --at, and when the trace (not the program) showed it.
    assert!(
        err.lines().any(|l| l.starts_with("  GOMAXPROCS ")
            && l.contains("-> 1 after cpuset=0 at 2.0s, seen in the trace at ")),
        "{err}"
    );
    // Go 1.23 sizes GOMAXPROCS once, at start-up.
    let (values, own, err) = timeline_under_cpuset_change(&go123);
    assert_eq!(values.len(), 1, "{values:?}\n{err}");
    assert!(values[0] >= 2, "{values:?}");
    assert_eq!(own, values[0], "{err}");
    assert!(
        err.contains("throughout: did not follow cpuset=0 at "),
        "{err}"
    );
}

#[test]
#[ignore = "needs root, writable cgroups and Go"]
fn track_gomaxprocs_keeps_the_users_schedtrace_and_other_stderr() {
    let probe = support::run(Command::new(BIN).args(["run", "--", "true"]));
    if !support::require(probe.status.success(), "`boxwise run -- true` failed") {
        return;
    }
    let Some(go) = gmpwatch("go", "1.19", "go-system") else {
        return;
    };
    // The user's own schedtrace: boxwise reads it and passes every line through.
    let json = tempfile::NamedTempFile::new().unwrap();
    let out = support::run(
        Command::new(BIN)
            .args(["run", "--track-gomaxprocs", "-e", "GODEBUG=schedtrace=500"])
            .arg("--stats-json")
            .arg(json.path())
            .arg("--")
            .arg(&go)
            .arg("bad-duration"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    // gmpwatch's own complaint reaches stderr unchanged.
    assert!(err.contains("gmpwatch: time: invalid duration"), "{err}");
    assert_eq!(out.status.code(), Some(2), "{err}");
    let stats: Value = serde_json::from_slice(&std::fs::read(json.path()).unwrap()).unwrap();
    assert!(stats["gomaxprocs_timeline"].is_array(), "{stats}");
    // Without --track-gomaxprocs (and no --at) nothing is tracked.
    let out = support::run(
        Command::new(BIN)
            .args(["run", "-q", "--stats-json", "-", "--"])
            .arg(&go)
            .arg("1ms"),
    );
    let stats: Value =
        serde_json::from_slice(&out.stdout[out.stdout.iter().position(|&b| b == b'{').unwrap()..])
            .unwrap();
    assert!(stats["gomaxprocs_timeline"].is_null(), "{stats}");
}

#[test]
fn at_two_changes_at_one_time_are_refused() {
    let out = support::run(Command::new(BIN).args([
        "run",
        "--at",
        "2000ms:memory=64m",
        "--at",
        "2s:cpus=1",
        "--",
        "true",
    ]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // The user's own texts, and the one --at that makes both.
    assert!(
        err.contains("--at \"2000ms:memory=64m\" and --at \"2s:cpus=1\" are both at 2s")
            && err.trim_end().ends_with("--at 2000ms:memory=64m,cpus=1"),
        "{err}"
    );
    // A cpuset list took the pairs after it: say cpuset= goes last, and how.
    let out =
        support::run(Command::new(BIN).args(["run", "--at", "2s:cpuset=0,cpus=1", "--", "true"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.contains("cpuset= must come last") && first.ends_with("2s:cpus=1,cpuset=0"),
        "{err}"
    );
}
