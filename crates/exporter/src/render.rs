//! The exposition text. Names follow cAdvisor's where the quantity is the same (so its
//! dashboards work), `boxwise_` for what only boxwise knows. Labels are bounded: per
//! cgroup `id` (the path) and `name` (the container), per Go process `pid` plus those two;
//! the snapshot's caps bound how many of each.

use std::fmt::Write;

use boxwise_fleet::{CgroupSample, GoProcess, Snapshot};

/// One metric family: name, type, help.
pub struct Family {
    pub name: &'static str,
    pub kind: &'static str,
    pub help: &'static str,
}

const fn fam(name: &'static str, kind: &'static str, help: &'static str) -> Family {
    Family { name, kind, help }
}

/// Every family the exporter can write: the contract docs/fleet.md lists and the deploy/
/// tests check rules and dashboards against.
pub const METRICS: &[Family] = &[
    fam(
        "container_cpu_usage_seconds_total",
        "counter",
        "Cumulative CPU time consumed by the cgroup in seconds.",
    ),
    fam(
        "container_cpu_cfs_periods_total",
        "counter",
        "Number of elapsed enforcement period intervals.",
    ),
    fam(
        "container_cpu_cfs_throttled_periods_total",
        "counter",
        "Number of throttled period intervals.",
    ),
    fam(
        "container_cpu_cfs_throttled_seconds_total",
        "counter",
        "Total time duration the cgroup has been throttled.",
    ),
    fam(
        "container_spec_cpu_quota",
        "gauge",
        "CPU quota of the cgroup in microseconds per period (absent when unlimited).",
    ),
    fam(
        "container_spec_cpu_period",
        "gauge",
        "CPU period of the cgroup in microseconds (absent when unlimited).",
    ),
    fam(
        "container_memory_usage_bytes",
        "gauge",
        "Current memory usage in bytes, including all memory regardless of when it was accessed.",
    ),
    fam(
        "container_memory_working_set_bytes",
        "gauge",
        "Current working set in bytes: usage less inactive file cache.",
    ),
    fam(
        "container_spec_memory_limit_bytes",
        "gauge",
        "Memory limit of the cgroup in bytes (absent when unlimited).",
    ),
    fam(
        "container_oom_events_total",
        "counter",
        "Count of processes the OOM killer killed in the cgroup.",
    ),
    fam(
        "boxwise_cgroup_pressure_some_avg10",
        "gauge",
        "Pressure stall information: percent of the last 10 s some task stalled, by resource.",
    ),
    fam(
        "boxwise_cgroup_pressure_some_avg60",
        "gauge",
        "Pressure stall information: percent of the last 60 s some task stalled, by resource.",
    ),
    fam(
        "boxwise_cgroup_pressure_some_seconds_total",
        "counter",
        "Total time some task of the cgroup stalled waiting for the resource, in seconds.",
    ),
    fam(
        "boxwise_cgroup_pressure_full_seconds_total",
        "counter",
        "Total time all non-idle tasks of the cgroup stalled on memory at once, in seconds.",
    ),
    fam(
        "boxwise_cgroup_pod_info",
        "gauge",
        "The Kubernetes pod UID a kubelet cgroup belongs to; always 1.",
    ),
    fam(
        "boxwise_go_info",
        "gauge",
        "A Go process, with its Go version and program name; always 1.",
    ),
    fam(
        "boxwise_go_gomaxprocs",
        "gauge",
        "GOMAXPROCS the Go process runs with.",
    ),
    fam(
        "boxwise_go_gomaxprocs_recommended",
        "gauge",
        "GOMAXPROCS the process's CPU limits call for.",
    ),
    fam(
        "boxwise_go_gomemlimit_bytes",
        "gauge",
        "GOMEMLIMIT of the Go process in bytes; +Inf when unset.",
    ),
    fam(
        "boxwise_go_gomemlimit_recommended_bytes",
        "gauge",
        "GOMEMLIMIT the process's memory limit calls for (absent when it has none).",
    ),
    fam(
        "boxwise_go_gogc",
        "gauge",
        "GOGC of the Go process (100 when unset; absent when off).",
    ),
    fam(
        "boxwise_go_fit",
        "gauge",
        "1 when the setting fits the process's limits, 0 when doctor finds it does not.",
    ),
    fam(
        "boxwise_go_finding",
        "gauge",
        "A doctor finding on the Go process, by rule id and severity; always 1.",
    ),
    fam(
        "boxwise_exporter_collect_seconds",
        "gauge",
        "Time the last snapshot took to read.",
    ),
    fam(
        "boxwise_exporter_snapshot_timestamp_seconds",
        "gauge",
        "Unix time the served snapshot was taken.",
    ),
    fam(
        "boxwise_exporter_truncated",
        "gauge",
        "1 when a cap cut the cgroups or Go processes short, by kind.",
    ),
    fam(
        "boxwise_exporter_errors",
        "gauge",
        "Files that could not be read in the last snapshot.",
    ),
];

