//! Flame graphs: folded stacks (`root;...;leaf value`, the format flamegraph.pl, inferno and
//! speedscope read) and a self-contained interactive SVG (hover titles, click to zoom,
//! search), written by hand so no CDDL-licensed dependency is needed.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use boxwise_render::escape as xml;

use crate::model::Profile;
use crate::stacks::FrameNames;
use crate::units::label;

/// Sums the selected value per distinct stack; lines sorted by stack for stable output.
/// Zero sums are left out. A `;` inside a frame name becomes `:` so lines stay parseable.
pub fn folded(p: &Profile, samples: &[usize], vi: usize) -> Vec<(String, i64)> {
    let frames = FrameNames::new(p);
    let mut sums: HashMap<Vec<u32>, i64> = HashMap::new();
    let mut stack = Vec::new();
    for &s in samples {
        let w = p.samples.get(s).values[vi];
        if w == 0 {
            continue;
        }
        frames.stack(p, s, &mut stack);
        if stack.is_empty() {
            continue;
        }
        let e = sums.entry(stack.clone()).or_insert(0);
        *e = e.saturating_add(w);
    }
    let mut out: Vec<(String, i64)> = sums
        .into_iter()
        .filter(|(_, v)| *v != 0)
        .map(|(k, v)| {
            let names: Vec<String> = k
                .iter()
                .map(|&i| frames.names[i as usize].replace(';', ":"))
                .collect();
            (names.join(";"), v)
        })
        .collect();
    out.sort();
    out
}

/// Renders folded lines as text, one `stack value` per line.
pub fn folded_text(lines: &[(String, i64)]) -> String {
    let mut s = String::new();
    for (k, v) in lines {
        let _ = writeln!(s, "{k} {v}");
    }
    s
}

/// Parses folded text back (the last space separates the value).
pub fn parse_folded(text: &str) -> Result<Vec<(String, i64)>, FoldedError> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            let line = i + 1;
            let (k, v) = l.rsplit_once(' ').ok_or(FoldedError::NoValue { line })?;
            let v = v.parse().map_err(|_| FoldedError::BadValue {
                line,
                value: v.to_string(),
            })?;
            Ok((k.to_string(), v))
        })
        .collect()
}

/// Why folded text does not parse; `line` counts the non-blank lines from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoldedError {
    #[error("line {line}: no value")]
    NoValue { line: usize },
    #[error("line {line}: bad value {value:?}")]
    BadValue { line: usize, value: String },
}

#[derive(Default)]
struct Node {
    value: i64,
    children: BTreeMap<String, Node>,
}

pub struct SvgOptions {
    pub title: String,
    /// Unit of the values, for the hover text (`nanoseconds`, `bytes`, `count`).
    pub unit: String,
    /// Frames narrower than this many pixels are left out (0 keeps all).
    pub min_width_px: f64,
}

const WIDTH: f64 = 1200.0;
const FRAME_H: f64 = 16.0;
const PAD_TOP: f64 = 40.0;
const PAD_BOTTOM: f64 = 24.0;

