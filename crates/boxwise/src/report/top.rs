//! `top`'s screen: the rows (cgroups with their rates, Go processes with their fit), sorted
//! and filtered, as text lines cut to the terminal's width. Pure; the terminal loop is in
//! cmd/top.rs.

use boxwise_box::units;
use boxwise_fleet::{CgroupRates, CgroupSample, GoProcess, Snapshot, rates};
use serde::Serialize;

/// What the rows are ordered by (keys c, t, m, n).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Cpu,
    Throttled,
    Memory,
    Name,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        Some(match s {
            "cpu" => Sort::Cpu,
            "throttled" => Sort::Throttled,
            "memory" => Sort::Memory,
            "name" => Sort::Name,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Sort::Cpu => "cpu",
            Sort::Throttled => "throttled",
            Sort::Memory => "memory",
            Sort::Name => "name",
        }
    }
}

/// How the user is looking: sort key, filter text, and whether to cut long cells.
#[derive(Debug, Clone)]
pub struct View {
    pub sort: Sort,
    pub filter: String,
    pub wide: bool,
    /// List what could not be read under the header (key `e` in the live view).
    pub show_errors: bool,
}

/// One cgroup row: its latest sample and its rates over the interval.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    #[serde(flatten)]
    pub sample: CgroupSample,
    pub rates: CgroupRates,
    /// Go processes inside it.
    pub go_processes: usize,
    /// Shown without a filter: something is set or happening in it, or it is a container
    /// (see [`worth_showing`]). A filter searches every row.
    #[serde(skip)]
    pub notable: bool,
}

/// Two snapshots made into rows.
#[derive(Debug, Clone)]
pub struct Screen {
    pub version: String,
    pub interval_seconds: f64,
    pub rows: Vec<Row>,
    pub go: Vec<GoProcess>,
    pub total_cgroups: usize,
    /// What could not be read, one line each.
    pub errors: Vec<String>,
    pub truncated: bool,
}

impl Screen {
    pub fn new(before: &Snapshot, now: &Snapshot) -> Screen {
        let interval_seconds = now.at.saturating_duration_since(before.at).as_secs_f64();
        let by_id: std::collections::HashMap<String, CgroupRates> = rates(before, now)
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
        let rows = now
            .cgroups
            .iter()
            .filter_map(|c| {
                let go_processes = now
                    .go
                    .iter()
                    .filter(|p| p.cgroup.as_deref() == Some(&c.id))
                    .count();
                let rates = by_id.get(&c.id)?.clone();
                Some(Row {
                    notable: worth_showing(c, &rates, go_processes),
                    sample: c.clone(),
                    rates,
                    go_processes,
                })
            })
            .collect();
        Screen {
            version: now.cgroup_version.clone(),
            interval_seconds,
            rows,
            go: now.go.clone(),
            total_cgroups: now.cgroups.len(),
            errors: now.errors.clone(),
            truncated: now.cgroups_truncated || now.go_truncated,
        }
    }

    /// `--json`: stable API. The rows and Go processes are those the view's filter lets
    /// through (without one: the rows the plain view shows), in path order.
    pub fn json(&self, view: &View) -> serde_json::Value {
        let rows: Vec<&Row> = self.rows.iter().filter(|r| row_passes(r, view)).collect();
        serde_json::json!({
            "cgroup_version": self.version,
            "interval_seconds": self.interval_seconds,
            "cgroups_total": self.total_cgroups,
            "truncated": self.truncated,
            "errors": self.errors,
            "filter": (!view.filter.is_empty()).then_some(view.filter.as_str()),
            "cgroups": rows,
            "go_processes": shown_go(self, view),
        })
    }
}

/// A cgroup is a row when it is a container (its LIMIT then says `-` when it has none) or
/// something is set or happening in it: a quota or memory limit, a Go process, CPU use,
/// throttling or an OOM kill. Idle system slices are left out.
fn worth_showing(c: &CgroupSample, r: &CgroupRates, go: usize) -> bool {
    c.container.is_some()
        || c.container_name.is_some()
        || c.cpu_quota_us.is_some()
        || c.memory_limit_bytes.is_some()
        || go > 0
        || r.cpu_cores.is_some_and(|x| x >= 0.005)
        || r.throttled_periods_percent.is_some_and(|x| x > 0.0)
        || r.oom_kills.is_some_and(|x| x > 0)
}

fn matches(filter: &str, fields: &[Option<&str>]) -> bool {
    filter.is_empty() || fields.iter().flatten().any(|f| f.contains(filter))
}

/// Without a filter the notable rows; with one, every row whose path or container matches.
fn row_passes(r: &Row, view: &View) -> bool {
    if view.filter.is_empty() {
        return r.notable;
    }
    matches(
        &view.filter,
        &[
            Some(r.sample.id.as_str()),
            r.sample.container.as_deref(),
            r.sample.container_name.as_deref(),
        ],
    )
}

