//! The transient cgroup of one run: created beneath boxwise's own cgroup, limited, read,
//! emptied and removed (also on error and panic, by `Drop` and the cleanup registry).
//!
//! Per hierarchy it is `<own cgroup>/boxwise/run-<pid>-<n>` (or `<--parent>/run-<pid>-<n>`).
//! Nothing is ever moved: the command joins the new cgroup itself, between fork and exec,
//! and the new cgroup lies inside the accounting boxwise started under.
//!
//! cgroup v2: a child cgroup only gets a controller that its parent lists in
//! `cgroup.subtree_control`; [`delegate`] follows the kernel's rules. Everything is checked
//! before anything is written, and what a run enabled or created is undone when it ends
//! (see [`cleanup`]), so the caller's cgroup is left as it was.

mod cleanup;
pub mod delegate;
pub mod files;
pub mod fs;
#[cfg(test)]
mod tests;

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use boxwise_box::cgroup::{Controller, cpu, cpuset, memory, pids};
use boxwise_box::host::Host;
use boxwise_box::layout::{Hierarchy, Layout};
use boxwise_box::parse::cgroupfs;

use crate::error::{Error, Result};
use crate::stats::{AppliedLimits, Counters};
pub use cleanup::Step;
use files::Raw;
use fs::{CgroupFs, Live};

/// The cgroup of one hierarchy (several controllers share one when co-mounted or on v2).
#[derive(Debug, Clone)]
struct Node {
    hierarchy: Hierarchy,
    controllers: Vec<Controller>,
    mount_point: PathBuf,
    /// boxwise's own cgroup, unless `--parent` was given.
    own: Option<PathBuf>,
    /// The highest cgroup that may have to hand controllers down (v2): boxwise's own, or
    /// the mount point for an absolute `--parent`.
    top: PathBuf,
    /// The directory the run's cgroup lives in (`<own>/boxwise` or `--parent`).
    base: PathBuf,
    leaf: PathBuf,
}

impl Node {
    fn has(&self, c: Controller) -> bool {
        self.controllers.contains(&c)
    }

    /// The cgroups from `top` down to the base's parent, top first: on v2 each must list
    /// the run's controllers in its subtree_control for the base to get them.
    fn chain(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self
            .base
            .ancestors()
            .skip(1)
            .take_while(|a| a.starts_with(&self.top))
            .map(Path::to_path_buf)
            .collect();
        out.reverse();
        out
    }
}

/// A cgroup per hierarchy for one run; dropping it kills what is left and undoes every
/// change the run made.
#[derive(Debug)]
pub struct Transient {
    /// The run's entry in the cleanup registry.
    id: u64,
    nodes: Vec<Node>,
}

impl Transient {
    /// Create the run's cgroup in every hierarchy serving one of `controllers`.
    pub fn create(
        layout: &Layout,
        controllers: &[Controller],
        parent: Option<&Path>,
    ) -> Result<Transient> {
        let nodes = plan(layout, controllers, parent, &unique_name())?;
        for node in &nodes {
            check(&Live, node)?;
        }
        // Leftovers of runs that were SIGKILLed: their runner is gone, so nobody else will.
        let alive = |pid: u32| Path::new("/proc").join(pid.to_string()).exists();
        for node in &nodes {
            for dir in cleanup::remove_stale(&Live, &node.base, &alive) {
                eprintln!(
                    "boxwise: removed {}, left by a run that was killed",
                    dir.display()
                );
            }
        }
        let transient = Transient {
            id: cleanup::begin(nodes.len()),
            nodes,
        };
        for (index, node) in transient.nodes.iter().enumerate() {
            let id = transient.id;
            prepare(&Live, node, &mut |step| cleanup::record(id, index, step))?;
        }
        Ok(transient)
    }

    /// Write the limits; returns them as applied (an unsupported default swap is dropped).
    pub fn apply(&self, mut limits: AppliedLimits, swap_explicit: bool) -> Result<AppliedLimits> {
        for node in &self.nodes {
            let mems = if node.has(Controller::Cpuset) {
                read_text(&Live, &node.base.join(cpuset::MEMS))?
            } else {
                String::new()
            };
            // A v1 cpuset taken only for a later change (`--at 3s:cpuset=0`) starts with
            // the base's CPUs: an empty one would refuse the command.
            if node.has(Controller::Cpuset)
                && node.hierarchy == Hierarchy::V1
                && limits.cpuset.is_none()
            {
                let cpus = read_text(&Live, &node.base.join(cpuset::CPUS))?;
                write_value(&Live, &node.leaf.join(cpuset::CPUS), cpus.trim())?;
                write_value(&Live, &node.leaf.join(cpuset::MEMS), mems.trim())?;
            }
            let writes = files::limit_writes(node.hierarchy, &limits, swap_explicit, &mems);
            for w in writes.iter().filter(|w| node.has(w.controller)) {
                let path = node.leaf.join(w.file);
                match write_value(&Live, &path, &w.value) {
                    Err(Error::Cgroup { error, .. })
                        if !w.required && error.kind() == ErrorKind::NotFound =>
                    {
                        limits.memory_swap_bytes = None;
                    }
                    // v1 refuses a child's quota above a parent's with a bare EINVAL.
                    Err(e @ Error::Cgroup { .. }) if w.controller == Controller::Cpu => {
                        return Err(lower_parent_quota(node, &limits).unwrap_or(e));
                    }
                    other => other?,
                }
            }
        }
        limits.cgroup_version = self
            .nodes
            .iter()
            .find(|n| n.has(Controller::Memory))
            .map_or("none", |n| match n.hierarchy {
                Hierarchy::V1 => "v1",
                Hierarchy::V2 => "v2",
            });
        Ok(limits)
    }

