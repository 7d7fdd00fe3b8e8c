//! `boxwise doctor --profile`: the profile rules on profiles of a known shape (generated here)
//! and on the committed fixtures, read against the fixture boxes of `doctor --root`.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use boxwise_pprof::synth::{encode, stacks_profile};
use serde_json::Value;

const BOXWISE: &str = env!("CARGO_BIN_EXE_boxwise");
const MS: i64 = 1_000_000;

fn fixture_box(name: &str) -> PathBuf {
    support::workspace_root().join("tests/fixtures").join(name)
}

fn pprof_fixture(name: &str) -> PathBuf {
    support::workspace_root()
        .join("tests/fixtures/pprof")
        .join(name)
}

/// `doctor --json --root BOX [--profile PROFILE]`, parsed.
fn doctor(root: &Path, profile: Option<&Path>) -> Value {
    let mut cmd = Command::new(BOXWISE);
    cmd.env_clear().env("PATH", "/usr/bin:/bin");
    cmd.args(["doctor", "--json", "--root"]).arg(root);
    if let Some(p) = profile {
        cmd.arg("--profile").arg(p);
    }
    let out = support::run(&mut cmd);
    serde_json::from_str(&support::stdout_ok(&cmd, &out)).expect("doctor prints JSON")
}

fn ids(doc: &Value) -> BTreeSet<String> {
    doc["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn profile_ids(doc: &Value) -> BTreeSet<String> {
    ids(doc)
        .into_iter()
        .filter(|id| id.starts_with("profile-"))
        .collect()
}

fn find<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {doc:#}"))
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// Writes a CPU profile of the given stacks (root first, CPU time) into `dir`.
fn write_profile(dir: &Path, name: &str, stacks: &[(&[&str], i64)]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, encode(&stacks_profile(stacks))).unwrap();
    path
}

const USER: &[&str] = &["runtime.main", "main.main", "main.work"];
const MARK: &[&str] = &[
    "runtime.gcBgMarkWorker",
    "runtime.gcDrain",
    "runtime.scanobject",
];
const ASSIST: &[&str] = &[
    "main.handler",
    "runtime.mallocgc",
    "runtime.gcAssistAlloc",
    "runtime.gcDrainN",
];
const SCHED: &[&str] = &[
    "runtime.mcall",
    "runtime.park_m",
    "runtime.schedule",
    "runtime.findRunnable",
    "runtime.stealWork",
];
const FUTEX: &[&str] = &["runtime.mstart", "runtime.stopm", "runtime.futex"];
const LOCK: &[&str] = &[
    "main.handler",
    "sync.(*Mutex).Lock",
    "sync.(*Mutex).lockSlow",
];
const WRITE: &[&str] = &[
    "main.handler",
    "internal/poll.(*FD).Write",
    "syscall.write",
    "syscall.Syscall",
];
const ALLOC: &[&str] = &["main.handler", "runtime.makeslice", "runtime.mallocgc"];
const CGO: &[&str] = &["main.handler", "main._Cfunc_compress", "runtime.cgocall"];

/// GC 40% in a box with a 256 MiB limit and no GOMEMLIMIT: the fix sets GOMEMLIMIT.
#[test]
fn gc_heavy_profile_points_at_the_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(
        dir.path(),
        "gc.pb",
        &[(USER, 600 * MS), (MARK, 250 * MS), (ASSIST, 150 * MS)],
    );
    let doc = doctor(&fixture_box("docker-v1"), Some(&p));
    assert_eq!(profile_ids(&doc), set(&["profile-gc-heavy"]), "{doc:#}");
    let f = find(&doc, "profile-gc-heavy");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["title"], "GC is 40% of CPU");
    let evidence = f["evidence"].to_string();
    assert!(evidence.contains("GC is 40% of cpu in"), "{evidence}");
    assert!(evidence.contains("runtime.scanobject 25%"), "{evidence}");
    assert!(evidence.contains("GOMEMLIMIT is not set"), "{evidence}");
    assert!(f["fix"].as_str().unwrap().contains("GOMEMLIMIT="), "{f}");
}

/// Scheduler 20%: with GOMAXPROCS 4 over a 1.5-CPU quota (docker-v1) the finding names
/// GOMAXPROCS; in a box without limits it points at goroutine churn instead.
#[test]
fn scheduler_heavy_profile_links_to_gomaxprocs_above_the_quota() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(
        dir.path(),
        "sched.pb",
        &[(USER, 800 * MS), (SCHED, 120 * MS), (FUTEX, 80 * MS)],
    );
    let doc = doctor(&fixture_box("docker-v1"), Some(&p));
    assert_eq!(profile_ids(&doc), set(&["profile-scheduler-heavy"]));
    let f = find(&doc, "profile-scheduler-heavy");
    let title = f["title"].as_str().unwrap();
    assert!(
        title.starts_with("scheduler and futex are 20% of CPU and GOMAXPROCS 4 exceeds"),
        "{title}"
    );
    assert!(f["fix"].as_str().unwrap().contains("GOMAXPROCS=2"), "{f}");
    assert!(f["evidence"].to_string().contains("cpu quota 1.5"), "{f}");

    let doc = doctor(&fixture_box("no-limits"), Some(&p));
    assert_eq!(ids(&doc), set(&["profile-scheduler-heavy"]), "{doc:#}");
    let f = find(&doc, "profile-scheduler-heavy");
    assert_eq!(f["title"], "scheduler and futex are 20% of CPU");
    assert!(f["fix"].as_str().unwrap().contains("schedtrace"), "{f}");
}