/// Cut `s` to `w` characters, marking the cut with `…`; keep the end of paths.
fn fit(s: &str, w: usize, keep_end: bool) -> String {
    let n = s.chars().count();
    if n <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    if keep_end {
        let tail: String = s.chars().skip(n - (w - 1)).collect();
        format!("…{tail}")
    } else {
        let head: String = s.chars().take(w - 1).collect();
        format!("{head}…")
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "?".into(), |v| format!("{v:.0}%"))
}

/// Bytes in at most six characters for narrow columns: `230MiB`, `1.5GiB`, `512B`.
fn short_bytes(v: Option<u64>) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let Some(b) = v else { return "?".into() };
    let mut value = b as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let places = if unit > 0 && value < 10.0 { 1 } else { 0 };
    format!("{}{}", units::decimal(value, places), UNITS[unit])
}

/// The cgroup rows in view order.
pub fn sorted_rows<'a>(screen: &'a Screen, view: &View) -> Vec<&'a Row> {
    let mut rows: Vec<&Row> = screen.rows.iter().filter(|r| row_passes(r, view)).collect();
    let key = |r: &Row| -> f64 {
        match view.sort {
            Sort::Cpu => r.rates.cpu_cores.unwrap_or(-1.0),
            Sort::Throttled => {
                r.rates.throttled_periods_percent.unwrap_or(-1.0) * 1e6
                    + r.rates.cpu_cores.unwrap_or(0.0)
            }
            // The live view reads the working set only for the rows on screen; the others
            // rank by their usage, which is read for every cgroup.
            Sort::Memory => r
                .sample
                .memory_working_set_bytes
                .or(r.sample.memory_usage_bytes)
                .map_or(-1.0, |b| b as f64),
            Sort::Name => 0.0,
        }
    };
    if view.sort == Sort::Name {
        rows.sort_by(|a, b| a.sample.id.cmp(&b.sample.id));
    } else {
        rows.sort_by(|a, b| {
            key(b)
                .total_cmp(&key(a))
                .then(a.sample.id.cmp(&b.sample.id))
        });
    }
    rows
}

/// The Go processes the filter lets through.
fn shown_go<'a>(screen: &'a Screen, view: &View) -> Vec<&'a GoProcess> {
    screen
        .go
        .iter()
        .filter(|p| {
            matches(
                &view.filter,
                &[
                    p.cgroup.as_deref(),
                    p.container.as_deref(),
                    p.container_name.as_deref(),
                    p.name.as_deref(),
                ],
            )
        })
        .collect()
}

/// How many cgroup rows fit: what is left of `height` after the header (2 lines), the
/// Go table (its header, a blank line and its rows) and the "more" line.
fn cgroup_room(height: usize, go_shown: usize) -> usize {
    let go_lines = if go_shown == 0 { 2 } else { go_shown + 2 };
    height.saturating_sub(2 + go_lines + 1).max(3)
}

/// The ids of the cgroup rows that [`lines`] shows at this height: the live view reads
/// their costly files (working set, PSI) and no others.
pub fn shown_ids(screen: &Screen, view: &View, height: usize) -> Vec<String> {
    let room = cgroup_room(height, shown_go(screen, view).len());
    sorted_rows(screen, view)
        .into_iter()
        .take(room)
        .map(|r| r.sample.id.clone())
        .collect()
}

