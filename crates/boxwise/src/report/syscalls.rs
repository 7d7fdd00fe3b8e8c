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
    /// The target's Go version; `null` when it is not a Go program (no Go reading then).
    pub go_version: Option<String>,
    pub gomaxprocs: Option<u32>,
    pub cpu_limit_cores: Option<f64>,
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
        format!("{} (pid {})", s.command.join(" "), s.pid)
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

pub fn text(s: &Summary) -> String {
    let mut out = wrap(&header(s), 80, "", "  ");
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
    }
    let errs: Vec<String> = t
        .rows
        .iter()
        .filter(|r| !r.errnos.is_empty())
        .map(|r| {
            let e: Vec<String> = r
                .errnos
                .iter()
                .map(|e| format!("{} {}", e.count, e.errno))
                .collect();
            format!("{}: {}", r.syscall, e.join(", "))
        })
        .collect();
    if !errs.is_empty() {
        out.push_str("\nErrors by errno\n");
        for e in errs {
            out.push_str(&wrap(&e, 80, "  ", "    "));
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
    out.push_str("\nGo reading\n");
    if s.go_version.is_none() {
        out.push_str("  not a Go program (no Go build information in its executable)\n");
    } else if s.go_reading.is_empty() {
        out.push_str("  nothing stands out: no runtime pattern above its threshold\n");
    }
    for n in s.go_reading {
        out.push_str(&wrap(&n.evidence, 80, "- ", "  "));
        out.push_str(&wrap(&format!("{}.", n.meaning), 80, "  ", "  "));
        out.push_str(&wrap(&format!("Go source: {}", n.source), 80, "  ", "    "));
    }
    out
}

pub fn markdown(s: &Summary) -> String {
    let mut out = format!("**{}**\n\n", header(s));
    out.push_str("| % time | seconds | usecs/call | calls | errors | syscall |\n");
    out.push_str("|---:|---:|---:|---:|---:|:---|\n");
    for r in rows(s.table).iter().skip(1) {
        out.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    let errs: Vec<String> = s
        .table
        .rows
        .iter()
        .filter(|r| !r.errnos.is_empty())
        .map(|r| {
            let e: Vec<String> = r
                .errnos
                .iter()
                .map(|e| format!("{} {}", e.count, e.errno))
                .collect();
            format!("- `{}`: {}\n", r.syscall, e.join(", "))
        })
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
    out.push_str("\n**Go reading**\n\n");
    if s.go_version.is_none() {
        out.push_str("Not a Go program.\n");
    } else if s.go_reading.is_empty() {
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
