//! A small HTTP/1.1 test server with a known behaviour: a fixed service time, a one-off
//! stall of every request, error statuses, chunked bodies, closing after each response,
//! requests left unanswered, a late start.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
pub struct Behaviour {
    /// Sleep this long before each response.
    pub service_time: Duration,
    /// When the Nth request (1-based) arrives, hold every response until `stall` after it.
    pub stall_at: Option<(u64, Duration)>,
    /// Answer 500 to every Nth request.
    pub error_every: Option<u64>,
    /// Send chunked bodies instead of Content-Length.
    pub chunked: bool,
    /// Close the connection after each response.
    pub close: bool,
    /// Read requests and never answer.
    pub silent: bool,
    /// Never answer every Nth request (1-based, counted over all connections), nor any later
    /// one on its connection: the client times out and moves on.
    pub mute_every: Option<u64>,
    /// Until then, close each new connection without reading or answering (the port is
    /// bound all along, unlike a server that starts late).
    pub hang_up_until: Option<Instant>,
}

pub struct Server {
    pub addr: SocketAddr,
    pub requests: Arc<AtomicU64>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}/hello", self.addr)
    }
}

struct State {
    b: Behaviour,
    count: Arc<AtomicU64>,
    stall_until: Mutex<Option<Instant>>,
}

/// Starts the server on 127.0.0.1 with a free port; its threads end with the test process.
pub fn start(b: Behaviour) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    serve(listener, b)
}

pub fn serve(listener: TcpListener, b: Behaviour) -> Server {
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let state = Arc::new(State {
        b,
        count: Arc::clone(&count),
        stall_until: Mutex::new(None),
    });
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let state = Arc::clone(&state);
            thread::spawn(move || handle(stream, &state));
        }
    });
    Server {
        addr,
        requests: count,
    }
}

/// A port that nothing listens on (bound, then released).
pub fn dead_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn handle(mut stream: TcpStream, st: &State) {
    if st.b.hang_up_until.is_some_and(|t| Instant::now() < t) {
        return;
    }
    stream.set_nodelay(true).unwrap();
    let mut muted = false;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        buf.drain(..head_end);
        let n = st.count.fetch_add(1, Ordering::SeqCst) + 1;
        muted |= st.b.mute_every.is_some_and(|m| n.is_multiple_of(m));
        if st.b.silent || muted {
            continue;
        }
        if let Some((at, stall)) = st.b.stall_at
            && n == at
        {
            *st.stall_until.lock().unwrap() = Some(Instant::now() + stall);
        }
        if !st.b.service_time.is_zero() {
            thread::sleep(st.b.service_time);
        }
        let until = *st.stall_until.lock().unwrap();
        if let Some(until) = until {
            let now = Instant::now();
            if now < until {
                thread::sleep(until - now);
            }
        }
        let status = match st.b.error_every {
            Some(e) if n.is_multiple_of(e) => "500 Internal Server Error",
            _ => "200 OK",
        };
        let conn = if st.b.close {
            "Connection: close\r\n"
        } else {
            ""
        };
        let resp = if st.b.chunked {
            format!(
                "HTTP/1.1 {status}\r\n{conn}Transfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"
            )
        } else {
            format!("HTTP/1.1 {status}\r\n{conn}Content-Length: 12\r\n\r\nhello world\n")
        };
        if stream.write_all(resp.as_bytes()).is_err() || st.b.close {
            return;
        }
    }
}
