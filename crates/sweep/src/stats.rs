//! Summaries of repeated measurements. Medians rather than means (one slow run should not
//! move the answer), with a distribution-free confidence interval for the median.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// Sample standard deviation (0 for one value).
    pub stddev: f64,
    /// Confidence interval for the median from order statistics; see [`median_ci`].
    pub ci_low: f64,
    pub ci_high: f64,
    /// The interval's actual coverage (at least 0.95 when there are enough runs).
    pub ci_level: f64,
}

/// Summarise the finite values; `None` when there are none.
pub fn summarize(values: &[f64]) -> Option<Summary> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    let mean = v.iter().sum::<f64>() / n as f64;
    let stddev = if n > 1 {
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let (lo, hi, ci_level) = median_ci(n);
    Some(Summary {
        n,
        median,
        min: v[0],
        max: v[n - 1],
        mean,
        stddev,
        ci_low: v[lo],
        ci_high: v[hi],
        ci_level,
    })
}

/// Indices (0-based, into the sorted values) of a 95% confidence interval for the median,
/// and its coverage. The median lies below the k-th smallest value with probability
/// P(Binomial(n, 1/2) >= k), so the interval [x(k), x(n-k+1)] covers it with probability
/// 1 - 2 P(Binomial(n, 1/2) < k). Take the largest k that keeps the coverage at 95%; with
/// fewer than 6 runs no k does, and the interval is the whole range with its lower coverage.
pub fn median_ci(n: usize) -> (usize, usize, f64) {
    assert!(n > 0);
    // P(Binomial(n, 1/2) < k) for k = 1, 2, ...
    let mut below = 0.0;
    let mut term = 0.5f64.powi(n as i32); // P(X = 0)
    let mut best = (0, n - 1, 1.0 - 2.0 * term.min(0.5));
    for k in 1..=n.div_ceil(2) {
        below += term; // now P(X < k)
        let coverage = 1.0 - 2.0 * below;
        if coverage < 0.95 {
            break;
        }
        best = (k - 1, n - k, coverage);
        term = term * (n - k + 1) as f64 / k as f64; // P(X = k)
    }
    if n == 1 {
        return (0, 0, 0.0);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_samples() {
        let s = summarize(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.mean), (2.0, 1.0, 3.0, 2.0));
        assert_eq!((s.ci_low, s.ci_high), (1.0, 3.0), "3 runs: the whole range");
        assert_eq!(s.ci_level, 0.75, "1 - 2 * 1/8");
        assert_eq!(summarize(&[4.0, 1.0]).unwrap().median, 2.5);
        assert!(summarize(&[f64::NAN]).is_none());
    }

    #[test]
    fn ci_ranks_match_tables() {
        // n = 6: [x(1), x(6)], 96.9%; n = 10: [x(2), x(9)], 97.9%; n = 20: [x(6), x(15)], 95.9%.
        assert_eq!(median_ci(6).0, 0);
        assert_eq!((median_ci(10).0, median_ci(10).1), (1, 8));
        assert_eq!((median_ci(20).0, median_ci(20).1), (5, 14));
        assert!((median_ci(20).2 - 0.9586).abs() < 1e-3);
    }

    proptest! {
        #[test]
        fn interval_brackets_the_median(v in proptest::collection::vec(-1e6f64..1e6, 1..60)) {
            let s = summarize(&v).unwrap();
            prop_assert!(s.min <= s.ci_low && s.ci_low <= s.median && s.median <= s.ci_high && s.ci_high <= s.max);
            prop_assert_eq!(s.n, v.len());
        }
    }
}
