//! `boxwise image`: what an image ships. Reads a `docker save` archive, an OCI layout
//! directory or the Docker engine's export stream (read), streaming each layer once into
//! its file list, whiteouts and Go programs (layer), applies the layers as the OCI spec
//! says (fs), and judges the result: waste, the config, the Go programs (judge).

pub mod ci;
pub mod engine;
pub mod fs;
pub mod judge;
pub mod layer;
pub mod source;
pub mod spec;

use std::path::Path;

use serde::Serialize;

pub use judge::{CiRules, Finding, Limits, Severity};

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Format(String),
    #[error("{0}")]
    Platform(String),
    #[error("Docker engine: {0}")]
    Engine(String),
}

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A `docker save` tar (legacy or OCI inside; may be gzip-compressed).
    Archive(std::path::PathBuf),
    /// An OCI image layout directory.
    OciDir(std::path::PathBuf),
    /// An image in the local Docker engine, by name or id.
    Engine(String),
}

impl Source {
    /// `docker-archive:PATH`, `oci:DIR`, `docker://NAME` or `docker-daemon:NAME` say which;
    /// otherwise a directory is an OCI layout, a file an archive, anything else an image
    /// name in the engine.
    pub fn parse(s: &str) -> Source {
        if let Some(p) = s.strip_prefix("docker-archive:") {
            return Source::Archive(p.into());
        }
        if let Some(p) = s.strip_prefix("oci:") {
            return Source::OciDir(p.into());
        }
        if let Some(n) = s
            .strip_prefix("docker://")
            .or_else(|| s.strip_prefix("docker-daemon:"))
        {
            return Source::Engine(n.to_string());
        }
        let p = Path::new(s);
        if p.is_dir() {
            Source::OciDir(p.into())
        } else if p.is_file() || looks_like_path(s) {
            // A path that is missing is an archive that is missing, not an engine name.
            Source::Archive(p.into())
        } else {
            Source::Engine(s.to_string())
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Source::Archive(p) => format!("docker-archive:{}", p.display()),
            Source::OciDir(p) => format!("oci:{}", p.display()),
            Source::Engine(n) => format!("docker://{n}"),
        }
    }
}

/// Whether a source no engine could hold is meant as a path: it starts with `/` or `.`,
/// or ends in `.tar`, `.tar.gz` or `.tgz`. (`org/app:1` is an engine name, so a `/`
/// inside is not enough; image references never start with `/` or `.`.)
pub fn looks_like_path(s: &str) -> bool {
    s.starts_with('/')
        || s.starts_with('.')
        || s.starts_with('~')
        || [".tar", ".tar.gz", ".tgz"].iter().any(|e| s.ends_with(e))
}

/// An I/O error as one line without Rust's ` (os error N)` tail: `No such file or directory`.
pub fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// At most `max` characters of `s` on one line, control characters escaped: for
/// messages that quote bytes from a file that may be anything.
pub fn one_line(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads the image from its source, streaming each layer once.
pub fn load(source: &Source, platform: Option<&str>) -> Result<source::Loaded, Error> {
    fn at(p: &Path) -> impl Fn(Error) -> Error + '_ {
        move |e| match e {
            Error::Format(m) => Error::Format(format!("{}: {}", p.display(), one_line(&m, 300))),
            other => other,
        }
    }
    match source {
        Source::Archive(p) => {
            // Regular files only: a FIFO would block the open, a device never end.
            let f = boxwise_box::host::open_regular(p)
                .map_err(|e| Error::Io(format!("{}: {}", p.display(), io_text(&e))))?;
            source::read_tar_stream(f, platform).map_err(at(p))
        }
        Source::OciDir(p) => source::read_oci_dir(p, platform).map_err(at(p)),
        Source::Engine(name) => {
            source::read_tar_stream(engine::export(name)?, platform).map_err(|e| match e {
                Error::Format(m) => Error::Format(one_line(&m, 300)),
                // The engine's export is an archive only to us: name the image instead.
                Error::Platform(m) => Error::Platform(m.replacen(
                    "the archive holds a",
                    &format!("the engine's image {name:?} is a"),
                    1,
                )),
                other => other,
            })
        }
    }
}

/// One layer in the report.
#[derive(Debug, Clone, Serialize)]
pub struct LayerReport {
    pub index: usize,
    /// The blob's path in the archive or layout (its digest for OCI).
    pub blob: String,
    /// Bytes of the blob as stored (compressed size for gzip/zstd).
    pub blob_bytes: u64,
    pub compression: Option<layer::Compression>,
    /// Content bytes of the regular files in the layer.
    pub size_bytes: u64,
    /// The Dockerfile instruction (history `created_by`); null when unknown.
    pub created_by: Option<String>,
    pub files_added: u64,
    pub files_changed: u64,
    pub files_removed: u64,
    pub wasted_bytes: u64,
    /// Bytes of lower layers' files this layer deleted, overwrote or hid: the waste its
    /// step caused.
    pub caused_wasted_bytes: u64,
}

/// A path that costs more bytes than the final filesystem holds.
#[derive(Debug, Clone, Serialize)]
pub struct WastedFile {
    pub path: String,
    pub wasted_bytes: u64,
    pub copies: u64,
    /// Whether the final filesystem still has it (overwritten rather than deleted).
    pub kept: bool,
}

