//! Where a process's cgroups are: the version, and one directory per controller.
//!
//! Built from `mountinfo` and `/proc/<pid>/cgroup` only, never from a hard-coded
//! `/sys/fs/cgroup`. A cgroup path is mapped through the mount's root field, which covers a
//! private cgroup namespace (path `/`), a host bind mount (root `/`, nested path) and Docker's
//! v1 layout (root = the container's own cgroup).
//!
//! Two cases need the file system, done by [`crate::locate`]: a cgroup namespace entered
//! without remounting cgroupfs (the mount root reads `/..`: the process's directory is some
//! unnamed levels below the mount point), and telling whether the top visible level is the
//! hierarchy's root (if not, limits set above it are hidden).

use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::cgroup::controller::Controller;
use crate::parse::{CgroupLine, Mount};

/// How the cgroup file systems are arranged on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CgroupVersion {
    /// Controllers on v1 hierarchies only.
    V1,
    /// The unified hierarchy only.
    V2,
    /// Controllers on v1 plus a cgroup2 mount (systemd's `/sys/fs/cgroup/unified`).
    Hybrid,
    /// No cgroup file system is mounted.
    None,
}

impl CgroupVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            CgroupVersion::V1 => "v1",
            CgroupVersion::V2 => "v2",
            CgroupVersion::Hybrid => "hybrid",
            CgroupVersion::None => "none",
        }
    }
}

/// Which kind of hierarchy a controller directory belongs to; the file names differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Hierarchy {
    V1,
    V2,
}

impl Hierarchy {
    /// The v1 or the v2 one of a pair (file names, keys), whichever this hierarchy uses.
    pub fn pick<T>(self, v1: T, v2: T) -> T {
        match self {
            Hierarchy::V1 => v1,
            Hierarchy::V2 => v2,
        }
    }
}

/// How a process's cgroup directory was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Located {
    /// The cgroup path mapped through the mount's root field (the usual case).
    MountRoot,
    /// The mount shows the hierarchy from above this cgroup namespace's root (mountinfo
    /// root `/..`), so the path names no directory: found as the directory whose
    /// `cgroup.procs` lists the process.
    ProcsSearch,
    /// Not found: the mount point stands in, and limits read there may not be the
    /// process's.
    MountPoint,
}

/// A process's directory in one hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CgroupDir {
    pub hierarchy: Hierarchy,
    /// The path from `/proc/<pid>/cgroup`.
    pub cgroup_path: String,
    /// Where that hierarchy is mounted, as the process sees it.
    pub mount_point: PathBuf,
    /// The mount's root field as the process itself sees it (`/`, a container's
    /// `/docker/<id>`, `/..` in a cgroup namespace without its own mount): the Go runtime
    /// finds its cgroup from this, so it is kept even when boxwise reads another view.
    pub mount_root: String,
    /// The process's cgroup directory, as the process sees it.
    pub dir: PathBuf,
    /// The path could not be mapped through the mount's root, so `dir` is only the mount
    /// point (see `Layout::notes`): limits read here may not be the process's.
    pub unmapped: bool,
    pub located: Located,
    /// The top visible level (the mount point) is not the hierarchy's root, so limits set
    /// above it (a pod's quota, Docker's `--cgroup-parent`) cannot be seen from here.
    pub ancestors_hidden: bool,
    /// Mount roots like `/../..`: how many unnamed levels lie between the mount point and
    /// the namespace's root. Cleared once [`crate::locate`] has found the directory.
    #[serde(skip)]
    pub levels_above_namespace: Option<usize>,
}

impl CgroupDir {
    /// The directory and each parent up to and including the mount point: the levels whose
    /// limits bound the process (Kubernetes puts them on the pod slice).
    pub fn levels(&self) -> Vec<PathBuf> {
        let mut out = vec![self.dir.clone()];
        let mut here = self.dir.as_path();
        while here != self.mount_point {
            match here.parent() {
                Some(parent) if parent.starts_with(&self.mount_point) => {
                    out.push(parent.to_path_buf());
                    here = parent;
                }
                _ => break,
            }
        }
        out
    }
}

