//! Durations as people write them on a command line: `30s`, `500ms`, `2m`, `1.5s`, `250us`;
//! a bare number is seconds.

use std::time::Duration;

/// Parses a duration; the error names the value and what was expected.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("duration {s:?}: expected a number with s, ms, us or m (e.g. 10s)"))?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        u => {
            return Err(format!(
                "duration {s:?}: unknown unit {u:?} (use s, ms, us, m or h)"
            ));
        }
    };
    let secs = value * scale;
    if !secs.is_finite() || secs > 1e9 {
        return Err(format!("duration {s:?} is too large"));
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
        for bad in ["", "s", "10x", "-1s", "1..2s"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
    }
}
