//! The probe and the Go policy over the fixture trees in `tests/fixtures/` (see the README
//! there). Every expected value below is worked out by hand from the fixture's files and the
//! rules in DESIGN.md ("Detection rules"); the comments show the working.

use std::path::{Path, PathBuf};

use boxwise_box::container::Runtime;
use boxwise_box::host::Host;
use boxwise_box::layout::{CgroupVersion, Hierarchy};
use boxwise_box::model::{
    BoxInfo, CpuQuotaInfo, CpuSetInfo, MemoryLimit, MemoryLimitKind, Throttling,
};
use boxwise_box::parse::CpuList;
use boxwise_box::policy::{self, CpuPolicy, MemoryRatio, Options, Recommendation};
use boxwise_box::probe::{self, Detail, Target};
use boxwise_box::{Error, ParseError};

// The container ids in the fixtures (64 hex, as Docker, containerd and CRI-O write them).
const DOCKER_V1_ID: &str = "d4ea6b391d44abcefae12044ed7d564cf1b31f48d8190c3ea3f2701020fc498f";
const HOST_BIND_ID: &str = "99f12d8a702ee195ac56ba1cfff1ceafc3be1d22e66e9444821d43fc6a75466c";
const V2_PRIVATE_ID: &str = "7d0c842535e43be6e196fb255fcbf9b50b2a6553d5036f5a0051a6db316de843";
const K8S_ID: &str = "bc3f10464a27f469fa73a605c58d20e46e476f7578d464ed30f502598a44f7b8";
const CPUSET_ONLY_ID: &str = "667c3b0a83eaf59f22596ac26ca68727c8183ebeae6e74141bde5fcc9d9a5cbe";
const HIDDEN_PARENT_ID: &str = "44decbe63d0c3b5175e39adc6f69c3d899aaa27046ec1e001e192fc4f1dfc0d4";
const COLON_V1_ID: &str = "0b2d3f88df22d40195ed9d084882d4d537bf1ccedf15e6828a4b4ea244ffc43e";

const POD_SLICE: &str = "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6d7a4e0b_1c2f_4f3e_9a5b_8c7d6e5f4a3b.slice";

