//! Pressure stall information (`cpu.pressure`, `memory.pressure`, `io.pressure`):
//! `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` and an optional `full` line.

use serde::Serialize;

use crate::error::{ParseError, quote};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PressureLine {
    /// Percent of wall time stalled over the last 10, 60 and 300 seconds.
    pub avg10: f64,
    pub avg60: f64,
    pub avg300: f64,
    /// Total stall time in microseconds.
    pub total_us: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pressure {
    pub some: PressureLine,
    /// Absent from `cpu.pressure` before Linux 5.13.
    pub full: Option<PressureLine>,
}

pub fn parse(text: &str) -> Result<Pressure, ParseError> {
    let mut some = None;
    let mut full = None;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut fields = line.split_whitespace();
        let slot = match fields.next() {
            Some("some") => &mut some,
            Some("full") => &mut full,
            _ => return Err(ParseError::expected("a 'some' or 'full' line", line)),
        };
        let mut avg = [None; 3];
        let mut total = None;
        for field in fields {
            let (key, value) = field
                .split_once('=')
                .ok_or_else(|| ParseError::expected("key=value", field))?;
            let bad = || {
                ParseError(format!(
                    "{key}: bad number {} in {}",
                    quote(value),
                    quote(line)
                ))
            };
            match key {
                "avg10" | "avg60" | "avg300" => {
                    let v: f64 = value.parse().map_err(|_| bad())?;
                    if !v.is_finite() || v < 0.0 {
                        return Err(bad());
                    }
                    let i = ["avg10", "avg60", "avg300"]
                        .iter()
                        .position(|k| *k == key)
                        .unwrap_or(0);
                    avg[i] = Some(v);
                }
                "total" => total = Some(value.parse::<u64>().map_err(|_| bad())?),
                _ => {}
            }
        }
        match (avg, total) {
            ([Some(avg10), Some(avg60), Some(avg300)], Some(total_us)) => {
                *slot = Some(PressureLine {
                    avg10,
                    avg60,
                    avg300,
                    total_us,
                })
            }
            _ => return Err(ParseError::expected("avg10, avg60, avg300 and total", line)),
        }
    }
    let some = some.ok_or_else(|| ParseError::expected("a 'some' line", text))?;
    Ok(Pressure { some, full })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn some_and_full() {
        let p = parse("some avg10=1.50 avg60=12.25 avg300=0.00 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n").unwrap();
        assert_eq!(p.some.avg60, 12.25);
        assert_eq!(p.some.total_us, 123456);
        assert_eq!(p.full.unwrap().total_us, 7);
    }

    #[test]
    fn some_only() {
        assert!(
            parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
                .unwrap()
                .full
                .is_none()
        );
    }

    #[test]
    fn errors() {
        assert!(parse("").is_err());
        assert!(
            parse("some avg10=x avg60=0 avg300=0 total=0")
                .unwrap_err()
                .0
                .contains("avg10")
        );
        assert!(parse("some avg10=1 total=0").is_err());
        assert!(parse("most avg10=1").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") { let _ = parse(&s); }

        #[test]
        fn round_trips(a in 0.0f64..100.0, b in 0.0f64..100.0, t in any::<u64>()) {
            let text = format!("some avg10={a:.2} avg60={b:.2} avg300=0.00 total={t}\n");
            let p = parse(&text).unwrap();
            prop_assert_eq!(p.some.total_us, t);
            prop_assert!((p.some.avg60 - b).abs() < 0.006);
        }
    }
}
