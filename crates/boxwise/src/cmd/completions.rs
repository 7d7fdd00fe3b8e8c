//! `boxwise completions SHELL` and `boxwise man`: generated from the clap definitions, so
//! they never drift from the real options.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use anyhow::Context as _;

use crate::cli::{Cli, CompletionsArgs, ManArgs};

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "boxwise", &mut out);
    std::io::stdout().write_all(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// Every man page: `boxwise`, then one per command and nested command (`boxwise-bench-net`),
/// named so that each page's SEE ALSO names pages that exist. Without `dir` they go to
/// stdout one after another; with it, each to `DIR/<name>.1`.
pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let mut pages = Vec::new();
    collect(Cli::command(), "boxwise", "boxwise", &mut pages);
    let mut all = Vec::new();
    for (name, cmd) in pages {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd)
            .title(name.clone())
            .render(&mut page)?;
        match &args.dir {
            Some(dir) => {
                let path = dir.join(format!("{name}.1"));
                std::fs::write(&path, &page)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            None => all.extend(page),
        }
    }
    std::io::stdout().write_all(&all)?;
    Ok(ExitCode::SUCCESS)
}

/// `cmd` as page `name` (run as `bin`), then its visible subcommands, depth first.
fn collect(cmd: clap::Command, name: &str, bin: &str, out: &mut Vec<(String, clap::Command)>) {
    let subs: Vec<clap::Command> = cmd
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .cloned()
        .collect();
    // clap takes `&'static str` names (its `string` feature is off): a few dozen bytes for
    // a command that prints and exits.
    let static_name: &'static str = Box::leak(name.to_owned().into_boxed_str());
    let cmd = cmd
        .name(static_name)
        .bin_name(bin.to_owned())
        .disable_help_subcommand(true);
    out.push((name.to_string(), cmd));
    for sub in subs {
        let sub_name = format!("{name}-{}", sub.get_name());
        let sub_bin = format!("{bin} {}", sub.get_name());
        collect(sub, &sub_name, &sub_bin, out);
    }
}
