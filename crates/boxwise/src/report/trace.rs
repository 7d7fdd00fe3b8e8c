//! gctrace and schedtrace renderers: the text report, the JSON document and the SVG plot.

use boxwise_box::units;
use boxwise_render::{Chart, HLine, Series, Style, stack};
use boxwise_trace::limits::Limits;
use boxwise_trace::sched_summary::SchedSummary;
use boxwise_trace::stats::Dist;
use boxwise_trace::summary::{GcSummary, ScavSummary};
use boxwise_trace::{GcCycle, Malformed, SchedSample, Trace};
use serde::Serialize;

use super::Section;

/// Rows in the "over time" tables: enough to see the shape, short enough to read.
const TIMELINE_ROWS: usize = 10;

/// Milliseconds with about three significant digits.
fn ms(v: f64) -> String {
    let s = if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    format!("{s} ms")
}

fn pct(f: f64) -> String {
    format!("{}%", units::decimal(f * 100.0, 1))
}

fn num(v: f64) -> String {
    units::decimal(v, 1)
}

/// About `n` evenly spaced indices from `0..len`, always the first and the last.
fn spread(len: usize, n: usize) -> Vec<usize> {
    if len <= n {
        return (0..len).collect();
    }
    let mut v: Vec<usize> = (0..n).map(|i| i * (len - 1) / (n - 1)).collect();
    v.dedup();
    v
}

fn source_line(name: &str, t: &Trace) -> String {
    let mut s = format!(
        "{name}: {} lines: {} GC cycles, {} scavenger lines, {} scheduler samples, {} other",
        t.lines,
        t.gc.len(),
        t.scav.len(),
        t.sched.len(),
        t.other_lines
    );
    if t.malformed_count > 0 {
        s.push_str(&format!(", {} malformed", t.malformed_count));
    }
    s.push('\n');
    s
}

/// The gctrace report.
pub fn gc_text(name: &str, t: &Trace, g: &GcSummary, scav: Option<&ScavSummary>) -> String {
    let mut out = source_line(name, t);
    out.push('\n');
    gc_cycles_section(t, g).render(&mut out);
    pause_section(g).render(&mut out);
    gc_cpu_section(g).render(&mut out);
    heap_section(g).render(&mut out);
    if let Some(sc) = scav {
        scavenger_section(sc).render(&mut out);
    }
    out.push_str(&heap_timeline(&t.gc));
    out
}

fn gc_cycles_section(t: &Trace, g: &GcSummary) -> Section {
    let mut s = Section::new("GC cycles");
    let mut cycles = format!("{} (gc {} to {})", g.cycles, g.first_gc, g.last_gc);
    if g.forced_cycles > 0 {
        cycles.push_str(&format!(", {} forced", g.forced_cycles));
    }
    s.row("cycles", cycles, "");
    if t.periodic_gc_lines > 0 {
        s.row(
            "periodic",
            format!("{} (GC forced by the 2-minute timer)", t.periodic_gc_lines),
            "",
        );
    }
    if g.missing_cycles > 0 || g.restarts > 0 {
        s.row(
            "gaps",
            format!(
                "{} cycle numbers missing, {} restarts",
                g.missing_cycles, g.restarts
            ),
            "",
        );
    }
    if let Some(rate) = g.gc_per_second {
        s.row(
            "rate",
            format!(
                "{} per second over {} s",
                num(rate),
                units::decimal(g.last_at_s - g.first_at_s, 3)
            ),
            "",
        );
    }
    if let Some(i) = &g.interval_s {
        s.row(
            "interval",
            format!(
                "p50 {}  p90 {}  min {}",
                ms(i.p50 * 1e3),
                ms(i.p90 * 1e3),
                ms(i.min * 1e3)
            ),
            "",
        );
    }
    s.row("GOMAXPROCS", g.procs.to_string(), "");
    s
}

fn pause_section(g: &GcSummary) -> Section {
    let mut s = Section::new("Stop-the-world pauses (sweep termination + mark termination)");
    s.row("total", ms(g.pause_total_ms), "");
    s.row("per cycle", dist_ms(&g.pause_ms), "");
    s.row(
        "longest phase",
        format!("{} (gc {})", ms(g.max_stw_phase_ms), g.max_stw_phase_gc),
        "",
    );
    s.row(
        "concurrent mark",
        format!("{} (wall, per cycle)", dist_ms(&g.mark_ms)),
        "",
    );
    s
}

