//! `boxwise run`: wire the arguments to `boxwise_lab::run`, say which limits bit (OOM kill,
//! pids limit), write the stats, and exit with the command's status.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use boxwise_lab::{Limits, RunSpec};

use crate::cli::RunArgs;
use crate::report;

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut command = args.command.into_iter();
    let program = command.next().context("no command given")?;
    let spec = RunSpec {
        program,
        args: command.collect(),
        env: args
            .env
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
        limits: Limits {
            cpus: args.cpus,
            memory: args.memory,
            memory_swap: args.memory_swap,
            pids: args.pids,
            cpuset: args.cpuset,
        },
        isolation: args.isolate.unwrap_or_default(),
        parent: args.parent,
        changes: args.at,
        neighbour: args.neighbour,
        ..RunSpec::default()
    };
    let stats = match boxwise_lab::run(&spec) {
        Ok(stats) => stats,
        // The VM suite and users grep for `boxwise: error:` (as `exec` writes it).
        Err(e) => {
            eprintln!("boxwise: error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    for line in report::run::notes(&stats, &spec.program.to_string_lossy()) {
        eprintln!("{line}");
    }
    if let Some(path) = &args.stats_json {
        let json = serde_json::to_string_pretty(&stats)? + "\n";
        if path.as_os_str() == "-" {
            std::io::stdout().write_all(json.as_bytes())?;
        } else {
            std::fs::write(path, json)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(ExitCode::from(stats.exit_code.clamp(0, 255) as u8))
}
