//! `exec`'s reader: the Go version and DefaultGODEBUG with a handful of `pread`s (ELF header,
//! section headers, their names, `.go.buildinfo`) instead of mapping the file, so a launcher
//! pays a few microseconds per program. Anything unusual (no section headers, the pre-1.18
//! pointer format) is left to the full reader.

use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::buildinfo;

/// What the quick path found.
pub(crate) enum Quick {
    /// The raw Go version and the module info with its framing removed.
    Found { go_version: String, modinfo: String },
    /// An ELF file with section headers and no `.go.buildinfo`: not Go.
    NotGo,
    /// Not ELF: the first bytes, for the error message.
    NotElf(Vec<u8>),
    /// Leave it to the full reader.
    Unsure,
}

/// Section headers read at most (Go binaries have about 25; C++ programs a few hundred).
const MAX_SECTIONS: u64 = 4096;
/// The section holds the 32-byte header and two strings; Go's reader looks at 64 KiB too.
const MAX_BUILDINFO: u64 = 64 << 10;

pub(crate) fn read(file: &File) -> std::io::Result<Quick> {
    let mut ident = [0u8; 64];
    let n = read_at_most(file, &mut ident, 0)?;
    let ident = &ident[..n];
    if ident.len() < 4 || &ident[..4] != b"\x7fELF" {
        return Ok(Quick::NotElf(ident.to_vec()));
    }
    let (bits64, big) = match (ident.get(4), ident.get(5)) {
        (Some(1), Some(1)) => (false, false),
        (Some(1), Some(2)) => (false, true),
        (Some(2), Some(1)) => (true, false),
        (Some(2), Some(2)) => (true, true),
        _ => return Ok(Quick::Unsure),
    };
    let f = Fields { big };
    let (shoff, shentsize, shnum, shstrndx) = if bits64 {
        (
            f.u(ident, 0x28, 8),
            f.u(ident, 0x3a, 2),
            f.u(ident, 0x3c, 2),
            f.u(ident, 0x3e, 2),
        )
    } else {
        (
            f.u(ident, 0x20, 4),
            f.u(ident, 0x2e, 2),
            f.u(ident, 0x30, 2),
            f.u(ident, 0x32, 2),
        )
    };
    let (Some(shoff), Some(shentsize), Some(shnum), Some(shstrndx)) =
        (shoff, shentsize, shnum, shstrndx)
    else {
        return Ok(Quick::Unsure);
    };
    let min_entry = if bits64 { 64 } else { 40 };
    // No sections (sstrip), extended numbering (shnum 0 with sections) or odd sizes.
    if shoff == 0
        || shnum == 0
        || shnum > MAX_SECTIONS
        || shentsize < min_entry
        || shstrndx >= shnum
    {
        return Ok(Quick::Unsure);
    }
    let mut table = vec![0u8; (shnum * shentsize) as usize];
    if read_at_most(file, &mut table, shoff)? < table.len() {
        return Ok(Quick::Unsure);
    }
    let header = |i: u64| -> Option<(u64, u64, u64)> {
        let h = table.get((i * shentsize) as usize..((i + 1) * shentsize) as usize)?;
        // sh_name, sh_offset, sh_size
        Some(if bits64 {
            (f.u(h, 0, 4)?, f.u(h, 0x18, 8)?, f.u(h, 0x20, 8)?)
        } else {
            (f.u(h, 0, 4)?, f.u(h, 0x10, 4)?, f.u(h, 0x14, 4)?)
        })
    };
    let Some((_, str_off, str_size)) = header(shstrndx) else {
        return Ok(Quick::Unsure);
    };
    let mut names = vec![0u8; str_size.min(1 << 20) as usize];
    let names_len = read_at_most(file, &mut names, str_off)?;
    let names = &names[..names_len];
    let wanted = b".go.buildinfo\0";
    let found = (0..shnum).filter_map(header).find(|(name, _, _)| {
        names
            .get(*name as usize..)
            .is_some_and(|n| n.starts_with(wanted))
    });
    let Some((_, off, size)) = found else {
        return Ok(Quick::NotGo);
    };
    let mut region = vec![0u8; size.min(MAX_BUILDINFO) as usize];
    let len = read_at_most(file, &mut region, off)?;
    Ok(match buildinfo::decode_inline(&region[..len]) {
        Some((go_version, modinfo)) => Quick::Found {
            go_version,
            modinfo,
        },
        None => Quick::Unsure,
    })
}

