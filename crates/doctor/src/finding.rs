//! One diagnosis: a stable id, how bad it is, the numbers behind it, and what to change.

use serde::Serialize;

/// Ordered worst first, so sorting ranks findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// `error` or `warning`, as `--fail-on` takes them.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable rule id, e.g. `gomaxprocs-above-cpu-limit` (see docs/rules.md).
    pub id: &'static str,
    pub severity: Severity,
    pub title: String,
    /// The numbers behind the finding and the files they came from.
    pub evidence: Vec<String>,
    /// The exact change to make.
    pub fix: String,
}

pub(crate) fn finding(
    id: &'static str,
    severity: Severity,
    title: String,
    evidence: Vec<String>,
    fix: String,
) -> Finding {
    Finding {
        id,
        severity,
        title,
        evidence,
        fix,
    }
}

/// How to set a variable, in each place people set it.
pub(crate) fn env_fix(var: &str, value: &str) -> String {
    format!(
        "set {var}={value}: Dockerfile `ENV {var}={value}`; Kubernetes `env: [{{name: {var}, value: \"{value}\"}}]`; \
         or start the program as `boxwise exec -- CMD` (Dockerfile `ENTRYPOINT [\"/boxwise\", \"exec\", \"--\", \"/app\"]`), which sets it from the limits"
    )
}
