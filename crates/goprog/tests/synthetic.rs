//! Hand-built ELF files carrying Go build-info blobs in every layout the reader must handle:
//! the Go 1.18+ inline format and the older pointer format, 32- and 64-bit, little- and
//! big-endian, with a `.go.buildinfo` section or only a data segment to scan.

use boxwise_goprog::{BlobFormat, ErrorKind, GoBinary};
use proptest::prelude::*;

const MODINFO: &str = "path\texample.com/cmd/app\n\
    mod\texample.com\tv1.0.0\th1:main=\n\
    dep\texample.com/dep\tv0.1.0\n\
    =>\t../dep\t\t\n\
    dep\tgolang.org/x/sys\tv0.2.0\th1:sys=\n\
    build\t-ldflags=\"-s -w\"\n\
    build\tCGO_ENABLED=0\n\
    build\tDefaultGODEBUG=containermaxprocs=0,updatemaxprocs=0\n";

const START: [u8; 16] = [
    0x30, 0x77, 0xaf, 0x0c, 0x92, 0x74, 0x08, 0x02, 0x41, 0xe1, 0xc1, 0x07, 0xe6, 0xd6, 0x18, 0xe6,
];
const END: [u8; 16] = [
    0xf9, 0x32, 0x43, 0x31, 0x86, 0x18, 0x20, 0x72, 0x00, 0x82, 0x42, 0x10, 0x41, 0x16, 0xd8, 0xf2,
];

#[derive(Clone, Copy, Debug)]
struct Layout {
    bits: u8,
    big: bool,
    inline: bool,
    section: bool,
}

struct W {
    buf: Vec<u8>,
    big: bool,
}

impl W {
    fn u16(&mut self, v: u16) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }
    fn u32(&mut self, v: u32) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }
    fn u64(&mut self, v: u64) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }
    fn word(&mut self, bits: u8, v: u64) {
        if bits == 32 {
            self.u32(v as u32)
        } else {
            self.u64(v)
        }
    }
}

fn framed(modinfo: &str) -> Vec<u8> {
    let mut m = START.to_vec();
    m.extend_from_slice(modinfo.as_bytes());
    m.extend_from_slice(&END);
    m
}

fn uvarint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The data segment's contents: some leading data, then the blob at a 16-byte boundary.
fn payload(l: Layout, vaddr: u64, version: &str, modinfo: &[u8]) -> Vec<u8> {
    let mut p = vec![0x11u8; 48]; // unrelated data before the blob
    p[5..19].copy_from_slice(b"\xff Go buildinf:"); // a misaligned decoy
    let blob_at = p.len();
    p.extend_from_slice(b"\xff Go buildinf:");
    let ptr = if l.bits == 32 { 4u8 } else { 8 };
    p.push(ptr);
    if l.inline {
        p.push(2 | u8::from(l.big));
        p.resize(blob_at + 32, 0);
        uvarint(version.len() as u64, &mut p);
        p.extend_from_slice(version.as_bytes());
        uvarint(modinfo.len() as u64, &mut p);
        p.extend_from_slice(modinfo);
        while !p.len().is_multiple_of(16) {
            p.push(0);
        }
        return p;
    }
    p.push(u8::from(l.big));
    let hdrs = blob_at + 32;
    let data = hdrs + 4 * ptr as usize;
    let mut w = W {
        buf: Vec::new(),
        big: l.big,
    };
    let va = |off: usize| vaddr + off as u64;
    w.word(l.bits, va(hdrs));
    w.word(l.bits, va(hdrs + 2 * ptr as usize));
    p.extend_from_slice(&w.buf);
    p.resize(hdrs, 0);
    let mut w = W {
        buf: Vec::new(),
        big: l.big,
    };
    w.word(l.bits, va(data));
    w.word(l.bits, version.len() as u64);
    w.word(l.bits, va(data + version.len()));
    w.word(l.bits, modinfo.len() as u64);
    p.extend_from_slice(&w.buf);
    p.extend_from_slice(version.as_bytes());
    p.extend_from_slice(modinfo);
    p
}

