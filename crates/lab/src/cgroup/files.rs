//! Which files carry each limit and counter, for v1 and v2: pure tables, no I/O. The file
//! names and units come from `boxwise_box::cgroup`, which the probe reads through too.

use boxwise_box::cgroup::{Controller, cpu, cpuset, io, memory, pids};
use boxwise_box::layout::Hierarchy;
use boxwise_box::parse::cgroupfs::Keyed;

use crate::stats::{AppliedLimits, Counters};

/// One value to write into a controller's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub controller: Controller,
    pub file: &'static str,
    pub value: String,
    /// `false` for defaults the kernel may not support (swap accounting switched off):
    /// a missing file then just means the default is not applied.
    pub required: bool,
}

fn write(controller: Controller, file: &'static str, value: impl ToString) -> Write {
    Write {
        controller,
        file,
        value: value.to_string(),
        required: true,
    }
}

/// The writes that apply `limits` on a hierarchy, in the order the kernel accepts them
/// (v1 memory+swap may never drop below the memory limit, so the memory limit goes first).
/// `swap_explicit` says whether the swap total was asked for or is Docker's default.
pub fn limit_writes(
    hierarchy: Hierarchy,
    limits: &AppliedLimits,
    swap_explicit: bool,
    mems: &str,
) -> Vec<Write> {
    let mut out = Vec::new();
    if let (Some(quota), Some(period)) = (limits.cpu_quota_us, limits.cpu_period_us) {
        for (file, value) in cpu::quota_writes(hierarchy, quota, period) {
            out.push(write(Controller::Cpu, file, value));
        }
    }
    if let Some(bytes) = limits.memory_bytes {
        out.push(write(
            Controller::Memory,
            memory::limit_file(hierarchy),
            bytes,
        ));
        if let Some(total) = limits.memory_swap_bytes {
            let (file, value) = memory::swap_write(hierarchy, bytes, total);
            let mut swap = write(Controller::Memory, file, value);
            swap.required = swap_explicit;
            out.push(swap);
        }
    }
    if let Some(n) = limits.pids {
        out.push(write(Controller::Pids, pids::MAX, n));
    }
    if let Some(cpus) = &limits.cpuset {
        out.push(write(Controller::Cpuset, cpuset::CPUS, cpus));
        if hierarchy == Hierarchy::V1 {
            // v1 refuses tasks until both are set; the memory nodes stay the parent's.
            out.push(write(Controller::Cpuset, cpuset::MEMS, mems.trim()));
        }
    }
    if let Some(d) = &limits.io {
        for (file, value) in io::limit_writes(hierarchy, d.device, &d.caps) {
            out.push(write(Controller::Io, file, value));
        }
    }
    out
}

/// The counter files of a run, read after it ends.
#[derive(Debug, Default)]
pub struct Raw {
    /// v1 `cpuacct.usage` (ns).
    pub cpuacct_usage: Option<u64>,
    /// `cpu.stat`: v1 has `throttled_time` (ns), v2 `usage_usec` and `throttled_usec`.
    pub cpu_stat: Option<Keyed>,
    /// v1 `memory.max_usage_in_bytes`, v2 `memory.peak`.
    pub memory_peak: Option<u64>,
    /// v1 `memory.oom_control`, v2 `memory.events`: both count `oom_kill`.
    pub memory_events: Option<Keyed>,
    /// `pids.events` (v1 and v2): `max` counts forks and clones refused by `pids.max`.
    pub pids_events: Option<Keyed>,
    /// `pids.peak`, where the kernel has it.
    pub pids_peak: Option<u64>,
}

