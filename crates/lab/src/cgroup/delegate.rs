//! cgroup v2 delegation: listing controllers in `cgroup.subtree_control` so that the run's
//! cgroup gets them, by the kernel's rules (Documentation/admin-guide/cgroup-v2.rst):
//!
//! - No internal processes: a non-root cgroup that holds processes may not enable domain
//!   controllers (memory, io) for its children; the write fails with EBUSY.
//! - Threaded controllers (cpu, cpuset, pids) may be enabled there, but that turns the
//!   cgroup `domain threaded`, after which enabling memory fails with EOPNOTSUPP. So
//!   domain controllers go first, and nothing is written before the checks pass.
//! - The root cgroup is exempt (it has no `cgroup.type` file).

use std::path::Path;

use nix::libc;

use super::Step;
use super::fs::CgroupFs;
use crate::error::{Error, Result};
use boxwise_box::cgroup::{Controller, V2_DOMAIN};

/// Why a v2 cgroup cannot hand controllers on to the cgroups below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// A non-root cgroup with processes in it. `leftover` lists the threaded controllers
    /// it enables although it is occupied (so it is `domain threaded`).
    Occupied {
        processes: usize,
        leftover: Vec<String>,
    },
    /// `cgroup.type` is not `domain`: `domain threaded`, `threaded` or `domain invalid`.
    Type(String),
    /// The kernel refused the write (EBUSY, EOPNOTSUPP) for a reason the checks missed.
    Refused { controller: Controller, errno: i32 },
}

/// The v2 controllers among `wanted` that `dir` does not enable yet, domain ones first.
/// With `check_available`, each must be offered to `dir` (its `cgroup.controllers`).
pub fn missing(
    fs: &dyn CgroupFs,
    dir: &Path,
    wanted: &[Controller],
    check_available: bool,
) -> Result<Vec<Controller>> {
    let enabled = read(fs, &dir.join("cgroup.subtree_control"))?;
    let mut out: Vec<Controller> = Vec::new();
    for c in wanted.iter().map(|c| c.v2()) {
        if !out.contains(&c) && !listed(&enabled, c) {
            out.push(c);
        }
    }
    if check_available && !out.is_empty() {
        let available = read(fs, &dir.join("cgroup.controllers"))?;
        if let Some(c) = out.iter().find(|&&c| !listed(&available, c)) {
            return Err(Error::Spec(format!(
                "{}: the {c} controller is not available (cgroup.controllers: {:?}); the \
                 cgroup above it must list {c} in its cgroup.subtree_control",
                dir.display(),
                available.trim()
            )));
        }
    }
    out.sort_by_key(|c| c.is_threaded());
    Ok(out)
}

/// Whether `dir` may enable domain controllers for its children, read without writing.
pub fn blocked(fs: &dyn CgroupFs, dir: &Path) -> Result<Option<Blocked>> {
    let type_file = dir.join("cgroup.type");
    if !fs.exists(&type_file) {
        return Ok(None);
    }
    let kind = read(fs, &type_file)?.trim().to_string();
    // A threaded cgroup refuses to list its processes (EOPNOTSUPP), and can never hand
    // memory down anyway.
    if kind != "domain" && kind != "domain threaded" {
        return Ok(Some(Blocked::Type(kind)));
    }
    let processes = read(fs, &dir.join("cgroup.procs"))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    if processes > 0 {
        let leftover = if kind == "domain threaded" {
            read(fs, &dir.join("cgroup.subtree_control"))?
                .split_whitespace()
                .filter(|c| !V2_DOMAIN.contains(c))
                .map(str::to_string)
                .collect()
        } else {
            Vec::new()
        };
        return Ok(Some(Blocked::Occupied {
            processes,
            leftover,
        }));
    }
    Ok((kind != "domain").then_some(Blocked::Type(kind)))
}

