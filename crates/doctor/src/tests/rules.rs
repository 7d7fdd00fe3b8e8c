//! One rule function at a time, with facts changed by hand on a fixture's box, on both sides
//! of its threshold.

use super::{Case, go_binary, ids, one};
use crate::Severity::{Error, Info, Warning};
use crate::{ProfileCategory, ProfileFacts};
use crate::{SyscallFacts, SyscallNote};
use crate::{
    binary, effective_gomaxprocs, gomaxprocs, gomemlimit, health, profile, syscalls, vantage,
};

// hybrid-systemd: quota 2.5 CPUs on 4, so the recommendation is max(2, ceil(2.5)) = 3.
#[test]
fn gomaxprocs_above_and_below() {
    let at = |n: &str| {
        ids(&Case::of("hybrid-systemd")
            .env(&[("GOMAXPROCS", n)])
            .rule(gomaxprocs::gomaxprocs))
    };
    // Error from 2 x 2.5 = 5.
    assert_eq!(at("5"), [("gomaxprocs-above-cpu-limit", Error)]);
    assert_eq!(at("4"), [("gomaxprocs-above-cpu-limit", Warning)]);
    assert_eq!(at("3"), []);
    // 2 is below 3 but not below the 2 whole CPUs of 2.5.
    assert_eq!(at("2"), []);
    assert_eq!(at("1"), [("gomaxprocs-below-cpu-limit", Warning)]);
    // Go ignores a GOMAXPROCS that is not positive: the 4 CPUs count.
    assert_eq!(at("0"), [("gomaxprocs-above-cpu-limit", Warning)]);
    let below = Case::of("hybrid-systemd").env(&[("GOMAXPROCS", "1")]);
    assert_eq!(
        one(
            &below.rule(gomaxprocs::gomaxprocs),
            "gomaxprocs-below-cpu-limit"
        )
        .title,
        "GOMAXPROCS is 1 but the box allows 2.5 CPUs: CPUs go unused"
    );
    // docker-v1: 1.5 CPUs, so 1 is not below the 1 whole CPU.
    let one_cpu = Case::of("docker-v1").env(&[("GOMAXPROCS", "1")]);
    assert_eq!(ids(&one_cpu.rule(gomaxprocs::gomaxprocs)), []);
}

// docker-v1 (quota 1.5 on the container's cgroup, a v1 mount whose root is not `/`).
#[test]
fn effective_gomaxprocs_by_go_version() {
    let eff = |v: &str| {
        let case = Case::of("docker-v1").binary(go_binary(v, None));
        effective_gomaxprocs(&case.facts()).value
    };
    assert_eq!(eff("go1.24.6"), 4);
    // Go 1.25 looks for its cgroup under the mount point and misses it (golang/go#76390).
    assert_eq!(eff("go1.25.1"), 4);
    // Go 1.26 finds it: max(2, ceil(1.5)) = 2.
    assert_eq!(eff("go1.26.0"), 2);
    let off = Case::of("docker-v1").binary(go_binary("go1.26.0", Some("containermaxprocs=0")));
    assert_eq!(effective_gomaxprocs(&off.facts()).value, 4);
}

#[test]
fn not_container_aware() {
    let rule = |case: Case| case.rule(gomaxprocs::not_container_aware);
    // With a quota (docker-v1) a warning, without one (no-limits) only info.
    let old = rule(Case::of("docker-v1").binary(go_binary("go1.24.6", None)));
    assert_eq!(ids(&old), [("go-not-container-aware", Warning)]);
    assert_eq!(
        old[0].evidence,
        ["go1.24.6 predates Go 1.25, which first sized GOMAXPROCS from the cgroup quota"]
    );
    let no_quota = rule(Case::of("no-limits").binary(go_binary("go1.24.6", None)));
    assert_eq!(ids(&no_quota), [("go-not-container-aware", Info)]);
    assert_eq!(
        ids(&rule(
            Case::of("docker-v1").binary(go_binary("go1.25.1", None))
        )),
        []
    );
    // A Go 1.25 toolchain building a `go 1.24` module: off through DefaultGODEBUG.
    let by_default = rule(Case::of("docker-v1").binary(go_binary(
        "go1.25.1",
        Some("containermaxprocs=0,updatemaxprocs=0"),
    )));
    assert_eq!(ids(&by_default), [("go-not-container-aware", Warning)]);
    assert_eq!(
        by_default[0].evidence,
        [
            "go1.25.1 runs with containermaxprocs=0 (DefaultGODEBUG: its go.mod says 1.24 or lower)",
            "DefaultGODEBUG has containermaxprocs=0",
        ]
    );
    // GODEBUG in the environment wins over DefaultGODEBUG, either way.
    let by_env = rule(
        Case::of("docker-v1")
            .env(&[("GODEBUG", "containermaxprocs=0")])
            .binary(go_binary("go1.25.1", None)),
    );
    assert_eq!(
        by_env[0].evidence,
        ["go1.25.1 runs with containermaxprocs=0 (GODEBUG in its environment turns it off)"]
    );
    let back_on = rule(
        Case::of("docker-v1")
            .env(&[("GODEBUG", "containermaxprocs=1")])
            .binary(go_binary("go1.25.1", Some("containermaxprocs=0"))),
    );
    assert_eq!(ids(&back_on), []);
    // No binary known: nothing to say.
    assert_eq!(ids(&rule(Case::of("docker-v1"))), []);
}

