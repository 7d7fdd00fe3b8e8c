//! Starting and stopping a noisy neighbour (`run --neighbour`): forked spinners that hold
//! memory, in a sibling cgroup, removed with the run. The spinners are forked copies of
//! boxwise that never exec: they only make system calls (write, mmap) and spin, which is
//! safe after fork in a threaded process.

use std::io::Write as _;

use boxwise_box::cgroup::Controller;
use boxwise_box::layout::Layout;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork};

use crate::cgroup::Transient;
use crate::error::{Error, Result};
use crate::neighbour::Neighbour;
use crate::quota::{CPU_PERIOD_US, cpu_quota_us};
use crate::stats::{AppliedLimits, NeighbourStats};

/// The running neighbour: its cgroup and processes, all gone on drop.
pub struct Running {
    cgroup: Transient,
    children: Vec<Pid>,
    asked: Neighbour,
}

impl Running {
    pub fn start(
        layout: &Layout,
        parent: Option<&std::path::Path>,
        n: Neighbour,
    ) -> Result<Running> {
        let mut controllers = vec![Controller::Cpu, Controller::Memory];
        if layout.controller(Controller::Cpuacct).is_some() {
            controllers.push(Controller::Cpuacct);
        }
        let cgroup = Transient::create(layout, &controllers, parent)?;
        let quota = n.cpus.map(cpu_quota_us).transpose()?;
        cgroup.apply(
            AppliedLimits {
                cpus: n.cpus,
                cpu_quota_us: quota,
                cpu_period_us: quota.map(|_| CPU_PERIOD_US),
                ..AppliedLimits::default()
            },
            false,
        )?;
        let mut running = Running {
            cgroup,
            children: Vec::new(),
            asked: n,
        };
        let spinners = n.cpus.map_or(0, |c| c.ceil() as usize);
        // One process holds the memory (and spins if there are spinners at all).
        let count = spinners.max(usize::from(n.memory.is_some()));
        for i in 0..count {
            let procs = running.cgroup.procs_files()?;
            let memory = if i == 0 { n.memory } else { None };
            let spin = i < spinners;
            // SAFETY: the child only makes system calls (write, mmap) and loops; it never
            // returns into Rust code that could take a lock held by another thread.
            match unsafe { fork() }.map_err(|e| Error::Spec(format!("neighbour: fork: {e}")))? {
                ForkResult::Child => child(procs, memory, spin),
                ForkResult::Parent { child } => running.children.push(child),
            }
        }
        Ok(running)
    }
}

fn child(procs: Vec<std::fs::File>, memory: Option<u64>, spin: bool) -> ! {
    // A neighbour never outlives the run that started it, even one killed with SIGKILL.
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() {
        // SAFETY: _exit is async-signal-safe.
        unsafe { nix::libc::_exit(1) };
    }
    for mut f in procs {
        if f.write_all(b"0").is_err() {
            // SAFETY: _exit is async-signal-safe.
            unsafe { nix::libc::_exit(1) };
        }
    }
    if let Some(bytes) = memory {
        // SAFETY: a fresh anonymous private mapping, touched page by page.
        unsafe {
            let p = nix::libc::mmap(
                std::ptr::null_mut(),
                bytes as usize,
                nix::libc::PROT_READ | nix::libc::PROT_WRITE,
                nix::libc::MAP_PRIVATE | nix::libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if p != nix::libc::MAP_FAILED {
                let p = p as *mut u8;
                let mut off = 0usize;
                while off < bytes as usize {
                    std::ptr::write_volatile(p.add(off), 1);
                    off += 4096;
                }
            }
        }
    }
    loop {
        if spin {
            std::hint::spin_loop();
        } else {
            // SAFETY: pause(2) is async-signal-safe.
            unsafe { nix::libc::pause() };
        }
    }
}

impl Running {
    /// Stop the neighbour and say what it used; its cgroup goes with `self`.
    pub fn finish(mut self) -> NeighbourStats {
        self.stop();
        let used = self.cgroup.counters();
        NeighbourStats {
            cpus: self.asked.cpus,
            memory_bytes: self.asked.memory,
            cpu_seconds: used.cpu_seconds,
            peak_memory_bytes: used.peak_memory_bytes,
        }
    }

    /// Kill and reap the spinners (once: a reaped pid may belong to someone else next).
    fn stop(&mut self) {
        for &pid in &self.children {
            let _ = kill(pid, Signal::SIGKILL);
        }
        for pid in self.children.drain(..) {
            let _ = waitpid(pid, None);
        }
        self.cgroup.kill_all();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}
