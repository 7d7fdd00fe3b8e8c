//! `/proc/<pid>/status`: `Key:\tvalue` lines. We need the affinity list, the name and counts.

use crate::error::{ParseError, quote};
use crate::parse::CpuList;

/// The fields of `status` that boxwise uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    pub name: Option<String>,
    /// The process id in the pid namespace of whoever mounted this /proc.
    pub pid: Option<u32>,
    pub cpus_allowed: Option<CpuList>,
    pub threads: Option<u64>,
    /// Resident set size in bytes (the file says kB).
    pub vm_rss_bytes: Option<u64>,
}

pub fn parse(text: &str) -> Result<Status, ParseError> {
    let mut status = Status::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "Name" => status.name = Some(value.to_string()),
            "Pid" => status.pid = u32::try_from(number(key, value)?).ok(),
            "Cpus_allowed_list" => {
                let list = CpuList::parse(value)
                    .map_err(|e| ParseError(format!("Cpus_allowed_list: {}", e.0)))?;
                status.cpus_allowed = Some(list);
            }
            "Threads" => status.threads = Some(number(key, value)?),
            "VmRSS" => {
                let kb = value.strip_suffix("kB").map(str::trim).unwrap_or(value);
                status.vm_rss_bytes = Some(number(key, kb)?.saturating_mul(1024));
            }
            _ => {}
        }
    }
    Ok(status)
}

fn number(key: &str, value: &str) -> Result<u64, ParseError> {
    value
        .parse()
        .map_err(|_| ParseError(format!("{key}: expected a number, found {}", quote(value))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REAL: &str = "Name:\tcat\nUmask:\t0022\nState:\tR (running)\nThreads:\t1\nVmRSS:\t    1024 kB\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed_list:\t0\n";

    #[test]
    fn reads_the_fields_we_use() {
        let s = parse(REAL).unwrap();
        assert_eq!(s.name.as_deref(), Some("cat"));
        assert_eq!(s.cpus_allowed.unwrap().count(), 2);
        assert_eq!(s.threads, Some(1));
        assert_eq!(s.vm_rss_bytes, Some(1024 * 1024));
    }

    #[test]
    fn bad_affinity_is_named() {
        let err = parse("Cpus_allowed_list:\t0-x\n").unwrap_err();
        assert!(err.0.starts_with("Cpus_allowed_list:"), "{err}");
        assert!(parse("Threads:\tmany\n").unwrap_err().0.contains("many"));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") { let _ = parse(&s); }

        /// Round trip: a status file written from the fields, among lines we do not read,
        /// parses back to them.
        #[test]
        fn fields_round_trip(
            name in "[!-~][ -~]{0,14}[!-~]",
            pid in any::<u32>(),
            cpus in proptest::collection::btree_set(0u32..256, 1..16),
            threads in any::<u64>(),
            rss_kb in 0u64..u64::MAX / 1024,
        ) {
            let list: Vec<String> = cpus.iter().map(u32::to_string).collect();
            let list = list.join(",");
            let text = format!(
                "Name:\t{name}\nUmask:\t0022\nPid:\t{pid}\nThreads:\t{threads}\nVmRSS:\t  {rss_kb} kB\nCpus_allowed_list:\t{list}\nMems_allowed_list:\t0\n"
            );
            let s = parse(&text).unwrap();
            prop_assert_eq!(s.name.as_deref(), Some(name.as_str()));
            prop_assert_eq!(s.pid, Some(pid));
            prop_assert_eq!(s.threads, Some(threads));
            prop_assert_eq!(s.vm_rss_bytes, Some(rss_kb * 1024));
            let allowed = s.cpus_allowed.unwrap();
            prop_assert_eq!(allowed.count() as usize, cpus.len());
            for c in &cpus { prop_assert!(allowed.contains(*c)); }
        }
    }
}
