//! `boxwise run` on the real machine: limits that bite, namespaces, signals, and no
//! cgroup left behind after any of it. Needs root and writable cgroups (skips otherwise,
//! fails under BOXWISE_REQUIRE_PRIVILEGED=1).

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_boxwise");

/// True when this machine lets `boxwise run` create cgroups (checked once).
fn can_run() -> bool {
    static OK: OnceLock<Result<(), String>> = OnceLock::new();
    let ok = OK.get_or_init(|| {
        let out = support::run(Command::new(BIN).args(["run", "--", "true"]));
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    });
    match ok {
        Ok(()) => true,
        Err(why) => support::require(false, &format!("`boxwise run -- true` failed: {why}")),
    }
}

fn worker() -> Option<PathBuf> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(|| support::build_go_program("worker"))
        .clone()
}

/// A finished `boxwise run`, its stats and its pid (to look for leftover cgroups).
struct Ran {
    out: Output,
    stats: Option<Value>,
    pid: u32,
}

impl Ran {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    fn stat(&self, key: &str) -> &Value {
        let stats = self.stats.as_ref().expect("no --stats-json written");
        stats
            .get(key)
            .unwrap_or_else(|| panic!("stats have no {key}: {stats}"))
    }

    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }
}

/// `boxwise run --stats-json FILE <args>`; asserts the run left no cgroup behind.
fn boxwise_run(args: &[&str]) -> Ran {
    let dir = tempfile::tempdir().expect("temp dir");
    let stats_file = dir.path().join("stats.json");
    let child = Command::new(BIN)
        .arg("run")
        .arg("--stats-json")
        .arg(&stats_file)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start boxwise");
    let pid = child.id();
    let out = child.wait_with_output().expect("wait for boxwise");
    let stats = std::fs::read_to_string(&stats_file)
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap_or_else(|e| panic!("stats JSON: {e}\n{t}")));
    assert_eq!(
        support::boxwise_run_cgroups(pid),
        Vec::<PathBuf>::new(),
        "cgroups left behind by boxwise run {args:?}"
    );
    Ran { out, stats, pid }
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn half_a_cpu_holds_two_burning_cores_to_half() {
    if !can_run() || !support::require(support::affinity_count() >= 2, "needs 2 CPUs") {
        return;
    }
    let Some(worker) = worker() else { return };
    let w = worker.to_str().unwrap();
    // Judged by the cgroup's own counters, not the wall clock, so a busy machine cannot
    // make the test pass or fail by itself.
    let r = boxwise_run(&["--cpus", "0.5", "-e", "GOMAXPROCS=2", "--", w, "burn", "2"]);
    assert_eq!(r.code(), Some(0), "{}", r.stderr());
    assert_eq!(r.stat("limits")["cpu_quota_us"], 50_000);
    assert_eq!(r.stat("limits")["cpu_period_us"], 100_000);
    let cpu = r.stat("cpu_seconds").as_f64().unwrap();
    let periods = r.stat("nr_periods").as_u64().unwrap();
    let throttled = r.stat("throttled_periods").as_u64().unwrap();
    // Two threads that never sleep want 200 ms per 100 ms period and the quota gives 50:
    // the kernel throttled the group, whatever else the machine was doing.
    assert!(periods > 0, "nr_periods {periods}");
    assert!(
        throttled > 0 && throttled <= periods,
        "{throttled} of {periods} periods throttled"
    );
    assert!(r.stat("throttled_seconds").as_f64().unwrap() > 0.0);
    // The ceiling: at most 50 ms of CPU per active period. Slack of 1/4 (12.5 ms per
    // period) for the per-CPU slices the kernel hands out before it checks the quota.
    let ceiling = periods as f64 * 0.050 * 1.25;
    assert!(
        cpu > 0.0 && cpu <= ceiling,
        "cpu {cpu} s over {periods} periods of 50 ms quota (ceiling {ceiling} s)"
    );
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn memory_limit_oom_kills_a_300_mib_allocation() {
    if !can_run() {
        return;
    }
    let Some(worker) = worker() else { return };
    let r = boxwise_run(&[
        "--memory",
        "64m",
        "--",
        worker.to_str().unwrap(),
        "alloc",
        "300",
    ]);
    assert_eq!(r.code(), Some(137), "{}", r.stderr());
    assert_eq!(r.stat("exit_code"), 137);
    assert_eq!(r.stat("oom_killed"), true);
    let peak = r.stat("peak_memory_bytes").as_u64().unwrap();
    // The kernel charges in batches, so the peak may pass the limit by a few pages.
    assert!(
        peak > 32 << 20 && peak <= (64 << 20) + (1 << 20),
        "peak {peak}"
    );
    assert_eq!(r.stat("limits")["memory_bytes"], 64 << 20);
    let err = r.stderr();
    assert!(err.contains("OOM") && err.contains("64 MiB"), "{err}");
    assert!(
        !r.stdout().contains("ready"),
        "the allocation finished: {}",
        r.stdout()
    );
}

#[test]
#[ignore = "needs root and cgroups"]
fn no_oom_and_the_exit_status_passes_through() {
    if !can_run() {
        return;
    }
    let r = boxwise_run(&["--memory", "64m", "--", "sh", "-c", "echo out; exit 3"]);
    assert_eq!(r.code(), Some(3));
    assert_eq!(r.stdout(), "out\n");
    assert_eq!(r.stat("exit_code"), 3);
    assert_eq!(r.stat("oom_killed"), false);
    // The summary's "OOM kills  none", and no OOM note.
    assert!(
        r.stderr().contains("\n  OOM kills  none\n"),
        "{}",
        r.stderr()
    );
    assert!(!r.stderr().contains("boxwise: OOM"), "{}", r.stderr());
    assert!(r.stat("cpu_seconds").as_f64().unwrap() > 0.0);
    // Docker's default: swap up to the memory limit again, 64 MiB + 64 MiB = 128 MiB in
    // total, when the kernel has swap accounting (the swap file exists); without it,
    // `run` drops the default and reports none.
    assert_eq!(
        r.stat("limits")["memory_swap_bytes"].as_u64(),
        support::swap_accounting().then_some(128 << 20),
        "swap accounting: {}",
        support::swap_accounting()
    );
}

#[test]
#[ignore = "needs root and cgroups"]
fn isolate_pid_makes_the_child_pid_1_with_its_own_proc() {
    if !can_run() {
        return;
    }
    let proc_mounts = || std::fs::read_to_string("/proc/self/mounts").unwrap();
    let before = proc_mounts();
    let r = boxwise_run(&[
        "--isolate",
        "pid",
        "--",
        "sh",
        "-c",
        "echo $$; ls /proc | grep -c '^[0-9]'",
    ]);
    assert_eq!(r.code(), Some(0), "{}", r.stderr());
    let out = r.stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1", "{out}");
    // sh, ls and grep at most: the host's processes are not visible.
    let visible: u32 = lines[1].parse().unwrap();
    assert!(
        (1..=3).contains(&visible),
        "{visible} pids in the new /proc"
    );
    assert_eq!(
        proc_mounts(),
        before,
        "the new /proc leaked into our namespace"
    );
    let ns = &r.stat("limits")["namespaces"];
    assert_eq!(ns, &serde_json::json!(["pid", "mount"]));
}

#[test]
#[ignore = "needs root and cgroups"]
fn isolate_net_leaves_only_loopback_up() {
    if !can_run() {
        return;
    }
    let have_ip = Command::new("ip").arg("-V").output().is_ok();
    if !support::require(have_ip, "`ip` (iproute2) is not installed") {
        return;
    }
    let host_links = support::run(Command::new("ip").args(["-o", "link"]));
    let r = boxwise_run(&["--isolate", "net", "--", "ip", "-o", "link"]);
    assert_eq!(r.code(), Some(0), "{}", r.stderr());
    let out = r.stdout();
    let links: Vec<&str> = out.lines().collect();
    assert_eq!(links.len(), 1, "{out}");
    assert!(links[0].starts_with("1: lo:"), "{out}");
    let flags = links[0].split(['<', '>']).nth(1).unwrap();
    assert!(flags.split(',').any(|f| f == "UP"), "lo is not up: {out}");
    // The host has more than lo, so the test tells the namespaces apart.
    let host = String::from_utf8_lossy(&host_links.stdout);
    assert!(host.lines().count() > 1, "host links: {host}");
}

#[test]
#[ignore = "needs root and cgroups"]
fn pids_limit_stops_a_fork_bomb() {
    if !can_run() {
        return;
    }
    // A bounded bomb: 100 background sleeps, each counted once forked. If the limit
    // failed to apply, the damage is 100 sleeps, which the run's cleanup kills.
    let script = "i=0; while [ $i -lt 100 ]; do sleep 60 & i=$((i+1)); echo $i; done";
    let r = boxwise_run(&["--pids", "20", "--", "sh", "-c", script]);
    let out = r.stdout();
    let forked: u32 = out.lines().last().unwrap_or("0").parse().unwrap();
    assert!(
        (10..20).contains(&forked),
        "forked {forked} sleeps under --pids 20"
    );
    assert_ne!(r.code(), Some(0));
    assert!(r.stderr().contains("fork"), "{}", r.stderr());
    assert_eq!(r.stat("limits")["pids"], 20);
    let hits = r.stat("pids_limit_hits").as_u64().unwrap();
    assert!(hits > 0, "pids.events max {hits}");
    assert!(
        r.stderr().contains("boxwise: pids limit 20 was hit"),
        "{}",
        r.stderr()
    );
}

/// A Go program that needs more threads than `--pids` allows dies with "failed to create
/// new OS thread"; the stats and one stderr line say the pids limit did it.
#[test]
#[ignore = "needs root and cgroups, Go"]
fn a_pids_limit_that_stops_go_threads_is_reported() {
    if !can_run() {
        return;
    }
    let Some(threads) = support::build_go_program("threads") else {
        return;
    };
    let t = threads.to_str().unwrap();
    let r = boxwise_run(&["--pids", "8", "--", t, "64"]);
    let err = r.stderr();
    assert_eq!(r.code(), Some(2), "{err}");
    assert!(err.contains("failed to create new OS thread"), "{err}");
    let hits = r.stat("pids_limit_hits").as_u64().unwrap();
    assert!(hits > 0, "pids_limit_hits {hits}");
    let line = format!("boxwise: pids limit 8 was hit {hits} time");
    assert!(err.contains(&line), "{err}");
    assert!(err.contains("`failed to create new OS thread`"), "{err}");
    // pids.peak is on newer kernels only (this host's 6.x has it, on v1 too).
    if let Some(peak) = r.stat("peak_pids").as_u64() {
        assert_eq!(peak, 8);
    }

    // With room for every thread: no hits, and no line.
    let r = boxwise_run(&["--pids", "1000", "--", t, "64"]);
    assert_eq!(r.code(), Some(0), "{}", r.stderr());
    assert_eq!(r.stdout(), "started 64\n");
    assert_eq!(r.stat("pids_limit_hits"), 0);
    if let Some(peak) = r.stat("peak_pids").as_u64() {
        assert!((65..1000).contains(&peak), "peak_pids {peak}");
    }
    assert!(!r.stderr().contains("pids limit"), "{}", r.stderr());
}

#[test]
#[ignore = "needs root and cgroups, Go"]
fn sigint_mid_run_is_forwarded_and_the_cgroup_removed() {
    if !can_run() {
        return;
    }
    let Some(worker) = worker() else { return };
    let mut child = Command::new(BIN)
        .args(["run", "--memory", "256m", "--"])
        .arg(&worker)
        .arg("sleep")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start boxwise");
    let pid = child.id();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    let during = support::boxwise_run_cgroups(pid);
    let during_pids = cgroup_pids(&during);
    support::run(Command::new("kill").args(["-INT", &pid.to_string()]));
    let out = child.wait_with_output().unwrap();
    // Go exits on SIGINT by re-raising it: 128 + 2.
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert!(!during.is_empty(), "no run cgroup found while it ran");
    assert_eq!(
        during_pids.len(),
        1,
        "worker not in the cgroup: {during_pids:?}"
    );
    assert_eq!(support::boxwise_run_cgroups(pid), Vec::<PathBuf>::new());
    assert!(!Path::new(&format!("/proc/{}", during_pids[0])).exists());
}

/// `--cpus` above a parent's quota: the kernel's bare EINVAL (v1) becomes a sentence naming
/// the parent's quota and file; nothing is left behind.
#[test]
#[ignore = "needs root and cgroups"]
fn cpus_above_a_parents_quota_names_the_parent() {
    if !can_run() || support::host_cgroup_version() == "v2" {
        // v2 accepts a child's cpu.max above its parent's (the parent still bounds it).
        support::require(can_run(), "needs boxwise run");
        return;
    }
    let name = format!("boxwise-test-lowparent-{}", std::process::id());
    let (parents, _cleanup) = parent_cgroups(&name);
    for p in &parents {
        if p.join("cpu.cfs_quota_us").exists() {
            std::fs::write(p.join("cpu.cfs_quota_us"), "50000").unwrap();
        }
        if p.join("cpuset.cpus").exists() {
            for f in ["cpuset.cpus", "cpuset.mems"] {
                let up = std::fs::read_to_string(p.parent().unwrap().join(f)).unwrap();
                std::fs::write(p.join(f), up.trim()).unwrap();
            }
        }
    }
    let out = Command::new(BIN)
        .args([
            "run", "--quiet", "--parent", &name, "--cpus", "1.5", "--", "true",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--cpus 1.5: a parent cgroup allows only 0.5 CPUs")
            && err.contains(&format!("{name}/cpu.cfs_quota_us")),
        "{err}"
    );
    assert_no_child_cgroups(&parents);
}

/// A command that cannot be started exits as a shell's would: 127 when it (or its `#!`
/// interpreter) is missing, 126 when it cannot be run; one line, naming the interpreter.
#[test]
#[ignore = "needs root and cgroups"]
fn a_command_that_cannot_start_exits_like_a_shell() {
    if !can_run() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.sh");
    std::fs::write(&script, "#!/no/such/interp\necho hi\n").unwrap();
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "not a program\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (path, code, says) in [
        (
            dir.path().join("absent"),
            127,
            "No such file or directory".to_string(),
        ),
        (
            script.clone(),
            127,
            "its interpreter /no/such/interp".to_string(),
        ),
        (plain.clone(), 126, "Permission denied".to_string()),
    ] {
        let out = Command::new(BIN)
            .args(["run", "--quiet", "--"])
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{path:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&says), "{path:?}: {err}");
    }
}

