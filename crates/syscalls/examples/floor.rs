//! Interleaved runs of a command bare, under empty programs on sys_enter/sys_exit (and as
//! fentry/fexit on x64_sys_call), under
//! the tgid check alone, and under `boxwise syscalls` (with and without --latency):
//! medians of the wall time from release to exit. Needs root (BPF).
//!
//! cargo run --release -p boxwise-syscalls --example floor -- RUNS CMD ARGS...

use std::ffi::OsString;
use std::time::Duration;

use boxwise_syscalls::floor::{self, Variant};

fn main() {
    let mut args = std::env::args_os().skip(1);
    let runs: usize = args
        .next()
        .and_then(|r| r.to_str()?.parse().ok())
        .unwrap_or_else(|| {
            eprintln!("usage: floor RUNS CMD ARGS...");
            std::process::exit(2)
        });
    let argv: Vec<OsString> = args.collect();
    if argv.is_empty() {
        eprintln!("usage: floor RUNS CMD ARGS...");
        std::process::exit(2);
    }
    let variants: Vec<Variant> = match std::env::var("VARIANTS") {
        Ok(v) => Variant::ALL
            .into_iter()
            .filter(|x| v.split(',').any(|n| n == format!("{x:?}").to_lowercase()))
            .collect(),
        Err(_) => Variant::ALL.to_vec(),
    };
    // A variant this kernel refuses (fentry/fexit where trampolines are not allowed) is
    // reported as such instead of ending the whole measurement.
    let mut refused: Vec<Option<String>> = vec![None; variants.len()];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); variants.len()];
    let mut cpus: Vec<Vec<Duration>> = vec![Vec::new(); variants.len()];
    for _ in 0..runs {
        for (i, v) in variants.iter().enumerate() {
            if refused[i].is_some() {
                continue;
            }
            match floor::run(*v, &argv) {
                Ok(m) => {
                    times[i].push(m.wall);
                    cpus[i].push(m.cpu);
                }
                Err(e) if *v == Variant::EmptyFentry => refused[i] = Some(e.to_string()),
                Err(e) => {
                    eprintln!("floor: {}: {e}", v.name());
                    std::process::exit(1);
                }
            }
        }
    }
    // The middle of each variant's runs (zero for a variant that never ran, e.g. refused).
    let medians = |runs: &mut [Vec<Duration>]| -> Vec<Duration> {
        runs.iter_mut()
            .map(|t| {
                t.sort();
                t.get(t.len() / 2).copied().unwrap_or(Duration::ZERO)
            })
            .collect()
    };
    let meds = medians(&mut times);
    let cpu_meds = medians(&mut cpus);
    let (base, cpu_base) = (meds[0].as_secs_f64(), cpu_meds[0].as_secs_f64());
    println!("| attached | wall s | vs first | CPU s | vs first |");
    println!("|:---|---:|---:|---:|---:|");
    for (((v, m), c), r) in variants.iter().zip(&meds).zip(&cpu_meds).zip(&refused) {
        if let Some(why) = r {
            println!("| {} | refused: {why} | | | |", v.name());
            continue;
        }
        println!(
            "| {} | {:.3} | {:.2}x | {:.3} | {:.2}x |",
            v.name(),
            m.as_secs_f64(),
            m.as_secs_f64() / base,
            c.as_secs_f64(),
            c.as_secs_f64() / cpu_base
        );
    }
}
