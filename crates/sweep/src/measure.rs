//! One run's numbers and whether it failed, from what the caller measured: the cgroup's
//! counters, the workload's stdout and stderr (with the GC trace), the load report.
//! Pure: the caller runs the workload and reads the files.

use std::fmt;

use boxwise_box::goenv::{GoMemLimit, parse_gomemlimit};
use boxwise_trace::Trace;
use boxwise_trace::limits::Limits as TraceLimits;
use serde::{Serialize, Serializer};

use crate::Config;
use crate::metric::{Metric, MetricId, Metrics};
use crate::metrics::MetricPattern;

/// What the run's cgroup said (the fields of `boxwise run`'s statistics that become metrics).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFacts {
    pub wall_seconds: f64,
    pub cpu_seconds: Option<f64>,
    pub throttled_periods: Option<u64>,
    pub nr_periods: Option<u64>,
    pub peak_memory_bytes: Option<u64>,
}

/// What the load generator said (`--http`), in milliseconds and requests per second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadFacts {
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub achieved_rate: f64,
    pub errors: u64,
}

/// Every number measured in one run. `stdout` and `stderr` are the workload's; the GC trace
/// is read from stderr, the `--metric` patterns from both.
pub fn derive(
    config: &Config,
    run: &RunFacts,
    load: Option<&LoadFacts>,
    stdout: &str,
    stderr: &str,
    custom: &[MetricPattern],
) -> Metrics {
    let mut metrics = Metrics::default();
    metrics.insert(Metric::WallSeconds, run.wall_seconds);
    if let Some(c) = run.cpu_seconds {
        metrics.insert(Metric::CpuSeconds, c);
    }
    if let (Some(t), Some(n)) = (run.throttled_periods, run.nr_periods)
        && n > 0
    {
        metrics.insert(Metric::ThrottledPct, 100.0 * t as f64 / n as f64);
    }
    if let Some(p) = run.peak_memory_bytes {
        metrics.insert(Metric::PeakMemoryMib, p as f64 / (1 << 20) as f64);
    }
    let trace = Trace::parse(stderr);
    let limits = TraceLimits {
        gomemlimit_bytes: gomemlimit_bytes(config),
        memory_limit_bytes: config.memory,
    };
    // GOMAXPROCS as the runtime reported it in its first and last schedtrace line: equal
    // unless the runtime followed a change (Go 1.25+).
    if let (Some(first), Some(last)) = (trace.sched.first(), trace.sched.last()) {
        metrics.insert(Metric::GomaxprocsFirst, f64::from(first.gomaxprocs));
        metrics.insert(Metric::GomaxprocsLast, f64::from(last.gomaxprocs));
    }
    if let Some(gc) = boxwise_trace::summary::summarize(&trace.gc, limits) {
        metrics.insert(Metric::GcCount, gc.cycles as f64);
        // Over the whole run, not between the first and last cycle: a burst of cycles at
        // start-up would otherwise read as a huge rate.
        metrics.insert(
            Metric::GcPerSecond,
            gc.cycles as f64 / run.wall_seconds.max(1e-9),
        );
        if let Some(f) = gc.cpu.gc_cpu_fraction {
            metrics.insert(Metric::GcCpuPct, 100.0 * f);
        }
        metrics.insert(Metric::GcPauseTotalMs, gc.pause_total_ms);
    }
    if let Some(load) = load {
        for (m, v) in [
            (Metric::P50, load.p50_ms),
            (Metric::P90, load.p90_ms),
            (Metric::P99, load.p99_ms),
            (Metric::P999, load.p999_ms),
            (Metric::Max, load.max_ms),
        ] {
            if let Some(v) = v {
                metrics.insert(m, v);
            }
        }
        metrics.insert(Metric::AchievedRate, load.achieved_rate);
        metrics.insert(Metric::Errors, load.errors as f64);
    }
    let output = format!("{stdout}\n{stderr}");
    for m in custom {
        if let Some(v) = m.extract(&output) {
            metrics.insert(MetricId::parse(&m.name), v);
        }
    }
    metrics
}

