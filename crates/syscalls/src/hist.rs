//! Log2 latency histograms: bucket k counts calls that took [2^k, 2^(k+1)) ns (bucket 0
//! also holds 0 ns). Percentiles are reported as the bucket's upper bound, capped at the
//! largest call seen, so they never understate.

/// The upper bound (ns) of the bucket holding quantile `q` (0..=1), capped at `max_ns`;
/// `None` for an empty histogram.
pub fn quantile(buckets: &[u64], q: f64, max_ns: u64) -> Option<u64> {
    let total: u64 = buckets.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
    let mut seen = 0u64;
    for (k, &n) in buckets.iter().enumerate() {
        seen += n;
        if seen >= rank {
            let upper = if k >= 63 { u64::MAX } else { 1u64 << (k + 1) };
            return Some(upper.min(max_ns.max(1)));
        }
    }
    Some(max_ns)
}

/// The bucket a duration falls in (what the BPF program computes).
pub fn bucket(ns: u64) -> usize {
    if ns == 0 {
        0
    } else {
        63 - ns.leading_zeros() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buckets_and_quantiles() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(1), 0);
        assert_eq!(bucket(2), 1);
        assert_eq!(bucket(1023), 9);
        assert_eq!(bucket(1024), 10);
        let mut b = [0u64; 64];
        b[bucket(1000)] = 99;
        b[bucket(1_000_000)] = 1;
        assert_eq!(quantile(&b, 0.5, 1_000_000), Some(1024));
        assert_eq!(quantile(&b, 0.99, 1_000_000), Some(1024));
        assert_eq!(quantile(&b, 1.0, 1_000_000), Some(1_000_000));
        assert_eq!(quantile(&[0; 64], 0.5, 0), None);
    }

    proptest! {
        #[test]
        fn quantile_bounds_the_samples(samples in proptest::collection::vec(0u64..u64::MAX / 2, 1..200), q in 0.0f64..=1.0) {
            let mut b = [0u64; 64];
            for &s in &samples { b[bucket(s)] += 1; }
            let max = *samples.iter().max().unwrap();
            let got = quantile(&b, q, max).unwrap();
            prop_assert!(got <= max.max(1));
            let mut sorted = samples.clone();
            sorted.sort();
            let idx = ((q * sorted.len() as f64).ceil() as usize).max(1) - 1;
            // Never below the true quantile's own bucket floor.
            prop_assert!(got >= (1u64 << bucket(sorted[idx])).min(max.max(1)));
            // Monotone in q.
            prop_assert!(quantile(&b, q / 2.0, max).unwrap() <= got);
        }
    }
}
