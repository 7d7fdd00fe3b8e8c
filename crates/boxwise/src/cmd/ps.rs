//! `boxwise ps`: every Go process on the machine with its box and settings. Discovery and
//! the rows live in `boxwise_goprog::process`; this module probes each process's box and
//! judges its GOMAXPROCS.

use std::process::ExitCode;

use boxwise_box::host::Host;
use boxwise_box::policy::{self, Options};
use boxwise_box::probe::{self, Detail, Target};
use boxwise_doctor::{Facts, effective_gomaxprocs};
use boxwise_goprog::GoBinary;
use boxwise_goprog::process::{Found, Kind, Row, discover};

use crate::cli::PsArgs;
use crate::report::ps as render;

pub fn run(args: PsArgs) -> anyhow::Result<ExitCode> {
    if let Some(root) = &args.root {
        super::settings::check_root(root)?;
    }
    let host = args.root.as_ref().map_or_else(Host::live, Host::new);
    let me = host.is_live().then(std::process::id);
    let rows: Vec<Row> = discover(&host, me)?
        .into_iter()
        .map(|found| row(&host, found))
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", render::table(&rows, crate::report::fit::width()));
    }
    Ok(ExitCode::SUCCESS)
}

fn row(host: &Host, found: Found) -> Row {
    let Found { pid, status, kind } = found;
    let (exe, binary) = match kind {
        Kind::Go { exe, binary } => (exe, binary),
        Kind::Unreadable(why) => return Row::unreadable(pid, status.name, why),
    };
    let row = Row::go(pid, &status, exe, &binary);
    let target = Target {
        pid: Some(pid),
        detail: Detail::Full,
        own_env: None,
    };
    match probe::probe(host, &target) {
        Ok(info) => {
            let rec = policy::recommend(&info, &Options::default());
            let procs = gomaxprocs(&info, &rec, &binary, pid);
            row.with_box(&info, &rec, procs)
        }
        Err(e) => row.box_error(e.to_string()),
    }
}

/// The GOMAXPROCS the process runs with: doctor's rule, which knows each Go version.
fn gomaxprocs(
    info: &boxwise_box::BoxInfo,
    rec: &policy::Recommendation,
    binary: &GoBinary,
    pid: u32,
) -> u32 {
    effective_gomaxprocs(&Facts {
        info,
        rec,
        binary: Some(binary),
        env_owner: format!("pid {pid}"),
        profile: None,
        oom_history: None,
        syscalls: None,
    })
    .value
}
