//! Each fixture tree, as `doctor --root` sees it (no binary, no Go variables set), to the
//! exact set of findings, ranked.

use super::{Case, ids, one};
use crate::Severity::{Error, Info, Warning};

#[test]
fn every_fixture_to_its_findings() {
    let table = [
        // 1.5 CPUs on 4: GOMAXPROCS 4 >= 2 x 1.5; oom_kill 2; 2741/18234 = 15.0% throttled;
        // Docker's v1 mounts show the container's cgroup as the root.
        (
            "docker-v1",
            &[
                ("gomaxprocs-above-cpu-limit", Error),
                ("oom-killed", Error),
                ("gomemlimit-unset", Warning),
                ("cpu-throttled", Warning),
                ("ancestors-hidden", Info),
            ][..],
        ),
        // 2.5 CPUs on 4: GOMAXPROCS 4 > 3 but < 5; 3001/40960 = 7.3%; cpu some avg60 18.03.
        (
            "hybrid-systemd",
            &[
                ("gomaxprocs-above-cpu-limit", Warning),
                ("gomemlimit-unset", Warning),
                ("cpu-throttled", Warning),
                ("pressure-high", Warning),
            ],
        ),
        // memory.high 384 MiB under memory.max 512 MiB; memory some avg60 6.02 < 10.
        ("v2-memory-high", &[("gomemlimit-unset", Warning)]),
        // The pod slice's quota (2 CPUs on 8) and 1 GiB, seen from the host: nothing hidden;
        // its environ sets GOMAXPROCS=2, so no GOMAXPROCS finding.
        (
            "k8s-v2-pod-limit",
            &[("gomemlimit-unset", Warning), ("cpu-throttled", Warning)],
        ),
        (
            "v2-private-ns",
            &[
                ("gomaxprocs-above-cpu-limit", Error),
                ("gomemlimit-unset", Warning),
                ("cpu-throttled", Warning),
                ("ancestors-hidden", Info),
            ],
        ),
        (
            "host-bind-nested",
            &[
                ("gomaxprocs-above-cpu-limit", Error),
                ("gomemlimit-unset", Warning),
            ],
        ),
        (
            "colon-path-v1",
            &[
                ("gomaxprocs-above-cpu-limit", Error),
                ("gomemlimit-unset", Warning),
                ("cpu-throttled", Warning),
                ("ancestors-hidden", Info),
            ],
        ),
        ("colon-path-v2", &[("gomemlimit-unset", Warning)]),
        (
            "odd-period-50ms",
            &[
                ("gomaxprocs-above-cpu-limit", Error),
                ("cpu-throttled", Warning),
                ("ancestors-hidden", Info),
            ],
        ),
        (
            "odd-period-1s",
            &[
                ("gomaxprocs-above-cpu-limit", Error),
                ("cpu-throttled", Warning),
                ("ancestors-hidden", Info),
            ],
        ),
        (
            "v2-selinux-named-systemd",
            &[
                ("gomaxprocs-above-cpu-limit", Error),
                ("gomemlimit-unset", Warning),
            ],
        ),
        // Hidden ancestors and no limit seen at all: the advice may be far off.
        ("cpuset-only", &[("ancestors-hidden", Warning)]),
        ("unlimited-v1", &[("ancestors-hidden", Warning)]),
        ("unlimited-v2", &[("ancestors-hidden", Warning)]),
        ("quota-above-affinity", &[("ancestors-hidden", Info)]),
        (
            "v1-hidden-parent",
            &[("gomemlimit-unset", Warning), ("ancestors-hidden", Info)],
        ),
        ("v1-parent-limit", &[("gomemlimit-unset", Warning)]),
        (
            "zero-period",
            &[("gomemlimit-unset", Warning), ("ancestors-hidden", Info)],
        ),
        ("no-limits", &[]),
    ];
    for (name, want) in table {
        let got = Case::of(name).diagnose();
        assert_eq!(ids(&got), want, "{name}");
    }
}

