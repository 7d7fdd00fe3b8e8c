//! Go's own symbol table (`pclntab`, Go 1.18+ layout: magics `0xfffffff0` for 1.18/1.19 and
//! `0xfffffff1` for 1.20+), read from the executable's bytes: function names, file and line
//! per PC, and the inline tree so that inlined calls come back as their own frames. The
//! linker keeps it even in stripped (`-ldflags=-s -w`) binaries, so profiles of production
//! builds are still named. Layouts follow `runtime/symtab.go` of go1.19 and go1.25.

use boxwise_goprog::elf::ElfImage;

const MAGIC_118: u32 = 0xffff_fff0;
const MAGIC_120: u32 = 0xffff_fff1;
const PCDATA_INL_TREE_INDEX: usize = 2;
const FUNCDATA_INL_TREE: usize = 3;
/// An inline tree is never deeper than this; caps a malformed table's walk.
const MAX_INLINE_DEPTH: usize = 64;

/// Why the table could not be read; one line each.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PclntabError {
    #[error("no Go pclntab found (not a Go 1.18+ executable)")]
    NotFound,
    #[error("malformed Go pclntab: {0}")]
    Malformed(&'static str),
}

/// One source frame; `inlined` when the compiler inlined it into its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub function: String,
    pub file: String,
    pub line: i64,
    pub start_line: i64,
    pub inlined: bool,
}

/// The parsed header and table slices; borrows the file's bytes.
pub struct Pclntab<'a> {
    data: &'a [u8],
    go120: bool,
    ptr_size: usize,
    quantum: u64,
    nfunc: usize,
    text_start: u64,
    funcname: &'a [u8],
    cutab: &'a [u8],
    filetab: &'a [u8],
    pctab: &'a [u8],
    functab: &'a [u8],
    /// `moduledata.gofunc`: base of funcdata offsets; `None` when moduledata was not found
    /// (then inline frames are not expanded).
    gofunc: Option<u64>,
    image: Option<&'a ElfImage<'a>>,
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn uint_at(b: &[u8], off: usize, ps: usize) -> Option<u64> {
    let s = b.get(off..off.checked_add(ps)?)?;
    Some(match ps {
        4 => u32::from_le_bytes(s.try_into().ok()?) as u64,
        _ => u64::from_le_bytes(s.try_into().ok()?),
    })
}

fn cstr(b: &[u8], off: usize) -> Option<&str> {
    let rest = b.get(off..)?;
    let end = rest.iter().position(|&c| c == 0)?;
    std::str::from_utf8(&rest[..end]).ok()
}

fn varint(p: &[u8]) -> Option<(u32, usize)> {
    let mut v: u32 = 0;
    let mut shift = 0;
    for (i, &b) in p.iter().enumerate().take(5) {
        v |= ((b & 0x7f) as u32) << shift;
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
        shift += 7;
    }
    None
}

impl<'a> Pclntab<'a> {
    /// Parses a table that starts at `data[0]` (the `pcHeader`), without funcdata access.
    pub fn parse(data: &'a [u8]) -> Result<Pclntab<'a>, PclntabError> {
        let bad = PclntabError::Malformed;
        let magic = u32_at(data, 0).ok_or(PclntabError::NotFound)?;
        let go120 = match magic {
            MAGIC_120 => true,
            MAGIC_118 => false,
            _ => return Err(PclntabError::NotFound),
        };
        let (pad1, pad2) = (data.get(4), data.get(5));
        if pad1 != Some(&0) || pad2 != Some(&0) {
            return Err(PclntabError::NotFound);
        }
        let quantum = *data.get(6).ok_or(bad("short header"))? as u64;
        let ptr_size = *data.get(7).ok_or(bad("short header"))? as usize;
        if ptr_size != 4 && ptr_size != 8 || !matches!(quantum, 1 | 2 | 4) {
            return Err(PclntabError::NotFound);
        }
        let field = |i: usize| uint_at(data, 8 + i * ptr_size, ptr_size).ok_or(bad("short header"));
        let nfunc = field(0)? as usize;
        let text_start = field(2)?;
        let off = |i: usize| -> Result<usize, PclntabError> {
            let v = field(i)? as usize;
            if v > data.len() {
                Err(bad("table offset past the end"))
            } else {
                Ok(v)
            }
        };
        let (fname, cu, file, pc, pcln) = (off(3)?, off(4)?, off(5)?, off(6)?, off(7)?);
        let functab_len = nfunc
            .checked_add(1)
            .and_then(|n| n.checked_mul(8))
            .ok_or(bad("function count overflows"))?;
        let functab = data.get(pcln..).ok_or(bad("functab past the end"))?;
        if functab.len() < functab_len {
            return Err(bad("functab past the end"));
        }
        Ok(Pclntab {
            data,
            go120,
            ptr_size,
            quantum,
            nfunc,
            text_start,
            funcname: &data[fname..],
            cutab: &data[cu..],
            filetab: &data[file..],
            pctab: &data[pc..],
            functab,
            gofunc: None,
            image: None,
        })
    }

    /// Finds and parses the table of an ELF executable: the `.gopclntab` section, else a
    /// magic-number search of read-only data; then finds `runtime.firstmoduledata` (a pointer
    /// to the table followed by the `funcnametab` slice) for the inline trees.
    pub fn from_elf(image: &'a ElfImage<'a>) -> Result<Pclntab<'a>, PclntabError> {
        let (addr, bytes) = find_table(image).ok_or(PclntabError::NotFound)?;
        let mut tab = Pclntab::parse(bytes)?;
        tab.image = Some(image);
        tab.gofunc = find_gofunc(image, addr, &tab);
        if tab.text_start == 0 {
            tab.text_start = image
                .sections
                .iter()
                .find(|(s, _, _)| s.name == ".text")
                .map(|(_, a, _)| *a)
                .unwrap_or(0);
        }
        Ok(tab)
    }

