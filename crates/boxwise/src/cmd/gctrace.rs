//! `boxwise gctrace [FILE|-]`: read a captured GODEBUG=gctrace=1 stream, summarise it,
//! optionally plot it.

use std::fs;
use std::io::{self, Read};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use boxwise_trace::Trace;
use boxwise_trace::limits::Limits;
use boxwise_trace::summary::{summarize, summarize_scav};

use crate::cli::GctraceArgs;
use crate::report;

pub fn run(args: GctraceArgs) -> anyhow::Result<ExitCode> {
    let (name, trace) = read_trace(args.file.as_deref())?;
    let limits = Limits {
        gomemlimit_bytes: args.gomemlimit,
        memory_limit_bytes: args.memory_limit,
    };
    let Some(gc) = summarize(&trace.gc, limits) else {
        bail!(
            "{name}: no gctrace lines among {} lines (run the program with GODEBUG=gctrace=1 and capture its stderr)",
            trace.lines
        );
    };
    let scav = summarize_scav(&trace.scav);
    if let Some(path) = &args.plot {
        let svg = report::trace::gc_plot(&trace.gc, limits);
        fs::write(path, svg).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        println!(
            "{}",
            report::trace::gc_json(&name, &trace, &gc, scav.as_ref())?
        );
    } else {
        print!(
            "{}",
            report::fit::fit(&report::trace::gc_text(&name, &trace, &gc, scav.as_ref()))
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads FILE (or stdin for `-` or none) and parses it, warning on stderr about lines that
/// looked like trace lines but did not parse. Returns the name to use in messages.
pub(super) fn read_trace(file: Option<&Path>) -> anyhow::Result<(String, Trace)> {
    let mut bytes = Vec::new();
    let name = match file.filter(|p| p.as_os_str() != "-") {
        Some(p) => {
            bytes = fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            p.display().to_string()
        }
        None => {
            io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .context("cannot read stdin")?;
            "<stdin>".to_string()
        }
    };
    // Program output may hold any bytes; trace lines are ASCII.
    let trace = Trace::parse(&String::from_utf8_lossy(&bytes));
    for m in &trace.malformed {
        eprintln!(
            "boxwise: warning: {name}:{}: malformed {} line: {}",
            m.line, m.kind, m.text
        );
    }
    let unshown = trace.malformed_count - trace.malformed.len();
    if unshown > 0 {
        eprintln!("boxwise: warning: {name}: {unshown} more malformed trace lines");
    }
    Ok((name, trace))
}
