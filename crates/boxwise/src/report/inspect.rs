//! The `inspect` report: what the box allows, where each number came from, and the Go
//! settings that fit it.

use std::path::Path;

use boxwise_box::cgroup::Controller;
use boxwise_box::layout::{CgroupDir, Hierarchy};
use boxwise_box::model::PressureFile;
use boxwise_box::model::{BoxInfo, CpuSetInfo, Namespace};
use boxwise_box::policy::Recommendation;
use boxwise_box::units;

use super::Section;

fn path(p: &Path) -> String {
    p.display().to_string()
}

fn opt_bytes(b: Option<u64>) -> String {
    b.map_or_else(|| "-".into(), units::bytes)
}

fn cpus_row(s: &mut Section, label: &str, set: &Option<CpuSetInfo>) {
    match set {
        Some(c) => s.row(
            label,
            format!("{} ({})", c.cpus, units::cpus(f64::from(c.count))),
            path(&c.source),
        ),
        None => s.row(label, "-", ""),
    }
}

fn pressure_row(s: &mut Section, label: &str, p: &Option<PressureFile>) {
    let source = p.as_ref().map(|p| path(&p.source)).unwrap_or_default();
    s.row(label, pressure(p), source);
}

fn pressure(p: &Option<PressureFile>) -> String {
    p.as_ref().map_or_else(
        || "-".into(),
        |p| {
            format!(
                "some avg10 {:.2}%  avg60 {:.2}%  avg300 {:.2}%",
                p.some.avg10, p.some.avg60, p.some.avg300
            )
        },
    )
}

