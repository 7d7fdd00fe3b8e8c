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
        } else if p.is_file() {
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

/// Reads the image from its source, streaming each layer once.
pub fn load(source: &Source, platform: Option<&str>) -> Result<source::Loaded, Error> {
    match source {
        Source::Archive(p) => {
            let f =
                std::fs::File::open(p).map_err(|e| Error::Io(format!("{}: {e}", p.display())))?;
            source::read_tar_stream(f, platform).map_err(|e| match e {
                Error::Format(m) => Error::Format(format!("{}: {m}", p.display())),
                other => other,
            })
        }
        Source::OciDir(p) => source::read_oci_dir(p, platform).map_err(|e| match e {
            Error::Format(m) => Error::Format(format!("{}: {m}", p.display())),
            other => other,
        }),
        Source::Engine(name) => source::read_tar_stream(engine::export(name)?, platform),
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
    /// wasted_bytes / bytes of the layers above the base (0 when there are none).
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
    /// Layers that belong to the base image (default 1, like dive).
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
