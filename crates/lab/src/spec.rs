//! What to run and under which limits: plain values, checked before anything is created.

use std::ffi::OsString;
use std::path::PathBuf;

use boxwise_box::parse::CpuList;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::quota::shown;
pub use crate::quota::{CPU_PERIOD_US, cpu_quota_us};

/// One workload run.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Variables set (or overridden) on top of boxwise's own environment.
    pub env: Vec<(OsString, OsString)>,
    pub limits: Limits,
    pub isolation: Isolation,
    /// Create the transient cgroup directly under this cgroup (a path below each
    /// hierarchy's mount point, e.g. `/bench`) instead of `<own cgroup>/boxwise`.
    pub parent: Option<PathBuf>,
    /// Send the command's stdout / stderr to these files instead of boxwise's own (a sweep
    /// reads metrics and gctrace lines from them afterwards).
    pub stdout: Option<PathBuf>,
    pub stderr: Option<PathBuf>,
    /// Limits to change while the command runs (`run --at`), in any order.
    pub changes: Vec<crate::change::Change>,
    /// Competing load in a sibling cgroup for the duration (`run --neighbour`).
    pub neighbour: Option<crate::neighbour::Neighbour>,
    /// Each `--at` change is also sent here as it is made, so the caller can say so at
    /// that moment rather than after the run.
    pub on_change: Option<std::sync::mpsc::Sender<crate::change::AppliedChange>>,
    /// Record GOMAXPROCS over time from the runtime's schedtrace on stderr
    /// (`run --track-gomaxprocs`); ignored when `stderr` goes to a file.
    pub track_gomaxprocs: bool,
}

/// Limits as the user wrote them (Docker's meanings).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    /// CPUs' worth of time per period (`--cpus 1.5`).
    pub cpus: Option<f64>,
    /// Hard memory limit in bytes.
    pub memory: Option<u64>,
    /// Memory plus swap; see [`MemorySwap`].
    pub memory_swap: Option<MemorySwap>,
    /// Most tasks (processes and threads) at once.
    pub pids: Option<u64>,
    /// CPUs the workload may run on, as a cpuset list (`0-1,3`).
    pub cpuset: Option<String>,
    /// Bandwidth and IOPS caps on one disk (`run --io-*`).
    pub io: Option<IoLimit>,
}

/// `run --io-read-bps/--io-write-bps/--io-read-iops/--io-write-iops`: caps on the disk
/// behind `device` (a path on it, or the disk's node), the current directory by default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IoLimit {
    pub device: Option<PathBuf>,
    pub caps: boxwise_box::cgroup::io::Caps,
}

/// Docker's `--memory-swap`: the total of memory and swap, or `-1` for unlimited swap.
/// Unset with `--memory` set means twice the memory, as in Docker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemorySwap {
    Total(u64),
    Unlimited,
}

/// The namespaces the workload gets of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Namespace {
    Pid,
    Mount,
    Uts,
    Ipc,
    Net,
}

impl Namespace {
    pub const ALL: [Namespace; 5] = [
        Namespace::Pid,
        Namespace::Mount,
        Namespace::Uts,
        Namespace::Ipc,
        Namespace::Net,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Namespace::Pid => "pid",
            Namespace::Mount => "mount",
            Namespace::Uts => "uts",
            Namespace::Ipc => "ipc",
            Namespace::Net => "net",
        }
    }
}

/// A set of namespaces; a pid namespace brings a mount namespace (for its own /proc).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Isolation(u8);

