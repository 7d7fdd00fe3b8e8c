//! `boxwise binary` against real Go binaries: the corpus in `tests/go/corpus` built with every
//! installed Go toolchain, and every Go binary installed on the machine. `--go-version-m`
//! must print exactly what `go version -m` prints; truncated and corrupted copies must give
//! one-line errors, never a panic.

mod support;

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use assert_cmd::cargo::cargo_bin;
use boxwise_goprog::{GoBinary, Libc, Linkage};
use nix::fcntl::{Flock, FlockArg};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use support::{require, workspace_root};

/// Candidate toolchains: Debian's default `go` and the backports.
const TOOLCHAINS: [&str; 3] = ["go", "/usr/lib/go-1.22/bin/go", "/usr/lib/go-1.23/bin/go"];

/// One way of building one corpus program.
struct Variant {
    name: &'static str,
    dir: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "plain",
        dir: "plain",
        args: &[],
        env: &[],
    },
    Variant {
        name: "stripped",
        dir: "plain",
        args: &["-trimpath", "-ldflags=-s -w"],
        env: &[],
    },
    Variant {
        name: "ldflags",
        dir: "plain",
        args: &["-ldflags=-X main.version=1.2.3"],
        env: &[],
    },
    Variant {
        name: "nocgo",
        dir: "plain",
        args: &[],
        env: &[("CGO_ENABLED", "0")],
    },
    Variant {
        name: "pie",
        dir: "plain",
        args: &["-buildmode=pie"],
        env: &[],
    },
    Variant {
        name: "cgo",
        dir: "cgo",
        args: &[],
        env: &[("CGO_ENABLED", "1")],
    },
    Variant {
        name: "vendored",
        dir: "vendored",
        args: &["-mod=vendor"],
        env: &[],
    },
];

/// A toolchain found on this machine.
#[derive(Clone, Debug)]
struct Toolchain {
    go: String,
    /// `go1.23.5`
    version: String,
}

#[derive(Clone, Debug)]
struct Built {
    toolchain: Toolchain,
    variant: &'static str,
    path: PathBuf,
}

fn toolchains() -> Vec<Toolchain> {
    TOOLCHAINS
        .iter()
        .filter_map(|go| {
            let out = Command::new(go)
                .args(["env", "GOVERSION"])
                .env("GOTOOLCHAIN", "local")
                .output()
                .ok()?;
            out.status.success().then(|| Toolchain {
                go: go.to_string(),
                version: String::from_utf8_lossy(&out.stdout).trim().to_string(),
            })
        })
        .collect()
}

/// The newest installed toolchain: the reference `go version -m`.
fn newest(tcs: &[Toolchain]) -> &Toolchain {
    tcs.iter()
        .max_by_key(|t| boxwise_goprog::parse_go_release(&t.version))
        .expect("at least one toolchain")
}

/// Builds the corpus once for every toolchain; `None` (after a SKIP line) when `go` is
/// missing. Test processes share the output through a lock file and a stamp of the sources.
fn corpus() -> Option<&'static [Built]> {
    static CORPUS: OnceLock<Option<Vec<Built>>> = OnceLock::new();
    CORPUS
        .get_or_init(|| {
            let tcs = toolchains();
            if !require(
                tcs.iter().any(|t| t.go == "go"),
                "`go` is not installed (apt-get install golang-go)",
            ) {
                return None;
            }
            Some(build_corpus(&tcs))
        })
        .as_deref()
}

fn source_stamp(dir: &Path, h: &mut DefaultHasher) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        p.hash(h);
        if p.is_dir() {
            source_stamp(&p, h);
        } else {
            fs::read(&p).unwrap().hash(h);
        }
    }
}

