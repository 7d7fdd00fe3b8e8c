//! `boxwise lint` end to end over the corpus in tests/lint: the JSON contract, exit statuses,
//! stdin, broken files beside good ones, `--fix` on a copy, GitHub annotations, and SARIF
//! validated against the official 2.1.0 schema.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

const BOXWISE: &str = env!("CARGO_BIN_EXE_boxwise");

fn corpus(name: &str) -> PathBuf {
    support::workspace_root().join("tests/lint").join(name)
}

fn lint(args: &[&str]) -> (i32, String, String) {
    let out = support::run(Command::new(BOXWISE).arg("lint").args(args));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `boxwise lint ARGS -` with `input` on stdin.
fn lint_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(BOXWISE)
        .arg("lint")
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// The number of findings the corpus's expected files list.
fn expected_total() -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(corpus("corpus")).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".expected.json") {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            n += v.as_array().unwrap().len();
        }
    }
    n
}

#[test]
fn json_contract_and_broken_files() {
    let c = corpus("corpus");
    let b = corpus("broken");
    let (code, out, _) = lint(&["--format", "json", c.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code, 1, "errors in the corpus and two broken files: exit 1");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), expected_total());
    for f in findings {
        for key in [
            "rule", "severity", "file", "line", "column", "message", "evidence", "fix",
        ] {
            assert!(!f[key].is_null(), "finding without {key}: {f}");
        }
        assert!(f["line"].as_u64().unwrap() >= 1);
        assert!(["error", "warning", "info"].contains(&f["severity"].as_str().unwrap()));
    }
    // Both broken files are reported with their positions, and the rest were linted.
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    let typo = errors
        .iter()
        .find(|e| e["file"].as_str().unwrap().ends_with("typo.Dockerfile"))
        .unwrap();
    assert_eq!(
        (typo["line"].as_u64(), typo["column"].as_u64()),
        (Some(3), Some(1))
    );
    assert!(typo["message"].as_str().unwrap().contains("COPYY"));
    let yaml = errors
        .iter()
        .find(|e| e["file"].as_str().unwrap().ends_with("unclosed.yaml"))
        .unwrap();
    assert!(yaml["line"].as_u64().unwrap() >= 5, "{yaml}");
    assert_eq!(
        doc["files"].as_u64().unwrap() as usize,
        2 + std::fs::read_dir(&c)
            .unwrap()
            .filter(|e| !e
                .as_ref()
                .unwrap()
                .path()
                .to_string_lossy()
                .ends_with(".json"))
            .count()
    );
}

#[test]
fn text_errors_name_file_and_position() {
    let (code, out, err) = lint(&[corpus("broken/typo.Dockerfile").to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("typo.Dockerfile:3:1: unknown instruction \"COPYY\""),
        "{err}"
    );
    assert!(out.contains("1 file not linted"), "{out}");
    assert!(out.lines().all(|l| l.chars().count() <= 80), "{out}");
}

#[test]
fn fail_on_levels() {
    // ko-style.Dockerfile has exactly one warning and no error.
    let f = corpus("corpus/ko-style.Dockerfile");
    let f = f.to_str().unwrap();
    assert_eq!(lint(&[f]).0, 0);
    assert_eq!(lint(&["--fail-on", "warning", f]).0, 1);
    assert_eq!(lint(&["--fail-on", "never", f]).0, 0);
    // A clean file passes at every level.
    let clean = corpus("corpus/distroless-multistage.Dockerfile");
    assert_eq!(lint(&["--fail-on", "info", clean.to_str().unwrap()]).0, 0);
}

#[test]
fn stdin_helm_output() {
    let text = std::fs::read_to_string(corpus("corpus/helm-rendered.yaml")).unwrap();
    let out = lint_stdin(&["--format", "json"], text.as_bytes());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus("corpus/helm-rendered.yaml.expected.json")).unwrap(),
    )
    .unwrap();
    let got: Vec<(String, u64)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["file"], "-");
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, u64)> = expected
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn fix_rewrites_a_copy_and_prints_the_diff() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Dockerfile");
    std::fs::copy(corpus("corpus/alpine-cgo.Dockerfile"), &file).unwrap();
    let (_, out, _) = lint(&["--fix", "--format", "json", file.to_str().unwrap()]);
    let diff_end = out.find("\n{").expect("diff then JSON");
    let diff = &out[..diff_end];
    assert!(diff.contains("-CMD /store --db /data/store.db"), "{diff}");
    assert!(
        diff.contains("+CMD [\"/store\", \"--db\", \"/data/store.db\"]"),
        "{diff}"
    );
    let doc: Value = serde_json::from_str(&out[diff_end..]).unwrap();
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        !rules.contains(&"dockerfile/shell-form-entrypoint"),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"dockerfile/cgo-binary-without-libc"),
        "not fixable, still there"
    );
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.ends_with("CMD [\"/store\", \"--db\", \"/data/store.db\"]\n"),
        "{written}"
    );
}

