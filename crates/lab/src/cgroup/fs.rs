//! The file operations the cgroup code makes, behind a trait so that the order of writes,
//! the rollback and the error mapping can be tested against a fake kernel.

use std::fs;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use nix::libc;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How long to keep retrying while the kernel finishes tearing down exited tasks.
const SETTLE_ROUNDS: u32 = 200;
const SETTLE_PAUSE: Duration = Duration::from_millis(10);

/// What the cgroup code does to cgroupfs.
pub trait CgroupFs {
    fn read(&self, path: &Path) -> io::Result<String>;
    fn write(&self, path: &Path, value: &str) -> io::Result<()>;
    fn exists(&self, path: &Path) -> bool;
    fn create_dir(&self, path: &Path) -> io::Result<()>;
    fn remove_dir(&self, path: &Path) -> io::Result<()>;
    /// The names of the cgroups directly below `dir`.
    fn children(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Kill what is left in a run's cgroup, then remove it.
    fn empty_and_remove(&self, leaf: &Path) -> io::Result<()> {
        self.remove_dir(leaf)
    }
}

/// The real cgroup file systems.
#[derive(Debug, Clone, Copy)]
pub struct Live;

impl CgroupFs for Live {
    fn read(&self, path: &Path) -> io::Result<String> {
        fs::read_to_string(path)
    }

    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        fs::write(path, value)
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        fs::create_dir(path)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        fs::remove_dir(path)
    }

    fn children(&self, dir: &Path) -> io::Result<Vec<String>> {
        Ok(fs::read_dir(dir)?
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect())
    }

    fn empty_and_remove(&self, leaf: &Path) -> io::Result<()> {
        kill_all(&[leaf.to_path_buf()]);
        remove_dir(leaf)
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
pub fn remove_dir(dir: &Path) -> std::io::Result<()> {
    for _ in 0..SETTLE_ROUNDS {
        match fs::remove_dir(dir) {
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => thread::sleep(SETTLE_PAUSE),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            other => return other,
        }
    }
    fs::remove_dir(dir)
}