/// Turn the raw counters into the stats' units.
pub fn counters(hierarchy: Hierarchy, raw: &Raw) -> Counters {
    let stat = |key: &str| raw.cpu_stat.as_ref().and_then(|s| s.get(key));
    let cpu_seconds = match hierarchy {
        Hierarchy::V1 => raw.cpuacct_usage.map(cpu::v1_usage_seconds),
        Hierarchy::V2 => raw.cpu_stat.as_ref().and_then(cpu::v2_usage_seconds),
    };
    Counters {
        cpu_seconds,
        nr_periods: stat("nr_periods"),
        throttled_periods: stat("nr_throttled"),
        throttled_seconds: raw
            .cpu_stat
            .as_ref()
            .and_then(|s| cpu::throttled_seconds(hierarchy, s)),
        peak_memory_bytes: raw.memory_peak,
        oom_kills: raw
            .memory_events
            .as_ref()
            .and_then(|e| e.get(memory::OOM_KILL)),
        pids_limit_hits: raw.pids_events.as_ref().and_then(|e| e.get("max")),
        peak_pids: raw.pids_peak,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boxwise_box::parse::cgroupfs::keyed;

    fn limits() -> AppliedLimits {
        AppliedLimits {
            cpus: Some(0.5),
            cpu_quota_us: Some(50_000),
            cpu_period_us: Some(100_000),
            memory_bytes: Some(64 << 20),
            memory_swap_bytes: Some(128 << 20),
            pids: Some(20),
            cpuset: Some("0".into()),
            ..AppliedLimits::default()
        }
    }

    fn files(ws: &[Write]) -> Vec<(&str, &str)> {
        ws.iter().map(|w| (w.file, w.value.as_str())).collect()
    }

    #[test]
    fn v1_writes() {
        let ws = limit_writes(Hierarchy::V1, &limits(), false, "0\n");
        assert_eq!(
            files(&ws),
            vec![
                ("cpu.cfs_period_us", "100000"),
                ("cpu.cfs_quota_us", "50000"),
                ("memory.limit_in_bytes", "67108864"),
                ("memory.memsw.limit_in_bytes", "134217728"),
                ("pids.max", "20"),
                ("cpuset.cpus", "0"),
                ("cpuset.mems", "0"),
            ]
        );
        assert!(!ws[3].required, "Docker's default swap is best effort");
    }

    #[test]
    fn v2_writes_swap_alone() {
        let ws = limit_writes(Hierarchy::V2, &limits(), true, "");
        assert_eq!(
            files(&ws),
            vec![
                ("cpu.max", "50000 100000"),
                ("memory.max", "67108864"),
                ("memory.swap.max", "67108864"),
                ("pids.max", "20"),
                ("cpuset.cpus", "0"),
            ]
        );
        assert!(ws[2].required);
        assert!(limit_writes(Hierarchy::V2, &AppliedLimits::default(), false, "").is_empty());
    }

    #[test]
    fn io_caps_go_to_blkio_or_io_max() {
        let limits = AppliedLimits {
            io: Some(io::DeviceCaps {
                device: io::Device {
                    major: 254,
                    minor: 0,
                },
                caps: io::Caps {
                    write_bps: Some(4 << 20),
                    ..io::Caps::default()
                },
            }),
            ..AppliedLimits::default()
        };
        let v1 = limit_writes(Hierarchy::V1, &limits, false, "");
        assert_eq!(
            files(&v1),
            vec![("blkio.throttle.write_bps_device", "254:0 4194304")]
        );
        assert_eq!(v1[0].controller, Controller::Io);
        let v2 = limit_writes(Hierarchy::V2, &limits, false, "");
        assert_eq!(
            files(&v2),
            vec![("io.max", "254:0 rbps=max wbps=4194304 riops=max wiops=max")]
        );
    }

    #[test]
    fn v1_counters() {
        let raw = Raw {
            cpuacct_usage: Some(2_500_000_000),
            cpu_stat: Some(
                keyed("nr_periods 30\nnr_throttled 28\nthrottled_time 1500000000\n").unwrap(),
            ),
            memory_peak: Some(67_000_000),
            memory_events: Some(keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n").unwrap()),
            ..Raw::default()
        };
        let c = counters(Hierarchy::V1, &raw);
        assert_eq!(c.cpu_seconds, Some(2.5));
        assert_eq!(c.throttled_seconds, Some(1.5));
        assert_eq!((c.nr_periods, c.throttled_periods), (Some(30), Some(28)));
        assert_eq!(c.oom_kills, Some(1));
        assert_eq!(c.peak_memory_bytes, Some(67_000_000));
        assert_eq!((c.pids_limit_hits, c.peak_pids), (None, None));
    }

    #[test]
    fn pids_counters_are_the_same_on_both() {
        for h in [Hierarchy::V1, Hierarchy::V2] {
            let raw = Raw {
                pids_events: Some(keyed("max 3\n").unwrap()),
                pids_peak: Some(8),
                ..Raw::default()
            };
            let c = counters(h, &raw);
            assert_eq!((c.pids_limit_hits, c.peak_pids), (Some(3), Some(8)));
        }
    }

    #[test]
    fn v2_counters() {
        let raw = Raw {
            cpu_stat: Some(
                keyed("usage_usec 2000000\nuser_usec 1500000\nsystem_usec 500000\nnr_periods 20\nnr_throttled 5\nthrottled_usec 250000\n")
                    .unwrap(),
            ),
            memory_events: Some(keyed("low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n").unwrap()),
            ..Raw::default()
        };
        let c = counters(Hierarchy::V2, &raw);
        assert_eq!(c.cpu_seconds, Some(2.0));
        assert_eq!(c.throttled_seconds, Some(0.25));
        assert_eq!(c.oom_kills, Some(0));
        assert_eq!(c.peak_memory_bytes, None);
    }
}
