//! Counting outcomes per connection thread and turning the merged counts into the report.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

/// The result of one load run. JSON keys are stable API (snake_case; latencies in
/// milliseconds, null when no latency was recorded: no response, timeout or unsent request).
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
    /// No whole response within the timeout. Each is also in the latency histogram as a lower
    /// bound: the time from its intended send until it was given up.
    pub timeouts: u64,
    /// Responses with a status outside 200-299 (their latency is recorded).
    pub non_2xx: u64,
    /// Resets, truncated or malformed responses.
    pub io_errors: u64,
    /// Scheduled requests never sent because the generator was still behind at the end
    /// (duration + timeout): the server could not keep up with the rate on these connections.
    /// Each is also in the latency histogram as a lower bound: the time from its intended
    /// send to that end (duration + timeout after the start).
    pub unsent: u64,
    /// How many entries of the latency histogram are lower bounds rather than measurements:
    /// `timeouts + unsent`. The true percentiles are at least the reported ones.
    pub lower_bound_samples: u64,
    /// Responses (any status) per second of `duration_s`.
    pub achieved_rate: f64,
    /// Latency from each request's intended send time (corrected for coordinated omission),
    /// over the responses, the timeouts and the unsent requests (the last two as lower bounds).
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub mean_ms: Option<f64>,
    /// Latency from the actual send, responses only: what a closed-loop tool would report.
    /// For comparison only; it hides server stalls.
    pub uncorrected_p50_ms: Option<f64>,
    pub uncorrected_p99_ms: Option<f64>,
    pub uncorrected_max_ms: Option<f64>,
}

/// Outcomes counted by one connection thread; merged at the end, so no sharing while running.
pub(crate) struct Tally {
    /// Microseconds from the intended send time to the end of the response; for a timeout or
    /// an unsent request, to the moment it was given up (a lower bound).
    latency: Histogram<u64>,
    /// Microseconds from the actual send time.
    uncorrected: Histogram<u64>,
    pub requests: u64,
    pub ok: u64,
    pub connect_errors: u64,
    /// Timeouts and unsent requests are counted only with their latency, by
    /// [`Tally::timed_out`] and [`Tally::never_sent`].
    timeouts: u64,
    pub non_2xx: u64,
    pub io_errors: u64,
    unsent: u64,
    /// Entries of `latency` that are lower bounds (timeouts and unsent requests).
    lower_bounds: u64,
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
            lower_bounds: 0,
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

    /// Counts a request meant for `intended` that got no whole response by `gave_up`. It
    /// waited at least that long, so that goes into the latency histogram as a lower bound:
    /// leaving it out would hide exactly the stalls the tail should show.
    pub fn timed_out(&mut self, intended: Instant, gave_up: Instant) {
        self.timeouts += 1;
        self.lower_bound(intended, gave_up);
    }

    /// Counts a request meant for `intended` that was never sent because the connection was
    /// still behind at `hard_stop`; its wait until then is recorded as a lower bound.
    pub fn never_sent(&mut self, intended: Instant, hard_stop: Instant) {
        self.unsent += 1;
        self.lower_bound(intended, hard_stop);
    }

    fn lower_bound(&mut self, intended: Instant, until: Instant) {
        record(
            &mut self.latency,
            micros(until.saturating_duration_since(intended)),
        );
        self.lower_bounds += 1;
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
        self.lower_bounds += other.lower_bounds;
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
            lower_bound_samples: self.lower_bounds,
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
        // One that timed out: at least 50 ms from its intended send.
        b.timed_out(start + ms_(10), start + ms_(60));
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
        assert_eq!((r.lower_bound_samples, r.unsent), (1, 0));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["max_ms"], serde_json::json!(r.max_ms.unwrap()));
        assert!(json["achieved_rate"].is_f64());
    }

    /// Timeouts and unsent requests land in the corrected histogram (only) at their wait so
    /// far, so a tail made of requests that never got an answer still shows in p99.
    #[test]
    fn timeouts_and_unsent_are_lower_bounds_in_the_histogram() {
        let start = Instant::now();
        let ms_ = Duration::from_millis;
        let mut t = Tally::new();
        for i in 0..95 {
            let intended = start + ms_(i);
            t.requests += 1;
            t.response(intended, intended, intended + ms_(2), 200);
        }
        for i in 0..3 {
            t.requests += 1;
            t.timed_out(start + ms_(i), start + ms_(i + 500));
        }
        let hard_stop = start + ms_(1500);
        t.never_sent(start + ms_(900), hard_stop);
        t.never_sent(start + ms_(990), hard_stop);
        let r = t.into_report("u".into(), 100.0, 1, Duration::from_secs(1), start);
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(
            (r.requests, r.ok, r.timeouts, r.errors, r.unsent),
            (98, 95, 3, 3, 2),
            "{s}"
        );
        assert_eq!(r.lower_bound_samples, 5, "{s}");
        // 5 of 100 entries are 500-600 ms: p99 is among them, p90 is not.
        assert!((500.0..511.0).contains(&r.p99_ms.unwrap()), "{s}");
        assert!((600.0..601.0).contains(&r.max_ms.unwrap()), "{s}");
        assert!(r.p90_ms.unwrap() < 3.0, "{s}");
        // The closed-loop view has responses only, and the rate counts responses only.
        assert!(r.uncorrected_max_ms.unwrap() < 3.0, "{s}");
        assert!((r.achieved_rate - 95.0).abs() < 1e-9, "{s}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["lower_bound_samples"], 5);
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
