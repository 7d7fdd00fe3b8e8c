//! Value scaling and percentages, ported from google/pprof `internal/measurement` so the
//! numbers print exactly as `go tool pprof` prints them.

struct Unit {
    name: &'static str,
    aliases: &'static [&'static str],
    factor: f64,
}

struct Family {
    units: &'static [Unit],
    default: (&'static str, f64),
}

const FAMILIES: &[Family] = &[
    Family {
        units: &[
            Unit {
                name: "B",
                aliases: &["b", "byte"],
                factor: 1.0,
            },
            Unit {
                name: "kB",
                aliases: &["kb", "kbyte", "kilobyte"],
                factor: 1024.0,
            },
            Unit {
                name: "MB",
                aliases: &["mb", "mbyte", "megabyte"],
                factor: 1048576.0,
            },
            Unit {
                name: "GB",
                aliases: &["gb", "gbyte", "gigabyte"],
                factor: 1073741824.0,
            },
            Unit {
                name: "TB",
                aliases: &["tb", "tbyte", "terabyte"],
                factor: 1099511627776.0,
            },
            Unit {
                name: "PB",
                aliases: &["pb", "pbyte", "petabyte"],
                factor: 1125899906842624.0,
            },
        ],
        default: ("B", 1.0),
    },
    Family {
        units: &[
            Unit {
                name: "ns",
                aliases: &["ns", "nanosecond"],
                factor: 1.0,
            },
            Unit {
                name: "us",
                aliases: &["μs", "us", "microsecond"],
                factor: 1e3,
            },
            Unit {
                name: "ms",
                aliases: &["ms", "millisecond"],
                factor: 1e6,
            },
            Unit {
                name: "s",
                aliases: &["s", "sec", "second"],
                factor: 1e9,
            },
            Unit {
                name: "hrs",
                aliases: &["hour", "hr"],
                factor: 3600e9,
            },
        ],
        default: ("s", 1e9),
    },
    Family {
        units: &[
            Unit {
                name: "n*GCU",
                aliases: &["nanogcu"],
                factor: 1e-9,
            },
            Unit {
                name: "u*GCU",
                aliases: &["microgcu"],
                factor: 1e-6,
            },
            Unit {
                name: "m*GCU",
                aliases: &["milligcu"],
                factor: 1e-3,
            },
            Unit {
                name: "GCU",
                aliases: &["gcu"],
                factor: 1.0,
            },
            Unit {
                name: "k*GCU",
                aliases: &["kilogcu"],
                factor: 1e3,
            },
            Unit {
                name: "M*GCU",
                aliases: &["megagcu"],
                factor: 1e6,
            },
            Unit {
                name: "G*GCU",
                aliases: &["gigagcu"],
                factor: 1e9,
            },
            Unit {
                name: "T*GCU",
                aliases: &["teragcu"],
                factor: 1e12,
            },
            Unit {
                name: "P*GCU",
                aliases: &["petagcu"],
                factor: 1e15,
            },
        ],
        default: ("GCU", 1.0),
    },
];

impl Family {
    /// Finds a unit by alias, lower-cased and with a plural `s` dropped (`sniffUnit`).
    fn sniff(&self, unit: &str) -> Option<&Unit> {
        let lower = unit.to_lowercase();
        let u = if lower.len() > 2 {
            lower.strip_suffix('s').unwrap_or(&lower)
        } else {
            &lower
        };
        self.units.iter().find(|x| x.aliases.contains(&u))
    }

    /// The largest unit in which the value is at least 1 (`autoScale`).
    fn auto_scale(&self, v: f64) -> Option<(f64, &'static str)> {
        let mut best: Option<&Unit> = None;
        for u in self.units {
            if u.factor >= best.map_or(0.0, |b| b.factor) && v / u.factor >= 1.0 {
                best = Some(u);
            }
        }
        best.map(|u| (v / u.factor, u.name))
    }

