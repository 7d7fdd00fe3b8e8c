//! The one unsafe edge: `perf_event_open` for the software `cpu-clock` event on one thread,
//! with kernel-collected callchains (Go keeps frame pointers), read from the event's mmap
//! ring buffer. Closing and unmapping happen on drop.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

const PERF_TYPE_SOFTWARE: u32 = 1;
const PERF_COUNT_SW_CPU_CLOCK: u64 = 0;
const SAMPLE_IP: u64 = 1;
const SAMPLE_TID: u64 = 1 << 1;
const SAMPLE_TIME: u64 = 1 << 2;
const SAMPLE_CALLCHAIN: u64 = 1 << 5;
const SAMPLE_PERIOD: u64 = 1 << 8;
const SAMPLE_STACK_USER: u64 = 1 << 13;
/// Bytes of user stack copied per sample: enough to read a frameless leaf's return
/// address, which frame-pointer unwinding skips.
pub const STACK_BYTES: usize = 256;
const FLAG_DISABLED: u64 = 1;
const FLAG_EXCLUDE_KERNEL: u64 = 1 << 5;
const FLAG_EXCLUDE_HV: u64 = 1 << 6;
const RECORD_LOST: u32 = 2;
const RECORD_SWITCH: u32 = 14;
const MISC_SWITCH_OUT: u16 = 0x2000;
const PERF_TYPE_TRACEPOINT: u32 = 2;
const FLAG_SAMPLE_ID_ALL: u64 = 1 << 18;
const FLAG_CONTEXT_SWITCH: u64 = 1 << 26;

/// What a thread event samples.
#[derive(Debug, Clone, Copy)]
enum Source {
    CpuClock { period_ns: u64 },
    SchedSwitch { tracepoint_id: u64 },
}
const RECORD_SAMPLE: u32 = 9;
const IOC_ENABLE: libc::c_ulong = 0x2400;
/// `PERF_FLAG_FD_CLOEXEC` (not exported by libc).
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
/// Data pages per thread (a power of two): 64 KiB holds ~1 s of 999 Hz deep stacks.
const DATA_PAGES: usize = 32;
/// Frames kept per sample: the kernel's default `perf_event_max_stack` is 127.
pub const MAX_FRAMES: usize = 127;

/// `struct perf_event_attr` up to `PERF_ATTR_SIZE_VER5` (112 bytes).
#[repr(C)]
#[derive(Default)]
struct Attr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
    config2: u64,
    branch_sample_type: u64,
    sample_regs_user: u64,
    sample_stack_user: u32,
    clockid: i32,
    sample_regs_intr: u64,
    aux_watermark: u32,
    sample_max_stack: u16,
    reserved: u16,
}

/// What one ring buffer yielded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Sample {
        tid: u32,
        time: u64,
        period: u64,
        /// Raw callchain, context markers (`PERF_CONTEXT_*`) included.
        chain: Vec<u64>,
        /// The top of the user stack (from the user stack pointer), possibly empty.
        stack: Vec<u8>,
    },
    Lost(u64),
    /// The thread came back on a CPU at `time` (a `PERF_RECORD_SWITCH` in).
    SwitchIn {
        tid: u32,
        time: u64,
    },
}

/// A sampling event on one thread with its mapped ring buffer.
pub struct ThreadEvent {
    fd: libc::c_int,
    base: *mut u8,
    len: usize,
    page: usize,
}

impl ThreadEvent {
    /// Opens and enables the event for `tid`, one sample every `period_ns` of its CPU time.
    pub fn open(tid: u32, period_ns: u64, kernel: bool) -> io::Result<ThreadEvent> {
        Self::open_with(tid, Source::CpuClock { period_ns }, kernel)
    }

    /// Opens the `sched:sched_switch` tracepoint (id from tracefs) on `tid`: one sample each
    /// time the thread leaves the CPU, plus a switch record each time it comes back.
    pub fn open_switch(tid: u32, tracepoint_id: u64, kernel: bool) -> io::Result<ThreadEvent> {
        Self::open_with(tid, Source::SchedSwitch { tracepoint_id }, kernel)
    }

