//! `exec` and Go 1.25+: GOMAXPROCS is left to a runtime that picks the recommended number by
//! itself from its own cgroup (it then follows later changes, which a set GOMAXPROCS stops),
//! and set wherever that runtime would get it wrong. Real Go 1.25 and 1.26 (and 1.23 / 1.19 as
//! contrast) in real cgroups, in fixture roots and in Docker.
//!
//! The probe prints `cgroupfds=`: the cgroup CPU files it holds open. With containermaxprocs
//! on, Go 1.25+ keeps the quota files of the cgroup it found open (to follow changes), so that
//! line shows which cgroup the runtime reads, which GOMAXPROCS cannot show on this 2-CPU
//! machine (every quota gives 2 there).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{ProbeReport, TestCgroup};

const GO125: &str = "/opt/boxwise-go/go-1.25/bin/go";
const GO126: &str = "/opt/boxwise-go/go-1.26/bin/go";
const GO123: &str = "/usr/lib/go-1.23/bin/go";

fn boxwise() -> &'static str {
    env!("CARGO_BIN_EXE_boxwise")
}

/// `tests/go/<dir>` built with `go`; `None` (skip, or fail in CI) without that toolchain.
fn probe(go: &str, dir: &str) -> Option<PathBuf> {
    let label = Path::new(go).parent()?.parent()?.file_name()?.to_str()?;
    support::build_go_program_with(Path::new(go), dir, label)
}

