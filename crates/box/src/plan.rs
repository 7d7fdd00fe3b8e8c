//! What `exec` does to the environment: fill in GOMAXPROCS and GOMEMLIMIT from the
//! recommendation, keep what the user set, leave GOMAXPROCS to a Go runtime that picks the
//! same number itself (and follows later limit changes, which a set GOMAXPROCS stops), and
//! say why in one line.

use crate::goenv::{GoEnv, parse_gomaxprocs, parse_gomemlimit};
use crate::model::BoxInfo;
use crate::policy::{self, CpuPolicy, GoRuntime, PickBasis, Recommendation};
use crate::units;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvPlan {
    /// Variables to set before exec.
    pub set: Vec<(&'static str, String)>,
    /// Why GOMAXPROCS is set although the program is a Go program boxwise could read.
    pub gomaxprocs_why: Option<String>,
    /// One phrase per variable for the log line, e.g. `GOMAXPROCS=2 (cpu quota 1.5)`.
    pub notes: Vec<String>,
    /// The notes about variables not set (kept, left to the runtime, unset), for `--dry-run`.
    pub comments: Vec<String>,
    /// User settings that will break the program (a malformed GOMEMLIMIT crashes Go).
    pub problems: Vec<String>,
}

impl EnvPlan {
    /// The line `exec` logs: `GOMAXPROCS=2 (cpu quota 1.5), GOMEMLIMIT=241591910 (...)`.
    pub fn summary(&self) -> String {
        self.notes.join(", ")
    }

    fn comment(&mut self, note: String) {
        self.comments.push(note.clone());
        self.notes.push(note);
    }
}

/// Whether to set GOMAXPROCS or leave it to the program's own runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handover {
    /// Set it. `why` names what the program's runtime would get wrong; `None` when the
    /// program is not a Go binary boxwise can read (or there is none, `--dry-run`).
    Set { why: Option<String> },
    /// Leave it unset: the runtime picks the recommended number itself, from the limit that
    /// binds, and keeps following it.
    Leave { why: String },
}

/// Decide for a program whose runtime is `rt` (`None`: unknown, not Go, or unreadable).
pub fn handover(b: &BoxInfo, rec: &Recommendation, rt: Option<&GoRuntime>) -> Handover {
    let Some(rt) = rt else {
        return Handover::Set { why: None };
    };
    let v = &rt.version;
    let pick = policy::runtime_gomaxprocs(b, rt);
    let set = |why: String| Handover::Set { why: Some(why) };
    match &pick.basis {
        PickBasis::BeforeGo125 => return set(format!("{v} does not read cgroup limits")),
        PickBasis::Disabled => {
            return set(match rt.disabled_by {
                Some("GODEBUG") => format!("{v} runs with GODEBUG containermaxprocs=0"),
                _ => format!(
                    "{v} has containermaxprocs=0 in its DefaultGODEBUG, as the go line in its go.mod is below 1.25"
                ),
            });
        }
        PickBasis::CgroupNotFound {
            looks_at: Some(p),
            outside_namespace,
        } => {
            return set(format!(
                "{v} looks for its cgroup at {}, which is not it ({})",
                p.display(),
                not_found_cause(*outside_namespace)
            ));
        }
        PickBasis::CgroupNotFound { looks_at: None, .. } => {
            return set(format!("{v} finds no cpu cgroup"));
        }
        PickBasis::NoOwnQuota | PickBasis::OwnQuota(_) => {}
    }
    if !binding_quota_is_own(b) {
        return set(format!("on a parent cgroup, which {v} does not read"));
    }
    if pick.gomaxprocs != rec.gomaxprocs {
        let by = match rec.policy {
            CpuPolicy::Go125 => "--min-procs".to_string(),
            other => format!("the {other} policy"),
        };
        return set(format!(
            "{v} alone would pick {}, {by} gives {}",
            pick.gomaxprocs, rec.gomaxprocs
        ));
    }
    let from = match &pick.basis {
        PickBasis::OwnQuota(q) => format!(
            "from cpu quota {} on its own cgroup",
            units::decimal(q.cores, 3)
        ),
        _ => format!(
            "({}, {} CPU{} allowed)",
            if b.cgroup.ancestors_hidden {
                "no cpu quota seen: parent cgroups hidden"
            } else {
                "no cpu quota"
            },
            pick.gomaxprocs,
            if pick.gomaxprocs == 1 { "" } else { "s" }
        ),
    };
    let follows = if rt.updates {
        "follows later changes"
    } else {
        "keeps it (updatemaxprocs=0)"
    };
    Handover::Leave {
        why: format!("{v} picks {} itself {from} and {follows}", pick.gomaxprocs),
    }
}

