//! The Go runtime settings a process has in its environment, read the way the runtime
//! reads them (runtime/proc.go `schedinit`, runtime/mgcpacer.go `readGOMEMLIMIT`).

use serde::Serialize;

use crate::error::{ParseError, quote};

/// GOMAXPROCS, GOMEMLIMIT, GOGC and GODEBUG as found (raw text; `None` when unset).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GoEnv {
    pub gomaxprocs: Option<String>,
    pub gomemlimit: Option<String>,
    pub gogc: Option<String>,
    pub godebug: Option<String>,
}

impl GoEnv {
    /// Pick the Go variables out of `KEY=value` pairs.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> GoEnv {
        let mut env = GoEnv::default();
        for (k, v) in pairs {
            let slot = match k.as_ref() {
                "GOMAXPROCS" => &mut env.gomaxprocs,
                "GOMEMLIMIT" => &mut env.gomemlimit,
                "GOGC" => &mut env.gogc,
                "GODEBUG" => &mut env.godebug,
                _ => continue,
            };
            *slot = Some(v.as_ref().to_string());
        }
        env
    }

    /// Parse a NUL-separated `/proc/<pid>/environ`.
    pub fn from_environ(bytes: &[u8]) -> GoEnv {
        GoEnv::from_pairs(bytes.split(|&b| b == 0).filter_map(|entry| {
            let text = std::str::from_utf8(entry).ok()?;
            text.split_once('=')
        }))
    }

    /// The GOMAXPROCS the runtime will honour: a positive 32-bit integer. Anything else
    /// (empty, 0, negative, text) the runtime silently ignores.
    pub fn gomaxprocs_value(&self) -> Option<u32> {
        self.gomaxprocs.as_deref().and_then(parse_gomaxprocs)
    }
}

/// Go's rule (runtime `schedinit`): a whole number above zero.
pub fn parse_gomaxprocs(text: &str) -> Option<u32> {
    // Go's runtime atoi takes digits only (a `-` makes the value negative, so ignored);
    // Rust's parse would also take a leading `+`.
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i32>()
        .ok()
        .filter(|&n| n > 0)
        .map(|n| n as u32)
}

/// The value one GODEBUG string gives an integer setting, as the runtime reads it
/// (runtime1.go `parsegodebug`): left to right, the last valid value winning. Go skips values
/// that are not 32-bit integers and does not trim keys, so neither does this. The runtime
/// applies the binary's DefaultGODEBUG first, then the GODEBUG variable over it.
pub fn godebug_int(godebug: &str, key: &str) -> Option<i32> {
    // The last valid value: the first from the right.
    godebug
        .rsplit(',')
        .filter_map(|field| field.split_once('='))
        .filter(|(k, _)| *k == key)
        .find_map(|(_, v)| go_atoi32(v))
}

/// internal/runtime/strconv.Atoi32: an optional `-`, then digits only.
fn go_atoi32(text: &str) -> Option<i32> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A GOMEMLIMIT the runtime accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoMemLimit {
    /// Empty or `off`: no limit.
    Off,
    Bytes(u64),
}

