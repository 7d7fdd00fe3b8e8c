//! Hand-built ELF files carrying Go build-info blobs, shared by the tests that need a Go
//! executable without a Go toolchain.
#![allow(dead_code)]

pub const START: [u8; 16] = [
    0x30, 0x77, 0xaf, 0x0c, 0x92, 0x74, 0x08, 0x02, 0x41, 0xe1, 0xc1, 0x07, 0xe6, 0xd6, 0x18, 0xe6,
];
pub const END: [u8; 16] = [
    0xf9, 0x32, 0x43, 0x31, 0x86, 0x18, 0x20, 0x72, 0x00, 0x82, 0x42, 0x10, 0x41, 0x16, 0xd8, 0xf2,
];

#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub bits: u8,
    pub big: bool,
    pub inline: bool,
    pub section: bool,
}

pub struct W {
    pub buf: Vec<u8>,
    pub big: bool,
}

impl W {
    pub fn u16(&mut self, v: u16) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }
    pub fn u32(&mut self, v: u32) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }
    pub fn u64(&mut self, v: u64) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }
    pub fn word(&mut self, bits: u8, v: u64) {
        if bits == 32 {
            self.u32(v as u32)
        } else {
            self.u64(v)
        }
    }
}

pub fn framed(modinfo: &str) -> Vec<u8> {
    let mut m = START.to_vec();
    m.extend_from_slice(modinfo.as_bytes());
    m.extend_from_slice(&END);
    m
}

pub fn uvarint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The data segment's contents: some leading data, then the blob at a 16-byte boundary.
pub fn payload(l: Layout, vaddr: u64, version: &str, modinfo: &[u8]) -> Vec<u8> {
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
pub fn elf(l: Layout, vaddr: u64, data: &[u8]) -> Vec<u8> {
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

pub fn layouts() -> Vec<Layout> {
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

pub const VADDR: u64 = 0x0040_0000;

pub fn build(l: Layout, version: &str, modinfo: &[u8]) -> Vec<u8> {
    elf(l, VADDR, &payload(l, VADDR, version, modinfo))
}
