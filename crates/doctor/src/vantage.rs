//! What boxwise cannot see from where it runs: limits set above a container's own cgroup.

use boxwise_box::cgroup::Controller;
use boxwise_box::layout::Hierarchy;

use crate::facts::Facts;
use crate::finding::{Finding, FindingId, Severity, finding};

/// `ancestors-hidden`: the cgroup tree above the visible one cannot be read, so a quota or
/// memory limit on a parent (a Kubernetes pod, Docker's `--cgroup-parent`) may bind the
/// program while every number here says otherwise.
pub(crate) fn hidden_ancestors(f: &Facts, out: &mut Vec<Finding>) {
    let info = f.info;
    if !info.cgroup.ancestors_hidden {
        return;
    }
    // The controllers whose limits the advice rests on.
    let mut evidence: Vec<String> = Vec::new();
    for c in [Controller::Cpu, Controller::Memory] {
        if let Some(d) = info
            .cgroup
            .controllers
            .get(&c)
            // v1's hierarchical_memory_limit shows a parent's memory limit even so.
            .filter(|d| {
                d.ancestors_hidden && !(c == Controller::Memory && d.hierarchy == Hierarchy::V1)
            })
        {
            let line = format!(
                "the top {} cgroup visible is {} (cgroup {}), not the hierarchy's root",
                c,
                d.mount_point.display(),
                d.cgroup_path
            );
            evidence.push(line);
        }
    }
    let nothing_seen =
        info.cpu.quota.is_none() && info.memory.limit_bytes.is_none() && info.memory.high.is_none();
    if nothing_seen {
        evidence.push(format!(
            "seen from here: cpu quota {}, memory limit {}",
            info.cpu
                .quota
                .as_ref()
                .map_or("none".into(), |q| format!("{} CPUs", q.cores)),
            info.memory
                .limit_bytes
                .map_or("none".into(), |b| format!("{b} bytes")),
        ));
    }
    let pid = info.pid.map_or("PID".to_string(), |p| p.to_string());
    out.push(finding(
        FindingId::AncestorsHidden,
        // Where no limit is seen, the advice may be far off; otherwise it is a caveat.
        if nothing_seen {
            Severity::Warning
        } else {
            Severity::Info
        },
        "limits set on parent cgroups are hidden from here".into(),
        evidence,
        format!(
            "run `boxwise doctor --pid {pid}` on the host (the node), where the whole cgroup tree is visible; \
             for Docker, PID is `docker inspect -f '{{{{.State.Pid}}}}' NAME`; \
             inside, pass the limits to the program yourself (Kubernetes: the downward API's `limits.cpu`/`limits.memory`)"
        ),
    ));
}
