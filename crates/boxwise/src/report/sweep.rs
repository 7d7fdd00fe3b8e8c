//! The sweep's summary: one row per configuration, a verdict, a plot.

use boxwise_render::{Chart, Series, Style};
use boxwise_sweep::stats::Summary;
use boxwise_sweep::summary::ConfigSummary;
use boxwise_sweep::{Metric, MetricId, Objective};

use super::grid;

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
const COLUMNS: [(Metric, &str); 10] = [
    (Metric::P50, "p50 ms"),
    (Metric::P99, "p99 ms"),
    (Metric::AchievedRate, "req/s"),
    (Metric::Errors, "errors"),
    (Metric::WallSeconds, "wall s"),
    (Metric::CpuSeconds, "cpu s"),
    (Metric::ThrottledPct, "throttled %"),
    (Metric::PeakMemoryMib, "peak MiB"),
    (Metric::GcPerSecond, "GC/s"),
    (Metric::GcCpuPct, "GC CPU %"),
];

fn columns(
    rows: &[ConfigSummary],
    objective: &Objective,
    custom: &[String],
) -> Vec<(MetricId, String)> {
    let present = |k: &MetricId| rows.iter().any(|r| r.metrics.contains(k));
    let mut cols = vec![(
        objective.metric.clone(),
        format!("{} median (CI)", heading(&objective.metric)),
    )];
    for (k, h) in COLUMNS {
        let k = MetricId::from(k);
        if k != objective.metric && present(&k) {
            cols.push((k, h.to_string()));
        }
    }
    // The workload's own metrics (--metric), in the order given.
    cols.extend(
        custom
            .iter()
            .map(|k| MetricId::parse(k))
            .filter(|k| *k != objective.metric)
            .map(|k| {
                let h = k.name().to_string();
                (k, h)
            }),
    );
    cols
}

fn heading(id: &MetricId) -> String {
    match id.std() {
        Some(Metric::P90 | Metric::P999 | Metric::Max) => format!("{id} ms"),
        m => COLUMNS
            .iter()
            .find(|(k, _)| Some(*k) == m)
            .map_or(id.name().to_string(), |(_, h)| h.to_string()),
    }
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

fn cells(rows: &[ConfigSummary], objective: &Objective, custom: &[String]) -> Vec<Vec<String>> {
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
    rows: &[ConfigSummary],
    objective: &Objective,
    custom: &[String],
    verdict: &str,
) -> String {
    format!("{}\n{verdict}\n", grid(&cells(rows, objective, custom)))
}

pub fn markdown(
    rows: &[ConfigSummary],
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
pub fn plot(rows: &[ConfigSummary], values: &[Vec<f64>], objective: &Objective) -> String {
    let direction = if objective.higher_is_better() {
        "higher is better"
    } else {
        "lower is better"
    };
    let mut chart = Chart::new(
        format!(
            "{} per configuration ({direction})",
            heading(&objective.metric)
        ),
        "configuration (see legend)",
        heading(&objective.metric),
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
        .filter_map(|(i, r)| Some(((i + 1) as f64, r.metrics.get(&objective.metric)?.median)))
        .collect();
    chart = chart.series(Series::new("median", medians, Style::Line));
    chart.to_svg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use boxwise_sweep::Metrics;

    fn row(wall: &[(f64, bool)], custom: Option<f64>) -> ConfigSummary {
        let config = boxwise_sweep::matrix(&[], &[64 << 20], &[]).pop().unwrap();
        let runs: Vec<(Metrics, bool)> = wall
            .iter()
            .map(|&(v, failed)| {
                let mut m = Metrics::default();
                m.insert(Metric::WallSeconds, v);
                if let Some(c) = custom {
                    m.insert(MetricId::parse("elapsed_ms"), c);
                }
                (m, failed)
            })
            .collect();
        ConfigSummary::new(&config, runs.iter().map(|(m, f)| (m, *f)))
    }

    #[test]
    fn a_failed_column_only_when_runs_failed() {
        let objective = Objective::choose(None, false, &[]).unwrap();
        let text = table(
            &[row(&[(2.0, false), (0.1, true)], None)],
            &objective,
            &[],
            "v",
        );
        assert_eq!(
            text,
            "configuration  runs  failed  wall s median (CI)\n\
             memory=64MiB   2     1       2\n\
             \n\
             v\n"
        );
        let text = table(&[row(&[(2.0, false)], None)], &objective, &[], "v");
        assert!(!text.contains("failed"), "{text}");
    }

    #[test]
    fn headings_and_cells() {
        // The objective first with its CI, the standard columns, then the workload's own.
        let objective = Objective::choose(Some("p999"), true, &[]).unwrap();
        let custom = ["elapsed_ms".to_string()];
        let rows = [row(&[(1.0, false), (3.0, false)], Some(7.0))];
        assert_eq!(
            markdown(&rows, &objective, &custom, "v"),
            "| configuration | runs | p999 ms median (CI) | wall s | elapsed_ms |\n\
             |---|---|---|---|---|\n\
             | memory=64MiB | 2 | - | 2 ±1 | 7 ±0 |\n\
             \n\
             v\n"
        );
        let objective = Objective::choose(None, false, &["elapsed_ms"]).unwrap();
        let md = markdown(&rows, &objective, &custom, "v");
        assert!(
            md.starts_with("| configuration | runs | elapsed_ms median (CI) | wall s |\n"),
            "{md}"
        );
        assert_eq!(heading(&MetricId::from(Metric::GcCount)), "gc_count");
        assert_eq!(heading(&MetricId::from(Metric::AchievedRate)), "req/s");
    }

    #[test]
    fn numbers() {
        assert_eq!(number(12.345), "12.3");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(1234.6), "1235");
    }
}
