//! The corpus under tests/lint/corpus: every file's findings must equal its
//! `<file>.expected.json` exactly (rule, severity, line, column, message, evidence, fix).
//! `BOXWISE_BLESS=1` rewrites the expected files after a deliberate change; review the diff.

use std::path::{Path, PathBuf};

use boxwise_lint::files::{self, FileKind};
use boxwise_lint::{Config, fix, lint_source};
use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lint/corpus")
}

fn corpus_files() -> Vec<(PathBuf, FileKind)> {
    let found = files::discover(&[corpus()]).unwrap();
    assert!(found.len() >= 10, "corpus went missing: {found:?}");
    found
}

fn findings_json(path: &Path, kind: FileKind) -> Value {
    let src = files::read(path, kind).unwrap();
    let found =
        lint_source(&src, &Config::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut v = serde_json::to_value(found).unwrap();
    for f in v.as_array_mut().unwrap() {
        f.as_object_mut().unwrap().remove("file");
    }
    v
}

#[test]
fn corpus_findings_are_exact() {
    let bless = std::env::var_os("BOXWISE_BLESS").is_some();
    let mut failures = Vec::new();
    for (path, kind) in corpus_files() {
        let got = findings_json(&path, kind);
        let expected_path = PathBuf::from(format!("{}.expected.json", path.display()));
        if bless {
            std::fs::write(
                &expected_path,
                serde_json::to_string_pretty(&got).unwrap() + "\n",
            )
            .unwrap();
            continue;
        }
        let text = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let expected: Value = serde_json::from_str(&text).unwrap();
        if got != expected {
            failures.push(format!(
                "{}:\n got {}\n expected {}",
                path.display(),
                serde_json::to_string_pretty(&got).unwrap(),
                text
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every rule fires somewhere in the corpus, so every rule has an exact expectation.
#[test]
fn corpus_covers_every_rule() {
    let mut seen = std::collections::BTreeSet::new();
    for (path, kind) in corpus_files() {
        for f in findings_json(&path, kind).as_array().unwrap() {
            seen.insert(f["rule"].as_str().unwrap().to_string());
        }
    }
    let missing: Vec<&str> = boxwise_lint::all_rules()
        .iter()
        .map(|r| r.id)
        .filter(|id| !seen.contains(*id))
        .collect();
    assert!(missing.is_empty(), "rules with no corpus case: {missing:?}");
}

/// `--fix` output re-lints clean for every rule it fixes: apply the safe edits to each
/// corpus file; each edit must remove one finding of its rule, and nothing new may appear.
#[test]
fn fixed_files_relint_clean() {
    let mut fixed_rules = std::collections::BTreeSet::new();
    for (path, kind) in corpus_files() {
        let src = files::read(&path, kind).unwrap();
        let config = Config::default();
        let edits = boxwise_lint::fix_edits(&src, &config);
        if edits.is_empty() {
            continue;
        }
        let before = lint_source(&src, &config).unwrap();
        let only: Vec<fix::Edit> = edits.iter().map(|(_, e)| e.clone()).collect();
        let (text, applied) = fix::apply(&src.text, &only);
        assert_eq!(
            applied,
            edits.len(),
            "{}: not every edit applied",
            path.display()
        );
        let after = lint_source(
            &files::Source {
                text,
                ..src.clone()
            },
            &config,
        )
        .unwrap_or_else(|e| panic!("{}: fixed text no longer parses: {e}", path.display()));
        let count =
            |v: &[boxwise_lint::Finding], rule: &str| v.iter().filter(|f| f.rule == rule).count();
        for (rule, _) in &edits {
            let n = edits.iter().filter(|(r, _)| r == rule).count();
            assert_eq!(
                count(&after, rule),
                count(&before, rule) - n,
                "{}: {rule} still reported after its fix",
                path.display()
            );
            fixed_rules.insert(*rule);
        }
        for a in &after {
            assert!(
                count(&before, a.rule) > 0,
                "{}: the fix brought a new {} finding",
                path.display(),
                a.rule
            );
        }
    }
    for rule in [
        "dockerfile/shell-form-entrypoint",
        "dockerfile/pprof-port-exposed",
        "k8s/gomaxprocs-vs-cpu-limit",
        "k8s/gomemlimit-over-limit",
        "k8s/gomemlimit-malformed",
        "k8s/no-limits",
        "k8s/gomemlimit-no-headroom",
        "compose/gomemlimit-over-limit",
        "compose/gomemlimit-no-headroom",
        "compose/gomemlimit-malformed",
    ] {
        assert!(
            fixed_rules.contains(rule),
            "{rule} not fixed anywhere: {fixed_rules:?}"
        );
    }
}
