//! The kernel's CPU list syntax (`0-3,8,10-11`), used by `cpuset.*`, `/sys/.../cpu/online`
//! and `Cpus_allowed_list`.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::ParseError;

/// Highest CPU number accepted; the kernel's NR_CPUS tops out at 8192, so anything beyond
/// that is garbage rather than a big machine.
const MAX_CPU: u32 = 65_535;

/// A set of CPU numbers kept as sorted, merged, inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpuList {
    ranges: Vec<(u32, u32)>,
}

impl CpuList {
    /// Parse `0-3,8,10-11`. Blank text is the empty set (an unset v2 `cpuset.cpus`).
    pub fn parse(text: &str) -> Result<CpuList, ParseError> {
        let text = text.trim();
        let mut ranges = Vec::new();
        if text.is_empty() {
            return Ok(CpuList { ranges });
        }
        for part in text.split(',') {
            let bad = || ParseError::expected("a CPU list like 0-3,8", text);
            let (lo, hi) = match part.split_once('-') {
                Some((a, b)) => (
                    cpu_number(a).ok_or_else(bad)?,
                    cpu_number(b).ok_or_else(bad)?,
                ),
                None => {
                    let n = cpu_number(part).ok_or_else(bad)?;
                    (n, n)
                }
            };
            if lo > hi {
                return Err(ParseError(format!(
                    "CPU range {part:?} runs backwards in {}",
                    crate::error::quote(text)
                )));
            }
            ranges.push((lo, hi));
        }
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            match merged.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        Ok(CpuList { ranges: merged })
    }

    /// How many CPUs are in the set.
    pub fn count(&self) -> u32 {
        self.ranges.iter().map(|(lo, hi)| hi - lo + 1).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn contains(&self, cpu: u32) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= cpu && cpu <= hi)
    }

    /// The CPUs in `self` that are not in `other`, in order.
    pub fn missing_from(&self, other: &CpuList) -> Vec<u32> {
        self.ranges
            .iter()
            .flat_map(|&(lo, hi)| lo..=hi)
            .filter(|&c| !other.contains(c))
            .collect()
    }
}

fn cpu_number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|&n| n <= MAX_CPU)
}

/// Canonical form: merged ranges, singletons without a dash.
impl fmt::Display for CpuList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(lo, hi)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

/// As the kernel writes it, so JSON shows the same text as the files it came from.
impl Serialize for CpuList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn counts_ranges_and_singletons() {
        let l = CpuList::parse("0-3,8,10-11\n").unwrap();
        assert_eq!(l.count(), 7);
        assert_eq!(l.to_string(), "0-3,8,10-11");
        assert!(l.contains(8) && !l.contains(9));
    }

    #[test]
    fn merges_overlaps_and_neighbours() {
        let l = CpuList::parse("4-5,0-2,3,2").unwrap();
        assert_eq!(l.to_string(), "0-5");
        assert_eq!(l.count(), 6);
    }

    #[test]
    fn serializes_as_the_canonical_string() {
        let l = CpuList::parse("8,0-3,2").unwrap();
        assert_eq!(serde_json::to_string(&l).unwrap(), "\"0-3,8\"");
        assert_eq!(serde_json::to_string(&CpuList::default()).unwrap(), "\"\"");
    }

    #[test]
    fn blank_is_empty() {
        assert_eq!(CpuList::parse("\n").unwrap().count(), 0);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "a",
            "1-",
            "-1",
            "3-1",
            "1,,2",
            "0-99999999",
            " 1 - 2",
            "1:2",
        ] {
            let err = CpuList::parse(bad).unwrap_err();
            assert!(!err.0.is_empty(), "{bad}");
        }
        assert!(CpuList::parse("3-1").unwrap_err().0.contains("backwards"));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = CpuList::parse(&s);
        }

        #[test]
        fn display_round_trips_and_counts_distinct(cpus in proptest::collection::btree_set(0u32..512, 0..64)) {
            let text = cpus.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let l = CpuList::parse(&text).unwrap();
            prop_assert_eq!(l.count() as usize, cpus.len());
            prop_assert_eq!(CpuList::parse(&l.to_string()).unwrap(), l.clone());
            for c in &cpus { prop_assert!(l.contains(*c)); }
        }
    }
}
