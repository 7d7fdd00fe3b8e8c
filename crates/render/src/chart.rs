//! A line chart: title, labelled axes with ticks, one or more series, horizontal limit
//! lines and a legend, written as a self-contained SVG.
//!
//! ```
//! use boxwise_render::{Chart, HLine, Series, Style};
//! let svg = Chart::new("Heap", "time (s)", "MiB")
//!     .series(Series::new("heap goal", vec![(0.0, 4.0), (1.0, 8.0)], Style::Line))
//!     .hline(HLine::new("GOMEMLIMIT", 10.0))
//!     .to_svg();
//! assert!(svg.starts_with("<svg"));
//! ```

use std::fmt::Write;

use crate::svg::{Anchor, escape, line, text, text_width};
use crate::ticks::Axis;

/// Series colours, distinguishable in print and for common colour blindness (Tableau 10).
const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#bab0ac",
];
/// Limit-line colours: red and dark tones, kept apart from the series palette.
const HLINE_PALETTE: [&str; 4] = ["#e15759", "#7f0000", "#ff9da7", "#555555"];

const FONT: &str = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\"";
const TITLE_SIZE: u32 = 15;
const LABEL_SIZE: u32 = 12;
const TICK_SIZE: u32 = 11;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Points joined in x order.
    Line,
    /// Unjoined dots, for events such as one GC pause each.
    Points,
}

/// A named set of `(x, y)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub style: Style,
}

impl Series {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>, style: Style) -> Series {
        Series {
            name: name.into(),
            points,
            style,
        }
    }
}

/// A horizontal reference line across the plot, such as a memory limit.
#[derive(Debug, Clone, PartialEq)]
pub struct HLine {
    pub label: String,
    pub y: f64,
}

impl HLine {
    pub fn new(label: impl Into<String>, y: f64) -> HLine {
        HLine {
            label: label.into(),
            y,
        }
    }
}

/// One chart. Build it with [`Chart::new`] and the builder methods, then call
/// [`Chart::to_svg`] (or [`stack`] for several charts in one file).
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub hlines: Vec<HLine>,
    /// Size of the whole chart in SVG pixels.
    pub width: u32,
    pub height: u32,
    /// Start the y axis at zero (sizes, durations) rather than at the data's minimum.
    pub y_from_zero: bool,
    /// x values are whole numbers naming categories (a sweep's configurations): one tick
    /// per value, half a step of room at each end.
    pub x_integer: bool,
}

