//! GOMAXPROCS over time (`run --track-gomaxprocs`): the Go runtime's own `schedtrace`
//! lines (`SCHED 1004ms: gomaxprocs=2 ...`) read off the workload's stderr as they arrive,
//! so a run shows whether the runtime followed a limit changed under it (Go 1.25+ does,
//! older Go never does). Pure: the caller feeds lines with the time each arrived.

use serde::Serialize;

/// How often the runtime prints a line when boxwise turns the trace on, in ms: once a
/// second, as often as Go 1.25+ re-reads its CPU limit.
pub const PERIOD_MS: u32 = 1000;

/// One point of the timeline: from `t_seconds` after the command started, GOMAXPROCS was
/// `gomaxprocs` (until the next point).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub t_seconds: f64,
    pub gomaxprocs: u32,
}

/// The GOMAXPROCS values seen, one point per change (the first sample included).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    pub points: Vec<Point>,
}

impl Timeline {
    /// Read one stderr line that arrived `t_seconds` after the start; true when it was a
    /// schedtrace line (whether or not the value changed).
    pub fn observe(&mut self, t_seconds: f64, line: &str) -> bool {
        let Some(n) = gomaxprocs_in(line) else {
            return false;
        };
        if self.points.last().map(|p| p.gomaxprocs) != Some(n) {
            self.points.push(Point {
                t_seconds,
                gomaxprocs: n,
            });
        }
        true
    }
}

/// The `gomaxprocs=` of a schedtrace line, wherever in the line it starts (other output
/// may have been written just before it without a newline).
pub fn gomaxprocs_in(line: &str) -> Option<u32> {
    let at = line.find("SCHED ")?;
    boxwise_trace::sched::parse(line[at..].trim_end_matches(['\r', '\n']), 0).map(|s| s.gomaxprocs)
}

/// The GODEBUG to run with: `schedtrace=1000` appended to the one in force, or `None`
/// when that already asks for a schedtrace (the user's period is kept, and their lines are
/// theirs to see).
pub fn godebug_with_schedtrace(in_force: Option<&str>) -> Option<String> {
    match in_force {
        Some(g) if g.split(',').any(|kv| kv.trim().starts_with("schedtrace=")) => None,
        Some(g) if !g.trim().is_empty() => Some(format!("{g},schedtrace={PERIOD_MS}")),
        _ => Some(format!("schedtrace={PERIOD_MS}")),
    }
}

/// Whether boxwise keeps `line` from the user's stderr: only the schedtrace lines it asked
/// for itself, and only whole ones (a line that carries other output too is passed on).
pub fn hidden(line: &str, added_by_boxwise: bool) -> bool {
    added_by_boxwise && line.starts_with("SCHED ") && gomaxprocs_in(line).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GO125: &str = "SCHED 1004ms: gomaxprocs=2 idleprocs=2 threads=5 spinningthreads=0 \
                         needspinning=0 idlethreads=2 runqueue=0 [ 0 0 ] schedticks=[ 3 4 ]";
    const GO119: &str = "SCHED 0ms: gomaxprocs=1 idleprocs=0 threads=3 spinningthreads=0 \
                         idlethreads=0 runqueue=0 [0]";

    #[test]
    fn keeps_one_point_per_change() {
        let mut t = Timeline::default();
        assert!(!t.observe(0.1, "hello"));
        assert!(t.observe(0.2, GO125));
        assert!(t.observe(1.2, GO125));
        assert!(t.observe(2.2, GO119));
        assert!(t.observe(3.2, &format!("partial output{GO125}")));
        assert_eq!(
            t.points,
            [
                Point {
                    t_seconds: 0.2,
                    gomaxprocs: 2
                },
                Point {
                    t_seconds: 2.2,
                    gomaxprocs: 1
                },
                Point {
                    t_seconds: 3.2,
                    gomaxprocs: 2
                },
            ]
        );
        // Not a schedtrace line, or a broken one.
        assert_eq!(gomaxprocs_in("SCHED 10ms: gomaxprocs=x"), None);
        assert_eq!(gomaxprocs_in("gc 1 @0.1s 2%: ..."), None);
    }

    #[test]
    fn godebug_keeps_the_users_settings() {
        assert_eq!(
            godebug_with_schedtrace(None).as_deref(),
            Some("schedtrace=1000")
        );
        assert_eq!(
            godebug_with_schedtrace(Some("")).as_deref(),
            Some("schedtrace=1000")
        );
        assert_eq!(
            godebug_with_schedtrace(Some("gctrace=1")).as_deref(),
            Some("gctrace=1,schedtrace=1000")
        );
        assert_eq!(
            godebug_with_schedtrace(Some("gctrace=1,schedtrace=200")),
            None
        );
    }

    #[test]
    fn only_boxwise_own_whole_lines_are_hidden() {
        assert!(hidden(GO125, true));
        assert!(!hidden(GO125, false));
        assert!(!hidden(&format!("x{GO125}"), true));
        assert!(!hidden("SCHED is a word", true));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let mut t = Timeline::default();
            t.observe(0.0, &s);
            let _ = hidden(&s, true);
            let _ = godebug_with_schedtrace(Some(&s));
        }

        #[test]
        fn any_value_is_read_back(n in 1u32..100_000, ms in 0u64..1_000_000) {
            let line = format!("SCHED {ms}ms: gomaxprocs={n} idleprocs=0 threads=3 spinningthreads=0 idlethreads=0 runqueue=0 [0]");
            prop_assert_eq!(gomaxprocs_in(&line), Some(n));
        }
    }
}
