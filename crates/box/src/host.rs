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

/// The largest file boxwise reads as text: mountinfo on a busy node is a few MiB; anything
/// bigger is not a /proc or cgroup file, and reading it whole would only exhaust memory.
pub const MAX_TEXT_FILE: u64 = 16 << 20;

/// Open a file for reading only if it is a regular file (as /proc, cgroupfs and binaries
/// are): a FIFO would block the open itself, and a device such as /dev/zero never ends.
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(std::io::Error::new(ErrorKind::InvalidInput, what));
    }
    std::fs::File::open(path)
}

/// Read a whole file. /proc and cgroup files report a size of 0, so `fs::read` would start
/// with tiny reads; one 8 KiB buffer takes most of them in a single call.
fn slurp(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(8192);
    open_regular(path)?
        .take(MAX_TEXT_FILE + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_TEXT_FILE {
        return Err(std::io::Error::new(
            ErrorKind::InvalidData,
            format!("larger than {} MiB", MAX_TEXT_FILE >> 20),
        ));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A FIFO would block the open and /dev/zero never ends: both are refused at once.
    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        let host = Host::new("/");
        if made {
            let e = host.read(&fifo).unwrap_err().to_string();
            assert!(e.contains("not a regular file"), "{e}");
        }
        let e = host.read(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let e = host.read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("a directory"), "{e}");
        // Missing stays "not here", not an error.
        assert_eq!(host.read(&dir.path().join("absent")).unwrap(), None);
        // /proc files are regular, with a size of 0.
        assert!(host.read(Path::new("/proc/self/status")).unwrap().is_some());
    }

    #[test]
    fn a_huge_file_is_refused_not_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_TEXT_FILE + 1).unwrap();
        let e = Host::new("/").read(&big).unwrap_err().to_string();
        assert!(e.contains("larger than 16 MiB"), "{e}");
    }
}

/// Why `execve(path)` failed with `errno`, as a shell says it: a `#!` script whose
/// interpreter is missing names the interpreter (the kernel's ENOENT is about that file,
/// and "No such file or directory" for a file that is there misleads).
pub fn exec_problem(path: &Path, errno: i32) -> String {
    let reason = {
        let s = std::io::Error::from_raw_os_error(errno).to_string();
        s.split(" (os error").next().unwrap_or(&s).to_string()
    };
    if errno == ENOENT
        && path.exists()
        && let Some(interp) = shebang(path)
    {
        return format!("{}: its interpreter {interp}: {reason}", path.display());
    }
    format!("{}: {reason}", path.display())
}

/// An ELF file this machine cannot run (another architecture, 32-bit, or cut short), said
/// as a shell's "Exec format error" with the reason. Without this check execvp hands such a
/// file to /bin/sh as a script, which prints garbage and exits 2 or 127.
pub fn foreign_elf(path: &Path) -> Option<String> {
    use std::io::Read as _;
    let mut head = [0u8; 64];
    let mut file = open_regular(path).ok()?;
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(_) => return None,
        }
    }
    if n < 4 || &head[..4] != b"\x7fELF" {
        return None;
    }
    let why = if n < 20 {
        "a truncated ELF file".to_string()
    } else {
        let machine = if head[5] == 2 {
            u16::from_be_bytes([head[18], head[19]])
        } else {
            u16::from_le_bytes([head[18], head[19]])
        };
        let arch = match machine {
            3 => "x86 (32-bit)",
            40 => "arm (32-bit)",
            62 => "x86_64",
            183 => "aarch64",
            243 => "riscv",
            8 => "mips",
            21 => "ppc64",
            22 => "s390x",
            _ => "another architecture",
        };
        let native = std::env::consts::ARCH;
        if arch == native && head[4] == 2 {
            return None;
        }
        format!("an ELF for {arch}; this machine runs {native}")
    };
    Some(format!("{}: Exec format error ({why})", path.display()))
}

/// The shell's exit status for a command that could not be run: 127 when it (or its
/// interpreter) is not there, 126 when it is there but cannot be run.
pub fn exec_status(errno: i32) -> u8 {
    if errno == ENOENT { 127 } else { 126 }
}

/// ENOENT (Linux's number; boxwise runs on Linux only).
const ENOENT: i32 = 2;

/// The interpreter named on a `#!` first line.
fn shebang(path: &Path) -> Option<String> {
    use std::io::Read as _;
    let mut head = [0u8; 256];
    let n = open_regular(path).ok()?.read(&mut head).ok()?;
    let line = head[..n].strip_prefix(b"#!")?;
    let line = line.split(|&b| b == b'\n').next()?;
    String::from_utf8_lossy(line)
        .split_whitespace()
        .next()
        .map(str::to_string)
}

#[cfg(test)]
mod exec_tests {
    use super::*;

    #[test]
    fn a_script_with_a_missing_interpreter_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("s.sh");
        std::fs::write(&script, "#!/no/such/sh -e\necho hi\n").unwrap();
        assert_eq!(
            exec_problem(&script, 2),
            format!(
                "{}: its interpreter /no/such/sh: No such file or directory",
                script.display()
            )
        );
        let absent = dir.path().join("absent");
        assert_eq!(
            exec_problem(&absent, 2),
            format!("{}: No such file or directory", absent.display())
        );
        assert_eq!(exec_status(2), 127);
        assert_eq!(exec_status(13), 126);
        assert_eq!(exec_status(8), 126);
        // An aarch64 ELF header on x86_64 (or the reverse): refused, naming both.
        let elf = dir.path().join("other-arch");
        let mut head = b"\x7fELF\x02\x01\x01".to_vec();
        head.resize(18, 0);
        let other: u16 = if std::env::consts::ARCH == "aarch64" {
            62
        } else {
            183
        };
        head.extend_from_slice(&other.to_le_bytes());
        head.resize(64, 0);
        std::fs::write(&elf, &head).unwrap();
        let why = foreign_elf(&elf).unwrap();
        assert!(why.contains("Exec format error (an ELF for"), "{why}");
        assert!(why.ends_with(&format!("this machine runs {})", std::env::consts::ARCH)));
        std::fs::write(&elf, b"\x7fELF\x02").unwrap();
        assert!(
            foreign_elf(&elf)
                .unwrap()
                .ends_with("(a truncated ELF file)")
        );
        assert_eq!(foreign_elf(&script), None);
        assert_eq!(
            foreign_elf(Path::new("/proc/self/exe")),
            None,
            "boxwise's own test binary"
        );
    }
}
