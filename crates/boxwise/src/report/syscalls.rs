//! The syscalls table (laid out like `strace -c`) and the Go reading under it.

use boxwise_syscalls::goread::Note;
use boxwise_syscalls::model::ThreadRow;
use boxwise_syscalls::{End, Table};
use serde::Serialize;

/// Everything a trace reports; also the JSON document.
#[derive(Serialize)]
pub struct Summary<'a> {
    pub pid: u32,
    /// The traced command, empty for `--pid`.
    pub command: Vec<String>,
    pub wall_seconds: f64,
    pub end: End,
    pub exit_code: Option<i32>,
    pub follow_forks: bool,
    /// The target's Go version; `null` when it is not a Go program, or not known to be
    /// one (no Go reading then).
    pub go_version: Option<String>,
    /// Why the executable could not be read (whether it is Go is then unknown); `null`
    /// when it was read.
    pub executable_error: Option<String>,
    /// `null` unless the target is a Go program.
    pub gomaxprocs: Option<u32>,
    pub cpu_limit_cores: Option<f64>,
    /// Some syscall passed the calls timed exactly, so part of the time columns may be
    /// estimated from a sample (counts stay exact); false with `--latency`, which times
    /// every call.
    pub time_estimated: bool,
    #[serde(flatten)]
    pub table: &'a Table,
    /// With `--by-thread`: calls and time per thread id, most time first.
    pub threads: Option<Vec<ThreadRow>>,
    pub go_reading: &'a [Note],
}

fn header(s: &Summary) -> String {
    let what = if s.command.is_empty() {
        format!("pid {}", s.pid)
    } else {
        let words: Vec<String> = s.command.iter().map(|a| shell_quote(a)).collect();
        format!("{} (pid {})", words.join(" "), s.pid)
    };
    let why = match s.end {
        End::TargetExited => "until it exited".to_string(),
        End::Duration => "for the requested time".to_string(),
        End::Interrupted => "until interrupted".to_string(),
    };
    let threads = if s.follow_forks {
        "all threads and child processes"
    } else {
        "all threads"
    };
    format!("{what}: {threads}, {:.2} s {why}", s.wall_seconds)
}

