//! One trace: create the maps, start or find the target, attach, wait, detach, read.
//! Detaching (dropping the links) happens before the maps are read, and every BPF object
//! is owned by a value on this stack, so all of it is gone when `trace` returns.

use std::ffi::{CString, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use boxwise_box::host::exec_problem;

use crate::asm::{self, COUNT_VALUE, ERRNO_SLOTS, Filter, LAT_SLOTS, MAX_NR, Maps};
use crate::model::RawCounts;
use crate::names::Arch;
use crate::sys::{self, GatedChild, Map, MapKind, Prog};

/// What to trace.
#[derive(Debug, Clone)]
pub enum Target {
    /// A running process (host pid when tracing from the host), all its threads.
    Pid(u32),
    /// A command started here, held before `execve` until tracing is attached.
    Command(Vec<OsString>),
}

#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    pub duration: Option<Duration>,
    pub follow_children: bool,
    pub latency: bool,
    pub by_thread: bool,
}

/// Why tracing stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    TargetExited,
    Duration,
    Interrupted,
}

/// The raw result of a trace.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub arch: Arch,
    pub pid: u32,
    pub counts: Vec<RawCounts>,
    pub wall: Duration,
    pub end: End,
    /// The command's exit code (128 + signal when killed), for `Target::Command`.
    pub exit_code: Option<i32>,
    /// With `by_thread`: (tid, calls, time_ns) for every thread that made a call.
    pub threads: Option<Vec<(u32, u64, u64)>>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "tracing syscalls needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) and {0} was refused: run as root; in Docker add --cap-add SYS_ADMIN (or --cap-add BPF --cap-add PERFMON on engines that know them); in Kubernetes add BPF and PERFMON to securityContext.capabilities.add"
    )]
    Privilege(&'static str),
    #[error("no process with pid {0}")]
    NoProcess(u32),
    #[error("{0}: command not found (not a path and not in PATH)")]
    NotFound(String),
    /// `execve` of the command failed: the shell's 127 (not found) or 126 (cannot run).
    #[error("cannot start {}", exec_problem(.path, *.errno))]
    Exec { path: PathBuf, errno: i32 },
    #[error("{what}: {source}")]
    Bpf {
        what: &'static str,
        source: io::Error,
    },
    #[error(
        "-f cannot follow children from inside a pid namespace (a container): trace from the host with the process's host pid"
    )]
    FollowInNamespace,
    #[error("syscall tracing is built for x86_64 and aarch64, not {0}")]
    Arch(&'static str),
}

impl Error {
    /// The exit status a shell gives the same failure: 127 for a command that was not
    /// found, 126 for one that could not be run; `None` for boxwise's own errors.
    pub fn shell_status(&self) -> Option<u8> {
        match self {
            Error::NotFound(_) => Some(127),
            Error::Exec { errno, .. } if *errno == libc::ENOENT => Some(127),
            Error::Exec { .. } => Some(126),
            _ => None,
        }
    }
}

fn bpf_err(what: &'static str) -> impl Fn(io::Error) -> Error {
    move |source| {
        if source.raw_os_error() == Some(libc::EPERM) {
            Error::Privilege(what)
        } else {
            Error::Bpf { what, source }
        }
    }
}