/// Write `+controller` for each of `add` (in order), reporting each success to `record`.
/// EBUSY and EOPNOTSUPP become the same explanation the checks give.
pub fn enable(
    fs: &dyn CgroupFs,
    dir: &Path,
    mount_point: &Path,
    add: &[Controller],
    record: &mut dyn FnMut(Step),
) -> Result<()> {
    let control = dir.join("cgroup.subtree_control");
    for &controller in add {
        match fs.write(&control, &format!("+{controller}")) {
            Ok(()) => record(Step::Enabled {
                dir: dir.to_path_buf(),
                controller,
            }),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY | libc::EOPNOTSUPP)) => {
                let errno = e.raw_os_error().unwrap_or(0);
                let why = blocked(fs, dir)
                    .ok()
                    .flatten()
                    .unwrap_or(Blocked::Refused { controller, errno });
                return Err(refusal(dir, mount_point, &why));
            }
            Err(e) => {
                return Err(Error::cgroup(
                    &control,
                    &format!("write \"+{controller}\""),
                    e,
                ));
            }
        }
    }
    Ok(())
}

/// One line: which cgroup, why in plain words, and what to do instead.
pub fn refusal(dir: &Path, mount_point: &Path, why: &Blocked) -> Error {
    let reason = match why {
        Blocked::Occupied {
            processes,
            leftover,
        } => {
            let mut text = format!(
                "that cgroup holds {processes} process{}, and cgroup v2 lets only a cgroup \
                 without processes (or the root) hand controllers such as memory on to the \
                 cgroups below it",
                if *processes == 1 { "" } else { "es" }
            );
            if !leftover.is_empty() {
                let undo: Vec<String> = leftover.iter().map(|c| format!("-{c}")).collect();
                text += &format!(
                    " (it is also `domain threaded`, as an earlier boxwise may have left it: \
                     `echo '{}' > {}` undoes that)",
                    undo.join(" "),
                    dir.join("cgroup.subtree_control").display()
                );
            }
            text
        }
        Blocked::Type(kind) => format!(
            "it is a `{kind}` cgroup (part of a threaded subtree, see its cgroup.type), and \
             cgroup v2 gives memory limits only below plain `domain` cgroups"
        ),
        Blocked::Refused { controller, errno } => format!(
            "the kernel refused to enable {controller} there ({}), as cgroup v2 does when a \
             cgroup holds processes or belongs to a threaded subtree",
            nix::errno::Errno::from_raw(*errno)
        ),
    };
    Error::Delegation(format!(
        "cannot make the run's cgroup below {}: {reason}; {}",
        dir.display(),
        hint(dir, mount_point)
    ))
}

/// The exact commands that give the run a cgroup it can use.
fn hint(dir: &Path, mount_point: &Path) -> String {
    let above = dir
        .parent()
        .filter(|p| p.starts_with(mount_point) && dir != mount_point);
    match above {
        Some(above) => {
            let runs = above.join("boxwise-runs");
            let rel = Path::new("/").join(runs.strip_prefix(mount_point).unwrap_or(&runs));
            format!(
                "make an empty cgroup beside it and pass it as --parent: `mkdir {}` then \
                 `boxwise run --parent {} ...`",
                runs.display(),
                rel.display()
            )
        }
        // The top of what this process can see (a container's cgroup namespace): no
        // sibling to use, so the processes must move down first.
        None => {
            let mp = mount_point.display();
            // `;`, not `&&`: the `cat` in the list has exited by the time it is moved.
            format!(
                "move its processes into a child cgroup, hand the controllers down and pass \
                 an empty sibling as --parent: `mkdir {mp}/init {mp}/bench; for p in $(cat \
                 {mp}/cgroup.procs); do echo $p > {mp}/init/cgroup.procs 2>/dev/null; done; \
                 echo '+cpu +memory +pids' > {mp}/cgroup.subtree_control` then `boxwise run \
                 --parent /bench ...`"
            )
        }
    }
}

fn listed(list: &str, c: Controller) -> bool {
    list.split_whitespace().any(|e| e == c.name())
}

fn read(fs: &dyn CgroupFs, path: &Path) -> Result<String> {
    fs.read(path).map_err(|e| Error::cgroup(path, "read", e))
}
