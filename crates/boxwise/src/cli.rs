//! The command line: argument types only; each command's work lives in `cmd/`.

use std::ffi::OsString;
use std::path::PathBuf;

use boxwise_box::policy::{CpuPolicy, MemoryRatio};
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "boxwise",
    version,
    about = "Make Go services fast and safe inside Linux containers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what the box allows: cgroup limits, CPUs, memory, pressure, and the Go settings
    /// that fit it.
    Inspect(InspectArgs),
    /// Set GOMAXPROCS and GOMEMLIMIT from the box's limits, then exec the program (same PID).
    Exec(ExecArgs),
}

/// How to turn limits into Go settings. Flags win over the BOXWISE_* environment variables.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Rounding of the CPU quota: go125 (Go 1.25: ceil, at least 2), floor (automaxprocs),
    /// ceil. [env: BOXWISE_CPU_POLICY] [default: go125]
    #[arg(long, value_name = "POLICY", value_parser = parse_policy)]
    pub cpu_policy: Option<CpuPolicy>,
    /// Smallest GOMAXPROCS under a quota (default 2 for go125, 1 otherwise). [env: BOXWISE_MIN_PROCS]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub min_procs: Option<u32>,
    /// GOMEMLIMIT as a fraction of the memory limit, in (0, 1]. [env: BOXWISE_MEMORY_RATIO] [default: 0.9]
    #[arg(long, value_name = "R", value_parser = parse_ratio)]
    pub memory_ratio: Option<MemoryRatio>,
}

fn parse_policy(s: &str) -> Result<CpuPolicy, String> {
    s.parse()
}

fn parse_ratio(s: &str) -> Result<MemoryRatio, String> {
    s.parse()
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Inspect another process (its cgroup and its Go environment).
    #[arg(long)]
    pub pid: Option<u32>,
    /// Read every file relative to DIR (a copied /proc and /sys tree, or a host mount).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Print JSON instead of the report.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print `export` lines instead of running a command.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not log the chosen settings to stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Fail instead of starting the command unchanged when detection fails or a user
    /// setting is malformed.
    #[arg(long)]
    pub strict: bool,
    /// Read limits relative to DIR instead of / (for testing).
    #[arg(long, value_name = "DIR", hide = true)]
    pub root: Option<PathBuf>,
    /// The program and its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD",
        required_unless_present = "dry_run"
    )]
    pub command: Vec<OsString>,
}

pub fn parse() -> Cli {
    Cli::parse()
}
