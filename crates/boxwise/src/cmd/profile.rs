//! `boxwise profile`: sample a process (or a command we start), symbolize from its own
//! executable, write a gzipped pprof profile, print what was collected.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use boxwise_profile::{Options, TargetFiles, encode_gzip, interrupt_flag, profile};

use crate::cli::ProfileArgs;
use crate::report::profile::{RunFacts, render};

pub fn run(args: ProfileArgs) -> anyhow::Result<ExitCode> {
    // Before any work: a profile that cannot be written is known now, not after the run.
    let output = Output::open(&args.output)?;
    let result = sample_and_write(&args, &output);
    if result.is_err() {
        output.discard();
    }
    result
}

fn sample_and_write(args: &ProfileArgs, output: &Output) -> anyhow::Result<ExitCode> {
    let stop = interrupt_flag();
    let mut child: Option<Child> = None;
    let pid = match args.pid {
        Some(p) => p,
        None => {
            let (prog, rest) = args
                .command
                .split_first()
                .ok_or_else(|| anyhow!("give --pid PID or -- CMD ARGS"))?;
            let c = std::process::Command::new(prog)
                .args(rest)
                .spawn()
                .with_context(|| format!("cannot start {}", prog.to_string_lossy()))?;
            let pid = c.id();
            child = Some(c);
            wait_for_exec(pid);
            pid
        }
    };
    let mut files = match read_target(pid) {
        Ok(f) => f,
        Err(e) => {
            // A command that was over before its executable could be read: say so, with
            // its status, rather than "no process" for a PID the user never gave.
            if let Some(c) = child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                return Err(anyhow!(
                    "{} exited ({}) before it could be sampled: no profile written",
                    args.command[0].to_string_lossy(),
                    describe(status)
                ));
            }
            let _ = stop_child(&mut child);
            return Err(e);
        }
    };
    let opts = Options {
        pid,
        hz: args.hz,
        duration: args.duration,
        offcpu: args.offcpu,
    };
    let run = profile(&opts, &mut files, stop, || {
        child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))))
    });
    // The command's own end (not one we caused by stopping it) is our exit status.
    let own_end = stop_child(&mut child);
    let (collected, built) = run?;
    output.write(&encode_gzip(&built.profile))?;
    let facts = RunFacts {
        pid,
        exe: files.exe_path.clone(),
        hz: args.hz,
        output: args.output.display().to_string(),
        collected: &collected,
        built: &built,
        kallsyms: files.kallsyms.is_some(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&facts.json())?);
    } else {
        print!("{}", render(&facts));
    }
    Ok(own_end.map_or(ExitCode::SUCCESS, |s| ExitCode::from(exit_code(s))))
}

/// The output file, opened (created if missing, not yet truncated) before the run starts.
struct Output {
    path: PathBuf,
    /// It did not exist before: removed again when the run fails.
    created: bool,
}

impl Output {
    fn open(path: &Path) -> anyhow::Result<Output> {
        let existed = path.exists();
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?;
        Ok(Output {
            path: path.to_path_buf(),
            created: !existed,
        })
    }

    fn write(&self, bytes: &[u8]) -> anyhow::Result<()> {
        use std::io::Write;
        File::create(&self.path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(|e| anyhow!("cannot write {}: {e}", self.path.display()))
    }

    fn discard(&self) {
        if self.created {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Reads the target's executable and maps, with one line for each way that fails.
fn read_target(pid: u32) -> anyhow::Result<TargetFiles> {
    use boxwise_box::parse::stat;
    // A kernel thread has no executable (`/proc/PID/exe` reads as missing).
    let stat_text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
    if stat_text
        .as_deref()
        .and_then(|t| stat::flags(t).ok())
        .is_some_and(stat::is_kernel_thread)
    {
        return Err(anyhow!(
            "PID {pid} is a kernel thread: it runs no program, so it has no executable to profile"
        ));
    }
    TargetFiles::read(pid).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow!("no process with PID {pid}"),
        std::io::ErrorKind::PermissionDenied => anyhow!(
            "no permission to profile PID {pid} (cannot read /proc/{pid}/exe): another user's process needs root or CAP_PERFMON (or CAP_SYS_ADMIN) with ptrace access; your own need /proc/sys/kernel/perf_event_paranoid at 2 or lower"
        ),
        _ => anyhow!("cannot read /proc/{pid}/exe: {e}"),
    })
}

/// A status as `boxwise run` reports it: the code, or 128 + the signal.
fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => c.clamp(0, 255) as u8,
        (None, Some(sig)) => (128 + sig).clamp(0, 255) as u8,
        (None, None) => 1,
    }
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "status unknown".to_string(),
    }
}

/// Until the child has exec'd, `/proc/PID/exe` is still our own binary; and `spawn` returns
/// when exec closes our pipe, which is before the kernel maps the new program, so wait for
/// its executable mapping too (the PIE load bias is read from it).
fn wait_for_exec(pid: u32) {
    let me = std::fs::read_link("/proc/self/exe").ok();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        let Some(exe) = exe.filter(|e| Some(e) != me.as_ref()) else {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        };
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
        let exe = exe.to_string_lossy();
        if maps.lines().any(|l| {
            l.ends_with(exe.as_ref())
                && l.split_whitespace().nth(1).is_some_and(|p| p.contains('x'))
        }) {
            return;
        }
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Stops a child we started that is still running (SIGTERM, then SIGKILL after 2 s) and
/// reaps it, so nothing is left behind. Returns the status of a child that ended by itself
/// (None when there is no child, or we stopped it).
fn stop_child(child: &mut Option<Child>) -> Option<ExitStatus> {
    let c = child.as_mut()?;
    if let Ok(Some(status)) = c.try_wait() {
        return Some(status);
    }
    let pid = nix::unistd::Pid::from_raw(c.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        if matches!(c.try_wait(), Ok(Some(_))) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = c.kill();
    let _ = c.wait();
    None
}

/// `--hz` default, also used by `doctor --profile-live`.
pub const DEFAULT_HZ: u64 = 99;

/// A gzipped CPU profile of `pid` over `d`, for `doctor --profile-live`.
pub fn live(pid: u32, d: Duration, hz: u64) -> anyhow::Result<Vec<u8>> {
    let mut files = read_target(pid)?;
    let opts = Options {
        pid,
        hz,
        duration: d,
        offcpu: false,
    };
    let (_, built) = profile(&opts, &mut files, interrupt_flag(), || false)?;
    Ok(encode_gzip(&built.profile))
}
