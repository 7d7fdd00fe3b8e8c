//! Undoing what a run changed: from `Drop`, and from a panic hook, because release builds
//! abort on panic (`panic = "abort"`), which skips `Drop`.
//!
//! Each run records its changes per hierarchy as they happen ([`Step`]); undoing walks
//! them backwards, so a failure halfway leaves the cgroups as they were before the run.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once, TryLockError};

use nix::libc;

pub use super::fs::kill_all;
use super::fs::{CgroupFs, Live};
use boxwise_box::cgroup::Controller;

/// One change a run made to the cgroup tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `+controller` written to `dir/cgroup.subtree_control` (v2); undone with `-controller`.
    Enabled {
        dir: PathBuf,
        controller: Controller,
    },
    /// The shared `boxwise/` directory: removed unless another run still uses it.
    Base(PathBuf),
    /// The run's own cgroup: emptied and removed.
    Leaf(PathBuf),
}

/// Undo `steps` (one hierarchy's, in the order they happened), last first. Stops where
/// another run depends on what is left: a `boxwise/` still holding its cgroup, or a
/// directory with another run's cgroup below it.
pub fn undo(fs: &dyn CgroupFs, steps: &[Step]) {
    for step in steps.iter().rev() {
        match step {
            Step::Leaf(leaf) => {
                if let Err(e) = fs.empty_and_remove(leaf) {
                    eprintln!(
                        "boxwise: warning: cannot remove cgroup {}: {e}",
                        leaf.display()
                    );
                }
            }
            Step::Base(base) => match fs.remove_dir(base) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                // Another run's cgroup is in there, and it needs the controllers above.
                Err(_) => return,
            },
            Step::Enabled { dir, controller } => {
                if other_runs_below(fs, dir) {
                    return;
                }
                let control = dir.join("cgroup.subtree_control");
                match fs.write(&control, &format!("-{controller}")) {
                    Ok(()) => {}
                    // A cgroup below enables it for its own children: it stays, harmlessly.
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
                    Err(e) => eprintln!(
                        "boxwise: warning: cannot write \"-{controller}\" to {}: {e}",
                        control.display()
                    ),
                }
            }
        }
    }
}

/// A run's cgroup (`run-*`) or a `boxwise/` directly below `dir`.
fn other_runs_below(fs: &dyn CgroupFs, dir: &Path) -> bool {
    fs.children(dir)
        .unwrap_or_default()
        .iter()
        .any(|n| n == "boxwise" || n.starts_with("run-"))
}

/// The runs in progress (id, steps per hierarchy), for the panic hook.
type Runs = Vec<(u64, Vec<Vec<Step>>)>;
static LIVE: Mutex<Runs> = Mutex::new(Vec::new());

/// Start recording a run with `hierarchies` step lists; a panic anywhere in the process
/// undoes what it recorded.
pub fn begin(hierarchies: usize) -> u64 {
    static HOOK: Once = Once::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // try_lock: the panicking thread may hold the lock itself.
            let live = match LIVE.try_lock() {
                Ok(live) => Some(live),
                Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            };
            for (_, run) in live.iter().flat_map(|l| l.iter()) {
                for steps in run.iter().rev() {
                    undo(&Live, steps);
                }
            }
            previous(info);
        }));
    });
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    lock().push((id, vec![Vec::new(); hierarchies]));
    id
}

/// Note a change of run `id` in hierarchy `index`.
pub fn record(id: u64, index: usize, step: Step) {
    if let Some((_, run)) = lock().iter_mut().find(|(i, _)| *i == id) {
        run[index].push(step);
    }
}

/// Stop tracking run `id` and undo its changes.
pub fn finish(fs: &dyn CgroupFs, id: u64) {
    let run = {
        let mut live = lock();
        let at = live.iter().position(|(i, _)| *i == id);
        at.map(|at| live.remove(at).1)
    };
    for steps in run.iter().flat_map(|r| r.iter().rev()) {
        undo(fs, steps);
    }
}

fn lock() -> std::sync::MutexGuard<'static, Runs> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The runner pid in a run's cgroup name (`run-<pid>-<n>`), if it is one.
pub(crate) fn runner_pid(name: &str) -> Option<u32> {
    let (pid, n) = name.strip_prefix("run-")?.split_once('-')?;
    n.parse::<u32>().ok()?;
    pid.parse().ok()
}

/// Remove the run cgroups under `base` whose runner is gone (a `boxwise run` killed with
/// SIGKILL cannot clean up after itself): their processes are killed first, then the
/// directories removed. Runs of living processes are left alone. Returns what was removed.
pub fn remove_stale(fs: &dyn CgroupFs, base: &Path, alive: &dyn Fn(u32) -> bool) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    for name in fs.children(base).unwrap_or_default() {
        let Some(pid) = runner_pid(&name) else {
            continue;
        };
        if alive(pid) {
            continue;
        }
        let dir = base.join(&name);
        if fs.empty_and_remove(&dir).is_ok() {
            removed.push(dir);
        }
    }
    removed
}
