//! Rules over a CPU profile's summary (`boxwise pprof summary`): where the CPU goes by
//! category, read against the box. The caller fills `ProfileFacts` (in `facts`) from the
//! pprof crate, so this crate stays free of it. Thresholds match the summary's readings (docs/pprof.md).

use boxwise_box::units;

use crate::facts::{
    Facts, ProfileFacts, effective_gomaxprocs, limit_words, lowest_memory_limit, quota_words,
};
use crate::finding::{Finding, FindingId, Severity, env_fix, finding};

/// GC share (percent of CPU) from which `profile-gc-heavy` fires.
pub const GC_PERCENT: f64 = 25.0;
/// Allocation share for `profile-malloc-heavy`.
pub const MALLOC_PERCENT: f64 = 15.0;
/// Scheduler and futex share for `profile-scheduler-heavy`.
pub const SCHEDULER_PERCENT: f64 = 10.0;
/// Lock share for `profile-lock-contention`.
pub const LOCKS_PERCENT: f64 = 10.0;
/// Syscall and network poller share for `profile-syscall-heavy`.
pub const SYSCALLS_PERCENT: f64 = 30.0;
/// cgo share for `profile-cgo-heavy`.
pub const CGO_PERCENT: f64 = 10.0;

/// The profile rules, or `profile-not-cpu` for a profile of something else.
pub(crate) fn profile(f: &Facts, out: &mut Vec<Finding>) {
    let Some(p) = f.profile else { return };
    if !p.is_cpu() {
        out.push(finding(
            FindingId::ProfileNotCpu,
            Severity::Info,
            format!(
                "the profile is {} ({}), not CPU time: the profile rules read CPU profiles only",
                p.sample_type, p.sample_unit
            ),
            vec![format!("sample type {}/{} in {}", p.sample_type, p.sample_unit, p.source)],
            "pass a CPU profile: `--profile http://HOST:PORT/debug/pprof/profile?seconds=30`, or a file from `go test -cpuprofile` / `pprof.StartCPUProfile`".into(),
        ));
        return;
    }
    gc(f, p, out);
    scheduler(f, p, out);
    locks(f, p, out);
    if p.percent("malloc") >= MALLOC_PERCENT {
        out.push(finding(
            FindingId::ProfileMallocHeavy,
            Severity::Info,
            format!("allocation is {}% of CPU", units::decimal(p.percent("malloc"), 0)),
            vec![p.share_words("malloc", "allocation")],
            "find the allocating call sites with `boxwise pprof top --sample-index alloc_space http://HOST:PORT/debug/pprof/allocs` and reuse buffers (sync.Pool, preallocated slices); fewer allocations also mean less GC".into(),
        ));
    }
    if p.percent("syscalls") >= SYSCALLS_PERCENT {
        out.push(finding(
            FindingId::ProfileSyscallHeavy,
            Severity::Info,
            format!(
                "syscalls and the network poller are {}% of CPU: the service is I/O bound",
                units::decimal(p.percent("syscalls"), 0)
            ),
            vec![p.share_words("syscalls", "syscalls/netpoll")],
            "batch small writes (bufio.Writer), use larger read buffers, and avoid per-request file opens; `strace -c -f -p PID` counts the calls".into(),
        ));
    }
    if p.percent("cgo") >= CGO_PERCENT {
        out.push(finding(
            FindingId::ProfileCgoHeavy,
            Severity::Info,
            format!("cgo calls are {}% of CPU", units::decimal(p.percent("cgo"), 0)),
            vec![p.share_words("cgo", "cgo")],
            "each running C call holds an OS thread outside GOMAXPROCS: bound concurrent C calls (a semaphore), or batch them so fewer cross the boundary".into(),
        ));
    }
}

