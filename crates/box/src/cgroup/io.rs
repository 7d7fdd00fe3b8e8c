//! The io controller (v2 `io`, v1 `blkio`): per-device bandwidth and IOPS caps, as
//! Docker's `--device-write-bps` sets them. v2 keeps all four caps of a device on one
//! `io.max` line (`8:0 rbps=1048576 wbps=max riops=max wiops=max`); v1 has one
//! `blkio.throttle.*_device` file per cap, one `8:0 1048576` line per device.
//!
//! v1 charges a write to the cgroup of the task that submits it to the device: direct
//! I/O and the writes an fsync(2) or O_DSYNC write makes itself are throttled, buffered
//! writes that the kernel's flusher threads write back later are not (v2's cgroup
//! writeback charges those too).

use std::fmt;

use serde::Serialize;

use crate::error::ParseError;
use crate::layout::Hierarchy;

/// A block device by number (`MAJ:MIN`, as in `/sys/dev/block` and the cgroup files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Device {
    pub major: u32,
    pub minor: u32,
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

impl Serialize for Device {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Device {
    /// From a `dev_t` as stat(2) gives it (Linux's encoding, as glibc's major()/minor()).
    pub fn from_raw(dev: u64) -> Device {
        Device {
            major: (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)) as u32,
            minor: ((dev & 0xff) | ((dev >> 12) & !0xff)) as u32,
        }
    }

    /// `MAJ:MIN`.
    pub fn parse(text: &str) -> Result<Device, ParseError> {
        let bad = || ParseError::expected("a device number like 8:0", text);
        let (major, minor) = text.trim().split_once(':').ok_or_else(bad)?;
        let num = |s: &str| {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u32>().ok())
                .flatten()
        };
        Ok(Device {
            major: num(major).ok_or_else(bad)?,
            minor: num(minor).ok_or_else(bad)?,
        })
    }
}

/// The four caps of one device; `None` is unlimited (`max`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Caps {
    pub read_bps: Option<u64>,
    pub write_bps: Option<u64>,
    pub read_iops: Option<u64>,
    pub write_iops: Option<u64>,
}

impl Caps {
    pub fn is_empty(&self) -> bool {
        *self == Caps::default()
    }
}

/// The caps of one device, as written to or read from the cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeviceCaps {
    pub device: Device,
    #[serde(flatten)]
    pub caps: Caps,
}

/// The controller's name in a hierarchy: `blkio` on v1, `io` on v2.
pub fn controller_name(h: Hierarchy) -> &'static str {
    h.pick("blkio", "io")
}

/// v2's single file.
pub const MAX: &str = "io.max";

/// v1's files, in [`Caps`] order: read bps, write bps, read IOPS, write IOPS.
pub const V1_FILES: [&str; 4] = [
    "blkio.throttle.read_bps_device",
    "blkio.throttle.write_bps_device",
    "blkio.throttle.read_iops_device",
    "blkio.throttle.write_iops_device",
];

/// v2's keys, in [`Caps`] order.
const V2_KEYS: [&str; 4] = ["rbps", "wbps", "riops", "wiops"];

fn fields(c: &Caps) -> [Option<u64>; 4] {
    [c.read_bps, c.write_bps, c.read_iops, c.write_iops]
}

fn set(c: &mut Caps, i: usize, v: Option<u64>) {
    match i {
        0 => c.read_bps = v,
        1 => c.write_bps = v,
        2 => c.read_iops = v,
        _ => c.write_iops = v,
    }
}

/// The (file, value) writes that set `caps` on `device`: one `io.max` line on v2, one
/// line per set cap on v1 (a cap left `None` is not touched on v1 and is `max` on v2).
pub fn limit_writes(h: Hierarchy, device: Device, caps: &Caps) -> Vec<(&'static str, String)> {
    match h {
        Hierarchy::V2 => {
            let mut line = device.to_string();
            for (key, v) in V2_KEYS.iter().zip(fields(caps)) {
                match v {
                    Some(n) => line.push_str(&format!(" {key}={n}")),
                    None => line.push_str(&format!(" {key}=max")),
                }
            }
            vec![(MAX, line)]
        }
        Hierarchy::V1 => V1_FILES
            .iter()
            .zip(fields(caps))
            .filter_map(|(file, v)| Some((*file, format!("{device} {}", v?))))
            .collect(),
    }
}

