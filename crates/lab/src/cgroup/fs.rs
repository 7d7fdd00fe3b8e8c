//! The file operations the cgroup code makes, behind a trait so that the order of writes,
//! the rollback and the error mapping can be tested against a fake kernel.

use std::fs;
use std::io;
use std::path::Path;

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
        super::cleanup::kill_all(&[leaf.to_path_buf()]);
        super::cleanup::remove_dir(leaf)
    }
}
