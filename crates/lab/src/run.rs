//! One run, start to finish: the only module that sequences the side effects.

use std::io::Write as _;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Instant;

use boxwise_box::host::Host;
use boxwise_box::layout::{self, Layout};
use boxwise_box::locate;
use boxwise_box::parse::{mountinfo, proc_cgroup};
use nix::sys::wait::{Id, WaitPidFlag, waitid};

use crate::cgroup::Transient;
use crate::error::{Error, Result};
use crate::ns::{self, Setup};
use crate::signals::Forwarding;
use crate::spec::{self, CPU_PERIOD_US, Limits, RunSpec};
use crate::stats::{AppliedLimits, RunStats};
use boxwise_box::cgroup::Controller;

/// The CPUs this process may run on (`Cpus_allowed_list`), or None when unreadable.
fn own_cpus() -> Option<boxwise_box::parse::CpuList> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    boxwise_box::parse::status::parse(&text).ok()?.cpus_allowed
}

/// Run the command in a transient cgroup (and namespaces) and report what it did.
///
/// The cgroup is gone when this returns, whether the command succeeded, failed, was
/// interrupted (SIGINT, SIGTERM, SIGHUP and SIGQUIT are forwarded to it) or this function
/// panicked. A command that exits non-zero is not an error: its status is in
/// [`RunStats::exit_code`].
pub fn run(spec: &RunSpec) -> Result<RunStats> {
    run_controlled(spec, |_| {})
}

/// [`run`], with `control` called on its own thread with the command's pid once it has
/// started: a sweep drives load against the workload there and then stops it with SIGTERM.
/// The pid cannot be reused while `control` runs: the command is reaped only after
/// `control` has returned.
pub fn run_controlled(spec: &RunSpec, control: impl FnOnce(u32) + Send) -> Result<RunStats> {
    spec::validate(&spec.limits)?;
    crate::change::check_distinct(&spec.changes)?;
    if let Some(allowed) = own_cpus() {
        spec::check_cpus(&spec.limits, &allowed)?;
        for change in &spec.changes {
            if let Some(cpus) = change.cpus {
                let at = format!("--at {:?}: cpus=", change.after);
                spec::cpus_within(&at, cpus, &allowed)?;
            }
            if let Some(list) = &change.cpuset {
                let at = Limits {
                    cpuset: Some(list.clone()),
                    ..Limits::default()
                };
                spec::check_cpus(&at, &allowed).map_err(|e| {
                    Error::Spec(format!("--at {:?}: {e}", crate::change::describe(change)))
                })?;
            }
        }
    }
    let limits = applied(&spec.limits, spec)?;
    let layout = own_layout(&Host::live())?;
    let mut controllers = controllers(&spec.limits, &layout);
    if spec.changes.iter().any(|c| c.cpuset.is_some()) && !controllers.contains(&Controller::Cpuset)
    {
        controllers.push(Controller::Cpuset);
    }
    check_mapped(&layout, &controllers, spec.parent.as_deref())?;
    let forwarding = Forwarding::install();

    // The neighbour starts first, so the workload meets it from its first instruction.
    let neighbour = spec
        .neighbour
        .map(|n| crate::neighbour_run::Running::start(&layout, spec.parent.as_deref(), n))
        .transpose()?;
    let cgroup = Transient::create(&layout, &controllers, spec.parent.as_deref())?;
    let limits = cgroup.apply(limits, spec.limits.memory_swap.is_some())?;

    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args);
    cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
    for (path, is_stdout) in [(&spec.stdout, true), (&spec.stderr, false)] {
        if let Some(path) = path {
            let file = std::fs::File::create(path).map_err(|error| Error::Output {
                path: path.clone(),
                error,
            })?;
            if is_stdout {
                cmd.stdout(file);
            } else {
                cmd.stderr(file);
            }
        }
    }
    let tracker = crate::gomaxprocs_run::Tracker::attach(&mut cmd, spec);
    let procs = cgroup.procs_files()?;
    let setup = Setup::new(spec.isolation);
    // The workload dies with its runner: a `boxwise run` killed with SIGKILL cannot forward
    // anything or clean up, and must not leave the workload running in a cgroup nobody
    // removes. The signal follows the thread that forks, so only where that is this
    // (long-lived) thread: a new pid namespace is forked from a short-lived one, and there
    // the workload is that namespace's init instead.
    let die_with_runner = !spec.isolation.has(crate::spec::Namespace::Pid);
    let runner = nix::unistd::getpid();
    // SAFETY: between fork and exec the closure only makes system calls: write(2) on
    // files opened above (writing "0" moves the writer itself), prctl(2) and getppid(2),
    // then `Setup::enter`, which is async-signal-safe by design.
    unsafe {
        cmd.pre_exec(move || {
            for mut file in &procs {
                file.write_all(b"0")?;
            }
            if die_with_runner {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                    .map_err(std::io::Error::from)?;
                // The runner may have died before the line above took effect.
                if nix::unistd::getppid() != runner {
                    return Err(std::io::Error::other("the runner exited"));
                }
            }
            setup.enter()
        });
    }

    let program = spec.program.to_string_lossy().into_owned();
    let start = Instant::now();
    let mut child = ns::spawn(&mut cmd, spec.isolation).map_err(|error| Error::Spawn {
        program: program.clone(),
        error,
    })?;
    let reader = tracker.and_then(|t| t.start(&mut child, start));
    let pid = child.id();
    let (exit_tx, exit_rx) = std::sync::mpsc::channel::<()>();
    let cgroup_ref = &cgroup;
    let mut changed = Vec::new();
    let status = std::thread::scope(|scope| {
        let controller = scope.spawn(move || control(pid));
        let changer = scope.spawn(move || {
            apply_changes(
                cgroup_ref,
                &spec.changes,
                start,
                &exit_rx,
                spec.on_change.as_ref(),
            )
        });
        let exited = wait_for_exit(&forwarding, &child);
        drop(exit_tx);
        changed = changer.join().unwrap_or_default();
        // Reap only after the controller is done with the pid.
        let _ = controller.join();
        exited.and_then(|()| child.wait())
    })
    .map_err(|error| Error::Wait { program, error })?;
    let wall_seconds = start.elapsed().as_secs_f64();

    let neighbour = neighbour.map(crate::neighbour_run::Running::finish);
    cgroup.kill_all();
    // Everything that held the stderr pipe is gone now, so the reader sees its end.
    let timeline = reader.map(|r| r.join().unwrap_or_default().points);
    let counters = cgroup.counters();
    // The cgroup goes before the handlers do, so a late Ctrl-C cannot interrupt the cleanup.
    drop(cgroup);
    drop(forwarding);
    let mut stats = RunStats::new(status, wall_seconds, counters, limits);
    stats.limit_changes = changed;
    stats.gomaxprocs_timeline = timeline;
    stats.neighbour = neighbour;
    Ok(stats)
}

