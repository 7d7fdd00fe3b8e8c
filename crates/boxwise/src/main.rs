//! boxwise: make Go services fast and safe inside Linux containers.

#![forbid(unsafe_code)]

mod cli;
mod cmd;
mod report;

use std::process::ExitCode;

/// `boxwise inspect --json | head`: stdout closed early is the reader's choice, not a bug.
/// Rust ignores SIGPIPE, so `print!` panics on EPIPE; end quietly instead, with the status
/// a shell gives a process killed by SIGPIPE (128 + 13).
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("os error 32") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_broken_pipe();
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
