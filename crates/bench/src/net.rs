//! `bench net`: a TCP server and client, each on its own thread, each optionally inside one
//! of boxwise's network namespaces (setns(2) moves only the calling thread). Latency is the
//! round trip of a request and its response over one open connection; throughput is one
//! stream of 128 KiB writes, counted by the server.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::interrupt;
use crate::model::{self, Latency, NetReport, NetResult};
use crate::netns::{self, Topology};
use crate::spec::{NetMode, NetSpec};

/// The port the server listens on inside boxwise's own namespaces (nothing else is there).
const NS_PORT: u16 = 47_001;
/// How long a peer may stay silent before the run gives up instead of hanging.
const PATIENCE: Duration = Duration::from_secs(10);
const STREAM_CHUNK: usize = 128 << 10;

/// Measure every mode of `spec`, building and removing each mode's namespaces in turn
/// (and, for Docker's modes, the image and containers).
pub fn run(spec: &NetSpec, mut progress: impl FnMut(&str)) -> Result<NetReport> {
    let mut results = Vec::new();
    // Docker's modes need an engine and an image: checked and built before anything is
    // measured, so a missing engine is said at once.
    let mut docker = if spec.modes.iter().any(|m| m.is_docker()) {
        match crate::docker::Session::start(spec.docker_binary.as_deref()) {
            Ok(s) => Some(s),
            Err(_) if interrupt::requested() => None,
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    for &mode in &spec.modes {
        if interrupt::requested() {
            break;
        }
        if mode.is_docker() {
            let Some(session) = docker.as_mut() else {
                break;
            };
            match session.measure(mode, spec) {
                Ok(r) => {
                    progress(&format!("{} p50 {:?} us", mode.name(), r.p50_us));
                    results.push(r);
                }
                Err(_) if interrupt::requested() => break,
                Err(e) => return Err(e),
            }
            continue;
        }
        // A Ctrl-C during set-up or a measurement (which may also kill an `ip` child of the
        // same process group) ends the run as interrupted, not as an error; the drop of the
        // topology removes what exists either way.
        let topology = match Topology::create(mode) {
            Ok(t) => t,
            Err(_) if interrupt::requested() => break,
            Err(e) => return Err(e),
        };
        let r = match measure(mode, &topology, spec) {
            Ok(r) => r,
            Err(_) if interrupt::requested() => break,
            Err(e) => return Err(e),
        };
        drop(topology);
        progress(&format!("{} p50 {:?} us", mode.name(), r.p50_us));
        results.push(r);
    }
    Ok(NetReport {
        results,
        interrupted: interrupt::requested(),
    })
}

fn measure(mode: NetMode, topology: &Topology, spec: &NetSpec) -> Result<NetResult> {
    let (bind, port) = match &topology.server_ns {
        None => (IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        Some(_) => (IpAddr::V4(Ipv4Addr::UNSPECIFIED), NS_PORT),
    };
    let size = spec.size as usize;
    let server_ns = topology.server_ns.as_deref();
    let client_ns = topology.client_ns.as_deref();
    // The server in a process of its own, as iperf3, qperf and sockperf run theirs.
    if let Some(program) = &spec.server_program {
        let (server, port) =
            ServerProcess::spawn(program, server_ns, SocketAddr::new(bind, port), size)?;
        topology.publish(port)?;
        let target = SocketAddr::new(topology.connect_ip, port);
        let result = std::thread::scope(|scope| {
            scope
                .spawn(move || -> Result<NetResult> {
                    enter(client_ns)?;
                    client(mode, target, size, spec.duration)
                })
                .join()
                .unwrap_or_else(|_| Err(Error::Spec("the client thread panicked".into())))
        });
        let served = server.finish();
        let result = result?;
        served?;
        return Ok(result);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let server = scope.spawn(move || -> Result<()> {
            enter(server_ns)?;
            let listener = TcpListener::bind(SocketAddr::new(bind, port))
                .map_err(|e| Error::net(format!("cannot listen on {bind}:{port}"), e))?;
            let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
            let _ = tx.send(port);
            serve(&listener, size)
        });
        let Ok(port) = rx.recv_timeout(PATIENCE) else {
            return Err(server
                .join()
                .unwrap_or_else(|_| Err(Error::Spec("the server thread panicked".into())))
                .err()
                .unwrap_or_else(|| Error::Spec("the server did not start".into())));
        };
        topology.publish(port)?;
        let target = SocketAddr::new(topology.connect_ip, port);
        let client = scope.spawn(move || -> Result<NetResult> {
            enter(client_ns)?;
            client(mode, target, size, spec.duration)
        });
        let result = client
            .join()
            .unwrap_or_else(|_| Err(Error::Spec("the client thread panicked".into())));
        let served = server
            .join()
            .unwrap_or_else(|_| Err(Error::Spec("the server thread panicked".into())));
        let result = result?;
        served?;
        Ok(result)
    })
}

/// `PROGRAM bench net --serve ADDR --size N` (boxwise itself), started in namespace `ns`
/// (entered between fork and exec); killed and reaped on drop.
struct ServerProcess {
    child: std::process::Child,
    command: String,
}

impl ServerProcess {
    /// Start it and wait for the port it says it listens on.
    fn spawn(
        program: &Path,
        ns: Option<&Path>,
        addr: SocketAddr,
        size: usize,
    ) -> Result<(ServerProcess, u16)> {
        use std::io::BufRead as _;
        use std::os::unix::process::CommandExt as _;
        let command = format!("{} bench net --serve {addr}", program.display());
        let mut cmd = std::process::Command::new(program);
        cmd.args(["bench", "net", "--serve", &addr.to_string()])
            .args(["--size", &size.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped());
        if let Some(ns) = ns {
            let file =
                std::fs::File::open(ns).map_err(|e| Error::file(ns, "cannot open namespace", e))?;
            // SAFETY: setns(2) is a plain system call, safe between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                        .map_err(std::io::Error::from)
                });
            }
        }
        let mut child = cmd.spawn().map_err(|e| Error::Command {
            command: command.clone(),
            detail: e.to_string(),
        })?;
        let stdout = child.stdout.take();
        let mut server = ServerProcess { child, command };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            if let Some(out) = stdout {
                let _ = std::io::BufReader::new(out).read_line(&mut line);
            }
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(PATIENCE).unwrap_or_default();
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse::<SocketAddr>().ok())
            .map(|a| a.port());
        match port {
            Some(port) => Ok((server, port)),
            None => {
                let status = server.stop();
                Err(Error::Command {
                    command: server.command.clone(),
                    detail: format!("the server never said where it listens ({status})"),
                })
            }
        }
    }

    /// Wait for the server to finish its one client (it exits then), or stop it.
    fn finish(mut self) -> Result<()> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(Error::Command {
                        command: self.command.clone(),
                        detail: status.to_string(),
                    });
                }
                Ok(None) if Instant::now() < deadline && !interrupt::requested() => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                _ => {
                    self.stop();
                    return Ok(());
                }
            }
        }
    }

    fn stop(&mut self) -> String {
        let _ = self.child.kill();
        self.child
            .wait()
            .map_or_else(|e| e.to_string(), |s| s.to_string())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

/// The client's half: round trips, then one stream, against the server at `target`.
pub fn client(
    mode: NetMode,
    target: SocketAddr,
    size: usize,
    duration: Duration,
) -> Result<NetResult> {
    let lat = ping_pong(target, size, duration)?;
    let throughput = stream(target, duration)?;
    Ok(NetResult {
        mode,
        address: target.to_string(),
        size_bytes: size as u64,
        round_trips: lat.samples,
        p50_us: lat.p50_us,
        p99_us: lat.p99_us,
        p999_us: lat.p999_us,
        max_us: lat.max_us,
        throughput_bytes_per_second: throughput,
    })
}

/// The server's half on its own (`bench net --serve`, inside a container): listen on
/// `addr`, say `listening on ADDR` on stdout once bound, serve one client, return.
pub fn serve_at(addr: SocketAddr, size: usize) -> Result<()> {
    let listener =
        TcpListener::bind(addr).map_err(|e| Error::net(format!("cannot listen on {addr}"), e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::net("listener", e))?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {bound}");
        let _ = out.flush();
    }
    serve(&listener, size)
}

/// Move this thread into a network namespace (the other threads stay where they are).
fn enter(ns: Option<&Path>) -> Result<()> {
    let Some(path) = ns else { return Ok(()) };
    let file =
        std::fs::File::open(path).map_err(|e| Error::file(path, "cannot open namespace", e))?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| Error::file(path, "setns", e.into()))
}