/// Every fixture that probes without error.
const VALID: [&str; 20] = [
    "docker-v1",
    "host-bind-nested",
    "v2-private-ns",
    "k8s-v2-pod-limit",
    "v2-memory-high",
    "cpuset-only",
    "hybrid-systemd",
    "v1-parent-limit",
    "v1-hidden-parent",
    "no-limits",
    "quota-above-affinity",
    "odd-period-50ms",
    "odd-period-1s",
    "colon-path-v1",
    "colon-path-v2",
    "zero-period",
    "unlimited-v1",
    "unlimited-v2",
    "v2-selinux-named-systemd",
    // Only cpu.stat is broken here, and `exec` (Detail::Limits) never reads it.
    "malformed/cpu-stat",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

fn try_probe(name: &str, detail: Detail) -> Result<BoxInfo, Error> {
    probe::probe(
        &Host::new(fixture(name)),
        &Target {
            pid: None,
            detail,
            own_env: None,
        },
    )
}

fn load(name: &str) -> BoxInfo {
    try_probe(name, Detail::Full).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn rec(b: &BoxInfo) -> Recommendation {
    policy::recommend(b, &Options::default())
}

/// GOMAXPROCS under go125, floor and ceil.
fn procs(b: &BoxInfo) -> [u32; 3] {
    [CpuPolicy::Go125, CpuPolicy::Floor, CpuPolicy::Ceil].map(|cpu_policy| {
        policy::recommend(
            b,
            &Options {
                cpu_policy,
                ..Options::default()
            },
        )
        .gomaxprocs
    })
}

fn set(cpus: &str, count: u32, source: &str) -> Option<CpuSetInfo> {
    Some(CpuSetInfo {
        cpus: CpuList::parse(cpus).unwrap(),
        count,
        source: source.into(),
    })
}

fn quota(cores: f64, quota_us: u64, period_us: u64, source: &str) -> Option<CpuQuotaInfo> {
    Some(CpuQuotaInfo {
        cores,
        quota_us,
        period_us,
        source: source.into(),
        burst_us: None,
    })
}

/// The quota without its burst allowance (which only some fixtures' kernels report).
fn without_burst(q: &Option<CpuQuotaInfo>) -> Option<CpuQuotaInfo> {
    q.clone().map(|q| CpuQuotaInfo {
        burst_us: None,
        ..q
    })
}

fn limit(bytes: u64, kind: MemoryLimitKind, source: &str) -> Option<MemoryLimit> {
    Some(MemoryLimit {
        bytes,
        kind,
        source: source.into(),
    })
}

fn throttling(nr_periods: u64, nr_throttled: u64, secs: f64, source: &str) -> Option<Throttling> {
    Some(Throttling {
        nr_periods,
        nr_throttled,
        throttled_seconds: secs,
        source: source.into(),
    })
}

fn dir(b: &BoxInfo, controller: &str) -> PathBuf {
    b.cgroup.controllers[controller].dir.clone()
}

const STATUS: &str = "/proc/self/status";
const ONLINE: &str = "/sys/devices/system/cpu/online";

// 1 -------------------------------------------------------------------------------------------

/// Docker 20.10 on cgroup v1 (cgroupfs driver): each hierarchy's mount root is the container's
/// own cgroup `/docker/<id>`, so the cgroup path maps to the mount point itself.
#[test]
fn docker_v1() {
    let b = load("docker-v1");
    assert_eq!(b.cgroup.version, CgroupVersion::V1);
    // No cgroup2 mount inside the container, although the host's `0::` line is there.
    assert!(b.cgroup.unified.is_none());
    let cpu = &b.cgroup.controllers["cpu"];
    assert_eq!(cpu.hierarchy, Hierarchy::V1);
    assert_eq!(cpu.cgroup_path, format!("/docker/{DOCKER_V1_ID}"));
    assert_eq!(cpu.dir, Path::new("/sys/fs/cgroup/cpu,cpuacct"));
    assert_eq!(cpu.levels(), [PathBuf::from("/sys/fs/cgroup/cpu,cpuacct")]);
    assert_eq!(dir(&b, "cpuacct"), Path::new("/sys/fs/cgroup/cpu,cpuacct"));
    assert_eq!(dir(&b, "memory"), Path::new("/sys/fs/cgroup/memory"));
    assert_eq!(dir(&b, "cpuset"), Path::new("/sys/fs/cgroup/cpuset"));
    assert_eq!(dir(&b, "pids"), Path::new("/sys/fs/cgroup/pids"));

    // 150000 / 100000 = 1.5 CPUs; the 4 CPUs (cpuset, affinity, online) do not lower it.
    let c = &b.cpu;
    // The only level is the container's own cgroup, so its quota is the lowest too.
    assert_eq!(c.own_quota, c.quota);
    assert_eq!(
        without_burst(&c.quota),
        quota(
            1.5,
            150000,
            100000,
            "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us"
        )
    );
    assert_eq!(
        c.cpuset,
        set("0-3", 4, "/sys/fs/cgroup/cpuset/cpuset.effective_cpus")
    );
    assert_eq!(c.affinity, set("0-3", 4, STATUS));
    assert_eq!(c.online, set("0-3", 4, ONLINE));
    assert_eq!(c.effective_cores, 1.5);
    assert_eq!((c.shares, c.weight), (Some(1024), None));
    // cpuacct.usage 912345678901 ns; cpu.stat throttled_time 398561427104 ns.
    assert_eq!(c.usage_seconds, Some(912.345678901));
    assert_eq!(
        c.throttling,
        throttling(
            18234,
            2741,
            398.561427104,
            "/sys/fs/cgroup/cpu,cpuacct/cpu.stat"
        )
    );

    // limit_in_bytes and hierarchical_memory_limit both say 256 MiB: on a tie the cgroup's
    // own file is named as the source.
    let m = &b.memory;
    assert_eq!(m.limit_bytes, Some(268435456));
    assert_eq!(
        m.limit,
        limit(
            268435456,
            MemoryLimitKind::LimitInBytes,
            "/sys/fs/cgroup/memory/memory.limit_in_bytes"
        )
    );
    assert_eq!(m.high, None);
    assert_eq!(m.swap_max_bytes, None);
    // Docker's default --memory-swap is twice --memory.
    assert_eq!(m.memsw_limit_bytes, Some(536870912));
    assert_eq!(m.usage_bytes, Some(187203584));
    assert_eq!(m.peak_bytes, Some(268435456));
    // usage 187203584 - total_inactive_file 41943040
    assert_eq!(m.working_set_bytes, Some(145260544));
    // v1 counts no "oom" events, only oom_kill in memory.oom_control.
    assert_eq!((m.oom_events, m.oom_kill_events), (None, Some(2)));

    assert_eq!((b.pids.max, b.pids.current), (None, Some(9)));
    assert!(b.pressure.cpu.is_none() && b.pressure.memory.is_none() && b.pressure.io.is_none());

    // The cgroup namespace is the host's (Docker's default on v1): its inode is the kernel's
    // fixed initial one (0xEFFFFFFB); pid/ipc/uts are the container's own.
    let ns = |kind: &str| {
        let n = b.namespaces.iter().find(|n| n.kind == kind).unwrap();
        (n.id.clone(), n.initial, n.same_as_pid1)
    };
    assert_eq!(b.namespaces.len(), 8);
    assert_eq!(
        ns("cgroup"),
        ("cgroup:[4026531835]".into(), Some(true), None)
    );
    assert_eq!(ns("pid"), ("pid:[4026532572]".into(), Some(false), None));
    assert_eq!(ns("user"), ("user:[4026531837]".into(), Some(true), None));
    assert_eq!(ns("uts").1, Some(false));
    // mnt and net have no fixed initial inode.
    assert_eq!((ns("mnt").1, ns("net").1), (None, None));

    assert_eq!(b.container.runtime, Runtime::Docker);
    assert_eq!(b.container.id.as_deref(), Some(DOCKER_V1_ID));
    assert_eq!(b.go_env, Default::default());
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);

    // go125: ceil(1.5) = 2 (and at least 2); floor: 1; ceil: 2. All at most 4 CPUs.
    assert_eq!(procs(&b), [2, 1, 2]);
    // floor(0.9 * 268435456) = floor(241591910.4)
    let r = rec(&b);
    assert_eq!(r.gomaxprocs, 2);
    assert_eq!(r.gomemlimit_bytes, Some(241591910));
    assert_eq!(r.gomaxprocs_why, "cpu quota 1.5");
    assert_eq!(r.gomemlimit_why, "90% of memory.limit_in_bytes 256 MiB");
}

// 2 -------------------------------------------------------------------------------------------

/// RHEL 8 (pure v1, SELinux `seclabel` options) with Docker's systemd driver, the host's
/// /sys/fs/cgroup bind-mounted into the container: mount roots are `/`, so the path
/// `/system.slice/docker-<id>.scope` maps to a nested directory, and its ancestors are visible.
#[test]
fn host_bind_nested() {
    let b = load("host-bind-nested");
    assert_eq!(b.cgroup.version, CgroupVersion::V1);
    let scope = format!("docker-{HOST_BIND_ID}.scope");
    let cpu_dir = format!("/sys/fs/cgroup/cpu,cpuacct/system.slice/{scope}");
    let cpu = &b.cgroup.controllers["cpu"];
    assert_eq!(cpu.mount_point, Path::new("/sys/fs/cgroup/cpu,cpuacct"));
    assert_eq!(cpu.dir, Path::new(&cpu_dir));
    assert_eq!(
        cpu.levels(),
        [
            cpu_dir.clone(),
            "/sys/fs/cgroup/cpu,cpuacct/system.slice".into(),
            "/sys/fs/cgroup/cpu,cpuacct".into()
        ]
        .map(PathBuf::from)
    );
    let mem_dir = format!("/sys/fs/cgroup/memory/system.slice/{scope}");
    assert_eq!(dir(&b, "memory"), Path::new(&mem_dir));

    // The scope's 200000/100000 = 2 CPUs; system.slice and the root say -1.
    let c = &b.cpu;
    assert_eq!(
        without_burst(&c.quota),
        quota(2.0, 200000, 100000, &format!("{cpu_dir}/cpu.cfs_quota_us"))
    );
    assert_eq!(
        c.cpuset,
        set(
            "0-7",
            8,
            &format!("/sys/fs/cgroup/cpuset/system.slice/{scope}/cpuset.effective_cpus")
        )
    );
    assert_eq!(c.affinity, set("0-7", 8, STATUS));
    assert_eq!(c.online, set("0-7", 8, ONLINE));
    assert_eq!(c.effective_cores, 2.0);
    assert_eq!(c.usage_seconds, Some(4102.938475612));
    // 4.18 has no burst lines in cpu.stat; 61440000000 ns throttled.
    assert_eq!(
        c.throttling,
        throttling(51200, 1024, 61.44, &format!("{cpu_dir}/cpu.stat"))
    );

    let m = &b.memory;
    assert_eq!(
        m.limit,
        limit(
            536870912,
            MemoryLimitKind::LimitInBytes,
            &format!("{mem_dir}/memory.limit_in_bytes")
        )
    );
    assert_eq!(m.memsw_limit_bytes, Some(1073741824));
    // 314572800 - 83886080
    assert_eq!(m.working_set_bytes, Some(230686720));
    assert_eq!(m.peak_bytes, Some(402653184));

    // --pids-limit 200 on the scope; system.slice says max, the root has no pids.max.
    assert_eq!(b.pids.max, Some(200));
    assert_eq!(
        b.pids.max_source,
        Some(PathBuf::from(format!(
            "/sys/fs/cgroup/pids/system.slice/{scope}/pids.max"
        )))
    );
    assert_eq!(b.pids.current, Some(14));

    assert_eq!(b.container.runtime, Runtime::Docker);
    assert_eq!(b.container.id.as_deref(), Some(HOST_BIND_ID));
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);

    // ceil(2) = floor(2) = 2; 0.9 * 536870912 = 483183820.8
    assert_eq!(procs(&b), [2, 2, 2]);
    assert_eq!(rec(&b).gomemlimit_bytes, Some(483183820));
}

