//! Name the best configuration only when it beats the noise. The candidate (best median)
//! must differ from the runner-up by a two-sided exact Mann-Whitney U test at p < 0.05:
//! with 2 runs each that can never happen (the smallest possible p is 1/3), with 4 each it
//! needs every run of one below every run of the other. A "winner" picked from overlapping
//! runs is a coin toss that people then deploy. A configuration with a failed run (it
//! crashed, was OOM-killed or interrupted) is never named, however fast its runs were.

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
    verdict_with_failures(objective, better, entries, &[])
}

/// [`verdict`] when some runs failed (crashed, OOM-killed, interrupted, no answer to the
/// load). `failed[i]` counts configuration i's failed runs, whose values are not in
/// `entries`. A configuration with any failed run is never named best: the fastest way to
/// crash is no recommendation. The others are compared as usual, and the message says
/// which configurations were left out and why.
pub fn verdict_with_failures(
    objective: &str,
    better: Better,
    entries: &[(String, Vec<f64>)],
    failed: &[usize],
) -> Verdict {
    let failures = |i: usize| failed.get(i).copied().unwrap_or(0);
    let excluded: Vec<String> = (0..entries.len())
        .filter(|&i| failures(i) > 0)
        .map(|i| {
            let n = failures(i);
            format!(
                "{} ({n} failed run{})",
                entries[i].0,
                if n == 1 { "" } else { "s" }
            )
        })
        .collect();
    let some_failed = !excluded.is_empty();
    let mut v = rank_and_compare(objective, better, entries, some_failed, |i| {
        failures(i) == 0
    });
    if some_failed {
        v.message = format!(
            "{}; never recommended, since runs failed: {}",
            v.message,
            excluded.join(", ")
        );
    }
    v
}

fn rank_and_compare(
    objective: &str,
    better: Better,
    entries: &[(String, Vec<f64>)],
    some_failed: bool,
    eligible: impl Fn(usize) -> bool,
) -> Verdict {
    let which = if some_failed {
        " without failed runs"
    } else {
        ""
    };
    let mut ranked: Vec<(usize, Summary)> = entries
        .iter()
        .enumerate()
        .filter(|&(i, _)| eligible(i))
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
            message: if some_failed {
                format!("no configuration{which} measured {objective}")
            } else {
                format!("no run measured {objective}")
            },
        },
        [(i, _)] => Verdict {
            best: None,
            p_value: None,
            message: format!(
                "only one configuration{which} measured {objective}: {}",
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

/// Two-sided p-value of the Mann-Whitney U test (equivalently, the Wilcoxon rank-sum test),
/// exact under the null of exchangeable samples: every way of choosing which `a.len()` of
/// the pooled values belong to `a` is equally likely. Tied values get their midrank, so
/// the distribution is that of the rank sum with those very ranks (a table that assumes no
/// ties understates p when values tie). p = P(|R - E\[R\]| >= |r - E\[R\]|), with r the
/// observed rank sum of `a`. Above [`EXACT_MAX`] pooled values the normal approximation
/// with the tie-corrected variance is used instead.
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return 1.0;
    }
    let ranks = doubled_midranks(a, b);
    let big_n = n + m;
    // Doubled rank sum of `a` and its doubled expectation n (N + 1).
    let observed: u64 = ranks[..n].iter().sum();
    let expected = (n * (big_n + 1)) as u64;
    if big_n > EXACT_MAX {
        return normal_p(&ranks, n, observed);
    }
    // The sample whose members are chosen: the smaller, for a smaller table. Its deviation
    // from the expectation is minus the other's, so the two-sided p is the same.
    let (k, chosen_sum, chosen_expected) = if n <= m {
        (n, observed, expected)
    } else {
        let total: u64 = ranks.iter().sum();
        (m, total - observed, (m * (big_n + 1)) as u64)
    };
    let dist = rank_sum_distribution(&ranks, k);
    let dev = chosen_sum.abs_diff(chosen_expected);
    let total: f64 = dist.iter().sum();
    let extreme: f64 = dist
        .iter()
        .enumerate()
        .filter(|&(r, _)| (r as u64).abs_diff(chosen_expected) >= dev)
        .map(|(_, c)| c)
        .sum();
    (extreme / total).min(1.0)
}

/// Pooled sizes above this use the normal approximation (the exact table costs about
/// N^2 n^2 / 2 steps).
pub const EXACT_MAX: usize = 200;

