//! Rules over a short syscall trace's Go reading (`doctor --pid PID --syscalls 5s`): the
//! notes `boxwise syscalls` makes, ranked against the box. Futex storms and spinning are
//! warnings when GOMAXPROCS exceeds the CPU limit (the cause the box can fix), else info.

use crate::facts::{Facts, effective_gomaxprocs};
use crate::finding::{Finding, FindingId, Severity, finding};

pub(crate) fn syscalls(f: &Facts, out: &mut Vec<Finding>) {
    let Some(s) = f.syscalls else { return };
    let procs = effective_gomaxprocs(f).value;
    let limit = f.info.cpu.quota.as_ref().map(|q| q.cores);
    let over = limit.is_some_and(|l| procs as f64 > l.ceil());
    let limit_fix = format!(
        "set GOMAXPROCS to the CPU limit ({}): run the service under `boxwise exec` or build it with Go 1.25+",
        limit.map_or("unknown".to_string(), |l| format!(
            "{l} cores, so {}",
            l.ceil().max(1.0)
        ))
    );
    for n in &s.notes {
        let (id, severity, fix) = match n.id.as_str() {
            "futex_wakeups" if over => (
                FindingId::SyscallsFutexStorm,
                Severity::Warning,
                limit_fix.clone(),
            ),
            "futex_wakeups" => (
                FindingId::SyscallsFutexStorm,
                Severity::Info,
                n.meaning.clone(),
            ),
            "sched_yield_spinning" if over => (
                FindingId::SyscallsSpinning,
                Severity::Warning,
                limit_fix.clone(),
            ),
            "sched_yield_spinning" => (
                FindingId::SyscallsSpinning,
                Severity::Info,
                n.meaning.clone(),
            ),
            _ => (
                FindingId::SyscallsRuntimeActivity,
                Severity::Info,
                n.meaning.clone(),
            ),
        };
        out.push(finding(
            id,
            severity,
            format!("{} in a {:.1} s syscall trace", n.evidence, s.seconds),
            vec![
                format!("{} of {} calls traced", n.evidence, s.total_calls),
                n.meaning.clone(),
                format!("Go source: {}", n.source),
            ],
            fix,
        ));
    }
}
