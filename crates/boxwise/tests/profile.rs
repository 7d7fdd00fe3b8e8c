//! `boxwise profile` against real Go programs: tests/go/spin built with Go 1.19, 1.23, 1.25
//! and 1.26, stripped and not, sampled by perf_event_open (root), read back by
//! `go tool pprof -top` and `boxwise pprof top`, and compared with runtime/pprof's own CPU
//! profile of the same run. Shares only, never times.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use support::{build_go_program_flags, require, run, stdout_ok};

const GO_TOOL: &str = "/usr/lib/go-1.19/bin/go";
const TOOLCHAINS: [(&str, &str); 4] = [
    ("go119", "/usr/lib/go-1.19/bin/go"),
    ("go123", "/usr/lib/go-1.23/bin/go"),
    ("go125", "/opt/boxwise-go/go-1.25/bin/go"),
    ("go126", "/opt/boxwise-go/go-1.26/bin/go"),
];

fn boxwise() -> Command {
    Command::new(env!("CARGO_BIN_EXE_boxwise"))
}

fn root_or_skip() -> bool {
    require(
        // The effective uid: the second number on /proc/self/status's Uid line.
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Uid:"))
                    .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
            })
            .unwrap_or(false),
        "needs root (perf_event_open on another process)",
    )
}

fn go_tool_or_skip() -> bool {
    require(
        Path::new(GO_TOOL).exists(),
        "needs Go 1.19 for `go tool pprof` (apt-get install golang-go)",
    )
}

fn spin(label: &str, go: &str, stripped: bool) -> Option<PathBuf> {
    if !require(Path::new(go).exists(), &format!("{go} is not installed")) {
        return None;
    }
    let flags: &[&str] = if stripped { &["-ldflags=-s -w"] } else { &[] };
    let label = format!("{label}{}", if stripped { "-stripped" } else { "" });
    build_go_program_flags(Path::new(go), "spin", &label, flags)
}

/// One row of `go tool pprof -top`: flat%, cum%, name.
#[derive(Debug)]
struct Row {
    flat: f64,
    cum: f64,
    name: String,
}

fn pprof_top(file: &Path) -> Vec<Row> {
    let mut cmd = Command::new(GO_TOOL);
    cmd.args(["tool", "pprof", "-top"]).arg(file);
    let out = run(&mut cmd);
    let text = stdout_ok(&cmd, &out);
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in text.lines() {
        if line.trim_start().starts_with("flat") {
            in_table = true;
            continue;
        }
        if !in_table {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 {
            continue;
        }
        let pct = |s: &str| s.trim_end_matches('%').parse::<f64>().unwrap_or(f64::NAN);
        rows.push(Row {
            flat: pct(f[1]),
            cum: pct(f[4]),
            name: f[5..].join(" "),
        });
    }
    assert!(
        !rows.is_empty(),
        "go tool pprof -top printed no rows:\n{text}"
    );
    rows
}

fn row<'a>(rows: &'a [Row], name: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.name == name)
}

fn profile_json(args: &[&str]) -> serde_json::Value {
    let mut cmd = boxwise();
    cmd.arg("profile").arg("--json").args(args);
    let out = run(&mut cmd);
    let text = stdout_ok(&cmd, &out);
    // A command under -- may print before our JSON (spin prints "ready").
    let start = text.find('{').expect("JSON on stdout");
    serde_json::from_str(&text[start..]).expect("profile --json is JSON")
}

/// Starts spin and waits for its "ready" line.
fn start_spin(bin: &Path, extra: &[&str]) -> Child {
    let mut child = Command::new(bin)
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start spin");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut line)
        .expect("read ready");
    assert_eq!(line.trim(), "ready");
    child
}

