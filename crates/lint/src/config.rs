//! Severities per rule from a YAML config file:
//!
//! ```yaml
//! rules:
//!   dockerfile/build-without-strip: off
//!   k8s/no-probes: error
//! ```

use std::collections::BTreeMap;

use crate::{Rule, Severity, all_rules, yaml};

/// Per-rule severity overrides; `None` turns a rule off.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    overrides: BTreeMap<String, Option<Severity>>,
}

impl Config {
    /// The severity a rule reports at, `None` when turned off.
    pub fn severity(&self, rule: &Rule) -> Option<Severity> {
        match self.overrides.get(rule.id) {
            Some(s) => *s,
            None => Some(rule.severity),
        }
    }

    /// Parse a config file's text; unknown rules and severities are errors with their line.
    pub fn parse(text: &str) -> Result<Config, String> {
        let docs = yaml::load(text).map_err(|e| {
            format!(
                "line {}, column {}: {}",
                e.pos.line, e.pos.column, e.message
            )
        })?;
        let mut overrides = BTreeMap::new();
        let Some(doc) = docs.first() else {
            return Ok(Config::default());
        };
        let known: Vec<&str> = all_rules().iter().map(|r| r.id).collect();
        for (key, pos, _) in doc.entries() {
            if key != "rules" {
                return Err(format!(
                    "line {}: unknown key {key:?}; expected rules",
                    pos.line
                ));
            }
        }
        let Some(rules) = doc.get("rules") else {
            return Ok(Config::default());
        };
        for (id, pos, v) in rules.entries() {
            if !known.contains(&id.as_str()) {
                return Err(format!(
                    "line {}: unknown rule {id:?} (see `boxwise lint --list-rules`)",
                    pos.line
                ));
            }
            let text = v.str().unwrap_or("");
            let sev = match text {
                "off" | "false" => None,
                s => Some(Severity::parse(s).ok_or_else(|| {
                    format!(
                        "line {}: severity {s:?} for {id}; expected error, warning, info or off",
                        v.pos.line
                    )
                })?),
            };
            overrides.insert(id.clone(), sev);
        }
        Ok(Config { overrides })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides() {
        let c = Config::parse("rules:\n  k8s/no-probes: error\n  dockerfile/latest-tag: off\n")
            .unwrap();
        assert_eq!(c.severity(&crate::k8s::NO_PROBES), Some(Severity::Error));
        assert_eq!(c.severity(&crate::dockerfile::rules::LATEST_TAG), None);
        assert_eq!(c.severity(&crate::k8s::NO_LIMITS), Some(Severity::Warning));
        let e = Config::parse("rules:\n  nope: error\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("nope"), "{e}");
        let e = Config::parse("rules:\n  k8s/no-probes: loud\n").unwrap_err();
        assert!(e.contains("loud"), "{e}");
    }
}
