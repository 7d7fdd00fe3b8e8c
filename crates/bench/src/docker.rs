//! `bench net --modes docker`: the same round trips and stream between two containers of
//! a `FROM scratch` image holding only a static boxwise (`bench net --serve` in one,
//! `--connect` in the other), on Docker's default bridge and with `--network host`.
//!
//! This shells out to the `docker` command, as [`crate::netns`] does to `ip`. Everything
//! made is labelled `boxwise-bench=<pid>` and removed on drop (success, error, Ctrl-C);
//! what a killed run left is removed by the next one.

use std::io::Read as _;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::interrupt;
use crate::model::NetResult;
use crate::spec::{NetMode, NetSpec};

const LABEL: &str = "boxwise-bench";
/// The port the server listens on in its own (bridge) network namespace.
const BRIDGE_PORT: u16 = 47_001;
/// How long the server may take to say it is listening.
const PATIENCE: Duration = Duration::from_secs(20);

/// The image, and the containers of one run; dropping it removes them all.
pub struct Session {
    image: String,
    label: String,
    /// A tag for the next container's name.
    next: u32,
}

impl Session {
    /// Check that an engine answers, remove what killed runs left, and build the image
    /// around `binary` (default: the running boxwise), which must be static.
    pub fn start(binary: Option<&Path>) -> Result<Session> {
        let (_, mut cmd) = docker_command(&["version", "--format", "{{.Server.Version}}"]);
        let out = cmd.output().map_err(|e| {
            Error::Spec(format!(
                "--modes docker: cannot run the docker command ({e}); is it installed?"
            ))
        })?;
        if !out.status.success() || String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            return Err(Error::Spec(format!(
                "--modes docker: no Docker engine answers: {}",
                first_line(&String::from_utf8_lossy(&out.stderr))
            )));
        }
        let user_named = binary.is_some();
        let binary = match binary {
            Some(p) => p.to_path_buf(),
            None => {
                std::env::current_exe().map_err(|e| Error::file("/proc/self/exe", "read", e))?
            }
        };
        check_static(&binary)?;
        if user_named {
            check_boxwise(&binary)?;
        }
        remove_stale();
        let pid = std::process::id();
        // Made before the build, so that its drop removes the image (by tag and by label)
        // whatever instant a Ctrl-C lands at.
        let session = Session {
            image: format!("{LABEL}-{pid}"),
            label: format!("{LABEL}={pid}"),
            next: 0,
        };
        session.build(&binary)?;
        Ok(session)
    }

    fn build(&self, binary: &Path) -> Result<()> {
        let ctx = std::env::temp_dir().join(format!("{}-ctx", self.image));
        let _ = std::fs::remove_dir_all(&ctx);
        std::fs::create_dir(&ctx).map_err(|e| Error::file(&ctx, "create", e))?;
        let built = (|| {
            let copy = ctx.join("boxwise");
            if std::fs::hard_link(binary, &copy).is_err() {
                std::fs::copy(binary, &copy).map_err(|e| Error::file(binary, "copy", e))?;
            }
            let dockerfile = ctx.join("Dockerfile");
            std::fs::write(
                &dockerfile,
                "FROM scratch\nCOPY boxwise /boxwise\nENTRYPOINT [\"/boxwise\"]\n",
            )
            .map_err(|e| Error::file(&dockerfile, "write", e))?;
            let ctx = ctx.to_string_lossy();
            docker(&[
                "build",
                "-q",
                "--no-cache",
                "--label",
                &self.label,
                "-t",
                &self.image,
                &ctx,
            ])
            .map(drop)
        })();
        let _ = std::fs::remove_dir_all(&ctx);
        built
    }

    /// One Docker mode: start the server container, wait for its address, run the client
    /// container against it, and read the client's result.
    pub fn measure(&mut self, mode: NetMode, spec: &NetSpec) -> Result<NetResult> {
        let host = mode == NetMode::DockerHost;
        let size = spec.size.to_string();
        let listen = if host {
            "127.0.0.1:0".to_string()
        } else {
            format!("0.0.0.0:{BRIDGE_PORT}")
        };
        let server = self.name("srv");
        let mut args = vec!["run", "-d", "--label", &self.label, "--name", &server];
        if host {
            args.extend(["--network", "host"]);
        }
        args.extend([self.image.as_str(), "bench", "net", "--serve", &listen]);
        args.extend(["--size", &size]);
        docker(&args)?;
        let port = self.listening_port(&server)?;
        let ip: IpAddr = if host {
            IpAddr::from([127, 0, 0, 1])
        } else {
            let out = docker(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", &server])?;
            out.trim().parse().map_err(|_| Error::Command {
                command: format!("docker inspect {server}"),
                detail: format!("no IPv4 address on the default bridge: {:?}", out.trim()),
            })?
        };
        if !private(ip) {
            return Err(Error::Spec(format!(
                "docker-bridge: the server container's address {ip} is not a private one; \
                 refusing to send traffic to it"
            )));
        }
        let target = SocketAddr::new(ip, port);
        let client = self.name("cli");
        let millis = format!("{}ms", spec.duration.as_millis());
        let mut args = vec!["run", "--rm", "--label", &self.label, "--name", &client];
        if host {
            args.extend(["--network", "host"]);
        }
        let target_text = target.to_string();
        args.extend([
            self.image.as_str(),
            "bench",
            "net",
            "--connect",
            &target_text,
        ]);
        args.extend(["--size", &size, "--duration", &millis]);
        let out = docker_interruptible(&args)?;
        let mut r: NetResult = serde_json::from_str(&out).map_err(|e| Error::Command {
            command: format!("docker run {client}"),
            detail: format!("the client printed no result ({e}): {}", first_line(&out)),
        })?;
        r.mode = mode;
        r.address = target_text;
        let _ = docker(&["rm", "-f", &server]);
        Ok(r)
    }

    fn name(&mut self, role: &str) -> String {
        self.next += 1;
        format!("{}-{role}-{}", self.image, self.next)
    }

    /// The port from the server's `listening on ADDR` line (it may have picked one).
    fn listening_port(&self, server: &str) -> Result<u16> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let logs = docker(&["logs", server])?;
            if let Some(addr) = logs
                .lines()
                .find_map(|l| l.strip_prefix("listening on "))
                .and_then(|a| a.trim().parse::<SocketAddr>().ok())
            {
                return Ok(addr.port());
            }
            if interrupt::requested() || Instant::now() > deadline {
                let state =
                    docker(&["inspect", "-f", "{{.State.Status}}", server]).unwrap_or_default();
                return Err(Error::Command {
                    command: format!("docker run {server}"),
                    detail: format!(
                        "the server never said it was listening (container {}; {})",
                        state.trim(),
                        first_line(&logs)
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        remove_labelled(&self.label);
        let _ = docker(&["rmi", "-f", &self.image]);
        // An image the build made but had not tagged yet carries the label only.
        let ids = docker(&[
            "images",
            "-aq",
            "--filter",
            &format!("label={}", self.label),
        ])
        .unwrap_or_default();
        let mut ids: Vec<&str> = ids.split_whitespace().collect();
        ids.sort_unstable();
        ids.dedup();
        if !ids.is_empty() {
            let mut args = vec!["rmi", "-f"];
            args.extend(ids);
            let _ = docker(&args);
        }
    }
}

/// Loopback or a private (RFC 1918) address: all this bench ever talks to.
fn private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        IpAddr::V6(v6) => v6.is_loopback(),
    }
}

fn remove_labelled(label: &str) {
    let ids = docker(&["ps", "-aq", "--filter", &format!("label={label}")]).unwrap_or_default();
    let ids: Vec<&str> = ids.split_whitespace().collect();
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids);
        let _ = docker(&args);
    }
}

