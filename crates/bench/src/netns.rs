//! The network plumbing for `bench net`, made and removed by boxwise: named network
//! namespaces (`/run/netns/boxwise-<pid>-<role>`), veth pairs created directly inside
//! them, a Linux bridge and an nftables DNAT rule inside a namespace playing the host.
//! Nothing is created in boxwise's own namespace, so `ip link` there never changes, and
//! deleting the namespaces removes every link, bridge and rule with them.
//!
//! This shells out to iproute2's `ip` and to `nft` (Debian packages iproute2 and nftables):
//! doing it over netlink natively is left for later, so a static boxwise in a bare image
//! can measure only the `host` mode.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};
use crate::spec::NetMode;

const NETNS_DIR: &str = "/run/netns";
const PREFIX: &str = "boxwise-";

/// Where the server listens and the client connects from, and the namespaces to remove.
pub struct Topology {
    pub server_ns: Option<PathBuf>,
    pub client_ns: Option<PathBuf>,
    /// The address the client dials (the server's own, or the "host's" published one).
    pub connect_ip: IpAddr,
    /// The namespace that NATs a published port (bridge mode).
    nat_ns: Option<String>,
    names: Vec<String>,
}

/// The pid in one of boxwise's namespace names (`boxwise-<pid>-<role>`).
fn owner_pid(name: &str) -> Option<u32> {
    name.strip_prefix(PREFIX)?.split_once('-')?.0.parse().ok()
}

/// Delete the namespaces of bench runs whose process is gone (killed with SIGKILL, so its
/// drops never ran). Returns their names.
pub fn remove_stale() -> Vec<String> {
    leftovers()
        .into_iter()
        .filter(|n| owner_pid(n).is_some_and(|pid| !path_of_pid(pid).exists()))
        .filter(|n| ip(&["netns", "del", n]).is_ok())
        .collect()
}

fn path_of_pid(pid: u32) -> PathBuf {
    PathBuf::from("/proc").join(pid.to_string())
}

impl Topology {
    pub fn create(mode: NetMode) -> Result<Topology> {
        if mode != NetMode::Host {
            for name in remove_stale() {
                eprintln!("boxwise: removed network namespace {name}, left by a killed run");
            }
        }
        let mut t = Topology {
            server_ns: None,
            client_ns: None,
            connect_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            nat_ns: None,
            names: Vec::new(),
        };
        match mode {
            // Docker's modes are measured between containers (crate::docker).
            NetMode::Host | NetMode::DockerBridge | NetMode::DockerHost => {}
            NetMode::Veth => {
                let a = t.namespace("srv")?;
                let b = t.namespace("cli")?;
                ip(&[
                    "-n", &a, "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns",
                    &b,
                ])?;
                ip(&["-n", &a, "addr", "add", "10.231.0.1/24", "dev", "v0"])?;
                ip(&["-n", &a, "link", "set", "v0", "up"])?;
                ip(&["-n", &b, "addr", "add", "10.231.0.2/24", "dev", "v1"])?;
                ip(&["-n", &b, "link", "set", "v1", "up"])?;
                t.server_ns = Some(path(&a));
                t.client_ns = Some(path(&b));
                t.connect_ip = IpAddr::V4(Ipv4Addr::new(10, 231, 0, 1));
            }
            NetMode::Bridge => {
                // h: the "host" with the bridge and the NAT; s: the container; c: a client
                // outside, reaching the container through a published port.
                let h = t.namespace("host")?;
                let s = t.namespace("srv")?;
                let c = t.namespace("cli")?;
                ip(&["-n", &h, "link", "add", "br0", "type", "bridge"])?;
                ip(&["-n", &h, "addr", "add", "10.231.1.1/24", "dev", "br0"])?;
                ip(&["-n", &h, "link", "set", "br0", "up"])?;
                ip(&[
                    "-n", &h, "link", "add", "vs", "type", "veth", "peer", "name", "eth0", "netns",
                    &s,
                ])?;
                ip(&["-n", &h, "link", "set", "vs", "master", "br0", "up"])?;
                ip(&["-n", &s, "addr", "add", "10.231.1.2/24", "dev", "eth0"])?;
                ip(&["-n", &s, "link", "set", "eth0", "up"])?;
                ip(&["-n", &s, "route", "add", "default", "via", "10.231.1.1"])?;
                ip(&[
                    "-n", &h, "link", "add", "vc", "type", "veth", "peer", "name", "eth0", "netns",
                    &c,
                ])?;
                ip(&["-n", &h, "addr", "add", "10.231.2.1/24", "dev", "vc"])?;
                ip(&["-n", &h, "link", "set", "vc", "up"])?;
                ip(&["-n", &c, "addr", "add", "10.231.2.2/24", "dev", "eth0"])?;
                ip(&["-n", &c, "link", "set", "eth0", "up"])?;
                ip(&["-n", &c, "route", "add", "default", "via", "10.231.2.1"])?;
                forwarding_on(&h)?;
                t.server_ns = Some(path(&s));
                t.client_ns = Some(path(&c));
                t.connect_ip = IpAddr::V4(Ipv4Addr::new(10, 231, 2, 1));
                t.nat_ns = Some(h);
            }
        }
        Ok(t)
    }

