//! The rules. Each looks at the facts and adds findings; ids are stable API (docs/rules.md).

use boxwise_box::goenv::{GoMemLimit, parse_gomemlimit};
use boxwise_box::model::PressureFile;
use boxwise_box::model::{BoxInfo, CpuQuotaInfo, MemoryLimit};
use boxwise_box::policy::{self, GoRuntime, PickBasis, Recommendation};
use boxwise_box::units;
use boxwise_goprog::{GoBinary, Linkage};

use crate::finding::{Finding, Severity};
use crate::profile::ProfileFacts;

/// What the rules look at.
pub struct Facts<'a> {
    pub info: &'a BoxInfo,
    pub rec: &'a Recommendation,
    /// The program, when known (`--binary`, or `/proc/<pid>/exe`).
    pub binary: Option<&'a GoBinary>,
    /// Whose environment `info.go_env` is, for the evidence: `pid 4242`, `boxwise`.
    pub env_owner: String,
    /// A CPU profile's summary (`doctor --profile`), when given.
    pub profile: Option<&'a ProfileFacts>,
}

/// The GOMAXPROCS the program runs (or would run) with, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoMaxProcs {
    pub value: u32,
    pub how: String,
}

/// Share of periods throttled above which `cpu-throttled` fires.
const THROTTLED_SHARE: f64 = 0.05;
/// Memory use above this share of the limit is `memory-near-limit`.
const NEAR_LIMIT: f64 = 0.90;
/// GOMEMLIMIT above this share of the limit leaves the GC no room before the kernel acts.
const GOMEMLIMIT_HEADROOM: f64 = 0.95;
/// PSI `some avg60` above this percentage is `pressure-high`.
const PRESSURE_PERCENT: f64 = 10.0;

pub fn diagnose(f: &Facts) -> Vec<Finding> {
    let mut out = Vec::new();
    gomaxprocs(f, &mut out);
    gomemlimit(f, &mut out);
    box_health(f, &mut out);
    crate::vantage::hidden_ancestors(f, &mut out);
    binary(f, &mut out);
    crate::profile::profile(f, &mut out);
    out.sort_by_key(|finding| finding.severity);
    out
}

pub(crate) fn finding(
    id: &'static str,
    severity: Severity,
    title: String,
    evidence: Vec<String>,
    fix: String,
) -> Finding {
    Finding {
        id,
        severity,
        title,
        evidence,
        fix,
    }
}

/// How to set a variable, in each place people set it.
pub(crate) fn env_fix(var: &str, value: &str) -> String {
    format!(
        "set {var}={value}: Dockerfile `ENV {var}={value}`; Kubernetes `env: [{{name: {var}, value: \"{value}\"}}]`; \
         or start the program as `boxwise exec -- CMD` (Dockerfile `ENTRYPOINT [\"/boxwise\", \"exec\", \"--\", \"/app\"]`), which sets it from the limits"
    )
}

fn quota_words(q: &CpuQuotaInfo) -> String {
    format!(
        "cpu quota {} ({}/{} us) from {}",
        units::cpus(q.cores),
        q.quota_us,
        q.period_us,
        q.source.display()
    )
}

fn go_version(b: &GoBinary) -> &str {
    b.go_version
        .split_whitespace()
        .next()
        .unwrap_or(&b.go_version)
}

/// The program's runtime facts with the GODEBUG it runs with (which overrides its
/// DefaultGODEBUG); `None` for an unrecognised Go version.
fn runtime(f: &Facts, b: &GoBinary) -> Option<GoRuntime> {
    b.runtime(f.info.go_env.godebug.as_deref())
}

fn container_aware(f: &Facts, b: &GoBinary) -> bool {
    runtime(f, b).is_some_and(|r| r.container_aware)
}

