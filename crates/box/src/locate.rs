//! The part of placing a process in its cgroups that needs the file system: finding the
//! directory inside a cgroup namespace that was entered without remounting cgroupfs, and
//! telling whether the top visible level is the hierarchy's root.

use std::path::{Path, PathBuf};

use crate::host::Host;
use crate::layout::{CgroupDir, Hierarchy, Layout, Located};

/// At most this many directories are listed while searching: a node has hundreds of
/// cgroups, not tens of thousands, and a bad mount must not make `exec` slow.
const MAX_VISITED: usize = 20_000;

/// The kernel's initial cgroup namespace has this inode number (include/linux/proc_ns.h).
const INITIAL_CGROUP_NS: &str = "cgroup:[4026531835]";

/// Whether the process reading the files sits in a cgroup namespace of its own: then the
/// paths it sees start at the namespace's root, not the hierarchy's. `None` if unknown.
pub fn private_cgroup_namespace(host: &Host) -> Option<bool> {
    host.read_link(Path::new("/proc/self/ns/cgroup"))
        .map(|link| link != INITIAL_CGROUP_NS)
}

/// Finish the layout: find the directories `layout::resolve` could not name, and settle
/// whether each hierarchy's ancestors are visible. `pid` is the process as the reader's
/// `cgroup.procs` files list it.
pub fn locate(host: &Host, layout: &mut Layout, pid: Option<u32>, private_ns: Option<bool>) {
    let mut notes = Vec::new();
    for d in layout.dirs_mut() {
        if let Some(levels) = d.levels_above_namespace.take() {
            match pid.and_then(|pid| search(host, d, levels, pid)) {
                Some(found) => {
                    d.dir = found;
                    d.unmapped = false;
                    d.located = Located::ProcsSearch;
                }
                None => {
                    notes.push(format!(
                        "the cgroup file system at {} starts {levels} level(s) above this cgroup \
                         namespace's root, and no cgroup there lists pid {}; using the mount point, \
                         whose limits may not be this process's",
                        d.mount_point.display(),
                        pid.map_or("?".to_string(), |p| p.to_string()),
                    ));
                    d.unmapped = true;
                    d.located = Located::MountPoint;
                }
            }
        }
        match top_is_root(host, d) {
            Some(root) => d.ancestors_hidden = !root,
            // Unknown from the files: a namespace of its own whose root is mounted at the
            // mount point hides what lies above it.
            None if d.located == Located::MountRoot && private_ns == Some(true) => {
                d.ancestors_hidden = true
            }
            None => {}
        }
    }
    layout.notes.extend(notes);
}

/// Whether the mount point shows the hierarchy's root cgroup. Only the root has v1's
/// `release_agent`; every cgroup but the root has v2's `cgroup.type`. `None` when the
/// directory shows neither kind of file (a copied tree without them).
fn top_is_root(host: &Host, d: &CgroupDir) -> Option<bool> {
    let top = &d.mount_point;
    let has = |name: &str| host.exists(&top.join(name));
    match d.hierarchy {
        Hierarchy::V1 if has("release_agent") => Some(true),
        Hierarchy::V1 if has("cgroup.procs") || has("tasks") => Some(false),
        Hierarchy::V2 if has("cgroup.type") => Some(false),
        Hierarchy::V2 if has("cgroup.procs") => Some(true),
        _ => None,
    }
}

