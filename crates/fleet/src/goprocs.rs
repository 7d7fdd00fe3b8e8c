//! The Go processes, each judged against its box: `boxwise-goprog` finds them (as `ps`
//! does), `boxwise-box` probes the box and recommends, `boxwise-doctor` names what is off.

use std::collections::HashMap;

use boxwise_box::BoxInfo;
use boxwise_box::cgroup::Controller;
use boxwise_box::goenv::{GoMemLimit, parse_gomemlimit};
use boxwise_box::host::Host;
use boxwise_box::policy::{self, Options as PolicyOptions};
use boxwise_box::probe::{self, Detail, Target};
use boxwise_doctor::{Facts, FindingId, diagnose, effective_gomaxprocs};
use boxwise_goprog::process::{Found, Kind, discover};

use crate::Options;
use crate::hierarchy::Hierarchies;
use crate::model::{FindingRef, GoProcess};
use crate::walk::container_of;

/// Judgements kept between snapshots, so a live view need not probe every process on every
/// refresh: a process keeps its judgement for `reuse` snapshots, keyed by pid, program and
/// Go version (a reused pid running another program is judged afresh).
#[derive(Debug, Default)]
pub struct JudgeCache {
    pub reuse: u32,
    kept: HashMap<(u32, Option<String>, String), (GoProcess, u32)>,
}

impl JudgeCache {
    pub fn new(reuse: u32) -> JudgeCache {
        JudgeCache {
            reuse,
            kept: HashMap::new(),
        }
    }
}

/// The Go processes (at most `opts.max_processes`), what went wrong, and whether the cap
/// cut the list short. With a cache, recent judgements are reused (the RSS is fresh).
pub fn collect(
    host: &Host,
    h: &Hierarchies,
    opts: &Options,
    mut cache: Option<&mut JudgeCache>,
) -> (Vec<GoProcess>, Vec<String>, bool) {
    let found = match discover(host, opts.skip_pid) {
        Ok(f) => f,
        Err(e) => return (Vec::new(), vec![format!("cannot list /proc: {e}")], false),
    };
    let mut errors = Vec::new();
    let go: Vec<Found> = found
        .into_iter()
        .filter(|f| match &f.kind {
            Kind::Go { .. } => true,
            Kind::Unreadable(why) => {
                errors.push(why.clone());
                false
            }
        })
        .collect();
    let truncated = go.len() > opts.max_processes;
    let mut procs = Vec::new();
    let mut seen = Vec::new();
    for f in go.into_iter().take(opts.max_processes) {
        let Some(cache) = cache.as_deref_mut() else {
            procs.push(judge(host, h, f));
            continue;
        };
        let Kind::Go { binary, .. } = &f.kind else {
            continue;
        };
        let key = (f.pid, f.status.name.clone(), binary.go_version.clone());
        let rss = f.status.vm_rss_bytes;
        let p = match cache.kept.get_mut(&key) {
            Some((p, age)) if *age < cache.reuse => {
                *age += 1;
                p.rss_bytes = rss;
                p.clone()
            }
            _ => {
                let p = judge(host, h, f);
                cache.kept.insert(key.clone(), (p.clone(), 0));
                p
            }
        };
        seen.push(key);
        procs.push(p);
    }
    if let Some(cache) = cache {
        cache.kept.retain(|k, _| seen.contains(k));
    }
    (procs, errors, truncated)
}

fn judge(host: &Host, h: &Hierarchies, found: Found) -> GoProcess {
    let Found { pid, status, kind } = found;
    let Kind::Go { binary, .. } = kind else {
        unreachable!("only Go processes are judged")
    };
    let mut p = GoProcess {
        pid,
        name: status.name.clone(),
        cgroup: None,
        container: None,
        container_name: None,
        go_version: Some(binary.go_version.clone()),
        rss_bytes: status.vm_rss_bytes,
        gomaxprocs: None,
        gomaxprocs_recommended: None,
        gomemlimit_bytes: None,
        gomemlimit_recommended_bytes: None,
        gogc: None,
        cpu_quota_cores: None,
        memory_limit_bytes: None,
        gomaxprocs_fit: None,
        gomemlimit_fit: None,
        findings: Vec::new(),
        error: None,
    };
    let target = Target {
        pid: Some(pid),
        detail: Detail::Full,
        own_env: None,
    };
    let info = match probe::probe(host, &target) {
        Ok(info) => info,
        Err(e) => {
            p.error = Some(e.to_string());
            return p;
        }
    };
    let rec = policy::recommend(&info, &PolicyOptions::default());
    let facts = Facts {
        info: &info,
        rec: &rec,
        binary: Some(&binary),
        env_owner: format!("pid {pid}"),
        profile: None,
        oom_history: None,
        syscalls: None,
    };
    let findings = diagnose(&facts);
    let has = |ids: &[FindingId]| findings.iter().any(|f| ids.contains(&f.id));
    p.cgroup = cgroup_id(&info, h);
    p.container = p.cgroup.as_deref().and_then(container_of);
    p.gomaxprocs = Some(effective_gomaxprocs(&facts).value);
    p.gomaxprocs_recommended = Some(rec.gomaxprocs);
    p.gomemlimit_bytes = match info.go_env.gomemlimit.as_deref().map(parse_gomemlimit) {
        Some(Ok(GoMemLimit::Bytes(n))) => Some(n),
        _ => None,
    };
    p.gomemlimit_recommended_bytes = rec.gomemlimit_bytes;
    p.gogc = Some(info.go_env.gogc.clone().unwrap_or_else(|| "100".into()));
    p.cpu_quota_cores = info.cpu.quota.as_ref().map(|q| q.cores);
    p.memory_limit_bytes = info.memory.limit_bytes;
    p.gomaxprocs_fit = Some(!has(&[
        FindingId::GomaxprocsAboveCpuLimit,
        FindingId::GomaxprocsBelowCpuLimit,
    ]));
    p.gomemlimit_fit = Some(!has(&[
        FindingId::GomemlimitUnset,
        FindingId::GomemlimitAboveLimit,
        FindingId::GomemlimitMalformed,
        FindingId::GogcOffWithoutLimit,
    ]));
    p.findings = findings
        .iter()
        .map(|f| FindingRef {
            id: f.id.as_str().to_string(),
            severity: f.severity.as_str().to_string(),
        })
        .collect();
    p
}

/// The id of the cgroup whose counters the walk reports for this process: its path in the
/// cpu hierarchy (unified on v2), mapped like the walk's ids.
fn cgroup_id(info: &BoxInfo, h: &Hierarchies) -> Option<String> {
    let dir = match h.cpu.as_ref()?.hierarchy {
        boxwise_box::layout::Hierarchy::V1 => info.cgroup.controllers.get(&Controller::Cpu)?,
        boxwise_box::layout::Hierarchy::V2 => info.cgroup.unified.as_ref()?,
    };
    Some(crate::hierarchy::normalize(&dir.cgroup_path))
}