/// The pid in `boxwise-bench-<pid>` or a `boxwise-bench=<pid>` label value.
fn owner_pid(text: &str) -> Option<u32> {
    text.trim()
        .strip_prefix(LABEL)?
        .strip_prefix(['-', '='])?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Containers and images of runs whose process is gone (killed with SIGKILL).
fn remove_stale() {
    let alive = |pid: u32| Path::new("/proc").join(pid.to_string()).exists();
    let format = format!("{{{{.Label \"{LABEL}\"}}}}");
    let labels = docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label={LABEL}"),
        "--format",
        &format,
    ])
    .unwrap_or_default();
    let mut pids: Vec<u32> = labels
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    for pid in pids {
        if !alive(pid) {
            remove_labelled(&format!("{LABEL}={pid}"));
            eprintln!("boxwise: removed containers left by a killed bench run ({pid})");
        }
    }
    let images = docker(&[
        "images",
        "--filter",
        &format!("label={LABEL}"),
        "--format",
        "{{.Repository}}",
    ])
    .unwrap_or_default();
    for repo in images.lines() {
        if owner_pid(repo).is_some_and(|pid| !alive(pid)) {
            let _ = docker(&["rmi", "-f", repo.trim()]);
            eprintln!(
                "boxwise: removed image {}, left by a killed bench run",
                repo.trim()
            );
        }
    }
}