/// `kill -KILL` on the runner: the workload dies with it (no orphan burning CPU in a
/// cgroup nobody removes), and the next run removes the cgroups it left.
#[test]
#[ignore = "needs root and cgroups, Go"]
fn a_killed_runner_takes_its_workload_and_the_next_run_cleans_up() {
    if !can_run() {
        return;
    }
    let Some(worker) = worker() else { return };
    let mut child = Command::new(BIN)
        .args(["run", "--memory", "256m", "--neighbour", "cpu=0.1", "--"])
        .arg(&worker)
        .arg("sleep")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start boxwise");
    let pid = child.id();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    let during = support::boxwise_run_cgroups(pid);
    let during_pids = cgroup_pids(&during);
    assert!(
        during_pids.len() >= 2,
        "the worker and the neighbour should be running: {during_pids:?} in {during:?}"
    );
    support::run(Command::new("kill").args(["-KILL", &pid.to_string()]));
    let _ = child.wait();
    // PR_SET_PDEATHSIG delivers SIGKILL as the runner dies; the processes are gone once the
    // kernel has reaped them (polled, not timed: a count of tries, each a short sleep).
    let gone = |p: &u32| !Path::new(&format!("/proc/{p}")).exists();
    let mut tries = 0;
    while !during_pids.iter().all(gone) && tries < 500 {
        std::thread::sleep(Duration::from_millis(10));
        tries += 1;
    }
    let orphans: Vec<&u32> = during_pids.iter().filter(|p| !gone(p)).collect();
    assert!(orphans.is_empty(), "outlived their runner: {orphans:?}");
    // Its cgroups stay until the next run (a concurrent test's run may be that one).
    let before = support::boxwise_run_cgroups(pid);
    let next = boxwise_run(&["--", "true"]);
    assert_eq!(next.code(), Some(0), "{}", next.stderr());
    if !before.is_empty() {
        assert!(
            next.stderr().contains("left by a run that was killed"),
            "{}",
            next.stderr()
        );
    }
    assert_eq!(support::boxwise_run_cgroups(pid), Vec::<PathBuf>::new());
}

