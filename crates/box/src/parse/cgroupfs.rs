//! The value files of cgroup v1 and v2 controllers.
//!
//! Three shapes cover them all: a single number (`memory.limit_in_bytes`, `pids.current`),
//! a number or `max` (`memory.max`, `pids.max`), and flat `key value` lines (`cpu.stat`,
//! `memory.stat`, `memory.events`, `memory.oom_control`). `cpu.max` has its own two fields.

use crate::error::{ParseError, quote};

/// The smallest value v1 uses for "no limit": `i64::MAX` rounded down to the page size.
/// With 64 KiB pages that is 9223372036854710272 (4 KiB pages give 9223372036854771712),
/// so anything at or above it is unlimited whatever the page size.
pub const V1_UNLIMITED_FLOOR: u64 = (i64::MAX as u64) / 65536 * 65536;

/// The one line of a single-value file, trimmed; more than one line is an error.
fn single(text: &str) -> Result<&str, ParseError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ParseError("empty file, expected a value".into()));
    }
    if trimmed.contains('\n') {
        return Err(ParseError::expected("a single value", text));
    }
    Ok(trimmed)
}

fn unsigned(word: &str, whole: &str) -> Result<u64, ParseError> {
    if word.starts_with('+') {
        return Err(ParseError::expected("an unsigned integer", whole));
    }
    word.parse()
        .map_err(|_| ParseError::expected("an unsigned integer", whole))
}

/// A single unsigned integer (`pids.current`, `memory.usage_in_bytes`, `cpu.shares`).
pub fn integer(text: &str) -> Result<u64, ParseError> {
    unsigned(single(text)?, text)
}

/// A v2 limit: an integer, or `max` for none (`memory.max`, `memory.high`, `pids.max`).
pub fn max_or_integer(text: &str) -> Result<Option<u64>, ParseError> {
    match single(text)? {
        "max" => Ok(None),
        word => unsigned(word, text).map(Some),
    }
}

/// A v1 limit in bytes: the page-rounded `i64::MAX` sentinel (or `-1`, or `max` for
/// `pids.max`) means no limit.
pub fn v1_limit(text: &str) -> Result<Option<u64>, ParseError> {
    match single(text)? {
        "max" | "-1" => Ok(None),
        word => unsigned(word, text).map(|v| (v < V1_UNLIMITED_FLOOR).then_some(v)),
    }
}

/// `cpu.cfs_quota_us` or `cpu.cfs_period_us`: signed; -1 (any value <= 0) means no quota.
pub fn cfs_value(text: &str) -> Result<Option<u64>, ParseError> {
    let word = single(text)?;
    let v: i64 = word
        .parse()
        .map_err(|_| ParseError::expected("an integer", text))?;
    Ok(u64::try_from(v).ok().filter(|&v| v > 0))
}

/// A CPU bandwidth limit: `quota_us` of CPU time every `period_us` of wall time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub quota_us: u64,
    pub period_us: u64,
}

impl Quota {
    /// A quota needs a positive period; a zero period is treated as no quota.
    pub fn new(quota_us: u64, period_us: u64) -> Option<Quota> {
        (quota_us > 0 && period_us > 0).then_some(Quota {
            quota_us,
            period_us,
        })
    }

    /// CPUs' worth of time per period, e.g. 1.5.
    pub fn cores(&self) -> f64 {
        self.quota_us as f64 / self.period_us as f64
    }
}

/// v2 `cpu.max`: `$MAX $PERIOD` where `$MAX` may be `max`; a lone first field takes the
/// kernel's default period of 100000 us.
pub fn cpu_max(text: &str) -> Result<Option<Quota>, ParseError> {
    let line = single(text)?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (max, period) = match fields.as_slice() {
        [max] => (*max, 100_000),
        [max, period] => (*max, unsigned(period, text)?),
        _ => return Err(ParseError::expected("\"MAX PERIOD\"", text)),
    };
    if max == "max" {
        return Ok(None);
    }
    Ok(Quota::new(unsigned(max, text)?, period))
}

/// Flat `key value` lines, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keyed(pub Vec<(String, u64)>);

impl Keyed {
    pub fn get(&self, key: &str) -> Option<u64> {
        self.0.iter().find(|(k, _)| k == key).map(|&(_, v)| v)
    }
}