/// The hot path's shape, as any correct CPU profiler of spin sees it.
fn assert_spin_shape(rows: &[Row], what: &str) {
    let spin = row(rows, "main.spin").unwrap_or_else(|| panic!("{what}: no main.spin: {rows:?}"));
    let warm = row(rows, "main.warm").unwrap_or_else(|| panic!("{what}: no main.warm: {rows:?}"));
    // spin does three times warm's work per loop: it must be the hottest Go function.
    assert!(
        spin.flat > warm.flat,
        "{what}: main.spin not above main.warm: {rows:?}"
    );
    let top_go = rows
        .iter()
        .filter(|r| r.name.starts_with("main.") || r.name.starts_with("runtime."))
        .max_by(|a, b| a.flat.total_cmp(&b.flat))
        .expect("a Go row");
    assert_eq!(top_go.name, "main.spin", "{what}: {rows:?}");
    // main.loop calls spin from a frameless leaf: present only when the leaf's caller
    // was recovered from the stack.
    assert!(
        row(rows, "main.loop").is_some(),
        "{what}: main.loop missing: {rows:?}"
    );
    assert!(
        row(rows, "runtime.goexit").is_some(),
        "{what}: stacks not complete: {rows:?}"
    );
}

#[test]
#[ignore = "needs root (perf_event_open), Go 1.19, 1.23, 1.25 and 1.26"]
fn profiles_cmd_for_each_go_version_stripped_and_not() {
    if !root_or_skip() || !go_tool_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for (label, go) in TOOLCHAINS {
        for stripped in [false, true] {
            let Some(bin) = spin(label, go, stripped) else {
                return;
            };
            let what = format!("{label} stripped={stripped}");
            let out = dir.path().join(format!("{label}-{stripped}.pprof"));
            let j = profile_json(&[
                "--hz",
                "499",
                "--for",
                "3s",
                "-o",
                out.to_str().expect("utf-8"),
                "--",
                bin.to_str().expect("utf-8"),
            ]);
            assert_eq!(j["symbolizer"]["go_pclntab"]["inline"], true, "{what}: {j}");
            assert_eq!(
                j["symbolizer"]["go_pclntab"]["go120_layout"],
                label != "go119",
                "{what}: {j}"
            );
            assert!(j["lost_samples"].is_u64(), "{what}: {j}");
            assert!(j["samples"].as_u64().unwrap_or(0) > 0, "{what}: {j}");
            let rows = pprof_top(&out);
            assert_spin_shape(&rows, &what);
            // boxwise's own reader takes it too.
            let mut cmd = boxwise();
            cmd.args(["pprof", "top"]).arg(&out);
            let o = run(&mut cmd);
            assert!(stdout_ok(&cmd, &o).contains("main.spin"));
        }
    }
}

#[test]
#[ignore = "needs root (perf_event_open) and Go 1.25"]
fn profiles_a_running_pid_like_runtime_pprof_does() {
    if !root_or_skip() || !go_tool_or_skip() {
        return;
    }
    let Some(bin) = spin("go125", TOOLCHAINS[2].1, false) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = dir.path().join("runtime.pprof");
    let ours = dir.path().join("boxwise.pprof");
    // The same run profiled twice: from inside by runtime/pprof, from outside by us.
    let mut child = start_spin(
        &bin,
        &["-for", "6s", "-cpuprofile", rt.to_str().expect("utf-8")],
    );
    let pid = child.id().to_string();
    let j = profile_json(&[
        "--pid",
        &pid,
        "--hz",
        "499",
        "--for",
        "4s",
        "-o",
        ours.to_str().expect("utf-8"),
    ]);
    let status = child.wait().expect("wait spin");
    assert!(status.success());
    assert_eq!(j["pid"].as_u64(), pid.parse().ok(), "{j}");
    assert!(
        j["threads"].as_u64().unwrap_or(0) >= 2,
        "a Go process has several threads: {j}"
    );
    let ours = pprof_top(&ours);
    let theirs = pprof_top(&rt);
    assert_spin_shape(&ours, "boxwise");
    // Share of the hot loop spent in spin (cum, so the runtime's preemption frames and
    // kernel entry frames under spin count for it in both), within a generous margin.
    let share = |rows: &[Row]| {
        let s = row(rows, "main.spin").map(|r| r.cum).unwrap_or(0.0);
        let w = row(rows, "main.warm").map(|r| r.cum).unwrap_or(0.0);
        s / (s + w)
    };
    let (a, b) = (share(&ours), share(&theirs));
    assert!(
        (a - b).abs() < 0.15,
        "spin's share: boxwise {a:.2}, runtime/pprof {b:.2}\nours {ours:?}\ntheirs {theirs:?}"
    );
}

