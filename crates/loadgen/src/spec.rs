//! What to run: the URL, the arrival rate, how long, over how many connections.

use std::time::Duration;

use crate::Error;

#[derive(Debug, Clone, PartialEq)]
pub struct LoadSpec {
    /// `http://host[:port][/path]`.
    pub url: String,
    /// Requests per second, held constant whatever the server does.
    pub rate: f64,
    /// How long requests are sent for (responses still in flight are awaited after it).
    pub duration: Duration,
    /// Keep-alive connections, one thread each. A connection sends its next request only after
    /// the previous response, so it needs rate/connections below 1/latency to keep up.
    pub connections: usize,
    /// Limit on connecting and on each response; a late response counts as a timeout.
    pub timeout: Duration,
}

impl LoadSpec {
    pub const DEFAULT_CONNECTIONS: usize = 16;
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
    /// More threads than this is a typo, not a load test.
    pub const MAX_CONNECTIONS: usize = 10_000;

    /// A spec with the default connections and timeout.
    pub fn new(url: impl Into<String>, rate: f64, duration: Duration) -> Self {
        LoadSpec {
            url: url.into(),
            rate,
            duration,
            connections: Self::DEFAULT_CONNECTIONS,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Checks the numbers; the error names the bad value.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::Spec(m));
        if !(self.rate.is_finite() && self.rate > 0.0 && self.rate <= 10_000_000.0) {
            return bad(format!(
                "rate {} is out of range: expected requests/s above 0 and at most 10000000",
                self.rate
            ));
        }
        if self.duration.is_zero() {
            return bad("duration must be above 0".into());
        }
        if !(1..=Self::MAX_CONNECTIONS).contains(&self.connections) {
            return bad(format!(
                "connections {} is out of range: expected 1 to {}",
                self.connections,
                Self::MAX_CONNECTIONS
            ));
        }
        if self.timeout.is_zero() {
            return bad("timeout must be above 0".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_value() {
        let ok = LoadSpec::new("http://127.0.0.1:1/", 100.0, Duration::from_secs(1));
        ok.validate().unwrap();
        for (spec, want) in [
            (
                LoadSpec {
                    rate: 0.0,
                    ..ok.clone()
                },
                "rate 0",
            ),
            (
                LoadSpec {
                    rate: f64::NAN,
                    ..ok.clone()
                },
                "rate NaN",
            ),
            (
                LoadSpec {
                    connections: 0,
                    ..ok.clone()
                },
                "connections 0",
            ),
            (
                LoadSpec {
                    duration: Duration::ZERO,
                    ..ok.clone()
                },
                "duration",
            ),
            (
                LoadSpec {
                    timeout: Duration::ZERO,
                    ..ok.clone()
                },
                "timeout",
            ),
        ] {
            let e = spec.validate().unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
    }
}