/// A Go executable in the final filesystem.
#[derive(Debug, Clone, Serialize)]
pub struct GoBinaryReport {
    pub path: String,
    pub layer: usize,
    pub size_bytes: u64,
    pub go_version: String,
    pub module: Option<String>,
    pub cgo: Option<bool>,
    #[serde(rename = "static")]
    pub static_: bool,
    pub interpreter: Option<String>,
    /// The loader and libraries the binary needs that the image lacks.
    pub missing: Vec<String>,
    pub stripped: bool,
    pub trimpath: bool,
    /// Whether GOMAXPROCS follows the CPU limit by itself (Go 1.25+, not disabled).
    pub container_aware: bool,
    pub notes: Vec<boxwise_goprog::Note>,
}

/// The config as a person would read the Dockerfile.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigReport {
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    /// ENTRYPOINT/CMD in shell form (`/bin/sh -c ...`).
    pub shell_form: bool,
    /// The program PID 1 runs, resolved in the image; null when there is none.
    pub program: Option<String>,
    /// Whether `boxwise exec` launches the service.
    pub boxwise_exec: bool,
    /// The Go binary that is the service, when PID 1 (or boxwise exec) runs one.
    pub service: Option<String>,
    pub user: Option<String>,
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub healthcheck: Option<Vec<String>>,
    pub exposed_ports: Vec<String>,
    /// os-release PRETTY_NAME, or null when the image has none.
    pub os: Option<String>,
    /// The first layer's instruction: where the base image starts.
    pub base_created_by: Option<String>,
    /// The history entry that ends the base image (`CMD ["sh"]`), when history shows it.
    pub base_ends_with: Option<String>,
}

/// Everything `boxwise image` says about one image (the `--json` contract).
#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    pub source: String,
    pub tags: Vec<String>,
    pub platform: String,
    /// Content bytes shipped in all layers.
    pub size_bytes: u64,
    /// Bytes of the stored blobs (compressed).
    pub blob_bytes: u64,
    /// Content bytes of the final filesystem.
    pub final_bytes: u64,
    /// Bytes shipped in layers that are not in the final filesystem.
    pub wasted_bytes: u64,
    /// final_bytes / size_bytes (1 for an empty image).
    pub efficiency: f64,
    /// Layers counted as the base image (for user_wasted_ratio).
    pub base_layers: usize,
    /// How base_layers was found: from history, `--base-layers`, or dive's first layer.
    pub base_from: judge::BaseFrom,
    /// Content bytes of the layers above the base.
    pub user_bytes: u64,
    /// Wasted bytes the layers above the base caused: their own files that are not in
    /// the final filesystem, and base files they deleted or overwrote.
    pub user_wasted_bytes: u64,
    /// user_wasted_bytes / user_bytes (0 when there are none).
    pub user_wasted_ratio: f64,
    pub files: u64,
    pub layers: Vec<LayerReport>,
    pub wasted_files: Vec<WastedFile>,
    pub config: ConfigReport,
    pub go_binaries: Vec<GoBinaryReport>,
    pub findings: Vec<Finding>,
    /// `--ci` rule results; null without `--ci`.
    pub ci: Option<judge::CiResult>,
}

/// Options for [`analyze`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Layers that belong to the base image (default: from history, else 1 like dive).
    pub base_layers: Option<usize>,
    /// Wasted files listed at most.
    pub top_wasted: usize,
    pub limits: Limits,
    pub ci: Option<CiRules>,
}

/// Builds the report from what was read (pure).
pub fn analyze(source: &Source, loaded: &source::Loaded, opts: &Options) -> ImageReport {
    judge::report(source, loaded, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_paths_are_archives_and_names_go_to_the_engine() {
        for p in [
            "/tmp/boxwise-nosuch.tar",
            "./x",
            "../x",
            "x.tar",
            "x.tar.gz",
            "x.tgz",
        ] {
            assert_eq!(Source::parse(p), Source::Archive(p.into()), "{p}");
        }
        for n in ["alpine", "org/app:1.0", "ghcr.io/org/app@sha256:ab"] {
            assert_eq!(Source::parse(n), Source::Engine(n.into()), "{n}");
        }
    }

    #[test]
    fn missing_archive_says_so_in_one_line() {
        let e = load(&Source::parse("/tmp/boxwise-nosuch.tar"), None)
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "/tmp/boxwise-nosuch.tar: No such file or directory"
        );
    }

    #[test]
    fn text_file_is_not_an_image_and_its_content_is_not_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("passwd");
        std::fs::write(&p, "root:x:0:0:SECRET:/root:/bin/bash\n".repeat(40)).unwrap();
        let msg = load(&Source::Archive(p.clone()), None)
            .err()
            .unwrap()
            .to_string();
        assert!(
            msg.starts_with(&format!(
                "{}: not an image (neither a docker save archive nor an OCI layout): ",
                p.display()
            )),
            "{msg}"
        );
        assert!(!msg.contains('\n') && !msg.contains("SECRET"), "{msg}");
    }

    #[test]
    fn one_line_escapes_and_caps() {
        assert_eq!(one_line("a\nb", 10), "a\\nb");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
}