pub fn effective_gomaxprocs(f: &Facts) -> GoMaxProcs {
    let env = &f.info.go_env;
    if let Some(n) = env.gomaxprocs_value() {
        return GoMaxProcs {
            value: n,
            how: format!("GOMAXPROCS={n} in the environment of {}", f.env_owner),
        };
    }
    let cpus = f.info.cpu.cpu_count().unwrap_or(1);
    let Some((b, rt)) = f.binary.and_then(|b| Some((b, runtime(f, b)?))) else {
        return GoMaxProcs {
            value: cpus,
            how: format!(
                "GOMAXPROCS is not set, so a Go program before 1.25 uses the {cpus} CPUs it may run on"
            ),
        };
    };
    let version = go_version(b);
    let pick = policy::runtime_gomaxprocs(f.info, &rt);
    let value = pick.gomaxprocs;
    let how = match &pick.basis {
        PickBasis::BeforeGo125 => {
            format!("{version} ignores the cgroup quota and uses the {value} CPUs it may run on")
        }
        PickBasis::Disabled => format!(
            "{version} has containermaxprocs=0, so it ignores the cgroup quota and uses the {value} CPUs it may run on"
        ),
        PickBasis::CgroupNotFound { looks_at: Some(p) } => format!(
            "{version} looks for its cgroup at {}, which is not it (golang/go#76390), and uses the {value} CPUs it may run on",
            p.display()
        ),
        PickBasis::CgroupNotFound { looks_at: None } => {
            format!("{version} finds no cpu cgroup and uses the {value} CPUs it may run on")
        }
        PickBasis::OwnQuota(_) => {
            format!("{version} rounds its own cgroup's quota up, at least 2: {value}")
        }
        PickBasis::NoOwnQuota => format!(
            "{version} reads only its own cgroup, which sets no quota, and uses the {value} CPUs it may run on"
        ),
    };
    GoMaxProcs { value, how }
}

fn gomaxprocs(f: &Facts, out: &mut Vec<Finding>) {
    let eff = effective_gomaxprocs(f);
    let rec = f.rec;
    let cores = f.info.cpu.effective_cores;
    let mut evidence = vec![eff.how.clone()];
    if let Some(q) = &f.info.cpu.quota {
        evidence.push(quota_words(q));
    }
    evidence.push(format!(
        "recommended GOMAXPROCS={}: {}",
        rec.gomaxprocs, rec.gomaxprocs_reason
    ));
    let value = rec.gomaxprocs.to_string();
    if eff.value > rec.gomaxprocs {
        let severity = if f64::from(eff.value) >= 2.0 * cores.max(1.0) {
            Severity::Error
        } else {
            Severity::Warning
        };
        out.push(finding(
            "gomaxprocs-above-cpu-limit",
            severity,
            format!(
                "GOMAXPROCS is {} but the box allows {}: the runtime will be throttled",
                eff.value,
                units::cpus(cores)
            ),
            evidence,
            env_fix("GOMAXPROCS", &value),
        ));
    } else if eff.value < rec.gomaxprocs && f64::from(eff.value) < cores.floor() {
        out.push(finding(
            "gomaxprocs-below-cpu-limit",
            Severity::Warning,
            format!(
                "GOMAXPROCS is {} but the box allows {}: CPUs go unused",
                eff.value,
                units::cpus(cores)
            ),
            evidence,
            env_fix("GOMAXPROCS", &value),
        ));
    }

    if let Some(b) = f.binary
        && !container_aware(f, b)
    {
        let version = go_version(b);
        let (why, severity) = if b.go_minor().is_some_and(|m| m >= 25) {
            let by = match runtime(f, b).and_then(|r| r.disabled_by) {
                Some("GODEBUG") => "GODEBUG in its environment turns it off",
                _ => "DefaultGODEBUG: its go.mod says 1.24 or lower",
            };
            (
                format!("{version} runs with containermaxprocs=0 ({by})"),
                Severity::Warning,
            )
        } else {
            (
                format!(
                    "{version} predates Go 1.25, which first sized GOMAXPROCS from the cgroup quota"
                ),
                Severity::Warning,
            )
        };
        let severity = if f.info.cpu.quota.is_some() {
            severity
        } else {
            Severity::Info
        };
        let mut evidence = vec![why];
        if let Some(d) = b.default_godebug() {
            evidence.push(format!("DefaultGODEBUG={d}"));
        }
        out.push(finding(
                "go-not-container-aware",
                severity,
                format!("{version}: GOMAXPROCS is not container-aware"),
                evidence,
                "run it under `boxwise exec` (no rebuild), or rebuild with Go 1.25+ and `go 1.25` in go.mod".into(),
            ));
    }
}

pub(crate) fn lowest_memory_limit(info: &BoxInfo) -> Option<&MemoryLimit> {
    [info.memory.limit.as_ref(), info.memory.high.as_ref()]
        .into_iter()
        .flatten()
        .min_by_key(|l| l.bytes)
}

pub(crate) fn limit_words(l: &MemoryLimit) -> String {
    format!(
        "{} {} ({} bytes) from {}",
        l.kind.name(),
        units::bytes(l.bytes),
        l.bytes,
        l.source.display()
    )
}

