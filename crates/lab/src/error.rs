//! Errors that say which file, value or step was wrong, and what would fix it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec asks for something impossible (`--memory-swap` below `--memory`, ...).
    #[error("{0}")]
    Spec(String),
    /// A cgroup v2 cgroup cannot hand controllers on to the run's cgroup (it holds
    /// processes, or is threaded): the message says which and what to do.
    #[error("{0}")]
    Delegation(String),
    /// boxwise could not find where its own cgroups are.
    #[error("{0}")]
    Layout(#[from] boxwise_box::Error),
    /// No cgroup directory boxwise may create a child in.
    #[error(
        "cannot create {}: {error}; boxwise run needs root (or a delegated, writable cgroup) \
         to create its transient cgroup",
        path.display()
    )]
    NotPermitted {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A cgroup file could not be created, written or read.
    #[error("{}: cannot {action}: {error}", path.display())]
    Cgroup {
        path: PathBuf,
        action: String,
        error: std::io::Error,
    },
    /// The file for the command's output could not be created.
    #[error("{}: cannot create the output file: {error}", path.display())]
    Output {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The command did not start.
    #[error("cannot start {}", spawn_problem(program, error))]
    Spawn {
        program: String,
        error: std::io::Error,
    },
    /// Waiting for the command failed.
    #[error("waiting for {program}: {error}")]
    Wait {
        program: String,
        error: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A failed file operation on a cgroup; permission problems get the "needs root" text.
    pub fn cgroup(path: impl Into<PathBuf>, action: &str, error: std::io::Error) -> Error {
        let path = path.into();
        match error.raw_os_error() {
            Some(nix::libc::EACCES | nix::libc::EPERM | nix::libc::EROFS) if action == "create" => {
                Error::NotPermitted { path, error }
            }
            _ => Error::Cgroup {
                path,
                action: action.to_string(),
                error,
            },
        }
    }
}

/// A spawn failure as a shell says it (a missing `#!` interpreter named).
fn spawn_problem(program: &str, error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(errno) => boxwise_box::host::exec_problem(std::path::Path::new(program), errno),
        None => format!("{program}: {error}"),
    }
}

impl Error {
    /// The shell's status for a command that could not be started (127 not found, 126 not
    /// runnable); `None` for every other error.
    pub fn shell_status(&self) -> Option<u8> {
        match self {
            Error::Spawn { error, .. } => error.raw_os_error().map(boxwise_box::host::exec_status),
            _ => None,
        }
    }
}
