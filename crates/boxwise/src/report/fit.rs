//! Fitting text to the terminal: a newcomer's terminal is often 80 columns, and a line the
//! terminal wraps at column 80 breaks every alignment. Pipes and `--wide` keep full lines
//! (scripts grep them); `COLUMNS` or the tty's width set the limit otherwise.

use std::io::IsTerminal;
use std::sync::OnceLock;

static WIDTH: OnceLock<Option<usize>> = OnceLock::new();
static ERR_WIDTH: OnceLock<Option<usize>> = OnceLock::new();

/// The narrowest width we wrap to: below this, wrapping does more harm than good.
const MIN_WIDTH: usize = 40;

/// Decide the output width once, from `--wide`, `COLUMNS` and stdout's terminal.
pub fn init(wide: bool) {
    let columns = std::env::var("COLUMNS").ok();
    let tty = std::io::stdout()
        .is_terminal()
        .then(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
        .flatten();
    let _ = WIDTH.set(choose(wide, columns.as_deref(), tty));
    let err_tty = std::io::stderr()
        .is_terminal()
        .then(|| terminal_size::terminal_size_of(std::io::stderr()).map(|(w, _)| usize::from(w.0)))
        .flatten();
    let _ = ERR_WIDTH.set(choose(wide, columns.as_deref(), err_tty));
}

/// `--wide` wins; an explicit `COLUMNS` next (the user asked for it, even into a pipe); then
/// the terminal's width; a pipe gets full lines.
pub fn choose(wide: bool, columns: Option<&str>, tty: Option<usize>) -> Option<usize> {
    if wide {
        return None;
    }
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
        .or(tty)
        .map(|w| w.max(MIN_WIDTH))
}

/// The width to fit, or None for full lines.
pub fn width() -> Option<usize> {
    WIDTH.get().copied().flatten()
}

/// `text` with every line wider than the output width wrapped (see [`wrap`]).
pub fn fit(text: &str) -> String {
    match width() {
        Some(w) => wrap(text, w),
        None => text.to_string(),
    }
}

/// [`fit`] for text on stderr (its own terminal, or a pipe).
pub fn fit_stderr(text: &str) -> String {
    match ERR_WIDTH.get().copied().flatten() {
        Some(w) => wrap(text, w),
        None => text.to_string(),
    }
}

/// Wrap each line longer than `width` at spaces, continuing under its value column (the text
/// after the first run of two spaces past the indent, as in `label  value`), and break a word
/// longer than the room after a `/` where it can (paths) or anywhere when it cannot.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        if body.chars().count() <= width {
            out.push_str(line);
            continue;
        }
        for (i, piece) in wrap_line(body, width).iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(piece);
        }
        out.push_str(nl);
    }
    out
}

fn wrap_line(line: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let indent = chars.iter().take_while(|c| **c == ' ').count();
    // The value column: after the first two spaces following the label.
    let hang = (indent + 1..chars.len().saturating_sub(2))
        .find(|&i| chars[i] == ' ' && chars[i + 1] == ' ' && chars[i - 1] != ' ')
        .map(|i| {
            let mut j = i;
            while j < chars.len() && chars[j] == ' ' {
                j += 1;
            }
            j
        })
        .unwrap_or(indent + 4);
    // Keep at least half the width for text.
    let hang = hang.min(width / 2).max(indent.min(width / 2));
    let pad = " ".repeat(hang);
    let mut lines = Vec::new();
    let first_indent = indent.min(width / 2);
    let mut current = " ".repeat(first_indent);
    let mut current_len = first_indent;
    let mut fresh = true;
    let words = line[indent..].split(' ').filter(|w| !w.is_empty());
    // Runs of spaces inside the line (alignment) collapse to one at a wrap, not in between.
    let mut spaces_before = Vec::new();
    {
        let rest: Vec<char> = chars[indent..].to_vec();
        let mut n = 0;
        let mut in_word = false;
        for c in rest {
            if c == ' ' {
                if in_word {
                    in_word = false;
                    n = 0;
                }
                n += 1;
            } else if !in_word {
                spaces_before.push(n);
                in_word = true;
            }
        }
    }
    for (word, gap) in words.zip(spaces_before) {
        let mut word: String = word.to_string();
        loop {
            let wlen = word.chars().count();
            let sep = if fresh { 0 } else { gap };
            if current_len + sep + wlen <= width {
                current.push_str(&" ".repeat(sep));
                current.push_str(&word);
                current_len += sep + wlen;
                fresh = false;
                break;
            }
            if !fresh {
                lines.push(std::mem::take(&mut current));
                current = pad.clone();
                current_len = hang;
                fresh = true;
                continue;
            }
            // A word longer than the room on a fresh line: split it.
            let room = width.saturating_sub(current_len).max(1);
            let head: String = word.chars().take(room).collect();
            let cut = head
                .rfind('/')
                .filter(|&i| i > 0)
                .map(|i| i + 1)
                .unwrap_or(head.len());
            current.push_str(&word[..cut]);
            lines.push(std::mem::take(&mut current));
            word = word[cut..].to_string();
            current = pad.clone();
            current_len = hang;
            if word.is_empty() {
                break;
            }
        }
    }
    if current.trim().is_empty() {
        if lines.is_empty() {
            lines.push(current);
        }
    } else {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wide_pipe_and_columns() {
        assert_eq!(choose(true, Some("80"), Some(100)), None);
        assert_eq!(choose(false, Some("80"), None), Some(80));
        assert_eq!(choose(false, None, Some(100)), Some(100));
        assert_eq!(choose(false, None, None), None);
        assert_eq!(choose(false, Some("junk"), Some(90)), Some(90));
        assert_eq!(choose(false, Some("10"), None), Some(MIN_WIDTH));
    }

    #[test]
    fn wraps_under_the_value_column() {
        let line = "  quota      1.5 CPUs (150000/100000 us)  /sys/fs/cgroup/cpu/boxwise-readme/cpu.cfs_quota_us\n";
        let out = wrap(line, 64);
        assert_eq!(
            out,
            "  quota      1.5 CPUs (150000/100000 us)\n             /sys/fs/cgroup/cpu/boxwise-readme/cpu.cfs_quota_us\n"
        );
    }

    #[test]
    fn long_paths_break_after_a_slash() {
        let out = wrap(
            "  limit  /aaaa/bbbbbbbbbb/cccccccccc/dddddddddd/eeeeeeeeee\n",
            30,
        );
        for l in out.lines() {
            assert!(l.chars().count() <= 30, "{l:?}");
        }
        assert_eq!(
            out.replace(['\n', ' '], ""),
            "limit/aaaa/bbbbbbbbbb/cccccccccc/dddddddddd/eeeeeeeeee"
        );
        assert!(out.lines().nth(1).unwrap().ends_with('/'), "{out}");
    }

    #[test]
    fn short_lines_untouched() {
        assert_eq!(wrap("a  b\n\nc", 40), "a  b\n\nc");
    }

    proptest! {
        /// Every line fits, and no non-space character is lost or reordered.
        #[test]
        fn fits_and_keeps_text(text in "[ a-z/é]{0,300}(\n[ a-z/é]{0,200}){0,3}", width in 40usize..120) {
            let out = wrap(&text, width);
            for l in out.lines() {
                prop_assert!(l.chars().count() <= width, "{:?}", l);
            }
            let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            prop_assert_eq!(squash(&out), squash(&text));
        }
    }
}