/// An interactive flame graph (root at the bottom). Only positive stack sums are drawn
/// (a delta profile's negative stacks have no width); the subtitle says how much was left out.
pub fn svg(lines: &[(String, i64)], o: &SvgOptions) -> String {
    let mut root = Node::default();
    let mut negative = 0i64;
    let mut depth = 0usize;
    for (k, v) in lines {
        if *v <= 0 {
            negative = negative.saturating_add(*v);
            continue;
        }
        root.value = root.value.saturating_add(*v);
        let mut n = &mut root;
        let mut d = 0;
        for f in k.split(';') {
            n = n.children.entry(f.to_string()).or_default();
            n.value = n.value.saturating_add(*v);
            d += 1;
        }
        depth = depth.max(d);
    }
    let total = root.value.max(1);
    let height = PAD_TOP + (depth + 1) as f64 * FRAME_H + PAD_BOTTOM;
    let mut body = String::new();
    let mut frames = 0usize;
    emit(&mut body, "all", &root, 0, 0, total, o, height, &mut frames);
    let mut sub = format!("total {}", label(root.value, &o.unit));
    if negative != 0 {
        let _ = write!(
            sub,
            "; negative stacks not drawn: {}",
            label(negative, &o.unit)
        );
    }
    format!(
        r##"<?xml version="1.0" standalone="no"?>
<svg version="1.1" width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" data-total="{total}" data-frames="{frames}">
<style>
text {{ font-family: Verdana, sans-serif; font-size: 12px; fill: #000; }}
.f rect {{ stroke: #fff; stroke-width: 0.5; rx: 2; }}
.f:hover rect {{ stroke: #000; }}
.f text {{ pointer-events: none; }}
.hl rect {{ fill: #e040e0 !important; }}
#title {{ font-size: 17px; }}
.btn {{ cursor: pointer; fill: #06c; }}
</style>
<rect x="0" y="0" width="{w}" height="{h}" fill="#f8f8f0"/>
<text id="title" x="{cx}" y="20" text-anchor="middle">{title}</text>
<text x="{cx}" y="34" text-anchor="middle" fill="#555">{sub}</text>
<text id="reset" class="btn" x="10" y="20" visibility="hidden">Reset zoom</text>
<text id="search" class="btn" x="{sx}" y="20" text-anchor="end">Search</text>
<text id="matched" x="{sx}" y="34" text-anchor="end"></text>
<text id="details" x="10" y="{dy}"> </text>
<g id="frames">
{body}</g>
<script><![CDATA[{script}]]></script>
</svg>
"##,
        w = WIDTH,
        h = height,
        cx = WIDTH / 2.0,
        sx = WIDTH - 10.0,
        dy = height - 8.0,
        title = xml(&o.title),
        sub = xml(&sub),
        script = SCRIPT,
    )
}

#[allow(clippy::too_many_arguments)]
fn emit(
    out: &mut String,
    name: &str,
    n: &Node,
    offset: i64,
    level: usize,
    total: i64,
    o: &SvgOptions,
    height: f64,
    frames: &mut usize,
) {
    let x = offset as f64 / total as f64 * WIDTH;
    let w = n.value as f64 / total as f64 * WIDTH;
    if w < o.min_width_px && level > 0 {
        return;
    }
    *frames += 1;
    let y = height - PAD_BOTTOM - (level + 1) as f64 * FRAME_H;
    let pct = n.value as f64 / total as f64 * 100.0;
    let title = format!("{name} ({}, {pct:.2}%)", label(n.value, &o.unit));
    let _ = writeln!(
        out,
        r#"<g class="f" data-o="{offset}" data-v="{v}" data-l="{level}"><title>{t}</title><rect x="{x:.2}" y="{y}" width="{w:.2}" height="{fh}" fill="{c}"/><text x="{tx:.2}" y="{ty}">{label}</text></g>"#,
        v = n.value,
        t = xml(&title),
        fh = FRAME_H - 1.0,
        c = color(name),
        tx = x + 3.0,
        ty = y + 12.0,
        label = xml(&fit(name, w)),
    );
    let mut off = offset;
    for (child, c) in &n.children {
        emit(out, child, c, off, level + 1, total, o, height, frames);
        off += c.value;
    }
}

/// The name cut to what fits in `w` pixels (about 7 px per character).
fn fit(name: &str, w: f64) -> String {
    let max = ((w - 6.0) / 7.0).floor();
    if max < 3.0 {
        return String::new();
    }
    let max = max as usize;
    if name.chars().count() <= max {
        name.to_string()
    } else {
        let cut: String = name.chars().take(max - 2).collect();
        format!("{cut}..")
    }
}

/// Warm colours, stable per name; the Go runtime in blues so GC and scheduler stand out.
fn color(name: &str) -> String {
    let h = name
        .bytes()
        .fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
    let r = (h % 55) as u8;
    let g = ((h >> 8) % 80) as u8;
    let b = ((h >> 16) % 55) as u8;
    if name.starts_with("runtime.") {
        format!("rgb({},{},{})", 100 + r, 150 + g, 200 + b)
    } else {
        format!("rgb({},{},{})", 200 + r, 90 + g, 30 + b)
    }
}

/// Zoom (click a frame; "Reset zoom" or the root to go back), search (regex, highlights
/// matches and shows their share), hover details. Positions come from data-o/data-v/data-l.
const SCRIPT: &str = r#"
(function () {
  var svg = document.documentElement, W = 1200, total = +svg.getAttribute('data-total');
  var frames = [].slice.call(document.querySelectorAll('.f'));
  var details = document.getElementById('details');
  function place(g, o0, v0, l0) {
    var o = +g.getAttribute('data-o'), v = +g.getAttribute('data-v'), l = +g.getAttribute('data-l');
    var r = g.querySelector('rect'), t = g.querySelector('text');
    var inside = o >= o0 && o + v <= o0 + v0, below = l < l0 && o <= o0 && o + v >= o0 + v0;
    if (!(inside || below || l == l0 && o == o0)) { g.style.display = 'none'; return; }
    g.style.display = '';
    var x = below ? 0 : (o - o0) / v0 * W, w = below ? W : v / v0 * W;
    r.setAttribute('x', x.toFixed(2)); r.setAttribute('width', w.toFixed(2));
    t.setAttribute('x', (x + 3).toFixed(2));
    var name = g.querySelector('title').textContent.replace(/ \([^()]*\)$/, ''), n = Math.floor((w - 6) / 7);
    t.textContent = n < 3 ? '' : name.length <= n ? name : name.slice(0, n - 2) + '..';
  }
  function zoom(g) {
    var o0 = +g.getAttribute('data-o'), v0 = +g.getAttribute('data-v'), l0 = +g.getAttribute('data-l');
    frames.forEach(function (f) { place(f, o0, v0, l0); });
    document.getElementById('reset').setAttribute('visibility', l0 == 0 ? 'hidden' : 'visible');
  }
  frames.forEach(function (g) {
    g.addEventListener('click', function () { zoom(g); });
    g.addEventListener('mouseover', function () { details.textContent = g.querySelector('title').textContent; });
    g.addEventListener('mouseout', function () { details.textContent = ' '; });
  });
  document.getElementById('reset').addEventListener('click', function () { zoom(frames[0]); });
  document.getElementById('search').addEventListener('click', function () {
    var q = prompt('Search frames (regular expression); empty to clear', '');
    if (q === null) return;
    var re = q ? new RegExp(q) : null, spans = [];
    frames.forEach(function (g) {
      var name = g.querySelector('title').textContent.replace(/ \([^()]*\)$/, '');
      var hit = re && re.test(name);
      g.classList.toggle('hl', !!hit);
      if (hit) spans.push([+g.getAttribute('data-o'), +g.getAttribute('data-v')]);
    });
    spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    var sum = 0, end = -1;
    spans.forEach(function (s) { if (s[0] >= end) { sum += s[1]; end = s[0] + s[1]; } else if (s[0] + s[1] > end) { sum += s[0] + s[1] - end; end = s[0] + s[1]; } });
    document.getElementById('matched').textContent = re ? 'Matched: ' + (100 * sum / total).toFixed(1) + '%' : '';
  });
})();
"#;