/// Said under the cgroup paths when the tree above them cannot be seen: which limits a
/// parent could set unseen (v1's `hierarchical_memory_limit` still shows a parent's memory
/// limit), and how to look from the host.
fn hidden_note(b: &BoxInfo) -> String {
    let hidden = |name: &str| {
        b.cgroup
            .controllers
            .get(name)
            .filter(|d| d.ancestors_hidden)
            .map(|d| d.hierarchy)
    };
    let what = match (hidden("cpu"), hidden("memory")) {
        (Some(_), Some(Hierarchy::V2)) => "a CPU quota or memory limit",
        (Some(_), _) => "a CPU quota",
        (None, Some(Hierarchy::V2)) => "a memory limit",
        (None, _) => "a limit",
    };
    let text = format!(
        "Parents hidden: the cgroups above these cannot be seen from here (a container's \
         own view), so {what} set on a parent cgroup (a Kubernetes pod, Docker's \
         --cgroup-parent) would not show. On the host, `boxwise inspect --pid PID` includes \
         them (for Docker, PID is `docker inspect -f '{{{{.State.Pid}}}}' NAME`)."
    );
    let mut out = String::new();
    let mut line = String::from(" ");
    for word in text.split(' ') {
        if line.len() + 1 + word.len() > 78 {
            out.push_str(&line);
            out.push('\n');
            line = String::from(" ");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The namespace kinds for which `test` is true, and those it could not tell ("unknown"
/// rather than "none" when nothing could be read, e.g. PID 1's links without privilege).
fn namespace_list(b: &BoxInfo, test: impl Fn(&Namespace) -> Option<bool>) -> String {
    let yes: Vec<&str> = b
        .namespaces
        .iter()
        .filter(|n| test(n) == Some(true))
        .map(|n| n.kind.as_str())
        .collect();
    let unknown: Vec<&str> = b
        .namespaces
        .iter()
        .filter(|n| test(n).is_none())
        .map(|n| n.kind.as_str())
        .collect();
    match (yes.is_empty(), unknown.is_empty()) {
        (_, true) if yes.is_empty() => "none".into(),
        (_, true) => yes.join(","),
        (true, false) if unknown.len() == b.namespaces.len() => "unknown".into(),
        (true, false) => format!("none known (unknown: {})", unknown.join(",")),
        (false, false) => format!("{} (unknown: {})", yes.join(","), unknown.join(",")),
    }
}

/// "none" only where the whole tree was seen.
fn none_here(hidden: bool) -> &'static str {
    if hidden {
        "none seen (parents hidden)"
    } else {
        "none"
    }
}

pub fn render(b: &BoxInfo, rec: &Recommendation, notes: &[String]) -> String {
    let mut out = String::new();
    cgroup_section(b).render(&mut out);
    if b.cgroup.ancestors_hidden {
        out.push_str(&hidden_note(b));
    }
    for s in [
        cpu_section(b),
        memory_section(b),
        box_section(b),
        recommendation_section(rec),
    ] {
        out.push('\n');
        s.render(&mut out);
    }
    for note in notes.iter().chain(&b.warnings) {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

/// One row per cgroup directory, naming the controllers mounted there.
fn cgroup_section(b: &BoxInfo) -> Section {
    let mut s = Section::new(format!("Cgroup: {}", b.cgroup.version.as_str()));
    // Controllers sharing a directory (all of them on v2) share a row.
    let mut dirs: Vec<(Vec<&str>, &CgroupDir)> = Vec::new();
    let all = b
        .cgroup
        .controllers
        .iter()
        .map(|(n, d)| (n.name(), d))
        .chain(b.cgroup.unified.iter().map(|d| ("unified", d)));
    for (name, d) in all {
        match dirs.iter_mut().find(|(_, seen)| seen.dir == d.dir) {
            Some((names, _)) => names.push(name),
            None => dirs.push((vec![name], d)),
        }
    }
    for (names, d) in dirs {
        // The cgroup path is news only where the mount hides it (Docker's v1 layout).
        let shown = d
            .dir
            .to_string_lossy()
            .ends_with(d.cgroup_path.trim_end_matches('/'));
        let note = if shown {
            String::new()
        } else {
            format!("cgroup {}", d.cgroup_path)
        };
        s.row(&names.join(","), path(&d.dir), note);
    }
    s
}

fn cpu_section(b: &BoxInfo) -> Section {
    let c = &b.cpu;
    let mut s = Section::new(format!("CPU: {}", units::cpus(c.effective_cores)));
    match &c.quota {
        Some(q) => s.row(
            "quota",
            format!(
                "{} ({}/{} us){}",
                units::cpus(q.cores),
                q.quota_us,
                q.period_us,
                match q.burst_us {
                    Some(burst) if burst > 0 => format!(", burst {burst} us"),
                    _ => String::new(),
                }
            ),
            path(&q.source),
        ),
        None => s.row("quota", none_here(b.cgroup.ancestors_hidden), ""),
    }
    cpus_row(&mut s, "cpuset", &c.cpuset);
    cpus_row(&mut s, "affinity", &c.affinity);
    cpus_row(&mut s, "online", &c.online);
    if let Some(shares) = c.shares {
        s.row("shares", shares.to_string(), "");
    }
    if let Some(weight) = c.weight {
        s.row("weight", weight.to_string(), "");
    }
    if let Some(u) = c.usage_seconds {
        // The counter's cgroup is a hierarchy's root when its path is `/` and nothing above
        // is hidden: that is every process on the machine, not this box.
        let controller = if c
            .usage_source
            .as_ref()
            .is_some_and(|p| p.ends_with("cpuacct.usage"))
        {
            Controller::Cpuacct
        } else {
            Controller::Cpu
        };
        let whole_machine =
            b.cgroup.controllers.get(&controller).is_some_and(|d| {
                d.cgroup_path == "/" && d.mount_root == "/" && !d.ancestors_hidden
            });
        let value = if whole_machine {
            format!(
                "{} s (the whole machine: cgroup root)",
                units::decimal(u, 1)
            )
        } else {
            format!("{} s", units::decimal(u, 1))
        };
        s.row(
            "used",
            value,
            c.usage_source.as_deref().map(path).unwrap_or_default(),
        );
    }
    if let Some(t) = &c.throttling {
        let pct = if t.nr_periods > 0 {
            100.0 * t.nr_throttled as f64 / t.nr_periods as f64
        } else {
            0.0
        };
        s.row(
            "throttled",
            format!(
                "{} of {} periods ({}%), {} s",
                t.nr_throttled,
                t.nr_periods,
                units::decimal(pct, 1),
                units::decimal(t.throttled_seconds, 2)
            ),
            path(&t.source),
        );
    }
    s
}

fn memory_section(b: &BoxInfo) -> Section {
    let m = &b.memory;
    let hidden = b.cgroup.ancestors_hidden;
    let mut s = Section::new(format!(
        "Memory: {}",
        m.limit_bytes
            .map_or_else(|| "no limit".into(), units::bytes)
    ));
    match &m.limit {
        Some(l) => s.row(
            "limit",
            format!("{} ({})", units::bytes(l.bytes), l.kind.name()),
            path(&l.source),
        ),
        None => s.row("limit", none_here(hidden), ""),
    }
    // v1 has no memory.high: no row rather than a "none" that reads like a setting.
    let v2 = b
        .cgroup
        .controllers
        .get("memory")
        .is_some_and(|d| d.hierarchy == Hierarchy::V2);
    match &m.high {
        Some(h) => s.row("high", units::bytes(h.bytes), path(&h.source)),
        None if v2 => s.row("high", none_here(hidden), ""),
        None => {}
    }
    for (label, value) in [("low", m.low_bytes), ("min", m.min_bytes)] {
        match value {
            Some(u64::MAX) => s.row(label, "max (all protected)", ""),
            Some(bytes) if bytes > 0 => s.row(label, units::bytes(bytes), ""),
            _ => {}
        }
    }
    if m.swap_max_bytes.is_some() {
        s.row("swap max", opt_bytes(m.swap_max_bytes), "");
    }
    if m.memsw_limit_bytes.is_some() {
        s.row("mem+swap", opt_bytes(m.memsw_limit_bytes), "");
    }
    if let Some(soft) = m.soft_limit_bytes {
        s.row(
            "soft limit",
            format!("{} (Docker's --memory-reservation)", units::bytes(soft)),
            b.cgroup
                .controllers
                .get(&Controller::Memory)
                .map(|d| path(&d.dir.join("memory.soft_limit_in_bytes")))
                .unwrap_or_default(),
        );
    }
    s.row("usage", opt_bytes(m.usage_bytes), "");
    s.row("working set", opt_bytes(m.working_set_bytes), "");
    s.row("peak", opt_bytes(m.peak_bytes), "");
    if let Some(n) = m.oom_events {
        s.row("OOM events", n.to_string(), "");
    }
    if let Some(n) = m.oom_kill_events {
        s.row("OOM kills", n.to_string(), "");
    }
    s
}

/// The rest of the box: pids, pressure, namespaces, the container and the Go environment.
fn box_section(b: &BoxInfo) -> Section {
    let mut s = Section::new("Box");
    let pids = match (b.pids.current, b.pids.max) {
        (Some(cur), Some(max)) => format!("{cur} of {max}"),
        (Some(cur), None) => format!("{cur}, no limit"),
        (None, Some(max)) => format!("limit {max}"),
        (None, None) => "-".into(),
    };
    s.row(
        "pids",
        pids,
        b.pids.max_source.as_deref().map(path).unwrap_or_default(),
    );
    pressure_row(&mut s, "cpu pressure", &b.pressure.cpu);
    pressure_row(&mut s, "memory pressure", &b.pressure.memory);
    pressure_row(&mut s, "io pressure", &b.pressure.io);
    let ns = if b.namespaces.is_empty() {
        "-".to_string()
    } else {
        format!(
            "differ from PID 1: {}; not the host's: {}",
            namespace_list(b, |n| n.same_as_pid1.map(|same| !same)),
            namespace_list(b, |n| n.initial.map(|initial| !initial)),
        )
    };
    s.row("namespaces", ns, "");
    let ct = &b.container;
    let runtime = format!("{:?}", ct.runtime).to_lowercase();
    let container = match &ct.id {
        Some(id) => format!("{runtime} {}", &id[..id.len().min(12)]),
        None => runtime,
    };
    s.row(
        "container",
        container,
        ct.evidence.clone().unwrap_or_default(),
    );
    let env = &b.go_env;
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "unset".into());
    s.row(
        "go environment",
        format!(
            "GOMAXPROCS={} GOMEMLIMIT={} GOGC={} GODEBUG={}",
            show(&env.gomaxprocs),
            show(&env.gomemlimit),
            show(&env.gogc),
            show(&env.godebug)
        ),
        "",
    );
    s
}

fn recommendation_section(rec: &Recommendation) -> Section {
    let mut s = Section::new(format!("Recommended Go settings (policy {})", rec.policy));
    s.row(
        "GOMAXPROCS",
        rec.gomaxprocs.to_string(),
        rec.gomaxprocs_reason.clone(),
    );
    match rec.gomemlimit_bytes {
        Some(bytes) => s.row(
            "GOMEMLIMIT",
            bytes.to_string(),
            rec.gomemlimit_reason.clone(),
        ),
        None => s.row("GOMEMLIMIT", "unset", rec.gomemlimit_reason.clone()),
    }
    s
}
