//! `boxwise syscalls` and Docker: a Go program in a container traced from the host by its
//! host pid, and boxwise inside a container with and without the capabilities.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{DockerImage, require, stdout_ok};

const BOXWISE: &str = env!("CARGO_BIN_EXE_boxwise");

fn root_or_skip() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    require(
        eff & (1 << 21) != 0,
        "needs CAP_SYS_ADMIN (root) to load BPF programs",
    )
}

fn writes(doc: &Value) -> u64 {
    doc["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["syscall"] == "write")
        .map_or(0, |r| r["calls"].as_u64().unwrap())
}

#[test]
#[ignore = "needs root (BPF), Docker and Go"]
fn host_traces_a_go_process_inside_a_container() {
    if !root_or_skip() || !support::docker_or_skip() {
        return;
    }
    let Some(prog) = support::build_go_program("syscalls") else {
        return;
    };
    let img = DockerImage::build_scratch(&[(prog.as_path(), "syscalls")], "");
    let name = format!("{}-traced", img.tag());
    let mut container = Command::new("docker")
        .args(["run", "--rm", "-i", "--label"])
        .arg(format!("boxwise-test={}", img.tag()))
        .args([
            "--name",
            &name,
            img.tag(),
            "/syscalls",
            "wait-writes",
            "4",
            "5000",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // The container's process as the host sees it.
    let mut host_pid = 0u64;
    for _ in 0..200 {
        let out = Command::new("docker")
            .args(["inspect", "-f", "{{.State.Pid}}", &name])
            .output()
            .unwrap();
        host_pid = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        if host_pid != 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_ne!(host_pid, 0, "container {name} never started");
    let mut tracer = Command::new(BOXWISE)
        .args(["syscalls", "--json", "--pid", &host_pid.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(tracer.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("tracing pid"), "{line}");
    container.stdin.take().unwrap().write_all(b"go\n").unwrap();
    assert!(container.wait().unwrap().success());
    let out = tracer.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(writes(&doc), 20_000, "{doc}");
    assert_eq!(doc["end"], "target_exited");
}

#[test]
#[ignore = "needs root (BPF), Docker and Go"]
fn inside_a_container_with_sys_admin_and_refused_without() {
    if !root_or_skip() || !support::docker_or_skip() {
        return;
    }
    let Some(prog) = support::build_go_program("syscalls") else {
        return;
    };
    let boxwise = support::static_boxwise();
    let img = DockerImage::build_scratch(
        &[(boxwise.as_path(), "boxwise"), (prog.as_path(), "syscalls")],
        "",
    );
    let args = [
        "/boxwise",
        "syscalls",
        "--json",
        "--",
        "/syscalls",
        "writes",
        "2",
        "1000",
    ];
    // The engine here (20.10) rejects --cap-add BPF; SYS_ADMIN covers it.
    let (cmd, out) = img.run(&["--cap-add", "SYS_ADMIN"], &args);
    let doc: Value = serde_json::from_str(&stdout_ok(&cmd, &out)).unwrap();
    assert_eq!(writes(&doc), 2000, "{doc}");
    // The command's pid is the container's own (boxwise is 1; its threads took a few
    // more), not a host pid: the counts above came through bpf_get_ns_current_pid_tgid.
    let pid = doc["pid"].as_u64().unwrap();
    assert!((2..64).contains(&pid), "not a namespaced pid: {doc}");
    let (_, out) = img.run(&[], &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        out.stdout.is_empty(),
        "a table without the capabilities: {out:?}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("CAP_BPF") && err.contains("--cap-add SYS_ADMIN"),
        "{err}"
    );
}
