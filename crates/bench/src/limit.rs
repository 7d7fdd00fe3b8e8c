//! The io caps `bench io` itself runs under (`boxwise run --io-write-bps 10m -- boxwise
//! bench io`, or a container started with `--device-write-bps`): read from its own cgroup
//! and the ones above, for the disk behind each measured directory, so a capped result
//! says why it is capped.

use std::path::{Path, PathBuf};

use boxwise_box::cgroup::Controller;
use boxwise_box::cgroup::io::{self, Caps, Device};
use boxwise_box::layout::{self, Hierarchy};
use boxwise_box::parse::{mountinfo, proc_cgroup};
use serde::Serialize;

/// The caps on one directory's disk (the lowest of each over the cgroup's levels).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IoLimit {
    pub dir: PathBuf,
    pub device: Device,
    #[serde(flatten)]
    pub caps: Caps,
    /// The nearest cgroup directory that sets one of them.
    pub cgroup: PathBuf,
    /// `v1` (blkio: buffered writeback is not charged) or `v2` (io).
    pub cgroup_version: &'static str,
}

/// The caps on `dir`'s disk, `None` when there are none or they cannot be read.
pub fn of(dir: &Path) -> Option<IoLimit> {
    let device = io::whole_disk(dir).ok()?;
    let mounts = mountinfo::parse(&std::fs::read_to_string("/proc/self/mountinfo").ok()?).ok()?;
    let lines = proc_cgroup::parse(&std::fs::read_to_string("/proc/self/cgroup").ok()?).ok()?;
    let layout = layout::resolve_with(&mounts, &lines, &[Controller::Io]);
    let d = layout.controller(Controller::Io)?;
    let mut out: Option<IoLimit> = None;
    for level in d.levels() {
        let caps = caps_at(d.hierarchy, &level, device)?;
        if caps.is_empty() {
            continue;
        }
        match &mut out {
            None => {
                out = Some(IoLimit {
                    dir: dir.to_path_buf(),
                    device,
                    caps,
                    cgroup: level,
                    cgroup_version: d.hierarchy.pick("v1", "v2"),
                })
            }
            Some(l) => l.caps = lowest(&l.caps, &caps),
        }
    }
    out
}

fn caps_at(h: Hierarchy, dir: &Path, device: Device) -> Option<Caps> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    match h {
        Hierarchy::V2 => {
            // The root cgroup has no io.max: nothing capped there.
            let Some(text) = read(io::MAX) else {
                return Some(Caps::default());
            };
            let all = io::parse_io_max(&text).ok()?;
            Some(
                all.into_iter()
                    .find(|c| c.device == device)
                    .map_or_else(Caps::default, |c| c.caps),
            )
        }
        Hierarchy::V1 => {
            let texts = io::V1_FILES.map(read);
            io::v1_caps(device, texts.each_ref().map(|t| t.as_deref())).ok()
        }
    }
}

/// Each cap the lower of the two (a missing cap is no cap).
fn lowest(a: &Caps, b: &Caps) -> Caps {
    let min = |x: Option<u64>, y: Option<u64>| match (x, y) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    };
    Caps {
        read_bps: min(a.read_bps, b.read_bps),
        write_bps: min(a.write_bps, b.write_bps),
        read_iops: min(a.read_iops, b.read_iops),
        write_iops: min(a.write_iops, b.write_iops),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lower_cap_wins_and_none_is_no_cap() {
        let a = Caps {
            write_bps: Some(10),
            read_iops: Some(5),
            ..Caps::default()
        };
        let b = Caps {
            write_bps: Some(4),
            write_iops: Some(7),
            ..Caps::default()
        };
        let l = lowest(&a, &b);
        assert_eq!(
            (l.write_bps, l.read_iops, l.write_iops, l.read_bps),
            (Some(4), Some(5), Some(7), None)
        );
    }
}
