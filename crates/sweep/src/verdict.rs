//! Name the best configuration only when it beats the noise: its median's confidence
//! interval must not overlap the runner-up's. Otherwise say so: a "winner" picked from
//! overlapping intervals is a coin toss that people then deploy.

use crate::stats::Summary;

/// Whether smaller (latency, wall time) or larger (throughput) values are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Index of the configuration that is better than all others beyond the noise.
    pub best: Option<usize>,
    pub message: String,
}

/// `entries`: (label, summary of the objective) per configuration.
pub fn verdict(objective: &str, better: Better, entries: &[(String, Option<Summary>)]) -> Verdict {
    let mut ranked: Vec<(usize, &Summary)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, (_, s))| s.as_ref().map(|s| (i, s)))
        .collect();
    ranked.sort_by(|a, b| match better {
        Better::Lower => a.1.median.total_cmp(&b.1.median),
        Better::Higher => b.1.median.total_cmp(&a.1.median),
    });
    let describe = |i: usize, s: &Summary| {
        format!(
            "{} ({objective} median {}, CI {}..{})",
            entries[i].0,
            num(s.median),
            num(s.ci_low),
            num(s.ci_high)
        )
    };
    match ranked.as_slice() {
        [] => Verdict {
            best: None,
            message: format!("no run measured {objective}"),
        },
        [(i, _)] => Verdict {
            best: None,
            message: format!(
                "only one configuration measured {objective}: {}",
                entries[*i].0
            ),
        },
        [(bi, b), (ri, r), ..] => {
            let clear = match better {
                Better::Lower => b.ci_high < r.ci_low,
                Better::Higher => b.ci_low > r.ci_high,
            };
            if clear {
                Verdict {
                    best: Some(*bi),
                    message: format!(
                        "best for {objective}: {}; next: {}",
                        describe(*bi, b),
                        describe(*ri, r)
                    ),
                }
            } else {
                Verdict {
                    best: None,
                    message: format!(
                        "no configuration is better than the noise for {objective}: {} and {} overlap; run more repeats",
                        describe(*bi, b),
                        describe(*ri, r)
                    ),
                }
            }
        }
    }
}

fn num(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::summarize;

    fn entry(label: &str, v: &[f64]) -> (String, Option<Summary>) {
        (label.to_string(), summarize(v))
    }

    #[test]
    fn clear_winner() {
        let e = vec![
            entry("slow", &[10.0, 11.0, 12.0, 10.5, 11.5, 10.8]),
            entry("fast", &[5.0, 5.5, 6.0, 5.2, 5.8, 5.1]),
        ];
        let v = verdict("p99", Better::Lower, &e);
        assert_eq!(v.best, Some(1));
        assert!(v.message.starts_with("best for p99: fast"), "{}", v.message);
    }

    #[test]
    fn overlap_is_noise() {
        let e = vec![
            entry("a", &[10.0, 12.0, 11.0]),
            entry("b", &[10.5, 11.5, 13.0]),
        ];
        let v = verdict("p99", Better::Lower, &e);
        assert_eq!(v.best, None);
        assert!(v.message.contains("better than the noise"), "{}", v.message);
    }

    #[test]
    fn higher_is_better_for_throughput() {
        let e = vec![
            entry("a", &[100.0, 101.0, 102.0]),
            entry("b", &[200.0, 201.0, 202.0]),
        ];
        assert_eq!(verdict("rate", Better::Higher, &e).best, Some(1));
    }
}
