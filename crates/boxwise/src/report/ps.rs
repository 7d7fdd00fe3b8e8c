//! `ps` rows and their table.

use std::path::PathBuf;

use boxwise_box::units;
use serde::Serialize;

/// One Go process (or one we could not read). Absent values are `null` in JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub pid: u32,
    pub name: Option<String>,
    pub exe: Option<PathBuf>,
    pub go_version: Option<String>,
    /// The GOMAXPROCS in effect: the environment's, or what its Go version's runtime chose.
    pub gomaxprocs: Option<u32>,
    pub gomaxprocs_from_env: bool,
    /// GOMEMLIMIT as set in its environment (raw), and in bytes when valid.
    pub gomemlimit: Option<String>,
    pub gomemlimit_bytes: Option<u64>,
    pub gogc: Option<String>,
    pub threads: Option<u64>,
    pub rss_bytes: Option<u64>,
    pub memory_limit_bytes: Option<u64>,
    pub cpu_quota_cores: Option<f64>,
    pub effective_cores: Option<f64>,
    pub container_runtime: Option<String>,
    pub container_id: Option<String>,
    pub recommended_gomaxprocs: Option<u32>,
    pub recommended_gomemlimit_bytes: Option<u64>,
    /// What could not be read.
    pub error: Option<String>,
}

impl Row {
    pub fn unreadable(pid: u32, name: Option<String>, error: String) -> Row {
        Row {
            pid,
            name,
            exe: None,
            go_version: None,
            gomaxprocs: None,
            gomaxprocs_from_env: false,
            gomemlimit: None,
            gomemlimit_bytes: None,
            gogc: None,
            threads: None,
            rss_bytes: None,
            memory_limit_bytes: None,
            cpu_quota_cores: None,
            effective_cores: None,
            container_runtime: None,
            container_id: None,
            recommended_gomaxprocs: None,
            recommended_gomemlimit_bytes: None,
            error: Some(error),
        }
    }
}

fn or_dash<T>(v: Option<T>, f: impl FnOnce(T) -> String) -> String {
    v.map_or_else(|| "-".into(), f)
}

pub fn table(rows: &[Row]) -> String {
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
    for r in rows {
        let procs = match (r.gomaxprocs, r.recommended_gomaxprocs) {
            (Some(p), Some(want)) if p != want => format!("{p} (want {want})"),
            (p, _) => or_dash(p, |p| p.to_string()),
        };
        let memlimit = match (&r.gomemlimit, r.recommended_gomemlimit_bytes) {
            (Some(v), _) => v.clone(),
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
    let rows_text: Vec<Vec<String>> = cells.into_iter().map(Vec::from).collect();
    let mut out = super::grid(&rows_text);
    if rows.is_empty() {
        out.push_str("(no Go processes found)\n");
    }
    out
}