/// The probe built from a module whose go line says 1.25, with Go 1.25 and 1.26.
fn container_aware_probes() -> Option<Vec<(&'static str, PathBuf)>> {
    Some(vec![
        ("go1.25.", probe(GO125, "probe-go125")?),
        ("go1.26.", probe(GO126, "probe-go125")?),
    ])
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn show(cmd: &Command, out: &Output) -> String {
    format!(
        "{cmd:?}: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// Runs `boxwise exec [flags] -- program` inside `cg` with a clean Go environment plus `env`;
/// returns the probe's report and exec's log line.
fn exec_in(
    cg: &TestCgroup,
    flags: &[&str],
    program: &Path,
    env: &[(&str, &str)],
) -> (ProbeReport, String) {
    let mut cmd = cg.command(boxwise());
    cmd.arg("exec").args(flags).arg("--").arg(program);
    clean_env(&mut cmd, env);
    let out = support::run(&mut cmd);
    let stdout = support::stdout_ok(&cmd, &out);
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.lines().count(),
        1,
        "one log line: {}",
        show(&cmd, &out)
    );
    (ProbeReport::parse(&stdout), stderr.trim_end().to_string())
}

/// The probe alone in `cg`: what its runtime picks by itself.
fn alone_in(cg: &TestCgroup, program: &Path, env: &[(&str, &str)]) -> ProbeReport {
    let mut cmd = cg.command(program);
    clean_env(&mut cmd, env);
    let out = support::run(&mut cmd);
    ProbeReport::parse(&support::stdout_ok(&cmd, &out))
}

fn clean_env(cmd: &mut Command, env: &[(&str, &str)]) {
    for k in [
        "GOMAXPROCS",
        "GOMEMLIMIT",
        "GODEBUG",
        "BOXWISE_CPU_POLICY",
        "BOXWISE_MIN_PROCS",
        "BOXWISE_MEMORY_RATIO",
    ] {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().copied());
}

/// The quota files of `dir` as the probe lists them (v1: quota and period; v2: cpu.max).
fn quota_files(cg: &TestCgroup, dir: &Path) -> String {
    match cg.kind() {
        support::CgroupKind::V1 => format!(
            "{},{}",
            dir.join("cpu.cfs_quota_us").display(),
            dir.join("cpu.cfs_period_us").display()
        ),
        support::CgroupKind::V2 => dir.join("cpu.max").display().to_string(),
    }
}

// What Go 1.25+ (and boxwise's go125 policy) picks under a quota: ceil, at least 2, at most
// the CPUs it may run on. The expected numbers below are worked out by hand for 2 or more CPUs
// (affinity); the tests that need that start with `support::two_cpus_or_skip()`.

#[test]
#[ignore = "needs root and cgroups, Go"]
fn quota_on_the_leaf_is_left_to_go_1_25_and_1_26() {
    if !support::two_cpus_or_skip() {
        return;
    }
    let Some(probes) = container_aware_probes() else {
        return;
    };
    let Some(cg) = TestCgroup::create_or_skip() else {
        return;
    };
    cg.set_cpu_quota(1.5);
    let expected = 2; // min(affinity >= 2, max(2, ceil(1.5) = 2))
    for (version, p) in &probes {
        let alone = alone_in(&cg, p, &[]);
        assert_eq!(alone.int("gomaxprocs"), expected, "{version}");
        // The runtime reads (and keeps open) the leaf's own quota files.
        assert_eq!(
            alone.get("cgroupfds"),
            quota_files(&cg, cg.cpu_dir()),
            "{version}"
        );

        let (r, log) = exec_in(&cg, &[], p, &[]);
        assert_eq!(r.get("GOMAXPROCS"), "", "left unset for {version}: {log}");
        assert_eq!(r.int("gomaxprocs"), expected, "{log}");
        assert_eq!(r.get("cgroupfds"), quota_files(&cg, cg.cpu_dir()), "{log}");
        assert!(
            log.starts_with(&format!("boxwise: GOMAXPROCS left unset ({version}")),
            "{log}"
        );
        assert!(
            log.contains(&format!(
                " picks {expected} itself from cpu quota 1.5 on its own cgroup and follows later changes), GOMEMLIMIT"
            )),
            "{log}"
        );

        // --dry-run says the same as a comment, with nothing exported for GOMAXPROCS.
        let mut cmd = cg.command(boxwise());
        cmd.args(["exec", "--dry-run", "--"]).arg(p);
        clean_env(&mut cmd, &[]);
        let out = support::run(&mut cmd);
        let dry = support::stdout_ok(&cmd, &out);
        assert!(!dry.contains("export GOMAXPROCS"), "{dry}");
        assert!(
            dry.lines().any(
                |l| l.starts_with(&format!("# GOMAXPROCS left unset ({version}"))
                    && l.ends_with("on its own cgroup and follows later changes)")
            ),
            "{dry}"
        );
    }
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn quota_on_a_parent_only_is_set() {
    if !support::two_cpus_or_skip() {
        return;
    }
    let Some(probes) = container_aware_probes() else {
        return;
    };
    let Some(parent) = TestCgroup::create_or_skip() else {
        return;
    };
    parent.set_cpu_quota(1.0);
    let leaf = parent.child();
    let cpus = support::affinity_count() as i64;
    for (version, p) in &probes {
        // Alone, the runtime reads only the leaf, which has no quota: the CPU count.
        let alone = alone_in(&leaf, p, &[]);
        assert_eq!(alone.int("gomaxprocs"), cpus, "{version}");
        assert_eq!(alone.get("cgroupfds"), quota_files(&leaf, leaf.cpu_dir()));

        let (r, log) = exec_in(&leaf, &[], p, &[]);
        // min(affinity >= 2, max(2, ceil(1.0) = 1)) = 2
        assert_eq!(r.get("GOMAXPROCS"), "2", "{log}");
        assert_eq!(r.int("gomaxprocs"), 2, "{log}");
        assert!(
            log.starts_with(&format!(
                "boxwise: GOMAXPROCS=2 (cpu quota 1; 2, not 1, so the GC does not stall the program; on a parent cgroup, which {version}"
            )) && log.contains(" does not read), GOMEMLIMIT"),
            "{log}"
        );

        // With --min-procs 1 the parent's 1 CPU shows: the runtime alone would take them all.
        let (r, log) = exec_in(&leaf, &["--min-procs", "1"], p, &[]);
        assert_eq!(r.get("GOMAXPROCS"), "1", "{log}");
        assert_eq!(r.int("gomaxprocs"), 1, "{log}");

        let mut cmd = leaf.command(boxwise());
        cmd.args(["exec", "--dry-run", "--"]).arg(p);
        clean_env(&mut cmd, &[]);
        let out = support::run(&mut cmd);
        let dry = support::stdout_ok(&cmd, &out);
        let first = dry.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!(
                "export GOMAXPROCS=2  # cpu quota 1; 2, not 1, so the GC does not stall the program; on a parent cgroup, which {version}"
            )) && first.ends_with(" does not read"),
            "{dry}"
        );
    }
    drop(leaf);
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn containermaxprocs_off_in_godebug_is_set() {
    if !support::two_cpus_or_skip() {
        return;
    }
    let Some(probes) = container_aware_probes() else {
        return;
    };
    let Some(cg) = TestCgroup::create_or_skip() else {
        return;
    };
    cg.set_cpu_quota(1.5);
    let godebug = [("GODEBUG", "gctrace=0,containermaxprocs=0")];
    for (version, p) in &probes {
        // Off: the runtime does not keep the quota files open.
        assert_eq!(alone_in(&cg, p, &godebug).get("cgroupfds"), "", "{version}");
        let (r, log) = exec_in(&cg, &[], p, &godebug);
        // min(affinity >= 2, max(2, ceil(1.5) = 2)) = 2
        assert_eq!(r.get("GOMAXPROCS"), "2", "{log}");
        assert!(
            log.contains(&format!("(cpu quota 1.5; {version}"))
                && log.contains(" runs with GODEBUG containermaxprocs=0)"),
            "{log}"
        );
        // Turned back on over an old go line's DefaultGODEBUG: left to the runtime again.
        let (r, log) = exec_in(&cg, &[], p, &[("GODEBUG", "containermaxprocs=1")]);
        assert_eq!(r.get("GOMAXPROCS"), "", "{log}");
    }
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn go_1_25_from_a_go_1_24_module_is_set() {
    if !support::two_cpus_or_skip() {
        return;
    }
    let (Some(p125), Some(p126)) = (probe(GO125, "probe-go124"), probe(GO126, "probe-go124"))
    else {
        return;
    };
    let Some(cg) = TestCgroup::create_or_skip() else {
        return;
    };
    cg.set_cpu_quota(1.5);
    for (version, p) in [("go1.25.", p125), ("go1.26.", p126)] {
        assert_eq!(alone_in(&cg, &p, &[]).get("cgroupfds"), "", "{version}");
        let (r, log) = exec_in(&cg, &[], &p, &[]);
        // min(affinity >= 2, max(2, ceil(1.5) = 2)) = 2
        assert_eq!(r.get("GOMAXPROCS"), "2", "{log}");
        assert!(
            log.contains(" has containermaxprocs=0 in its DefaultGODEBUG, as the go line in its go.mod is below 1.25"),
            "{log}"
        );
        // GODEBUG overrides DefaultGODEBUG: on again, so left to the runtime.
        let on = [("GODEBUG", "containermaxprocs=1")];
        assert_eq!(
            alone_in(&cg, &p, &on).get("cgroupfds"),
            quota_files(&cg, cg.cpu_dir())
        );
        let (r, log) = exec_in(&cg, &[], &p, &on);
        assert_eq!(r.get("GOMAXPROCS"), "", "{log}");
        assert!(log.starts_with("boxwise: GOMAXPROCS left unset ("), "{log}");
    }
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn floor_policy_is_set_where_it_differs() {
    if !support::two_cpus_or_skip() {
        return;
    }
    let Some(probes) = container_aware_probes() else {
        return;
    };
    let Some(cg) = TestCgroup::create_or_skip() else {
        return;
    };
    cg.set_cpu_quota(1.5);
    for (version, p) in &probes {
        // floor(1.5) = 1; the runtime would pick 2.
        let (r, log) = exec_in(&cg, &["--cpu-policy", "floor"], p, &[]);
        assert_eq!(r.get("GOMAXPROCS"), "1", "{log}");
        assert_eq!(r.int("gomaxprocs"), 1, "{log}");
        assert!(
            log.contains(&format!(
                "GOMAXPROCS=1 (cpu quota 1.5, policy floor; {version}"
            )) && log.contains(" alone would pick 2, the floor policy gives 1)"),
            "{log}"
        );
        let (r, _) = exec_in(&cg, &[], p, &[("BOXWISE_CPU_POLICY", "floor")]);
        assert_eq!(r.get("GOMAXPROCS"), "1");
    }
    // floor(2) = 2 = ceil(2): the same number, so the runtime keeps it and follows changes.
    cg.set_cpu_quota(2.0);
    for (_, p) in &probes {
        let (r, log) = exec_in(&cg, &["--cpu-policy", "floor"], p, &[]);
        assert_eq!(r.get("GOMAXPROCS"), "", "{log}");
    }
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn go_before_1_25_is_always_set() {
    if !support::two_cpus_or_skip() {
        return;
    }
    let (Some(p123), Some(p119)) = (probe(GO123, "probe"), support::build_go_probe()) else {
        return;
    };
    let Some(cg) = TestCgroup::create_or_skip() else {
        return;
    };
    cg.set_cpu_quota(1.5);
    for (version, p) in [("go1.23.", p123), ("go1.19.", p119)] {
        let (r, log) = exec_in(&cg, &[], &p, &[]);
        // min(affinity >= 2, max(2, ceil(1.5) = 2)) = 2
        assert_eq!(r.get("GOMAXPROCS"), "2", "{log}");
        assert!(
            log.starts_with(&format!("boxwise: GOMAXPROCS=2 (cpu quota 1.5; {version}"))
                && log.contains(" does not read cgroup limits), GOMEMLIMIT"),
            "{log}"
        );
        assert_eq!(r.get("cgroupfds"), "");
    }
}

/// Fixture roots, no privileges: Docker on v1 (mount root `/docker/<id>`) is where Go 1.25
/// misses its own cgroup (golang/go#76390) and Go 1.26 finds it; on the Kubernetes pod
/// fixture the quota is on the pod slice.
#[test]
#[ignore = "needs Go"]
fn dry_run_in_fixture_roots() {
    let Some(probes) = container_aware_probes() else {
        return;
    };
    let fixtures = support::workspace_root().join("tests/fixtures");
    let dry = |case: &str, p: &Path| -> String {
        let mut cmd = Command::new(boxwise());
        cmd.args(["exec", "--root"])
            .arg(fixtures.join(case))
            .args(["--dry-run", "--"])
            .arg(p);
        clean_env(&mut cmd, &[]);
        let out = support::run(&mut cmd);
        support::stdout_ok(&cmd, &out)
    };
    let id = "d4ea6b391d44abcefae12044ed7d564cf1b31f48d8190c3ea3f2701020fc498f";
    let (v125, p125) = &probes[0];
    let (v126, p126) = &probes[1];

    let out = dry("docker-v1", p125);
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("export GOMAXPROCS=2  # cpu quota 1.5; {v125}"))
            && first.ends_with(&format!(
                " looks for its cgroup at /sys/fs/cgroup/cpu,cpuacct/docker/{id}, which is not it (golang/go#76390)"
            )),
        "{out}"
    );
    let out = dry("docker-v1", p126);
    assert!(out.starts_with("export GOMEMLIMIT=241591910\n"), "{out}");
    assert!(
        out.contains(&format!("\n# GOMAXPROCS left unset ({v126}"))
            && out.contains(
                " picks 2 itself from cpu quota 1.5 on its own cgroup and follows later changes)\n"
            ),
        "{out}"
    );

    for (version, p) in &probes {
        let out = dry("k8s-v2-pod-limit", p);
        assert!(
            out.starts_with(&format!(
                "export GOMAXPROCS=2  # cpu quota 2; on a parent cgroup, which {version}"
            )),
            "{out}"
        );
    }
}

/// A program boxwise cannot read as Go (a script, a missing file) gets GOMAXPROCS set as
/// before, with exactly the old log line and no warning.
#[test]
fn unreadable_programs_fall_back_quietly() {
    let root = support::workspace_root().join("tests/fixtures/docker-v1");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script");
    std::fs::write(&script, "#!/bin/sh\necho \"$GOMAXPROCS\"\n").unwrap();
    let mut perms = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).unwrap();

    let mut cmd = Command::new(boxwise());
    cmd.args(["exec", "--root"])
        .arg(&root)
        .arg("--")
        .arg(&script);
    clean_env(&mut cmd, &[]);
    let out = support::run(&mut cmd);
    assert_eq!(support::stdout_ok(&cmd, &out), "2\n");
    assert_eq!(
        text(&out.stderr),
        "boxwise: GOMAXPROCS=2 (cpu quota 1.5), GOMEMLIMIT=241591910 (90% of memory.limit_in_bytes 256 MiB)\n"
    );

    // Found through PATH the way execvp finds it.
    let mut cmd = Command::new(boxwise());
    cmd.args(["exec", "--root"])
        .arg(&root)
        .args(["--", "script"])
        .env("PATH", dir.path());
    clean_env(&mut cmd, &[]);
    let out = support::run(&mut cmd);
    assert_eq!(support::stdout_ok(&cmd, &out), "2\n");

    let mut cmd = Command::new(boxwise());
    cmd.args(["exec", "--root"])
        .arg(&root)
        .args(["--dry-run", "--", "/nonexistent/program"]);
    clean_env(&mut cmd, &[]);
    let out = support::run(&mut cmd);
    assert_eq!(
        support::stdout_ok(&cmd, &out),
        "export GOMAXPROCS=2\nexport GOMEMLIMIT=241591910\n"
    );
    // Only the note that the command is not run: nothing about the unreadable program.
    assert_eq!(
        text(&out.stderr),
        "boxwise: --dry-run: not running the command; these are the settings it would get\n"
    );
}

/// golang/go#76390 measured: Docker on this v1 host gives containers the host's cgroup
/// namespace and mounts each hierarchy with root `/docker/<id>`. Go 1.25 then finds no cgroup
/// (no quota files open), Go 1.26 reads its own; exec sets GOMAXPROCS for the first only.
#[test]
#[ignore = "needs Docker on cgroup v1, Go"]
fn docker_v1_mount_root() {
    if !support::two_cpus_or_skip() {
        return;
    }
    let Some(probes) = container_aware_probes() else {
        return;
    };
    if !support::docker_or_skip() {
        return;
    }
    if support::docker_cgroup_version() != "1" {
        support::require(false, "golang/go#76390 needs Docker on cgroup v1");
        return;
    }
    let bin = support::static_boxwise();
    let image = support::DockerImage::build_scratch(
        &[
            (bin.as_path(), "boxwise"),
            (probes[0].1.as_path(), "p125"),
            (probes[1].1.as_path(), "p126"),
        ],
        "",
    );
    let run = |args: &[&str]| -> (ProbeReport, String) {
        let (cmd, out) = image.run(&["--cpus", "1"], args);
        let stdout = support::stdout_ok(&cmd, &out);
        (ProbeReport::parse(&stdout), text(&out.stderr))
    };
    let (v125, v126) = (probes[0].0, probes[1].0);

    // Alone: 1.25 opens no cgroup file, 1.26 its own (the container's) quota.
    let (alone, _) = run(&["/p125"]);
    assert_eq!(alone.get("cgroupfds"), "", "{v125} in Docker v1");
    let (alone, _) = run(&["/p126"]);
    assert!(
        alone.get("cgroupfds").ends_with("/cpu.cfs_period_us"),
        "{v126} reads its quota: {:?}",
        alone.0
    );

    let (r, log) = run(&["/boxwise", "exec", "--", "/p125"]);
    // --cpus 1: min(affinity >= 2, max(2, ceil(1.0) = 1)) = 2
    assert_eq!(r.get("GOMAXPROCS"), "2", "{log}");
    assert!(log.contains("(golang/go#76390)"), "{log}");
    let (r, log) = run(&["/boxwise", "exec", "--", "/p126"]);
    assert_eq!(r.get("GOMAXPROCS"), "", "{log}");
    assert!(
        log.starts_with(&format!("boxwise: GOMAXPROCS left unset ({v126}")),
        "{log}"
    );
}

/// `doctor` judges a Go 1.25 binary by the same rule (`box::policy::runtime_gomaxprocs`).
#[test]
#[ignore = "needs root and cgroups, Go"]
fn doctor_uses_the_same_rule() {
    if !support::two_cpus_or_skip() {
        return;
    }
    let Some(p125) = probe(GO125, "probe-go125") else {
        return;
    };
    let Some(parent) = TestCgroup::create_or_skip() else {
        return;
    };
    parent.set_cpu_quota(1.5);
    let leaf = parent.child();
    let reason = |cg: &TestCgroup| -> (i64, String) {
        let mut cmd = cg.command(boxwise());
        cmd.args(["doctor", "--json", "--binary"]).arg(&p125);
        clean_env(&mut cmd, &[]);
        let out = support::run(&mut cmd);
        let doc: serde_json::Value =
            serde_json::from_str(&support::stdout_ok(&cmd, &out)).expect("doctor JSON");
        (
            doc["effective_gomaxprocs"].as_i64().unwrap(),
            doc["effective_gomaxprocs_reason"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    };
    let (n, why) = reason(&parent);
    assert_eq!(n, 2); // min(affinity >= 2, max(2, ceil(1.5) = 2))
    assert!(
        why.starts_with("go1.25.")
            && why.ends_with(" rounds its own cgroup's quota up, at least 2: 2"),
        "{why}"
    );
    let (n, why) = reason(&leaf);
    assert_eq!(n, support::affinity_count() as i64);
    assert!(
        why.ends_with(&format!(
            " reads only its own cgroup, which sets no quota, and uses the {n} CPUs it may run on"
        )),
        "{why}"
    );
    drop(leaf);
}
