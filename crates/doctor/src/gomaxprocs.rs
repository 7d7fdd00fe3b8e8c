//! GOMAXPROCS against the CPUs the box allows, and whether the Go runtime sizes it itself.

use boxwise_box::units;
use boxwise_goprog::GoBinary;

use crate::facts::{Facts, effective_gomaxprocs, go_version, quota_words, runtime};
use crate::finding::{Finding, FindingId, Severity, env_fix, finding};

/// `gomaxprocs-above-cpu-limit`, `gomaxprocs-below-cpu-limit`.
pub(crate) fn gomaxprocs(f: &Facts, out: &mut Vec<Finding>) {
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
            FindingId::GomaxprocsAboveCpuLimit,
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
            FindingId::GomaxprocsBelowCpuLimit,
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
}

fn container_aware(f: &Facts, b: &GoBinary) -> bool {
    runtime(f, b).is_some_and(|r| r.container_aware)
}

/// `go-not-container-aware`: a runtime that does not read the cgroup quota at all.
pub(crate) fn not_container_aware(f: &Facts, out: &mut Vec<Finding>) {
    let Some(b) = f.binary.filter(|b| !container_aware(f, b)) else {
        return;
    };
    let version = go_version(b);
    let why = if b.go_minor().is_some_and(|m| m >= 25) {
        let by = match runtime(f, b).and_then(|r| r.disabled_by) {
            Some("GODEBUG") => "GODEBUG in its environment turns it off",
            _ => "DefaultGODEBUG: its go.mod says 1.24 or lower",
        };
        format!("{version} runs with containermaxprocs=0 ({by})")
    } else {
        format!("{version} predates Go 1.25, which first sized GOMAXPROCS from the cgroup quota")
    };
    // Without a quota there is nothing for the runtime to miss yet.
    let severity = if f.info.cpu.quota.is_some() {
        Severity::Warning
    } else {
        Severity::Info
    };
    let mut evidence = vec![why];
    // Only the key that matters here; the whole DefaultGODEBUG is in `boxwise binary`.
    if let Some(kv) = b
        .default_godebug()
        .and_then(|d| d.split(',').find(|kv| kv.starts_with("containermaxprocs=")))
    {
        evidence.push(format!("DefaultGODEBUG has {kv}"));
    }
    out.push(finding(
        FindingId::GoNotContainerAware,
        severity,
        format!("{version}: GOMAXPROCS is not container-aware"),
        evidence,
        "run it under `boxwise exec` (no rebuild), or rebuild with Go 1.25+ and `go 1.25` in go.mod".into(),
    ));
}