    /// Publish the server's port on the host namespace's address, as `docker run -p` does:
    /// DNAT to the container and masquerade what the container sends out.
    pub fn publish(&self, port: u16) -> Result<()> {
        let Some(h) = &self.nat_ns else { return Ok(()) };
        let rules = format!(
            "table ip boxwise {{\n\
             chain pre {{ type nat hook prerouting priority -100; tcp dport {port} dnat to 10.231.1.2:{port}; }}\n\
             chain post {{ type nat hook postrouting priority 100; ip saddr 10.231.1.0/24 oifname != \"br0\" masquerade; }}\n\
             }}\n"
        );
        run_with_input("ip", &["netns", "exec", h, "nft", "-f", "-"], &rules)
    }

    /// Add a namespace and remember it for removal before anything goes into it.
    fn namespace(&mut self, role: &str) -> Result<String> {
        let name = format!("{PREFIX}{}-{role}", std::process::id());
        ip(&["netns", "add", &name])?;
        self.names.push(name.clone());
        ip(&["-n", &name, "link", "set", "lo", "up"])?;
        Ok(name)
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for name in self.names.iter().rev() {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

fn path(name: &str) -> PathBuf {
    PathBuf::from(NETNS_DIR).join(name)
}

/// net.ipv4.ip_forward=1 in namespace `name`: /proc/sys/net belongs to the opening
/// thread's namespace, so a short-lived thread enters it and writes the file.
fn forwarding_on(name: &str) -> Result<()> {
    let ns = path(name);
    std::thread::scope(|s| {
        s.spawn(|| -> Result<()> {
            let file = std::fs::File::open(&ns)
                .map_err(|e| Error::file(&ns, "cannot open namespace", e))?;
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(|e| Error::file(&ns, "setns", e.into()))?;
            let sysctl = "/proc/sys/net/ipv4/ip_forward";
            std::fs::write(sysctl, "1").map_err(|e| Error::file(sysctl, "write", e))
        })
        .join()
        .unwrap_or_else(|_| Err(Error::Spec("the sysctl thread panicked".into())))
    })
}

fn ip(args: &[&str]) -> Result<()> {
    run_with_input("ip", args, "")
}

fn run_with_input(program: &str, args: &[&str], input: &str) -> Result<()> {
    use std::io::Write as _;
    let command = format!("{program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Command {
            command: command.clone(),
            detail: format!("{e} (is iproute2/nftables installed?)"),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| Error::Command {
        command: command.clone(),
        detail: e.to_string(),
    })?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or("").trim().to_string();
        Err(Error::Command {
            command,
            detail: format!("{} ({first})", out.status),
        })
    }
}

/// boxwise's namespaces still present under /run/netns (any pid): what a test expects to
/// be empty once a run is over.
pub fn leftovers() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(NETNS_DIR) else {
        return Vec::new();
    };
    let mut out: Vec<String> = dir
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(PREFIX))
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod stale_tests {
    use super::owner_pid;

    #[test]
    fn owner_pid_reads_only_our_names() {
        assert_eq!(owner_pid("boxwise-4242-srv"), Some(4242));
        assert_eq!(owner_pid("boxwise-4242-nat-host"), Some(4242));
        assert_eq!(owner_pid("boxwise-x-srv"), None);
        assert_eq!(owner_pid("other-4242-srv"), None);
        assert_eq!(owner_pid("boxwise-4242"), None);
    }
}
