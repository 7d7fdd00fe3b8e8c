//! Errors that name the file and the text that was wrong.

use std::path::PathBuf;

/// A pure parser's complaint about some text; the reader adds the file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    /// "expected WHAT, found "TEXT"", with the text shortened so one line stays one line.
    pub fn expected(what: &str, found: &str) -> Self {
        ParseError(format!("expected {what}, found {}", quote(found)))
    }
}

/// Quote text for an error message: escaped, and cut to 80 characters.
pub fn quote(text: &str) -> String {
    const MAX: usize = 80;
    if text.chars().count() > MAX {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut:?}...")
    } else {
        format!("{text:?}")
    }
}

/// Anything that stops a probe: a file that could not be read or did not parse.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // The causes are part of the message rather than `#[source]`s, so that printing the
    // error chain (`{:#}`) does not repeat them.
    #[error("{}: cannot read: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {error}", path.display())]
    Parse { path: PathBuf, error: ParseError },
    #[error("{0}")]
    Layout(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