// 3 -------------------------------------------------------------------------------------------

/// Docker 24 on cgroup v2 with a private cgroup namespace: `0::/`, mount root `/`, so the
/// process's cgroup is the mount point, and its limits are there.
#[test]
fn v2_private_ns() {
    let b = load("v2-private-ns");
    assert_eq!(b.cgroup.version, CgroupVersion::V2);
    let u = b.cgroup.unified.as_ref().unwrap();
    assert_eq!(
        (u.cgroup_path.as_str(), u.dir.as_path()),
        ("/", Path::new("/sys/fs/cgroup"))
    );
    for name in ["cpu", "cpuacct", "cpuset", "memory", "pids"] {
        assert_eq!(&b.cgroup.controllers[name], u, "{name}");
    }

    let c = &b.cpu;
    // 50000 / 100000 = 0.5 CPU
    assert_eq!(
        without_burst(&c.quota),
        quota(0.5, 50000, 100000, "/sys/fs/cgroup/cpu.max")
    );
    // cpu.max.burst beside the quota.
    assert_eq!(c.quota.as_ref().unwrap().burst_us, Some(0));
    assert_eq!(
        c.cpuset,
        set("0-3", 4, "/sys/fs/cgroup/cpuset.cpus.effective")
    );
    assert_eq!(c.effective_cores, 0.5);
    assert_eq!((c.shares, c.weight), (None, Some(100)));
    // usage_usec 48213990; throttled_usec 1903245871
    assert_eq!(c.usage_seconds, Some(48.21399));
    assert_eq!(
        c.throttling,
        throttling(96411, 41230, 1903.245871, "/sys/fs/cgroup/cpu.stat")
    );

    let m = &b.memory;
    assert_eq!(
        m.limit,
        limit(
            536870912,
            MemoryLimitKind::MemoryMax,
            "/sys/fs/cgroup/memory.max"
        )
    );
    assert_eq!(m.high, None, "memory.high is max");
    // --memory-swap 1g: swap.max = 1 GiB - 512 MiB
    assert_eq!(m.swap_max_bytes, Some(536870912));
    assert_eq!(m.memsw_limit_bytes, None);
    assert_eq!(
        (m.usage_bytes, m.peak_bytes),
        (Some(73400320), Some(94371840))
    );
    // memory.current 73400320 - inactive_file 12582912
    assert_eq!(m.working_set_bytes, Some(60817408));
    assert_eq!((m.oom_events, m.oom_kill_events), (Some(0), Some(0)));
    assert_eq!((b.pids.max, b.pids.current), (None, Some(9)));

    let cpu_psi = b.pressure.cpu.as_ref().unwrap();
    assert_eq!(
        (cpu_psi.some.avg10, cpu_psi.some.avg60, cpu_psi.some.avg300),
        (12.37, 9.84, 4.02)
    );
    assert_eq!(cpu_psi.some.total_us, 1904338122);
    assert_eq!(cpu_psi.full.unwrap().avg10, 11.90);
    assert_eq!(b.pressure.io.as_ref().unwrap().some.total_us, 81230);

    // A private cgroup namespace: not the initial one.
    let cg = b.namespaces.iter().find(|n| n.kind == "cgroup").unwrap();
    assert_eq!(cg.initial, Some(false));

    // The cgroup path says nothing; Docker's bind mounts of resolv.conf etc. give it away.
    assert_eq!(b.container.runtime, Runtime::Docker);
    assert_eq!(b.container.id.as_deref(), Some(V2_PRIVATE_ID));
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);

    // go125: max(2, ceil(0.5) = 1) = 2; floor: max(1, 0) = 1; ceil: 1.
    assert_eq!(procs(&b), [2, 1, 1]);
    // --min-procs 1 lets go125 go down to ceil(0.5) = 1.
    let min1 = policy::recommend(
        &b,
        &Options {
            min_procs: Some(1),
            ..Options::default()
        },
    );
    assert_eq!(min1.gomaxprocs, 1);
    // 0.9 * 536870912 = 483183820.8
    assert_eq!(rec(&b).gomemlimit_bytes, Some(483183820));
    // A ratio of 0.5 is exactly half.
    let half = policy::recommend(
        &b,
        &Options {
            memory_ratio: MemoryRatio::new(0.5).unwrap(),
            ..Options::default()
        },
    );
    assert_eq!(half.gomemlimit_bytes, Some(268435456));
}

