//! The GC and scavenger summary: how often the GC ran, how long it stopped the world,
//! how much CPU it took, and how the heap moved against the limits.

use serde::Serialize;

use crate::gc::GcCycle;
use crate::limits::Limits;
use crate::scav::ScavLine;
use crate::stats::Dist;

/// A heap goal within this fraction below GOMEMLIMIT counts as set by the limit.
const NEAR_LIMIT: f64 = 0.10;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GcSummary {
    pub cycles: usize,
    /// Cycles ending in `(forced)`: `runtime.GC()` or `debug.FreeOSMemory()`.
    pub forced_cycles: usize,
    pub first_gc: u64,
    pub last_gc: u64,
    /// Cycle numbers skipped between consecutive lines (lost or filtered lines).
    pub missing_cycles: u64,
    /// Times the cycle number went backwards: several runs in one input.
    pub restarts: usize,
    pub first_at_s: f64,
    pub last_at_s: f64,
    /// Cycles per second between the first and the last cycle's start.
    pub gc_per_second: Option<f64>,
    /// Seconds between consecutive cycle starts.
    pub interval_s: Option<Dist>,
    /// Stop-the-world time per cycle (sweep termination + mark termination, wall clock).
    pub pause_ms: Dist,
    pub pause_total_ms: f64,
    /// The longest single stop-the-world phase and the cycle it was in.
    pub max_stw_phase_ms: f64,
    pub max_stw_phase_gc: u64,
    /// Concurrent mark wall time per cycle.
    pub mark_ms: Dist,
    pub cpu: CpuUse,
    pub heap: HeapUse,
    pub limits: LimitUse,
    /// GOMAXPROCS in the last cycle.
    pub procs: u32,
}

/// GC CPU time against the CPU the Ps could have used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuUse {
    /// Sweep termination + assists + background marking + mark termination (idle mark
    /// work excluded: it runs only on Ps with nothing else to do).
    pub gc_cpu_ms: f64,
    pub assist_cpu_ms: f64,
    pub idle_mark_cpu_ms: f64,
    /// Seconds covered: from program start (when the trace begins at gc 1) or from the
    /// first cycle, to the end of the last cycle.
    pub window_s: f64,
    /// The window times GOMAXPROCS, weighted by each cycle's P count.
    pub available_cpu_ms: f64,
    /// `gc_cpu_ms / available_cpu_ms`.
    pub gc_cpu_fraction: Option<f64>,
    /// The runtime's own cumulative figure from the last line (an integer percent).
    pub runtime_reported_percent: u32,
}

/// Heap sizes in MiB as the runtime prints them (truncated).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeapUse {
    /// The largest heap at the end of a cycle: the closest the trace gets to peak heap.
    pub peak_mib: u64,
    pub peak_goal_mib: u64,
    /// Heap marked live, per cycle.
    pub live_mib: Dist,
    pub last_live_mib: u64,
    pub last_goal_mib: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LimitUse {
    pub gomemlimit_bytes: Option<u64>,
    pub memory_limit_bytes: Option<u64>,
    /// Peak heap as a fraction of GOMEMLIMIT.
    pub peak_heap_of_gomemlimit: Option<f64>,
    /// Peak heap as a fraction of the memory limit (the heap alone: RSS is higher).
    pub peak_heap_of_memory_limit: Option<f64>,
    /// Cycles whose goal was within 10% below GOMEMLIMIT or above it: the limit, not
    /// GOGC, was driving the GC.
    pub cycles_goal_near_gomemlimit: usize,
    /// Cycles that ended with more heap than GOMEMLIMIT.
    pub cycles_heap_over_gomemlimit: usize,
}

