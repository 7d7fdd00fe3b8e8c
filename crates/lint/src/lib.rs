//! `boxwise lint`: Dockerfiles, Compose files and Kubernetes manifests checked for what a Go
//! service needs from its container. Data flows one way: find files -> parse (our
//! Dockerfile parser, saphyr for YAML with marks) -> model -> rules (pure, one module per file
//! kind) -> findings, then suppressions and configured severities, then a renderer.

#![forbid(unsafe_code)]

pub mod compose;
pub mod config;
pub mod dockerfile;
pub mod files;
pub mod fix;
mod gojudge;
pub mod k8s;
pub mod output;
pub mod yaml;

use serde::Serialize;

pub use config::Config;
pub use files::{FileKind, Source};

/// 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    pub fn new(line: usize, column: usize) -> Position {
        Position { line, column }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// One problem found, with the text that fixes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// What is wrong and why, in a sentence or two.
    pub message: String,
    /// The text in the file that shows it.
    pub evidence: String,
    /// The exact text to write instead (or to add).
    pub fix: String,
}

/// A finding before it knows its file; rules produce these.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub rule: &'static Rule,
    pub pos: Position,
    pub message: String,
    pub evidence: String,
    pub fix: String,
    /// The change `--fix` may make by itself, when the fix is safe to apply blindly.
    pub edit: Option<fix::Edit>,
}

/// A rule's identity and default severity.
#[derive(Debug, PartialEq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    /// One line for `--list-rules` and the SARIF rule table.
    pub summary: &'static str,
}

/// Every rule, for configuration checks, SARIF and the docs.
pub fn all_rules() -> Vec<&'static Rule> {
    let mut v: Vec<&'static Rule> = Vec::new();
    v.extend(dockerfile::rules::ALL);
    v.extend(k8s::ALL);
    v.extend(compose::ALL);
    v
}

/// A file that could not be read or parsed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Everything `lint` found over a set of files.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub files: usize,
    pub findings: Vec<Finding>,
    pub errors: Vec<FileError>,
}

impl Report {
    /// The worst severity among the findings.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// The hits in one file that survive its ignore comments and the configuration.
fn hits(src: &Source, config: &Config) -> Result<Vec<Hit>, FileError> {
    let hits = match src.kind {
        FileKind::Dockerfile => dockerfile::lint(&src.text).map_err(|e| FileError {
            file: src.name.clone(),
            line: Some(e.pos.line),
            column: Some(e.pos.column),
            message: e.message,
        })?,
        FileKind::Compose | FileKind::Kubernetes | FileKind::Yaml => {
            let docs = yaml::load(&src.text).map_err(|e| FileError {
                file: src.name.clone(),
                line: Some(e.pos.line),
                column: Some(e.pos.column),
                message: e.message,
            })?;
            // Text of unknown purpose (stdin) must look like one of the three, or a failed
            // generator's error message would pass as "no findings".
            if src.kind == FileKind::Yaml && !docs.iter().any(is_manifest) {
                return Err(FileError {
                    file: src.name.clone(),
                    line: None,
                    column: None,
                    message: "not a Dockerfile, Compose file or Kubernetes object".into(),
                });
            }
            let mut hits = Vec::new();
            for doc in &docs {
                if compose::is_compose(doc) && src.kind != FileKind::Kubernetes {
                    hits.extend(compose::lint(doc));
                } else {
                    hits.extend(k8s::lint(doc));
                }
            }
            hits
        }
    };
    let ignores = files::ignores(&src.text);
    Ok(hits
        .into_iter()
        .filter(|h| !files::ignored(&ignores, h.pos.line, h.rule.id))
        .filter(|h| config.severity(h.rule).is_some())
        .collect())
}

/// A Compose file, or a Kubernetes object (`apiVersion` and `kind`, a `List` too): what
/// stdin YAML must be.
fn is_manifest(doc: &yaml::Node) -> bool {
    let has = |key| doc.get(key).and_then(yaml::Node::str).is_some();
    compose::is_compose(doc) || (has("apiVersion") && has("kind"))
}

/// The safe edits `--fix` may apply to one file, each with the rule it fixes.
pub fn fix_edits(src: &Source, config: &Config) -> Vec<(&'static str, fix::Edit)> {
    hits(src, config)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|h| Some((h.rule.id, h.edit?)))
        .collect()
}

/// Lint one file's text. Pure: no I/O.
pub fn lint_source(src: &Source, config: &Config) -> Result<Vec<Finding>, FileError> {
    let mut out: Vec<Finding> = hits(src, config)?
        .into_iter()
        .filter_map(|h| {
            let severity = config.severity(h.rule)?;
            Some(Finding {
                rule: h.rule.id,
                severity,
                file: src.name.clone(),
                line: h.pos.line,
                column: h.pos.column,
                message: h.message,
                evidence: h.evidence,
                fix: h.fix,
            })
        })
        .collect();
    out.sort_by(|a, b| (a.line, a.column, a.rule).cmp(&(b.line, b.column, b.rule)));
    out.dedup();
    Ok(out)
}

/// Lint sources in order; a bad file becomes an error and the rest are still linted.
pub fn lint_all(sources: &[Source], config: &Config) -> Report {
    let mut report = Report {
        files: sources.len(),
        ..Report::default()
    };
    for s in sources {
        match lint_source(s, config) {
            Ok(f) => report.findings.extend(f),
            Err(e) => report.errors.push(e),
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lint_text(kind: FileKind, text: String) -> Result<Vec<Finding>, FileError> {
        lint_source(
            &Source {
                name: "t".into(),
                kind,
                text,
            },
            &Config::default(),
        )
    }

    proptest! {
        /// Rules never panic, and every finding points inside the file.
        #[test]
        fn findings_point_inside_the_file(
            lines in proptest::collection::vec(
                prop_oneof![
                    Just("FROM golang:1.2 AS b".to_string()),
                    Just("FROM scratch".to_string()),
                    Just("RUN go build -o /a .".to_string()),
                    Just("COPY --from=b /a /a".to_string()),
                    Just("COPY --from=9 /a /a".to_string()),
                    Just("CMD /a".to_string()),
                    Just("EXPOSE 6060".to_string()),
                    Just("ENV GOGC=off".to_string()),
                    "[A-Z]{2,6} [ -~]{0,20}",
                ],
                1..12,
            ),
        ) {
            let text = lines.join("\n");
            if let Ok(found) = lint_text(FileKind::Dockerfile, text) {
                for f in found {
                    prop_assert!(f.line >= 1 && f.line <= lines.len(), "{f:?}");
                }
            }
        }

        #[test]
        fn yaml_rules_never_panic(
            cpu in "[0-9]{0,4}m?",
            mem in "[0-9]{0,5}(Mi|Gi|M|)",
            procs in "[0-9a-z-]{0,4}",
            memlimit in "[0-9]{0,5}(MiB|GiB|B|M|)",
        ) {
            let text = format!(
                "kind: Pod\nspec:\n  containers:\n    - name: a\n      env:\n        - {{name: GOMAXPROCS, value: \"{procs}\"}}\n        - {{name: GOMEMLIMIT, value: \"{memlimit}\"}}\n      resources:\n        limits: {{cpu: \"{cpu}\", memory: \"{mem}\"}}\n---\nservices:\n  a:\n    cpus: \"{cpu}\"\n    mem_limit: \"{mem}\"\n    environment: [GOMAXPROCS={procs}, GOMEMLIMIT={memlimit}]\n"
            );
            let found = lint_text(FileKind::Yaml, text).unwrap();
            prop_assert!(found.iter().all(|f| f.line >= 1 && f.line <= 15));
        }
    }
}
