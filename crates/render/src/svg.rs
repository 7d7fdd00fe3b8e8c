//! The few SVG-writing helpers the chart needs.

use std::fmt::Write;

/// Escapes text for an SVG (XML 1.0) text node or attribute value: the five markup
/// characters become entities, and characters XML 1.0 does not allow (C0 controls other
/// than tab, newline and carriage return; U+FFFE, U+FFFF) become spaces, so the output
/// always parses. The one escaper for every SVG boxwise writes (charts and flame graphs).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            '\u{fffe}' | '\u{ffff}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Where a text's x coordinate is anchored.
#[derive(Clone, Copy)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// Writes one `<text>` element.
pub fn text(out: &mut String, x: f64, y: f64, size: u32, anchor: Anchor, extra: &str, s: &str) {
    let _ = writeln!(
        out,
        r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="{}"{extra}>{}</text>"#,
        anchor.as_str(),
        escape(s)
    );
}

/// Writes one `<line>` element.
pub fn line(out: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64), style: &str) {
    let _ = writeln!(
        out,
        r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" {style}/>"#
    );
}

/// A rough text width for layout (no font metrics in a dependency-free renderer).
pub fn text_width(s: &str, size: u32) -> f64 {
    s.chars().count() as f64 * f64::from(size) * 0.6
}
