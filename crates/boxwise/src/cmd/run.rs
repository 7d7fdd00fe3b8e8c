//! `boxwise run`: wire the arguments to `boxwise_lab::run`, say which limits bit (OOM kill,
//! pids limit), write the stats, and exit with the command's status.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use boxwise_lab::{Limits, RunSpec};

use crate::cli::RunArgs;
use crate::report;

/// The `--io-*` caps, if any was given (`--io-device` alone caps nothing).
fn io_limit(args: &RunArgs) -> Option<boxwise_lab::IoLimit> {
    let caps = boxwise_box::cgroup::io::Caps {
        read_bps: args.io_read_bps,
        write_bps: args.io_write_bps,
        read_iops: args.io_read_iops,
        write_iops: args.io_write_iops,
    };
    (!caps.is_empty()).then(|| boxwise_lab::IoLimit {
        device: args.io_device.clone(),
        caps,
    })
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let io = io_limit(&args);
    if io.is_none() && args.io_device.is_some() {
        eprintln!(
            "boxwise: --io-device needs a cap: --io-read-bps, --io-write-bps, --io-read-iops \
             or --io-write-iops"
        );
        return Ok(ExitCode::from(2));
    }
    let mut command = args.command.into_iter();
    let program = command.next().context("no command given")?;
    // As exec: a foreign or cut-short ELF would otherwise run through /bin/sh as a script.
    let file = super::exec::resolve_program(&program, std::env::var_os("PATH"));
    if let Some(why) = file.as_deref().and_then(boxwise_box::host::foreign_elf) {
        eprintln!("boxwise: cannot start {why}");
        return Ok(ExitCode::from(126));
    }
    // With --at, a Go program's GOMAXPROCS is worth watching: did it follow?
    let track_gomaxprocs = args.track_gomaxprocs
        || (!args.at.is_empty() && file.is_some_and(|f| boxwise_goprog::GoBinary::read(f).is_ok()));
    // `--at` changes are said the moment they are made, from the run's changer thread.
    let (tell, told) = std::sync::mpsc::channel::<boxwise_lab::AppliedChange>();
    let printer = std::thread::spawn(move || {
        for change in told {
            eprintln!(
                "{}",
                report::fit::fit_stderr(&report::run::change_line(&change))
            );
        }
    });
    let mut spec = RunSpec {
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
            io,
        },
        isolation: args.isolate.unwrap_or_default(),
        parent: args.parent,
        changes: args.at,
        neighbour: args.neighbour,
        on_change: Some(tell),
        track_gomaxprocs,
        ..RunSpec::default()
    };
    let result = boxwise_lab::run(&spec);
    spec.on_change = None;
    let _ = printer.join();
    let stats = match result {
        Ok(stats) => stats,
        // A limit that cannot be (a CPU not here, `--cpus` above the CPUs) is a usage error.
        // A command that cannot be started exits as a shell's would: 127 or 126.
        Err(e) => {
            eprintln!("boxwise: {e}");
            let usage = matches!(e, boxwise_lab::Error::Spec(_));
            let code = e.shell_status().unwrap_or(if usage { 2 } else { 1 });
            return Ok(ExitCode::from(code));
        }
    };
    if !args.quiet {
        let summary = report::run::summary(&stats, args.io_device.as_deref()).join("\n") + "\n";
        eprint!("{}", report::fit::fit_stderr(&summary));
    }
    let missed = report::run::missed_changes(spec.changes.len(), &stats);
    for line in report::run::notes(&stats, &spec.program.to_string_lossy())
        .into_iter()
        .chain(missed)
    {
        eprintln!("{}", report::fit::fit_stderr(&line));
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
