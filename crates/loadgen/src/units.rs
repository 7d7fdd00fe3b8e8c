//! Durations as people write them on a command line: `30s`, `500ms`, `2m`, `1.5s`, `250us`;
//! a bare number is seconds.

use std::time::Duration;

/// Why a duration does not parse; each message names the value as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("duration {input:?}: expected a number with s, ms, us or m (e.g. 10s)")]
    NotANumber { input: String },
    #[error("duration {input:?}: unknown unit {unit:?} (use s, ms, us, m or h)")]
    UnknownUnit { input: String, unit: String },
    #[error("duration {input:?} is too large")]
    TooLarge { input: String },
}

/// Parses a duration; the error names the value and what was expected.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| DurationError::NotANumber {
        input: s.to_string(),
    })?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        u => {
            return Err(DurationError::UnknownUnit {
                input: s.to_string(),
                unit: u.to_string(),
            });
        }
    };
    let secs = value * scale;
    if !secs.is_finite() || secs > 1e9 {
        return Err(DurationError::TooLarge {
            input: s.to_string(),
        });
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        let ms = |s| parse_duration(s).unwrap().as_millis();
        assert_eq!(ms("10"), 10_000);
        assert_eq!(ms("10s"), 10_000);
        assert_eq!(ms("1.5s"), 1_500);
        assert_eq!(ms("500ms"), 500);
        assert_eq!(ms("2m"), 120_000);
        assert_eq!(parse_duration("250us").unwrap().as_micros(), 250);
        // The messages, word for word.
        let msg = |s| parse_duration(s).unwrap_err().to_string();
        assert_eq!(
            msg("1..2s"),
            "duration \"1..2s\": expected a number with s, ms, us or m (e.g. 10s)"
        );
        assert_eq!(
            msg("10x"),
            "duration \"10x\": unknown unit \"x\" (use s, ms, us, m or h)"
        );
        assert_eq!(
            msg("1e99"),
            "duration \"1e99\": unknown unit \"e99\" (use s, ms, us, m or h)"
        );
        assert_eq!(msg("9999999999h"), "duration \"9999999999h\" is too large");
        for bad in ["", "s", "10x", "-1s", "1..2s"] {
            let e = parse_duration(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
    }
}
