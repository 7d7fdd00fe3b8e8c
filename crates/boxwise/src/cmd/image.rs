//! `boxwise image SOURCE`: read the image (engine, archive or OCI layout), judge it, render.

use std::process::ExitCode;

use anyhow::Context;
use boxwise_image::{CiRules, Limits, Options, Source};

use crate::cli::{ImageArgs, Rule};
use crate::report;

fn rule<T>(given: Option<Rule<T>>, default: Option<T>) -> Option<T> {
    match given {
        None => default,
        Some(Rule::Off) => None,
        Some(Rule::At(v)) => Some(v),
    }
}

pub fn run(args: ImageArgs) -> anyhow::Result<ExitCode> {
    let source = Source::parse(&args.source);
    let loaded = boxwise_image::load(&source, args.platform.as_deref())?;
    // dive runs its CI rules when CI is set in the environment too.
    let ci_env = std::env::var("CI").is_ok_and(|v| matches!(v.as_str(), "true" | "1" | "yes"));
    let ci = (args.ci || ci_env).then(|| {
        let d = CiRules::default();
        CiRules {
            lowest_efficiency: rule(args.lowest_efficiency, d.lowest_efficiency),
            highest_wasted_bytes: rule(args.highest_wasted_bytes, d.highest_wasted_bytes),
            highest_user_wasted_percent: rule(
                args.highest_user_wasted_percent,
                d.highest_user_wasted_percent,
            ),
        }
    });
    let opts = Options {
        base_layers: args.base_layers,
        top_wasted: if args.wide { 50 } else { 10 },
        limits: Limits {
            cpus: args.cpus,
            memory: args.memory,
        },
        ci,
    };
    let r = boxwise_image::analyze(&source, &loaded, &opts);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&r).context("encoding JSON")?
        );
    } else if args.markdown {
        print!("{}", report::image::markdown(&r));
    } else {
        print!("{}", report::image::text(&r, args.wide));
    }
    let ci_failed = r.ci.as_ref().is_some_and(|c| !c.passed);
    let fail = args
        .fail_on
        .is_some_and(|level| r.findings.iter().any(|f| f.severity <= level));
    Ok(if ci_failed || fail {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