/// The midranks (1-based, doubled so they stay integers) of `a` then `b` in the pooled
/// sample: a run of equal values at sorted positions s..e (0-based, exclusive end) gets
/// (s + 1 + e) / 2, doubled s + 1 + e.
fn doubled_midranks(a: &[f64], b: &[f64]) -> Vec<u64> {
    let pooled: Vec<f64> = a.iter().chain(b).copied().collect();
    let mut order: Vec<usize> = (0..pooled.len()).collect();
    order.sort_by(|&i, &j| pooled[i].total_cmp(&pooled[j]));
    let mut ranks = vec![0u64; pooled.len()];
    let mut s = 0;
    while s < order.len() {
        let mut e = s + 1;
        while e < order.len() && pooled[order[e]] == pooled[order[s]] {
            e += 1;
        }
        for &i in &order[s..e] {
            ranks[i] = (s + 1 + e) as u64;
        }
        s = e;
    }
    ranks
}

/// `dist[r]`: in how many ways `k` of the values with these (doubled) ranks can be chosen
/// so that their ranks sum to r. Item by item: ways(j + 1, r + d) += ways(j, r).
fn rank_sum_distribution(ranks: &[u64], k: usize) -> Vec<f64> {
    let max_sum: usize = {
        let mut sorted: Vec<u64> = ranks.to_vec();
        sorted.sort_unstable_by(|x, y| y.cmp(x));
        sorted[..k].iter().sum::<u64>() as usize
    };
    // ways[j][r], and the largest r reachable with j chosen so far.
    let mut ways = vec![vec![0.0f64; max_sum + 1]; k + 1];
    let mut reach = vec![0usize; k + 1];
    ways[0][0] = 1.0;
    for (seen, &d) in ranks.iter().enumerate() {
        let d = d as usize;
        // Downwards in j so each value is chosen at most once.
        for j in (0..k.min(seen + 1)).rev() {
            let top = reach[j].min(max_sum - d);
            let (lower, upper) = ways.split_at_mut(j + 1);
            let (from, to) = (&lower[j], &mut upper[0]);
            for r in 0..=top {
                if from[r] != 0.0 {
                    to[r + d] += from[r];
                }
            }
            reach[j + 1] = reach[j + 1].max(reach[j] + d).min(max_sum);
        }
    }
    ways.swap_remove(k)
}

/// Normal approximation for large samples: mean n (N + 1) / 2 and variance
/// n m / 12 ((N + 1) - sum(t^3 - t) / (N (N - 1))) over the tie groups of size t, with a
/// continuity correction of one half.
fn normal_p(ranks: &[u64], n: usize, observed_doubled: u64) -> f64 {
    let big_n = ranks.len() as f64;
    let (nf, mf) = (n as f64, big_n - n as f64);
    let mut sorted = ranks.to_vec();
    sorted.sort_unstable();
    let mut ties = 0.0;
    let mut s = 0;
    while s < sorted.len() {
        let e = s + sorted[s..].iter().take_while(|&&r| r == sorted[s]).count();
        let t = (e - s) as f64;
        ties += t * t * t - t;
        s = e;
    }
    let var = nf * mf / 12.0 * ((big_n + 1.0) - ties / (big_n * (big_n - 1.0)));
    if var <= 0.0 {
        return 1.0;
    }
    let dev = (observed_doubled as f64 / 2.0 - nf * (big_n + 1.0) / 2.0).abs();
    let z = (dev - 0.5).max(0.0) / var.sqrt();
    erfc(z / std::f64::consts::SQRT_2).min(1.0)
}