/// Fills as much of `buf` as the file has from `offset`; the count read.
fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

struct Fields {
    big: bool,
}

impl Fields {
    /// An unsigned field of `width` bytes at `at`, in the file's byte order.
    fn u(&self, data: &[u8], at: usize, width: usize) -> Option<u64> {
        let b = data.get(at..at + width)?;
        Some(if self.big {
            b.iter().fold(0u64, |v, &x| v << 8 | u64::from(x))
        } else {
            b.iter().rev().fold(0u64, |v, &x| v << 8 | u64::from(x))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64-bit little-endian ELF with a null section, `.shstrtab` and `sect` holding `body`.
    fn elf(sect: &str, body: &[u8]) -> Vec<u8> {
        let names = format!("\0.shstrtab\0{sect}\0");
        let mut f = vec![0u8; 64];
        f[..6].copy_from_slice(b"\x7fELF\x02\x01");
        let names_off = f.len() as u64;
        f.extend_from_slice(names.as_bytes());
        let body_off = f.len() as u64;
        f.extend_from_slice(body);
        let shoff = f.len() as u64;
        f[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
        f[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        f[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes());
        f[0x3e..0x40].copy_from_slice(&1u16.to_le_bytes());
        for (name, off, size) in [
            (0u32, 0u64, 0u64),
            (1, names_off, names.len() as u64),
            (11, body_off, body.len() as u64),
        ] {
            let mut h = [0u8; 64];
            h[..4].copy_from_slice(&name.to_le_bytes());
            h[0x18..0x20].copy_from_slice(&off.to_le_bytes());
            h[0x20..0x28].copy_from_slice(&size.to_le_bytes());
            f.extend_from_slice(&h);
        }
        f
    }

    fn blob(version: &str, modinfo: &str) -> Vec<u8> {
        let mut b = b"\xff Go buildinf:\x08\x02".to_vec();
        b.resize(32, 0);
        b.push(version.len() as u8);
        b.extend_from_slice(version.as_bytes());
        let framed = format!("{}{modinfo}{}", "0".repeat(16), "1".repeat(16));
        b.push(framed.len() as u8);
        b.extend_from_slice(framed.as_bytes());
        b
    }

    fn quick(data: &[u8]) -> Quick {
        let dir = tempfile_dir();
        let path = dir.join(format!("q{}", data.len()));
        std::fs::write(&path, data).unwrap();
        read(&File::open(&path).unwrap()).unwrap()
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("goprog-quick-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn finds_the_blob_with_preads() {
        let modinfo = "path\tx\nbuild\tDefaultGODEBUG=containermaxprocs=0\n";
        match quick(&elf(".go.buildinfo", &blob("go1.25.3", modinfo))) {
            Quick::Found {
                go_version,
                modinfo: m,
            } => {
                assert_eq!(go_version, "go1.25.3");
                assert_eq!(m, modinfo);
            }
            _ => panic!("not found"),
        }
        assert!(matches!(quick(&elf(".data", b"xyz")), Quick::NotGo));
        assert!(matches!(quick(b"#!/bin/sh\n"), Quick::NotElf(_)));
        // The pointer format (flags without bit 2) goes to the full reader.
        let mut old = blob("go1.17", "");
        old[15] = 0;
        assert!(matches!(quick(&elf(".go.buildinfo", &old)), Quick::Unsure));
        std::fs::remove_dir_all(tempfile_dir()).unwrap();
    }
}