/// Parse v2's `io.max`: one line per device with a cap, `KEY=VALUE` pairs, `max` for none.
/// Unknown keys are skipped (newer kernels may add some).
pub fn parse_io_max(text: &str) -> Result<Vec<DeviceCaps>, ParseError> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut words = line.split_whitespace();
        let device = Device::parse(words.next().unwrap_or(""))?;
        let mut caps = Caps::default();
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| ParseError::expected("KEY=VALUE in io.max", word))?;
            let Some(i) = V2_KEYS.iter().position(|k| *k == key) else {
                continue;
            };
            let v = match value {
                "max" => None,
                n => Some(
                    n.parse::<u64>()
                        .map_err(|_| ParseError::expected("a number or max in io.max", word))?,
                ),
            };
            set(&mut caps, i, v);
        }
        out.push(DeviceCaps { device, caps });
    }
    Ok(out)
}

/// Parse one v1 `blkio.throttle.*_device` file: `MAJ:MIN VALUE` lines.
pub fn parse_throttle(text: &str) -> Result<Vec<(Device, u64)>, ParseError> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (dev, value) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| ParseError::expected("MAJ:MIN VALUE", line))?;
        let value = value
            .trim()
            .parse::<u64>()
            .map_err(|_| ParseError::expected("MAJ:MIN VALUE", line))?;
        out.push((Device::parse(dev)?, value));
    }
    Ok(out)
}

/// The caps of `device` from v1's four files (in [`V1_FILES`] order; `None` for a file
/// that could not be read).
pub fn v1_caps(device: Device, files: [Option<&str>; 4]) -> Result<Caps, ParseError> {
    let mut caps = Caps::default();
    for (i, text) in files.iter().enumerate() {
        if let Some(text) = text {
            let v = parse_throttle(text)?
                .into_iter()
                .find(|(d, _)| *d == device)
                .map(|(_, v)| v);
            set(&mut caps, i, v);
        }
    }
    Ok(caps)
}

/// The whole disk behind `path`: its own number if it is a block device node, else the
/// device of the filesystem holding it; a partition is mapped to its disk, because the
/// kernel takes caps only for whole disks. Fails, saying why in one phrase, for a
/// character device and for a filesystem with no block device (tmpfs, overlay, FUSE,
/// proc: numbers `0:N`), naming its type from `/proc/self/mountinfo`.
pub fn whole_disk(path: &std::path::Path) -> Result<Device, String> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.file_type().is_char_device() {
        let device = Device::from_raw(meta.rdev());
        return Err(format!("a character device ({device}), not a block device"));
    }
    let raw = if meta.file_type().is_block_device() {
        meta.rdev()
    } else {
        meta.dev()
    };
    let device = Device::from_raw(raw);
    let sys = std::path::PathBuf::from(format!("/sys/dev/block/{device}"));
    if !sys.exists() {
        return Err(format!(
            "{} ({device}) has no block device to cap",
            std::fs::read_to_string("/proc/self/mountinfo")
                .ok()
                .and_then(|m| fs_type(&m, device))
                .unwrap_or_else(|| "its filesystem".into())
        ));
    }
    if !sys.join("partition").exists() {
        return Ok(device);
    }
    // /sys/dev/block/8:1 -> .../block/sda/sda1; the disk's `dev` is one level up.
    let disk = std::fs::canonicalize(&sys)
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("dev")))
        .and_then(|f| std::fs::read_to_string(f).ok())
        .ok_or_else(|| format!("cannot find the disk of partition {device} in /sys"))?;
    Device::parse(&disk).map_err(|e| e.to_string())
}

