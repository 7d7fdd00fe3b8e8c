//! The only unsafe code: bpf(2) maps, programs and raw-tracepoint links, and the fork with a
//! pipe gate that holds a command before `execve`. Every handle owns its fd and closes it on
//! drop, so an early return, a Ctrl-C or a panic never leaves a BPF object attached.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

const BPF_MAP_CREATE: libc::c_int = 0;
const BPF_MAP_LOOKUP_ELEM: libc::c_int = 1;
const BPF_MAP_UPDATE_ELEM: libc::c_int = 2;
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_RAW_TRACEPOINT_OPEN: libc::c_int = 17;
const BPF_PROG_TYPE_RAW_TRACEPOINT: u32 = 17;
const BPF_PROG_TYPE_TRACING: u32 = 26;
const BPF_TRACE_FENTRY: u32 = 24;
const BPF_TRACE_FEXIT: u32 = 25;

/// Where a program will attach, which the kernel needs to know at load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// A raw tracepoint (sys_enter, sys_exit, sched_switch), named at attach time.
    RawTracepoint,
    /// A BPF trampoline at the entry of the kernel function with this BTF type id.
    Fentry(u32),
    /// A BPF trampoline at the return of the kernel function with this BTF type id.
    Fexit(u32),
}

/// Map kinds this crate uses.
#[derive(Debug, Clone, Copy)]
pub enum MapKind {
    Array = 2,
    PerCpuArray = 6,
}

fn bpf(cmd: libc::c_int, attr: &mut [u64; 16]) -> io::Result<RawFd> {
    // SAFETY: attr is a zeroed, 128-byte bpf_attr whose pointer fields point at live buffers
    // owned by the caller for the duration of the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr.as_mut_ptr(),
            std::mem::size_of_val(attr) as u32,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as RawFd)
    }
}

fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: fd was just returned by bpf(2) and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A BPF map; closed (and freed by the kernel once no program holds it) on drop.
#[derive(Debug)]
pub struct Map {
    fd: OwnedFd,
    value_size: u32,
    per_cpu: bool,
}

impl Map {
    pub fn create(kind: MapKind, value_size: u32, entries: u32, name: &str) -> io::Result<Map> {
        let mut attr = [0u64; 16];
        attr[0] = kind as u64 | (4u64 << 32); // map_type, key_size
        attr[1] = value_size as u64 | ((entries as u64) << 32); // value_size, max_entries
        // map_name at byte 28 (after map_flags, inner_map_fd, numa_node).
        let bytes: &mut [u8; 128] = bytemuck_mut(&mut attr);
        for (i, b) in name.bytes().take(15).enumerate() {
            bytes[28 + i] = b;
        }
        let fd = bpf(BPF_MAP_CREATE, &mut attr)?;
        Ok(Map {
            fd: owned(fd),
            value_size,
            per_cpu: matches!(kind, MapKind::PerCpuArray),
        })
    }

    /// An array the caller reads by mapping it (BPF_F_MMAPABLE): scanning a pid_max-sized
    /// array this way costs one mmap instead of one bpf(2) call per thread id.
    pub fn create_mmapable(value_size: u32, entries: u32, name: &str) -> io::Result<(Map, Mapped)> {
        let mut attr = [0u64; 16];
        attr[0] = MapKind::Array as u64 | (4u64 << 32);
        attr[1] = value_size as u64 | ((entries as u64) << 32);
        attr[2] = 1 << 10; // map_flags = BPF_F_MMAPABLE
        let bytes: &mut [u8; 128] = bytemuck_mut(&mut attr);
        for (i, b) in name.bytes().take(15).enumerate() {
            bytes[28 + i] = b;
        }
        let fd = owned(bpf(BPF_MAP_CREATE, &mut attr)?);
        let len = (value_size as usize * entries as usize).next_multiple_of(4096);
        // SAFETY: mapping the map's own fd read-only, for its whole (page-rounded) size.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok((
            Map {
                fd,
                value_size,
                per_cpu: false,
            },
            Mapped {
                ptr: ptr as *const u8,
                len,
            },
        ))
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The value at `key`: one per possible CPU for per-CPU maps, else one.
    pub fn lookup(&self, key: u32, cpus: usize) -> io::Result<Vec<u8>> {
        let n = if self.per_cpu { cpus } else { 1 };
        let stride = (self.value_size as usize).div_ceil(8) * 8;
        let mut value = vec![0u8; stride * n];
        let mut attr = [0u64; 16];
        attr[0] = self.fd() as u64;
        attr[1] = &key as *const u32 as u64;
        attr[2] = value.as_mut_ptr() as u64;
        bpf(BPF_MAP_LOOKUP_ELEM, &mut attr)?;
        Ok(value)
    }

    /// Writes a 4-byte value (arrays only: the set of traced processes).
    pub fn set_u32(&self, key: u32, value: u32) -> io::Result<()> {
        let mut attr = [0u64; 16];
        attr[0] = self.fd() as u64;
        attr[1] = &key as *const u32 as u64;
        attr[2] = &value as *const u32 as u64;
        bpf(BPF_MAP_UPDATE_ELEM, &mut attr).map(|_| ())
    }
}

