//! `boxwise exporter`: snapshots from `boxwise-fleet`, rendered and served by
//! `boxwise-exporter`.

use std::process::ExitCode;

use boxwise_box::host::Host;
use boxwise_exporter::{Config, exposition, serve};
use boxwise_fleet::{Collector, Names, Options, Pace};

use crate::cli::ExporterArgs;

pub fn run(args: ExporterArgs) -> anyhow::Result<ExitCode> {
    let opts = Options {
        max_cgroups: args.max_cgroups,
        max_processes: args.max_processes,
        skip_pid: Some(std::process::id()),
        ..Options::default()
    };
    // Every file is read for every snapshot; the counter files stay open between them.
    // Container names come from the Docker engine when its socket is there, asked in the
    // background: a snapshot never waits for it (but the first waits up to 2 s for its
    // first answer, so that even `--once` has them).
    let names = Names::start(std::time::Duration::from_secs(60));
    if let Some(n) = &names {
        n.wait_first(std::time::Duration::from_secs(2));
    }
    let mut collector = Collector::new(opts, Pace::FULL, None, names);
    let host = Host::live();
    let mut collect = move || exposition(&collector.snapshot(&host));
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