// 4 -------------------------------------------------------------------------------------------

/// Kubernetes on cgroup v2 (containerd, systemd driver), the node's tree visible: the limits
/// are on the pod slice; the container scope says `max`. The lowest over all levels wins.
#[test]
fn k8s_v2_pod_limit() {
    let b = load("k8s-v2-pod-limit");
    assert_eq!(b.cgroup.version, CgroupVersion::V2);
    let scope = format!("{POD_SLICE}/cri-containerd-{K8S_ID}.scope");
    let cpu = &b.cgroup.controllers["cpu"];
    assert_eq!(cpu.dir, Path::new(&scope));
    // scope, pod slice, kubepods-burstable.slice, kubepods.slice, root
    assert_eq!(cpu.levels().len(), 5);

    let c = &b.cpu;
    // Only the pod slice has a quota: 200000/100000 = 2 CPUs, below the node's 8.
    assert_eq!(
        without_burst(&c.quota),
        quota(2.0, 200000, 100000, &format!("{POD_SLICE}/cpu.max"))
    );
    assert_eq!(
        c.cpuset,
        set("0-7", 8, &format!("{scope}/cpuset.cpus.effective"))
    );
    assert_eq!(c.affinity, set("0-7", 8, STATUS));
    assert_eq!(c.online, set("0-7", 8, ONLINE));
    assert_eq!(c.effective_cores, 2.0);
    // The container scope's own cpu.max is `max`: the Go 1.25 runtime, which reads only
    // its own cgroup, sees no quota here.
    assert_eq!(c.own_quota, None);
    // A 2-CPU request: shares 2048 -> weight 1 + (2048 - 2) * 9999 / 262142 = 79.
    assert_eq!(c.weight, Some(79));
    // Usage is the container's own (scope cpu.stat usage_usec 7401223507) ...
    assert_eq!(c.usage_seconds, Some(7401.223507));
    // ... throttling is counted where the quota is (pod slice, throttled_usec 412880019).
    assert_eq!(
        c.throttling,
        throttling(75113, 9204, 412.880019, &format!("{POD_SLICE}/cpu.stat"))
    );

    let m = &b.memory;
    // scope max, pod 1 GiB, burstable max, kubepods.slice 8011120640 (allocatable): 1 GiB.
    assert_eq!(m.limit_bytes, Some(1073741824));
    assert_eq!(
        m.limit,
        limit(
            1073741824,
            MemoryLimitKind::MemoryMax,
            &format!("{POD_SLICE}/memory.max")
        )
    );
    assert_eq!(m.high, None);
    // The kubelet turns swap off per container (memory.swap.max 0 on the scope).
    assert_eq!(m.swap_max_bytes, Some(0));
    // 612368384 - 67108864
    assert_eq!(m.working_set_bytes, Some(545259520));

    // podPidsLimit 4096 on the pod slice.
    assert_eq!(b.pids.max, Some(4096));
    assert_eq!(
        b.pids.max_source,
        Some(PathBuf::from(format!("{POD_SLICE}/pids.max")))
    );
    assert_eq!(b.pids.current, Some(23));
    // PSI from the container's own unified directory.
    assert_eq!(b.pressure.cpu.as_ref().unwrap().some.avg10, 3.71);

    // GOMAXPROCS=2 set from the pod spec (downward API), read from the fixture's environ.
    assert_eq!(b.go_env.gomaxprocs.as_deref(), Some("2"));
    assert_eq!(b.go_env.gomemlimit, None);

    assert_eq!(b.container.runtime, Runtime::Kubernetes);
    assert_eq!(b.container.id.as_deref(), Some(K8S_ID));
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);

    assert_eq!(procs(&b), [2, 2, 2]);
    // 0.9 * 1073741824 = 966367641.6
    assert_eq!(rec(&b).gomemlimit_bytes, Some(966367641));
}

// 5 -------------------------------------------------------------------------------------------

/// A systemd service on a v2 host with MemoryHigh=384M below MemoryMax=512M: the hard limit
/// is memory.max, but GOMEMLIMIT follows memory.high (where the kernel starts throttling).
#[test]
fn v2_memory_high() {
    let b = load("v2-memory-high");
    let svc = "/sys/fs/cgroup/system.slice/myapp.service";
    assert_eq!(b.cgroup.version, CgroupVersion::V2);
    assert_eq!(dir(&b, "memory"), Path::new(svc));
    // cpu.max is "max 100000" on the service and its slice: no quota; 4 CPUs.
    assert_eq!(b.cpu.quota, None);
    assert_eq!(b.cpu.effective_cores, 4.0);

    let m = &b.memory;
    assert_eq!(m.limit_bytes, Some(536870912));
    assert_eq!(
        m.limit,
        limit(
            536870912,
            MemoryLimitKind::MemoryMax,
            &format!("{svc}/memory.max")
        )
    );
    assert_eq!(
        m.high,
        limit(
            402653184,
            MemoryLimitKind::MemoryHigh,
            &format!("{svc}/memory.high")
        )
    );
    assert_eq!(m.swap_max_bytes, None);
    // 398458880 - 29360128
    assert_eq!(m.working_set_bytes, Some(369098752));
    assert_eq!((m.oom_events, m.oom_kill_events), (Some(0), Some(0)));
    assert_eq!(b.pressure.memory.as_ref().unwrap().some.avg10, 8.15);
    // systemd's default TasksMax (15% of 32768).
    assert_eq!(b.pids.max, Some(4915));

    assert_eq!(b.container.runtime, Runtime::Systemd);
    assert_eq!(b.container.id, None);

    assert_eq!(procs(&b), [4, 4, 4]);
    // floor(0.9 * 402653184) = floor(362387865.6)
    let r = rec(&b);
    assert_eq!(r.gomemlimit_bytes, Some(362387865));
    assert_eq!(r.gomemlimit_why, "90% of memory.high 384 MiB");
}

// 6 -------------------------------------------------------------------------------------------