/// An executable with one RW `PT_LOAD` holding `data` at `vaddr`, and (optionally) section
/// headers naming it `.go.buildinfo`.
fn elf(l: Layout, vaddr: u64, data: &[u8]) -> Vec<u8> {
    let bits = l.bits;
    let (ehsize, phentsize, shentsize) = if bits == 32 {
        (52, 32, 40)
    } else {
        (64, 56, 64)
    };
    let data_off = 0x100u64;
    let shstrtab = b"\0.go.buildinfo\0.shstrtab\0";
    let shstr_off = data_off + data.len() as u64;
    let shoff = (shstr_off + shstrtab.len() as u64 + 7) & !7;
    let mut w = W {
        buf: Vec::new(),
        big: l.big,
    };
    w.buf.extend_from_slice(b"\x7fELF");
    w.buf.push(if bits == 32 { 1 } else { 2 });
    w.buf.push(if l.big { 2 } else { 1 });
    w.buf.push(1);
    w.buf.resize(16, 0);
    w.u16(2); // ET_EXEC
    w.u16(if bits == 32 { 8 } else { 22 }); // mips / s390x-ish machines
    w.u32(1);
    w.word(bits, vaddr);
    w.word(bits, u64::from(ehsize)); // e_phoff
    w.word(bits, if l.section { shoff } else { 0 });
    w.u32(0);
    w.u16(ehsize);
    w.u16(phentsize);
    w.u16(1);
    w.u16(shentsize);
    w.u16(if l.section { 3 } else { 0 });
    w.u16(if l.section { 2 } else { 0 });
    // PT_LOAD, RW
    if bits == 32 {
        w.u32(1);
        w.u32(data_off as u32);
        w.u32(vaddr as u32);
        w.u32(vaddr as u32);
        w.u32(data.len() as u32);
        w.u32(data.len() as u32 + 64);
        w.u32(6);
        w.u32(0x1000);
    } else {
        w.u32(1);
        w.u32(6);
        w.u64(data_off);
        w.u64(vaddr);
        w.u64(vaddr);
        w.u64(data.len() as u64);
        w.u64(data.len() as u64 + 64);
        w.u64(0x1000);
    }
    w.buf.resize(data_off as usize, 0);
    w.buf.extend_from_slice(data);
    w.buf.extend_from_slice(shstrtab);
    if !l.section {
        return w.buf;
    }
    w.buf.resize(shoff as usize, 0);
    let blob_at = 48u64;
    let sh = |w: &mut W, name: u32, ty: u32, addr: u64, off: u64, size: u64| {
        w.u32(name);
        w.u32(ty);
        w.word(bits, if ty == 1 { 3 } else { 0 });
        w.word(bits, addr);
        w.word(bits, off);
        w.word(bits, size);
        w.u32(0);
        w.u32(0);
        w.word(bits, 1);
        w.word(bits, 0);
    };
    sh(&mut w, 0, 0, 0, 0, 0);
    let len = data.len() as u64 - blob_at;
    sh(&mut w, 1, 1, vaddr + blob_at, data_off + blob_at, len);
    sh(&mut w, 15, 3, 0, shstr_off, shstrtab.len() as u64);
    w.buf
}

fn layouts() -> Vec<Layout> {
    let mut v = Vec::new();
    for bits in [32, 64] {
        for big in [false, true] {
            for inline in [false, true] {
                for section in [false, true] {
                    v.push(Layout {
                        bits,
                        big,
                        inline,
                        section,
                    });
                }
            }
        }
    }
    v
}

const VADDR: u64 = 0x0040_0000;

fn build(l: Layout, version: &str, modinfo: &[u8]) -> Vec<u8> {
    elf(l, VADDR, &payload(l, VADDR, version, modinfo))
}