fn gc_cpu_section(g: &GcSummary) -> Section {
    let c = &g.cpu;
    let mut s = Section::new("GC CPU");
    if let Some(f) = c.gc_cpu_fraction {
        s.row(
            "fraction",
            format!(
                "{} of {} Ps over {} s",
                pct(f),
                g.procs,
                units::decimal(c.window_s, 3)
            ),
            format!("runtime says {}%", c.runtime_reported_percent),
        );
    }
    s.row(
        "GC CPU",
        format!("{} (mark assists {})", ms(c.gc_cpu_ms), ms(c.assist_cpu_ms)),
        "",
    );
    s.row(
        "idle marking",
        format!("{} (not counted: idle Ps only)", ms(c.idle_mark_cpu_ms)),
        "",
    );
    s
}

/// Heap sizes, and against GOMEMLIMIT and the memory limit when they were given.
fn heap_section(g: &GcSummary) -> Section {
    let h = &g.heap;
    let mut s = Section::new("Heap (MiB, as the runtime prints it)");
    s.row(
        "peak",
        format!(
            "{} at a cycle's end, goal up to {}",
            h.peak_mib, h.peak_goal_mib
        ),
        "",
    );
    s.row(
        "live",
        format!(
            "min {}  p50 {}  max {}  last {}",
            h.live_mib.min, h.live_mib.p50, h.live_mib.max, h.last_live_mib
        ),
        "",
    );
    s.row("last goal", h.last_goal_mib.to_string(), "");
    let l = &g.limits;
    if let (Some(b), Some(f)) = (l.gomemlimit_bytes, l.peak_heap_of_gomemlimit) {
        s.row(
            "GOMEMLIMIT",
            format!("{}: peak heap {}", units::bytes(b), pct(f)),
            format!(
                "{} cycles with the goal near it, {} ended above it",
                l.cycles_goal_near_gomemlimit, l.cycles_heap_over_gomemlimit
            ),
        );
    }
    if let (Some(b), Some(f)) = (l.memory_limit_bytes, l.peak_heap_of_memory_limit) {
        s.row(
            "memory limit",
            format!("{}: peak heap {}", units::bytes(b), pct(f)),
            "the heap alone; RSS is higher",
        );
    }
    s
}

fn scavenger_section(sc: &ScavSummary) -> Section {
    let mut s = Section::new("Scavenger");
    s.row("lines", format!("{} ({} forced)", sc.lines, sc.forced), "");
    let eager = sc.work_eager_total_kib.map_or(String::new(), |e| {
        format!(" ({} eagerly)", units::bytes(e << 10))
    });
    s.row(
        "returned",
        format!("{}{eager}", units::bytes(sc.work_total_kib << 10)),
        "",
    );
    s.row(
        "released now",
        format!(
            "{} (max {})",
            units::bytes(sc.released_last_kib << 10),
            units::bytes(sc.released_max_kib << 10)
        ),
        "",
    );
    s.row(
        "util",
        format!(
            "last {}%, min {}%",
            sc.util_last_percent, sc.util_min_percent
        ),
        "",
    );
    s
}

/// A few cycles spread over the capture, first and last included.
fn heap_timeline(cycles: &[GcCycle]) -> String {
    let mut out = String::from("Heap over time (MiB)\n");
    out.push_str(&format!(
        "  {:>9}  {:>6}  {:>6}  {:>6}  {:>6}  {:>6}  {:>10}\n",
        "time", "gc", "start", "end", "live", "goal", "pause"
    ));
    for i in spread(cycles.len(), TIMELINE_ROWS) {
        let c = &cycles[i];
        out.push_str(&format!(
            "  {:>8.3}s  {:>6}  {:>6}  {:>6}  {:>6}  {:>6}  {:>10}{}\n",
            c.at_s,
            c.gc,
            c.heap_start_mib,
            c.heap_end_mib,
            c.heap_live_mib,
            c.heap_goal_mib,
            ms(c.pause_ms()),
            if c.forced { "  forced" } else { "" }
        ));
    }
    out
}

