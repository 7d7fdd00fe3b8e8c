//! Counting outcomes per connection thread and turning the merged counts into the report.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

/// The result of one load run. JSON keys are stable API (snake_case; latencies in
/// milliseconds, null when no response arrived).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadReport {
    pub url: String,
    /// The arrival rate asked for, requests/s.
    pub target_rate: f64,
    pub connections: usize,
    /// Seconds from the first intended send to the last response (at least the duration).
    pub duration_s: f64,
    /// Requests the schedule intended: rate x duration.
    pub scheduled: u64,
    /// Requests attempted: `ok + errors`.
    pub requests: u64,
    /// 2xx responses.
    pub ok: u64,
    /// `connect_errors + timeouts + non_2xx + io_errors`.
    pub errors: u64,
    pub connect_errors: u64,
    /// No whole response within the timeout (counted, not in the latency histogram).
    pub timeouts: u64,
    /// Responses with a status outside 200-299 (their latency is recorded).
    pub non_2xx: u64,
    /// Resets, truncated or malformed responses.
    pub io_errors: u64,
    /// Scheduled requests never sent because the generator was still behind at the end
    /// (duration + timeout): the server could not keep up with the rate on these connections.
    pub unsent: u64,
    /// Responses (any status) per second of `duration_s`.
    pub achieved_rate: f64,
    /// Latency from each request's intended send time (corrected for coordinated omission).
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub mean_ms: Option<f64>,
    /// Latency from the actual send: what a closed-loop tool would report. For comparison
    /// only; it hides server stalls.
    pub uncorrected_p50_ms: Option<f64>,
    pub uncorrected_p99_ms: Option<f64>,
    pub uncorrected_max_ms: Option<f64>,
}

/// Outcomes counted by one connection thread; merged at the end, so no sharing while running.
pub(crate) struct Tally {
    /// Microseconds from the intended send time to the end of the response.
    latency: Histogram<u64>,
    /// Microseconds from the actual send time.
    uncorrected: Histogram<u64>,
    pub requests: u64,
    pub ok: u64,
    pub connect_errors: u64,
    pub timeouts: u64,
    pub non_2xx: u64,
    pub io_errors: u64,
    pub unsent: u64,
    last_done: Option<Instant>,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Records into an auto-resizing histogram (`saturating_record` would clamp to the current
/// range instead of growing it).
fn record(h: &mut Histogram<u64>, us: u64) {
    // Growing fails only past about 2^62 us (146,000 years): clamp that.
    if h.record(us).is_err() {
        h.saturating_record(us);
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is a valid histogram precision")
}

impl Tally {
    pub fn new() -> Self {
        Tally {
            latency: new_histogram(),
            uncorrected: new_histogram(),
            requests: 0,
            ok: 0,
            connect_errors: 0,
            timeouts: 0,
            non_2xx: 0,
            io_errors: 0,
            unsent: 0,
            last_done: None,
        }
    }

    /// Records a whole response to the request meant for `intended` and sent at `sent`.
    pub fn response(&mut self, intended: Instant, sent: Instant, done: Instant, status: u16) {
        record(&mut self.latency, micros(done - intended));
        record(&mut self.uncorrected, micros(done - sent));
        if (200..300).contains(&status) {
            self.ok += 1;
        } else {
            self.non_2xx += 1;
        }
        self.last_done = Some(self.last_done.map_or(done, |t| t.max(done)));
    }

    pub fn merge(&mut self, other: Tally) {
        self.latency
            .add(&other.latency)
            .expect("auto-resizing histograms always merge");
        self.uncorrected
            .add(&other.uncorrected)
            .expect("auto-resizing histograms always merge");
        self.requests += other.requests;
        self.ok += other.ok;
        self.connect_errors += other.connect_errors;
        self.timeouts += other.timeouts;
        self.non_2xx += other.non_2xx;
        self.io_errors += other.io_errors;
        self.unsent += other.unsent;
        self.last_done = match (self.last_done, other.last_done) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    pub fn into_report(
        self,
        url: String,
        target_rate: f64,
        connections: usize,
        duration: Duration,
        start: Instant,
    ) -> LoadReport {
        let elapsed = self
            .last_done
            .map_or(duration, |t| {
                t.saturating_duration_since(start).max(duration)
            })
            .as_secs_f64();
        let responses = self.ok + self.non_2xx;
        let pct = |h: &Histogram<u64>, q: f64| (!h.is_empty()).then(|| ms(h.value_at_quantile(q)));
        LoadReport {
            url,
            target_rate,
            connections,
            duration_s: elapsed,
            scheduled: crate::Schedule::total(target_rate, duration),
            requests: self.requests,
            ok: self.ok,
            errors: self.connect_errors + self.timeouts + self.non_2xx + self.io_errors,
            connect_errors: self.connect_errors,
            timeouts: self.timeouts,
            non_2xx: self.non_2xx,
            io_errors: self.io_errors,
            unsent: self.unsent,
            achieved_rate: responses as f64 / elapsed,
            p50_ms: pct(&self.latency, 0.5),
            p90_ms: pct(&self.latency, 0.9),
            p99_ms: pct(&self.latency, 0.99),
            p999_ms: pct(&self.latency, 0.999),
            max_ms: (!self.latency.is_empty()).then(|| ms(self.latency.max())),
            mean_ms: (!self.latency.is_empty()).then(|| self.latency.mean() / 1000.0),
            uncorrected_p50_ms: pct(&self.uncorrected, 0.5),
            uncorrected_p99_ms: pct(&self.uncorrected, 0.99),
            uncorrected_max_ms: (!self.uncorrected.is_empty()).then(|| ms(self.uncorrected.max())),
        }
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_and_reports() {
        let start = Instant::now();
        let ms_ = Duration::from_millis;
        let mut a = Tally::new();
        for i in 0..99 {
            let intended = start + ms_(i);
            a.requests += 1;
            a.response(intended, intended, intended + ms_(1), 200);
        }
        let mut b = Tally::new();
        // One request meant for 0 ms, sent at 100 ms (the sender was held up), done at 101.
        b.requests += 2;
        b.response(start, start + ms_(100), start + ms_(101), 500);
        b.timeouts += 1;
        a.merge(b);
        let r = a.into_report("u".into(), 100.0, 2, Duration::from_secs(1), start);
        assert_eq!(
            (r.requests, r.ok, r.non_2xx, r.timeouts, r.errors),
            (101, 99, 1, 1, 2)
        );
        assert_eq!(r.scheduled, 100);
        assert!(
            (r.achieved_rate - 100.0).abs() < 1e-9,
            "{}",
            r.achieved_rate
        );
        assert!((r.p50_ms.unwrap() - 1.0).abs() < 0.01);
        assert!((r.max_ms.unwrap() - 101.0).abs() < 0.2, "{:?}", r.max_ms);
        assert!((r.uncorrected_max_ms.unwrap() - 1.0).abs() < 0.01);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["max_ms"], serde_json::json!(r.max_ms.unwrap()));
        assert!(json["achieved_rate"].is_f64());
    }

    #[test]
    fn no_responses_gives_nulls() {
        let r =
            Tally::new().into_report("u".into(), 10.0, 1, Duration::from_secs(1), Instant::now());
        assert_eq!(r.p99_ms, None);
        assert_eq!(r.achieved_rate, 0.0);
        assert!(serde_json::to_value(&r).unwrap()["p50_ms"].is_null());
    }
}