    /// Change the CPU quota, the memory limit and the CPUs of the running cgroup (`run --at`). The
    /// memory+swap total follows as Docker's default (twice the memory); on v1 it is
    /// written before the memory limit when that grows and after when it shrinks, so the
    /// total never drops below the limit.
    pub fn change(
        &self,
        cpu_quota_us: Option<u64>,
        memory_bytes: Option<u64>,
        cpuset: Option<&str>,
    ) -> Result<()> {
        for node in &self.nodes {
            if let (Some(list), true) = (cpuset, node.has(Controller::Cpuset)) {
                write_value(&Live, &node.leaf.join(cpuset::CPUS), list)?;
            }
            if let (Some(q), true) = (cpu_quota_us, node.has(Controller::Cpu)) {
                for (file, value) in
                    cpu::quota_writes(node.hierarchy, q, crate::quota::CPU_PERIOD_US)
                {
                    write_value(&Live, &node.leaf.join(file), &value)?;
                }
            }
            if let (Some(m), true) = (memory_bytes, node.has(Controller::Memory)) {
                let (file, total) = memory::swap_write(node.hierarchy, m, m.saturating_mul(2));
                let swap = node.leaf.join(file);
                let early = write_value(&Live, &swap, &total.to_string());
                write_value(
                    &Live,
                    &node.leaf.join(memory::limit_file(node.hierarchy)),
                    &m.to_string(),
                )?;
                if early.is_err() && swap.exists() {
                    write_value(&Live, &swap, &total.to_string())?;
                }
            }
        }
        Ok(())
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
            let file = |name: &str| node.leaf.join(name);
            let mut raw = Raw::default();
            if node.has(Controller::Cpuacct) && node.hierarchy == Hierarchy::V1 {
                raw.cpuacct_usage = read(&host, &file(cpu::V1_ACCT_USAGE), cgroupfs::integer);
            }
            if node.has(Controller::Cpu) {
                raw.cpu_stat = read(&host, &file(cpu::STAT), cgroupfs::keyed);
            }
            if node.has(Controller::Memory) {
                let h = node.hierarchy;
                raw.memory_peak = read(&host, &file(memory::peak_file(h)), cgroupfs::integer);
                raw.memory_events = read(&host, &file(memory::events_file(h)), cgroupfs::keyed);
            }
            if node.has(Controller::Pids) {
                raw.pids_events = read(&host, &file(pids::EVENTS), cgroupfs::keyed);
                raw.pids_peak = read(&host, &file(pids::PEAK), cgroupfs::integer);
            }
            merge(&mut out, files::counters(node.hierarchy, &raw));
        }
        out
    }

    /// SIGKILL every process left in the cgroup (orphans, a fork bomb's children).
    pub fn kill_all(&self) {
        let leaves: Vec<PathBuf> = self.nodes.iter().map(|n| n.leaf.clone()).collect();
        cleanup::kill_all(&leaves);
    }
}

impl Drop for Transient {
    fn drop(&mut self) {
        cleanup::finish(&Live, self.id);
    }
}

/// The directories of the run, per hierarchy: pure.
fn plan(
    layout: &Layout,
    controllers: &[Controller],
    parent: Option<&Path>,
    name: &str,
) -> Result<Vec<Node>> {
    let mut nodes: Vec<Node> = Vec::new();
    for &controller in controllers {
        let dir = layout.controller(controller).ok_or_else(|| {
            Error::Spec(format!(
                "no cgroup hierarchy offers the {controller} controller here (see `boxwise inspect`)"
            ))
        })?;
        let (base, own, top) = match parent {
            Some(p) => {
                let top = if p.is_absolute() {
                    &dir.mount_point
                } else {
                    &dir.dir
                };
                (
                    parent_dir(p, &dir.mount_point, &dir.dir)?,
                    None,
                    top.clone(),
                )
            }
            None => (
                dir.dir.join("boxwise"),
                Some(dir.dir.clone()),
                dir.dir.clone(),
            ),
        };
        // Co-mounted controllers (and all of v2) share one directory.
        match nodes.iter_mut().find(|n| n.base == base) {
            Some(node) => node.controllers.push(controller),
            None => nodes.push(Node {
                hierarchy: dir.hierarchy,
                controllers: vec![controller],
                mount_point: dir.mount_point.clone(),
                own,
                top,
                leaf: base.join(name),
                base,
            }),
        }
    }
    Ok(nodes)
}

