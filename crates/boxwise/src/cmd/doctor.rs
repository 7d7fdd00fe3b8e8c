//! `boxwise doctor`: gather the facts (box, binary, environment), let the doctor crate judge,
//! render the ranked findings.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use boxwise_doctor::{Facts, Severity, diagnose, effective_gomaxprocs};
use boxwise_goprog::GoBinary;

use super::settings;
use crate::cli::{DoctorArgs, DoctorFormat};
use crate::report::doctor::{self as render, Subject};

pub fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let (host, info, rec) = settings::full_box(&args.policy, args.root.as_ref(), args.pid)?;

    let (binary, subject, env_owner) = match (&args.binary, args.pid) {
        (Some(file), _) => {
            let b = GoBinary::read(file)?;
            (
                Some(b),
                Subject::Binary(file.clone()),
                "boxwise's environment".to_string(),
            )
        }
        (None, Some(pid)) => {
            // The process's executable; a process that is not Go (or unreadable) still gets
            // the box and environment rules.
            let exe = host.path(Path::new(&format!("/proc/{pid}/exe")));
            let binary = GoBinary::read(&exe).ok();
            let name = std::fs::read_link(&exe).unwrap_or_else(|_| PathBuf::from("?"));
            (
                binary,
                Subject::Process { pid, exe: name },
                format!("pid {pid}"),
            )
        }
        (None, None) => {
            let owner = match &args.root {
                Some(root) => format!("the process under {}", root.display()),
                None => "boxwise's environment".to_string(),
            };
            (None, Subject::Box(args.root.clone()), owner)
        }
    };

    let facts = Facts {
        info: &info,
        rec: &rec,
        binary: binary.as_ref(),
        env_owner,
    };
    let findings = diagnose(&facts);
    let gomaxprocs = effective_gomaxprocs(&facts);
    let report = render::Report {
        subject: &subject,
        info: &info,
        rec: &rec,
        binary: binary.as_ref(),
        gomaxprocs: &gomaxprocs,
        findings: &findings,
    };
    let text = match args.format() {
        DoctorFormat::Json => {
            serde_json::to_string_pretty(&render::json(&report)).context("encoding JSON")? + "\n"
        }
        DoctorFormat::Markdown => render::markdown(&report),
        DoctorFormat::Text => render::text(&report),
    };
    print!("{text}");

    let fail = args
        .fail_on
        .is_some_and(|level: Severity| findings.iter().any(|f| f.severity <= level));
    Ok(if fail {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
