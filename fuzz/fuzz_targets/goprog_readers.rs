//! The Go binary readers on arbitrary bytes: ELF headers and segments, the build-info blob,
//! the module info text, and the notes drawn from them: nothing may panic.
#![no_main]

use boxwise_goprog::elf::ElfImage;
use boxwise_goprog::{GoBinary, ModInfo, buildinfo, parse_go_release, quote};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(image) = ElfImage::parse(data) {
        let _ = image.buildinfo_region();
        let _ = image.has_symtab();
        let _ = image.linkage();
        let _ = image.libc();
        let _ = image.read_at(0, 64);
        let _ = buildinfo::read(&image);
    }
    if let Ok(b) = GoBinary::parse("fuzz", data) {
        let _ = b.modinfo();
        let _ = b.notes();
        let _ = b.runtime(None);
        let _ = b.runtime(Some("gomaxprocs=1"));
        let _ = b.go_version_m("fuzz");
        let _ = b.debug_size();
    }
    let _ = buildinfo::uvarint(data);
    let text = String::from_utf8_lossy(data);
    if let Ok(m) = ModInfo::parse(&text) {
        let _ = m.to_text();
    }
    let _ = parse_go_release(&text);
    let _ = quote::unquote(&text);
    let _ = quote::quoted_prefix(&text);
});
