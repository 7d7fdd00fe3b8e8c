//! What a newcomer sees first: output that fits an 80-column terminal (a real tmux pane and
//! `COLUMNS=80`), full lines in a pipe and with `--wide`, one error style, and usage errors
//! caught before anything is made.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_boxwise");

/// The commands a newcomer runs first (from the README's quick start).
const COMMANDS: [&[&str]; 3] = [&["inspect"], &["doctor"], &["ps"]];

fn over(text: &str, width: usize) -> Vec<String> {
    text.lines()
        .filter(|l| l.trim_end().chars().count() > width)
        .map(str::to_string)
        .collect()
}

#[test]
fn columns_80_fits_and_pipes_keep_full_lines() {
    for args in COMMANDS {
        let mut cmd = Command::new(BIN);
        cmd.args(args).env("COLUMNS", "80");
        let out = support::run(&mut cmd);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.is_empty(), "{args:?} printed nothing");
        assert_eq!(over(&text, 80), Vec::<String>::new(), "{args:?}:\n{text}");

        // --wide turns fitting off, and a pipe without COLUMNS is never fitted.
        let mut wide = Command::new(BIN);
        wide.args(args).arg("--wide").env("COLUMNS", "80");
        let mut pipe = Command::new(BIN);
        pipe.args(args).env_remove("COLUMNS");
        let (wide, pipe) = (support::run(&mut wide), support::run(&mut pipe));
        let (wide, pipe) = (
            String::from_utf8_lossy(&wide.stdout).into_owned(),
            String::from_utf8_lossy(&pipe.stdout).into_owned(),
        );
        // Processes, pressure and usage move between runs: compare what cannot move, the
        // first line (ps's header, inspect's cgroup version, doctor's subject).
        assert_eq!(wide.lines().next(), pipe.lines().next(), "{args:?}");
        assert!(!wide.contains("hidden to fit"), "{args:?}: {wide}");
    }
}

