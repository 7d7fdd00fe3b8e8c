//! boxwise: make Go services fast and safe inside Linux containers.

#![forbid(unsafe_code)]

mod cli;
mod cmd;
mod report;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::parse();
    report::fit::init(cli.wide);
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("boxwise: {e:#}");
            ExitCode::from(1)
        }
    }
}