// v2-memory-high: memory.high 402653184 is the lowest limit, memory.max 536870912 the hard one.
#[test]
fn gomemlimit_against_the_limit() {
    let at = |v: &str| {
        ids(&Case::of("v2-memory-high")
            .env(&[("GOMEMLIMIT", v)])
            .rule(gomemlimit::gomemlimit))
    };
    // 95% of 402653184 = 382520524.8.
    assert_eq!(at("382520524"), []);
    assert_eq!(at("382520525"), [("gomemlimit-above-limit", Warning)]);
    assert_eq!(at("536870911"), [("gomemlimit-above-limit", Warning)]);
    // At the hard limit (512 MiB) the kernel acts before the GC does.
    assert_eq!(at("536870912"), [("gomemlimit-above-limit", Error)]);
    assert_eq!(at("512MiB"), [("gomemlimit-above-limit", Error)]);
    assert_eq!(at("300MiB"), []);
    assert_eq!(at("off"), [("gomemlimit-unset", Warning)]);
    // Go ignores an empty value: as if unset.
    assert_eq!(at(""), [("gomemlimit-unset", Warning)]);
    assert_eq!(at("400m"), [("gomemlimit-malformed", Error)]);
    let unset = Case::of("v2-memory-high").rule(gomemlimit::gomemlimit);
    assert_eq!(ids(&unset), [("gomemlimit-unset", Warning)]);
    let above = Case::of("v2-memory-high")
        .env(&[("GOMEMLIMIT", "382520525")])
        .rule(gomemlimit::gomemlimit);
    assert_eq!(
        above[0].evidence[0],
        "GOMEMLIMIT=382520525 (382520525 bytes) in the environment of the test"
    );
    // No limit: nothing to be above, and nothing unset.
    let free = |v: &str| {
        ids(&Case::of("no-limits")
            .env(&[("GOMEMLIMIT", v)])
            .rule(gomemlimit::gomemlimit))
    };
    assert_eq!(free("off"), []);
    assert_eq!(free("1TiB"), []);
    assert_eq!(free("1GB"), [("gomemlimit-malformed", Error)]);
}

#[test]
fn gogc_off() {
    let rule =
        |name: &str, env: &[(&str, &str)]| ids(&Case::of(name).env(env).rule(gomemlimit::gogc_off));
    assert_eq!(
        rule("docker-v1", &[("GOGC", "off")]),
        [("gogc-off-without-limit", Error)]
    );
    assert_eq!(
        rule("docker-v1", &[("GOGC", "off"), ("GOMEMLIMIT", "off")]),
        [("gogc-off-without-limit", Error)]
    );
    assert_eq!(
        rule("docker-v1", &[("GOGC", "off"), ("GOMEMLIMIT", "200MiB")]),
        []
    );
    // readGOGC compares exactly.
    assert_eq!(rule("docker-v1", &[("GOGC", "OFF")]), []);
    assert_eq!(rule("no-limits", &[("GOGC", "off")]), []);
}

// docker-v1's counters, changed by hand.
#[test]
fn throttled_above_five_percent() {
    let at = |throttled: u64, periods: u64| {
        let mut case = Case::of("docker-v1");
        let t = case
            .info
            .cpu
            .throttling
            .as_mut()
            .expect("docker-v1 has cpu.stat");
        (t.nr_throttled, t.nr_periods) = (throttled, periods);
        case.rule(health::throttled)
    };
    assert_eq!(ids(&at(50, 1000)), []);
    let just_above = at(51, 1000);
    assert_eq!(ids(&just_above), [("cpu-throttled", Warning)]);
    assert_eq!(just_above[0].title, "throttled in 5.1% of CPU periods");
    assert_eq!(ids(&at(0, 0)), []);
    assert!(
        just_above[0]
            .fix
            .starts_with("keep GOMAXPROCS at or below the quota (recommended 2)")
    );
}

