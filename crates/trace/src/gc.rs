//! One `GODEBUG=gctrace=1` line: what the runtime prints at the end of each GC cycle
//! (`gcMarkTermination` in `runtime/mgc.go`). The token layout is the same from Go 1.19
//! to 1.24 (and in the 1.25 docs):
//!
//! ```text
//! gc 7 @0.172s 1%: 1.3+6.0+0.75 ms clock, 2.7+0/2.0/0+1.5 ms cpu, 94->97->13 MB, 109 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)
//! ```
//!
//! Older lines without `stacks`/`globals` (before 1.18) parse too, and any further
//! `N MB <what>` field a later Go adds before `N P` is skipped rather than rejected.

use serde::Serialize;

use crate::cursor::Cursor;

/// Wall-clock milliseconds of the three GC phases.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Clock {
    /// Stop-the-world sweep termination.
    pub sweep_term_ms: f64,
    /// Concurrent mark and scan (the program keeps running).
    pub mark_ms: f64,
    /// Stop-the-world mark termination.
    pub mark_term_ms: f64,
}

/// CPU milliseconds spent by the GC, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cpu {
    pub sweep_term_ms: f64,
    /// Mark assists: allocating goroutines made to help.
    pub assist_ms: f64,
    /// Dedicated and fractional background mark workers.
    pub background_ms: f64,
    /// Mark work on otherwise idle Ps (costs nothing the program wanted).
    pub idle_ms: f64,
    pub mark_term_ms: f64,
}

/// One GC cycle as the runtime reported it. Sizes are MiB truncated (`>>20`), as printed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GcCycle {
    /// 1-based line number in the input.
    pub line: usize,
    /// The cycle number (`gc N`).
    pub gc: u64,
    /// Seconds since the program started, at the start of the cycle.
    pub at_s: f64,
    /// The runtime's own cumulative GC CPU percentage (integer, as printed).
    pub runtime_cpu_percent: u32,
    pub clock: Clock,
    pub cpu: Cpu,
    /// Heap in use when the cycle started.
    pub heap_start_mib: u64,
    /// Heap in use when the cycle ended.
    pub heap_end_mib: u64,
    /// Heap marked live by this cycle.
    pub heap_live_mib: u64,
    /// The heap goal for this cycle.
    pub heap_goal_mib: u64,
    /// Scannable stacks (Go 1.18+), absent in older lines.
    pub stacks_mib: Option<u64>,
    /// Scannable globals (Go 1.18+), absent in older lines.
    pub globals_mib: Option<u64>,
    /// GOMAXPROCS when the cycle started.
    pub procs: u32,
    /// Forced by `runtime.GC()` or `debug.FreeOSMemory()`.
    pub forced: bool,
}

impl GcCycle {
    /// Stop-the-world time: sweep termination plus mark termination, wall clock.
    pub fn pause_ms(&self) -> f64 {
        self.clock.sweep_term_ms + self.clock.mark_term_ms
    }

    /// Wall-clock length of the whole cycle.
    pub fn wall_ms(&self) -> f64 {
        self.clock.sweep_term_ms + self.clock.mark_ms + self.clock.mark_term_ms
    }

    /// GC CPU time taken from the program: everything except idle mark work, as Go 1.21+
    /// counts it for its own percentage.
    pub fn cpu_ms(&self) -> f64 {
        let c = &self.cpu;
        c.sweep_term_ms + c.assist_ms + c.background_ms + c.mark_term_ms
    }

    /// Seconds since start at which the cycle ended.
    pub fn end_s(&self) -> f64 {
        self.at_s + self.wall_ms() / 1000.0
    }
}

