//! The GODEBUG trace parsers (gctrace, scavtrace, schedtrace) on arbitrary text, line by
//! line and as a whole captured stream, then the summaries of what parsed: nothing may
//! panic.
#![no_main]

use boxwise_trace::{Trace, gc, limits::Limits, scav, sched, sched_summary, summary};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for (i, line) in text.lines().enumerate() {
        let _ = gc::parse(line, i + 1);
        let _ = scav::parse(line, i + 1);
        let _ = sched::parse(line, i + 1);
        let _ = sched::parse_p_detail(line);
    }
    let trace = Trace::parse(&text);
    let limits = Limits {
        gomemlimit_bytes: Some(64 << 20),
        memory_limit_bytes: Some(128 << 20),
    };
    let _ = summary::summarize(&trace.gc, limits);
    let _ = summary::summarize(&trace.gc, Limits::default());
    let _ = summary::summarize_scav(&trace.scav);
    let _ = sched_summary::summarize(&trace.sched);
});