    /// Go 1.20+ layout (`0xfffffff1`).
    pub fn is_go120(&self) -> bool {
        self.go120
    }

    pub fn has_inline_tree(&self) -> bool {
        self.gofunc.is_some()
    }

    /// Number of functions in the table.
    pub fn len(&self) -> usize {
        self.nfunc
    }

    pub fn is_empty(&self) -> bool {
        self.nfunc == 0
    }

    /// The `_func` record offset (into `functab`) and entry PC of the function holding `pc`.
    fn find_func(&self, pc: u64) -> Option<(usize, u64)> {
        let rel = pc.checked_sub(self.text_start)?;
        let rel = u32::try_from(rel).ok()?;
        let entry = |i: usize| u32_at(self.functab, i * 8);
        // The last entry is the end-of-text sentinel.
        if rel >= entry(self.nfunc)? {
            return None;
        }
        let (mut lo, mut hi) = (0usize, self.nfunc);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if entry(mid)? <= rel {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        if entry(lo)? > rel {
            return None;
        }
        let funcoff = u32_at(self.functab, lo * 8 + 4)? as usize;
        Some((funcoff, self.text_start + entry(lo)? as u64))
    }

    fn func_u32(&self, f: usize, field: usize) -> Option<u32> {
        u32_at(self.functab, f + field * 4)
    }

    fn name_at(&self, off: u32) -> Option<&'a str> {
        cstr(self.funcname, off as usize)
    }

    /// Runs a pc-value table to the value in effect at `target` (`runtime.pcvalue`).
    fn pcvalue(&self, off: u32, entry: u64, target: u64) -> Option<i32> {
        if off == 0 {
            return None;
        }
        let mut p = self.pctab.get(off as usize..)?;
        let mut pc = entry;
        let mut val: i32 = -1;
        let mut first = true;
        // A function is never larger than the text; bound the walk anyway.
        for _ in 0..1_000_000 {
            let (uv, n) = varint(p)?;
            if uv == 0 && !first {
                return None;
            }
            first = false;
            val = val.wrapping_add((-((uv & 1) as i32)) ^ ((uv >> 1) as i32));
            p = p.get(n..)?;
            let (pcd, n) = varint(p)?;
            p = p.get(n..)?;
            pc = pc.checked_add(pcd as u64 * self.quantum)?;
            if target < pc {
                return Some(val);
            }
        }
        None
    }

