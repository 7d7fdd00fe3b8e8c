//! The cgroup sequence against a fake cgroup v2 kernel that answers as
//! Documentation/admin-guide/cgroup-v2.rst says (no internal processes, threaded
//! controllers, `domain threaded`, EBUSY vs EOPNOTSUPP).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use nix::libc;

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

const ALL: &str = "cpuset cpu io memory hugetlb pids rdma misc";
const MP: &str = "/sys/fs/cgroup";

#[derive(Debug, Default, Clone)]
struct Cg {
    procs: Vec<u32>,
    subtree: Vec<String>,
    threaded: bool,
}

/// A cgroup2 mount at [`MP`] (the real root cgroup) with the kernel's answers.
#[derive(Default)]
struct Kernel {
    cgroups: RefCell<BTreeMap<PathBuf, Cg>>,
    /// Every change asked for, in order, with the answer: `+memory /sys/fs/cgroup/app: EBUSY`.
    log: RefCell<Vec<String>>,
    /// A write (path, value) to fail with this errno, as an unexpected kernel answer.
    fail: Option<(PathBuf, String, i32)>,
    /// The mount point is a cgroup namespace's root, not the real root.
    namespaced: bool,
}

fn is_domain(c: &str) -> bool {
    c == "memory" || c == "io"
}

impl Kernel {
    /// The root delegates cpu, io, memory and pids, as systemd leaves it.
    fn new() -> Kernel {
        let k = Kernel::bare();
        k.set_subtree(MP, "cpu io memory pids");
        k
    }

    /// The root enables nothing for its children.
    fn bare() -> Kernel {
        let k = Kernel::default();
        k.cgroups.borrow_mut().insert(MP.into(), Cg::default());
        k
    }

    fn set_subtree(&self, dir: &str, subtree: &str) {
        self.cgroups
            .borrow_mut()
            .get_mut(Path::new(dir))
            .unwrap()
            .subtree = subtree.split_whitespace().map(String::from).collect();
    }

    fn with(self, path: &str, procs: &[u32], subtree: &str) -> Kernel {
        self.cgroups.borrow_mut().insert(
            path.into(),
            Cg {
                procs: procs.to_vec(),
                subtree: subtree.split_whitespace().map(String::from).collect(),
                threaded: false,
            },
        );
        self
    }

    fn cg(&self, dir: &Path) -> Option<Cg> {
        self.cgroups.borrow().get(dir).cloned()
    }

    fn is_root(&self, dir: &Path) -> bool {
        dir == Path::new(MP) && !self.namespaced
    }

    fn children(&self, dir: &Path) -> Vec<(PathBuf, Cg)> {
        self.cgroups
            .borrow()
            .iter()
            .filter(|(p, _)| p.parent() == Some(dir))
            .map(|(p, c)| (p.clone(), c.clone()))
            .collect()
    }

    fn thread_root(&self, dir: &Path, cg: &Cg) -> bool {
        !cg.threaded
            && (self.children(dir).iter().any(|(_, c)| c.threaded)
                || (!cg.procs.is_empty() && cg.subtree.iter().any(|c| !is_domain(c))))
    }

    fn kind(&self, dir: &Path) -> String {
        let cg = self.cg(dir).unwrap();
        if cg.threaded {
            "threaded"
        } else if self.thread_root(dir, &cg) {
            "domain threaded"
        } else {
            "domain"
        }
        .into()
    }

    fn available(&self, dir: &Path) -> String {
        if self.is_root(dir) || (self.namespaced && dir == Path::new(MP)) {
            return ALL.into();
        }
        self.cg(dir.parent().unwrap()).unwrap().subtree.join(" ")
    }