fn build_corpus(tcs: &[Toolchain]) -> Vec<Built> {
    let src = workspace_root().join("tests/go/corpus");
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-corpus");
    fs::create_dir_all(&out_dir).unwrap();
    let lock = File::create(out_dir.join(".lock")).unwrap();
    let _guard = Flock::lock(lock, FlockArg::LockExclusive).expect("lock the corpus dir");

    let mut h = DefaultHasher::new();
    source_stamp(&src, &mut h);
    for t in tcs {
        t.version.hash(&mut h);
    }
    let stamp = format!("{:016x}\n", h.finish());
    let stamp_file = out_dir.join(".stamp");
    let fresh = fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp);

    let mut built = Vec::new();
    for t in tcs {
        for v in VARIANTS {
            let dest = out_dir.join(&t.version).join(v.name);
            if !fresh {
                fs::create_dir_all(dest.parent().unwrap()).unwrap();
                let out = go_build(t, v, &dest, &[]);
                if !out.status.success()
                    && String::from_utf8_lossy(&out.stderr).contains("buildvcs")
                {
                    // No usable git here: build without VCS stamping rather than fail.
                    go_build(t, v, &dest, &["-buildvcs=false"]);
                } else {
                    assert!(
                        out.status.success(),
                        "{} build {}: {}",
                        t.go,
                        v.name,
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
            built.push(Built {
                toolchain: t.clone(),
                variant: v.name,
                path: dest,
            });
        }
    }
    fs::write(&stamp_file, stamp).unwrap();
    built
}

fn go_build(t: &Toolchain, v: &Variant, dest: &Path, extra: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(&t.go);
    cmd.current_dir(workspace_root().join("tests/go/corpus").join(v.dir))
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "")
        .env("GOWORK", "off")
        .env("GO111MODULE", "on")
        .envs(v.env.iter().copied())
        .args(["build", "-o"])
        .arg(dest)
        .args(v.args)
        .args(extra)
        .arg(".");
    support::run(&mut cmd)
}

fn go_version_m(go: &str, file: &Path) -> (String, String) {
    let out = support::run(
        Command::new(go)
            .env("GOTOOLCHAIN", "local")
            .args(["version", "-m"])
            .arg(file),
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn boxwise(args: &[&str], file: &Path) -> std::process::Output {
    let mut cmd = Command::new(cargo_bin("boxwise"));
    cmd.arg("binary").args(args).arg(file);
    support::run(&mut cmd)
}

fn find<'a>(corpus: &'a [Built], version: &str, variant: &str) -> &'a Built {
    corpus
        .iter()
        .find(|b| b.toolchain.version == version && b.variant == variant)
        .unwrap()
}

#[test]
#[ignore = "needs Go"]
fn go_version_m_matches_go_on_the_corpus() {
    let Some(corpus) = corpus() else { return };
    let tcs = toolchains();
    let reference = newest(&tcs);
    for b in corpus {
        let ours = boxwise(&["--go-version-m"], &b.path);
        let ours_out = support::stdout_ok(&Command::new("boxwise"), &ours);
        for go in [&b.toolchain.go, &reference.go] {
            let (expected, err) = go_version_m(go, &b.path);
            assert!(
                !expected.is_empty(),
                "{go} version -m {}: {err}",
                b.path.display()
            );
            assert_eq!(
                ours_out,
                expected,
                "{} built by {} ({}), compared with {go}",
                b.path.display(),
                b.toolchain.version,
                b.variant
            );
        }
    }
    eprintln!("compared {} corpus binaries", corpus.len());
}

/// Directories where Go programs are installed on a Debian machine with Docker.
fn install_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = [
        "/usr/bin",
        "/usr/sbin",
        "/usr/local/bin",
        "/usr/local/sbin",
        "/usr/libexec/docker",
        "/usr/lib/docker",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    if let Ok(entries) = fs::read_dir("/usr/lib") {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name == "go" || name.starts_with("go-") {
                dirs.push(e.path().join("bin"));
                dirs.push(e.path().join("pkg/tool"));
            }
        }
    }
    dirs.retain(|d| d.is_dir());
    dirs
}

/// Splits `go version -m DIR` output into (file, block) pairs.
fn blocks(out: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    for line in out.split_inclusive('\n') {
        if line.starts_with('\t') {
            v.last_mut().expect("block header").1.push_str(line);
        } else {
            let (file, _) = line.rsplit_once(": ").expect("FILE: version");
            v.push((file.to_string(), line.to_string()));
        }
    }
    v
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(&p, out);
        } else if ft.is_symlink() {
            if p.metadata().is_ok_and(|m| m.is_file()) {
                out.push(p);
            }
        } else if ft.is_file() {
            out.push(p);
        }
    }
}