/// Summarises GC cycles in input order. `None` when there are none.
pub fn summarize(cycles: &[GcCycle], limits: Limits) -> Option<GcSummary> {
    let first = cycles.first()?;
    let last = cycles.last()?;
    let (mut missing, mut restarts) = (0u64, 0);
    let (mut available_ms, mut window_s) = (0.0, 0.0);
    let mut prev: Option<&GcCycle> = None;
    let mut intervals = Vec::new();
    for g in cycles {
        let same_run = prev.filter(|p| g.gc > p.gc);
        if prev.is_some() && same_run.is_none() {
            restarts += 1;
        }
        let span_s = match same_run {
            Some(p) => {
                missing = missing.saturating_add(g.gc - p.gc - 1);
                intervals.push(g.at_s - p.at_s);
                g.end_s() - p.end_s()
            }
            // A run seen from its first cycle is measured from program start.
            None if g.gc == 1 => g.end_s(),
            None => g.wall_ms() / 1000.0,
        };
        let span_s = span_s.max(0.0);
        window_s += span_s;
        available_ms += span_s * 1000.0 * f64::from(g.procs);
        prev = Some(g);
    }
    let gc_cpu_ms: f64 = cycles.iter().map(GcCycle::cpu_ms).sum();
    let pauses = cycles.iter().map(GcCycle::pause_ms);
    let (max_stw_phase_ms, max_stw_phase_gc) = cycles
        .iter()
        .map(|g| (g.clock.sweep_term_ms.max(g.clock.mark_term_ms), g.gc))
        .fold((0.0, first.gc), |a, b| if b.0 > a.0 { b } else { a });
    let peak_mib = cycles.iter().map(|g| g.heap_end_mib).max().unwrap_or(0);
    let span = last.at_s - first.at_s;
    let mib = |b: u64| b as f64 / f64::from(1 << 20);
    let goal_near = |limit: u64| {
        cycles
            .iter()
            .filter(|g| g.heap_goal_mib as f64 >= mib(limit) * (1.0 - NEAR_LIMIT))
            .count()
    };
    Some(GcSummary {
        cycles: cycles.len(),
        forced_cycles: cycles.iter().filter(|g| g.forced).count(),
        first_gc: first.gc,
        last_gc: last.gc,
        missing_cycles: missing,
        restarts,
        first_at_s: first.at_s,
        last_at_s: last.at_s,
        gc_per_second: (restarts == 0 && cycles.len() > 1 && span > 0.0)
            .then(|| (cycles.len() - 1) as f64 / span),
        interval_s: Dist::of(intervals),
        pause_ms: Dist::of(pauses.clone())?,
        pause_total_ms: pauses.sum(),
        max_stw_phase_ms,
        max_stw_phase_gc,
        mark_ms: Dist::of(cycles.iter().map(|g| g.clock.mark_ms))?,
        cpu: CpuUse {
            gc_cpu_ms,
            assist_cpu_ms: cycles.iter().map(|g| g.cpu.assist_ms).sum(),
            idle_mark_cpu_ms: cycles.iter().map(|g| g.cpu.idle_ms).sum(),
            window_s,
            available_cpu_ms: available_ms,
            gc_cpu_fraction: (available_ms > 0.0).then(|| gc_cpu_ms / available_ms),
            runtime_reported_percent: last.runtime_cpu_percent,
        },
        heap: HeapUse {
            peak_mib,
            peak_goal_mib: cycles.iter().map(|g| g.heap_goal_mib).max().unwrap_or(0),
            live_mib: Dist::of(cycles.iter().map(|g| g.heap_live_mib as f64))?,
            last_live_mib: last.heap_live_mib,
            last_goal_mib: last.heap_goal_mib,
        },
        limits: LimitUse {
            gomemlimit_bytes: limits.gomemlimit_bytes,
            memory_limit_bytes: limits.memory_limit_bytes,
            peak_heap_of_gomemlimit: limits.gomemlimit_bytes.map(|l| peak_mib as f64 / mib(l)),
            peak_heap_of_memory_limit: limits.memory_limit_bytes.map(|l| peak_mib as f64 / mib(l)),
            cycles_goal_near_gomemlimit: limits.gomemlimit_bytes.map_or(0, goal_near),
            cycles_heap_over_gomemlimit: limits.gomemlimit_bytes.map_or(0, |l| {
                cycles
                    .iter()
                    .filter(|g| g.heap_end_mib as f64 > mib(l))
                    .count()
            }),
        },
        procs: last.procs,
    })
}

/// What the scavenger returned to the OS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScavSummary {
    pub lines: usize,
    pub forced: usize,
    /// Memory returned to the OS over the whole trace.
    pub work_total_kib: u64,
    /// The eager part (Go 1.21+ lines only).
    pub work_eager_total_kib: Option<u64>,
    /// Returned to the OS at the last line, and at most.
    pub released_last_kib: u64,
    pub released_max_kib: u64,
    pub util_min_percent: u64,
    pub util_last_percent: u64,
}

pub fn summarize_scav(lines: &[ScavLine]) -> Option<ScavSummary> {
    let last = lines.last()?;
    let eager: Vec<u64> = lines.iter().filter_map(|l| l.work_eager_kib).collect();
    Some(ScavSummary {
        lines: lines.len(),
        forced: lines.iter().filter(|l| l.forced).count(),
        work_total_kib: lines
            .iter()
            .map(|l| l.work_kib)
            .fold(0, u64::saturating_add),
        work_eager_total_kib: (!eager.is_empty())
            .then(|| eager.iter().fold(0u64, |a, &b| a.saturating_add(b))),
        released_last_kib: last.released_kib,
        released_max_kib: lines.iter().map(|l| l.released_kib).max().unwrap_or(0),
        util_min_percent: lines.iter().map(|l| l.util_percent).min().unwrap_or(0),
        util_last_percent: last.util_percent,
    })
}