/// A tmux server on its own socket inside a temporary directory: the server is killed and the
/// socket removed on drop (pass or fail).
struct Tmux {
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Runs `shell` in a detached 80x24 pane; returns the whole pane, wrapped lines joined.
    fn run_80x24(shell: &str) -> (Tmux, String) {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("tmux.conf");
        std::fs::write(
            &conf,
            "set -g history-limit 100000\nset -g remain-on-exit on\n",
        )
        .unwrap();
        let tmux = Tmux {
            socket: dir.path().join("tmux.sock"),
            _dir: dir,
        };
        let marker = "__boxwise_done__";
        let status = tmux
            .cmd()
            .arg("-f")
            .arg(&conf)
            .args(["new-session", "-d", "-x", "80", "-y", "24", "-s", "t"])
            .arg(format!("env -u COLUMNS {shell}; echo {marker}"))
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        // Wait for the marker, bounded (a hang is a failure, not a time assertion).
        let start = Instant::now();
        loop {
            let out = tmux
                .cmd()
                .args(["capture-pane", "-p", "-J", "-S", "-", "-t", "t"])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if text.contains(marker) {
                return (tmux, text);
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "{shell} did not finish in the pane:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket);
        c
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

fn tmux_or_skip() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    support::require(ok, "needs tmux (apt-get install tmux)")
}

#[test]
#[ignore = "needs tmux"]
fn tmux_80x24_pane_fits_every_line() {
    if !tmux_or_skip() {
        return;
    }
    let bin = PathBuf::from(BIN);
    let run = [
        "run", "--cpus", "0.5", "--memory", "64m", "--pids", "20", "--", "sh", "-c", "echo hi",
    ];
    // Every other command that prints for people, on real inputs from the tree.
    let root = support::workspace_root();
    let at = |rel: &str| root.join(rel).to_string_lossy().into_owned();
    let (profile, gc, sched, dockerfile) = (
        at("tests/fixtures/pprof/go119_cpu.pb.gz"),
        at("tests/fixtures/trace/go1.23-gcload.log"),
        at("tests/fixtures/trace/go1.23-scheddetail.log"),
        at("tests/lint/corpus/alpine-cgo.Dockerfile"),
    );
    let scratch = tempfile::tempdir().unwrap();
    let scratch = scratch.path().to_string_lossy().into_owned();
    let more: Vec<Vec<&str>> = vec![
        vec!["binary", "/usr/lib/go-1.19/bin/gofmt"],
        vec!["pprof", "top", &profile],
        vec!["gctrace", &gc],
        vec!["schedtrace", &sched],
        vec!["lint", &dockerfile],
        vec![
            "bench",
            "io",
            "--dir",
            &scratch,
            "--block",
            "4k",
            "--sync",
            "none,fsync",
        ],
        vec!["syscalls", "--", "true"],
        vec!["top", "--once", "--interval", "200ms"],
        vec!["exec", "--dry-run"],
    ];
    let more = more.iter().map(Vec::as_slice);
    for args in COMMANDS.iter().copied().chain([&run[..]]).chain(more) {
        let shell = format!("{} {}", bin.display(), args.join(" "));
        let (_tmux, pane) = Tmux::run_80x24(&shell);
        assert!(
            pane.lines().count() > 3,
            "{shell}: too little output:\n{pane}"
        );
        assert_eq!(over(&pane, 80), Vec::<String>::new(), "{shell}:\n{pane}");
    }
}

/// The first CPU this process may not use, and how many it may.
fn affinity() -> (u32, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap()
        .trim()
        .to_string();
    let mut allowed = Vec::new();
    for part in list.split(',') {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        allowed.extend(lo.parse::<u32>().unwrap()..=hi.parse::<u32>().unwrap());
    }
    let outside = (0..).find(|c| !allowed.contains(c)).unwrap();
    (outside, allowed.len() as u64)
}

/// A CPU outside the affinity and a quota above the CPUs are usage errors in one line, found
/// before any cgroup is made (no cgroup path, no kernel errno).
#[test]
fn run_cpu_limits_are_checked_before_the_cgroup() {
    let (outside, count) = affinity();
    let too_many = (count + 1).to_string();
    let outside = outside.to_string();
    for (flag, value, needle) in [
        (
            "--cpuset",
            outside.as_str(),
            format!("CPU {outside} is not one boxwise may use"),
        ),
        ("--cpus", too_many.as_str(), format!("only {count} CPU")),
        ("--cpus", "1e9", format!("--cpus 1e9: only {count} CPU")),
        (
            "--cpus",
            "1e-300",
            "--cpus 1e-300: the kernel's smallest quota".to_string(),
        ),
    ] {
        let out = support::run(Command::new(BIN).args(["run", flag, value, "--", "true"]));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert_eq!(err.lines().count(), 1, "{flag} {value}: {err}");
        assert!(
            err.starts_with("boxwise: ") && err.contains(&needle),
            "{flag} {value}: {err}"
        );
        assert!(
            !err.contains("/sys/fs/cgroup") && !err.contains("os error"),
            "{err}"
        );
    }
}

/// Errors from main, from run and from exec's launcher all read `boxwise: <what>`: never
/// `boxwise: error:` or a bare `error:` (clap's own usage errors aside).
#[test]
fn one_error_style() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("noexec");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    let cases: [&[&str]; 6] = [
        &["binary", "/nonexistent/prog"],
        &["gctrace", "/nonexistent/trace"],
        &["inspect", "--root", "/nonexistent/root"],
        &["run", "--cpus", "0", "--", "true"],
        &["exec", "--", "/nonexistent/prog"],
        &["pprof", "top", "/nonexistent/cpu.pprof"],
    ];
    for args in cases {
        let mut cmd = Command::new(BIN);
        cmd.args(args).env("GOMEMLIMIT", "400m");
        let out = support::run(&mut cmd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(!err.is_empty(), "{args:?}");
        for line in err.lines() {
            assert!(line.starts_with("boxwise: "), "{args:?}: {line}");
            assert!(!line.starts_with("boxwise: error"), "{args:?}: {line}");
        }
    }
}

/// `run` ends with a summary on stderr (its exit status, CPU, memory peak, OOM kills, pids),
/// and `--quiet` drops it.
#[test]
#[ignore = "needs root and cgroups"]
fn run_prints_a_summary_unless_quiet() {
    let out =
        support::run(Command::new(BIN).args(["run", "--pids", "50", "--", "sh", "-c", "exit 3"]));
    let err = String::from_utf8_lossy(&out.stderr);
    if !support::require(!err.contains("needs root"), &format!("boxwise run: {err}")) {
        return;
    }
    assert_eq!(out.status.code(), Some(3), "{err}");
    let labels: Vec<&str> = err
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(
        labels,
        ["boxwise:", "cpu", "memory", "OOM", "pids"],
        "{err}"
    );
    assert!(err.starts_with("boxwise: run: exited 3 after "), "{err}");
    assert!(err.contains("OOM kills  none"), "{err}");
    assert!(err.contains(" of --pids 50"), "{err}");
    let quiet = support::run(Command::new(BIN).args(["run", "-q", "--", "true"]));
    assert!(quiet.status.success());
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
}

/// A v1 soft limit (what `docker run --memory-reservation` writes) shows in inspect's text and
/// JSON; the CPU time used names the file it came from.
#[test]
#[ignore = "needs root and a cgroup v1 memory controller"]
fn v1_soft_limit_and_the_cpu_usage_source_are_shown() {
    if !support::require(
        support::host_cgroup_version() != "v2",
        "needs cgroup v1 (memory.soft_limit_in_bytes is v1 only)",
    ) {
        return;
    }
    let Some(cg) = support::TestCgroup::create_or_skip() else {
        return;
    };
    let soft = 96u64 << 20;
    std::fs::write(
        cg.memory_dir().join("memory.soft_limit_in_bytes"),
        soft.to_string(),
    )
    .unwrap();
    let mut json = cg.command(BIN);
    json.args(["inspect", "--json"]);
    let out = support::run(&mut json);
    let doc: serde_json::Value = serde_json::from_str(&support::stdout_ok(&json, &out)).unwrap();
    assert_eq!(support::json_at(&doc, "memory.soft_limit_bytes"), soft);
    let source = support::json_at(&doc, "cpu.usage_source")
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        source.ends_with("/cpuacct.usage") || source.ends_with("/cpu.stat"),
        "{source}"
    );
    let mut text = cg.command(BIN);
    text.args(["inspect", "--wide"]);
    let out = support::run(&mut text);
    let text = support::stdout_ok(&text, &out);
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("soft limit"))
        .unwrap_or_else(|| panic!("no soft limit row:\n{text}"));
    assert!(
        row.contains("96 MiB (Docker's --memory-reservation)"),
        "{row}"
    );
    assert!(row.ends_with("/memory.soft_limit_in_bytes"), "{row}");
    let used = text
        .lines()
        .find(|l| l.trim_start().starts_with("used"))
        .unwrap();
    assert!(used.ends_with(&source), "{used}");
}

/// `boxwise inspect --json | head -1`: a reader that stops early ends boxwise quietly (the
/// status a shell reports for SIGPIPE), never with a panic and a backtrace.
#[test]
fn a_closed_pipe_is_not_a_panic() {
    for args in [&["inspect", "--json"][..], &["inspect"], &["ps"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader); // closed before boxwise writes a byte: the first write fails with EPIPE
        let out = Command::new(BIN)
            .args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err, "", "{args:?}");
        assert_eq!(out.status.code(), Some(141), "{args:?}");
    }
}