// v2-private-ns's 0.5-CPU quota: the recommended 2 is above it, and the fix says why rather
// than asking for GOMAXPROCS "at or below the quota (recommended 2)".
#[test]
fn throttled_under_half_a_cpu_explains_two() {
    let mut case = Case::of("v2-private-ns");
    let t = case
        .info
        .cpu
        .throttling
        .as_mut()
        .expect("v2-private-ns has cpu.stat");
    (t.nr_throttled, t.nr_periods) = (500, 1000);
    let found = case.rule(health::throttled);
    assert_eq!(ids(&found), [("cpu-throttled", Warning)]);
    assert_eq!(
        found[0].fix,
        format!(
            "set GOMAXPROCS=2, just above the 0.5 CPUs quota on purpose: {}; if the throttling \
             still hurts, raise the CPU limit; measure with `boxwise run`",
            boxwise_box::policy::WHY_TWO
        )
    );
}

#[test]
fn oom_killed() {
    let at = |n: u64| {
        let mut case = Case::of("docker-v1");
        case.info.memory.oom_kill_events = Some(n);
        ids(&case.rule(health::oom_killed))
    };
    assert_eq!(at(0), []);
    assert_eq!(at(1), [("oom-killed", Error)]);
}

// docker-v1's 268435456-byte limit: 90% is 241591910.4.
#[test]
fn memory_near_limit() {
    let at = |usage: u64, working_set: u64| {
        let mut case = Case::of("docker-v1");
        case.info.memory.usage_bytes = Some(usage);
        case.info.memory.working_set_bytes = Some(working_set);
        ids(&case.rule(health::memory_near_limit))
    };
    assert_eq!(at(241591910, 241591910), []);
    assert_eq!(at(241591911, 241591911), [("memory-near-limit", Warning)]);
    // Over only by page cache.
    assert_eq!(at(241591911, 100 << 20), [("memory-near-limit", Info)]);
}

// hybrid-systemd's cpu.pressure, changed by hand.
#[test]
fn pressure_above_ten_percent() {
    let at = |avg60: f64| {
        let mut case = Case::of("hybrid-systemd");
        case.info
            .pressure
            .cpu
            .as_mut()
            .expect("cpu.pressure")
            .pressure
            .some
            .avg60 = avg60;
        case.rule(health::pressure)
    };
    assert_eq!(ids(&at(10.0)), []);
    let above = at(10.5);
    assert_eq!(ids(&above), [("pressure-high", Warning)]);
    assert_eq!(
        above[0].title,
        "cpu pressure in this cgroup: tasks stalled 10.5% of the last minute"
    );
    assert_eq!(
        above[0].fix,
        "keep GOMAXPROCS at 3 (recommended for the quota of 2.5 CPUs), or raise the CPU limit"
    );
    // Without a quota the fix does not ask for GOMAXPROCS "at the quota".
    let mut no_quota = Case::of("hybrid-systemd");
    no_quota.info.cpu.quota = None;
    no_quota
        .info
        .pressure
        .cpu
        .as_mut()
        .unwrap()
        .pressure
        .some
        .avg60 = 50.0;
    let found = no_quota.rule(health::pressure);
    assert!(
        found[0].fix.starts_with("this cgroup has no CPU quota"),
        "{}",
        found[0].fix
    );
    assert!(above[0].evidence[0].ends_with("/unified/system.slice/foo.service/cpu.pressure"));
}

// hybrid-systemd moved to the unified root, as a process in a hybrid host's Docker container
// sits: the pressure is the whole machine's, and the fix says so.
#[test]
fn pressure_at_the_root_is_the_machines() {
    let mut case = Case::of("hybrid-systemd");
    let u = case.info.cgroup.unified.as_mut().expect("unified");
    u.cgroup_path = "/".into();
    u.mount_root = "/".into();
    u.ancestors_hidden = false;
    case.info.pressure.cpu.as_mut().unwrap().pressure.some.avg60 = 50.0;
    let found = case.rule(health::pressure);
    assert_eq!(
        found[0].title,
        "cpu pressure on the whole machine (the cgroup root): tasks stalled 50% of the last minute"
    );
    assert!(
        found[0].fix.contains("no Go setting causes that"),
        "{}",
        found[0].fix
    );
}