/// The cgroup picture of one process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layout {
    pub version: CgroupVersion,
    /// One entry per controller in [`Controller::ALL`] (and those asked for with
    /// [`resolve_with`]) that the process can see.
    pub controllers: Vec<(Controller, CgroupDir)>,
    /// The process's directory in the unified hierarchy, if one is mounted (PSI lives there
    /// even on hybrid hosts).
    pub unified: Option<CgroupDir>,
    /// Things that looked wrong but did not stop the mapping.
    pub notes: Vec<String>,
}

impl Layout {
    /// The same directories seen through `prefix`: `/proc/<pid>/root` shows another
    /// process's mount namespace (proc(5)), where its mountinfo's mount points are.
    pub fn rebased(mut self, prefix: &Path) -> Layout {
        let rebase = |p: &Path| prefix.join(p.strip_prefix("/").unwrap_or(p));
        for d in self
            .controllers
            .iter_mut()
            .map(|(_, d)| d)
            .chain(self.unified.iter_mut())
        {
            d.mount_point = rebase(&d.mount_point);
            d.dir = rebase(&d.dir);
        }
        self
    }

    pub fn controller(&self, c: Controller) -> Option<&CgroupDir> {
        self.controllers
            .iter()
            .find(|(n, _)| *n == c)
            .map(|(_, d)| d)
    }

    /// Every directory, each controller's and the unified one, for the locating pass.
    pub fn dirs_mut(&mut self) -> impl Iterator<Item = &mut CgroupDir> {
        self.controllers
            .iter_mut()
            .map(|(_, d)| d)
            .chain(self.unified.iter_mut())
    }

    /// Whether limits above some controller's visible root cannot be seen.
    pub fn ancestors_hidden(&self) -> bool {
        self.controllers.iter().any(|(_, d)| d.ancestors_hidden)
    }
}

fn is_named_hierarchy(option: &str) -> bool {
    option.starts_with("name=")
}

/// Work out the version and the process's directories from its mounts and cgroup lines.
pub fn resolve(mounts: &[Mount], cgroups: &[CgroupLine]) -> Layout {
    resolve_with(mounts, cgroups, &[])
}

/// [`resolve`], also mapping `extra` controllers that are not in [`Controller::ALL`] (the
/// io controller, which only `run --io-*` uses).
pub fn resolve_with(mounts: &[Mount], cgroups: &[CgroupLine], extra: &[Controller]) -> Layout {
    let v1_mounts: Vec<&Mount> = mounts.iter().filter(|m| m.fs_type == "cgroup").collect();
    let v2_mounts: Vec<&Mount> = mounts.iter().filter(|m| m.fs_type == "cgroup2").collect();
    let v1_controllers = v1_mounts
        .iter()
        .any(|m| m.options().any(|o| !known_non_controller(o)));
    let version = match (v1_controllers, !v2_mounts.is_empty()) {
        (true, true) => CgroupVersion::Hybrid,
        (true, false) => CgroupVersion::V1,
        (false, true) => CgroupVersion::V2,
        (false, false) if !v1_mounts.is_empty() => CgroupVersion::V1,
        (false, false) => CgroupVersion::None,
    };
    let mut notes = Vec::new();

    let unified = cgroups.iter().find(|l| l.is_unified()).and_then(|line| {
        let mount = pick_mount(&v2_mounts, &line.path)?;
        Some(map_dir(Hierarchy::V2, mount, &line.path, &mut notes))
    });

    let mut controllers = Vec::new();
    for c in Controller::ALL.into_iter().chain(extra.iter().copied()) {
        let name = c.v1_name();
        let v1 = cgroups
            .iter()
            .find(|l| !l.is_unified() && l.has_controller(name))
            .and_then(|line| {
                let candidates: Vec<&Mount> = v1_mounts
                    .iter()
                    .copied()
                    .filter(|m| m.options().any(|o| o == name))
                    .collect();
                let mount = pick_mount(&candidates, &line.path)?;
                Some(map_dir(Hierarchy::V1, mount, &line.path, &mut notes))
            });
        // A controller not on any v1 hierarchy is served by the unified one (if at all).
        if let Some(dir) = v1.or_else(|| unified.clone()) {
            controllers.push((c, dir));
        }
    }
    Layout {
        version,
        controllers,
        unified,
        notes,
    }
}