/// Trace readers: a line without end (`/dev/zero` on stdin) or a huge line in a file stops at
/// the cap with one line naming the line number; a FIFO nobody writes to reads as empty
/// instead of hanging in open, and pprof refuses it; a device is refused.
#[test]
fn trace_and_profile_inputs_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.log");
    let mut text = "gc 1 @0.010s 1%: 0.010+0.20+0.003 ms clock, 0.040+0.1/0.2/0.3+0.012 ms cpu, 4->4->0 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 4 P\n".repeat(2);
    text.push_str(&"x".repeat(200 << 10));
    std::fs::write(&huge, text).unwrap();
    let fifo = dir.path().join("trace.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let zero = || std::fs::File::open("/dev/zero").unwrap();
    let cases: Vec<(Command, &str)> = vec![
        (
            {
                let mut c = Command::new(BIN);
                c.args(["gctrace", "-"]).stdin(zero());
                c
            },
            "<stdin>:1: a line longer than 64 KiB",
        ),
        (
            {
                let mut c = Command::new(BIN);
                c.args(["schedtrace", "-"]).stdin(zero());
                c
            },
            "<stdin>:1: a line longer than 64 KiB",
        ),
        (
            {
                let mut c = Command::new(BIN);
                c.arg("gctrace").arg(&huge);
                c
            },
            "huge.log:3: a line longer than 64 KiB",
        ),
        (
            {
                let mut c = Command::new(BIN);
                c.args(["gctrace", "/dev/zero"]);
                c
            },
            "/dev/zero: not a regular file or a pipe",
        ),
        (
            {
                let mut c = Command::new(BIN);
                c.arg("gctrace").arg(&fifo);
                c
            },
            "no gctrace lines among 0 lines",
        ),
        (
            {
                let mut c = Command::new(BIN);
                c.args(["pprof", "top"]).arg(&fifo);
                c
            },
            "not a regular file",
        ),
        (
            {
                let mut c = Command::new(BIN);
                c.arg("inspect").arg("--root").arg(dir.path());
                c
            },
            "--root expects a copy of a machine's /proc and /sys/fs/cgroup",
        ),
    ];
    for (mut cmd, needle) in cases {
        let out = support::run(&mut cmd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{cmd:?}: {err}");
        assert!(
            err.starts_with("boxwise: ") && err.contains(needle),
            "{cmd:?}: {err}"
        );
    }
}

/// A container OOM-killed and restarted by Docker (`--restart on-failure`) runs in a new
/// memory cgroup whose `oom_kill` counter is 0; `doctor --pid` still reports the kill, from
/// the kernel log (which process, its RSS) and the Docker engine's state.
#[test]
#[ignore = "needs Docker, Go and root (/dev/kmsg)"]
fn an_oom_kill_survives_a_docker_restart() {
    if !support::docker_or_skip() {
        return;
    }
    let Some(worker) = support::build_go_program("worker") else {
        return;
    };
    // First start: mark the writable layer (it survives restarts) and allocate past the
    // limit; every later start finds the mark and sleeps.
    let img = support::DockerImage::build_scratch(
        &[
            (worker.as_path(), "worker"),
            (std::path::Path::new("/bin/busybox"), "busybox"),
        ],
        r#"ENTRYPOINT ["/busybox", "sh", "-c", "if /busybox test -e /oomed; then exec /worker sleep; fi; /busybox touch /oomed; exec /worker alloc 512"]"#,
    );
    // Not `img.run`: `--rm` refuses a restart policy. The label lets the image's Drop remove
    // the container.
    let mut cmd = Command::new("docker");
    cmd.args(["run", "-d", "--label"])
        .arg(format!("boxwise-test={}", img.tag()))
        .args([
            "--memory",
            "48m",
            "--memory-swap",
            "48m",
            "--restart",
            "on-failure:3",
        ])
        .arg(img.tag());
    let out = support::run(&mut cmd);
    let id = support::stdout_ok(&cmd, &out).trim().to_string();
    let inspect = |format: &str| {
        let o = Command::new("docker")
            .args(["inspect", "-f", format, &id])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let start = Instant::now();
    let pid = loop {
        let state = inspect("{{.RestartCount}} {{.State.Running}} {{.State.Pid}}");
        let f: Vec<&str> = state.split_whitespace().collect();
        if f.len() == 3 && f[0] != "0" && f[1] == "true" && f[2] != "0" {
            break f[2].to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "no restart after an OOM kill: {state}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let json = |args: &[&str]| -> serde_json::Value {
        let mut c = Command::new(BIN);
        c.args(args);
        let o = support::run(&mut c);
        serde_json::from_str(&support::stdout_ok(&c, &o)).unwrap()
    };
    // The premise: the new cgroup's own counter knows nothing.
    let box_json = json(&["inspect", "--json", "--pid", &pid]);
    assert_eq!(
        support::json_at(&box_json, "memory.oom_kill_events"),
        0,
        "{box_json:#}"
    );
    let doctor = json(&["doctor", "--json", "--pid", &pid]);
    let findings = support::json_at(&doctor, "findings").as_array().unwrap();
    let oom = findings
        .iter()
        .find(|f| f["id"] == "oom-killed")
        .unwrap_or_else(|| panic!("no oom-killed finding:\n{doctor:#}"));
    let evidence: Vec<&str> = oom["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let title = oom["title"].as_str().unwrap();
    assert!(title.contains("worker (pid "), "{title}");
    assert!(title.contains(" resident"), "{title}");
    let kernel = evidence
        .iter()
        .find(|e| e.starts_with("kernel log: ") && e.contains(&id[..12]))
        .unwrap_or_else(|| panic!("no kernel log line naming the container: {evidence:#?}"));
    assert!(
        kernel.contains(" ago, the OOM killer killed worker (pid "),
        "{kernel}"
    );
    assert!(!kernel.contains("RSS unknown"), "{kernel}");
    let engine_says = inspect("{{.State.OOMKilled}}");
    if engine_says == "true" {
        assert!(
            evidence.iter().any(|e| e.starts_with("Docker engine: container ") && e.contains("OOMKilled=true")),
            "{evidence:#?}"
        );
        // The engine is found where DOCKER_HOST says, as every Docker client finds it: a
        // link to the socket under another name answers, a missing socket gives no engine line.
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("engine.sock");
        std::os::unix::fs::symlink("/var/run/docker.sock", &link).unwrap();
        let engine_lines = |docker_host: &str| -> usize {
            let mut c = Command::new(BIN);
            c.args(["doctor", "--json", "--pid", &pid])
                .env("DOCKER_HOST", docker_host);
            let o = support::run(&mut c);
            let doc: serde_json::Value = serde_json::from_str(&support::stdout_ok(&c, &o)).unwrap();
            support::json_at(&doc, "findings")
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["id"] == "oom-killed")
                .flat_map(|f| f["evidence"].as_array().unwrap().iter())
                .filter(|e| e.as_str().unwrap().starts_with("Docker engine: container "))
                .count()
        };
        assert_eq!(engine_lines(&format!("unix://{}", link.display())), 1);
        assert_eq!(engine_lines("unix:///nonexistent/docker.sock"), 0);
    }
    let text = {
        let mut c = Command::new(BIN);
        c.args(["doctor", "--pid", &pid]);
        let o = support::run(&mut c);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert!(
        text.contains("OOM-killed before this cgroup's counter started"),
        "{text}"
    );
}

/// Usage lines show the `--` before CMD and name the program `boxwise` whatever the file is
/// called (`boxwise-static`); `exec --dry-run -- CMD` says it does not run CMD.
#[test]
fn usage_names_boxwise_and_shows_the_double_dash() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("boxwise-static");
    std::fs::copy(BIN, &copy).unwrap();
    let out = support::run(&mut Command::new(&copy));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Usage: boxwise [OPTIONS] <COMMAND>"), "{err}");
    for sub in ["exec", "run", "sweep"] {
        let out = support::run(Command::new(&copy).args([sub, "--help"]));
        let help = String::from_utf8_lossy(&out.stdout);
        let want = format!("Usage: boxwise {sub} [OPTIONS] -- <CMD>...");
        assert!(help.contains(&want), "{sub}: {help}");
    }
    let out = support::run(Command::new(BIN).args(["exec", "--dry-run", "--", "true"]));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("export GOMAXPROCS="));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "boxwise: --dry-run: not running the command; these are the settings it would get\n"
    );
}

/// `doctor --pid` of a process that is not Go (sleep, with GOMAXPROCS=8 in its environment)
/// says so and judges only the box: no GOMAXPROCS advice for a program without a Go runtime.
#[test]
fn doctor_on_a_non_go_process_judges_only_the_box() {
    let mut child = Command::new("sleep")
        .arg("60")
        .env("GOMAXPROCS", "8")
        .env("GOMEMLIMIT", "junk")
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let text = support::run(Command::new(BIN).args(["doctor", "--wide", "--pid", &pid]));
    let json = support::run(Command::new(BIN).args(["doctor", "--json", "--pid", &pid]));
    let _ = child.kill();
    let _ = child.wait();
    let text = String::from_utf8_lossy(&text.stdout);
    let first = text.lines().next().unwrap();
    assert!(
        first.contains("not a Go program, so only the box is judged"),
        "{text}"
    );
    assert!(
        !text.contains("gomaxprocs-") && !text.contains("gomemlimit-"),
        "{text}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(support::json_at(&doc, "subject.not_go"), "not a Go program");
}

/// `exec --gomaxprocs N --gomemlimit SIZE` set exactly those values, over the environment and
/// the limits, and the log says where they came from.
#[test]
fn exec_overrides_win() {
    let out = support::run(
        Command::new(BIN)
            .args([
                "exec",
                "--gomaxprocs",
                "3",
                "--gomemlimit",
                "400m",
                "--",
                "sh",
                "-c",
            ])
            .arg("echo $GOMAXPROCS $GOMEMLIMIT")
            .env("GOMAXPROCS", "7")
            .env("GOMEMLIMIT", "junk"),
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "3 419430400\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err, "boxwise: GOMAXPROCS=3 (--gomaxprocs), GOMEMLIMIT=419430400 (--gomemlimit)\n",
        "{err}"
    );
    let bad = support::run(Command::new(BIN).args(["exec", "--gomaxprocs", "0", "--", "true"]));
    assert_eq!(bad.status.code(), Some(2));
}

/// Completions come from the clap definitions (bash loads them and completes `boxwise e` to
/// `exec`); the man page covers every command and option.
#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let out = support::run(Command::new(BIN).args(["completions", shell]));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{shell}");
        assert!(
            text.contains("gomaxprocs") && text.contains("cpuset"),
            "{shell}"
        );
    }
    let script = support::run(Command::new(BIN).args(["completions", "bash"]));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("boxwise.bash");
    std::fs::write(&file, &script.stdout).unwrap();
    let probe = format!(
        "source {}; COMP_WORDS=(boxwise exe); COMP_CWORD=1; _boxwise boxwise exe boxwise; \
         echo \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let out = support::run(Command::new("bash").args(["-c", &probe]));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "exec",
        "{out:?}"
    );
    let man = support::run(Command::new(BIN).arg("man"));
    let man = String::from_utf8_lossy(&man.stdout);
    for want in [
        ".TH boxwise 1",
        ".TH boxwise-run 1",
        "\\-\\-cpuset",
        "\\-\\-gomemlimit",
    ] {
        assert!(man.contains(want), "man page lacks {want}");
    }
    // --dir: one file per page, nested commands too, and every page another page names
    // under SEE ALSO is one of them.
    let dir = tempfile::tempdir().unwrap();
    let out = support::run(Command::new(BIN).args(["man", "--dir"]).arg(dir.path()));
    assert!(out.status.success(), "{out:?}");
    let pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for want in [
        "boxwise.1",
        "boxwise-run.1",
        "boxwise-bench-net.1",
        "boxwise-pprof-top.1",
    ] {
        assert!(pages.iter().any(|p| p == want), "no {want} in {pages:?}");
    }
    let net = std::fs::read_to_string(dir.path().join("boxwise-bench-net.1")).unwrap();
    assert!(
        net.contains("\\-\\-modes"),
        "boxwise-bench-net.1 lacks --modes"
    );
    for page in &pages {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        let plain = text
            .replace("\\-", "-")
            .replace("\\fB", "")
            .replace("\\fR", "");
        for token in plain.split(|c: char| c.is_whitespace() || c == ',') {
            if let Some(named) = token.strip_suffix("(1)")
                && named.starts_with("boxwise")
            {
                let file = format!("{named}.1");
                assert!(
                    pages.contains(&file),
                    "{page} names {file}, which is not a page"
                );
            }
        }
    }
}

