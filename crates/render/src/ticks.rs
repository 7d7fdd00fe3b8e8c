//! Axis ranges with "nice" tick steps (1, 2 or 5 times a power of ten) and tick labels.

/// A padded axis range and its tick positions.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub min: f64,
    pub max: f64,
    pub step: f64,
}

impl Axis {
    /// An axis covering `[lo, hi]` with about `target` ticks, ends rounded out to a step.
    pub fn covering(lo: f64, hi: f64, target: usize) -> Axis {
        let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() && lo <= hi {
            (lo, hi)
        } else {
            (0.0, 1.0)
        };
        if hi - lo < f64::EPSILON * hi.abs().max(1.0) {
            // A flat series still needs a visible range around it.
            let pad = if hi == 0.0 { 1.0 } else { hi.abs() * 0.1 };
            lo -= pad;
            hi += pad;
            if lo < 0.0 && hi - pad >= 0.0 {
                lo = 0.0;
            }
        }
        let step = nice_step((hi - lo) / target.max(1) as f64);
        Axis {
            min: (lo / step).floor() * step,
            max: (hi / step).ceil() * step,
            step,
        }
    }

    /// The tick values from `min` to `max` inclusive.
    pub fn ticks(&self) -> Vec<f64> {
        // The first multiple of the step inside the range (the range may start between
        // ticks, as category axes do).
        let first = (self.min / self.step - 1e-9).ceil() * self.step;
        let n = ((self.max - first) / self.step + 1e-9).floor().max(0.0) as usize;
        (0..=n.min(1000))
            .map(|i| first + i as f64 * self.step)
            .collect()
    }

    /// A tick label with just enough decimals for the step.
    pub fn label(&self, v: f64) -> String {
        format_tick(v, self.step)
    }
}

/// The smallest 1, 2 or 5 x 10^k at least `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Formats `v` with the decimals that `step` needs; large values get a k/M/G suffix.
pub fn format_tick(v: f64, step: f64) -> String {
    if !(v.is_finite() && step.is_finite() && step > 0.0) {
        return format!("{v}");
    }
    let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
    for (div, suffix) in [(1e9, "G"), (1e6, "M"), (1e4, "k")] {
        if v.abs() >= div && step >= div / 1e3 {
            let scale = if suffix == "k" { 1e3 } else { div };
            return format!("{}{suffix}", format_tick(v / scale, step / scale));
        }
    }
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{v:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.3), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(230.0), 500.0);
        assert!((nice_step(0.013) - 0.02).abs() < 1e-12);
    }

    #[test]
    fn axis_rounds_out_to_steps() {
        let a = Axis::covering(3.0, 97.0, 5);
        assert_eq!((a.min, a.max, a.step), (0.0, 100.0, 20.0));
        assert_eq!(a.ticks(), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let flat = Axis::covering(5.0, 5.0, 5);
        assert!(flat.min <= 4.5 && flat.max >= 5.5, "{flat:?}");
        let zero = Axis::covering(0.0, 0.0, 5);
        assert_eq!(zero.min, 0.0);
        assert!(zero.max >= 1.0);
    }

    #[test]
    fn labels() {
        assert_eq!(format_tick(0.25, 0.05), "0.25");
        assert_eq!(format_tick(40.0, 20.0), "40");
        assert_eq!(format_tick(1.0000000001e-17, 0.1), "0.0");
        assert_eq!(format_tick(20000.0, 5000.0), "20k");
        assert_eq!(format_tick(2_500_000.0, 500_000.0), "2.5M");
    }
}