/// The configuration's GOMEMLIMIT in bytes, when it sets a valid one.
pub fn gomemlimit_bytes(config: &Config) -> Option<u64> {
    let (_, v) = config.env.iter().find(|(k, _)| k == "GOMEMLIMIT")?;
    match parse_gomemlimit(v) {
        Ok(GoMemLimit::Bytes(b)) => Some(b),
        _ => None,
    }
}

/// How often the scheduler trace is asked for (ms): enough for GOMAXPROCS first and last.
pub const SCHEDTRACE_MS: u32 = 1000;

/// The environment for a run with the GC and scheduler traces on: `gctrace=1` and
/// `schedtrace=1000` appended to the GODEBUG the configuration sets, else to the one
/// inherited, so the user's settings still apply (a schedtrace already there is kept).
pub fn with_traces(
    env: &[(String, String)],
    inherited_godebug: Option<&str>,
) -> Vec<(String, String)> {
    let godebug = env
        .iter()
        .find(|(k, _)| k == "GODEBUG")
        .map(|(_, v)| v.as_str())
        .or(inherited_godebug);
    let has_sched =
        godebug.is_some_and(|g| g.split(',').any(|kv| kv.trim().starts_with("schedtrace=")));
    let ours = if has_sched {
        "gctrace=1".to_string()
    } else {
        format!("gctrace=1,schedtrace={SCHEDTRACE_MS}")
    };
    let with_trace = match godebug {
        Some(g) if !g.is_empty() => format!("{g},{ours}"),
        _ => ours,
    };
    let mut out: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| k != "GODEBUG")
        .cloned()
        .collect();
    out.push(("GODEBUG".into(), with_trace));
    out
}

/// Why a run failed. Its numbers are kept in the run's record but left out of the summary
/// and the verdict, and its configuration is never recommended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    OomKilled {
        exit_code: i32,
    },
    /// The sweep was interrupted while it ran.
    Interrupted,
    /// The readiness check or the load failed.
    Load(String),
    /// It exited non-zero by itself.
    Exited(i32),
}

/// How a run ended, as the caller saw it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ending<'a> {
    /// What went wrong around the run (readiness, load), if anything.
    pub error: Option<&'a str>,
    pub oom_killed: bool,
    pub exit_code: i32,
    /// Under `--http`, where the sweep stops the service with SIGTERM itself.
    pub http: bool,
    pub interrupted: bool,
}

impl Failure {
    /// Whether the run failed, and why: an OOM kill first (whatever the status says), then
    /// an interruption (a workload may exit 0 on SIGINT), then the load, then the exit
    /// status. Under `--http` exit status 143 (128 + SIGTERM) is the normal end.
    pub fn classify(end: &Ending) -> Option<Failure> {
        let stopped_by_us = end.http && end.exit_code == 128 + 15;
        if end.oom_killed {
            Some(Failure::OomKilled {
                exit_code: end.exit_code,
            })
        } else if end.interrupted {
            Some(Failure::Interrupted)
        } else if let Some(e) = end.error {
            Some(Failure::Load(e.to_string()))
        } else if end.exit_code != 0 && !stopped_by_us {
            Some(Failure::Exited(end.exit_code))
        } else {
            None
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::OomKilled { exit_code } => write!(f, "OOM-killed (exit status {exit_code})"),
            Failure::Interrupted => f.write_str("interrupted"),
            Failure::Load(e) => f.write_str(e),
            Failure::Exited(code) => write!(f, "exited with {code}"),
        }
    }
}

