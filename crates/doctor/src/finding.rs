//! One diagnosis: a stable id, how bad it is, the numbers behind it, and what to change.

use serde::Serialize;

/// Ordered worst first, so sorting ranks findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// `error` or `warning`, as `--fail-on` takes them.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }
}

/// A rule's stable id (docs/rules.md); serialized as its kebab-case name, e.g.
/// `gomaxprocs-above-cpu-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingId {
    GomaxprocsAboveCpuLimit,
    GomaxprocsBelowCpuLimit,
    GomemlimitUnset,
    GomemlimitAboveLimit,
    GomemlimitMalformed,
    GogcOffWithoutLimit,
    CpuThrottled,
    OomKilled,
    MemoryNearLimit,
    GoNotContainerAware,
    DynamicBinary,
    DebugInfoShipped,
    PressureHigh,
    AncestorsHidden,
    ProfileGcHeavy,
    ProfileSchedulerHeavy,
    ProfileLockContention,
    ProfileMallocHeavy,
    ProfileSyscallHeavy,
    ProfileCgoHeavy,
    ProfileNotCpu,
    /// A finding about the image the program ships in (`doctor --image`), judged by the
    /// image crate; the id is its own (`runs-as-root`, `shell-form-entrypoint`, ...).
    Image(&'static str),
    SyscallsFutexStorm,
    SyscallsSpinning,
    SyscallsRuntimeActivity,
}

impl FindingId {
    /// Every id, in the order docs/rules.md lists the rules.
    pub const ALL: [FindingId; 24] = [
        FindingId::GomaxprocsAboveCpuLimit,
        FindingId::GomaxprocsBelowCpuLimit,
        FindingId::GomemlimitUnset,
        FindingId::GomemlimitAboveLimit,
        FindingId::GomemlimitMalformed,
        FindingId::GogcOffWithoutLimit,
        FindingId::CpuThrottled,
        FindingId::OomKilled,
        FindingId::MemoryNearLimit,
        FindingId::GoNotContainerAware,
        FindingId::DynamicBinary,
        FindingId::DebugInfoShipped,
        FindingId::PressureHigh,
        FindingId::AncestorsHidden,
        FindingId::ProfileGcHeavy,
        FindingId::ProfileSchedulerHeavy,
        FindingId::ProfileLockContention,
        FindingId::ProfileMallocHeavy,
        FindingId::ProfileSyscallHeavy,
        FindingId::ProfileCgoHeavy,
        FindingId::ProfileNotCpu,
        FindingId::SyscallsFutexStorm,
        FindingId::SyscallsSpinning,
        FindingId::SyscallsRuntimeActivity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingId::GomaxprocsAboveCpuLimit => "gomaxprocs-above-cpu-limit",
            FindingId::GomaxprocsBelowCpuLimit => "gomaxprocs-below-cpu-limit",
            FindingId::GomemlimitUnset => "gomemlimit-unset",
            FindingId::GomemlimitAboveLimit => "gomemlimit-above-limit",
            FindingId::GomemlimitMalformed => "gomemlimit-malformed",
            FindingId::GogcOffWithoutLimit => "gogc-off-without-limit",
            FindingId::CpuThrottled => "cpu-throttled",
            FindingId::OomKilled => "oom-killed",
            FindingId::MemoryNearLimit => "memory-near-limit",
            FindingId::GoNotContainerAware => "go-not-container-aware",
            FindingId::DynamicBinary => "dynamic-binary",
            FindingId::DebugInfoShipped => "debug-info-shipped",
            FindingId::PressureHigh => "pressure-high",
            FindingId::AncestorsHidden => "ancestors-hidden",
            FindingId::ProfileGcHeavy => "profile-gc-heavy",
            FindingId::ProfileSchedulerHeavy => "profile-scheduler-heavy",
            FindingId::ProfileLockContention => "profile-lock-contention",
            FindingId::ProfileMallocHeavy => "profile-malloc-heavy",
            FindingId::ProfileSyscallHeavy => "profile-syscall-heavy",
            FindingId::ProfileCgoHeavy => "profile-cgo-heavy",
            FindingId::ProfileNotCpu => "profile-not-cpu",
            FindingId::Image(id) => id,
            FindingId::SyscallsFutexStorm => "syscalls-futex-storm",
            FindingId::SyscallsSpinning => "syscalls-spinning",
            FindingId::SyscallsRuntimeActivity => "syscalls-runtime-activity",
        }
    }
}

impl std::fmt::Display for FindingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

// By hand rather than derived: `as_str` is the one spelling, so JSON cannot drift from text.
impl Serialize for FindingId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable rule id (see docs/rules.md).
    pub id: FindingId,
    pub severity: Severity,
    pub title: String,
    /// The numbers behind the finding and the files they came from.
    pub evidence: Vec<String>,
    /// The exact change to make.
    pub fix: String,
}

impl Finding {
    /// A finding judged elsewhere (the image crate), to fold into the ranked list.
    pub fn external(
        id: &'static str,
        severity: Severity,
        title: String,
        evidence: Vec<String>,
        fix: String,
    ) -> Finding {
        finding(FindingId::Image(id), severity, title, evidence, fix)
    }
}

/// Adds the image's findings to the doctor's, skipping ids the doctor already reported
/// (both judge the binary: go-not-container-aware, dynamic-binary, debug-info-shipped),
/// and ranks the list again.
pub fn fold(out: &mut Vec<Finding>, image: Vec<Finding>) {
    for f in image {
        if !out.iter().any(|o| o.id.as_str() == f.id.as_str()) {
            out.push(f);
        }
    }
    out.sort_by_key(|finding| finding.severity);
}

pub(crate) fn finding(
    id: FindingId,
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

#[cfg(test)]
mod tests {
    use super::FindingId;

    /// docs/rules.md's table is the published list: the same ids, in the same order.
    #[test]
    fn ids_are_the_documented_ones() {
        let doc = include_str!("../../../docs/rules.md");
        let documented: Vec<&str> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
            .collect();
        let ours: Vec<&str> = FindingId::ALL.iter().map(|id| id.as_str()).collect();
        assert_eq!(ours, documented);
    }

    #[test]
    fn json_is_the_id_string() {
        for id in FindingId::ALL {
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{id}\""));
        }
    }
}
