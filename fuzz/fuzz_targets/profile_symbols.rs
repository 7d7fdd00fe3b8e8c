//! The profiler's readers on arbitrary bytes: a raw pclntab, an ELF's symbols and pclntab,
//! `/proc/PID/maps` and `/proc/kallsyms`: nothing may panic.
#![no_main]

use boxwise_goprog::elf::ElfImage;
use boxwise_profile::pclntab::Pclntab;
use boxwise_profile::symbols::{ElfSymbols, Kallsyms, parse_maps};
use libfuzzer_sys::fuzz_target;

fn exercise(t: &Pclntab<'_>) {
    let _ = t.is_go120();
    let _ = t.has_inline_tree();
    let _ = t.len();
    let _ = t.find("main.main");
    for pc in [0, 1, 0x1000, 0x40_1000, u64::MAX] {
        let _ = t.top_frame(pc);
        let _ = t.sp_delta(pc);
        let _ = t.frames(pc);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = Pclntab::parse(data) {
        exercise(&t);
    }
    if let Ok(image) = ElfImage::parse(data) {
        if let Ok(t) = Pclntab::from_elf(&image) {
            exercise(&t);
        }
    }
    let syms = ElfSymbols::parse(data);
    let _ = syms.lookup(0x40_1000);
    let text = String::from_utf8_lossy(data);
    let _ = parse_maps(&text);
    if let Some(k) = Kallsyms::parse(&text) {
        let _ = k.lookup(0xffff_ffff_8100_0000);
    }
});
