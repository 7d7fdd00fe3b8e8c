//! `boxwise schedtrace [FILE|-]`: read a captured GODEBUG=schedtrace=X stream and
//! summarise the scheduler's state over time.

use std::process::ExitCode;

use anyhow::bail;
use boxwise_trace::sched_summary::summarize;

use super::gctrace::read_trace;
use crate::cli::SchedtraceArgs;
use crate::report;

pub fn run(args: SchedtraceArgs) -> anyhow::Result<ExitCode> {
    let (name, trace) = read_trace(args.file.as_deref())?;
    let Some(summary) = summarize(&trace.sched) else {
        bail!(
            "{name}: no schedtrace lines among {} lines (run the program with GODEBUG=schedtrace=100 and capture its stderr)",
            trace.lines
        );
    };
    if args.json {
        println!("{}", report::trace::sched_json(&name, &trace, &summary)?);
    } else {
        print!(
            "{}",
            report::fit::fit(&report::trace::sched_text(&name, &trace, &summary))
        );
    }
    Ok(ExitCode::SUCCESS)
}
