//! Hand-built ELF files carrying Go build-info blobs in every layout the reader must handle:
//! the Go 1.18+ inline format and the older pointer format, 32- and 64-bit, little- and
//! big-endian, with a `.go.buildinfo` section or only a data segment to scan.

mod support;

use boxwise_goprog::{BlobFormat, ErrorKind, GoBinary};
use proptest::prelude::*;
use support::{Layout, VADDR, build, elf, framed, layouts, payload};

const MODINFO: &str = "path\texample.com/cmd/app\n\
    mod\texample.com\tv1.0.0\th1:main=\n\
    dep\texample.com/dep\tv0.1.0\n\
    =>\t../dep\t\t\n\
    dep\tgolang.org/x/sys\tv0.2.0\th1:sys=\n\
    build\t-ldflags=\"-s -w\"\n\
    build\tCGO_ENABLED=0\n\
    build\tDefaultGODEBUG=containermaxprocs=0,updatemaxprocs=0\n";

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