#[test]
#[ignore = "needs Go"]
fn go_version_m_matches_go_on_installed_binaries() {
    let tcs = toolchains();
    if !require(
        !tcs.is_empty(),
        "`go` is not installed (apt-get install golang-go)",
    ) {
        return;
    }
    let reference = newest(&tcs);
    let mut go_files = BTreeSet::new();
    let mut compared = 0;
    for dir in install_dirs() {
        let (out, _) = go_version_m(&reference.go, &dir);
        for (file, block) in blocks(&out) {
            let bin = GoBinary::read(&file)
                .unwrap_or_else(|e| panic!("go reads {file} but boxwise does not: {e}"));
            assert_eq!(bin.go_version_m(&file), block, "{file}");
            go_files.insert(PathBuf::from(file));
            compared += 1;
        }
        // Every other file there is not a Go program to `go version`: boxwise must agree.
        let mut all = Vec::new();
        walk(&dir, &mut all);
        for f in all {
            if go_files.contains(&f) {
                continue;
            }
            if let Ok(bin) = GoBinary::read(&f) {
                panic!(
                    "boxwise reads {} as {} but `go version` does not",
                    f.display(),
                    bin.go_version
                );
            }
        }
    }
    assert!(
        go_files.iter().any(|f| f.starts_with("/usr/lib")),
        "the Go toolchain's own binaries were compared"
    );
    let docker = Path::new("/usr/bin/docker");
    if docker.exists() {
        assert!(go_files.contains(docker), "the Docker CLI is a Go program");
        let ours = boxwise(&["--go-version-m"], docker);
        let (expected, _) = go_version_m(&reference.go, docker);
        assert_eq!(String::from_utf8_lossy(&ours.stdout), expected);
    }
    eprintln!(
        "compared {compared} installed Go binaries with {}",
        reference.version
    );
}