impl Isolation {
    /// Parse `pid,mount,uts,ipc,net` (any subset, any order).
    pub fn parse(text: &str) -> Result<Isolation> {
        let mut set = Isolation::default();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let ns = Namespace::ALL
                .into_iter()
                .find(|n| n.name() == word)
                .ok_or_else(|| {
                    Error::Spec(format!(
                        "unknown namespace {word:?} in --isolate {text:?}; expected pid, mount, uts, ipc or net"
                    ))
                })?;
            set = set.with(ns);
        }
        Ok(set)
    }

    pub fn with(self, ns: Namespace) -> Isolation {
        let mut bits = self.0 | 1 << ns as u8;
        if ns == Namespace::Pid {
            bits |= 1 << Namespace::Mount as u8;
        }
        Isolation(bits)
    }

    pub fn has(self, ns: Namespace) -> bool {
        self.0 & (1 << ns as u8) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn namespaces(self) -> Vec<Namespace> {
        Namespace::ALL
            .into_iter()
            .filter(|&n| self.has(n))
            .collect()
    }
}

/// The memory+swap total to apply: `None` leaves swap alone.
pub fn swap_total(memory: Option<u64>, swap: Option<MemorySwap>) -> Result<Option<u64>> {
    match (memory, swap) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(Error::Spec(
            "--memory-swap needs --memory (it is the total of memory and swap)".into(),
        )),
        (Some(m), None) => Ok(Some(m.saturating_mul(2))),
        (Some(_), Some(MemorySwap::Unlimited)) => Ok(None),
        (Some(m), Some(MemorySwap::Total(t))) if t < m => Err(Error::Spec(format!(
            "--memory-swap {t} is below --memory {m}; it is the total of memory and swap"
        ))),
        (Some(_), Some(MemorySwap::Total(t))) => Ok(Some(t)),
    }
}

/// Check the limits before any cgroup exists, so a typo never leaves anything behind.
pub fn validate(limits: &Limits) -> Result<()> {
    if let Some(cpus) = limits.cpus {
        cpu_quota_us(cpus)?;
    }
    if limits.memory == Some(0) {
        return Err(Error::Spec("--memory 0: expected a positive size".into()));
    }
    if limits.pids == Some(0) {
        return Err(Error::Spec("--pids 0: expected at least 1".into()));
    }
    if let Some(list) = &limits.cpuset {
        let cpus =
            CpuList::parse(list).map_err(|e| Error::Spec(format!("--cpuset {list:?}: {e}")))?;
        if cpus.is_empty() {
            return Err(Error::Spec(format!("--cpuset {list:?}: no CPUs")));
        }
    }
    if let Some(io) = &limits.io {
        let c = &io.caps;
        if [c.read_bps, c.write_bps, c.read_iops, c.write_iops].contains(&Some(0)) {
            return Err(Error::Spec(
                "--io-*: a cap of 0 would stop all I/O; expected a positive rate".into(),
            ));
        }
    }
    swap_total(limits.memory, limits.memory_swap).map(drop)
}

/// The disk an io cap applies to (whole disk: the kernel refuses caps on partitions).
pub fn io_device(io: &IoLimit) -> Result<boxwise_box::cgroup::io::Device> {
    let path = io.device.clone().unwrap_or_else(|| PathBuf::from("."));
    boxwise_box::cgroup::io::whole_disk(&path)
        .map_err(|why| Error::Spec(format!("--io-device {}: {why}", path.display())))
}

/// Check the CPU limits against the CPUs this process may use (its affinity, which its
/// cpuset and the online CPUs bound), before any cgroup exists: a CPU outside them makes the
/// kernel refuse `cpuset.cpus` with ERANGE, and a quota above them never limits anything,
/// so it is refused as `docker run --cpus` refuses it.
pub fn check_cpus(limits: &Limits, allowed: &CpuList) -> Result<()> {
    if let Some(list) = &limits.cpuset {
        let wanted =
            CpuList::parse(list).map_err(|e| Error::Spec(format!("--cpuset {list:?}: {e}")))?;
        let missing = wanted.missing_from(allowed);
        if let Some(&first) = missing.first() {
            return Err(Error::Spec(format!(
                "--cpuset {list}: CPU {first} is not one boxwise may use here (CPUs {allowed})"
            )));
        }
    }
    if let Some(cpus) = limits.cpus {
        cpus_within("--cpus ", cpus, allowed)?;
    }
    Ok(())
}

