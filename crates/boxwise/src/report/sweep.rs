//! The sweep's summary: one row per configuration, a verdict, a plot.

use std::collections::BTreeMap;

use boxwise_render::{Chart, Series, Style};
use boxwise_sweep::Config;
use boxwise_sweep::stats::{Summary, summarize};
use serde::Serialize;

use super::grid;

/// The metric that decides, and which way is better.
#[derive(Debug, Clone)]
pub struct Objective {
    pub name: String,
    pub higher_is_better: bool,
}

impl Objective {
    /// `--objective NAME[:max|:min]`, or the default: p99 under load, else the first
    /// `--metric`, else wall time. Rates are better higher.
    pub fn choose(
        given: Option<&str>,
        http: bool,
        first_metric: Option<&str>,
    ) -> anyhow::Result<Objective> {
        let text = given.map(str::to_string).unwrap_or_else(|| {
            if http {
                "p99".into()
            } else {
                first_metric.unwrap_or("wall_seconds").to_string()
            }
        });
        let (name, direction) = match text.rsplit_once(':') {
            Some((n, d)) => (n.to_string(), Some(d)),
            None => (text.clone(), None),
        };
        let higher_is_better = match direction {
            Some("max") => true,
            Some("min") => false,
            Some(other) => anyhow::bail!(
                "objective {text:?}: expected NAME, NAME:min or NAME:max, not {other:?}"
            ),
            None => name == "achieved_rate",
        };
        Ok(Objective {
            name,
            higher_is_better,
        })
    }
}

/// One configuration's runs, summarised per metric.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigRow {
    pub label: String,
    pub config: Config,
    /// Every run, failed or not.
    pub runs: usize,
    /// Runs that failed (crashed, OOM-killed, interrupted, load errors): counted here only.
    pub failed_runs: usize,
    /// Over the runs that did not fail.
    pub metrics: BTreeMap<String, Summary>,
}

impl ConfigRow {
    /// `runs`: each run's metrics and whether it failed.
    pub fn new<'a>(
        config: &Config,
        runs: impl Iterator<Item = (&'a BTreeMap<String, f64>, bool)>,
    ) -> ConfigRow {
        let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let (mut n, mut failed_runs) = (0, 0);
        for (metrics, failed) in runs {
            n += 1;
            if failed {
                failed_runs += 1;
                continue;
            }
            for (k, v) in metrics {
                values.entry(k.clone()).or_default().push(*v);
            }
        }
        let metrics = values
            .into_iter()
            .filter_map(|(k, v)| Some((k, summarize(&v)?)))
            .collect();
        ConfigRow {
            label: config.label(),
            config: config.clone(),
            runs: n,
            failed_runs,
            metrics,
        }
    }
}

