//! The human-readable report: counts, rate, then corrected and uncorrected latency.

use std::fmt;

use crate::LoadReport;

fn ms(v: Option<f64>) -> String {
    match v {
        Some(v) if v < 10.0 => format!("{v:.3} ms"),
        Some(v) => format!("{v:.1} ms"),
        None => "-".into(),
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} req/s for {:.1} s over {} connections",
            self.url, self.target_rate, self.duration_s, self.connections
        )?;
        writeln!(
            f,
            "requests   {} ({} ok, {} errors: {} connect, {} timeout, {} non-2xx, {} io){}",
            self.requests,
            self.ok,
            self.errors,
            self.connect_errors,
            self.timeouts,
            self.non_2xx,
            self.io_errors,
            if self.unsent > 0 {
                format!(", {} never sent: the server fell behind", self.unsent)
            } else {
                String::new()
            }
        )?;
        writeln!(
            f,
            "rate       {:.1} responses/s (target {})",
            self.achieved_rate, self.target_rate
        )?;
        writeln!(
            f,
            "latency    p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  mean {}",
            ms(self.p50_ms),
            ms(self.p90_ms),
            ms(self.p99_ms),
            ms(self.p999_ms),
            ms(self.max_ms),
            ms(self.mean_ms)
        )?;
        writeln!(
            f,
            "            (from each request's intended send time: stalls count in full)"
        )?;
        if self.lower_bound_samples > 0 {
            writeln!(
                f,
                "            ({} of them lower bounds: timed out or never sent, counted until given up)",
                self.lower_bound_samples
            )?;
        }
        writeln!(
            f,
            "closed-loop p50 {}  p99 {}  max {}  (from the actual send; hides stalls)",
            ms(self.uncorrected_p50_ms),
            ms(self.uncorrected_p99_ms),
            ms(self.uncorrected_max_ms)
        )
    }
}
