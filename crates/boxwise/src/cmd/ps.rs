//! `boxwise ps`: every Go process on the machine, found by reading the build info of each
//! `/proc/<pid>/exe` (no agent in the process, unlike gops), with its box and settings.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use boxwise_box::goenv::{GoMemLimit, parse_gomemlimit};
use boxwise_box::host::Host;
use boxwise_box::parse::status;
use boxwise_box::policy::{self, Options};
use boxwise_box::probe::{self, Detail, Target};
use boxwise_doctor::{Facts, effective_gomaxprocs};
use boxwise_goprog::{ErrorKind, GoBinary};

use crate::cli::PsArgs;
use crate::report::ps::{self as render, Row};

/// What reading one executable gave: a Go binary, not Go, or not readable by us.
enum Exe {
    Go(Box<GoBinary>),
    NotGo,
    Unreadable(String),
}

pub fn run(args: PsArgs) -> anyhow::Result<ExitCode> {
    let host = args.root.as_ref().map_or_else(Host::live, Host::new);
    let mut pids: Vec<u32> = std::fs::read_dir(host.path(Path::new("/proc")))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    let me = std::process::id();
    // Many processes share one executable; read each file once. Keyed by device and inode:
    // the path is as each process sees it, and two containers' `/app/server` differ.
    let mut seen: HashMap<(u64, u64), Exe> = HashMap::new();
    let mut rows = Vec::new();
    for pid in pids.into_iter().filter(|&p| p != me || !host.is_live()) {
        let exe_link = PathBuf::from(format!("/proc/{pid}/exe"));
        // Kernel threads and exited processes have no executable: not ours to list.
        let Ok(target) = std::fs::read_link(host.path(&exe_link)) else {
            if let Some(row) = unreadable_row(&host, pid) {
                rows.push(row);
            }
            continue;
        };
        let meta = match std::fs::metadata(host.path(&exe_link)) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                rows.push(Row::unreadable(
                    pid,
                    name(&host, pid),
                    format!("cannot read /proc/{pid}/exe: {e}"),
                ));
                continue;
            }
            // Exited meanwhile.
            Err(_) => continue,
        };
        use std::os::unix::fs::MetadataExt;
        let exe = seen.entry((meta.dev(), meta.ino())).or_insert_with(|| {
            match GoBinary::read(host.path(&exe_link)) {
                Ok(b) => Exe::Go(Box::new(b)),
                Err(e) => match e.kind {
                    ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
                        Exe::Unreadable(io.to_string())
                    }
                    _ => Exe::NotGo,
                },
            }
        });
        match exe {
            Exe::Go(b) => rows.push(go_row(&host, pid, target, b)),
            Exe::Unreadable(why) => rows.push(Row::unreadable(pid, name(&host, pid), why.clone())),
            Exe::NotGo => {}
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", render::table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

fn name(host: &Host, pid: u32) -> Option<String> {
    host.parse(Path::new(&format!("/proc/{pid}/status")), status::parse)
        .ok()
        .flatten()?
        .name
}

/// A process whose executable link we may not read (not root): listed if it looks like a
/// user process, so the user knows the list is incomplete.
fn unreadable_row(host: &Host, pid: u32) -> Option<Row> {
    let err = std::fs::read_link(host.path(Path::new(&format!("/proc/{pid}/exe")))).err()?;
    (err.kind() == std::io::ErrorKind::PermissionDenied).then(|| {
        Row::unreadable(
            pid,
            name(host, pid),
            format!("cannot read /proc/{pid}/exe: {err}"),
        )
    })
}

fn go_row(host: &Host, pid: u32, exe: PathBuf, b: &GoBinary) -> Row {
    let status = host
        .parse(Path::new(&format!("/proc/{pid}/status")), status::parse)
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut row = Row::unreadable(pid, status.name.clone(), String::new());
    row.error = None;
    row.exe = Some(exe);
    row.go_version = Some(b.go_version.clone());
    row.threads = status.threads;
    row.rss_bytes = status.vm_rss_bytes;
    let target = Target {
        pid: Some(pid),
        detail: Detail::Full,
        own_env: None,
    };
    let info = match probe::probe(host, &target) {
        Ok(info) => info,
        Err(e) => {
            row.error = Some(e.to_string());
            return row;
        }
    };
    let rec = policy::recommend(&info, &Options::default());
    let facts = Facts {
        info: &info,
        rec: &rec,
        binary: Some(b),
        env_owner: format!("pid {pid}"),
        profile: None,
    };
    let procs = effective_gomaxprocs(&facts);
    row.gomaxprocs = Some(procs.value);
    row.gomaxprocs_from_env = info.go_env.gomaxprocs_value().is_some();
    row.gomemlimit_bytes = match info.go_env.gomemlimit.as_deref().map(parse_gomemlimit) {
        Some(Ok(GoMemLimit::Bytes(n))) => Some(n),
        _ => None,
    };
    row.gomemlimit = info.go_env.gomemlimit.clone();
    row.gogc = Some(info.go_env.gogc.clone().unwrap_or_else(|| "100".into()));
    row.memory_limit_bytes = info.memory.limit_bytes;
    row.cpu_quota_cores = info.cpu.quota.as_ref().map(|q| q.cores);
    row.effective_cores = Some(info.cpu.effective_cores);
    row.container_runtime = Some(format!("{:?}", info.container.runtime).to_lowercase());
    row.container_id = info.container.id.clone();
    row.recommended_gomaxprocs = Some(rec.gomaxprocs);
    row.recommended_gomemlimit_bytes = rec.gomemlimit_bytes;
    row
}
