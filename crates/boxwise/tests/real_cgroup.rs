//! End-to-end checks of `boxwise exec` and `boxwise inspect` inside real
//! cgroups with a CPU quota and a memory limit, against a real Go program.
//!
//! Needs root and a writable cgroupfs; skips otherwise (fails in CI, see
//! `support::require`).

mod support;

use std::process::Command;

use serde_json::Value;
use support::{ProbeReport, TestCgroup, json_at};

const BOXWISE: &str = env!("CARGO_BIN_EXE_boxwise");

/// 256 MiB, and floor(0.9 * 256 MiB): the GOMEMLIMIT boxwise must derive.
const MEMORY_LIMIT: u64 = 256 * 1024 * 1024;
const EXPECTED_GOMEMLIMIT: i64 = 241_591_910;

/// The test cgroup with `cores` CPUs and, if given, a memory limit.
fn cgroup(cores: f64, memory: Option<u64>) -> Option<TestCgroup> {
    if !support::two_cpus_or_skip() {
        return None;
    }
    let cg = TestCgroup::create_or_skip()?;
    cg.set_cpu_quota(cores);
    if let Some(bytes) = memory {
        cg.set_memory_limit(bytes);
    }
    Some(cg)
}

/// A `boxwise` command inside `cg`, with no Go settings inherited from the
/// environment the tests happen to run in.
fn boxwise_in(cg: &TestCgroup, args: &[&str]) -> Command {
    let mut cmd = cg.command(BOXWISE);
    cmd.args(args)
        .env_remove("GOMAXPROCS")
        .env_remove("GOMEMLIMIT");
    cmd
}

/// Runs `boxwise exec <flags> -- probe` in `cg`; returns the probe's report
/// and boxwise's stderr, after checking that the probe ran as the very
/// process boxwise was (execve, no wrapper left behind).
fn exec_probe(
    cg: &TestCgroup,
    flags: &[&str],
    env: &[(&str, &str)],
) -> Option<(ProbeReport, String)> {
    let probe = support::build_go_probe()?;
    let mut cmd = boxwise_in(cg, &["exec"]);
    cmd.args(flags)
        .arg("--")
        .arg(&probe)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let spawned_pid = child.id();
    let out = child.wait_with_output().expect("wait for boxwise exec");
    let report = ProbeReport::parse(&support::stdout_ok(&cmd, &out));
    assert_eq!(
        report.int("pid"),
        i64::from(spawned_pid),
        "probe must be boxwise's own process after execve, not a child"
    );
    Some((report, String::from_utf8_lossy(&out.stderr).into_owned()))
}

/// GOMAXPROCS under a 1.5-CPU quota with the default `go125` policy, on 2 or more CPUs
/// (`cgroup` skips below that): ceil(1.5) = 2, at least 2 -> 2, at most the CPUs (>= 2) -> 2.
const PROCS_AT_1_5: i64 = 2;

#[test]
#[ignore = "needs root and cgroups, Go, 2 CPUs"]
fn exec_sets_gomaxprocs_and_gomemlimit_from_cgroup() {
    let Some(cg) = cgroup(1.5, Some(MEMORY_LIMIT)) else {
        return;
    };
    let Some((report, stderr)) = exec_probe(&cg, &[], &[]) else {
        return;
    };
    let procs = PROCS_AT_1_5;
    assert_eq!(report.int("gomaxprocs"), procs);
    assert_eq!(
        report.get("GOMAXPROCS"),
        procs.to_string(),
        "set by boxwise"
    );
    assert_eq!(report.int("gomemlimit"), EXPECTED_GOMEMLIMIT);
    assert_eq!(report.get("GOMEMLIMIT"), EXPECTED_GOMEMLIMIT.to_string());
    assert_eq!(
        stderr.lines().count(),
        1,
        "exec logs exactly one line to stderr, got:\n{stderr}"
    );
}

#[test]
#[ignore = "needs root and cgroups, Go, 2 CPUs"]
fn exec_keeps_user_gomaxprocs() {
    let Some(cg) = cgroup(1.5, Some(MEMORY_LIMIT)) else {
        return;
    };
    let Some((report, _)) = exec_probe(&cg, &[], &[("GOMAXPROCS", "3")]) else {
        return;
    };
    assert_eq!(report.int("gomaxprocs"), 3);
    assert_eq!(report.get("GOMAXPROCS"), "3");
    assert_eq!(report.int("gomemlimit"), EXPECTED_GOMEMLIMIT);
    assert_eq!(report.get("GOMEMLIMIT"), EXPECTED_GOMEMLIMIT.to_string());
}