fn gomemlimit(f: &Facts, out: &mut Vec<Finding>) {
    let env = &f.info.go_env;
    let limit = lowest_memory_limit(f.info);
    let parsed = env
        .gomemlimit
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(|v| (v, parse_gomemlimit(v)));
    let fix = f
        .rec
        .gomemlimit_bytes
        .map(|b| env_fix("GOMEMLIMIT", &b.to_string()));
    match (&parsed, limit) {
        (Some((v, Err(e))), _) => out.push(finding(
            "gomemlimit-malformed",
            Severity::Error,
            format!("GOMEMLIMIT={v} is malformed: Go will refuse to start"),
            vec![format!("GOMEMLIMIT={v:?} in the environment of {}", f.env_owner), e.0.clone()],
            fix.clone().unwrap_or_else(|| "write it as bytes with an optional KiB/MiB/GiB suffix, e.g. GOMEMLIMIT=256MiB, or remove it".into()),
        )),
        (None | Some((_, Ok(GoMemLimit::Off))), Some(l)) => {
            let mut evidence = vec![limit_words(l)];
            match &parsed {
                Some(_) => evidence.push(format!("GOMEMLIMIT=off in the environment of {}", f.env_owner)),
                None => evidence.push(format!("GOMEMLIMIT is not set in the environment of {}", f.env_owner)),
            }
            if let Some(b) = f.binary.filter(|b| !b.supports_gomemlimit()) {
                evidence.push(format!("{} predates GOMEMLIMIT (Go 1.19)", go_version(b)));
            }
            out.push(finding(
                "gomemlimit-unset",
                Severity::Warning,
                format!("memory is limited to {} but GOMEMLIMIT is not set: the GC will not try to stay below it", units::bytes(l.bytes)),
                evidence,
                fix.clone().unwrap_or_default(),
            ));
        }
        (Some((v, Ok(GoMemLimit::Bytes(bytes)))), Some(l)) => {
            let hard = f.info.memory.limit_bytes;
            let severity = if hard.is_some_and(|h| *bytes >= h) {
                Some(Severity::Error)
            } else if (*bytes as f64) > GOMEMLIMIT_HEADROOM * l.bytes as f64 {
                Some(Severity::Warning)
            } else {
                None
            };
            if let Some(severity) = severity {
                out.push(finding(
                    "gomemlimit-above-limit",
                    severity,
                    format!("GOMEMLIMIT {} is too close to or above the memory limit {}", units::bytes(*bytes), units::bytes(l.bytes)),
                    vec![format!("GOMEMLIMIT={v} ({bytes} bytes) in the environment of {}", f.env_owner), limit_words(l)],
                    fix.clone().unwrap_or_default(),
                ));
            }
        }
        _ => {}
    }

    let gogc_off = env.gogc.as_deref().is_some_and(|g| g == "off"); // readGOGC compares exactly
    let has_memlimit = matches!(parsed, Some((_, Ok(GoMemLimit::Bytes(_)))));
    if let (true, false, Some(l)) = (gogc_off, has_memlimit, limit) {
        out.push(finding(
            "gogc-off-without-limit",
            Severity::Error,
            "GOGC=off without GOMEMLIMIT: the heap grows until the kernel kills the process".into(),
            vec![
                format!("GOGC=off in the environment of {}", f.env_owner),
                limit_words(l),
            ],
            fix.unwrap_or_default(),
        ));
    }
}