fn dist_ms(d: &Dist) -> String {
    format!(
        "p50 {}  p90 {}  p99 {}  max {}",
        ms(d.p50),
        ms(d.p90),
        ms(d.p99),
        ms(d.max)
    )
}

#[derive(Serialize)]
struct GcJson<'a> {
    source: &'a str,
    lines: usize,
    other_lines: usize,
    malformed_lines: usize,
    /// The first few malformed lines, with their line numbers.
    malformed: &'a [Malformed],
    periodic_gc_lines: usize,
    summary: &'a GcSummary,
    scavenger: Option<&'a ScavSummary>,
    cycles: &'a [GcCycle],
}

pub fn gc_json(
    name: &str,
    t: &Trace,
    g: &GcSummary,
    scav: Option<&ScavSummary>,
) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&GcJson {
        source: name,
        lines: t.lines,
        other_lines: t.other_lines,
        malformed_lines: t.malformed_count,
        malformed: &t.malformed,
        periodic_gc_lines: t.periodic_gc_lines,
        summary: g,
        scavenger: scav,
        cycles: &t.gc,
    })
}

/// The heap chart (start, end, live and goal per cycle, with the limit lines) above the
/// pause chart (stop-the-world time of each cycle), in one SVG.
pub fn gc_plot(cycles: &[GcCycle], limits: Limits) -> String {
    let series = |name: &str, f: fn(&GcCycle) -> u64| {
        let pts = cycles.iter().map(|c| (c.at_s, f(c) as f64)).collect();
        Series::new(name, pts, Style::Line)
    };
    let mut heap = Chart::new(
        "Go heap per GC cycle",
        "time since program start (s)",
        "MiB",
    )
    .series(series("heap at GC start", |c| c.heap_start_mib))
    .series(series("heap at GC end", |c| c.heap_end_mib))
    .series(series("live heap (marked)", |c| c.heap_live_mib))
    .series(series("heap goal", |c| c.heap_goal_mib));
    let mib = |b: u64| b as f64 / f64::from(1 << 20);
    if let Some(b) = limits.gomemlimit_bytes {
        heap = heap.hline(HLine::new(
            format!("GOMEMLIMIT {}", units::bytes(b)),
            mib(b),
        ));
    }
    if let Some(b) = limits.memory_limit_bytes {
        heap = heap.hline(HLine::new(
            format!("memory limit {}", units::bytes(b)),
            mib(b),
        ));
    }
    let forced: Vec<(f64, f64)> = cycles
        .iter()
        .filter(|c| c.forced)
        .map(|c| (c.at_s, c.pause_ms()))
        .collect();
    let mut pauses = Chart::new(
        "Stop-the-world pause per GC cycle",
        "time since program start (s)",
        "pause (ms)",
    )
    .series(Series::new(
        "sweep termination + mark termination",
        cycles
            .iter()
            .filter(|c| !c.forced)
            .map(|c| (c.at_s, c.pause_ms()))
            .collect(),
        Style::Points,
    ))
    .size(900, 320);
    if !forced.is_empty() {
        pauses = pauses.series(Series::new("forced cycles", forced, Style::Points));
    }
    stack(&[heap, pauses])
}

/// The schedtrace report.
pub fn sched_text(name: &str, t: &Trace, s: &SchedSummary) -> String {
    let mut out = source_line(name, t);
    out.push('\n');
    scheduler_section(s).render(&mut out);
    out.push_str(&sched_timeline(&t.sched));
    out
}