    fn file_name(&self, f: usize, fileno: i32) -> Option<&'a str> {
        let cu = self.func_u32(f, 8)?;
        let idx = (cu as usize).checked_add(usize::try_from(fileno).ok()?)?;
        let off = u32_at(self.cutab, idx * 4)?;
        if off == u32::MAX {
            return None;
        }
        cstr(self.filetab, off as usize)
    }

    /// Header size of `_func` before `pcdata`: 1.20 added `startLine`.
    fn func_header(&self) -> usize {
        if self.go120 { 44 } else { 40 }
    }

    fn npcdata(&self, f: usize) -> Option<usize> {
        Some(self.func_u32(f, 7)? as usize)
    }

    fn nfuncdata(&self, f: usize) -> Option<usize> {
        Some(*self.functab.get(f + self.func_header() - 1)? as usize)
    }

    fn pcdata_off(&self, f: usize, i: usize) -> Option<u32> {
        if i >= self.npcdata(f)? {
            return None;
        }
        u32_at(self.functab, f + self.func_header() + i * 4)
    }

    fn funcdata_addr(&self, f: usize, i: usize) -> Option<u64> {
        if i >= self.nfuncdata(f)? {
            return None;
        }
        let at = f + self.func_header() + self.npcdata(f)? * 4 + i * 4;
        let off = u32_at(self.functab, at)?;
        if off == u32::MAX {
            return None;
        }
        Some(self.gofunc? + off as u64)
    }

    fn line_at(&self, f: usize, entry: u64, pc: u64) -> (String, i64) {
        let file = self
            .pcvalue(self.func_u32(f, 5).unwrap_or(0), entry, pc)
            .and_then(|n| self.file_name(f, n))
            .unwrap_or("?");
        let line = self
            .pcvalue(self.func_u32(f, 6).unwrap_or(0), entry, pc)
            .unwrap_or(0);
        (file.to_string(), line as i64)
    }

    /// The address range `[entry, end)` of the function named `name`, for tools and tests.
    pub fn find(&self, name: &str) -> Option<(u64, u64)> {
        (0..self.nfunc).find_map(|i| {
            let f = u32_at(self.functab, i * 8 + 4)? as usize;
            (self.name_at(self.func_u32(f, 1)?)? == name).then_some(())?;
            let start = self.text_start + u32_at(self.functab, i * 8)? as u64;
            let end = self.text_start + u32_at(self.functab, (i + 1) * 8)? as u64;
            Some((start, end))
        })
    }

    /// Whether `pc` is in a function where Go's own unwinder stops (`FuncFlag_TOPFRAME`:
    /// `runtime.goexit`, `runtime.mstart`, `runtime.rt0_go`): above it the frame-pointer
    /// chain holds leftovers, not callers.
    pub fn top_frame(&self, pc: u64) -> bool {
        const TOPFRAME: u8 = 1;
        self.find_func(pc)
            .and_then(|(f, _)| self.functab.get(f + self.func_header() - 3))
            .is_some_and(|flag| flag & TOPFRAME != 0)
    }

    /// How far SP has moved below the entry SP at `pc` (the `pcsp` table): the return
    /// address is at `SP + delta`. `None` outside Go's text.
    pub fn sp_delta(&self, pc: u64) -> Option<u64> {
        let (f, entry) = self.find_func(pc)?;
        let v = self.pcvalue(self.func_u32(f, 4)?, entry, pc)?;
        u64::try_from(v).ok()
    }

    /// The frames at `pc`, innermost first: inlined callees (from the inline tree), then the
    /// function that physically holds the code. Empty when `pc` is outside Go's text.
    pub fn frames(&self, pc: u64) -> Vec<Frame> {
        let Some((f, entry)) = self.find_func(pc) else {
            return Vec::new();
        };
        let Some(name) = self.func_u32(f, 1).and_then(|o| self.name_at(o)) else {
            return Vec::new();
        };
        let start_line = if self.go120 {
            self.func_u32(f, 9).map(|v| v as i32 as i64).unwrap_or(0)
        } else {
            0
        };
        let mut out = Vec::new();
        let mut pc = pc;
        let inl = self.inline_tree(f);
        for _ in 0..MAX_INLINE_DEPTH {
            let (file, line) = self.line_at(f, entry, pc);
            let idx = match (&inl, self.pcdata_off(f, PCDATA_INL_TREE_INDEX)) {
                (Some(_), Some(off)) => self.pcvalue(off, entry, pc).unwrap_or(-1),
                _ => -1,
            };
            let call = (idx >= 0)
                .then(|| {
                    inl.as_ref()
                        .and_then(|t| self.inlined_call(t, idx as usize))
                })
                .flatten();
            match call {
                Some((name_off, parent_pc, callee_start)) => {
                    let callee = self.name_at(name_off).unwrap_or("?");
                    out.push(Frame {
                        function: callee.to_string(),
                        file,
                        line,
                        start_line: callee_start,
                        inlined: true,
                    });
                    pc = entry + parent_pc as u64;
                }
                None => {
                    out.push(Frame {
                        function: name.to_string(),
                        file,
                        line,
                        start_line,
                        inlined: false,
                    });
                    return out;
                }
            }
        }
        out
    }

    fn inline_tree(&self, f: usize) -> Option<u64> {
        self.funcdata_addr(f, FUNCDATA_INL_TREE)
    }

    /// One `inlinedCall`: (name offset, parentPc, start line) in either layout.
    fn inlined_call(&self, tree: &u64, idx: usize) -> Option<(u32, u32, i64)> {
        let image = self.image?;
        let (size, name_at, parent_at) = if self.go120 { (16, 4, 8) } else { (20, 12, 16) };
        let addr = tree.checked_add((idx * size) as u64)?;
        let b = image.read_at(addr, size as u64)?;
        if b.len() < size {
            return None;
        }
        let start = if self.go120 {
            u32_at(b, 12)? as i32 as i64
        } else {
            0
        };
        Some((u32_at(b, name_at)?, u32_at(b, parent_at)?, start))
    }
}

