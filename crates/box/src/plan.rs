//! What `exec` does to the environment: fill in GOMAXPROCS and GOMEMLIMIT from the
//! recommendation, keep what the user set, and say why in one line.

use crate::goenv::{GoEnv, parse_gomaxprocs, parse_gomemlimit};
use crate::policy::Recommendation;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvPlan {
    /// Variables to set before exec.
    pub set: Vec<(&'static str, String)>,
    /// One phrase per variable for the log line, e.g. `GOMAXPROCS=2 (cpu quota 1.5)`.
    pub notes: Vec<String>,
    /// User settings that will break the program (a malformed GOMEMLIMIT crashes Go).
    pub problems: Vec<String>,
}

impl EnvPlan {
    /// The line `exec` logs: `GOMAXPROCS=2 (cpu quota 1.5), GOMEMLIMIT=241591910 (...)`.
    pub fn summary(&self) -> String {
        self.notes.join(", ")
    }
}

pub fn plan(env: &GoEnv, rec: &Recommendation) -> EnvPlan {
    let mut p = EnvPlan::default();
    let procs = rec.gomaxprocs.to_string();
    match env.gomaxprocs.as_deref() {
        None => {
            p.notes
                .push(format!("GOMAXPROCS={procs} ({})", rec.gomaxprocs_why));
            p.set.push(("GOMAXPROCS", procs));
        }
        Some(user) if parse_gomaxprocs(user).is_some() => {
            p.notes.push(kept(
                "GOMAXPROCS",
                user,
                parse_gomaxprocs(user) != Some(rec.gomaxprocs),
                &procs,
            ));
        }
        Some(user) => {
            // Go ignores it and falls back to its own default, which is what we replace.
            p.notes.push(format!(
                "GOMAXPROCS={procs} ({}; replaced {user:?}, which Go ignores)",
                rec.gomaxprocs_why
            ));
            p.set.push(("GOMAXPROCS", procs));
        }
    }
    let suggested = rec.gomemlimit_bytes.map(|b| b.to_string());
    match (
        env.gomemlimit.as_deref().filter(|v| !v.is_empty()),
        &suggested,
    ) {
        (None, Some(bytes)) => {
            p.notes
                .push(format!("GOMEMLIMIT={bytes} ({})", rec.gomemlimit_why));
            p.set.push(("GOMEMLIMIT", bytes.clone()));
        }
        (None, None) => p
            .notes
            .push(format!("GOMEMLIMIT unset ({})", rec.gomemlimit_why)),
        (Some(user), _) => match parse_gomemlimit(user) {
            Ok(_) => {
                let differs = suggested.as_deref().is_some_and(|s| s != user);
                p.notes.push(kept(
                    "GOMEMLIMIT",
                    user,
                    differs,
                    suggested.as_deref().unwrap_or(""),
                ));
            }
            Err(e) => {
                p.notes.push(format!(
                    "GOMEMLIMIT={user} (kept from the environment, malformed)"
                ));
                p.problems.push(e.0);
            }
        },
    }
    p
}

fn kept(var: &str, user: &str, differs: bool, suggested: &str) -> String {
    if differs {
        format!("{var}={user} (kept from the environment; the box suggests {suggested})")
    } else {
        format!("{var}={user} (kept from the environment)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{CpuPolicy, MemoryRatio};

    fn rec() -> Recommendation {
        Recommendation {
            policy: CpuPolicy::Go125,
            gomaxprocs: 2,
            gomaxprocs_why: "cpu quota 1.5".into(),
            gomaxprocs_reason: String::new(),
            memory_ratio: MemoryRatio::DEFAULT,
            gomemlimit_bytes: Some(241591910),
            gomemlimit_why: "90% of memory.max 256 MiB".into(),
            gomemlimit_reason: String::new(),
        }
    }

    fn env(pairs: &[(&str, &str)]) -> GoEnv {
        GoEnv::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn fills_in_both() {
        let p = plan(&GoEnv::default(), &rec());
        assert_eq!(
            p.set,
            vec![
                ("GOMAXPROCS", "2".to_string()),
                ("GOMEMLIMIT", "241591910".to_string())
            ]
        );
        assert_eq!(
            p.summary(),
            "GOMAXPROCS=2 (cpu quota 1.5), GOMEMLIMIT=241591910 (90% of memory.max 256 MiB)"
        );
        assert!(p.problems.is_empty());
    }

    #[test]
    fn keeps_user_values() {
        let p = plan(
            &env(&[("GOMAXPROCS", "3"), ("GOMEMLIMIT", "200MiB")]),
            &rec(),
        );
        assert!(p.set.is_empty());
        assert_eq!(
            p.notes[0],
            "GOMAXPROCS=3 (kept from the environment; the box suggests 2)"
        );
        assert!(p.notes[1].starts_with("GOMEMLIMIT=200MiB (kept"));
    }

    #[test]
    fn replaces_a_gomaxprocs_go_ignores() {
        let p = plan(&env(&[("GOMAXPROCS", "0")]), &rec());
        assert_eq!(p.set[0], ("GOMAXPROCS", "2".to_string()));
        assert!(p.notes[0].contains("which Go ignores"));
    }

    #[test]
    fn malformed_gomemlimit_is_a_problem_and_kept() {
        let p = plan(&env(&[("GOMEMLIMIT", "400m")]), &rec());
        assert_eq!(p.set, vec![("GOMAXPROCS", "2".to_string())]);
        assert_eq!(p.problems.len(), 1);
        assert!(p.problems[0].contains("\"400m\" is malformed"));
    }

    #[test]
    fn an_empty_gomemlimit_counts_as_unset() {
        // Go reads "" as no limit, exactly like an unset variable.
        let p = plan(&env(&[("GOMEMLIMIT", "")]), &rec());
        assert_eq!(p.set[1], ("GOMEMLIMIT", "241591910".to_string()));
        assert!(p.problems.is_empty());
    }

    #[test]
    fn no_memory_limit_sets_nothing() {
        let mut r = rec();
        r.gomemlimit_bytes = None;
        r.gomemlimit_why = "no memory limit".into();
        let p = plan(&GoEnv::default(), &r);
        assert_eq!(p.set.len(), 1);
        assert_eq!(p.notes[1], "GOMEMLIMIT unset (no memory limit)");
    }
}