#[test]
fn docker_v1_numbers() {
    let got = Case::of("docker-v1").diagnose();
    let above = one(&got, "gomaxprocs-above-cpu-limit");
    assert_eq!(
        above.title,
        "GOMAXPROCS is 4 but the box allows 1.5 CPUs: the runtime will be throttled"
    );
    assert_eq!(
        above.evidence[1],
        "cpu quota 1.5 CPUs (150000/100000 us) from /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us"
    );
    // max(2, ceil(1.5)) = 2.
    assert!(above.fix.starts_with("set GOMAXPROCS=2:"), "{}", above.fix);
    let oom = one(&got, "oom-killed");
    assert_eq!(
        oom.title,
        "the kernel OOM-killed 2 process(es) in this cgroup"
    );
    // floor(0.9 x 268435456) = floor(241591910.4).
    assert!(
        oom.fix.starts_with("set GOMEMLIMIT=241591910:"),
        "{}",
        oom.fix
    );
    let unset = one(&got, "gomemlimit-unset");
    assert!(unset.title.starts_with("memory is limited to 256 MiB "));
    assert_eq!(
        unset.evidence[0],
        "memory.limit_in_bytes 256 MiB (268435456 bytes) from /sys/fs/cgroup/memory/memory.limit_in_bytes"
    );
    let throttled = one(&got, "cpu-throttled");
    // 2741 / 18234 = 15.03%; throttled_time 398561427104 ns = 398.56 s.
    assert_eq!(throttled.title, "throttled in 15% of CPU periods");
    assert_eq!(
        throttled.evidence[0],
        "2741 of 18234 periods throttled, 398.56 s in all, from /sys/fs/cgroup/cpu,cpuacct/cpu.stat"
    );
}

#[test]
fn hybrid_systemd_numbers() {
    let got = Case::of("hybrid-systemd").diagnose();
    let above = one(&got, "gomaxprocs-above-cpu-limit");
    assert_eq!(
        above.title,
        "GOMAXPROCS is 4 but the box allows 2.5 CPUs: the runtime will be throttled"
    );
    // max(2, ceil(2.5)) = 3.
    assert!(above.fix.starts_with("set GOMAXPROCS=3:"), "{}", above.fix);
    // floor(0.9 x 1073741824) = floor(966367641.6).
    assert!(
        one(&got, "gomemlimit-unset")
            .fix
            .starts_with("set GOMEMLIMIT=966367641:")
    );
    // 3001 / 40960 = 7.33%.
    assert_eq!(
        one(&got, "cpu-throttled").title,
        "throttled in 7.3% of CPU periods"
    );
    let psi = one(&got, "pressure-high");
    assert_eq!(
        psi.title,
        "cpu pressure in this cgroup: tasks stalled 18% of the last minute"
    );
    assert!(psi.evidence[0].starts_with("some avg10=22.41 avg60=18.03 avg300=9.77 from "));
}

#[test]
fn v2_memory_high_numbers() {
    let got = Case::of("v2-memory-high").diagnose();
    let unset = one(&got, "gomemlimit-unset");
    // memory.high 402653184 (384 MiB) is below memory.max 536870912: it is the limit.
    assert!(unset.title.starts_with("memory is limited to 384 MiB "));
    // floor(0.9 x 402653184) = floor(362387865.6).
    assert!(
        unset.fix.starts_with("set GOMEMLIMIT=362387865:"),
        "{}",
        unset.fix
    );
}

#[test]
fn unlimited_v2_says_what_it_sees() {
    let got = Case::of("unlimited-v2").diagnose();
    assert_eq!(
        one(&got, "ancestors-hidden").evidence,
        [
            "the top cpu cgroup visible is /sys/fs/cgroup (cgroup /), not the hierarchy's root",
            "the top memory cgroup visible is /sys/fs/cgroup (cgroup /), not the hierarchy's root",
            "seen from here: cpu quota none, memory limit none",
        ]
    );
}

#[test]
fn k8s_pod_limit_numbers() {
    let got = Case::of("k8s-v2-pod-limit").diagnose();
    let slice = "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6d7a4e0b_1c2f_4f3e_9a5b_8c7d6e5f4a3b.slice";
    let throttled = one(&got, "cpu-throttled");
    // 9204 / 75113 = 12.25%; throttled_usec 412880019 = 412.88 s.
    assert_eq!(throttled.title, "throttled in 12.3% of CPU periods");
    assert_eq!(
        throttled.evidence[0],
        format!("9204 of 75113 periods throttled, 412.88 s in all, from {slice}/cpu.stat")
    );
    // floor(0.9 x 1073741824) = floor(966367641.6).
    assert!(
        one(&got, "gomemlimit-unset")
            .fix
            .starts_with("set GOMEMLIMIT=966367641:")
    );
    // Without the environ's GOMAXPROCS=2, a Go before 1.25 runs 8 Ps on the pod's 2 CPUs:
    // 8 >= 2 x 2, and max(2, ceil(2)) = 2.
    let bare = Case::of("k8s-v2-pod-limit").env(&[]).diagnose();
    let above = one(&bare, "gomaxprocs-above-cpu-limit");
    assert_eq!(above.severity, Error);
    assert_eq!(
        above.title,
        "GOMAXPROCS is 8 but the box allows 2 CPUs: the runtime will be throttled"
    );
    assert!(above.fix.starts_with("set GOMAXPROCS=2:"));
}