/// A scratch image has no loader: a dynamically linked boxwise could not start in it.
fn check_static(binary: &Path) -> Result<()> {
    let mut head = Vec::new();
    std::fs::File::open(binary)
        .and_then(|f| f.take(1 << 16).read_to_end(&mut head))
        .map_err(|e| Error::Spec(format!("--docker-binary {}: {e}", binary.display())))?;
    match interpreter(&head) {
        Some(true) => Err(Error::Spec(format!(
            "--modes docker puts boxwise in a FROM scratch image, so it must be statically \
             linked, and {} is not; build one with scripts/build-static.sh and pass it with \
             --docker-binary PATH",
            binary.display()
        ))),
        Some(false) => Ok(()),
        None => Err(Error::Spec(format!(
            "--docker-binary {}: not a 64-bit little-endian ELF program",
            binary.display()
        ))),
    }
}

/// A file named with `--docker-binary` must be a boxwise: anything else would start in
/// the container and never serve, which shows only after a long wait. Asked by running
/// it with `--version` (it is about to run in a container anyway), for at most 5 s.
fn check_boxwise(binary: &Path) -> Result<()> {
    let refuse = |why: String| Error::Spec(format!("--docker-binary {}: {why}", binary.display()));
    let mut child = Command::new(binary)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| refuse(format!("cannot run it ({e})")))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(refuse("`--version` did not answer within 5 s".into()));
            }
        }
    }
    let mut text = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = out.take(4096).read_to_string(&mut text);
    }
    if is_boxwise_version(&text) {
        Ok(())
    } else {
        let said = match first_line(&text) {
            l if l.is_empty() => "nothing".to_string(),
            l => format!("{:?}", l.chars().take(30).collect::<String>()),
        };
        Err(refuse(format!(
            "not a boxwise program (its --version printed {said})"
        )))
    }
}

