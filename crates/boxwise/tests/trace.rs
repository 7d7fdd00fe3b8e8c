//! `boxwise gctrace` and `boxwise schedtrace` end to end: committed captures from Go 1.19,
//! 1.22 and 1.23 (tests/fixtures/trace, made with tests/go/gcload), garbage input, the
//! SVG plot, and a live capture from gcload built with every installed Go.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;
use support::{build_go_program_with, json_at, require, workspace_root};

fn fixture(name: &str) -> PathBuf {
    workspace_root().join("tests/fixtures/trace").join(name)
}

fn boxwise() -> Command {
    Command::cargo_bin("boxwise").expect("boxwise binary")
}

/// Runs boxwise with `args` (and `stdin`), returning (status code, stdout, stderr).
fn run(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut cmd = boxwise();
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start boxwise");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json(args: &[&str], stdin: Option<&[u8]>) -> Value {
    let (code, out, err) = run(args, stdin);
    assert_eq!(code, 0, "boxwise {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn f(v: &Value, path: &str) -> f64 {
    json_at(v, path)
        .as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number: {v:#}"))
}

#[test]
fn go119_capture() {
    let path = fixture("go1.19-gcload.log");
    let d = json(&["gctrace", "--json", path.to_str().unwrap()], None);
    assert_eq!(f(&d, "lines"), 456.0);
    assert_eq!(f(&d, "malformed_lines"), 0.0);
    // 208 gc, 209 scav and 15 SCHED lines; the rest is gcload's own "tick" output.
    assert_eq!(f(&d, "other_lines"), 456.0 - 208.0 - 209.0 - 15.0);
    assert_eq!(f(&d, "summary.cycles"), 208.0);
    assert_eq!(f(&d, "summary.forced_cycles"), 2.0);
    assert_eq!(f(&d, "summary.missing_cycles"), 0.0);
    assert_eq!(f(&d, "summary.procs"), 2.0);
    assert_eq!(f(&d, "scavenger.lines"), 209.0);
    assert_eq!(f(&d, "scavenger.forced"), 1.0);
    assert!(
        json_at(&d, "scavenger.work_eager_total_kib").is_null(),
        "go1.19 has no eager field"
    );
    // Line 2: gc 1 @0.000s 8%: 0.014+0.17+0.003 ms clock, 0.028+0.049/0.063/0+0.006 ms cpu,
    // 4->4->4 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P
    let c = &d["cycles"][0];
    assert_eq!(f(c, "line"), 2.0);
    assert_eq!(f(c, "clock.sweep_term_ms"), 0.014);
    assert_eq!(f(c, "clock.mark_ms"), 0.17);
    assert_eq!(f(c, "cpu.background_ms"), 0.063);
    assert_eq!(f(c, "heap_goal_mib"), 4.0);
    // The last cycle: gc 208 @1.496s 13%: 1.2+1.2+0.003 ms clock, ... 70->83->37 MB, 75 MB goal.
    assert_eq!(f(&d, "summary.last_gc"), 208.0);
    assert_eq!(f(&d, "summary.heap.last_live_mib"), 37.0);
    assert_eq!(f(&d, "summary.heap.last_goal_mib"), 75.0);
    assert_eq!(f(&d, "summary.cpu.runtime_reported_percent"), 13.0);
    // Before Go 1.23 our GC CPU fraction and the runtime's own figure agree (the runtime
    // truncates to an integer percent at the start of the last cycle).
    let frac = f(&d, "summary.cpu.gc_cpu_fraction") * 100.0;
    assert!(
        (12.5..14.5).contains(&frac),
        "gc_cpu_fraction {frac}% vs runtime 13%"
    );
}

#[test]
fn go122_capture_agrees_with_the_runtime_cpu_figure() {
    let path = fixture("go1.22-gcload.log");
    let d = json(&["gctrace", "--json", path.to_str().unwrap()], None);
    assert_eq!(f(&d, "summary.cycles"), 217.0);
    let rt = f(&d, "summary.cpu.runtime_reported_percent");
    let frac = f(&d, "summary.cpu.gc_cpu_fraction") * 100.0;
    assert!(
        frac >= rt - 0.5 && frac < rt + 1.5,
        "{frac}% vs runtime {rt}%"
    );
}

#[test]
fn go123_capture() {
    let path = fixture("go1.23-gcload.log");
    let p = path.to_str().unwrap();
    let d = json(
        &[
            "gctrace",
            "--json",
            "--gomemlimit",
            "128MiB",
            "--memory-limit",
            "256m",
            p,
        ],
        None,
    );
    assert_eq!(f(&d, "summary.cycles"), 232.0);
    assert_eq!(f(&d, "summary.forced_cycles"), 1.0);
    assert_eq!(f(&d, "scavenger.lines"), 233.0);
    assert!(f(&d, "scavenger.work_eager_total_kib") > 0.0);
    // gc 232 @1.482s 6%: ... 83->111->52 MB, 97 MB goal.
    assert_eq!(f(&d, "summary.heap.last_live_mib"), 52.0);
    assert_eq!(
        f(&d, "summary.limits.gomemlimit_bytes"),
        (128u64 << 20) as f64
    );
    assert_eq!(
        f(&d, "summary.limits.memory_limit_bytes"),
        (256u64 << 20) as f64
    );
    let peak = f(&d, "summary.heap.peak_mib");
    assert_eq!(
        f(&d, "summary.limits.peak_heap_of_memory_limit"),
        peak / 256.0
    );
    // Go 1.23 leaves the time spent stopping the world out of its own figure (it counts
    // only the stopping thread's CPU); gctrace's sweep-termination CPU includes it, and so
    // does ours, so ours is higher here, where stopping took long.
    let rt = f(&d, "summary.cpu.runtime_reported_percent");
    let frac = f(&d, "summary.cpu.gc_cpu_fraction") * 100.0;
    assert!(frac > rt, "{frac}% vs runtime {rt}%");

    let s = json(&["schedtrace", "--json", p], None);
    assert_eq!(f(&s, "summary.samples"), 15.0);
    assert_eq!(f(&s, "summary.gomaxprocs_max"), 2.0);
    assert!(
        !json_at(&s, "summary.need_spinning").is_null(),
        "go1.23 prints needspinning"
    );
    assert_eq!(f(&s["samples"][0], "at_ms"), 0.0);
}

#[test]
fn schedtrace_go119_and_scheddetail() {
    let d = json(
        &[
            "schedtrace",
            "--json",
            fixture("go1.19-gcload.log").to_str().unwrap(),
        ],
        None,
    );
    assert!(
        json_at(&d, "summary.need_spinning").is_null(),
        "go1.19 has no needspinning"
    );
    // SCHED 0ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=1 idlethreads=0 runqueue=1 [0 0]
    let first = &d["samples"][0];
    assert_eq!(
        (
            f(first, "threads"),
            f(first, "spinning_threads"),
            f(first, "global_runqueue")
        ),
        (4.0, 1.0, 1.0)
    );
    assert_eq!(first["local_runqueues"], serde_json::json!([0, 0]));

    let d = json(
        &[
            "schedtrace",
            "--json",
            fixture("go1.23-scheddetail.log").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(f(&d, "summary.samples"), 3.0);
    assert_eq!(f(&d, "summary.detailed_samples"), 3.0);
    assert_eq!(f(&d, "malformed_lines"), 0.0);
    // Every P/M/G line under a sample is a detail line; the P lines give the run queues.
    let text = std::fs::read_to_string(fixture("go1.23-scheddetail.log")).unwrap();
    let detail = text.lines().filter(|l| l.starts_with("  ")).count();
    assert_eq!(f(&d, "detail_lines"), detail as f64);
    assert_eq!(
        d["samples"][0]["local_runqueues"].as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn text_report_names_the_numbers() {
    let (code, out, err) = run(
        &["gctrace", fixture("go1.19-gcload.log").to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{err}");
    for want in [
        "208 (gc 1 to 208), 2 forced",
        "Stop-the-world pauses",
        "runtime says 13%",
        "Heap over time",
        "Scavenger",
    ] {
        assert!(out.contains(want), "no {want:?} in:\n{out}");
    }
    let (code, out, _) = run(
        &["schedtrace", fixture("go1.19-gcload.log").to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0);
    assert!(out.contains("not printed before Go 1.21"), "{out}");
}

#[test]
fn garbage_and_interleaving() {
    let mut input = b"\x00\xff binary noise\nhello gc world\ngc 3 @0.5\n".to_vec();
    input.extend_from_slice(b"log: request servedgc 4 @0.600s 2%: 0.01+1.0+0.02 ms clock, 0.02+0/0.5/0+0.04 ms cpu, 8->9->4 MB, 9 MB goal, 0 MB stacks, 0 MB globals, 2 P\n");
    input.extend_from_slice(b"SCHED 5ms: gomaxprocs=2 idleprocs=x\n");
    let (code, out, err) = run(&["gctrace", "--json", "-"], Some(&input));
    assert_eq!(code, 0, "{err}");
    let d: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(f(&d, "summary.cycles"), 1.0);
    assert_eq!(f(&d["cycles"][0], "gc"), 4.0);
    assert_eq!(f(&d, "malformed_lines"), 2.0);
    assert!(
        err.contains("<stdin>:3: malformed gctrace line: gc 3 @0.5"),
        "{err}"
    );
    assert!(
        err.contains("<stdin>:5: malformed schedtrace line"),
        "{err}"
    );

    let (code, _, err) = run(&["gctrace", "-"], Some(b"just a program\nsaying things\n"));
    assert_eq!(code, 1);
    assert!(
        err.contains("<stdin>: no gctrace lines among 2 lines"),
        "{err}"
    );
    let (code, _, err) = run(
        &[
            "schedtrace",
            fixture("go1.23-scheddetail.log")
                .to_str()
                .unwrap()
                .replace("scheddetail", "missing")
                .as_str(),
        ],
        None,
    );
    assert_eq!(code, 1);
    assert!(err.contains("go1.23-missing.log"), "{err}");
    let (code, _, err) = run(&["gctrace", "--memory-limit", "12q", "-"], Some(b""));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("12q"), "{err}");
    let (code, _, err) = run(&["gctrace", "--gomemlimit", "1.5GiB", "-"], Some(b""));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn plot_is_a_readable_svg() {
    let dir = tempfile::tempdir().unwrap();
    let svg_path = dir.path().join("gc.svg");
    let (code, _, err) = run(
        &[
            "gctrace",
            "--gomemlimit",
            "100MiB",
            "--memory-limit",
            "256m",
            "--plot",
            svg_path.to_str().unwrap(),
            fixture("go1.23-gcload.log").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    for want in [
        "Go heap per GC cycle",
        "heap goal",
        "live heap (marked)",
        "GOMEMLIMIT 100 MiB",
        "memory limit 256 MiB",
        "Stop-the-world pause per GC cycle",
        "forced cycles",
        "pause (ms)",
    ] {
        assert!(texts.contains(&want), "no {want:?} in {texts:?}");
    }
    // Four heap lines; one dot per unforced cycle (231) plus two legend dots and one forced.
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .count(),
        4
    );
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("circle"))
            .count(),
        231 + 1 + 2
    );
}

/// Installed Go toolchains: Debian's default and the backports.
fn toolchains() -> Vec<(&'static str, PathBuf)> {
    [
        ("1.19", "/usr/bin/go"),
        ("1.22", "/usr/lib/go-1.22/bin/go"),
        ("1.23", "/usr/lib/go-1.23/bin/go"),
    ]
    .into_iter()
    .map(|(v, p)| (v, PathBuf::from(p)))
    .collect()
}

/// Runs gcload with the traces on and returns its stderr.
fn capture(bin: &Path) -> Vec<u8> {
    let out = Command::new(bin)
        .args(["0.6", "16"])
        .env("GODEBUG", "gctrace=1,scavtrace=1,schedtrace=50")
        .env("GOMAXPROCS", "2")
        .env_remove("GOGC")
        .env_remove("GOMEMLIMIT")
        .output()
        .expect("run gcload");
    assert!(
        out.status.success(),
        "gcload failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stderr
}

#[test]
#[ignore = "needs Go"]
fn live_capture_from_every_installed_go() {
    for (version, go) in toolchains() {
        if !require(
            go.exists(),
            &format!("Go {version} not installed at {}", go.display()),
        ) {
            continue;
        }
        let Some(bin) = build_go_program_with(&go, "gcload", &format!("go{version}")) else {
            continue;
        };
        let stderr = capture(&bin);
        let d = json(&["gctrace", "--json", "-"], Some(&stderr));
        assert_eq!(
            f(&d, "malformed_lines"),
            0.0,
            "go{version}: {}",
            d["malformed"]
        );
        assert!(
            f(&d, "summary.cycles") >= 10.0,
            "go{version}: too few cycles"
        );
        // runtime.GC() is marked forced only when no heap-triggered cycle beat it to the
        // start, so count what the runtime printed rather than expect one.
        let text = String::from_utf8_lossy(&stderr);
        let forced = text.lines().filter(|l| l.contains(" P (forced)")).count();
        assert_eq!(f(&d, "summary.forced_cycles"), forced as f64, "go{version}");
        assert_eq!(f(&d, "summary.first_gc"), 1.0);
        assert_eq!(f(&d, "summary.missing_cycles"), 0.0);
        assert_eq!(f(&d, "summary.procs"), 2.0);
        assert!(
            f(&d, "scavenger.forced") >= 1.0,
            "go{version}: FreeOSMemory scavenge not seen"
        );
        let frac = f(&d, "summary.cpu.gc_cpu_fraction");
        assert!(frac > 0.0 && frac < 1.0, "go{version}: fraction {frac}");
        // gcload's own lines are interleaved with the runtime's and skipped.
        assert!(f(&d, "other_lines") >= 5.0, "go{version}");

        let s = json(&["schedtrace", "--json", "-"], Some(&stderr));
        assert!(f(&s, "summary.samples") >= 5.0, "go{version}");
        assert_eq!(f(&s, "summary.gomaxprocs_max"), 2.0);
        assert_eq!(
            !json_at(&s, "summary.need_spinning").is_null(),
            version != "1.19",
            "go{version}: needspinning= is printed from Go 1.21"
        );
    }
}
