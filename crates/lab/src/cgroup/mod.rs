//! The transient cgroup of one run: created beneath boxwise's own cgroup, limited, read,
//! emptied and removed (also on error and panic, by `Drop`).
//!
//! Per hierarchy it is `<own cgroup>/boxwise/run-<pid>-<n>` (or `<--parent>/run-<pid>-<n>`).
//! Nothing is ever moved: the command joins the new cgroup itself, between fork and exec,
//! and the new cgroup lies inside the accounting boxwise started under.
//!
//! cgroup v2 (unified hosts): a child cgroup only gets a controller that its parent lists
//! in `cgroup.subtree_control`, and a non-root cgroup with processes in it may not list any
//! (the no-internal-processes rule). boxwise enables the controllers in its own cgroup and
//! in `boxwise/` (which never holds processes). When its own cgroup holds processes (boxwise
//! itself, say) the kernel refuses with EBUSY and boxwise says so: pass `--parent` naming a
//! cgroup without processes. The enabled controllers are left enabled (they change no limit).

mod cleanup;
pub mod files;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_paths() {
        let mp = Path::new("/sys/fs/cgroup/memory");
        let own = Path::new("/sys/fs/cgroup/memory/pod");
        assert_eq!(
            parent_dir(Path::new("/bench"), mp, own).unwrap(),
            Path::new("/sys/fs/cgroup/memory/bench")
        );
        assert_eq!(
            parent_dir(Path::new("bench/a"), mp, own).unwrap(),
            Path::new("/sys/fs/cgroup/memory/pod/bench/a")
        );
        assert!(parent_dir(Path::new("../x"), mp, own).is_err());
    }

    #[test]
    fn names_are_unique() {
        let (a, b) = (unique_name(), unique_name());
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("run-{}-", std::process::id())));
    }
}

use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use boxwise_box::host::Host;
use boxwise_box::layout::{Hierarchy, Layout};
use boxwise_box::parse::cgroupfs;

use crate::error::{Error, Result};
use crate::stats::{AppliedLimits, Counters};
use files::Raw;

/// The cgroup of one hierarchy (several controllers share one when co-mounted or on v2).
#[derive(Debug)]
struct Node {
    hierarchy: Hierarchy,
    controllers: Vec<&'static str>,
    /// boxwise's own cgroup, unless `--parent` was given.
    own: Option<PathBuf>,
    /// The directory the run's cgroup lives in (`<own>/boxwise` or `--parent`).
    base: PathBuf,
    leaf: PathBuf,
}

/// A cgroup per hierarchy for one run; dropping it kills what is left and removes it.
#[derive(Debug)]
pub struct Transient {
    nodes: Vec<Node>,
    /// Leaves created so far: only these are removed.
    created: Vec<PathBuf>,
    /// `boxwise/` directories boxwise may create: removed when no other run uses them.
    shared_bases: Vec<PathBuf>,
}

