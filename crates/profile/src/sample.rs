//! The sampling loop (I/O edge): one perf event per thread of the target, threads found by
//! re-scanning `/proc/PID/task` (Go starts threads at any time), rings drained every few
//! milliseconds, until the time is up, Ctrl-C, or the target exits; what was collected is
//! kept in every case.

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::perf::{Record, ThreadEvent};

/// Why sampling could not start; one line each.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error(
        "no permission to sample PID {pid} with perf_event_open ({source}): run as root, or grant CAP_PERFMON (or CAP_SYS_ADMIN), or set /proc/sys/kernel/perf_event_paranoid to 1 or lower for your own processes (it is {paranoid})"
    )]
    Permission {
        pid: u32,
        source: io::Error,
        paranoid: String,
    },
    #[error("--offcpu needs the sched:sched_switch tracepoint, which could not be found: {0}")]
    NoTracepoint(io::Error),
    #[error("no process with PID {0}")]
    NoProcess(u32),
    #[error("perf_event_open on thread {tid} of PID {pid} failed: {source}")]
    Open {
        pid: u32,
        tid: u32,
        source: io::Error,
    },
}

/// How to sample.
#[derive(Debug, Clone)]
pub struct Options {
    pub pid: u32,
    pub hz: u64,
    pub duration: Duration,
    /// Also record where threads leave the CPU and for how long (`sched_switch`).
    pub offcpu: bool,
}

/// Identical samples folded together: thread, raw callchain, how many, total period (ns).
#[derive(Debug, Clone)]
pub struct RawSample {
    pub tid: u32,
    pub chain: Vec<u64>,
    pub count: u64,
    pub period: u64,
}

/// Everything one run collected.
#[derive(Debug, Clone)]
pub struct Collected {
    pub samples: Vec<RawSample>,
    /// With `--offcpu`: stacks at which threads left the CPU; `period` is the time off it.
    pub offcpu: Option<Vec<RawSample>>,
    pub lost: u64,
    pub threads: usize,
    pub started: SystemTime,
    pub elapsed: Duration,
    pub period_ns: u64,
    /// The target exited before the time was up.
    pub target_exited: bool,
    pub interrupted: bool,
    /// Kernel frames were excluded (not permitted).
    pub kernel_excluded: bool,
}

/// Inserts the first user frame's caller when frame-pointer unwinding skipped it.
pub fn restore_leaf_caller(
    chain: &mut Vec<u64>,
    stack: &[u8],
    sp_delta: impl Fn(u64) -> Option<u64>,
) {
    const CONTEXT_MAX: u64 = (-4095i64) as u64;
    const CONTEXT_USER: u64 = (-512i64) as u64;
    // The first user frame: after the USER marker, or the very first entry when there is none.
    let first = match chain.iter().position(|&a| a == CONTEXT_USER) {
        Some(i) => i + 1,
        None if chain.first().is_some_and(|&a| a < CONTEXT_MAX) => 0,
        None => return,
    };
    let Some(&pc) = chain.get(first) else { return };
    let Some(delta) = sp_delta(pc) else { return };
    let Some(bytes) = usize::try_from(delta)
        .ok()
        .and_then(|d| stack.get(d..d.checked_add(8)?))
    else {
        return;
    };
    let ra = u64::from_le_bytes(bytes.try_into().unwrap_or_default());
    if ra == 0 || chain.get(first + 1) == Some(&ra) {
        return;
    }
    // Only a return address that is itself a known function is trusted.
    if sp_delta(ra.saturating_sub(1)).is_some() {
        chain.insert(first + 1, ra);
    }
}

fn tids(pid: u32) -> io::Result<Vec<u32>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        if let Some(t) = e?.file_name().to_str().and_then(|s| s.parse().ok()) {
            out.push(t);
        }
    }
    Ok(out)
}

fn alive(pid: u32) -> bool {
    // A zombie still has /proc/PID; treat it as gone.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
        Err(_) => false,
    }
}