/// Mount options that are not controllers (v1 mounts carry `rw`, `relatime`, ...).
fn known_non_controller(option: &str) -> bool {
    is_named_hierarchy(option)
        || matches!(
            option,
            "rw" | "ro"
                | "relatime"
                | "noatime"
                | "nosuid"
                | "nodev"
                | "noexec"
                | "xattr"
                | "seclabel"
                | "clone_children"
                | "noprefix"
                | "cpuset_v2_mode"
                | "favordynmods"
        )
        || option.starts_with("release_agent=")
}

/// Several mounts may show one hierarchy (bind mounts); prefer one whose root contains the
/// path, so the path can be mapped.
fn pick_mount<'a>(mounts: &[&'a Mount], path: &str) -> Option<&'a Mount> {
    mounts
        .iter()
        .copied()
        .find(|m| relative_to_root(&m.root, path).is_some())
        .or_else(|| mounts.first().copied())
}

/// `path` relative to the mount's `root`, if it lies beneath it.
fn relative_to_root<'p>(root: &str, path: &'p str) -> Option<&'p str> {
    let root = root.trim_end_matches('/');
    let rest = path.strip_prefix(root)?;
    if rest.is_empty() || rest.starts_with('/') {
        Some(rest.trim_start_matches('/'))
    } else {
        None
    }
}

/// A mount root made only of `..` (`/..`, `/../..`): seen from inside a cgroup namespace,
/// the mount starts that many levels above the namespace's root.
fn levels_above(root: &str) -> Option<usize> {
    let parts: Vec<&str> = root.split('/').filter(|p| !p.is_empty()).collect();
    (!parts.is_empty() && parts.iter().all(|&p| p == "..")).then_some(parts.len())
}

/// Whether a path is plain names only (no `..` that could leave the mount).
fn plain(rel: &str) -> bool {
    Path::new(rel)
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
}

