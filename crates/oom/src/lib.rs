//! OOM history that survives a restart. A container the kernel OOM-killed and Docker
//! restarted gets a fresh memory cgroup whose `oom_kill` counter is 0; the kill is still in
//! the kernel log (`/dev/kmsg`), in a parent cgroup's hierarchical `memory.events` (v2), and
//! in the Docker engine's container state. Read (read.rs) -> parse (kmsg.rs, docker.rs) ->
//! model ([`History`]) -> the doctor judges it.

#![forbid(unsafe_code)]

pub mod docker;
pub mod kmsg;
pub mod read;

use serde::Serialize;

pub use docker::DockerState;
pub use kmsg::Kill;

/// Everything found about past OOM kills of one cgroup. A source that could not be read is
/// `None` (unknown), not an empty list (none).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct History {
    /// The cgroup path the kills were matched against (`/docker/<id>`).
    pub cgroup: String,
    /// Kills in the kernel log whose memory cgroup is this cgroup or one of its ancestors;
    /// `None` when /dev/kmsg could not be read.
    pub kernel_kills: Option<Vec<Kill>>,
    /// v2: the parent cgroup's hierarchical `oom_kill` count (a pod's cgroup outlives its
    /// containers), with the file.
    pub parent_oom_kills: Option<ParentEvents>,
    /// The Docker engine's view of the container, when its socket answered.
    pub docker: Option<DockerState>,
    /// Seconds since boot when this was read, to turn the kernel's timestamps into "ago".
    pub uptime_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParentEvents {
    pub path: std::path::PathBuf,
    pub oom_kill: u64,
}

impl History {
    /// True when any source recorded a kill.
    pub fn any(&self) -> bool {
        self.kernel_kills.as_ref().is_some_and(|k| !k.is_empty())
            || self
                .parent_oom_kills
                .as_ref()
                .is_some_and(|p| p.oom_kill > 0)
            || self.docker.as_ref().is_some_and(|d| d.oom_killed)
    }
}

/// Whether a kill in `memcg` (the kernel's `oom_memcg`/`task_memcg`) belongs to `cgroup`:
/// the same cgroup (a restarted Docker container keeps its path), or `cgroup` sits below the
/// cgroup whose limit was hit (a pod-level limit). The root `/` matches only itself.
pub fn belongs(memcg: &str, cgroup: &str) -> bool {
    let memcg = memcg.trim_end_matches('/');
    let cgroup = cgroup.trim_end_matches('/');
    if memcg.is_empty() {
        return cgroup.is_empty();
    }
    cgroup == memcg
        || cgroup
            .strip_prefix(memcg)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn belongs_to_self_and_below_a_limited_ancestor() {
        assert!(belongs("/docker/abc", "/docker/abc"));
        assert!(belongs("/kubepods/pod1", "/kubepods/pod1/ctr2"));
        assert!(!belongs("/docker/abc", "/docker/abcd"));
        assert!(!belongs("/docker/abc/x", "/docker/abc"));
        assert!(!belongs("/", "/docker/abc"));
        assert!(belongs("/", "/"));
    }
}