/// The type of the filesystem mounted from `device` in a `/proc/self/mountinfo` text
/// (`tmpfs`; FUSE by its subtype, `fuse.sshfs`).
pub fn fs_type(mountinfo: &str, device: Device) -> Option<String> {
    let want = device.to_string();
    mountinfo.lines().find_map(|l| {
        let mut fields = l.split_whitespace();
        if fields.nth(2)? != want {
            return None;
        }
        let mut rest = fields.skip_while(|f| *f != "-");
        rest.next()?;
        rest.next().map(str::to_string)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SDA: Device = Device { major: 8, minor: 0 };

    #[test]
    fn filesystem_types_from_mountinfo() {
        let info = "22 27 0:21 / /proc rw,relatime - proc proc rw\n\
                    25 24 0:23 / /dev/shm rw,relatime shared:3 - tmpfs tmpfs rw\n";
        let dev = |minor| Device { major: 0, minor };
        assert_eq!(fs_type(info, dev(23)).as_deref(), Some("tmpfs"));
        assert_eq!(fs_type(info, dev(21)).as_deref(), Some("proc"));
        assert_eq!(fs_type(info, dev(99)), None);
        assert_eq!(fs_type("garbage", dev(21)), None);
    }

    #[test]
    fn what_a_path_without_a_disk_is() {
        for (path, says) in [
            ("/dev/null", "a character device (1:3), not a block device"),
            ("/proc", "proc (0:"),
        ] {
            let why = whole_disk(std::path::Path::new(path)).unwrap_err();
            assert!(why.starts_with(says), "{path}: {why}");
            assert!(!why.contains("  "), "{why}");
        }
    }

    #[test]
    fn device_numbers_from_stat() {
        assert_eq!(Device::from_raw(0xfe00).to_string(), "254:0");
        assert_eq!(Device::from_raw(0x0801).to_string(), "8:1");
        // A minor above 255 (NVMe partitions, device-mapper).
        assert_eq!(Device::from_raw(0x0011_0300).to_string(), "259:256");
    }

    #[test]
    fn writes_per_hierarchy() {
        let caps = Caps {
            write_bps: Some(10 << 20),
            read_iops: Some(100),
            ..Caps::default()
        };
        assert_eq!(
            limit_writes(Hierarchy::V2, SDA, &caps),
            vec![(
                "io.max",
                "8:0 rbps=max wbps=10485760 riops=100 wiops=max".to_string()
            )]
        );
        assert_eq!(
            limit_writes(Hierarchy::V1, SDA, &caps),
            vec![
                (
                    "blkio.throttle.write_bps_device",
                    "8:0 10485760".to_string()
                ),
                ("blkio.throttle.read_iops_device", "8:0 100".to_string()),
            ]
        );
    }

    #[test]
    fn reads_the_kernels_files() {
        let got = parse_io_max("8:16 rbps=2097152 wbps=max riops=max wiops=120\n").unwrap();
        assert_eq!(
            got[0].device,
            Device {
                major: 8,
                minor: 16
            }
        );
        assert_eq!(got[0].caps.read_bps, Some(2_097_152));
        assert_eq!(got[0].caps.write_iops, Some(120));
        assert_eq!(got[0].caps.write_bps, None);
        assert!(parse_io_max("").unwrap().is_empty());
        let v1 = v1_caps(
            Device {
                major: 254,
                minor: 0,
            },
            [None, Some("8:0 5\n254:0 10485760\n"), Some(""), None],
        )
        .unwrap();
        assert_eq!(v1.write_bps, Some(10 << 20));
        assert_eq!(v1.read_iops, None);
        for bad in ["8:x 1", "8 1", "8:0", ":0 1", "8:0 -1"] {
            assert!(parse_throttle(bad).is_err(), "{bad}");
        }
        assert!(parse_io_max("8:0 wbps=lots").is_err());
        assert!(parse_io_max("eight:0 wbps=1").is_err());
    }

    fn caps() -> impl Strategy<Value = Caps> {
        let one = || proptest::option::of(1u64..u64::MAX);
        (one(), one(), one(), one()).prop_map(|(a, b, c, d)| Caps {
            read_bps: a,
            write_bps: b,
            read_iops: c,
            write_iops: d,
        })
    }

    proptest! {
        #[test]
        fn fs_type_never_panics(text in ".{0,200}", major in 0u32..300, minor in 0u32..300) {
            let _ = fs_type(&text, Device { major, minor });
        }

        #[test]
        fn v2_round_trips(major in 0u32..4096, minor in 0u32..1_048_576, c in caps()) {
            let device = Device { major, minor };
            let writes = limit_writes(Hierarchy::V2, device, &c);
            let back = parse_io_max(&writes[0].1).unwrap();
            prop_assert_eq!(back, vec![DeviceCaps { device, caps: c }]);
        }

        #[test]
        fn v1_round_trips(major in 0u32..4096, minor in 0u32..1_048_576, c in caps()) {
            let device = Device { major, minor };
            let writes = limit_writes(Hierarchy::V1, device, &c);
            let files = V1_FILES.map(|f| {
                writes.iter().find(|(w, _)| *w == f).map(|(_, v)| v.as_str()).unwrap_or("")
            });
            prop_assert_eq!(v1_caps(device, files.map(Some)).unwrap(), c);
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,60}") {
            let _ = parse_io_max(&s);
            let _ = parse_throttle(&s);
            let _ = Device::parse(&s);
        }
    }
}
