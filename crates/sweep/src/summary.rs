//! From the runs to the answer: each configuration's runs summarised per metric, the
//! objective's values per configuration, and the verdict over them.

use serde::Serialize;

use crate::Config;
use crate::metric::{MetricId, Metrics};
use crate::objective::Objective;
use crate::stats::{Summary, summarize};
use crate::verdict::{Verdict, verdict_with_failures};

/// One finished run, as the summary needs it.
#[derive(Debug, Clone, Copy)]
pub struct Ran<'a> {
    pub config_index: usize,
    pub metrics: &'a Metrics,
    pub failed: bool,
}

/// One configuration's runs, summarised per metric.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigSummary {
    pub label: String,
    pub config: Config,
    /// Every run, failed or not.
    pub runs: usize,
    /// Runs that failed (crashed, OOM-killed, interrupted, load errors): counted here only.
    pub failed_runs: usize,
    /// Over the runs that did not fail.
    pub metrics: Metrics<Summary>,
}

impl ConfigSummary {
    /// `runs`: each of this configuration's runs' metrics and whether it failed.
    pub fn new<'a>(
        config: &Config,
        runs: impl Iterator<Item = (&'a Metrics, bool)>,
    ) -> ConfigSummary {
        let mut values: Metrics<Vec<f64>> = Metrics::default();
        let (mut n, mut failed_runs) = (0, 0);
        for (metrics, failed) in runs {
            n += 1;
            if failed {
                failed_runs += 1;
                continue;
            }
            for (k, v) in metrics.iter() {
                match values.get_mut(k) {
                    Some(vs) => vs.push(*v),
                    None => values.insert(k.clone(), vec![*v]),
                }
            }
        }
        let metrics = values
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), summarize(v)?)))
            .collect();
        ConfigSummary {
            label: config.label(),
            config: config.clone(),
            runs: n,
            failed_runs,
            metrics,
        }
    }
}

/// The sweep's answer.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// One per configuration, in matrix order.
    pub rows: Vec<ConfigSummary>,
    /// The objective's value in each run that did not fail, per configuration.
    pub values: Vec<Vec<f64>>,
    pub verdict: Verdict,
}

/// Summarise the runs of `configs` and judge them by `objective`. Failed runs' numbers
/// describe a crash, not the configuration: they count only as failures.
pub fn outcome(configs: &[Config], runs: &[Ran], objective: &Objective) -> Outcome {
    let rows: Vec<ConfigSummary> = configs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            ConfigSummary::new(
                c,
                runs.iter()
                    .filter(|r| r.config_index == i)
                    .map(|r| (r.metrics, r.failed)),
            )
        })
        .collect();
    let values = values_by_config(runs, rows.len(), &objective.metric);
    let failed: Vec<usize> = rows.iter().map(|r| r.failed_runs).collect();
    let entries: Vec<(String, Vec<f64>)> = rows
        .iter()
        .map(|r| r.label.clone())
        .zip(values.iter().cloned())
        .collect();
    let verdict =
        verdict_with_failures(objective.metric.name(), objective.better, &entries, &failed);
    Outcome {
        rows,
        values,
        verdict,
    }
}

/// The metric's values per configuration, from the runs that did not fail.
pub fn values_by_config(runs: &[Ran], configs: usize, metric: &MetricId) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new(); configs];
    for r in runs.iter().filter(|r| !r.failed) {
        if let Some(v) = r.metrics.get(metric) {
            out[r.config_index].push(*v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix;
    use crate::metric::Metric;

    fn wall(v: f64) -> Metrics {
        let mut m = Metrics::default();
        m.insert(Metric::WallSeconds, v);
        m
    }

    #[test]
    fn failed_runs_are_counted_not_summarised() {
        let config = matrix(&[], &[64 << 20], &[]).pop().unwrap();
        let (ok, crashed) = (wall(2.0), wall(0.1));
        let row = ConfigSummary::new(&config, [(&ok, false), (&crashed, true)].into_iter());
        assert_eq!((row.runs, row.failed_runs), (2, 1));
        let s = row.metrics.get_std(Metric::WallSeconds).unwrap();
        assert_eq!((s.n, s.median), (1, 2.0));
        // Every run failed: counted, and no metric at all.
        let row = ConfigSummary::new(&config, [(&crashed, true)].into_iter());
        assert_eq!((row.runs, row.failed_runs), (1, 1));
        assert!(row.metrics.is_empty());
    }

    #[test]
    fn summaries_serialise_by_metric_name() {
        let config = matrix(&[], &[], &[]).pop().unwrap();
        let mut m = wall(1.0);
        m.insert(MetricId::parse("elapsed_ms"), 5.0);
        let row = ConfigSummary::new(&config, [(&m, false)].into_iter());
        let json = serde_json::to_value(&row).unwrap();
        let keys: Vec<&String> = json["metrics"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["elapsed_ms", "wall_seconds"]);
        assert_eq!(json["metrics"]["elapsed_ms"]["median"], 5.0);
        assert_eq!(json["label"], "default");
    }

    #[test]
    fn the_objective_decides_and_failures_disqualify() {
        let configs = matrix(&[1.0, 2.0], &[], &[]);
        let runs: Vec<Metrics> = [10.0, 11.0, 12.0, 13.0, 1.0, 2.0, 3.0, 4.0, 0.5]
            .into_iter()
            .map(wall)
            .collect();
        // cpus=1 gets the first four, cpus=2 the next four; the last run of cpus=2 failed.
        let ran = |failed_last: bool| -> Vec<Ran> {
            runs.iter()
                .enumerate()
                .map(|(i, m)| Ran {
                    config_index: usize::from(i >= 4),
                    metrics: m,
                    failed: i == 8 && failed_last,
                })
                .collect()
        };
        let lower = Objective::choose(None, false, &[]).unwrap();
        let o = outcome(&configs, &ran(false), &lower);
        assert_eq!(
            o.values,
            [vec![10.0, 11.0, 12.0, 13.0], vec![1.0, 2.0, 3.0, 4.0, 0.5]]
        );
        assert_eq!(o.verdict.best, Some(1), "{}", o.verdict.message);
        let higher = Objective::choose(Some("wall_seconds:max"), false, &[]).unwrap();
        assert_eq!(
            outcome(&configs, &ran(false), &higher).verdict.best,
            Some(0)
        );
        let o = outcome(&configs, &ran(true), &lower);
        assert_eq!(o.values[1], [1.0, 2.0, 3.0, 4.0]);
        assert_eq!((o.rows[1].runs, o.rows[1].failed_runs), (5, 1));
        assert_eq!(o.verdict.best, None, "{}", o.verdict.message);
        // A metric no run measured.
        let other = Objective::choose(Some("ops"), false, &["ops"]).unwrap();
        let o = outcome(&configs, &ran(false), &other);
        assert_eq!(o.verdict.message, "no run measured ops");
    }
}
