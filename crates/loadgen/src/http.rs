//! A minimal HTTP/1.1 response reader for keep-alive GETs: the status, the framing
//! (Content-Length, chunked, or until close) and whether the connection stays open.
//! Response heads are parsed by httparse (the parser ureq uses); framing and body skipping
//! are here.
//! Bodies are skipped, never kept, so a response costs one buffer that is reused.

use std::io::{self, Read};
use std::mem::MaybeUninit;
use std::time::Instant;

/// Buffer per connection; a response head or chunk line must fit in it.
const BUF_SIZE: usize = 16 * 1024;

/// What the generator needs from a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// False when the server said `Connection: close` (or HTTP/1.0 without keep-alive, or a
    /// body delimited by the end of the connection): the next request needs a new connection.
    pub keep_alive: bool,
}

/// Why a response could not be read; each maps to one error counter of the report.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("timed out")]
    Timeout,
    /// The connection ended; `before_response` when not one byte of the response arrived
    /// (a keep-alive connection the server had already closed).
    #[error("connection closed {}", if *before_response { "before the response" } else { "mid-response" })]
    Closed { before_response: bool },
    #[error("malformed response: {0}")]
    Malformed(&'static str),
    #[error("{0}")]
    Io(io::Error),
}

impl HttpError {
    /// Socket read/write timeouts surface as WouldBlock or TimedOut; both are timeouts here.
    pub fn from_io(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => HttpError::Timeout,
            _ => HttpError::Io(e),
        }
    }
}

/// The parsed status line and the headers that decide framing.
struct Head {
    len: usize,
    status: u16,
    keep_alive: bool,
    content_length: Option<u64>,
    chunked: bool,
}

