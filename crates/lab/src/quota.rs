//! The CFS quota for a number of CPUs: one place for the period and the kernel's bounds,
//! used by the run's spec, `--at` changes and the neighbour alike.

use crate::error::{Error, Result};

/// The CFS period boxwise uses, as Docker does (100 ms).
pub const CPU_PERIOD_US: u64 = 100_000;
/// The kernel refuses quotas below 1 ms.
const MIN_QUOTA_US: u64 = 1_000;

/// The CFS quota for `--cpus`, over [`CPU_PERIOD_US`].
pub fn cpu_quota_us(cpus: f64) -> Result<u64> {
    cpu_quota_us_for("--cpus ", cpus)
}

/// [`cpu_quota_us`], with errors naming the value as the user wrote it (`--cpus `,
/// `cpus=` inside `--at` or `--neighbour`).
pub fn cpu_quota_us_for(what: &str, cpus: f64) -> Result<u64> {
    if !cpus.is_finite() || cpus <= 0.0 {
        return Err(Error::Spec(format!(
            "{what}{}: expected a positive number of CPUs",
            shown(cpus)
        )));
    }
    let quota = (cpus * CPU_PERIOD_US as f64).round();
    if quota < MIN_QUOTA_US as f64 {
        return Err(Error::Spec(format!(
            "{what}{}: the kernel's smallest quota is 0.01 CPUs",
            shown(cpus)
        )));
    }
    Ok(quota as u64)
}

/// A CPU count for a message: short, and never hundreds of digits (`1e-300`).
pub(crate) fn shown(cpus: f64) -> String {
    if cpus == 0.0 {
        "0".into()
    } else if (0.01..1e6).contains(&cpus) {
        format!("{}", (cpus * 1000.0).round() / 1000.0)
    } else {
        format!("{cpus:e}")
    }
}
