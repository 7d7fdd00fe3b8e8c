//! Finding and decoding the build-info blob the Go linker leaves in every binary
//! (`debug/buildinfo`): a 32-byte header starting `"\xff Go buildinf:"` at a 16-byte aligned
//! offset, then either two length-prefixed strings (Go 1.18+) or two pointers to Go string
//! headers (older).

use serde::Serialize;

use crate::elf::ElfImage;

const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
const ALIGN: usize = 16;
const HEADER: usize = 32;

/// How the blob stores its two strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlobFormat {
    /// Go 1.18+: varint-length-prefixed strings right after the header.
    Inline,
    /// Before Go 1.18: pointers to `runtime.buildVersion` and `runtime.modinfo`.
    Pointer,
}

/// The two raw strings: the Go version, and the module info with its framing removed
/// (empty outside module mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBuildInfo {
    pub go_version: String,
    pub modinfo: String,
    pub format: BlobFormat,
    pub ptr_size: u8,
    pub big_endian: bool,
    /// File offset of the blob header.
    pub offset: u64,
}

/// Finds and decodes the blob; `None` means "not a Go executable".
pub fn read(image: &ElfImage<'_>) -> Option<RawBuildInfo> {
    let (addr, size) = image.buildinfo_region()?;
    if size == 0 {
        return None;
    }
    let region = image.read_at(addr, size)?;
    let start = find_header(region)?;
    let blob = &region[start..];
    let ptr_size = blob[14];
    let flags = blob[15];
    let big_endian = flags & 1 != 0;
    let offset = (blob.as_ptr() as usize - image.data.as_ptr() as usize) as u64;
    let (version, modinfo, format) = if flags & 2 != 0 {
        let (v, rest) = decode_string(&blob[HEADER..]);
        let (m, _) = decode_string(rest);
        (v, m, BlobFormat::Inline)
    } else {
        let read_ptr = |b: &[u8]| -> Option<u64> {
            Some(match (ptr_size, flags != 0) {
                (4, false) => u64::from(u32::from_le_bytes(b.get(..4)?.try_into().ok()?)),
                (4, true) => u64::from(u32::from_be_bytes(b.get(..4)?.try_into().ok()?)),
                (8, false) => u64::from_le_bytes(b.get(..8)?.try_into().ok()?),
                (8, true) => u64::from_be_bytes(b.get(..8)?.try_into().ok()?),
                _ => return None,
            })
        };
        let p = usize::from(ptr_size);
        let vers_addr = read_ptr(&blob[16..])?;
        let mod_addr = read_ptr(&blob[16 + p..])?;
        let read_string = |addr: u64| -> &[u8] {
            (|| {
                let hdr = image.read_at(addr, 2 * p as u64)?;
                if hdr.len() < 2 * p {
                    return None;
                }
                let data_addr = read_ptr(hdr)?;
                let len = read_ptr(&hdr[p..])?;
                let data = image.read_at(data_addr, len)?;
                (data.len() as u64 >= len).then_some(data)
            })()
            .unwrap_or(b"")
        };
        (
            read_string(vers_addr),
            read_string(mod_addr),
            BlobFormat::Pointer,
        )
    };
    if version.is_empty() {
        return None;
    }
    Some(RawBuildInfo {
        go_version: String::from_utf8_lossy(version).into_owned(),
        modinfo: String::from_utf8_lossy(strip_framing(modinfo)).into_owned(),
        format,
        ptr_size,
        big_endian,
        offset,
    })
}

/// The Go version and the unframed module info from a region holding a Go 1.18+ (inline)
/// blob; `None` for the older pointer format, which needs the segments to follow.
pub(crate) fn decode_inline(region: &[u8]) -> Option<(String, String)> {
    let blob = &region[find_header(region)?..];
    if blob[15] & 2 == 0 {
        return None;
    }
    let (version, rest) = decode_string(&blob[HEADER..]);
    let (modinfo, _) = decode_string(rest);
    if version.is_empty() {
        return None;
    }
    Some((
        String::from_utf8_lossy(version).into_owned(),
        String::from_utf8_lossy(strip_framing(modinfo)).into_owned(),
    ))
}

