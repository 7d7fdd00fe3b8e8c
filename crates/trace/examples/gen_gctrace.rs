//! Writes N synthetic gctrace lines (Go 1.23 shape, every 50th forced, a scavenger line
//! every 10th cycle) to stdout, for the `boxwise gctrace` benchmark in docs/benchmarks.md:
//!
//!     cargo run --release -p boxwise-trace --example gen_gctrace -- 1000000 > gc1m.log

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut out = BufWriter::new(std::io::stdout().lock());
    // A small LCG: varied digits without a dependency, the same file every run.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) % m
    };
    let mut line = 0;
    let mut gc = 0;
    while line < n {
        gc += 1;
        let ms = gc * 7;
        let live = 20 + next(80);
        let forced = if gc % 50 == 0 { " (forced)" } else { "" };
        writeln!(
            out,
            "gc {gc} @{}.{:03}s {}%: 0.{:03}+{}.{}+0.0{:02} ms clock, 0.{:03}+{}.{}/{}.{}/0.{:02}+0.0{:02} ms cpu, {}->{}->{} MB, {} MB goal, 0 MB stacks, 0 MB globals, 4 P{forced}",
            ms / 1000,
            ms % 1000,
            1 + next(9),
            next(1000),
            next(20),
            next(10),
            next(100),
            next(1000),
            next(3),
            next(10),
            next(9),
            next(10),
            next(100),
            next(100),
            live * 2,
            live * 2 + next(10),
            live,
            live * 2 + 5
        )?;
        line += 1;
        if gc % 10 == 0 && line < n {
            writeln!(
                out,
                "scav {} KiB work (bg), 0 KiB work (eager), {} KiB now, {}% util",
                next(9000),
                next(90000),
                50 + next(50)
            )?;
            line += 1;
        }
    }
    out.flush()
}
