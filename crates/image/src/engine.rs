//! The Docker engine's image export (`GET /images/NAME/get`, what `docker save` calls) over
//! its unix socket: one blocking HTTP/1.1 request, the body a `docker save` tar.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use crate::Error;

/// Response headers larger than this are not the engine's.
const MAX_HEAD: usize = 64 << 10;

/// The engine socket: `DOCKER_HOST=unix:///path` or `/var/run/docker.sock`.
pub fn socket_path() -> Result<PathBuf, Error> {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => match h.strip_prefix("unix://") {
            Some(p) => Ok(PathBuf::from(p)),
            None => Err(Error::Engine(format!(
                "DOCKER_HOST={h}: only unix:// sockets are supported; use `docker save` and \
                 pass the archive"
            ))),
        },
        _ => Ok(PathBuf::from("/var/run/docker.sock")),
    }
}

/// Starts the export of `name` and returns the body as a stream.
pub fn export(name: &str) -> Result<Box<dyn Read>, Error> {
    let socket = socket_path()?;
    let stream = UnixStream::connect(&socket)
        .map_err(|e| Error::Engine(format!("{}: {e}", socket.display())))?;
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    let request = format!(
        "GET /images/{encoded}/get HTTP/1.1\r\nHost: docker\r\nUser-Agent: boxwise\r\n\
         Connection: close\r\n\r\n"
    );
    (&stream)
        .write_all(request.as_bytes())
        .map_err(|e| Error::Engine(format!("{}: {e}", socket.display())))?;
    let mut reader = BufReader::with_capacity(256 << 10, stream);
    let Head {
        status,
        reason,
        chunked,
        length,
    } = read_head(&mut reader).map_err(|e| Error::Engine(format!("{}: {e}", socket.display())))?;
    let body: Box<dyn Read> = if chunked {
        Box::new(Chunked::new(reader))
    } else if let Some(n) = length {
        Box::new(reader.take(n))
    } else {
        Box::new(reader)
    };
    if status != 200 {
        let mut msg = String::new();
        let _ = body.take(4096).read_to_string(&mut msg);
        return Err(Error::Engine(refusal(name, status, &reason, &msg)));
    }
    Ok(body)
}

/// The engine's refusal as one line: its JSON `message`, else the body, else what the
/// status line's reason (a redirect or a proxy's error may have no body).
pub(crate) fn refusal(name: &str, status: u16, reason: &str, body: &str) -> String {
    let text = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| body.trim().to_string());
    let text = crate::one_line(text.trim(), 200);
    let reason = match crate::one_line(reason.trim(), 60) {
        r if r.is_empty() => "(no reason given)".to_string(),
        r => r,
    };
    if text.is_empty() {
        format!("image {name:?}: engine said {status} {reason}")
    } else {
        format!("image {name:?}: engine said {status} {reason}: {text}")
    }
}

/// The status line and the headers that say how the body is framed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Head {
    pub status: u16,
    pub reason: String,
    pub chunked: bool,
    pub length: Option<u64>,
}

/// Reads the status line and headers.
fn read_head(r: &mut impl BufRead) -> io::Result<Head> {
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

pub(crate) fn parse_head(head: &[u8]) -> io::Result<Head> {
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
pub(crate) struct Chunked<R> {
    inner: R,
    left: u64,
    done: bool,
}

impl<R: BufRead> Chunked<R> {
    pub(crate) fn new(inner: R) -> Self {
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

    #[test]
    fn refusal_without_a_body_says_the_status() {
        assert_eq!(
            refusal("x", 301, "Moved Permanently", ""),
            "image \"x\": engine said 301 Moved Permanently"
        );
        assert_eq!(
            refusal(
                "x",
                404,
                "Not Found",
                "{\"message\":\"No such image: x:latest\"}\n"
            ),
            "image \"x\": engine said 404 Not Found: No such image: x:latest"
        );
        assert_eq!(
            refusal("x", 502, "", "bad\ngateway"),
            "image \"x\": engine said 502 (no reason given): bad\\ngateway"
        );
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
