//! What a Go runtime picks by itself in each fixture box, and whether `exec` leaves
//! GOMAXPROCS to it. Expected values are worked out by hand from the fixtures (README there)
//! and the runtime's rule (runtime/cgroup_linux.go: its own cgroup's quota, rounded up, at
//! least 2, at most the CPU count; Go 1.25 appends the cgroup path to the mount point,
//! golang/go#76390).

use std::path::{Path, PathBuf};

use boxwise_box::BoxInfo;
use boxwise_box::goenv::GoEnv;
use boxwise_box::host::Host;
use boxwise_box::plan::{self, Handover};
use boxwise_box::policy::{self, CpuPolicy, GoRuntime, Options, PickBasis};
use boxwise_box::probe::{self, Detail, Target};

const DOCKER_V1_ID: &str = "d4ea6b391d44abcefae12044ed7d564cf1b31f48d8190c3ea3f2701020fc498f";

fn load(name: &str) -> BoxInfo {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name);
    probe::probe(
        &Host::new(root),
        &Target {
            pid: None,
            detail: Detail::Limits,
            own_env: None,
        },
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn go(version: &str, minor: u32) -> GoRuntime {
    GoRuntime::new(version, (1, minor), None, None)
}

const GO125: &str = "go1.25.12";
const GO126: &str = "go1.26.11";

fn handover(b: &BoxInfo, policy: CpuPolicy, min_procs: Option<u32>, rt: &GoRuntime) -> Handover {
    let rec = policy::recommend(
        b,
        &Options {
            cpu_policy: policy,
            min_procs,
            ..Options::default()
        },
    );
    plan::handover(b, &rec, Some(rt))
}

fn leave(why: &str) -> Handover {
    Handover::Leave { why: why.into() }
}

fn set(why: &str) -> Handover {
    Handover::Set {
        why: Some(why.into()),
    }
}

#[test]
fn runtime_settings_from_defaultgodebug_and_godebug() {
    let old_go_line = Some("containermaxprocs=0,decoratemappings=0,updatemaxprocs=0");
    let rt = GoRuntime::new("go1.25.12 X:nocoverageredesign", (1, 25), old_go_line, None);
    assert_eq!(rt.version, "go1.25.12");
    assert!(!rt.container_aware && !rt.updates);
    assert_eq!(rt.disabled_by, Some("DefaultGODEBUG"));
    // GODEBUG is applied over DefaultGODEBUG.
    let rt = GoRuntime::new(GO125, (1, 25), old_go_line, Some("containermaxprocs=1"));
    assert!(rt.container_aware && !rt.updates);
    let rt = GoRuntime::new(GO126, (1, 26), None, Some("gctrace=1,containermaxprocs=0"));
    assert!(!rt.container_aware && rt.updates);
    assert_eq!(rt.disabled_by, Some("GODEBUG"));
    // Before 1.25 the settings do not exist.
    let rt = GoRuntime::new("go1.23.12", (1, 23), None, Some("containermaxprocs=1"));
    assert!(!rt.container_aware && !rt.updates && rt.disabled_by.is_none());
}

/// docker-v1: quota 1.5 on the container's own cgroup, 4 CPUs, mount roots `/docker/<id>`.
#[test]
fn docker_v1_mount_root() {
    let b = load("docker-v1");
    // Go 1.25 looks at mount point + /proc/self/cgroup path, which does not exist in the
    // container, and keeps the 4 CPUs.
    let pick = policy::runtime_gomaxprocs(&b, &go(GO125, 25));
    let looks_at = PathBuf::from(format!("/sys/fs/cgroup/cpu,cpuacct/docker/{DOCKER_V1_ID}"));
    assert_eq!(pick.gomaxprocs, 4);
    assert_eq!(
        pick.basis,
        PickBasis::CgroupNotFound {
            looks_at: Some(looks_at.clone()),
            outside_namespace: false,
        }
    );
    assert_eq!(
        handover(&b, CpuPolicy::Go125, None, &go(GO125, 25)),
        set(&format!(
            "go1.25.12 looks for its cgroup at {}, which is not it (golang/go#76390)",
            looks_at.display()
        ))
    );
    // Go 1.26 maps the path through the mount's root: ceil(1.5) = 2, as boxwise recommends.
    let pick = policy::runtime_gomaxprocs(&b, &go(GO126, 26));
    assert_eq!(pick.gomaxprocs, 2);
    assert!(matches!(pick.basis, PickBasis::OwnQuota(_)));
    assert_eq!(
        handover(&b, CpuPolicy::Go125, None, &go(GO126, 26)),
        leave(
            "go1.26.11 picks 2 itself from cpu quota 1.5 on its own cgroup and follows later changes"
        )
    );
    // floor gives 1, which the runtime never picks under a quota (at least 2).
    assert_eq!(
        handover(&b, CpuPolicy::Floor, None, &go(GO126, 26)),
        set("go1.26.11 alone would pick 2, the floor policy gives 1")
    );
    assert_eq!(
        handover(&b, CpuPolicy::Go125, Some(1), &go(GO126, 26)),
        leave(
            "go1.26.11 picks 2 itself from cpu quota 1.5 on its own cgroup and follows later changes"
        ),
        "--min-procs 1 does not change ceil(1.5) = 2"
    );
    // ceil agrees with go125 here (2).
    assert!(matches!(
        handover(&b, CpuPolicy::Ceil, None, &go(GO126, 26)),
        Handover::Leave { .. }
    ));
}

/// host-bind-nested: roots `/`, the scope's own quota 2, 8 CPUs: Go 1.25 finds it too.
#[test]
fn host_bind_nested_quota_on_the_leaf() {
    let b = load("host-bind-nested");
    for rt in [go(GO125, 25), go(GO126, 26)] {
        let pick = policy::runtime_gomaxprocs(&b, &rt);
        assert_eq!(pick.gomaxprocs, 2, "{}", rt.version);
        assert!(matches!(
            handover(&b, CpuPolicy::Go125, None, &rt),
            Handover::Leave { .. }
        ));
    }
    // Before 1.25 the runtime takes the 8 CPUs.
    let old = go("go1.23.12", 23);
    assert_eq!(policy::runtime_gomaxprocs(&b, &old).gomaxprocs, 8);
    assert_eq!(
        handover(&b, CpuPolicy::Go125, None, &old),
        set("go1.23.12 does not read cgroup limits")
    );
}

/// k8s-v2-pod-limit: 2 CPUs on the pod slice, `max` on the container's scope, 8 CPUs.
#[test]
fn k8s_pod_quota_on_a_parent() {
    let b = load("k8s-v2-pod-limit");
    for rt in [go(GO125, 25), go(GO126, 26)] {
        let pick = policy::runtime_gomaxprocs(&b, &rt);
        assert_eq!(pick.gomaxprocs, 8);
        assert_eq!(pick.basis, PickBasis::NoOwnQuota);
        assert_eq!(
            handover(&b, CpuPolicy::Go125, None, &rt),
            set(&format!(
                "on a parent cgroup, which {} does not read",
                rt.version
            ))
        );
    }
}

/// v2-private-ns: `0::/`, root `/`, 0.5 CPUs on its own cgroup, 4 CPUs.
#[test]
fn private_namespace_half_a_cpu() {
    let b = load("v2-private-ns");
    let rt = go(GO125, 25);
    assert_eq!(policy::runtime_gomaxprocs(&b, &rt).gomaxprocs, 2);
    assert_eq!(
        handover(&b, CpuPolicy::Go125, None, &rt),
        leave(
            "go1.25.12 picks 2 itself from cpu quota 0.5 on its own cgroup and follows later changes"
        )
    );
    assert_eq!(
        handover(&b, CpuPolicy::Go125, Some(1), &rt),
        set("go1.25.12 alone would pick 2, --min-procs gives 1")
    );
    let off = GoRuntime::new(GO125, (1, 25), None, Some("containermaxprocs=0"));
    assert_eq!(policy::runtime_gomaxprocs(&b, &off).gomaxprocs, 4);
    assert_eq!(
        handover(&b, CpuPolicy::Go125, None, &off),
        set("go1.25.12 runs with GODEBUG containermaxprocs=0")
    );
    let old_line = GoRuntime::new(
        GO125,
        (1, 25),
        Some("containermaxprocs=0,updatemaxprocs=0"),
        None,
    );
    assert_eq!(
        handover(&b, CpuPolicy::Go125, None, &old_line),
        set(
            "go1.25.12 has containermaxprocs=0 in its DefaultGODEBUG, as the go line in its go.mod is below 1.25"
        )
    );
    let no_updates = GoRuntime::new(GO125, (1, 25), None, Some("updatemaxprocs=0"));
    assert_eq!(
        handover(&b, CpuPolicy::Go125, None, &no_updates),
        leave(
            "go1.25.12 picks 2 itself from cpu quota 0.5 on its own cgroup and keeps it (updatemaxprocs=0)"
        )
    );
}

/// quota-above-affinity: `--cpus 8` on the own cgroup, pinned to 4 CPUs: the CPU count wins.
#[test]
fn affinity_caps_the_runtime_too() {
    let b = load("quota-above-affinity");
    assert_eq!(policy::runtime_gomaxprocs(&b, &go(GO126, 26)).gomaxprocs, 4);
}

/// unlimited-v2: no quota anywhere; the runtime's CPU count is the answer and it would
/// follow a quota set later.
#[test]
fn no_quota_is_left_to_a_container_aware_runtime() {
    let b = load("unlimited-v2");
    assert_eq!(
        handover(&b, CpuPolicy::Go125, None, &go(GO126, 26)),
        leave(
            "go1.26.11 picks 4 itself (no cpu quota seen: parent cgroups hidden, 4 CPUs allowed) and follows later changes"
        )
    );
}

/// The log line and the `--dry-run` comments for each case.
#[test]
fn plan_words() {
    let b = load("v2-private-ns");
    let rec = policy::recommend(&b, &Options::default());
    let rt = go(GO125, 25);
    let h = plan::handover(&b, &rec, Some(&rt));
    let p = plan::plan(&GoEnv::default(), &rec, &h);
    assert_eq!(p.set, vec![("GOMEMLIMIT", "483183820".to_string())]);
    assert_eq!(
        p.summary(),
        "GOMAXPROCS left unset (go1.25.12 picks 2 itself from cpu quota 0.5 on its own cgroup and follows later changes), GOMEMLIMIT=483183820 (90% of memory.max 512 MiB)"
    );
    assert_eq!(p.comments.len(), 1);

    // Something Go ignores stays, since the runtime's own choice stands.
    let env = GoEnv::from_pairs([("GOMAXPROCS", "0")]);
    let p = plan::plan(&env, &rec, &h);
    assert!(p.set.iter().all(|(k, _)| *k != "GOMAXPROCS"));
    assert!(
        p.notes[0].starts_with("GOMAXPROCS left as \"0\", which Go ignores (go1.25.12 picks 2")
    );

    // A valid user value is kept, with what it costs.
    let env = GoEnv::from_pairs([("GOMAXPROCS", "2")]);
    let p = plan::plan(&env, &rec, &h);
    assert_eq!(
        p.notes[0],
        "GOMAXPROCS=2 (kept from the environment; without it, go1.25.12 picks 2 itself from cpu quota 0.5 on its own cgroup and follows later changes)"
    );

    let b = load("k8s-v2-pod-limit");
    let rec = policy::recommend(&b, &Options::default());
    let h = plan::handover(&b, &rec, Some(&rt));
    let p = plan::plan(&GoEnv::default(), &rec, &h);
    assert_eq!(p.set[0], ("GOMAXPROCS", "2".to_string()));
    assert_eq!(
        p.notes[0],
        "GOMAXPROCS=2 (cpu quota 2; on a parent cgroup, which go1.25.12 does not read)"
    );
    assert_eq!(
        p.gomaxprocs_why.as_deref(),
        Some("cpu quota 2; on a parent cgroup, which go1.25.12 does not read")
    );

    // Unknown program: as before, no reason beyond the box's.
    let h = plan::handover(&b, &rec, None);
    let p = plan::plan(&GoEnv::default(), &rec, &h);
    assert_eq!(p.notes[0], "GOMAXPROCS=2 (cpu quota 2)");
    assert_eq!(p.gomaxprocs_why, None);
}
