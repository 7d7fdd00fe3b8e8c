//! `boxwise gctrace [FILE|-]`: read a captured GODEBUG=gctrace=1 stream, summarise it,
//! optionally plot it.

use std::fs;
use std::io::{self, BufRead, Read};
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
    let (name, bytes) = match file.filter(|p| p.as_os_str() != "-") {
        Some(p) => {
            let name = p.display().to_string();
            let f = open_trace(p).with_context(|| format!("cannot read {name}"))?;
            let bytes = read_capped(io::BufReader::new(f), &name)?;
            (name, bytes)
        }
        None => {
            let name = "<stdin>".to_string();
            let bytes = read_capped(io::stdin().lock(), &name)?;
            (name, bytes)
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

/// Longest line a trace may hold: gctrace and schedtrace lines are a few hundred bytes (a
/// schedtrace line lists every P's run queue, about 3 KiB with 1024 Ps); a longer line means
/// the input is not a trace (`/dev/zero`, a binary file).
pub(super) const MAX_LINE: usize = 64 << 10;
/// Most trace text read: days of gctrace=1 fit; more is a capture to cut down first.
pub(super) const MAX_TRACE: usize = 512 << 20;

/// Open a trace file without blocking: a FIFO is opened non-blocking (one nobody writes to
/// then reads as empty instead of hanging in open) and read blocking from there, so
/// `<(cmd)` still works; directories and devices are refused.
fn open_trace(p: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let kind = fs::metadata(p)?.file_type();
    if kind.is_file() {
        return fs::File::open(p);
    }
    if !kind.is_fifo() {
        let what = if kind.is_dir() {
            "a directory"
        } else {
            "not a regular file or a pipe (a socket or device)"
        };
        return Err(io::Error::new(io::ErrorKind::InvalidInput, what));
    }
    let f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(p)?;
    nix::fcntl::fcntl(
        &f,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
    )
    .map_err(io::Error::from)?;
    Ok(f)
}

/// Read lines up to [`MAX_LINE`] each and [`MAX_TRACE`] in all; past either, one error that
/// names the line.
fn read_capped(mut r: impl io::BufRead, name: &str) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut line_no = 0usize;
    loop {
        let n = (&mut r)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut bytes)
            .with_context(|| format!("cannot read {name}"))?;
        if n == 0 {
            return Ok(bytes);
        }
        line_no += 1;
        if n > MAX_LINE && bytes.last() != Some(&b'\n') {
            bail!(
                "{name}:{line_no}: a line longer than {} KiB: not a GODEBUG trace (its lines are \
                 under 4 KiB)",
                MAX_LINE >> 10
            );
        }
        if bytes.len() > MAX_TRACE {
            bail!(
                "{name}:{line_no}: more than {} MiB of trace; cut the capture to the part you need",
                MAX_TRACE >> 20
            );
        }
    }
}
