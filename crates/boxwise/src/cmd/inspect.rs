//! `boxwise inspect`: the box and the Go settings that fit it.

use std::process::ExitCode;

use boxwise_box::goenv::{GoEnv, GoMemLimit, parse_gomemlimit};
use boxwise_box::model::BoxInfo;
use boxwise_box::policy::Recommendation;
use serde::Serialize;

use super::settings;
use crate::cli::InspectArgs;
use crate::report;

/// The JSON document: the box's facts at the top level, plus the recommendation.
#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    info: &'a BoxInfo,
    recommendation: &'a Recommendation,
    /// Where the process's own Go settings disagree with the box.
    notes: &'a [String],
}

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let (_, info, rec) = settings::full_box(&args.policy, args.root.as_ref(), args.pid)?;
    let notes = env_notes(&info.go_env, &rec);
    if args.json {
        let doc = Report {
            info: &info,
            recommendation: &rec,
            notes: &notes,
        };
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!(
            "{}",
            report::fit::fit(&report::inspect::render(&info, &rec, &notes))
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Say where the process's own settings disagree with what the box calls for.
fn env_notes(env: &GoEnv, rec: &Recommendation) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(v) = env.gomaxprocs.as_deref() {
        match env.gomaxprocs_value() {
            Some(n) if n != rec.gomaxprocs => notes.push(format!(
                "GOMAXPROCS={n} is set; the box calls for {}",
                rec.gomaxprocs
            )),
            Some(_) => {}
            None => notes.push(format!(
                "GOMAXPROCS={v:?} is set but Go ignores it (not a positive integer)"
            )),
        }
    }
    if let Some(v) = env.gomemlimit.as_deref() {
        match (parse_gomemlimit(v), rec.gomemlimit_bytes) {
            (Err(e), _) => notes.push(e.0),
            (Ok(GoMemLimit::Bytes(b)), Some(want)) if b > want => notes.push(format!(
                "GOMEMLIMIT={v} is above the {want} bytes the box calls for"
            )),
            (Ok(GoMemLimit::Off), Some(want)) => notes.push(format!(
                "GOMEMLIMIT=off although the box calls for {want} bytes"
            )),
            _ => {}
        }
    }
    notes
}
