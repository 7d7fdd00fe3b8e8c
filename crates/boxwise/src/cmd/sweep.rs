//! `boxwise sweep`: run the workload under every configuration, repeatedly, in a fair
//! order, and compare. Each run goes through `boxwise run`'s machinery (a transient cgroup);
//! the numbers come from the cgroup, the GC trace, the load generator and the workload's
//! own output. The pure parts (matrix, order, statistics, verdict) live in crates/sweep.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use boxwise_box::goenv::{GoMemLimit, parse_gomemlimit};
use boxwise_lab::{Limits, RunSpec, RunStats};
use boxwise_loadgen::{LoadReport, LoadSpec};
use boxwise_sweep::order::schedule;
use boxwise_sweep::verdict::{Better, verdict_with_failures};
use boxwise_sweep::{Config, matrix};
use boxwise_trace::Trace;
use boxwise_trace::limits::Limits as TraceLimits;
use serde::Serialize;

use crate::cli::SweepArgs;
use crate::report::sweep::{self as render, ConfigRow, Objective};

/// One run, as written to `--json` (`runs`).
#[derive(Debug, Serialize)]
pub struct RunRecord {
    /// Position in the run order.
    pub index: usize,
    /// Which configuration (index into `summary`).
    pub config_index: usize,
    pub config: Config,
    pub cpu_seconds: Option<f64>,
    pub wall_seconds: f64,
    pub stats: RunStats,
    /// Every number measured in this run, by name (see docs/sweep.md).
    pub metrics: BTreeMap<String, f64>,
    pub load: Option<LoadReport>,
    /// What went wrong around the run (readiness, load), if anything.
    pub error: Option<String>,
    /// The run failed: see [`failure`]. Its numbers stay here but are left out of the
    /// summary and the verdict, and its configuration is never recommended.
    pub failed: bool,
    /// Why it failed.
    pub failure: Option<String>,
}

/// Why a run failed, if it did: it was OOM-killed, the sweep was interrupted while it
/// ran, the readiness check or the load failed (`error`), or it exited non-zero by
/// itself. Under `--http` the sweep stops the service with SIGTERM, so exit status 143
/// (128 + SIGTERM) is the normal end there.
fn failure(
    error: Option<&str>,
    oom_killed: bool,
    exit_code: i32,
    http: bool,
    interrupted: bool,
) -> Option<String> {
    let stopped_by_us = http && exit_code == 128 + 15;
    if oom_killed {
        Some(format!("OOM-killed (exit status {exit_code})"))
    } else if interrupted {
        Some("interrupted".into())
    } else if let Some(e) = error {
        Some(e.to_string())
    } else if exit_code != 0 && !stopped_by_us {
        Some(format!("exited with {exit_code}"))
    } else {
        None
    }
}

/// A private directory for the runs' output files (mode 0700, a fresh random name),
/// removed on drop.
fn scratch_dir() -> anyhow::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("boxwise-sweep-")
        .tempdir()
        .with_context(|| {
            format!(
                "cannot create a scratch directory in {}",
                std::env::temp_dir().display()
            )
        })
}