/// Parse GOMEMLIMIT exactly as the runtime does: `off`, or digits with an optional `B`,
/// `KiB`, `MiB`, `GiB` or `TiB` suffix, at most `i64::MAX` bytes. Anything else makes Go
/// throw "malformed GOMEMLIMIT" at start-up, so it is an error here.
pub fn parse_gomemlimit(text: &str) -> Result<GoMemLimit, ParseError> {
    if text.is_empty() || text == "off" {
        return Ok(GoMemLimit::Off);
    }
    let malformed = || {
        ParseError(format!(
            "GOMEMLIMIT={} is malformed: Go accepts digits with an optional B, KiB, MiB, GiB or TiB suffix (e.g. 268435456 or 256MiB) and will crash at start-up on this value",
            quote(text)
        ))
    };
    let (digits, multiplier) = [
        ("TiB", 1u64 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("B", 1),
    ]
    .iter()
    .find_map(|&(suffix, m)| text.strip_suffix(suffix).map(|d| (d, m)))
    .unwrap_or((text, 1));
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    let n: u64 = digits.parse().map_err(|_| malformed())?;
    let bytes = n.checked_mul(multiplier).ok_or_else(malformed)?;
    if bytes > i64::MAX as u64 {
        return Err(malformed());
    }
    Ok(GoMemLimit::Bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gomemlimit_grammar() {
        assert_eq!(parse_gomemlimit("off"), Ok(GoMemLimit::Off));
        assert_eq!(parse_gomemlimit(""), Ok(GoMemLimit::Off));
        assert_eq!(
            parse_gomemlimit("805306368"),
            Ok(GoMemLimit::Bytes(805306368))
        );
        assert_eq!(parse_gomemlimit("768MiB"), Ok(GoMemLimit::Bytes(768 << 20)));
        assert_eq!(parse_gomemlimit("1GiB"), Ok(GoMemLimit::Bytes(1 << 30)));
        assert_eq!(parse_gomemlimit("100B"), Ok(GoMemLimit::Bytes(100)));
        assert_eq!(
            parse_gomemlimit("9223372036854775807"),
            Ok(GoMemLimit::Bytes(i64::MAX as u64))
        );
        for bad in [
            "768Mi",
            "400m",
            "1GB",
            "1.5GiB",
            "MiB",
            "B",
            "-1",
            "9223372036854775808",
            "8388608TiB",
            " 1",
            "1 ",
        ] {
            let err = parse_gomemlimit(bad).unwrap_err();
            assert!(err.0.contains("malformed"), "{bad}: {err}");
        }
    }

    #[test]
    fn gomaxprocs_rules() {
        assert_eq!(parse_gomaxprocs("3"), Some(3));
        assert_eq!(parse_gomaxprocs("03"), Some(3));
        for ignored in ["0", "-2", "", "two", "2147483648", "+3", " 3"] {
            assert_eq!(parse_gomaxprocs(ignored), None, "{ignored}");
        }
    }

    #[test]
    fn godebug_like_the_runtime() {
        let key = "containermaxprocs";
        assert_eq!(godebug_int("", key), None);
        assert_eq!(
            godebug_int("asynctimerchan=1,containermaxprocs=0,updatemaxprocs=0", key),
            Some(0)
        );
        assert_eq!(
            godebug_int("containermaxprocs=0,gctrace=1,containermaxprocs=2", key),
            Some(2)
        );
        assert_eq!(godebug_int("containermaxprocs=-1", key), Some(-1));
        // Skipped by Go: not an integer, or a key with spaces around it.
        for ignored in [
            "containermaxprocs=off",
            "containermaxprocs=",
            " containermaxprocs=0",
            "containermaxprocs",
            "containermaxprocs=+1",
        ] {
            assert_eq!(godebug_int(ignored, key), None, "{ignored}");
        }
        assert_eq!(
            godebug_int("containermaxprocs=0,containermaxprocs=x", key),
            Some(0)
        );
    }

    #[test]
    fn environ_bytes() {
        let env = GoEnv::from_environ(b"PATH=/bin\0GOMAXPROCS=4\0GODEBUG=gctrace=1,x=y\0junk\0");
        assert_eq!(env.gomaxprocs.as_deref(), Some("4"));
        assert_eq!(env.godebug.as_deref(), Some("gctrace=1,x=y"));
        assert_eq!(env.gomemlimit, None);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") { let _ = parse_gomemlimit(&s); let _ = parse_gomaxprocs(&s); }

        #[test]
        fn suffixes_multiply(n in 0u64..1_000_000, i in 0usize..5) {
            let (suffix, m) = [("B", 1u64), ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40)][i];
            prop_assert_eq!(parse_gomemlimit(&format!("{n}{suffix}")), Ok(GoMemLimit::Bytes(n * m)));
        }
    }
}