fn gc(f: &Facts, p: &ProfileFacts, out: &mut Vec<Finding>) {
    let gc = p.percent("gc");
    if gc < GC_PERCENT {
        return;
    }
    let mut evidence = vec![p.share_words("gc", "GC")];
    let env = &f.info.go_env;
    let limit = lowest_memory_limit(f.info);
    if let Some(l) = limit {
        evidence.push(limit_words(l));
    }
    evidence.push(match &env.gomemlimit {
        Some(v) => format!("GOMEMLIMIT={v} in the environment of {}", f.env_owner),
        None => format!(
            "GOMEMLIMIT is not set in the environment of {}",
            f.env_owner
        ),
    });
    if let Some(g) = &env.gogc {
        evidence.push(format!("GOGC={g} in the environment of {}", f.env_owner));
    }
    // The pacer runs a quarter of GOMAXPROCS as dedicated mark workers: sized from Ps, not
    // from the quota, so too many Ps make each GC cycle ask for more CPU than the box has.
    let eff = effective_gomaxprocs(f);
    let too_many_procs = eff.value > f.rec.gomaxprocs;
    if too_many_procs {
        evidence.push(format!(
            "GOMAXPROCS {} but the box allows {}: the GC's background mark workers are a quarter of GOMAXPROCS, all paid from the same quota",
            eff.value,
            units::cpus(f.info.cpu.effective_cores)
        ));
    }
    let fix = match (env.gomemlimit.is_some(), f.rec.gomemlimit_bytes) {
        (false, Some(b)) => format!(
            "{}; then raise GOGC (e.g. GOGC=200) so the GC runs less often while the limit still caps the heap; confirm with GODEBUG=gctrace=1 (`boxwise gctrace`)",
            env_fix("GOMEMLIMIT", &b.to_string())
        ),
        _ => "raise GOGC (e.g. GOGC=200) or the memory limit if the heap is close to GOMEMLIMIT, and cut allocations (`boxwise pprof top` on the allocs profile); confirm with GODEBUG=gctrace=1 (`boxwise gctrace`)".into(),
    };
    let fix = if too_many_procs {
        format!(
            "first {}; then, if GC stays high: {fix}",
            env_fix("GOMAXPROCS", &f.rec.gomaxprocs.to_string())
        )
    } else {
        fix
    };
    out.push(finding(
        FindingId::ProfileGcHeavy,
        Severity::Warning,
        format!("GC is {}% of CPU", units::decimal(gc, 0)),
        evidence,
        fix,
    ));
}

fn scheduler(f: &Facts, p: &ProfileFacts, out: &mut Vec<Finding>) {
    let sched = p.percent("scheduler");
    if sched < SCHEDULER_PERCENT {
        return;
    }
    let mut evidence = vec![p.share_words("scheduler", "scheduler and futex")];
    let eff = effective_gomaxprocs(f);
    let cores = f.info.cpu.effective_cores;
    let above = eff.value > f.rec.gomaxprocs;
    evidence.push(eff.how.clone());
    if let Some(q) = &f.info.cpu.quota {
        evidence.push(quota_words(q));
    }
    if let Some(t) = f.info.cpu.throttling.as_ref().filter(|t| t.nr_periods > 0) {
        evidence.push(format!(
            "{} of {} periods throttled from {}",
            t.nr_throttled,
            t.nr_periods,
            t.source.display()
        ));
    }
    let (title, fix) = if above {
        (
            format!(
                "scheduler and futex are {}% of CPU and GOMAXPROCS {} exceeds the {} the box allows: idle Ps spin and park instead of working",
                units::decimal(sched, 0),
                eff.value,
                units::cpus(cores)
            ),
            env_fix("GOMAXPROCS", &f.rec.gomaxprocs.to_string()),
        )
    } else {
        (
            format!("scheduler and futex are {}% of CPU", units::decimal(sched, 0)),
            "look for goroutine churn: many short-lived goroutines, tight timers or tickers, unbuffered channel ping-pong between goroutines; GODEBUG=schedtrace=1000 (`boxwise schedtrace`) shows idle and spinning Ps".into(),
        )
    };
    out.push(finding(
        FindingId::ProfileSchedulerHeavy,
        Severity::Warning,
        title,
        evidence,
        fix,
    ));
}

fn locks(f: &Facts, p: &ProfileFacts, out: &mut Vec<Finding>) {
    let locks = p.percent("locks");
    if locks < LOCKS_PERCENT {
        return;
    }
    let mut evidence = vec![p.share_words("locks", "lock contention")];
    if let Some(t) = f
        .info
        .cpu
        .throttling
        .as_ref()
        .filter(|t| t.nr_throttled > 0)
    {
        evidence.push(format!(
            "{} of {} periods throttled from {}: a lock holder that is throttled stalls every waiter",
            t.nr_throttled,
            t.nr_periods,
            t.source.display()
        ));
    }
    out.push(finding(
        FindingId::ProfileLockContention,
        Severity::Warning,
        format!("lock contention is {}% of CPU", units::decimal(locks, 0)),
        evidence,
        "find the contended locks in the mutex profile (`runtime.SetMutexProfileFraction(5)`, then `boxwise pprof top http://HOST:PORT/debug/pprof/mutex`); shard the lock or shorten its critical section, and keep GOMAXPROCS at or below the quota so holders are not throttled".into(),
    ));
}