/// The whole screen as lines at most `width` characters, the cgroup table cut so that
/// everything fits in `height` lines.
pub fn lines(screen: &Screen, view: &View, width: usize, height: usize) -> Vec<String> {
    let w = width.max(40);
    // What the filter lets through is what the header counts.
    let rows = sorted_rows(screen, view);
    let go = shown_go(screen, view);
    let mut out = vec![header(screen, view, rows.len(), go.len(), w)];
    if view.show_errors {
        out.extend(error_lines(screen));
    }
    // Fixed columns take 53 characters; the cgroup name gets the rest.
    let name_w = if view.wide {
        60
    } else {
        w.saturating_sub(54).max(8)
    };
    out.push(format!(
        "{:<name_w$} {:>5} {:>6} {:>5} {:>6} {:>9} {:>9} {:>4}",
        "CGROUP", "CPU", "%QUOTA", "THR%", "THR-S", "MEM", "LIMIT", "OOM"
    ));
    let room = cgroup_room(height.saturating_sub(out.len() - 2), go.len());
    for r in rows.iter().take(room) {
        let name = r.sample.display_name().unwrap_or(&r.sample.id).to_string();
        out.push(format!(
            "{:<name_w$} {:>5} {:>6} {:>5} {:>6} {:>9} {:>9} {:>4}",
            fit(&name, name_w, true),
            r.rates
                .cpu_cores
                .map_or_else(|| "?".into(), |c| format!("{c:.2}")),
            if r.sample.cpu_quota_us.is_some() {
                pct(r.rates.cpu_of_quota_percent)
            } else {
                "-".into()
            },
            pct(r.rates.throttled_periods_percent),
            r.rates
                .throttled_seconds
                .map_or_else(|| "?".into(), |s| format!("{s:.2}")),
            short_bytes(r.sample.memory_working_set_bytes),
            r.sample
                .memory_limit_bytes
                .map_or_else(|| "-".into(), |b| short_bytes(Some(b))),
            r.sample
                .oom_kills
                .map_or_else(|| "?".into(), |n| n.to_string()),
        ));
    }
    if rows.len() > room {
        out.push(format!(
            "… {} more cgroups (f to filter)",
            rows.len() - room
        ));
    }
    if rows.is_empty() && !view.filter.is_empty() {
        out.push(format!(
            "(no cgroup path or container name contains \"{}\"; searched all {} cgroups{})",
            view.filter,
            screen.total_cgroups,
            if screen.truncated {
                ", the walk stopped at its cap"
            } else {
                ""
            }
        ));
    }
    out.push(String::new());
    let cg_w = if view.wide {
        60
    } else {
        w.saturating_sub(56).max(6)
    };
    out.push(format!(
        "{:>7} {:<12} {:<7} {:<10} {:<13} {:>4} {:<cg_w$}",
        "PID", "GO PROCESS", "GO", "GOMAXPROCS", "GOMEMLIMIT", "GOGC", "CGROUP"
    ));
    if go.is_empty() && view.filter.is_empty() {
        out.push("(no Go processes found)".into());
    } else if go.is_empty() {
        out.push(format!(
            "(no Go process, cgroup or container contains \"{}\"; searched all {})",
            view.filter,
            screen.go.len()
        ));
    }
    for p in go {
        let procs = match (p.gomaxprocs, p.gomaxprocs_recommended) {
            (Some(v), Some(want)) if p.gomaxprocs_fit == Some(false) => format!("{v}!want {want}"),
            (Some(v), _) => v.to_string(),
            _ => "?".into(),
        };
        let memlimit = match (p.gomemlimit_bytes, p.gomemlimit_recommended_bytes) {
            (Some(v), Some(want)) if p.gomemlimit_fit == Some(false) => {
                format!("{}!{}", short_bytes(Some(v)), short_bytes(Some(want)))
            }
            (Some(v), _) => short_bytes(Some(v)),
            (None, Some(want)) => format!("unset!{}", short_bytes(Some(want))),
            (None, None) if p.error.is_some() => "?".into(),
            (None, None) => "unset".into(),
        };
        let go_version = p
            .go_version
            .as_deref()
            .map(|v| v.trim_start_matches("go").to_string())
            .unwrap_or_else(|| "?".into());
        let where_ = p
            .container_display()
            .or(p.cgroup.as_deref())
            .unwrap_or("?")
            .to_string();
        out.push(format!(
            "{:>7} {:<12} {:<7} {:<10} {:<13} {:>4} {}",
            p.pid,
            fit(p.name.as_deref().unwrap_or("?"), 12, false),
            fit(&go_version, 7, false),
            fit(&procs, 10, false),
            fit(&memlimit, 13, false),
            fit(p.gogc.as_deref().unwrap_or("?"), 4, false),
            fit(&where_, cg_w, true),
        ));
    }
    if !view.wide {
        for l in &mut out {
            *l = fit(l, w, false);
        }
    }
    out
}

/// The header, dropping its least needed parts until it fits `w`: the interval first, then
/// the cgroup version, the sort key, and the program's name.
fn header(screen: &Screen, view: &View, rows: usize, go: usize, w: usize) -> String {
    // (part, the order it is dropped in; 0 never)
    let mut parts: Vec<(String, u8)> = vec![
        ("boxwise top".into(), 4),
        (screen.version.clone(), 2),
        (format!("{rows}/{} cgroups", screen.total_cgroups), 0),
        (format!("{go} Go"), 0),
        (
            format!("{}s", units::decimal(screen.interval_seconds, 1)),
            1,
        ),
        (format!("sort {}", view.sort.name()), 3),
    ];
    if !view.filter.is_empty() {
        parts.push((format!("filter \"{}\"", view.filter), 0));
    }
    match screen.errors.as_slice() {
        [] => {}
        [one] => parts.push((format!("{} unreadable", unreadable_name(one)), 0)),
        many => parts.push((format!("{} unreadable", many.len()), 0)),
    }
    let join = |parts: &[(String, u8)]| {
        parts
            .iter()
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>()
            .join("  ")
    };
    for drop in 1..=4 {
        let line = join(&parts);
        if line.chars().count() <= w {
            return line;
        }
        parts.retain(|(_, d)| *d != drop);
    }
    join(&parts)
}

