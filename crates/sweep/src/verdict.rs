//! Name the best configuration only when it beats the noise. The candidate (best median)
//! must differ from the runner-up by a two-sided exact Mann-Whitney U test at p < 0.05:
//! with 2 runs each that can never happen (the smallest possible p is 1/3), with 4 each it
//! needs every run of one below every run of the other. A "winner" picked from overlapping
//! runs is a coin toss that people then deploy.

use crate::stats::{Summary, summarize};

/// Whether smaller (latency, wall time) or larger (throughput) values are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

/// Significance level for naming a winner.
pub const ALPHA: f64 = 0.05;

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Index of the configuration that is better than all others beyond the noise.
    pub best: Option<usize>,
    /// The p-value of best against the runner-up, when there were two to compare.
    pub p_value: Option<f64>,
    pub message: String,
}

/// `entries`: (label, every run's value of the objective) per configuration.
pub fn verdict(objective: &str, better: Better, entries: &[(String, Vec<f64>)]) -> Verdict {
    let mut ranked: Vec<(usize, Summary)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, (_, v))| summarize(v).map(|s| (i, s)))
        .collect();
    ranked.sort_by(|a, b| match better {
        Better::Lower => a.1.median.total_cmp(&b.1.median),
        Better::Higher => b.1.median.total_cmp(&a.1.median),
    });
    let describe = |i: usize, s: &Summary| {
        format!("{} (median {}, {} runs)", entries[i].0, num(s.median), s.n)
    };
    match ranked.as_slice() {
        [] => Verdict {
            best: None,
            p_value: None,
            message: format!("no run measured {objective}"),
        },
        [(i, _)] => Verdict {
            best: None,
            p_value: None,
            message: format!(
                "only one configuration measured {objective}: {}",
                entries[*i].0
            ),
        },
        [(bi, b), (ri, r), ..] => {
            let p = mann_whitney_p(&entries[*bi].1, &entries[*ri].1);
            if p < ALPHA {
                Verdict {
                    best: Some(*bi),
                    p_value: Some(p),
                    message: format!(
                        "best for {objective}: {}; next: {}; p = {} (Mann-Whitney)",
                        describe(*bi, b),
                        describe(*ri, r),
                        num(p)
                    ),
                }
            } else {
                // No single winner; still say which configurations lose to the leader
                // beyond the noise, since that is often the useful half of the answer.
                let worse: Vec<String> = ranked[2..]
                    .iter()
                    .filter_map(|(i, _)| {
                        let p = mann_whitney_p(&entries[*bi].1, &entries[*i].1);
                        (p < ALPHA).then(|| format!("{} (p = {})", entries[*i].0, num(p)))
                    })
                    .collect();
                let tail = if worse.is_empty() {
                    "run more repeats".to_string()
                } else {
                    format!(
                        "worse than {} beyond the noise: {}",
                        entries[*bi].0,
                        worse.join(", ")
                    )
                };
                Verdict {
                    best: None,
                    p_value: Some(p),
                    message: format!(
                        "no single best for {objective}: {} and {} are within the noise of each other (p = {}, Mann-Whitney; needs < {ALPHA}); {tail}",
                        describe(*bi, b),
                        describe(*ri, r),
                        num(p)
                    ),
                }
            }
        }
    }
}