/// Docker v1 with --cpuset-cpus 0-1 on a 4-CPU host and no quota: the cpuset (and the
/// affinity it implies) is the CPU count.
#[test]
fn cpuset_only() {
    let b = load("cpuset-only");
    let c = &b.cpu;
    assert_eq!(c.quota, None, "cfs_quota_us is -1");
    assert_eq!(
        c.cpuset,
        set("0-1", 2, "/sys/fs/cgroup/cpuset/cpuset.effective_cpus")
    );
    assert_eq!(c.affinity, set("0-1", 2, STATUS));
    assert_eq!(c.online, set("0-3", 4, ONLINE));
    assert_eq!(c.cpu_count(), Some(2));
    assert_eq!(c.effective_cores, 2.0);
    // No quota: throttling is still read from the cgroup's own cpu.stat (all zero).
    assert_eq!(
        c.throttling,
        throttling(0, 0, 0.0, "/sys/fs/cgroup/cpu,cpuacct/cpu.stat")
    );
    // The memory limit and hierarchical_memory_limit are both the unlimited sentinel.
    assert_eq!(b.memory.limit, None);
    assert_eq!(b.memory.working_set_bytes, Some(12288000 - 2850816));
    assert_eq!(b.container.id.as_deref(), Some(CPUSET_ONLY_ID));

    assert_eq!(procs(&b), [2, 2, 2]);
    let r = rec(&b);
    assert_eq!(r.gomemlimit_bytes, None);
    // Docker's v1 mounts hide the parents: "none" would claim more than was seen.
    assert_eq!(
        r.gomaxprocs_why,
        "no cpu quota seen, parent cgroups hidden; 2 CPUs allowed"
    );
}

// 7 -------------------------------------------------------------------------------------------

/// Ubuntu 20.04 (systemd hybrid: v1 controllers plus cgroup2 at /sys/fs/cgroup/unified);
/// foo.service with CPUQuota=250% and MemoryMax=1G. Limits come from v1, PSI from the
/// unified hierarchy.
#[test]
fn hybrid_systemd() {
    let b = load("hybrid-systemd");
    assert_eq!(b.cgroup.version, CgroupVersion::Hybrid);
    let cpu_dir = "/sys/fs/cgroup/cpu,cpuacct/system.slice/foo.service";
    let mem_dir = "/sys/fs/cgroup/memory/system.slice/foo.service";
    assert_eq!(dir(&b, "cpu"), Path::new(cpu_dir));
    assert_eq!(b.cgroup.controllers["cpu"].hierarchy, Hierarchy::V1);
    assert_eq!(dir(&b, "memory"), Path::new(mem_dir));
    // systemd leaves cpuset alone on v1: the process is in the root cpuset.
    assert_eq!(dir(&b, "cpuset"), Path::new("/sys/fs/cgroup/cpuset"));
    assert_eq!(
        dir(&b, "pids"),
        Path::new("/sys/fs/cgroup/pids/system.slice/foo.service")
    );
    let u = b.cgroup.unified.as_ref().unwrap();
    assert_eq!(u.hierarchy, Hierarchy::V2);
    assert_eq!(
        u.dir,
        Path::new("/sys/fs/cgroup/unified/system.slice/foo.service")
    );

    let c = &b.cpu;
    // 250000 / 100000 = 2.5 CPUs, below the 4 CPUs.
    assert_eq!(
        without_burst(&c.quota),
        quota(2.5, 250000, 100000, &format!("{cpu_dir}/cpu.cfs_quota_us"))
    );
    assert_eq!(
        c.cpuset,
        set("0-3", 4, "/sys/fs/cgroup/cpuset/cpuset.effective_cpus")
    );
    assert_eq!(c.effective_cores, 2.5);
    assert_eq!(c.shares, Some(1024));
    // cpuacct.usage 3600000000000 ns; throttled_time 150050000000 ns.
    assert_eq!(c.usage_seconds, Some(3600.0));
    assert_eq!(
        c.throttling,
        throttling(40960, 3001, 150.05, &format!("{cpu_dir}/cpu.stat"))
    );

    let m = &b.memory;
    assert_eq!(
        m.limit,
        limit(
            1073741824,
            MemoryLimitKind::LimitInBytes,
            &format!("{mem_dir}/memory.limit_in_bytes")
        )
    );
    assert_eq!(
        m.high, None,
        "memory.high is a v2 file; memory is on v1 here"
    );
    assert_eq!(m.memsw_limit_bytes, None, "no swap accounting");
    // 650117120 - 104857600
    assert_eq!(m.working_set_bytes, Some(545259520));
    assert_eq!(b.pids.max, Some(4915));
    assert_eq!(b.pids.current, Some(17));

    // PSI from /sys/fs/cgroup/unified/system.slice/foo.service, not the unified root.
    let p = &b.pressure;
    assert_eq!(p.cpu.as_ref().unwrap().some.avg10, 22.41);
    assert_eq!(p.cpu.as_ref().unwrap().some.total_us, 812004551);
    assert_eq!(p.memory.as_ref().unwrap().some.total_us, 0);
    assert_eq!(p.io.as_ref().unwrap().some.total_us, 120551);

    assert_eq!(b.container.runtime, Runtime::Systemd);
    assert_eq!(
        b.container.evidence.as_deref(),
        Some("systemd unit foo.service")
    );
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);

    // go125/ceil: ceil(2.5) = 3; floor: 2.
    assert_eq!(procs(&b), [3, 2, 3]);
    // 0.9 * 1073741824 = 966367641.6
    assert_eq!(rec(&b).gomemlimit_bytes, Some(966367641));
}

// 8 -------------------------------------------------------------------------------------------

