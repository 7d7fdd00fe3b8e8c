//! `boxwise completions SHELL` and `boxwise man`: generated from the clap definitions, so
//! they never drift from the real options.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "boxwise", &mut out);
    std::io::stdout().write_all(&out)?;
    Ok(ExitCode::SUCCESS)
}

pub fn man() -> anyhow::Result<ExitCode> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    // One page for the whole tool: each command's options follow, as `SUBCOMMAND` sections.
    for sub in Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
    {
        let title = format!("boxwise-{}", sub.get_name());
        clap_mangen::Man::new(sub.clone().bin_name(format!("boxwise {}", sub.get_name())))
            .title(title)
            .render(&mut out)?;
    }
    std::io::stdout().write_all(&out)?;
    Ok(ExitCode::SUCCESS)
}