/// Two-sided p-value of the Mann-Whitney U test, exact under the null of exchangeable
/// samples (ties count one half). Counts, for every U, how many of the C(n+m, n) orderings
/// give it, by the recurrence N(n, m, u) = N(n-1, m, u-m) + N(n, m-1, u).
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return 1.0;
    }
    // U counted in halves so ties stay integral.
    let u2: usize = a
        .iter()
        .map(|x| {
            b.iter()
                .map(|y| {
                    if x > y {
                        2
                    } else if x == y {
                        1
                    } else {
                        0
                    }
                })
                .sum::<usize>()
        })
        .sum();
    // dist[j][u]: orderings of i values of a and j of b with statistic u (whole units).
    let max_u = n * m;
    let mut prev: Vec<Vec<f64>> = (0..=m)
        .map(|_| {
            let mut v = vec![0.0; max_u + 1];
            v[0] = 1.0;
            v
        })
        .collect();
    for i in 1..=n {
        let mut cur: Vec<Vec<f64>> = vec![vec![0.0; max_u + 1]; m + 1];
        cur[0][0] = 1.0;
        for j in 1..=m {
            for u in 0..=i * j {
                let with_a_last = if u >= j { prev[j][u - j] } else { 0.0 };
                cur[j][u] = with_a_last + cur[j - 1][u];
            }
        }
        prev = cur;
    }
    let counts = &prev[m];
    let total: f64 = counts.iter().sum();
    // Two-sided: as far from the centre (n m / 2) as observed, on either side.
    let centre2 = max_u as f64; // 2 * (n m / 2)
    let dev2 = (u2 as f64 - centre2).abs();
    let extreme: f64 = counts
        .iter()
        .enumerate()
        .filter(|(u, _)| ((2 * u) as f64 - centre2).abs() >= dev2 - 1e-9)
        .map(|(_, c)| c)
        .sum();
    (extreme / total).min(1.0)
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
    use proptest::prelude::*;

    fn entry(label: &str, v: &[f64]) -> (String, Vec<f64>) {
        (label.to_string(), v.to_vec())
    }

    #[test]
    fn exact_p_values() {
        // Complete separation, 2 vs 2: 2 of C(4,2) = 6 orderings are as extreme.
        assert!((mann_whitney_p(&[1.0, 2.0], &[3.0, 4.0]) - 1.0 / 3.0).abs() < 1e-12);
        // 4 vs 4: 2 / C(8,4) = 2/70.
        assert!(
            (mann_whitney_p(&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0]) - 2.0 / 70.0).abs()
                < 1e-12
        );
        // Identical samples: nothing to see.
        assert_eq!(mann_whitney_p(&[1.0, 1.0, 1.0], &[1.0, 1.0, 1.0]), 1.0);
        // Interleaved: large p.
        assert!(mann_whitney_p(&[1.0, 3.0, 5.0, 7.0], &[2.0, 4.0, 6.0, 8.0]) > 0.5);
    }

    #[test]
    fn clear_winner() {
        let e = vec![
            entry("slow", &[10.0, 11.0, 12.0, 10.5, 11.5]),
            entry("fast", &[5.0, 5.5, 6.0, 5.2, 5.8]),
        ];
        let v = verdict("p99", Better::Lower, &e);
        assert_eq!(v.best, Some(1));
        assert!(v.message.starts_with("best for p99: fast"), "{}", v.message);
    }

    #[test]
    fn two_runs_are_never_enough() {
        let e = vec![entry("a", &[10.0, 11.0]), entry("b", &[1.0, 2.0])];
        let v = verdict("p99", Better::Lower, &e);
        assert_eq!(v.best, None);
        assert!(
            v.message.contains("within the noise") && v.message.ends_with("run more repeats"),
            "{}",
            v.message
        );
    }

    #[test]
    fn names_the_losers_when_the_top_two_tie() {
        let e = vec![
            entry("a", &[10.0, 12.0, 11.0, 13.0]),
            entry("b", &[10.5, 11.5, 12.5, 13.5]),
            entry("c", &[50.0, 51.0, 52.0, 53.0]),
        ];
        let v = verdict("p99", Better::Lower, &e);
        assert_eq!(v.best, None);
        assert!(
            v.message
                .contains("worse than a beyond the noise: c (p = 0.029)"),
            "{}",
            v.message
        );
    }

    #[test]
    fn higher_is_better_for_throughput() {
        let e = vec![
            entry("a", &[100.0, 101.0, 102.0, 103.0]),
            entry("b", &[200.0, 201.0, 202.0, 203.0]),
        ];
        assert_eq!(verdict("rate", Better::Higher, &e).best, Some(1));
    }

    proptest! {
        #[test]
        fn p_is_a_probability_and_symmetric(a in proptest::collection::vec(0.0f64..10.0, 1..8), b in proptest::collection::vec(0.0f64..10.0, 1..8)) {
            let p = mann_whitney_p(&a, &b);
            prop_assert!((0.0..=1.0).contains(&p));
            prop_assert!((p - mann_whitney_p(&b, &a)).abs() < 1e-9);
        }
    }
}