/// Everything that can be known before writing: the `--parent` exists, and on v2 the
/// cgroups that must hand controllers down can (no processes, plain `domain`).
fn check(fs: &dyn CgroupFs, node: &Node) -> Result<()> {
    if node.own.is_none() && !fs.exists(&node.base) {
        return Err(Error::Spec(format!(
            "--parent: {} does not exist; create the cgroup first",
            node.base.display()
        )));
    }
    if node.hierarchy != Hierarchy::V2 {
        return Ok(());
    }
    let mut givers = node.chain();
    if fs.exists(&node.base) {
        givers.push(node.base.clone());
    }
    for (i, dir) in givers.iter().enumerate() {
        // Below the top, a controller becomes available once the cgroup above enables it.
        if delegate::missing(fs, dir, &node.controllers, i == 0)?.is_empty() {
            continue;
        }
        if let Some(why) = delegate::blocked(fs, dir)? {
            return Err(delegate::refusal(dir, &node.mount_point, &why));
        }
    }
    Ok(())
}

/// Make the run's directories in one hierarchy, reporting each change to `record`.
fn prepare(fs: &dyn CgroupFs, node: &Node, record: &mut dyn FnMut(Step)) -> Result<()> {
    if node.hierarchy == Hierarchy::V2 {
        for dir in node.chain() {
            let add = delegate::missing(fs, &dir, &node.controllers, true)?;
            delegate::enable(fs, &dir, &node.mount_point, &add, record)?;
        }
    }
    prepare_base(fs, node, record)?;
    // A finishing run may remove the shared base in between: make it again.
    for _ in 0..10 {
        match fs.create_dir(&node.leaf) {
            Ok(()) => {
                record(Step::Leaf(node.leaf.clone()));
                return Ok(());
            }
            Err(e) if e.kind() == ErrorKind::NotFound && node.own.is_some() => {
                prepare_base(fs, node, record)?;
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

/// Make sure the base exists and can hold the run's cgroup.
fn prepare_base(fs: &dyn CgroupFs, node: &Node, record: &mut dyn FnMut(Step)) -> Result<()> {
    if node.own.is_some() {
        match fs.create_dir(&node.base) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::cgroup(&node.base, "create", e)),
        }
        record(Step::Base(node.base.clone()));
    }
    match node.hierarchy {
        Hierarchy::V1 if node.has(Controller::Cpuset) => {
            // A v1 cpuset starts empty and refuses children's CPUs until it has its own.
            for file in [cpuset::CPUS, cpuset::MEMS] {
                let here = node.base.join(file);
                if read_text(fs, &here)?.trim().is_empty() {
                    let from = node.base.parent().unwrap_or(&node.base).join(file);
                    write_value(fs, &here, read_text(fs, &from)?.trim())?;
                }
            }
            Ok(())
        }
        Hierarchy::V1 => Ok(()),
        Hierarchy::V2 => {
            let add = delegate::missing(fs, &node.base, &node.controllers, true)?;
            if node.own.is_some() {
                // Removing `boxwise/` takes its subtree_control with it.
                delegate::enable(fs, &node.base, &node.mount_point, &add, &mut |_| {})
            } else {
                delegate::enable(fs, &node.base, &node.mount_point, &add, record)
            }
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

fn read_text(fs: &dyn CgroupFs, path: &Path) -> Result<String> {
    fs.read(path).map_err(|e| Error::cgroup(path, "read", e))
}

fn write_value(fs: &dyn CgroupFs, path: &Path, value: &str) -> Result<()> {
    fs.write(path, value)
        .map_err(|e| Error::cgroup(path, &format!("write {value:?}"), e))
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
    into.pids_limit_hits = into.pids_limit_hits.or(from.pids_limit_hits);
    into.peak_pids = into.peak_pids.or(from.peak_pids);
}

/// When a parent of the run's cgroup has a lower CPU quota than the one asked for, the
/// error that says so (the kernel only says "Invalid argument").
fn lower_parent_quota(node: &Node, limits: &AppliedLimits) -> Option<Error> {
    let (quota, period) = (limits.cpu_quota_us?, limits.cpu_period_us?);
    let wanted = quota as f64 / period as f64;
    let host = boxwise_box::host::Host::live();
    let mut dir = node.leaf.parent()?;
    while dir.starts_with(&node.mount_point) {
        if let Ok(Some((q, file))) = boxwise_box::cgroup::cpu::quota_at(&host, node.hierarchy, dir)
            && q.cores() < wanted
        {
            return Some(Error::Spec(format!(
                "--cpus {wanted}: a parent cgroup allows only {} CPUs ({}), and the kernel \
                 refuses a child quota above its parent's; ask for at most that",
                (q.cores() * 1000.0).round() / 1000.0,
                file.display()
            )));
        }
        dir = dir.parent()?;
    }
    None
}
