//! Machine formats: JSON (the stable contract), SARIF 2.1.0 for code scanning, and GitHub
//! Actions workflow commands. The text format for people is the binary's (report/lint.rs).

use serde_json::{Value, json};

use crate::{Report, Severity, all_rules};

/// `{"files": N, "findings": [...], "errors": [...]}`.
pub fn json(report: &Report) -> Value {
    serde_json::to_value(report).unwrap_or(Value::Null)
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A SARIF 2.1.0 log with one run; unreadable files become tool execution notifications.
pub fn sarif(report: &Report, version: &str) -> Value {
    let rules = all_rules();
    let rule_objs: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id.replace(['/', '-', '.'], "_"),
                "shortDescription": {"text": r.summary},
                "helpUri": format!("https://example.invalid/boxwise/docs/rules.md#{}", r.id.replace(['/', '.'], "")),
                "defaultConfiguration": {"level": sarif_level(r.severity)},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = rules.iter().position(|r| r.id == f.rule).unwrap_or(0);
            json!({
                "ruleId": f.rule,
                "ruleIndex": index,
                "level": sarif_level(f.severity),
                "message": {"text": format!("{}\nEvidence: {}\nFix: {}", f.message, f.evidence, f.fix)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&f.file)},
                        "region": {"startLine": f.line, "startColumn": f.column},
                    }
                }],
            })
        })
        .collect();
    let notes: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            let mut loc = json!({"physicalLocation": {"artifactLocation": {"uri": uri(&e.file)}}});
            if let (Some(l), Some(c)) = (e.line, e.column) {
                loc["physicalLocation"]["region"] = json!({"startLine": l, "startColumn": c});
            }
            json!({"level": "error", "message": {"text": e.message}, "locations": [loc]})
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "boxwise lint",
                "version": version,
                "informationUri": "https://example.invalid/boxwise",
                "rules": rule_objs,
            }},
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notes,
            }],
            "results": results,
        }]
    })
}

/// A relative path as a URI reference (code scanning resolves it against the checkout).
fn uri(file: &str) -> String {
    let f = file.strip_prefix("./").unwrap_or(file);
    percent_path(f)
}

fn percent_path(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// GitHub Actions workflow commands, one per finding (`::warning file=...::message`).
pub fn github(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        out.push_str(&format!(
            "::{level} file={},line={},col={},title={}::{}\n",
            prop(&f.file),
            f.line,
            f.column,
            prop(f.rule),
            data(&format!("{} Fix: {}", f.message, f.fix))
        ));
    }
    for e in &report.errors {
        let at = match (e.line, e.column) {
            (Some(l), Some(c)) => format!(",line={l},col={c}"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "::error file={}{at}::{}\n",
            prop(&e.file),
            data(&e.message)
        ));
    }
    out
}

fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn prop(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FileError, Finding};

    #[test]
    fn github_escapes() {
        let r = Report {
            files: 1,
            findings: vec![Finding {
                rule: "k8s/no-limits",
                severity: Severity::Warning,
                file: "a,b:c.yaml".into(),
                line: 3,
                column: 5,
                message: "50% bad".into(),
                evidence: String::new(),
                fix: "x\ny".into(),
            }],
            errors: vec![FileError {
                file: "x".into(),
                line: Some(1),
                column: Some(2),
                message: "m".into(),
            }],
        };
        assert_eq!(
            github(&r),
            "::warning file=a%2Cb%3Ac.yaml,line=3,col=5,title=k8s/no-limits::50%25 bad Fix: x%0Ay\n::error file=x,line=1,col=2::m\n"
        );
    }
}
