//! One keep-alive TCP connection that sends a prebuilt GET and reads the response.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::http::{HttpError, Response, ResponseReader};

/// How far a socket timeout already set may exceed the time left before it is set again.
/// Below the kernel's own rounding (it counts socket timeouts in jiffies, 1-10 ms), and it
/// saves a system call per request on a fast server: consecutive requests on a connection
/// then need the same timeout to within it.
const SLACK: Duration = Duration::from_millis(1);

pub(crate) struct Conn {
    stream: TcpStream,
    reader: ResponseReader,
    /// The socket's read and write timeouts as last set.
    read_timeout: Duration,
    write_timeout: Duration,
    /// Whether a response has been read on it: only a reused connection may have been closed
    /// by the server while idle, which is worth one silent retry.
    pub reused: bool,
}

impl Conn {
    /// Connects to the first of `addrs` that accepts (in order: a name can resolve to an
    /// address the server does not listen on, such as `::1` for a server on 127.0.0.1), all
    /// within `timeout`, with NODELAY so small requests leave at once. Returns the last
    /// address's error when none accepts.
    pub fn connect(addrs: &[SocketAddr], timeout: Duration) -> io::Result<Conn> {
        let deadline = Instant::now() + timeout;
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no addresses to connect to");
        for addr in addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connect timed out before trying {addr}"),
                ));
            }
            match TcpStream::connect_timeout(addr, left) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(timeout))?;
                    stream.set_write_timeout(Some(timeout))?;
                    return Ok(Conn {
                        stream,
                        reader: ResponseReader::new(),
                        read_timeout: timeout,
                        write_timeout: timeout,
                        reused: false,
                    });
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Sends `request` and reads the whole response, giving up at `deadline`: every blocking
    /// write and read is bounded by the time left until then, not by a fixed timeout.
    pub fn get(&mut self, request: &[u8], deadline: Instant) -> Result<Response, HttpError> {
        let left = time_left(deadline).map_err(HttpError::from_io)?;
        if needs_reset(self.write_timeout, left) {
            self.stream
                .set_write_timeout(Some(left))
                .map_err(HttpError::from_io)?;
            self.write_timeout = left;
        }
        self.stream.write_all(request).map_err(HttpError::from_io)?;
        let mut r = DeadlineReader {
            stream: &self.stream,
            timeout: &mut self.read_timeout,
            deadline,
        };
        let resp = self.reader.read_response(&mut r, Some(deadline))?;
        self.reused = true;
        Ok(resp)
    }
}

/// The time left until `deadline`; none left is a timeout.
fn time_left(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"))
    } else {
        Ok(left)
    }
}

/// Whether a socket timeout set to `current` must be set again for `left`: when it could
/// block past the deadline, or would wake up far too early (after an earlier request that
/// left little time).
fn needs_reset(current: Duration, left: Duration) -> bool {
    current > left + SLACK || current + SLACK < left
}

/// Reads from the socket with each read bounded by the time left until the deadline, so a
/// response that trickles in cannot stretch the request past it (a fixed read timeout
/// restarts with every byte).
struct DeadlineReader<'a> {
    stream: &'a TcpStream,
    timeout: &'a mut Duration,
    deadline: Instant,
}

impl Read for DeadlineReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let left = time_left(self.deadline)?;
            if needs_reset(*self.timeout, left) {
                self.stream.set_read_timeout(Some(left))?;
                *self.timeout = left;
            }
            match self.stream.read(buf) {
                // A timeout set a little short (within the slack) ran out before the
                // deadline: wait for the rest.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) && Instant::now() < self.deadline => {}
                r => return r,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn reset_only_when_off_by_more_than_the_slack() {
        let ms = Duration::from_millis;
        assert!(!needs_reset(ms(5000), ms(5000)));
        assert!(!needs_reset(ms(5000), Duration::from_micros(4_999_500)));
        assert!(needs_reset(ms(5000), ms(4990)));
        assert!(needs_reset(ms(10), ms(5000)));
    }

    /// The server sends part of the response 200 ms into a 300 ms timeout, then nothing: the
    /// next read may only wait the 100 ms left, not a whole timeout from its start (which
    /// ended the request at about 500 ms).
    #[test]
    fn a_late_partial_response_ends_at_the_deadline() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            std::thread::sleep(Duration::from_millis(200));
            s.write_all(b"HTTP/1.1 200 OK\r\n").unwrap();
            // Hold the connection open until the client gives up.
            let _ = s.read(&mut buf);
        });
        let timeout = Duration::from_millis(300);
        let mut c = Conn::connect(&[addr], timeout).unwrap();
        let began = Instant::now();
        let r = c.get(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", began + timeout);
        let took = began.elapsed();
        assert!(matches!(r, Err(HttpError::Timeout)), "{r:?}");
        // An ordering, not a window: the timeout cannot come before the deadline.
        assert!(took >= timeout, "{took:?}");
        drop(c);
        server.join().unwrap();
    }

    /// A silent server: the request ends at the deadline even when it is much shorter than
    /// the timeout the socket was set up with, and a deadline already past is a timeout.
    #[test]
    fn a_silent_server_times_out_at_the_deadline() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let mut c = Conn::connect(&[addr], Duration::from_secs(5)).unwrap();
        let deadline = Instant::now() + Duration::from_millis(150);
        let r = c.get(b"GET / HTTP/1.1\r\n\r\n", deadline);
        assert!(matches!(r, Err(HttpError::Timeout)), "{r:?}");
        // An ordering, not a duration: the call never gives up before its deadline.
        assert!(Instant::now() >= deadline);
        let r = c.get(b"GET / HTTP/1.1\r\n\r\n", Instant::now());
        assert!(matches!(r, Err(HttpError::Timeout)), "{r:?}");
        drop(l);
    }

    /// Addresses are tried in order until one accepts.
    #[test]
    fn connect_tries_every_address() {
        // Bound then released: refused (were another test to take it meanwhile, the connect
        // would still succeed).
        let dead = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let live = l.local_addr().unwrap();
        let t = Duration::from_secs(2);
        assert!(Conn::connect(&[dead, live], t).is_ok());
        assert!(Conn::connect(&[live], t).is_ok());
        let e = Conn::connect(&[], t).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
