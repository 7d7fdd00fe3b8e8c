//! The scheduler summary: run-queue lengths, idle Ps, spinning and idle threads over the
//! samples of a schedtrace.

use serde::Serialize;

use crate::sched::SchedSample;
use crate::stats::Dist;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchedSummary {
    pub samples: usize,
    /// Samples printed with `scheddetail=1`.
    pub detailed_samples: usize,
    pub first_ms: u64,
    pub last_ms: u64,
    /// Median milliseconds between samples (the `schedtrace=X` period, roughly).
    pub period_ms: Option<f64>,
    pub gomaxprocs_min: u32,
    pub gomaxprocs_max: u32,
    pub idle_procs: Dist,
    /// Share of samples with no idle P: every P busy.
    pub all_procs_busy_fraction: f64,
    pub threads: Dist,
    pub spinning_threads: Dist,
    /// Go 1.21+ (`needspinning=`); `None` for older traces.
    pub need_spinning: Option<Dist>,
    pub idle_threads: Dist,
    pub global_runqueue: Dist,
    /// Sum of the per-P local run queues, over samples that had them.
    pub local_runqueue_total: Option<Dist>,
    /// The longest single P's local run queue seen.
    pub local_runqueue_max: Option<u32>,
    /// Goroutines waiting to run (global + local) per P: above 1 means work waits for CPU.
    pub runnable_per_proc: Dist,
}

pub fn summarize(samples: &[SchedSample]) -> Option<SchedSummary> {
    let first = samples.first()?;
    let last = samples.last()?;
    let dist = |f: fn(&SchedSample) -> u32| Dist::of(samples.iter().map(|s| f64::from(f(s))));
    let mut gaps: Vec<f64> = samples
        .windows(2)
        .filter(|w| w[1].at_ms >= w[0].at_ms)
        .map(|w| (w[1].at_ms - w[0].at_ms) as f64)
        .collect();
    gaps.sort_by(f64::total_cmp);
    let with_local: Vec<&Vec<u32>> = samples
        .iter()
        .filter_map(|s| s.local_runqueues.as_ref())
        .collect();
    Some(SchedSummary {
        samples: samples.len(),
        detailed_samples: samples.iter().filter(|s| s.detailed).count(),
        first_ms: first.at_ms,
        last_ms: last.at_ms,
        period_ms: (!gaps.is_empty()).then(|| crate::stats::percentile(&gaps, 50.0)),
        gomaxprocs_min: samples.iter().map(|s| s.gomaxprocs).min()?,
        gomaxprocs_max: samples.iter().map(|s| s.gomaxprocs).max()?,
        idle_procs: dist(|s| s.idle_procs)?,
        all_procs_busy_fraction: samples.iter().filter(|s| s.idle_procs == 0).count() as f64
            / samples.len() as f64,
        threads: dist(|s| s.threads)?,
        spinning_threads: dist(|s| s.spinning_threads)?,
        need_spinning: Dist::of(
            samples
                .iter()
                .filter_map(|s| s.need_spinning)
                .map(f64::from),
        ),
        idle_threads: dist(|s| s.idle_threads)?,
        global_runqueue: dist(|s| s.global_runqueue)?,
        local_runqueue_total: Dist::of(with_local.iter().map(|q| f64::from(q.iter().sum::<u32>()))),
        local_runqueue_max: with_local.iter().flat_map(|q| q.iter().copied()).max(),
        runnable_per_proc: Dist::of(
            samples
                .iter()
                .map(|s| f64::from(s.runnable()) / f64::from(s.gomaxprocs.max(1))),
        )?,
    })
}
