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
    /// What a Go binary is: Go version, module, deps, build settings, static or dynamic,
    /// stripped, size by section, and how fit it is for a container.
    Binary(BinaryArgs),
    /// Ranked findings about a box, a Go binary or a Go process, with evidence and the fix.
    Doctor(DoctorArgs),
    /// The Go processes on this machine, each with its limits and runtime settings.
    Ps(PsArgs),
    /// Read pprof profiles without Go: the top table, a flame graph, a summary by category.
    Pprof(PprofArgs),
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

#[derive(Debug, Args)]
pub struct PprofArgs {
    #[command(subcommand)]
    pub command: PprofCommand,
}

#[derive(Debug, Subcommand)]
pub enum PprofCommand {
    /// The top table, row for row what `go tool pprof -top` prints.
    Top(PprofTopArgs),
    /// An interactive flame graph SVG, or folded stacks for other tools.
    Flame(PprofFlameArgs),
    /// Where the time goes by category (user code, GC, scheduler, ...), read for containers.
    Summary(PprofSummaryArgs),
}

/// Where the profile comes from and which value to read.
#[derive(Debug, Args)]
pub struct ProfileSource {
    /// A profile file (gzip or raw protobuf), or the URL of a net/http/pprof endpoint
    /// (`http://host:6060/debug/pprof/heap`).
    #[arg(value_name = "PROFILE|URL")]
    pub profile: String,
    /// For a URL: collect for N seconds (sets `?seconds=N`; a CPU profile or a delta profile).
    #[arg(long, value_name = "N")]
    pub seconds: Option<u32>,
    /// The sample type to show (name or index), e.g. alloc_space or contentions.
    /// [default: as pprof picks it]
    #[arg(long, value_name = "NAME")]
    pub sample_index: Option<String>,
    /// Keep only samples with a frame matching this regex (function, file or binary name).
    #[arg(long, value_name = "RE")]
    pub focus: Option<String>,
    /// Drop samples with a frame matching this regex.
    #[arg(long, value_name = "RE")]
    pub ignore: Option<String>,
}

#[derive(Debug, Args)]
pub struct PprofTopArgs {
    #[command(flatten)]
    pub source: ProfileSource,
    /// Show at most N rows (0 = all).
    #[arg(short = 'n', long = "nodecount", value_name = "N", default_value_t = 0)]
    pub node_count: usize,
    /// Sort by cumulative value instead of flat.
    #[arg(long)]
    pub cum: bool,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PprofFlameArgs {
    #[command(flatten)]
    pub source: ProfileSource,
    /// Write the SVG (or, with --folded, the folded stacks) to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print folded stacks (`frame;frame;frame value`) instead of an SVG.
    #[arg(long)]
    pub folded: bool,
}

#[derive(Debug, Args)]
pub struct PprofSummaryArgs {
    #[command(flatten)]
    pub source: ProfileSource,
    /// Top functions to list per category.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub functions: usize,
    /// Print JSON instead of the report.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BinaryArgs {
    /// The Go executable (ELF) to read.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print JSON instead of the report.
    #[arg(long, conflicts_with = "go_version_m")]
    pub json: bool,
    /// Print exactly what `go version -m FILE` prints.
    #[arg(long)]
    pub go_version_m: bool,
}

pub fn parse() -> Cli {
    Cli::parse()
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Examine a running process: its cgroup, its environment and its executable.
    #[arg(long, conflicts_with_all = ["binary", "root"])]
    pub pid: Option<u32>,
    /// Examine a Go binary as it would run in this box.
    #[arg(long, value_name = "FILE", conflicts_with = "root")]
    pub binary: Option<PathBuf>,
    /// Examine the box under DIR (a copied /proc and /sys tree).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Print JSON: `{"findings": [{"id", "severity", "title", "evidence", "fix"}], ...}`.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print Markdown (for a pull request or a ticket).
    #[arg(long)]
    pub markdown: bool,
    /// Exit 1 when a finding at LEVEL or worse exists (error, warning or info).
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity)]
    pub fail_on: Option<boxwise_doctor::Severity>,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

pub enum DoctorFormat {
    Text,
    Json,
    Markdown,
}

impl DoctorArgs {
    pub fn format(&self) -> DoctorFormat {
        match (self.json, self.markdown) {
            (true, _) => DoctorFormat::Json,
            (_, true) => DoctorFormat::Markdown,
            _ => DoctorFormat::Text,
        }
    }
}

fn parse_severity(s: &str) -> Result<boxwise_doctor::Severity, String> {
    boxwise_doctor::Severity::parse(s)
        .ok_or_else(|| format!("unknown level {s:?}; expected error, warning or info"))
}

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Print JSON, one object per process.
    #[arg(long)]
    pub json: bool,
    /// Read /proc under DIR instead of / (for testing).
    #[arg(long, value_name = "DIR", hide = true)]
    pub root: Option<PathBuf>,
}