/// Reads responses from one connection, keeping bytes that arrive early for the next call.
pub struct ResponseReader {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl Default for ResponseReader {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseReader {
    pub fn new() -> Self {
        ResponseReader {
            buf: vec![0; BUF_SIZE].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    /// Reads one whole response (skipping any 1xx interim responses). Past `deadline` (checked
    /// after each read) it gives up with `Timeout`; bounding each blocking read is up to `r`
    /// (the load generator's connections give every read only the time left until the
    /// deadline, and report a read that runs out of it as a timeout).
    pub fn read_response<R: Read>(
        &mut self,
        r: &mut R,
        deadline: Option<Instant>,
    ) -> Result<Response, HttpError> {
        let mut first = true;
        loop {
            let head = self.read_head(r, deadline, first)?;
            first = false;
            self.start += head.len;
            match head.status {
                101 => {
                    return Err(HttpError::Malformed(
                        "101 Switching Protocols is not HTTP/1.1",
                    ));
                }
                100..=199 => continue,
                204 | 304 => {}
                _ if head.chunked => self.skip_chunked(r, deadline)?,
                _ => match head.content_length {
                    Some(n) => self.skip(r, deadline, n)?,
                    None => {
                        self.skip_to_eof(r, deadline)?;
                        return Ok(Response {
                            status: head.status,
                            keep_alive: false,
                        });
                    }
                },
            }
            return Ok(Response {
                status: head.status,
                keep_alive: head.keep_alive,
            });
        }
    }

    /// Drops buffered bytes: after an error the connection is abandoned, and so is its data.
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    fn read_head<R: Read>(
        &mut self,
        r: &mut R,
        deadline: Option<Instant>,
        first: bool,
    ) -> Result<Head, HttpError> {
        let mut scanned = 0;
        loop {
            let avail = &self.buf[self.start..self.end];
            if let Some(len) = head_end(avail, scanned) {
                return parse_head(&avail[..len]);
            }
            scanned = avail.len();
            let before = avail.is_empty() && first;
            if self.fill(r, deadline)? == 0 {
                return Err(HttpError::Closed {
                    before_response: before,
                });
            }
        }
    }

    /// Reads more bytes after the buffered ones; 0 means the peer closed the connection.
    fn fill<R: Read>(&mut self, r: &mut R, deadline: Option<Instant>) -> Result<usize, HttpError> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            if self.start == 0 {
                return Err(HttpError::Malformed(
                    "a response head or chunk line longer than 16 KiB",
                ));
            }
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        loop {
            match r.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    if n > 0 && deadline.is_some_and(|d| Instant::now() > d) {
                        return Err(HttpError::Timeout);
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(HttpError::from_io(e)),
            }
        }
    }

    fn skip<R: Read>(
        &mut self,
        r: &mut R,
        deadline: Option<Instant>,
        mut left: u64,
    ) -> Result<(), HttpError> {
        loop {
            let take = left.min((self.end - self.start) as u64);
            self.start += take as usize;
            left -= take;
            if left == 0 {
                return Ok(());
            }
            if self.fill(r, deadline)? == 0 {
                return Err(HttpError::Closed {
                    before_response: false,
                });
            }
        }
    }

    fn skip_to_eof<R: Read>(
        &mut self,
        r: &mut R,
        deadline: Option<Instant>,
    ) -> Result<(), HttpError> {
        loop {
            self.start = self.end;
            if self.fill(r, deadline)? == 0 {
                return Ok(());
            }
        }
    }

    /// Length of the next line (up to, not including, its `\n`), reading until it is whole.
    fn line_len<R: Read>(
        &mut self,
        r: &mut R,
        deadline: Option<Instant>,
    ) -> Result<usize, HttpError> {
        let mut scanned = 0;
        loop {
            let avail = &self.buf[self.start..self.end];
            if let Some(i) = avail[scanned..].iter().position(|&b| b == b'\n') {
                return Ok(scanned + i);
            }
            scanned = avail.len();
            if self.fill(r, deadline)? == 0 {
                return Err(HttpError::Closed {
                    before_response: false,
                });
            }
        }
    }

    fn skip_chunked<R: Read>(
        &mut self,
        r: &mut R,
        deadline: Option<Instant>,
    ) -> Result<(), HttpError> {
        loop {
            let n = self.line_len(r, deadline)?;
            let size = chunk_size(trim_cr(&self.buf[self.start..self.start + n]))?;
            self.start += n + 1;
            if size == 0 {
                // Trailer fields, then the empty line that ends the message.
                loop {
                    let n = self.line_len(r, deadline)?;
                    let empty = trim_cr(&self.buf[self.start..self.start + n]).is_empty();
                    self.start += n + 1;
                    if empty {
                        return Ok(());
                    }
                }
            }
            self.skip(r, deadline, size)?;
            let n = self.line_len(r, deadline)?;
            if !trim_cr(&self.buf[self.start..self.start + n]).is_empty() {
                return Err(HttpError::Malformed("no line end after a chunk's data"));
            }
            self.start += n + 1;
        }
    }
}

/// Where the head ends (just past the empty line), searching from `from` (already-scanned
/// bytes, minus the three that may begin the terminator).
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let from = from.saturating_sub(3);
    let mut i = from;
    while let Some(p) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + p;
        if nl >= 1 && buf[nl - 1] == b'\n' {
            return Some(nl + 1);
        }
        if nl >= 2 && buf[nl - 1] == b'\r' && buf[nl - 2] == b'\n' {
            return Some(nl + 1);
        }
        i = nl + 1;
    }
    None
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// At most this many header fields in a response head (the head itself is at most 16 KiB).
const MAX_HEADERS: usize = 128;

/// Parses a complete head (as found by `head_end`) with httparse. Lines that are not header
/// fields are skipped, as they always were here; only the framing headers are read.
fn parse_head(head: &[u8]) -> Result<Head, HttpError> {
    let mut headers = [const { MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default()
        .ignore_invalid_headers_in_responses(true)
        .parse_response_with_uninit_headers(&mut res, head, &mut headers);
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            return Err(HttpError::Malformed("response head ends early"));
        }
        Err(e) => return Err(HttpError::Malformed(head_error(e))),
    };
    let (Some(minor), Some(code)) = (res.version, res.code) else {
        return Err(HttpError::Malformed("response head ends early"));
    };
    let (mut close, mut keep, mut content_length, mut chunked) = (false, false, None, false);
    for h in res.headers.iter() {
        let value = h.value.trim_ascii();
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(HttpError::Malformed("Content-Length is not a number"))?;
            content_length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                close |= token.eq_ignore_ascii_case(b"close");
                keep |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        }
    }
    Ok(Head {
        len,
        status: code,
        keep_alive: !close && (minor != 0 || keep),
        content_length,
        chunked,
    })
}

/// The report's words for what httparse rejected.
fn head_error(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::Version => "status line does not start with HTTP/1.",
        httparse::Error::Status => "no three-digit status code",
        httparse::Error::TooManyHeaders => "more than 128 header fields",
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line end",
        httparse::Error::Token => "invalid token",
    }
}

