//! Assemble a [`BoxInfo`] for one process from the files under a [`Host`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cgroup::{self, cpuset::cpu_set};
use crate::container::{self, Clues};
use crate::error::Result;
use crate::goenv::GoEnv;
use crate::host::Host;
use crate::layout::{self, CgroupDir, Layout};
use crate::locate;
use crate::model::*;
use crate::parse::{CpuList, mountinfo, proc_cgroup, psi, stat, status};

/// How much to read: `exec` needs only the limits, `inspect` wants everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Limits,
    Full,
}

/// Which process to look at, and how closely.
#[derive(Debug, Clone)]
pub struct Target {
    /// `None` is boxwise itself (`/proc/self`).
    pub pid: Option<u32>,
    pub detail: Detail,
    /// The Go environment to report when the process is boxwise itself on the live host
    /// (its own environment, which `/proc/self/environ` may not show after changes).
    pub own_env: Option<GoEnv>,
}

/// Namespace kinds whose initial inode number is fixed by the kernel (include/linux/proc_ns.h).
const INITIAL_NS: [(&str, u64); 6] = [
    ("ipc", 0xEFFF_FFFF),
    ("uts", 0xEFFF_FFFE),
    ("user", 0xEFFF_FFFD),
    ("pid", 0xEFFF_FFFC),
    ("cgroup", 0xEFFF_FFFB),
    ("time", 0xEFFF_FFFA),
];
const NAMESPACES: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

pub fn probe(host: &Host, target: &Target) -> Result<BoxInfo> {
    let proc_dir = match target.pid {
        Some(pid) => PathBuf::from(format!("/proc/{pid}")),
        None => PathBuf::from("/proc/self"),
    };
    if let Some(pid) = target.pid
        && !host.exists(&proc_dir)
    {
        return Err(crate::Error::Layout(format!(
            "no process with pid {pid} ({} does not exist)",
            host.path(&proc_dir).display()
        )));
    }
    // A zombie has exited: its mountinfo and cgroup files read as EINVAL or empty.
    if let Some(pid) = target.pid
        && let Some('Z' | 'X') = host.parse(&proc_dir.join("stat"), stat::state)?
    {
        return Err(crate::Error::Layout(format!(
            "pid {pid} has exited (a zombie its parent has not reaped yet): there is no \
             running process to inspect"
        )));
    }
    if let Some(pid) = target.pid
        && let Some(flags) = host.parse(&proc_dir.join("stat"), stat::flags)?
        && stat::is_kernel_thread(flags)
    {
        return Err(crate::Error::Layout(format!(
            "pid {pid} is a kernel thread: it runs no program, so it has no Go runtime and no \
             limits of its own to inspect"
        )));
    }
    let lines = host.parse_required(&proc_dir.join("cgroup"), proc_cgroup::parse)?;
    let status = host
        .parse(&proc_dir.join("status"), status::parse)?
        .unwrap_or_default();
    let full = target.detail == Detail::Full;
    let (mut layout, mounts, view) = place(host, target, &proc_dir, &lines)?;
    // `cgroup.procs` lists pids as the reader sees them: boxwise's own, or the one given.
    let pid = match (target.pid, host.is_live()) {
        (Some(pid), _) => Some(pid),
        (None, true) => Some(std::process::id()),
        (None, false) => status.pid,
    };
    locate::locate(
        host,
        &mut layout,
        pid,
        locate::private_cgroup_namespace(host),
    );
    let mut warnings = layout.notes.clone();

    let affinity = status
        .cpus_allowed
        .map(|cpus| cpu_set(cpus, &proc_dir.join("status")));
    let online_path = Path::new("/sys/devices/system/cpu/online");
    let online = host
        .parse(online_path, CpuList::parse)?
        .map(|cpus| cpu_set(cpus, online_path));

    let cpu = cgroup::cpu::read(host, &layout, affinity, online, full)?;
    if cpu.cpu_count().is_none() {
        warnings.push("no CPU count found (affinity, cpuset, online); assuming 1".into());
    }
    let memory = cgroup::memory::read(host, &layout, full)?;
    let pids = cgroup::pids::read(host, &layout, full)?;
    let pressure = if full {
        read_pressure(host, &layout)?
    } else {
        PressureInfo {
            cpu: None,
            memory: None,
            io: None,
        }
    };

    let go_env = match (&target.own_env, target.pid, host.is_live()) {
        (Some(env), None, true) => env.clone(),
        _ => host
            .read_bytes(&proc_dir.join("environ"))
            .map(|b| GoEnv::from_environ(&b))
            .unwrap_or_default(),
    };
    let (namespaces, container) = if full {
        (
            read_namespaces(host, &proc_dir),
            detect_container(host, &proc_dir, &view, &lines, &mounts),
        )
    } else {
        (Vec::new(), container::detect(&Clues::default()))
    };

    Ok(BoxInfo {
        pid: target.pid,
        cgroup: CgroupInfo {
            version: layout.version,
            ancestors_hidden: layout.ancestors_hidden(),
            controllers: layout
                .controllers
                .iter()
                .cloned()
                .collect::<BTreeMap<_, _>>(),
            unified: layout.unified.clone(),
        },
        cpu,
        memory,
        pids,
        pressure,
        namespaces,
        container,
        go_env,
        warnings,
    })
}

