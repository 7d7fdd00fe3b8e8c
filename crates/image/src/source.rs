//! The I/O edge: gets the JSON documents and streams each layer once, from a `docker save`
//! tar (file or the engine's export stream), or from an OCI layout directory.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::Error;
use crate::layer::{self, LayerScan, clean_path};
use crate::spec::{self, Resolved};

/// JSON documents larger than this are not images' (configs are a few KiB).
const MAX_JSON: u64 = 16 << 20;

/// What was read: the resolved image and each of its layers, bottom first.
pub struct Loaded {
    pub resolved: Resolved,
    pub layers: Vec<(String, u64, LayerScan)>,
}

/// Reads a `docker save` tar (legacy or OCI inside, optionally gzip-compressed) from a
/// stream, in one pass: the JSON documents may come before or after the layers, so every
/// layer blob is summarised as it passes and the manifest then says which are used.
pub fn read_tar_stream(input: impl Read, platform: Option<&str>) -> Result<Loaded, Error> {
    let mut buffered = BufReader::with_capacity(256 << 10, input);
    let head = buffered
        .fill_buf()
        .map_err(|e| Error::Format(format!("archive: {}", crate::io_text(&e))))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        return read_tar(flate2::bufread::MultiGzDecoder::new(buffered), platform);
    }
    read_tar(buffered, platform)
}

/// Why the tar could not be read, in a few words: the tar crate's messages quote the
/// bytes it could not parse (`numeric field was not a number: <file content>`), so only
/// the part before the first `:` or line break is kept.
fn tar_reason(e: &std::io::Error) -> String {
    let s = crate::io_text(e);
    let cut = s.find([':', '\n', '\r']).unwrap_or(s.len());
    crate::one_line(s[..cut].trim(), 80)
}

fn read_tar(input: impl Read, platform: Option<&str>) -> Result<Loaded, Error> {
    let seen = std::cell::Cell::new(0usize);
    // Before the first entry the input is not a tar at all; after it, a broken one.
    let bad = |e: std::io::Error| {
        let why = tar_reason(&e);
        // The tar crate's reason for a file that is no tar at all (`numeric field was not
        // a number`) says nothing to the user: only that it is not one.
        Error::Format(if seen.get() == 0 {
            format!("{}: not a tar archive", spec::NOT_AN_IMAGE)
        } else {
            format!("archive: {why}")
        })
    };
    let mut archive = tar::Archive::new(input);
    let mut jsons: HashMap<String, Vec<u8>> = HashMap::new();
    let mut scans: HashMap<String, (u64, LayerScan)> = HashMap::new();
    let mut aliases: HashMap<String, String> = HashMap::new();
    let mut json_total = 0u64;
    for entry in archive.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        seen.set(seen.get() + 1);
        let Some(path) = clean_path(&String::from_utf8_lossy(&entry.path_bytes())) else {
            continue;
        };
        let kind = entry.header().entry_type();
        if kind == tar::EntryType::Symlink || kind == tar::EntryType::Link {
            // docker save links a layer it already wrote: `b/layer.tar -> ../a/layer.tar`.
            if let Some(target) = entry.link_name_bytes() {
                let target = String::from_utf8_lossy(&target).into_owned();
                let base = if kind == tar::EntryType::Symlink {
                    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
                } else {
                    ""
                };
                if let Some(t) = clean_relative(base, &target) {
                    aliases.insert(path, t);
                }
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let size = entry.size();
        let mut reader = BufReader::with_capacity(64 << 10, entry);
        let first = reader.fill_buf().map_err(bad)?.first().copied();
        let layer_like = path.ends_with("layer.tar") || path.starts_with("blobs/");
        if matches!(first, Some(b'{' | b'[')) && size <= MAX_JSON {
            json_total += size;
            if json_total > 4 * MAX_JSON {
                return Err(Error::Format("archive: too many JSON documents".into()));
            }
            let mut data = Vec::with_capacity(size as usize);
            reader.read_to_end(&mut data).map_err(bad)?;
            jsons.insert(path, data);
        } else if layer_like {
            let scan = layer::scan(reader, &path)?;
            scans.insert(path, (size, scan));
        }
    }
    let resolved = spec::resolve(&|p| jsons.get(p).cloned(), platform)?;
    let mut layers: Vec<(String, u64, LayerScan)> = Vec::new();
    for want in &resolved.layers {
        let mut key = clean_path(want).unwrap_or_default();
        for _ in 0..8 {
            match aliases.get(&key) {
                Some(t) if !scans.contains_key(&key) => key = t.clone(),
                _ => break,
            }
        }
        // The same blob listed twice (two layers with equal content) was read once.
        let (size, scan) = match scans.remove(&key) {
            Some(found) => found,
            None => match layers.iter().find(|(k, _, _)| *k == key) {
                Some((_, size, scan)) => (*size, scan.clone()),
                None => {
                    return Err(Error::Format(format!(
                        "layer {want} named by the manifest is not in the archive"
                    )));
                }
            },
        };
        layers.push((key, size, scan));
    }
    Ok(Loaded { resolved, layers })
}

fn clean_relative(base: &str, target: &str) -> Option<String> {
    let joined = if target.starts_with('/') {
        target.to_string()
    } else {
        format!("{base}/{target}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Reads an OCI image layout directory (index.json, blobs/ALG/HEX).
pub fn read_oci_dir(dir: &Path, platform: Option<&str>) -> Result<Loaded, Error> {
    let get = |p: &str| -> Option<Vec<u8>> {
        let f = boxwise_box::host::open_regular(&dir.join(p)).ok()?;
        let mut data = Vec::new();
        f.take(MAX_JSON).read_to_end(&mut data).ok()?;
        Some(data)
    };
    let resolved = spec::resolve(&get, platform)?;
    let mut layers = Vec::new();
    for path in &resolved.layers {
        let full = dir.join(path);
        let file = boxwise_box::host::open_regular(&full)
            .map_err(|e| Error::Io(format!("{}: {e}", full.display())))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let scan = layer::scan(file, &full.display().to_string())?;
        layers.push((path.clone(), size, scan));
    }
    Ok(Loaded { resolved, layers })
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = read_tar_stream(&data[..], None);
        }

        #[test]
        fn any_json_never_panics(s in "\\PC{0,200}") {
            let get = |p: &str| (p == "index.json" || p == "manifest.json").then(|| s.as_bytes().to_vec());
            let _ = spec::resolve(&get, None);
        }
    }

    #[test]
    fn relative_links_resolve() {
        assert_eq!(
            clean_relative("b", "../a/layer.tar").as_deref(),
            Some("a/layer.tar")
        );
        assert_eq!(clean_relative("", "../../x"), None);
    }
}