#[test]
#[ignore = "needs root and cgroups"]
fn parent_puts_the_run_under_a_given_cgroup() {
    if !can_run() {
        return;
    }
    let name = format!("boxwise-test-parent-{}", std::process::id());
    let (parents, _cleanup) = parent_cgroups(&name);
    let script = "cat /proc/self/cgroup";
    let r = boxwise_run(&["--parent", &name, "--", "sh", "-c", script]);
    assert_eq!(r.code(), Some(0), "{}", r.stderr());
    let memory = r
        .stdout()
        .lines()
        .find(|l| {
            l.split(':')
                .nth(1)
                .is_some_and(|c| c.split(',').any(|c| c == "memory"))
        })
        .map(str::to_string)
        .unwrap_or_default();
    assert!(
        memory.contains(&format!("/{name}/run-{}-", r.pid)),
        "memory line {memory:?}"
    );
    assert_no_child_cgroups(&parents);
}

#[test]
fn bad_values_are_usage_errors_before_anything_runs() {
    for (args, needle) in [
        (&["--memory", "12x", "--", "true"][..], "12x"),
        (&["--isolate", "pid,user", "--", "true"], "user"),
        (&["--memory-swap", "1g", "--", "true"], "--memory"),
        (&["--cpus", "0", "--", "true"], "--cpus"),
    ] {
        let out = support::run(Command::new(BIN).arg("run").args(args));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
#[ignore = "needs root and cgroups"]
fn without_root_the_error_says_what_is_needed() {
    use std::os::unix::process::CommandExt;
    if !can_run() {
        return;
    }
    let out = support::run(
        Command::new(BIN)
            .args(["run", "--", "true"])
            .uid(65534)
            .gid(65534),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("boxwise: ") && !err.contains("error:"),
        "{err}"
    );
    assert!(err.contains("needs root"), "{err}");
}

/// The pids in the given cgroups.
fn cgroup_pids(dirs: &[PathBuf]) -> Vec<u32> {
    let mut pids: Vec<u32> = dirs
        .iter()
        .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
        .flat_map(|t| {
            t.lines()
                .filter_map(|l| l.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Removes test-made cgroup directories, also when the test fails.
struct RemoveDirs(Vec<PathBuf>);

/// A cgroup `name` beside the run's own in every hierarchy this process is in, for
/// `--parent`; removed when the guard drops.
fn parent_cgroups(name: &str) -> (Vec<PathBuf>, RemoveDirs) {
    let parents: Vec<PathBuf> = support::own_cgroup_dirs()
        .into_iter()
        .map(|d| d.join(name))
        .collect();
    let guard = RemoveDirs(parents.clone());
    for p in &parents {
        std::fs::create_dir(p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
    }
    (parents, guard)
}

/// The run removed its cgroups from beneath each of `parents`.
fn assert_no_child_cgroups(parents: &[PathBuf]) {
    for p in parents {
        let left: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_dir())
            .collect();
        assert!(left.is_empty(), "{} still has {left:?}", p.display());
    }
}

impl Drop for RemoveDirs {
    fn drop(&mut self) {
        for d in &self.0 {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// The v2 delegation checks read the real kernel's files right: the root cgroup is exempt
/// (no `cgroup.type`), a cgroup with a process is occupied, and a thread root reads as
/// `domain threaded`. Uses the cgroup2 mount (hybrid hosts have one without controllers),
/// below boxwise's own unified cgroup; the only process moved is a child started for it.
#[test]
#[ignore = "needs root and cgroups"]
fn v2_checks_read_the_real_kernel() {
    use boxwise_box::{host::Host, layout, parse};
    use boxwise_lab::cgroup::delegate::{Blocked, blocked, refusal};
    use boxwise_lab::cgroup::fs::Live;
    use std::os::unix::process::CommandExt;

    if !can_run() {
        return;
    }
    let host = Host::live();
    let mounts = host
        .parse_required("/proc/self/mountinfo".as_ref(), parse::mountinfo::parse)
        .unwrap();
    let lines = host
        .parse_required("/proc/self/cgroup".as_ref(), parse::proc_cgroup::parse)
        .unwrap();
    let Some(unified) = layout::resolve(&mounts, &lines).unified else {
        support::require(false, "no cgroup2 mount");
        return;
    };
    let own = unified.dir.clone();
    if own == unified.mount_point {
        assert!(!own.join("cgroup.type").exists());
        assert_eq!(blocked(&Live, &own).unwrap(), None, "the root is exempt");
    }
    let dir = own.join(format!("boxwise-test-v2-{}", std::process::id()));
    let child = dir.join("t");
    let _cleanup = RemoveDirs(vec![child.clone(), dir.clone()]);
    std::fs::create_dir(&dir).unwrap();
    assert_eq!(
        blocked(&Live, &dir).unwrap(),
        None,
        "an empty domain cgroup"
    );

    let procs = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("cgroup.procs"))
        .unwrap();
    let mut sleep = Command::new("sleep");
    sleep.arg("30");
    // SAFETY: only write(2) between fork and exec.
    unsafe {
        sleep.pre_exec(move || {
            use std::io::Write;
            (&procs).write_all(b"0")
        });
    }
    let mut sleep = sleep.spawn().unwrap();
    let occupied = blocked(&Live, &dir);
    let _ = sleep.kill();
    let _ = sleep.wait();
    let occupied = occupied
        .unwrap()
        .expect("a cgroup with a process is occupied");
    assert_eq!(
        occupied,
        Blocked::Occupied {
            processes: 1,
            leftover: vec![]
        }
    );
    let e = refusal(&dir, &unified.mount_point, &occupied).to_string();
    assert!(
        e.contains(&format!(
            "below {}: that cgroup holds 1 process,",
            dir.display()
        )),
        "{e}"
    );
    assert!(e.contains("--parent") && !e.contains('\n'), "{e}");

    // A threaded child makes its parent a thread root.
    std::fs::create_dir(&child).unwrap();
    std::fs::write(child.join("cgroup.type"), "threaded").unwrap();
    let settled = (0..100).find_map(|_| {
        let b = blocked(&Live, &dir).unwrap();
        // The killed sleep may take a moment to leave.
        if matches!(b, Some(Blocked::Occupied { .. })) {
            std::thread::sleep(Duration::from_millis(10));
            None
        } else {
            Some(b)
        }
    });
    assert_eq!(
        settled.flatten(),
        Some(Blocked::Type("domain threaded".into()))
    );
    assert_eq!(
        blocked(&Live, &child).unwrap(),
        Some(Blocked::Type("threaded".into()))
    );
}