#[test]
#[ignore = "needs root (perf_event_open) and Go 1.25"]
fn target_exiting_mid_run_keeps_what_was_collected() {
    if !root_or_skip() || !go_tool_or_skip() {
        return;
    }
    let Some(bin) = spin("go125", TOOLCHAINS[2].1, false) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("cpu.pprof");
    let j = profile_json(&[
        "--hz",
        "499",
        "--for",
        "10m",
        "-o",
        out.to_str().expect("utf-8"),
        "--",
        bin.to_str().expect("utf-8"),
        "-for",
        "2s",
    ]);
    assert_eq!(j["target_exited"], true, "{j}");
    assert!(j["duration_seconds"].as_f64().unwrap_or(1e9) < 600.0, "{j}");
    assert!(j["samples"].as_u64().unwrap_or(0) > 0, "{j}");
    assert!(row(&pprof_top(&out), "main.spin").is_some());
}

#[test]
#[ignore = "needs root (to drop to nobody with setpriv) and Go 1.25"]
fn unprivileged_user_gets_one_line_naming_the_capability() {
    if !root_or_skip() {
        return;
    }
    let Some(bin) = spin("go125", TOOLCHAINS[2].1, false) else {
        return;
    };
    let mut child = start_spin(&bin, &[]);
    let out = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_boxwise"))
        .args(["profile", "--for", "1s", "-o", "/dev/null", "--pid"])
        .arg(child.id().to_string())
        .output()
        .expect("run setpriv");
    let _ = child.kill();
    let _ = child.wait();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("CAP_PERFMON"), "{err}");
    assert!(err.contains("perf_event_paranoid"), "{err}");
}

#[test]
fn missing_pid_is_one_line() {
    let out = boxwise()
        .args([
            "profile",
            "--for",
            "1s",
            "-o",
            "/dev/null",
            "--pid",
            "999999999",
        ])
        .output()
        .expect("run boxwise");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no process with PID 999999999"), "{err}");
}

/// The line in spin's source holding `needle`.
fn source_line(needle: &str) -> i64 {
    let src = std::fs::read_to_string(support::workspace_root().join("tests/go/spin/main.go"))
        .expect("spin source");
    src.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as i64 + 1)
        .expect("line in spin source")
}

#[test]
#[ignore = "needs Go 1.19, 1.23, 1.25 and 1.26"]
fn pclntab_names_lines_and_inlined_calls_for_each_go_version() {
    use boxwise_profile::pclntab::Pclntab;
    let call_line = source_line("x = mix(x, i)");
    let mix_line = source_line("func mix(");
    let spin_line = source_line("x = x*6364136223846793005");
    for (label, go) in TOOLCHAINS {
        for stripped in [false, true] {
            let Some(bin) = spin(label, go, stripped) else {
                return;
            };
            let what = format!("{label} stripped={stripped}");
            let data = std::fs::read(&bin).expect("read spin");
            let image = boxwise_goprog::elf::ElfImage::parse(&data).expect("ELF");
            let tab = Pclntab::from_elf(&image).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(tab.has_inline_tree(), "{what}: moduledata not found");
            // Every PC of main.spin is main.spin, in main.go, within the function.
            let (s0, s1) = tab.find("main.spin").expect("main.spin in pclntab");
            // (The alignment padding after the last instruction has no file or line.)
            let lines: Vec<i64> = (s0..s1)
                .filter_map(|pc| {
                    let f = tab.frames(pc);
                    assert_eq!(f.len(), 1, "{what}: {f:?}");
                    assert_eq!(f[0].function, "main.spin");
                    (f[0].file != "?").then(|| {
                        assert!(f[0].file.ends_with("spin/main.go"), "{what}: {}", f[0].file);
                        f[0].line
                    })
                })
                .collect();
            assert!(lines.contains(&spin_line), "{what}: {lines:?}");
            // Some PC of main.warm is mix's body, inlined: [mix at its line, warm at the call].
            let (w0, w1) = tab.find("main.warm").expect("main.warm in pclntab");
            let inlined = (w0..w1).map(|pc| tab.frames(pc)).find(|f| f.len() == 2);
            let f = inlined.unwrap_or_else(|| panic!("{what}: no inlined frame in main.warm"));
            assert_eq!(
                (f[0].function.as_str(), f[0].line, f[0].inlined),
                ("main.mix", mix_line, true),
                "{what}"
            );
            assert_eq!(
                (f[1].function.as_str(), f[1].line, f[1].inlined),
                ("main.warm", call_line, false),
                "{what}"
            );
            // Go's unwinder stops at goexit and mstart; so does ours.
            for (name, top) in [
                ("runtime.goexit", true),
                ("runtime.mstart", true),
                ("main.warm", false),
            ] {
                let (a, _) = tab
                    .find(name)
                    .unwrap_or_else(|| panic!("{what}: no {name}"));
                assert_eq!(tab.top_frame(a), top, "{what}: {name}");
            }
            // Outside the text: nothing, not a wrong name.
            assert!(tab.frames(0).is_empty());
        }
    }
}