/// `cpus` (as `what` names it) is no more than the CPUs that can run the command, or the
/// quota would never limit anything.
pub fn cpus_within(what: &str, cpus: f64, allowed: &CpuList) -> Result<()> {
    let have = allowed.count();
    if have > 0 && cpus > f64::from(have) {
        return Err(Error::Spec(format!(
            "{what}{}: only {have} CPU{} ({allowed}) can run the command here, so the \
             quota would never limit it; use at most {have}",
            shown(cpus),
            if have == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpus_checked_against_the_allowed_cpus() {
        let allowed = CpuList::parse("0-1").unwrap();
        let limits = |cpus: Option<f64>, cpuset: Option<&str>| Limits {
            cpus,
            cpuset: cpuset.map(str::to_string),
            ..Limits::default()
        };
        check_cpus(&limits(Some(2.0), Some("0-1")), &allowed).unwrap();
        check_cpus(&limits(Some(0.5), Some("1")), &allowed).unwrap();
        let e = check_cpus(&limits(None, Some("7")), &allowed)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "--cpuset 7: CPU 7 is not one boxwise may use here (CPUs 0-1)"
        );
        let e = check_cpus(&limits(None, Some("0,5-6")), &allowed)
            .unwrap_err()
            .to_string();
        assert!(e.contains("CPU 5 "), "{e}");
        let e = check_cpus(&limits(Some(99.0), None), &allowed)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "--cpus 99: only 2 CPUs (0-1) can run the command here, so the quota would never \
             limit it; use at most 2"
        );
        let e = check_cpus(&limits(Some(1e9), None), &allowed)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--cpus 1e9: "), "{e}");
        let e = cpu_quota_us(1e-300).unwrap_err().to_string();
        assert_eq!(e, "--cpus 1e-300: the kernel's smallest quota is 0.01 CPUs");
    }

    #[test]
    fn isolation_sets() {
        let set = Isolation::parse("net, uts").unwrap();
        assert_eq!(set.namespaces(), vec![Namespace::Uts, Namespace::Net]);
        let pid = Isolation::parse("pid").unwrap();
        assert_eq!(pid.namespaces(), vec![Namespace::Pid, Namespace::Mount]);
        assert!(Isolation::parse("").unwrap().is_empty());
        let err = Isolation::parse("pid,user").unwrap_err().to_string();
        assert!(err.contains("\"user\""), "{err}");
    }

    #[test]
    fn quotas() {
        assert_eq!(cpu_quota_us(0.5).unwrap(), 50_000);
        assert_eq!(cpu_quota_us(1.5).unwrap(), 150_000);
        assert_eq!(cpu_quota_us(0.01).unwrap(), 1_000);
        for bad in [0.0, -1.0, 0.001, f64::NAN, f64::INFINITY] {
            assert!(cpu_quota_us(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn swap_follows_docker() {
        const M: u64 = 64 << 20;
        assert_eq!(swap_total(Some(M), None).unwrap(), Some(2 * M));
        assert_eq!(swap_total(None, None).unwrap(), None);
        assert_eq!(
            swap_total(Some(M), Some(MemorySwap::Unlimited)).unwrap(),
            None
        );
        assert_eq!(
            swap_total(Some(M), Some(MemorySwap::Total(M))).unwrap(),
            Some(M)
        );
        assert!(swap_total(Some(M), Some(MemorySwap::Total(M - 1))).is_err());
        assert!(swap_total(None, Some(MemorySwap::Total(M))).is_err());
    }

    #[test]
    fn validation_names_the_value() {
        let bad = Limits {
            cpuset: Some("0-x".into()),
            ..Limits::default()
        };
        assert!(validate(&bad).unwrap_err().to_string().contains("0-x"));
        assert!(
            validate(&Limits {
                pids: Some(0),
                ..Limits::default()
            })
            .is_err()
        );
        assert!(validate(&Limits::default()).is_ok());
    }
}