/// The offset of the first 16-byte aligned header with a full 32 bytes after it, scanning
/// the way Go does (a misaligned match too close to the end stops the search).
fn find_header(region: &[u8]) -> Option<usize> {
    let mut base = 0;
    loop {
        let data = &region[base..];
        let i = find(data, MAGIC)?;
        if data.len() - i < HEADER {
            return None;
        }
        if i % ALIGN == 0 {
            return Some(base + i);
        }
        base += (i + ALIGN - 1) & !(ALIGN - 1);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    // The magic starts with 0xff, which is rare in data: jump between its occurrences.
    let mut from = 0;
    while from + needle.len() <= hay.len() {
        let i = from + hay[from..].iter().position(|&b| b == needle[0])?;
        if hay.get(i..i + needle.len()) == Some(needle) {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

/// A uvarint length then that many bytes; `("", [])` when it does not fit (Go's rule).
fn decode_string(data: &[u8]) -> (&[u8], &[u8]) {
    match uvarint(data) {
        Some((len, n)) if len <= (data.len() - n) as u64 => {
            let end = n + len as usize;
            (&data[n..end], &data[end..])
        }
        _ => (b"", b""),
    }
}

/// `encoding/binary.Uvarint`: the value and the number of bytes read, or `None` on a
/// truncated or overflowing encoding.
pub fn uvarint(data: &[u8]) -> Option<(u64, usize)> {
    let mut x: u64 = 0;
    let mut shift = 0u32;
    for (i, &b) in data.iter().enumerate() {
        if i == 10 {
            return None;
        }
        if b < 0x80 {
            if i == 9 && b > 1 {
                return None;
            }
            return Some((x | u64::from(b) << shift, i + 1));
        }
        x |= u64::from(b & 0x7f) << shift;
        shift += 7;
    }
    None
}

/// Removes the 16-byte sentinels `cmd/go` puts around the module info; anything that
/// does not look framed means "not built in module mode" (empty).
fn strip_framing(m: &[u8]) -> &[u8] {
    if m.len() >= 33 && m[m.len() - 17] == b'\n' {
        &m[16..m.len() - 16]
    } else {
        b""
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn uvarint_like_go() {
        assert_eq!(uvarint(&[0]), Some((0, 1)));
        assert_eq!(uvarint(&[0x96, 0x01]), Some((150, 2)));
        assert_eq!(uvarint(&[0x80]), None);
        assert_eq!(uvarint(&[]), None);
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(uvarint(&max), Some((u64::MAX, 10)));
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(uvarint(&over), None);
    }

    #[test]
    fn header_search_respects_alignment() {
        let mut region = vec![0u8; 96];
        region[3..17].copy_from_slice(MAGIC);
        assert_eq!(find_header(&region), None);
        region[48..62].copy_from_slice(MAGIC);
        assert_eq!(find_header(&region), Some(48));
        region[80..94].copy_from_slice(MAGIC);
        region[48] = 0;
        assert_eq!(
            find_header(&region),
            None,
            "only 16 bytes after the last match"
        );
    }

    #[test]
    fn decode_string_bounds() {
        assert_eq!(
            decode_string(&[3, b'a', b'b', b'c', 9]),
            (&b"abc"[..], &[9u8][..])
        );
        assert_eq!(decode_string(&[4, b'a', b'b', b'c']), (&b""[..], &b""[..]));
        assert_eq!(decode_string(&[0]), (&b""[..], &b""[..]));
    }

    proptest! {
        #[test]
        fn uvarint_round_trips(v in any::<u64>()) {
            let mut buf = Vec::new();
            let mut x = v;
            while x >= 0x80 {
                buf.push((x as u8) | 0x80);
                x >>= 7;
            }
            buf.push(x as u8);
            prop_assert_eq!(uvarint(&buf), Some((v, buf.len())));
        }

        #[test]
        fn scanners_never_panic(data in prop::collection::vec(any::<u8>(), 0..200), at in 0usize..200) {
            let mut data = data;
            if at + MAGIC.len() <= data.len() {
                data[at..at + MAGIC.len()].copy_from_slice(MAGIC);
            }
            let _ = find_header(&data);
            let _ = decode_string(&data);
            let _ = strip_framing(&data);
            let _ = uvarint(&data);
        }
    }
}