/// Traces until the target exits, the duration passes or SIGINT/SIGTERM arrives.
/// `attached` runs once tracing is live (before a command is released).
pub fn trace(opts: &Options, attached: impl FnOnce(u32)) -> Result<Outcome, Error> {
    let arch = Arch::native().ok_or(Error::Arch(std::env::consts::ARCH))?;
    sys::catch_interrupts();
    let pid_max = read_pid_max();
    let counts = Map::create(MapKind::PerCpuArray, COUNT_VALUE, MAX_NR, "bw_counts")
        .map_err(bpf_err("creating a BPF map"))?;
    let start_bits = asm::start_bits(pid_max);
    let starts = Map::create(MapKind::Array, 8, 1 << start_bits, "bw_starts")
        .map_err(bpf_err("creating a BPF map"))?;
    let cur = Map::create(MapKind::PerCpuArray, 24, 1, "bw_cur")
        .map_err(bpf_err("creating a BPF map"))?;
    let errnos = Map::create(MapKind::Array, 8, MAX_NR * ERRNO_SLOTS, "bw_errnos")
        .map_err(bpf_err("creating a BPF map"))?;
    let latency = opts
        .latency
        .then(|| Map::create(MapKind::PerCpuArray, 8, MAX_NR * LAT_SLOTS, "bw_latency"))
        .transpose()
        .map_err(bpf_err("creating a BPF map"))?;
    let tracked = opts
        .follow_children
        .then(|| Map::create(MapKind::Array, 4, pid_max, "bw_tracked"))
        .transpose()
        .map_err(bpf_err("creating a BPF map"))?;
    let threads = opts
        .by_thread
        .then(|| Map::create_mmapable(16, pid_max, "bw_threads"))
        .transpose()
        .map_err(bpf_err("creating a BPF map"))?;
    let tgid_offset = match &tracked {
        Some(_) => Some(task_tgid_offset()?),
        None => None,
    };

    // The target: a running pid, or a child held at the gate.
    let mut child = None;
    let pid = match &opts.target {
        Target::Pid(pid) => {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                return Err(Error::NoProcess(*pid));
            }
            *pid
        }
        Target::Command(argv) => {
            let path = resolve(&argv[0])?;
            let path = CString::new(path.as_os_str().as_bytes())
                .map_err(|_| Error::NotFound(argv[0].to_string_lossy().into_owned()))?;
            let args: Vec<CString> = argv
                .iter()
                .map(|a| CString::new(a.as_bytes()))
                .collect::<Result<_, _>>()
                .map_err(|_| Error::NotFound(argv[0].to_string_lossy().into_owned()))?;
            let c = GatedChild::spawn(&path, &args).map_err(|source| Error::Bpf {
                what: "starting the command",
                source,
            })?;
            sys::forward_to(c.pid);
            let pid = c.pid as u32;
            child = Some(c);
            pid
        }
    };
    let filter = match (&tracked, pid_namespace()) {
        (Some(t), None) => {
            t.set_u32(pid, 1).map_err(bpf_err("marking the target"))?;
            Filter::Tracked { map_fd: t.fd() }
        }
        (None, None) => Filter::Tgid(pid),
        (None, Some((dev, ino))) => Filter::NsTgid {
            tgid: pid,
            dev,
            ino,
        },
        (Some(_), Some(_)) => return Err(Error::FollowInNamespace),
    };
    let maps = Maps {
        counts: counts.fd(),
        starts: starts.fd(),
        start_bits,
        cur: cur.fd(),
        no_return: ["exit", "exit_group"].map(|n| arch.number(n).unwrap_or(MAX_NR)),
        errnos: errnos.fd(),
        latency: latency.as_ref().map(Map::fd),
        threads: threads.as_ref().map(|(m, _)| m.fd()),
    };
    let enter = Prog::load(&asm::sys_enter(filter, maps), "bw_sys_enter")
        .map_err(bpf_err("loading the sys_enter program"))?;
    let exit = Prog::load(&asm::sys_exit(filter, maps), "bw_sys_exit")
        .map_err(bpf_err("loading the sys_exit program"))?;
    let fork = match (&tracked, tgid_offset) {
        (Some(t), Some(off)) => Some(
            Prog::load(&asm::fork(t.fd(), off), "bw_fork")
                .map_err(bpf_err("loading the fork program"))?,
        ),
        _ => None,
    };
    let switch = Prog::load(&asm::sched_switch(cur.fd()), "bw_sched_switch")
        .map_err(bpf_err("loading the sched_switch program"))?;
    // sched_switch first and detached last: while a syscall program runs, every context
    // switch clears what `cur` remembers about the task that was running.
    let switch_link = switch
        .attach("sched_switch")
        .map_err(bpf_err("attaching to sched_switch"))?;
    let mut links = vec![
        exit.attach("sys_exit")
            .map_err(bpf_err("attaching to sys_exit"))?,
        enter
            .attach("sys_enter")
            .map_err(bpf_err("attaching to sys_enter"))?,
    ];
    if let Some(f) = &fork {
        links.push(
            f.attach("sched_process_fork")
                .map_err(bpf_err("attaching to sched_process_fork"))?,
        );
    }

    attached(pid);
    let started = Instant::now();
    if let Some(c) = child.as_mut() {
        let failed = c.release().map_err(|source| Error::Bpf {
            what: "starting the command",
            source,
        });
        if !matches!(failed, Ok(None)) {
            sys::forward_to_none();
        }
        if let Some(errno) = failed? {
            let Target::Command(argv) = &opts.target else {
                unreachable!("a child is only started for a command")
            };
            return Err(Error::Exec {
                path: PathBuf::from(&argv[0]),
                errno,
            });
        }
    }
    let (end, exit_code) = wait(pid, child.as_mut(), opts.duration, started);
    sys::forward_to_none();
    let wall = started.elapsed();
    drop(links); // detach before reading, so the totals are final
    drop(switch_link);
    let cpus = possible_cpus();
    let counts = read_counts(&counts, &errnos, latency.as_ref(), cpus)
        .map_err(bpf_err("reading the counts"))?;
    let threads = threads.map(|(_, mapped)| per_thread(&mapped.snapshot()));
    Ok(Outcome {
        threads,
        arch,
        pid,
        counts,
        wall,
        end,
        exit_code,
    })
}

