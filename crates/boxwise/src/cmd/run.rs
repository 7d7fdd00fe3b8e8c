//! `boxwise run`: wire the arguments to `boxwise_lab::run`, report an OOM kill, write the
//! stats, and exit with the command's status.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use boxwise_box::units;
use boxwise_lab::{Limits, RunSpec, RunStats};

use crate::cli::RunArgs;

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
        ..RunSpec::default()
    };
    let stats = boxwise_lab::run(&spec)?;
    if let Some(line) = oom_line(&stats, &spec) {
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

/// One line that cannot be missed when the kernel's OOM killer struck.
fn oom_line(stats: &RunStats, spec: &RunSpec) -> Option<String> {
    if !stats.oom_killed {
        return None;
    }
    let limit = stats.limits.memory_bytes.map_or_else(
        || "its memory limit".to_string(),
        |m| format!("--memory {}", units::bytes(m)),
    );
    Some(format!(
        "boxwise: OOM: the run hit {limit} and the kernel's OOM killer killed a process in it \
         ({} exited {})",
        spec.program.to_string_lossy(),
        stats.exit_code
    ))
}
