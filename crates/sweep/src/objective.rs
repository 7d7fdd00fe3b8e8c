//! Which metric decides the best configuration, and which way is better.

use crate::metric::{Metric, MetricId};
use crate::verdict::Better;

/// The metric that decides, and which way is better.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    pub metric: MetricId,
    pub better: Better,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectiveError {
    #[error("objective {text:?}: expected NAME, NAME:min or NAME:max, not {direction:?}")]
    Direction { text: String, direction: String },
    #[error("--metric {0}: that name is measured by boxwise itself; choose another")]
    BuiltinName(String),
    #[error("--objective {name}: no such metric; boxwise measures {known}{custom}")]
    Unknown {
        name: String,
        known: String,
        custom: String,
    },
}

impl Objective {
    /// `--objective NAME[:max|:min]`, or the default: p99 under load, else the first
    /// `--metric`, else wall time. Rates are better higher.
    pub fn choose(
        given: Option<&str>,
        http: bool,
        custom: &[&str],
    ) -> Result<Objective, ObjectiveError> {
        let first_metric = custom.first().copied();
        let text = given.map(str::to_string).unwrap_or_else(|| {
            if http {
                Metric::P99.name().into()
            } else {
                first_metric
                    .unwrap_or(Metric::WallSeconds.name())
                    .to_string()
            }
        });
        let (name, direction) = match text.rsplit_once(':') {
            Some((n, d)) => (n, Some(d)),
            None => (text.as_str(), None),
        };
        if Metric::from_name(name).is_none() && !custom.contains(&name) {
            let known: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
            return Err(ObjectiveError::Unknown {
                name: name.to_string(),
                known: known.join(", "),
                custom: if custom.is_empty() {
                    String::new()
                } else {
                    format!("; --metric gives {}", custom.join(", "))
                },
            });
        }
        let metric = MetricId::parse(name);
        let better = match direction {
            Some("max") => Better::Higher,
            Some("min") => Better::Lower,
            Some(other) => {
                return Err(ObjectiveError::Direction {
                    direction: other.to_string(),
                    text,
                });
            }
            None if metric.std().is_some_and(Metric::higher_is_better) => Better::Higher,
            None => Better::Lower,
        };
        Ok(Objective { metric, better })
    }

    pub fn higher_is_better(&self) -> bool {
        self.better == Better::Higher
    }
}

/// The workload's own metric names (`--metric`) must not shadow the ones boxwise measures.
pub fn check_custom_names<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), ObjectiveError> {
    match names.into_iter().find(|n| Metric::from_name(n).is_some()) {
        Some(n) => Err(ObjectiveError::BuiltinName(n.to_string())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices() {
        // (--objective, --http, first --metric) -> (name, better)
        let table = [
            (None, true, None, "p99", Better::Lower),
            (None, true, Some("elapsed_ms"), "p99", Better::Lower),
            (None, false, Some("elapsed_ms"), "elapsed_ms", Better::Lower),
            (None, false, None, "wall_seconds", Better::Lower),
            (
                Some("achieved_rate"),
                true,
                None,
                "achieved_rate",
                Better::Higher,
            ),
            (
                Some("achieved_rate:min"),
                true,
                None,
                "achieved_rate",
                Better::Lower,
            ),
            (Some("ops:max"), false, None, "ops", Better::Higher),
            (Some("p99:min"), true, None, "p99", Better::Lower),
            // Only the last colon splits.
            (Some("a:b:max"), false, None, "a:b", Better::Higher),
        ];
        for (given, http, first, name, better) in table {
            // Custom names the objectives above use come from --metric.
            let mut custom: Vec<&str> = first.into_iter().collect();
            custom.extend(["ops", "a:b"]);
            let custom = if first.is_none() && given.is_none() {
                Vec::new()
            } else {
                custom
            };
            let o = Objective::choose(given, http, &custom).unwrap();
            assert_eq!(
                (o.metric.name(), o.better),
                (name, better),
                "{given:?} {http} {first:?}"
            );
        }
        assert_eq!(
            Objective::choose(None, true, &[]).unwrap().metric,
            Metric::P99
        );
        // A name neither boxwise nor --metric measures is refused, naming both.
        let e = Objective::choose(Some("nope"), false, &["ops"]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("--objective nope: no such metric; boxwise measures ")
                && text.ends_with("; --metric gives ops"),
            "{text}"
        );
    }

    #[test]
    fn bad_direction() {
        let e = Objective::choose(Some("p99:up"), true, &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"objective "p99:up": expected NAME, NAME:min or NAME:max, not "up""#
        );
    }

    #[test]
    fn custom_names_must_not_be_builtin() {
        assert_eq!(check_custom_names(["elapsed_ms", "ops"]), Ok(()));
        assert_eq!(
            check_custom_names(["ops", "p99"]).unwrap_err().to_string(),
            "--metric p99: that name is measured by boxwise itself; choose another"
        );
    }
}