    fn open_with(tid: u32, source: Source, kernel: bool) -> io::Result<ThreadEvent> {
        let (kind, config, period, extra) = match source {
            Source::CpuClock { period_ns } => (
                PERF_TYPE_SOFTWARE,
                PERF_COUNT_SW_CPU_CLOCK,
                period_ns.max(1),
                0,
            ),
            Source::SchedSwitch { tracepoint_id } => (
                PERF_TYPE_TRACEPOINT,
                tracepoint_id,
                1,
                FLAG_CONTEXT_SWITCH | FLAG_SAMPLE_ID_ALL,
            ),
        };
        let mut attr = Attr {
            kind,
            size: std::mem::size_of::<Attr>() as u32,
            config,
            sample_period: period,
            sample_type: SAMPLE_IP
                | SAMPLE_TID
                | SAMPLE_TIME
                | SAMPLE_CALLCHAIN
                | SAMPLE_PERIOD
                | SAMPLE_STACK_USER,
            sample_stack_user: STACK_BYTES as u32,
            flags: FLAG_DISABLED | FLAG_EXCLUDE_HV | extra,
            wakeup_events: 0,
            sample_max_stack: MAX_FRAMES as u16,
            ..Attr::default()
        };
        if !kernel {
            attr.flags |= FLAG_EXCLUDE_KERNEL;
        }
        // SAFETY: `attr` is a valid, initialised perf_event_attr of the size it declares;
        // the kernel only reads it. pid = tid, cpu = -1 (any), no group, no flags.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_perf_event_open,
                &attr as *const Attr,
                tid as libc::pid_t,
                -1 as libc::c_int,
                -1 as libc::c_int,
                PERF_FLAG_FD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = fd as libc::c_int;
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let len = page * (1 + DATA_PAGES);
        // SAFETY: mapping the perf fd just opened, shared and read-write as the ABI requires
        // (the tail pointer is written back); checked for MAP_FAILED below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            let e = io::Error::last_os_error();
            // SAFETY: closing the fd we own.
            unsafe { libc::close(fd) };
            return Err(e);
        }
        let ev = ThreadEvent {
            fd,
            base: base as *mut u8,
            len,
            page,
        };
        // SAFETY: PERF_EVENT_IOC_ENABLE on our own perf fd takes no argument.
        if unsafe { libc::ioctl(fd, IOC_ENABLE as _, 0) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(ev)
    }

    fn head_tail(&self) -> (&AtomicU64, &AtomicU64) {
        // SAFETY: `data_head` (offset 1024) and `data_tail` (1032) of perf_event_mmap_page are
        // 8-byte aligned u64 fields inside the first mapped page, which lives as long as self.
        unsafe {
            (
                &*(self.base.add(1024) as *const AtomicU64),
                &*(self.base.add(1032) as *const AtomicU64),
            )
        }
    }

    /// Drains every complete record the kernel has written since the last call.
    pub fn drain(&mut self, out: &mut Vec<Record>) {
        let (head_a, tail_a) = self.head_tail();
        // Acquire pairs with the kernel's store of data_head after it wrote the records.
        let head = head_a.load(Ordering::Acquire);
        let mut tail = tail_a.load(Ordering::Relaxed);
        let size = (self.page * DATA_PAGES) as u64;
        // SAFETY: the data area is the DATA_PAGES pages after the header page.
        let data = unsafe { std::slice::from_raw_parts(self.base.add(self.page), size as usize) };
        let mut buf = Vec::new();
        while head.wrapping_sub(tail) >= 8 {
            let copy = |at: u64, n: usize, buf: &mut Vec<u8>| {
                buf.clear();
                for k in 0..n as u64 {
                    buf.push(data[((at + k) % size) as usize]);
                }
            };
            copy(tail, 8, &mut buf);
            let kind = u32::from_le_bytes(buf[0..4].try_into().unwrap_or_default());
            let misc = u16::from_le_bytes(buf[4..6].try_into().unwrap_or_default());
            let rsize = u16::from_le_bytes(buf[6..8].try_into().unwrap_or_default()) as u64;
            if rsize < 8 || head.wrapping_sub(tail) < rsize {
                break;
            }
            copy(tail, rsize as usize, &mut buf);
            if let Some(r) = parse_record(kind, misc, &buf[8..]) {
                out.push(r);
            }
            tail = tail.wrapping_add(rsize);
        }
        // Release: the kernel may overwrite what we read only after this store.
        tail_a.store(tail, Ordering::Release);
    }
}

