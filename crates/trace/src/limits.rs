//! The memory limits a trace is judged against, given by the user: GOMEMLIMIT and the
//! container's memory limit.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Limits {
    pub gomemlimit_bytes: Option<u64>,
    pub memory_limit_bytes: Option<u64>,
}

/// A size as Docker writes it (`512m`, `1g`, `1.5g`, `100k`, `4096`, `4096b`) or with a
/// binary suffix (`512MiB`, `1GiB`). Units are powers of 1024, as Docker's are.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "invalid size {text:?}: expected bytes or a number with a unit, e.g. 512m, 1.5g or 512MiB"
        )
    };
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad()),
    };
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') || num.matches('.').count() > 1
    {
        return Err(bad());
    }
    let bytes = if num.contains('.') {
        let v: f64 = num.parse().map_err(|_| bad())?;
        let b = (v * (1u64 << shift) as f64).floor();
        if !(b.is_finite() && b < u64::MAX as f64) {
            return Err(bad());
        }
        b as u64
    } else {
        let v: u64 = num.parse().map_err(|_| bad())?;
        v.checked_mul(1 << shift).ok_or_else(bad)?
    };
    if bytes == 0 {
        return Err(format!("invalid size {text:?}: must be more than 0"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_and_binary_sizes() {
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("1.5g"), Ok(3 << 29));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("268435456"), Ok(268_435_456));
        assert_eq!(parse_size("100k"), Ok(102_400));
        for bad in ["", "m", "1.5.g", "-1m", "1x", ".5g", "0", "99999999999999t"] {
            assert!(parse_size(bad).is_err(), "{bad:?} accepted");
        }
    }
}