/// A read-only mapping of a BPF array, unmapped on drop.
#[derive(Debug)]
pub struct Mapped {
    ptr: *const u8,
    len: usize,
}

impl Mapped {
    /// A copy of the array's bytes as they are now.
    pub fn snapshot(&self) -> Vec<u8> {
        // SAFETY: ptr..ptr+len is our live mapping; the kernel may update it concurrently,
        // which at worst tears one counter (we read after detaching anyway).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }.to_vec()
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what create_mmapable mapped.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}

fn bytemuck_mut(attr: &mut [u64; 16]) -> &mut [u8; 128] {
    // SAFETY: [u64; 16] and [u8; 128] have the same size, and u8 has no alignment needs.
    unsafe { &mut *(attr as *mut [u64; 16] as *mut [u8; 128]) }
}

/// A loaded program; the kernel frees it once this fd and every link using it are closed.
#[derive(Debug)]
pub struct Prog {
    fd: OwnedFd,
}

impl Prog {
    /// Loads a raw-tracepoint program; on a verifier rejection the error carries its log.
    pub fn load(insns: &[u64], name: &str) -> io::Result<Prog> {
        Prog::load_for(insns, name, Hook::RawTracepoint)
    }

    /// Loads a program for `hook`; on a verifier rejection the error carries its log.
    pub fn load_for(insns: &[u64], name: &str, hook: Hook) -> io::Result<Prog> {
        let license = c"GPL";
        let mut log = vec![0u8; 1 << 16];
        let mut attr = [0u64; 16];
        let (prog_type, attach_type, btf_id) = match hook {
            Hook::RawTracepoint => (BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0),
            Hook::Fentry(id) => (BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, id),
            Hook::Fexit(id) => (BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, id),
        };
        attr[0] = prog_type as u64 | ((insns.len() as u64) << 32);
        attr[1] = insns.as_ptr() as u64;
        attr[2] = license.as_ptr() as u64;
        attr[8] = (attach_type as u64) << 32; // expected_attach_type at byte 68
        attr[13] = (btf_id as u64) << 32; // attach_btf_id at byte 108
        let bytes: &mut [u8; 128] = bytemuck_mut(&mut attr);
        for (i, b) in name.bytes().take(15).enumerate() {
            bytes[48 + i] = b;
        }
        match bpf(BPF_PROG_LOAD, &mut attr) {
            Ok(fd) => Ok(Prog { fd: owned(fd) }),
            Err(e)
                if e.raw_os_error() == Some(libc::EACCES)
                    || e.raw_os_error() == Some(libc::EINVAL) =>
            {
                // Load again with the verifier log, for a useful error.
                attr[3] = 1 | ((log.len() as u64) << 32); // log_level, log_size
                attr[4] = log.as_mut_ptr() as u64;
                let _ = bpf(BPF_PROG_LOAD, &mut attr).map(|fd| drop(owned(fd)));
                let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
                let text = String::from_utf8_lossy(&log[..end]);
                let tail: Vec<&str> = text.lines().rev().take(6).collect();
                Err(io::Error::new(
                    e.kind(),
                    format!(
                        "{e}; verifier: {}",
                        tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                    ),
                ))
            }
            Err(e) => Err(e),
        }
    }