fn wait(
    pid: u32,
    mut child: Option<&mut GatedChild>,
    duration: Option<Duration>,
    started: Instant,
) -> (End, Option<i32>) {
    // Without a pidfd (kernels before 5.3) fall back to 20 ms polls.
    let pidfd = sys::PidFd::open(pid as i32).ok();
    loop {
        if sys::INTERRUPTED.load(Ordering::SeqCst) {
            let Some(c) = child else {
                // A traced pid is left running: only the trace stops.
                return (End::Interrupted, None);
            };
            // The signal was forwarded to the command (a second one kills it): wait for
            // it to end, however long that takes, so it never outlives boxwise.
            loop {
                match c.try_wait() {
                    Ok(Some(code)) => return (End::Interrupted, Some(code)),
                    Ok(None) => match &pidfd {
                        Some(fd) => {
                            fd.wait(200);
                        }
                        None => std::thread::sleep(Duration::from_millis(20)),
                    },
                    // Not our child any more (cannot happen): report the signal.
                    Err(_) => return (End::Interrupted, sys::first_signal().map(|s| 128 + s)),
                }
            }
        }
        match child.as_deref_mut() {
            Some(c) => {
                if let Ok(Some(code)) = c.try_wait() {
                    return (End::TargetExited, Some(code));
                }
            }
            None => {
                if !running(pid) {
                    return (End::TargetExited, None);
                }
            }
        }
        if duration.is_some_and(|d| started.elapsed() >= d) {
            return (End::Duration, None);
        }
        let left = duration.map_or(Duration::from_millis(200), |d| {
            d.saturating_sub(started.elapsed())
                .min(Duration::from_millis(200))
        });
        match &pidfd {
            Some(fd) => {
                fd.wait(left.as_millis().max(1) as i32);
            }
            None => std::thread::sleep(left.min(Duration::from_millis(20))),
        }
    }
}

/// Alive and not a zombie (a zombie makes no more calls).
fn running(pid: u32) -> bool {
    if !sys::alive(pid as i32) {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !matches!(
            s.rsplit(") ").next().and_then(|r| r.chars().next()),
            Some('Z' | 'X')
        ),
        Err(_) => false,
    }
}

fn read_counts(
    counts: &Map,
    errnos: &Map,
    latency: Option<&Map>,
    cpus: usize,
) -> io::Result<Vec<RawCounts>> {
    let u64s = |b: &[u8]| -> Vec<u64> {
        b.chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect()
    };
    let mut out = Vec::new();
    for nr in 0..MAX_NR {
        let v = u64s(&counts.lookup(nr, cpus)?);
        let mut r = RawCounts {
            nr,
            ..Default::default()
        };
        for cpu in v.chunks_exact(4) {
            r.calls += cpu[0];
            r.errors += cpu[1];
            r.time_ns += cpu[2];
            r.max_ns = r.max_ns.max(cpu[3]);
        }
        if r.calls == 0 && r.errors == 0 {
            continue;
        }
        if r.errors > 0 {
            for e in 0..ERRNO_SLOTS {
                let n = u64s(&errnos.lookup(nr * ERRNO_SLOTS + e, cpus)?)[0];
                if n > 0 {
                    r.errnos.push((e, n));
                }
            }
        }
        if let Some(lat) = latency {
            let mut buckets = vec![0u64; LAT_SLOTS as usize];
            for (k, b) in buckets.iter_mut().enumerate() {
                *b = u64s(&lat.lookup(nr * LAT_SLOTS + k as u32, cpus)?)
                    .iter()
                    .sum();
            }
            r.latency = Some(buckets);
        }
        out.push(r);
    }
    Ok(out)
}