/// Accept within [`PATIENCE`], so a client that never comes cannot hang the run.
fn accept(listener: &TcpListener) -> Result<TcpStream> {
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::net("listener", e))?;
    let deadline = Instant::now() + PATIENCE;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false)
                    .and_then(|()| s.set_nodelay(true))
                    .and_then(|()| s.set_read_timeout(Some(PATIENCE)))
                    .map_err(|e| Error::net("server socket", e))?;
                return Ok(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() > deadline || interrupt::requested() {
                    return Err(Error::net("accept", std::io::ErrorKind::TimedOut.into()));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(Error::net("accept", e)),
        }
    }
}

/// Echo fixed-size messages until EOF, then count a stream and send the count back.
fn serve(listener: &TcpListener, size: usize) -> Result<()> {
    let mut conn = accept(listener)?;
    let mut buf = vec![0u8; size];
    loop {
        match conn.read_exact(&mut buf) {
            Ok(()) => conn
                .write_all(&buf)
                .map_err(|e| Error::net("server write", e))?,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(Error::net("server read", e)),
        }
    }
    let mut conn = accept(listener)?;
    let mut buf = vec![0u8; STREAM_CHUNK];
    let mut total = 0u64;
    loop {
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => total += n as u64,
            Err(e) => return Err(Error::net("server read", e)),
        }
    }
    conn.write_all(&total.to_le_bytes())
        .map_err(|e| Error::net("server write", e))
}

