//! `boxwise sweep`: run the workload under every configuration, repeatedly, in a fair
//! order, and compare. Each run goes through `boxwise run`'s machinery (a transient cgroup);
//! the numbers come from the cgroup, the GC trace, the load generator and the workload's
//! own output. The pure parts (matrix, order, run metrics and failures, the objective,
//! statistics, verdict) live in crates/sweep; this module runs the workloads.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use boxwise_lab::{Limits, RunSpec, RunStats};
use boxwise_loadgen::{LoadReport, LoadSpec};
use boxwise_sweep::measure::{self, Ending, Failure, LoadFacts, RunFacts};
use boxwise_sweep::objective::check_custom_names;
use boxwise_sweep::order::schedule;
use boxwise_sweep::summary::{Ran, outcome};
use boxwise_sweep::{Config, Metrics, Objective, matrix};
use serde::Serialize;

use crate::cli::SweepArgs;
use crate::report::sweep as render;

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
    pub metrics: Metrics,
    pub load: Option<LoadReport>,
    /// What went wrong around the run (readiness, load), if anything.
    pub error: Option<String>,
    /// The run failed: see [`Failure`]. Its numbers stay here but are left out of the
    /// summary and the verdict, and its configuration is never recommended.
    pub failed: bool,
    /// Why it failed.
    pub failure: Option<Failure>,
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
    // Choices that cannot work are usage errors, refused before any workload starts.
    let custom: Vec<&str> = args.metric.iter().map(|m| m.name.as_str()).collect();
    let objective = match check_custom_names(custom.iter().copied())
        .and_then(|()| Objective::choose(args.objective.as_deref(), args.http.is_some(), &custom))
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("boxwise: {e}");
            return Ok(ExitCode::from(2));
        }
    };
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

    let ran: Vec<Ran> = runs
        .iter()
        .map(|r| Ran {
            config_index: r.config_index,
            metrics: &r.metrics,
            failed: r.failed,
        })
        .collect();
    let outcome = outcome(&configs, &ran, &objective);
    let (rows, verdict) = (&outcome.rows, &outcome.verdict);

    let custom: Vec<String> = args.metric.iter().map(|m| m.name.clone()).collect();
    if args.markdown {
        print!(
            "{}",
            render::markdown(rows, &objective, &custom, &verdict.message)
        );
    } else {
        print!(
            "{}",
            render::table(rows, &objective, &custom, &verdict.message)
        );
    }
    if let Some(path) = &args.json {
        let doc = serde_json::json!({
            "seed": seed,
            "objective": objective.metric,
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
        let svg = render::plot(rows, &outcome.values, &objective);
        std::fs::write(path, svg).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let all_failed = !runs.is_empty() && runs.iter().all(|r| r.failed);
    if all_failed && interrupted.is_none() {
        eprintln!("boxwise: every run failed, so nothing was measured (see the warnings above)");
    }
    Ok(match interrupted {
        Some(sig) => ExitCode::from(128 + sig as u8),
        None if all_failed => ExitCode::from(1),
        None => ExitCode::SUCCESS,
    })
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
    let env = if args.no_gctrace {
        config.env.clone()
    } else {
        measure::with_traces(&config.env, std::env::var("GODEBUG").ok().as_deref())
    };
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

    let (load, error) = match load {
        Some(Ok(report)) => (Some(report), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let metrics = measure::derive(
        config,
        &run_facts(&stats),
        load.as_ref().map(load_facts).as_ref(),
        &out_text,
        &err_text,
        &args.metric,
    );
    // A failed run is worth a line: its numbers are left out.
    let failure = Failure::classify(&Ending {
        error: error.as_deref(),
        oom_killed: stats.oom_killed,
        exit_code: stats.exit_code,
        http: args.http.is_some(),
        interrupted: signals.interrupted().is_some(),
    });
    if let Some(why) = &failure {
        let last = measure::last_words(&err_text).filter(|_| error.is_none());
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

fn run_facts(stats: &RunStats) -> RunFacts {
    RunFacts {
        wall_seconds: stats.wall_seconds,
        cpu_seconds: stats.cpu_seconds,
        throttled_periods: stats.throttled_periods,
        nr_periods: stats.nr_periods,
        peak_memory_bytes: stats.peak_memory_bytes,
    }
}

fn load_facts(r: &LoadReport) -> LoadFacts {
    LoadFacts {
        p50_ms: r.p50_ms,
        p90_ms: r.p90_ms,
        p99_ms: r.p99_ms,
        p999_ms: r.p999_ms,
        max_ms: r.max_ms,
        achieved_rate: r.achieved_rate,
        errors: r.errors,
    }
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
            .get(&objective.metric)
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
            objective.metric
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