/// The table's address and bytes: the `.gopclntab` section (`.data.rel.ro.gopclntab` in PIE
/// builds), else the first header that
/// parses inside a read-only segment (stripped binaries of other linkers drop section names).
fn find_table<'a>(image: &ElfImage<'a>) -> Option<(u64, &'a [u8])> {
    if let Some((s, addr, _)) = image
        .sections
        .iter()
        .find(|(s, _, _)| s.name.ends_with(".gopclntab"))
    {
        return Some((*addr, image.read_at(*addr, s.size)?));
    }
    for seg in &image.segments {
        if seg.kind != 1 || seg.flags & 2 != 0 || seg.filesz == 0 {
            continue;
        }
        let bytes = image.read_at(seg.vaddr, seg.filesz)?;
        let mut i = 0;
        while i + 8 <= bytes.len() {
            let m = u32_at(bytes, i).unwrap_or(0);
            if (m == MAGIC_120 || m == MAGIC_118) && Pclntab::parse(&bytes[i..]).is_ok() {
                return Some((seg.vaddr + i as u64, &bytes[i..]));
            }
            i += 8;
        }
    }
    None
}

/// `moduledata.gofunc`: search writable data for a pointer to the table whose next word is
/// the `funcnametab` slice's pointer; `gofunc` sits at word 38 (1.18/1.19) or 40 (1.20+,
/// which added `covctrs`).
fn find_gofunc(image: &ElfImage<'_>, table: u64, tab: &Pclntab<'_>) -> Option<u64> {
    let ps = tab.ptr_size;
    let fname = table + (tab.funcname.as_ptr() as usize - tab.data.as_ptr() as usize) as u64;
    let word = if tab.go120 { 40 } else { 38 };
    for seg in &image.segments {
        if seg.kind != 1 || seg.flags & 2 == 0 || seg.filesz == 0 {
            continue;
        }
        let bytes = image.read_at(seg.vaddr, seg.filesz)?;
        let mut i = 0;
        while i + ps * (word + 1) <= bytes.len() {
            if uint_at(bytes, i, ps) == Some(table) && uint_at(bytes, i + ps, ps) == Some(fname) {
                return uint_at(bytes, i + word * ps, ps).filter(|&g| g != 0);
            }
            i += ps;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Arbitrary bytes never panic the parser or the lookup.
        #[test]
        fn arbitrary_bytes_never_panic(mut data in proptest::collection::vec(any::<u8>(), 0..512),
                                       magic in prop_oneof![Just(MAGIC_118), Just(MAGIC_120), any::<u32>()],
                                       pc in any::<u64>()) {
            if data.len() >= 8 {
                data[..4].copy_from_slice(&magic.to_le_bytes());
                data[4] = 0; data[5] = 0; data[6] = 1; data[7] = 8;
            }
            if let Ok(t) = Pclntab::parse(&data) {
                let _ = t.frames(pc);
                let _ = t.frames(t.text_start.wrapping_add(pc % 4096));
            }
        }

        #[test]
        fn varint_roundtrip(v in any::<u32>()) {
            let mut buf = Vec::new();
            let mut x = v;
            loop {
                let b = (x & 0x7f) as u8;
                x >>= 7;
                if x == 0 { buf.push(b); break; }
                buf.push(b | 0x80);
            }
            prop_assert_eq!(varint(&buf), Some((v, buf.len())));
        }
    }

    #[test]
    fn wrong_magic_is_not_found() {
        assert_eq!(
            Pclntab::parse(&[0xfa, 0xff, 0xff, 0xff, 0, 0, 1, 8]).err(),
            Some(PclntabError::NotFound)
        );
    }
}
