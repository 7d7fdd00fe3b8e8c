//! One `GODEBUG=schedtrace=X` line (`schedtrace` in `runtime/proc.go`), printed by sysmon
//! every X ms:
//!
//! ```text
//! go1.19:  SCHED 100ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=1 [1 0]
//! go1.21+: SCHED 0ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 needspinning=1 idlethreads=2 runqueue=0 [0 0]
//! go1.25+: SCHED 258ms: gomaxprocs=2 ... runqueue=0 [ 0 1 ] schedticks=[ 12 15 ]
//! ```
//!
//! With `scheddetail=1` the bracket list is replaced by `gcwaiting=... stopwait=...` and
//! followed by indented `P<i>:`, `M<i>:` and `G<i>:` lines; the `P` lines' `runqsize=`
//! fills in the per-P run queues (see [`parse_p_detail`]). Fields are read by name, so a
//! field added later is ignored rather than breaking the line.

use serde::Serialize;

use crate::cursor::Cursor;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchedSample {
    /// 1-based line number in the input.
    pub line: usize,
    /// Milliseconds since the first schedtrace line (not since program start).
    pub at_ms: u64,
    pub gomaxprocs: u32,
    pub idle_procs: u32,
    pub threads: u32,
    pub spinning_threads: u32,
    /// Go 1.21+ only.
    pub need_spinning: Option<u32>,
    pub idle_threads: u32,
    /// Goroutines in the global run queue.
    pub global_runqueue: u32,
    /// Goroutines in each P's local run queue; `None` when the line had no list and no
    /// `P<i>:` detail lines followed.
    pub local_runqueues: Option<Vec<u32>>,
    /// Printed with `scheddetail=1`.
    pub detailed: bool,
}

impl SchedSample {
    /// Goroutines waiting to run: global plus local run queues.
    pub fn runnable(&self) -> u32 {
        let local: u32 = self.local_runqueues.iter().flatten().sum();
        self.global_runqueue.saturating_add(local)
    }
}

/// Parses a schedtrace line that starts at `SCHED `. `None` when it is not one.
pub fn parse(s: &str, line: usize) -> Option<SchedSample> {
    let mut c = Cursor::new(s);
    c.expect("SCHED ")?;
    let at_ms = c.uint()?;
    c.expect("ms:")?;
    let mut fields = [None::<u32>; 7];
    const NAMES: [&str; 7] = [
        "gomaxprocs",
        "idleprocs",
        "threads",
        "spinningthreads",
        "needspinning",
        "idlethreads",
        "runqueue",
    ];
    let mut local_runqueues = None;
    let mut detailed = false;
    loop {
        c.skip_spaces();
        let Some(b) = c.peek() else { break };
        if b == b'[' {
            // The per-P list: `[0 0]` or (Go 1.25+) `[ 0 0 ]`.
            c.expect("[")?;
            let mut qs = Vec::new();
            loop {
                c.skip_spaces();
                if c.eat("]") {
                    break;
                }
                qs.push(c.u32()?);
            }
            local_runqueues = Some(qs);
            continue;
        }
        let rest = c.rest();
        let eq = rest.find('=')?;
        let key = &rest[..eq];
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        c.expect(key)?;
        c.expect("=")?;
        if let Some(i) = NAMES.iter().position(|n| *n == key) {
            fields[i] = Some(c.u32()?);
        } else {
            if matches!(
                key,
                "gcwaiting" | "stopwait" | "sysmonwait" | "nmidlelocked"
            ) {
                detailed = true;
            }
            skip_value(&mut c)?;
        }
    }
    let [
        Some(gomaxprocs),
        Some(idle_procs),
        Some(threads),
        Some(spinning_threads),
        need_spinning,
        Some(idle_threads),
        Some(global_runqueue),
    ] = fields
    else {
        return None;
    };
    Some(SchedSample {
        line,
        at_ms,
        gomaxprocs,
        idle_procs,
        threads,
        spinning_threads,
        need_spinning,
        idle_threads,
        global_runqueue,
        local_runqueues,
        detailed,
    })
}

/// Skips a value we do not use: a bracketed list (`schedticks=[ 1 2 ]`) or one word.
fn skip_value(c: &mut Cursor) -> Option<()> {
    let rest = c.rest();
    let len = if rest.starts_with('[') {
        rest.find(']')? + 1
    } else {
        rest.find(' ').unwrap_or(rest.len())
    };
    c.expect(&rest[..len])
}

/// From a `scheddetail=1` P line (`  P0: status=1 schedtick=287 ... runqsize=2 ...`): the P
/// index and its local run-queue length.
pub fn parse_p_detail(s: &str) -> Option<(usize, u32)> {
    let mut c = Cursor::new(s.trim_start());
    c.expect("P")?;
    let idx = usize::try_from(c.uint()?).ok()?;
    c.expect(":")?;
    let rest = c.rest();
    let at = rest.find(" runqsize=")? + " runqsize=".len();
    let q = Cursor::new(&rest[at..]).u32()?;
    Some((idx, q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go119_line() {
        let s = parse("SCHED 100ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=1 [1 0]", 7).unwrap();
        assert_eq!(
            s,
            SchedSample {
                line: 7,
                at_ms: 100,
                gomaxprocs: 2,
                idle_procs: 0,
                threads: 5,
                spinning_threads: 0,
                need_spinning: None,
                idle_threads: 1,
                global_runqueue: 1,
                local_runqueues: Some(vec![1, 0]),
                detailed: false,
            }
        );
        assert_eq!(s.runnable(), 2);
    }

    #[test]
    fn go125_spaced_brackets_and_schedticks() {
        let s = parse("SCHED 258ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=1 needspinning=1 idlethreads=2 runqueue=3 [ 0 4 ] schedticks=[ 12 15 ]", 1).unwrap();
        assert_eq!(
            (s.need_spinning, s.local_runqueues.as_deref(), s.runnable()),
            (Some(1), Some(&[0, 4][..]), 7)
        );
    }

    #[test]
    fn detail_header_and_p_lines() {
        let s = parse("SCHED 206ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 needspinning=1 idlethreads=2 runqueue=6 gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false", 1).unwrap();
        assert!(s.detailed);
        assert_eq!((s.global_runqueue, s.local_runqueues), (6, None));
        assert_eq!(
            parse_p_detail(
                "  P1: status=1 schedtick=218 syscalltick=0 m=4 runqsize=3 gfreecnt=0 timerslen=0"
            ),
            Some((1, 3))
        );
        assert_eq!(parse_p_detail("  M4: p=1 curg=18"), None);
    }

    #[test]
    fn rejects_incomplete_lines() {
        assert!(parse("SCHED 0ms: gomaxprocs=2 idleprocs=0 threads=4", 1).is_none());
        assert!(parse("SCHED 0ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=0 idlethreads=1 runqueue=0 [0 0", 1).is_none());
        assert!(parse("SCHEDULE: tomorrow", 1).is_none());
    }
}