    /// Attaches a program loaded for [`Hook::Fentry`] or [`Hook::Fexit`] to the function
    /// it names; detached when the returned link is dropped.
    pub fn attach_trampoline(&self) -> io::Result<Link> {
        let mut attr = [0u64; 16];
        attr[1] = self.fd.as_raw_fd() as u64; // name NULL: the program knows its target
        let fd = bpf(BPF_RAW_TRACEPOINT_OPEN, &mut attr)?;
        Ok(Link { _fd: owned(fd) })
    }

    /// Attaches to a raw tracepoint; detached when the returned link is dropped.
    pub fn attach(&self, tracepoint: &str) -> io::Result<Link> {
        let name = CString::new(tracepoint).map_err(|_| io::ErrorKind::InvalidInput)?;
        let mut attr = [0u64; 16];
        attr[0] = name.as_ptr() as u64;
        attr[1] = self.fd.as_raw_fd() as u64;
        let fd = bpf(BPF_RAW_TRACEPOINT_OPEN, &mut attr)?;
        Ok(Link { _fd: owned(fd) })
    }
}

/// An attached program; closing the fd detaches it.
#[derive(Debug)]
pub struct Link {
    _fd: OwnedFd,
}

/// A forked child blocked before `execve` until [`GatedChild::release`].
#[derive(Debug)]
pub struct GatedChild {
    pub pid: i32,
    gate: Option<OwnedFd>,
    /// Closed by a successful `execve` (close-on-exec); a failed one writes its errno.
    exec_err: Option<OwnedFd>,
    reaped: bool,
}

impl GatedChild {
    /// Forks; the child waits on a pipe, then `execv`s `path` with `argv` and this
    /// process's environment. Everything the child touches is allocated before the fork,
    /// so it only makes async-signal-safe calls.
    pub fn spawn(path: &CString, argv: &[CString]) -> io::Result<GatedChild> {
        let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: fds is a valid two-int array.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let (rd, wr) = (owned(fds[0]), owned(fds[1]));
        let mut efds = [0 as libc::c_int; 2];
        // SAFETY: efds is a valid two-int array.
        if unsafe { libc::pipe2(efds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let (erd, ewr) = (owned(efds[0]), owned(efds[1]));
        // SAFETY: the child only calls close, read, execv, write and _exit (async-signal-safe) on memory
        // prepared before the fork.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            unsafe {
                let mut b = 0u8;
                // Our copy of the write end goes first, or dropping the gate in the
                // parent (an error before release) would never end this read.
                libc::close(wr.as_raw_fd());
                // The write end is closed by the parent (release or drop): one byte means go.
                let n = libc::read(rd.as_raw_fd(), &mut b as *mut u8 as *mut libc::c_void, 1);
                if n == 1 {
                    libc::execv(path.as_ptr(), ptrs.as_ptr());
                    let errno = *libc::__errno_location();
                    libc::write(
                        ewr.as_raw_fd(),
                        &errno as *const libc::c_int as *const libc::c_void,
                        4,
                    );
                    libc::_exit(127);
                }
                libc::_exit(126);
            }
        }
        drop(rd);
        drop(ewr);
        Ok(GatedChild {
            pid,
            gate: Some(wr),
            exec_err: Some(erd),
            reaped: false,
        })
    }

    /// Lets the child run `execve`; `Ok(Some(errno))` when that failed (the child has
    /// then exited 127 and been reaped).
    pub fn release(&mut self) -> io::Result<Option<i32>> {
        if let Some(fd) = self.gate.take() {
            let b = 1u8;
            // SAFETY: fd is our open pipe write end; b outlives the call.
            let n =
                unsafe { libc::write(fd.as_raw_fd(), &b as *const u8 as *const libc::c_void, 1) };
            // EPIPE: the child is gone already (killed by a forwarded signal); the wait
            // collects its status.
            if n != 1 && io::Error::last_os_error().raw_os_error() != Some(libc::EPIPE) {
                return Err(io::Error::last_os_error());
            }
        }
        let Some(fd) = self.exec_err.take() else {
            return Ok(None);
        };
        let mut errno: libc::c_int = 0;
        let n = loop {
            // SAFETY: reading at most 4 bytes into errno, which outlives the call.
            let n = unsafe {
                libc::read(
                    fd.as_raw_fd(),
                    &mut errno as *mut libc::c_int as *mut libc::c_void,
                    4,
                )
            };
            if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            break n;
        };
        if n == 4 {
            let mut status = 0;
            // SAFETY: waiting for our own child, which has exited or is about to.
            unsafe { libc::waitpid(self.pid, &mut status, 0) };
            self.reaped = true;
            return Ok(Some(errno));
        }
        Ok(None)
    }

