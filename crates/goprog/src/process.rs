//! The Go processes on a machine, found by reading the build info of each
//! `/proc/<pid>/exe` (no agent in the process, unlike gops), and the row `boxwise ps` shows
//! for each. [`discover`] is the only part that reads files, all under a [`Host`]'s root
//! so tests can hand it a fake /proc; the rest is pure.

use std::collections::HashMap;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use boxwise_box::BoxInfo;
use boxwise_box::goenv::{GoMemLimit, parse_gomemlimit};
use boxwise_box::host::Host;
use boxwise_box::parse::status::{self, Status};
use boxwise_box::policy::Recommendation;
use serde::Serialize;

use crate::{Error, ErrorKind, GoBinary};

/// One process worth listing.
#[derive(Debug, Clone)]
pub struct Found {
    pub pid: u32,
    /// Its `/proc/<pid>/status` (empty when unreadable).
    pub status: Status,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub enum Kind {
    /// A Go program: the executable as the process sees it, and its build info (shared by
    /// every process running the same file).
    Go { exe: PathBuf, binary: Rc<GoBinary> },
    /// We may not read its executable (not root), so the list is incomplete: why.
    Unreadable(String),
}

/// What reading one executable gave.
#[derive(Debug)]
enum Exe {
    Go(Rc<GoBinary>),
    NotGo,
    Unreadable(String),
}

/// Every Go process under `host`'s /proc, by pid, and the ones whose executable we may not
/// read. `skip` is left out (boxwise itself on the live machine).
pub fn discover(host: &Host, skip: Option<u32>) -> io::Result<Vec<Found>> {
    let mut pids: Vec<u32> = std::fs::read_dir(host.path(Path::new("/proc")))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    // Many processes share one executable; read each file once. Keyed by device and inode:
    // the path is as each process sees it, and two containers' `/app/server` differ.
    let mut seen: HashMap<(u64, u64), Exe> = HashMap::new();
    let mut found = Vec::new();
    for pid in pids.into_iter().filter(|&p| Some(p) != skip) {
        let link = host.path(&PathBuf::from(format!("/proc/{pid}/exe")));
        let kind =
            match std::fs::read_link(&link).and_then(|exe| Ok((exe, std::fs::metadata(&link)?))) {
                Ok((exe, meta)) => {
                    let read = seen
                        .entry((meta.dev(), meta.ino()))
                        .or_insert_with(|| exe_kind(GoBinary::read(&link)));
                    match read {
                        Exe::Go(binary) => Kind::Go {
                            exe,
                            binary: Rc::clone(binary),
                        },
                        Exe::Unreadable(why) => Kind::Unreadable(why.clone()),
                        Exe::NotGo => continue,
                    }
                }
                Err(e) => match link_unreadable(pid, &e) {
                    Some(why) => Kind::Unreadable(why),
                    None => continue,
                },
            };
        let status = host
            .parse(Path::new(&format!("/proc/{pid}/status")), status::parse)
            .ok()
            .flatten()
            .unwrap_or_default();
        found.push(Found { pid, status, kind });
    }
    Ok(found)
}

/// A process whose `/proc/<pid>/exe` we may not follow (not root) is listed, so the user
/// knows the list is incomplete. Any other error means a kernel thread (no executable) or
/// a process that exited meanwhile: not ours to list.
fn link_unreadable(pid: u32, e: &io::Error) -> Option<String> {
    (e.kind() == io::ErrorKind::PermissionDenied)
        .then(|| format!("cannot read /proc/{pid}/exe: {e}"))
}

/// A file we may not read could be Go; anything else that fails to decode is not.
fn exe_kind(read: Result<GoBinary, Error>) -> Exe {
    match read {
        Ok(b) => Exe::Go(Rc::new(b)),
        Err(Error {
            kind: ErrorKind::Io(io),
            ..
        }) if io.kind() == io::ErrorKind::PermissionDenied => Exe::Unreadable(io.to_string()),
        Err(_) => Exe::NotGo,
    }
}

/// One Go process (or one we could not read), as `boxwise ps` lists it. Absent values are
/// `null` in JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub pid: u32,
    pub name: Option<String>,
    pub exe: Option<PathBuf>,
    pub go_version: Option<String>,
    /// The GOMAXPROCS in effect: the environment's, or what its Go version's runtime chose.
    pub gomaxprocs: Option<u32>,
    pub gomaxprocs_from_env: bool,
    /// GOMEMLIMIT as set in its environment (raw), and in bytes when valid.
    pub gomemlimit: Option<String>,
    pub gomemlimit_bytes: Option<u64>,
    pub gogc: Option<String>,
    pub threads: Option<u64>,
    pub rss_bytes: Option<u64>,
    pub memory_limit_bytes: Option<u64>,
    pub cpu_quota_cores: Option<f64>,
    pub effective_cores: Option<f64>,
    pub container_runtime: Option<String>,
    pub container_id: Option<String>,
    pub recommended_gomaxprocs: Option<u32>,
    pub recommended_gomemlimit_bytes: Option<u64>,
    /// What could not be read.
    pub error: Option<String>,
}