/// What an error line says could not be read: the path of `cannot read <path>: …`, else
/// the line up to its first colon.
fn unreadable_name(error: &str) -> &str {
    let rest = error.strip_prefix("cannot read ").unwrap_or(error);
    rest.split(": ").next().unwrap_or(rest)
}

/// One line per thing that could not be read, at most ten.
fn error_lines(screen: &Screen) -> Vec<String> {
    let mut out: Vec<String> = screen
        .errors
        .iter()
        .take(10)
        .map(|e| format!("unreadable: {e}"))
        .collect();
    if screen.errors.len() > 10 {
        out.push(format!("… {} more unreadable", screen.errors.len() - 10));
    }
    out
}

/// The `!want` legend, told with the processes shown that carry the mark: the first with a
/// CPU limit and the first without one, each with what its GOMAXPROCS is, what fits, and
/// why (its CPU limit, or the CPUs it may run on when it has no limit).
fn legend(go: &[&GoProcess]) -> Vec<String> {
    let misfit = |limited: bool| {
        go.iter().find(|p| {
            p.gomaxprocs_fit == Some(false)
                && p.gomaxprocs.is_some()
                && p.gomaxprocs_recommended.is_some()
                && p.cpu_quota_cores.is_some() == limited
        })
    };
    [misfit(true), misfit(false)]
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let (v, want) = (p.gomaxprocs?, p.gomaxprocs_recommended?);
            let why = match p.cpu_quota_cores {
                Some(cores) => format!(
                    "its CPU limit of {} cores calls for {want}",
                    units::decimal(cores, 2)
                ),
                None => format!("with no CPU limit the CPUs it may use call for {want}"),
            };
            Some(format!("{v}!want {want}: GOMAXPROCS is {v}, but {why}."))
        })
        .collect()
}

/// The screen as text (for `--once`), with what could not be read listed under it.
pub fn text(screen: &Screen, view: &View, width: usize, height: usize) -> String {
    let mut s = lines(screen, view, width, height).join("\n");
    s.push('\n');
    // The legend only when a row shows the mark it explains, told with that row's values.
    for l in legend(&shown_go(screen, view)) {
        s.push_str(&l);
        s.push('\n');
    }
    if !view.show_errors {
        for l in error_lines(screen) {
            s.push_str(&if view.wide { l } else { fit(&l, width, false) });
            s.push('\n');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_bytes() {
        assert_eq!(short_bytes(Some(241_591_910)), "230MiB");
        assert_eq!(short_bytes(Some(1_610_612_736)), "1.5GiB");
        assert_eq!(short_bytes(Some(512)), "512B");
        assert_eq!(short_bytes(None), "?");
    }

    #[test]
    fn the_header_drops_its_least_needed_parts_to_fit() {
        let screen = Screen {
            version: "hybrid".into(),
            interval_seconds: 1.0,
            rows: Vec::new(),
            go: Vec::new(),
            total_cgroups: 8,
            errors: vec!["cannot read /proc/1/exe: Permission denied (os error 13)".into()],
            truncated: false,
        };
        let mut view = View {
            sort: Sort::Throttled,
            filter: String::new(),
            wide: false,
            show_errors: false,
        };
        assert_eq!(
            header(&screen, &view, 1, 2, 80),
            "boxwise top  hybrid  1/8 cgroups  2 Go  1s  sort throttled  /proc/1/exe unreadable"
                .replace("  1s", "")
        );
        view.filter = "newcomer".into();
        let h = header(&screen, &view, 0, 0, 80);
        assert!(h.chars().count() <= 80, "{h}");
        assert!(
            h.contains("0/8 cgroups")
                && h.contains("filter \"newcomer\"")
                && h.ends_with("/proc/1/exe unreadable"),
            "{h}"
        );
        assert!(!h.contains('…'), "{h}");
    }

    #[test]
    fn an_unreadable_thing_is_named_by_its_path() {
        assert_eq!(
            unreadable_name("cannot read /proc/1/exe: Permission denied (os error 13)"),
            "/proc/1/exe"
        );
        assert_eq!(unreadable_name("mountinfo: bad line 3"), "mountinfo");
    }

    #[test]
    fn cutting_marks_the_cut_and_keeps_path_ends() {
        assert_eq!(fit("abcdef", 4, false), "abc…");
        assert_eq!(fit("/a/b/leaf", 5, true), "…leaf");
        assert_eq!(fit("ab", 4, true), "ab");
    }
}
