//! Kubernetes manifests: workloads (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
//! CronJob) and Services, judged for what a Go container needs.

use crate::fix::Edit;
use crate::gojudge::{self, MemSource, Verdict};
use crate::yaml::{Node, Value};
use crate::{Hit, Position, Rule, Severity};

pub static NO_LIMITS: Rule = Rule {
    id: "k8s/no-limits",
    severity: Severity::Warning,
    summary: "a container without limits.cpu or limits.memory",
};
pub static POD_RESOURCES: Rule = Rule {
    id: "k8s/pod-resources-without-container-limits",
    severity: Severity::Warning,
    summary: "pod-level resources, but a container has no limits of its own",
};
pub static GOMAXPROCS: Rule = Rule {
    id: "k8s/gomaxprocs-vs-cpu-limit",
    severity: Severity::Warning,
    summary: "GOMAXPROCS disagrees with limits.cpu",
};
pub static MEM_OVER: Rule = Rule {
    id: "k8s/gomemlimit-over-limit",
    severity: Severity::Error,
    summary: "GOMEMLIMIT at or above limits.memory",
};
pub static MEM_HEADROOM: Rule = Rule {
    id: "k8s/gomemlimit-no-headroom",
    severity: Severity::Warning,
    summary: "GOMEMLIMIT is 100% of limits.memory (Downward API) or above 90% of it",
};
pub static MEM_MALFORMED: Rule = Rule {
    id: "k8s/gomemlimit-malformed",
    severity: Severity::Error,
    summary: "GOMEMLIMIT that Go rejects or misreads",
};
pub static REQUESTS_ABOVE: Rule = Rule {
    id: "k8s/requests-above-limits",
    severity: Severity::Error,
    summary: "requests above limits",
};
pub static RESIZE_FIXED: Rule = Rule {
    id: "k8s/resize-with-fixed-gomaxprocs",
    severity: Severity::Warning,
    summary: "in-place CPU resize with a fixed GOMAXPROCS",
};
pub static RESIZE_GO125: Rule = Rule {
    id: "k8s/resize-needs-go-1.25",
    severity: Severity::Info,
    summary: "in-place CPU resize: only Go 1.25+ follows a changed limit",
};
pub static PPROF_SERVICE: Rule = Rule {
    id: "k8s/pprof-port-in-service",
    severity: Severity::Warning,
    summary: "a Service publishes the pprof port",
};
pub static NO_PROBES: Rule = Rule {
    id: "k8s/no-probes",
    severity: Severity::Warning,
    summary: "a container serving ports without a readiness or liveness probe",
};

pub static ALL: &[&Rule] = &[
    &NO_LIMITS,
    &POD_RESOURCES,
    &GOMAXPROCS,
    &MEM_OVER,
    &MEM_HEADROOM,
    &MEM_MALFORMED,
    &REQUESTS_ABOVE,
    &RESIZE_FIXED,
    &RESIZE_GO125,
    &PPROF_SERVICE,
    &NO_PROBES,
];

/// CPU in millicores from a Kubernetes quantity (`500m`, `1`, `1.5`, `2e3m` is not allowed).
pub fn cpu_millis(q: &str) -> Option<u64> {
    let q = q.trim();
    if let Some(m) = q.strip_suffix('m') {
        return m.parse::<u64>().ok();
    }
    let v: f64 = q.parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| (v * 1000.0).ceil() as u64)
}

