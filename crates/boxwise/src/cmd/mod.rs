//! One module per command: each wires its arguments to the box crate and a renderer.

mod bench;
mod binary;
mod completions;
mod doctor;
mod exec;
mod exporter;
mod gctrace;
mod image;
mod inspect;
mod lint;
mod load;
mod pprof;
mod profile;
mod ps;
mod run;
mod schedtrace;
mod settings;
mod sweep;
mod syscalls;
mod top;

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
        Command::Image(args) => image::run(args),
        Command::Load(args) => load::run(args),
        Command::Lint(args) => lint::run(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
        Command::Syscalls(args) => syscalls::run(args),
        Command::Top(args) => top::run(args),
        Command::Exporter(args) => exporter::run(args),
        Command::Profile(args) => profile::run(args),
        Command::Bench(args) => bench::run(args),
    }
}