/// Parses a gctrace line that starts at `gc `. `None` when it is not one.
///
/// Text after the `N P` field other than ` (forced)` is ignored: it is program output
/// that landed on the same line.
pub fn parse(s: &str, line: usize) -> Option<GcCycle> {
    let mut c = Cursor::new(s);
    c.expect("gc ")?;
    let gc = c.uint()?;
    c.expect(" @")?;
    let at_s = c.decimal()?;
    c.expect("s ")?;
    let runtime_cpu_percent = c.u32()?;
    c.expect("%: ")?;
    let clock = Clock {
        sweep_term_ms: c.decimal()?,
        mark_ms: {
            c.expect("+")?;
            c.decimal()?
        },
        mark_term_ms: {
            c.expect("+")?;
            c.decimal()?
        },
    };
    c.expect(" ms clock, ")?;
    let sweep_term_ms = c.decimal()?;
    c.expect("+")?;
    let assist_ms = c.decimal()?;
    c.expect("/")?;
    let background_ms = c.decimal()?;
    c.expect("/")?;
    let idle_ms = c.decimal()?;
    c.expect("+")?;
    let mark_term_ms = c.decimal()?;
    c.expect(" ms cpu, ")?;
    let heap_start_mib = c.uint()?;
    c.expect("->")?;
    let heap_end_mib = c.uint()?;
    c.expect("->")?;
    let heap_live_mib = c.uint()?;
    c.expect(" MB, ")?;
    let heap_goal_mib = c.uint()?;
    c.expect(" MB goal, ")?;
    let (mut stacks_mib, mut globals_mib) = (None, None);
    let procs = loop {
        let n = c.uint()?;
        if c.eat(" P") {
            break u32::try_from(n).ok()?;
        }
        c.expect(" MB ")?;
        if c.eat("stacks, ") {
            stacks_mib = Some(n);
        } else if c.eat("globals, ") {
            globals_mib = Some(n);
        } else {
            // A field a later Go added: `N MB <words>, `.
            let rest = c.rest();
            let skip = rest.find(", ")?;
            if !rest[..skip]
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || b == b' ')
            {
                return None;
            }
            c.expect(&rest[..skip + 2])?;
        }
    };
    let forced = c.eat(" (forced)");
    Some(GcCycle {
        line,
        gc,
        at_s,
        runtime_cpu_percent,
        clock,
        cpu: Cpu {
            sweep_term_ms,
            assist_ms,
            background_ms,
            idle_ms,
            mark_term_ms,
        },
        heap_start_mib,
        heap_end_mib,
        heap_live_mib,
        heap_goal_mib,
        stacks_mib,
        globals_mib,
        procs,
        forced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go123_forced_line() {
        let l = "gc 62 @1.501s 3%: 0.019+2.3+0.005 ms clock, 0.039+0/1.2/0+0.011 ms cpu, 39->39->39 MB, 47 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)";
        let g = parse(l, 9).unwrap();
        assert_eq!(
            (g.line, g.gc, g.at_s, g.runtime_cpu_percent),
            (9, 62, 1.501, 3)
        );
        assert_eq!(
            g.clock,
            Clock {
                sweep_term_ms: 0.019,
                mark_ms: 2.3,
                mark_term_ms: 0.005
            }
        );
        assert_eq!(
            g.cpu,
            Cpu {
                sweep_term_ms: 0.039,
                assist_ms: 0.0,
                background_ms: 1.2,
                idle_ms: 0.0,
                mark_term_ms: 0.011
            }
        );
        assert_eq!(
            (
                g.heap_start_mib,
                g.heap_end_mib,
                g.heap_live_mib,
                g.heap_goal_mib
            ),
            (39, 39, 39, 47)
        );
        assert_eq!(
            (g.stacks_mib, g.globals_mib, g.procs, g.forced),
            (Some(0), Some(0), 2, true)
        );
        assert!((g.pause_ms() - 0.024).abs() < 1e-12);
        assert!((g.cpu_ms() - 1.25).abs() < 1e-12);
    }

    #[test]
    fn pre_118_line_without_stacks_and_globals() {
        let g = parse("gc 5 @0.876s 1%: 0.012+1.5+0.045 ms clock, 0.024+0.5/1.2/0.18+0.090 ms cpu, 4->5->2 MB, 5 MB goal, 8 P", 1).unwrap();
        assert_eq!(
            (g.stacks_mib, g.globals_mib, g.procs, g.forced),
            (None, None, 8, false)
        );
        assert_eq!(g.cpu.idle_ms, 0.18);
    }

    #[test]
    fn unknown_extra_size_field_is_skipped() {
        let g = parse("gc 3 @10.000s 0%: 1+2+3 ms clock, 1+2/3/4+5 ms cpu, 10->11->5 MB, 12 MB goal, 1 MB stacks, 2 MB globals, 7 MB weak handles, 16 P", 1).unwrap();
        assert_eq!(
            (g.stacks_mib, g.globals_mib, g.procs),
            (Some(1), Some(2), 16)
        );
    }

    #[test]
    fn rejects_truncated_and_foreign_lines() {
        let full = "gc 1 @0.001s 4%: 0.044+1.2+0.005 ms clock, 0.089+0.072/0.13/0.18+0.011 ms cpu, 3->4->3 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P";
        assert!(parse(full, 1).is_some());
        for cut in 0..full.len() - 3 {
            assert!(
                parse(&full[..cut], 1).is_none(),
                "accepted {:?}",
                &full[..cut]
            );
        }
        assert!(parse("gc stats: 3 cycles", 1).is_none());
        assert!(parse("gc 1 @0.001s -4%: 1+1+1 ms clock", 1).is_none());
    }

    #[test]
    fn trailing_program_output_is_ignored() {
        let g = parse("gc 2 @0.002s 5%: 0.01+0.2+0.003 ms clock, 0.02+0/0.1/0+0.006 ms cpu, 4->4->1 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 Phello", 1).unwrap();
        assert_eq!((g.procs, g.forced), (2, false));
    }
}
