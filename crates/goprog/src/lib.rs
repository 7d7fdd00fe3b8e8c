//! What a Go program is, read from its ELF file without a Go toolchain: the Go version and
//! module info the linker embeds (both the Go 1.18+ inline blob and the older pointer-based
//! one, 32/64-bit, either byte order), build settings such as `DefaultGODEBUG`, and the ELF
//! facts that matter in a container (static or dynamic, which libc, stripped, DWARF size,
//! size by section, build IDs).
//!
//! ```no_run
//! let bin = boxwise_goprog::GoBinary::read("/usr/bin/docker")?;
//! println!("{} {:?}", bin.go_version, bin.go_minor());
//! # Ok::<(), boxwise_goprog::Error>(())
//! ```

pub mod buildinfo;
pub mod elf;
mod mapped;
pub mod modinfo;
pub mod notes;
pub mod process;
mod quick;
pub mod quote;

use std::fmt;
use std::path::{Path, PathBuf};

use boxwise_box::policy::GoRuntime;
use serde::Serialize;

pub use buildinfo::BlobFormat;
pub use elf::{Libc, Linkage, SectionSize};
pub use modinfo::{ModInfo, Module};
pub use notes::{Note, Severity};

/// Why a file could not be read as a Go binary. Displays as one line naming the file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", file.display())]
pub struct Error {
    pub file: PathBuf,
    pub kind: ErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Elf(#[from] elf::ElfError),
    #[error("not a Go executable (no Go build info found)")]
    NotGo,
    #[error("malformed Go build info: {0}")]
    ModInfo(#[from] modinfo::ModInfoError),
}

/// Everything known about one Go executable.
#[derive(Debug, Clone, Serialize)]
pub struct GoBinary {
    /// The file as it was named.
    pub file: PathBuf,
    pub file_size: u64,
    /// Toolchain version as recorded, e.g. `go1.23.5` (may carry ` X:...` experiments).
    pub go_version: String,
    /// Main package path (`path` line); empty outside module mode.
    pub path: String,
    /// Main module (`mod` line).
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    /// Build settings (`build` lines) in recorded order.
    #[serde(serialize_with = "settings_as_objects")]
    pub settings: Vec<(String, String)>,
    pub buildinfo_format: BlobFormat,
    /// 32 or 64.
    pub class_bits: u8,
    pub big_endian: bool,
    /// GOARCH-style machine name (`amd64`, `arm64`, ...).
    pub machine: String,
    /// ELF type `ET_DYN` (PIE).
    pub position_independent: bool,
    pub linkage: Linkage,
    /// `PT_INTERP`, e.g. `/lib64/ld-linux-x86-64.so.2`.
    pub interpreter: Option<String>,
    /// `DT_NEEDED` libraries in order.
    pub needed: Vec<String>,
    pub libc: Option<Libc>,
    /// `.symtab` present.
    pub has_symtab: bool,
    /// Bytes of `.symtab` + `.strtab`.
    pub symtab_size: u64,
    /// Bytes of `.debug_*` / `.zdebug_*` sections in the file.
    pub dwarf_size: u64,
    pub sections: Vec<SectionSize>,
    /// The Go build ID (`.note.go.buildid`).
    pub go_build_id: Option<String>,
    /// The GNU build ID (only with external linking), hex.
    pub gnu_build_id: Option<String>,
}

fn settings_as_objects<S: serde::Serializer>(
    settings: &[(String, String)],
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Setting<'a> {
        key: &'a str,
        value: &'a str,
    }
    s.collect_seq(settings.iter().map(|(key, value)| Setting { key, value }))
}

impl GoBinary {
    /// Reads and decodes the file at `path`.
    pub fn read(path: impl AsRef<Path>) -> Result<GoBinary, Error> {
        let path = path.as_ref();
        let data = mapped::Mapped::open(path).map_err(|e| Error {
            file: path.to_path_buf(),
            kind: e.into(),
        })?;
        GoBinary::parse(path, data.bytes())
    }