impl Transient {
    /// Create the run's cgroup in every hierarchy serving one of `controllers`.
    pub fn create(
        layout: &Layout,
        controllers: &[&'static str],
        parent: Option<&Path>,
    ) -> Result<Transient> {
        let name = unique_name();
        let mut transient = Transient {
            nodes: Vec::new(),
            created: Vec::new(),
            shared_bases: Vec::new(),
        };
        for &controller in controllers {
            let dir = layout.controller(controller).ok_or_else(|| {
                Error::Spec(format!(
                    "no cgroup hierarchy offers the {controller} controller here (see `boxwise inspect`)"
                ))
            })?;
            let (base, own) = match parent {
                Some(p) => (parent_dir(p, &dir.mount_point, &dir.dir)?, None),
                None => (dir.dir.join("boxwise"), Some(dir.dir.clone())),
            };
            // Co-mounted controllers (and all of v2) share one directory.
            match transient.nodes.iter_mut().find(|n| n.base == base) {
                Some(node) => node.controllers.push(controller),
                None => transient.nodes.push(Node {
                    hierarchy: dir.hierarchy,
                    controllers: vec![controller],
                    own,
                    leaf: base.join(&name),
                    base,
                }),
            }
        }
        for node in &transient.nodes {
            prepare_base(node)?;
            if node.own.is_some() {
                transient.shared_bases.push(node.base.clone());
            }
            make_leaf(node)?;
            transient.created.push(node.leaf.clone());
        }
        cleanup::register(&transient.created);
        Ok(transient)
    }

    /// Write the limits; returns them as applied (an unsupported default swap is dropped).
    pub fn apply(&self, mut limits: AppliedLimits, swap_explicit: bool) -> Result<AppliedLimits> {
        for node in &self.nodes {
            let mems = if node.controllers.contains(&"cpuset") {
                read_text(&node.base.join("cpuset.mems"))?
            } else {
                String::new()
            };
            let writes = files::limit_writes(node.hierarchy, &limits, swap_explicit, &mems);
            for w in writes
                .iter()
                .filter(|w| node.controllers.contains(&w.controller))
            {
                let path = node.leaf.join(w.file);
                match write_value(&path, &w.value) {
                    Err(Error::Cgroup { error, .. })
                        if !w.required && error.kind() == ErrorKind::NotFound =>
                    {
                        limits.memory_swap_bytes = None;
                    }
                    other => other?,
                }
            }
        }
        limits.cgroup_version = self
            .nodes
            .iter()
            .find(|n| n.controllers.contains(&"memory"))
            .map_or("none", |n| match n.hierarchy {
                Hierarchy::V1 => "v1",
                Hierarchy::V2 => "v2",
            });
        Ok(limits)
    }

    /// The `cgroup.procs` files, opened now, for the child to write `0` into before exec.
    pub fn procs_files(&self) -> Result<Vec<File>> {
        self.nodes
            .iter()
            .map(|n| {
                let path = n.leaf.join("cgroup.procs");
                OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| Error::cgroup(path, "open", e))
            })
            .collect()
    }

    /// The run's cgroup directories, one per hierarchy.
    pub fn dirs(&self) -> Vec<&Path> {
        self.nodes.iter().map(|n| n.leaf.as_path()).collect()
    }

    /// The counters, read after the run (unreadable ones stay `None`).
    pub fn counters(&self) -> Counters {
        let host = Host::live();
        let mut out = Counters::default();
        for node in &self.nodes {
            let has = |c| node.controllers.contains(&c);
            let file = |name: &str| node.leaf.join(name);
            let mut raw = Raw::default();
            if has("cpuacct") && node.hierarchy == Hierarchy::V1 {
                raw.cpuacct_usage = read(&host, &file("cpuacct.usage"), cgroupfs::integer);
            }
            if has("cpu") {
                raw.cpu_stat = read(&host, &file("cpu.stat"), cgroupfs::keyed);
            }
            if has("memory") {
                let (peak, events) = match node.hierarchy {
                    Hierarchy::V1 => ("memory.max_usage_in_bytes", "memory.oom_control"),
                    Hierarchy::V2 => ("memory.peak", "memory.events"),
                };
                raw.memory_peak = read(&host, &file(peak), cgroupfs::integer);
                raw.memory_events = read(&host, &file(events), cgroupfs::keyed);
            }
            merge(&mut out, files::counters(node.hierarchy, &raw));
        }
        out
    }

    /// SIGKILL every process left in the cgroup (orphans, a fork bomb's children).
    pub fn kill_all(&self) {
        cleanup::kill_all(&self.created);
    }
}

impl Drop for Transient {
    fn drop(&mut self) {
        cleanup::unregister(&self.created);
        cleanup::empty_and_remove(&self.created);
        for base in &self.shared_bases {
            // Fails (harmlessly) while another run still has its cgroup in there.
            let _ = fs::remove_dir(base);
        }
    }
}

/// `--parent`: an absolute path lies below the hierarchy's mount point, a relative one
/// below boxwise's own cgroup in that hierarchy. `..` could escape both, so it is refused.
fn parent_dir(parent: &Path, mount_point: &Path, own: &Path) -> Result<PathBuf> {
    use std::path::Component;
    let mut rel = PathBuf::new();
    for c in parent.components() {
        match c {
            Component::Normal(part) => rel.push(part),
            Component::RootDir | Component::CurDir => {}
            _ => {
                return Err(Error::Spec(format!(
                    "--parent {}: expected a cgroup path without `..`",
                    parent.display()
                )));
            }
        }
    }
    Ok(if parent.is_absolute() {
        mount_point.join(rel)
    } else {
        own.join(rel)
    })
}

