//! `boxwise image SOURCE`: read the image (engine, archive or OCI layout), judge it, render.

use std::process::ExitCode;

use anyhow::Context;
use std::io::Read as _;
use std::path::Path;

use boxwise_image::ci::{self, CiOverrides};
use boxwise_image::{CiRules, Limits, Options, Source};

use crate::cli::ImageArgs;
use crate::report;

/// The `.dive-ci` overrides: the file given, or `.dive-ci` here when it exists (as dive).
fn ci_file(given: Option<&Path>) -> anyhow::Result<CiOverrides> {
    let default = Path::new(".dive-ci");
    let path = match given {
        Some(p) => p,
        None if default.is_file() => default,
        None => return Ok(CiOverrides::default()),
    };
    // A rules file is a few lines: 64 KiB is plenty, and a FIFO or /dev/zero is refused.
    let mut text = String::new();
    boxwise_box::host::open_regular(path)
        .and_then(|f| f.take(64 << 10).read_to_string(&mut text))
        .with_context(|| format!("reading {}", path.display()))?;
    ci::parse_dive_ci(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub fn run(args: ImageArgs) -> anyhow::Result<ExitCode> {
    let source = Source::parse(&args.source);
    if matches!(&source, Source::Engine(n) if n.trim().is_empty()) {
        eprintln!(
            "boxwise: image {:?}: the image name is empty (give one, as in docker://app:1)",
            args.source
        );
        return Ok(ExitCode::from(2));
    }
    let loaded = boxwise_image::load(&source, args.platform.as_deref())?;
    // More base layers than the image has is a mistake, not a request to clamp.
    if let Some(n) = args.base_layers
        && n > loaded.layers.len()
    {
        eprintln!(
            "boxwise: --base-layers {n}: the image has only {} layer{}",
            loaded.layers.len(),
            if loaded.layers.len() == 1 { "" } else { "s" }
        );
        return Ok(ExitCode::from(2));
    }
    // dive runs its CI rules when CI is set in the environment too.
    let ci_env = std::env::var("CI").is_ok_and(|v| matches!(v.as_str(), "true" | "1" | "yes"));
    let ci = if args.ci || ci_env {
        let flags = CiOverrides {
            lowest_efficiency: args.lowest_efficiency,
            highest_wasted_bytes: args.highest_wasted_bytes,
            highest_user_wasted_percent: args.highest_user_wasted_percent,
        };
        let file = ci_file(args.ci_config.as_deref())?;
        Some(flags.over(file.over(CiRules::default())))
    } else {
        None
    };
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
