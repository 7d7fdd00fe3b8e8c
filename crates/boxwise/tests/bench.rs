//! `boxwise bench io` and `bench net` on the real machine: the JSON contract with real,
//! non-zero values, orderings that must hold (an fsync'd write never beats a plain one on
//! a disk), fio on the same directory in the same run, and no namespace or link left
//! behind after a run or after Ctrl-C.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_boxwise");

fn json(cmd: &mut Command) -> Value {
    let out = support::run(cmd);
    let text = support::stdout_ok(cmd, &out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {v}"))
}

/// A directory on a real disk (not tmpfs), so syncs have a device to wait for.
fn disk_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("boxwise-bench-test")
        .tempdir_in(support::workspace_root().join("target"))
        .expect("temp dir under target/")
}

fn fs_type(dir: &Path) -> String {
    let out = support::run(Command::new("stat").args(["-f", "-c", "%T"]).arg(dir));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn io_case<'a>(doc: &'a Value, block: u64, sync: &str) -> &'a Value {
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["block_bytes"] == block && r["sync"] == sync)
        .unwrap_or_else(|| panic!("no case {block} {sync} in {doc}"))
}

#[test]
fn bench_io_json_contract_and_sync_ordering() {
    let dir = disk_dir();
    let doc = json(
        Command::new(BIN)
            .args([
                "bench",
                "io",
                "--block",
                "4k,64k",
                "--sync",
                "none,fsync,fdatasync,O_DSYNC",
            ])
            .args([
                "--duration",
                "300ms",
                "--file-size",
                "4m",
                "--buffers",
                "4k,64k",
                "--json",
            ])
            .arg("--dir")
            .arg(dir.path()),
    );
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 8, "{doc}");
    for r in results {
        assert_eq!(r["dir"], dir.path().to_str().unwrap());
        assert!(
            r["fs_type"]
                .as_str()
                .is_some_and(|t| !t.is_empty() && t != "unknown"),
            "{r}"
        );
        assert!(
            [4096, 65536].contains(&r["block_bytes"].as_u64().unwrap()),
            "{r}"
        );
        let p50 = num(r, "p50_us");
        assert!(p50 > 0.0 && num(r, "p99_us") >= p50, "{r}");
        assert!(num(r, "throughput_bytes_per_second") > 0.0, "{r}");
        assert!(r["writes"].as_u64().unwrap() >= 1, "{r}");
    }
    let buffered = doc["buffered"].as_array().unwrap();
    assert_eq!(buffered.len(), 2);
    // 64 MiB of 128-byte records: a 4 KiB buffer makes 16x the write calls of 64 KiB.
    let calls = |i: usize| buffered[i]["write_calls"].as_u64().unwrap();
    assert_eq!(calls(0), 16 * calls(1), "{doc}");
    assert_eq!(doc["interrupted"], false);
    // The test file is gone.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let fs = fs_type(dir.path());
    if fs == "tmpfs" || fs == "ramfs" {
        eprintln!(
            "SKIP ordering: {} is {fs}, syncs cost nothing there",
            dir.path().display()
        );
        return;
    }
    for block in [4096, 65536] {
        let none = num(io_case(&doc, block, "none"), "p50_us");
        for sync in ["fsync", "fdatasync", "O_DSYNC"] {
            let synced = num(io_case(&doc, block, sync), "p50_us");
            assert!(
                synced >= none,
                "{block} {sync}: p50 {synced} < plain {none}\n{doc}"
            );
        }
    }
}

#[test]
fn bench_io_usage_errors_name_the_value() {
    let out = support::run(Command::new(BIN).args(["bench", "io", "--block", "4x"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"4x\""));
    let out = support::run(Command::new(BIN).args(["bench", "io", "--dir", "/nonexistent/x"]));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/x") && err.lines().count() == 1,
        "{err}"
    );
}

/// fio's median completion latency for sequential 4 KiB writes in `dir`, with or without
/// an fsync after each write.
fn fio_p50_us(dir: &Path, fsync: bool) -> f64 {
    let file = dir.join("fio.tmp");
    let mut cmd = Command::new("fio");
    cmd.args([
        "--name=w",
        "--rw=write",
        "--bs=4k",
        "--size=4m",
        "--ioengine=psync",
    ])
    .args(["--time_based", "--runtime=1", "--output-format=json"])
    .arg(format!("--fsync={}", u8::from(fsync)))
    .arg(format!("--filename={}", file.display()));
    let doc = json(&mut cmd);
    let _ = std::fs::remove_file(&file);
    let job = &doc["jobs"][0]["write"];
    // With --fsync the sync is a separate sync entry; a write's cost to the program is
    // the write plus its sync, as boxwise measures it.
    let clat = job["clat_ns"]["percentile"]["50.000000"].as_f64().unwrap();
    let sync = doc["jobs"][0]["sync"]["lat_ns"]["percentile"]["50.000000"]
        .as_f64()
        .unwrap_or(0.0);
    (clat + if fsync { sync } else { 0.0 }) / 1000.0
}