/// `ps` as a user who may not read other users' executables: the unreadable processes are
/// one summary line, not a `? (no access)` row each.
#[test]
fn ps_folds_the_unreadable_into_one_line() {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(BIN);
    cmd.args(["ps", "--wide"]);
    // As root, run it as nobody (std sets the ids between fork and exec).
    if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
        cmd.uid(65534).gid(65534);
    }
    let out = support::run(&mut cmd);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("no access"), "{text}");
    let folded: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("may not read"))
        .collect();
    // Other users' processes exist on any machine running tests (PID 1 at least).
    assert_eq!(folded.len(), 1, "{text}");
    assert!(folded[0].contains("pid 1"), "{text}");
}

/// Profile URLs boxwise cannot fetch are refused before connecting, in words: an https URL
/// (no TLS in this build) and a port outside 1-65535.
#[test]
fn pprof_urls_it_cannot_fetch() {
    for (url, needle) in [
        ("https://127.0.0.1/x", "https is not supported"),
        (
            "http://127.0.0.1:99999/",
            "port 99999 is not a port (1 to 65535)",
        ),
        ("http://127.0.0.1:0/", "port 0 is not a port"),
    ] {
        let out = support::run(Command::new(BIN).args(["pprof", "top", url]));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{url}: {err}");
        assert!(
            err.starts_with("boxwise: ") && err.contains(needle),
            "{url}: {err}"
        );
        assert!(!err.contains("Connection refused"), "{url}: {err}");
    }
}
