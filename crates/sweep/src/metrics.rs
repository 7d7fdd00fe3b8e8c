//! Workload metrics taken from its own output: `--metric NAME=REGEX`, the first capture
//! group of the last match, as a number.

use regex::Regex;

/// One `--metric` option.
#[derive(Debug, Clone)]
pub struct MetricPattern {
    pub name: String,
    pub regex: Regex,
}

impl MetricPattern {
    /// Parse `NAME=REGEX`; the regex needs a capture group for the number.
    pub fn parse(text: &str) -> Result<MetricPattern, String> {
        let (name, pattern) = text
            .split_once('=')
            .filter(|(n, p)| !n.is_empty() && !p.is_empty())
            .ok_or_else(|| format!("metric {text:?}: expected NAME=REGEX"))?;
        let regex = Regex::new(pattern)
            .map_err(|e| format!("metric {name}: bad regex {pattern:?}: {e}"))?;
        if regex.captures_len() < 2 {
            return Err(format!(
                "metric {name}: the regex {pattern:?} needs a capture group around the number"
            ));
        }
        Ok(MetricPattern {
            name: name.to_string(),
            regex,
        })
    }

    /// The number in the last match of the output, if any.
    pub fn extract(&self, output: &str) -> Option<f64> {
        self.regex
            .captures_iter(output)
            .filter_map(|c| c.get(1)?.as_str().trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn last_match_wins() {
        let m = MetricPattern::parse(r"elapsed_ms=elapsed_ms=([0-9.]+)").unwrap();
        assert_eq!(m.name, "elapsed_ms");
        assert_eq!(
            m.extract("elapsed_ms=12.5\nnoise\nelapsed_ms=10\n"),
            Some(10.0)
        );
        assert_eq!(m.extract("nothing"), None);
    }

    #[test]
    fn bad_options() {
        assert!(
            MetricPattern::parse("novalue")
                .unwrap_err()
                .contains("NAME=REGEX")
        );
        assert!(
            MetricPattern::parse("x=[")
                .unwrap_err()
                .contains("bad regex")
        );
        assert!(
            MetricPattern::parse("x=abc")
                .unwrap_err()
                .contains("capture group")
        );
    }

    proptest! {
        #[test]
        fn finds_the_number(v in 0.0f64..1e9, pre in "[a-z ]{0,10}") {
            let m = MetricPattern::parse(r"t=t=([0-9.eE+-]+)").unwrap();
            let out = format!("{pre}\nt={v}\n");
            prop_assert_eq!(m.extract(&out), Some(v));
        }
    }
}