fn chunk_size(line: &[u8]) -> Result<u64, HttpError> {
    let hex = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if hex.is_empty() || hex.len() > 15 {
        return Err(HttpError::Malformed("bad chunk size"));
    }
    hex.iter().try_fold(0u64, |acc, &b| {
        let d = (b as char)
            .to_digit(16)
            .ok_or(HttpError::Malformed("bad chunk size"))?;
        Ok(acc * 16 + u64::from(d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per read, to hit every buffer boundary.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn read_all(data: &[u8], step: usize) -> Vec<Result<Response, String>> {
        let mut r = Trickle { data, step };
        let mut rr = ResponseReader::new();
        let mut out = Vec::new();
        loop {
            match rr.read_response(&mut r, None) {
                Err(HttpError::Closed {
                    before_response: true,
                }) => return out,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
                Ok(resp) => {
                    out.push(Ok(resp));
                    if !resp.keep_alive {
                        return out;
                    }
                }
            }
        }
    }

    const KA: Response = Response {
        status: 200,
        keep_alive: true,
    };

    #[test]
    fn keep_alive_sequence_at_every_fragmentation() {
        let data = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello\
HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 404 Not Found\r\ncontent-length:0\r\n\r\n\
HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n\
HTTP/1.1 204 No Content\r\n\r\n\
HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno";
        let want = vec![
            Ok(KA),
            Ok(Response {
                status: 404,
                keep_alive: true,
            }),
            Ok(KA),
            Ok(Response {
                status: 204,
                keep_alive: true,
            }),
            Ok(Response {
                status: 503,
                keep_alive: false,
            }),
        ];
        for step in 1..=data.len() {
            assert_eq!(read_all(data, step), want, "step {step}");
        }
    }

    #[test]
    fn body_until_close_and_http10() {
        let data = b"HTTP/1.0 200 OK\r\n\r\nbody until the end";
        assert_eq!(
            read_all(data, 3),
            vec![Ok(Response {
                status: 200,
                keep_alive: false
            })]
        );
        let data = b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx";
        assert_eq!(read_all(data, 7), vec![Ok(KA)]);
        // Bare LF line ends are accepted.
        assert_eq!(
            read_all(b"HTTP/1.1 200 OK\nContent-Length: 0\n\n", 2),
            vec![Ok(KA)]
        );
    }

    #[test]
    fn truncated_and_malformed() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                "mid-response",
            ),
            (b"HTTP/1.1 200 OK\r\nContent-Le", "mid-response"),
            (b"SMTP 220 hi\r\n\r\n", "HTTP/1."),
            (b"HTTP/1.1 2x0 OK\r\n\r\n", "three-digit"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                "Content-Length",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "chunk size",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
                "line end",
            ),
        ];
        for (data, want) in cases {
            let got = read_all(data, 4);
            let msg = got.last().unwrap().clone().unwrap_err();
            assert!(
                msg.contains(want),
                "{:?}: {msg}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn lenient_heads() {
        // A line that is not a header field is skipped; a status without a reason is fine.
        let data = b"HTTP/1.1 200\r\nnot a header\r\nContent-Length: 1\r\n\r\nx";
        assert_eq!(read_all(data, 5), vec![Ok(KA)]);
        // Exactly the limit of header fields is read; one more is malformed.
        let mut data = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..MAX_HEADERS - 1 {
            data.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        data.extend_from_slice(b"Connection: close\r\nContent-Length: 0\r\n\r\n");
        let too_many = data.clone();
        data.drain(17..25);
        let got = read_all(&data, 1000);
        assert_eq!(
            got,
            vec![Ok(Response {
                status: 200,
                keep_alive: false
            })]
        );
        let msg = read_all(&too_many, 1000).pop().unwrap().unwrap_err();
        assert!(msg.contains("more than 128 header fields"), "{msg}");
    }

    #[test]
    fn oversized_head_is_malformed_not_a_hang() {
        let mut data = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        data.resize(BUF_SIZE + 10, b'a');
        let msg = read_all(&data, 4096).pop().unwrap().unwrap_err();
        assert!(msg.contains("16 KiB"), "{msg}");
    }

    proptest::proptest! {
        /// Whatever bytes arrive, the reader returns (never panics or loops).
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..600), step in 1usize..64) {
            let _ = read_all(&data, step);
        }

        /// Any Content-Length body, delivered in any pieces, is skipped exactly.
        #[test]
        fn content_length_bodies(len in 0usize..40_000, step in 1usize..9000) {
            let mut data = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n").into_bytes();
            data.resize(data.len() + len, b'x');
            data.extend_from_slice(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
            let got = read_all(&data, step);
            proptest::prop_assert_eq!(got, vec![Ok(KA), Ok(Response { status: 201, keep_alive: true })]);
        }
    }
}
