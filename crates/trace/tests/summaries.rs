//! Summaries of small synthetic traces, checked against numbers worked out by hand, plus
//! one line per Go version's format (including versions not installable here).

use boxwise_trace::Trace;
use boxwise_trace::limits::Limits;
use boxwise_trace::sched_summary;
use boxwise_trace::summary::{summarize, summarize_scav};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

const THREE_CYCLES: &str = "\
gc 1 @0.100s 2%: 0.010+1.0+0.020 ms clock, 0.020+0.10/0.50/0.20+0.040 ms cpu, 4->5->2 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 P
service: ready
gc 2 @0.300s 3%: 0.100+2.0+0.200 ms clock, 0.20+0.30/1.0/0+0.40 ms cpu, 8->9->3 MB, 9 MB goal, 0 MB stacks, 0 MB globals, 2 P
gc 4 @0.500s 3%: 1.0+3.0+2.0 ms clock, 2.0+0/1.5/0.5+4.0 ms cpu, 10->12->4 MB, 12 MB goal, 1 MB stacks, 0 MB globals, 2 P (forced)
";

#[test]
fn gc_summary_by_hand() {
    let t = Trace::parse(THREE_CYCLES);
    let limits = Limits {
        gomemlimit_bytes: Some(12 << 20),
        memory_limit_bytes: Some(24 << 20),
    };
    let s = summarize(&t.gc, limits).unwrap();
    assert_eq!(
        (s.cycles, s.forced_cycles, s.missing_cycles, s.restarts),
        (3, 1, 1, 0)
    );
    assert_eq!((s.first_gc, s.last_gc, s.procs), (1, 4, 2));
    // 2 intervals over 0.4 s.
    assert!(close(s.gc_per_second.unwrap(), 5.0));
    // Pauses 0.03, 0.3 and 3.0 ms; nearest rank p90 of 3 values is the 3rd.
    assert!(close(s.pause_total_ms, 3.33));
    assert!(close(s.pause_ms.p50, 0.3) && close(s.pause_ms.p90, 3.0) && close(s.pause_ms.max, 3.0));
    assert_eq!((s.max_stw_phase_ms, s.max_stw_phase_gc), (2.0, 4));
    // CPU: 0.66 + 1.9 + 7.5 ms without idle marking (0.7 ms).
    assert!(close(s.cpu.gc_cpu_ms, 10.06), "{}", s.cpu.gc_cpu_ms);
    assert!(close(s.cpu.idle_mark_cpu_ms, 0.7));
    assert!(close(s.cpu.assist_cpu_ms, 0.4));
    // From program start (gc 1 is in the trace) to the end of gc 4: 0.5 s + 6 ms.
    assert!(close(s.cpu.window_s, 0.506), "{}", s.cpu.window_s);
    assert!(close(s.cpu.available_cpu_ms, 1012.0));
    assert!(close(s.cpu.gc_cpu_fraction.unwrap(), 10.06 / 1012.0));
    assert_eq!(s.cpu.runtime_reported_percent, 3);
    assert_eq!(
        (s.heap.peak_mib, s.heap.peak_goal_mib, s.heap.last_live_mib),
        (12, 12, 4)
    );
    assert_eq!(
        (
            s.heap.live_mib.min,
            s.heap.live_mib.p50,
            s.heap.live_mib.max
        ),
        (2.0, 3.0, 4.0)
    );
    assert!(close(s.limits.peak_heap_of_gomemlimit.unwrap(), 1.0));
    assert!(close(s.limits.peak_heap_of_memory_limit.unwrap(), 0.5));
    assert_eq!(
        (
            s.limits.cycles_goal_near_gomemlimit,
            s.limits.cycles_heap_over_gomemlimit
        ),
        (1, 0)
    );
}

