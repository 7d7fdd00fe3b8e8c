//! GOMEMLIMIT and GOGC against the memory limit: Go never reads the limit itself.

use boxwise_box::ParseError;
use boxwise_box::goenv::{GoMemLimit, parse_gomemlimit};
use boxwise_box::units;

use crate::facts::{Facts, go_version, limit_words, lowest_memory_limit};
use crate::finding::{Finding, FindingId, Severity, env_fix, finding};

/// GOMEMLIMIT above this share of the limit leaves the GC no room before the kernel acts.
const GOMEMLIMIT_HEADROOM: f64 = 0.95;

/// GOMEMLIMIT as Go parses it; `None` when unset or empty (Go ignores an empty one).
fn parsed_gomemlimit<'a>(f: &Facts<'a>) -> Option<(&'a str, Result<GoMemLimit, ParseError>)> {
    let v = f
        .info
        .go_env
        .gomemlimit
        .as_deref()
        .filter(|v| !v.is_empty())?;
    Some((v, parse_gomemlimit(v)))
}

fn gomemlimit_fix(f: &Facts) -> Option<String> {
    f.rec
        .gomemlimit_bytes
        .map(|b| env_fix("GOMEMLIMIT", &b.to_string()))
}

/// `gomemlimit-malformed`, `gomemlimit-unset`, `gomemlimit-above-limit`.
pub(crate) fn gomemlimit(f: &Facts, out: &mut Vec<Finding>) {
    let limit = lowest_memory_limit(f.info);
    let parsed = parsed_gomemlimit(f);
    let fix = gomemlimit_fix(f);
    match (&parsed, limit) {
        (Some((v, Err(e))), _) => out.push(finding(
            FindingId::GomemlimitMalformed,
            Severity::Error,
            format!("GOMEMLIMIT={v} is malformed: Go will refuse to start"),
            vec![format!("GOMEMLIMIT={v:?} in the environment of {}", f.env_owner), e.0.clone()],
            fix.unwrap_or_else(|| "write it as bytes with an optional KiB/MiB/GiB suffix, e.g. GOMEMLIMIT=256MiB, or remove it".into()),
        )),
        (None | Some((_, Ok(GoMemLimit::Off))), Some(l)) => {
            let mut evidence = vec![limit_words(l)];
            match &parsed {
                Some(_) => evidence.push(format!("GOMEMLIMIT=off in the environment of {}", f.env_owner)),
                None => evidence.push(format!("GOMEMLIMIT is not set in the environment of {}", f.env_owner)),
            }
            if let Some(b) = f.binary.filter(|b| !b.supports_gomemlimit()) {
                evidence.push(format!("{} predates GOMEMLIMIT (Go 1.19)", go_version(b)));
            }
            out.push(finding(
                FindingId::GomemlimitUnset,
                Severity::Warning,
                format!("memory is limited to {} but GOMEMLIMIT is not set: the GC will not try to stay below it", units::bytes(l.bytes)),
                evidence,
                fix.unwrap_or_default(),
            ));
        }
        (Some((v, Ok(GoMemLimit::Bytes(bytes)))), Some(l)) => {
            let hard = f.info.memory.limit_bytes;
            let severity = if hard.is_some_and(|h| *bytes >= h) {
                Some(Severity::Error)
            } else if (*bytes as f64) > GOMEMLIMIT_HEADROOM * l.bytes as f64 {
                Some(Severity::Warning)
            } else {
                None
            };
            if let Some(severity) = severity {
                out.push(finding(
                    FindingId::GomemlimitAboveLimit,
                    severity,
                    format!("GOMEMLIMIT {} is too close to or above the memory limit {}", units::bytes(*bytes), units::bytes(l.bytes)),
                    vec![format!("GOMEMLIMIT={v} ({bytes} bytes) in the environment of {}", f.env_owner), limit_words(l)],
                    fix.unwrap_or_default(),
                ));
            }
        }
        _ => {}
    }
}

/// `gogc-off-without-limit`.
pub(crate) fn gogc_off(f: &Facts, out: &mut Vec<Finding>) {
    let gogc_off = f.info.go_env.gogc.as_deref() == Some("off"); // readGOGC compares exactly
    let has_memlimit = matches!(parsed_gomemlimit(f), Some((_, Ok(GoMemLimit::Bytes(_)))));
    if let (true, false, Some(l)) = (gogc_off, has_memlimit, lowest_memory_limit(f.info)) {
        out.push(finding(
            FindingId::GogcOffWithoutLimit,
            Severity::Error,
            "GOGC=off without GOMEMLIMIT: the heap grows until the kernel kills the process".into(),
            vec![
                format!("GOGC=off in the environment of {}", f.env_owner),
                limit_words(l),
            ],
            gomemlimit_fix(f).unwrap_or_default(),
        ));
    }
}