/// RHEL 8 (v1): report.service has no memory limit of its own (sentinel); its slice has
/// MemoryLimit=1G, and memory.stat's hierarchical_memory_limit says the same.
#[test]
fn v1_parent_limit() {
    let b = load("v1-parent-limit");
    assert_eq!(b.cgroup.version, CgroupVersion::V1);
    assert_eq!(
        dir(&b, "memory"),
        Path::new("/sys/fs/cgroup/memory/batch.slice/report.service")
    );
    let m = &b.memory;
    assert_eq!(m.limit_bytes, Some(1073741824));
    // Found on the parent's own file, which is named rather than the hierarchical summary.
    assert_eq!(
        m.limit,
        limit(
            1073741824,
            MemoryLimitKind::LimitInBytes,
            "/sys/fs/cgroup/memory/batch.slice/memory.limit_in_bytes"
        )
    );
    assert_eq!(m.memsw_limit_bytes, None, "own memsw is the sentinel");
    // 905969664 - 75497472
    assert_eq!(m.working_set_bytes, Some(830472192));
    assert_eq!(m.peak_bytes, Some(1069547520));

    // No quota anywhere; 2 CPUs.
    assert_eq!(b.cpu.quota, None);
    assert_eq!(b.cpu.effective_cores, 2.0);
    assert_eq!(b.pids.max, Some(6553));
    assert_eq!(b.container.runtime, Runtime::Systemd);

    assert_eq!(procs(&b), [2, 2, 2]);
    assert_eq!(rec(&b).gomemlimit_bytes, Some(966367641));
}

/// Docker v1 with --cgroup-parent=/limited, where /limited has a 768 MiB limit: the
/// container's mount root is its own cgroup, so the parent directory cannot be seen. Only
/// hierarchical_memory_limit in the container's memory.stat shows the limit.
#[test]
fn v1_hidden_parent() {
    let b = load("v1-hidden-parent");
    let mem = &b.cgroup.controllers["memory"];
    assert_eq!(mem.cgroup_path, format!("/limited/{HIDDEN_PARENT_ID}"));
    assert_eq!(mem.levels(), [PathBuf::from("/sys/fs/cgroup/memory")]);
    let m = &b.memory;
    assert_eq!(m.limit_bytes, Some(805306368));
    assert_eq!(
        m.limit,
        limit(
            805306368,
            MemoryLimitKind::HierarchicalLimit,
            "/sys/fs/cgroup/memory/memory.stat"
        )
    );
    // 52428800 - 8388608
    assert_eq!(m.working_set_bytes, Some(44040192));

    assert_eq!(b.cpu.quota, None);
    assert_eq!(b.cpu.effective_cores, 4.0);
    // No /docker/ in the path and no .dockerenv: the bind mounts name the container.
    assert_eq!(b.container.runtime, Runtime::Docker);
    assert_eq!(b.container.id.as_deref(), Some(HIDDEN_PARENT_ID));
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);

    assert_eq!(procs(&b), [4, 4, 4]);
    // floor(0.9 * 805306368) = floor(724775731.2)
    let r = rec(&b);
    assert_eq!(r.gomemlimit_bytes, Some(724775731));
    assert_eq!(r.gomemlimit_why, "90% of hierarchical_memory_limit 768 MiB");
}

// 9 -------------------------------------------------------------------------------------------

/// A login session on a 2-CPU Ubuntu 22.04 laptop: v2, nothing limited. The cpu and cpuset
/// controllers are not enabled below the root, so their files are missing, not "max".
#[test]
fn no_limits() {
    let b = load("no-limits");
    assert_eq!(b.cgroup.version, CgroupVersion::V2);
    let c = &b.cpu;
    assert_eq!(c.quota, None);
    // The nearest cpuset.cpus.effective is the root's.
    assert_eq!(
        c.cpuset,
        set("0-1", 2, "/sys/fs/cgroup/cpuset.cpus.effective")
    );
    assert_eq!(c.effective_cores, 2.0);
    assert_eq!(c.weight, None);
    // The session's cpu.stat has usage but no throttling lines (cpu controller off).
    assert_eq!(c.usage_seconds, Some(118.224551));
    assert_eq!(c.throttling, None);

    let m = &b.memory;
    assert_eq!((m.limit_bytes, &m.limit, &m.high), (None, &None, &None));
    assert_eq!(m.swap_max_bytes, None);
    // 243269632 - 50331648
    assert_eq!(m.working_set_bytes, Some(192937984));
    // The user slice's TasksMax.
    assert_eq!(b.pids.max, Some(10230));
    assert_eq!(
        b.pids.max_source,
        Some(PathBuf::from(
            "/sys/fs/cgroup/user.slice/user-1000.slice/pids.max"
        ))
    );
    assert_eq!(b.pressure.cpu.as_ref().unwrap().some.avg60, 0.02);
    assert_eq!(b.container.runtime, Runtime::Systemd);

    assert_eq!(procs(&b), [2, 2, 2]);
    let r = rec(&b);
    assert_eq!(r.gomemlimit_bytes, None);
    assert_eq!(r.gomemlimit_why, "no memory limit");
}

// 10 ------------------------------------------------------------------------------------------

/// --cpus 8 on an 8-CPU host, but the process is pinned to CPUs 0-3 (taskset): the quota
/// (8) is above the affinity (4), so the affinity decides.
#[test]
fn quota_above_affinity() {
    let b = load("quota-above-affinity");
    let c = &b.cpu;
    assert_eq!(
        without_burst(&c.quota),
        quota(8.0, 800000, 100000, "/sys/fs/cgroup/cpu.max")
    );
    assert_eq!(
        c.cpuset,
        set("0-7", 8, "/sys/fs/cgroup/cpuset.cpus.effective")
    );
    assert_eq!(c.affinity, set("0-3", 4, STATUS));
    assert_eq!(c.online, set("0-7", 8, ONLINE));
    // min(8, 8, 4, 8)
    assert_eq!(c.effective_cores, 4.0);
    // go125: min(4, max(2, ceil 8)); floor: min(4, 8); ceil: min(4, 8).
    assert_eq!(procs(&b), [4, 4, 4]);
    assert_eq!(rec(&b).gomemlimit_bytes, None);
}

// 11 ------------------------------------------------------------------------------------------

/// Periods other than the default 100 ms.
#[test]
fn odd_periods() {
    // v1, cfs_period_us 50000, cfs_quota_us 75000: 1.5 CPUs of 4.
    let b = load("odd-period-50ms");
    assert_eq!(
        without_burst(&b.cpu.quota),
        quota(
            1.5,
            75000,
            50000,
            "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us"
        )
    );
    assert_eq!(b.cpu.effective_cores, 1.5);
    assert_eq!(
        b.cpu.throttling,
        throttling(1200, 310, 7.75, "/sys/fs/cgroup/cpu,cpuacct/cpu.stat")
    );
    // go125: ceil(75000/50000) = 2; floor: 1; ceil: 2.
    assert_eq!(procs(&b), [2, 1, 2]);

    // v2, cpu.max "2500000 1000000": 2.5 CPUs of 8.
    let b = load("odd-period-1s");
    assert_eq!(
        without_burst(&b.cpu.quota),
        quota(2.5, 2500000, 1000000, "/sys/fs/cgroup/cpu.max")
    );
    assert_eq!(b.cpu.effective_cores, 2.5);
    assert_eq!(
        b.cpu.throttling,
        throttling(612, 57, 14.25, "/sys/fs/cgroup/cpu.stat")
    );
    // go125: ceil(2.5) = 3; floor: 2; ceil: 3.
    assert_eq!(procs(&b), [3, 2, 3]);
}