#[test]
#[ignore = "needs root and cgroups, Go, 2 CPUs"]
fn half_cpu_quota_go125_versus_floor() {
    let Some(cg) = cgroup(0.5, None) else {
        return;
    };
    for flags in [&[][..], &["--cpu-policy", "go125"][..]] {
        let Some((report, _)) = exec_probe(&cg, flags, &[]) else {
            return;
        };
        // ceil(0.5) = 1, at least 2 -> 2, at most the CPUs (>= 2) -> 2.
        let procs = 2;
        assert_eq!(report.int("gomaxprocs"), procs, "flags {flags:?}");
        assert_eq!(
            report.get("GOMAXPROCS"),
            procs.to_string(),
            "flags {flags:?}"
        );
    }
    let Some((report, _)) = exec_probe(&cg, &["--cpu-policy", "floor"], &[]) else {
        return;
    };
    assert_eq!(report.int("gomaxprocs"), 1);
    assert_eq!(report.get("GOMAXPROCS"), "1");
}

/// Runs `boxwise inspect --json <extra>` (in `cg` if given) and parses it.
fn inspect(cg: Option<&TestCgroup>, extra: &[&str]) -> Value {
    let mut cmd = match cg {
        Some(cg) => boxwise_in(cg, &["inspect", "--json"]),
        None => {
            let mut c = Command::new(BOXWISE);
            c.args(["inspect", "--json"]);
            c
        }
    };
    cmd.args(extra);
    let out = support::run(&mut cmd);
    let stdout = support::stdout_ok(&cmd, &out);
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{cmd:?} printed invalid JSON ({e}):\n{stdout}"))
}

#[test]
#[ignore = "needs root and cgroups, 2 CPUs"]
fn inspect_reports_cgroup_limits() {
    let Some(cg) = cgroup(1.5, Some(MEMORY_LIMIT)) else {
        return;
    };
    let doc = inspect(Some(&cg), &[]);
    assert_eq!(
        json_at(&doc, "cgroup.version"),
        support::host_cgroup_version()
    );
    // The 1.5-CPU quota, below the 2 or more CPUs allowed.
    assert_eq!(json_at(&doc, "cpu.effective_cores").as_f64(), Some(1.5));
    assert_eq!(
        json_at(&doc, "memory.limit_bytes").as_u64(),
        Some(MEMORY_LIMIT)
    );
    assert_eq!(
        json_at(&doc, "recommendation.gomaxprocs").as_i64(),
        Some(PROCS_AT_1_5)
    );
    assert_eq!(
        json_at(&doc, "recommendation.gomemlimit_bytes").as_i64(),
        Some(EXPECTED_GOMEMLIMIT)
    );
}

/// Keys whose values legitimately change between two runs a moment apart
/// (usage counters, pressure averages, the inspecting process's own pid).
fn is_volatile(key: &str) -> bool {
    const PARTS: &[&str] = &[
        "usage",
        "current",
        "pressure",
        "psi",
        "throttl",
        "stat",
        "peak",
        "events",
        "avg",
        "total",
        "time",
        "oom",
        "rss",
        "cache",
        "nr_",
        "working_set",
    ];
    key == "pid" || PARTS.iter().any(|p| key.contains(p))
}

fn strip_volatile(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !is_volatile(k));
            map.values_mut().for_each(strip_volatile);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_volatile),
        _ => {}
    }
}

/// `--root /` must read exactly what the default does; compare everything
/// but the values that move on their own between the two runs.
fn assert_root_slash_matches(cg: Option<&TestCgroup>) {
    let mut plain = inspect(cg, &[]);
    let mut rooted = inspect(cg, &["--root", "/"]);
    // The contract fields must survive stripping, so the check is never empty.
    for path in [
        "cgroup.version",
        "cpu.effective_cores",
        "memory.limit_bytes",
        "recommendation.gomaxprocs",
        "recommendation.gomemlimit_bytes",
    ] {
        assert_eq!(json_at(&plain, path), json_at(&rooted, path), "{path}");
    }
    strip_volatile(&mut plain);
    strip_volatile(&mut rooted);
    assert_eq!(
        plain, rooted,
        "inspect --json --root / differs from inspect --json:\n{plain:#}\nvs\n{rooted:#}"
    );
}

#[test]
fn inspect_root_slash_matches_default_on_live_machine() {
    assert_root_slash_matches(None);
}

#[test]
#[ignore = "needs root and cgroups, 2 CPUs"]
fn inspect_root_slash_matches_default_in_cgroup() {
    let Some(cg) = cgroup(1.5, Some(MEMORY_LIMIT)) else {
        return;
    };
    assert_root_slash_matches(Some(&cg));
}