#[test]
fn ancestors_hidden() {
    let rule = |case: Case| ids(&case.rule(vantage::hidden_ancestors));
    // Limits seen (docker-v1): a caveat.
    assert_eq!(rule(Case::of("docker-v1")), [("ancestors-hidden", Info)]);
    // The same box with no limit seen: the advice may be far off.
    let mut blind = Case::of("docker-v1");
    blind.info.cpu.quota = None;
    blind.info.memory.limit_bytes = None;
    assert_eq!(rule(blind), [("ancestors-hidden", Warning)]);
    // Only one of them seen is enough for a caveat.
    let mut quota_only = Case::of("docker-v1");
    quota_only.info.memory.limit_bytes = None;
    assert_eq!(rule(quota_only), [("ancestors-hidden", Info)]);
    // The host's view of a pod: nothing hidden.
    assert_eq!(rule(Case::of("k8s-v2-pod-limit")), []);
}

#[test]
fn binary_dynamic_and_debug_info() {
    let mut dynamic = go_binary("go1.24.6", None);
    dynamic.linkage = boxwise_goprog::Linkage::Dynamic;
    dynamic.interpreter = Some("/lib64/ld-linux-x86-64.so.2".into());
    dynamic.needed = vec!["libc.so.6".into()];
    let got = Case::of("no-limits").binary(dynamic).rule(binary::dynamic);
    assert_eq!(ids(&got), [("dynamic-binary", Warning)]);
    assert_eq!(
        got[0].evidence,
        ["interpreter /lib64/ld-linux-x86-64.so.2", "needs libc.so.6"]
    );
    let stat = Case::of("no-limits").binary(go_binary("go1.24.6", None));
    assert_eq!(ids(&stat.rule(binary::dynamic)), []);
    assert_eq!(ids(&stat.rule(binary::debug_info)), []);

    let mut debug = go_binary("go1.24.6", None);
    (debug.dwarf_size, debug.symtab_size, debug.file_size) = (1 << 20, 1 << 20, 8 << 20);
    let got = Case::of("no-limits").binary(debug).rule(binary::debug_info);
    assert_eq!(ids(&got), [("debug-info-shipped", Info)]);
    // 2 MiB of 8 MiB.
    assert_eq!(got[0].title, "debug info is 25% of the file (2 MiB)");
}

fn cpu_profile(shares: &[(&str, f64)]) -> ProfileFacts {
    ProfileFacts {
        source: "cpu.pb.gz".into(),
        sample_type: "cpu".into(),
        sample_unit: "nanoseconds".into(),
        total: 5_000_000_000,
        total_text: "5s".into(),
        categories: shares
            .iter()
            .map(|&(id, percent)| ProfileCategory {
                id: id.into(),
                percent,
                top_functions: Vec::new(),
            })
            .collect(),
    }
}

#[test]
fn profile_thresholds() {
    let at = |name: &str, shares: &[(&str, f64)]| {
        let mut case = Case::of(name);
        case.profile = Some(cpu_profile(shares));
        case.rule(profile::profile)
    };
    let below = [
        ("gc", 24.9),
        ("scheduler", 9.9),
        ("locks", 9.9),
        ("malloc", 14.9),
        ("syscalls", 29.9),
        ("cgo", 9.9),
    ];
    assert_eq!(ids(&at("no-limits", &below)), []);
    let at_threshold = [
        ("gc", 25.0),
        ("scheduler", 10.0),
        ("locks", 10.0),
        ("malloc", 15.0),
        ("syscalls", 30.0),
        ("cgo", 10.0),
    ];
    assert_eq!(
        ids(&at("no-limits", &at_threshold)),
        [
            ("profile-gc-heavy", Warning),
            ("profile-scheduler-heavy", Warning),
            ("profile-lock-contention", Warning),
            ("profile-malloc-heavy", Info),
            ("profile-syscall-heavy", Info),
            ("profile-cgo-heavy", Info),
        ]
    );
    // docker-v1 runs 4 Ps on 1.5 CPUs: the scheduler finding says so and fixes GOMAXPROCS first.
    let sched = at("docker-v1", &[("scheduler", 12.0)]);
    assert_eq!(
        sched[0].title,
        "scheduler and futex are 12% of CPU and GOMAXPROCS 4 exceeds the 1.5 CPUs the box allows: idle Ps spin and park instead of working"
    );
    assert!(sched[0].fix.starts_with("set GOMAXPROCS=2:"));
    let gc = at("docker-v1", &[("gc", 30.0)]);
    assert!(
        gc[0].fix.starts_with("first set GOMAXPROCS=2:"),
        "{}",
        gc[0].fix
    );
    assert_eq!(
        gc[0].evidence.last().map(String::as_str),
        Some(
            "GOMAXPROCS 4 but the box allows 1.5 CPUs: the GC's background mark workers are a quarter of GOMAXPROCS, all paid from the same quota"
        )
    );

    let mut heap = Case::of("no-limits");
    heap.profile = Some(ProfileFacts {
        sample_type: "inuse_space".into(),
        sample_unit: "bytes".into(),
        ..cpu_profile(&[("gc", 90.0)])
    });
    assert_eq!(
        ids(&heap.rule(profile::profile)),
        [("profile-not-cpu", Info)]
    );
}

