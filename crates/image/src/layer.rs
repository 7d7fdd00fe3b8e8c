//! One pass over one layer blob: what it adds, what it deletes (whiteouts), and the Go
//! programs in it, read while the bytes stream past. Nothing else of a file is kept.

use std::io::{BufRead, BufReader, Read};

use boxwise_goprog::GoBinary;
use serde::Serialize;

use crate::Error;

/// Executables larger than this are not read (a Go service is rarely over 200 MiB).
pub const MAX_EXECUTABLE: u64 = 512 << 20;
/// os-release is a few hundred bytes.
const MAX_TEXT: u64 = 64 << 10;
/// Entries read from one layer at most (bounded memory against a hostile archive).
pub const MAX_ENTRIES: usize = 2_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Hardlink,
    Other,
}

/// One path a layer sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the root, no leading or trailing slash.
    pub path: String,
    pub kind: Kind,
    /// Content bytes (regular files only; 0 otherwise).
    pub size: u64,
    /// Symlink target.
    pub link: Option<String>,
}

/// How a layer blob is compressed (from its first bytes, not its media type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// What one layer holds.
#[derive(Debug, Clone, Default)]
pub struct LayerScan {
    pub entries: Vec<Entry>,
    /// Paths deleted from lower layers (`.wh.NAME`).
    pub whiteouts: Vec<String>,
    /// Directories whose lower-layer contents are hidden (`.wh..wh..opq`).
    pub opaque: Vec<String>,
    /// Go executables found in this layer.
    pub go: Vec<GoBinary>,
    /// Small text files boxwise reads (os-release), by path.
    pub texts: Vec<(String, String)>,
    pub compression: Option<Compression>,
}

/// Cleans a tar path: no `./`, no leading or trailing `/`; `None` for the root or a path
/// that climbs out with `..`.
pub fn clean_path(raw: &str) -> Option<String> {
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn split_parent(path: &str) -> (&str, &str) {
    match path.rsplit_once('/') {
        Some((dir, name)) => (dir, name),
        None => ("", path),
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Reads a layer blob (gzip, zstd or plain tar) once, start to end.
pub fn scan(blob: impl Read, name: &str) -> Result<LayerScan, Error> {
    let bad = |e: std::io::Error| Error::Format(format!("layer {name}: {e}"));
    let mut buffered = BufReader::with_capacity(256 << 10, blob);
    let head = buffered.fill_buf().map_err(bad)?;
    let compression = if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    };
    let mut scan = match compression {
        Compression::Gzip => scan_tar(flate2::bufread::MultiGzDecoder::new(buffered), name)?,
        Compression::Zstd => scan_tar(
            zstd::stream::read::Decoder::with_buffer(buffered).map_err(bad)?,
            name,
        )?,
        Compression::None => scan_tar(buffered, name)?,
    };
    scan.compression = Some(compression);
    Ok(scan)
}

fn scan_tar(reader: impl Read, name: &str) -> Result<LayerScan, Error> {
    let bad = |e: std::io::Error| Error::Format(format!("layer {name}: {e}"));
    let mut archive = tar::Archive::new(reader);
    let mut out = LayerScan::default();
    let mut count = 0usize;
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        count += 1;
        if count > MAX_ENTRIES {
            return Err(Error::Format(format!(
                "layer {name}: more than {MAX_ENTRIES} entries"
            )));
        }
        let raw = entry.path_bytes();
        let Some(path) = clean_path(&String::from_utf8_lossy(&raw)) else {
            continue;
        };
        let (dir, base) = split_parent(&path);
        if let Some(hidden) = base.strip_prefix(".wh.") {
            if hidden == ".wh..opq" {
                out.opaque.push(dir.to_string());
            } else if !hidden.starts_with(".wh.") && !hidden.is_empty() {
                out.whiteouts.push(join(dir, hidden));
            }
            continue;
        }
        let header = entry.header();
        let kind = match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => Kind::File,
            tar::EntryType::Directory => Kind::Dir,
            tar::EntryType::Symlink => Kind::Symlink,
            tar::EntryType::Link => Kind::Hardlink,
            _ => Kind::Other,
        };
        let size = if kind == Kind::File { entry.size() } else { 0 };
        let mode = header.mode().unwrap_or(0);
        let link = match kind {
            Kind::Symlink | Kind::Hardlink => entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned()),
            _ => None,
        };
        if kind == Kind::File {
            if mode & 0o111 != 0 && (64..=MAX_EXECUTABLE).contains(&size) {
                read_executable(&mut entry, &path, size, &mut out).map_err(bad)?;
            } else if size <= MAX_TEXT && (path == "etc/os-release" || path == "usr/lib/os-release")
            {
                let mut text = String::new();
                if entry.read_to_string(&mut text).is_ok() {
                    out.texts.push((path.clone(), text));
                }
            }
        }
        out.entries.push(Entry {
            path,
            kind,
            size,
            link,
        });
    }
    Ok(out)
}

/// Reads an executable whole only if it starts like an ELF file; keeps it only if Go.
fn read_executable(
    entry: &mut impl Read,
    path: &str,
    size: u64,
    out: &mut LayerScan,
) -> std::io::Result<()> {
    let mut magic = [0u8; 4];
    entry.read_exact(&mut magic)?;
    if &magic != b"\x7fELF" {
        return Ok(());
    }
    let mut data = Vec::with_capacity(size as usize);
    data.extend_from_slice(&magic);
    entry.take(size - 4).read_to_end(&mut data)?;
    if let Ok(bin) = GoBinary::parse(format!("/{path}"), &data) {
        out.go.push(bin);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tar_of(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data, mode) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(*mode);
            h.set_cksum();
            b.append_data(&mut h, path, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn whiteouts_and_opaque_dirs_are_recognised() {
        let t = tar_of(&[
            ("a/.wh.gone", b"", 0o644),
            ("b/.wh..wh..opq", b"", 0o644),
            ("b/kept", b"xyz", 0o644),
            (".wh..wh.plnk", b"", 0o644),
        ]);
        let s = scan(&t[..], "t").unwrap();
        assert_eq!(s.whiteouts, vec!["a/gone"]);
        assert_eq!(s.opaque, vec!["b"]);
        assert_eq!(s.entries.len(), 1);
        assert_eq!(s.entries[0].size, 3);
        assert_eq!(s.compression, Some(Compression::None));
    }

    #[test]
    fn gzip_and_zstd_layers_read_the_same() {
        let t = tar_of(&[("x", b"hello", 0o644)]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &t).unwrap();
        let gz = gz.finish().unwrap();
        let zs = zstd::stream::encode_all(&t[..], 1).unwrap();
        for (blob, c) in [(gz, Compression::Gzip), (zs, Compression::Zstd)] {
            let s = scan(&blob[..], "t").unwrap();
            assert_eq!(s.compression, Some(c));
            assert_eq!(s.entries[0].path, "x");
            assert_eq!(s.entries[0].size, 5);
        }
    }

    #[test]
    fn paths_are_cleaned() {
        assert_eq!(clean_path("./usr/bin/"), Some("usr/bin".into()));
        assert_eq!(clean_path("/"), None);
        assert_eq!(clean_path("a/../../x"), None);
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = scan(&data[..], "fuzz");
        }

        #[test]
        fn clean_path_has_no_empty_or_dot_parts(raw in "[a-z./]{0,30}") {
            if let Some(p) = clean_path(&raw) {
                prop_assert!(p.split('/').all(|s| !s.is_empty() && s != "." && s != ".."));
            }
        }
    }
}
