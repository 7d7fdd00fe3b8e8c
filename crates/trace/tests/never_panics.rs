//! The parser is fed untrusted text (any program's stderr): it must never panic, and what
//! it accepts must be consistent with the input.

use boxwise_trace::limits::Limits;
use boxwise_trace::{Trace, sched_summary, summary};
use proptest::prelude::*;

const REAL: [&str; 4] = [
    "gc 7 @0.172s 1%: 1.3+6.0+0.75 ms clock, 2.7+0/2.0/0+1.5 ms cpu, 94->97->13 MB, 109 MB goal, 0 MB stacks, 0 MB globals, 2 P",
    "scav 52064 KiB work (bg), 0 KiB work (eager), 50200 KiB now, 48% util",
    "SCHED 0ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 needspinning=1 idlethreads=2 runqueue=0 [0 0]",
    "  P0: status=1 schedtick=287 syscalltick=4 m=2 runqsize=0 gfreecnt=0 timerslen=1",
];

/// Lines made of the tokens trace lines are built from, so mutations get deep into the
/// parsers rather than failing on the first byte.
fn tokeny_line() -> impl Strategy<Value = String> {
    let tok = prop::sample::select(vec![
        "gc ",
        "SCHED ",
        "scav ",
        "@",
        "s ",
        "%: ",
        "+",
        "/",
        " ms clock, ",
        " ms cpu, ",
        "->",
        " MB, ",
        " MB goal, ",
        " MB stacks, ",
        " MB globals, ",
        " P",
        " (forced)",
        "ms:",
        " gomaxprocs=",
        " idleprocs=",
        " threads=",
        " spinningthreads=",
        " needspinning=",
        " idlethreads=",
        " runqueue=",
        "[",
        "]",
        " ",
        "0",
        "1",
        "42",
        "0.044",
        "18446744073709551616",
        "4294967296",
        ".",
        " KiB work, ",
        " KiB total, ",
        "% util",
        "  P",
        ": runqsize=",
        "gcwaiting=false",
        "é",
        "\u{0}",
    ]);
    prop::collection::vec(tok, 0..40).prop_map(|v| v.concat())
}

fn check(text: &str) {
    let t = Trace::parse(text);
    assert_eq!(t.lines, text.lines().count());
    let accounted = t.gc.len()
        + t.scav.len()
        + t.sched.len()
        + t.periodic_gc_lines
        + t.sched_detail_lines
        + t.other_lines
        + t.malformed_count
        + t.rejoined_lines;
    assert_eq!(accounted, t.lines, "every line is counted once");
    let limits = Limits {
        gomemlimit_bytes: Some(1),
        memory_limit_bytes: Some(u64::MAX),
    };
    if let Some(s) = summary::summarize(&t.gc, limits) {
        assert!(s.pause_total_ms >= 0.0 && s.cpu.gc_cpu_ms >= 0.0);
    }
    let _ = summary::summarize_scav(&t.scav);
    let _ = sched_summary::summarize(&t.sched);
    for s in &t.sched {
        let _ = s.runnable();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text(text in ".{0,400}") {
        check(&text);
    }

    #[test]
    fn token_soup(lines in prop::collection::vec(tokeny_line(), 0..20)) {
        check(&lines.join("\n"));
    }

    #[test]
    fn mutated_real_lines(which in 0..REAL.len(), cut in 0usize..200, insert in ".{0,3}", at in 0usize..200) {
        let line = REAL[which];
        let mut s: String = line.chars().take(cut).collect();
        let at = s.char_indices().map(|(i, _)| i).nth(at).unwrap_or(s.len());
        s.insert_str(at, &insert);
        // A detail line only counts under a detailed sample; give it one.
        let text = format!("SCHED 1ms: gomaxprocs=2 idleprocs=0 threads=1 spinningthreads=0 idlethreads=0 runqueue=0 gcwaiting=false\n{s}\n{line}");
        check(&text);
    }
}

/// Inputs that once crashed the parser or blew up memory (found in review).
#[test]
fn review_regressions() {
    // A P detail line beyond the header's short run-queue list.
    let t = Trace::parse(
        "SCHED 0ms: gomaxprocs=4 idleprocs=0 threads=5 spinningthreads=0 idlethreads=2 runqueue=6 [1] gcwaiting=false\n  P3: status=1 runqsize=5\n",
    );
    assert_eq!(
        t.sched[0].local_runqueues.as_deref(),
        Some(&[1, 0, 0, 5][..])
    );
    // A huge gomaxprocs must not size anything.
    let t = Trace::parse(
        "SCHED 0ms: gomaxprocs=400000000 idleprocs=0 threads=5 spinningthreads=0 idlethreads=2 runqueue=6 gcwaiting=false\n  P3: status=1 runqsize=5\n",
    );
    assert_eq!(t.sched[0].local_runqueues.as_ref().map(Vec::len), Some(4));
    // Cycle numbers at the top of u64: the missing-cycle count saturates.
    let line = |n: u64, at: f64| {
        format!(
            "gc {n} @{at}s 1%: 0.01+1+0.01 ms clock, 0.02+0.1/1/0+0.02 ms cpu, 4->4->0 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P\n"
        )
    };
    let text = [
        line(1, 0.1),
        line(u64::MAX, 0.2),
        line(1, 0.3),
        line(u64::MAX, 0.4),
    ]
    .concat();
    check(&text);
    let t = Trace::parse(&text);
    let s = summary::summarize(&t.gc, Limits::default()).unwrap();
    assert_eq!(s.missing_cycles, u64::MAX);
}
