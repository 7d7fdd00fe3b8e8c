//! The Docker engine's API over its unix socket: one blocking HTTP/1.1 `GET` per
//! connection (`Connection: close`), the body framed by `Content-Length`, chunked transfer
//! encoding or the end of the stream. `boxwise-image` streams an image export through it,
//! `boxwise-oom` asks about a container's last exit, `boxwise-fleet` lists container names.
//! Nothing here knows what the engine's answers mean; callers parse them.

#![forbid(unsafe_code)]

mod http;

use std::io::{self, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use http::{Chunked, Head, parse_head, read_head};

/// Where the engine listens unless `DOCKER_HOST` says otherwise.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// The engine socket: `DOCKER_HOST=unix:///path`, else [`DEFAULT_SOCKET`]. `Err` holds a
/// `DOCKER_HOST` that is not a unix socket (tcp:// and ssh:// are not spoken here).
pub fn socket_path() -> Result<PathBuf, String> {
    socket_from(std::env::var("DOCKER_HOST").ok().as_deref())
}

/// [`socket_path`] for a given `DOCKER_HOST` value.
pub fn socket_from(docker_host: Option<&str>) -> Result<PathBuf, String> {
    match docker_host {
        Some(h) if !h.is_empty() => match h.strip_prefix("unix://") {
            Some(p) => Ok(PathBuf::from(p)),
            None => Err(h.to_string()),
        },
        _ => Ok(PathBuf::from(DEFAULT_SOCKET)),
    }
}

/// An answer whose head has been read; the body is read on demand.
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// The body, de-chunked and cut at its `Content-Length`.
    pub body: Box<dyn Read + Send>,
}

impl Response {
    /// The whole body, or an error when it is longer than `max` bytes (a runaway answer is
    /// not the engine's).
    pub fn bytes(self, max: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.body.take(max as u64 + 1).read_to_end(&mut out)?;
        if out.len() > max {
            return Err(io::Error::other(format!("answer over {max} bytes")));
        }
        Ok(out)
    }
}

/// `GET path` (already percent-encoded) on the engine at `socket`. With a `timeout`, each
/// read and write waits at most that long, so a stuck engine costs at most a few of them;
/// without, reads wait as long as the engine takes (a large export).
pub fn get(socket: &Path, path: &str, timeout: Option<Duration>) -> io::Result<Response> {
    let stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(timeout)?;
    stream.set_write_timeout(timeout)?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: boxwise\r\nConnection: close\r\n\r\n"
    );
    (&stream).write_all(request.as_bytes())?;
    let mut reader = BufReader::with_capacity(256 << 10, stream);
    let Head {
        status,
        reason,
        chunked,
        length,
    } = read_head(&mut reader)?;
    let body: Box<dyn Read + Send> = if chunked {
        Box::new(Chunked::new(reader))
    } else if let Some(n) = length {
        Box::new(reader.take(n))
    } else {
        Box::new(reader)
    };
    Ok(Response {
        status,
        reason,
        body,
    })
}

/// `GET path` and the body when the status is 200, at most `max` bytes; `Err` says what
/// went wrong in one line (the socket, the status, or the size).
pub fn get_ok(
    socket: &Path,
    path: &str,
    timeout: Option<Duration>,
    max: usize,
) -> Result<Vec<u8>, String> {
    let fail = |e: io::Error| format!("{}: {e}", socket.display());
    let resp = get(socket, path, timeout).map_err(fail)?;
    if resp.status != 200 {
        return Err(format!(
            "{}: GET {path}: engine said {} {}",
            socket.display(),
            resp.status,
            resp.reason
        ));
    }
    resp.bytes(max).map_err(fail)
}

/// [`get_ok`] and the body parsed as JSON into `T`.
pub fn get_json<T: serde::de::DeserializeOwned>(
    socket: &Path,
    path: &str,
    timeout: Option<Duration>,
    max: usize,
) -> Result<T, String> {
    let body = get_ok(socket, path, timeout, max)?;
    serde_json::from_slice(&body).map_err(|e| format!("{}: GET {path}: {e}", socket.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;
    use std::thread;

    #[test]
    fn docker_host_picks_the_socket() {
        assert_eq!(socket_from(None).unwrap(), PathBuf::from(DEFAULT_SOCKET));
        assert_eq!(
            socket_from(Some("")).unwrap(),
            PathBuf::from(DEFAULT_SOCKET)
        );
        assert_eq!(
            socket_from(Some("unix:///run/user/1000/docker.sock")).unwrap(),
            PathBuf::from("/run/user/1000/docker.sock")
        );
        assert_eq!(
            socket_from(Some("tcp://h:2375")).unwrap_err(),
            "tcp://h:2375"
        );
    }

    /// A real unix socket server answering once with `answer`; returns the request it read.
    fn serve(answer: &'static [u8]) -> (tempfile::TempDir, PathBuf, thread::JoinHandle<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let handle = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.ends_with(b"\r\n\r\n") {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                req.extend_from_slice(&buf[..n]);
            }
            s.write_all(answer).unwrap();
            String::from_utf8(req).unwrap()
        });
        (dir, path, handle)
    }

    #[test]
    fn a_chunked_json_answer_is_read_whole() {
        let (_dir, path, h) = serve(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
              7\r\n[{\"Id\":\r\n6\r\n\"ab\"}]\r\n0\r\n\r\n",
        );
        let v: serde_json::Value = get_json(
            &path,
            "/containers/json",
            Some(Duration::from_secs(5)),
            1000,
        )
        .unwrap();
        assert_eq!(v[0]["Id"], "ab");
        let req = h.join().unwrap();
        assert!(
            req.starts_with("GET /containers/json HTTP/1.1\r\n"),
            "{req}"
        );
        assert!(req.contains("Connection: close"), "{req}");
    }

    #[test]
    fn a_refusal_and_an_oversized_body_are_errors() {
        let (_dir, path, h) = serve(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}");
        let e = get_ok(&path, "/x", Some(Duration::from_secs(5)), 10).unwrap_err();
        assert!(e.ends_with("GET /x: engine said 404 Not Found"), "{e}");
        h.join().unwrap();
        let (_dir, path, h) =
            serve(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789");
        let e = get_ok(&path, "/x", Some(Duration::from_secs(5)), 10).unwrap_err();
        assert!(e.contains("answer over 10 bytes"), "{e}");
        h.join().unwrap();
    }

    #[test]
    fn a_silent_engine_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.sock");
        // Accepted by the kernel's backlog, never answered.
        let _listener = UnixListener::bind(&path).unwrap();
        let e = get_ok(&path, "/x", Some(Duration::from_millis(200)), 10).unwrap_err();
        assert!(e.starts_with(&format!("{}: ", path.display())), "{e}");
    }

    #[test]
    fn no_socket_is_an_error_naming_it() {
        let e = get_ok(Path::new("/nonexistent/engine.sock"), "/x", None, 10).unwrap_err();
        assert!(e.starts_with("/nonexistent/engine.sock: "), "{e}");
    }
}
