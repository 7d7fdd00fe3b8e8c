//! ELF facts of an executable (through the `object` crate's low-level reader): segments for
//! address reads, sections and their sizes, interpreter and needed libraries, symbol table,
//! DWARF and build IDs.

use object::Endianness;
use object::elf::{FileHeader32, FileHeader64};
use object::read::elf::{Dyn as _, FileHeader, ProgramHeader as _, SectionHeader as _};
use serde::Serialize;

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PT_NOTE: u32 = 4;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const SHT_SYMTAB: u32 = 2;
const SHT_NOBITS: u32 = 8;
const DT_NULL: i64 = 0;
const DT_NEEDED: i64 = 1;
const DT_STRTAB: i64 = 5;
const DT_STRSZ: i64 = 10;
const ET_DYN: u16 = 3;
const NT_GO_BUILD_ID: u32 = 4;
const NT_GNU_BUILD_ID: u32 = 3;

/// A program header, reduced to what address translation and the facts need.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    pub kind: u32,
    pub flags: u32,
    pub vaddr: u64,
    pub offset: u64,
    pub filesz: u64,
    pub memsz: u64,
}

/// One section: its name and sizes (file size is 0 for `.bss`-like sections).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionSize {
    pub name: String,
    /// Bytes the section occupies in memory (`sh_size`).
    pub size: u64,
    /// Bytes it occupies in the file.
    pub file_size: u64,
}

/// How the program is linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Linkage {
    /// No interpreter and no needed libraries: runs in an empty (`FROM scratch`) image.
    Static,
    /// Position-independent but self-relocating: no interpreter, no needed libraries.
    StaticPie,
    /// Needs the dynamic loader and shared libraries at run time.
    Dynamic,
}

/// Which C library a dynamic binary expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Libc {
    Glibc,
    Musl,
    Other,
}

/// Why an ELF file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    #[error("{0}")]
    NotElf(String),
    #[error("malformed or truncated ELF ({0})")]
    Malformed(String),
}

/// The parsed file: raw bytes, segments, sections and the derived facts.
#[derive(Debug, Clone)]
pub struct ElfImage<'a> {
    pub data: &'a [u8],
    pub class_bits: u8,
    pub big_endian: bool,
    pub machine: u16,
    pub position_independent: bool,
    pub segments: Vec<Segment>,
    /// Sections with their addresses, in header order.
    pub sections: Vec<(SectionSize, u64, u32)>,
    pub interpreter: Option<String>,
    pub needed: Vec<String>,
    pub has_dynamic: bool,
    pub go_build_id: Option<String>,
    pub gnu_build_id: Option<String>,
}

impl<'a> ElfImage<'a> {
    pub fn parse(data: &'a [u8]) -> Result<ElfImage<'a>, ElfError> {
        if data.len() < 4 || &data[..4] != b"\x7fELF" {
            return Err(ElfError::NotElf(describe_non_elf(data)));
        }
        match data.get(4) {
            Some(1) => parse_generic::<FileHeader32<Endianness>>(data, 32),
            Some(2) => parse_generic::<FileHeader64<Endianness>>(data, 64),
            _ => Err(ElfError::Malformed("unknown ELF class".into())),
        }
    }

    /// Reads up to `size` bytes at virtual address `addr` through the first segment that
    /// maps it (Go's `debug/buildinfo` rule). `None` when unmapped or outside the file.
    pub fn read_at(&self, addr: u64, size: u64) -> Option<&'a [u8]> {
        let seg = self
            .segments
            .iter()
            .find(|s| s.filesz > 0 && s.vaddr <= addr && addr - s.vaddr < s.filesz)?;
        let n = size.min(seg.filesz - (addr - seg.vaddr));
        let start = seg.offset.checked_add(addr - seg.vaddr)?;
        let end = start.checked_add(n)?;
        self.data
            .get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
    }

