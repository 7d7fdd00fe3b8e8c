//! The table: raw per-syscall counters from the kernel turned into strace -c-like rows.

use serde::Serialize;

use crate::asm::{LAT_SLOTS, RESTART_SLOT};
use crate::hist;
use crate::names::{Arch, errno_name};

/// What the kernel counted for one syscall number, summed over CPUs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawCounts {
    pub nr: u32,
    pub calls: u64,
    pub errors: u64,
    pub time_ns: u64,
    pub max_ns: u64,
    /// (errno slot, count): see `asm::ERRNO_SLOTS`.
    pub errnos: Vec<(u32, u64)>,
    /// Log2 buckets, when `--latency` was on.
    pub latency: Option<Vec<u64>>,
}

/// One thread's share (`--by-thread`): calls that returned, and their time.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ThreadRow {
    pub tid: u32,
    pub calls: u64,
    pub time_ns: u64,
}

/// Threads sorted by time, then calls, then tid.
pub fn threads(raw: &[(u32, u64, u64)]) -> Vec<ThreadRow> {
    let mut v: Vec<ThreadRow> = raw
        .iter()
        .map(|&(tid, calls, time_ns)| ThreadRow {
            tid,
            calls,
            time_ns,
        })
        .collect();
    v.sort_by(|a, b| (b.time_ns, b.calls, a.tid).cmp(&(a.time_ns, a.calls, b.tid)));
    v
}

/// One row of the table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    pub syscall: String,
    pub nr: u32,
    pub calls: u64,
    pub errors: u64,
    pub time_ns: u64,
    pub mean_ns: u64,
    pub max_ns: u64,
    pub percent_time: f64,
    pub errnos: Vec<ErrnoCount>,
    pub latency: Option<Latency>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrnoCount {
    /// `ENOENT`; `E127+` for the shared bucket of errno 127 and above.
    pub errno: String,
    pub count: u64,
}

/// Percentiles from the log2 histogram (upper bounds of their buckets, capped at max).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Latency {
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
    /// (lower bound ns, count) for non-empty buckets.
    pub buckets: Vec<Bucket>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Bucket {
    pub from_ns: u64,
    pub count: u64,
}

/// All rows, sorted by time (then calls), and their totals.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Table {
    pub arch: Arch,
    pub rows: Vec<Row>,
    pub total_calls: u64,
    pub total_errors: u64,
    pub total_time_ns: u64,
}

impl Table {
    pub fn build(arch: Arch, raw: &[RawCounts]) -> Table {
        // rt_sigreturn "returns" the interrupted code's register, not a result of its
        // own: a negative value there is not a failure.
        let raw: Vec<RawCounts> = raw
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if matches!(arch.name(r.nr).as_str(), "rt_sigreturn" | "sigreturn") {
                    r.errors = 0;
                    r.errnos.clear();
                }
                r
            })
            .collect();
        let raw = &raw[..];
        let kept = raw.iter().filter(|r| r.calls > 0 || r.errors > 0);
        let total_time_ns: u64 = kept.map(|r| r.time_ns).fold(0, u64::saturating_add);
        let mut rows: Vec<Row> = raw
            .iter()
            .filter(|r| r.calls > 0 || r.errors > 0)
            .map(|r| Row {
                syscall: arch.name(r.nr),
                nr: r.nr,
                calls: r.calls,
                errors: r.errors,
                time_ns: r.time_ns,
                mean_ns: r.time_ns.checked_div(r.calls).unwrap_or(0),
                max_ns: r.max_ns,
                percent_time: if total_time_ns == 0 {
                    0.0
                } else {
                    100.0 * r.time_ns as f64 / total_time_ns as f64
                },
                errnos: errnos(&r.errnos),
                latency: r.latency.as_deref().and_then(|b| latency(b, r.max_ns)),
            })
            .collect();
        rows.sort_by(|a, b| {
            (b.time_ns, b.calls, &a.syscall).cmp(&(a.time_ns, a.calls, &b.syscall))
        });
        Table {
            arch,
            total_calls: rows.iter().map(|r| r.calls).fold(0, u64::saturating_add),
            total_errors: rows.iter().map(|r| r.errors).fold(0, u64::saturating_add),
            total_time_ns,
            rows,
        }
    }

    /// The row for a syscall name, if it was called.
    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.syscall == name)
    }

    /// Calls of `name` (0 when absent).
    pub fn calls(&self, name: &str) -> u64 {
        self.row(name).map_or(0, |r| r.calls)
    }
}

