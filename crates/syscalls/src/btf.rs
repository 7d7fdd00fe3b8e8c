//! Just enough of the kernel's BTF (/sys/kernel/btf/vmlinux) to find one struct member's
//! byte offset (`task_struct.tgid`, which `-f` reads from a forked child) and one
//! function's type id (`x64_sys_call`, where the fentry/fexit programs attach).

/// Byte offset of `member` in the struct named `strukt`; `None` if absent or unreadable.
/// Bitfield members are refused (their offset is not a byte offset).
pub fn member_offset(btf: &[u8], strukt: &str, member: &str) -> Option<u32> {
    walk(btf, |t| {
        if t.kind != 4 || t.name != strukt.as_bytes() {
            return None;
        }
        for m in 0..t.vlen {
            let base = t.at + m * 12;
            if (t.name_at)(t.u32_at(base)?) == Some(member.as_bytes()) {
                let raw = t.u32_at(base + 8)?;
                let bits = if t.kind_flag { raw & 0x00ff_ffff } else { raw };
                let bitfield = t.kind_flag && raw >> 24 != 0;
                return Some((!bitfield && bits % 8 == 0).then_some(bits / 8));
            }
        }
        None
    })
    .flatten()
}

/// The type id of the function (BTF_KIND_FUNC) named `func`: what a BPF trampoline's
/// `attach_btf_id` names. `None` if absent or unreadable.
pub fn func_id(btf: &[u8], func: &str) -> Option<u32> {
    walk(btf, |t| {
        (t.kind == 12 && t.name == func.as_bytes()).then_some(t.id)
    })
}

/// One type record met by [`walk`].
struct Type<'a> {
    /// Type id: 1 for the first record (0 is void).
    id: u32,
    kind: u32,
    kind_flag: bool,
    vlen: usize,
    name: &'a [u8],
    /// Where the record's trailing data (members, params) starts.
    at: usize,
    btf: &'a [u8],
    name_at: &'a dyn Fn(u32) -> Option<&'a [u8]>,
}

