//! `boxwise run --io-*` on the real machine: the cap lands in the run's blkio (v1) or io
//! (v2) cgroup for the disk behind the directory, `bench io` inside the run reads it back
//! from its own cgroup, and synced writes are held under it. The check is a property of
//! the throttle (throughput never above the cap, with 10% for the kernel's accounting
//! slices), never a timing of the machine's own disk. Needs root (skips otherwise, fails
//! under BOXWISE_REQUIRE_PRIVILEGED=1).

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_boxwise");

/// The cap the test sets: far below what a disk does with 64 KiB synced writes, so the
/// throttle, not the disk, sets the pace.
const CAP: u64 = 2 << 20;

fn can_run() -> bool {
    let out = support::run(Command::new(BIN).args(["run", "--", "true"]));
    support::require(
        out.status.success(),
        &format!(
            "`boxwise run -- true` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    )
}

/// `MAJ:MIN` of the disk holding `dir`, or None when it has none or is a partition (the
/// run maps a partition to its disk; this test only compares whole disks).
fn whole_disk_of(dir: &Path) -> Option<String> {
    let dev = std::fs::metadata(dir).ok()?.dev();
    let id = format!(
        "{}:{}",
        nix::sys::stat::major(dev),
        nix::sys::stat::minor(dev)
    );
    let sys = Path::new("/sys/dev/block").join(&id);
    (sys.exists() && !sys.join("partition").exists()).then_some(id)
}

#[test]
#[ignore = "needs root and the blkio (v1) or io (v2) cgroup controller"]
fn run_io_write_bps_caps_synced_writes_that_bench_io_measures() {
    if !can_run() {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("boxwise-run-io")
        .tempdir_in(support::workspace_root().join("target"))
        .unwrap();
    let Some(disk) = whole_disk_of(dir.path()) else {
        support::require(false, "target/ is not on a whole block device");
        return;
    };
    let stats = dir.path().join("stats.json");
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--io-write-bps", "2m", "--io-device"])
        .arg(dir.path())
        .arg("--stats-json")
        .arg(&stats)
        .args(["--", BIN, "bench", "io", "--dir"])
        .arg(dir.path())
        .args(["--block", "64k", "--sync", "fsync,O_DSYNC"])
        .args(["--duration", "2s", "--file-size", "4m", "--buffers", "none"])
        .arg("--json");
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let text = support::stdout_ok(&cmd, &out);
    let doc: Value = serde_json::from_str(&text).unwrap();

    // What the run wrote, as the run says.
    let stats: Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    let io = &stats["limits"]["io"];
    assert_eq!(io["device"], disk.as_str(), "{stats}");
    assert_eq!(io["write_bps"], CAP, "{stats}");
    assert!(io["read_bps"].is_null(), "{stats}");

    // The human summary on stderr says the cap, on which disk, for which path.
    let err = String::from_utf8_lossy(&out.stderr);
    let line = format!(
        "  io         write capped at 2 MiB/s on {disk} ({})",
        dir.path().display()
    );
    assert!(err.lines().any(|l| l == line), "no {line:?} in:\n{err}");

    // What the workload read back from its own cgroup's files.
    let limits = doc["io_limits"].as_array().unwrap();
    assert_eq!(limits.len(), 1, "{doc}");
    assert_eq!(limits[0]["device"], disk.as_str(), "{doc}");
    assert_eq!(limits[0]["write_bps"], CAP, "{doc}");
    let cgroup = limits[0]["cgroup"].as_str().unwrap();
    assert!(cgroup.contains(&format!("/boxwise/run-{pid}-")), "{doc}");

    // Synced writes are held to the cap (v1 charges them to the writer; v2 charges all).
    for r in doc["results"].as_array().unwrap() {
        let rate = r["throughput_bytes_per_second"].as_f64().unwrap();
        assert!(r["writes"].as_u64().unwrap() >= 2, "{r}");
        assert!(
            rate <= CAP as f64 * 1.1,
            "{} at {rate:.0} B/s, above the {CAP} B/s cap\n{doc}",
            r["sync"]
        );
    }
    assert!(
        support::boxwise_run_cgroups(pid).is_empty(),
        "left behind: {:?}",
        support::boxwise_run_cgroups(pid)
    );
}

#[test]
fn run_io_usage_errors_name_the_value() {
    // /proc has no block device behind it: refused before anything is created.
    let out = support::run(Command::new(BIN).args([
        "run",
        "--io-write-bps",
        "1m",
        "--io-device",
        "/proc",
        "--",
        "true",
    ]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--io-device /proc:") && err.contains("no block device"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // What the path really is, in one line of at most 80 columns.
    for (path, says) in [
        ("/dev/shm", "--io-device /dev/shm: tmpfs (0:"),
        (
            "/dev/null",
            "--io-device /dev/null: a character device (1:3)",
        ),
    ] {
        let out = support::run(Command::new(BIN).args([
            "run",
            "--io-write-bps",
            "5m",
            "--io-device",
            path,
            "--",
            "true",
        ]));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{err}");
        assert!(!err.contains("overlay") && !err.contains("  "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.trim_end().chars().count() <= 80, "{err}");
    }
    // A device alone caps nothing.
    let out = support::run(Command::new(BIN).args(["run", "--io-device", "/", "--", "true"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--io-device needs a cap"), "{err}");
    // A cap of nothing.
    let out = support::run(Command::new(BIN).args(["run", "--io-write-bps", "0", "--", "true"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--io-write-bps"), "{err}");
    let out = support::run(Command::new(BIN).args(["run", "--io-read-bps", "fast", "--", "true"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("\"fast\""), "{err}");
}
