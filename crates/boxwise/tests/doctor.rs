//! `boxwise doctor` and `boxwise ps` on real Go processes in real cgroups, and `doctor
//! --root` over the fixture trees.

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use support::TestCgroup;

const BOXWISE: &str = env!("CARGO_BIN_EXE_boxwise");
const MIB: u64 = 1024 * 1024;

/// Finding ids from `doctor --json` output.
fn ids(doc: &Value) -> BTreeSet<String> {
    doc["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .map(|f| {
            // Every finding carries the contract fields.
            for key in ["id", "severity", "title", "evidence", "fix"] {
                assert!(!f[key].is_null(), "finding without {key}: {f}");
            }
            f["id"].as_str().unwrap().to_string()
        })
        .collect()
}

/// Runs `cmd` (boxwise with its doctor arguments) and parses the JSON.
fn doctor(cmd: &mut Command) -> Value {
    let out = support::run(cmd);
    serde_json::from_str(&support::stdout_ok(cmd, &out)).expect("doctor prints JSON")
}

/// A Go worker that is killed when the test ends, whatever happens.
struct Worker(Child);

impl Worker {
    /// Start `cmd` and wait for its "ready" line, so the runtime has started.
    fn start(cmd: &mut Command) -> Worker {
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("ready"), "worker said {line:?}");
        Worker(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker() -> Option<std::path::PathBuf> {
    support::build_go_program("worker")
}

fn doctor_pid(pid: u32) -> Value {
    doctor(
        Command::new(BOXWISE)
            .args(["doctor", "--json", "--pid"])
            .arg(pid.to_string())
            .env_remove("GOMAXPROCS"),
    )
}

#[test]
#[ignore = "needs root and cgroups, Go, 2 CPUs"]
fn gomaxprocs_8_under_one_cpu_is_above_the_limit() {
    if !support::two_cpus_or_skip() {
        return;
    }
    let (Some(cg), Some(worker)) = (TestCgroup::create_or_skip(), worker()) else {
        return;
    };
    cg.set_cpu_quota(1.0);
    let w = Worker::start(
        cg.command(&worker)
            .arg("sleep")
            .env("GOMAXPROCS", "8")
            .env_remove("GOMEMLIMIT"),
    );
    let mut cmd = Command::new(BOXWISE);
    cmd.args(["doctor", "--json", "--pid"])
        .arg(w.pid().to_string());
    let out = support::run(&mut cmd);
    let doc: Value = serde_json::from_str(&support::stdout_ok(&cmd, &out)).unwrap();
    assert!(ids(&doc).contains("gomaxprocs-above-cpu-limit"), "{doc:#}");
    assert_eq!(doc["effective_gomaxprocs"], 8);
    // 1 CPU of quota, go125 policy, 2 or more CPUs: ceil(1) = 1, at least 2 -> 2, at most
    // the CPUs (>= 2) -> 2.
    assert_eq!(doc["recommendation"]["gomaxprocs"], 2);
    assert!(
        doc["go_version"].as_str().unwrap().starts_with("go1."),
        "{doc:#}"
    );
    // 8 >= 2 x 1 CPU: an error, not a warning.
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "gomaxprocs-above-cpu-limit")
        .unwrap();
    assert_eq!(finding["severity"], "error");
    let fix = finding["fix"].as_str().unwrap();
    assert!(fix.contains("GOMAXPROCS=2"), "{fix}");
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn memory_limit_without_gomemlimit_is_reported() {
    let (Some(cg), Some(worker)) = (TestCgroup::create_or_skip(), worker()) else {
        return;
    };
    cg.set_memory_limit(256 * MIB);
    let w = Worker::start(
        cg.command(&worker)
            .arg("sleep")
            .env_remove("GOMEMLIMIT")
            .env_remove("GOMAXPROCS"),
    );
    let doc = doctor_pid(w.pid());
    assert!(ids(&doc).contains("gomemlimit-unset"), "{doc:#}");
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "gomemlimit-unset")
        .unwrap();
    assert!(
        finding["fix"]
            .as_str()
            .unwrap()
            .contains("GOMEMLIMIT=241591910"),
        "{finding:#}"
    );
    assert_eq!(doc["memory"]["limit_bytes"], 256 * MIB);
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn a_process_started_by_boxwise_exec_is_well_configured() {
    let (Some(cg), Some(worker)) = (TestCgroup::create_or_skip(), worker()) else {
        return;
    };
    cg.set_cpu_quota(1.5);
    cg.set_memory_limit(256 * MIB);
    let mut cmd = cg.command(BOXWISE);
    cmd.args(["exec", "--quiet", "--"])
        .arg(&worker)
        .arg("sleep")
        .env_remove("GOMAXPROCS")
        .env_remove("GOMEMLIMIT");
    let w = Worker::start(&mut cmd);
    let doc = doctor_pid(w.pid());
    let found = ids(&doc);
    for id in [
        "gomaxprocs-above-cpu-limit",
        "gomaxprocs-below-cpu-limit",
        "gomemlimit-unset",
        "gomemlimit-above-limit",
    ] {
        assert!(
            !found.contains(id),
            "{id} on a process boxwise configured: {doc:#}"
        );
    }
    assert_eq!(
        doc["effective_gomaxprocs"],
        doc["recommendation"]["gomaxprocs"]
    );
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn an_oom_kill_in_the_cgroup_is_reported() {
    let (Some(cg), Some(worker)) = (TestCgroup::create_or_skip(), worker()) else {
        return;
    };
    cg.set_memory_limit(64 * MIB);
    let mut alloc = cg.command(&worker);
    alloc
        .args(["alloc", "300"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let status = alloc.status().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "the worker should be OOM-killed: {status:?}"
    );
    let doc = doctor(cg.command(BOXWISE).args(["doctor", "--json"]));
    assert!(ids(&doc).contains("oom-killed"), "{doc:#}");
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "oom-killed")
        .unwrap();
    assert_eq!(finding["severity"], "error");
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn cpu_burning_under_a_fifth_of_a_cpu_is_throttled() {
    let (Some(cg), Some(worker)) = (TestCgroup::create_or_skip(), worker()) else {
        return;
    };
    cg.set_cpu_quota(0.2);
    let mut burn = cg.command(&worker);
    burn.args(["burn", "1.5"]).stdout(Stdio::null());
    assert!(burn.status().unwrap().success());
    let doc = doctor(cg.command(BOXWISE).args(["doctor", "--json"]));
    assert!(ids(&doc).contains("cpu-throttled"), "{doc:#}");
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "cpu-throttled")
        .unwrap();
    let evidence = finding["evidence"][0].as_str().unwrap();
    assert!(
        evidence.contains("periods throttled") && evidence.contains("cpu.stat"),
        "{evidence}"
    );
}

/// Expected findings per fixture, worked out from the fixture files (see
/// tests/fixtures/README.md). No binary is given, so GOMAXPROCS is what a Go program before
/// 1.25 takes: the CPU count.
#[test]
fn doctor_root_over_the_fixtures() {
    let cases: &[(&str, &[&str])] = &[
        // 4 CPUs vs quota 1.5 (recommend 2; 4 >= 2 x 1.5: error); oom_kill 2 in
        // memory.oom_control; 2741 of 18234 periods throttled (15%); 256 MiB, no GOMEMLIMIT.
        (
            "docker-v1",
            &[
                "gomaxprocs-above-cpu-limit",
                "oom-killed",
                "gomemlimit-unset",
                "cpu-throttled",
                // Docker's v1 mounts show only the container's cgroup.
                "ancestors-hidden",
            ],
        ),
        // GOMAXPROCS=2 in its environ equals the pod's 2-CPU quota; 1 GiB and no GOMEMLIMIT;
        // the pod slice's cpu.stat is throttled.
        ("k8s-v2-pod-limit", &["gomemlimit-unset", "cpu-throttled"]),
        // memory.high 384 MiB below memory.max, no GOMEMLIMIT; 4 CPUs, no quota.
        ("v2-memory-high", &["gomemlimit-unset"]),
        // 4 CPUs vs quota 2.5 (recommend 3); foo.service's cpu.pressure some avg60=18.03.
        (
            "hybrid-systemd",
            &[
                "gomaxprocs-above-cpu-limit",
                "gomemlimit-unset",
                "cpu-throttled",
                "pressure-high",
            ],
        ),
        // Nothing limited: nothing to say.
        ("no-limits", &[]),
        // Quota 8 on 4 allowed CPUs: 4 is right; a private cgroup namespace hides parents.
        ("quota-above-affinity", &["ancestors-hidden"]),
    ];
    for (fixture, expected) in cases {
        let root = support::workspace_root()
            .join("tests/fixtures")
            .join(fixture);
        let mut cmd = Command::new(BOXWISE);
        cmd.env_clear().env("PATH", "/usr/bin:/bin");
        cmd.args(["doctor", "--json", "--root"]).arg(&root);
        let out = support::run(&mut cmd);
        let doc: Value = serde_json::from_str(&support::stdout_ok(&cmd, &out)).unwrap();
        let found = ids(&doc);
        let want: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(found, want, "{fixture}: {doc:#}");
        // Ranked: errors first, then warnings, then info.
        let order = |s: &str| {
            ["error", "warning", "info"]
                .iter()
                .position(|x| *x == s)
                .unwrap()
        };
        let ranks: Vec<usize> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| order(f["severity"].as_str().unwrap()))
            .collect();
        assert!(
            ranks.windows(2).all(|w| w[0] <= w[1]),
            "{fixture}: not ranked: {ranks:?}"
        );
    }
}

#[test]
fn fail_on_sets_the_exit_status() {
    let root = support::workspace_root().join("tests/fixtures/docker-v1");
    let status = |level: &str| {
        Command::new(BOXWISE)
            .env_clear()
            .args(["doctor", "--fail-on", level, "--root"])
            .arg(&root)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(status("error"), Some(1), "docker-v1 has errors");
    let quiet = support::workspace_root().join("tests/fixtures/no-limits");
    let code = Command::new(BOXWISE)
        .env_clear()
        .args(["doctor", "--fail-on", "warning", "--root"])
        .arg(&quiet)
        .status()
        .unwrap()
        .code();
    assert_eq!(code, Some(0), "no-limits has no findings");
    let bad = Command::new(BOXWISE)
        .args(["doctor", "--fail-on", "sometimes"])
        .output()
        .unwrap();
    assert_eq!(
        bad.status.code(),
        Some(2),
        "an unknown level is a usage error"
    );
}

#[test]
fn markdown_lists_every_finding() {
    let root = support::workspace_root().join("tests/fixtures/docker-v1");
    let mut cmd = Command::new(BOXWISE);
    cmd.env_clear()
        .args(["doctor", "--markdown", "--root"])
        .arg(&root);
    let out = support::run(&mut cmd);
    let md = support::stdout_ok(&cmd, &out);
    for id in [
        "gomaxprocs-above-cpu-limit",
        "oom-killed",
        "gomemlimit-unset",
        "cpu-throttled",
    ] {
        assert!(
            md.contains(&format!("| `{id}` |")),
            "{id} missing from the table:\n{md}"
        );
        assert!(
            md.contains(&format!("### `{id}`")),
            "{id} missing its section:\n{md}"
        );
    }
}

#[test]
#[ignore = "needs Go"]
fn ps_finds_a_go_process_and_skips_others() {
    let Some(worker) = worker() else { return };
    let go = Worker::start(
        Command::new(&worker)
            .arg("sleep")
            .env("GOMAXPROCS", "3")
            .env("GOGC", "50")
            .env("GOMEMLIMIT", "100MiB"),
    );
    let mut not_go = Command::new("sleep").arg("30").spawn().unwrap();
    let mut cmd = Command::new(BOXWISE);
    cmd.args(["ps", "--json"]);
    let out = support::run(&mut cmd);
    let stdout = support::stdout_ok(&cmd, &out);
    let _ = not_go.kill();
    let _ = not_go.wait();
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let row = rows
        .iter()
        .find(|r| r["pid"] == go.pid())
        .unwrap_or_else(|| panic!("worker {} not listed: {stdout}", go.pid()));
    let go_version = Command::new("go")
        .args(["env", "GOVERSION"])
        .output()
        .unwrap();
    let go_version = String::from_utf8(go_version.stdout).unwrap();
    assert_eq!(row["go_version"], go_version.trim());
    assert_eq!(row["name"], "worker");
    assert_eq!(row["gomaxprocs"], 3);
    assert_eq!(row["gomaxprocs_from_env"], true);
    assert_eq!(row["gogc"], "50");
    assert_eq!(row["gomemlimit_bytes"], 100 * MIB);
    assert!(row["threads"].as_u64().unwrap() >= 1);
    assert!(row["rss_bytes"].as_u64().unwrap() > 0);
    assert!(
        rows.iter().all(|r| r["pid"] != not_go.id()),
        "sleep (not Go) was listed"
    );
}