/// `arg` as a shell would need it typed: bare when it is only safe characters, else in
/// single quotes (a `'` inside becomes `'\''`).
pub fn shell_quote(arg: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%^".contains(c);
    if !arg.is_empty() && arg.chars().all(safe) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// The strace -c columns, one row per syscall, then the total.
fn rows(t: &Table) -> Vec<[String; 6]> {
    let mut out = vec![
        [
            "% time",
            "seconds",
            "usecs/call",
            "calls",
            "errors",
            "syscall",
        ]
        .map(String::from),
    ];
    for r in &t.rows {
        out.push([
            format!("{:.2}", r.percent_time),
            format!("{:.6}", r.time_ns as f64 / 1e9),
            format!("{}", r.mean_ns / 1000),
            r.calls.to_string(),
            if r.errors > 0 {
                r.errors.to_string()
            } else {
                String::new()
            },
            r.syscall.clone(),
        ]);
    }
    out.push([
        "100.00".to_string(),
        format!("{:.6}", t.total_time_ns as f64 / 1e9),
        format!(
            "{}",
            t.total_time_ns.checked_div(t.total_calls).unwrap_or(0) / 1000
        ),
        t.total_calls.to_string(),
        if t.total_errors > 0 {
            t.total_errors.to_string()
        } else {
            String::new()
        },
        "total".to_string(),
    ]);
    out
}

fn us(ns: u64) -> String {
    if ns >= 10_000_000 {
        format!("{:.0} ms", ns as f64 / 1e6)
    } else if ns >= 10_000 {
        format!("{:.0} us", ns as f64 / 1e3)
    } else {
        format!("{:.1} us", ns as f64 / 1e3)
    }
}

/// Wraps `text` at `width` columns: the first line starts with `first`, the rest with
/// `indent`.
/// `3 ENOENT, 1 EAGAIN`: a row's errors by errno, as text and Markdown both list them.
fn errno_counts(r: &boxwise_syscalls::model::Row) -> String {
    let e: Vec<String> = r
        .errnos
        .iter()
        .map(|e| format!("{} {}", e.count, e.errno))
        .collect();
    e.join(", ")
}

fn wrap(text: &str, width: usize, first: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
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
    out.push_str(&line);
    out.push('\n');
    out
}

/// The text report, its prose wrapped to `width` (`None`: full lines, for pipes and
/// `--wide`).
pub fn text(s: &Summary, width: Option<usize>) -> String {
    let width = width.unwrap_or(usize::MAX);
    let mut out = wrap(&header(s), width, "", "  ");
    out.push('\n');
    let t = s.table;
    if t.rows.is_empty() {
        out.push_str("no system calls seen\n");
    } else {
        let rows = rows(t);
        let widths: Vec<usize> = (0..6)
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        let rule: Vec<String> = widths[..5].iter().map(|w| "-".repeat(*w)).collect();
        for (i, r) in rows.iter().enumerate() {
            if i == 1 || i == rows.len() - 1 {
                out.push_str(&format!("{} ----------------\n", rule.join(" ")));
            }
            let mut cells: Vec<String> = (0..5)
                .map(|c| format!("{:>w$}", r[c], w = widths[c]))
                .collect();
            cells.push(r[5].clone());
            out.push_str(cells.join(" ").trim_end());
            out.push('\n');
        }
        if s.time_estimated {
            out.push_str(&wrap(&sampled_note(), width, "", "  "));
        }
    }
    let errs: Vec<String> = t
        .rows
        .iter()
        .filter(|r| !r.errnos.is_empty())
        .map(|r| format!("{}: {}", r.syscall, errno_counts(r)))
        .collect();
    if !errs.is_empty() {
        out.push_str("\nErrors by errno\n");
        for e in errs {
            out.push_str(&wrap(&e, width, "  ", "    "));
        }
    }
    if t.rows.iter().any(|r| r.latency.is_some()) {
        out.push_str("\nLatency (log2 buckets; p50/p99 are bucket upper bounds)\n");
        let mut grid = vec![
            ["syscall", "calls", "p50", "p99", "max"]
                .map(String::from)
                .to_vec(),
        ];
        for r in &t.rows {
            if let Some(l) = &r.latency {
                grid.push(vec![
                    format!("  {}", r.syscall),
                    r.calls.to_string(),
                    us(l.p50_ns),
                    us(l.p99_ns),
                    us(l.max_ns),
                ]);
            }
        }
        grid[0][0] = "  syscall".to_string();
        out.push_str(&super::grid(&grid));
    }
    if let Some(threads) = &s.threads {
        out.push_str(&format!(
            "\nBy thread ({} threads made calls)\n",
            threads.len()
        ));
        let mut grid = vec![
            ["  tid", "calls", "seconds", "% time"]
                .map(String::from)
                .to_vec(),
        ];
        for t in threads.iter().take(20) {
            grid.push(vec![
                format!("  {}", t.tid),
                t.calls.to_string(),
                format!("{:.6}", t.time_ns as f64 / 1e9),
                format!(
                    "{:.2}",
                    100.0 * t.time_ns as f64 / s.table.total_time_ns.max(1) as f64
                ),
            ]);
        }
        out.push_str(&super::grid(&grid));
        if threads.len() > 20 {
            out.push_str(&format!(
                "  ... {} more (--json lists all)\n",
                threads.len() - 20
            ));
        }
    }
    if s.go_version.is_none() {
        out.push('\n');
        out.push_str(&wrap(
            &format!("No Go reading: {}", no_reading(s)),
            width,
            "",
            "  ",
        ));
        return out;
    }
    out.push_str("\nGo reading\n");
    if s.go_reading.is_empty() {
        out.push_str("  nothing stands out: no runtime pattern above its threshold\n");
    }
    for n in s.go_reading {
        out.push_str(&wrap(&n.evidence, width, "- ", "  "));
        out.push_str(&wrap(&format!("{}.", n.meaning), width, "  ", "  "));
        out.push_str(&wrap(
            &format!("Go source: {}", n.source),
            width,
            "  ",
            "    ",
        ));
    }
    out
}

/// Why there is no Go reading: not a Go program, or unknown because the executable could
/// not be read.
fn no_reading(s: &Summary) -> String {
    match &s.executable_error {
        Some(e) => format!(
            "whether this is a Go program is unknown: its executable could not be read ({e})"
        ),
        None => "not a Go program (no Go build information in its executable)".to_string(),
    }
}

/// Under the table when the time columns are estimated.
fn sampled_note() -> String {
    format!(
        "(seconds estimated: past a syscall's first {} calls on a CPU, 1 call in {} \
         is timed; --latency times every call)",
        boxwise_syscalls::asm::EXACT_CALLS,
        boxwise_syscalls::asm::SAMPLE_ONE_IN
    )
}

pub fn markdown(s: &Summary) -> String {
    let mut out = format!("**{}**\n\n", header(s));
    out.push_str("| % time | seconds | usecs/call | calls | errors | syscall |\n");
    out.push_str("|---:|---:|---:|---:|---:|:---|\n");
    for r in rows(s.table).iter().skip(1) {
        out.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    if s.time_estimated {
        out.push_str(&format!("\n{}\n", sampled_note()));
    }
    let errs: Vec<String> = s
        .table
        .rows
        .iter()
        .filter(|r| !r.errnos.is_empty())
        .map(|r| format!("- `{}`: {}\n", r.syscall, errno_counts(r)))
        .collect();
    if !errs.is_empty() {
        out.push_str("\n**Errors by errno**\n\n");
        out.push_str(&errs.concat());
    }
    if s.table.rows.iter().any(|r| r.latency.is_some()) {
        out.push_str("\n| syscall | p50 | p99 | max |\n|:---|---:|---:|---:|\n");
        for r in &s.table.rows {
            if let Some(l) = &r.latency {
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    r.syscall,
                    us(l.p50_ns),
                    us(l.p99_ns),
                    us(l.max_ns)
                ));
            }
        }
    }
    if s.go_version.is_none() {
        out.push_str(&format!("\nNo Go reading: {}.\n", no_reading(s)));
        return out;
    }
    out.push_str("\n**Go reading**\n\n");
    if s.go_reading.is_empty() {
        out.push_str("Nothing stands out.\n");
    }
    for n in s.go_reading {
        out.push_str(&format!(
            "- **{}**: {}. {}. *Go source: {}*\n",
            n.syscalls.join("/"),
            n.evidence,
            n.meaning,
            n.source
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use boxwise_syscalls::Arch;

    fn summary<'a>(table: &'a Table, command: &[&str]) -> Summary<'a> {
        Summary {
            pid: 42,
            command: command.iter().map(|s| s.to_string()).collect(),
            wall_seconds: 1.0,
            end: End::TargetExited,
            exit_code: Some(0),
            follow_forks: false,
            go_version: None,
            executable_error: None,
            gomaxprocs: None,
            cpu_limit_cores: None,
            time_estimated: false,
            table,
            threads: None,
            go_reading: &[],
        }
    }

    #[test]
    fn arguments_are_quoted_as_a_shell_needs_them() {
        assert_eq!(shell_quote("./prog"), "./prog");
        assert_eq!(shell_quote("--for=5s"), "--for=5s");
        assert_eq!(shell_quote("exit 3"), "'exit 3'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        let table = Table::build(Arch::native().unwrap(), &[]);
        let text = text(&summary(&table, &["sh", "-c", "exit 3"]), None);
        assert!(text.starts_with("sh -c 'exit 3' (pid 42): "), "{text}");
    }

    #[test]
    fn full_lines_without_a_width_wrapped_with_one() {
        let table = Table::build(Arch::native().unwrap(), &[]);
        let long = "y".repeat(60);
        let s = summary(&table, &["./prog", &long]);
        let full = text(&s, None);
        assert!(full.lines().next().unwrap().chars().count() > 80, "{full}");
        let narrow = text(&s, Some(80));
        assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");
        assert_eq!(
            narrow.split_whitespace().collect::<Vec<_>>(),
            full.split_whitespace().collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_sampling_note_fits_80_columns() {
        let table = Table::build(
            Arch::X86_64,
            &[boxwise_syscalls::model::RawCounts {
                nr: 1,
                calls: 1000,
                time_ns: 5000,
                ..Default::default()
            }],
        );
        let mut s = summary(&table, &["prog"]);
        assert!(!text(&s, Some(80)).contains("estimated"));
        s.time_estimated = true;
        let out = text(&s, Some(80));
        assert!(
            out.contains("(seconds estimated: past a syscall's first 256"),
            "{out}"
        );
        assert!(out.lines().all(|l| l.chars().count() <= 80), "{out}");
        assert!(markdown(&s).contains("1 call in 8"));
    }

    #[test]
    fn no_reading_is_one_line_not_an_empty_heading() {
        let table = Table::build(Arch::native().unwrap(), &[]);
        let mut s = summary(&table, &[]);
        let t = text(&s, None);
        assert!(!t.contains("\nGo reading\n"), "{t}");
        assert!(
            t.ends_with(
                "\nNo Go reading: not a Go program (no Go build information in its executable)\n"
            ),
            "{t}"
        );
        s.executable_error = Some("/proc/1/exe: Permission denied".into());
        let t = text(&s, None);
        assert!(!t.contains("not a Go program"), "{t}");
        assert!(t.contains("No Go reading: whether this is a Go program is unknown: its executable could not be read (/proc/1/exe: Permission denied)"), "{t}");
        let md = markdown(&s);
        assert!(!md.contains("**Go reading**"), "{md}");
        assert!(md.contains("is unknown"), "{md}");
        s.go_version = Some("go1.23.1".into());
        let t = text(&s, None);
        assert!(t.contains("\nGo reading\n  nothing stands out"), "{t}");
    }
}
