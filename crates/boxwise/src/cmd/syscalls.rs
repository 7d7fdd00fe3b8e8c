//! `boxwise syscalls`: trace a pid or a command with BPF, build the table, read it for Go.

use std::process::ExitCode;

use boxwise_syscalls::goread::{self, Context};
use boxwise_syscalls::{End, Options, Table, Target};

use super::settings;
use crate::cli::{PolicyArgs, SyscallsArgs};
use crate::report::{self, syscalls::Summary};

pub fn run(args: SyscallsArgs) -> anyhow::Result<ExitCode> {
    let target = match args.pid {
        Some(pid) => Target::Pid(pid),
        None => Target::Command(args.command.clone()),
    };
    // The box and Go settings first: a traced pid may be gone by the end. A command
    // inherits this process's environment and cgroup.
    let (gomaxprocs, cpu_limit) = go_context(args.pid);
    // The Go reading applies to Go programs only; read the executable before it can exit.
    let exe = match args.pid {
        Some(pid) => Some(std::path::PathBuf::from(format!("/proc/{pid}/exe"))),
        None => args
            .command
            .first()
            .and_then(|c| boxwise_syscalls::session::resolve(c).ok()),
    };
    // The raw tracepoints give a 32-bit program's calls its own (i386) numbers, which the
    // table would name from the x86_64 list: say so rather than print wrong names quietly.
    if cfg!(target_arch = "x86_64") && exe.as_deref().is_some_and(is_elf32) {
        let what = match args.pid {
            Some(pid) => format!("pid {pid}"),
            None => args.command[0].to_string_lossy().into_owned(),
        };
        eprintln!(
            "boxwise: warning: {what} is a 32-bit program: its calls carry i386 numbers, \
             which this table names from the x86_64 list (wrong names); use strace -c for it"
        );
    }
    // Go, not Go, or unknown: an unreadable executable (another user's process, a
    // kernel thread) is not evidence either way.
    let (go, executable_error) = match exe.as_ref().map(boxwise_goprog::GoBinary::read) {
        Some(Ok(b)) => (Some(b.go_version.clone()), None),
        Some(Err(boxwise_goprog::Error {
            kind: boxwise_goprog::ErrorKind::Io(e),
            file,
        })) => (None, Some(format!("{}: {}", file.display(), io_reason(&e)))),
        _ => (None, None),
    };
    let opts = Options {
        target,
        duration: args.duration,
        follow_children: args.follow_forks,
        latency: args.latency,
        by_thread: args.by_thread,
    };
    let outcome = match boxwise_syscalls::trace(&opts, |pid| {
        if args.pid.is_some() {
            // Tests and scripts wait for this line before driving the process.
            eprintln!("boxwise: tracing pid {pid}, all threads; Ctrl-C stops and prints the table");
        }
    }) {
        Ok(o) => o,
        // A command that cannot start: one line and the shell's status, no table.
        Err(e) if e.shell_status().is_some() => {
            eprintln!("boxwise: {e}");
            return Ok(ExitCode::from(e.shell_status().unwrap_or(1)));
        }
        Err(e) => return Err(e.into()),
    };
    let table = Table::build(outcome.arch, &outcome.counts);
    let ctx = Context {
        wall_seconds: outcome.wall.as_secs_f64(),
        gomaxprocs,
        cpu_limit,
    };
    let notes = if go.is_some() {
        goread::read(&table, &ctx)
    } else {
        Vec::new()
    };
    let summary = Summary {
        pid: outcome.pid,
        command: args
            .command
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        wall_seconds: ctx.wall_seconds,
        end: outcome.end,
        exit_code: outcome.exit_code,
        follow_forks: args.follow_forks,
        // GOMAXPROCS means something only for a Go program.
        gomaxprocs: gomaxprocs.filter(|_| go.is_some()),
        go_version: go,
        executable_error,
        cpu_limit_cores: cpu_limit,
        // Sampling starts past a syscall's first EXACT_CALLS calls on a CPU.
        time_estimated: !args.latency
            && table
                .rows
                .iter()
                .any(|r| r.calls > u64::from(boxwise_syscalls::asm::EXACT_CALLS)),
        table: &table,
        threads: outcome
            .threads
            .as_deref()
            .map(boxwise_syscalls::model::threads),
        go_reading: &notes,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else if args.markdown {
        print!("{}", report::syscalls::markdown(&summary));
    } else {
        print!("{}", report::syscalls::text(&summary, report::fit::width()));
    }
    // Like strace: a traced command's own failure is the exit status, also when a
    // forwarded signal ended it (128 + the signal).
    Ok(match (outcome.end, outcome.exit_code) {
        (End::TargetExited | End::Interrupted, Some(c)) if c != 0 => {
            ExitCode::from(c.clamp(1, 255) as u8)
        }
        _ => ExitCode::SUCCESS,
    })
}

/// A 32-bit ELF file (EI_CLASS = ELFCLASS32); false when unreadable or not ELF.
fn is_elf32(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 5];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| head[..4] == *b"\x7fELF" && head[4] == 1)
}

/// An io error's text without Rust's " (os error N)" tail.
fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_string()
}

/// `doctor --syscalls`: a short trace of `pid`, its Go reading as the doctor's facts.
pub(super) fn doctor_facts(
    pid: u32,
    duration: std::time::Duration,
    gomaxprocs: u32,
    cpu_limit: Option<f64>,
) -> anyhow::Result<boxwise_doctor::SyscallFacts> {
    let opts = Options {
        target: Target::Pid(pid),
        duration: Some(duration),
        follow_children: false,
        latency: false,
        by_thread: false,
    };
    eprintln!("boxwise: tracing pid {pid}'s system calls for {duration:?}");
    let outcome = boxwise_syscalls::trace(&opts, |_| {})?;
    let table = Table::build(outcome.arch, &outcome.counts);
    let ctx = Context {
        wall_seconds: outcome.wall.as_secs_f64(),
        gomaxprocs: Some(gomaxprocs),
        cpu_limit,
    };
    Ok(boxwise_doctor::SyscallFacts {
        seconds: ctx.wall_seconds,
        total_calls: table.total_calls,
        notes: goread::read(&table, &ctx)
            .into_iter()
            .map(|n| boxwise_doctor::SyscallNote {
                id: n.id.to_string(),
                evidence: n.evidence,
                meaning: n.meaning,
                source: n.source.to_string(),
            })
            .collect(),
    })
}

/// GOMAXPROCS (the environment's, else the CPU count Go < 1.25 defaults to) and the CPU
/// quota in cores; `None` where unreadable.
fn go_context(pid: Option<u32>) -> (Option<u32>, Option<f64>) {
    let policy = PolicyArgs {
        cpu_policy: None,
        min_procs: None,
        memory_ratio: None,
    };
    match settings::full_box(&policy, None, pid) {
        Ok((_, info, _)) => (
            info.go_env
                .gomaxprocs_value()
                .or_else(|| info.cpu.cpu_count()),
            info.cpu.quota.as_ref().map(|q| q.cores),
        ),
        Err(_) => (None, None),
    }
}
