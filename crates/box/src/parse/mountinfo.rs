//! `/proc/<pid>/mountinfo`: one mount per line (see proc(5)).
//!
//! `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`
//! The optional fields before ` - ` vary in number, paths escape space, tab, newline and
//! backslash as `\040`-style octal, and super options may themselves hold spaces (WSL's 9p).

use crate::error::{ParseError, quote};

/// One mount as the process sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The directory of the file system that is mounted here (for cgroups: the cgroup this
    /// mount shows as its top).
    pub root: String,
    pub mount_point: String,
    pub fs_type: String,
    pub source: String,
    pub super_options: String,
}

impl Mount {
    /// Super options split on commas, e.g. the v1 controllers `rw,cpu,cpuacct`.
    pub fn options(&self) -> impl Iterator<Item = &str> {
        self.super_options.split(',')
    }
}

/// Parse a whole mountinfo file; blank lines are skipped.
pub fn parse(text: &str) -> Result<Vec<Mount>, ParseError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| parse_line(l).map_err(|e| ParseError(format!("line {}: {}", i + 1, e.0))))
        .collect()
}

/// Parse one mountinfo line.
pub fn parse_line(line: &str) -> Result<Mount, ParseError> {
    let bad = |why: &str| ParseError(format!("{why} in mountinfo line {}", quote(line)));
    let (left, right) = split_at_separator(line).ok_or_else(|| bad("no ' - ' separator"))?;
    let fields: Vec<&str> = left.split(' ').collect();
    if fields.len() < 6 {
        return Err(bad("fewer than 6 fields before the separator"));
    }
    if fields[0].parse::<u64>().is_err() || fields[1].parse::<u64>().is_err() {
        return Err(bad("mount ids are not numbers"));
    }
    if !fields[2].contains(':') {
        return Err(bad("device is not major:minor"));
    }
    let mut rest = right.splitn(3, ' ');
    let fs_type = rest
        .next()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("no file system type"))?;
    let source = rest.next().ok_or_else(|| bad("no mount source"))?;
    let super_options = rest.next().unwrap_or("");
    Ok(Mount {
        root: unescape(fields[3]),
        mount_point: unescape(fields[4]),
        fs_type: fs_type.to_string(),
        source: unescape(source),
        super_options: super_options.to_string(),
    })
}

/// Find the ` - ` that ends the optional fields: the first lone `-` from the seventh field on.
fn split_at_separator(line: &str) -> Option<(&str, &str)> {
    let mut start = 0;
    let ends = line
        .match_indices(' ')
        .map(|(pos, _)| pos)
        .chain(std::iter::once(line.len()));
    for (index, pos) in ends.enumerate() {
        if index >= 6 && &line[start..pos] == "-" {
            let left = line[..start].strip_suffix(' ')?;
            let right = line.get(pos + 1..).unwrap_or("");
            return Some((left, right));
        }
        start = pos + 1;
    }
    None
}

/// Undo the kernel's `\ooo` octal escapes (`\040` space, `\011` tab, `\012` newline,
/// `\134` backslash). Anything that is not a valid escape is kept as written.
pub fn unescape(field: &str) -> String {
    if !field.contains('\\') {
        return field.to_string();
    }
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let v = (bytes[i + 1] - b'0') as u32 * 64
                + (bytes[i + 2] - b'0') as u32 * 8
                + (bytes[i + 3] - b'0') as u32;
            if let Ok(b) = u8::try_from(v) {
                out.push(b);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cgroup_v1_line() {
        let m = parse_line(
            "32 31 0:29 /docker/abc /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu,cpuacct",
        )
        .unwrap();
        assert_eq!(m.root, "/docker/abc");
        assert_eq!(m.mount_point, "/sys/fs/cgroup/cpu");
        assert_eq!(m.fs_type, "cgroup");
        assert_eq!(m.options().collect::<Vec<_>>(), ["rw", "cpu", "cpuacct"]);
    }

    #[test]
    fn several_optional_fields() {
        let m = parse_line("465 34 253:0 / / rw,relatime shared:409 master:1 - xfs /dev/mapper/fedora-root rw,seclabel").unwrap();
        assert_eq!(m.fs_type, "xfs");
        assert_eq!(m.source, "/dev/mapper/fedora-root");
        assert_eq!(m.super_options, "rw,seclabel");
    }

    #[test]
    fn super_options_with_spaces() {
        let m = parse_line(r"84 24 0:52 / /mnt/c rw,noatime - 9p drvfs rw,dirsync,aname=drvfs;path=C:\Program Files\;uid=0,trans=virtio").unwrap();
        assert_eq!(m.fs_type, "9p");
        assert!(m.super_options.contains(r"C:\Program Files\;uid=0"));
    }

    #[test]
    fn octal_escapes_are_decoded() {
        let m =
            parse_line(r"40 31 0:37 /a\040b /sys/fs/cgroup/tab\011tab\134 rw - cgroup2 cgroup2 rw")
                .unwrap();
        assert_eq!(m.root, "/a b");
        assert_eq!(m.mount_point, "/sys/fs/cgroup/tab\ttab\\");
        assert_eq!(unescape(r"\012x\999"), "\nx\\999");
    }

    #[test]
    fn a_dash_mount_point_is_not_the_separator() {
        let m = parse_line("1 2 0:1 / /- rw - tmpfs tmpfs rw").unwrap();
        assert_eq!(m.mount_point, "/-");
        assert_eq!(m.fs_type, "tmpfs");
    }

    #[test]
    fn errors_name_the_line() {
        for bad in [
            "",
            "garbage",
            "1 2 0:1 / /x rw tmpfs tmpfs rw",
            "a b 0:1 / /x rw - tmpfs t rw",
            "1 2 0:1 / rw - tmpfs t rw",
        ] {
            let err = parse_line(bad).unwrap_err();
            assert!(err.0.contains("mountinfo line"), "{bad}: {err}");
        }
        let err = parse("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\nbroken\n").unwrap_err();
        assert!(err.0.starts_with("line 2:"), "{err}");
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse(&s);
        }

        /// Round trip: any text with every byte written as a `\ooo` escape comes back whole,
        /// and text without a backslash is left alone.
        #[test]
        fn unescape_inverts_octal_escapes(t in "\\PC{0,20}") {
            let esc: String = t.bytes().map(|b| format!("\\{b:03o}")).collect();
            prop_assert_eq!(unescape(&esc), t.clone());
            let plain = t.replace('\\', "");
            prop_assert_eq!(unescape(&plain), plain.clone());
        }

        #[test]
        fn escaped_paths_round_trip(p in "/[ a-z\t\\\\]{0,20}", opts in "[a-z,= ]{0,20}") {
            let esc = p.replace('\\', "\\134").replace(' ', "\\040").replace('\t', "\\011");
            let line = format!("7 1 0:5 {esc} {esc} rw shared:1 - cgroup2 cgroup2 {opts}");
            let m = parse_line(&line).unwrap();
            prop_assert_eq!(&m.root, &p);
            prop_assert_eq!(&m.mount_point, &p);
            prop_assert_eq!(&m.super_options, &opts);
        }
    }
}
