//! The only module that reads the file system: every path is taken relative to a root
//! directory, so tests (and `--root`) can point boxwise at a copied tree.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::error::{Error, ParseError, Result};

/// A view of a machine's files through a root directory (`/` for the live machine).
#[derive(Debug, Clone)]
pub struct Host {
    root: PathBuf,
}

impl Host {
    pub fn new(root: impl Into<PathBuf>) -> Host {
        Host { root: root.into() }
    }

    /// The machine boxwise runs on.
    pub fn live() -> Host {
        Host::new("/")
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether this is the running machine itself rather than a copied tree.
    pub fn is_live(&self) -> bool {
        self.root == Path::new("/")
    }

    /// Where a path as the process sees it lies on this host.
    pub fn path(&self, seen: &Path) -> PathBuf {
        self.root.join(seen.strip_prefix("/").unwrap_or(seen))
    }

    /// The file's text, or `None` if it does not exist (or the kernel offers no such file
    /// here, e.g. PSI switched off).
    pub fn read(&self, seen: &Path) -> Result<Option<String>> {
        let path = self.path(seen);
        match slurp(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if absent(&e) => Ok(None),
            Err(error) => Err(Error::Io { path, error }),
        }
    }

    /// Like [`Host::read`], for files that must exist.
    pub fn read_required(&self, seen: &Path) -> Result<String> {
        let path = self.path(seen);
        slurp(&path).map_err(|error| Error::Io { path, error })
    }

    /// Read and parse a file; the error names the file.
    pub fn parse<T>(
        &self,
        seen: &Path,
        parser: impl FnOnce(&str) -> std::result::Result<T, ParseError>,
    ) -> Result<Option<T>> {
        match self.read(seen)? {
            Some(text) => parser(&text).map(Some).map_err(|error| Error::Parse {
                path: self.path(seen),
                error,
            }),
            None => Ok(None),
        }
    }

    /// Like [`Host::parse`], for files that must exist.
    pub fn parse_required<T>(
        &self,
        seen: &Path,
        parser: impl FnOnce(&str) -> std::result::Result<T, ParseError>,
    ) -> Result<T> {
        let text = self.read_required(seen)?;
        parser(&text).map_err(|error| Error::Parse {
            path: self.path(seen),
            error,
        })
    }

    /// A symlink's target (namespace links such as `net:[4026531840]`), if readable.
    pub fn read_link(&self, seen: &Path) -> Option<String> {
        std::fs::read_link(self.path(seen))
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    }

    /// The subdirectories of a directory, as seen paths; none if it cannot be listed.
    pub fn subdirs(&self, seen: &Path) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.path(seen)) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| seen.join(e.file_name()))
            .collect()
    }

    pub fn exists(&self, seen: &Path) -> bool {
        self.path(seen).exists()
    }

    /// Raw bytes, for NUL-separated files like `environ`; `None` if missing or unreadable.
    pub fn read_bytes(&self, seen: &Path) -> Option<Vec<u8>> {
        std::fs::read(self.path(seen)).ok()
    }
}

/// Read a whole file. /proc and cgroup files report a size of 0, so `fs::read` would start
/// with tiny reads; one 8 KiB buffer takes most of them in a single call.
fn slurp(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(8192);
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Errors that mean "this file is not here", not "something is broken".
fn absent(e: &std::io::Error) -> bool {
    const ENODEV: i32 = 19;
    const EOPNOTSUPP: i32 = 95;
    e.kind() == ErrorKind::NotFound || matches!(e.raw_os_error(), Some(ENODEV | EOPNOTSUPP))
}