/// `run-<pid>-<n>`: unique among concurrent runs, in this process and across processes.
fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "run-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Make sure the base exists and can hold the run's cgroup.
fn prepare_base(node: &Node) -> Result<()> {
    if node.own.is_some() {
        match fs::create_dir(&node.base) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::cgroup(&node.base, "create", e)),
        }
    } else if !node.base.is_dir() {
        return Err(Error::Spec(format!(
            "--parent: {} does not exist; create the cgroup first",
            node.base.display()
        )));
    }
    match node.hierarchy {
        Hierarchy::V1 if node.controllers.contains(&"cpuset") => {
            // A v1 cpuset starts empty and refuses children's CPUs until it has its own.
            for file in ["cpuset.cpus", "cpuset.mems"] {
                let here = node.base.join(file);
                if read_text(&here)?.trim().is_empty() {
                    let from = node.base.parent().unwrap_or(&node.base).join(file);
                    write_value(&here, read_text(&from)?.trim())?;
                }
            }
            Ok(())
        }
        Hierarchy::V1 => Ok(()),
        Hierarchy::V2 => {
            if let Some(own) = &node.own {
                enable_v2(own, &node.controllers)?;
            }
            enable_v2(&node.base, &node.controllers)
        }
    }
}

/// Create the leaf; retry if a finishing run removed the shared base in between.
fn make_leaf(node: &Node) -> Result<()> {
    for _ in 0..10 {
        match fs::create_dir(&node.leaf) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let _ = fs::create_dir(&node.base);
            }
            Err(e) => return Err(Error::cgroup(&node.leaf, "create", e)),
        }
    }
    Err(Error::cgroup(
        &node.leaf,
        "create",
        std::io::Error::from(ErrorKind::NotFound),
    ))
}

/// List the controllers in a v2 cgroup's `cgroup.subtree_control`.
fn enable_v2(dir: &Path, controllers: &[&str]) -> Result<()> {
    let control = dir.join("cgroup.subtree_control");
    let enabled = read_text(&control)?;
    let available = read_text(&dir.join("cgroup.controllers"))?;
    for c in controllers
        .iter()
        .map(|&c| if c == "cpuacct" { "cpu" } else { c })
    {
        if enabled.split_whitespace().any(|e| e == c) {
            continue;
        }
        if !available.split_whitespace().any(|a| a == c) {
            return Err(Error::Spec(format!(
                "{}: the {c} controller is not available (cgroup.controllers: {:?})",
                dir.display(),
                available.trim()
            )));
        }
        fs::write(&control, format!("+{c}")).map_err(|e| match e.raw_os_error() {
            Some(nix::libc::EBUSY) => Error::Spec(format!(
                "{}: cannot enable {c}: this cgroup holds processes, and cgroup v2 gives \
                 controllers only to children of cgroups without processes; pass --parent \
                 naming an empty cgroup",
                control.display()
            )),
            _ => Error::cgroup(&control, &format!("write \"+{c}\" to"), e),
        })?;
    }
    Ok(())
}

fn read_text(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| Error::cgroup(path, "read", e))
}

fn write_value(path: &Path, value: &str) -> Result<()> {
    fs::write(path, value).map_err(|e| Error::cgroup(path, &format!("write {value:?} to"), e))
}

fn read<T>(
    host: &Host,
    path: &Path,
    parser: impl FnOnce(&str) -> Result<T, boxwise_box::ParseError>,
) -> Option<T> {
    host.parse(path, parser).ok().flatten()
}

/// Counters come from different hierarchies on v1; take each from the one that has it.
fn merge(into: &mut Counters, from: Counters) {
    into.cpu_seconds = into.cpu_seconds.or(from.cpu_seconds);
    into.nr_periods = into.nr_periods.or(from.nr_periods);
    into.throttled_periods = into.throttled_periods.or(from.throttled_periods);
    into.throttled_seconds = into.throttled_seconds.or(from.throttled_seconds);
    into.peak_memory_bytes = into.peak_memory_bytes.or(from.peak_memory_bytes);
    into.oom_kills = into.oom_kills.or(from.oom_kills);
}
