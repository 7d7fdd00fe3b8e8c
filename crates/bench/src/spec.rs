//! What to measure: lists parsed from the command line, checked before anything is
//! created. Pure.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};

/// How each write is made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SyncMode {
    /// Plain write(2): the page cache absorbs it.
    #[serde(rename = "none")]
    None,
    /// write(2) then fsync(2): data and metadata reach the device (Go's `file.Sync()`).
    #[serde(rename = "fsync")]
    Fsync,
    /// write(2) then fdatasync(2): data, and metadata only when needed to read it back.
    #[serde(rename = "fdatasync")]
    Fdatasync,
    /// The file opened with O_DSYNC: each write returns once its data is durable.
    #[serde(rename = "O_DSYNC")]
    ODsync,
}

impl SyncMode {
    pub const ALL: [SyncMode; 4] = [
        SyncMode::None,
        SyncMode::Fsync,
        SyncMode::Fdatasync,
        SyncMode::ODsync,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SyncMode::None => "none",
            SyncMode::Fsync => "fsync",
            SyncMode::Fdatasync => "fdatasync",
            SyncMode::ODsync => "O_DSYNC",
        }
    }
}

/// Where the two endpoints of `bench net` sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetMode {
    /// Both on 127.0.0.1 in boxwise's own network namespace (Docker's `--network host`).
    Host,
    /// Two network namespaces joined by a veth pair.
    Veth,
    /// Client namespace -> veth -> a "host" namespace with a Linux bridge and a DNAT rule
    /// (a published port) -> veth -> server namespace: Docker's bridge path.
    Bridge,
    /// Two containers of a boxwise-built scratch image on Docker's default bridge
    /// (container to container over docker0, by the server's private address).
    DockerBridge,
    /// The same two containers with `--network host` (both on 127.0.0.1).
    DockerHost,
}

impl NetMode {
    /// The default list (Docker's modes need an engine, so they are asked for by name).
    pub const ALL: [NetMode; 3] = [NetMode::Host, NetMode::Veth, NetMode::Bridge];

    pub fn name(self) -> &'static str {
        match self {
            NetMode::Host => "host",
            NetMode::Veth => "veth",
            NetMode::Bridge => "bridge",
            NetMode::DockerBridge => "docker-bridge",
            NetMode::DockerHost => "docker-host",
        }
    }

    /// Measured between two containers (needs a Docker engine).
    pub fn is_docker(self) -> bool {
        matches!(self, NetMode::DockerBridge | NetMode::DockerHost)
    }
}

/// `bench io`: every directory x block size x sync mode, then buffered writes.
#[derive(Debug, Clone, PartialEq)]
pub struct IoSpec {
    pub dirs: Vec<PathBuf>,
    pub blocks: Vec<u64>,
    pub syncs: Vec<SyncMode>,
    /// How long each case writes (it also stops at `file_bytes` x 4 written).
    pub duration: Duration,
    /// The test file's size; writes wrap around inside it, so disk use stays bounded.
    pub file_bytes: u64,
    /// bufio.Writer sizes for the buffered-write cases (empty: none).
    pub buffers: Vec<u64>,
    /// The record size the program hands the buffer (a log line, a row).
    pub record_bytes: u64,
    /// Bytes written per buffered case.
    pub buffered_total_bytes: u64,
}

impl Default for IoSpec {
    fn default() -> Self {
        IoSpec {
            dirs: vec![PathBuf::from(".")],
            blocks: vec![4 << 10, 64 << 10, 1 << 20],
            syncs: SyncMode::ALL.to_vec(),
            duration: Duration::from_secs(1),
            file_bytes: 64 << 20,
            buffers: vec![4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20],
            record_bytes: 128,
            buffered_total_bytes: 64 << 20,
        }
    }
}

/// `bench net`.
#[derive(Debug, Clone, PartialEq)]
pub struct NetSpec {
    pub modes: Vec<NetMode>,
    /// Request and response size for the latency test.
    pub size: u64,
    /// How long each of the latency and throughput phases runs, per mode.
    pub duration: Duration,
    /// The static boxwise to put in the Docker modes' scratch image (default: this one).
    pub docker_binary: Option<PathBuf>,
    /// Run the server half as `PROGRAM bench net --serve` in a process of its own (as
    /// iperf3 does) rather than on a thread of this one; the CLI passes boxwise itself.
    pub server_program: Option<PathBuf>,
}

impl Default for NetSpec {
    fn default() -> Self {
        NetSpec {
            modes: NetMode::ALL.to_vec(),
            size: 64,
            duration: Duration::from_secs(2),
            docker_binary: None,
            server_program: None,
        }
    }
}

/// Largest block or buffer accepted: keeps memory bounded.
pub const MAX_BLOCK: u64 = 64 << 20;