#[test]
#[ignore = "needs fio"]
fn bench_io_against_fio_on_the_same_directory() {
    let have = Command::new("fio")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !support::require(have, "fio not installed (apt-get install fio)") {
        return;
    }
    let dir = disk_dir();
    if !support::require(fs_type(dir.path()) != "tmpfs", "target/ is on tmpfs") {
        return;
    }
    let doc = json(
        Command::new(BIN)
            .args(["bench", "io", "--block", "4k", "--sync", "none,fsync"])
            .args([
                "--duration",
                "1s",
                "--file-size",
                "4m",
                "--buffers",
                "none",
                "--json",
            ])
            .arg("--dir")
            .arg(dir.path()),
    );
    let ours_none = num(io_case(&doc, 4096, "none"), "p50_us");
    let ours_fsync = num(io_case(&doc, 4096, "fsync"), "p50_us");
    let fio_none = fio_p50_us(dir.path(), false);
    let fio_fsync = fio_p50_us(dir.path(), true);
    eprintln!(
        "4k p50 us: boxwise none {ours_none} fsync {ours_fsync}; fio none {fio_none} fsync {fio_fsync}"
    );
    // Both tools see the same thing: a sync costs more than a plain write, on both.
    assert!(fio_none > 0.0 && fio_fsync > 0.0);
    assert!(ours_fsync >= ours_none && fio_fsync >= fio_none);
}

/// Whether this process may create network namespaces with iproute2 and nftables.
fn net_ready() -> bool {
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
    });
    let tools = ["ip", "nft"].iter().all(|t| {
        Command::new(t)
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    support::require(root && tools, "bench net needs root, iproute2 and nftables")
}

fn netns_of(pid: u32) -> Vec<String> {
    let prefix = format!("boxwise-{pid}-");
    std::fs::read_dir("/run/netns")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

fn host_links() -> Vec<String> {
    let out = support::run(Command::new("ip").args(["-o", "link", "show"]));
    let mut links: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1).map(str::to_string))
        // Docker's own veths come and go with other tests' containers.
        .filter(|n| !n.starts_with("veth"))
        .collect();
    links.sort();
    links
}

