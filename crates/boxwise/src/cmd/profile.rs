//! `boxwise profile`: sample a process (or a command we start), symbolize from its own
//! executable, write a gzipped pprof profile, print what was collected.

use std::process::{Child, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use boxwise_profile::{Options, TargetFiles, encode_gzip, interrupt_flag, profile};

use crate::cli::ProfileArgs;
use crate::report::profile::{RunFacts, render};

pub fn run(args: ProfileArgs) -> anyhow::Result<ExitCode> {
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
    let files = TargetFiles::read(pid).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow!("no process with PID {pid}"),
        std::io::ErrorKind::PermissionDenied => anyhow!(
            "no permission to profile PID {pid} (cannot read /proc/{pid}/exe): another user's process needs root or CAP_PERFMON (or CAP_SYS_ADMIN) with ptrace access; your own need /proc/sys/kernel/perf_event_paranoid at 2 or lower"
        ),
        _ => anyhow!("cannot read /proc/{pid}/exe: {e}"),
    });
    let mut files = match files {
        Ok(f) => f,
        Err(e) => {
            stop_child(&mut child);
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
    stop_child(&mut child);
    let (collected, built) = run?;
    std::fs::write(&args.output, encode_gzip(&built.profile))
        .with_context(|| format!("cannot write {}", args.output.display()))?;
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
    Ok(ExitCode::SUCCESS)
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
/// reaps it, so nothing is left behind.
fn stop_child(child: &mut Option<Child>) {
    let Some(c) = child.as_mut() else { return };
    if matches!(c.try_wait(), Ok(Some(_))) {
        return;
    }
    let pid = nix::unistd::Pid::from_raw(c.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        if matches!(c.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = c.kill();
    let _ = c.wait();
}

/// `--hz` default, also used by `doctor --profile-live`.
pub const DEFAULT_HZ: u64 = 99;

/// A gzipped CPU profile of `pid` over `d`, for `doctor --profile-live`.
pub fn live(pid: u32, d: Duration, hz: u64) -> anyhow::Result<Vec<u8>> {
    let mut files =
        TargetFiles::read(pid).map_err(|e| anyhow!("cannot read /proc/{pid}/exe: {e}"))?;
    let opts = Options {
        pid,
        hz,
        duration: d,
        offcpu: false,
    };
    let (_, built) = profile(&opts, &mut files, interrupt_flag(), || false)?;
    Ok(encode_gzip(&built.profile))
}
