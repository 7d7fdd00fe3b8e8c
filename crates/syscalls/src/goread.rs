//! The Go reading: which rows of the table the Go runtime itself explains, and what they
//! say about the program. Each note names the runtime code that makes the calls (Go 1.23
//! source, Debian's golang-1.23-src, /usr/lib/go-1.23/src/runtime) so a reader can check.

use serde::Serialize;

use crate::model::Table;

/// What the caller knows about the process beyond the table.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    /// How long the trace ran.
    pub wall_seconds: f64,
    /// The process's GOMAXPROCS, when known (environment or runtime default).
    pub gomaxprocs: Option<u32>,
    /// The CPU limit in cores (cgroup quota / period), when there is one.
    pub cpu_limit: Option<f64>,
}

/// One reading: the rows it is about, the numbers, what they mean and where Go makes them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Note {
    pub id: &'static str,
    pub syscalls: Vec<&'static str>,
    pub evidence: String,
    pub meaning: String,
    pub source: &'static str,
}

fn rate(n: u64, ctx: &Context) -> String {
    if ctx.wall_seconds > 0.0 {
        format!("{:.0}/s", n as f64 / ctx.wall_seconds)
    } else {
        "unknown rate".to_string()
    }
}

fn share(n: u64, table: &Table) -> f64 {
    if table.total_calls == 0 {
        0.0
    } else {
        100.0 * n as f64 / table.total_calls as f64
    }
}

