//! boxwise against the peer it replaces: uber-go/automaxprocs (Debian's
//! golang-uber-automaxprocs-dev), in the same real cgroups. With `--cpu-policy floor`
//! boxwise must give exactly automaxprocs' answer where automaxprocs is right, and the
//! right answer where it is wrong: a quota on a parent cgroup only (automaxprocs reads the
//! leaf) and a quota above the CPU count (automaxprocs does not cap).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use support::{ProbeReport, TestCgroup, require};

const BOXWISE: &str = env!("CARGO_BIN_EXE_boxwise");
const GOCODE: &str = "/usr/share/gocode/src/go.uber.org/automaxprocs";

/// Builds tests/go/automaxprocs against Debian's copy of the library (GOPATH mode: the
/// module proxy is out of reach).
fn peer_binary() -> Option<PathBuf> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(|| {
        let have_go = Command::new("go")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !require(have_go, "`go` is not installed (apt-get install golang-go)")
            || !require(
                Path::new(GOCODE).exists(),
                "automaxprocs is not installed (apt-get install golang-uber-automaxprocs-dev)",
            )
        {
            return None;
        }
        let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-bin");
        std::fs::create_dir_all(&out_dir).unwrap();
        let dest = out_dir.join(format!("automaxprocs.{}", std::process::id()));
        let src = support::workspace_root().join("tests/go/automaxprocs");
        let mut cmd = Command::new("go");
        cmd.current_dir(&src)
            .args(["build", "-o"])
            .arg(&dest)
            .arg("main.go")
            .env("GO111MODULE", "off")
            .env("GOPATH", "/usr/share/gocode")
            .env("CGO_ENABLED", "0")
            .env("GOCACHE", out_dir.join("gocache"))
            .env("GOFLAGS", "");
        let out = support::run(&mut cmd);
        support::stdout_ok(&cmd, &out);
        Some(dest)
    })
    .clone()
}

/// GOMAXPROCS chosen by automaxprocs and by `boxwise exec --cpu-policy floor` in `cg`.
fn both(cg: &TestCgroup) -> Option<(i64, i64)> {
    let peer = peer_binary()?;
    let probe = support::build_go_probe()?;
    let mut theirs = cg.command(&peer);
    theirs.env_remove("GOMAXPROCS");
    let theirs_out = support::run(&mut theirs);
    let theirs = ProbeReport::parse(&support::stdout_ok(&theirs, &theirs_out)).int("gomaxprocs");
    let mut ours = cg.command(BOXWISE);
    ours.args(["exec", "--quiet", "--cpu-policy", "floor", "--"])
        .arg(&probe)
        .env_remove("GOMAXPROCS");
    let ours_out = support::run(&mut ours);
    let ours = ProbeReport::parse(&support::stdout_ok(&ours, &ours_out)).int("gomaxprocs");
    Some((theirs, ours))
}

#[test]
#[ignore = "needs root and cgroups, Go, automaxprocs sources"]
fn floor_matches_automaxprocs_on_a_leaf_quota() {
    let Some(cg) = TestCgroup::create_or_skip() else {
        return;
    };
    // 1.5 CPUs: automaxprocs rounds down to 1; so must boxwise's floor policy.
    cg.set_cpu_quota(1.5);
    let Some((theirs, ours)) = both(&cg) else {
        return;
    };
    assert_eq!(theirs, 1, "automaxprocs under 1.5 CPUs");
    assert_eq!(ours, theirs);
}

#[test]
#[ignore = "needs root and cgroups, Go, automaxprocs sources"]
fn automaxprocs_misses_a_parent_quota_boxwise_does_not() {
    let Some(parent) = TestCgroup::create_or_skip() else {
        return;
    };
    parent.set_cpu_quota(1.0);
    let leaf = parent.child();
    let Some((theirs, ours)) = both(&leaf) else {
        return;
    };
    // automaxprocs reads only the leaf, finds no quota and leaves GOMAXPROCS at the CPU
    // count; the parent's 1-CPU quota still throttles the leaf.
    assert_eq!(
        theirs,
        support::affinity_count() as i64,
        "automaxprocs ignores the parent"
    );
    assert_eq!(ours, 1, "boxwise takes the lowest quota over the ancestors");
    drop(leaf);
}

#[test]
#[ignore = "needs root and cgroups, Go, automaxprocs sources"]
fn automaxprocs_exceeds_the_cpu_count_boxwise_caps_it() {
    let Some(cg) = TestCgroup::create_or_skip() else {
        return;
    };
    let cpus = support::affinity_count() as f64;
    cg.set_cpu_quota(cpus * 2.0);
    let Some((theirs, ours)) = both(&cg) else {
        return;
    };
    assert_eq!(
        theirs,
        (cpus * 2.0) as i64,
        "automaxprocs does not cap by the CPUs allowed"
    );
    assert_eq!(ours, cpus as i64);
}