#[test]
#[ignore = "needs root, Docker and Go 1.25"]
fn profiles_a_go_program_in_a_docker_container_from_the_host() {
    if !root_or_skip() || !go_tool_or_skip() || !support::docker_or_skip() {
        return;
    }
    let Some(bin) = spin("go125", TOOLCHAINS[2].1, true) else {
        return;
    };
    let image = support::DockerImage::build_scratch(&[(bin.as_path(), "spin")], "");
    let mut cmd = Command::new("docker");
    cmd.args(["run", "-d", "--rm", "--label"])
        .arg(format!("boxwise-test={}", image.tag()))
        .args([image.tag(), "/spin", "-for", "20s"]);
    let out = run(&mut cmd);
    let id = stdout_ok(&cmd, &out).trim().to_string();
    let mut cmd = Command::new("docker");
    cmd.args(["inspect", "-f", "{{.State.Pid}}", &id]);
    let out = run(&mut cmd);
    let pid = stdout_ok(&cmd, &out).trim().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cpu.pprof");
    // The executable is /spin inside the container's mount namespace only: read through
    // /proc/PID/exe from the host.
    let j = profile_json(&[
        "--pid",
        &pid,
        "--hz",
        "499",
        "--for",
        "3s",
        "-o",
        file.to_str().expect("utf-8"),
    ]);
    let _ = Command::new("docker").args(["rm", "-f", &id]).output();
    assert_eq!(j["executable"], "/spin", "{j}");
    assert_eq!(j["symbolizer"]["go_pclntab"]["inline"], true, "{j}");
    assert_spin_shape(&pprof_top(&file), "in a container");
}

#[test]
#[ignore = "needs root (perf_event_open) and a C compiler"]
fn a_program_that_is_not_go_is_profiled_with_elf_symbols() {
    if !root_or_skip() || !go_tool_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("burn.c");
    let exe = dir.path().join("burn");
    std::fs::write(
        &src,
        "#include <stdlib.h>\n\
         volatile unsigned long sink;\n\
         __attribute__((noinline)) unsigned long burn(unsigned long n) {\n\
           unsigned long x = 1; for (unsigned long i = 0; i < n; i++) x = x * 6364136223846793005UL + i;\n\
           return x; }\n\
         int main(int argc, char **argv) { for (;;) sink += burn(1000000 + (sink & 1)); }\n",
    )
    .expect("write C source");
    let mut cc = Command::new("cc");
    cc.args(["-O1", "-fno-omit-frame-pointer", "-o"])
        .arg(&exe)
        .arg(&src);
    let out = run(&mut cc);
    stdout_ok(&cc, &out);
    let file = dir.path().join("cpu.pprof");
    let j = profile_json(&[
        "--hz",
        "499",
        "--for",
        "2s",
        "-o",
        file.to_str().expect("utf-8"),
        "--",
        exe.to_str().expect("utf-8"),
    ]);
    assert_eq!(j["symbolizer"], "elf_symbols", "{j}");
    let rows = pprof_top(&file);
    let top = rows
        .iter()
        .max_by(|a, b| a.flat.total_cmp(&b.flat))
        .expect("a row");
    let raw = Command::new(GO_TOOL)
        .args(["tool", "pprof", "-raw"])
        .arg(&file)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert_eq!(top.name, "burn", "{rows:?}\n{raw}");
}

