//! Pure readers for the symbol sources beside the pclntab: `/proc/PID/maps` (where the
//! executable is loaded, for the PIE load bias), `/proc/kallsyms` (kernel frame names), and
//! an ELF symbol table for executables that are not Go.

use object::{Object, ObjectSymbol, SymbolKind};

/// One line of `/proc/PID/maps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEntry {
    pub start: u64,
    pub end: u64,
    pub offset: u64,
    pub executable: bool,
    pub path: String,
}

/// Parses `/proc/PID/maps`; malformed lines are skipped.
pub fn parse_maps(text: &str) -> Vec<MapEntry> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (range, perms, off) = (it.next()?, it.next()?, it.next()?);
            let (_dev, _inode) = (it.next()?, it.next()?);
            let path = it.collect::<Vec<_>>().join(" ");
            let (a, b) = range.split_once('-')?;
            Some(MapEntry {
                start: u64::from_str_radix(a, 16).ok()?,
                end: u64::from_str_radix(b, 16).ok()?,
                offset: u64::from_str_radix(off, 16).ok()?,
                executable: perms.as_bytes().get(2) == Some(&b'x'),
                path,
            })
        })
        .collect()
}

/// Kernel text symbols sorted by address.
#[derive(Debug, Clone, Default)]
pub struct Kallsyms {
    syms: Vec<(u64, String)>,
}

impl Kallsyms {
    /// Parses `/proc/kallsyms`; `None` when addresses are hidden (all zero: `kptr_restrict`).
    pub fn parse(text: &str) -> Option<Kallsyms> {
        let mut syms: Vec<(u64, String)> = text
            .lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                let addr = u64::from_str_radix(it.next()?, 16).ok()?;
                let kind = it.next()?;
                let name = it.next()?;
                (matches!(kind, "t" | "T" | "w" | "W") && addr != 0)
                    .then(|| (addr, name.to_string()))
            })
            .collect();
        if syms.is_empty() {
            return None;
        }
        syms.sort_unstable();
        Some(Kallsyms { syms })
    }

    pub fn lookup(&self, addr: u64) -> Option<&str> {
        let i = self.syms.partition_point(|(a, _)| *a <= addr);
        (i > 0).then(|| self.syms[i - 1].1.as_str())
    }
}

/// Function symbols of an ELF file (for executables without a Go pclntab).
#[derive(Debug, Clone, Default)]
pub struct ElfSymbols {
    syms: Vec<(u64, u64, String)>,
}

impl ElfSymbols {
    pub fn parse(data: &[u8]) -> ElfSymbols {
        let mut syms = Vec::new();
        if let Ok(file) = object::File::parse(data) {
            for s in file.symbols().chain(file.dynamic_symbols()) {
                if let (SymbolKind::Text, true, Ok(n)) = (s.kind(), s.address() != 0, s.name()) {
                    syms.push((s.address(), s.size(), n.to_string()));
                }
            }
        }
        syms.sort_unstable();
        syms.dedup_by_key(|s| s.0);
        ElfSymbols { syms }
    }

    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }

    pub fn lookup(&self, addr: u64) -> Option<&str> {
        let i = self.syms.partition_point(|(a, _, _)| *a <= addr);
        let (a, size, name) = self.syms.get(i.checked_sub(1)?)?;
        (*size == 0 || addr < a + size).then_some(name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn maps_line() {
        let m = parse_maps(
            "00400000-0047b000 r-xp 00000000 08:01 123 /srv/app\n7ffd-7ffe r--p 0 00:00 0 [vvar]\n",
        );
        assert_eq!(m[0].start, 0x400000);
        assert!(m[0].executable);
        assert_eq!(m[0].path, "/srv/app");
        assert_eq!(m[1].path, "[vvar]");
    }

    #[test]
    fn hidden_kallsyms_is_none() {
        assert!(Kallsyms::parse("0000000000000000 T _stext\n").is_none());
        let k = Kallsyms::parse("ffff0010 T a\nffff0020 t b\n").unwrap();
        assert_eq!(k.lookup(0xffff0025), Some("b"));
        assert_eq!(k.lookup(0xffff0000), None);
    }

    proptest! {
        #[test]
        fn maps_never_panic(s in "\\PC*") { let _ = parse_maps(&s); }
        #[test]
        fn kallsyms_never_panic(s in "\\PC*") { let _ = Kallsyms::parse(&s); }
        #[test]
        fn elf_never_panics(b in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = ElfSymbols::parse(&b);
        }
    }
}
