//! `boxwise load URL --rate R --duration D`: the built-in open-loop load generator on its
//! own, for benchmarking it and for quick checks of a service (sweep --http uses the same).

use std::process::ExitCode;

use boxwise_loadgen::{LoadSpec, run as run_load, wait_ready};

use crate::cli::LoadArgs;

pub fn run(args: LoadArgs) -> anyhow::Result<ExitCode> {
    let spec = LoadSpec {
        url: args.url,
        rate: args.rate,
        duration: args.duration,
        connections: args.connections,
        timeout: args.timeout,
    };
    spec.validate()?;
    wait_ready(&spec.url, args.ready_timeout)?;
    let report = run_load(&spec)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}
