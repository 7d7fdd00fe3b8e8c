//! Emptying and removing run cgroups: from `Drop`, and from a panic hook, because release
//! builds abort on panic (`panic = "abort"`), which skips `Drop`.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once, TryLockError};
use std::thread;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How long to keep retrying while the kernel finishes tearing down exited tasks.
const SETTLE_ROUNDS: u32 = 200;
const SETTLE_PAUSE: Duration = Duration::from_millis(10);

/// The leaves of every run in progress, for the panic hook.
static LIVE: Mutex<Vec<Vec<PathBuf>>> = Mutex::new(Vec::new());

/// Make sure a panic anywhere in the process removes the live runs' cgroups.
pub fn register(leaves: &[PathBuf]) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // try_lock: the panicking thread may hold the lock itself.
            let live = match LIVE.try_lock() {
                Ok(live) => Some(live),
                Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            };
            for leaves in live.iter().flat_map(|l| l.iter()) {
                empty_and_remove(leaves);
            }
            previous(info);
        }));
    });
    lock().push(leaves.to_vec());
}

pub fn unregister(leaves: &[PathBuf]) {
    lock().retain(|l| l != leaves);
}

fn lock() -> std::sync::MutexGuard<'static, Vec<Vec<PathBuf>>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Kill what is left in the leaves, then remove them; warns about any that stay.
pub fn empty_and_remove(leaves: &[PathBuf]) {
    kill_all(leaves);
    for leaf in leaves {
        if let Err(e) = remove_dir(leaf) {
            eprintln!(
                "boxwise: warning: cannot remove cgroup {}: {e}",
                leaf.display()
            );
        }
    }
}

/// SIGKILL every process in the leaves (orphans, a fork bomb's children) until they are
/// empty or the kernel stops reporting new ones.
pub fn kill_all(leaves: &[PathBuf]) {
    for _ in 0..SETTLE_ROUNDS {
        let pids = pids(leaves);
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        thread::sleep(SETTLE_PAUSE);
    }
}

fn pids(leaves: &[PathBuf]) -> Vec<i32> {
    let mut pids: Vec<i32> = leaves
        .iter()
        .filter_map(|leaf| fs::read_to_string(leaf.join("cgroup.procs")).ok())
        .flat_map(|text| {
            text.lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Remove an emptied cgroup; exiting tasks can keep it busy for a moment.
fn remove_dir(dir: &Path) -> std::io::Result<()> {
    for _ in 0..SETTLE_ROUNDS {
        match fs::remove_dir(dir) {
            Err(e) if e.raw_os_error() == Some(nix::libc::EBUSY) => thread::sleep(SETTLE_PAUSE),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            other => return other,
        }
    }
    fs::remove_dir(dir)
}
