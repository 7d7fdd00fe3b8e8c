//! Per-second rates between two snapshots: what `top` shows. Pure.

use std::collections::HashMap;

use serde::Serialize;

use crate::model::{CgroupSample, Snapshot};

/// One cgroup over the interval between two snapshots. `None` where either snapshot
/// lacks the counter or it went backwards (the cgroup was re-created).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CgroupRates {
    pub id: String,
    /// CPU used, in cores (1.0 = one CPU busy the whole interval).
    pub cpu_cores: Option<f64>,
    /// `cpu_cores` against the quota, in percent.
    pub cpu_of_quota_percent: Option<f64>,
    /// Of the CFS periods in the interval, the percentage that were throttled.
    pub throttled_periods_percent: Option<f64>,
    /// Time spent throttled in the interval, in seconds.
    pub throttled_seconds: Option<f64>,
    /// OOM kills in the interval.
    pub oom_kills: Option<u64>,
}

/// The rates of every cgroup in `now` that `before` also has.
pub fn rates(before: &Snapshot, now: &Snapshot) -> Vec<CgroupRates> {
    let secs = now.at.saturating_duration_since(before.at).as_secs_f64();
    let old: HashMap<&str, &CgroupSample> =
        before.cgroups.iter().map(|c| (c.id.as_str(), c)).collect();
    now.cgroups
        .iter()
        .filter_map(|c| old.get(c.id.as_str()).map(|o| between(o, c, secs)))
        .collect()
}

/// `b - a` when it did not go backwards.
fn delta_u(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    b?.checked_sub(a?)
}

fn delta_f(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    let d = b? - a?;
    (d >= 0.0).then_some(d)
}

/// The rates of one cgroup seen `secs` apart.
pub fn between(a: &CgroupSample, b: &CgroupSample, secs: f64) -> CgroupRates {
    let cpu_cores = delta_f(a.cpu_usage_seconds, b.cpu_usage_seconds)
        .filter(|_| secs > 0.0)
        .map(|d| d / secs);
    let periods = delta_u(a.cfs_periods, b.cfs_periods);
    let throttled = delta_u(a.cfs_throttled_periods, b.cfs_throttled_periods);
    CgroupRates {
        id: b.id.clone(),
        cpu_cores,
        cpu_of_quota_percent: match (cpu_cores, b.quota_cores()) {
            (Some(c), Some(q)) if q > 0.0 => Some(100.0 * c / q),
            _ => None,
        },
        throttled_periods_percent: match (periods, throttled) {
            (Some(0), Some(_)) => Some(0.0),
            (Some(p), Some(t)) => Some(100.0 * (t.min(p)) as f64 / p as f64),
            _ => None,
        },
        throttled_seconds: delta_f(a.cfs_throttled_seconds, b.cfs_throttled_seconds),
        oom_kills: delta_u(a.oom_kills, b.oom_kills),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(usage: f64, periods: u64, throttled: u64, quota: Option<u64>) -> CgroupSample {
        CgroupSample {
            id: "/a".into(),
            container: None,
            container_id: None,
            container_name: None,
            pod_uid: None,
            cpu_usage_seconds: Some(usage),
            cfs_periods: Some(periods),
            cfs_throttled_periods: Some(throttled),
            cfs_throttled_seconds: Some(throttled as f64 * 0.05),
            cpu_quota_us: quota,
            cpu_period_us: quota.map(|_| 100_000),
            memory_usage_bytes: None,
            memory_working_set_bytes: None,
            memory_limit_bytes: None,
            oom_kills: Some(0),
            cpu_pressure_some_avg10: None,
            memory_pressure_some_avg10: None,
            cpu_pressure_some_avg60: None,
            memory_pressure_some_avg60: None,
            cpu_pressure_some_stall_seconds: None,
            memory_pressure_some_stall_seconds: None,
            memory_pressure_full_stall_seconds: None,
        }
    }

    #[test]
    fn half_a_core_against_a_half_core_quota() {
        let r = between(
            &sample(10.0, 100, 10, Some(50_000)),
            &sample(10.5, 110, 15, Some(50_000)),
            1.0,
        );
        assert_eq!(r.cpu_cores, Some(0.5));
        assert_eq!(r.cpu_of_quota_percent, Some(100.0));
        assert_eq!(r.throttled_periods_percent, Some(50.0));
        assert!((r.throttled_seconds.unwrap() - 0.25).abs() < 1e-9);
    }

    #[test]
    fn counters_going_backwards_give_unknown() {
        let r = between(&sample(10.0, 100, 10, None), &sample(1.0, 5, 1, None), 1.0);
        assert_eq!(r.cpu_cores, None);
        assert_eq!(r.throttled_periods_percent, None);
        assert_eq!(r.cpu_of_quota_percent, None);
    }

    proptest! {
        #[test]
        fn percentages_stay_in_range(
            u0 in 0.0f64..1e6, du in 0.0f64..1e3,
            p0 in 0u64..1_000_000, dp in 0u64..10_000,
            t0 in 0u64..1_000_000, dt in 0u64..20_000,
            secs in 0.001f64..100.0,
        ) {
            let r = between(&sample(u0, p0, t0, Some(50_000)),
                &sample(u0 + du, p0 + dp, t0 + dt, Some(50_000)), secs);
            let pct = r.throttled_periods_percent.unwrap();
            prop_assert!((0.0..=100.0).contains(&pct));
            prop_assert!(r.cpu_cores.unwrap() >= 0.0);
        }
    }
}