    fn subtree_write(&self, dir: &Path, value: &str) -> io::Result<()> {
        let err = |n| Err(io::Error::from_raw_os_error(n));
        let cg = self
            .cg(dir)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
        let (sign, c) = value.split_at(1);
        if sign == "-" {
            if self
                .children(dir)
                .iter()
                .any(|(_, k)| k.subtree.iter().any(|s| s == c))
            {
                return err(libc::EBUSY);
            }
            self.cgroups
                .borrow_mut()
                .get_mut(dir)
                .unwrap()
                .subtree
                .retain(|s| s != c);
            return Ok(());
        }
        if !self.available(dir).split_whitespace().any(|a| a == c) {
            return err(libc::ENOENT);
        }
        // cgroup_vet_subtree_control_enable()
        if !self.is_root(dir) {
            let thread_root = self.thread_root(dir, &cg);
            let can_be_thread_root = !cg.threaded && !cg.subtree.iter().any(|s| is_domain(s));
            let vetted = if is_domain(c) {
                if thread_root || cg.threaded {
                    return err(libc::EOPNOTSUPP);
                }
                false
            } else {
                can_be_thread_root || cg.threaded
            };
            if !vetted && !cg.procs.is_empty() {
                return err(libc::EBUSY);
            }
        }
        let mut all = self.cgroups.borrow_mut();
        let subtree = &mut all.get_mut(dir).unwrap().subtree;
        if !subtree.iter().any(|s| s == c) {
            subtree.push(c.into());
        }
        Ok(())
    }

    fn note(&self, what: String, result: &io::Result<()>) {
        let answer = match result {
            Ok(()) => "ok".to_string(),
            Err(e) => nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)).to_string(),
        };
        let short = answer.split(':').next().unwrap().to_string();
        self.log.borrow_mut().push(format!("{what}: {short}"));
    }

    fn log(&self) -> Vec<String> {
        self.log.borrow().clone()
    }

    fn subtree(&self, dir: &str) -> String {
        self.read(&Path::new(dir).join("cgroup.subtree_control"))
            .unwrap()
    }

    fn dirs(&self) -> Vec<PathBuf> {
        self.cgroups.borrow().keys().cloned().collect()
    }
}

impl CgroupFs for Kernel {
    fn read(&self, path: &Path) -> io::Result<String> {
        let enoent = || io::Error::from_raw_os_error(libc::ENOENT);
        let dir = path.parent().ok_or_else(enoent)?;
        let cg = self.cg(dir).ok_or_else(enoent)?;
        let file = path.file_name().unwrap().to_str().unwrap();
        Ok(match file {
            "cgroup.subtree_control" => cg.subtree.join(" ") + "\n",
            "cgroup.controllers" => self.available(dir) + "\n",
            // As the kernel: a threaded cgroup does not list processes.
            "cgroup.procs" if cg.threaded => {
                return Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP));
            }
            "cgroup.procs" => cg.procs.iter().map(|p| format!("{p}\n")).collect(),
            "cgroup.type" if !self.is_root(dir) => self.kind(dir) + "\n",
            _ => return Err(enoent()),
        })
    }

    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        let dir = path.parent().unwrap();
        let result = match &self.fail {
            Some((p, v, errno)) if p == path && v == value => {
                Err(io::Error::from_raw_os_error(*errno))
            }
            _ if path.ends_with("cgroup.subtree_control") => self.subtree_write(dir, value),
            _ => Ok(()),
        };
        self.note(format!("{value} {}", dir.display()), &result);
        result
    }

    fn exists(&self, path: &Path) -> bool {
        self.cg(path).is_some() || self.read(path).is_ok()
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        let result = if self.cg(path).is_some() {
            Err(io::Error::from_raw_os_error(libc::EEXIST))
        } else if self.cg(path.parent().unwrap()).is_none() {
            Err(io::Error::from_raw_os_error(libc::ENOENT))
        } else {
            self.cgroups
                .borrow_mut()
                .insert(path.to_path_buf(), Cg::default());
            Ok(())
        };
        self.note(format!("mkdir {}", path.display()), &result);
        result
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        let result = match self.cg(path) {
            None => Err(io::Error::from_raw_os_error(libc::ENOENT)),
            Some(cg) if !cg.procs.is_empty() || !self.children(path).is_empty() => {
                Err(io::Error::from_raw_os_error(libc::EBUSY))
            }
            Some(_) => {
                self.cgroups.borrow_mut().remove(path);
                Ok(())
            }
        };
        self.note(format!("rmdir {}", path.display()), &result);
        result
    }

    fn children(&self, dir: &Path) -> io::Result<Vec<String>> {
        Ok(Kernel::children(self, dir)
            .into_iter()
            .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect())
    }
}