    /// Decodes an in-memory copy of a file; `file` only names it in errors and output.
    pub fn parse(file: impl AsRef<Path>, data: &[u8]) -> Result<GoBinary, Error> {
        let file = file.as_ref();
        let fail = |kind: ErrorKind| Error {
            file: file.to_path_buf(),
            kind,
        };
        let image = elf::ElfImage::parse(data).map_err(|e| fail(e.into()))?;
        let raw = buildinfo::read(&image).ok_or_else(|| fail(ErrorKind::NotGo))?;
        let info = ModInfo::parse(&raw.modinfo).map_err(|e| fail(e.into()))?;
        let size_of = |pred: &dyn Fn(&str) -> bool| -> u64 {
            image
                .sections
                .iter()
                .filter(|(s, _, _)| pred(&s.name))
                .map(|(s, _, _)| s.file_size)
                .fold(0u64, u64::saturating_add)
        };
        Ok(GoBinary {
            file: file.to_path_buf(),
            file_size: data.len() as u64,
            go_version: raw.go_version,
            path: info.path,
            main: info.main,
            deps: info.deps,
            settings: info.settings,
            buildinfo_format: raw.format,
            class_bits: image.class_bits,
            big_endian: image.big_endian,
            machine: elf::machine_name(image.machine, image.class_bits, image.big_endian),
            position_independent: image.position_independent,
            linkage: image.linkage(),
            interpreter: image.interpreter.clone(),
            needed: image.needed.clone(),
            libc: image.libc(),
            has_symtab: image.has_symtab(),
            symtab_size: size_of(&|n| n == ".symtab" || n == ".strtab"),
            dwarf_size: size_of(&|n| n.starts_with(".debug_") || n.starts_with(".zdebug_")),
            sections: image.sections.iter().map(|(s, _, _)| s.clone()).collect(),
            go_build_id: image.go_build_id.clone(),
            gnu_build_id: image.gnu_build_id.clone(),
        })
    }

    /// The first build setting with this key.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `DefaultGODEBUG` as recorded (absent when the module's go line needs no overrides).
    pub fn default_godebug(&self) -> Option<&str> {
        self.setting("DefaultGODEBUG")
    }

    /// One key of `DefaultGODEBUG` (`containermaxprocs` -> `Some("0")`).
    pub fn default_godebug_value(&self, key: &str) -> Option<&str> {
        self.default_godebug()?
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim())
    }

    /// `CGO_ENABLED` from the build settings (`None` when not recorded, e.g. before Go 1.18).
    pub fn cgo_enabled(&self) -> Option<bool> {
        self.setting("CGO_ENABLED").map(|v| v == "1")
    }

    /// Built with `-trimpath`.
    pub fn trimpath(&self) -> bool {
        self.setting("-trimpath") == Some("true")
    }

    /// `(major, minor)` of the Go toolchain, e.g. `(1, 23)`.
    pub fn go_release(&self) -> Option<(u32, u32)> {
        parse_go_release(&self.go_version)
    }

    /// The Go 1.x minor version (`go1.23.5` -> 23).
    pub fn go_minor(&self) -> Option<u32> {
        match self.go_release()? {
            (1, m) => Some(m),
            _ => None,
        }
    }

    /// The facts that decide the GOMAXPROCS its runtime picks (`box::policy`), with the
    /// GODEBUG it will run with (`None`: as built).
    pub fn runtime(&self, env_godebug: Option<&str>) -> Option<GoRuntime> {
        go_runtime(&self.go_version, self.default_godebug(), env_godebug)
    }

    /// Whether the runtime sizes GOMAXPROCS from the cgroup CPU limit by itself, as built
    /// (Go 1.25+ and DefaultGODEBUG leaves `containermaxprocs` on).
    pub fn container_aware_gomaxprocs(&self) -> bool {
        self.runtime(None).is_some_and(|r| r.container_aware)
    }

    /// Whether the runtime re-reads the limit while running (Go 1.25+ `updatemaxprocs`).
    pub fn updates_gomaxprocs(&self) -> bool {
        self.runtime(None).is_some_and(|r| r.updates)
    }

    /// Whether the runtime honours `GOMEMLIMIT` (Go 1.19+).
    pub fn supports_gomemlimit(&self) -> bool {
        self.go_release().is_some_and(|r| r >= (1, 19))
    }

    /// DWARF plus symbol table bytes.
    pub fn debug_size(&self) -> u64 {
        self.dwarf_size.saturating_add(self.symtab_size)
    }

    /// Stripped: no `.symtab` (what `file` reports; `-ldflags=-s` or GNU strip).
    pub fn stripped(&self) -> bool {
        !self.has_symtab
    }

    /// The module-info block re-created the way Go prints it.
    pub fn modinfo(&self) -> ModInfo {
        ModInfo {
            path: self.path.clone(),
            main: self.main.clone(),
            deps: self.deps.clone(),
            settings: self.settings.clone(),
        }
    }

    /// Exactly what `go version -m FILE` prints, with `name` as FILE.
    pub fn go_version_m(&self, name: &str) -> String {
        let mut out = format!("{name}: {}\n", self.go_version);
        let text = self.modinfo().to_text();
        if let Some(body) = text.strip_suffix('\n') {
            out.push('\t');
            out.push_str(&body.replace('\n', "\n\t"));
            out.push('\n');
        }
        out
    }