#[test]
#[ignore = "needs root, iproute2 and nftables"]
fn bench_net_modes_json_and_nothing_left() {
    if !net_ready() {
        return;
    }
    let links = host_links();
    let mut cmd = Command::new(BIN);
    cmd.args([
        "bench",
        "net",
        "--modes",
        "host,veth,bridge",
        "--duration",
        "300ms",
        "--json",
    ]);
    let (pid, doc) = support::spawn_json(&mut cmd);
    let results = doc["results"].as_array().unwrap();
    let modes: Vec<&str> = results
        .iter()
        .map(|r| r["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["host", "veth", "bridge"]);
    for r in results {
        let p50 = num(r, "p50_us");
        assert!(p50 > 0.0 && num(r, "p99_us") >= p50, "{r}");
        assert!(num(r, "throughput_bytes_per_second") > 0.0, "{r}");
        assert!(r["round_trips"].as_u64().unwrap() > 0, "{r}");
    }
    // Only loopback and boxwise's own namespaces' addresses were used.
    assert!(
        results[0]["address"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert_eq!(results[1]["address"], "10.231.0.1:47001");
    assert_eq!(results[2]["address"], "10.231.2.1:47001");
    assert!(netns_of(pid).is_empty(), "left behind: {:?}", netns_of(pid));
    assert_eq!(host_links(), links, "ip link changed");
}

#[test]
#[ignore = "needs root, iproute2 and nftables"]
fn bench_net_ctrl_c_removes_namespaces() {
    if !net_ready() {
        return;
    }
    let links = host_links();
    let child = Command::new(BIN)
        .args(["bench", "net", "--modes", "bridge", "--duration", "20s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Wait until the namespaces exist (the bridge mode makes three), then Ctrl-C.
    let deadline = Instant::now() + Duration::from_secs(30);
    while netns_of(pid).len() < 3 {
        assert!(Instant::now() < deadline, "namespaces never appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(netns_of(pid).is_empty(), "left behind: {:?}", netns_of(pid));
    assert_eq!(host_links(), links, "ip link changed");
}

/// `kill -KILL` leaves the namespaces (no drop runs); the next `bench net` removes them.
#[test]
#[ignore = "needs root, iproute2 and nftables"]
fn bench_net_after_a_killed_run_removes_its_namespaces() {
    if !net_ready() {
        return;
    }
    let mut child = Command::new(BIN)
        .args(["bench", "net", "--modes", "veth", "--duration", "20s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    while netns_of(pid).len() < 2 {
        assert!(Instant::now() < deadline, "namespaces never appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    let _ = child.wait();
    // A concurrent test's bench run may remove them first; if not, this run must.
    let before = netns_of(pid);
    let out = Command::new(BIN)
        .args(["bench", "net", "--modes", "veth", "--duration", "1s"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    if !before.is_empty() {
        assert!(err.contains("left by a killed run"), "{err}");
    }
    assert!(netns_of(pid).is_empty(), "still there: {:?}", netns_of(pid));
}

/// Containers and images a `bench net` run with process id `pid` made (empty once it
/// has cleaned up).
fn docker_leftovers(pid: u32) -> Vec<String> {
    let mut out = Vec::new();
    let label = format!("label=boxwise-bench={pid}");
    for args in [
        vec!["ps", "-aq", "--filter", label.as_str()],
        vec!["images", "-q", "--filter", label.as_str()],
    ] {
        let o = support::run(Command::new("docker").args(&args));
        out.extend(
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(|s| format!("{} {s}", args[0])),
        );
    }
    out
}

#[test]
#[ignore = "needs Docker"]
fn bench_net_docker_modes_json_and_nothing_left() {
    if !support::docker_or_skip() {
        return;
    }
    let stat = support::static_boxwise();
    // The test binary is dynamically linked: refused, in one line, before anything is made.
    let out = support::run(Command::new(BIN).args(["bench", "net", "--modes", "docker"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("statically") && err.lines().count() == 1,
        "{err}"
    );
    let mut cmd = Command::new(BIN);
    cmd.args([
        "bench",
        "net",
        "--modes",
        "docker",
        "--duration",
        "300ms",
        "--json",
    ])
    .arg("--docker-binary")
    .arg(&stat);
    let (pid, doc) = support::spawn_json(&mut cmd);
    let results = doc["results"].as_array().unwrap();
    let modes: Vec<&str> = results
        .iter()
        .map(|r| r["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["docker-bridge", "docker-host"]);
    for r in results {
        let p50 = num(r, "p50_us");
        assert!(p50 > 0.0 && num(r, "p99_us") >= p50, "{r}");
        assert!(num(r, "throughput_bytes_per_second") > 0.0, "{r}");
        assert!(r["round_trips"].as_u64().unwrap() > 0, "{r}");
    }
    // Docker's private bridge address, then loopback: nothing else.
    let bridge: std::net::SocketAddr = results[0]["address"].as_str().unwrap().parse().unwrap();
    match bridge.ip() {
        std::net::IpAddr::V4(v4) => assert!(v4.is_private(), "{bridge}"),
        other => panic!("not Docker's IPv4 bridge: {other}"),
    }
    assert!(
        results[1]["address"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert_eq!(docker_leftovers(pid), Vec::<String>::new());
}

#[test]
#[ignore = "needs Docker"]
fn bench_net_docker_ctrl_c_removes_containers_and_image() {
    if !support::docker_or_skip() {
        return;
    }
    let stat = support::static_boxwise();
    let child = Command::new(BIN)
        .args(["bench", "net", "--modes", "docker", "--duration", "30s"])
        .arg("--docker-binary")
        .arg(&stat)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Both containers (server and client) of the first mode, then Ctrl-C.
    wait_for_both_containers(pid);
    std::thread::sleep(Duration::from_millis(500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(docker_leftovers(pid), Vec::<String>::new());
}

/// Ctrl-C to the whole process group (as `timeout -s INT` and a terminal send it) while
/// `docker build` runs: the image and any container are removed all the same, and the
/// output is one line, not an empty table.
#[test]
#[ignore = "needs Docker"]
fn bench_net_docker_ctrl_c_during_the_build_leaves_nothing() {
    use std::os::unix::process::CommandExt as _;
    if !support::docker_or_skip() {
        return;
    }
    let stat = support::static_boxwise();
    let child = Command::new(BIN)
        .args(["bench", "net", "--modes", "docker", "--duration", "5s"])
        .arg("--docker-binary")
        .arg(&stat)
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !child_runs(pid, "build") {
        assert!(Instant::now() < deadline, "docker build never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Mid-build, as `timeout -s INT 1` lands: once the engine has made the (untagged)
    // image, or a second into the build.
    let label = format!("label=boxwise-bench={pid}");
    let mid = Instant::now() + Duration::from_secs(1);
    while Instant::now() < mid {
        let o = support::run(Command::new("docker").args(["images", "-aq", "--filter", &label]));
        if !o.stdout.is_empty() {
            break;
        }
    }
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // An engine still finishing a build whose client died would tag the image now.
    std::thread::sleep(Duration::from_secs(3));
    let tag = format!("boxwise-bench-{pid}");
    let o = support::run(Command::new("docker").args(["images", "-q", &tag]));
    let left = docker_leftovers(pid);
    if !left.is_empty() || !o.stdout.is_empty() {
        let _ = support::run(Command::new("docker").args(["rmi", "-f", &tag]));
    }
    assert_eq!(left, Vec::<String>::new(), "{err}");
    assert!(o.stdout.is_empty(), "image {tag} left behind\n{err}");
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert_eq!(err.trim(), "boxwise: interrupted before any result");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Whether a child of `pid` has `word` among its arguments.
fn child_runs(pid: u32, word: &str) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten().any(|e| {
        let p = e.path();
        let stat = std::fs::read_to_string(p.join("stat")).unwrap_or_default();
        // The fields after the command name (which may hold spaces): state, ppid, ...
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u32>().ok());
        ppid == Some(pid)
            && std::fs::read(p.join("cmdline"))
                .unwrap_or_default()
                .split(|b| *b == 0)
                .any(|a| a == word.as_bytes())
    })
}

/// `--docker-binary` naming something that is not a boxwise: refused at once, in one
/// line naming the flag and the path.
#[test]
#[ignore = "needs Docker"]
fn bench_net_docker_binary_must_be_a_boxwise() {
    if !support::docker_or_skip() {
        return;
    }
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    if !support::require(busybox.is_some(), "no busybox (busybox-static) installed") {
        return;
    }
    let busybox = busybox.unwrap();
    for path in [busybox, "/nonexistent/x"] {
        let out = support::run(Command::new(BIN).args([
            "bench",
            "net",
            "--modes",
            "docker",
            "--docker-binary",
            path,
        ]));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&format!("--docker-binary {path}")), "{err}");
    }
}

#[test]
fn bench_net_docker_without_an_engine_says_so() {
    let out = support::run(
        Command::new(BIN)
            .args(["bench", "net", "--modes", "docker"])
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("--modes docker: no Docker engine answers") && err.lines().count() == 1,
        "{err}"
    );
}

/// `kill -KILL` leaves the containers and the image (no drop runs); the next docker run
/// of `bench net` removes them.
#[test]
#[ignore = "needs Docker"]
fn bench_net_docker_after_a_killed_run_removes_its_containers() {
    if !support::docker_or_skip() {
        return;
    }
    let stat = support::static_boxwise();
    let mut child = Command::new(BIN)
        .args(["bench", "net", "--modes", "docker", "--duration", "30s"])
        .arg("--docker-binary")
        .arg(&stat)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    wait_for_both_containers(pid);
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        !docker_leftovers(pid).is_empty(),
        "nothing was left to remove"
    );
    let mut cmd = Command::new(BIN);
    cmd.args([
        "bench",
        "net",
        "--modes",
        "docker-host",
        "--duration",
        "200ms",
    ])
    .arg("--docker-binary")
    .arg(&stat);
    let out = support::run(&mut cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // A concurrent test's run may have removed them first; either way they are gone.
    assert_eq!(docker_leftovers(pid), Vec::<String>::new(), "{err}");
}

/// Wait (at most 2 minutes) until the bench run `pid` has its server and client containers.
fn wait_for_both_containers(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while docker_leftovers(pid)
        .iter()
        .filter(|l| l.starts_with("ps "))
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "containers never appeared");
        std::thread::sleep(Duration::from_millis(100));
    }
}
