//! The I/O edge: /dev/kmsg, a parent's memory.events and the Docker socket, each bounded.

use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use crate::docker::{self, DockerState};
use crate::kmsg::{self, Kill};

/// The kernel keeps a ring of a few MiB; more than this many records is not a kernel log.
const MAX_RECORDS: usize = 200_000;
/// A container's inspect JSON is a few KiB; cap the engine's answer.
const MAX_DOCKER_BODY: usize = 4 << 20;

/// Every OOM kill still in the kernel's ring buffer, or `None` when /dev/kmsg cannot be read
/// (not root, `kernel.dmesg_restrict`, no device in the container).
pub fn kernel_kills(dev_kmsg: &Path) -> Option<Vec<Kill>> {
    // Non-blocking: a read at the end of the ring returns EAGAIN instead of waiting.
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(dev_kmsg)
        .ok()?;
    let mut texts = Vec::new();
    let mut buf = vec![0u8; 8192];
    while texts.len() < MAX_RECORDS {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => texts.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
            // EPIPE: a record was overwritten while reading; carry on with the next one.
            Err(e) if e.raw_os_error() == Some(nix::libc::EPIPE) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(_) if texts.is_empty() => return None,
            Err(_) => break,
        }
    }
    Some(kmsg::kills(texts.iter().filter_map(|t| kmsg::record(t))))
}

/// Seconds since boot now, to place the kernel's timestamps in time.
pub fn uptime_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Ask the Docker engine at `socket` about container `id`; `None` when it does not answer
/// (no socket, no permission, not a Docker container).
pub fn docker_state(socket: &Path, id: &str) -> Option<DockerState> {
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    {
        return None;
    }
    let body = boxwise_engine::get_ok(
        socket,
        &format!("/containers/{id}/json"),
        Some(Duration::from_secs(3)),
        MAX_DOCKER_BODY,
    )
    .ok()?;
    docker::parse(&body).ok()
}

/// Look everywhere a kill of `cgroup` (the memory cgroup's path as the kernel names it) may
/// be recorded: the kernel log, on v2 the parent of `memory_dir` (its `memory.events` counts
/// kills below it hierarchically), and the Docker engine for `docker_id`.
pub fn gather(
    cgroup: &str,
    memory_dir: Option<&Path>,
    v2: bool,
    docker_id: Option<&str>,
) -> crate::History {
    let kernel_kills = kernel_kills(Path::new("/dev/kmsg")).map(|kills| {
        kills
            .into_iter()
            .filter(|k| {
                crate::belongs(&k.oom_memcg, cgroup) || crate::belongs(&k.task_memcg, cgroup)
            })
            .collect()
    });
    let parent_oom_kills = memory_dir
        .filter(|_| v2)
        .and_then(Path::parent)
        .map(|p| p.join("memory.events"))
        .and_then(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let oom_kill = text
                .lines()
                .find_map(|l| l.strip_prefix("oom_kill "))?
                .trim()
                .parse()
                .ok()?;
            Some(crate::ParentEvents { path, oom_kill })
        });
    // `DOCKER_HOST` as every other Docker client reads it; a tcp:// or ssh:// engine is not
    // spoken here, so there is no engine view then.
    let docker = docker_id.and_then(|id| {
        let socket = boxwise_engine::socket_path().ok()?;
        docker_state(&socket, id)
    });
    crate::History {
        cgroup: cgroup.to_string(),
        kernel_kills,
        parent_oom_kills,
        docker,
        uptime_seconds: uptime_seconds(),
    }
}