// 12 ------------------------------------------------------------------------------------------

/// containerd on a v1 node with the cgroupfs driver but systemd-style parents writes paths
/// like `/kubepods-...slice:cri-containerd:<id>` (opentelemetry-collector#6389). Split on
/// every colon, the path would not match the mount root and the mapping would fall back.
#[test]
fn colon_path_v1() {
    let b = load("colon-path-v1");
    let path = format!(
        "/kubepods-burstable-pod4f4de620_8801_4afa_a9c5_e7bbae3a38bb.slice:cri-containerd:{COLON_V1_ID}"
    );
    assert_eq!(b.cgroup.version, CgroupVersion::V1);
    for name in ["cpu", "cpuacct", "memory", "cpuset", "pids"] {
        assert_eq!(b.cgroup.controllers[name].cgroup_path, path, "{name}");
    }
    // The mount root is that same path, so the directory is the mount point; no warning.
    assert_eq!(dir(&b, "cpu"), Path::new("/sys/fs/cgroup/cpu,cpuacct"));
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);

    // 50000 / 100000 = 0.5 CPU (a 500m limit), shares 102 (a 100m request).
    assert_eq!(
        without_burst(&b.cpu.quota),
        quota(
            0.5,
            50000,
            100000,
            "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us"
        )
    );
    assert_eq!(b.cpu.effective_cores, 0.5);
    assert_eq!(b.cpu.shares, Some(102));
    assert_eq!(b.memory.limit_bytes, Some(134217728));
    assert_eq!(b.container.runtime, Runtime::Kubernetes);
    // The id follows `:cri-containerd:` in the systemd driver's colon form.
    assert_eq!(b.container.id.as_deref(), Some(COLON_V1_ID));

    // go125: max(2, 1) = 2; floor: max(1, 0) = 1; ceil: 1.
    assert_eq!(procs(&b), [2, 1, 1]);
    // 0.9 * 134217728 = 120795955.2
    assert_eq!(rec(&b).gomemlimit_bytes, Some(120795955));
}

/// GNOME Console on Fedora: systemd escapes the D-Bus name `:1.2` and leaves a colon in the
/// slice name (`app-dbus\x2d:1.2\x2dorg.gnome.Console.slice`), on v2 with root `/`.
#[test]
fn colon_path_v2() {
    let b = load("colon-path-v2");
    let app = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice";
    let scope = format!(
        r"{app}/app-dbus\x2d:1.2\x2dorg.gnome.Console.slice/vte-spawn-0b9e6b41-7a52-4f8e-bd0c-2f5a4c1d9e77.scope"
    );
    assert_eq!(dir(&b, "memory"), Path::new(&scope));
    // scope, Console slice, app.slice, user@1000.service, user-1000.slice, user.slice, root
    assert_eq!(b.cgroup.controllers["memory"].levels().len(), 7);
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);
    // MemoryMax=2G on app.slice, two levels up.
    assert_eq!(
        b.memory.limit,
        limit(
            2147483648,
            MemoryLimitKind::MemoryMax,
            &format!("{app}/memory.max")
        )
    );
    assert_eq!(b.cpu.quota, None);
    assert_eq!(b.cpu.effective_cores, 8.0);
    assert_eq!(b.pids.max, Some(38119));
    assert_eq!(b.container.runtime, Runtime::Systemd);
    assert_eq!(procs(&b), [8, 8, 8]);
    // 0.9 * 2147483648 = 1932735283.2
    assert_eq!(rec(&b).gomemlimit_bytes, Some(1932735283));
}

// 13 ------------------------------------------------------------------------------------------

/// cfs_period_us 0 (the kernel refuses it, but emulated cgroupfs trees have shown it): a
/// quota of 150000 over a zero period is no quota at all.
#[test]
fn zero_period() {
    let b = load("zero-period");
    assert_eq!(b.cpu.quota, None);
    assert_eq!(b.cpu.effective_cores, 4.0);
    assert_eq!(procs(&b), [4, 4, 4]);
    // The memory limit is read as usual.
    assert_eq!(rec(&b).gomemlimit_bytes, Some(241591910));
}

// 14 ------------------------------------------------------------------------------------------

/// Everything unlimited, written the ways the kernel writes it.
#[test]
fn unlimited_sentinels() {
    // v1: cfs_quota_us -1; limit_in_bytes, memsw and both hierarchical limits are
    // 9223372036854771712 (i64::MAX rounded down to 4 KiB pages).
    let b = load("unlimited-v1");
    assert_eq!(b.cgroup.version, CgroupVersion::V1);
    assert_eq!(b.cpu.quota, None);
    assert_eq!(b.cpu.effective_cores, 4.0);
    assert_eq!(b.memory.limit_bytes, None);
    assert_eq!(b.memory.limit, None);
    assert_eq!(b.memory.memsw_limit_bytes, None);
    assert_eq!(b.pids.max, None);
    assert_eq!(procs(&b), [4, 4, 4]);
    assert_eq!(rec(&b).gomemlimit_bytes, None);

    // v2: cpu.max "max 100000"; memory.max, memory.high, memory.swap.max, pids.max "max".
    let b = load("unlimited-v2");
    assert_eq!(b.cgroup.version, CgroupVersion::V2);
    assert_eq!(b.cpu.quota, None);
    assert_eq!(b.cpu.effective_cores, 4.0);
    assert_eq!(b.memory.limit_bytes, None);
    assert_eq!(b.memory.high, None);
    assert_eq!(b.memory.swap_max_bytes, None);
    assert_eq!(b.pids.max, None);
    assert_eq!(procs(&b), [4, 4, 4]);
    assert_eq!(rec(&b).gomemlimit_bytes, None);
}