impl Chart {
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Chart {
        Chart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series: Vec::new(),
            hlines: Vec::new(),
            width: 900,
            height: 380,
            y_from_zero: true,
            x_integer: false,
        }
    }

    pub fn series(mut self, s: Series) -> Chart {
        self.series.push(s);
        self
    }

    pub fn hline(mut self, h: HLine) -> Chart {
        self.hlines.push(h);
        self
    }

    /// See [`Chart::x_integer`].
    pub fn x_integer(mut self) -> Chart {
        self.x_integer = true;
        self
    }

    pub fn size(mut self, width: u32, height: u32) -> Chart {
        self.width = width;
        self.height = height;
        self
    }

    /// The chart as a complete SVG document.
    pub fn to_svg(&self) -> String {
        stack(std::slice::from_ref(self))
    }

    /// Draws the chart with its top-left corner at `(0, top)` of an enclosing SVG.
    fn render(&self, out: &mut String, top: f64) {
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        let legend = self.legend_layout(w - 90.0);
        let legend_rows = legend.last().map_or(0, |item| item.row + 1);
        let plot = Rect {
            left: 72.0,
            right: w - 20.0,
            top: top + 34.0 + 18.0 * legend_rows as f64 + 6.0,
            bottom: top + h - 48.0,
        };
        let (xa, ya) = self.axes(plot.width());
        let _ = writeln!(out, "<g {FONT}>");
        text(
            out,
            w / 2.0,
            top + 20.0,
            TITLE_SIZE,
            Anchor::Middle,
            r#" font-weight="bold""#,
            &self.title,
        );
        self.draw_legend(out, &legend, 72.0, top + 40.0);
        let _ = writeln!(
            out,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#ffffff" stroke="#999999"/>"##,
            plot.left,
            plot.top,
            plot.width(),
            plot.height()
        );
        let map = Map { plot, xa, ya };
        draw_axes(out, &map, &self.x_label, &self.y_label);
        let _ = writeln!(
            out,
            r#"<svg x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" viewBox="{:.1} {:.1} {:.1} {:.1}" overflow="hidden">"#,
            plot.left,
            plot.top,
            plot.width(),
            plot.height(),
            plot.left,
            plot.top,
            plot.width(),
            plot.height()
        );
        for (i, s) in self.series.iter().enumerate() {
            draw_series(out, &map, s, PALETTE[i % PALETTE.len()]);
        }
        for (i, hl) in self.hlines.iter().enumerate() {
            let y = map.y(hl.y);
            let style = format!(
                r#"stroke="{}" stroke-width="1.5" stroke-dasharray="6,4""#,
                HLINE_PALETTE[i % HLINE_PALETTE.len()]
            );
            line(out, (plot.left, y), (plot.right, y), &style);
        }
        out.push_str("</svg>\n");
        for (i, hl) in self.hlines.iter().enumerate() {
            // Limit labels sit just above their line, inside the plot's right end.
            let y = map.y(hl.y).clamp(plot.top + 12.0, plot.bottom);
            let fill = format!(r#" fill="{}""#, HLINE_PALETTE[i % HLINE_PALETTE.len()]);
            text(
                out,
                plot.right - 4.0,
                y - 3.0,
                TICK_SIZE,
                Anchor::End,
                &fill,
                &hl.label,
            );
        }
        out.push_str("</g>\n");
    }

    /// Axis ranges covering every point and limit line.
    fn axes(&self, plot_width: f64) -> (Axis, Axis) {
        let pts = self
            .series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|p| p.0.is_finite() && p.1.is_finite());
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y) in pts {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        for h in self.hlines.iter().filter(|h| h.y.is_finite()) {
            y0 = y0.min(h.y);
            y1 = y1.max(h.y);
        }
        if !x0.is_finite() {
            (x0, x1) = (0.0, 1.0);
        }
        if !y0.is_finite() {
            (y0, y1) = (0.0, 1.0);
        }
        if self.y_from_zero {
            y0 = y0.min(0.0);
        }
        let x_ticks = ((plot_width / 90.0) as usize).clamp(2, 10);
        let x_axis = if self.x_integer {
            Axis {
                min: x0.floor() - 0.5,
                max: x1.ceil() + 0.5,
                step: 1.0,
            }
        } else {
            Axis::covering(x0, x1, x_ticks)
        };
        (x_axis, Axis::covering(y0, y1, 5))
    }

    fn legend_layout(&self, max_width: f64) -> Vec<LegendItem> {
        let mut items = Vec::new();
        let (mut x, mut row) = (0.0, 0);
        for (i, s) in self.series.iter().enumerate() {
            let width = 22.0 + text_width(&s.name, LABEL_SIZE) + 18.0;
            if x > 0.0 && x + width > max_width {
                x = 0.0;
                row += 1;
            }
            items.push(LegendItem { index: i, x, row });
            x += width;
        }
        items
    }

    fn draw_legend(&self, out: &mut String, items: &[LegendItem], left: f64, top: f64) {
        for item in items {
            let s = &self.series[item.index];
            let color = PALETTE[item.index % PALETTE.len()];
            let (x, y) = (left + item.x, top + 18.0 * item.row as f64);
            match s.style {
                Style::Line => line(
                    out,
                    (x, y),
                    (x + 16.0, y),
                    &format!(r#"stroke="{color}" stroke-width="2.5""#),
                ),
                Style::Points => {
                    let _ = writeln!(
                        out,
                        r#"<circle cx="{:.1}" cy="{y:.1}" r="3" fill="{color}"/>"#,
                        x + 8.0
                    );
                }
            }
            text(
                out,
                x + 22.0,
                y + 4.0,
                LABEL_SIZE,
                Anchor::Start,
                "",
                &s.name,
            );
        }
    }
}

/// Several charts one under another in a single SVG document.
pub fn stack(charts: &[Chart]) -> String {
    let width = charts.iter().map(|c| c.width).max().unwrap_or(400);
    let height: u32 = charts.iter().map(|c| c.height).sum::<u32>().max(1);
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#
    );
    out.push('\n');
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="#fafafa"/>"##
    );
    if let Some(title) = charts.first().map(|c| &c.title) {
        let _ = writeln!(out, "<title>{}</title>", escape(title));
    }
    let mut top = 0.0;
    for c in charts {
        c.render(&mut out, top);
        top += f64::from(c.height);
    }
    out.push_str("</svg>\n");
    out
}

