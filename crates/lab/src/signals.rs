//! SIGINT, SIGTERM, SIGHUP and SIGQUIT forwarding while workloads run: Ctrl-C, `kill`,
//! a closed terminal and Ctrl-\\ all reach the workload, and boxwise stays alive to remove
//! its cgroup once the workload has gone (left at their defaults, SIGHUP and SIGQUIT would
//! kill boxwise and leave both behind).
//!
//! The handler itself sends the signal on to every registered child (kill(2) is
//! async-signal-safe), so no thread has to wake up for it. The first signal is forwarded
//! as is; a second one is sent as SIGKILL, for commands that ignore the first (a shell
//! that is PID 1 of its own pid namespace ignores signals it has no handler for). The
//! previous handlers come back when the last [`Forwarding`] guard is dropped.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use nix::libc;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// Children that concurrent runs have registered (0 = free slot).
const SLOTS: usize = 64;
static CHILDREN: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];
/// Signals received since the handlers were installed.
static RECEIVED: AtomicU32 = AtomicU32::new(0);
/// The first of them, for children registered after it arrived.
static FIRST: AtomicI32 = AtomicI32::new(0);

const FORWARDED: [Signal; 4] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

struct Installed {
    users: usize,
    previous: Vec<(Signal, SigAction)>,
}

static STATE: Mutex<Option<Installed>> = Mutex::new(None);

extern "C" fn forward(sig: libc::c_int) {
    let seen = RECEIVED.fetch_add(1, Ordering::SeqCst);
    let _ = FIRST.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
    let sig = if seen == 0 { sig } else { libc::SIGKILL };
    for slot in &CHILDREN {
        let pid = slot.load(Ordering::SeqCst);
        if pid > 0 {
            // SAFETY: kill(2) is async-signal-safe.
            unsafe { libc::kill(pid, sig) };
        }
    }
}

/// While alive, SIGINT, SIGTERM, SIGHUP and SIGQUIT are forwarded to registered children.
#[must_use]
pub struct Forwarding(());

impl Forwarding {
    pub fn install() -> Forwarding {
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        match state.as_mut() {
            Some(installed) => installed.users += 1,
            None => {
                RECEIVED.store(0, Ordering::SeqCst);
                FIRST.store(0, Ordering::SeqCst);
                let action = SigAction::new(
                    SigHandler::Handler(forward),
                    SaFlags::SA_RESTART,
                    SigSet::empty(),
                );
                let previous = FORWARDED
                    .iter()
                    // SAFETY: `forward` only touches atomics and calls kill(2).
                    .filter_map(|&s| unsafe { sigaction(s, &action) }.ok().map(|old| (s, old)))
                    .collect();
                *state = Some(Installed { users: 1, previous });
            }
        }
        Forwarding(())
    }

    /// The first signal received since installation, if any: a caller running several
    /// workloads (sweep) should stop starting new ones.
    pub fn interrupted(&self) -> Option<i32> {
        Some(FIRST.load(Ordering::SeqCst)).filter(|&s| s != 0)
    }

    /// Forward signals to `pid` until the returned guard is dropped. A signal that came
    /// before the child existed is delivered now.
    pub fn register(&self, pid: u32) -> Registration {
        let pid = pid as i32;
        let slot = CHILDREN.iter().position(|s| {
            s.compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        });
        if let Some(sig) = self.interrupted() {
            // SAFETY: a plain kill(2) of our own child.
            unsafe { libc::kill(pid, sig) };
        }
        Registration { slot }
    }
}

impl Drop for Forwarding {
    fn drop(&mut self) {
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(installed) = state.as_mut() {
            installed.users -= 1;
            if installed.users == 0 {
                for (sig, old) in &installed.previous {
                    // SAFETY: restores the handler that was there before.
                    let _ = unsafe { sigaction(*sig, old) };
                }
                *state = None;
            }
        }
    }
}

/// A child's place in the forwarding table; dropping it stops forwarding to the pid.
pub struct Registration {
    slot: Option<usize>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            CHILDREN[i].store(0, Ordering::SeqCst);
        }
    }
}