#[test]
#[ignore = "needs root (perf_event_open) and Go 1.25"]
fn doctor_profile_live_folds_the_sampled_profile_into_findings() {
    if !root_or_skip() {
        return;
    }
    let Some(bin) = support::build_go_program_with(Path::new(TOOLCHAINS[2].1), "gcload", "go125")
    else {
        return;
    };
    // gcload allocates without pause: its CPU is in the allocator and the GC.
    let mut child = Command::new(&bin)
        .args(["20"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start gcload");
    let mut cmd = boxwise();
    cmd.args(["doctor", "--json", "--profile-live", "3s", "--pid"])
        .arg(child.id().to_string());
    let out = run(&mut cmd);
    let _ = child.kill();
    let _ = child.wait();
    let doc: serde_json::Value =
        serde_json::from_str(&stdout_ok(&cmd, &out)).expect("doctor --json");
    let ids: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(
        ids.iter()
            .any(|id| *id == "profile-malloc-heavy" || *id == "profile-gc-heavy"),
        "{doc:#}"
    );
}

fn tracefs_mounts() -> usize {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(" tracefs "))
        .count()
}

#[test]
#[ignore = "needs root (perf_event_open, tracefs, cgroups) and Go 1.25"]
fn offcpu_shows_where_a_throttled_program_waited() {
    if !root_or_skip() || !go_tool_or_skip() {
        return;
    }
    let Some(bin) = spin("go125", TOOLCHAINS[2].1, false) else {
        return;
    };
    let Some(cg) = support::TestCgroup::create_or_skip() else {
        return;
    };
    // Two busy goroutines under a fifth of a CPU: throttled most of every period.
    cg.set_cpu_quota(0.2);
    let mut cmd = cg.command(&bin);
    cmd.args(["-threads", "2", "-for", "8s"])
        .stdout(Stdio::null());
    let mut child = cmd.spawn().expect("start spin in the cgroup");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mounts_before = tracefs_mounts();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("off.pprof");
    let j = profile_json(&[
        "--pid",
        &child.id().to_string(),
        "--offcpu",
        "--for",
        "4s",
        "-o",
        file.to_str().expect("utf-8"),
    ]);
    let _ = child.kill();
    let _ = child.wait();
    // The tracepoint id was read from a private tracefs mount that is gone again.
    assert_eq!(tracefs_mounts(), mounts_before);
    assert!(j["offcpu_nanoseconds"].as_u64().unwrap_or(0) > 0, "{j}");
    // Default view: still CPU.
    assert_spin_shape(&pprof_top(&file), "offcpu profile, cpu view");
    // Off-CPU view: the throttled threads were taken off the CPU inside the hot loop, and
    // sysmon sleeps in usleep.
    let mut cmd = Command::new(GO_TOOL);
    cmd.args(["tool", "pprof", "-top", "-sample_index=offcpu"])
        .arg(&file);
    let out = run(&mut cmd);
    let text = stdout_ok(&cmd, &out);
    assert!(text.contains("Type: offcpu"), "{text}");
    for name in ["main.spin", "runtime.sysmon"] {
        assert!(
            text.lines().any(|l| l.ends_with(&format!(" {name}"))),
            "{name} not in the off-CPU view:\n{text}"
        );
    }
}

#[test]
#[ignore = "needs root (perf_event_open), Go 1.19 and 1.25"]
fn profiles_position_independent_builds() {
    if !root_or_skip() || !go_tool_or_skip() {
        return;
    }
    // PIE: loaded at a random base (the load bias comes from /proc/PID/maps) and the table
    // is in `.data.rel.ro.gopclntab`.
    for (label, go) in [TOOLCHAINS[0], TOOLCHAINS[2]] {
        let Some(bin) = build_go_program_flags(
            Path::new(go),
            "spin",
            &format!("{label}-pie"),
            &["-buildmode=pie"],
        ) else {
            return;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("pie.pprof");
        let j = profile_json(&[
            "--hz",
            "499",
            "--for",
            "3s",
            "-o",
            out.to_str().expect("utf-8"),
            "--",
            bin.to_str().expect("utf-8"),
        ]);
        assert_eq!(
            j["symbolizer"]["go_pclntab"]["inline"], true,
            "{label}: {j}"
        );
        assert_spin_shape(&pprof_top(&out), &format!("{label} PIE"));
    }
}

/// A PID of a kernel thread visible here (`PF_KTHREAD` in /proc/PID/stat's flags).
fn kernel_thread_pid() -> Option<u32> {
    const PF_KTHREAD: u64 = 0x0020_0000;
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    let rest = &s[s.rfind(')')? + 1..];
                    rest.split_whitespace().nth(6)?.parse::<u64>().ok()
                })
                .is_some_and(|f| f & PF_KTHREAD != 0)
        })
}