/// Non-empty (tid, calls, time_ns) slots of the tid-indexed thread array.
fn per_thread(bytes: &[u8]) -> Vec<(u32, u64, u64)> {
    bytes
        .chunks_exact(16)
        .enumerate()
        .filter_map(|(tid, c)| {
            let calls = u64::from_le_bytes(c[..8].try_into().ok()?);
            let ns = u64::from_le_bytes(c[8..].try_into().ok()?);
            (calls > 0).then_some((tid as u32, calls, ns))
        })
        .collect()
}

/// This process's pid namespace `(dev, ino)` in the kernel's dev_t encoding, or `None`
/// in the initial namespace (whose inode is fixed: PROC_PID_INIT_INO).
fn pid_namespace() -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata("/proc/self/ns/pid").ok()?;
    if m.ino() == 0xEFFF_FFFC {
        return None;
    }
    let d = m.dev();
    let (major, minor) = ((d >> 8) & 0xfff, (d & 0xff) | ((d >> 12) & 0xfff00));
    Some(((major << 20) | minor, m.ino()))
}

/// The kernel's pid_max (thread ids index the start-time array), capped at its own limit.
fn read_pid_max() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(1 << 22)
        .clamp(1024, 1 << 22)
}

/// Possible CPUs, the stride of per-CPU map values ("0-3,6" style list).
fn possible_cpus() -> usize {
    let s = std::fs::read_to_string("/sys/devices/system/cpu/possible").unwrap_or_default();
    crate::cpulist::count(&s)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn task_tgid_offset() -> Result<u32, Error> {
    // At most 64 MiB (the kernel's own BTF is a few MiB).
    let mut btf = Vec::new();
    std::fs::File::open("/sys/kernel/btf/vmlinux")
        .and_then(|f| io::Read::read_to_end(&mut io::Read::take(f, 64 << 20), &mut btf))
        .map_err(|source| Error::Bpf {
            what: "-f needs the kernel's BTF (/sys/kernel/btf/vmlinux)",
            source,
        })?;
    crate::btf::member_offset(&btf, "task_struct", "tgid").ok_or(Error::Bpf {
        what: "-f: reading /sys/kernel/btf/vmlinux",
        source: io::Error::new(io::ErrorKind::InvalidData, "no task_struct.tgid member"),
    })
}

/// The command's path: as given when it has a slash, else the first executable in PATH.
pub fn resolve(cmd: &OsString) -> Result<PathBuf, Error> {
    let p = Path::new(cmd);
    if cmd.as_bytes().contains(&b'/') {
        return Ok(p.to_path_buf());
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(p))
        .find(|f| is_executable(f))
        .ok_or_else(|| Error::NotFound(cmd.to_string_lossy().into_owned()))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_failures_read_like_a_shell() {
        let missing = Error::Exec {
            path: "./nonexistent".into(),
            errno: libc::ENOENT,
        };
        assert_eq!(
            missing.to_string(),
            "cannot start ./nonexistent: No such file or directory"
        );
        assert_eq!(missing.shell_status(), Some(127));
        let denied = Error::Exec {
            path: "./data.txt".into(),
            errno: libc::EACCES,
        };
        assert_eq!(
            denied.to_string(),
            "cannot start ./data.txt: Permission denied"
        );
        assert_eq!(denied.shell_status(), Some(126));
        assert_eq!(Error::NotFound("x".into()).shell_status(), Some(127));
        assert_eq!(Error::NoProcess(1).shell_status(), None);
    }
}
