//! `inspect --pid` on a real Go process in a real cgroup: its limits, its environment, and
//! the notes where its own settings disagree with the box.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;
use support::TestCgroup;

const BOXWISE: &str = env!("CARGO_BIN_EXE_boxwise");

#[test]
#[ignore = "needs root and cgroups, Go"]
fn inspect_pid_reads_the_other_process() {
    if !support::two_cpus_or_skip() {
        return;
    }
    let (Some(cg), Some(worker)) = (
        TestCgroup::create_or_skip(),
        support::build_go_program("worker"),
    ) else {
        return;
    };
    cg.set_cpu_quota(0.5);
    cg.set_memory_limit(128 * 1024 * 1024);
    let mut child = cg
        .command(&worker)
        .arg("sleep")
        .env("GOMAXPROCS", "8")
        .env("GOMEMLIMIT", "1GiB")
        .env("GOGC", "50")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid = child.id().to_string();

    // boxwise itself runs outside the cgroup, with none of these variables.
    let mut cmd = Command::new(BOXWISE);
    cmd.args(["inspect", "--json", "--pid", &pid])
        .env_remove("GOMAXPROCS")
        .env_remove("GOMEMLIMIT")
        .env_remove("GOGC");
    let out = support::run(&mut cmd);
    let _ = child.kill();
    let _ = child.wait();
    let doc: Value = serde_json::from_str(&support::stdout_ok(&cmd, &out)).unwrap();

    assert_eq!(doc["pid"], child.id());
    assert_eq!(doc["cpu"]["effective_cores"], 0.5);
    assert_eq!(doc["cpu"]["quota"]["quota_us"], 50000);
    assert_eq!(doc["memory"]["limit_bytes"], 128 * 1024 * 1024);
    assert_eq!(doc["go_env"]["gomaxprocs"], "8");
    assert_eq!(doc["go_env"]["gomemlimit"], "1GiB");
    assert_eq!(doc["go_env"]["gogc"], "50");
    // floor(0.9 * 128 MiB) = 120795955; go125 under 0.5 CPU:
    // min(affinity >= 2, max(2, ceil(0.5) = 1)) = 2.
    assert_eq!(doc["recommendation"]["gomemlimit_bytes"], 120795955);
    assert_eq!(doc["recommendation"]["gomaxprocs"], 2);
    let notes: Vec<&str> = doc["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes.iter().any(|n| n.starts_with("GOMAXPROCS=8 is set")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("GOMEMLIMIT=1GiB is above")),
        "{notes:?}"
    );
}

#[test]
fn inspect_pid_of_a_missing_process_is_one_clear_line() {
    let out = Command::new(BOXWISE)
        .args(["inspect", "--pid", "4194304"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no process with pid 4194304"), "{err}");
}

/// A kernel thread runs no program: `--pid` of one is refused in one line, not reported as
/// a box with the host's limits.
#[test]
fn inspect_and_doctor_refuse_a_kernel_thread() {
    // kthreadd is pid 2 wherever the host's pid namespace is visible; find any kernel
    // thread by its empty cmdline and `Kthread`/`PF_KTHREAD` rather than assume.
    let kthread = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    let rest = &s[s.rfind(')')? + 1..];
                    rest.split_whitespace().nth(6)?.parse::<u64>().ok()
                })
                .is_some_and(|flags| flags & 0x0020_0000 != 0)
        });
    let Some(pid) = kthread else {
        eprintln!("SKIP: not applicable: no kernel thread is visible in this pid namespace");
        return;
    };
    for cmd in ["inspect", "doctor"] {
        let out = Command::new(BOXWISE)
            .args([cmd, "--pid", &pid.to_string()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {err}");
        assert!(out.stdout.is_empty(), "{cmd}");
        assert_eq!(err.lines().count(), 1, "{cmd}: {err}");
        assert!(
            err.contains(&format!("pid {pid} is a kernel thread")),
            "{cmd}: {err}"
        );
    }
}

/// A zombie (exited, not yet reaped) has no files to read: say it exited, not "mountinfo:
/// Invalid argument".
#[test]
fn inspect_and_doctor_say_a_zombie_has_exited() {
    // `true` exits at once; not waiting for it keeps it a zombie until `child` is reaped.
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    let stat = format!("/proc/{pid}/stat");
    let mut tries = 0;
    while !std::fs::read_to_string(&stat).is_ok_and(|s| s.contains(") Z ")) && tries < 500 {
        std::thread::sleep(std::time::Duration::from_millis(10));
        tries += 1;
    }
    for cmd in ["inspect", "doctor"] {
        let out = Command::new(BOXWISE)
            .args([cmd, "--pid", &pid.to_string()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("pid {pid} has exited")),
            "{cmd}: {err}"
        );
    }
    child.wait().unwrap();
}