pub fn run(args: SweepArgs) -> anyhow::Result<ExitCode> {
    let configs = matrix(&args.cpus, &args.memory, &args.env);
    let seed = args.seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let order = schedule(configs.len(), args.repeat as usize, seed);
    if let Some(m) = args.metric.iter().find(|m| render::is_builtin(&m.name)) {
        anyhow::bail!(
            "--metric {}: that name is measured by boxwise itself; choose another",
            m.name
        );
    }
    let objective = Objective::choose(
        args.objective.as_deref(),
        args.http.is_some(),
        args.metric.first().map(|m| m.name.as_str()),
    )?;
    let scratch = scratch_dir()?;
    eprintln!(
        "boxwise: sweep: {} configuration(s) x {} repeat(s) = {} runs, in random order (seed {seed})",
        configs.len(),
        args.repeat,
        order.len()
    );

    let mut runs: Vec<RunRecord> = Vec::new();
    let progress = Progress::new(order.len());
    // Held for the whole sweep: Ctrl-C reaches the running workload (and only it), and is
    // remembered so no further run starts; the summary of what ran is still printed.
    let signals = boxwise_lab::signals::Forwarding::install();
    for (index, &config_index) in order.iter().enumerate() {
        if signals.interrupted().is_some() {
            break;
        }
        let config = &configs[config_index];
        let record = run_one(&args, config, config_index, index, scratch.path(), &signals)?;
        progress.ran(index, config, &record, &objective);
        runs.push(record);
    }
    progress.finish();
    let interrupted = signals.interrupted();
    drop(signals);
    if interrupted.is_some() {
        eprintln!(
            "boxwise: sweep interrupted; summarising the {} run(s) done",
            runs.len()
        );
    }

    let rows: Vec<ConfigRow> = configs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            ConfigRow::new(
                c,
                runs.iter()
                    .filter(|r| r.config_index == i)
                    .map(|r| (&r.metrics, r.failed)),
            )
        })
        .collect();
    // Failed runs' numbers describe a crash, not the configuration: they count only as
    // failures.
    let values = runs_by_config(&runs, rows.len(), &objective.name);
    let failed: Vec<usize> = rows.iter().map(|r| r.failed_runs).collect();
    let entries: Vec<(String, Vec<f64>)> = rows
        .iter()
        .map(|r| r.label.clone())
        .zip(values.iter().cloned())
        .collect();
    let better = if objective.higher_is_better {
        Better::Higher
    } else {
        Better::Lower
    };
    let verdict = verdict_with_failures(&objective.name, better, &entries, &failed);

    let custom: Vec<String> = args.metric.iter().map(|m| m.name.clone()).collect();
    if args.markdown {
        print!(
            "{}",
            render::markdown(&rows, &objective, &custom, &verdict.message)
        );
    } else {
        print!(
            "{}",
            render::table(&rows, &objective, &custom, &verdict.message)
        );
    }
    if let Some(path) = &args.json {
        let doc = serde_json::json!({
            "seed": seed,
            "objective": objective.name,
            "best": verdict.best.map(|i| &rows[i].label),
            "verdict": verdict.message,
            "p_value": verdict.p_value,
            "runs": runs,
            "summary": rows,
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.plot {
        let svg = render::plot(&rows, &values, &objective);
        std::fs::write(path, svg).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(match interrupted {
        Some(sig) => ExitCode::from(128 + sig as u8),
        None => ExitCode::SUCCESS,
    })
}

/// The objective's values per configuration, from the runs that did not fail.
fn runs_by_config(runs: &[RunRecord], configs: usize, metric: &str) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new(); configs];
    for r in runs.iter().filter(|r| !r.failed) {
        if let Some(v) = r.metrics.get(metric) {
            out[r.config_index].push(*v);
        }
    }
    out
}

fn run_one(
    args: &SweepArgs,
    config: &Config,
    config_index: usize,
    index: usize,
    scratch: &Path,
    signals: &boxwise_lab::signals::Forwarding,
) -> anyhow::Result<RunRecord> {
    let (program, rest) = args.command.split_first().context("no command given")?;
    let stdout = scratch.join(format!("run-{index}.out"));
    let stderr = scratch.join(format!("run-{index}.err"));
    let mut env: Vec<(String, String)> = config.env.clone();
    if !args.no_gctrace {
        let godebug = env
            .iter()
            .find(|(k, _)| k == "GODEBUG")
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var("GODEBUG").ok());
        let with_trace = match godebug {
            Some(g) if !g.is_empty() => format!("{g},gctrace=1"),
            _ => "gctrace=1".to_string(),
        };
        env.retain(|(k, _)| k != "GODEBUG");
        env.push(("GODEBUG".into(), with_trace));
    }
    let spec = RunSpec {
        program: program.clone(),
        args: rest.to_vec(),
        env: env.iter().map(|(k, v)| (k.into(), v.into())).collect(),
        limits: Limits {
            cpus: config.cpus,
            memory: config.memory,
            ..Limits::default()
        },
        stdout: Some(stdout.clone()),
        stderr: Some(stderr.clone()),
        ..RunSpec::default()
    };

    let mut load: Option<Result<LoadReport, String>> = None;
    let stats = match &args.http {
        Some(url) => {
            let rate = args.rate.context("--http needs --rate")?;
            let mut spec_load = LoadSpec::new(url.clone(), rate, args.duration);
            spec_load.connections = args.connections;
            let ready_timeout = args.ready_timeout;
            boxwise_lab::run_controlled(&spec, |pid| {
                load = Some(
                    boxwise_loadgen::wait_ready(url, ready_timeout)
                        .and_then(|()| boxwise_loadgen::run(&spec_load))
                        .map_err(|e| e.to_string()),
                );
                // The service would run forever: stop it once the load is done.
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGTERM,
                );
            })?
        }
        None => boxwise_lab::run(&spec)?,
    };

    let out_text = std::fs::read_to_string(&stdout).unwrap_or_default();
    let err_text = std::fs::read_to_string(&stderr).unwrap_or_default();
    let _ = std::fs::remove_file(&stdout);
    let _ = std::fs::remove_file(&stderr);

    let mut metrics = BTreeMap::new();
    metrics.insert("wall_seconds".to_string(), stats.wall_seconds);
    if let Some(c) = stats.cpu_seconds {
        metrics.insert("cpu_seconds".into(), c);
    }
    if let (Some(t), Some(n)) = (stats.throttled_periods, stats.nr_periods)
        && n > 0
    {
        metrics.insert("throttled_pct".into(), 100.0 * t as f64 / n as f64);
    }
    if let Some(p) = stats.peak_memory_bytes {
        metrics.insert("peak_memory_mib".into(), p as f64 / (1 << 20) as f64);
    }
    let gomemlimit =
        config.env.iter().find(|(k, _)| k == "GOMEMLIMIT").and_then(
            |(_, v)| match parse_gomemlimit(v) {
                Ok(GoMemLimit::Bytes(b)) => Some(b),
                _ => None,
            },
        );
    let trace = Trace::parse(&err_text);
    let gc_limits = TraceLimits {
        gomemlimit_bytes: gomemlimit,
        memory_limit_bytes: config.memory,
    };
    if let Some(gc) = boxwise_trace::summary::summarize(&trace.gc, gc_limits) {
        metrics.insert("gc_count".into(), gc.cycles as f64);
        // Over the whole run, not between the first and last cycle: a burst of cycles at
        // start-up would otherwise read as a huge rate.
        metrics.insert(
            "gc_per_second".into(),
            gc.cycles as f64 / stats.wall_seconds.max(1e-9),
        );
        if let Some(f) = gc.cpu.gc_cpu_fraction {
            metrics.insert("gc_cpu_pct".into(), 100.0 * f);
        }
        metrics.insert("gc_pause_total_ms".into(), gc.pause_total_ms);
    }
    let mut error = None;
    let load = match load {
        Some(Ok(report)) => {
            for (name, v) in [
                ("p50", report.p50_ms),
                ("p90", report.p90_ms),
                ("p99", report.p99_ms),
                ("p999", report.p999_ms),
                ("max", report.max_ms),
            ] {
                if let Some(v) = v {
                    metrics.insert(name.into(), v);
                }
            }
            metrics.insert("achieved_rate".into(), report.achieved_rate);
            metrics.insert("errors".into(), report.errors as f64);
            Some(report)
        }
        Some(Err(e)) => {
            error = Some(e);
            None
        }
        None => None,
    };
    let output = format!("{out_text}\n{err_text}");
    for m in &args.metric {
        if let Some(v) = m.extract(&output) {
            metrics.insert(m.name.clone(), v);
        }
    }
    // A failed run is worth a line: its numbers are left out. A run during which the
    // sweep was interrupted was cut short, whatever its exit status says (a workload may
    // exit 0 on SIGINT).
    let failure = failure(
        error.as_deref(),
        stats.oom_killed,
        stats.exit_code,
        args.http.is_some(),
        signals.interrupted().is_some(),
    );
    if let Some(why) = &failure {
        let last = err_text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty() && !l.starts_with("gc "))
            .filter(|_| error.is_none());
        eprintln!(
            "boxwise: warning: run {} ({}) failed: {why}{}",
            index + 1,
            config.label(),
            last.map(|l| format!(": {l}")).unwrap_or_default()
        );
    }
    Ok(RunRecord {
        index,
        config_index,
        config: config.clone(),
        cpu_seconds: stats.cpu_seconds,
        wall_seconds: stats.wall_seconds,
        stats,
        metrics,
        load,
        error,
        failed: failure.is_some(),
        failure,
    })
}

