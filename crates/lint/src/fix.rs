//! `--fix`: the edits rules mark as safe, applied to the text, and a unified diff of them.
//! Only whole-line replacements and end-of-line value replacements exist, so an edit can
//! never break the structure around it.

use std::collections::BTreeMap;

use crate::Position;

#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Replace lines `first..=last` (1-based) by `text` (no lines when empty), keeping the
    /// first line's indentation.
    Lines {
        first: usize,
        last: usize,
        text: String,
    },
    /// Replace from `pos` to the end of its line by `text` (a YAML scalar value).
    Value { pos: Position, text: String },
    /// Insert `text` before line `before`, each line with that line's indentation.
    Insert { before: usize, text: String },
}

impl Edit {
    fn first_line(&self) -> usize {
        match self {
            Edit::Lines { first, .. } => *first,
            Edit::Value { pos, .. } => pos.line,
            Edit::Insert { before, .. } => *before,
        }
    }
}

/// Apply edits to `text`. Overlapping edits keep the first; a value edit on a line with a
/// trailing comment is skipped (it would drop the comment). Returns the text and how many
/// edits were applied.
pub fn apply(text: &str, edits: &[Edit]) -> (String, usize) {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut by_line: BTreeMap<usize, &Edit> = BTreeMap::new();
    let mut taken: Vec<(usize, usize)> = Vec::new();
    for e in edits {
        let (a, b) = match e {
            Edit::Lines { first, last, .. } => (*first, *last),
            Edit::Value { pos, .. } => (pos.line, pos.line),
            Edit::Insert { before, .. } => (*before, *before),
        };
        if a == 0 || b > lines.len() || taken.iter().any(|(x, y)| a <= *y && *x <= b) {
            continue;
        }
        if let Edit::Value { pos, .. } = e {
            let line = lines[pos.line - 1];
            let rest: String = line.chars().skip(pos.column - 1).collect();
            if rest.contains(" #") {
                continue;
            }
        }
        taken.push((a, b));
        by_line.insert(e.first_line(), e);
    }
    let mut out = String::new();
    let mut i = 1;
    while i <= lines.len() {
        let line = lines[i - 1];
        match by_line.get(&i) {
            Some(Edit::Lines { last, text, .. }) => {
                let indent: String = line
                    .chars()
                    .take_while(|c| c.is_whitespace() && *c != '\n')
                    .collect();
                for l in text.lines() {
                    out.push_str(&indent);
                    out.push_str(l);
                    out.push('\n');
                }
                i = last + 1;
            }
            Some(Edit::Value { pos, text }) => {
                let head: String = line.chars().take(pos.column - 1).collect();
                out.push_str(&head);
                out.push_str(text);
                out.push('\n');
                i += 1;
            }
            Some(Edit::Insert { text, .. }) => {
                let indent: String = line
                    .chars()
                    .take_while(|c| *c == ' ' || *c == '\t')
                    .collect();
                for l in text.lines() {
                    out.push_str(&indent);
                    out.push_str(l);
                    out.push('\n');
                }
                out.push_str(line);
                i += 1;
            }
            None => {
                out.push_str(line);
                i += 1;
            }
        }
    }
    (out, taken.len())
}

/// A unified diff between the old and new text of `name`.
pub fn diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits() {
        let text = "a\n  CMD x \\\n   y\nb: 1\nc: 2 # keep\n";
        let (out, n) = apply(
            text,
            &[
                Edit::Lines {
                    first: 2,
                    last: 3,
                    text: "CMD [\"x\", \"y\"]".into(),
                },
                Edit::Value {
                    pos: Position::new(4, 4),
                    text: "\"2\"".into(),
                },
                Edit::Value {
                    pos: Position::new(5, 4),
                    text: "\"3\"".into(),
                },
            ],
        );
        assert_eq!(n, 2);
        assert_eq!(out, "a\n  CMD [\"x\", \"y\"]\nb: \"2\"\nc: 2 # keep\n");
        assert!(diff("f", text, &out).contains("+  CMD [\"x\", \"y\"]"));
    }
}