fn map_dir(hierarchy: Hierarchy, mount: &Mount, path: &str, notes: &mut Vec<String>) -> CgroupDir {
    let mount_point = PathBuf::from(&mount.mount_point);
    let mut out = CgroupDir {
        hierarchy,
        cgroup_path: path.to_string(),
        dir: mount_point.clone(),
        mount_point,
        mount_root: mount.root.clone(),
        unmapped: false,
        located: Located::MountRoot,
        // A mount of a subtree (Docker's v1 layout) hides what is above it; [`crate::locate`]
        // refines this from the files at the top level where it can read them.
        ancestors_hidden: !mount.root.trim_end_matches('/').is_empty(),
        levels_above_namespace: None,
    };
    if let Some(levels) = levels_above(&mount.root) {
        // The directory is `levels` unnamed levels below the mount point, then the path:
        // only the file system can say which (see `crate::locate`). Unmapped until found,
        // so a caller that skips the search never mistakes the mount point for it.
        out.ancestors_hidden = false;
        out.unmapped = true;
        out.located = Located::MountPoint;
        out.levels_above_namespace = Some(levels);
        return out;
    }
    match relative_to_root(&mount.root, path).filter(|rel| plain(rel)) {
        Some(rel) => {
            if !rel.is_empty() {
                out.dir = out.mount_point.join(rel);
            }
        }
        None => {
            notes.push(format!(
                "cgroup path {path:?} is not beneath the root {:?} of the mount at {}; using the mount point",
                mount.root, mount.mount_point
            ));
            out.unmapped = true;
            out.located = Located::MountPoint;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{mountinfo, proc_cgroup};

    fn layout(mounts: &str, cgroup: &str) -> Layout {
        resolve(
            &mountinfo::parse(mounts).unwrap(),
            &proc_cgroup::parse(cgroup).unwrap(),
        )
    }

    const HYBRID: &str = "\
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn hybrid_host_nested_memory_path() {
        let l = layout(
            HYBRID,
            "4:memory:/process_api/abc\n1:cpu:/\n9:name=systemd:/\n0::/\n",
        );
        assert_eq!(l.version, CgroupVersion::Hybrid);
        assert_eq!(
            l.controller(Controller::Memory).unwrap().dir,
            Path::new("/sys/fs/cgroup/memory/process_api/abc")
        );
        assert_eq!(
            l.controller(Controller::Cpu).unwrap().dir,
            Path::new("/sys/fs/cgroup/cpu")
        );
        assert_eq!(
            l.controller(Controller::Memory).unwrap().hierarchy,
            Hierarchy::V1
        );
        // pids is not on v1 here, so the unified hierarchy stands in.
        assert_eq!(
            l.controller(Controller::Pids).unwrap().hierarchy,
            Hierarchy::V2
        );
        assert_eq!(
            l.unified.as_ref().unwrap().dir,
            Path::new("/sys/fs/cgroup/unified")
        );
    }

    #[test]
    fn io_is_blkio_on_v1_and_only_when_asked() {
        let mounts = format!(
            "{HYBRID}38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
        );
        let m = mountinfo::parse(&mounts).unwrap();
        let c = proc_cgroup::parse("7:blkio:/b\n1:cpu:/\n0::/\n").unwrap();
        assert!(resolve(&m, &c).controller(Controller::Io).is_none());
        let l = resolve_with(&m, &c, &[Controller::Io]);
        let io = l.controller(Controller::Io).unwrap();
        assert_eq!(io.dir, Path::new("/sys/fs/cgroup/blkio/b"));
        assert_eq!(io.hierarchy, Hierarchy::V1);
        // v2: the unified directory serves io as it serves the rest.
        let m = mountinfo::parse("1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n").unwrap();
        let c = proc_cgroup::parse("0::/x\n").unwrap();
        let l = resolve_with(&m, &c, &[Controller::Io]);
        assert_eq!(
            l.controller(Controller::Io).unwrap().dir,
            Path::new("/sys/fs/cgroup/x")
        );
    }

    #[test]
    fn docker_v1_root_is_the_container() {
        let l = layout(
            "1 0 0:1 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n",
            "3:memory:/docker/abc\n",
        );
        assert_eq!(l.version, CgroupVersion::V1);
        let m = l.controller(Controller::Memory).unwrap();
        assert_eq!(m.dir, Path::new("/sys/fs/cgroup/memory"));
        assert_eq!(m.levels(), vec![PathBuf::from("/sys/fs/cgroup/memory")]);
    }

    #[test]
    fn v2_levels_walk_to_the_mount_point() {
        let l = layout(
            "1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
            "0::/kubepods.slice/pod.slice/cri.scope\n",
        );
        assert_eq!(l.version, CgroupVersion::V2);
        let d = l.controller(Controller::Cpu).unwrap();
        assert_eq!(
            d.levels(),
            [
                "/sys/fs/cgroup/kubepods.slice/pod.slice/cri.scope",
                "/sys/fs/cgroup/kubepods.slice/pod.slice",
                "/sys/fs/cgroup/kubepods.slice",
                "/sys/fs/cgroup"
            ]
            .map(PathBuf::from)
        );
    }

    #[test]
    fn path_outside_the_root_falls_back_with_a_note() {
        let l = layout(
            "1 0 0:1 /docker/abc /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n",
            "1:cpu:/other\n",
        );
        assert_eq!(
            l.controller(Controller::Cpu).unwrap().dir,
            Path::new("/sys/fs/cgroup/cpu")
        );
        assert_eq!(l.notes.len(), 1);
        assert!(relative_to_root("/docker/abc", "/docker/abcdef").is_none());
    }

    #[test]
    fn rebased_through_another_root() {
        let l = layout(HYBRID, "4:memory:/x\n1:cpu:/\n0::/\n").rebased(Path::new("/proc/42/root"));
        let m = l.controller(Controller::Memory).unwrap();
        assert_eq!(m.dir, Path::new("/proc/42/root/sys/fs/cgroup/memory/x"));
        assert_eq!(
            m.levels().last().unwrap(),
            Path::new("/proc/42/root/sys/fs/cgroup/memory")
        );
    }

    #[test]
    fn no_cgroups_at_all() {
        let l = layout("1 0 0:1 / / rw - ext4 /dev/sda rw\n", "");
        assert_eq!(l.version, CgroupVersion::None);
        assert!(l.controllers.is_empty());
    }
}