/// Samples until `opts.duration` passes, `stop` is set, or the target exits.
/// `reap` is polled so a child started by us can be waited for (returns true once exited).
///
/// `sp_delta(pc)` is how far the stack pointer has moved since the function holding `pc`
/// was entered (Go's pcsp table): with it the first user frame's return address is read
/// from the sampled stack and put back when the frame-pointer chain skipped it (a
/// frameless leaf such as a tight loop, or a prologue/epilogue).
pub fn run(
    opts: &Options,
    stop: &AtomicBool,
    mut reap: impl FnMut() -> bool,
    sp_delta: impl Fn(u64) -> Option<u64>,
) -> Result<Collected, SampleError> {
    let pid = opts.pid;
    if !Path::new(&format!("/proc/{pid}")).exists() {
        return Err(SampleError::NoProcess(pid));
    }
    let period_ns = 1_000_000_000 / opts.hz.clamp(1, 10_000);
    let mut events: HashMap<u32, ThreadEvent> = HashMap::new();
    let switch_id = if opts.offcpu {
        Some(crate::perf::sched_switch_id().map_err(SampleError::NoTracepoint)?)
    } else {
        None
    };
    let mut switches: HashMap<u32, ThreadEvent> = HashMap::new();
    let mut switch_records = Vec::new();
    // Per thread: the stack and time it last left the CPU.
    let mut left: HashMap<u32, (Vec<u64>, u64)> = HashMap::new();
    let mut off_folded: HashMap<(u32, Vec<u64>), (u64, u64)> = HashMap::new();
    let mut kernel = true;
    let mut records = Vec::new();
    let mut out = Collected {
        samples: Vec::new(),
        offcpu: None,
        lost: 0,
        threads: 0,
        started: SystemTime::now(),
        elapsed: Duration::ZERO,
        period_ns,
        target_exited: false,
        interrupted: false,
        kernel_excluded: false,
    };
    let start = Instant::now();
    let mut last_scan: Option<Instant> = None;
    let mut opened_any = false;
    // Folded as they arrive so memory grows with distinct stacks, not with run time.
    let mut folded: HashMap<(u32, Vec<u64>), (u64, u64)> = HashMap::new();
    loop {
        let exited = reap() || !alive(pid);
        if last_scan.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) && !exited {
            last_scan = Some(Instant::now());
            let current = tids(pid).unwrap_or_default();
            for tid in &current {
                if events.contains_key(tid) {
                    continue;
                }
                let opened = match ThreadEvent::open(*tid, period_ns, kernel) {
                    Err(e) if e.raw_os_error() == Some(libc::EACCES) && kernel => {
                        // Kernel callchains need more privilege than user ones; keep going
                        // with user stacks only.
                        kernel = false;
                        out.kernel_excluded = true;
                        ThreadEvent::open(*tid, period_ns, false)
                    }
                    r => r,
                };
                match opened {
                    Ok(ev) => {
                        opened_any = true;
                        out.threads += 1;
                        events.insert(*tid, ev);
                        if let Some(id) = switch_id {
                            // A thread that cannot be traced still has its CPU samples.
                            if let Ok(sw) = ThreadEvent::open_switch(*tid, id, kernel) {
                                switches.insert(*tid, sw);
                            }
                        }
                    }
                    // The thread exited between the scan and the open.
                    Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                    Err(e)
                        if matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::EPERM)) =>
                    {
                        return Err(SampleError::Permission {
                            pid,
                            source: e,
                            paranoid: std::fs::read_to_string(
                                "/proc/sys/kernel/perf_event_paranoid",
                            )
                            .map(|s| s.trim().to_string())
                            .unwrap_or_else(|_| "unknown".into()),
                        });
                    }
                    Err(e) if opened_any => {
                        // One thread failing mid-run (e.g. exiting) must not lose the run.
                        let _ = e;
                    }
                    Err(e) => {
                        return Err(SampleError::Open {
                            pid,
                            tid: *tid,
                            source: e,
                        });
                    }
                }
            }
            // Threads that are gone: drain then close.
            let gone: Vec<u32> = events
                .keys()
                .filter(|t| !current.contains(t))
                .copied()
                .collect();
            for t in gone {
                if let Some(mut ev) = events.remove(&t) {
                    ev.drain(&mut records);
                }
                if let Some(mut ev) = switches.remove(&t) {
                    ev.drain(&mut switch_records);
                }
            }
        }
        for ev in events.values_mut() {
            ev.drain(&mut records);
        }
        for ev in switches.values_mut() {
            ev.drain(&mut switch_records);
        }
        for r in switch_records.drain(..) {
            match r {
                Record::Sample {
                    tid,
                    time,
                    mut chain,
                    stack,
                    ..
                } => {
                    restore_leaf_caller(&mut chain, &stack, &sp_delta);
                    left.insert(tid, (chain, time));
                }
                Record::SwitchIn { tid, time } => {
                    if let Some((chain, out_at)) = left.remove(&tid) {
                        let e = off_folded.entry((tid, chain)).or_insert((0, 0));
                        e.0 += 1;
                        e.1 += time.saturating_sub(out_at);
                    }
                }
                Record::Lost(n) => out.lost += n,
            }
        }
        for r in records.drain(..) {
            match r {
                Record::Sample {
                    tid,
                    period,
                    mut chain,
                    stack,
                    ..
                } => {
                    restore_leaf_caller(&mut chain, &stack, &sp_delta);
                    let e = folded.entry((tid, chain)).or_insert((0, 0));
                    e.0 += 1;
                    e.1 += period;
                }
                Record::Lost(n) => out.lost += n,
                Record::SwitchIn { .. } => {}
            }
        }
        if exited {
            out.target_exited = true;
            break;
        }
        if stop.load(Ordering::Relaxed) {
            out.interrupted = true;
            break;
        }
        if start.elapsed() >= opts.duration {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    out.elapsed = start.elapsed();
    let unfold = |m: HashMap<(u32, Vec<u64>), (u64, u64)>| -> Vec<RawSample> {
        m.into_iter()
            .map(|((tid, chain), (count, period))| RawSample {
                tid,
                chain,
                count,
                period,
            })
            .collect()
    };
    out.samples = unfold(folded);
    if opts.offcpu {
        out.offcpu = Some(unfold(off_folded));
    }
    Ok(out)
}