/// As its message: the JSON has always carried a string.
impl Serialize for Failure {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The workload's last words on stderr (its last line that is not GC or scheduler trace), to show
/// beside a failure.
pub fn last_words(stderr: &str) -> Option<&str> {
    stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with("gc ") && !l.starts_with("SCHED "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix;

    fn end(error: Option<&str>, oom: bool, code: i32, http: bool, intr: bool) -> Ending<'_> {
        Ending {
            error,
            oom_killed: oom,
            exit_code: code,
            http,
            interrupted: intr,
        }
    }

    #[test]
    fn what_counts_as_a_failed_run() {
        let table: [(Ending, Option<&str>); 9] = [
            // Clean exit; under --http the sweep's own SIGTERM is the normal end.
            (end(None, false, 0, false, false), None),
            (end(None, false, 143, true, false), None),
            // A SIGTERM from elsewhere without --http, or any other status, is a failure.
            (end(None, false, 143, false, false), Some("exited with 143")),
            (end(None, false, 2, true, false), Some("exited with 2")),
            // The kernel's OOM killer, even when the workload's status looks normal.
            (
                end(None, true, 137, false, false),
                Some("OOM-killed (exit status 137)"),
            ),
            (
                end(None, true, 143, true, false),
                Some("OOM-killed (exit status 143)"),
            ),
            (
                end(None, true, 0, false, true),
                Some("OOM-killed (exit status 0)"),
            ),
            // The load or the readiness check failed, though the service exited as asked.
            (
                end(Some("not ready after 10s"), false, 143, true, false),
                Some("not ready after 10s"),
            ),
            // Interrupted: cut short, even when it exited 0.
            (end(None, false, 0, false, true), Some("interrupted")),
        ];
        for (e, want) in table {
            let got = Failure::classify(&e).map(|f| f.to_string());
            assert_eq!(got.as_deref(), want, "{e:?}");
        }
        assert_eq!(
            serde_json::to_string(&Failure::Exited(3)).unwrap(),
            r#""exited with 3""#
        );
    }

    #[test]
    fn traces_join_the_godebug_in_force() {
        let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
        const OURS: &str = "gctrace=1,schedtrace=1000";
        let table = [
            (vec![], None, OURS.to_string()),
            (vec![], Some(""), OURS.to_string()),
            (
                vec![],
                Some("madvdontneed=1"),
                format!("madvdontneed=1,{OURS}"),
            ),
            // The configuration's GODEBUG wins over the inherited one.
            (
                vec![kv("GODEBUG", "x=1")],
                Some("madvdontneed=1"),
                format!("x=1,{OURS}"),
            ),
            (vec![kv("GODEBUG", "")], Some("y=1"), OURS.to_string()),
            // A schedtrace of the user's own is kept as it is.
            (
                vec![kv("GODEBUG", "schedtrace=200")],
                None,
                "schedtrace=200,gctrace=1".to_string(),
            ),
        ];
        for (env, inherited, want) in table {
            let out = with_traces(&env, inherited);
            assert_eq!(
                out.last(),
                Some(&kv("GODEBUG", &want)),
                "{env:?} {inherited:?}"
            );
            assert_eq!(out.iter().filter(|(k, _)| k == "GODEBUG").count(), 1);
        }
        // Other variables stay, in order, before it.
        let out = with_traces(&[kv("GOMAXPROCS", "2"), kv("GODEBUG", "a=1")], None);
        assert_eq!(
            out,
            vec![kv("GOMAXPROCS", "2"), kv("GODEBUG", &format!("a=1,{OURS}"))]
        );
    }

    #[test]
    fn gomaxprocs_first_and_last_from_the_schedtrace() {
        let config = matrix(&[], &[], &[]).remove(0);
        let stderr = "SCHED 0ms: gomaxprocs=2 idleprocs=1 threads=4 spinningthreads=0 \
                      needspinning=0 idlethreads=1 runqueue=0 [ 0 0 ]\n\
                      work\n\
                      SCHED 1001ms: gomaxprocs=2 idleprocs=2 threads=5 spinningthreads=0 \
                      needspinning=0 idlethreads=2 runqueue=0 [ 0 0 ]\n\
                      SCHED 2002ms: gomaxprocs=1 idleprocs=1 threads=5 spinningthreads=0 \
                      needspinning=0 idlethreads=2 runqueue=0 [ 0 ]\n\
                      done\n";
        let m = derive(&config, &RunFacts::default(), None, "", stderr, &[]);
        assert_eq!(m.get(&Metric::GomaxprocsFirst.into()), Some(&2.0));
        assert_eq!(m.get(&Metric::GomaxprocsLast.into()), Some(&1.0));
        assert_eq!(last_words(stderr), Some("done"));
        let m = derive(&config, &RunFacts::default(), None, "", "no trace\n", &[]);
        assert_eq!(m.get(&Metric::GomaxprocsFirst.into()), None);
    }

    fn names(m: &Metrics) -> Vec<&str> {
        m.iter().map(|(k, _)| k.name()).collect()
    }

    #[test]
    fn cgroup_numbers() {
        let config = matrix(&[], &[], &[]).pop().unwrap();
        let run = RunFacts {
            wall_seconds: 2.0,
            cpu_seconds: Some(1.5),
            throttled_periods: Some(5),
            nr_periods: Some(20),
            peak_memory_bytes: Some(3 << 19),
        };
        let m = derive(&config, &run, None, "", "", &[]);
        assert_eq!(
            names(&m),
            [
                "cpu_seconds",
                "peak_memory_mib",
                "throttled_pct",
                "wall_seconds"
            ]
        );
        assert_eq!(m.get_std(Metric::ThrottledPct), Some(&25.0));
        assert_eq!(m.get_std(Metric::PeakMemoryMib), Some(&1.5));
        // No periods (no quota, or too short a run): no throttling figure, rather than NaN.
        let run = RunFacts {
            wall_seconds: 1.0,
            throttled_periods: Some(0),
            nr_periods: Some(0),
            ..RunFacts::default()
        };
        assert_eq!(
            names(&derive(&config, &run, None, "", "", &[])),
            ["wall_seconds"]
        );
    }

    #[test]
    fn load_and_custom_numbers() {
        let config = matrix(&[], &[], &[]).pop().unwrap();
        let run = RunFacts {
            wall_seconds: 10.0,
            ..RunFacts::default()
        };
        let load = LoadFacts {
            p50_ms: Some(1.0),
            p99_ms: Some(9.0),
            achieved_rate: 99.5,
            errors: 2,
            ..LoadFacts::default()
        };
        let custom = [MetricPattern::parse(r"ops=ops=([0-9.]+)").unwrap()];
        // The custom pattern reads stdout and stderr; stderr comes last, so it wins.
        let m = derive(&config, &run, Some(&load), "ops=1\n", "ops=2\n", &custom);
        assert_eq!(
            names(&m),
            [
                "achieved_rate",
                "errors",
                "ops",
                "p50",
                "p99",
                "wall_seconds"
            ]
        );
        assert_eq!(m.get(&MetricId::parse("ops")), Some(&2.0));
        assert_eq!(m.get_std(Metric::Errors), Some(&2.0));
    }

    #[test]
    fn gc_numbers_from_the_trace() {
        let trace = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/trace/go1.22-gcload.log"
        ))
        .unwrap();
        let cycles = Trace::parse(&trace).gc.len();
        assert!(cycles > 1);
        let config = matrix(&[], &[], &[]).pop().unwrap();
        let run = RunFacts {
            wall_seconds: 4.0,
            ..RunFacts::default()
        };
        let m = derive(&config, &run, None, "", &trace, &[]);
        assert_eq!(m.get_std(Metric::GcCount), Some(&(cycles as f64)));
        assert_eq!(m.get_std(Metric::GcPerSecond), Some(&(cycles as f64 / 4.0)));
        assert!(m.get_std(Metric::GcPauseTotalMs).is_some_and(|p| *p > 0.0));
    }

    #[test]
    fn gomemlimit_from_the_configuration() {
        let env = |v: &str| vec![("GOMEMLIMIT".to_string(), v.to_string())];
        assert_eq!(
            gomemlimit_bytes(&matrix(&[], &[], &[]).pop().unwrap()),
            None
        );
        let mut c = matrix(&[], &[], &[]).pop().unwrap();
        c.env = env("64MiB");
        assert_eq!(gomemlimit_bytes(&c), Some(64 << 20));
        c.env = env("off");
        assert_eq!(gomemlimit_bytes(&c), None);
        c.env = env("lots");
        assert_eq!(gomemlimit_bytes(&c), None);
    }

    #[test]
    fn last_words_skip_the_gc_trace() {
        assert_eq!(
            last_words("starting\npanic: boom\n\ngc 3 @0.1s 1%: ...\n"),
            Some("panic: boom")
        );
        assert_eq!(last_words("gc 1 @0.0s\n  \n"), None);
    }
}