/// The lowest quota over the cgroup and its ancestors is the process's own (or there is
/// none): the only level the Go runtime reads.
fn binding_quota_is_own(b: &BoxInfo) -> bool {
    match (&b.cpu.quota, &b.cpu.own_quota) {
        (None, _) => true,
        (Some(_), None) => false,
        // Equal ratios: the own level is (one of) the lowest.
        (Some(q), Some(o)) => {
            u128::from(o.quota_us) * u128::from(q.period_us)
                == u128::from(q.quota_us) * u128::from(o.period_us)
        }
    }
}

pub fn plan(env: &GoEnv, rec: &Recommendation, handover: &Handover) -> EnvPlan {
    let mut p = EnvPlan::default();
    let procs = rec.gomaxprocs.to_string();
    let why = match handover {
        Handover::Set { why: Some(w) } => format!("{}; {w}", rec.gomaxprocs_why),
        _ => rec.gomaxprocs_why.clone(),
    };
    match (env.gomaxprocs.as_deref(), handover) {
        (None, Handover::Leave { why }) => p.comment(format!("GOMAXPROCS left unset ({why})")),
        (None, Handover::Set { why: extra }) => {
            p.notes.push(format!("GOMAXPROCS={procs} ({why})"));
            // The dry run's comment names the limit too, as the log line does.
            p.gomaxprocs_why = extra.as_ref().map(|_| why.clone());
            p.set.push(("GOMAXPROCS", procs));
        }
        (Some(user), _) if parse_gomaxprocs(user).is_some() => {
            let mut note = kept(
                "GOMAXPROCS",
                user,
                parse_gomaxprocs(user) != Some(rec.gomaxprocs),
                &procs,
            );
            if let Handover::Leave { why } = handover {
                // A set GOMAXPROCS turns the runtime's own updates off.
                note.insert_str(note.len() - 1, &format!("; without it, {why}"));
            }
            p.comment(note);
        }
        (Some(user), Handover::Leave { why }) => {
            // Go ignores it, so the runtime's own choice stands.
            p.comment(format!(
                "GOMAXPROCS left as {user:?}, which Go ignores ({why})"
            ));
        }
        (Some(user), Handover::Set { why: extra }) => {
            // Go ignores it and falls back to its own default, which is what we replace.
            p.notes.push(format!(
                "GOMAXPROCS={procs} ({why}; replaced {user:?}, which Go ignores)"
            ));
            p.gomaxprocs_why = extra.clone();
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
        (None, None) => p.comment(format!("GOMEMLIMIT unset ({})", rec.gomemlimit_why)),
        (Some(user), _) => match parse_gomemlimit(user) {
            Ok(_) => {
                let differs = suggested.as_deref().is_some_and(|s| s != user);
                p.comment(kept(
                    "GOMEMLIMIT",
                    user,
                    differs,
                    suggested.as_deref().unwrap_or(""),
                ));
            }
            Err(e) => {
                p.comment(format!(
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

/// Why a Go runtime misses its own cgroup, for the log and doctor.
pub fn not_found_cause(outside_namespace: bool) -> &'static str {
    if outside_namespace {
        "a cgroup namespace without its own cgroupfs mount"
    } else {
        "golang/go#76390"
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

    const SET: Handover = Handover::Set { why: None };

    fn env(pairs: &[(&str, &str)]) -> GoEnv {
        GoEnv::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn fills_in_both() {
        let p = plan(&GoEnv::default(), &rec(), &SET);
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
            &SET,
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
        let p = plan(&env(&[("GOMAXPROCS", "0")]), &rec(), &SET);
        assert_eq!(p.set[0], ("GOMAXPROCS", "2".to_string()));
        assert!(p.notes[0].contains("which Go ignores"));
    }

    #[test]
    fn malformed_gomemlimit_is_a_problem_and_kept() {
        let p = plan(&env(&[("GOMEMLIMIT", "400m")]), &rec(), &SET);
        assert_eq!(p.set, vec![("GOMAXPROCS", "2".to_string())]);
        assert_eq!(p.problems.len(), 1);
        assert!(p.problems[0].contains("\"400m\" is malformed"));
    }

    #[test]
    fn an_empty_gomemlimit_counts_as_unset() {
        // Go reads "" as no limit, exactly like an unset variable.
        let p = plan(&env(&[("GOMEMLIMIT", "")]), &rec(), &SET);
        assert_eq!(p.set[1], ("GOMEMLIMIT", "241591910".to_string()));
        assert!(p.problems.is_empty());
    }

    #[test]
    fn no_memory_limit_sets_nothing() {
        let mut r = rec();
        r.gomemlimit_bytes = None;
        r.gomemlimit_why = "no memory limit".into();
        let p = plan(&GoEnv::default(), &r, &SET);
        assert_eq!(p.set.len(), 1);
        assert_eq!(p.notes[1], "GOMEMLIMIT unset (no memory limit)");
    }
}