const RUN: [Controller; 3] = [Controller::Cpu, Controller::Memory, Controller::Pids];

/// A v2 node for a run from `own` (or under `parent`: absolute, below the mount point).
fn node(own: Option<&str>, parent: Option<&str>) -> Node {
    let (base, top) = match (own, parent) {
        (_, Some(p)) => (PathBuf::from(p), PathBuf::from(MP)),
        (Some(o), None) => (Path::new(o).join("boxwise"), PathBuf::from(o)),
        (None, None) => unreachable!(),
    };
    Node {
        hierarchy: Hierarchy::V2,
        controllers: RUN.to_vec(),
        mount_point: MP.into(),
        own: if parent.is_some() {
            None
        } else {
            own.map(PathBuf::from)
        },
        top,
        leaf: base.join("run-1-0"),
        base,
    }
}

/// check + prepare as `Transient::create` does; then the undo a finished run does.
fn create(k: &Kernel, node: &Node) -> (Result<()>, Vec<Step>) {
    let mut steps = Vec::new();
    let result = check(k, node).and_then(|()| prepare(k, node, &mut |s| steps.push(s)));
    (result, steps)
}

/// The kernel refuses `+memory` after `+cpu` in an occupied cgroup with EOPNOTSUPP: the
/// bug this order avoids. The fake must model it for the other tests to mean anything.
#[test]
fn fake_kernel_turns_an_occupied_cgroup_domain_threaded() {
    let k = Kernel::new().with("/sys/fs/cgroup/app", &[1], "");
    let dir = Path::new("/sys/fs/cgroup/app");
    let control = dir.join("cgroup.subtree_control");
    assert!(k.write(&control, "+cpu").is_ok());
    assert_eq!(k.kind(dir), "domain threaded");
    let e = k.write(&control, "+memory").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EOPNOTSUPP));
    let k = Kernel::new().with("/sys/fs/cgroup/app", &[1], "");
    let e = k.write(&control, "+memory").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EBUSY));
}