/// A number for a table: three significant figures, no trailing zeros.
pub fn number(x: f64) -> String {
    let digits = if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else if x.abs() >= 1.0 {
        2
    } else {
        3
    };
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Columns after the objective, when any run has them: the load, how the run went, the GC.
/// The rest (p90, p999, max, GC count and pause) are in the JSON.
const COLUMNS: [(&str, &str); 10] = [
    ("p50", "p50 ms"),
    ("p99", "p99 ms"),
    ("achieved_rate", "req/s"),
    ("errors", "errors"),
    ("wall_seconds", "wall s"),
    ("cpu_seconds", "cpu s"),
    ("throttled_pct", "throttled %"),
    ("peak_memory_mib", "peak MiB"),
    ("gc_per_second", "GC/s"),
    ("gc_cpu_pct", "GC CPU %"),
];

/// Measured by boxwise itself and shown only in the JSON.
const JSON_ONLY: [&str; 5] = ["p90", "p999", "max", "gc_count", "gc_pause_total_ms"];

fn columns(rows: &[ConfigRow], objective: &Objective, custom: &[String]) -> Vec<(String, String)> {
    let present = |k: &str| rows.iter().any(|r| r.metrics.contains_key(k));
    let mut cols = vec![(
        objective.name.clone(),
        format!("{} median (CI)", heading(&objective.name)),
    )];
    for (k, h) in COLUMNS {
        if k != objective.name && present(k) {
            cols.push((k.to_string(), h.to_string()));
        }
    }
    // The workload's own metrics (--metric), in the order given.
    cols.extend(
        custom
            .iter()
            .filter(|k| **k != objective.name)
            .map(|k| (k.clone(), k.clone())),
    );
    cols
}

fn heading(name: &str) -> String {
    match name {
        "p90" | "p999" | "max" => format!("{name} ms"),
        _ => COLUMNS
            .iter()
            .find(|(k, _)| *k == name)
            .map_or(name.to_string(), |(_, h)| h.to_string()),
    }
}

/// Whether boxwise measures this metric itself (so a --metric of that name would clash).
pub fn is_builtin(name: &str) -> bool {
    COLUMNS.iter().any(|(k, _)| *k == name) || JSON_ONLY.contains(&name)
}

fn cell(s: Option<&Summary>, with_ci: bool) -> String {
    match s {
        None => "-".into(),
        Some(s) if with_ci && s.n > 1 => format!(
            "{} ({}-{})",
            number(s.median),
            number(s.ci_low),
            number(s.ci_high)
        ),
        Some(s) if s.n > 1 => format!("{} ±{}", number(s.median), number((s.max - s.min) / 2.0)),
        Some(s) => number(s.median),
    }
}

fn cells(rows: &[ConfigRow], objective: &Objective, custom: &[String]) -> Vec<Vec<String>> {
    let cols = columns(rows, objective, custom);
    // Failed runs get their own column, when there are any: the numbers are from the others.
    let any_failed = rows.iter().any(|r| r.failed_runs > 0);
    let mut out = vec![
        ["configuration", "runs"]
            .into_iter()
            .chain(any_failed.then_some("failed"))
            .map(str::to_string)
            .chain(cols.iter().map(|(_, h)| h.clone()))
            .collect::<Vec<_>>(),
    ];
    for r in rows {
        let mut line = vec![r.label.clone(), r.runs.to_string()];
        if any_failed {
            line.push(r.failed_runs.to_string());
        }
        for (i, (k, _)) in cols.iter().enumerate() {
            line.push(cell(r.metrics.get(k), i == 0));
        }
        out.push(line);
    }
    out
}

pub fn table(
    rows: &[ConfigRow],
    objective: &Objective,
    custom: &[String],
    verdict: &str,
) -> String {
    format!("{}\n{verdict}\n", grid(&cells(rows, objective, custom)))
}

pub fn markdown(
    rows: &[ConfigRow],
    objective: &Objective,
    custom: &[String],
    verdict: &str,
) -> String {
    let c = cells(rows, objective, custom);
    let mut out = String::new();
    for (i, line) in c.iter().enumerate() {
        out.push_str(&format!("| {} |\n", line.join(" | ")));
        if i == 0 {
            out.push_str(&format!("|{}\n", "---|".repeat(line.len())));
        }
    }
    out.push_str(&format!("\n{verdict}\n"));
    out
}

/// Every run's objective value per configuration, with the medians joined by a line.
pub fn plot(rows: &[ConfigRow], values: &[Vec<f64>], objective: &Objective) -> String {
    let direction = if objective.higher_is_better {
        "higher is better"
    } else {
        "lower is better"
    };
    let mut chart = Chart::new(
        format!(
            "{} per configuration ({direction})",
            heading(&objective.name)
        ),
        "configuration (see legend)",
        heading(&objective.name),
    )
    .x_integer()
    .size(900, 420 + 18 * rows.len().div_ceil(2) as u32);
    for (i, (row, vals)) in rows.iter().zip(values).enumerate() {
        let x = (i + 1) as f64;
        chart = chart.series(Series::new(
            format!("{}: {}", i + 1, row.label),
            vals.iter().map(|&v| (x, v)).collect(),
            Style::Points,
        ));
    }
    let medians: Vec<(f64, f64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some(((i + 1) as f64, r.metrics.get(&objective.name)?.median)))
        .collect();
    chart = chart.series(Series::new("median", medians, Style::Line));
    chart.to_svg()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives() {
        let o = Objective::choose(None, true, None).unwrap();
        assert_eq!((o.name.as_str(), o.higher_is_better), ("p99", false));
        let o = Objective::choose(Some("achieved_rate"), true, None).unwrap();
        assert!(o.higher_is_better);
        let o = Objective::choose(None, false, Some("elapsed_ms")).unwrap();
        assert_eq!(o.name, "elapsed_ms");
        assert_eq!(
            Objective::choose(None, false, None).unwrap().name,
            "wall_seconds"
        );
        assert!(Objective::choose(Some("p99:up"), true, None).is_err());
    }

    #[test]
    fn failed_runs_are_counted_not_summarised() {
        let config = boxwise_sweep::matrix(&[], &[64 << 20], &[]).pop().unwrap();
        let ok: BTreeMap<String, f64> = [("wall_seconds".to_string(), 2.0)].into();
        let crashed: BTreeMap<String, f64> = [("wall_seconds".to_string(), 0.1)].into();
        let row = ConfigRow::new(&config, [(&ok, false), (&crashed, true)].into_iter());
        assert_eq!((row.runs, row.failed_runs), (2, 1));
        assert_eq!(row.metrics["wall_seconds"].n, 1);
        assert_eq!(row.metrics["wall_seconds"].median, 2.0);
        let objective = Objective::choose(None, false, None).unwrap();
        let text = table(&[row], &objective, &[], "v");
        assert!(text.lines().next().unwrap().contains(" failed "), "{text}");
        let clean = ConfigRow::new(&config, [(&ok, false)].into_iter());
        let text = table(&[clean], &objective, &[], "v");
        assert!(!text.contains("failed"), "{text}");
    }

    #[test]
    fn numbers() {
        assert_eq!(number(12.345), "12.3");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(1234.6), "1235");
    }
}