/// Make each change at its time (sorted), until the command exits (`exited` disconnects).
/// A refused write is recorded, not fatal: the workload keeps running under the old limit.
fn apply_changes(
    cgroup: &Transient,
    changes: &[crate::change::Change],
    start: Instant,
    exited: &std::sync::mpsc::Receiver<()>,
    tell: Option<&std::sync::mpsc::Sender<crate::change::AppliedChange>>,
) -> Vec<crate::change::AppliedChange> {
    let mut order: Vec<_> = changes.iter().collect();
    order.sort_by_key(|c| c.after);
    let mut out = Vec::new();
    for change in order {
        let wait = change.after.saturating_sub(start.elapsed());
        if !matches!(
            exited.recv_timeout(wait),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        ) {
            break;
        }
        let quota = change.cpus.and_then(|c| spec::cpu_quota_us(c).ok());
        let result = cgroup.change(quota, change.memory, change.cpuset.as_deref());
        let applied = crate::change::AppliedChange {
            at_seconds: start.elapsed().as_secs_f64(),
            cpus: change.cpus,
            cpu_quota_us: quota,
            memory_bytes: change.memory,
            cpuset: change.cpuset.clone(),
            error: result.err().map(|e| e.to_string()),
        };
        if let Some(tx) = tell {
            let _ = tx.send(applied.clone());
        }
        out.push(applied);
    }
    out
}

