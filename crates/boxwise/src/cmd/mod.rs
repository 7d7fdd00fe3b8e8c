//! One module per command: each wires its arguments to the box crate and a renderer.

mod bench;
mod binary;
mod doctor;
mod exec;
mod gctrace;
mod inspect;
mod load;
mod pprof;
mod ps;
mod run;
mod schedtrace;
mod settings;
mod sweep;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Exec(args) => exec::run(args),
        Command::Binary(args) => binary::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Ps(args) => ps::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Pprof(args) => pprof::run(args),
        Command::Run(args) => run::run(args),
        Command::Gctrace(args) => gctrace::run(args),
        Command::Schedtrace(args) => schedtrace::run(args),
        Command::Load(args) => load::run(args),
        Command::Bench(args) => bench::run(args),
    }
}