    /// Where Go's build info lives: the `.go.buildinfo` section, else the first writable,
    /// non-executable `PT_LOAD` segment (address and size).
    pub fn buildinfo_region(&self) -> Option<(u64, u64)> {
        if let Some((s, addr, _)) = self
            .sections
            .iter()
            .find(|(s, _, _)| s.name == ".go.buildinfo")
        {
            return Some((*addr, s.size));
        }
        self.segments
            .iter()
            .find(|s| s.kind == PT_LOAD && s.flags & (PF_X | PF_W) == PF_W)
            .map(|s| (s.vaddr, s.memsz))
    }

    pub fn has_symtab(&self) -> bool {
        self.sections.iter().any(|(_, _, ty)| *ty == SHT_SYMTAB)
    }

    pub fn linkage(&self) -> Linkage {
        if self.interpreter.is_some() || !self.needed.is_empty() {
            Linkage::Dynamic
        } else if self.has_dynamic && self.position_independent {
            Linkage::StaticPie
        } else {
            Linkage::Static
        }
    }

    pub fn libc(&self) -> Option<Libc> {
        let names = self.interpreter.iter().chain(self.needed.iter());
        let mut seen = None;
        for n in names {
            let base = n.rsplit('/').next().unwrap_or(n);
            if base.starts_with("ld-musl") || base.starts_with("libc.musl") {
                return Some(Libc::Musl);
            }
            if base.starts_with("ld-linux") || base == "libc.so.6" || base.starts_with("ld64.so") {
                seen = Some(Libc::Glibc);
            } else if base.starts_with("libc.") && seen.is_none() {
                seen = Some(Libc::Other);
            }
        }
        if seen.is_none() && self.linkage() == Linkage::Dynamic {
            return Some(Libc::Other);
        }
        seen
    }
}

fn describe_non_elf(data: &[u8]) -> String {
    let kind = if data.starts_with(b"MZ") {
        "a PE (Windows) file"
    } else if data.starts_with(&[0xfe, 0xed, 0xfa])
        || data.get(1..4) == Some(&[0xfa, 0xed, 0xfe])
        || data.starts_with(&[0xca, 0xfe, 0xba, 0xbe])
    {
        "a Mach-O (macOS) file"
    } else if data.starts_with(b"#!") {
        "a script"
    } else if data.is_empty() {
        "an empty file"
    } else {
        "an unknown format"
    };
    format!("not an ELF executable ({kind}); only Linux ELF binaries are supported")
}

fn malformed(what: &str) -> impl Fn(object::read::Error) -> ElfError + '_ {
    move |e| ElfError::Malformed(format!("{what}: {e}"))
}