/// Bytes from a Kubernetes memory quantity (`512Mi`, `1G`, `1e9`, `129M`, `128974848`).
pub fn mem_bytes(q: &str) -> Option<u64> {
    let q = q.trim();
    const SUFFIXES: [(&str, f64); 13] = [
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("Pi", 1125899906842624.0),
        ("Ei", 1152921504606846976.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
        ("m", 1e-3),
    ];
    let (num, mult) = SUFFIXES
        .iter()
        .find_map(|(s, m)| q.strip_suffix(s).map(|n| (n, *m)))
        .unwrap_or((q, 1.0));
    if num.is_empty() || num.starts_with(['+', '-']) && num.len() == 1 {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    let bytes = (v * mult).ceil();
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// The pod spec of a workload document, if it is one.
fn pod_spec(doc: &Node) -> Option<&Node> {
    let kind = doc.get("kind")?.str()?;
    match kind {
        "Pod" => doc.get("spec"),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            doc.at(&["spec", "template", "spec"])
        }
        "CronJob" => doc.at(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

pub fn lint(doc: &Node) -> Vec<Hit> {
    let mut hits = Vec::new();
    if doc.get("kind").and_then(Node::str) == Some("Service") {
        service(doc, &mut hits);
    }
    let Some(spec) = pod_spec(doc) else {
        return hits;
    };
    let pod_limits = spec.at(&["resources", "limits"]).is_some();
    for c in spec.get("containers").map(Node::seq).unwrap_or(&[]) {
        container(c, pod_limits, false, &mut hits);
    }
    for c in spec.get("initContainers").map(Node::seq).unwrap_or(&[]) {
        // Sidecars (restartPolicy: Always) run beside the app; plain init containers finish
        // first, so limits and probes are not asked of them.
        let sidecar = c.get("restartPolicy").and_then(Node::str) == Some("Always");
        container(c, pod_limits, !sidecar, &mut hits);
    }
    hits
}

fn name(c: &Node) -> String {
    c.get("name")
        .and_then(Node::str)
        .unwrap_or("unnamed")
        .to_string()
}

fn hit(rule: &'static Rule, pos: Position, message: String, evidence: String, fix: String) -> Hit {
    Hit {
        rule,
        pos,
        message,
        evidence,
        fix,
        edit: None,
    }
}

fn container(c: &Node, pod_limits: bool, init: bool, hits: &mut Vec<Hit>) {
    let n = name(c);
    let limits = c.at(&["resources", "limits"]);
    let requests = c.at(&["resources", "requests"]);
    let get = |m: Option<&Node>, k: &str| {
        m.and_then(|m| m.get(k))
            .and_then(Node::str)
            .map(str::to_string)
    };
    let lim_cpu = get(limits, "cpu");
    let lim_mem = get(limits, "memory");
    let req_cpu = get(requests, "cpu");
    let req_mem = get(requests, "memory");
    let cpu_millis_lim = lim_cpu.as_deref().and_then(cpu_millis);
    let mem_lim = lim_mem.as_deref().and_then(mem_bytes);
    let res_pos = c.key_pos("resources");
    let pos = if c.get("resources").is_some() {
        res_pos
    } else {
        c.pos
    };

    if !init && (lim_cpu.is_none() || lim_mem.is_none()) {
        let missing = match (lim_cpu.is_none(), lim_mem.is_none()) {
            (true, true) => "limits.cpu and limits.memory",
            (true, false) => "limits.cpu",
            _ => "limits.memory",
        };
        let fix = format!(
            "resources:\n  limits:\n    cpu: \"{}\"\n    memory: \"{}\"",
            lim_cpu
                .clone()
                .or(req_cpu.clone())
                .unwrap_or_else(|| "<cpu>".into()),
            lim_mem
                .clone()
                .or(req_mem.clone())
                .unwrap_or_else(|| "<memory>".into())
        );
        if pod_limits {
            hits.push(hit(&POD_RESOURCES, pos,
                format!("container {n} has no {missing} of its own while the pod sets pod-level resources: the limit is on the pod's cgroup, and the Go runtime reads only its own container's cgroup, so GOMAXPROCS stays at the node's CPU count and GOMEMLIMIT is unset"),
                format!("containers[{n}].resources: no {missing}"), fix));
        } else {
            let mut h = hit(
                &NO_LIMITS,
                pos,
                format!(
                    "container {n} has no {missing}: the Go runtime sizes GOMAXPROCS and the heap from the container's limits, and without them it uses the whole node's CPUs and has no memory line to collect garbage against"
                ),
                format!("containers[{n}].resources: no {missing}"),
                fix,
            );
            // Safe only when nothing of limits exists, both requests are known and
            // `requests:` starts its own block line: limits equal to the requests go above it.
            if let (None, Some(_), Some(rc), Some(rm)) = (limits, requests, &req_cpu, &req_mem) {
                let req_line = c.get("resources").map(|r| r.key_pos("requests").line);
                // Limits equal to the requests could fall below a GOMEMLIMIT or GOMAXPROCS
                // already set: then a person has to choose.
                let go_env = c.get("env").map(Node::seq).unwrap_or(&[]).iter().any(|e| {
                    matches!(
                        e.get("name").and_then(Node::str),
                        Some("GOMAXPROCS" | "GOMEMLIMIT")
                    )
                });
                if req_line.is_some_and(|l| l != res_pos.line) && !go_env {
                    h.edit = Some(Edit::Insert {
                        before: req_line.unwrap_or(0),
                        text: format!("limits:\n  cpu: \"{rc}\"\n  memory: \"{rm}\""),
                    });
                }
            }
            hits.push(h);
        }
    }

    for (res, req, lim, parse) in [
        (
            "cpu",
            &req_cpu,
            &lim_cpu,
            cpu_millis as fn(&str) -> Option<u64>,
        ),
        ("memory", &req_mem, &lim_mem, mem_bytes),
    ] {
        if let (Some(r), Some(l)) = (req, lim)
            && let (Some(rv), Some(lv)) = (parse(r), parse(l))
            && rv > lv
        {
            let p = requests.map(|m| m.key_pos(res)).unwrap_or(pos);
            hits.push(hit(&REQUESTS_ABOVE, p,
                        format!("container {n} requests {res} {r} but is limited to {l}: the API server rejects a request above its limit"),
                        format!("requests.{res}: {r}, limits.{res}: {l}"),
                        format!("requests:\n  {res}: \"{l}\"")));
        }
    }

    let image = c.get("image").and_then(Node::str).unwrap_or("IMAGE");
    let env = c.get("env").map(Node::seq).unwrap_or(&[]);
    let mut fixed_procs: Option<&Node> = None;
    for e in env {
        let Some(key) = e.get("name").and_then(Node::str) else {
            continue;
        };
        let value = e.get("value").and_then(Node::str);
        match key {
            "GOMAXPROCS" => {
                if let Some(v) = value {
                    fixed_procs = Some(e);
                    if let Some(j) = gojudge::gomaxprocs(v, cpu_millis_lim) {
                        let fv = j.fix_value.unwrap_or_default();
                        let mut h = hit(
                            &GOMAXPROCS,
                            e.key_pos("value"),
                            format!(
                                "container {n}: {}; with Go 1.25+ in the image (`boxwise image {image}` tells) dropping GOMAXPROCS lets the runtime follow the limit",
                                j.message
                            ),
                            format!(
                                "GOMAXPROCS: {v:?}, limits.cpu: {}",
                                lim_cpu.clone().unwrap_or_default()
                            ),
                            format!("- name: GOMAXPROCS\n  value: \"{fv}\""),
                        );
                        h.edit = e.get("value").map(|vn| Edit::Value {
                            pos: vn.pos,
                            text: format!("\"{fv}\""),
                        });
                        hits.push(h);
                    }
                }
            }
            "GOMEMLIMIT" => {
                let src = if let Some(v) = value {
                    MemSource::Literal(v.to_string())
                } else if let Some(r) = e.at(&["valueFrom", "resourceFieldRef"]) {
                    if r.get("resource").and_then(Node::str) != Some("limits.memory") {
                        continue;
                    }
                    let divisor = r
                        .get("divisor")
                        .and_then(Node::str)
                        .and_then(mem_bytes)
                        .unwrap_or(1);
                    MemSource::LimitsMemory { divisor }
                } else {
                    continue;
                };
                if let Some(j) = gojudge::gomemlimit(&src, mem_lim) {
                    let rule = match j.verdict {
                        Verdict::GomemlimitOverLimit => &MEM_OVER,
                        Verdict::GomemlimitNoHeadroom => &MEM_HEADROOM,
                        _ => &MEM_MALFORMED,
                    };
                    let evidence = match &src {
                        MemSource::Literal(v) => format!(
                            "GOMEMLIMIT: {v:?}, limits.memory: {}",
                            lim_mem.clone().unwrap_or_default()
                        ),
                        MemSource::LimitsMemory { divisor } => format!(
                            "GOMEMLIMIT: resourceFieldRef limits.memory (divisor {divisor})"
                        ),
                    };
                    let fix = match &j.fix_value {
                        Some(v) => format!("- name: GOMEMLIMIT\n  value: \"{v}\""),
                        None => "set limits.memory, then GOMEMLIMIT to 90% of it".into(),
                    };
                    let p = if value.is_some() {
                        e.key_pos("value")
                    } else {
                        e.key_pos("valueFrom")
                    };
                    let mut h = hit(
                        rule,
                        p,
                        format!("container {n}: {}", j.message),
                        evidence,
                        fix,
                    );
                    h.edit = match (&j.fix_value, e.get("value"), e.get("valueFrom")) {
                        (Some(v), Some(vn), _) => Some(Edit::Value {
                            pos: vn.pos,
                            text: format!("\"{v}\""),
                        }),
                        (Some(v), None, Some(from)) => value_from_edit(e, from, v),
                        _ => None,
                    };
                    hits.push(h);
                }
            }
            _ => {}
        }
    }

    if let Some(rp) = c.get("resizePolicy") {
        let cpu_resizable = rp
            .seq()
            .iter()
            .any(|p| p.get("resourceName").and_then(Node::str) == Some("cpu"));
        if cpu_resizable {
            let p = c.key_pos("resizePolicy");
            if let Some(e) = fixed_procs {
                let v = e.get("value").and_then(Node::str).unwrap_or("");
                hits.push(hit(&RESIZE_FIXED, p,
                    format!("container {n} allows in-place CPU resize but fixes GOMAXPROCS={v}: after a resize the runtime keeps {v}, throttled under a smaller limit or idle under a larger one"),
                    format!("resizePolicy: cpu, GOMAXPROCS: {v:?}"),
                    "remove the GOMAXPROCS env entry and run Go 1.25+, which re-reads the CPU limit".into()));
            } else {
                hits.push(hit(&RESIZE_GO125, p,
                    format!("container {n} allows in-place CPU resize: only a Go 1.25+ runtime re-reads the CPU limit and changes GOMAXPROCS; the manifest cannot tell the image's Go version, so check it with `boxwise image {image}`"),
                    "resizePolicy: cpu".into(),
                    "build with Go 1.25 or newer (FROM golang:1.25 or later)".into()));
            }
        }
    }

    let ports = c.get("ports").map(Node::seq).unwrap_or(&[]);
    if !init && !ports.is_empty() {
        let missing: Vec<&str> = ["readinessProbe", "livenessProbe"]
            .into_iter()
            .filter(|p| c.get(p).is_none())
            .collect();
        if !missing.is_empty() {
            let port = ports[0]
                .get("containerPort")
                .and_then(Node::str)
                .unwrap_or("8080");
            let what = if missing.len() == 2 {
                "readinessProbe or livenessProbe".to_string()
            } else {
                missing[0].to_string()
            };
            let fix: String = missing
                .iter()
                .map(|p| format!("{p}:\n  httpGet:\n    path: /healthz\n    port: {port}\n"))
                .collect();
            hits.push(hit(&NO_PROBES, c.key_pos("ports"),
                format!("container {n} serves port {port} with no {what}: traffic reaches it before it is ready, and a wedged process (deadlock, exhausted goroutines) is never restarted"),
                format!("containers[{n}]: ports, no {what}"),
                fix.trim_end().to_string()));
        }
    }
}

/// The last line any part of `n` starts on.
fn last_line(n: &Node) -> usize {
    let inner = match &n.value {
        Value::Seq(items) => items.iter().map(last_line).max(),
        Value::Map(m) => m.iter().map(|(_, p, v)| p.line.max(last_line(v))).max(),
        _ => None,
    };
    inner.unwrap_or(0).max(n.pos.line)
}

/// Replace a block-style `valueFrom:` (its own lines, no other key of the env entry among
/// them) by `value: "<v>"`.
fn value_from_edit(entry: &Node, from: &Node, v: &str) -> Option<Edit> {
    let first = entry.key_pos("valueFrom").line;
    let last = last_line(from);
    let others_inside = entry
        .entries()
        .iter()
        .filter(|(k, _, _)| k != "valueFrom")
        .any(|(_, p, v)| (first..=last).contains(&p.line) || (first..=last).contains(&v.pos.line));
    (first > entry.pos.line && !others_inside).then(|| Edit::Lines {
        first,
        last,
        text: format!("value: \"{v}\""),
    })
}

fn service(doc: &Node, hits: &mut Vec<Hit>) {
    for p in doc.at(&["spec", "ports"]).map(Node::seq).unwrap_or(&[]) {
        let port = p.get("port").and_then(Node::str).unwrap_or("");
        let target = p.get("targetPort").and_then(Node::str).unwrap_or("");
        let name = p.get("name").and_then(Node::str).unwrap_or("");
        let pprof = crate::dockerfile::rules::PPROF_PORT.to_string();
        if port == pprof || target == pprof || name.contains("pprof") {
            hits.push(hit(&PPROF_SERVICE, p.pos,
                format!("Service port {port} ({}) reaches net/http/pprof: anyone who can reach the Service can dump the heap, read goroutine stacks and run the CPU profiler; use kubectl port-forward to the pod instead", if name.is_empty() { "unnamed" } else { name }),
                format!("port: {port}, targetPort: {target}"),
                "remove this port from the Service".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quantities() {
        assert_eq!(cpu_millis("500m"), Some(500));
        assert_eq!(cpu_millis("1.5"), Some(1500));
        assert_eq!(cpu_millis("2"), Some(2000));
        assert_eq!(mem_bytes("512Mi"), Some(512 << 20));
        assert_eq!(mem_bytes("1G"), Some(1_000_000_000));
        assert_eq!(mem_bytes("1e9"), Some(1_000_000_000));
        assert_eq!(mem_bytes("Mi"), None);
    }

    proptest! {
        #[test]
        fn quantities_never_panic(s in "\\PC{0,20}") {
            let _ = cpu_millis(&s);
            let _ = mem_bytes(&s);
        }

        #[test]
        fn mebibytes_round_trip(n in 0u64..1 << 30) {
            prop_assert_eq!(mem_bytes(&format!("{n}Mi")), Some(n << 20));
            prop_assert_eq!(cpu_millis(&format!("{n}m")), Some(n));
        }
    }
}