fn errnos(raw: &[(u32, u64)]) -> Vec<ErrnoCount> {
    let mut v: Vec<ErrnoCount> = raw
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|&(e, n)| ErrnoCount {
            errno: slot_name(e),
            count: n,
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.errno.cmp(&b.errno)));
    v
}

/// The name of an errno slot (see `asm::ERRNO_SLOTS`).
fn slot_name(slot: u32) -> String {
    const RESTARTS: [&str; 5] = [
        "ERESTARTSYS",
        "ERESTARTNOINTR",
        "ERESTARTNOHAND",
        "ENOIOCTLCMD",
        "ERESTART_RESTARTBLOCK",
    ];
    match slot {
        s if s < RESTART_SLOT => errno_name(s),
        s if s < RESTART_SLOT + 5 => RESTARTS[(s - RESTART_SLOT) as usize].to_string(),
        _ => "other".to_string(),
    }
}

fn latency(buckets: &[u64], max_ns: u64) -> Option<Latency> {
    let buckets = &buckets[..buckets.len().min(LAT_SLOTS as usize)];
    Some(Latency {
        p50_ns: hist::quantile(buckets, 0.5, max_ns)?,
        p99_ns: hist::quantile(buckets, 0.99, max_ns)?,
        max_ns,
        buckets: buckets
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(k, &n)| Bucket {
                from_ns: if k == 0 { 0 } else { 1 << k },
                count: n,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn raw(nr: u32, calls: u64, time_ns: u64) -> RawCounts {
        RawCounts {
            nr,
            calls,
            time_ns,
            max_ns: time_ns,
            ..Default::default()
        }
    }

    #[test]
    fn sorted_by_time_with_percent_and_mean() {
        let t = Table::build(
            Arch::X86_64,
            &[raw(1, 400, 4000), raw(202, 10, 6000), raw(0, 0, 0)],
        );
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].syscall, "futex");
        assert_eq!(t.rows[0].mean_ns, 600);
        assert!((t.rows[0].percent_time - 60.0).abs() < 1e-9);
        assert_eq!(t.total_calls, 410);
        assert_eq!(t.calls("write"), 400);
    }

    #[test]
    fn errnos_named_and_sorted() {
        let mut r = raw(42, 5, 10);
        r.errors = 5;
        r.errnos = vec![(111, 3), (115, 0), (11, 2), (127, 0), (200, 1), (255, 1)];
        let t = Table::build(Arch::X86_64, &[r]);
        let e: Vec<_> = t.rows[0]
            .errnos
            .iter()
            .map(|e| (e.errno.as_str(), e.count))
            .collect();
        assert_eq!(
            e,
            vec![
                ("ECONNREFUSED", 3),
                ("EAGAIN", 2),
                ("ERESTARTSYS", 1),
                ("other", 1)
            ]
        );
    }

    #[test]
    fn rt_sigreturn_never_fails() {
        // Its "return value" is the interrupted code's register.
        let mut r = raw(15, 10, 10);
        r.errors = 4;
        r.errnos = vec![(4, 4)];
        let t = Table::build(Arch::X86_64, &[r]);
        assert_eq!(t.rows[0].syscall, "rt_sigreturn");
        assert_eq!((t.rows[0].errors, t.total_errors), (0, 0));
        assert!(t.rows[0].errnos.is_empty());
    }

    proptest! {
        #[test]
        fn totals_and_order_hold(rs in proptest::collection::vec((0u32..512, 0u64..1_000_000, 0u64..1_000_000_000), 0..40)) {
            let raws: Vec<RawCounts> = rs.iter().map(|&(nr, c, t)| raw(nr, c, t)).collect();
            let t = Table::build(Arch::Aarch64, &raws);
            prop_assert_eq!(t.total_calls, t.rows.iter().map(|r| r.calls).sum::<u64>());
            for w in t.rows.windows(2) { prop_assert!(w[0].time_ns >= w[1].time_ns); }
            let pct: f64 = t.rows.iter().map(|r| r.percent_time).sum();
            prop_assert!(t.total_time_ns == 0 || (pct - 100.0).abs() < 1e-6);
            for r in &t.rows { prop_assert!(r.mean_ns <= r.time_ns); }
        }
    }
}