#[test]
fn every_layout_decodes() {
    for l in layouts() {
        let file = build(l, "go1.17.13", &framed(MODINFO));
        let bin = GoBinary::parse("synthetic", &file).unwrap_or_else(|e| panic!("{l:?}: {e}"));
        assert_eq!(bin.go_version, "go1.17.13", "{l:?}");
        assert_eq!(bin.class_bits, l.bits);
        assert_eq!(bin.big_endian, l.big);
        let fmt = if l.inline {
            BlobFormat::Inline
        } else {
            BlobFormat::Pointer
        };
        assert_eq!(bin.buildinfo_format, fmt, "{l:?}");
        assert_eq!(bin.path, "example.com/cmd/app");
        assert_eq!(bin.deps.len(), 2);
        assert_eq!(bin.deps[0].replace.as_ref().unwrap().path, "../dep");
        assert_eq!(bin.cgo_enabled(), Some(false));
        assert_eq!(bin.go_minor(), Some(17));
        assert!(!bin.container_aware_gomaxprocs());
        assert_eq!(bin.default_godebug_value("updatemaxprocs"), Some("0"));
        let expected = format!(
            "synthetic: go1.17.13\n\t{}\n",
            MODINFO
                .trim_end()
                .replace("\t\t\n", "\t\t\n\n")
                .replace('\n', "\n\t")
        );
        assert_eq!(bin.go_version_m("synthetic"), expected, "{l:?}");
        let machine = match (l.bits, l.big) {
            (32, true) => "mips",
            (32, false) => "mipsle",
            _ => "s390x",
        };
        assert_eq!(bin.machine, machine);
        assert!(bin.stripped());
        assert_eq!(bin.linkage, boxwise_goprog::Linkage::Static);
    }
}

#[test]
fn go125_container_awareness_follows_default_godebug() {
    let l = layouts()[15];
    let off = "build\tDefaultGODEBUG=containermaxprocs=0,updatemaxprocs=0\n";
    let bin = GoBinary::parse("x", &build(l, "go1.25.1", &framed(off))).unwrap();
    assert!(!bin.container_aware_gomaxprocs());
    let on = "build\tDefaultGODEBUG=panicnil=1\n";
    let bin = GoBinary::parse("x", &build(l, "go1.25.1", &framed(on))).unwrap();
    assert!(bin.container_aware_gomaxprocs() && bin.updates_gomaxprocs());
    let bin = GoBinary::parse("x", &build(l, "go1.26rc1", &framed(""))).unwrap();
    assert!(bin.container_aware_gomaxprocs());
}

#[test]
fn unframed_modinfo_means_gopath_mode() {
    for l in layouts() {
        let bin = GoBinary::parse("old", &build(l, "go1.12", MODINFO.as_bytes())).unwrap();
        assert_eq!(bin.go_version_m("old"), "old: go1.12\n");
        assert!(bin.main.is_none() && bin.deps.is_empty());
    }
}

#[test]
fn clear_errors() {
    let l = layouts()[0];
    let err = |data: &[u8]| GoBinary::parse("f.bin", data).unwrap_err().to_string();
    assert_eq!(
        err(b""),
        "f.bin: not an ELF executable (an empty file); only Linux ELF binaries are supported"
    );
    assert!(err(b"MZ\x90\x00").contains("PE (Windows)"));
    assert!(err(b"#!/bin/sh\n").contains("a script"));
    assert!(err(b"\x7fELF\x09").starts_with("f.bin: malformed or truncated ELF"));
    let no_go = elf(l, VADDR, &[0u8; 256]);
    assert_eq!(
        err(&no_go),
        "f.bin: not a Go executable (no Go build info found)"
    );
    let bad = build(l, "go1.22.1", &framed("mod\tonly-one-column\n"));
    assert_eq!(
        err(&bad),
        "f.bin: malformed Go build info: line 1: expected 2 or 3 columns; got 1"
    );
    let empty_version = build(l, "", &framed(MODINFO));
    assert!(matches!(
        GoBinary::parse("f", &empty_version).unwrap_err().kind,
        ErrorKind::NotGo
    ));
}

