//! GODEBUG trace lines from Go programs, read without Go: `gctrace=1` (one line per GC
//! cycle), `scavtrace=1` (scavenger) and `schedtrace=X` (scheduler, with or without
//! `scheddetail=1`), from Go 1.19 to 1.26.
//!
//! [`Trace::parse`] sorts every line of a captured stderr into cycles, scavenger lines and
//! scheduler samples; everything else (the program's own output) is counted and skipped,
//! including program text that landed on the same line as a trace line, or inside one
//! (the runtime writes a trace line in pieces, so a program line printed at the same
//! moment can split it in two: the halves are joined again). Lines that start
//! like a trace line but do not parse are kept as [`Malformed`], with their line number,
//! so the caller can warn. [`summary`] and [`sched_summary`] turn the result into the
//! numbers people look for. All of it is pure: no I/O.

#![forbid(unsafe_code)]

pub mod cursor;
pub mod gc;
pub mod limits;
pub mod scav;
pub mod sched;
pub mod sched_summary;
pub mod stats;
pub mod summary;

pub use gc::GcCycle;
pub use scav::ScavLine;
pub use sched::SchedSample;

use serde::Serialize;

/// At most this many malformed lines are kept as examples (all are counted).
const MALFORMED_KEPT: usize = 20;

/// Everything recognised in one captured stream.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Trace {
    pub gc: Vec<GcCycle>,
    pub scav: Vec<ScavLine>,
    pub sched: Vec<SchedSample>,
    /// `GC forced` lines: the runtime's 2-minute periodic GC announcing itself.
    pub periodic_gc_lines: usize,
    /// Indented `P<i>:`/`M<i>:`/`G<i>:` lines under a `scheddetail=1` sample.
    pub sched_detail_lines: usize,
    /// Trace lines found after program output on the same line.
    pub interleaved_lines: usize,
    /// Trace lines split in two by a program line printed in their middle, joined again
    /// (each counts the second half's line here).
    pub rejoined_lines: usize,
    /// Lines that are neither trace lines nor malformed ones: the program's output.
    pub other_lines: usize,
    pub malformed_count: usize,
    /// The first few malformed lines.
    pub malformed: Vec<Malformed>,
    pub lines: usize,
    /// A line that started like a trace line but did not parse, held back in case the
    /// next line is its other half.
    #[serde(skip)]
    pending: Option<(usize, String)>,
}

/// `scheddetail=1` P lines past this index are counted but not kept (no machine has more
/// Ps; a larger index is garbage that would cost memory).
const MAX_DETAIL_PS: usize = 1 << 16;

/// Broken lines longer than this are not tried for rejoining (it costs a parse per byte).
const REJOIN_MAX: usize = 512;

/// A line that starts like a trace line but does not parse.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Malformed {
    pub line: usize,
    /// `gctrace`, `scavtrace` or `schedtrace`.
    pub kind: &'static str,
    pub text: String,
}

/// What a trace line starts with; `text` must start with the marker and a digit to count
/// as an attempt at that kind of line.
const KINDS: [(&str, &str); 3] = [
    ("gc ", "gctrace"),
    ("scav ", "scavtrace"),
    ("SCHED ", "schedtrace"),
];

impl Trace {
    /// Reads every line of `text`.
    pub fn parse(text: &str) -> Trace {
        let mut t = Trace::default();
        for line in text.lines() {
            t.push_line(line);
        }
        t.finish();
        t
    }

    /// Adds one line (without its newline). Call [`Trace::finish`] after the last one.
    pub fn push_line(&mut self, raw: &str) {
        self.lines += 1;
        let n = self.lines;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some((pn, prev)) = self.pending.take() {
            if attempt_kind(line).is_none() && self.try_rejoin(&prev, line, pn) {
                self.rejoined_lines += 1;
                return;
            }
            self.settle(pn, &prev);
        }
        if self.try_trace(line, n) {
            return;
        }
        if KINDS.iter().any(|(marker, _)| line.starts_with(marker)) {
            self.pending = Some((n, line.to_string()));
            return;
        }
        self.classify_other(line, n);
    }

    /// Settles a held-back line at the end of the input.
    pub fn finish(&mut self) {
        if let Some((pn, prev)) = self.pending.take() {
            self.settle(pn, &prev);
        }
    }

    /// A broken line with no second half: malformed if it started like a trace line.
    fn settle(&mut self, n: usize, line: &str) {
        match attempt_kind(line) {
            Some((kind, _)) => {
                self.malformed_count += 1;
                if self.malformed.len() < MALFORMED_KEPT {
                    self.malformed.push(Malformed {
                        line: n,
                        kind,
                        text: line.chars().take(200).collect(),
                    });
                }
            }
            None => self.classify_other(line, n),
        }
    }

    /// Tries `prev[..k] + next` for each cut `k`, longest first: the program's line was
    /// printed after `prev[..k]`, and `next` is the rest of the trace line.
    fn try_rejoin(&mut self, prev: &str, next: &str, n: usize) -> bool {
        if prev.len() > REJOIN_MAX {
            return false;
        }
        let mut joined = String::with_capacity(prev.len() + next.len());
        (2..=prev.len())
            .rev()
            .filter(|&k| prev.is_char_boundary(k))
            .any(|k| {
                joined.clear();
                joined.push_str(&prev[..k]);
                joined.push_str(next);
                self.try_trace(&joined, n)
            })
    }

