//! Results: latency summaries and one row per measured case. JSON keys are stable API
//! (snake_case, latencies in microseconds, throughput in bytes per second, absent = null).

use std::path::PathBuf;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::spec::{NetMode, SyncMode};

/// Latencies recorded in nanoseconds, up to an hour, three significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("static bounds are valid")
}

/// Percentiles of one case, in microseconds; `None` when nothing was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub samples: u64,
    pub p50_us: Option<f64>,
    pub p99_us: Option<f64>,
    pub p999_us: Option<f64>,
    pub max_us: Option<f64>,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Latency {
        let at = |q: f64| (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1000.0);
        Latency {
            samples: h.len(),
            p50_us: at(0.5),
            p99_us: at(0.99),
            p999_us: at(0.999),
            max_us: (!h.is_empty()).then(|| h.max() as f64 / 1000.0),
        }
    }
}

/// Bytes over seconds, `None` for an empty interval.
pub fn rate(bytes: u64, seconds: f64) -> Option<f64> {
    (seconds > 0.0 && bytes > 0).then(|| bytes as f64 / seconds)
}

/// One `bench io` case: a directory, a block size, a sync mode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IoResult {
    pub dir: PathBuf,
    /// The filesystem type from mountinfo (`overlay`, `tmpfs`, `ext4`), or "unknown".
    pub fs_type: String,
    pub block_bytes: u64,
    pub sync: SyncMode,
    /// Per write, including its sync.
    pub p50_us: Option<f64>,
    pub p99_us: Option<f64>,
    pub p999_us: Option<f64>,
    pub max_us: Option<f64>,
    pub writes: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub throughput_bytes_per_second: Option<f64>,
    pub iops: Option<f64>,
}

/// One buffered-write case: small records through a bufio.Writer-like buffer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BufferedResult {
    pub dir: PathBuf,
    pub fs_type: String,
    pub buffer_bytes: u64,
    pub record_bytes: u64,
    /// write(2) calls made (bytes / buffer, plus the last partial flush).
    pub write_calls: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub throughput_bytes_per_second: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IoReport {
    pub results: Vec<IoResult>,
    pub buffered: Vec<BufferedResult>,
    /// io caps on a measured directory's disk that this process runs under.
    pub io_limits: Vec<crate::limit::IoLimit>,
    /// True when Ctrl-C cut the run short (the results so far are kept).
    pub interrupted: bool,
}

/// One `bench net` mode.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct NetResult {
    pub mode: NetMode,
    /// The address the client connected to (loopback or one of boxwise's own namespaces).
    pub address: String,
    /// Request and response size of the round trips.
    pub size_bytes: u64,
    pub round_trips: u64,
    /// Round-trip time of one request and its response over an open TCP connection.
    pub p50_us: Option<f64>,
    pub p99_us: Option<f64>,
    pub p999_us: Option<f64>,
    pub max_us: Option<f64>,
    /// One TCP stream, 128 KiB writes, client to server.
    pub throughput_bytes_per_second: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetReport {
    pub results: Vec<NetResult>,
    pub interrupted: bool,
}

/// The filesystem type of the mount that holds `path` (longest mount point that is a
/// prefix of it, by path components; later mounts over the same point win).
pub fn fs_type_of(
    mounts: &[boxwise_box::parse::mountinfo::Mount],
    path: &std::path::Path,
) -> String {
    let mut best: Option<(usize, &str)> = None;
    for m in mounts {
        let mp = std::path::Path::new(&m.mount_point);
        if path.starts_with(mp) {
            let depth = mp.components().count();
            if best.is_none_or(|(d, _)| depth >= d) {
                best = Some((depth, &m.fs_type));
            }
        }
    }
    best.map_or_else(|| "unknown".to_string(), |(_, t)| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use boxwise_box::parse::mountinfo;
    use proptest::prelude::*;

    #[test]
    fn latency_of_real_values() {
        let mut h = histogram();
        for ns in [1_000u64, 2_000, 3_000, 100_000] {
            h.record(ns).unwrap();
        }
        let l = Latency::of(&h);
        assert_eq!(l.samples, 4);
        assert!((l.p50_us.unwrap() - 2.0).abs() < 0.01, "{l:?}");
        assert!((l.max_us.unwrap() - 100.0).abs() < 0.1, "{l:?}");
        assert_eq!(Latency::of(&histogram()).p50_us, None);
    }

    #[test]
    fn fs_type_takes_the_deepest_mount() {
        let mounts = mountinfo::parse(
            "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n\
             2 1 0:5 / /dev/shm rw - tmpfs tmpfs rw\n\
             3 1 0:6 / /dev rw - devtmpfs udev rw\n",
        )
        .unwrap();
        let t = |p: &str| fs_type_of(&mounts, std::path::Path::new(p));
        assert_eq!(t("/dev/shm/x"), "tmpfs");
        assert_eq!(t("/dev/shmx"), "devtmpfs");
        assert_eq!(t("/var/tmp"), "ext4");
        assert_eq!(fs_type_of(&[], std::path::Path::new("/x")), "unknown");
    }

    proptest! {
        #[test]
        fn percentiles_are_ordered(v in proptest::collection::vec(1u64..10_000_000_000, 1..200)) {
            let mut h = histogram();
            for x in &v { h.record(*x).unwrap(); }
            let l = Latency::of(&h);
            prop_assert!(l.p50_us.unwrap() <= l.p99_us.unwrap());
            prop_assert!(l.p99_us.unwrap() <= l.p999_us.unwrap());
            prop_assert!(l.p999_us.unwrap() <= l.max_us.unwrap());
        }
    }
}
