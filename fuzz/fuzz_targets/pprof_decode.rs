//! Decode arbitrary bytes (raw and as if gzip), then run every report on what decodes:
//! nothing may panic.
#![no_main]

use boxwise_pprof::{decode, filter, flame, summary, top};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut p) = decode(data) {
        let _ = filter::remove_uninteresting(&mut p);
        filter::simplify_names(&mut p);
        let _ = top::top(&p, &top::TopOptions::default());
        if let Ok(vi) = p.sample_index(None) {
            let all: Vec<usize> = (0..p.samples.len()).collect();
            let lines = flame::folded(&p, &all, vi);
            let _ = flame::svg(
                &lines,
                &flame::SvgOptions {
                    title: String::new(),
                    unit: String::new(),
                    min_width_px: 0.1,
                },
            );
            let _ = summary::summarize(&p, &all, vi, 3);
        }
    }
});