fn box_health(f: &Facts, out: &mut Vec<Finding>) {
    let info = f.info;
    if let Some(t) = &info.cpu.throttling
        && t.nr_periods > 0
    {
        let share = t.nr_throttled as f64 / t.nr_periods as f64;
        if share > THROTTLED_SHARE {
            out.push(finding(
                "cpu-throttled",
                Severity::Warning,
                format!("throttled in {}% of CPU periods", units::decimal(share * 100.0, 1)),
                vec![format!(
                    "{} of {} periods throttled, {} s in all, from {}",
                    t.nr_throttled,
                    t.nr_periods,
                    units::decimal(t.throttled_seconds, 2),
                    t.source.display()
                )],
                format!(
                    "keep GOMAXPROCS at or below the quota (recommended {}), or raise the CPU limit; measure with `boxwise run`",
                    f.rec.gomaxprocs
                ),
            ));
        }
    }
    if let Some(n) = info.memory.oom_kill_events.filter(|&n| n > 0) {
        let mut evidence = vec![format!("{n} OOM kill(s) recorded for this cgroup")];
        if let Some(l) = &info.memory.limit {
            evidence.push(limit_words(l));
        }
        out.push(finding(
            "oom-killed",
            Severity::Error,
            format!("the kernel OOM-killed {n} process(es) in this cgroup"),
            evidence,
            match f.rec.gomemlimit_bytes {
                Some(b) => format!(
                    "{}; or raise the memory limit",
                    env_fix("GOMEMLIMIT", &b.to_string())
                ),
                None => "set a memory limit and GOMEMLIMIT below it".into(),
            },
        ));
    }
    if let Some(l) = &info.memory.limit {
        let share = |b: u64| b as f64 / l.bytes as f64;
        let ws = info.memory.working_set_bytes;
        let usage = info.memory.usage_bytes;
        let words = format!(
            "usage {}, working set {} of the limit {}",
            usage.map_or("-".into(), units::bytes),
            ws.map_or("-".into(), units::bytes),
            limit_words(l)
        );
        let fix = "give the GC a target below the limit (GOMEMLIMIT), find what holds the heap (`boxwise pprof` on a heap profile), or raise the limit".to_string();
        if ws.is_some_and(|b| share(b) > NEAR_LIMIT) {
            out.push(finding(
                "memory-near-limit",
                Severity::Warning,
                "memory in use is above 90% of the limit".into(),
                vec![words],
                fix,
            ));
        } else if usage.is_some_and(|b| share(b) > NEAR_LIMIT) {
            out.push(finding(
                "memory-near-limit",
                Severity::Info,
                "memory usage is above 90% of the limit, mostly reclaimable page cache".into(),
                vec![words],
                fix,
            ));
        }
    }
    let pressures: [(&str, &Option<PressureFile>); 3] = [
        ("cpu", &info.pressure.cpu),
        ("memory", &info.pressure.memory),
        ("io", &info.pressure.io),
    ];
    for (resource, p) in pressures {
        if let Some(p) = p.as_ref().filter(|p| p.some.avg60 > PRESSURE_PERCENT) {
            out.push(finding(
                "pressure-high",
                Severity::Warning,
                format!(
                    "{resource} pressure: tasks stalled {}% of the last minute",
                    units::decimal(p.some.avg60, 1)
                ),
                vec![format!(
                    "some avg10={} avg60={} avg300={} from {}",
                    p.some.avg10,
                    p.some.avg60,
                    p.some.avg300,
                    info.cgroup.unified.as_ref().map_or_else(
                        || format!("{resource}.pressure"),
                        |u| u
                            .dir
                            .join(format!("{resource}.pressure"))
                            .display()
                            .to_string()
                    )
                )],
                match resource {
                    "cpu" => "lower GOMAXPROCS to the quota or raise the CPU limit".into(),
                    "memory" => "set GOMEMLIMIT below the limit or raise the memory limit".into(),
                    _ => "look for heavy disk or swap use in this cgroup".into(),
                },
            ));
        }
    }
}

fn binary(f: &Facts, out: &mut Vec<Finding>) {
    let Some(b) = f.binary else { return };
    if b.linkage == Linkage::Dynamic {
        let mut evidence = Vec::new();
        if let Some(i) = &b.interpreter {
            evidence.push(format!("interpreter {i}"));
        }
        if !b.needed.is_empty() {
            evidence.push(format!("needs {}", b.needed.join(", ")));
        }
        out.push(finding(
            "dynamic-binary",
            Severity::Warning,
            format!("{} is dynamically linked: it will not start FROM scratch or distroless/static", b.file.display()),
            evidence,
            "build with CGO_ENABLED=0 (or `-ldflags '-linkmode external -extldflags -static'` when cgo is needed), or use a base image with the libc it needs".into(),
        ));
    }
    let debug = b.debug_size();
    if debug > 0 && b.file_size > 0 {
        let share = 100.0 * debug as f64 / b.file_size as f64;
        out.push(finding(
            "debug-info-shipped",
            Severity::Info,
            format!(
                "debug info is {}% of the file ({})",
                units::decimal(share, 0),
                units::bytes(debug)
            ),
            vec![format!(
                "DWARF {}, symbol table {}, file {}",
                units::bytes(b.dwarf_size),
                units::bytes(b.symtab_size),
                units::bytes(b.file_size)
            )],
            "build with `go build -ldflags='-s -w'` (keep an unstripped copy for profiling)".into(),
        ));
    }
}
