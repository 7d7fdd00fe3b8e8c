//! What the syscall tracepoints cost before our programs do any work: the floor under
//! `boxwise syscalls`' overhead. Attaching any program to `sys_enter`/`sys_exit` sends every
//! task through the kernel's syscall slow path, so a run with empty programs attached
//! separates that price from the price of counting. Used by `examples/floor.rs`
//! (scripts/bench-syscalls.sh); not part of the CLI.

use std::ffi::{CString, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use crate::asm::{self, Filter};
use crate::session::{self, Options, Target};
use crate::sys::{self, GatedChild, Hook, PidFd, Prog};

/// What is attached while the command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Nothing: the untraced run.
    Bare,
    /// `return 0` on both tracepoints.
    Empty,
    /// `return 0` as fentry and fexit programs on `x64_sys_call` (BPF trampolines, which
    /// leave the syscall fast path alone).
    EmptyFentry,
    /// Only the tgid check on both tracepoints.
    Filter,
    /// The tgid check and a clock read on both tracepoints (what timing every call costs).
    FilterKtime,
    /// `boxwise syscalls` (counts and time).
    Counts,
    /// `boxwise syscalls --latency`.
    Latency,
}

impl Variant {
    pub const ALL: [Variant; 7] = [
        Variant::Bare,
        Variant::Empty,
        Variant::EmptyFentry,
        Variant::Filter,
        Variant::FilterKtime,
        Variant::Counts,
        Variant::Latency,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Bare => "bare",
            Variant::Empty => "empty programs",
            Variant::EmptyFentry => "empty fentry/fexit programs",
            Variant::Filter => "tgid check only",
            Variant::Counts => "boxwise syscalls",
            Variant::FilterKtime => "tgid check + clock read",
            Variant::Latency => "boxwise syscalls --latency",
        }
    }
}

/// One run's wall time (release to exit) and the command's CPU time (user + system, which
/// includes the BPF programs: they run in the calling thread).
#[derive(Debug, Clone, Copy)]
pub struct Measure {
    pub wall: Duration,
    pub cpu: Duration,
}

/// Runs `argv` once with `variant` attached.
pub fn run(variant: Variant, argv: &[OsString]) -> io::Result<Measure> {
    let before = sys::children_cpu();
    let wall = run_wall(variant, argv)?;
    Ok(Measure {
        wall,
        cpu: sys::children_cpu().saturating_sub(before),
    })
}

/// Counts and Latency go through [`session::trace`] itself (its own measure of the same span).
fn run_wall(variant: Variant, argv: &[OsString]) -> io::Result<Duration> {
    let traced = |latency| {
        let opts = Options {
            target: Target::Command(argv.to_vec()),
            duration: None,
            follow_children: false,
            latency,
            by_thread: false,
        };
        session::trace(&opts, |_| {})
            .map(|o| o.wall)
            .map_err(|e| io::Error::other(e.to_string()))
    };
    match variant {
        Variant::Counts => return traced(false),
        Variant::Latency => return traced(true),
        _ => {}
    }
    let path = session::resolve(&argv[0]).map_err(|e| io::Error::other(e.to_string()))?;
    let path = CString::new(path.as_os_str().as_bytes())?;
    let args = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let _trampolines = if variant == Variant::EmptyFentry {
        let btf = std::fs::read("/sys/kernel/btf/vmlinux")?;
        let id = crate::btf::func_id(&btf, "x64_sys_call")
            .ok_or_else(|| io::Error::other("x64_sys_call is not in the kernel's BTF"))?;
        let e = Prog::load_for(&asm::empty(), "bw_floor_fentry", Hook::Fentry(id))
            .map_err(|e| io::Error::other(format!("loading fentry (btf id {id}): {e}")))?;
        let x = Prog::load_for(&asm::empty(), "bw_floor_fexit", Hook::Fexit(id))?;
        let lx = x
            .attach_trampoline()
            .map_err(|e| io::Error::other(format!("attaching fexit: {e}")))?;
        Some((lx, e.attach_trampoline()?, e, x))
    } else {
        None
    };
    let mut child = GatedChild::spawn(&path, &args)?;
    let progs = match variant {
        Variant::Empty => Some((asm::empty(), asm::empty())),
        Variant::Filter => {
            let f = Filter::Tgid(child.pid as u32);
            Some((asm::filter_only(f), asm::filter_only(f)))
        }
        Variant::FilterKtime => {
            let f = Filter::Tgid(child.pid as u32);
            Some((asm::filter_ktime(f), asm::filter_ktime(f)))
        }
        _ => None,
    };
    let progs = progs
        .map(|(e, x)| -> io::Result<_> {
            Ok((
                Prog::load(&e, "bw_floor_enter")?,
                Prog::load(&x, "bw_floor_exit")?,
            ))
        })
        .transpose()?;
    let _links = progs
        .as_ref()
        .map(|(e, x)| -> io::Result<_> { Ok((x.attach("sys_exit")?, e.attach("sys_enter")?)) })
        .transpose()?;
    let pidfd = PidFd::open(child.pid)?;
    let started = Instant::now();
    if let Some(errno) = child.release()? {
        return Err(io::Error::from_raw_os_error(errno));
    }
    loop {
        if child.try_wait()?.is_some() {
            return Ok(started.elapsed());
        }
        pidfd.wait(200);
    }
}