impl Type<'_> {
    fn u32_at(&self, o: usize) -> Option<u32> {
        self.btf
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Calls `f` on each type record in order until it returns `Some`; `None` at the end or on
/// anything malformed.
fn walk<R>(btf: &[u8], mut f: impl FnMut(&Type) -> Option<R>) -> Option<R> {
    let u16_at = |o: usize| btf.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| {
        btf.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if u16_at(0)? != 0xeb9f {
        return None;
    }
    let hdr = u32_at(4)? as usize;
    let (type_off, type_len) = (u32_at(8)? as usize, u32_at(12)? as usize);
    let (str_off, str_len) = (u32_at(16)? as usize, u32_at(20)? as usize);
    let types = hdr.checked_add(type_off)?;
    let types_end = types.checked_add(type_len)?.min(btf.len());
    let strs = hdr.checked_add(str_off)?;
    let strs_end = strs.checked_add(str_len)?.min(btf.len());
    let name = |off: u32| -> Option<&[u8]> {
        let start = strs.checked_add(off as usize)?;
        let rest = btf.get(start..strs_end)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some(&rest[..end])
    };
    let mut at = types;
    let mut id = 0u32;
    while at + 12 <= types_end {
        let (name_off, info) = (u32_at(at)?, u32_at(at + 4)?);
        let vlen = (info & 0xffff) as usize;
        let kind = (info >> 24) & 0x1f;
        let kind_flag = info >> 31 == 1;
        at += 12;
        id += 1;
        let extra = match kind {
            1 | 14 | 17 => 4,
            3 => 12,
            4 | 5 => vlen * 12,
            6 | 13 => vlen * 8,
            15 | 19 => vlen * 12,
            2 | 7..=12 | 16 | 18 => 0,
            _ => return None,
        };
        let t = Type {
            id,
            kind,
            kind_flag,
            vlen,
            name: name(name_off).unwrap_or(b""),
            at,
            btf,
            name_at: &name,
        };
        if let Some(r) = f(&t) {
            return Some(r);
        }
        at = at.checked_add(extra)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A BTF blob holding one struct `name` with members at the given bit offsets.
    fn blob(name: &str, members: &[(&str, u32)]) -> Vec<u8> {
        let mut strs = vec![0u8];
        let mut add = |s: &str| {
            let off = strs.len() as u32;
            strs.extend_from_slice(s.as_bytes());
            strs.push(0);
            off
        };
        let sname = add(name);
        let moffs: Vec<u32> = members.iter().map(|(n, _)| add(n)).collect();
        let mut types = Vec::new();
        // An INT first, so the walk has to skip something.
        for v in [add("int"), 1 << 24, 4, 32] {
            types.extend_from_slice(&v.to_le_bytes());
        }
        for v in [sname, (4 << 24) | members.len() as u32, 64] {
            types.extend_from_slice(&v.to_le_bytes());
        }
        for ((_, bits), off) in members.iter().zip(moffs) {
            for v in [off, 1, *bits] {
                types.extend_from_slice(&v.to_le_bytes());
            }
        }
        let mut out = vec![0x9f, 0xeb, 1, 0];
        for v in [
            24u32,
            0,
            types.len() as u32,
            types.len() as u32,
            strs.len() as u32,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend(types);
        out.extend(strs);
        out
    }

    #[test]
    fn finds_a_member() {
        let b = blob("task_struct", &[("pid", 1024 * 8), ("tgid", 1028 * 8)]);
        assert_eq!(member_offset(&b, "task_struct", "tgid"), Some(1028));
        assert_eq!(member_offset(&b, "task_struct", "nope"), None);
        assert_eq!(member_offset(&b, "mm_struct", "tgid"), None);
    }

    #[test]
    fn finds_a_function_id() {
        // Type 1 is the INT, type 2 the struct; a FUNC record added after them is type 3.
        let mut b = blob("x64_sys_call", &[]);
        let hdr = 24;
        let type_len = u32::from_le_bytes(b[12..16].try_into().unwrap()) as usize;
        // Retag the struct (type 2) as a FUNC: same name, kind 12, no trailing data.
        let rec = hdr + 16;
        b[rec + 4..rec + 8].copy_from_slice(&(12u32 << 24).to_le_bytes());
        assert!(rec + 12 <= hdr + type_len);
        assert_eq!(func_id(&b, "x64_sys_call"), Some(2));
        assert_eq!(func_id(&b, "int"), None);
        assert_eq!(member_offset(&b, "x64_sys_call", "tgid"), None);
    }

    #[test]
    fn reads_the_running_kernel() {
        // Real BTF when the kernel has it: tgid follows pid (both pid_t).
        if let Ok(b) = std::fs::read("/sys/kernel/btf/vmlinux") {
            let pid = member_offset(&b, "task_struct", "pid").expect("pid");
            let tgid = member_offset(&b, "task_struct", "tgid").expect("tgid");
            assert_eq!(tgid, pid + 4);
            // A kernel that has x64_sys_call (x86_64, 6.9+) describes it as a function.
            let kallsyms = std::fs::read_to_string("/proc/kallsyms").unwrap_or_default();
            if kallsyms.lines().any(|l| l.ends_with(" x64_sys_call")) {
                assert!(func_id(&b, "x64_sys_call").is_some());
            }
            assert_eq!(func_id(&b, "task_struct"), None); // a struct, not a function
        } else {
            eprintln!("SKIP: no /sys/kernel/btf/vmlinux");
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = member_offset(&bytes, "task_struct", "tgid");
        }

        #[test]
        fn never_panics_on_truncated_btf(cut in 0usize..200, off in 0u32..100_000) {
            let b = blob("task_struct", &[("tgid", off * 8)]);
            let got = member_offset(&b[..cut.min(b.len())], "task_struct", "tgid");
            prop_assert!(got.is_none() || got == Some(off));
        }
    }
}