impl Row {
    pub fn unreadable(pid: u32, name: Option<String>, error: String) -> Row {
        Row {
            error: Some(error),
            ..Row::empty(pid, name)
        }
    }

    /// A Go process, before its box is known.
    pub fn go(pid: u32, status: &Status, exe: PathBuf, binary: &GoBinary) -> Row {
        Row {
            exe: Some(exe),
            go_version: Some(binary.go_version.clone()),
            threads: status.threads,
            rss_bytes: status.vm_rss_bytes,
            ..Row::empty(pid, status.name.clone())
        }
    }

    /// Its box could not be read.
    pub fn box_error(self, error: String) -> Row {
        Row {
            error: Some(error),
            ..self
        }
    }

    /// Its box, the recommendation for it, and the GOMAXPROCS the process runs with (which
    /// depends on its Go version: see doctor's `effective_gomaxprocs`).
    pub fn with_box(self, info: &BoxInfo, rec: &Recommendation, gomaxprocs: u32) -> Row {
        let env = &info.go_env;
        Row {
            gomaxprocs: Some(gomaxprocs),
            gomaxprocs_from_env: env.gomaxprocs_value().is_some(),
            gomemlimit_bytes: match env.gomemlimit.as_deref().map(parse_gomemlimit) {
                Some(Ok(GoMemLimit::Bytes(n))) => Some(n),
                _ => None,
            },
            gomemlimit: env.gomemlimit.clone(),
            // The runtime's default when unset.
            gogc: Some(env.gogc.clone().unwrap_or_else(|| "100".into())),
            memory_limit_bytes: info.memory.limit_bytes,
            cpu_quota_cores: info.cpu.quota.as_ref().map(|q| q.cores),
            effective_cores: Some(info.cpu.effective_cores),
            container_runtime: Some(format!("{:?}", info.container.runtime).to_lowercase()),
            container_id: info.container.id.clone(),
            recommended_gomaxprocs: Some(rec.gomaxprocs),
            recommended_gomemlimit_bytes: rec.gomemlimit_bytes,
            ..self
        }
    }

    fn empty(pid: u32, name: Option<String>) -> Row {
        Row {
            pid,
            name,
            exe: None,
            go_version: None,
            gomaxprocs: None,
            gomaxprocs_from_env: false,
            gomemlimit: None,
            gomemlimit_bytes: None,
            gogc: None,
            threads: None,
            rss_bytes: None,
            memory_limit_bytes: None,
            cpu_quota_cores: None,
            effective_cores: None,
            container_runtime: None,
            container_id: None,
            recommended_gomaxprocs: None,
            recommended_gomemlimit_bytes: None,
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_link_errors_are_listed() {
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(
            link_unreadable(7, &denied).as_deref(),
            Some("cannot read /proc/7/exe: permission denied")
        );
        // Kernel threads (ENOENT) and exited processes are not listed.
        for kind in [io::ErrorKind::NotFound, io::ErrorKind::Other] {
            assert_eq!(link_unreadable(7, &io::Error::from(kind)), None);
        }
    }

    #[test]
    fn which_read_errors_mean_not_go() {
        let err = |kind: ErrorKind| {
            Err(Error {
                file: PathBuf::from("/proc/7/exe"),
                kind,
            })
        };
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert!(matches!(
            exe_kind(err(ErrorKind::Io(denied))),
            Exe::Unreadable(why) if why == "permission denied"
        ));
        let gone = io::Error::from(io::ErrorKind::NotFound);
        assert!(matches!(exe_kind(err(ErrorKind::Io(gone))), Exe::NotGo));
        assert!(matches!(exe_kind(err(ErrorKind::NotGo)), Exe::NotGo));
    }

    #[test]
    fn an_unreadable_row_says_why_and_nothing_else() {
        let row = Row::unreadable(9, Some("sshd".into()), "denied".into());
        assert_eq!(row.error.as_deref(), Some("denied"));
        assert_eq!(
            Row { error: None, ..row },
            Row::empty(9, Some("sshd".into()))
        );
    }
}