/// A size as Docker and dd write it: `4k`, `64K`, `1m`, `1MiB`, `512` (bytes).
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let bad = || Error::Spec(format!("{text:?}: expected a size like 4k, 64k, 1m or 512"));
    let n: u64 = num.parse().map_err(|_| bad())?;
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(bad()),
    };
    n.checked_mul(1 << shift).ok_or_else(bad)
}

/// A comma-separated list of sizes, each in 1..=[`MAX_BLOCK`].
pub fn parse_sizes(text: &str) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let n = parse_size(word)?;
        if n == 0 || n > MAX_BLOCK {
            return Err(Error::Spec(format!(
                "{word:?}: expected a size from 1 byte to 64m"
            )));
        }
        if !out.contains(&n) {
            out.push(n);
        }
    }
    if out.is_empty() {
        return Err(Error::Spec(format!("{text:?}: no sizes given")));
    }
    Ok(out)
}

/// `none,fsync,fdatasync,O_DSYNC` (any subset; `odsync` and `dsync` accepted too).
pub fn parse_syncs(text: &str) -> Result<Vec<SyncMode>> {
    let mut out = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let mode = match word.to_ascii_lowercase().as_str() {
            "none" => SyncMode::None,
            "fsync" => SyncMode::Fsync,
            "fdatasync" => SyncMode::Fdatasync,
            "o_dsync" | "odsync" | "dsync" => SyncMode::ODsync,
            _ => {
                return Err(Error::Spec(format!(
                    "unknown sync mode {word:?} in {text:?}; expected none, fsync, fdatasync or O_DSYNC"
                )));
            }
        };
        if !out.contains(&mode) {
            out.push(mode);
        }
    }
    if out.is_empty() {
        return Err(Error::Spec(format!("{text:?}: no sync modes given")));
    }
    Ok(out)
}

/// `host,veth,bridge,docker` (any subset, kept in the order given); `docker` stands for
/// both `docker-bridge` and `docker-host`, which may also be named alone.
pub fn parse_modes(text: &str) -> Result<Vec<NetMode>> {
    const NAMED: [NetMode; 5] = [
        NetMode::Host,
        NetMode::Veth,
        NetMode::Bridge,
        NetMode::DockerBridge,
        NetMode::DockerHost,
    ];
    let mut out = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let word = word.to_ascii_lowercase();
        let modes =
            if word == "docker" {
                vec![NetMode::DockerBridge, NetMode::DockerHost]
            } else {
                let mode = NAMED.into_iter().find(|m| m.name() == word).ok_or_else(|| {
                Error::Spec(format!(
                    "unknown network mode {word:?} in {text:?}; expected host, veth, bridge \
                     or docker"
                ))
            })?;
                vec![mode]
            };
        for mode in modes {
            if !out.contains(&mode) {
                out.push(mode);
            }
        }
    }
    if out.is_empty() {
        return Err(Error::Spec(format!("{text:?}: no modes given")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sizes() {
        assert_eq!(
            parse_sizes("4k,64k,1m").unwrap(),
            vec![4096, 65536, 1 << 20]
        );
        assert_eq!(parse_size("1MiB").unwrap(), 1 << 20);
        assert_eq!(parse_size("512").unwrap(), 512);
        for bad in ["", "k", "4x", "-1", "1.5k", "99999999999999999999"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert!(parse_sizes("0").is_err());
        assert!(
            parse_sizes("128m")
                .unwrap_err()
                .to_string()
                .contains("128m")
        );
    }

    #[test]
    fn syncs_and_modes() {
        assert_eq!(
            parse_syncs("none, O_DSYNC").unwrap(),
            vec![SyncMode::None, SyncMode::ODsync]
        );
        assert!(
            parse_syncs("fsink")
                .unwrap_err()
                .to_string()
                .contains("fsink")
        );
        assert_eq!(
            parse_modes("bridge,host").unwrap(),
            vec![NetMode::Bridge, NetMode::Host]
        );
        assert!(parse_modes("overlay").is_err());
        assert_eq!(
            parse_modes("host,docker").unwrap(),
            vec![NetMode::Host, NetMode::DockerBridge, NetMode::DockerHost]
        );
        assert_eq!(
            parse_modes("docker-host,docker").unwrap(),
            vec![NetMode::DockerHost, NetMode::DockerBridge]
        );
        assert_eq!(
            serde_json::to_string(&NetMode::DockerBridge).unwrap(),
            "\"docker-bridge\""
        );
    }

    proptest! {
        #[test]
        fn size_round_trips(n in 1u64..1_000_000, unit in 0usize..4) {
            let (suffix, shift) = [("", 0), ("k", 10), ("m", 20), ("KiB", 10)][unit];
            prop_assert_eq!(parse_size(&format!("{n}{suffix}")).unwrap(), n << shift);
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = parse_sizes(&s);
            let _ = parse_syncs(&s);
            let _ = parse_modes(&s);
        }
    }
}
