//! A fair run order: every repeat runs each configuration once, in a fresh random order, so
//! slow drift on the machine (thermal, other load, caches) spreads over all configurations
//! instead of landing on whichever ran last.

/// splitmix64: a tiny, well-known generator; plenty for shuffling and reproducible by seed.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0), by rejection so no value is favoured.
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let v = self.next();
            if v < zone {
                return v % n;
            }
        }
    }
}

/// Configuration indices to run, `repeats` rounds of a shuffled `0..configs`.
pub fn schedule(configs: usize, repeats: usize, seed: u64) -> Vec<usize> {
    let mut rng = SplitMix64(seed);
    let mut out = Vec::with_capacity(configs * repeats);
    for _ in 0..repeats {
        let mut round: Vec<usize> = (0..configs).collect();
        // Fisher-Yates.
        for i in (1..round.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            round.swap(i, j);
        }
        out.extend(round);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn same_seed_same_order() {
        assert_eq!(schedule(4, 3, 7), schedule(4, 3, 7));
        assert_ne!(schedule(8, 3, 7), schedule(8, 3, 8));
    }

    proptest! {
        #[test]
        fn every_round_is_a_permutation(configs in 1usize..12, repeats in 1usize..6, seed: u64) {
            let s = schedule(configs, repeats, seed);
            prop_assert_eq!(s.len(), configs * repeats);
            for round in s.chunks(configs) {
                let mut sorted = round.to_vec();
                sorted.sort_unstable();
                prop_assert_eq!(sorted, (0..configs).collect::<Vec<_>>());
            }
        }
    }
}
