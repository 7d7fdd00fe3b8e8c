//! `boxwise sweep` end to end: real runs in transient cgroups, the example workloads, the
//! built-in load generator, the GC trace, and the summary.

mod support;

use std::process::Command;

use serde_json::Value;
use support::TestCgroup;

const BOXWISE: &str = env!("CARGO_BIN_EXE_boxwise");

/// Sweeps create cgroups: the same prerequisite as the other cgroup tests.
fn can_make_cgroups() -> bool {
    TestCgroup::create_or_skip().is_some()
}

/// Runs a sweep; returns its stdout and JSON, after checking it left no cgroup behind.
fn sweep(args: &[&str], json: &std::path::Path) -> (String, Value) {
    let mut cmd = Command::new(BOXWISE);
    cmd.arg("sweep")
        .args(args)
        .env_remove("GOMAXPROCS")
        .env_remove("GODEBUG");
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stdout = support::stdout_ok(&cmd, &out);
    assert!(
        support::boxwise_run_cgroups(pid).is_empty(),
        "left behind: {:?}",
        support::boxwise_run_cgroups(pid)
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    (stdout, doc)
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn two_cpus_by_two_gomaxprocs_by_two_repeats() {
    if !can_make_cgroups() {
        return;
    }
    let Some(batch) = support::build_go_program("examples/workloads/batch") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("sweep.json");
    let plot = dir.path().join("sweep.svg");
    let (stdout, doc) = sweep(
        &[
            "--cpus",
            "0.5,1",
            "--env",
            "GOMAXPROCS=1,2",
            "--repeat",
            "2",
            "--seed",
            "7",
            "--metric",
            "elapsed_ms=elapsed_ms=([0-9.]+)",
            "--json",
            json.to_str().unwrap(),
            "--plot",
            plot.to_str().unwrap(),
            "--",
            "env",
            "BLOCKS=20",
            batch.to_str().unwrap(),
        ],
        &json,
    );
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 8, "2 x 2 configurations x 2 repeats");
    let summary = doc["summary"].as_array().unwrap();
    assert_eq!(summary.len(), 4);
    for row in summary {
        assert_eq!(row["runs"], 2, "{row}");
        assert!(row["metrics"]["elapsed_ms"]["median"].as_f64().unwrap() > 0.0);
    }
    // Every run: the configuration it ran, the cgroup's numbers, the workload's metric, and
    // the GOMAXPROCS the workload really had (the batch prints it).
    for run in runs {
        let cpus = run["config"]["cpus"].as_f64().unwrap();
        assert!(cpus == 0.5 || cpus == 1.0);
        assert_eq!(run["stats"]["limits"]["cpus"].as_f64().unwrap(), cpus);
        assert_eq!(run["stats"]["exit_code"], 0);
        assert!(run["cpu_seconds"].as_f64().unwrap() > 0.0);
        assert!(run["wall_seconds"].as_f64().unwrap() > 0.0);
        assert!(run["metrics"]["elapsed_ms"].as_f64().is_some(), "{run}");
        // GOMAXPROCS as the runtime's schedtrace reported it: the configuration's.
        let want: f64 = run["config"]["env"]["GOMAXPROCS"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(run["metrics"]["gomaxprocs_first"], want, "{run}");
        assert_eq!(run["metrics"]["gomaxprocs_last"], want, "{run}");
    }
    for row in summary {
        let want: f64 = row["config"]["env"]["GOMAXPROCS"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(row["metrics"]["gomaxprocs_last"]["median"], want, "{row}");
    }
    // Interleaved: each configuration appears once in every round of four runs.
    for round in runs.chunks(4) {
        let mut seen: Vec<u64> = round
            .iter()
            .map(|r| r["config_index"].as_u64().unwrap())
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2, 3]);
    }
    // Table: a header and four rows, then the verdict; 2 runs can never beat the noise.
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("configuration"), "{stdout}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("cpus=")).count(),
        4,
        "{stdout}"
    );
    assert!(stdout.contains("no single best for elapsed_ms"), "{stdout}");
    assert_eq!(doc["best"], Value::Null);
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("cpus=0.5 GOMAXPROCS=1"),
        "plot names the configurations"
    );
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn http_sweep_measures_latency_and_gc() {
    if !can_make_cgroups() {
        return;
    }
    let Some(svc) = support::build_go_program("examples/workloads/allocsvc") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("sweep.json");
    let port = 20000 + (std::process::id() % 20000);
    let addr = format!("127.0.0.1:{port}");
    let url = format!("http://{addr}/");
    let (stdout, doc) = sweep(
        &[
            "--cpus",
            "1",
            "--env",
            "GOGC=50,200",
            "--repeat",
            "1",
            "--http",
            &url,
            "--rate",
            "200",
            "--duration",
            "1s",
            "--json",
            json.to_str().unwrap(),
            "--",
            "env",
            &format!("ADDR={addr}"),
            "LIVE_MIB=8",
            svc.to_str().unwrap(),
        ],
        &json,
    );
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for run in runs {
        let m = &run["metrics"];
        assert!(run["error"].is_null(), "{run}");
        assert!(m["p99"].as_f64().unwrap() > 0.0, "{run}");
        let rate = m["achieved_rate"].as_f64().unwrap();
        assert!((150.0..=250.0).contains(&rate), "rate {rate}");
        assert_eq!(m["errors"], 0.0);
        // The service was started with GODEBUG=gctrace=1 and collected garbage under load.
        assert!(m["gc_count"].as_f64().unwrap() >= 1.0, "{run}");
        // Stopped by the sweep with SIGTERM once the load was done.
        assert_eq!(run["stats"]["exit_code"], 143, "{run}");
    }
    assert!(stdout.contains("p99 ms median"), "{stdout}");
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn ctrl_c_stops_the_sweep_and_cleans_up() {
    if !can_make_cgroups() {
        return;
    }
    let Some(worker) = support::build_go_program("worker") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("sweep.json");
    // The sweep's scratch directory goes here, so the test can see it is removed.
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BOXWISE);
    cmd.env("TMPDIR", tmp.path())
        .args([
            "sweep",
            "--cpus",
            "0.5",
            "--repeat",
            "5",
            "--json",
            json.to_str().unwrap(),
            "--",
        ])
        .arg(&worker)
        .args(["burn", "20"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let pid = child.id();
    // Signals are forwarded from before the first run starts: wait for its cgroup.
    // No time limit here: the sweep either starts a run or ends (its runs burn 20 s each).
    while support::boxwise_run_cgroups(pid).is_empty() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the sweep ended before its first run started: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let scratch: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(
        scratch.len() == 1
            && scratch[0]
                .file_name()
                .to_string_lossy()
                .starts_with("boxwise-sweep-"),
        "one scratch directory while the sweep runs: {scratch:?}"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sweep interrupted"), "{stderr}");
    // The first run was stopped; no other run started; the summary still came out.
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["runs"].as_array().unwrap().len(), 1);
    // Cut short (the failure says so, not a wall-clock window), so it does not count.
    assert_eq!(doc["runs"][0]["failed"], true, "{}", doc["runs"][0]);
    assert_eq!(doc["runs"][0]["failure"], "interrupted");
    assert_eq!(doc["summary"][0]["failed_runs"], 1);
    assert!(support::boxwise_run_cgroups(pid).is_empty());
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "scratch directory left behind: {left:?}");
}

/// Under 64m the worker is OOM-killed within moments, so that configuration has by far the
/// lowest wall time: with 4 runs each, every one below every run of the other, a verdict
/// that counted them would name it best (p = 2/70). It must never be the recommendation.
#[test]
#[ignore = "needs root and cgroups, Go"]
fn a_configuration_whose_runs_fail_is_never_best() {
    if !can_make_cgroups() {
        return;
    }
    let Some(worker) = support::build_go_program("worker") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("sweep.json");
    // 64m, with Docker's default swap of as much again, cannot hold 160 MiB; 512m can.
    let (stdout, doc) = sweep(
        &[
            "--memory",
            "64m,512m",
            "--repeat",
            "4",
            "--seed",
            "3",
            "--no-gctrace",
            "--json",
            json.to_str().unwrap(),
            "--",
            worker.to_str().unwrap(),
            "allocexit",
            "160",
        ],
        &json,
    );
    let summary = doc["summary"].as_array().unwrap();
    let small = summary
        .iter()
        .find(|r| r["label"] == "memory=64MiB")
        .unwrap_or_else(|| panic!("{summary:?}"));
    let large = summary
        .iter()
        .find(|r| r["label"] == "memory=512MiB")
        .unwrap();
    assert_eq!(small["runs"], 4, "{small}");
    assert_eq!(small["failed_runs"], small["runs"], "{small}");
    assert_eq!(large["failed_runs"], 0, "{large}");
    // The failed runs' numbers are in `runs` but not in the summary.
    assert!(small["metrics"].get("wall_seconds").is_none(), "{small}");
    assert_eq!(large["metrics"]["wall_seconds"]["n"], 4, "{large}");
    for run in doc["runs"].as_array().unwrap() {
        let oom = run["config"]["memory"] == 64 << 20;
        assert_eq!(run["failed"], oom, "{run}");
        assert_eq!(run["stats"]["oom_killed"], oom, "{run}");
        if oom {
            assert!(
                run["failure"].as_str().unwrap().starts_with("OOM-killed"),
                "{run}"
            );
            assert!(run["metrics"]["wall_seconds"].as_f64().is_some(), "{run}");
        } else {
            assert!(run["failure"].is_null(), "{run}");
        }
    }
    assert_ne!(doc["best"], "memory=64MiB", "{}", doc["verdict"]);
    let verdict = doc["verdict"].as_str().unwrap();
    assert!(
        verdict.contains("never recommended, since runs failed: memory=64MiB (4 failed runs)"),
        "{verdict}"
    );
    // The table shows the failures in a column of their own.
    let header = stdout.lines().next().unwrap();
    assert!(header.contains("failed"), "{stdout}");
    assert!(stdout.contains(&verdict[..20]), "{stdout}");
}

/// Choices that cannot work are usage errors before any workload starts: a rate of 0 and
/// an objective nothing measures.
#[test]
fn impossible_rate_and_objective_are_usage_errors() {
    for args in [
        &["--rate", "0", "--http", "http://127.0.0.1:9/"][..],
        &["--rate", "-5", "--http", "http://127.0.0.1:9/"],
        &["--objective", "nope"],
        &["--metric", "ops=ops=(\\d+)", "--objective", "opz"],
    ] {
        let out = Command::new(BOXWISE)
            .arg("sweep")
            .args(args)
            .args(["--", "true"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("configuration(s)"), "a run started: {err}");
    }
}

/// A sweep whose every run failed measured nothing: it says so and exits 1.
#[test]
#[ignore = "needs root and cgroups"]
fn a_sweep_whose_runs_all_fail_exits_1() {
    if !can_make_cgroups() {
        return;
    }
    let out = Command::new(BOXWISE)
        .args(["sweep", "--repeat", "2", "--", "false"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("every run failed"), "{err}");
}