fn parse_generic<Elf: FileHeader<Endian = Endianness>>(
    data: &[u8],
    class_bits: u8,
) -> Result<ElfImage<'_>, ElfError> {
    let header = Elf::parse(data).map_err(malformed("header"))?;
    let endian = header.endian().map_err(malformed("header"))?;
    let phdrs = header
        .program_headers(endian, data)
        .map_err(malformed("program headers"))?;
    let table = header
        .sections(endian, data)
        .map_err(malformed("section headers"))?;

    let segments: Vec<Segment> = phdrs
        .iter()
        .map(|p| Segment {
            kind: p.p_type(endian).0,
            flags: p.p_flags(endian).0,
            vaddr: p.p_vaddr(endian).into(),
            offset: p.p_offset(endian).into(),
            filesz: p.p_filesz(endian).into(),
            memsz: p.p_memsz(endian).into(),
        })
        .collect();

    let mut sections = Vec::with_capacity(table.len());
    for sh in table.iter() {
        let name = table.section_name(endian, sh).unwrap_or(b"");
        let ty = sh.sh_type(endian).0;
        let size: u64 = sh.sh_size(endian).into();
        // A section cannot hold more of the file than the file has; a header that says
        // otherwise is corrupt, and its size must not swamp the totals.
        let in_file = size.min(data.len() as u64);
        sections.push((
            SectionSize {
                name: String::from_utf8_lossy(name).into_owned(),
                size,
                file_size: if ty == SHT_NOBITS { 0 } else { in_file },
            },
            sh.sh_addr(endian).into(),
            ty,
        ));
    }

    let mut image = ElfImage {
        data,
        class_bits,
        big_endian: data.get(5) == Some(&2),
        machine: header.e_machine(endian).0,
        position_independent: header.e_type(endian).0 == ET_DYN,
        segments,
        sections,
        interpreter: None,
        needed: Vec::new(),
        has_dynamic: false,
        go_build_id: None,
        gnu_build_id: None,
    };

    for p in phdrs {
        match p.p_type(endian).0 {
            PT_INTERP => {
                let bytes = p
                    .data(endian, data)
                    .map_err(|_| ElfError::Malformed("PT_INTERP lies outside the file".into()))?;
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                image.interpreter = Some(String::from_utf8_lossy(&bytes[..end]).into_owned());
            }
            PT_DYNAMIC => {
                image.has_dynamic = true;
                let dyns = p
                    .dynamic(endian, data)
                    .map_err(malformed("dynamic segment"))?
                    .unwrap_or(&[]);
                let mut strtab = None;
                let mut strsz = 0u64;
                let mut needed = Vec::new();
                for d in dyns {
                    let val: u64 = d.d_val(endian).into();
                    match d.d_tag(endian).0 {
                        DT_NULL => break,
                        DT_NEEDED => needed.push(val),
                        DT_STRTAB => strtab = Some(val),
                        DT_STRSZ => strsz = val,
                        _ => {}
                    }
                }
                if !needed.is_empty() {
                    let table = strtab
                        .and_then(|a| image.read_at(a, strsz))
                        .ok_or_else(|| {
                            ElfError::Malformed("DT_STRTAB lies outside the file".into())
                        })?;
                    for off in needed {
                        let s = usize::try_from(off)
                            .ok()
                            .and_then(|o| table.get(o..))
                            .ok_or_else(|| {
                                ElfError::Malformed("DT_NEEDED lies outside DT_STRTAB".into())
                            })?;
                        let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
                        image
                            .needed
                            .push(String::from_utf8_lossy(&s[..end]).into_owned());
                    }
                }
            }
            PT_NOTE => {
                if let Ok(Some(notes)) = p.notes(endian, data) {
                    collect_notes(&mut image, notes, endian);
                }
            }
            _ => {}
        }
    }
    for sh in table.iter() {
        if let Ok(Some(notes)) = sh.notes(endian, data) {
            collect_notes(&mut image, notes, endian);
        }
    }
    Ok(image)
}

fn collect_notes<Elf: FileHeader<Endian = Endianness>>(
    image: &mut ElfImage<'_>,
    mut notes: object::read::elf::NoteIterator<'_, Elf>,
    endian: Endianness,
) {
    while let Ok(Some(note)) = notes.next() {
        let ty = note.n_type(endian).0;
        match note.name() {
            b"Go" if ty == NT_GO_BUILD_ID && image.go_build_id.is_none() => {
                image.go_build_id = Some(String::from_utf8_lossy(note.desc()).into_owned());
            }
            b"GNU" if ty == NT_GNU_BUILD_ID && image.gnu_build_id.is_none() => {
                image.gnu_build_id = Some(note.desc().iter().map(|b| format!("{b:02x}")).collect());
            }
            _ => {}
        }
    }
}

/// GOARCH-style name of an ELF machine number.
pub fn machine_name(machine: u16, class_bits: u8, big_endian: bool) -> String {
    let name = match (machine, class_bits, big_endian) {
        (62, _, _) => "amd64",
        (3, _, _) => "386",
        (183, _, _) => "arm64",
        (40, _, _) => "arm",
        (8, 32, true) => "mips",
        (8, 32, false) => "mipsle",
        (8, 64, true) => "mips64",
        (8, 64, false) => "mips64le",
        (21, _, true) => "ppc64",
        (21, _, false) => "ppc64le",
        (22, _, _) => "s390x",
        (243, _, _) => "riscv64",
        (258, _, _) => "loong64",
        _ => return format!("elf-machine-{machine}"),
    };
    name.to_string()
}