fn scheduler_section(s: &SchedSummary) -> Section {
    let mut sec = Section::new("Scheduler");
    sec.row(
        "samples",
        format!(
            "{} from {} ms to {} ms{}",
            s.samples,
            s.first_ms,
            s.last_ms,
            s.period_ms
                .map_or(String::new(), |p| format!(", every {p} ms"))
        ),
        if s.detailed_samples > 0 {
            format!("{} with scheddetail=1", s.detailed_samples)
        } else {
            String::new()
        },
    );
    let procs = if s.gomaxprocs_min == s.gomaxprocs_max {
        s.gomaxprocs_max.to_string()
    } else {
        format!("{} to {}", s.gomaxprocs_min, s.gomaxprocs_max)
    };
    sec.row("GOMAXPROCS", procs, "");
    sec.row(
        "idle Ps",
        dist_count(&s.idle_procs),
        format!(
            "all Ps busy in {} of samples",
            pct(s.all_procs_busy_fraction)
        ),
    );
    sec.row("global run queue", dist_count(&s.global_runqueue), "");
    if let Some(d) = &s.local_runqueue_total {
        sec.row(
            "local run queues",
            dist_count(d),
            format!(
                "sum over Ps; longest single queue {}",
                s.local_runqueue_max.unwrap_or(0)
            ),
        );
    }
    sec.row(
        "runnable per P",
        dist_count(&s.runnable_per_proc),
        "above 1: goroutines wait for a CPU",
    );
    sec.row("threads", dist_count(&s.threads), "");
    sec.row("spinning threads", dist_count(&s.spinning_threads), "");
    match &s.need_spinning {
        Some(d) => sec.row("need spinning", dist_count(d), ""),
        None => sec.row("need spinning", "-", "not printed before Go 1.21"),
    }
    sec.row("idle threads", dist_count(&s.idle_threads), "");
    sec
}

/// A few samples spread over the capture, first and last included.
fn sched_timeline(samples: &[SchedSample]) -> String {
    let mut out = String::from("Over time\n");
    out.push_str(&format!(
        "  {:>9}  {:>5}  {:>7}  {:>7}  {:>8}  {:>6}  {}\n",
        "time", "idleP", "threads", "spinning", "idleM", "global", "local"
    ));
    for i in spread(samples.len(), TIMELINE_ROWS) {
        out.push_str(&sched_row(&samples[i]));
    }
    out
}

fn sched_row(x: &SchedSample) -> String {
    let local = x.local_runqueues.as_ref().map_or("-".to_string(), |q| {
        // A row stays a row: long lists (many Ps) are cut.
        const SHOWN: usize = 16;
        let items: Vec<String> = q.iter().take(SHOWN).map(u32::to_string).collect();
        let more = if q.len() > SHOWN {
            format!(" ... ({} Ps)", q.len())
        } else {
            String::new()
        };
        format!("[{}{more}]", items.join(" "))
    });
    format!(
        "  {:>7}ms  {:>5}  {:>7}  {:>8}  {:>8}  {:>6}  {}\n",
        x.at_ms,
        x.idle_procs,
        x.threads,
        x.spinning_threads,
        x.idle_threads,
        x.global_runqueue,
        local
    )
}

fn dist_count(d: &Dist) -> String {
    format!(
        "mean {}  p50 {}  p99 {}  max {}",
        num(d.mean),
        d.p50,
        d.p99,
        d.max
    )
}

#[derive(Serialize)]
struct SchedJson<'a> {
    source: &'a str,
    lines: usize,
    other_lines: usize,
    malformed_lines: usize,
    malformed: &'a [Malformed],
    detail_lines: usize,
    summary: &'a SchedSummary,
    samples: &'a [SchedSample],
}

pub fn sched_json(name: &str, t: &Trace, s: &SchedSummary) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&SchedJson {
        source: name,
        lines: t.lines,
        other_lines: t.other_lines,
        malformed_lines: t.malformed_count,
        malformed: &t.malformed,
        detail_lines: t.sched_detail_lines,
        summary: s,
        samples: &t.sched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_keeps_ends() {
        assert_eq!(spread(3, 10), vec![0, 1, 2]);
        assert_eq!(spread(100, 4), vec![0, 33, 66, 99]);
        assert_eq!(spread(0, 4), Vec::<usize>::new());
    }

    #[test]
    fn ms_has_three_significant_digits() {
        assert_eq!(ms(0.0241), "0.024 ms");
        assert_eq!(ms(1.25), "1.25 ms");
        assert_eq!(ms(12.345), "12.3 ms");
        assert_eq!(ms(1234.0), "1234 ms");
    }
}
