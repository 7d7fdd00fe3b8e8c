//! Workload metrics taken from its own output: `--metric NAME=REGEX`, the first capture
//! group of the last match, as a number.

use regex::Regex;

/// Why a `--metric` option is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("metric {0:?}: expected NAME=REGEX")]
    Syntax(String),
    #[error("metric {name}: bad regex {pattern:?}: {error}")]
    Regex {
        name: String,
        pattern: String,
        error: String,
    },
    #[error("metric {name}: the regex {pattern:?} needs a capture group around the number")]
    NoCapture { name: String, pattern: String },
}

/// One `--metric` option.
#[derive(Debug, Clone)]
pub struct MetricPattern {
    pub name: String,
    pub regex: Regex,
}

impl MetricPattern {
    /// Parse `NAME=REGEX`; the regex needs a capture group for the number.
    pub fn parse(text: &str) -> Result<MetricPattern, PatternError> {
        let (name, pattern) = text
            .split_once('=')
            .filter(|(n, p)| !n.is_empty() && !p.is_empty())
            .ok_or_else(|| PatternError::Syntax(text.to_string()))?;
        let regex = Regex::new(pattern).map_err(|e| PatternError::Regex {
            name: name.to_string(),
            pattern: pattern.to_string(),
            error: e.to_string(),
        })?;
        if regex.captures_len() < 2 {
            return Err(PatternError::NoCapture {
                name: name.to_string(),
                pattern: pattern.to_string(),
            });
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
                .to_string()
                .contains("NAME=REGEX")
        );
        assert!(
            MetricPattern::parse("x=[")
                .unwrap_err()
                .to_string()
                .contains("bad regex")
        );
        assert!(
            MetricPattern::parse("x=abc")
                .unwrap_err()
                .to_string()
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
