//! `ps`'s table (the rows are `boxwise_goprog::process::Row`).

use boxwise_box::units;
use boxwise_goprog::process::Row;

fn or_dash<T>(v: Option<T>, f: impl FnOnce(T) -> String) -> String {
    v.map_or_else(|| "-".into(), f)
}

/// The columns dropped first when the table is wider than the terminal, least useful first:
/// the limits and the settings judged against them stay.
const DROP_ORDER: [usize; 5] = [5, 6, 9, 8, 2];

/// `ps`'s table; with a `width`, columns in [`DROP_ORDER`] go until the rows fit, and a last
/// line names them.
pub fn table(rows: &[Row], width: Option<usize>) -> String {
    let header = [
        "PID",
        "NAME",
        "GO",
        "GOMAXPROCS",
        "GOMEMLIMIT",
        "GOGC",
        "THREADS",
        "RSS/LIMIT",
        "CPUS",
        "CONTAINER",
    ];
    let mut cells: Vec<[String; 10]> = vec![header.map(String::from)];
    // Processes whose executable may not be read are one line at the end, not a row each
    // (`--pid host` in a container can see a hundred of them); `--json` lists them all.
    let (unreadable, rows): (Vec<&Row>, Vec<&Row>) = rows
        .iter()
        .partition(|r| r.go_version.is_none() && r.error.is_some());
    for r in &rows {
        let procs = match (r.gomaxprocs, r.recommended_gomaxprocs) {
            (Some(p), Some(want)) if p != want => format!("{p} (want {want})"),
            (p, _) => or_dash(p, |p| p.to_string()),
        };
        let memlimit = match (&r.gomemlimit, r.recommended_gomemlimit_bytes) {
            // A plain byte count reads as a size, like the wanted value beside it.
            (Some(v), _) => v
                .trim()
                .parse::<u64>()
                .map_or_else(|_| v.clone(), units::bytes),
            (None, Some(want)) => format!("unset (want {})", units::bytes(want)),
            (None, None) => "unset".into(),
        };
        let rss = format!(
            "{}/{}",
            or_dash(r.rss_bytes, units::bytes),
            r.memory_limit_bytes
                .map_or_else(|| "none".into(), units::bytes)
        );
        let container = match (&r.container_runtime, &r.container_id) {
            (Some(rt), Some(id)) => format!("{rt} {}", &id[..id.len().min(12)]),
            (Some(rt), None) => rt.clone(),
            _ => "-".into(),
        };
        let go = match (&r.go_version, &r.error) {
            (Some(v), _) => v.split_whitespace().next().unwrap_or(v).to_string(),
            (None, Some(_)) => "? (no access)".into(),
            _ => "-".into(),
        };
        cells.push([
            r.pid.to_string(),
            r.name.clone().unwrap_or_else(|| "?".into()),
            go,
            procs,
            if r.go_version.is_some() {
                memlimit
            } else {
                "-".into()
            },
            r.gogc.clone().unwrap_or_else(|| "-".into()),
            or_dash(r.threads, |t| t.to_string()),
            if r.go_version.is_some() {
                rss
            } else {
                "-".into()
            },
            or_dash(r.effective_cores, units::cpus),
            container,
        ]);
    }
    let all: Vec<Vec<String>> = cells.into_iter().map(Vec::from).collect();
    let mut out = super::grid(&all);
    let too_wide = |text: &str, w: usize| text.lines().any(|l| l.chars().count() > w);
    if let Some(w) = width.filter(|&w| too_wide(&out, w)) {
        let mut hidden: Vec<usize> = Vec::new();
        for col in DROP_ORDER {
            hidden.push(col);
            let shown: Vec<Vec<String>> = all
                .iter()
                .map(|r| {
                    r.iter()
                        .enumerate()
                        .filter(|(i, _)| !hidden.contains(i))
                        .map(|(_, c)| c.clone())
                        .collect()
                })
                .collect();
            out = super::grid(&shown);
            if !too_wide(&out, w) {
                break;
            }
        }
        out = super::fit::wrap(&out, w);
        let names: Vec<&str> = hidden.iter().map(|&i| header[i]).collect();
        out.push_str(&super::fit::wrap(
            &format!(
                "({} hidden to fit {w} columns; --wide or --json for all)\n",
                names.join(", ")
            ),
            w,
        ));
    }
    if rows.is_empty() {
        out.push_str("(no Go processes found)\n");
    }
    if !unreadable.is_empty() {
        let pids: Vec<String> = unreadable
            .iter()
            .take(8)
            .map(|r| r.pid.to_string())
            .collect();
        let more = if unreadable.len() > 8 { ", ..." } else { "" };
        let line = format!(
            "({} process{} whose executable boxwise may not read, so not known to be Go or \
             not: pid {}{more}; run as root, or --json for the reasons)\n",
            unreadable.len(),
            if unreadable.len() == 1 { "" } else { "es" },
            pids.join(", ")
        );
        out.push_str(&width.map_or(line.clone(), |w| super::fit::wrap(&line, w)));
    }
    out
}
