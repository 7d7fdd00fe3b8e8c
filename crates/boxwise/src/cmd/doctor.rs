//! `boxwise doctor`: gather the facts (box, binary, environment), let the doctor crate judge,
//! render the ranked findings.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use boxwise_doctor::{
    Facts, Finding, ProfileCategory, ProfileFacts, Severity, diagnose, effective_gomaxprocs,
};
use boxwise_goprog::GoBinary;
use boxwise_pprof::summary::summarize;
use boxwise_pprof::units::scaled_label;

use super::settings;
use crate::cli::{DoctorArgs, DoctorFormat, ProfileSource};
use crate::report::doctor::{self as render, Subject};

pub fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let image = args.image.as_deref().map(image_findings).transpose()?;
    // An image's service starts with the image's ENV: that is the environment to judge.
    let image_env = image.as_ref().map(|i| {
        boxwise_box::goenv::GoEnv::from_pairs(i.env.iter().filter_map(|kv| kv.split_once('=')))
    });
    let (host, info, rec) =
        settings::full_box_env(&args.policy, args.root.as_ref(), args.pid, image_env)?;

    let (binary, subject, env_owner) = match (&args.binary, args.pid) {
        _ if image.is_some() => {
            let i = image.as_ref().expect("checked");
            (
                i.service.clone(),
                Subject::Image {
                    source: i.source.clone(),
                    service: i.service.as_ref().map(|b| b.file.display().to_string()),
                },
                "the image's service (its ENV)".to_string(),
            )
        }
        (Some(file), _) => {
            let b = GoBinary::read(file)?;
            (
                Some(b),
                Subject::Binary(file.clone()),
                "boxwise (inherited from the shell that started it)".to_string(),
            )
        }
        (None, Some(pid)) => {
            // The process's executable; a process that is not Go (or unreadable) still gets
            // the box and environment rules.
            let exe = host.path(Path::new(&format!("/proc/{pid}/exe")));
            let (binary, not_go) = match GoBinary::read(&exe) {
                Ok(b) => (Some(b), None),
                Err(e) if e.to_string().contains("not a Go") => {
                    (None, Some("not a Go program".to_string()))
                }
                Err(e) => (
                    None,
                    Some(format!("its executable could not be read as Go ({e})")),
                ),
            };
            let name = std::fs::read_link(&exe).unwrap_or_else(|_| PathBuf::from("?"));
            (
                binary,
                Subject::Process {
                    pid,
                    exe: name,
                    not_go,
                },
                format!("pid {pid}"),
            )
        }
        (None, None) => {
            let owner = match &args.root {
                Some(root) => format!("the process under {}", root.display()),
                None => "boxwise (inherited from the shell that started it)".to_string(),
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
    // Kills the cgroup's own counter forgot (a restart makes a new cgroup): only on the live
    // machine, where the kernel log and the Docker socket are this machine's.
    let oom_history = args.root.is_none().then(|| oom_history(&info));
    let mut facts = Facts {
        info: &info,
        rec: &rec,
        binary: binary.as_ref(),
        env_owner,
        profile: profile.as_ref(),
        oom_history: oom_history.as_ref(),
        syscalls: None,
    };
    let syscalls = match (args.syscalls, args.pid) {
        (Some(d), Some(pid)) => Some(super::syscalls::doctor_facts(
            pid,
            d,
            effective_gomaxprocs(&facts).value,
            info.cpu.quota.as_ref().map(|q| q.cores),
        )?),
        _ => None,
    };
    facts.syscalls = syscalls.as_ref();
    let mut findings = diagnose(&facts);
    if let Some(i) = image {
        boxwise_doctor::fold(&mut findings, i.findings);
    }
    // A process that is not Go has no Go settings to judge: only the box's findings stay.
    if matches!(
        subject,
        Subject::Process {
            not_go: Some(_),
            ..
        }
    ) {
        findings.retain(|f| {
            let id = f.id.as_str();
            !(id.starts_with("gomaxprocs")
                || id.starts_with("gomemlimit")
                || id.starts_with("gogc"))
        });
    }
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
        DoctorFormat::Text => crate::report::fit::fit(&render::text(&report)),
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

/// What `doctor --image` takes from an image.
struct ImageFacts {
    /// The source's name.
    source: String,
    /// The Go service in it: the binary the doctor examines.
    service: Option<GoBinary>,
    /// The image's ENV (`K=V`): the environment the service starts with.
    env: Vec<String>,
    /// The image's findings converted to the doctor's.
    findings: Vec<Finding>,
}

/// Reads an image as `boxwise image` does.
fn image_findings(source: &str) -> anyhow::Result<ImageFacts> {
    let src = boxwise_image::Source::parse(source);
    let loaded = boxwise_image::load(&src, None)?;
    let r = boxwise_image::analyze(&src, &loaded, &boxwise_image::Options::default());
    let service = r.config.service.as_ref().and_then(|path| {
        loaded
            .layers
            .iter()
            .rev()
            .flat_map(|(_, _, scan)| scan.go.iter())
            .find(|b| b.file.to_string_lossy() == path.as_str())
            .cloned()
    });
    let findings = r
        .findings
        .into_iter()
        .map(|f| {
            let severity = match f.severity {
                boxwise_image::Severity::Error => Severity::Error,
                boxwise_image::Severity::Warning => Severity::Warning,
                boxwise_image::Severity::Info => Severity::Info,
            };
            Finding::external(f.id, severity, f.title, f.evidence, f.fix)
        })
        .collect();
    Ok(ImageFacts {
        source: src.describe(),
        service,
        env: r.config.env,
        findings,
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

/// Where the memory cgroup's past kills may be recorded (see `boxwise_oom::read::gather`).
fn oom_history(info: &boxwise_box::BoxInfo) -> boxwise_oom::History {
    use boxwise_box::cgroup::Controller;
    use boxwise_box::layout::Hierarchy;
    let dir = info
        .cgroup
        .controllers
        .get(&Controller::Memory)
        .or(info.cgroup.unified.as_ref());
    let cgroup = dir.map_or("/", |d| d.cgroup_path.as_str());
    let docker_id = (info.container.runtime == boxwise_box::container::Runtime::Docker)
        .then_some(info.container.id.as_deref())
        .flatten();
    boxwise_oom::read::gather(
        cgroup,
        dir.map(|d| d.dir.as_path()),
        dir.is_some_and(|d| d.hierarchy == Hierarchy::V2),
        docker_id,
    )
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
