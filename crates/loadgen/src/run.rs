//! The open loop: one thread per keep-alive connection, each sending its share of a
//! constant-rate schedule and timing every response from the request's intended send time.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::conn::Conn;
use crate::http::HttpError;
use crate::report::Tally;
use crate::{Error, HttpUrl, LoadReport, LoadSpec, Schedule};

/// Stack for connection threads: they hold a few locals; buffers live on the heap.
const STACK_SIZE: usize = 128 * 1024;

/// Runs the load and reports it. Start readiness first with [`crate::wait_ready`].
pub fn run(spec: &LoadSpec) -> Result<LoadReport, Error> {
    spec.validate()?;
    let url = HttpUrl::parse(&spec.url)?;
    let shared = Arc::new(Shared {
        addrs: url.resolve()?,
        request: url.get_request(),
        spec: spec.clone(),
        gate: Gate::default(),
    });
    let mut workers = Vec::with_capacity(spec.connections);
    for index in 0..spec.connections {
        let s = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name(format!("load-{index}"))
            .stack_size(STACK_SIZE)
            .spawn(move || worker(&s, index));
        match spawned {
            Ok(h) => workers.push(h),
            Err(source) => {
                shared.gate.abort();
                for h in workers {
                    let _ = h.join();
                }
                return Err(Error::Spawn { index, source });
            }
        }
    }
    let start = shared.gate.open(spec.connections);
    let mut total = Tally::new();
    for h in workers {
        total.merge(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
    }
    Ok(total.into_report(
        url.to_string(),
        spec.rate,
        spec.connections,
        spec.duration,
        start,
    ))
}

struct Shared {
    /// Every address of the host, tried in order at each connect.
    addrs: Vec<SocketAddr>,
    request: Vec<u8>,
    spec: LoadSpec,
    gate: Gate,
}

/// Holds every thread until all have connected, then gives them one common start time.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    cv: Condvar,
}

#[derive(Default)]
struct GateState {
    arrived: usize,
    /// None: not yet decided; Some(None): abort; Some(Some(t)): start at t.
    start: Option<Option<Instant>>,
}

impl Gate {
    fn arrive_and_wait(&self) -> Option<Instant> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.arrived += 1;
        self.cv.notify_all();
        loop {
            if let Some(start) = st.start {
                return start;
            }
            st = self.cv.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Waits for `n` threads, then starts them all a moment from now.
    fn open(&self, n: usize) -> Instant {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while st.arrived < n {
            st = self.cv.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        let start = Instant::now() + Duration::from_millis(2);
        st.start = Some(Some(start));
        self.cv.notify_all();
        start
    }

    fn abort(&self) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.start = Some(None);
        self.cv.notify_all();
    }
}

fn worker(shared: &Shared, index: usize) -> Tally {
    // The default 50 us timer slack would make every send late by up to that much, and being
    // late counts as latency here. Failure only costs precision.
    let _ = nix::sys::prctl::set_timerslack(1);
    let spec = &shared.spec;
    let mut tally = Tally::new();
    // Connect before the clock starts; a failure is retried (and counted) at the first request.
    let mut conn = Conn::connect(&shared.addrs, spec.timeout).ok();
    let Some(start) = shared.gate.arrive_and_wait() else {
        return tally;
    };
    let schedule = Schedule::new(start, spec.rate, spec.duration, index, spec.connections);
    let hard_stop = start + spec.duration + spec.timeout;
    let mut i = 0;
    while let Some(intended) = schedule.intended(i) {
        sleep_until(intended);
        let sent = Instant::now();
        if sent > hard_stop {
            // Too far behind to finish: the rest are never sent. They waited at least until
            // the hard stop, which counts as their latency (a lower bound): dropping them
            // would leave out the requests that waited longest.
            for j in i..schedule.len() {
                if let Some(intended) = schedule.intended(j) {
                    tally.never_sent(intended, hard_stop);
                }
            }
            break;
        }
        i += 1;
        tally.requests += 1;
        request(shared, &mut conn, intended, sent, &mut tally);
    }
    tally
}

/// Sends one request and counts its outcome. A reused connection that the server had
/// already closed gets one retry on a new connection, as browsers do for idempotent requests.
fn request(
    shared: &Shared,
    conn: &mut Option<Conn>,
    intended: Instant,
    sent: Instant,
    tally: &mut Tally,
) {
    let timeout = shared.spec.timeout;
    let deadline = sent + timeout;
    for attempt in 0..2 {
        let c = match conn {
            Some(c) => c,
            None => match Conn::connect(&shared.addrs, timeout) {
                Ok(c) => conn.insert(c),
                Err(_) => {
                    tally.connect_errors += 1;
                    return;
                }
            },
        };
        let reused = c.reused;
        match c.get(&shared.request, deadline) {
            Ok(resp) => {
                tally.response(intended, sent, Instant::now(), resp.status);
                if !resp.keep_alive {
                    *conn = None;
                }
                return;
            }
            Err(e) => {
                *conn = None;
                if reused && attempt == 0 && stale(&e) {
                    continue;
                }
                match e {
                    // It waited at least this long: recorded as a lower bound, so requests
                    // that never got an answer still show in the tail.
                    HttpError::Timeout => tally.timed_out(intended, Instant::now()),
                    _ => tally.io_errors += 1,
                }
                return;
            }
        }
    }
}

/// Whether an error looks like the server closing an idle keep-alive connection.
fn stale(e: &HttpError) -> bool {
    match e {
        HttpError::Closed { before_response } => *before_response,
        HttpError::Io(e) => matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ),
        _ => false,
    }
}

fn sleep_until(t: Instant) {
    loop {
        let now = Instant::now();
        if now >= t {
            return;
        }
        thread::sleep(t - now);
    }
}