/// A progress bar on a terminal, one line per run otherwise (CI logs, pipes).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
}

impl Progress {
    fn new(total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} runs, {elapsed} ({eta} left) {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar, total }
    }

    fn ran(&self, index: usize, config: &Config, record: &RunRecord, objective: &Objective) {
        let value = record
            .metrics
            .get(&objective.name)
            .map_or("-".to_string(), |v| render::number(*v));
        let failed = record
            .failure
            .as_ref()
            .map(|why| format!(" (failed: {why})"))
            .unwrap_or_default();
        let line = format!(
            "run {}/{}: {}: {} {value}{failed}",
            index + 1,
            self.total,
            config.label(),
            objective.name
        );
        match &self.bar {
            Some(bar) => {
                bar.set_message(line);
                bar.inc(1);
            }
            None => eprintln!("boxwise: {line}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::failure;

    #[test]
    fn what_counts_as_a_failed_run() {
        // Clean exit; under --http the sweep's own SIGTERM is the normal end.
        assert_eq!(failure(None, false, 0, false, false), None);
        assert_eq!(failure(None, false, 143, true, false), None);
        // A SIGTERM from elsewhere without --http, or any other status, is a failure.
        assert_eq!(
            failure(None, false, 143, false, false).as_deref(),
            Some("exited with 143")
        );
        assert_eq!(
            failure(None, false, 2, true, false).as_deref(),
            Some("exited with 2")
        );
        // The kernel's OOM killer, even when the workload's status looks normal.
        assert_eq!(
            failure(None, true, 137, false, false).as_deref(),
            Some("OOM-killed (exit status 137)")
        );
        assert!(failure(None, true, 143, true, false).is_some());
        // The load or the readiness check failed, though the service exited as asked.
        assert_eq!(
            failure(Some("not ready after 10s"), false, 143, true, false).as_deref(),
            Some("not ready after 10s")
        );
        // Interrupted: cut short, even when it exited 0.
        assert_eq!(
            failure(None, false, 0, false, true).as_deref(),
            Some("interrupted")
        );
    }
}