#[test]
fn config_and_ignore() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("lint.yaml");
    std::fs::write(&cfg, "rules:\n  dockerfile/shell-form-entrypoint: error\n").unwrap();
    let f = corpus("corpus/ko-style.Dockerfile");
    let (code, out, _) = lint(&[
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "json",
        f.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "raised to error");
    assert!(out.contains("\"severity\": \"error\""), "{out}");
    std::fs::write(&cfg, "rules:\n  dockerfile/no-such-rule: off\n").unwrap();
    let (code, _, err) = lint(&["--config", cfg.to_str().unwrap(), f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("unknown rule \"dockerfile/no-such-rule\""),
        "{err}"
    );
}

#[test]
fn github_annotations() {
    let f = corpus("corpus/scratch-certs.Dockerfile");
    let (_, out, _) = lint(&["--format", "github", f.to_str().unwrap()]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(
        lines.iter().any(|l| l.starts_with("::error file=")
            && l.contains(",line=12,col=1,title=dockerfile/cgo-binary-without-libc::")),
        "{out}"
    );
    assert!(lines.iter().all(|l| l.starts_with("::")));
}

fn sarif_schema() -> Option<PathBuf> {
    let fixed = Path::new("/opt/boxwise-lint/sarif-schema-2.1.0.json");
    fixed.exists().then(|| fixed.to_path_buf())
}

#[test]
#[ignore = "needs python3-jsonschema and the SARIF 2.1.0 schema (scripts/fetch-sarif-schema.sh)"]
fn sarif_validates_against_the_schema() {
    let schema = sarif_schema();
    let have_py = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .status()
        .is_ok_and(|s| s.success());
    if !support::require(
        schema.is_some() && have_py,
        "python3-jsonschema and /opt/boxwise-lint/sarif-schema-2.1.0.json (scripts/fetch-sarif-schema.sh)",
    ) {
        return;
    }
    let c = corpus("corpus");
    let b = corpus("broken");
    let (_, out, _) = lint(&[
        "--format",
        "sarif",
        c.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        doc["runs"][0]["results"].as_array().unwrap().len(),
        expected_total()
    );
    assert_eq!(
        doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("lint.sarif");
    std::fs::write(&log, &out).unwrap();
    let check = "import json,sys,jsonschema\nschema=json.load(open(sys.argv[1]))\njsonschema.Draft7Validator.check_schema(schema)\nerrs=list(jsonschema.Draft7Validator(schema).iter_errors(json.load(open(sys.argv[2]))))\nfor e in errs: print(list(e.path), e.message)\nsys.exit(1 if errs else 0)";
    let out = support::run(
        Command::new("python3")
            .args(["-c", check])
            .arg(schema.unwrap())
            .arg(&log),
    );
    assert!(
        out.status.success(),
        "SARIF invalid:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // And a log with a broken result really fails the validator (the check can fail).
    let mut bad: Value = serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    std::fs::write(&log, bad.to_string()).unwrap();
    let out = support::run(
        Command::new("python3")
            .args(["-c", check])
            .arg(sarif_schema().unwrap())
            .arg(&log),
    );
    assert!(!out.status.success());
}

/// Nothing to lint is an error, not a pass: an empty pipe is usually a generator that failed,
/// and a directory without a single lintable file is usually the wrong path.
#[test]
fn nothing_to_lint_fails_with_one_line() {
    let out = Command::new(BOXWISE)
        .args(["lint", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("stdin: empty"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a manifest\n").unwrap();
    let (code, out, err) = lint(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&dir.path().display().to_string()) && err.contains("no Dockerfile"),
        "{err}"
    );
}

/// Text on stdin that is none of the three (a generator's error message, plain words) is
/// refused, not passed as "no findings"; the real thing on stdin is still linted.
#[test]
fn stdin_that_is_no_manifest_is_refused() {
    for text in ["hello world\n", "error: template failed\nkind: oops\n"] {
        let out = lint_stdin(&[], text.as_bytes());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{text:?}: {err}");
        assert!(
            err.contains("-: not a Dockerfile, Compose file or Kubernetes object"),
            "{text:?}: {err}"
        );
    }
    let compose = std::fs::read(corpus("corpus/compose.yaml")).unwrap();
    let out = lint_stdin(&["--fail-on", "never"], &compose);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 file linted: 2 errors"));
}
