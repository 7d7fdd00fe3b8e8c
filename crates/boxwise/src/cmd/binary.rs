//! `boxwise binary FILE`: what a Go binary is, from its ELF file alone.

use std::process::ExitCode;

use boxwise_goprog::GoBinary;

use crate::cli::BinaryArgs;
use crate::report;

pub fn run(args: BinaryArgs) -> anyhow::Result<ExitCode> {
    let bin = GoBinary::read(&args.file)?;
    if args.go_version_m {
        print!("{}", bin.go_version_m(&args.file.to_string_lossy()));
    } else if args.json {
        println!("{}", report::binary::json(&bin)?);
    } else {
        print!("{}", report::fit::fit(&report::binary::render(&bin)));
    }
    Ok(ExitCode::SUCCESS)
}