/// Parse `key value` lines (`cpu.stat`, `memory.stat`, `memory.events`, `memory.oom_control`).
pub fn keyed(text: &str) -> Result<Keyed, ParseError> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut fields = line.split_whitespace();
        let (Some(key), Some(value), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(ParseError::expected("\"key value\"", line));
        };
        let value = value.parse().map_err(|_| {
            ParseError(format!(
                "{key}: expected an unsigned integer, found {}",
                quote(value)
            ))
        })?;
        out.push((key.to_string(), value));
    }
    Ok(Keyed(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn v1_sentinels_mean_unlimited() {
        assert_eq!(v1_limit("9223372036854771712\n").unwrap(), None);
        assert_eq!(v1_limit("9223372036854710272\n").unwrap(), None);
        assert_eq!(v1_limit("-1\n").unwrap(), None);
        assert_eq!(v1_limit("268435456\n").unwrap(), Some(268435456));
        assert!(v1_limit("12k").unwrap_err().0.contains("\"12k\""));
    }

    #[test]
    fn cfs_quota_and_period() {
        assert_eq!(cfs_value("-1\n").unwrap(), None);
        assert_eq!(cfs_value("150000\n").unwrap(), Some(150000));
        assert_eq!(cfs_value("0\n").unwrap(), None);
        assert!(cfs_value("").unwrap_err().0.contains("empty"));
        assert!(cfs_value("1.5").is_err());
    }

    #[test]
    fn cpu_max_forms() {
        assert_eq!(cpu_max("max 100000\n").unwrap(), None);
        assert_eq!(cpu_max("150000 100000\n").unwrap().unwrap().cores(), 1.5);
        assert_eq!(cpu_max("500000\n").unwrap().unwrap().period_us, 100000);
        assert_eq!(cpu_max("max\n").unwrap(), None);
        assert_eq!(
            cpu_max("250000 0\n").unwrap(),
            None,
            "zero period means no quota"
        );
        for bad in [
            "asdf 100000",
            "500000 njn",
            "250000 100000 100",
            "",
            "500000us 100000",
        ] {
            assert!(cpu_max(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn max_or_integer_forms() {
        assert_eq!(max_or_integer("max\n").unwrap(), None);
        assert_eq!(max_or_integer("1024\n").unwrap(), Some(1024));
        assert!(max_or_integer("-5").is_err());
        assert!(max_or_integer("1\n2\n").is_err());
    }

    #[test]
    fn keyed_files() {
        let k = keyed("nr_periods 10\nnr_throttled 2\nthrottled_time 3000000\n").unwrap();
        assert_eq!(k.get("nr_throttled"), Some(2));
        assert_eq!(k.get("missing"), None);
        assert!(
            keyed("oom_kill x\n")
                .unwrap_err()
                .0
                .starts_with("oom_kill:")
        );
        assert!(keyed("a 1 2\n").is_err());
    }

    proptest! {
        #[test]
        fn never_panic(s in "\\PC*") {
            let _ = integer(&s);
            let _ = max_or_integer(&s);
            let _ = v1_limit(&s);
            let _ = cfs_value(&s);
            let _ = cpu_max(&s);
            let _ = keyed(&s);
        }

        #[test]
        fn cpu_max_cores(q in 1u64..10_000_000, p in 1u64..1_000_000) {
            let quota = cpu_max(&format!("{q} {p}\n")).unwrap().unwrap();
            prop_assert_eq!(quota.cores(), q as f64 / p as f64);
        }

        #[test]
        fn v1_limits_below_the_sentinel_survive(v in 0u64..V1_UNLIMITED_FLOOR) {
            prop_assert_eq!(v1_limit(&format!("{v}\n")).unwrap(), Some(v));
        }

        #[test]
        fn integers_round_trip(v in any::<u64>(), pad in "[ \t\n]{0,3}") {
            let text = format!("{pad}{v}{pad}");
            prop_assert_eq!(integer(&text).unwrap(), v);
            prop_assert_eq!(max_or_integer(&text).unwrap(), Some(v));
            prop_assert_eq!(max_or_integer(&format!("{pad}max{pad}")).unwrap(), None);
        }

        /// Oracle: the kernel's rule for `cpu.cfs_*_us`, any value <= 0 is "no quota".
        #[test]
        fn cfs_value_is_positive_or_none(v in any::<i64>()) {
            let want = if v > 0 { Some(v as u64) } else { None };
            prop_assert_eq!(cfs_value(&format!("{v}\n")).unwrap(), want);
        }

        /// Oracle: a lone `cpu.max` field takes the kernel's default 100000 us period, and
        /// a zero in either field is no quota.
        #[test]
        fn cpu_max_fields(q in 0u64..10_000_000, p in 0u64..1_000_000) {
            let two = cpu_max(&format!("{q} {p}\n")).unwrap();
            let want = (q > 0 && p > 0).then_some(Quota { quota_us: q, period_us: p });
            prop_assert_eq!(two, want);
            let one = cpu_max(&format!("{q}\n")).unwrap();
            let want = (q > 0).then_some(Quota { quota_us: q, period_us: 100_000 });
            prop_assert_eq!(one, want);
        }

        #[test]
        fn keyed_round_trips(pairs in proptest::collection::vec(("[a-z_]{1,12}", any::<u64>()), 0..20)) {
            let text: String = pairs.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
            let k = keyed(&text).unwrap();
            prop_assert_eq!(k.0, pairs);
        }
    }
}
