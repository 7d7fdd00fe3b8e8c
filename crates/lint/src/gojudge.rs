//! GOMAXPROCS and GOMEMLIMIT values judged against CPU and memory limits, for Kubernetes and
//! Compose alike. The numbers come from box's policy (the same rules `boxwise exec` applies),
//! not from a second copy of them here.

use boxwise_box::goenv::{GoMemLimit, parse_gomaxprocs, parse_gomemlimit};
use boxwise_box::policy::{CpuPolicy, MemoryRatio, procs_for_quota};
use boxwise_box::units;

/// Kubernetes and Docker both turn a CPU limit into a CFS quota per 100 ms period.
const PERIOD_US: u64 = 100_000;

/// How the GOMEMLIMIT variable gets its value.
#[derive(Debug, Clone, PartialEq)]
pub enum MemSource {
    Literal(String),
    /// Downward API `resourceFieldRef: limits.memory` with this divisor in bytes.
    LimitsMemory {
        divisor: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    GomaxprocsMismatch,
    GomemlimitOverLimit,
    GomemlimitNoHeadroom,
    GomemlimitMalformed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub message: String,
    /// The value to set instead (`None`: remove the variable).
    pub fix_value: Option<String>,
}

/// GOMAXPROCS the Go 1.25 rule gives for a CPU limit in millicores (no CPU count known).
pub fn recommended_procs(millis: u64) -> u32 {
    let quota = millis * PERIOD_US / 1000;
    procs_for_quota(
        quota,
        PERIOD_US,
        CpuPolicy::Go125,
        CpuPolicy::Go125.default_min(),
        u32::MAX,
    )
}

/// A GOMAXPROCS value against a CPU limit: fine anywhere from the floor rule (automaxprocs)
/// to the ceil rule (Go 1.25, which also never goes below 2).
pub fn gomaxprocs(value: &str, limit_millis: Option<u64>) -> Option<Judgement> {
    let millis = limit_millis?;
    let cores = units::decimal(millis as f64 / 1000.0, 3);
    let Some(v) = parse_gomaxprocs(value) else {
        return Some(Judgement {
            verdict: Verdict::GomaxprocsMismatch,
            message: format!(
                "GOMAXPROCS={value:?} is not a whole number above 0, so the Go runtime ignores it and uses the node's CPU count, not the {cores}-CPU limit"
            ),
            fix_value: Some(recommended_procs(millis).to_string()),
        });
    };
    let quota = millis * PERIOD_US / 1000;
    let floor = procs_for_quota(quota, PERIOD_US, CpuPolicy::Floor, 1, u32::MAX);
    let ceil = procs_for_quota(quota, PERIOD_US, CpuPolicy::Ceil, 1, u32::MAX);
    let rec = recommended_procs(millis);
    if v > ceil.max(rec) {
        Some(Judgement {
            verdict: Verdict::GomaxprocsMismatch,
            message: format!(
                "GOMAXPROCS={v} with a {cores}-CPU limit: {v} threads run Go code at once but the quota allows {cores} CPUs per 100 ms, so the container is throttled and tail latency jumps; the Go 1.25 rule gives {rec}"
            ),
            fix_value: Some(rec.to_string()),
        })
    } else if v < floor {
        Some(Judgement {
            verdict: Verdict::GomaxprocsMismatch,
            message: format!(
                "GOMAXPROCS={v} with a {cores}-CPU limit leaves {} CPUs of the limit unused; the Go 1.25 rule gives {rec}",
                floor - v
            ),
            fix_value: Some(rec.to_string()),
        })
    } else {
        None
    }
}

/// What the policy sets GOMEMLIMIT to under `limit` bytes, rounded down to whole MiB.
pub fn recommended_memlimit(limit: u64) -> String {
    let bytes = MemoryRatio::DEFAULT.apply(limit);
    if bytes >= 1 << 20 {
        format!("{}MiB", bytes >> 20)
    } else {
        bytes.to_string()
    }
}

/// A GOMEMLIMIT against a memory limit in bytes.
pub fn gomemlimit(src: &MemSource, limit: Option<u64>) -> Option<Judgement> {
    let ratio = MemoryRatio::DEFAULT;
    let pct = units::decimal(ratio.get() * 100.0, 0);
    match src {
        MemSource::LimitsMemory { divisor } if *divisor > 1 => Some(Judgement {
            verdict: Verdict::GomemlimitMalformed,
            message: format!(
                "GOMEMLIMIT from limits.memory with divisor {divisor}: the variable gets a count of {divisor}-byte units, but Go reads a bare number as bytes, so the heap limit is tiny and the GC runs all the time"
            ),
            fix_value: limit.map(recommended_memlimit),
        }),
        MemSource::LimitsMemory { .. } => Some(Judgement {
            verdict: Verdict::GomemlimitNoHeadroom,
            message: format!(
                "GOMEMLIMIT from the Downward API limits.memory is 100% of the limit: the GC lets the heap reach the OOM-kill line, and stacks, runtime and cgo memory push it over; use about {pct}%"
            ),
            fix_value: limit.map(recommended_memlimit),
        }),
        MemSource::Literal(text) => {
            let bytes = match parse_gomemlimit(text) {
                Err(e) => {
                    return Some(Judgement {
                        verdict: Verdict::GomemlimitMalformed,
                        message: e.to_string(),
                        fix_value: limit.map(recommended_memlimit),
                    });
                }
                Ok(GoMemLimit::Off) => return None,
                Ok(GoMemLimit::Bytes(b)) => b,
            };
            let limit = limit?;
            if bytes >= limit {
                Some(Judgement {
                    verdict: Verdict::GomemlimitOverLimit,
                    message: format!(
                        "GOMEMLIMIT={text} is at or above the {} memory limit: the GC will not work harder before the kernel OOM-kills the container",
                        units::bytes(limit)
                    ),
                    fix_value: Some(recommended_memlimit(limit)),
                })
            } else if bytes > ratio.apply(limit) {
                Some(Judgement {
                    verdict: Verdict::GomemlimitNoHeadroom,
                    message: format!(
                        "GOMEMLIMIT={text} is more than {pct}% of the {} memory limit: memory outside the Go heap (stacks, runtime, cgo) can push the container over it",
                        units::bytes(limit)
                    ),
                    fix_value: Some(recommended_memlimit(limit)),
                })
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procs() {
        assert_eq!(recommended_procs(500), 2);
        assert_eq!(recommended_procs(2500), 3);
        assert!(gomaxprocs("2", Some(1500)).is_none());
        assert!(gomaxprocs("1", Some(1500)).is_none());
        assert!(gomaxprocs("2", Some(500)).is_none());
        assert!(gomaxprocs("8", Some(2000)).is_some());
        assert!(gomaxprocs("1", Some(4000)).is_some());
        assert!(gomaxprocs("x", Some(4000)).is_some());
        assert!(gomaxprocs("8", None).is_none());
    }

    #[test]
    fn memlimit() {
        let l = Some(512 << 20);
        assert_eq!(recommended_memlimit(512 << 20), "460MiB");
        let lit = |s: &str| MemSource::Literal(s.into());
        assert_eq!(
            gomemlimit(&lit("512MiB"), l).unwrap().verdict,
            Verdict::GomemlimitOverLimit
        );
        assert_eq!(
            gomemlimit(&lit("500MiB"), l).unwrap().verdict,
            Verdict::GomemlimitNoHeadroom
        );
        assert!(gomemlimit(&lit("460MiB"), l).is_none());
        assert_eq!(
            gomemlimit(&lit("512M"), l).unwrap().verdict,
            Verdict::GomemlimitMalformed
        );
    }
}
