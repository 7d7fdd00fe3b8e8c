//! The `top` report, computed the way `go tool pprof -top` computes it
//! (`internal/report/report.go`: `newTrimmedGraph`, `selectOutputUnit`, `TextItems`,
//! `printText`, `reportLabels`), so rows, units and header lines come out identical.

use regex::Regex;
use serde::Serialize;

use crate::filter;
use crate::graph::{Nodes, Weights, weigh};
use crate::model::{Profile, SampleIndexError};
use crate::units::{label, percentage, scale, scaled_label};

/// pprof's defaults: `nodefraction` 0.005, `edgefraction` 0.001 (`internal/driver/config.go`).
pub const NODE_FRACTION: f64 = 0.005;
pub const EDGE_FRACTION: f64 = 0.001;

#[derive(Debug, Default, Clone)]
pub struct TopOptions {
    /// Sample type name or index; `None` picks pprof's default.
    pub sample_index: Option<String>,
    /// Sort by cum instead of flat.
    pub cum: bool,
    /// Rows to show; 0 shows all (the `-top` default).
    pub node_count: usize,
    pub focus: Option<Regex>,
    pub ignore: Option<Regex>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopRow {
    pub name: String,
    /// `inline` or `partial-inline`, as pprof marks rows.
    pub inline: Option<&'static str>,
    pub flat: i64,
    pub cum: i64,
    pub flat_percent: f64,
    pub sum_percent: f64,
    pub cum_percent: f64,
    #[serde(skip)]
    text: [String; 5],
}

#[derive(Debug, Clone, Serialize)]
pub struct TopReport {
    pub sample_type: String,
    pub sample_unit: String,
    /// Unit the text columns are printed in.
    pub output_unit: String,
    /// Σ|value| over all samples: the denominator of every percentage.
    pub total: i64,
    /// Σ flat of the rows shown.
    pub shown: i64,
    pub dropped_nodes: usize,
    /// Nodes left after dropping, before `-n` cut the list.
    pub node_total: usize,
    /// Header lines exactly as pprof prints them.
    pub labels: Vec<String>,
    pub rows: Vec<TopRow>,
}

/// Builds the top report. `p` must already have had `filter::remove_uninteresting` applied.
pub fn top(p: &Profile, o: &TopOptions) -> Result<TopReport, SampleIndexError> {
    let vi = p.sample_index(o.sample_index.as_deref())?;
    let sample_type = p.sample_types[vi].ty.clone();
    let sample_unit = p.sample_types[vi].unit.clone();
    let total = compute_total(p, vi);
    let samples = filter::select_samples(p, o.focus.as_ref(), o.ignore.as_ref());
    let nodes = Nodes::new(p);

    // First graph: everything, to find the low-cum nodes to drop.
    let w0 = weigh(p, &nodes, &samples, vi, None, false);
    let present0 = w0.present();
    let total_value = present0
        .iter()
        .fold(0i64, |a, &n| a.saturating_add(w0.flat[n as usize]));
    let node_cutoff = ((total_value as f64 * NODE_FRACTION) as i64).unsigned_abs();
    let edge_cutoff = ((total_value as f64 * EDGE_FRACTION) as i64).unsigned_abs();

    let mut dropped_nodes = 0;
    let mut kept: Option<Vec<bool>> = None;
    let mut present = present0;
    let mut w = w0;
    if node_cutoff > 0 {
        let keep: Vec<u32> = present
            .iter()
            .copied()
            .filter(|&n| w.cum[n as usize].unsigned_abs() >= node_cutoff)
            .collect();
        if keep.len() != present.len() {
            dropped_nodes = present.len() - keep.len();
            let mask = mask(nodes.len(), &keep);
            w = weigh(p, &nodes, &samples, vi, Some(&mask), false);
            present = w.present();
            kept = Some(mask);
        }
    }
    let node_total = present.len();
    sort_nodes(&mut present, &w, &nodes, o.cum);
    if o.node_count > 0 && o.node_count < present.len() {
        present.truncate(o.node_count);
        let mask = mask(nodes.len(), &present);
        w = weigh(p, &nodes, &samples, vi, Some(&mask), false);
        present = w.present();
        sort_nodes(&mut present, &w, &nodes, o.cum);
        kept = Some(mask);
    }
    // Final pass with edges: same kept set, so the same weights, plus the inline marks.
    let wf = weigh(p, &nodes, &samples, vi, kept.as_deref(), true);

    let output_unit = select_output_unit(&present, &w, total, &sample_unit);
    let fmt = |v: i64| scaled_label(v, &sample_unit, &output_unit);

    let mut inline_in = vec![(false, false); nodes.len()];
    for (&(_, dst), e) in &wf.edges {
        if e.weight.unsigned_abs() < edge_cutoff {
            continue;
        }
        let slot = &mut inline_in[dst as usize];
        if e.inline {
            slot.0 = true;
        } else {
            slot.1 = true;
        }
    }

    let pct = |v: i64| {
        if total == 0 {
            0.0
        } else {
            v as f64 / total as f64 * 100.0
        }
    };
    let mut sum = 0i64;
    let rows: Vec<TopRow> = present
        .iter()
        .map(|&n| {
            let (flat, cum) = (w.flat[n as usize], w.cum[n as usize]);
            sum = sum.saturating_add(flat);
            let inline = match inline_in[n as usize] {
                (true, true) => Some("partial-inline"),
                (true, false) => Some("inline"),
                _ => None,
            };
            TopRow {
                name: nodes.name(n),
                inline,
                flat,
                cum,
                flat_percent: pct(flat),
                sum_percent: pct(sum),
                cum_percent: pct(cum),
                text: [
                    fmt(flat),
                    percentage(flat, total),
                    percentage(sum, total),
                    fmt(cum),
                    percentage(cum, total),
                ],
            }
        })
        .collect();
    let shown = sum;

    let mut labels = profile_labels(p, &sample_type, &sample_unit, total, &fmt);
    let filters: Vec<String> = [("focus", &o.focus), ("ignore", &o.ignore)]
        .iter()
        .filter_map(|(k, re)| re.as_ref().map(|re| format!("{k}={}", re.as_str())))
        .collect();
    if !filters.is_empty() {
        labels.push("Active filters:".into());
        for f in filters {
            let f = match f.char_indices().nth(80) {
                Some((i, _)) => format!("{}…", &f[..i]),
                None => f,
            };
            labels.push(format!("   {f}"));
        }
    }
    labels.push(format!(
        "Showing nodes accounting for {}, {} of {} total",
        fmt(shown),
        percentage(shown, total).trim(),
        fmt(total)
    ));
    if total == i64::MAX {
        // Sums saturate rather than wrap (a wrapped total once read as 0 for samples of
        // i64::MIN and i64::MAX): say so, since every percentage is then meaningless.
        labels.push(
            "Note: the sample values add up past the largest 64-bit number: they are not \
             plausible measurements, and the totals and percentages below are capped"
                .to_string(),
        );
    }
    if total != 0 {
        if dropped_nodes > 0 {
            let plural = if dropped_nodes > 1 { "nodes" } else { "node" };
            labels.push(format!(
                "Dropped {dropped_nodes} {plural} (cum <= {})",
                fmt(((total as f64 * NODE_FRACTION) as i64).saturating_abs())
            ));
        }
        if !rows.is_empty() && rows.len() < node_total {
            labels.push(format!(
                "Showing top {} nodes out of {node_total}",
                rows.len()
            ));
        }
    }

    Ok(TopReport {
        sample_type,
        sample_unit,
        output_unit,
        total,
        shown,
        dropped_nodes,
        node_total,
        labels,
        rows,
    })
}

impl TopReport {
    /// The report as `go tool pprof -top` prints it.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(64 * (self.rows.len() + self.labels.len() + 1));
        for l in &self.labels {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str(&format!(
            "{:>10} {:>5}% {:>5}% {:>10} {:>5}%\n",
            "flat", "flat", "sum", "cum", "cum"
        ));
        for r in &self.rows {
            let [f, fp, sp, c, cp] = &r.text;
            let inl = r.inline.map(|s| format!(" ({s})")).unwrap_or_default();
            out.push_str(&format!(
                "{f:>10} {fp} {sp} {c:>10} {cp}  {}{inl}\n",
                r.name
            ));
        }
        out
    }
}

fn mask(len: usize, keep: &[u32]) -> Vec<bool> {
    let mut m = vec![false; len];
    for &n in keep {
        m[n as usize] = true;
    }
    m
}

/// Σ|value| over all samples; if some carry the `pprof::base` diff label, only those.
pub fn compute_total(p: &Profile, vi: usize) -> i64 {
    let (mut total, mut diff) = (0i64, 0i64);
    for s in p.samples.iter() {
        let v = s.values[vi].saturating_abs();
        total = total.saturating_add(v);
        if s.labels
            .iter()
            .any(|l| l.key == "pprof::base" && l.str == "true")
        {
            diff = diff.saturating_add(v);
        }
    }
    if diff > 0 { diff } else { total }
}

/// `FlatNameOrder` / `CumNameOrder`.
fn sort_nodes(ns: &mut [u32], w: &Weights, nodes: &Nodes, cum: bool) {
    let mut keyed: Vec<(u32, String)> = ns.iter().map(|&n| (n, nodes.name(n))).collect();
    keyed.sort_by(|(a, an), (b, bn)| {
        let (fa, fb) = (
            w.flat[*a as usize].unsigned_abs(),
            w.flat[*b as usize].unsigned_abs(),
        );
        let (ca, cb) = (
            w.cum[*a as usize].unsigned_abs(),
            w.cum[*b as usize].unsigned_abs(),
        );
        let (first, third) = if cum {
            (cb.cmp(&ca), fb.cmp(&fa))
        } else {
            (fb.cmp(&fa), cb.cmp(&ca))
        };
        first
            .then_with(|| an.cmp(bn))
            .then(third)
            .then_with(|| nodes.sprint(*a).cmp(&nodes.sprint(*b)))
    });
    for (slot, (n, _)) in ns.iter_mut().zip(keyed) {
        *slot = n;
    }
}

/// The unit that fits the smallest nonzero node value, or 100x it when the range is wide.
fn select_output_unit(ns: &[u32], w: &Weights, total: i64, sample_unit: &str) -> String {
    if ns.is_empty() {
        return "minimum".into();
    }
    let mut min = 0i64;
    for &n in ns {
        let mut v = w.flat[n as usize].saturating_abs();
        if v == 0 {
            v = w.cum[n as usize].saturating_abs();
        }
        if v > 0 && (min == 0 || v < min) {
            min = v;
        }
    }
    let max = total;
    if min == 0 {
        min = max;
    }
    let (_, min_unit) = scale(min, sample_unit, "minimum");
    let (_, max_unit) = scale(max, sample_unit, "minimum");
    let mut unit = min_unit.clone();
    if min_unit != max_unit && min.saturating_mul(100) < max {
        unit = scale(min.saturating_mul(100), sample_unit, "minimum").1;
    }
    if unit.is_empty() {
        sample_unit.to_string()
    } else {
        unit
    }
}

/// `File:`, `Build ID:`, comments, `Type:`, `Time:`, `Duration:` (`ProfileLabels`).
fn profile_labels(
    p: &Profile,
    sample_type: &str,
    sample_unit: &str,
    total: i64,
    fmt: &dyn Fn(i64) -> String,
) -> Vec<String> {
    let mut l = Vec::new();
    if let Some(m) = p.mappings.first() {
        if let Some(f) = p.main_file() {
            l.push(format!("File: {f}"));
        }
        if !m.build_id.is_empty() {
            l.push(format!("Build ID: {}", m.build_id));
        }
    }
    l.extend(p.comments.iter().filter(|c| !c.starts_with('#')).cloned());
    if !sample_type.is_empty() {
        l.push(format!("Type: {sample_type}"));
    }
    if p.time_nanos != 0 {
        l.push(format!("Time: {}", pprof_time(p.time_nanos)));
    }
    if p.duration_nanos != 0 {
        let (nanos, unit) = scale(total, sample_unit, "nanoseconds");
        let ratio = if unit == "ns" && nanos != 0.0 {
            format!("({})", percentage(nanos as i64, p.duration_nanos))
        } else {
            String::new()
        };
        l.push(format!(
            "Duration: {}, Total samples = {} {ratio}",
            label(p.duration_nanos, "nanoseconds"),
            fmt(total)
        ));
    }
    l
}

/// Go's `"Jan 2, 2006 at 3:04pm (MST)"` layout, in UTC (pprof uses the local zone; run it
/// with TZ=UTC to compare).
pub fn pprof_time(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (h, min) = (sod / 3600, sod % 3600 / 60);
    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
    let ampm = if h < 12 { "am" } else { "pm" };
    format!(
        "{} {d}, {y} at {h12}:{min:02}{ampm} (UTC)",
        MONTHS[(m - 1) as usize]
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_layout() {
        // 2017-09-29T20:57:00Z
        assert_eq!(
            pprof_time(1_506_718_620_000_000_000),
            "Sep 29, 2017 at 8:57pm (UTC)"
        );
        assert_eq!(pprof_time(1), "Jan 1, 1970 at 12:00am (UTC)");
    }
}
