//! When each request should leave: a constant arrival rate over the whole run, dealt round
//! robin to the connections so they are evenly staggered (request k of the run at
//! start + k/rate goes to connection k mod C).

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    start: Instant,
    rate: f64,
    total: u64,
    conn: u64,
    conns: u64,
}

impl Schedule {
    /// The schedule of connection `conn` of `conns` for `rate` requests/s over `duration`.
    pub fn new(start: Instant, rate: f64, duration: Duration, conn: usize, conns: usize) -> Self {
        Schedule {
            start,
            rate,
            total: Self::total(rate, duration),
            conn: conn as u64,
            conns: conns as u64,
        }
    }

    /// How many requests the whole run intends to send: every k with k/rate < duration.
    pub fn total(rate: f64, duration: Duration) -> u64 {
        (rate * duration.as_secs_f64()).ceil() as u64
    }

    /// How many of them fall to this connection.
    pub fn len(&self) -> u64 {
        if self.conn >= self.total {
            0
        } else {
            (self.total - self.conn).div_ceil(self.conns)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The intended send time of this connection's `i`-th request, or None past the end.
    pub fn intended(&self, i: u64) -> Option<Instant> {
        let k = i * self.conns + self.conn;
        (k < self.total).then(|| self.start + Duration::from_secs_f64(k as f64 / self.rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_share_the_arrivals_evenly() {
        let start = Instant::now();
        let (rate, dur, conns) = (1000.0, Duration::from_millis(1000), 3);
        let mut all: Vec<Duration> = Vec::new();
        for c in 0..conns {
            let s = Schedule::new(start, rate, dur, c, conns);
            let mut n = 0;
            while let Some(t) = s.intended(n) {
                all.push(t - start);
                n += 1;
            }
            assert_eq!(n, s.len(), "connection {c}");
        }
        assert_eq!(all.len(), 1000);
        all.sort();
        for (k, t) in all.iter().enumerate() {
            let want = Duration::from_micros(k as u64 * 1000);
            assert!(
                t.abs_diff(want) < Duration::from_micros(1),
                "request {k} at {t:?}"
            );
        }
        assert!(all.last().unwrap() < &dur);
    }

    #[test]
    fn more_connections_than_requests() {
        let s = Schedule::new(Instant::now(), 2.0, Duration::from_secs(1), 5, 8);
        assert_eq!(s.len(), 0);
        assert!(s.intended(0).is_none());
        assert_eq!(Schedule::total(2.5, Duration::from_secs(1)), 3);
    }
}