    fn classify_other(&mut self, line: &str, n: usize) {
        if line.trim_end() == "GC forced" {
            self.periodic_gc_lines += 1;
            return;
        }
        if self.try_detail(line) {
            self.sched_detail_lines += 1;
            return;
        }
        // Program output followed by a trace line with no newline between them.
        for (marker, _) in KINDS {
            let found = line
                .match_indices(marker)
                .filter(|&(i, _)| i > 0)
                .any(|(i, _)| self.try_trace(&line[i..], n));
            if found {
                self.interleaved_lines += 1;
                return;
            }
        }
        self.other_lines += 1;
    }

    /// Parses `s` as whichever trace line it starts like; true when it was one.
    fn try_trace(&mut self, s: &str, n: usize) -> bool {
        match s.as_bytes().first() {
            Some(b'g') => gc::parse(s, n).map(|g| self.gc.push(g)).is_some(),
            Some(b's') => scav::parse(s, n).map(|l| self.scav.push(l)).is_some(),
            Some(b'S') => sched::parse(s, n).map(|l| self.sched.push(l)).is_some(),
            _ => false,
        }
    }

    /// A `scheddetail=1` line under the last sample; `P` lines fill its run queues.
    fn try_detail(&mut self, line: &str) -> bool {
        let Some(last) = self.sched.last_mut().filter(|s| s.detailed) else {
            return false;
        };
        let body = line.trim_start();
        if body.len() == line.len() || !matches!(body.as_bytes().first(), Some(b'P' | b'M' | b'G'))
        {
            return false;
        }
        if let Some((p, q)) = sched::parse_p_detail(body) {
            // Grown to the P lines actually seen (never sized from the header's
            // gomaxprocs, which is only a number in the input), and capped.
            if p < last.gomaxprocs as usize && p < MAX_DETAIL_PS {
                let queues = last.local_runqueues.get_or_insert_with(Vec::new);
                if queues.len() <= p {
                    queues.resize(p + 1, 0);
                }
                queues[p] = q;
            }
        }
        true
    }
}

/// The kind of trace line `line` starts like (marker then a digit), if any.
fn attempt_kind(line: &str) -> Option<(&'static str, &'static str)> {
    KINDS.iter().find_map(|&(marker, kind)| {
        let rest = line.strip_prefix(marker)?;
        rest.as_bytes()
            .first()
            .is_some_and(u8::is_ascii_digit)
            .then_some((kind, marker))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GC1: &str = "gc 1 @0.001s 4%: 0.044+1.2+0.005 ms clock, 0.089+0.072/0.13/0.18+0.011 ms cpu, 3->4->3 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P";

    #[test]
    fn sorts_lines_by_kind() {
        let text = format!(
            "listening on :8080\r\n{GC1}\r\nscav 0 KiB work, 960 KiB total, 99% util\nGC forced\n\
             SCHED 0ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=1 idlethreads=0 runqueue=1 [0 0]\n\
             gc 2 @0.00\nrequest done{GC1}\ngc stats are fine\n"
        );
        let t = Trace::parse(&text);
        assert_eq!((t.gc.len(), t.scav.len(), t.sched.len()), (2, 1, 1));
        assert_eq!(
            (
                t.periodic_gc_lines,
                t.interleaved_lines,
                t.other_lines,
                t.lines
            ),
            (1, 1, 2, 8)
        );
        assert_eq!(t.malformed_count, 1);
        assert_eq!(
            t.malformed[0],
            Malformed {
                line: 6,
                kind: "gctrace",
                text: "gc 2 @0.00".into()
            }
        );
        assert_eq!(t.gc[1].line, 7);
    }

    #[test]
    fn rejoins_a_trace_line_split_by_program_output() {
        // Both captured from go1.19: the program's whole line landed inside the runtime's.
        let text = "gc 188 @gcload: tick 6 live=16 MiB\n\
            0.329s 9%: 0.035+0.17+0.032 ms clock, 0.071+0.032/0.033/0+0.065 ms cpu, 31->32->17 MB, 33 MB goal, 0 MB stacks, 0 MB globals, 2 P\n\
            gc gcload: tick 3 live=16 MiB\n\
            167 @0.202s 12%: 0.078+0.13+0.031 ms clock, 0.15+0.027/0.059/0+0.062 ms cpu, 33->34->16 MB, 34 MB goal, 0 MB stacks, 0 MB globals, 2 P\n\
            gc 5 @0.1\n\
            gc stats\n";
        let t = Trace::parse(text);
        assert_eq!(
            t.gc.iter().map(|g| (g.gc, g.line)).collect::<Vec<_>>(),
            vec![(188, 1), (167, 3)]
        );
        assert_eq!(t.gc[0].at_s, 0.329);
        assert_eq!(
            (t.rejoined_lines, t.malformed_count, t.other_lines),
            (2, 1, 1)
        );
        assert_eq!(t.malformed[0].line, 5);
    }

    #[test]
    fn scheddetail_p_lines_fill_run_queues() {
        let text = "SCHED 206ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 needspinning=1 idlethreads=2 runqueue=6 gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false\n  P0: status=1 schedtick=287 syscalltick=4 m=2 runqsize=0 gfreecnt=0 timerslen=1\n  P1: status=1 schedtick=218 syscalltick=0 m=4 runqsize=5 gfreecnt=0 timerslen=0\n  M4: p=1 curg=18 mallocing=0\n  G1: status=1(chan receive) m=nil lockedm=0\n  P7: status=1 runqsize=9\n";
        let t = Trace::parse(text);
        assert_eq!(t.sched.len(), 1);
        assert_eq!(t.sched[0].local_runqueues, Some(vec![0, 5]));
        assert_eq!(t.sched[0].runnable(), 11);
        assert_eq!(
            (t.sched_detail_lines, t.other_lines, t.malformed_count),
            (5, 0, 0)
        );
    }
}
