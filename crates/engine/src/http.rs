//! HTTP/1.1 response framing: the head (status and the headers that frame the body) and
//! chunked transfer decoding. Pure over any `BufRead`.

use std::io::{self, BufRead, Read};

/// Response headers larger than this are not the engine's.
const MAX_HEAD: usize = 64 << 10;

/// The status line and the headers that say how the body is framed.
#[derive(Debug, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub reason: String,
    pub chunked: bool,
    pub length: Option<u64>,
}

/// Reads the status line and headers.
pub fn read_head(r: &mut impl BufRead) -> io::Result<Head> {
    let mut head = Vec::new();
    loop {
        let n = r.read_until(b'\n', &mut head)?;
        if n == 0 {
            return Err(io::Error::other("connection closed before the response"));
        }
        if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") {
            break;
        }
        if head.len() > MAX_HEAD {
            return Err(io::Error::other("response headers over 64 KiB"));
        }
    }
    parse_head(&head)
}

pub fn parse_head(head: &[u8]) -> io::Result<Head> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(io::Error::other("truncated HTTP response")),
        Err(e) => return Err(io::Error::other(format!("bad HTTP response: {e}"))),
    }
    let status = resp.code.unwrap_or(0);
    let reason = resp.reason.unwrap_or("").to_string();
    let mut chunked = false;
    let mut length = None;
    for h in resp.headers.iter() {
        let value = String::from_utf8_lossy(h.value);
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if h.name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().ok();
        }
    }
    Ok(Head {
        status,
        reason,
        chunked,
        length,
    })
}

/// HTTP/1.1 chunked transfer decoding.
pub struct Chunked<R> {
    inner: R,
    left: u64,
    done: bool,
}

impl<R: BufRead> Chunked<R> {
    pub fn new(inner: R) -> Self {
        Chunked {
            inner,
            left: 0,
            done: false,
        }
    }

    fn next_size(&mut self) -> io::Result<u64> {
        let mut line = Vec::new();
        (&mut self.inner).take(1024).read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\n") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "bad chunk size line",
            ));
        }
        let text = String::from_utf8_lossy(&line);
        let hex = text.trim().split(';').next().unwrap_or("").trim();
        u64::from_str_radix(hex, 16).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad chunk size {hex:?}"),
            )
        })
    }
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let size = self.next_size()?;
            if size == 0 {
                self.done = true;
                return Ok(0);
            }
            self.left = size;
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "body ended mid-chunk",
            ));
        }
        self.left -= n as u64;
        if self.left == 0 {
            let mut crlf = [0u8; 2];
            self.inner.read_exact(&mut crlf)?;
            if &crlf != b"\r\n" {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "chunk not followed by CRLF",
                ));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(data: &[u8], sizes: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = data;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].max(1).min(rest.len());
            out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
            out.extend_from_slice(&rest[..n]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[n..];
            i += 1;
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    #[test]
    fn head_parses() {
        let h = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n";
        let head = parse_head(h).unwrap();
        assert_eq!((head.status, head.chunked, head.length), (200, true, None));
        let h = b"HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\n\r\n";
        let head = parse_head(h).unwrap();
        assert_eq!(
            (head.status, head.chunked, head.length),
            (404, false, Some(12))
        );
        assert_eq!(head.reason, "Not Found");
    }

    proptest! {
        #[test]
        fn chunked_round_trips(data in proptest::collection::vec(any::<u8>(), 0..5000),
                               sizes in proptest::collection::vec(1usize..700, 1..5)) {
            let enc = encode(&data, &sizes);
            let mut out = Vec::new();
            Chunked::new(&enc[..]).read_to_end(&mut out).unwrap();
            prop_assert_eq!(out, data);
        }

        #[test]
        fn chunked_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..500)) {
            let mut out = Vec::new();
            let _ = Chunked::new(&data[..]).take(10_000).read_to_end(&mut out);
        }

        #[test]
        fn head_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..500)) {
            let _ = parse_head(&data);
        }
    }
}