struct LegendItem {
    index: usize,
    x: f64,
    row: usize,
}

#[derive(Clone, Copy)]
struct Rect {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Rect {
    fn width(&self) -> f64 {
        self.right - self.left
    }
    fn height(&self) -> f64 {
        self.bottom - self.top
    }
}

/// Data coordinates to SVG pixels.
struct Map {
    plot: Rect,
    xa: Axis,
    ya: Axis,
}

impl Map {
    fn x(&self, v: f64) -> f64 {
        self.plot.left + (v - self.xa.min) / (self.xa.max - self.xa.min) * self.plot.width()
    }
    fn y(&self, v: f64) -> f64 {
        self.plot.bottom - (v - self.ya.min) / (self.ya.max - self.ya.min) * self.plot.height()
    }
}

fn draw_axes(out: &mut String, map: &Map, x_label: &str, y_label: &str) {
    let p = map.plot;
    let grid = r##"stroke="#e6e6e6" stroke-width="1""##;
    let tick = r##"stroke="#333333" stroke-width="1""##;
    for v in map.xa.ticks() {
        let x = map.x(v);
        line(out, (x, p.top), (x, p.bottom), grid);
        line(out, (x, p.bottom), (x, p.bottom + 5.0), tick);
        text(
            out,
            x,
            p.bottom + 18.0,
            TICK_SIZE,
            Anchor::Middle,
            "",
            &map.xa.label(v),
        );
    }
    for v in map.ya.ticks() {
        let y = map.y(v);
        line(out, (p.left, y), (p.right, y), grid);
        line(out, (p.left - 5.0, y), (p.left, y), tick);
        text(
            out,
            p.left - 8.0,
            y + 4.0,
            TICK_SIZE,
            Anchor::End,
            "",
            &map.ya.label(v),
        );
    }
    line(out, (p.left, p.bottom), (p.right, p.bottom), tick);
    line(out, (p.left, p.top), (p.left, p.bottom), tick);
    text(
        out,
        (p.left + p.right) / 2.0,
        p.bottom + 38.0,
        LABEL_SIZE,
        Anchor::Middle,
        "",
        x_label,
    );
    let (lx, ly) = (16.0, (p.top + p.bottom) / 2.0);
    let rotate = format!(r#" transform="rotate(-90 {lx:.1} {ly:.1})""#);
    text(out, lx, ly, LABEL_SIZE, Anchor::Middle, &rotate, y_label);
}

fn draw_series(out: &mut String, map: &Map, s: &Series, color: &str) {
    let pts = decimate(&s.points, map.plot.width() as usize, map.xa.min, map.xa.max);
    match s.style {
        Style::Line => {
            if pts.is_empty() {
                return;
            }
            let _ = write!(
                out,
                r#"<polyline fill="none" stroke="{color}" stroke-width="1.6" stroke-linejoin="round" points=""#
            );
            for (i, &(x, y)) in pts.iter().enumerate() {
                let sep = if i == 0 { "" } else { " " };
                let _ = write!(out, "{sep}{:.1},{:.1}", map.x(x), map.y(y));
            }
            out.push_str("\"/>\n");
        }
        Style::Points => {
            let _ = writeln!(out, r#"<g fill="{color}">"#);
            for &(x, y) in &pts {
                let _ = writeln!(
                    out,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="2.2"/>"#,
                    map.x(x),
                    map.y(y)
                );
            }
            out.push_str("</g>\n");
        }
    }
}

/// At most a few points per pixel column: the first, lowest, highest and last point of
/// each column, in order, so a million-point series keeps its peaks and stays small.
/// Non-finite points are dropped.
pub fn decimate(points: &[(f64, f64)], columns: usize, x_min: f64, x_max: f64) -> Vec<(f64, f64)> {
    let finite = points
        .iter()
        .copied()
        .filter(|p| p.0.is_finite() && p.1.is_finite());
    let columns = columns.max(1);
    if points.len() <= columns * 2 || x_max <= x_min {
        return finite.collect();
    }
    let col_of = |x: f64| (((x - x_min) / (x_max - x_min)) * columns as f64).floor() as i64;
    let mut out = Vec::new();
    let mut bucket: Vec<(f64, f64)> = Vec::new();
    let mut current = i64::MIN;
    let flush = |bucket: &mut Vec<(f64, f64)>, out: &mut Vec<(f64, f64)>| {
        if bucket.is_empty() {
            return;
        }
        let first = bucket[0];
        let last = bucket[bucket.len() - 1];
        let lo = bucket
            .iter()
            .copied()
            .fold(first, |a, p| if p.1 < a.1 { p } else { a });
        let hi = bucket
            .iter()
            .copied()
            .fold(first, |a, p| if p.1 > a.1 { p } else { a });
        let mut keep = [first, lo, hi, last];
        keep.sort_by(|a, b| a.0.total_cmp(&b.0));
        for p in keep {
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
        bucket.clear();
    };
    for p in finite {
        let c = col_of(p.0);
        if c != current {
            flush(&mut bucket, &mut out);
            current = c;
        }
        bucket.push(p);
    }
    flush(&mut bucket, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Chart {
        Chart::new("Heap <over> time", "time (s)", "MiB")
            .series(Series::new(
                "heap at GC start",
                vec![(0.0, 4.0), (1.0, 40.0), (2.0, 20.0)],
                Style::Line,
            ))
            .series(Series::new(
                "pause",
                vec![(0.5, 1.0), (1.5, 3.0)],
                Style::Points,
            ))
            .hline(HLine::new("GOMEMLIMIT 64 MiB", 64.0))
    }

    #[test]
    fn svg_is_well_formed_and_labelled() {
        let svg = sample().to_svg();
        let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
        let texts: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect();
        for want in [
            "Heap <over> time",
            "time (s)",
            "MiB",
            "heap at GC start",
            "pause",
            "GOMEMLIMIT 64 MiB",
            "0",
            "20",
            "40",
            "60",
            "80",
        ] {
            assert!(texts.contains(&want), "no text {want:?} in {texts:?}");
        }
        // The limit line (64) widens the y axis to 80 even though the data stop at 40.
        assert!(!texts.contains(&"100"), "{texts:?}");
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("polyline"))
                .count(),
            1
        );
        // Two data points plus one legend marker.
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("circle"))
                .count(),
            3
        );
    }

    #[test]
    fn points_map_into_the_plot_area() {
        let svg = Chart::new("t", "x", "y")
            .series(Series::new(
                "s",
                vec![(0.0, 0.0), (10.0, 10.0)],
                Style::Line,
            ))
            .to_svg();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let poly = doc
            .descendants()
            .find(|n| n.has_tag_name("polyline"))
            .unwrap();
        let pts: Vec<(f64, f64)> = poly
            .attribute("points")
            .unwrap()
            .split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        // (0,0) is the bottom-left corner of the plot, (10,10) the top-right.
        assert_eq!(pts[0].0, 72.0);
        assert_eq!(pts[1].0, 880.0);
        assert!(pts[0].1 > pts[1].1, "y grows upwards: {pts:?}");
    }

    #[test]
    fn stack_places_charts_one_under_another() {
        let svg = stack(&[sample(), sample().size(900, 200)]);
        assert!(svg.contains(r#"height="580""#), "{}", &svg[..200]);
        roxmltree::Document::parse(&svg).unwrap();
    }

    #[test]
    fn decimate_keeps_extremes() {
        let pts: Vec<(f64, f64)> = (0..100_000)
            .map(|i| (i as f64, if i == 54_321 { 1e6 } else { (i % 7) as f64 }))
            .collect();
        let d = decimate(&pts, 500, 0.0, 99_999.0);
        assert!(d.len() <= 500 * 4 + 4, "{}", d.len());
        assert!(d.contains(&(54_321.0, 1e6)));
        assert!(d.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn empty_chart_renders() {
        roxmltree::Document::parse(&Chart::new("", "", "").to_svg()).unwrap();
    }

    proptest! {
        #[test]
        fn any_points_give_well_formed_svg(
            pts in proptest::collection::vec((any::<f64>(), any::<f64>()), 0..50),
            name in ".{0,20}",
            limit in any::<f64>(),
        ) {
            let svg = Chart::new(name.clone(), "x", "y")
                .series(Series::new(name, pts, Style::Line))
                .hline(HLine::new("limit", limit))
                .to_svg();
            prop_assert!(roxmltree::Document::parse(&svg).is_ok());
        }
    }
}