    /// Non-blocking wait: `Some(exit code)` once the child has ended (128+signal if killed).
    pub fn try_wait(&mut self) -> io::Result<Option<i32>> {
        let mut status = 0;
        // SAFETY: status is a valid int.
        let r = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        if r == 0 {
            return Ok(None);
        }
        self.reaped = true;
        if libc::WIFEXITED(status) {
            Ok(Some(libc::WEXITSTATUS(status)))
        } else {
            Ok(Some(128 + libc::WTERMSIG(status)))
        }
    }
}

impl Drop for GatedChild {
    fn drop(&mut self) {
        // A child never released exits 126 when the gate closes; reap it.
        if self.gate.take().is_some() && !self.reaped {
            let mut status = 0;
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(self.pid, &mut status, 0) };
        }
    }
}

/// A pidfd (Linux 5.3+): readable once the process has exited, so the tracer wakes at
/// once instead of polling.
#[derive(Debug)]
pub struct PidFd(OwnedFd);

impl PidFd {
    pub fn open(pid: i32) -> io::Result<PidFd> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
        let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(PidFd(owned(r as RawFd)))
    }

    /// Waits up to `ms` milliseconds; true once the process has exited. A signal (Ctrl-C)
    /// ends the wait early with false.
    pub fn wait(&self, ms: i32) -> bool {
        let mut p = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        r > 0 && p.revents & libc::POLLIN != 0
    }
}

/// True while a process with this pid exists (signal 0 probes without sending).
pub fn alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 has no effect beyond the permission check.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Signals that stop the trace: Ctrl-C, `kill`, a closed terminal, Ctrl-\\.
const STOPPING: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// The started command's pid while it runs (0 = none): the handler forwards to it.
static CHILD: AtomicI32 = AtomicI32::new(0);
/// How many stopping signals arrived, and the first of them.
static RECEIVED: AtomicU32 = AtomicU32::new(0);
static FIRST: AtomicI32 = AtomicI32::new(0);

/// On SIGINT, SIGTERM, SIGHUP and SIGQUIT: set [`INTERRUPTED`] so the tracer stops, prints
/// and detaches cleanly, and send the signal on to the started command (as `boxwise run`
/// does); a second signal is sent as SIGKILL, for a command that ignores the first.
pub fn catch_interrupts() {
    extern "C" fn on_signal(sig: libc::c_int) {
        let seen = RECEIVED.fetch_add(1, Ordering::SeqCst);
        let _ = FIRST.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
        INTERRUPTED.store(true, Ordering::SeqCst);
        let child = CHILD.load(Ordering::SeqCst);
        if child > 0 {
            let sig = if seen == 0 { sig } else { libc::SIGKILL };
            // SAFETY: kill(2) is async-signal-safe.
            unsafe { libc::kill(child, sig) };
        }
    }
    for sig in STOPPING {
        // SAFETY: the handler only touches atomics and calls kill(2), both
        // async-signal-safe.
        unsafe { libc::signal(sig, on_signal as *const () as libc::sighandler_t) };
    }
}

/// Forward stopping signals to `pid` from now on; one that came before is delivered now.
pub fn forward_to(pid: i32) {
    CHILD.store(pid, Ordering::SeqCst);
    let first = FIRST.load(Ordering::SeqCst);
    if first != 0 {
        // SAFETY: a plain kill(2) of our own child.
        unsafe { libc::kill(pid, first) };
    }
}

/// Stop forwarding (the child has been reaped; its pid may be reused).
pub fn forward_to_none() {
    CHILD.store(0, Ordering::SeqCst);
}

/// The first stopping signal received, if any.
pub fn first_signal() -> Option<i32> {
    Some(FIRST.load(Ordering::SeqCst)).filter(|&s| s != 0)
}

pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// User plus system CPU time of every child reaped so far (the floor measurement's
/// steadier companion to wall time on a busy machine).
pub fn children_cpu() -> std::time::Duration {
    // SAFETY: rusage is plain data, zeroed and written by getrusage.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: r is a valid rusage.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut r) };
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    std::time::Duration::from_micros(us(r.ru_utime) + us(r.ru_stime))
}
