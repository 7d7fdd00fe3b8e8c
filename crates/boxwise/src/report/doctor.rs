//! The doctor's findings as text, Markdown and JSON.

use std::path::PathBuf;

use boxwise_box::model::BoxInfo;
use boxwise_box::policy::Recommendation;
use boxwise_box::units;
use boxwise_doctor::{Finding, GoMaxProcs, Severity};
use boxwise_goprog::GoBinary;
use serde_json::{Value, json};

/// What was examined.
pub enum Subject {
    /// boxwise's own box (or a tree under `--root`).
    Box(Option<PathBuf>),
    Binary(PathBuf),
    Process {
        pid: u32,
        exe: PathBuf,
        /// Why the executable is not judged as Go (not a Go program, or unreadable).
        not_go: Option<String>,
    },
    /// An image (`--image`): its source and the Go service in it.
    Image {
        source: String,
        service: Option<String>,
    },
}

pub struct Report<'a> {
    pub subject: &'a Subject,
    pub info: &'a BoxInfo,
    pub rec: &'a Recommendation,
    pub binary: Option<&'a GoBinary>,
    pub gomaxprocs: &'a GoMaxProcs,
    pub findings: &'a [Finding],
}

fn subject_words(s: &Subject) -> String {
    match s {
        Subject::Box(None) => "this box".into(),
        Subject::Box(Some(root)) => format!("the box under {}", root.display()),
        Subject::Binary(file) => format!("{} in this box", file.display()),
        Subject::Image { source, service } => match service {
            Some(s) => format!("{s} of {source} in this box"),
            None => format!("{source} in this box"),
        },
        Subject::Process { pid, exe, .. } => format!("pid {pid} ({})", exe.display()),
    }
}

fn count(findings: &[Finding], s: Severity) -> usize {
    findings.iter().filter(|f| f.severity == s).count()
}

fn summary_line(r: &Report) -> String {
    let limits = format!(
        "{}, memory {}",
        units::cpus(r.info.cpu.effective_cores),
        r.info
            .memory
            .limit_bytes
            .map_or_else(|| "unlimited".into(), units::bytes)
    );
    let go = r
        .binary
        .map_or_else(String::new, |b| format!(", {}", b.go_version));
    if let Subject::Process {
        not_go: Some(why), ..
    } = r.subject
    {
        return format!(
            "{}: {limits}; {why}, so only the box is judged (a Go program here would get \
             GOMAXPROCS {})",
            subject_words(r.subject),
            r.rec.gomaxprocs
        );
    }
    format!(
        "{}: {limits}{go}; GOMAXPROCS {} (recommended {})",
        subject_words(r.subject),
        r.gomaxprocs.value,
        r.rec.gomaxprocs
    )
}

pub fn text(r: &Report) -> String {
    let mut out = format!("{}\n", summary_line(r));
    if r.findings.is_empty() {
        out.push_str(match r.subject {
            Subject::Process {
                not_go: Some(_), ..
            } => "\nNo findings about the box.\n",
            _ => "\nNo findings: the Go settings fit the box.\n",
        });
        return out;
    }
    for f in r.findings {
        out.push_str(&format!(
            "\n{:<7} {}  {}\n",
            f.severity.as_str().to_uppercase(),
            f.id,
            f.title
        ));
        for e in &f.evidence {
            out.push_str(&format!("        evidence: {e}\n"));
        }
        out.push_str(&format!("        fix: {}\n", f.fix));
    }
    out.push_str(&format!(
        "\n{} error(s), {} warning(s), {} info\n",
        count(r.findings, Severity::Error),
        count(r.findings, Severity::Warning),
        count(r.findings, Severity::Info)
    ));
    out
}

pub fn markdown(r: &Report) -> String {
    let mut out = format!("## boxwise doctor\n\n{}\n\n", summary_line(r));
    if r.findings.is_empty() {
        out.push_str("No findings: the Go settings fit the box.\n");
        return out;
    }
    out.push_str("| severity | id | finding |\n|---|---|---|\n");
    for f in r.findings {
        out.push_str(&format!(
            "| {} | `{}` | {} |\n",
            f.severity.as_str(),
            f.id,
            f.title.replace('|', "\\|")
        ));
    }
    for f in r.findings {
        out.push_str(&format!("\n### `{}`: {}\n\n", f.id, f.title));
        for e in &f.evidence {
            out.push_str(&format!("- {e}\n"));
        }
        out.push_str(&format!("\n**Fix:** {}\n", f.fix));
    }
    out
}

pub fn json(r: &Report) -> Value {
    let subject = match r.subject {
        Subject::Box(root) => json!({"kind": "box", "root": root}),
        Subject::Binary(file) => json!({"kind": "binary", "file": file}),
        Subject::Image { source, service } => {
            json!({"kind": "image", "source": source, "service": service})
        }
        Subject::Process { pid, exe, not_go } => {
            json!({"kind": "process", "pid": pid, "exe": exe, "not_go": not_go})
        }
    };
    json!({
        "subject": subject,
        "findings": r.findings,
        "summary": {
            "errors": count(r.findings, Severity::Error),
            "warnings": count(r.findings, Severity::Warning),
            "infos": count(r.findings, Severity::Info),
        },
        "go_version": r.binary.map(|b| &b.go_version),
        "effective_gomaxprocs": r.gomaxprocs.value,
        "effective_gomaxprocs_reason": r.gomaxprocs.how,
        "recommendation": r.rec,
        "cpu": {"effective_cores": r.info.cpu.effective_cores},
        "memory": {"limit_bytes": r.info.memory.limit_bytes},
    })
}