/// Fedora (v2, SELinux) with a legacy `name=systemd` v1 hierarchy mounted for old
/// containers. SELinux adds `seclabel` to every super-option list, so the named hierarchy's
/// options are `rw,seclabel,name=systemd`: no controller there, so the version is v2 (DESIGN:
/// "hybrid" means controllers on v1 plus a cgroup2 mount).
#[test]
fn v2_with_a_named_v1_hierarchy_under_selinux() {
    let b = load("v2-selinux-named-systemd");
    assert_eq!(b.cgroup.version, CgroupVersion::V2);
    let svc = "/sys/fs/cgroup/system.slice/api.service";
    assert_eq!(b.cgroup.controllers["cpu"].hierarchy, Hierarchy::V2);
    assert_eq!(dir(&b, "cpu"), Path::new(svc));
    // CPUQuota=100%: 100000/100000 = 1 CPU of 4.
    assert_eq!(
        without_burst(&b.cpu.quota),
        quota(1.0, 100000, 100000, &format!("{svc}/cpu.max"))
    );
    assert_eq!(b.cpu.effective_cores, 1.0);
    // go125: max(2, 1) = 2; floor and ceil: 1.
    assert_eq!(procs(&b), [2, 1, 1]);
    // floor(0.9 * 805306368) = floor(724775731.2)
    assert_eq!(rec(&b).gomemlimit_bytes, Some(724775731));
    assert_eq!(b.container.runtime, Runtime::Systemd);
}

// 15 ------------------------------------------------------------------------------------------

/// (fixture, file that is broken, text the error must quote)
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

/// One broken file each: the error names the file (under the fixture root) and quotes the
/// bad text.
#[test]
fn malformed_files_are_named_and_quoted() {
    for (case, file, bad) in MALFORMED {
        let name = format!("malformed/{case}");
        let err = try_probe(&name, Detail::Full).expect_err(&name);
        let path = fixture(&name).join(file);
        match &err {
            Error::Parse { path: p, .. } => assert_eq!(p, &path, "{case}"),
            other => panic!("{case}: expected a parse error, got {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("{}: ", path.display())),
            "{case}: {text}"
        );
        assert!(text.contains(bad), "{case}: {text:?} does not quote {bad}");
        assert_eq!(text.lines().count(), 1, "{case}: {text:?}");
    }
    // The mountinfo error also says which line.
    let err = try_probe("malformed/mountinfo", Detail::Full).unwrap_err();
    assert!(
        err.to_string().contains("line 6: no ' - ' separator"),
        "{err}"
    );
}

/// `exec` reads only the limits, so a broken cpu.stat (statistics) cannot stop it.
#[test]
fn limits_detail_skips_statistics() {
    let b = try_probe("malformed/cpu-stat", Detail::Limits).unwrap();
    assert_eq!(b.cpu.throttling, None);
    assert_eq!(procs(&b), [2, 1, 1]);
    assert!(matches!(
        try_probe("malformed/cpu-max", Detail::Limits),
        Err(Error::Parse {
            error: ParseError(_),
            ..
        })
    ));
}

/// Detail::Limits (exec) and Detail::Full (inspect) agree on the limits and the advice.
#[test]
fn limits_and_full_detail_agree() {
    for name in VALID {
        let limits = try_probe(name, Detail::Limits).unwrap_or_else(|e| panic!("{name}: {e}"));
        if name.starts_with("malformed/") {
            continue;
        }
        let full = load(name);
        assert_eq!(limits.cgroup.version, full.cgroup.version, "{name}");
        assert_eq!(limits.cpu.quota, full.cpu.quota, "{name}");
        assert_eq!(
            limits.cpu.effective_cores, full.cpu.effective_cores,
            "{name}"
        );
        assert_eq!(limits.memory.limit, full.memory.limit, "{name}");
        assert_eq!(limits.memory.high, full.memory.high, "{name}");
        assert_eq!(rec(&limits), rec(&full), "{name}");
    }
}

/// Whether limits above the visible cgroups can be hidden, per vantage point: Docker's v1
/// mounts show only the container's cgroup; a private cgroup namespace starts at the
/// container; a host (or the host's tree bind-mounted) shows everything.
#[test]
fn hidden_ancestors_per_vantage_point() {
    let hidden = [
        "docker-v1",
        "v1-hidden-parent",
        "cpuset-only",
        "colon-path-v1",
        "v2-private-ns",
        "odd-period-1s",
        "unlimited-v2",
    ];
    let visible = [
        "hybrid-systemd",
        "host-bind-nested",
        "v1-parent-limit",
        "k8s-v2-pod-limit",
        "no-limits",
        "v2-memory-high",
        "colon-path-v2",
        "v2-selinux-named-systemd",
    ];
    for name in hidden {
        assert!(load(name).cgroup.ancestors_hidden, "{name}");
    }
    for name in visible {
        assert!(!load(name).cgroup.ancestors_hidden, "{name}");
    }
}

/// v2-private-ns (0.5 CPUs): 2 is above the quota on purpose and both the reason and exec's
/// short note say why; docker-v1 (1.5 CPUs) under floor names the policy in the note.
#[test]
fn two_above_a_small_quota_is_explained_and_the_policy_named() {
    let r = rec(&load("v2-private-ns"));
    assert_eq!(r.gomaxprocs, 2);
    assert!(
        r.gomaxprocs_reason
            .ends_with(&format!("; 2, not 1: {}", policy::WHY_TWO)),
        "{}",
        r.gomaxprocs_reason
    );
    assert_eq!(
        r.gomaxprocs_why,
        "cpu quota 0.5; 2, not 1, so the GC does not stall the program"
    );
    let floor = policy::recommend(
        &load("docker-v1"),
        &Options {
            cpu_policy: CpuPolicy::Floor,
            ..Options::default()
        },
    );
    assert_eq!(floor.gomaxprocs, 1);
    assert_eq!(floor.gomaxprocs_why, "cpu quota 1.5, policy floor");
    assert!(
        !rec(&load("docker-v1"))
            .gomaxprocs_reason
            .contains("2, not 1")
    );
}