fn connect(target: SocketAddr) -> Result<TcpStream> {
    let s = TcpStream::connect_timeout(&target, PATIENCE)
        .map_err(|e| Error::net(format!("cannot connect to {target}"), e))?;
    s.set_nodelay(true)
        .and_then(|()| s.set_read_timeout(Some(PATIENCE)))
        .map_err(|e| Error::net("client socket", e))?;
    Ok(s)
}

fn ping_pong(target: SocketAddr, size: usize, duration: Duration) -> Result<Latency> {
    let mut conn = connect(target)?;
    let request = vec![7u8; size];
    let mut response = vec![0u8; size];
    let mut hist = model::histogram();
    // A short warm-up (connection, caches, the CPU's frequency) is left out.
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(100) && !interrupt::requested() {
        conn.write_all(&request)
            .and_then(|()| conn.read_exact(&mut response))
            .map_err(|e| Error::net("round trip", e))?;
    }
    let start = Instant::now();
    while start.elapsed() < duration && !interrupt::requested() {
        let t = Instant::now();
        conn.write_all(&request)
            .and_then(|()| conn.read_exact(&mut response))
            .map_err(|e| Error::net("round trip", e))?;
        let _ = hist.record((t.elapsed().as_nanos() as u64).max(1));
    }
    Ok(Latency::of(&hist))
}

fn stream(target: SocketAddr, duration: Duration) -> Result<Option<f64>> {
    let mut conn = connect(target)?;
    let chunk = vec![1u8; STREAM_CHUNK];
    let start = Instant::now();
    while start.elapsed() < duration && !interrupt::requested() {
        conn.write_all(&chunk)
            .map_err(|e| Error::net("stream write", e))?;
    }
    conn.shutdown(std::net::Shutdown::Write)
        .map_err(|e| Error::net("stream shutdown", e))?;
    let mut count = [0u8; 8];
    conn.read_exact(&mut count)
        .map_err(|e| Error::net("stream count", e))?;
    Ok(model::rate(
        u64::from_le_bytes(count),
        start.elapsed().as_secs_f64(),
    ))
}

/// Paths used by tests and the CLI to check that nothing is left behind.
pub fn leftovers() -> Vec<String> {
    netns::leftovers()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both halves on threads of this process over real loopback (the library's default;
    /// the CLI runs the server as a process of its own, tested in tests/bench.rs).
    #[test]
    fn host_mode_on_threads_measures_real_loopback() {
        let spec = NetSpec {
            modes: vec![NetMode::Host],
            duration: Duration::from_millis(50),
            ..NetSpec::default()
        };
        let report = run(&spec, |_| {}).unwrap();
        let r = &report.results[0];
        assert_eq!(r.mode, NetMode::Host);
        assert!(r.address.starts_with("127.0.0.1:"), "{r:?}");
        assert!(r.round_trips > 0 && r.p50_us.unwrap() > 0.0, "{r:?}");
        assert!(r.throughput_bytes_per_second.unwrap() > 0.0, "{r:?}");
    }
}