    /// Container-fitness notes, most important first.
    pub fn notes(&self) -> Vec<Note> {
        notes::for_binary(self)
    }
}

/// Just what `exec` needs of a program: its Go version and DefaultGODEBUG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildFacts {
    pub go_version: String,
    pub default_godebug: Option<String>,
}

impl BuildFacts {
    /// Reads only the ELF header, the section headers and names, and `.go.buildinfo`
    /// (a few `pread`s); the full reader handles what that cannot.
    pub fn read(path: impl AsRef<Path>) -> Result<BuildFacts, Error> {
        let path = path.as_ref();
        let fail = |kind: ErrorKind| Error {
            file: path.to_path_buf(),
            kind,
        };
        let file = boxwise_box::host::open_regular(path).map_err(|e| fail(e.into()))?;
        let (go_version, modinfo) = match quick::read(&file).map_err(|e| fail(e.into()))? {
            quick::Quick::Found {
                go_version,
                modinfo,
            } => (go_version, modinfo),
            quick::Quick::NotGo => return Err(fail(ErrorKind::NotGo)),
            quick::Quick::NotElf(head) => {
                return Err(fail(
                    elf::ElfImage::parse(&head)
                        .err()
                        .map_or(ErrorKind::NotGo, ErrorKind::Elf),
                ));
            }
            quick::Quick::Unsure => {
                let bin = GoBinary::read(path)?;
                return Ok(BuildFacts {
                    default_godebug: bin.default_godebug().map(str::to_string),
                    go_version: bin.go_version,
                });
            }
        };
        let info = ModInfo::parse(&modinfo).map_err(|e| fail(e.into()))?;
        let default_godebug = info
            .settings
            .into_iter()
            .find(|(k, _)| k == "DefaultGODEBUG")
            .map(|(_, v)| v);
        Ok(BuildFacts {
            go_version,
            default_godebug,
        })
    }

    /// As [`GoBinary::runtime`].
    pub fn runtime(&self, env_godebug: Option<&str>) -> Option<GoRuntime> {
        go_runtime(
            &self.go_version,
            self.default_godebug.as_deref(),
            env_godebug,
        )
    }
}

fn go_runtime(
    version: &str,
    default_godebug: Option<&str>,
    env_godebug: Option<&str>,
) -> Option<GoRuntime> {
    let release = parse_go_release(version)?;
    Some(GoRuntime::new(
        version,
        release,
        default_godebug,
        env_godebug,
    ))
}

/// `(major, minor)` from a Go version string: `go1.23.5`, `go1.25rc1`,
/// `go1.19.8 X:boringcrypto`, `devel go1.26-abc ...`.
pub fn parse_go_release(version: &str) -> Option<(u32, u32)> {
    let start = version.find("go")? + 2;
    let rest = &version[start..];
    let digits = |s: &str| -> Option<(u32, usize)> {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        Some((s[..n].parse().ok()?, n))
    };
    let (major, n) = digits(rest)?;
    let rest = rest[n..].strip_prefix('.')?;
    let (minor, _) = digits(rest)?;
    Some((major, minor))
}

impl fmt::Display for Linkage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Linkage::Static => "static",
            Linkage::StaticPie => "static-pie",
            Linkage::Dynamic => "dynamic",
        })
    }
}

impl fmt::Display for Libc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Libc::Glibc => "glibc",
            Libc::Musl => "musl",
            Libc::Other => "an unknown libc",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn go_release_parsing() {
        assert_eq!(parse_go_release("go1.23.5"), Some((1, 23)));
        assert_eq!(parse_go_release("go1.25rc1"), Some((1, 25)));
        assert_eq!(parse_go_release("go1.19.8 X:boringcrypto"), Some((1, 19)));
        assert_eq!(parse_go_release("devel go1.26-abcdef Tue"), Some((1, 26)));
        assert_eq!(parse_go_release("go1"), None);
        assert_eq!(parse_go_release("devel +abc"), None);
        assert_eq!(parse_go_release(""), None);
    }

    proptest! {
        #[test]
        fn go_release_never_panics(s in any::<String>()) {
            let _ = parse_go_release(&s);
        }

        #[test]
        fn go_release_reads_generated_versions(a in 0u32..100, b in 0u32..100, p in 0u32..30) {
            prop_assert_eq!(parse_go_release(&format!("go{a}.{b}.{p}")), Some((a, b)));
        }
    }
}
