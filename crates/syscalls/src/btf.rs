//! Just enough of the kernel's BTF (/sys/kernel/btf/vmlinux) to find one struct member's
//! byte offset: `task_struct.tgid`, which `-f` reads from a forked child.

/// Byte offset of `member` in the struct named `strukt`; `None` if absent or unreadable.
/// Bitfield members are refused (their offset is not a byte offset).
pub fn member_offset(btf: &[u8], strukt: &str, member: &str) -> Option<u32> {
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
    while at + 12 <= types_end {
        let (name_off, info) = (u32_at(at)?, u32_at(at + 4)?);
        let vlen = (info & 0xffff) as usize;
        let kind = (info >> 24) & 0x1f;
        let kind_flag = info >> 31 == 1;
        at += 12;
        let extra = match kind {
            1 | 14 | 17 => 4,
            3 => 12,
            4 | 5 => vlen * 12,
            6 | 13 => vlen * 8,
            15 | 19 => vlen * 12,
            2 | 7..=12 | 16 | 18 => 0,
            _ => return None,
        };
        if kind == 4 && name(name_off) == Some(strukt.as_bytes()) {
            for m in 0..vlen {
                let base = at + m * 12;
                if name(u32_at(base)?) == Some(member.as_bytes()) {
                    let raw = u32_at(base + 8)?;
                    let bits = if kind_flag { raw & 0x00ff_ffff } else { raw };
                    let bitfield = kind_flag && raw >> 24 != 0;
                    return (!bitfield && bits % 8 == 0).then_some(bits / 8);
                }
            }
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
    fn reads_the_running_kernel() {
        // Real BTF when the kernel has it: tgid follows pid (both pid_t).
        if let Ok(b) = std::fs::read("/sys/kernel/btf/vmlinux") {
            let pid = member_offset(&b, "task_struct", "pid").expect("pid");
            let tgid = member_offset(&b, "task_struct", "tgid").expect("tgid");
            assert_eq!(tgid, pid + 4);
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
