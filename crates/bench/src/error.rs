//! One error type for the bench: each message names the file, value or command at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad argument (exit 2 territory for the CLI; it is a usage error).
    #[error("{0}")]
    Spec(String),
    #[error("{path}: {op}: {error}")]
    File {
        path: PathBuf,
        op: &'static str,
        error: std::io::Error,
    },
    #[error("{what}: {error}")]
    Net { what: String, error: std::io::Error },
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
    #[error("interrupted")]
    Interrupted,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn file(path: impl Into<PathBuf>, op: &'static str, error: std::io::Error) -> Error {
        Error::File {
            path: path.into(),
            op,
            error,
        }
    }
    pub(crate) fn net(what: impl Into<String>, error: std::io::Error) -> Error {
        Error::Net {
            what: what.into(),
            error,
        }
    }
}
