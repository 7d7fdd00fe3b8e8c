//! Compose files: services' CPU and memory limits against their Go environment.

use boxwise_box::units::parse_size;

use crate::fix::Edit;
use crate::gojudge::{self, MemSource, Verdict};
use crate::yaml::{Node, Value};
use crate::{Hit, Position, Rule, Severity};

pub static NO_LIMITS: Rule = Rule {
    id: "compose/no-limits",
    severity: Severity::Warning,
    summary: "a service without a CPU or memory limit",
};
pub static GOMAXPROCS: Rule = Rule {
    id: "compose/gomaxprocs-vs-cpu-limit",
    severity: Severity::Warning,
    summary: "GOMAXPROCS in environment disagrees with the CPU limit",
};
pub static MEM_OVER: Rule = Rule {
    id: "compose/gomemlimit-over-limit",
    severity: Severity::Error,
    summary: "GOMEMLIMIT at or above the memory limit",
};
pub static MEM_HEADROOM: Rule = Rule {
    id: "compose/gomemlimit-no-headroom",
    severity: Severity::Warning,
    summary: "GOMEMLIMIT above 90% of the memory limit",
};
pub static MEM_MALFORMED: Rule = Rule {
    id: "compose/gomemlimit-malformed",
    severity: Severity::Error,
    summary: "GOMEMLIMIT that Go rejects",
};
pub static RESERVATIONS_ABOVE: Rule = Rule {
    id: "compose/reservations-above-limits",
    severity: Severity::Error,
    summary: "deploy.resources.reservations above limits",
};

pub static ALL: &[&Rule] = &[
    &NO_LIMITS,
    &GOMAXPROCS,
    &MEM_OVER,
    &MEM_HEADROOM,
    &MEM_MALFORMED,
    &RESERVATIONS_ABOVE,
];

/// A Compose file has a `services` mapping and no Kubernetes `kind`.
pub fn is_compose(doc: &Node) -> bool {
    doc.get("kind").is_none()
        && matches!(doc.get("services").map(|s| &s.value), Some(Value::Map(_)))
}

fn cpus_millis(s: &str) -> Option<u64> {
    let v: f64 = s.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| (v * 1000.0).round() as u64)
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

/// `environment` as a map or as a list of `KEY=value`, with each value's position and
/// whether it is the list form (where the position is the `KEY=` item, not the value).
fn environment(svc: &Node) -> Vec<(String, String, Position, bool)> {
    let Some(env) = svc.get("environment") else {
        return Vec::new();
    };
    match &env.value {
        Value::Map(m) => m
            .iter()
            .map(|(k, _, v)| (k.clone(), v.str().unwrap_or("").to_string(), v.pos, false))
            .collect(),
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| {
                let (k, v) = i.str()?.split_once('=')?;
                Some((k.to_string(), v.to_string(), i.pos, true))
            })
            .collect(),
        _ => Vec::new(),
    }
}

pub fn lint(doc: &Node) -> Vec<Hit> {
    let mut hits = Vec::new();
    let Some(services) = doc.get("services") else {
        return hits;
    };
    let entries = services.entries();
    for (i, (name, key_pos, svc)) in entries.iter().enumerate() {
        // The lines this service's own mapping spans: a value outside them came through an
        // anchor or merge key and may be shared, so --fix leaves it alone.
        let own = key_pos.line..entries.get(i + 1).map_or(usize::MAX, |e| e.1.line);
        let edit = |p: Position, list: bool, key: &str, value: &str| {
            own.contains(&p.line).then(|| Edit::Value {
                pos: p,
                text: if list {
                    format!("{key}={value}")
                } else {
                    format!("\"{value}\"")
                },
            })
        };
        let limits = svc.at(&["deploy", "resources", "limits"]);
        let reservations = svc.at(&["deploy", "resources", "reservations"]);
        let s = |n: Option<&Node>, k: &str| {
            n.and_then(|n| n.get(k))
                .and_then(Node::str)
                .map(str::to_string)
        };
        let cpu = s(limits, "cpus").or_else(|| s(Some(svc), "cpus"));
        let mem = s(limits, "memory").or_else(|| s(Some(svc), "mem_limit"));
        let cpu_m = cpu.as_deref().and_then(cpus_millis);
        let mem_b = mem.as_deref().and_then(|m| parse_size(m).ok());
        if cpu.is_none() || mem.is_none() {
            let missing = match (cpu.is_none(), mem.is_none()) {
                (true, true) => "CPU or memory limit",
                (true, false) => "CPU limit",
                _ => "memory limit",
            };
            hits.push(hit(&NO_LIMITS, *key_pos,
                format!("service {name} has no {missing}: the Go runtime sizes GOMAXPROCS and the heap from the container's limits, and without them it uses the whole host"),
                format!("services.{name}: no deploy.resources.limits"),
                format!("deploy:\n  resources:\n    limits:\n      cpus: \"{}\"\n      memory: {}", cpu.clone().unwrap_or_else(|| "<cpus>".into()), mem.clone().unwrap_or_else(|| "<memory>".into()))));
        }
        for (k, parse) in [
            ("cpus", cpus_millis as fn(&str) -> Option<u64>),
            ("memory", |m: &str| parse_size(m).ok()),
        ] {
            if let (Some(r), Some(l)) = (s(reservations, k), s(limits, k))
                && let (Some(rv), Some(lv)) = (parse(&r), parse(&l))
                && rv > lv
            {
                let p = reservations.map(|n| n.key_pos(k)).unwrap_or(*key_pos);
                hits.push(hit(&RESERVATIONS_ABOVE, p,
                            format!("service {name} reserves {k} {r} but is limited to {l}: the reservation can never be used and Swarm cannot place it sensibly"),
                            format!("reservations.{k}: {r}, limits.{k}: {l}"),
                            format!("reservations:\n  {k}: {l}")));
            }
        }
        for (k, v, p, list) in environment(svc) {
            match k.as_str() {
                "GOMAXPROCS" => {
                    if let Some(j) = gojudge::gomaxprocs(&v, cpu_m) {
                        let fv = j.fix_value.unwrap_or_default();
                        let mut h = hit(
                            &GOMAXPROCS,
                            p,
                            format!("service {name}: {}", j.message),
                            format!("GOMAXPROCS={v}, cpus: {}", cpu.clone().unwrap_or_default()),
                            format!("GOMAXPROCS: \"{fv}\""),
                        );
                        h.edit = edit(p, list, &k, &fv);
                        hits.push(h);
                    }
                }
                "GOMEMLIMIT" => {
                    if let Some(j) = gojudge::gomemlimit(&MemSource::Literal(v.clone()), mem_b) {
                        let rule = match j.verdict {
                            Verdict::GomemlimitOverLimit => &MEM_OVER,
                            Verdict::GomemlimitNoHeadroom => &MEM_HEADROOM,
                            _ => &MEM_MALFORMED,
                        };
                        let mut h = hit(
                            rule,
                            p,
                            format!("service {name}: {}", j.message),
                            format!(
                                "GOMEMLIMIT={v}, memory: {}",
                                mem.clone().unwrap_or_default()
                            ),
                            match &j.fix_value {
                                Some(f) => format!("GOMEMLIMIT: \"{f}\""),
                                None => "set a memory limit, then GOMEMLIMIT to 90% of it".into(),
                            },
                        );
                        h.edit = j.fix_value.and_then(|f| edit(p, list, &k, &f));
                        hits.push(h);
                    }
                }
                _ => {}
            }
        }
    }
    hits
}
