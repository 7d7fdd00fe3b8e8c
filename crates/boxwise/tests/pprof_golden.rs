//! `boxwise pprof top` against `go tool pprof -top` on real profiles: the Go runtime's cpu,
//! heap, allocs, goroutine, mutex and block profiles (tests/go/pprofgen) and profiles written
//! with the google/pprof package (tests/go/pprofgen/synth), with and without options. Also
//! fetching from a live net/http/pprof server, and clear errors on broken input.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const REQUIRE_ENV: &str = "BOXWISE_REQUIRE_PRIVILEGED";
/// Where Debian's golang-github-google-pprof-dev puts the package (GOPATH layout).
const GOCODE: &str = "/usr/share/gocode";

/// Skips (prints why) or, under BOXWISE_REQUIRE_PRIVILEGED=1, fails.
fn require(cond: bool, why: &str) -> bool {
    if cond {
        return true;
    }
    if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
        panic!("{REQUIRE_ENV}=1 but a prerequisite is missing: {why}");
    }
    eprintln!("SKIP: {why}");
    false
}

fn have_go() -> bool {
    Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn have_pprof_package() -> bool {
    Path::new(GOCODE)
        .join("src/github.com/google/pprof/profile")
        .is_dir()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

struct Built {
    dir: PathBuf,
    pprofgen: PathBuf,
    synth: bool,
}

/// Builds the Go programs once and writes the profiles into a scratch directory.
fn built() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| {
        // One directory per process: nextest runs each test in its own process.
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        remove_stale(tmp);
        let dir = tmp.join(format!("pprof-golden-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let gen_src = repo().join("tests/go/pprofgen");
        let pprofgen = dir.join("pprofgen");
        run_ok(
            Command::new("go")
                .args(["build", "-o"])
                .arg(&pprofgen)
                .arg(".")
                .current_dir(&gen_src)
                .env("GOFLAGS", "-mod=mod")
                .env("CGO_ENABLED", "0"),
        );
        run_ok(Command::new(&pprofgen).arg("write").arg(&dir));
        let synth = have_pprof_package();
        if synth {
            let bin = dir.join("synth");
            run_ok(
                Command::new("go")
                    .args(["build", "-tags", "pprofsynth", "-o"])
                    .arg(&bin)
                    .arg(".")
                    .current_dir(gen_src.join("synth"))
                    .env("GO111MODULE", "off")
                    .env("GOPATH", GOCODE)
                    .env("GOCACHE", dir.join("gocache")),
            );
            run_ok(Command::new(&bin).arg(&dir));
        }
        Built {
            dir,
            pprofgen,
            synth,
        }
    })
}

/// Removes the scratch directories of test processes that have exited.
fn remove_stale(tmp: &Path) {
    for e in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("pprof-golden-")
            && !Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn boxwise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_boxwise"))
        .args(args)
        .output()
        .expect("run boxwise")
}

/// Our flags -> go tool pprof's flags.
fn go_flags(opts: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = opts.iter();
    while let Some(&o) = it.next() {
        match o {
            "--cum" => out.push("-cum".to_string()),
            "-n" => out.push(format!("-nodecount={}", it.next().unwrap())),
            "--sample-index" => out.push(format!("-sample_index={}", it.next().unwrap())),
            "--focus" => out.push(format!("-focus={}", it.next().unwrap())),
            "--ignore" => out.push(format!("-ignore={}", it.next().unwrap())),
            other => panic!("no go flag for {other}"),
        }
    }
    out
}

/// Compares full stdout (header lines and rows) for each option set; returns the mismatches.
fn compare(file: &Path, option_sets: &[&[&str]]) -> Vec<String> {
    let mut bad = Vec::new();
    for opts in option_sets {
        let go = Command::new("go")
            .args(["tool", "pprof", "-top"])
            .args(go_flags(opts))
            .arg(file)
            .env("TZ", "UTC")
            .output()
            .expect("go tool pprof");
        let mut args = vec!["pprof", "top"];
        args.extend_from_slice(opts);
        let path = file.to_str().unwrap();
        args.push(path);
        let ours = boxwise(&args);
        let (want, got) = (
            String::from_utf8_lossy(&go.stdout),
            String::from_utf8_lossy(&ours.stdout),
        );
        if want != got || go.status.success() != ours.status.success() {
            bad.push(format!(
                "{} {opts:?}\n--- go tool pprof -top ({}) ---\n{want}{}\n--- boxwise ({}) ---\n{got}{}",
                file.display(),
                go.status,
                String::from_utf8_lossy(&go.stderr),
                ours.status,
                String::from_utf8_lossy(&ours.stderr)
            ));
        }
    }
    bad
}

#[test]
#[ignore = "needs Go"]
fn top_matches_go_tool_pprof_on_runtime_profiles() {
    if !require(have_go(), "go is not installed (apt-get install golang-go)") {
        return;
    }
    let b = built();
    let common: &[&[&str]] = &[
        &[],
        &["--cum"],
        &["-n", "4"],
        &["-n", "3", "--cum"],
        &["--sample-index", "0"],
        &["--focus", "main"],
        &["--ignore", "runtime"],
        &["--focus", "fib|sumSquares", "--cum", "-n", "5"],
    ];
    let mut bad = Vec::new();
    for name in ["cpu", "heap", "allocs", "goroutine", "mutex", "block"] {
        bad.extend(compare(&b.dir.join(format!("{name}.pb.gz")), common));
    }
    let heap = b.dir.join("heap.pb.gz");
    bad.extend(compare(
        &heap,
        &[
            &["--sample-index", "alloc_space"],
            &["--sample-index", "inuse_objects"],
            &["--sample-index", "space"],
        ],
    ));
    bad.extend(compare(
        &b.dir.join("mutex.pb.gz"),
        &[&["--sample-index", "contentions"]],
    ));
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
#[ignore = "needs Go, google/pprof sources"]
fn top_matches_go_tool_pprof_on_pprof_package_profiles() {
    if !require(have_go(), "go is not installed (apt-get install golang-go)")
        || !require(
            have_pprof_package(),
            "the google/pprof Go package is missing (apt-get install golang-github-google-pprof-dev)",
        )
    {
        return;
    }
    let b = built();
    assert!(b.synth);
    let sets: &[&[&str]] = &[
        &[],
        &["--cum"],
        &["-n", "3"],
        &["--sample-index", "0"],
        &["--sample-index", "inuse_space"],
        &["--focus", "parse"],
        &["--ignore", "walk"],
        &["--focus", "Klass"],
    ];
    let mut bad = compare(&b.dir.join("synth_heap.pb.gz"), sets);
    bad.extend(compare(&b.dir.join("synth_wall.pb"), sets));
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
#[ignore = "needs Go"]
fn top_json_has_numbers() {
    if !require(have_go(), "go is not installed (apt-get install golang-go)") {
        return;
    }
    let b = built();
    let out = boxwise(&[
        "pprof",
        "top",
        "--json",
        "-n",
        "3",
        b.dir.join("heap.pb.gz").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sample_type"], "inuse_space");
    assert_eq!(v["sample_unit"], "bytes");
    assert!(v["total"].as_i64().unwrap() > 0);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows[0]["flat"].is_i64() && rows[0]["cum_percent"].is_f64());
}

/// A live `net/http/pprof` server: every endpoint decodes and reports, `--seconds` works.
#[test]
#[ignore = "needs Go"]
fn fetches_from_a_live_pprof_endpoint() {
    if !require(have_go(), "go is not installed (apt-get install golang-go)") {
        return;
    }
    let b = built();
    let mut child = Command::new(&b.pprofgen)
        .args(["serve", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start pprofgen serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let mut failures = Vec::new();
    let cases: &[(&str, &[&str])] = &[
        ("heap", &[]),
        ("allocs", &[]),
        ("goroutine", &[]),
        ("mutex", &[]),
        ("block", &[]),
        ("profile", &["--seconds", "1"]),
        ("heap", &["--seconds", "1"]),
    ];
    for (ep, extra) in cases {
        let url = format!("http://{addr}/debug/pprof/{ep}");
        let mut args = vec!["pprof", "top", "-n", "5"];
        args.extend_from_slice(extra);
        args.push(&url);
        let out = boxwise(&args);
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !text.contains("Showing nodes accounting for") {
            failures.push(format!(
                "{url} {extra:?}: {}\n{text}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    // A bare host:port means the CPU profile, as with pprof.
    let out = boxwise(&["pprof", "top", "--seconds", "1", &format!("http://{addr}")]);
    if !String::from_utf8_lossy(&out.stdout).contains("Type: cpu") {
        failures.push(format!(
            "bare URL: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn broken_input_is_one_line_on_stderr_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[u8], &str)] = &[
        ("trunc.pb.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gunzip"),
        (
            "junk.pb",
            b"\x0a\xff\xff\xff\xff\x0fhello",
            "not a pprof protobuf",
        ),
        ("empty.pb", b"", "empty input"),
    ];
    for (name, bytes, want) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = boxwise(&["pprof", "top", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(
            err.starts_with("boxwise: decoding ") && err.contains(want),
            "{name}: {err}"
        );
    }
    let out = boxwise(&["pprof", "top", "/nonexistent/x.pb.gz"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reading /nonexistent/x.pb.gz"));
}
