//! The built binary over the fixture trees in `tests/fixtures/`: `inspect --root DIR --json`
//! against the JSON contract, one-line errors for broken files, and `exec --root DIR
//! --dry-run` with the process's own GOMAXPROCS / GOMEMLIMIT.
//!
//! Every command runs with a cleared environment (plus PATH), so the user's GOMAXPROCS,
//! GOMEMLIMIT or BOXWISE_* settings cannot change the outcome.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name);
    dir.canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// `boxwise ARGS` with only PATH and `env` in the environment.
fn boxwise(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_boxwise"));
    cmd.args(args).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd.envs(env.iter().copied());
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run boxwise {args:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

fn show(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn inspect_json(case: &str) -> Value {
    let root = fixture(case);
    let out = boxwise(
        &["inspect", "--root", root.to_str().unwrap(), "--json"],
        &[],
    );
    assert!(out.status.success(), "{case}: {}", show(&out));
    assert!(out.stderr.is_empty(), "{case}: {}", show(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{case}: {e}\n{}", show(&out)))
}

fn at<'a>(doc: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(doc, |v, key| {
        v.get(key).unwrap_or_else(|| panic!("no {path} in {doc:#}"))
    })
}

/// The contract fields of `inspect --json`, per fixture (values worked out in
/// crates/box/tests/fixtures.rs).
struct Expect {
    case: &'static str,
    version: &'static str,
    effective_cores: f64,
    limit_bytes: Option<u64>,
    gomaxprocs: u64,
    gomemlimit_bytes: Option<u64>,
}

const EXPECT: [Expect; 7] = [
    // 150000/100000 = 1.5 CPUs; 256 MiB; ceil(1.5) = 2; floor(0.9 * 268435456).
    Expect {
        case: "docker-v1",
        version: "v1",
        effective_cores: 1.5,
        limit_bytes: Some(268435456),
        gomaxprocs: 2,
        gomemlimit_bytes: Some(241591910),
    },
    // 0.5 CPU; 512 MiB; Go 1.25's minimum of 2.
    Expect {
        case: "v2-private-ns",
        version: "v2",
        effective_cores: 0.5,
        limit_bytes: Some(536870912),
        gomaxprocs: 2,
        gomemlimit_bytes: Some(483183820),
    },
    // Limits on the pod slice: 2 CPUs, 1 GiB.
    Expect {
        case: "k8s-v2-pod-limit",
        version: "v2",
        effective_cores: 2.0,
        limit_bytes: Some(1073741824),
        gomaxprocs: 2,
        gomemlimit_bytes: Some(966367641),
    },
    // 2.5 CPUs from v1 on a hybrid host; ceil(2.5) = 3.
    Expect {
        case: "hybrid-systemd",
        version: "hybrid",
        effective_cores: 2.5,
        limit_bytes: Some(1073741824),
        gomaxprocs: 3,
        gomemlimit_bytes: Some(966367641),
    },
    // memory.max 512 MiB is the limit, but GOMEMLIMIT is 90% of memory.high (384 MiB).
    Expect {
        case: "v2-memory-high",
        version: "v2",
        effective_cores: 4.0,
        limit_bytes: Some(536870912),
        gomaxprocs: 4,
        gomemlimit_bytes: Some(362387865),
    },
    // Only hierarchical_memory_limit (768 MiB) shows the hidden parent's limit.
    Expect {
        case: "v1-hidden-parent",
        version: "v1",
        effective_cores: 4.0,
        limit_bytes: Some(805306368),
        gomaxprocs: 4,
        gomemlimit_bytes: Some(724775731),
    },
    // Nothing limited: null, not 0 or a huge number.
    Expect {
        case: "no-limits",
        version: "v2",
        effective_cores: 2.0,
        limit_bytes: None,
        gomaxprocs: 2,
        gomemlimit_bytes: None,
    },
];

fn int_or_null(v: &Value, what: &str) -> Option<u64> {
    match v {
        Value::Null => None,
        Value::Number(n) => Some(
            n.as_u64()
                .unwrap_or_else(|| panic!("{what}: {n} is not an integer")),
        ),
        other => panic!("{what}: expected an integer or null, found {other}"),
    }
}

#[test]
fn inspect_json_contract_fields() {
    for e in &EXPECT {
        let doc = inspect_json(e.case);
        let case = e.case;
        assert_eq!(
            at(&doc, "cgroup.version").as_str(),
            Some(e.version),
            "{case}"
        );
        let cores = at(&doc, "cpu.effective_cores");
        assert!(cores.is_number(), "{case}: {cores}");
        assert_eq!(cores.as_f64(), Some(e.effective_cores), "{case}");
        assert_eq!(
            int_or_null(at(&doc, "memory.limit_bytes"), "memory.limit_bytes"),
            e.limit_bytes,
            "{case}"
        );
        let procs = at(&doc, "recommendation.gomaxprocs");
        assert!(procs.is_u64(), "{case}: {procs}");
        assert_eq!(procs.as_u64(), Some(e.gomaxprocs), "{case}");
        assert_eq!(
            int_or_null(
                at(&doc, "recommendation.gomemlimit_bytes"),
                "recommendation.gomemlimit_bytes"
            ),
            e.gomemlimit_bytes,
            "{case}"
        );
    }
}

#[test]
fn inspect_json_names_sources_and_runtime() {
    let doc = inspect_json("docker-v1");
    assert_eq!(
        at(&doc, "cpu.quota.source").as_str(),
        Some("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us")
    );
    assert_eq!(
        at(&doc, "memory.limit.kind").as_str(),
        Some("limit_in_bytes")
    );
    assert_eq!(at(&doc, "container.runtime").as_str(), Some("docker"));
    assert_eq!(
        at(&doc, "container.id").as_str(),
        Some("d4ea6b391d44abcefae12044ed7d564cf1b31f48d8190c3ea3f2701020fc498f")
    );
    // Absent values are null, not missing.
    assert!(at(&doc, "memory.high").is_null());
    assert!(at(&doc, "pressure.cpu").is_null());

    let doc = inspect_json("k8s-v2-pod-limit");
    assert_eq!(at(&doc, "container.runtime").as_str(), Some("kubernetes"));
    assert_eq!(at(&doc, "memory.swap_max_bytes").as_u64(), Some(0));
    assert_eq!(at(&doc, "pids.max").as_u64(), Some(4096));
}

/// (fixture under malformed/, the broken file, the bad text as the error quotes it)
const MALFORMED: [(&str, &str, &str); 6] = [
    ("cpu-max", "sys/fs/cgroup/cpu.max", r#""abc 100000"#),
    ("memory-max", "sys/fs/cgroup/memory.max", r#""12k"#),
    (
        "mountinfo",
        "proc/self/mountinfo",
        r#""1022 1021 0:30 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime cgroup2"#,
    ),
    ("cgroup", "proc/self/cgroup", r#""garbage""#),
    ("status", "proc/self/status", r#""0-x""#),
    (
        "cpu-stat",
        "sys/fs/cgroup/cpu.stat",
        r#"nr_periods: expected an unsigned integer, found "x""#,
    ),
];

/// A broken file is exit status 1 and one stderr line that names the file and quotes the bad
/// text once; no panic, nothing on stdout.
#[test]
fn inspect_malformed_is_one_line_error() {
    for (case, file, bad) in MALFORMED {
        let root = fixture(&format!("malformed/{case}"));
        for json in [true, false] {
            let mut args = vec!["inspect", "--root", root.to_str().unwrap()];
            if json {
                args.push("--json");
            }
            let out = boxwise(&args, &[]);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{case}: {}", show(&out));
            assert!(out.stdout.is_empty(), "{case}: {}", show(&out));
            assert!(!err.contains("panicked"), "{case}: {err}");
            assert_eq!(err.lines().count(), 1, "{case}: {err:?}");
            assert!(err.starts_with("boxwise: "), "{case}: {err:?}");
            let path = root.join(file);
            assert!(err.contains(&path.display().to_string()), "{case}: {err:?}");
            assert!(err.contains(bad), "{case}: {err:?} does not quote {bad}");
            assert_eq!(
                err.matches(bad).count(),
                1,
                "{case}: the bad text should be quoted once: {err:?}"
            );
        }
    }
}

fn dry_run(case: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let root = fixture(case);
    let mut args = vec!["exec", "--root", root.to_str().unwrap(), "--dry-run"];
    args.extend_from_slice(extra);
    boxwise(&args, env)
}

#[test]
fn exec_dry_run_exports() {
    let cases = [
        (
            "docker-v1",
            "export GOMAXPROCS=2\nexport GOMEMLIMIT=241591910\n",
        ),
        (
            "hybrid-systemd",
            "export GOMAXPROCS=3\nexport GOMEMLIMIT=966367641\n",
        ),
        (
            "v2-memory-high",
            "export GOMAXPROCS=4\nexport GOMEMLIMIT=362387865\n",
        ),
        // The fixture's own environ says GOMAXPROCS=2; exec goes by its own environment,
        // which has none, so both are set.
        (
            "k8s-v2-pod-limit",
            "export GOMAXPROCS=2\nexport GOMEMLIMIT=966367641\n",
        ),
        (
            "no-limits",
            "export GOMAXPROCS=2\n# GOMEMLIMIT unset (no memory limit)\n",
        ),
    ];
    for (case, want) in cases {
        let out = dry_run(case, &[], &[]);
        assert!(out.status.success(), "{case}: {}", show(&out));
        assert_eq!(text(&out.stdout), want, "{case}");
        assert!(out.stderr.is_empty(), "{case}: {}", show(&out));
    }
}

#[test]
fn exec_dry_run_policy_flags_and_env() {
    // floor(1.5) = 1
    let out = dry_run("docker-v1", &["--cpu-policy", "floor"], &[]);
    assert_eq!(
        text(&out.stdout),
        "export GOMAXPROCS=1\nexport GOMEMLIMIT=241591910\n"
    );
    let out = dry_run("docker-v1", &[], &[("BOXWISE_CPU_POLICY", "floor")]);
    assert_eq!(
        text(&out.stdout),
        "export GOMAXPROCS=1\nexport GOMEMLIMIT=241591910\n"
    );
    // 0.5 * 268435456
    let out = dry_run("docker-v1", &["--memory-ratio", "0.5"], &[]);
    assert_eq!(
        text(&out.stdout),
        "export GOMAXPROCS=2\nexport GOMEMLIMIT=134217728\n"
    );
}

/// A GOMAXPROCS the user set in exec's own environment is kept: no export line for it.
#[test]
fn exec_keeps_the_users_gomaxprocs() {
    let out = dry_run("docker-v1", &[], &[("GOMAXPROCS", "3")]);
    assert!(out.status.success(), "{}", show(&out));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("export GOMAXPROCS"), "{stdout}");
    assert_eq!(
        stdout,
        "export GOMEMLIMIT=241591910\n# GOMAXPROCS=3 (kept from the environment; the box suggests 2)\n"
    );
}

/// A GOMEMLIMIT Go cannot parse (`400m`: Go wants `400MiB`) is reported, never replaced or
/// passed on silently; in dry-run it still exits 0 unless --strict.
#[test]
fn exec_reports_a_malformed_gomemlimit() {
    let env = [("GOMEMLIMIT", "400m")];
    let out = dry_run("docker-v1", &[], &env);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(err.contains("malformed"), "{err:?}");
    assert!(err.contains("400m"), "{err:?}");
    assert_eq!(err.lines().count(), 1, "{err:?}");
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("export GOMAXPROCS=2\n"), "{stdout}");
    assert!(!stdout.contains("export GOMEMLIMIT"), "{stdout}");

    let out = dry_run("docker-v1", &["--strict"], &env);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(text(&out.stderr).contains("malformed"), "{}", show(&out));
    assert!(out.stdout.is_empty(), "{}", show(&out));
}

/// Detection failing never stops exec (it warns and sets nothing) unless --strict.
#[test]
fn exec_with_a_broken_tree() {
    let root = fixture("malformed/cpu-max");
    let path = root.join("sys/fs/cgroup/cpu.max").display().to_string();
    let out = dry_run("malformed/cpu-max", &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        text(&out.stdout),
        "# boxwise: limits unknown, nothing to set\n"
    );
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.contains(&path) && err.contains("abc 100000"), "{err:?}");

    let out = dry_run("malformed/cpu-max", &["--strict"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.contains(&path), "{err:?}");
    assert!(out.stdout.is_empty(), "{}", show(&out));

    // exec reads no statistics, so a broken cpu.stat does not matter to it.
    let out = dry_run("malformed/cpu-stat", &["--strict"], &[]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        text(&out.stdout),
        "export GOMAXPROCS=2\nexport GOMEMLIMIT=483183820\n"
    );
}

/// Without --dry-run the command runs with the settings in its environment.
#[test]
fn exec_runs_the_command_with_the_settings() {
    let root = fixture("docker-v1");
    let out = boxwise(
        &[
            "exec",
            "--root",
            root.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "echo \"$GOMAXPROCS $GOMEMLIMIT\"",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(text(&out.stdout), "2 241591910\n");
    assert_eq!(
        text(&out.stderr),
        "boxwise: GOMAXPROCS=2 (cpu quota 1.5), GOMEMLIMIT=241591910 (90% of memory.limit_in_bytes 256 MiB)\n"
    );
}

/// What could not be read is "unknown", not "none": the trees have no `/proc/1/ns`, and
/// mnt/net have no fixed initial inode to compare with. A hidden parent is "none seen".
#[test]
fn inspect_text_says_unknown_and_hidden() {
    let run = |case: &str| {
        let root = fixture(case);
        let out = boxwise(&["inspect", "--root", root.to_str().unwrap()], &[]);
        assert!(out.status.success(), "{case}: {}", show(&out));
        text(&out.stdout)
    };
    let t = run("odd-period-1s");
    assert!(
        t.contains(
            "namespaces       differ from PID 1: unknown; not the host's: cgroup,ipc,pid,uts (unknown: mnt,net)"
        ),
        "{t}"
    );
    let t = run("v1-hidden-parent");
    assert!(
        t.contains("  quota      none seen (parents hidden)\n"),
        "{t}"
    );
    assert!(
        t.contains("Parents hidden:") && t.contains("a CPU quota set on a parent"),
        "{t}"
    );
    assert!(
        t.contains("no cpu quota seen, parent cgroups hidden; 4 CPUs allowed"),
        "{t}"
    );
}
