//! Waiting for the workload to answer before any load, so start-up never counts as latency.

use std::thread;
use std::time::{Duration, Instant};

use crate::conn::Conn;
use crate::{Error, HttpUrl};

/// Pause between attempts: short next to a service's start-up, long next to a connect.
const POLL: Duration = Duration::from_millis(25);

/// Polls `url` with GETs until the server sends back a whole HTTP response (any status: it
/// answers), or fails after `timeout` naming the URL and the last error.
pub fn wait_ready(url: &str, timeout: Duration) -> Result<(), Error> {
    let parsed = HttpUrl::parse(url)?;
    let request = parsed.get_request();
    let begin = Instant::now();
    let deadline = begin + timeout;
    loop {
        let last = match probe(&parsed, &request, deadline) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(Error::NotReady {
                url: parsed.to_string(),
                waited: now - begin,
                last,
            });
        }
        thread::sleep(POLL.min(deadline - now));
    }
}

fn probe(url: &HttpUrl, request: &[u8], deadline: Instant) -> Result<(), String> {
    // Resolve on every attempt: a name can appear while the workload starts.
    let addrs = url.resolve().map_err(|e| e.to_string())?;
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    let mut conn =
        Conn::connect(&addrs, left).map_err(|e| format!("connect to {}: {e}", show(&addrs)))?;
    conn.get(request, deadline)
        .map(drop)
        .map_err(|e| format!("GET {url}: {e}"))
}

/// The addresses tried, for an error message: one, or all of them in brackets.
fn show(addrs: &[std::net::SocketAddr]) -> String {
    match addrs {
        [one] => one.to_string(),
        many => format!(
            "[{}]",
            many.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