/// Map the process onto its cgroup directories, and say where its own files are (its root
/// directory when it lives in another mount namespace). Returns the layout, the mounts
/// used, and that view.
///
/// Another process's `/proc/PID/cgroup` reads relative to boxwise's own cgroup namespace,
/// so boxwise's own mounts map it first: from the host they show the whole hierarchy, and
/// limits on a pod's or `--cgroup-parent`'s cgroup count. Only when they cannot (boxwise in
/// one container, the process in another) are the process's own mounts read, through its
/// root directory, where only what it sees can be seen.
fn place(
    host: &Host,
    target: &Target,
    proc_dir: &Path,
    lines: &[crate::parse::CgroupLine],
) -> Result<(Layout, Vec<crate::parse::Mount>, PathBuf)> {
    let own_mounts = || host.parse_required(&proc_dir.join("mountinfo"), mountinfo::parse);
    let Some(pid) = target.pid.filter(|_| host.is_live()) else {
        let mounts = own_mounts()?;
        return Ok((layout::resolve(&mounts, lines), mounts, PathBuf::from("/")));
    };
    let ours = host.read_link(Path::new("/proc/self/ns/mnt"));
    let theirs = host.read_link(&proc_dir.join("ns/mnt"));
    match (ours, theirs) {
        (Some(a), Some(b)) if a == b => {
            let mounts = own_mounts()?;
            Ok((layout::resolve(&mounts, lines), mounts, PathBuf::from("/")))
        }
        (_, Some(_)) => {
            let view = proc_dir.join("root");
            let their_mounts = own_mounts()?;
            let boxwise_mounts =
                host.parse_required(Path::new("/proc/self/mountinfo"), mountinfo::parse)?;
            let from_host = layout::resolve(&boxwise_mounts, lines);
            let mapped = !from_host.controllers.is_empty()
                && from_host
                    .controllers
                    .iter()
                    .all(|(_, d)| !d.unmapped || d.levels_above_namespace.is_some());
            if mapped {
                let mut from_host = from_host;
                let own_view = layout::resolve(&their_mounts, lines);
                let same_ns = host.read_link(Path::new("/proc/self/ns/cgroup"))
                    == host.read_link(&proc_dir.join("ns/cgroup"));
                for (name, d) in from_host.controllers.iter_mut() {
                    if let Some(theirs) = own_view.controller(*name) {
                        d.mount_root = root_as_seen_by(theirs, same_ns);
                    }
                }
                Ok((from_host, their_mounts, view))
            } else {
                let l = layout::resolve(&their_mounts, lines).rebased(&view);
                Ok((l, their_mounts, view))
            }
        }
        _ => {
            let mounts = own_mounts()?;
            let mut l = layout::resolve(&mounts, lines);
            l.notes.push(format!(
                "cannot read {}/ns/mnt: if pid {pid} is in another mount namespace, its cgroup files are read as boxwise sees them",
                proc_dir.display()
            ));
            Ok((l, mounts, PathBuf::from("/")))
        }
    }
}

/// The mount root as the process itself reads it. Its mountinfo, read by boxwise, shows the
/// root relative to boxwise's cgroup namespace; in the process's own namespace a cgroupfs
/// mounted at the namespace's root (what Docker and Kubernetes do) reads `/`.
fn root_as_seen_by(theirs: &CgroupDir, same_namespace: bool) -> String {
    if !same_namespace
        && theirs.mount_root.trim_end_matches('/') == theirs.cgroup_path.trim_end_matches('/')
    {
        "/".to_string()
    } else {
        theirs.mount_root.clone()
    }
}

fn read_pressure(host: &Host, layout: &Layout) -> Result<PressureInfo> {
    let Some(u) = &layout.unified else {
        return Ok(PressureInfo {
            cpu: None,
            memory: None,
            io: None,
        });
    };
    let read = |name: &str| -> Result<Option<PressureFile>> {
        Ok(host
            .parse(&u.dir.join(name), psi::parse)?
            .map(|pressure| PressureFile {
                pressure,
                source: u.dir.join(name),
            }))
    };
    Ok(PressureInfo {
        cpu: read("cpu.pressure")?,
        memory: read("memory.pressure")?,
        io: read("io.pressure")?,
    })
}

fn read_namespaces(host: &Host, proc_dir: &Path) -> Vec<Namespace> {
    NAMESPACES
        .iter()
        .filter_map(|&kind| {
            let id = host.read_link(&proc_dir.join("ns").join(kind))?;
            let init = host.read_link(&Path::new("/proc/1/ns").join(kind));
            let inode = id
                .split_once(":[")
                .and_then(|(_, rest)| rest.strip_suffix(']'))
                .and_then(|n| n.parse::<u64>().ok());
            let initial = INITIAL_NS
                .iter()
                .find(|(k, _)| *k == kind)
                .and_then(|&(_, ino)| inode.map(|i| i == ino));
            Some(Namespace {
                kind: kind.to_string(),
                same_as_pid1: init.map(|i| i == id),
                id,
                initial,
            })
        })
        .collect()
}

fn detect_container(
    host: &Host,
    proc_dir: &Path,
    view: &Path,
    lines: &[crate::parse::CgroupLine],
    mounts: &[crate::parse::Mount],
) -> container::Container {
    let env = host
        .read_bytes(&proc_dir.join("environ"))
        .unwrap_or_default();
    let kubernetes_env = env
        .split(|&b| b == 0)
        .any(|e| e.starts_with(b"KUBERNETES_SERVICE_HOST="));
    container::detect(&Clues {
        cgroup_paths: lines.iter().map(|l| l.path.as_str()).collect(),
        mount_roots: mounts.iter().map(|m| m.root.as_str()).collect(),
        dockerenv: host.exists(&view.join(".dockerenv")),
        containerenv: host.exists(&view.join("run/.containerenv")),
        kubernetes_env,
    })
}
