//! One keep-alive TCP connection that sends a prebuilt GET and reads the response.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::http::{HttpError, Response, ResponseReader};

pub(crate) struct Conn {
    stream: TcpStream,
    reader: ResponseReader,
    /// Whether a response has been read on it: only a reused connection may have been closed
    /// by the server while idle, which is worth one silent retry.
    pub reused: bool,
}

impl Conn {
    /// Connects with `timeout` on the connect and on every later read and write, and
    /// NODELAY so small requests leave at once.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Conn {
            stream,
            reader: ResponseReader::new(),
            reused: false,
        })
    }

    /// Sends `request` and reads the whole response, giving up at `deadline`.
    pub fn get(&mut self, request: &[u8], deadline: Instant) -> Result<Response, HttpError> {
        self.stream.write_all(request).map_err(HttpError::from_io)?;
        let resp = self
            .reader
            .read_response(&mut self.stream, Some(deadline))?;
        self.reused = true;
        Ok(resp)
    }
}
