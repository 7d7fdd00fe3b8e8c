//! Lint findings as text: one block per finding (where, severity, rule; why; evidence; fix),
//! wrapped to 80 columns unless `--wide`, then a one-line summary.

use boxwise_lint::{Report, Rule, Severity};

const WIDTH: usize = 80;

/// Greedy word wrap of `text` to `width` columns, each line after `first` prefixed by `indent`.
fn wrap(text: &str, first: &str, indent: &str, width: Option<usize>) -> String {
    let Some(width) = width else {
        return format!("{first}{text}\n");
    };
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ') {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// Cut from the left (paths keep their file name), with an ellipsis.
fn cut_left(s: &str, width: Option<usize>) -> String {
    match width {
        Some(w) if s.chars().count() > w => {
            let n = s.chars().count();
            let t: String = s.chars().skip(n - (w - 1)).collect();
            format!("…{t}")
        }
        _ => s.to_string(),
    }
}

pub fn text(r: &Report, wide: bool) -> String {
    let width = (!wide).then_some(WIDTH);
    let mut out = String::new();
    for f in &r.findings {
        // The location alone on the first line (long paths would hide the rule), then
        // severity and rule, never cut.
        out.push_str(&cut_left(
            &format!("{}:{}:{}", f.file, f.line, f.column),
            width,
        ));
        out.push('\n');
        out.push_str(&format!("  {}  {}\n", f.severity.name(), f.rule));
        out.push_str(&wrap(&f.message, "  ", "  ", width));
        let ev: Vec<&str> = f.evidence.lines().collect();
        for (i, l) in ev.iter().enumerate() {
            let head = if i == 0 {
                "  evidence: "
            } else {
                "            "
            };
            // Wrapped, never cut: every word of the evidence and the fix stays visible.
            out.push_str(&wrap(l, head, "              ", width));
        }
        for (i, l) in f.fix.lines().enumerate() {
            let head = if i == 0 {
                "  fix:      "
            } else {
                "            "
            };
            // Wrapped, never cut: every word of the evidence and the fix stays visible.
            out.push_str(&wrap(l, head, "              ", width));
        }
        out.push('\n');
    }
    let count = |s: Severity| r.findings.iter().filter(|f| f.severity == s).count();
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let mut summary = format!(
        "{} linted: {}",
        plural(r.files.saturating_sub(r.errors.len()), "file"),
        if r.findings.is_empty() {
            "no findings".to_string()
        } else {
            format!(
                "{}, {}, {}",
                plural(count(Severity::Error), "error"),
                plural(count(Severity::Warning), "warning"),
                plural(count(Severity::Info), "info")
            )
            .replace("infos", "info")
        }
    );
    if !r.errors.is_empty() {
        summary.push_str(&format!("; {} not linted", plural(r.errors.len(), "file")));
    }
    out.push_str(&summary);
    out.push('\n');
    out
}

/// `--list-rules`: id and default severity, then the summary indented below (80 columns).
pub fn rules(rules: &[&Rule]) -> String {
    let mut out = String::new();
    for r in rules {
        out.push_str(&format!("{}  ({})\n", r.id, r.severity.name()));
        out.push_str(&wrap(r.summary, "    ", "    ", Some(WIDTH)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_to_width() {
        let long = "word ".repeat(40);
        let w = wrap(long.trim(), "  ", "  ", Some(WIDTH));
        assert!(w.lines().count() > 1);
        assert!(w.lines().all(|l| l.chars().count() <= WIDTH), "{w}");
        assert_eq!(wrap("a b", "  ", "  ", None), "  a b\n");
        assert_eq!(cut_left("dir/file:1:2", Some(8)), "…ile:1:2");
    }
}
