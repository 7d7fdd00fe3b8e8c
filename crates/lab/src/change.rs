//! Limits that change while the workload runs (`run --at 5s:cpus=0.5`), as Kubernetes'
//! in-place resize and VPA do: parsed and checked here (pure), applied by `run`.

use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::quota;

/// One change: after `after` from the start, set these limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub after: Duration,
    pub cpus: Option<f64>,
    pub memory: Option<u64>,
}

/// A change as it was made, for the stats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedChange {
    /// Seconds after the command started.
    pub at_seconds: f64,
    pub cpus: Option<f64>,
    pub cpu_quota_us: Option<u64>,
    pub memory_bytes: Option<u64>,
    /// The write failed (the kernel refused it); the limits stayed as they were.
    pub error: Option<String>,
}

/// Parse `TIME:KEY=VALUE[,KEY=VALUE]`: TIME as `5s`, `500ms`, `1.5s` or `2m`; keys `cpus`
/// (CPUs, as `--cpus`) and `memory` (a size, parsed by `size`, as `--memory`).
pub fn parse(text: &str, size: impl Fn(&str) -> Option<u64>) -> Result<Change> {
    let bad = |why: &str| Error::Spec(format!("--at {text:?}: {why}"));
    let (time, rest) = text
        .split_once(':')
        .ok_or_else(|| bad("expected TIME:KEY=VALUE, e.g. 5s:cpus=0.5"))?;
    let after = parse_time(time).ok_or_else(|| bad("expected a time like 5s, 500ms or 2m"))?;
    let mut change = Change {
        after,
        cpus: None,
        memory: None,
    };
    for pair in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| bad("expected KEY=VALUE after the time"))?;
        match key.trim() {
            "cpus" => {
                let cpus: f64 = value
                    .trim()
                    .parse()
                    .map_err(|_| bad("cpus: expected a number"))?;
                quota::cpu_quota_us_for("cpus=", cpus).map_err(|e| bad(&e.to_string()))?;
                change.cpus = Some(cpus);
            }
            "memory" => {
                let bytes = size(value.trim())
                    .filter(|&b| b > 0)
                    .ok_or_else(|| bad("memory: expected a size like 256m"))?;
                change.memory = Some(bytes);
            }
            other => {
                return Err(bad(&format!(
                    "unknown key {other:?}; expected cpus or memory"
                )));
            }
        }
    }
    if change.cpus.is_none() && change.memory.is_none() {
        return Err(bad("nothing to change; expected cpus=N or memory=SIZE"));
    }
    Ok(change)
}

fn parse_time(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    (secs.is_finite() && (0.0..=86_400.0).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mib(s: &str) -> Option<u64> {
        s.strip_suffix('m')?.parse::<u64>().ok().map(|n| n << 20)
    }

    #[test]
    fn parses_the_documented_forms() {
        let c = parse("5s:cpus=0.5", mib).unwrap();
        assert_eq!(
            (c.after, c.cpus, c.memory),
            (Duration::from_secs(5), Some(0.5), None)
        );
        let c = parse("1.5s:memory=256m,cpus=2", mib).unwrap();
        assert_eq!(c.after, Duration::from_millis(1500));
        assert_eq!((c.cpus, c.memory), (Some(2.0), Some(256 << 20)));
        assert_eq!(
            parse("500ms:cpus=1", mib).unwrap().after,
            Duration::from_millis(500)
        );
        for bad in [
            "5:cpus=1",
            "5s",
            "5s:",
            "5s:cpus=0",
            "5s:cpus=x",
            "5s:disk=1",
            "5s:memory=0m",
            "-1s:cpus=1",
        ] {
            let e = parse(bad, mib).unwrap_err().to_string();
            assert!(e.contains(bad) && !e.contains('\n'), "{bad}: {e}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse(&s, mib);
        }

        #[test]
        fn times_round_trip(ms in 0u64..100_000) {
            let c = parse(&format!("{ms}ms:cpus=1"), mib).unwrap();
            prop_assert_eq!(c.after, Duration::from_millis(ms));
        }
    }
}