// docker-v1 with its own counter at 0 and a kill in the kernel log and the engine's state:
// the finding names the process, its RSS and when; without history it stays silent.
#[test]
fn oom_history_after_a_restart() {
    let mut case = Case::of("docker-v1");
    case.info.memory.oom_kill_events = Some(0);
    assert_eq!(ids(&case.rule(health::oom_killed)), []);
    case.oom_history = Some(boxwise_oom::History {
        cgroup: "/docker/abc".into(),
        kernel_kills: Some(vec![boxwise_oom::Kill {
            usec: 100_000_000,
            oom_memcg: "/docker/abc".into(),
            task_memcg: "/docker/abc".into(),
            task: "worker".into(),
            pid: 42,
            rss_bytes: Some(48 << 20),
        }]),
        parent_oom_kills: None,
        docker: None,
        uptime_seconds: Some(400.0),
    });
    let found = case.rule(health::oom_killed);
    assert_eq!(ids(&found), [("oom-killed", Error)]);
    assert_eq!(
        found[0].title,
        "OOM-killed before this cgroup's counter started: worker (pid 42) with 48 MiB resident"
    );
    assert_eq!(
        found[0].evidence[1],
        "kernel log: 5 min ago, the OOM killer killed worker (pid 42, RSS 48 MiB) in /docker/abc"
    );
    // An empty history (sources read, nothing found) says nothing.
    case.oom_history.as_mut().unwrap().kernel_kills = Some(vec![]);
    assert_eq!(ids(&case.rule(health::oom_killed)), []);
}

fn syscall_notes(ids: &[&str]) -> SyscallFacts {
    SyscallFacts {
        seconds: 5.0,
        total_calls: 100_000,
        notes: ids
            .iter()
            .map(|id| SyscallNote {
                id: id.to_string(),
                evidence: format!("evidence of {id}"),
                meaning: format!("meaning of {id}"),
                source: "runtime/proc.go".into(),
            })
            .collect(),
    }
}

// docker-v1 runs 4 Ps on 1.5 CPUs: futex storms and spinning are the box's doing there.
#[test]
fn syscall_notes_rank_by_the_box() {
    let notes = ["futex_wakeups", "sched_yield_spinning", "nanosleep_sysmon"];
    let mut over = Case::of("docker-v1");
    over.syscalls = Some(syscall_notes(&notes));
    let got = over.rule(syscalls::syscalls);
    assert_eq!(
        ids(&got),
        [
            ("syscalls-futex-storm", Warning),
            ("syscalls-spinning", Warning),
            ("syscalls-runtime-activity", Info),
        ]
    );
    assert!(
        got[0]
            .fix
            .starts_with("set GOMAXPROCS to the CPU limit (1.5 cores, so 2)"),
        "{}",
        got[0].fix
    );
    assert_eq!(
        got[0].title,
        "evidence of futex_wakeups in a 5.0 s syscall trace"
    );
    let mut free = Case::of("no-limits");
    free.syscalls = Some(syscall_notes(&notes));
    let got = free.rule(syscalls::syscalls);
    assert_eq!(
        ids(&got),
        [
            ("syscalls-futex-storm", Info),
            ("syscalls-spinning", Info),
            ("syscalls-runtime-activity", Info),
        ]
    );
    assert_eq!(got[0].fix, "meaning of futex_wakeups");
    free.syscalls = None;
    assert_eq!(ids(&free.rule(syscalls::syscalls)), []);
}