/// The complementary error function, to about 1.2e-7 relative accuracy (Numerical Recipes'
/// Chebyshev fit), which is plenty for a p-value.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
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
    fn ties_use_the_permutation_distribution_of_the_midranks() {
        // Midranks 1.5 3 4.5 1.5 | 7 4.5 7 7: rank sum 10.5, 4 of the 70 splits are as far
        // from 18 (a table without ties would say 2/70).
        let p = mann_whitney_p(&[1.0, 2.0, 3.0, 1.0], &[4.0, 3.0, 4.0, 4.0]);
        assert!((p - 4.0 / 70.0).abs() < 1e-4, "{p}");
        assert!((p - 0.0571).abs() < 1e-4, "{p}");
    }

    #[test]
    fn large_samples_use_the_normal_approximation() {
        // 150 vs 150, shifted by half the spread: clearly different.
        let a: Vec<f64> = (0..150).map(|i| f64::from(i % 50)).collect();
        let b: Vec<f64> = (0..150).map(|i| f64::from(i % 50) + 25.0).collect();
        assert!(mann_whitney_p(&a, &b) < 1e-6);
        // The same values: p = 1; one value moved: still near 1.
        assert!((mann_whitney_p(&a, &a) - 1.0).abs() < 1e-9);
        let mut c = a.clone();
        c[0] = 49.0;
        assert!(mann_whitney_p(&a, &c) > 0.8, "{}", mann_whitney_p(&a, &c));
        // All tied: nothing to see.
        assert_eq!(mann_whitney_p(&[3.0; 120], &[3.0; 120]), 1.0);
        // Close to the exact answer (with many ties), and a textbook value of erfc.
        let a: Vec<f64> = (0..60).map(|i| f64::from(i % 7)).collect();
        let b: Vec<f64> = (0..60).map(|i| f64::from(i % 9) + 0.5).collect();
        let ranks = doubled_midranks(&a, &b);
        let observed: u64 = ranks[..60].iter().sum();
        let exact = mann_whitney_p(&a, &b);
        let normal = normal_p(&ranks, 60, observed);
        assert!(
            (exact - normal).abs() < 0.01,
            "exact {exact}, normal {normal}"
        );
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
    }

    #[test]
    fn failed_configurations_are_never_best() {
        // `fast` is fastest by far, but one of its runs failed (its value is left out).
        let e = vec![
            entry("fast", &[1.0, 1.1, 1.2]),
            entry("mid", &[5.0, 5.5, 6.0, 5.2]),
            entry("slow", &[10.0, 11.0, 12.0, 10.5]),
        ];
        let v = verdict_with_failures("wall_seconds", Better::Lower, &e, &[1, 0, 0]);
        assert_eq!(v.best, Some(1), "{}", v.message);
        assert!(
            v.message.starts_with("best for wall_seconds: mid")
                && v.message
                    .ends_with("never recommended, since runs failed: fast (1 failed run)"),
            "{}",
            v.message
        );
        // Every run of the fastest failed (so it has no values): the one left is no winner.
        let e = vec![entry("64m", &[]), entry("256m", &[2.0, 2.1, 2.2, 2.3])];
        let v = verdict_with_failures("wall_seconds", Better::Lower, &e, &[4, 0]);
        assert_eq!(v.best, None);
        assert_eq!(
            v.message,
            "only one configuration without failed runs measured wall_seconds: 256m; \
             never recommended, since runs failed: 64m (4 failed runs)"
        );
        let v = verdict_with_failures("p99", Better::Lower, &e[..1], &[2]);
        assert_eq!(v.best, None);
        assert!(
            v.message
                .starts_with("no configuration without failed runs measured p99;"),
            "{}",
            v.message
        );
        // No failures: the plain verdict.
        let e = vec![
            entry("a", &[1.0, 2.0, 3.0, 4.0]),
            entry("b", &[5.0, 6.0, 7.0, 8.0]),
        ];
        assert_eq!(
            verdict_with_failures("x", Better::Lower, &e, &[0, 0]),
            verdict("x", Better::Lower, &e)
        );
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

    /// The p-value by enumerating all C(N, n) ways to split the pooled (midranked) values.
    fn brute_force_p(a: &[f64], b: &[f64]) -> f64 {
        let ranks = doubled_midranks(a, b);
        let (n, big_n) = (a.len(), ranks.len());
        let expected = (n * (big_n + 1)) as u64;
        let observed: u64 = ranks[..n].iter().sum();
        let dev = observed.abs_diff(expected);
        let (mut total, mut extreme) = (0u64, 0u64);
        for mask in 0u32..(1 << big_n) {
            if mask.count_ones() as usize != n {
                continue;
            }
            let sum: u64 = (0..big_n)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| ranks[i])
                .sum();
            total += 1;
            if sum.abs_diff(expected) >= dev {
                extreme += 1;
            }
        }
        extreme as f64 / total as f64
    }

    proptest! {
        #[test]
        fn exact_p_matches_brute_force(
            a in proptest::collection::vec(0u8..5, 1..6),
            b in proptest::collection::vec(0u8..5, 1..6),
        ) {
            // Values from a small set, so ties are common.
            let a: Vec<f64> = a.into_iter().map(f64::from).collect();
            let b: Vec<f64> = b.into_iter().map(f64::from).collect();
            let p = mann_whitney_p(&a, &b);
            let brute = brute_force_p(&a, &b);
            prop_assert!((p - brute).abs() < 1e-12, "dp {p}, brute force {brute}");
        }

        #[test]
        fn p_is_a_probability_and_symmetric(a in proptest::collection::vec(0.0f64..10.0, 1..8), b in proptest::collection::vec(0.0f64..10.0, 1..8)) {
            let p = mann_whitney_p(&a, &b);
            prop_assert!((0.0..=1.0).contains(&p));
            prop_assert!((p - mann_whitney_p(&b, &a)).abs() < 1e-9);
        }
    }
}