/// Decodes one record body (after the 8-byte header) for our `sample_type`.
pub fn parse_record(kind: u32, misc: u16, b: &[u8]) -> Option<Record> {
    let u64_at =
        |i: usize| -> Option<u64> { Some(u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?)) };
    match kind {
        RECORD_SAMPLE => {
            // ip, pid/tid, time, period, nr, ips[nr]
            let tid = u32::from_le_bytes(b.get(12..16)?.try_into().ok()?);
            let time = u64_at(16)?;
            let period = u64_at(24)?;
            let nr = (u64_at(32)? as usize).min(MAX_FRAMES + 8);
            let chain: Vec<u64> = (0..nr).map_while(|i| u64_at(40 + i * 8)).collect();
            let at = 40 + chain.len() * 8;
            let size = u64_at(at).unwrap_or(0) as usize;
            let dyn_size = u64_at(at + 8 + size).unwrap_or(0) as usize;
            let stack = b
                .get(at + 8..at + 8 + size.min(dyn_size).min(STACK_BYTES))
                .unwrap_or_default()
                .to_vec();
            Some(Record::Sample {
                tid,
                time,
                period,
                chain,
                stack,
            })
        }
        RECORD_LOST => Some(Record::Lost(u64_at(8)?)),
        // sample_id_all: pid, tid, time (our sample_type's TID and TIME bits).
        RECORD_SWITCH if misc & MISC_SWITCH_OUT == 0 => Some(Record::SwitchIn {
            tid: u32::from_le_bytes(b.get(4..8)?.try_into().ok()?),
            time: u64_at(8)?,
        }),
        _ => None,
    }
}

impl Drop for ThreadEvent {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping and closing our own fd, once.
        unsafe {
            libc::munmap(self.base as *mut libc::c_void, self.len);
            libc::close(self.fd);
        }
    }
}

static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Makes SIGINT and SIGTERM set a flag instead of killing us, so a run cut short still
/// writes its profile and closes its events.
pub fn interrupt_flag() -> &'static std::sync::atomic::AtomicBool {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_interrupt as *const () as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGTERM,
            on_interrupt as *const () as libc::sighandler_t,
        );
    }
    &INTERRUPTED
}

/// The `sched:sched_switch` tracepoint id. tracefs is often not mounted (it is not on hosts
/// that never ran a tracer), so a helper thread mounts it in a mount namespace of its own,
/// reads the id, and exits: the namespace and the mount vanish with it, nothing is left on
/// the host.
pub fn sched_switch_id() -> io::Result<u64> {
    for dir in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
        let id = std::fs::read_to_string(format!("{dir}/events/sched/sched_switch/id"));
        if let Some(id) = id.ok().and_then(|s| s.trim().parse().ok()) {
            return Ok(id);
        }
    }
    std::thread::spawn(|| -> io::Result<u64> {
        use nix::mount::{MsFlags, mount};
        use nix::sched::{CloneFlags, unshare};
        // CLONE_FS first: a thread may only take its own mount namespace with its own fs.
        unshare(CloneFlags::CLONE_FS | CloneFlags::CLONE_NEWNS).map_err(io::Error::from)?;
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .map_err(io::Error::from)?;
        let dir = std::env::temp_dir().join(format!("boxwise-tracefs-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let r = mount(
            Some("tracefs"),
            &dir,
            Some("tracefs"),
            MsFlags::empty(),
            None::<&str>,
        )
        .map_err(io::Error::from)
        .and_then(|()| {
            let id = std::fs::read_to_string(dir.join("events/sched/sched_switch/id"));
            let _ = nix::mount::umount(&dir);
            id
        });
        let _ = std::fs::remove_dir(&dir);
        r?.trim()
            .parse()
            .map_err(|_| io::Error::other("sched_switch id is not a number"))
    })
    .join()
    .map_err(|_| io::Error::other("tracefs helper thread panicked"))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn records_never_panic(kind in 0u32..16, misc in any::<u16>(), b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_record(kind, misc, &b);
        }
    }

    #[test]
    fn attr_is_ver5_size() {
        assert_eq!(std::mem::size_of::<Attr>(), 112);
    }
}