/// The notes that apply, most telling first. Thresholds keep quiet programs quiet: a
/// note needs enough calls that the pattern is the program's, not start-up's.
pub fn read(table: &Table, ctx: &Context) -> Vec<Note> {
    let mut notes = Vec::new();
    let over = match (ctx.gomaxprocs, ctx.cpu_limit) {
        (Some(p), Some(l)) if p as f64 > l.ceil() => Some((p, l)),
        _ => None,
    };
    let futex = table.calls("futex");
    // Over the CPU limit even a modest share is the storm the limit causes.
    let futex_floor = if over.is_some() { 2.0 } else { 10.0 };
    if futex >= 1000 && share(futex, table) >= futex_floor {
        let mut meaning = "Go threads parking and waking each other: an idle P's thread \
            sleeps on a futex and wakep wakes one whenever new work appears, so a storm \
            means more running threads than work to share"
            .to_string();
        if let Some((p, l)) = over {
            meaning.push_str(&format!(
                "; GOMAXPROCS {p} exceeds the CPU limit of {l} cores, so Ps keep being \
                 woken only to be throttled: set GOMAXPROCS to the limit (boxwise exec)"
            ));
        }
        notes.push(Note {
            id: "futex_wakeups",
            syscalls: vec!["futex"],
            evidence: format!(
                "{futex} futex calls ({}, {:.0}% of calls)",
                rate(futex, ctx),
                share(futex, table)
            ),
            meaning,
            source: "runtime/os_linux.go futexsleep/futexwakeup, via notesleep/notewakeup \
                (lock_futex.go), stopm and wakep (proc.go)",
        });
    }
    let yields = table.calls("sched_yield");
    if yields >= 100 {
        notes.push(Note {
            id: "sched_yield_spinning",
            syscalls: vec!["sched_yield"],
            evidence: format!("{yields} sched_yield calls ({})", rate(yields, ctx)),
            meaning: format!(
                "threads spinning for a runtime lock or for a P to stop give up the CPU with \
                 osyield; many of them mean contention between more threads than CPUs{}",
                over.map_or(String::new(), |(p, l)| format!(
                    " (GOMAXPROCS {p} over a {l}-core limit)"
                ))
            ),
            source: "runtime/lock_futex.go lock2 (osyield after spinning), proc.go \
                runqgrab and forEachP",
        });
    }
    let sleeps = table.calls("nanosleep") + table.calls("clock_nanosleep");
    if sleeps >= 100 {
        notes.push(Note {
            id: "nanosleep_sysmon",
            syscalls: vec!["nanosleep", "clock_nanosleep"],
            evidence: format!("{sleeps} sleeps ({})", rate(sleeps, ctx)),
            meaning: "the runtime's own naps: sysmon wakes every 20 us to 10 ms, and a P \
                stealing work backs off for 3 us; they grow with idle time, not with work"
                .to_string(),
            source: "runtime/proc.go sysmon (usleep(delay)) and runqgrab (usleep(3))",
        });
    }
    let tgkill = table.calls("tgkill");
    if tgkill >= 10 {
        notes.push(Note {
            id: "async_preemption",
            syscalls: vec!["tgkill", "rt_sigreturn"],
            evidence: format!(
                "{tgkill} tgkill, {} rt_sigreturn ({})",
                table.calls("rt_sigreturn"),
                rate(tgkill, ctx)
            ),
            meaning: "asynchronous preemption: the runtime sends SIGURG to a thread whose \
                goroutine ran over 10 ms (or for a GC stop), and rt_sigreturn ends each \
                signal handler; many mean long tight loops or frequent GC"
                .to_string(),
            source: "runtime/signal_unix.go preemptM (sigPreempt = SIGURG) -> os_linux.go \
                signalM -> tgkill",
        });
    }
    let madvise = table.calls("madvise");
    if madvise >= 20 {
        notes.push(Note {
            id: "madvise_scavenger",
            syscalls: vec!["madvise"],
            evidence: format!("{madvise} madvise calls ({})", rate(madvise, ctx)),
            meaning: "the scavenger returning free heap pages to the kernel (MADV_DONTNEED \
                or MADV_FREE); steady churn means the heap grows and shrinks, which \
                GOMEMLIMIT or a steadier allocation rate smooths"
                .to_string(),
            source: "runtime/mgcscavenge.go scavengerState.run -> mem_linux.go sysUnusedOS",
        });
    }
    let maps = table.calls("mmap") + table.calls("munmap");
    if maps >= 100 {
        notes.push(Note {
            id: "mmap_churn",
            syscalls: vec!["mmap", "munmap"],
            evidence: format!(
                "{} mmap, {} munmap ({})",
                table.calls("mmap"),
                table.calls("munmap"),
                rate(maps, ctx)
            ),
            meaning: "address space mapped and unmapped over and over: heap arenas and \
                large allocations; a Go heap normally maps once and reuses"
                .to_string(),
            source: "runtime/mem_linux.go sysAllocOS, sysReserveOS, sysFreeOS",
        });
    }
    let epoll = table.calls("epoll_pwait") + table.calls("epoll_wait");
    if epoll >= 100 {
        notes.push(Note {
            id: "netpoller",
            syscalls: vec!["epoll_pwait", "epoll_wait"],
            evidence: format!("{epoll} epoll waits ({})", rate(epoll, ctx)),
            meaning: "the network poller: idle Ps poll (non-blocking) before sleeping and \
                one thread blocks in epoll until a timer or socket is due; EINTR errors \
                here come from preemption signals and are harmless"
                .to_string(),
            source: "runtime/netpoll_epoll.go netpoll, called from findRunnable (proc.go)",
        });
    }
    for (call, normal) in [
        ("connect", "EINPROGRESS"),
        ("accept4", "EAGAIN"),
        ("accept", "EAGAIN"),
    ] {
        let Some(row) = table.row(call) else { continue };
        let bad: u64 = row
            .errnos
            .iter()
            .filter(|e| e.errno != normal)
            .map(|e| e.count)
            .sum();
        if bad > 0 {
            let which: Vec<String> = row
                .errnos
                .iter()
                .filter(|e| e.errno != normal)
                .map(|e| format!("{} {}", e.count, e.errno))
                .collect();
            notes.push(Note {
                id: "socket_errors",
                syscalls: vec![if call == "connect" {
                    "connect"
                } else {
                    "accept4"
                }],
                evidence: format!("{call}: {}", which.join(", ")),
                meaning: format!(
                    "real {call} failures ({normal} is Go's normal non-blocking pattern and \
                     is not one): a peer refusing or timing out, or a full backlog"
                ),
                source: "net/fd_unix.go (netFD.connect, netFD.accept) over the netpoller",
            });
        }
    }
    let clones = table.calls("clone") + table.calls("clone3");
    if clones >= 20 {
        notes.push(Note {
            id: "thread_creation",
            syscalls: vec!["clone", "clone3"],
            evidence: format!("{clones} threads or processes created"),
            meaning: "each new M is an OS thread; many mean goroutines blocked in system \
                calls or cgo, which each hold a thread"
                .to_string(),
            source: "runtime/os_linux.go newosproc (clone), proc.go newm",
        });
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RawCounts;
    use crate::names::Arch;
    use proptest::prelude::*;

    fn table(calls: &[(&str, u64)]) -> Table {
        let raw: Vec<RawCounts> = calls
            .iter()
            .map(|&(n, c)| RawCounts {
                nr: Arch::X86_64.number(n).unwrap(),
                calls: c,
                time_ns: c * 100,
                ..Default::default()
            })
            .collect();
        Table::build(Arch::X86_64, &raw)
    }

    #[test]
    fn futex_storm_over_the_limit() {
        let t = table(&[("futex", 50_000), ("write", 10_000), ("sched_yield", 500)]);
        let ctx = Context {
            wall_seconds: 10.0,
            gomaxprocs: Some(8),
            cpu_limit: Some(0.5),
        };
        let notes = read(&t, &ctx);
        let ids: Vec<_> = notes.iter().map(|n| n.id).collect();
        assert_eq!(ids, vec!["futex_wakeups", "sched_yield_spinning"]);
        assert!(
            notes[0].evidence.contains("5000/s"),
            "{}",
            notes[0].evidence
        );
        assert!(notes[0].meaning.contains("GOMAXPROCS 8"));
    }

    #[test]
    fn quiet_program_has_no_notes() {
        let t = table(&[("write", 400_000), ("futex", 12), ("mmap", 20)]);
        assert!(read(&t, &Context::default()).is_empty());
    }

    proptest! {
        #[test]
        fn notes_cite_calls_that_happened(f in 0u64..100_000, y in 0u64..1000, n in 0u64..1000, m in 0u64..100) {
            let t = table(&[("futex", f), ("sched_yield", y), ("nanosleep", n), ("madvise", m), ("write", 1)]);
            for note in read(&t, &Context { wall_seconds: 1.0, ..Default::default() }) {
                prop_assert!(note.syscalls.iter().any(|s| t.calls(s) > 0));
                prop_assert!(!note.source.is_empty() && !note.meaning.is_empty());
            }
        }
    }
}
