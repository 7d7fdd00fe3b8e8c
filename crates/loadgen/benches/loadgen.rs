//! `cargo bench -p boxwise-loadgen`: the cost of reading a response, and a 20,000 requests/s
//! run against an in-process server on loopback. Numbers only, no thresholds; the comparison
//! with wrk on a Go server is scripts/bench-load.sh (docs/benchmarks.md).

use std::hint::black_box;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use boxwise_loadgen::{LoadSpec, ResponseReader, run};

/// What Go's net/http sends for a small handler.
const GO_HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\
Date: Thu, 27 Nov 2026 10:00:00 GMT\r\nContent-Length: 6\r\n\r\nhello\n";

/// Replays one buffer of back-to-back responses, 16 KiB per read like a busy socket.
struct Replay<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Read for Replay<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = out.len().min(16 * 1024).min(self.data.len() - self.pos);
        out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn parse_bench() {
    const N: usize = 200_000;
    let data = GO_HELLO.repeat(N);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut src = Replay {
            data: &data,
            pos: 0,
        };
        let mut reader = ResponseReader::new();
        let t = Instant::now();
        for _ in 0..N {
            black_box(reader.read_response(&mut src, None).unwrap());
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e9 / N as f64);
    }
    println!("read_response (Go hello, Content-Length): {best:.1} ns/response (best of 5)");
}

fn serve(mut s: TcpStream) {
    let _ = s.set_nodelay(true);
    let mut buf = [0u8; 4096];
    let mut pending = 0usize;
    loop {
        match s.read(&mut buf[pending..]) {
            Ok(0) | Err(_) => return,
            Ok(n) => pending += n,
        }
        while let Some(i) = buf[..pending].windows(4).position(|w| w == b"\r\n\r\n") {
            if s.write_all(GO_HELLO).is_err() {
                return;
            }
            buf.copy_within(i + 4..pending, 0);
            pending -= i + 4;
        }
    }
}

fn loopback_bench() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    thread::spawn(move || {
        for s in listener.incoming().flatten() {
            thread::spawn(move || serve(s));
        }
    });
    let spec = LoadSpec {
        connections: 16,
        ..LoadSpec::new(url, 20_000.0, Duration::from_secs(2))
    };
    let r = run(&spec).unwrap();
    println!(
        "loopback run, in-process server: {:.0} responses/s (target 20000), {} errors, p50 {:.3} ms, p99 {:.3} ms",
        r.achieved_rate,
        r.errors,
        r.p50_ms.unwrap_or(f64::NAN),
        r.p99_ms.unwrap_or(f64::NAN)
    );
}

fn main() {
    // `cargo test --benches` runs this binary with --bench absent: keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    parse_bench();
    loopback_bench();
}
