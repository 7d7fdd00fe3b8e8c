//! `boxwise doctor`: gather the facts (box, binary, environment), let the doctor crate judge,
//! render the ranked findings.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use boxwise_doctor::{
    Facts, ProfileCategory, ProfileFacts, Severity, diagnose, effective_gomaxprocs,
};
use boxwise_goprog::GoBinary;
use boxwise_pprof::summary::summarize;
use boxwise_pprof::units::scaled_label;

use super::settings;
use crate::cli::{DoctorArgs, DoctorFormat, ProfileSource};
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

    let mut profile = args
        .profile
        .as_deref()
        .map(|p| profile_facts(p, args.profile_seconds))
        .transpose()?;
    if let (Some(d), Some(pid)) = (args.profile_live, args.pid) {
        profile = Some(live_profile_facts(pid, d)?);
    }
    let facts = Facts {
        info: &info,
        rec: &rec,
        binary: binary.as_ref(),
        env_owner,
        profile: profile.as_ref(),
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

/// Samples the process (`boxwise profile`) into a temporary file and reads it back as a
/// `--profile` file would be.
fn live_profile_facts(pid: u32, d: std::time::Duration) -> anyhow::Result<ProfileFacts> {
    let tmp = tempfile::NamedTempFile::new().context("creating a temporary profile file")?;
    let bytes = super::profile::live(pid, d, super::profile::DEFAULT_HZ)?;
    std::fs::write(tmp.path(), bytes).context("writing the temporary profile")?;
    let mut facts = profile_facts(&tmp.path().to_string_lossy(), None)?;
    facts.source = format!("a {}s live profile of PID {pid}", d.as_secs_f64());
    Ok(facts)
}

/// Top functions per category the profile rules quote.
const PROFILE_FUNCTIONS: usize = 3;

/// Loads the profile as `pprof summary` does (pprof's default sample type, every sample)
/// and keeps what the rules read.
fn profile_facts(source: &str, seconds: Option<u32>) -> anyhow::Result<ProfileFacts> {
    let url = source.starts_with("http://") || source.starts_with("https://");
    if seconds.is_some() && !url {
        anyhow::bail!("--profile-seconds applies to URLs only, not to the file {source}");
    }
    let src = ProfileSource {
        profile: source.to_string(),
        seconds,
        sample_index: None,
        focus: None,
        ignore: None,
    };
    let p = super::pprof::load(&src)?;
    let vi = p
        .sample_index(None)
        .map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    let all: Vec<usize> = (0..p.samples.len()).collect();
    let s = summarize(&p, &all, vi, PROFILE_FUNCTIONS);
    Ok(ProfileFacts {
        source: source.to_string(),
        total_text: scaled_label(s.total, &s.sample_unit, "auto"),
        sample_type: s.sample_type,
        sample_unit: s.sample_unit,
        total: s.total,
        categories: s
            .categories
            .into_iter()
            .map(|c| ProfileCategory {
                id: c.category.id().to_string(),
                percent: c.percent,
                top_functions: c
                    .functions
                    .into_iter()
                    .map(|f| (f.name, f.percent))
                    .collect(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use boxwise_doctor::profile as doctor;
    use boxwise_pprof::summary as pprof;

    /// `doctor --profile` and `pprof summary` must agree on when a share is worth a word.
    #[test]
    fn profile_thresholds_match_the_summary_readings() {
        assert_eq!(doctor::GC_PERCENT, pprof::GC_PERCENT);
        assert_eq!(doctor::MALLOC_PERCENT, pprof::MALLOC_PERCENT);
        assert_eq!(doctor::SCHEDULER_PERCENT, pprof::SCHEDULER_PERCENT);
        assert_eq!(doctor::LOCKS_PERCENT, pprof::LOCKS_PERCENT);
        assert_eq!(doctor::SYSCALLS_PERCENT, pprof::SYSCALLS_PERCENT);
        assert_eq!(doctor::CGO_PERCENT, pprof::CGO_PERCENT);
        for (ty, unit) in [
            ("cpu", "nanoseconds"),
            ("samples", "count"),
            ("alloc_space", "bytes"),
        ] {
            let facts = boxwise_doctor::ProfileFacts {
                sample_type: ty.into(),
                sample_unit: unit.into(),
                ..Default::default()
            };
            assert_eq!(facts.is_cpu(), pprof::is_cpu(ty, unit), "{ty}/{unit}");
        }
    }
}