/// Escape a label value: backslash, double quote and newline.
pub fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A sample value as the format spells it (`+Inf`, `NaN`).
pub fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// Samples collected per family, written family by family.
struct Out {
    families: Vec<(&'static str, Vec<String>)>,
}

impl Out {
    fn new() -> Out {
        Out {
            families: METRICS.iter().map(|f| (f.name, Vec::new())).collect(),
        }
    }

    fn add(&mut self, name: &str, labels: &str, value: Option<f64>) {
        let Some(v) = value else { return };
        let slot = self
            .families
            .iter_mut()
            .find(|(n, _)| *n == name)
            .expect("every family is declared in METRICS");
        slot.1.push(format!("{name}{labels} {}", number(v)));
    }

    fn finish(self) -> String {
        let mut text = String::new();
        for (fam, (name, samples)) in METRICS.iter().zip(self.families) {
            if samples.is_empty() {
                continue;
            }
            let _ = writeln!(text, "# HELP {name} {}", fam.help);
            let _ = writeln!(text, "# TYPE {name} {}", fam.kind);
            for s in samples {
                text.push_str(&s);
                text.push('\n');
            }
        }
        text
    }
}

/// The whole exposition of one snapshot.
pub fn exposition(s: &Snapshot) -> String {
    let mut out = Out::new();
    for c in &s.cgroups {
        cgroup(&mut out, c);
    }
    for p in &s.go {
        go(&mut out, p);
    }
    let none = labels(&[]);
    out.add(
        "boxwise_exporter_collect_seconds",
        &none,
        Some(s.collect_seconds),
    );
    out.add(
        "boxwise_exporter_snapshot_timestamp_seconds",
        &none,
        Some(s.taken_unix_ms as f64 / 1000.0),
    );
    for (kind, cut) in [
        ("cgroups", s.cgroups_truncated),
        ("go_processes", s.go_truncated),
    ] {
        out.add(
            "boxwise_exporter_truncated",
            &labels(&[("kind", kind)]),
            Some(f64::from(u8::from(cut))),
        );
    }
    out.add(
        "boxwise_exporter_errors",
        &none,
        Some(s.errors.len() as f64),
    );
    out.finish()
}

fn cgroup(out: &mut Out, c: &CgroupSample) {
    let name = c.display_name().unwrap_or("");
    let l = labels(&[("id", &c.id), ("name", name)]);
    let f = |v: Option<u64>| v.map(|v| v as f64);
    out.add("container_cpu_usage_seconds_total", &l, c.cpu_usage_seconds);
    out.add("container_cpu_cfs_periods_total", &l, f(c.cfs_periods));
    out.add(
        "container_cpu_cfs_throttled_periods_total",
        &l,
        f(c.cfs_throttled_periods),
    );
    out.add(
        "container_cpu_cfs_throttled_seconds_total",
        &l,
        c.cfs_throttled_seconds,
    );
    out.add("container_spec_cpu_quota", &l, f(c.cpu_quota_us));
    out.add("container_spec_cpu_period", &l, f(c.cpu_period_us));
    out.add("container_memory_usage_bytes", &l, f(c.memory_usage_bytes));
    out.add(
        "container_memory_working_set_bytes",
        &l,
        f(c.memory_working_set_bytes),
    );
    out.add(
        "container_spec_memory_limit_bytes",
        &l,
        f(c.memory_limit_bytes),
    );
    out.add("container_oom_events_total", &l, f(c.oom_kills));
    for (resource, v) in [
        ("cpu", c.cpu_pressure_some_avg10),
        ("memory", c.memory_pressure_some_avg10),
    ] {
        let l = labels(&[("id", &c.id), ("name", name), ("resource", resource)]);
        out.add("boxwise_cgroup_pressure_some_avg10", &l, v);
    }
    for (resource, v) in [
        ("cpu", c.cpu_pressure_some_avg60),
        ("memory", c.memory_pressure_some_avg60),
    ] {
        let l = labels(&[("id", &c.id), ("name", name), ("resource", resource)]);
        out.add("boxwise_cgroup_pressure_some_avg60", &l, v);
    }
    for (resource, v) in [
        ("cpu", c.cpu_pressure_some_stall_seconds),
        ("memory", c.memory_pressure_some_stall_seconds),
    ] {
        let l = labels(&[("id", &c.id), ("name", name), ("resource", resource)]);
        out.add("boxwise_cgroup_pressure_some_seconds_total", &l, v);
    }
    let l = labels(&[("id", &c.id), ("name", name), ("resource", "memory")]);
    out.add(
        "boxwise_cgroup_pressure_full_seconds_total",
        &l,
        c.memory_pressure_full_stall_seconds,
    );
    if let Some(uid) = &c.pod_uid {
        let l = labels(&[("id", &c.id), ("name", name), ("pod_uid", uid)]);
        out.add("boxwise_cgroup_pod_info", &l, Some(1.0));
    }
}

fn go(out: &mut Out, p: &GoProcess) {
    let pid = p.pid.to_string();
    let id = p.cgroup.as_deref().unwrap_or("");
    let name = p.container_display().unwrap_or("");
    let base = [("pid", pid.as_str()), ("id", id), ("name", name)];
    let l = labels(&base);
    let with = |extra: &[(&str, &str)]| {
        let mut all = base.to_vec();
        all.extend_from_slice(extra);
        labels(&all)
    };
    out.add(
        "boxwise_go_info",
        &with(&[
            ("go_version", p.go_version.as_deref().unwrap_or("")),
            ("program", p.name.as_deref().unwrap_or("")),
        ]),
        Some(1.0),
    );
    if p.error.is_some() {
        return;
    }
    out.add("boxwise_go_gomaxprocs", &l, p.gomaxprocs.map(f64::from));
    out.add(
        "boxwise_go_gomaxprocs_recommended",
        &l,
        p.gomaxprocs_recommended.map(f64::from),
    );
    out.add(
        "boxwise_go_gomemlimit_bytes",
        &l,
        Some(p.gomemlimit_bytes.map_or(f64::INFINITY, |b| b as f64)),
    );
    out.add(
        "boxwise_go_gomemlimit_recommended_bytes",
        &l,
        p.gomemlimit_recommended_bytes.map(|b| b as f64),
    );
    out.add(
        "boxwise_go_gogc",
        &l,
        p.gogc.as_deref().and_then(|g| g.trim().parse::<f64>().ok()),
    );
    for (setting, fit) in [
        ("gomaxprocs", p.gomaxprocs_fit),
        ("gomemlimit", p.gomemlimit_fit),
    ] {
        out.add(
            "boxwise_go_fit",
            &with(&[("setting", setting)]),
            fit.map(|f| f64::from(u8::from(f))),
        );
    }
    for f in &p.findings {
        out.add(
            "boxwise_go_finding",
            &with(&[("rule", &f.id), ("severity", &f.severity)]),
            Some(1.0),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_use_the_format_spelling() {
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::NAN), "NaN");
    }

    #[test]
    fn every_family_is_named_by_convention() {
        for f in METRICS {
            assert!(f.name.starts_with("container_") || f.name.starts_with("boxwise_"));
            assert_eq!(
                f.kind == "counter",
                f.name.ends_with("_total"),
                "{}",
                f.name
            );
        }
    }

    proptest! {
        /// An escaped value never ends the quoted string or the line early.
        #[test]
        fn escaped_values_stay_inside_their_quotes(v in "\\PC*|[\"\\\\\n]*") {
            let e = escape(&v);
            prop_assert!(!e.contains('\n'));
            let mut chars = e.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    let next = chars.next();
                    prop_assert!(matches!(next, Some('\\' | '"' | 'n')));
                } else {
                    prop_assert_ne!(c, '"');
                }
            }
        }
    }
}
