//! How numbers are written for people: `256 MiB`, `1.5 CPUs`, and how people write sizes.

use crate::error::{ParseError, quote};

/// Bytes in binary units, with one decimal unless the value is whole: `256 MiB`, `230.4 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{} {}", decimal(value, 1), UNITS[unit])
    }
}

/// A CPU count: `1 CPU`, `1.5 CPUs`.
pub fn cpus(n: f64) -> String {
    let text = decimal(n, 3);
    if text == "1" {
        "1 CPU".to_string()
    } else {
        format!("{text} CPUs")
    }
}

/// At most `places` decimals, without trailing zeros: 1.5, 2, 0.333.
pub fn decimal(n: f64, places: usize) -> String {
    let text = format!("{n:.places$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A size as Docker spells it (`512m`, `1g`, `1.5g`, `512mb`, `512MiB`, `1024`), in bytes.
///
/// Like Docker's go-units `RAMInBytes`: the units are binary (k = 1024), the letter is
/// case-insensitive, an optional `i` and `b` may follow it, and a fraction is truncated to
/// whole bytes. Sizes are written the same way everywhere on the command line.
pub fn parse_size(text: &str) -> Result<u64, ParseError> {
    let bad = || ParseError::expected("a size like 512m, 1.5g, 512MiB or 1048576", text);
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let unit = unit.trim_start().to_ascii_lowercase();
    let (letter, suffix) = match unit.chars().next() {
        Some(c @ ('k' | 'm' | 'g' | 't' | 'p')) => (Some(c), &unit[1..]),
        _ => (None, unit.as_str()),
    };
    let shift = match letter {
        None => 0,
        Some('k') => 10,
        Some('m') => 20,
        Some('g') => 30,
        Some('t') => 40,
        Some(_) => 50,
    };
    let suffix_ok = matches!((letter, suffix), (_, "" | "b") | (Some(_), "i" | "ib"));
    let digits_ok = !number.is_empty()
        && !number.starts_with('.')
        && !number.ends_with('.')
        && number.matches('.').count() <= 1;
    if !suffix_ok || !digits_ok {
        return Err(bad());
    }
    match number.split_once('.') {
        None => {
            let whole: u64 = number.parse().map_err(|_| bad())?;
            whole.checked_mul(1 << shift).ok_or_else(|| too_big(text))
        }
        Some(_) => {
            let value: f64 = number.parse().map_err(|_| bad())?;
            let bytes = value * (1u64 << shift) as f64;
            if bytes >= u64::MAX as f64 {
                return Err(too_big(text));
            }
            Ok(bytes as u64)
        }
    }
}

fn too_big(text: &str) -> ParseError {
    ParseError(format!("size {} does not fit in 64 bits", quote(text)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn docker_sizes() {
        for (text, bytes) in [
            ("512m", 512 << 20),
            ("1g", 1 << 30),
            ("1.5g", 3 << 29),
            ("512MiB", 512 << 20),
            ("512mb", 512 << 20),
            ("512M", 512 << 20),
            ("64k", 64 << 10),
            ("2 GiB", 2 << 30),
            ("1048576", 1 << 20),
            ("100b", 100),
            ("1t", 1 << 40),
            ("0.5k", 512),
            ("1.0000001k", 1024),
        ] {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
    }

    #[test]
    fn bad_sizes_name_the_text() {
        for text in [
            "", "m", "1.5.2g", ".5g", "5.g", "-1g", "12x", "1ib", "1gbb", "1 g b", "1e3",
        ] {
            let err = parse_size(text).unwrap_err();
            assert!(err.0.contains(&format!("{text:?}")), "{text}: {err}");
        }
        assert!(
            parse_size("99999999999p")
                .unwrap_err()
                .0
                .contains("64 bits")
        );
    }

    proptest! {
        #[test]
        fn size_never_panics(s in "\\PC*") {
            let _ = parse_size(&s);
        }

        #[test]
        fn every_spelling_of_a_whole_size_agrees(n in 0u64..8192, unit in 0usize..5) {
            let letters = ["k", "m", "g", "t", "p"];
            let expected = n << (10 * (unit + 1));
            let l = letters[unit];
            for text in [format!("{n}{l}"), format!("{n}{}", l.to_uppercase()),
                         format!("{n}{l}b"), format!("{n}{}iB", l.to_uppercase()), format!("{n} {l}")] {
                prop_assert_eq!(parse_size(&text), Ok(expected));
            }
        }

        #[test]
        fn plain_bytes_round_trip(n in any::<u64>()) {
            prop_assert_eq!(parse_size(&n.to_string()), Ok(n));
        }
    }

    #[test]
    fn formats() {
        assert_eq!(bytes(268435456), "256 MiB");
        assert_eq!(bytes(241591910), "230.4 MiB");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(cpus(1.5), "1.5 CPUs");
        assert_eq!(cpus(1.0), "1 CPU");
        assert_eq!(cpus(2.0), "2 CPUs");
        assert_eq!(cpus(1.0 / 3.0), "0.333 CPUs");
    }
}