    fn convert(&self, value: i64, from: &str, to: &str) -> Option<(f64, &'static str)> {
        let from = self.sniff(from)?;
        let v = value as f64 * from.factor;
        if to == "minimum" || to == "auto" {
            return Some(
                self.auto_scale(v)
                    .unwrap_or((v / self.default.1, self.default.0)),
            );
        }
        Some(match self.sniff(to) {
            Some(t) => (v / t.factor, t.name),
            None => (v / self.default.1, self.default.0),
        })
    }
}

/// Converts `value` from unit `from` to unit `to` (or `minimum`/`auto`), returning the
/// scaled value and the unit name to print (`measurement.Scale`).
pub fn scale(value: i64, from: &str, to: &str) -> (f64, String) {
    if value < 0 && value != i64::MIN {
        let (v, u) = scale(-value, from, to);
        return (-v, u);
    }
    for f in FAMILIES {
        if let Some((v, u)) = f.convert(value, from, to) {
            return (v, u.to_string());
        }
    }
    match to {
        "count" | "sample" | "unit" | "minimum" | "auto" => (value as f64, String::new()),
        _ => (value as f64, to.to_string()),
    }
}

/// `%.2f` of the scaled value without a trailing `.00`, plus the unit (`ScaledLabel`).
pub fn scaled_label(value: i64, from: &str, to: &str) -> String {
    let (v, u) = scale(value, from, to);
    let s = format!("{v:.2}");
    let s = s.strip_suffix(".00").unwrap_or(&s);
    if s == "0" || s == "-0" {
        return "0".into();
    }
    format!("{s}{u}")
}

/// A value in the largest unit that fits (`measurement.Label`).
pub fn label(value: i64, unit: &str) -> String {
    scaled_label(value, unit, "auto")
}

/// `value/total` as pprof prints it: `  100%`, `%5.2f%%`, or `%5.2g%%` below 1%.
pub fn percentage(value: i64, total: i64) -> String {
    let ratio = if total != 0 {
        (value as f64 / total as f64).abs() * 100.0
    } else {
        0.0
    };
    if (99.95..=100.05).contains(&ratio) {
        "  100%".into()
    } else if ratio >= 1.0 {
        format!("{ratio:5.2}%")
    } else {
        format!("{:>5}%", go_g2(ratio))
    }
}

/// Go's `%.2g` for a non-negative finite number (strconv 'g' with precision 2).
fn go_g2(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x.is_nan() { "NaN".into() } else { "0".into() };
    }
    // Two significant digits, correctly rounded, from Rust's exponent form "d.de±x".
    let e = format!("{x:.1e}");
    let (mant, exp) = e.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("exponent");
    let mut digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let nd = digits.len() as i32;
    let dp = exp + 1; // decimal point position, as in strconv's decimal
    let mut eprec = 2;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    if exp < -4 || exp >= eprec {
        let prec = 2.min(nd);
        let mut out = digits[..1].to_string();
        if prec > 1 {
            out.push('.');
            out.push_str(&digits[1..prec as usize]);
        }
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{out}e{sign}{:02}", exp.abs());
    }
    let prec = if 2 > dp { nd } else { 2 };
    let frac = (prec - dp).max(0) as usize;
    // %f of the rounded digits with `frac` decimals.
    let mut s = String::new();
    if dp <= 0 {
        s.push('0');
    } else {
        for i in 0..dp {
            s.push(
                digits
                    .as_bytes()
                    .get(i as usize)
                    .map_or('0', |&b| b as char),
            );
        }
    }
    if frac > 0 {
        s.push('.');
        for i in 0..frac as i32 {
            let pos = dp + i;
            let c = if pos < 0 {
                '0'
            } else {
                digits
                    .as_bytes()
                    .get(pos as usize)
                    .map_or('0', |&b| b as char)
            };
            s.push(c);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_match_go() {
        assert_eq!(percentage(100, 100), "  100%");
        assert_eq!(percentage(9856, 10000), "98.56%");
        assert_eq!(percentage(0, 100), "    0%");
        assert_eq!(percentage(9, 1000), "  0.9%");
        assert_eq!(percentage(123, 100000), " 0.12%");
        assert_eq!(percentage(1, 10_000_000), "1e-05%");
        assert_eq!(percentage(-5, 1000), "  0.5%");
        assert_eq!(percentage(9996, 1_000_000), "    1%");
    }

    #[test]
    fn labels_match_go() {
        assert_eq!(scaled_label(1_370_000_000, "nanoseconds", "s"), "1.37s");
        assert_eq!(scaled_label(0, "nanoseconds", "s"), "0");
        assert_eq!(scaled_label(23164068, "bytes", "kB"), "22621.16kB");
        assert_eq!(scaled_label(5, "count", "count"), "5");
        assert_eq!(scale(660_000, "nanoseconds", "minimum").1, "us");
        assert_eq!(label(2_000_000_000, "nanoseconds"), "2s");
        assert_eq!(scaled_label(-1_500_000, "nanoseconds", "ms"), "-1.50ms");
    }
}
