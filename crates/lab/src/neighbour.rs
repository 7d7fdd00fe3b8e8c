//! A noisy neighbour (`run --neighbour cpu=1,memory=256m`): competing load in a sibling
//! cgroup for as long as the workload runs, as another tenant on the same node would be.
//! The spinners are forked copies of boxwise that never exec: they only make system calls
//! (write, mmap) and spin, which is safe after fork in a threaded process.

use std::io::Write as _;

use boxwise_box::cgroup::Controller;
use boxwise_box::layout::Layout;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork};

use crate::cgroup::Transient;
use crate::error::{Error, Result};
use crate::spec::{self, CPU_PERIOD_US};
use crate::stats::AppliedLimits;

/// What the neighbour burns: CPUs' worth of spinning, and memory held (touched) throughout.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Neighbour {
    pub cpus: Option<f64>,
    pub memory: Option<u64>,
}

/// Most memory a neighbour may hold: bounded, so a typo cannot take the machine down.
const MAX_MEMORY: u64 = 64 << 30;

/// Parse `cpu=1`, `memory=256m`, `cpu=0.5,memory=1g` (`cpus` accepted too).
pub fn parse(text: &str, size: impl Fn(&str) -> Option<u64>) -> Result<Neighbour> {
    let bad = |why: &str| Error::Spec(format!("--neighbour {text:?}: {why}"));
    let mut n = Neighbour::default();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| bad("expected cpu=N and/or memory=SIZE"))?;
        match key.trim() {
            "cpu" | "cpus" => {
                let cpus: f64 = value
                    .trim()
                    .parse()
                    .map_err(|_| bad("cpu: expected a number"))?;
                spec::cpu_quota_us(cpus).map_err(|e| bad(&e.to_string()))?;
                if cpus > 256.0 {
                    return Err(bad("cpu: at most 256"));
                }
                n.cpus = Some(cpus);
            }
            "memory" => {
                let b = size(value.trim())
                    .filter(|&b| b > 0 && b <= MAX_MEMORY)
                    .ok_or_else(|| bad("memory: expected a size from 1 byte to 64g"))?;
                n.memory = Some(b);
            }
            other => {
                return Err(bad(&format!(
                    "unknown key {other:?}; expected cpu or memory"
                )));
            }
        }
    }
    if n.cpus.is_none() && n.memory.is_none() {
        return Err(bad("expected cpu=N and/or memory=SIZE"));
    }
    Ok(n)
}

/// The running neighbour: its cgroup and processes, all gone on drop.
pub struct Running {
    cgroup: Transient,
    children: Vec<Pid>,
}

impl Running {
    pub fn start(
        layout: &Layout,
        parent: Option<&std::path::Path>,
        n: Neighbour,
    ) -> Result<Running> {
        let cgroup = Transient::create(layout, &[Controller::Cpu, Controller::Memory], parent)?;
        let quota = n.cpus.map(spec::cpu_quota_us).transpose()?;
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

impl Drop for Running {
    fn drop(&mut self) {
        for &pid in &self.children {
            let _ = kill(pid, Signal::SIGKILL);
        }
        for &pid in &self.children {
            let _ = waitpid(pid, None);
        }
        self.cgroup.kill_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mib(s: &str) -> Option<u64> {
        s.strip_suffix('m')?.parse::<u64>().ok().map(|n| n << 20)
    }

    #[test]
    fn parses() {
        assert_eq!(
            parse("cpu=1", mib).unwrap(),
            Neighbour {
                cpus: Some(1.0),
                memory: None
            }
        );
        assert_eq!(
            parse("cpus=0.5, memory=256m", mib).unwrap(),
            Neighbour {
                cpus: Some(0.5),
                memory: Some(256 << 20)
            }
        );
        for bad in ["", "cpu", "cpu=0", "cpu=1000", "memory=0m", "disk=1"] {
            let e = parse(bad, mib).unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse(&s, mib);
        }
    }
}
