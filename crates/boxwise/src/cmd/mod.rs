//! One module per command: each wires its arguments to the box crate and a renderer.

mod exec;
mod inspect;
mod settings;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Exec(args) => exec::run(args),
    }
}