#[test]
fn dangling_pointers_are_not_go() {
    // Pointer format whose string headers point outside every segment.
    let l = Layout {
        bits: 64,
        big: false,
        inline: false,
        section: true,
    };
    let mut data = payload(l, VADDR, "go1.16", &framed(MODINFO));
    data[48 + 16..48 + 24].copy_from_slice(&0xdead_0000u64.to_le_bytes());
    let file = elf(l, VADDR, &data);
    assert!(matches!(
        GoBinary::parse("f", &file).unwrap_err().kind,
        ErrorKind::NotGo
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn corrupted_synthetic_files_never_panic(
        which in 0usize..16,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut file = build(layouts()[which], "go1.21.0", &framed(MODINFO));
        for (at, byte) in edits {
            let i = at.index(file.len());
            file[i] = byte;
        }
        if truncate {
            file.truncate(cut.index(file.len()));
        }
        match GoBinary::parse("p", &file) {
            Ok(bin) => { let _ = bin.go_version_m("p"); let _ = bin.notes(); }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("p: ") && !msg.contains('\n'), "{}", msg);
            }
        }
    }

    #[test]
    fn arbitrary_version_and_modinfo_round_trip(
        version in "go1\\.[0-9]{1,2}(\\.[0-9])?",
        path in "[a-z]{1,8}(/[a-z]{1,8}){0,2}",
        which in 0usize..16,
    ) {
        let text = format!("path\t{path}\nmod\t{path}\t(devel)\t\n");
        let bin = GoBinary::parse("r", &build(layouts()[which], &version, &framed(&text))).unwrap();
        prop_assert_eq!(&bin.go_version, &version);
        prop_assert_eq!(bin.go_version_m("r"), format!("r: {version}\n\tpath\t{path}\n\tmod\t{path}\t(devel)\t\n"));
    }

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512), elf_magic in any::<bool>()) {
        let mut data = data;
        if elf_magic && data.len() >= 6 {
            data[..4].copy_from_slice(b"\x7fELF");
            data[4] = 1 + (data[4] & 1);
            data[5] = 1 + (data[5] & 1);
        }
        let _ = GoBinary::parse("r", &data);
    }
}

/// `BuildFacts` (what `exec` reads) agrees with the full reader on every layout, and gives
/// up on a non-Go ELF without scanning its data.
#[test]
fn build_facts_agree_with_the_full_reader() {
    let dir = std::env::temp_dir().join(format!("goprog-facts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let modinfo = "path\tx\nbuild\tDefaultGODEBUG=containermaxprocs=0,updatemaxprocs=0\n";
    for (i, l) in layouts().into_iter().enumerate() {
        let file = dir.join(i.to_string());
        std::fs::write(&file, build(l, "go1.25.3", &framed(modinfo))).unwrap();
        let facts =
            boxwise_goprog::BuildFacts::read(&file).unwrap_or_else(|e| panic!("{l:?}: {e}"));
        let bin = GoBinary::read(&file).unwrap();
        assert_eq!(facts.go_version, bin.go_version, "{l:?}");
        assert_eq!(
            facts.default_godebug.as_deref(),
            bin.default_godebug(),
            "{l:?}"
        );
        assert_eq!(facts.runtime(None), bin.runtime(None), "{l:?}");
        assert!(!facts.runtime(None).unwrap().container_aware);
        assert!(
            facts
                .runtime(Some("containermaxprocs=1"))
                .unwrap()
                .container_aware
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
    for not_go in ["/bin/sh", "/etc/passwd", "/nonexistent"] {
        assert!(
            boxwise_goprog::BuildFacts::read(not_go).is_err(),
            "{not_go}"
        );
    }
}
