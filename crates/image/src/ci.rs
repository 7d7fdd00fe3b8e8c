//! dive's CI rules from the command line and from a `.dive-ci` file: the same three
//! thresholds, the same units, `disabled`/`off` to turn one off. Flags win over the file,
//! the file over dive's defaults.

use saphyr::{LoadableYamlNode, Yaml};

use crate::judge::CiRules;

/// One threshold as given: a value, or turned off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold<T> {
    Off,
    At(T),
}

/// Thresholds given by the user; `None` keeps whatever lies beneath.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CiOverrides {
    pub lowest_efficiency: Option<Threshold<f64>>,
    pub highest_wasted_bytes: Option<Threshold<u64>>,
    pub highest_user_wasted_percent: Option<Threshold<f64>>,
}

impl CiOverrides {
    /// These overrides laid over `base`.
    pub fn over(self, base: CiRules) -> CiRules {
        fn pick<T>(given: Option<Threshold<T>>, base: Option<T>) -> Option<T> {
            match given {
                None => base,
                Some(Threshold::Off) => None,
                Some(Threshold::At(v)) => Some(v),
            }
        }
        CiRules {
            lowest_efficiency: pick(self.lowest_efficiency, base.lowest_efficiency),
            highest_wasted_bytes: pick(self.highest_wasted_bytes, base.highest_wasted_bytes),
            highest_user_wasted_percent: pick(
                self.highest_user_wasted_percent,
                base.highest_user_wasted_percent,
            ),
        }
    }
}

fn is_off(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "" | "off" | "disabled" | "false"
    )
}

/// A ratio in 0..1 (`0.9`), or `off`/`disabled`.
pub fn parse_ratio(s: &str) -> Result<Threshold<f64>, String> {
    if is_off(s) {
        return Ok(Threshold::Off);
    }
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(Threshold::At(v)),
        _ => Err(format!("{s:?} is not a ratio between 0 and 1 (or off)")),
    }
}

/// A size as dive reads it (go-humanize: `20MB` is 20,000,000; `20MiB` binary), or `off`.
pub fn parse_size(s: &str) -> Result<Threshold<u64>, String> {
    if is_off(s) {
        return Ok(Threshold::Off);
    }
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "kib" => 1024.0,
        "mib" => 1048576.0,
        "gib" => 1073741824.0,
        _ => {
            return Err(format!(
                "{s:?}: unknown unit (use B, KB, MB, GB, KiB, MiB or GiB)"
            ));
        }
    };
    match num.parse::<f64>() {
        Ok(v) if v >= 0.0 && (v * mult) < u64::MAX as f64 => Ok(Threshold::At((v * mult) as u64)),
        _ => Err(format!("{s:?} is not a size (or off)")),
    }
}

/// Reads a `.dive-ci` file: `rules:` with `lowestEfficiency`, `highestWastedBytes` and
/// `highestUserWastedPercent`. Unknown keys are refused, so a typo cannot silently leave a
/// rule at its default.
pub fn parse_dive_ci(text: &str) -> Result<CiOverrides, String> {
    let docs = Yaml::load_from_str(text).map_err(|e| e.to_string())?;
    let mut out = CiOverrides::default();
    let Some(doc) = docs.first() else {
        return Ok(out);
    };
    let Some(rules) = doc.as_mapping_get("rules") else {
        return Err("no `rules:` mapping".into());
    };
    let Some(map) = rules.as_mapping() else {
        return Err("`rules:` is not a mapping".into());
    };
    for (key, value) in map {
        let key = key.as_str().unwrap_or("");
        let text = scalar_text(value)
            .ok_or_else(|| format!("rules.{key}: expected a number, a size or `disabled`"))?;
        let at = |e: String| format!("rules.{key}: {e}");
        match key {
            "lowestEfficiency" => out.lowest_efficiency = Some(parse_ratio(&text).map_err(at)?),
            "highestWastedBytes" => out.highest_wasted_bytes = Some(parse_size(&text).map_err(at)?),
            "highestUserWastedPercent" => {
                out.highest_user_wasted_percent = Some(parse_ratio(&text).map_err(at)?)
            }
            other => {
                return Err(format!(
                    "rules.{other}: unknown rule (lowestEfficiency, highestWastedBytes, \
                     highestUserWastedPercent)"
                ));
            }
        }
    }
    Ok(out)
}

/// A scalar as the text a user wrote (numbers back to text, so one parser reads both).
fn scalar_text(v: &Yaml) -> Option<String> {
    if let Some(s) = v.as_str() {
        return Some(s.to_owned());
    }
    if let Some(f) = v.as_floating_point() {
        return Some(f.to_string());
    }
    if let Some(i) = v.as_integer() {
        return Some(i.to_string());
    }
    v.as_bool().map(|b| b.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dive_ci_file_as_dive_documents_it() {
        let o = parse_dive_ci(
            "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n  \
             highestUserWastedPercent: disabled\n",
        )
        .unwrap();
        assert_eq!(o.lowest_efficiency, Some(Threshold::At(0.95)));
        assert_eq!(o.highest_wasted_bytes, Some(Threshold::At(20_000_000)));
        assert_eq!(o.highest_user_wasted_percent, Some(Threshold::Off));
        let rules = o.over(CiRules::default());
        assert_eq!(rules.lowest_efficiency, Some(0.95));
        assert_eq!(rules.highest_user_wasted_percent, None);
    }

    #[test]
    fn partial_file_keeps_the_defaults_beneath() {
        let o = parse_dive_ci("rules:\n  highestWastedBytes: 1024\n").unwrap();
        let r = o.over(CiRules::default());
        assert_eq!(r.highest_wasted_bytes, Some(1024));
        assert_eq!(r.lowest_efficiency, CiRules::default().lowest_efficiency);
    }

    #[test]
    fn bad_files_name_the_rule() {
        for (text, want) in [
            (
                "rules:\n  lowestEfficency: 0.9\n",
                "rules.lowestEfficency: unknown rule",
            ),
            ("rules:\n  lowestEfficiency: 9\n", "rules.lowestEfficiency:"),
            (
                "rules:\n  highestWastedBytes: 3 parsecs\n",
                "rules.highestWastedBytes:",
            ),
            ("rules: 3\n", "not a mapping"),
            ("other: 1\n", "no `rules:`"),
            ("rules: [\n", ""),
        ] {
            let e = parse_dive_ci(text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    proptest! {
        /// A size written in whole decimal or binary units reads back exactly.
        #[test]
        fn sizes_round_trip(n in 0u64..1_000_000, unit in 0usize..5) {
            let (suffix, mult) = [("", 1), ("KB", 1000), ("MB", 1_000_000), ("KiB", 1024), ("MiB", 1 << 20)][unit];
            prop_assert_eq!(parse_size(&format!("{n}{suffix}")), Ok(Threshold::At(n * mult)));
        }

        /// Any text: an answer or an error, never a panic.
        #[test]
        fn any_text_is_read_or_refused(s in ".{0,80}") {
            let _ = parse_dive_ci(&s);
            let _ = parse_size(&s);
            let _ = parse_ratio(&s);
        }
    }
}