/// boxwise's `--version` line: `boxwise X.Y.Z`.
fn is_boxwise_version(text: &str) -> bool {
    text.lines().next().is_some_and(|l| {
        l.trim()
            .strip_prefix("boxwise ")
            .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// Whether an ELF64 (little-endian) file asks for a program interpreter (`PT_INTERP`),
/// as every dynamically linked program does; `None` when it is no such ELF.
fn interpreter(head: &[u8]) -> Option<bool> {
    if head.get(..4)? != b"\x7fELF" || *head.get(4)? != 2 || *head.get(5)? != 1 {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(head.get(o..o + 2)?.try_into().ok()?));
    let phoff = u64::from_le_bytes(head.get(32..40)?.try_into().ok()?) as usize;
    let entsize = u16_at(54)? as usize;
    let count = u16_at(56)? as usize;
    for i in 0..count {
        let at = phoff.checked_add(i.checked_mul(entsize)?)?;
        let p_type = u32::from_le_bytes(head.get(at..at + 4)?.try_into().ok()?);
        if p_type == 3 {
            return Some(true);
        }
    }
    Some(false)
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// Each docker command runs in its own process group: a Ctrl-C sent to boxwise's group
/// must not kill a `docker build` half-way (the engine may still tag the image after
/// boxwise has removed what it knew of); boxwise ends the long ones itself.
fn docker_command(args: &[&str]) -> (String, Command) {
    use std::os::unix::process::CommandExt as _;
    let mut cmd = Command::new("docker");
    cmd.args(args).stdin(Stdio::null()).process_group(0);
    (format!("docker {}", args.join(" ")), cmd)
}

/// Run `docker ARGS`, returning its stdout; a failure names the command and the first
/// line docker said.
fn docker(args: &[&str]) -> Result<String> {
    let (command, mut cmd) = docker_command(args);
    let out = cmd.output().map_err(|e| Error::Command {
        command: command.clone(),
        detail: format!("{e} (is the docker command installed?)"),
    })?;
    finish(command, out.status, out.stdout, &out.stderr)
}

/// [`docker`] for a long run: Ctrl-C in boxwise removes the run's containers (which ends
/// the command) instead of waiting for the measurement to finish.
fn docker_interruptible(args: &[&str]) -> Result<String> {
    let (command, mut cmd) = docker_command(args);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Command {
            command: command.clone(),
            detail: format!("{e} (is the docker command installed?)"),
        })?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut b);
        }
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut b);
        }
        b
    });
    let label = args
        .windows(2)
        .find(|w| w[0] == "--label")
        .map(|w| w[1].to_string());
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| Error::Command {
            command: command.clone(),
            detail: e.to_string(),
        })? {
            break status;
        }
        if interrupt::requested() {
            if let Some(label) = &label {
                remove_labelled(label);
            }
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Interrupted);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    finish(command, status, stdout, &stderr)
}

fn finish(
    command: String,
    status: std::process::ExitStatus,
    stdout: Vec<u8>,
    stderr: &[u8],
) -> Result<String> {
    if status.success() {
        Ok(String::from_utf8_lossy(&stdout).into_owned())
    } else {
        Err(Error::Command {
            command,
            detail: format!(
                "{status} ({})",
                first_line(&String::from_utf8_lossy(stderr))
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A minimal ELF64 header with `types` as its program headers.
    fn elf(types: &[u32]) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[32..40].copy_from_slice(&64u64.to_le_bytes());
        h[54..56].copy_from_slice(&56u16.to_le_bytes());
        h[56..58].copy_from_slice(&(types.len() as u16).to_le_bytes());
        for t in types {
            let mut ph = vec![0u8; 56];
            ph[..4].copy_from_slice(&t.to_le_bytes());
            h.extend(ph);
        }
        h
    }

    #[test]
    fn static_and_dynamic_programs() {
        assert_eq!(interpreter(&elf(&[6, 3, 1])), Some(true));
        assert_eq!(interpreter(&elf(&[1, 1, 4])), Some(false));
        assert_eq!(interpreter(b"#!/bin/sh\n"), None);
        // Program headers past the end: not an answer.
        let mut cut = elf(&[1, 3]);
        cut.truncate(100);
        assert_eq!(interpreter(&cut), None);
        // This test binary is dynamically linked or static; either way it is an ELF.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(interpreter(&me).is_some());
    }

    #[test]
    fn boxwise_version_lines() {
        assert!(is_boxwise_version("boxwise 0.1.0\n"));
        assert!(!is_boxwise_version(
            "BusyBox v1.35.0 (Debian) multi-call binary.\n"
        ));
        assert!(!is_boxwise_version(""));
        assert!(!is_boxwise_version("boxwise: error\n"));
    }

    #[test]
    fn owner_pids() {
        assert_eq!(owner_pid("boxwise-bench-4242"), Some(4242));
        assert_eq!(owner_pid("boxwise-bench=17"), Some(17));
        assert_eq!(owner_pid("boxwise-bench-x"), None);
        assert_eq!(owner_pid("other-4242"), None);
    }

    #[test]
    fn only_private_addresses() {
        for ok in ["127.0.0.1", "172.17.0.2", "10.0.0.1", "192.168.1.2", "::1"] {
            assert!(private(ok.parse().unwrap()), "{ok}");
        }
        for bad in ["8.8.8.8", "172.32.0.1", "2001:db8::1"] {
            assert!(!private(bad.parse().unwrap()), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn interpreter_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = interpreter(&bytes);
        }
    }
}