/// Wait for the child to exit, forwarding signals to it, without reaping it, so a signal
/// can never reach a recycled pid.
fn wait_for_exit(forwarding: &Forwarding, child: &Child) -> std::io::Result<()> {
    let registration = forwarding.register(child.id());
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    loop {
        match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
            Ok(_) => break,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    drop(registration);
    Ok(())
}

/// boxwise's own cgroups, from its mountinfo and cgroup files.
fn own_layout(host: &Host) -> Result<Layout> {
    let mounts = host.parse_required("/proc/self/mountinfo".as_ref(), mountinfo::parse)?;
    let lines = host.parse_required("/proc/self/cgroup".as_ref(), proc_cgroup::parse)?;
    // The io controller is not probed, so it is mapped only here, for `--io-*`.
    let mut layout = layout::resolve_with(&mounts, &lines, &[Controller::Io]);
    // In a cgroup namespace without its own cgroupfs mount the directory must be searched
    // for; unfound, it is marked unmapped and `check_mapped` refuses.
    let pid = host.is_live().then(std::process::id);
    locate::locate(
        host,
        &mut layout,
        pid,
        locate::private_cgroup_namespace(host),
    );
    Ok(layout)
}

/// Refuse to run when boxwise's own cgroup could not be mapped to a directory for one of
/// the `controllers` (its path lies outside the root of the cgroup mount, as seen from
/// another cgroup namespace): `layout::resolve` then falls back to the mount point and
/// notes it, and the run's cgroup would land at the root of the hierarchy, outside the
/// cgroup boxwise runs in. An absolute `--parent` says where to put it instead; a relative
/// one would be taken from the same wrong place.
fn check_mapped(layout: &Layout, controllers: &[Controller], parent: Option<&Path>) -> Result<()> {
    if parent.is_some_and(Path::is_absolute) {
        return Ok(());
    }
    let unmapped = controllers.iter().find_map(|&c| {
        let dir = layout.controller(c)?;
        dir.unmapped.then_some((c, dir))
    });
    match unmapped {
        None => Ok(()),
        Some((name, dir)) => Err(Error::Spec(format!(
            "cannot tell where boxwise's own {name} cgroup is: its path {:?} is not beneath \
             the root of the cgroup mount at {}, so the run's cgroup would land at the \
             hierarchy's root; pass --parent /CGROUP (absolute, below {}) to say where it goes",
            dir.cgroup_path,
            dir.mount_point.display(),
            dir.mount_point.display()
        ))),
    }
}

/// The controllers the run needs: cpu, cpuacct and memory always (their counters are the
/// stats), pids when limited or available, cpuset only when asked for.
fn controllers(limits: &Limits, layout: &Layout) -> Vec<Controller> {
    let mut out = vec![Controller::Cpu, Controller::Memory];
    if layout.controller(Controller::Cpuacct).is_some() {
        out.push(Controller::Cpuacct);
    }
    if limits.pids.is_some() || layout.controller(Controller::Pids).is_some() {
        out.push(Controller::Pids);
    }
    if limits.cpuset.is_some() {
        out.push(Controller::Cpuset);
    }
    if limits.io.is_some() {
        out.push(Controller::Io);
    }
    out
}

/// The limits to write (before the kernel has had its say about swap).
fn applied(limits: &Limits, spec: &RunSpec) -> Result<AppliedLimits> {
    let quota = limits.cpus.map(spec::cpu_quota_us).transpose()?;
    Ok(AppliedLimits {
        cpus: limits.cpus,
        cpu_quota_us: quota,
        cpu_period_us: quota.map(|_| CPU_PERIOD_US),
        memory_bytes: limits.memory,
        memory_swap_bytes: spec::swap_total(limits.memory, limits.memory_swap)?,
        pids: limits.pids,
        cpuset: limits.cpuset.clone(),
        io: limits
            .io
            .as_ref()
            .map(|io| {
                spec::io_device(io).map(|device| boxwise_box::cgroup::io::DeviceCaps {
                    device,
                    caps: io.caps,
                })
            })
            .transpose()?,
        namespaces: spec.isolation.namespaces(),
        cgroup_version: "none",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(mounts: &str, cgroup: &str) -> Layout {
        layout::resolve(
            &mountinfo::parse(mounts).unwrap(),
            &proc_cgroup::parse(cgroup).unwrap(),
        )
    }

    /// v1, memory mounted with the root of another container's cgroup: boxwise's memory
    /// path cannot be mapped; cpu is fine.
    const V1_UNMAPPED_MEMORY: &str = "\
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
";
    const V1_CGROUP: &str = "4:memory:/other/ctr\n1:cpu:/user.slice\n";

    #[test]
    fn an_unmapped_controller_needs_an_absolute_parent() {
        let l = layout(V1_UNMAPPED_MEMORY, V1_CGROUP);
        assert_eq!(l.notes.len(), 1, "{:?}", l.notes);
        let e = check_mapped(&l, &[Controller::Cpu, Controller::Memory], None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("own memory cgroup")
                && e.contains("\"/other/ctr\"")
                && e.contains("/sys/fs/cgroup/memory")
                && e.contains("pass --parent")
                && !e.contains('\n'),
            "{e}"
        );
        // A relative --parent would be taken from the mount point too.
        assert!(check_mapped(&l, &[Controller::Memory], Some(Path::new("bench"))).is_err());
        assert!(check_mapped(&l, &[Controller::Memory], Some(Path::new("/bench"))).is_ok());
        // Controllers the run does not use do not matter.
        assert!(check_mapped(&l, &[Controller::Cpu], None).is_ok());
    }

    #[test]
    fn mapped_layouts_pass() {
        // Mapped below the mount point.
        let l = layout(
            V1_UNMAPPED_MEMORY,
            "4:memory:/docker/abc/x\n1:cpu:/user.slice\n",
        );
        assert!(l.notes.is_empty());
        assert!(check_mapped(&l, &[Controller::Cpu, Controller::Memory], None).is_ok());
        // At the mount point by right: a private cgroup namespace (path `/`), v2.
        let l = layout(
            "1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
            "0::/\n",
        );
        assert_eq!(
            l.controller(Controller::Memory).unwrap().dir,
            Path::new("/sys/fs/cgroup")
        );
        assert!(
            check_mapped(
                &l,
                &[Controller::Cpu, Controller::Memory, Controller::Pids],
                None
            )
            .is_ok()
        );
        // v2, the path outside the mount's root: the unified directory serves every
        // controller, so all of them are unmapped.
        let l = layout(
            "1 0 0:1 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
            "0::/kubepods/pod2/ctr\n",
        );
        let e = check_mapped(&l, &[Controller::Cpu, Controller::Memory], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("own cpu cgroup"), "{e}");
    }
}