#[test]
fn unwritable_output_fails_before_the_command_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("started");
    let start = std::time::Instant::now();
    let out = boxwise()
        .args([
            "profile",
            "--for",
            "10m",
            "-o",
            "/nonexistent/dir/x.pprof",
            "--",
        ])
        .args(["sh", "-c", "touch \"$0\"; sleep 30"])
        .arg(&marker)
        .output()
        .expect("run boxwise");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with("boxwise: cannot write /nonexistent/dir/x.pprof"),
        "{err}"
    );
    assert!(!marker.exists(), "the command was started: {err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn kernel_thread_pid_says_it_has_no_executable() {
    let Some(pid) = kernel_thread_pid() else {
        require(false, "no kernel thread visible in /proc (a PID namespace)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cpu.pprof");
    let out = boxwise()
        .args(["profile", "--for", "1s", "--pid", &pid.to_string(), "-o"])
        .arg(&file)
        .output()
        .expect("run boxwise");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains(&format!("PID {pid} is a kernel thread")),
        "{err}"
    );
    assert!(err.contains("no executable to profile"), "{err}");
    assert!(!file.exists(), "a failed run leaves no file it created");
}

#[test]
fn zero_durations_and_profile_live_without_pid_are_usage_errors() {
    let me = env!("CARGO_BIN_EXE_boxwise");
    let cases: [(&[&str], &str); 4] = [
        (&["profile", "--for", "0s", "--pid", "1"], "--for"),
        (
            &["doctor", "--pid", "1", "--profile-live", "0s"],
            "--profile-live",
        ),
        (
            &["doctor", "--binary", me, "--profile-live", "1s"],
            "--profile-live",
        ),
        (&["doctor", "--profile-live", "1s"], "--pid"),
    ];
    for (args, flag) in cases {
        let out = boxwise().args(args).output().expect("run boxwise");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?} should name {flag}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} did work");
    }
}

#[test]
#[ignore = "needs root (perf_event_open)"]
fn the_commands_exit_status_is_passed_through_after_the_profile_is_written() {
    if !root_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // (command, expected status): its own code, 128 + the signal that killed it, and 0
    // when --for ran out and boxwise stopped it.
    let cases: [(&[&str], &str, i32); 3] = [
        (&["sh", "-c", "sleep 0.5; exit 3"], "10m", 3),
        (&["sh", "-c", "sleep 0.5; kill -9 $$"], "10m", 137),
        (&["sleep", "30"], "1s", 0),
    ];
    for (i, (cmd, dur, code)) in cases.into_iter().enumerate() {
        let file = dir.path().join(format!("{i}.pprof"));
        let out = boxwise()
            .args(["profile", "--for", dur, "-o"])
            .arg(&file)
            .arg("--")
            .args(cmd)
            .output()
            .expect("run boxwise");
        let err = String::from_utf8_lossy(&out.stderr);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(code), "{cmd:?}: {err}{text}");
        assert!(err.is_empty(), "{cmd:?}: {err}");
        assert!(text.contains("wrote"), "{cmd:?}: {text}");
        let bytes = std::fs::read(&file).expect("profile written");
        assert_eq!(&bytes[..2], &[0x1f, 0x8b], "{cmd:?}: a gzipped profile");
        // One thread sampled: the row says so in the singular.
        assert!(text.contains(", 1 thread\n"), "{cmd:?}: {text}");
    }
}
