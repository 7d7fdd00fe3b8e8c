//! New namespaces for the workload.
//!
//! A pid namespace applies to the children of the task that unshares it, not to the task
//! itself, so [`spawn`] unshares it in a short-lived thread of boxwise (namespaces are per
//! thread) and forks the command from there: the command is PID 1 of the new namespace.
//! Everything else happens in the child between fork and exec ([`Setup::enter`]): the other
//! namespaces, private mount propagation, a fresh `/proc` for the pid namespace, and `lo` up
//! in a new network namespace. That code only makes system calls: no allocation, no locks.

use std::io;
use std::process::{Child, Command};

use nix::libc;
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};

use crate::spec::{Isolation, Namespace};

/// What the child does to itself before exec; `Copy`, so the closure owns no heap data.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    isolation: Isolation,
}

impl Setup {
    pub fn new(isolation: Isolation) -> Setup {
        Setup { isolation }
    }

    /// Runs in the forked child: only async-signal-safe system calls.
    pub fn enter(&self) -> io::Result<()> {
        let has = |ns| self.isolation.has(ns);
        let mut flags = CloneFlags::empty();
        for (ns, flag) in [
            (Namespace::Mount, CloneFlags::CLONE_NEWNS),
            (Namespace::Uts, CloneFlags::CLONE_NEWUTS),
            (Namespace::Ipc, CloneFlags::CLONE_NEWIPC),
            (Namespace::Net, CloneFlags::CLONE_NEWNET),
        ] {
            if has(ns) {
                flags |= flag;
            }
        }
        if flags.is_empty() {
            return Ok(());
        }
        unshare(flags).map_err(errno)?;
        if has(Namespace::Mount) {
            // Without this, mounts made here (the new /proc) would propagate to the host.
            mount(
                None::<&str>,
                c"/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&str>,
            )
            .map_err(errno)?;
        }
        if has(Namespace::Pid) {
            mount(
                Some(c"proc"),
                c"/proc",
                Some(c"proc"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                None::<&str>,
            )
            .map_err(errno)?;
        }
        if has(Namespace::Net) {
            loopback_up()?;
        }
        Ok(())
    }
}

/// Start `cmd`, in a new pid namespace if asked.
pub fn spawn(cmd: &mut Command, isolation: Isolation) -> io::Result<Child> {
    if !isolation.has(Namespace::Pid) {
        return cmd.spawn();
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // Only this thread's future children land in the new namespace; the
                // thread ends right after the fork.
                unshare(CloneFlags::CLONE_NEWPID)
                    .map_err(|e| io::Error::other(format!("cannot create a pid namespace: {e}")))?;
                cmd.spawn()
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the spawning thread panicked")))
    })
}

fn errno(e: nix::errno::Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// `ip link set lo up`, with the one ioctl it takes.
fn loopback_up() -> io::Result<()> {
    // SAFETY: plain system calls on a socket this function owns; `req` is a zeroed ifreq
    // with a NUL-terminated name, as SIOCGIFFLAGS/SIOCSIFFLAGS expect.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        let mut rc = libc::ioctl(fd, libc::SIOCGIFFLAGS as _, &mut req);
        if rc == 0 {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            rc = libc::ioctl(fd, libc::SIOCSIFFLAGS as _, &req);
        }
        let result = if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        };
        libc::close(fd);
        result
    }
}