#[test]
fn an_occupied_cgroup_is_refused_before_anything_is_written() {
    let k = Kernel::new().with("/sys/fs/cgroup/app", &[41, 42], "");
    let before = k.subtree("/sys/fs/cgroup/app");
    let (result, steps) = create(&k, &node(Some("/sys/fs/cgroup/app"), None));
    let e = result.unwrap_err();
    assert!(matches!(e, Error::Delegation(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "cannot make the run's cgroup below /sys/fs/cgroup/app: that cgroup holds 2 \
         processes, and cgroup v2 lets only a cgroup without processes (or the root) hand \
         controllers such as memory on to the cgroups below it; make an empty cgroup beside \
         it and pass it as --parent: `mkdir /sys/fs/cgroup/boxwise-runs` then `boxwise run \
         --parent /boxwise-runs ...`"
    );
    assert_eq!(k.log(), Vec::<String>::new());
    assert!(steps.is_empty());
    assert_eq!(k.subtree("/sys/fs/cgroup/app"), before);
}

/// Should the kernel refuse anyway (a process arrived after the check), the write order
/// gets EBUSY, not EOPNOTSUPP, the message is the same, and nothing is left behind.
#[test]
fn a_refused_write_gets_the_same_message_and_leaves_nothing() {
    let k = Kernel::new().with("/sys/fs/cgroup/app", &[7], "");
    let n = node(Some("/sys/fs/cgroup/app"), None);
    let mut steps = Vec::new();
    let e = prepare(&k, &n, &mut |s| steps.push(s)).unwrap_err();
    assert!(e.to_string().contains("holds 1 process,"), "{e}");
    assert!(e.to_string().contains("--parent"), "{e}");
    assert_eq!(k.log(), ["+memory /sys/fs/cgroup/app: EBUSY"]);
    cleanup::undo(&k, &steps);
    assert_eq!(k.subtree("/sys/fs/cgroup/app"), "\n");
    assert_eq!(k.kind(Path::new("/sys/fs/cgroup/app")), "domain");
}

#[test]
fn a_cgroup_left_domain_threaded_says_how_to_undo_it() {
    let k = Kernel::new().with("/sys/fs/cgroup/app", &[7], "cpu");
    let (result, _) = create(&k, &node(Some("/sys/fs/cgroup/app"), None));
    let e = result.unwrap_err().to_string();
    assert!(
        e.contains("it is also `domain threaded`")
            && e.contains("`echo '-cpu' > /sys/fs/cgroup/app/cgroup.subtree_control`"),
        "{e}"
    );
    assert!(k.log().is_empty());
}

#[test]
fn a_threaded_subtree_is_refused_by_its_type() {
    // An empty cgroup with a threaded child is `domain threaded` (a thread root).
    let k = Kernel::new().with("/sys/fs/cgroup/bench", &[], "cpu").with(
        "/sys/fs/cgroup/bench/t",
        &[],
        "",
    );
    k.cgroups
        .borrow_mut()
        .get_mut(Path::new("/sys/fs/cgroup/bench/t"))
        .unwrap()
        .threaded = true;
    let (result, _) = create(&k, &node(None, Some("/sys/fs/cgroup/bench")));
    let e = result.unwrap_err().to_string();
    assert!(
        e.contains("below /sys/fs/cgroup/bench: it is a `domain threaded` cgroup"),
        "{e}"
    );
    assert!(k.log().is_empty());
}

#[test]
fn the_root_cgroup_is_exempt_and_is_restored_after_the_run() {
    // The real root holds processes and enables nothing: the run may still enable.
    let k = Kernel::bare();
    k.cgroups.borrow_mut().get_mut(Path::new(MP)).unwrap().procs = vec![1];
    let (result, steps) = create(&k, &node(Some(MP), None));
    result.unwrap();
    assert_eq!(
        k.log(),
        [
            "+memory /sys/fs/cgroup: ok",
            "+cpu /sys/fs/cgroup: ok",
            "+pids /sys/fs/cgroup: ok",
            "mkdir /sys/fs/cgroup/boxwise: ok",
            "+memory /sys/fs/cgroup/boxwise: ok",
            "+cpu /sys/fs/cgroup/boxwise: ok",
            "+pids /sys/fs/cgroup/boxwise: ok",
            "mkdir /sys/fs/cgroup/boxwise/run-1-0: ok",
        ]
    );
    k.log.borrow_mut().clear();
    cleanup::undo(&k, &steps);
    assert_eq!(
        k.log(),
        [
            "rmdir /sys/fs/cgroup/boxwise/run-1-0: ok",
            "rmdir /sys/fs/cgroup/boxwise: ok",
            "-pids /sys/fs/cgroup: ok",
            "-cpu /sys/fs/cgroup: ok",
            "-memory /sys/fs/cgroup: ok",
        ]
    );
    assert_eq!(k.subtree(MP), "\n");
    assert_eq!(k.dirs(), [PathBuf::from(MP)]);
}

#[test]
fn controllers_already_enabled_stay() {
    let k = Kernel::new().with("/sys/fs/cgroup/bench", &[], "memory cpu");
    let (result, steps) = create(&k, &node(None, Some("/sys/fs/cgroup/bench")));
    result.unwrap();
    assert_eq!(
        k.log(),
        [
            "+pids /sys/fs/cgroup/bench: ok",
            "mkdir /sys/fs/cgroup/bench/run-1-0: ok"
        ]
    );
    cleanup::undo(&k, &steps);
    assert_eq!(k.subtree("/sys/fs/cgroup/bench"), "memory cpu\n");
    assert!(k.cg(Path::new("/sys/fs/cgroup/bench")).is_some());
}

#[test]
fn an_empty_parent_works_from_an_occupied_cgroup() {
    // boxwise itself sits in the occupied `app`; `--parent /bench` is its empty sibling.
    let k =
        Kernel::new()
            .with("/sys/fs/cgroup/app", &[7], "")
            .with("/sys/fs/cgroup/bench", &[], "");
    let (result, steps) = create(
        &k,
        &node(Some("/sys/fs/cgroup/app"), Some("/sys/fs/cgroup/bench")),
    );
    result.unwrap();
    assert_eq!(k.subtree("/sys/fs/cgroup/bench"), "memory cpu pids\n");
    cleanup::undo(&k, &steps);
    assert_eq!(k.subtree("/sys/fs/cgroup/bench"), "\n");
    assert_eq!(k.subtree("/sys/fs/cgroup/app"), "\n");
    assert!(Kernel::children(&k, Path::new("/sys/fs/cgroup/bench")).is_empty());
}

#[test]
fn a_failure_halfway_rolls_back_in_reverse() {
    let mut k = Kernel::bare();
    k.fail = Some((
        Path::new(MP).join("boxwise/cgroup.subtree_control"),
        "+pids".into(),
        libc::ENOSPC,
    ));
    let (result, steps) = create(&k, &node(Some(MP), None));
    let e = result.unwrap_err().to_string();
    assert!(e.contains("cannot write \"+pids\": "), "{e}");
    k.log.borrow_mut().clear();
    cleanup::undo(&k, &steps);
    assert_eq!(
        k.log(),
        [
            "rmdir /sys/fs/cgroup/boxwise: ok",
            "-pids /sys/fs/cgroup: ok",
            "-cpu /sys/fs/cgroup: ok",
            "-memory /sys/fs/cgroup: ok",
        ]
    );
    assert_eq!(k.subtree(MP), "\n");
    assert_eq!(k.dirs(), [PathBuf::from(MP)]);
}

#[test]
fn another_runs_cgroup_keeps_what_it_needs() {
    let k = Kernel::bare();
    let (first, steps) = create(&k, &node(Some(MP), None));
    first.unwrap();
    // A second, concurrent run finds everything enabled and only adds its leaf.
    let mut second = node(Some(MP), None);
    second.leaf = second.base.join("run-2-0");
    let (result, other) = create(&k, &second);
    result.unwrap();
    cleanup::undo(&k, &steps);
    assert_eq!(k.subtree(MP), "memory cpu pids\n");
    assert_eq!(k.subtree("/sys/fs/cgroup/boxwise"), "memory cpu pids\n");
    cleanup::undo(&k, &other);
    assert_eq!(k.dirs(), [PathBuf::from(MP)]);

    // Under a --parent: the first run to finish must not take the controllers away.
    let k = Kernel::new().with("/sys/fs/cgroup/bench", &[], "");
    let (first, steps) = create(&k, &node(None, Some("/sys/fs/cgroup/bench")));
    first.unwrap();
    let mut second = node(None, Some("/sys/fs/cgroup/bench"));
    second.leaf = second.base.join("run-2-0");
    create(&k, &second).0.unwrap();
    cleanup::undo(&k, &steps);
    assert_eq!(k.subtree("/sys/fs/cgroup/bench"), "memory cpu pids\n");
}

#[test]
fn at_the_top_of_a_cgroup_namespace_the_processes_must_move_first() {
    let mut k = Kernel::bare();
    k.namespaced = true;
    k.cgroups.borrow_mut().get_mut(Path::new(MP)).unwrap().procs = vec![1, 9];
    let (result, _) = create(&k, &node(Some(MP), None));
    let e = result.unwrap_err().to_string();
    assert!(
        e.starts_with("cannot make the run's cgroup below /sys/fs/cgroup: that cgroup holds 2")
            && e.contains("mkdir /sys/fs/cgroup/init /sys/fs/cgroup/bench")
            && e.contains("--parent /bench")
            && !e.contains('\n'),
        "{e}"
    );
    assert!(k.log().is_empty());
}

#[test]
fn a_controller_the_parent_does_not_offer_is_named() {
    // `--parent bench` (relative) below boxwise's own `app`, which gets only cpu.
    let k =
        Kernel::new()
            .with("/sys/fs/cgroup/app", &[], "")
            .with("/sys/fs/cgroup/app/bench", &[], "");
    k.set_subtree(MP, "cpu");
    let mut n = node(None, Some("/sys/fs/cgroup/app/bench"));
    n.top = "/sys/fs/cgroup/app".into();
    let (result, _) = create(&k, &n);
    let e = result.unwrap_err().to_string();
    assert!(
        e.contains("/sys/fs/cgroup/app: the memory controller is not available"),
        "{e}"
    );
    assert!(k.log().is_empty());
}

#[test]
fn a_missing_parent_is_named_before_anything_is_written() {
    let k = Kernel::new();
    let (result, _) = create(&k, &node(None, Some("/sys/fs/cgroup/nope")));
    assert!(
        result
            .unwrap_err()
            .to_string()
            .contains("/sys/fs/cgroup/nope does not exist")
    );
    assert!(k.log().is_empty());
}

#[test]
fn an_absolute_parent_gets_the_controllers_handed_down_from_the_root() {
    // A fresh guest: the root enables nothing; `--parent /bench` is empty.
    let k = Kernel::bare().with("/sys/fs/cgroup/bench", &[], "");
    let (result, steps) = create(&k, &node(None, Some("/sys/fs/cgroup/bench")));
    result.unwrap();
    assert_eq!(
        k.log(),
        [
            "+memory /sys/fs/cgroup: ok",
            "+cpu /sys/fs/cgroup: ok",
            "+pids /sys/fs/cgroup: ok",
            "+memory /sys/fs/cgroup/bench: ok",
            "+cpu /sys/fs/cgroup/bench: ok",
            "+pids /sys/fs/cgroup/bench: ok",
            "mkdir /sys/fs/cgroup/bench/run-1-0: ok",
        ]
    );
    cleanup::undo(&k, &steps);
    assert_eq!(k.subtree(MP), "\n");
    assert_eq!(k.subtree("/sys/fs/cgroup/bench"), "\n");
    assert_eq!(
        k.dirs(),
        [PathBuf::from(MP), PathBuf::from("/sys/fs/cgroup/bench")]
    );
}

#[test]
fn a_parent_below_an_occupied_cgroup_names_the_occupied_one() {
    let k = Kernel::new().with("/sys/fs/cgroup/app", &[7], "").with(
        "/sys/fs/cgroup/app/bench",
        &[],
        "",
    );
    let (result, _) = create(&k, &node(None, Some("/sys/fs/cgroup/app/bench")));
    let e = result.unwrap_err().to_string();
    assert!(
        e.starts_with(
            "cannot make the run's cgroup below /sys/fs/cgroup/app: that cgroup holds 1 process,"
        ),
        "{e}"
    );
    assert!(k.log().is_empty());
}

#[test]
fn a_threaded_cgroup_as_parent_is_refused_by_its_type() {
    let k = Kernel::new().with("/sys/fs/cgroup/bench", &[], "cpu").with(
        "/sys/fs/cgroup/bench/t",
        &[],
        "",
    );
    k.cgroups
        .borrow_mut()
        .get_mut(Path::new("/sys/fs/cgroup/bench/t"))
        .unwrap()
        .threaded = true;
    // Its thread root above is the first to refuse...
    let (result, _) = create(&k, &node(None, Some("/sys/fs/cgroup/bench/t")));
    let e = result.unwrap_err().to_string();
    assert!(
        e.contains("below /sys/fs/cgroup/bench: it is a `domain threaded` cgroup"),
        "{e}"
    );
    assert!(k.log().is_empty());
    // ...and the threaded cgroup itself is refused without listing its processes.
    assert_eq!(
        delegate::blocked(&k, Path::new("/sys/fs/cgroup/bench/t")).unwrap(),
        Some(delegate::Blocked::Type("threaded".into()))
    );
}