/// The directory `levels` unnamed levels below the mount point, then the cgroup path,
/// whose `cgroup.procs` lists `pid`.
fn search(host: &Host, d: &CgroupDir, levels: usize, pid: u32) -> Option<PathBuf> {
    let rel = d.cgroup_path.trim_start_matches('/');
    let mut frontier = vec![d.mount_point.clone()];
    let mut visited = 0;
    for _ in 0..levels {
        let mut next = Vec::new();
        for dir in &frontier {
            visited += 1;
            if visited > MAX_VISITED {
                return None;
            }
            next.extend(host.subdirs(dir));
        }
        frontier = next;
    }
    let wanted = pid.to_string();
    frontier
        .into_iter()
        .map(|base| if rel.is_empty() { base } else { base.join(rel) })
        .find(|dir| {
            host.read(&dir.join("cgroup.procs"))
                .ok()
                .flatten()
                .is_some_and(|procs| procs.lines().any(|l| l.trim() == wanted))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::Controller;
    use crate::layout::resolve;
    use crate::parse::{mountinfo, proc_cgroup};
    use std::fs;

    /// A v2 tree: root, `kubepods/pod1/ctr` holding pid 42, a sibling holding pid 7.
    fn tree() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let cg = t.path().join("sys/fs/cgroup");
        for (dir, procs) in [
            ("", "1\n"),
            ("kubepods/pod1/ctr", "42\n43\n"),
            ("kubepods/pod2/ctr", "7\n"),
        ] {
            let d = cg.join(dir);
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("cgroup.procs"), procs).unwrap();
            if !dir.is_empty() {
                fs::write(d.join("cgroup.type"), "domain\n").unwrap();
            }
        }
        for mid in ["kubepods", "kubepods/pod1", "kubepods/pod2"] {
            fs::write(cg.join(mid).join("cgroup.procs"), "").unwrap();
        }
        t
    }

    fn layout(root: &str, path: &str) -> Layout {
        resolve(
            &mountinfo::parse(&format!(
                "1 0 0:1 {root} /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
            ))
            .unwrap(),
            &proc_cgroup::parse(&format!("0::{path}\n")).unwrap(),
        )
    }

    #[test]
    fn namespace_without_remount_is_found_by_its_procs() {
        let t = tree();
        let host = Host::new(t.path());
        // Namespace root = kubepods/pod1/ctr: the mount's root is three levels up.
        let mut l = layout("/../../..", "/");
        locate(&host, &mut l, Some(43), Some(true));
        let d = l.controller(Controller::Memory).unwrap();
        assert_eq!(d.dir, Path::new("/sys/fs/cgroup/kubepods/pod1/ctr"));
        assert_eq!(d.located, Located::ProcsSearch);
        assert!(!d.ancestors_hidden, "the mount shows the real root");
        assert!(l.notes.is_empty());
        assert_eq!(d.levels().len(), 4);
    }

    #[test]
    fn namespace_root_above_the_process() {
        let t = tree();
        let host = Host::new(t.path());
        // Namespace root = kubepods; the process sits in pod2/ctr below it.
        let mut l = layout("/..", "/pod2/ctr");
        locate(&host, &mut l, Some(7), Some(true));
        assert_eq!(
            l.controller(Controller::Cpu).unwrap().dir,
            Path::new("/sys/fs/cgroup/kubepods/pod2/ctr")
        );
    }

    #[test]
    fn no_cgroup_lists_the_pid() {
        let t = tree();
        let host = Host::new(t.path());
        let mut l = layout("/../../..", "/");
        locate(&host, &mut l, Some(99), Some(true));
        let d = l.controller(Controller::Cpu).unwrap();
        assert_eq!(d.located, Located::MountPoint);
        assert!(d.unmapped);
        assert!(
            l.notes[0].contains("no cgroup there lists pid 99"),
            "{:?}",
            l.notes
        );
    }

    #[test]
    fn remounted_namespace_hides_its_ancestors() {
        let t = tree();
        // The namespace's root mounted at the mount point: it has `cgroup.type`.
        let ctr = tempfile::tempdir().unwrap();
        let cg = ctr.path().join("sys/fs/cgroup");
        fs::create_dir_all(&cg).unwrap();
        fs::write(cg.join("cgroup.procs"), "1\n").unwrap();
        fs::write(cg.join("cgroup.type"), "domain\n").unwrap();
        let mut l = layout("/", "/");
        locate(&Host::new(ctr.path()), &mut l, Some(1), Some(true));
        assert!(l.ancestors_hidden());
        // The host's own root: visible.
        let mut l = layout("/", "/kubepods/pod1/ctr");
        locate(&Host::new(t.path()), &mut l, Some(42), Some(false));
        assert!(!l.ancestors_hidden());
    }

    #[test]
    fn unknown_files_fall_back_to_the_namespace() {
        let empty = tempfile::tempdir().unwrap();
        let host = Host::new(empty.path());
        let mut l = layout("/", "/");
        locate(&host, &mut l, Some(1), Some(true));
        assert!(l.ancestors_hidden());
        let mut l = layout("/", "/");
        locate(&host, &mut l, Some(1), None);
        assert!(!l.ancestors_hidden());
        // Docker's v1-style subtree mount is hidden whatever the namespace.
        let mut l = layout("/docker/abc", "/docker/abc");
        locate(&host, &mut l, Some(1), Some(false));
        assert!(l.ancestors_hidden());
    }
}
