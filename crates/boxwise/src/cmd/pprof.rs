//! `boxwise pprof top|flame|summary`: load a profile (file or URL), run one report from the
//! pprof crate, print it.

use std::fs;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail};
use boxwise_pprof::Profile;
use boxwise_pprof::flame::{SvgOptions, folded, folded_text, svg};
use boxwise_pprof::regex::Regex;
use boxwise_pprof::summary::summarize;
use boxwise_pprof::top::{TopOptions, top};
use boxwise_pprof::units::scaled_label;
use boxwise_pprof::url::{DEFAULT_SECONDS, ProfileUrl};

use crate::cli::{
    PprofArgs, PprofCommand, PprofFlameArgs, PprofSummaryArgs, PprofTopArgs, ProfileSource,
};

/// Responses larger than this are refused (profiles are a few MB at most).
const MAX_BODY: u64 = 512 << 20;

pub fn run(args: PprofArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PprofCommand::Top(a) => run_top(a),
        PprofCommand::Flame(a) => run_flame(a),
        PprofCommand::Summary(a) => run_summary(a),
    }
}

fn run_top(a: PprofTopArgs) -> anyhow::Result<ExitCode> {
    let p = load(&a.source)?;
    let opts = TopOptions {
        sample_index: a.source.sample_index.clone(),
        cum: a.cum,
        node_count: a.node_count,
        focus: regex("focus", a.source.focus.as_deref())?,
        ignore: regex("ignore", a.source.ignore.as_deref())?,
    };
    let report = top(&p, &opts).map_err(|e| anyhow!("{}: {e}", a.source.profile))?;
    let out = if a.json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        report.to_text()
    };
    write_stdout(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// The profile with the sample index and the samples `--focus`/`--ignore` keep.
fn select(src: &ProfileSource) -> anyhow::Result<(Profile, usize, Vec<usize>)> {
    let p = load(src)?;
    let vi = p
        .sample_index(src.sample_index.as_deref())
        .map_err(|e| anyhow!("{}: {e}", src.profile))?;
    let focus = regex("focus", src.focus.as_deref())?;
    let ignore = regex("ignore", src.ignore.as_deref())?;
    let samples = boxwise_pprof::filter::select_samples(&p, focus.as_ref(), ignore.as_ref());
    Ok((p, vi, samples))
}

fn run_flame(a: PprofFlameArgs) -> anyhow::Result<ExitCode> {
    let (p, vi, samples) = select(&a.source)?;
    let lines = folded(&p, &samples, vi);
    let out = if a.folded {
        folded_text(&lines)
    } else {
        let st = &p.sample_types[vi];
        let title = match p.main_file() {
            Some(f) => format!("{f}: {}", st.ty),
            None => st.ty.clone(),
        };
        svg(
            &lines,
            &SvgOptions {
                title,
                unit: st.unit.clone(),
                min_width_px: 0.1,
            },
        )
    };
    match &a.output {
        Some(path) => {
            fs::write(path, out).map_err(|e| anyhow!("writing {}: {e}", path.display()))?
        }
        None => write_stdout(out.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

fn run_summary(a: PprofSummaryArgs) -> anyhow::Result<ExitCode> {
    let (p, vi, samples) = select(&a.source)?;
    let s = summarize(&p, &samples, vi, a.functions);
    let out = if a.json {
        serde_json::to_string_pretty(&s)? + "\n"
    } else {
        let unit = s.sample_unit.clone();
        s.to_text(&|v| scaled_label(v, &unit, "auto"))
    };
    write_stdout(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn regex(what: &str, re: Option<&str>) -> anyhow::Result<Option<Regex>> {
    re.map(|r| {
        Regex::new(r).map_err(|e| {
            // regex errors span several lines (pattern, caret, reason): keep the reason.
            let e = e.to_string();
            let reason = e.lines().last().unwrap_or(&e).trim_start_matches("error: ");
            anyhow!("parsing {what} regexp {r:?}: {reason}")
        })
    })
    .transpose()
}

/// Reads and decodes the profile, then makes pprof's own edits: drop_frames/keep_frames,
/// then name clean-up (in that order, as its fetch and symbolize steps do).
pub fn load(src: &ProfileSource) -> anyhow::Result<Profile> {
    let name = &src.profile;
    let mut p = if is_url(name) {
        let bytes = fetch(name, src.seconds)?;
        boxwise_pprof::decode(&bytes)
    } else {
        if src.seconds.is_some() {
            bail!("--seconds applies to URLs only, not to the file {name}");
        }
        // Only a regular file: a FIFO would block in open, a device never end.
        let f = boxwise_box::host::open_regular(std::path::Path::new(name))
            .map_err(|e| anyhow!("reading {name}: {e}"))?;
        boxwise_pprof::decode_reader(f)
    }
    .map_err(|e| anyhow!("decoding {name}: {e}"))?;
    boxwise_pprof::filter::remove_uninteresting(&mut p).map_err(|e| anyhow!("{name}: {e}"))?;
    boxwise_pprof::filter::simplify_names(&mut p);
    Ok(p)
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// The URL to fetch: a bare `http://host:port[/]` means the CPU profile, as pprof does, and
/// `--seconds` replaces any `seconds=` already in the query.
pub fn profile_url(url: &str, seconds: Option<u32>) -> ProfileUrl {
    ProfileUrl::parse(url).with_seconds(seconds)
}

fn fetch(url: &str, seconds: Option<u32>) -> anyhow::Result<Vec<u8>> {
    let url = profile_url(url, seconds);
    let wait = url.seconds().unwrap_or(DEFAULT_SECONDS);
    let url = url.to_string();
    check_url(&url)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(u64::from(wait) + 60)))
        .build()
        .into();
    let mut resp = agent
        .get(&url)
        .call()
        .map_err(|e| anyhow!("fetching {url}: {e}"))?;
    resp.body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| anyhow!("reading the response from {url}: {e}"))
}

/// Refuse what the fetch would get wrong: https (no TLS in this build: the error would say
/// "transport is unsecured") and a port outside 1-65535.
fn check_url(url: &str) -> anyhow::Result<()> {
    if url.starts_with("https://") {
        bail!(
            "{url}: https is not supported (boxwise is built without TLS); use http://, or \
             fetch the profile with curl and pass the file"
        );
    }
    let authority = url.split_once("://").map_or(url, |(_, rest)| {
        rest.split(['/', '?']).next().unwrap_or(rest)
    });
    if let Some((_, port)) = authority.rsplit_once(':')
        && !port.ends_with(']')
        && !port.parse::<u16>().is_ok_and(|p| p > 0)
    {
        bail!("{url}: port {port} is not a port (1 to 65535)");
    }
    Ok(())
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub fn write_stdout(b: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(b).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(|e| anyhow!("writing to stdout: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::profile_url;

    #[test]
    fn urls() {
        assert_eq!(
            profile_url("http://h:6060", Some(5)).to_string(),
            "http://h:6060/debug/pprof/profile?seconds=5"
        );
        assert_eq!(
            profile_url("http://h:6060/debug/pprof/heap?gc=1&seconds=2", Some(5)).to_string(),
            "http://h:6060/debug/pprof/heap?gc=1&seconds=5"
        );
        assert_eq!(
            profile_url("http://h:6060/debug/pprof/goroutine", None).to_string(),
            "http://h:6060/debug/pprof/goroutine"
        );
    }
}
