//! `boxwise exporter`: snapshots from `boxwise-fleet`, rendered and served by
//! `boxwise-exporter`.

use std::process::ExitCode;

use boxwise_box::host::Host;
use boxwise_exporter::{Config, exposition, serve};
use boxwise_fleet::{Options, snapshot};

use crate::cli::ExporterArgs;

pub fn run(args: ExporterArgs) -> anyhow::Result<ExitCode> {
    let opts = Options {
        max_cgroups: args.max_cgroups,
        max_processes: args.max_processes,
        skip_pid: Some(std::process::id()),
        ..Options::default()
    };
    let collect = move || exposition(&snapshot(&Host::live(), &opts));
    if args.once {
        print!("{}", collect());
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config {
        listen: args.listen,
        interval: args.interval,
    };
    serve(config, collect, |addr| {
        eprintln!("boxwise exporter: serving http://{addr}/metrics");
    })?;
    Ok(ExitCode::SUCCESS)
}
