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

fn finish(interrupted: bool) -> ExitCode {
    if interrupted {
        eprintln!("boxwise: interrupted; the results so far are above");
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    }
}

fn net(a: BenchNetArgs) -> anyhow::Result<ExitCode> {
    let spec = NetSpec {
        modes: a.modes,
        size: a.size,
        duration: a.duration,
    };
    let report = boxwise_bench::net::run(&spec, progress)?;
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
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report::bench::io(&report, report::fit::width()));
    }
    Ok(finish(report.interrupted))
}