#[test]
fn tail_of_a_trace_is_measured_from_its_first_cycle() {
    let t = Trace::parse(
        "gc 10 @2.000s 5%: 0+4.0+0 ms clock, 0+0/4.0/0+0 ms cpu, 4->5->2 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 4 P\n\
         gc 11 @3.000s 5%: 0+6.0+0 ms clock, 0+0/6.0/0+0 ms cpu, 4->5->2 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 4 P\n\
         gc 1 @0.010s 0%: 0+1.0+0 ms clock, 0+0/1.0/0+0 ms cpu, 4->5->2 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 4 P\n",
    );
    let s = summarize(&t.gc, Limits::default()).unwrap();
    assert_eq!(s.restarts, 1);
    assert_eq!(s.gc_per_second, None, "no rate across two runs");
    // Run 1: gc 10's own 4 ms, then 1.002 s to gc 11's end; run 2: 11 ms from start.
    assert!(
        close(s.cpu.window_s, 0.004 + 1.002 + 0.011),
        "{}",
        s.cpu.window_s
    );
    assert!(close(s.cpu.gc_cpu_ms, 11.0));
    assert!(close(s.cpu.available_cpu_ms, 1017.0 * 4.0));
}

/// One line as each Go version prints it. 1.19, 1.22 and 1.23 are also covered by real
/// captures; the others follow the runtime source (mgc.go, mgcscavenge.go, proc.go) or
/// published output, and are synthetic.
#[test]
fn every_versions_format() {
    let gc_lines = [
        // go1.17 and earlier (no stacks/globals), as gcvis knew it.
        (
            "1.17",
            "gc 5 @0.876s 1%: 0.012+1.5+0.045 ms clock, 0.024+0.5/1.2/0.18+0.090 ms cpu, 4->5->2 MB, 5 MB goal, 8 P",
            false,
        ),
        // go1.19 to go1.26: the same tokens (mgc.go gcMarkTermination).
        (
            "1.20",
            "gc 12 @4.096s 2%: 0.031+3.1+0.022 ms clock, 0.12+0.41/5.8/11+0.089 ms cpu, 61->63->30 MB, 62 MB goal, 1 MB stacks, 0 MB globals, 4 P",
            false,
        ),
        (
            "1.21",
            "gc 3 @0.021s 7%: 0.014+1.0+0.004 ms clock, 0.057+0.22/0.97/0.16+0.018 ms cpu, 7->8->6 MB, 8 MB goal, 0 MB stacks, 0 MB globals, 4 P",
            false,
        ),
        (
            "1.24",
            "gc 40 @10.250s 1%: 0.021+2.2+0.003 ms clock, 0.17+0.050/4.3/8.0+0.028 ms cpu, 118->119->60 MB, 122 MB goal, 0 MB stacks, 1 MB globals, 8 P (forced)",
            true,
        ),
        (
            "1.25",
            "gc 7 @1.234s 3%: 0.040+12+0.030 ms clock, 0.32+1.1/22/0+0.24 ms cpu, 210->215->100 MB, 220 MB goal, 2 MB stacks, 1 MB globals, 8 P",
            false,
        ),
        (
            "1.26",
            "gc 101 @120.500s 0%: 0.052+9.8+0.041 ms clock, 0.41+0/19/38+0.33 ms cpu, 1500->1520->760 MB, 1530 MB goal, 3 MB stacks, 1 MB globals, 8 P",
            false,
        ),
    ];
    for (v, line, forced) in gc_lines {
        let t = Trace::parse(line);
        assert_eq!((t.gc.len(), t.malformed_count), (1, 0), "go{v}: {line}");
        assert_eq!(t.gc[0].forced, forced, "go{v}");
    }
    let t = Trace::parse(gc_lines[5].1);
    let g = &t.gc[0];
    assert_eq!(
        (
            g.gc,
            g.heap_start_mib,
            g.heap_end_mib,
            g.heap_live_mib,
            g.heap_goal_mib,
            g.procs
        ),
        (101, 1500, 1520, 760, 1530, 8)
    );
    assert_eq!(
        (g.clock.mark_ms, g.cpu.background_ms, g.cpu.idle_ms),
        (9.8, 19.0, 38.0)
    );

    let scav = "scav 17336 KiB work, 82472 KiB total, 99% util (forced)\n\
                scav 52064 KiB work (bg), 0 KiB work (eager), 50200 KiB now, 48% util\n\
                scav 0 KiB work (bg), 24120 KiB work (eager), 121192 KiB now, 95% util (forced)\n\
                scav 100 KiB work (bg), 0 KiB work (eager), 121092 KiB now, 97% util [controller reset]\n";
    let t = Trace::parse(scav);
    assert_eq!((t.scav.len(), t.malformed_count), (4, 0));
    let s = summarize_scav(&t.scav).unwrap();
    assert_eq!(
        (s.lines, s.forced, s.work_total_kib, s.work_eager_total_kib),
        (4, 2, 17336 + 52064 + 24120 + 100, Some(24120))
    );
    assert_eq!(
        (
            s.released_last_kib,
            s.released_max_kib,
            s.util_min_percent,
            s.util_last_percent
        ),
        (121092, 121192, 48, 97)
    );

    let sched = "\
SCHED 0ms: gomaxprocs=4 idleprocs=2 threads=6 spinningthreads=1 idlethreads=2 runqueue=0 [0 0 0 0]
SCHED 100ms: gomaxprocs=4 idleprocs=0 threads=7 spinningthreads=0 needspinning=1 idlethreads=1 runqueue=6 [1 2 0 3]
SCHED 200ms: gomaxprocs=4 idleprocs=1 threads=7 spinningthreads=2 needspinning=0 idlethreads=3 runqueue=2 [ 0 0 4 0 ] schedticks=[ 51 51 51 51 ]
SCHED 300ms: gomaxprocs=4 idleprocs=0 threads=8 spinningthreads=0 needspinning=1 idlethreads=0 runqueue=10 gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false
  P0: status=1 schedtick=8 syscalltick=0 m=3 runqsize=2 gfreecnt=1 timerslen=1
  M0: p=nil curg=nil mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false blocked=true lockedg=nil
  G1: status=4(sleep) m=nil lockedm=nil
";
    let t = Trace::parse(sched);
    assert_eq!(
        (
            t.sched.len(),
            t.sched_detail_lines,
            t.other_lines,
            t.malformed_count
        ),
        (4, 3, 0, 0)
    );
    let s = sched_summary::summarize(&t.sched).unwrap();
    assert_eq!(
        (
            s.samples,
            s.detailed_samples,
            s.first_ms,
            s.last_ms,
            s.period_ms
        ),
        (4, 1, 0, 300, Some(100.0))
    );
    // Idle Ps 2, 0, 1, 0; every P busy in 2 of 4 samples.
    assert_eq!(
        (
            s.idle_procs.mean,
            s.idle_procs.max,
            s.all_procs_busy_fraction
        ),
        (0.75, 2.0, 0.5)
    );
    // needspinning only from the three newer lines: 1, 0, 1.
    let ns = s.need_spinning.unwrap();
    assert_eq!((ns.min, ns.max), (0.0, 1.0));
    assert!(close(ns.mean, 2.0 / 3.0));
    assert_eq!((s.global_runqueue.p50, s.global_runqueue.max), (2.0, 10.0));
    // Local sums 0, 6, 4, 2 (the detail sample's P0 line gives 2); longest single queue 4.
    let local = s.local_runqueue_total.unwrap();
    assert_eq!(
        (local.mean, local.max, s.local_runqueue_max),
        (3.0, 6.0, Some(4))
    );
    // Runnable per P: 0/4, 12/4, 6/4, 12/4.
    assert_eq!(
        (s.runnable_per_proc.max, s.runnable_per_proc.mean),
        (3.0, 1.875)
    );
    assert_eq!(
        (s.threads.max, s.spinning_threads.max, s.idle_threads.max),
        (8.0, 2.0, 3.0)
    );
}