#[test]
#[ignore = "needs Go"]
fn summary_and_json_describe_the_corpus() {
    let Some(corpus) = corpus() else { return };
    for b in corpus {
        let bin = GoBinary::read(&b.path).unwrap();
        let what = format!("{} {}", b.toolchain.version, b.variant);
        let minor = boxwise_goprog::parse_go_release(&b.toolchain.version)
            .unwrap()
            .1;
        assert_eq!(bin.go_minor(), Some(minor), "{what}");
        assert!(!bin.container_aware_gomaxprocs(), "{what}");
        assert_eq!(
            bin.machine,
            std::env::consts::ARCH.replace("x86_64", "amd64")
        );
        // Go 1.21+ records DefaultGODEBUG for a module whose go line is older (ours: 1.19).
        assert_eq!(bin.default_godebug().is_some(), minor >= 21, "{what}");
        assert!(bin.go_build_id.is_some(), "{what}");
        match b.variant {
            "stripped" => {
                assert!(
                    bin.stripped() && bin.dwarf_size == 0 && bin.trimpath(),
                    "{what}"
                );
            }
            "cgo" => {
                assert_eq!(bin.linkage, Linkage::Dynamic, "{what}");
                assert_eq!(bin.libc, Some(Libc::Glibc), "{what}");
                assert!(bin.needed.iter().any(|n| n == "libc.so.6"), "{what}");
                assert_eq!(bin.cgo_enabled(), Some(true));
            }
            "nocgo" => {
                assert_eq!(bin.linkage, Linkage::Static, "{what}");
                assert_eq!(bin.cgo_enabled(), Some(false));
            }
            "pie" => {
                assert!(bin.position_independent, "{what}");
                // Go 1.19 does not record -buildmode=pie; newer toolchains do.
                if minor >= 22 {
                    assert_eq!(bin.setting("-buildmode"), Some("pie"), "{what}");
                }
            }
            "vendored" => {
                let dep = &bin.deps[0];
                assert_eq!(
                    (dep.path.as_str(), dep.version.as_str()),
                    ("example.com/greet", "v1.2.3")
                );
                assert_eq!(dep.replace.as_ref().unwrap().path, "../greet");
            }
            "ldflags" => {
                assert_eq!(bin.setting("-ldflags"), Some("-X main.version=1.2.3"));
            }
            _ => {
                assert!(!bin.stripped() && bin.dwarf_size > 0, "{what}");
            }
        }
    }

    // The readable summary and its container-fitness notes.
    let v119 = corpus
        .iter()
        .find(|b| b.toolchain.version.starts_with("go1.19"))
        .unwrap();
    let version = v119.toolchain.version.clone();
    let text = |variant: &str| {
        let b = find(corpus, &version, variant);
        support::stdout_ok(&Command::new("boxwise"), &boxwise(&[], &b.path))
    };
    let cgo = text("cgo");
    assert!(
        cgo.contains(
            "Go 1.19: GOMAXPROCS is not container-aware; run under `boxwise exec` or upgrade"
        ),
        "{cgo}"
    );
    assert!(
        cgo.contains("dynamically linked against glibc: will not start FROM scratch"),
        "{cgo}"
    );
    let plain = text("plain");
    assert!(
        plain.contains("debug info is ") && plain.contains("% of the file"),
        "{plain}"
    );
    assert!(
        plain.contains("linking         static (runs FROM scratch)"),
        "{plain}"
    );
    let stripped = text("stripped");
    assert!(stripped.contains("symbol table    stripped"), "{stripped}");
    assert!(!stripped.contains("debug info is"), "{stripped}");

    // JSON: snake_case keys, numbers as numbers, absent values as null.
    let b = find(corpus, &version, "cgo");
    let out = support::stdout_ok(&Command::new("boxwise"), &boxwise(&["--json"], &b.path));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["go_version"], version.as_str());
    assert_eq!(doc["go_minor"], 19);
    assert_eq!(doc["linkage"], "dynamic");
    assert_eq!(doc["libc"], "glibc");
    assert_eq!(doc["cgo_enabled"], true);
    assert_eq!(doc["container_aware_gomaxprocs"], false);
    assert!(doc["file_size"].is_u64() && doc["dwarf_size"].is_u64());
    assert!(doc["debug_percent"].is_f64());
    assert!(doc["default_godebug"].is_null());
    assert!(
        doc["sections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["size"].is_u64())
    );
    assert!(
        doc["settings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["key"] == "CGO_ENABLED")
    );
    let ids: Vec<&str> = doc["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"go-not-container-aware") && ids.contains(&"dynamic-binary"));
    fn keys_are_snake_case(v: &serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    assert!(
                        k.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                        "{k}"
                    );
                    keys_are_snake_case(v);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(keys_are_snake_case),
            _ => {}
        }
    }
    keys_are_snake_case(&doc);
}

#[test]
fn errors_are_one_line_and_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 4] = [
        ("empty", b"", "not an ELF executable (an empty file)"),
        (
            "script",
            b"#!/bin/sh\necho hi\n",
            "not an ELF executable (a script)",
        ),
        (
            "garbage",
            b"\x7fELF\x02\x01\x01garbage",
            "malformed or truncated ELF",
        ),
        (
            "text",
            b"hello world",
            "not an ELF executable (an unknown format)",
        ),
    ];
    for (name, data, msg) in cases {
        let p = dir.path().join(name);
        fs::write(&p, data).unwrap();
        let out = boxwise(&[], &p);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("boxwise: {}: {msg}", p.display())),
            "{err}"
        );
    }
    // A real ELF that is not a Go program.
    let out = boxwise(&[], Path::new("/bin/sh"));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/bin/sh: not a Go executable"), "{err}");
    let out = boxwise(&[], &dir.path().join("missing"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing: cannot read: No such file"));
    // Usage error.
    assert_eq!(
        support::run(Command::new(cargo_bin("boxwise")).arg("binary"))
            .status
            .code(),
        Some(2)
    );
}

#[test]
#[ignore = "needs Go"]
fn section_headers_removed_still_decodes_from_the_data_segment() {
    let Some(corpus) = corpus() else { return };
    for b in corpus
        .iter()
        .filter(|b| b.variant == "cgo" || b.variant == "nocgo")
    {
        let original = fs::read(&b.path).unwrap();
        let expected = GoBinary::parse("f", &original).unwrap();
        assert_eq!(original[4], 2, "64-bit ELF expected");
        // Drop the section header table (what sstrip does): e_shoff, e_shnum, e_shstrndx.
        let mut data = original.clone();
        data[0x28..0x30].fill(0);
        data[0x3c..0x40].fill(0);
        let bin = GoBinary::parse("f", &data).unwrap();
        assert!(bin.sections.is_empty());
        assert_eq!(
            bin.go_version_m("f"),
            expected.go_version_m("f"),
            "{}",
            b.path.display()
        );
        assert_eq!(bin.linkage, expected.linkage);
        assert_eq!(bin.needed, expected.needed);
        assert_eq!(bin.go_build_id, expected.go_build_id);
    }
}

/// Truncated and byte-corrupted copies of a real Go binary (the dynamic cgo build, which
/// has every ELF part) give a decoded binary or a one-line error naming the file, never a
/// panic. The corpus is built before the property runs, so a missing prerequisite fails
/// (or skips) this test plainly instead of being recorded as a shrunk proptest case.
#[test]
#[ignore = "needs Go"]
fn truncated_and_corrupted_real_binaries_never_panic() {
    let Some(corpus) = corpus() else { return };
    let b = corpus.iter().find(|b| b.variant == "cgo").unwrap();
    let original = fs::read(&b.path).unwrap();
    let strategy = (
        any::<prop::sample::Index>(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
        any::<bool>(),
        any::<bool>(),
    );
    let mut runner = TestRunner::new(ProptestConfig::with_cases(256));
    runner
        .run(&strategy, |(cut, edits, headers_only, truncate)| {
            let mut data = original.clone();
            for (at, byte) in edits {
                // Half the time aim at the first 4 KiB: the ELF and program headers.
                let span = if headers_only {
                    4096.min(data.len())
                } else {
                    data.len()
                };
                let i = at.index(span);
                data[i] = byte;
            }
            if truncate {
                data.truncate(cut.index(data.len()));
            }
            match GoBinary::parse("copy", &data) {
                Ok(bin) => {
                    let _ = bin.go_version_m("copy");
                    let _ = bin.notes();
                }
                Err(e) => {
                    let msg = e.to_string();
                    prop_assert!(msg.starts_with("copy: ") && !msg.contains('\n'), "{}", msg);
                }
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Section headers claiming more bytes than the file has (corrupt, or hostile) must not
/// overflow the size totals: the sizes are clamped to the file.
#[test]
#[ignore = "needs Go"]
fn oversized_section_headers_do_not_overflow() {
    let Some(worker) = support::build_go_program("worker") else {
        return;
    };
    let mut elf = std::fs::read(&worker).unwrap();
    let u16_at = |e: &[u8], o: usize| u16::from_le_bytes([e[o], e[o + 1]]) as usize;
    let u32_at = |e: &[u8], o: usize| u32::from_le_bytes(e[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |e: &[u8], o: usize| u64::from_le_bytes(e[o..o + 8].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) = (
        u64_at(&elf, 0x28),
        u16_at(&elf, 0x3a),
        u16_at(&elf, 0x3c),
        u16_at(&elf, 0x3e),
    );
    let strtab = u64_at(&elf, shoff + shstrndx * shentsize + 24);
    let mut patched = 0;
    for i in 0..shnum {
        let h = shoff + i * shentsize;
        let name_at = strtab + u32_at(&elf, h);
        if elf[name_at..].starts_with(b".debug_") {
            elf[h + 32..h + 40].copy_from_slice(&0x8000_0000_0000_0000u64.to_le_bytes());
            patched += 1;
        }
    }
    assert!(patched >= 2, "the worker has DWARF sections to corrupt");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("worker-huge-sections");
    std::fs::write(&file, &elf).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_boxwise"))
        .args(["binary", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["dwarf_size"].as_u64().unwrap() <= elf.len() as u64 * patched as u64);
}
