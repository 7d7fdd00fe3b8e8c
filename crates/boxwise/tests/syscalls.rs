//! `boxwise syscalls` on real Go programs (tests/go/syscalls), counted in the kernel, and
//! compared with strace's counts of the same deterministic calls.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{require, run, stdout_ok};

const BOXWISE: &str = env!("CARGO_BIN_EXE_boxwise");

/// True when this process may load BPF programs (CAP_SYS_ADMIN, or CAP_BPF+CAP_PERFMON).
fn bpf_or_skip() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    let ok = eff & (1 << 21) != 0 || (eff & (1 << 39) != 0 && eff & (1 << 38) != 0);
    require(
        ok,
        "needs CAP_SYS_ADMIN or CAP_BPF+CAP_PERFMON to load BPF programs",
    )
}

fn prog() -> Option<PathBuf> {
    if !bpf_or_skip() {
        return None;
    }
    support::build_go_program("syscalls")
}

fn json(cmd: &mut Command) -> Value {
    let out = run(cmd);
    let text = stdout_ok(cmd, &out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `calls` of `name` in a JSON trace (0 when the row is absent).
fn calls(doc: &Value, name: &str) -> u64 {
    doc["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["syscall"] == name)
        .map_or(0, |r| r["calls"].as_u64().expect("calls is a number"))
}

fn row<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["syscall"] == name)
        .unwrap_or_else(|| panic!("no {name} row in {doc}"))
}

/// strace -c -f's count (calls, errors) of one syscall for the same command.
fn strace_counts(args: &[&str], name: &str) -> Option<(u64, u64)> {
    if !require(
        Command::new("strace").arg("-V").output().is_ok(),
        "strace is not installed (apt-get install strace)",
    ) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("strace.txt");
    let mut cmd = Command::new("strace");
    cmd.args(["-c", "-f", "-o"]).arg(&file).args(args);
    let out = run(&mut cmd);
    assert!(out.status.success(), "{cmd:?}: {out:?}");
    let text = std::fs::read_to_string(&file).unwrap();
    // "% time seconds usecs/call calls [errors] syscall"
    let line = text
        .lines()
        .find(|l| l.split_whitespace().last() == Some(name))
        .unwrap_or_else(|| panic!("no {name} in strace output:\n{text}"));
    let cols: Vec<&str> = line.split_whitespace().collect();
    let calls = cols[3].parse().unwrap();
    let errors = if cols.len() == 6 {
        cols[4].parse().unwrap()
    } else {
        0
    };
    Some((calls, errors))
}

#[test]
#[ignore = "needs root (BPF), Go and strace"]
fn go_write_storm_counts_equal_strace() {
    let Some(p) = prog() else { return };
    let p = p.to_str().unwrap();
    let args = [p, "writes", "4", "25000"];
    let doc = json(
        Command::new(BOXWISE)
            .args(["syscalls", "--json", "--"])
            .args(args),
    );
    let Some((strace_writes, _)) = strace_counts(&args, "write") else {
        return;
    };
    assert_eq!(calls(&doc, "write"), 100_000, "{doc}");
    assert_eq!(calls(&doc, "write"), strace_writes);
    // The first call after the gate is counted: execve itself.
    assert_eq!(calls(&doc, "execve"), 1, "{doc}");
    assert_eq!(doc["end"], "target_exited");
    assert_eq!(doc["exit_code"], 0);
    // 4 goroutines ran on more than one thread: Go created some with clone.
    assert!(calls(&doc, "clone") >= 1, "{doc}");
    let w = row(&doc, "write");
    assert!(w["time_ns"].as_u64().unwrap() > 0);
    // 100,000 writes pass the 256 timed exactly per CPU: the time is a sample's estimate.
    assert_eq!(doc["time_estimated"], true, "{doc}");
    assert_eq!(doc["total_calls"].as_u64().unwrap(), {
        doc["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["calls"].as_u64().unwrap())
            .sum::<u64>()
    });
}

#[test]
#[ignore = "needs root (BPF), Go and strace"]
fn errors_per_errno_equal_strace() {
    let Some(p) = prog() else { return };
    let p = p.to_str().unwrap();
    let args = [p, "enoent", "300"];
    let doc = json(
        Command::new(BOXWISE)
            .args(["syscalls", "--json", "--"])
            .args(args),
    );
    let Some((_, strace_errors)) = strace_counts(&args, "openat") else {
        return;
    };
    let openat = row(&doc, "openat");
    let enoent = openat["errnos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["errno"] == "ENOENT")
        .unwrap_or_else(|| panic!("no ENOENT in {openat}"));
    assert!(enoent["count"].as_u64().unwrap() >= 300, "{openat}");
    assert_eq!(
        openat["errors"].as_u64().unwrap(),
        strace_errors,
        "{openat}"
    );
}

#[test]
#[ignore = "needs root (BPF) and Go"]
fn pid_mode_counts_every_thread_until_exit() {
    let Some(p) = prog() else { return };
    let mut target = Command::new(&p)
        .args(["wait-writes", "4", "10000"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(target.id());
    let mut tracer = Command::new(BOXWISE)
        .args(["syscalls", "--json", "--pid"])
        .arg(target.id().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drive the target only once the tracer says it is attached.
    let mut err = BufReader::new(tracer.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("tracing pid"), "{line}");
    target.stdin.take().unwrap().write_all(b"go\n").unwrap();
    assert!(target.wait().unwrap().success());
    let out = tracer.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(calls(&doc, "write"), 40_000, "{doc}");
    assert_eq!(doc["end"], "target_exited");
    assert_eq!(doc["pid"].as_u64().unwrap(), target.id() as u64);
}

#[test]
#[ignore = "needs root (BPF) and Go"]
fn for_duration_and_ctrl_c_detach_and_leave_the_process_running() {
    let Some(p) = prog() else { return };
    let mut target = Command::new(&p).arg("sleep").spawn().unwrap();
    let _guard = KillOnDrop(target.id());
    let pid = target.id().to_string();
    let doc =
        json(Command::new(BOXWISE).args(["syscalls", "--json", "--for", "300ms", "--pid", &pid]));
    assert_eq!(doc["end"], "duration", "{doc}");
    // SIGINT stops the trace and still prints the table.
    let tracer = Command::new(BOXWISE)
        .args(["syscalls", "--pid", &pid])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    nix_kill(tracer.id(), libc_sigint());
    let out = tracer.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("until interrupted"), "{text}");
    // The target was never disturbed, and nothing of ours stays in the kernel.
    assert!(target.try_wait().unwrap().is_none(), "target died");
    // A command outliving a timed trace holds nothing of ours either (the fds are
    // close-on-exec).
    // Its output goes to a file: the command keeps boxwise's stdout open after it exits.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trace.json");
    let status = Command::new(BOXWISE)
        .args(["syscalls", "--json", "--for", "200ms", "--"])
        .arg(&p)
        .arg("sleep")
        .stdout(std::fs::File::create(&file).unwrap())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let _child_guard = KillOnDrop(doc["pid"].as_u64().unwrap() as u32);
    assert_eq!(doc["end"], "duration", "{doc}");
    assert_no_programs_left();
    let child = doc["pid"].as_u64().unwrap().to_string();
    assert!(Command::new("kill").arg(&child).status().unwrap().success());
    target.kill().unwrap();
    target.wait().unwrap();
    assert_no_programs_left();
}

#[test]
#[ignore = "needs root (BPF) and Go"]
fn follow_forks_counts_children_and_without_it_not() {
    let Some(p) = prog() else { return };
    let p = p.to_str().unwrap();
    let args = [p, "children", "3", "2", "1000"];
    let with = json(
        Command::new(BOXWISE)
            .args(["syscalls", "--json", "-f", "--"])
            .args(args),
    );
    assert_eq!(calls(&with, "write"), 6000, "{with}");
    assert_eq!(calls(&with, "execve"), 4, "{with}");
    let without = json(
        Command::new(BOXWISE)
            .args(["syscalls", "--json", "--"])
            .args(args),
    );
    assert_eq!(calls(&without, "write"), 0, "{without}");
    assert_eq!(calls(&without, "execve"), 1, "{without}");
    if let Some((strace_writes, _)) = strace_counts(&args, "write") {
        assert_eq!(calls(&with, "write"), strace_writes);
    }
}

#[test]
#[ignore = "needs root (BPF) and Go"]
fn latency_histogram_bounds_hold() {
    let Some(p) = prog() else { return };
    let doc = json(
        Command::new(BOXWISE)
            .args(["syscalls", "--json", "--latency", "--"])
            .arg(&p)
            .args(["writes", "2", "5000"]),
    );
    // --latency times every call.
    assert_eq!(doc["time_estimated"], false, "{doc}");
    let w = row(&doc, "write");
    let lat = &w["latency"];
    let (p50, p99, max) = (
        lat["p50_ns"].as_u64().unwrap(),
        lat["p99_ns"].as_u64().unwrap(),
        lat["max_ns"].as_u64().unwrap(),
    );
    assert!(p50 <= p99 && p99 <= max, "{lat}");
    let bucketed: u64 = lat["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(bucketed, 10_000, "{lat}");
    // Markdown renders the same trace as tables.
    let out = run(Command::new(BOXWISE)
        .args(["syscalls", "--markdown", "--latency", "--"])
        .arg(&p)
        .args(["writes", "1", "10"]));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("| syscall | p50 | p99 | max |"), "{md}");
}

#[test]
#[ignore = "needs root (to drop to an unprivileged user) and setpriv"]
fn unprivileged_user_gets_one_line_naming_the_capabilities() {
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    if !require(root, "needs root to switch to uid 65534") {
        return;
    }
    // A copy nobody can read, since the build tree may not be.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join("boxwise");
    std::fs::copy(BOXWISE, &bin).unwrap();
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
    ])
    .arg(&bin)
    .args(["syscalls", "--", "/bin/true"]);
    let out = run(&mut cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty(), "a partial table was printed");
    assert_eq!(err.lines().count(), 1, "{err}");
    for word in [
        "CAP_BPF",
        "CAP_PERFMON",
        "CAP_SYS_ADMIN",
        "--cap-add",
        "Kubernetes",
    ] {
        assert!(err.contains(word), "{word} missing from: {err}");
    }
}

#[test]
#[ignore = "needs root (BPF) and Go"]
fn missing_pid_and_command_are_one_line_errors() {
    if prog().is_none() {
        return;
    }
    let out = run(Command::new(BOXWISE).args(["syscalls", "--pid", "999999999"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("no process with pid 999999999"), "{err}");
    let out = run(Command::new(BOXWISE).args(["syscalls", "--", "no-such-command-boxwise"]));
    let err = String::from_utf8_lossy(&out.stderr);
    // A shell's status for a command it cannot find.
    assert_eq!(out.status.code(), Some(127));
    assert!(out.stdout.is_empty(), "a table was printed");
    assert!(
        err.contains("no-such-command-boxwise: command not found"),
        "{err}"
    );
    assert_no_programs_left();
}

/// Kills a test program when dropped, so a failing assertion leaves nothing running. Only
/// while that pid still runs the test program (a reaped pid may have been reused).
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", self.0)).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains("go-bin/syscalls") {
            let _ = Command::new("kill")
                .arg("-9")
                .arg(self.0.to_string())
                .status();
        }
    }
}

fn libc_sigint() -> i32 {
    2
}

fn nix_kill(pid: u32, sig: i32) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// No BPF program of ours (named bw_*) is left in the kernel, except ones held by a
/// boxwise that is tracing right now (tests run in parallel): bpftool lists every loaded
/// program, and /proc/*/fdinfo shows which processes hold it (a program fd or a link fd
/// both print `prog_id:`).
fn assert_no_programs_left() {
    if !require(
        Command::new("bpftool").arg("version").output().is_ok(),
        "bpftool is not installed (apt-get install bpftool)",
    ) {
        return;
    }
    // The kernel frees a program after an RCU grace period once its last fd closes, so
    // an unheld program may linger briefly; a leaked one would stay.
    let mut unheld = Vec::new();
    for _ in 0..100 {
        unheld.clear();
        let out = run(Command::new("bpftool").args(["prog", "show", "--json"]));
        let progs: Value = serde_json::from_slice(&out.stdout).expect("bpftool JSON");
        for p in progs.as_array().expect("a list") {
            let name = p["name"].as_str().unwrap_or("");
            if !name.starts_with("bw_") {
                continue;
            }
            let holders = holders_of(p["id"].as_u64().expect("prog id"));
            for comm in &holders {
                assert_eq!(comm, "boxwise", "{name} held by another process: {p}");
            }
            if holders.is_empty() {
                unheld.push(p.clone());
            }
        }
        if unheld.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("BPF programs loaded with no process holding them: {unheld:?}");
}

/// The command names of processes holding an fd on BPF program `id`.
fn holders_of(id: u64) -> Vec<String> {
    let want = format!("prog_id:\t{id}\n");
    let mut out = Vec::new();
    for proc in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(fds) = std::fs::read_dir(proc.path().join("fdinfo")) else {
            continue;
        };
        let holds = fds
            .flatten()
            .any(|f| std::fs::read_to_string(f.path()).is_ok_and(|t| t.contains(&want)));
        if holds {
            let comm = std::fs::read_to_string(proc.path().join("comm")).unwrap_or_default();
            out.push(comm.trim().to_string());
        }
    }
    out
}

#[test]
#[ignore = "needs root (BPF) and Go"]
fn by_thread_splits_the_calls_over_go_threads() {
    let Some(p) = prog() else { return };
    let doc = json(
        Command::new(BOXWISE)
            .args(["syscalls", "--json", "--by-thread", "--"])
            .arg(&p)
            .args(["writes", "4", "10000"]),
    );
    let threads = doc["threads"].as_array().expect("threads");
    let sum: u64 = threads.iter().map(|t| t["calls"].as_u64().unwrap()).sum();
    // Calls are counted per thread when they return; exit_group and calls cut short by
    // it never do.
    assert!(
        sum >= 40_000 && sum <= doc["total_calls"].as_u64().unwrap(),
        "{doc}"
    );
    assert!(threads.len() >= 2, "4 goroutines ran on one thread: {doc}");
    let pid = doc["pid"].as_u64().unwrap();
    assert!(
        threads.iter().any(|t| t["tid"].as_u64() == Some(pid)),
        "main thread missing"
    );
}

#[test]
#[ignore = "needs root (BPF, cgroups) and Go"]
fn doctor_syscalls_flags_a_futex_storm_under_a_cpu_limit() {
    let Some(p) = prog() else { return };
    // Eight Ps on half a CPU, serving and fetching HTTP until killed.
    let mut run = Command::new(BOXWISE)
        .args(["run", "--cpus", "0.5", "-e", "GOMAXPROCS=8", "--"])
        .arg(&p)
        .args(["http", "1000000000"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pid = None;
    for _ in 0..200 {
        let out = Command::new("pgrep")
            .args(["-P", &run.id().to_string()])
            .output()
            .unwrap();
        pid = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .map(str::to_owned);
        if pid.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = pid.expect("boxwise run started no child");
    let _guard = KillOnDrop(pid.parse().unwrap());
    std::thread::sleep(Duration::from_millis(500)); // past start-up
    let doc =
        json(Command::new(BOXWISE).args(["doctor", "--json", "--pid", &pid, "--syscalls", "3s"]));
    let findings = doc["findings"].as_array().expect("findings");
    let storm = findings
        .iter()
        .find(|f| f["id"] == "syscalls-futex-storm")
        .unwrap_or_else(|| panic!("no futex storm in {doc}"));
    assert_eq!(storm["severity"], "warning", "{storm}");
    assert!(
        storm["fix"].as_str().unwrap().contains("GOMAXPROCS"),
        "{storm}"
    );
    assert!(Command::new("kill").arg(&pid).status().unwrap().success());
    run.wait().unwrap();
}

/// The pid of `parent`'s first child once it runs `exe_name` (past the gate's execve).
fn child_running(parent: u32, exe_name: &str) -> u32 {
    for _ in 0..250 {
        let kids = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
            .unwrap_or_default();
        if let Some(pid) = kids.split_whitespace().next() {
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            if exe.to_string_lossy().contains(exe_name) {
                return pid.parse().unwrap();
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("boxwise {parent} started no {exe_name}");
}

#[test]
#[ignore = "needs root (BPF) and Go"]
fn a_signal_to_boxwise_reaches_the_command_and_becomes_the_status() {
    let Some(p) = prog() else { return };
    for (sig, status) in [(15, 143), (2, 130), (1, 129)] {
        let tracer = Command::new(BOXWISE)
            .args(["syscalls", "--"])
            .arg(&p)
            .arg("sleep")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let child = child_running(tracer.id(), "syscalls");
        let _guard = KillOnDrop(child);
        nix_kill(tracer.id(), sig);
        let out = tracer.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(status), "signal {sig}: {out:?}");
        assert!(text.contains("until interrupted"), "{text}");
        assert!(text.contains("total"), "no table: {text}");
        // boxwise waited for (and reaped) the command: nothing is left running.
        assert!(
            !std::path::Path::new(&format!("/proc/{child}")).exists(),
            "signal {sig}: the command {child} outlived boxwise"
        );
    }
    // A command that ignores the first signal is killed by the second.
    let tracer = Command::new(BOXWISE)
        .args(["syscalls", "--", "/bin/sh", "-c"])
        .arg("trap '' TERM; while :; do sleep 0.05; done")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let child = child_running(tracer.id(), "sh");
    nix_kill(tracer.id(), 15);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        std::path::Path::new(&format!("/proc/{}", tracer.id())).exists(),
        "boxwise returned before the command ended"
    );
    nix_kill(tracer.id(), 15);
    let out = tracer.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(137), "{out:?}");
    assert!(!std::path::Path::new(&format!("/proc/{child}")).exists());
    assert_no_programs_left();
}

#[test]
#[ignore = "needs root (BPF)"]
fn a_command_that_cannot_start_is_one_line_and_the_shells_status() {
    if !bpf_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nonexistent");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a program\n").unwrap();
    let script = dir.path().join("s.sh");
    std::fs::write(&script, "#!/no/such/interpreter\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (path, status, tail) in [
        (&missing, 127, "No such file or directory".to_string()),
        (&text, 126, "Permission denied".to_string()),
        (
            &script,
            127,
            "its interpreter /no/such/interpreter: No such file or directory".to_string(),
        ),
    ] {
        let out = run(Command::new(BOXWISE).args(["syscalls", "--"]).arg(path));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{path:?}: {err}");
        assert!(out.stdout.is_empty(), "a table was printed for {path:?}");
        assert_eq!(
            err,
            format!("boxwise: cannot start {}: {tail}\n", path.display())
        );
    }
    assert_no_programs_left();
}

#[test]
#[ignore = "needs root (BPF)"]
fn not_go_and_unknown_have_no_go_reading_and_no_gomaxprocs() {
    if !bpf_or_skip() {
        return;
    }
    let doc = json(Command::new(BOXWISE).args(["syscalls", "--json", "--", "/bin/true"]));
    assert!(doc["go_version"].is_null(), "{doc}");
    assert!(doc["gomaxprocs"].is_null(), "{doc}");
    assert!(doc["executable_error"].is_null(), "{doc}");
    let out = run(Command::new(BOXWISE).args(["syscalls", "--", "/bin/true"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("\nGo reading\n"), "empty heading: {text}");
    assert!(text.contains("No Go reading: not a Go program"), "{text}");
    // A zombie still has its /proc entry but no readable executable: unknown, not "not Go".
    let mut zombie = Command::new("/bin/true").spawn().unwrap();
    let pid = zombie.id().to_string();
    for _ in 0..100 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        if stat.contains(") Z ") {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(std::fs::read_link(format!("/proc/{pid}/exe")).is_err());
    let doc = json(Command::new(BOXWISE).args(["syscalls", "--json", "--pid", &pid]));
    assert!(doc["go_version"].is_null(), "{doc}");
    assert!(doc["gomaxprocs"].is_null(), "{doc}");
    let why = doc["executable_error"].as_str().unwrap_or_default();
    assert!(why.contains(&format!("/proc/{pid}/exe")), "{doc}");
    let out = run(Command::new(BOXWISE).args(["syscalls", "--pid", &pid]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("is unknown: its executable could not be read"),
        "{text}"
    );
    assert!(!text.contains("not a Go program"), "{text}");
    zombie.wait().unwrap();
}

#[test]
fn zero_durations_are_usage_errors_naming_the_flag() {
    for (args, flag) in [
        (&["syscalls", "--for", "0s", "--", "/bin/true"][..], "--for"),
        (
            &["doctor", "--pid", "1", "--syscalls", "0s"][..],
            "--syscalls",
        ),
    ] {
        let out = run(Command::new(BOXWISE).args(args));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag) && err.contains("above zero"), "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
#[ignore = "needs root (BPF)"]
fn pipes_and_wide_keep_the_header_whole_and_quoted() {
    if !bpf_or_skip() {
        return;
    }
    let long = "x".repeat(70);
    let args = ["/bin/sh", "-c", "exit 3", long.as_str()];
    let header = format!("/bin/sh -c 'exit 3' {long} (pid ");
    // A pipe with no COLUMNS: full lines.
    let out = run(Command::new(BOXWISE)
        .env_remove("COLUMNS")
        .args(["syscalls", "--"])
        .args(args));
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap();
    assert!(first.starts_with(&header), "{text}");
    assert!(first.ends_with("until it exited"), "wrapped: {text}");
    // COLUMNS asks for 80 columns, and --wide overrides it.
    let out = run(Command::new(BOXWISE)
        .env("COLUMNS", "80")
        .args(["syscalls", "--"])
        .args(args));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    let out = run(Command::new(BOXWISE)
        .env("COLUMNS", "80")
        .args(["--wide", "syscalls", "--"])
        .args(args));
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(&header) && first.ends_with("until it exited"),
        "{text}"
    );
}

/// `sweep --metric` records a syscall count per configuration when the workload is wrapped
/// in `boxwise syscalls` (docs/syscalls.md): the write storm's writes are exact in every
/// run, whatever GOMAXPROCS the sweep gives it.
#[test]
#[ignore = "needs root, cgroups, BPF and Go"]
fn sweep_records_syscall_counts_per_configuration() {
    let Some(prog) = prog() else { return };
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("sweep.json");
    let out = Command::new(BOXWISE)
        .args([
            "sweep",
            "--cpus",
            "1",
            "--env",
            "GOMAXPROCS=1,2",
            "--repeat",
            "1",
            "--metric",
            // % time, seconds, usecs/call, then calls; the errors column may be empty.
            r"writes=(?m)^ *[\d.]+ +[\d.]+ +\d+ +(\d+) +(?:\d+ +)?write$",
            // sweep's own traces (gctrace, schedtrace) are written by the runtime with
            // write(2) and would be counted among the program's writes.
            "--no-gctrace",
            "--json",
        ])
        .arg(&json_path)
        .args(["--", BOXWISE, "syscalls", "--"])
        .arg(&prog)
        .args(["writes", "2", "1000"])
        .env_remove("GOMAXPROCS")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{doc}");
    let mut gomaxprocs: Vec<&str> = Vec::new();
    for run in runs {
        assert_eq!(run["metrics"]["writes"].as_f64(), Some(2000.0), "{run}");
        gomaxprocs.push(run["config"]["env"]["GOMAXPROCS"].as_str().unwrap_or("?"));
    }
    gomaxprocs.sort_unstable();
    assert_eq!(gomaxprocs, ["1", "2"], "{doc}");
}

#[test]
#[ignore = "needs root (BPF) and Go"]
fn a_32_bit_program_gets_a_warning_about_its_names() {
    if std::env::consts::ARCH != "x86_64" || prog().is_none() {
        return;
    }
    // The same Go program built for 386 runs on an x86_64 kernel with ia32 emulation.
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("syscalls386");
    let built = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/go/syscalls"
        ))
        .env("GOARCH", "386")
        .env("CGO_ENABLED", "0")
        .output()
        .unwrap();
    assert!(built.status.success(), "{built:?}");
    let out = run(Command::new(BOXWISE)
        .args(["syscalls", "--json", "--"])
        .arg(&bin)
        .args(["writes", "1", "300"]));
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(126) {
        // A kernel without IA32_EMULATION cannot run it at all.
        println!("skipped: this kernel does not run 32-bit programs: {err}");
        return;
    }
    assert!(out.status.success(), "{out:?}");
    assert!(
        err.contains("is a 32-bit program: its calls carry i386 numbers"),
        "{err}"
    );
    // And the 64-bit build gets no such warning.
    let out = run(Command::new(BOXWISE)
        .args(["syscalls", "--json", "--"])
        .arg(prog().unwrap())
        .args(["writes", "1", "3"]));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("32-bit"),
        "{out:?}"
    );
}
