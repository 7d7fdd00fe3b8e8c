//! `boxwise bench net|io`: wire the arguments to `boxwise_bench`, print the tables or the
//! JSON; Ctrl-C stops early, cleans up, prints what was measured and exits 130.

use std::io::IsTerminal;
use std::process::ExitCode;

use boxwise_bench::{IoSpec, NetSpec};

use crate::cli::{BenchArgs, BenchCommand, BenchIoArgs, BenchNetArgs};
use crate::report;

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    boxwise_bench::interrupt::install();
    match args.command {
        BenchCommand::Net(a) => net(a),
        BenchCommand::Io(a) => io(a),
    }
}

fn progress(line: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("  {line}");
    }
}

/// Ctrl-C before any case finished: one line instead of an empty table.
const NOTHING_YET: &str = "boxwise: interrupted before any result";

fn finish(interrupted: bool) -> ExitCode {
    if interrupted {
        eprintln!("boxwise: interrupted; the results so far are above");
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    }
}

fn net(a: BenchNetArgs) -> anyhow::Result<ExitCode> {
    // The two halves of a docker mode, each in its own container.
    if let Some(addr) = a.serve {
        boxwise_bench::net::serve_at(addr, a.size as usize)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(target) = a.connect {
        let r = boxwise_bench::net::client(
            boxwise_bench::NetMode::Host,
            target,
            a.size as usize,
            a.duration,
        )?;
        println!("{}", serde_json::to_string(&r)?);
        return Ok(finish(boxwise_bench::interrupt::requested()));
    }
    let spec = NetSpec {
        modes: a.modes,
        size: a.size,
        duration: a.duration,
        docker_binary: a.docker_binary,
        // Each end in its own process, as the peers (iperf3, sockperf) run.
        server_program: std::env::current_exe().ok(),
    };
    let report = boxwise_bench::net::run(&spec, progress)?;
    if report.interrupted && report.results.is_empty() && !a.json {
        eprintln!("{NOTHING_YET}");
        return Ok(ExitCode::from(130));
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report::bench::net(&report));
    }
    Ok(finish(report.interrupted))
}

fn io(a: BenchIoArgs) -> anyhow::Result<ExitCode> {
    let buffers = match a.buffers.trim() {
        "none" | "" => Vec::new(),
        list => {
            boxwise_bench::spec::parse_sizes(list).map_err(|e| anyhow::anyhow!("--buffers: {e}"))?
        }
    };
    let mut spec = IoSpec {
        blocks: a.block,
        syncs: a.sync,
        duration: a.duration,
        file_bytes: a.file_size,
        buffers,
        ..IoSpec::default()
    };
    if !a.dir.is_empty() {
        spec.dirs = a.dir;
    }
    let report = boxwise_bench::io::run(&spec, progress)?;
    if report.interrupted && report.results.is_empty() && !a.json {
        eprintln!("{NOTHING_YET}");
        return Ok(ExitCode::from(130));
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report::bench::io(&report, report::fit::width()));
    }
    Ok(finish(report.interrupted))
}