/// Locks 12%, syscalls 35%, allocation 16%, cgo 11%: four findings, the lock one a warning.
#[test]
fn lock_syscall_malloc_and_cgo_shares_each_have_a_rule() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(
        dir.path(),
        "mixed.pb",
        &[
            (USER, 260 * MS),
            (LOCK, 120 * MS),
            (WRITE, 350 * MS),
            (ALLOC, 160 * MS),
            (CGO, 110 * MS),
        ],
    );
    let doc = doctor(&fixture_box("no-limits"), Some(&p));
    assert_eq!(
        ids(&doc),
        set(&[
            "profile-lock-contention",
            "profile-syscall-heavy",
            "profile-malloc-heavy",
            "profile-cgo-heavy",
        ]),
        "{doc:#}"
    );
    assert_eq!(find(&doc, "profile-lock-contention")["severity"], "warning");
    for id in [
        "profile-syscall-heavy",
        "profile-malloc-heavy",
        "profile-cgo-heavy",
    ] {
        assert_eq!(find(&doc, id)["severity"], "info", "{id}");
    }
    // Ranked: the warning before the infos.
    assert_eq!(doc["findings"][0]["id"], "profile-lock-contention");
}

/// Just below every threshold: nothing to say.
#[test]
fn shares_below_the_thresholds_are_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(
        dir.path(),
        "quiet.pb",
        &[
            (USER, 1000 * MS),
            (MARK, 240 * MS),
            (SCHED, 90 * MS),
            (LOCK, 90 * MS),
            (WRITE, 290 * MS),
            (ALLOC, 140 * MS),
            (CGO, 90 * MS),
        ],
    );
    // Shares of 1940 ms: GC 12.4%, scheduler 4.6%, ... all below.
    let doc = doctor(&fixture_box("no-limits"), Some(&p));
    assert_eq!(ids(&doc), set(&[]), "{doc:#}");
}

/// The committed fixtures: the Go 1.19 CPU profile is mostly user code (no profile
/// finding, the box findings unchanged); a heap profile is not CPU time.
#[test]
fn committed_fixture_profiles() {
    let root = fixture_box("docker-v1");
    let without = doctor(&root, None);
    let with = doctor(&root, Some(&pprof_fixture("go119_cpu.pb.gz")));
    assert_eq!(ids(&with), ids(&without));
    assert_eq!(with, without, "a quiet profile leaves the report as it was");

    let doc = doctor(&root, Some(&pprof_fixture("go119_heap.pb.gz")));
    assert_eq!(profile_ids(&doc), set(&["profile-not-cpu"]));
    assert_eq!(find(&doc, "profile-not-cpu")["severity"], "info");
}

/// A profile that cannot be read is an error (one line, exit 1), not a silent skip; and
/// `--profile-seconds` is for URLs.
#[test]
fn unreadable_profile_is_an_error() {
    let out = support::run(
        Command::new(BOXWISE)
            .args(["doctor", "--root"])
            .arg(fixture_box("no-limits"))
            .args(["--profile", "/nonexistent/cpu.pprof"]),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/cpu.pprof"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    let out = support::run(
        Command::new(BOXWISE)
            .args(["doctor", "--root"])
            .arg(fixture_box("no-limits"))
            .args(["--profile"])
            .arg(pprof_fixture("go119_cpu.pb.gz"))
            .args(["--profile-seconds", "5"]),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("URLs only"));
}

/// Text output carries the profile findings too.
#[test]
fn text_output_lists_profile_findings() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(dir.path(), "gc.pb", &[(USER, 500 * MS), (MARK, 500 * MS)]);
    let mut cmd = Command::new(BOXWISE);
    cmd.env_clear().env("PATH", "/usr/bin:/bin");
    cmd.args(["doctor", "--root"])
        .arg(fixture_box("no-limits"))
        .arg("--profile")
        .arg(&p);
    let out = support::run(&mut cmd);
    let text = support::stdout_ok(&cmd, &out);
    assert!(text.contains("profile-gc-heavy"), "{text}");
    assert!(text.contains("GC is 50% of CPU"), "{text}");
}

/// GC heavy with GOMAXPROCS above the quota: the GC's mark workers are sized from Ps, so the
/// fix starts with GOMAXPROCS.
#[test]
fn gc_heavy_profile_with_too_many_procs_fixes_gomaxprocs_first() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(dir.path(), "gc.pb", &[(USER, 600 * MS), (MARK, 400 * MS)]);
    let doc = doctor(&fixture_box("hybrid-systemd"), Some(&p));
    let f = find(&doc, "profile-gc-heavy");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("first set GOMAXPROCS=3"),
        "{f}"
    );
    assert!(
        f["evidence"]
            .to_string()
            .contains("a quarter of GOMAXPROCS"),
        "{f}"
    );
}
