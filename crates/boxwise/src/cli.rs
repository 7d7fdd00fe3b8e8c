//! The command line: argument types only; each command's work lives in `cmd/`.

use std::ffi::OsString;
use std::path::PathBuf;

use boxwise_box::policy::{CpuPolicy, MemoryRatio, PolicyError};
use boxwise_image::ci::Threshold;
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "boxwise",
    bin_name = "boxwise",
    version,
    about = "Make Go services fast and safe inside Linux containers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Full-length lines: no wrapping or hidden columns to fit the terminal (COLUMNS or the
    /// tty's width; a pipe always gets full lines).
    #[arg(long, global = true)]
    pub wide: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what the box allows: cgroup limits, CPUs, memory, pressure, and the Go settings
    /// that fit it.
    Inspect(InspectArgs),
    /// Set GOMAXPROCS and GOMEMLIMIT from the box's limits (GOMAXPROCS is left to a Go 1.25+
    /// runtime that picks the same number itself), then exec the program (same PID).
    #[command(override_usage = "boxwise exec [OPTIONS] -- <CMD>...")]
    Exec(ExecArgs),
    /// What a Go binary is: Go version, module, deps, build settings, static or dynamic,
    /// stripped, size by section, and how fit it is for a container.
    Binary(BinaryArgs),
    /// Ranked findings about a box, a Go binary or a Go process, with evidence and the fix.
    Doctor(DoctorArgs),
    /// The Go processes on this machine, each with its limits and runtime settings.
    Ps(PsArgs),
    /// Run a workload under a matrix of limits and environment values, with repeats, and
    /// compare the configurations: statistics, plots and a recommendation.
    #[command(override_usage = "boxwise sweep [OPTIONS] -- <CMD>...")]
    Sweep(SweepArgs),
    /// Read pprof profiles without Go: the top table, a flame graph, a summary by category.
    Pprof(PprofArgs),
    /// Run a command in its own transient cgroup (and namespaces) under the limits you deploy
    /// with, and report its CPU, throttling, memory peak and OOM kills.
    #[command(override_usage = "boxwise run [OPTIONS] -- <CMD>...")]
    Run(RunArgs),
    /// Measure what a network mode (host, veth, bridge with NAT) or a filesystem (write
    /// latency with and without sync, buffer sizes) costs on this machine.
    Bench(BenchArgs),
    /// Summarise a GODEBUG=gctrace=1 capture: GC rate, stop-the-world pauses, GC CPU, heap
    /// against GOMEMLIMIT and the memory limit; scavenger lines too.
    Gctrace(GctraceArgs),
    /// Summarise a GODEBUG=schedtrace=X capture: run queues, idle Ps, spinning and idle
    /// threads.
    Schedtrace(SchedtraceArgs),
    /// What an image ships: layers, wasted bytes, the config, and the Go programs inside,
    /// from the Docker engine, a `docker save` archive or an OCI layout directory.
    Image(ImageArgs),
    /// Count what a process asks of the kernel: calls, errors and time per system call,
    /// like `strace -c` at a fraction of the cost (BPF), with a reading for Go programs.
    Syscalls(SyscallsArgs),
    /// A live view of the machine's cgroups and Go processes: CPU against the quota,
    /// throttling, memory against the limit, OOM kills, and Go settings against the box.
    Top(TopArgs),
    /// Serve Prometheus metrics for every cgroup and Go process on this machine
    /// (cAdvisor's names where the quantity is the same, plus the Go settings and findings).
    Exporter(ExporterArgs),
    /// Open-loop HTTP load at a constant rate; latency from each request's intended send time.
    #[command(hide = true)]
    Load(LoadArgs),
    /// Check Dockerfiles, Compose files and Kubernetes manifests for what a Go service needs
    /// from its container: limits vs GOMAXPROCS/GOMEMLIMIT, static binaries, signals, pprof.
    Lint(LintArgs),
    /// Print a shell completion script: `boxwise completions bash > /etc/bash_completion.d/boxwise`.
    Completions(CompletionsArgs),
    /// The man pages (roff), one per command: `boxwise man --dir /usr/local/share/man/man1`
    /// installs them; without --dir they are printed one after another.
    Man(ManArgs),
    /// A CPU profile of a running process (or of CMD) from outside, with no code change:
    /// perf_event_open sampling, names from the Go binary's own pclntab, a pprof file out.
    Profile(ProfileArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
    Sarif,
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFailOn {
    Error,
    Warning,
    Info,
    Never,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Files or directories (walked for Dockerfile, Containerfile, *.Dockerfile, compose and
    /// docker-compose YAML, and other *.yaml/*.yml as Kubernetes); `-` reads stdin.
    #[arg(value_name = "PATH", required_unless_present = "list_rules")]
    pub paths: Vec<PathBuf>,
    /// Output: text for people, json (stable), sarif (2.1.0, for code scanning), github
    /// (Actions annotations).
    #[arg(long, value_enum, default_value = "text")]
    pub format: LintFormat,
    /// Exit 1 when a finding at this severity or worse exists; files that cannot be read or
    /// parsed always make the exit status 1.
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: LintFailOn,
    /// Rewrite what is safe to rewrite in place and print the diff.
    #[arg(long)]
    pub fix: bool,
    /// Severities per rule (YAML: `rules: {RULE: error|warning|info|off}`); by default
    /// `.boxwise-lint.yaml` in the current directory when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// List the rules with their default severity and exit.
    #[arg(long)]
    pub list_rules: bool,
    /// Do not truncate messages to 80 columns.
    #[arg(long)]
    pub wide: bool,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Profile this running process (all its threads).
    #[arg(long, conflicts_with = "command", required_unless_present = "command")]
    pub pid: Option<u32>,
    /// How long to sample (Ctrl-C or the target exiting ends it early; the profile is kept).
    #[arg(long = "for", value_name = "D", default_value = "30s", value_parser = positive_duration)]
    pub duration: std::time::Duration,
    /// Samples per second per running thread.
    #[arg(long, value_name = "N", default_value_t = 99, value_parser = clap::value_parser!(u64).range(1..=10000))]
    pub hz: u64,
    /// Write the gzipped pprof profile here.
    #[arg(short = 'o', long, value_name = "FILE", default_value = "cpu.pprof")]
    pub output: PathBuf,
    /// Also record where threads leave the CPU (sleep, wait, or CPU-quota throttling) and
    /// for how long, as the `offcpu` sample type (`go tool pprof -sample_index=offcpu`).
    #[arg(long)]
    pub offcpu: bool,
    /// Print the run's facts as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Start CMD and profile it until it exits (or --for passes, then it is stopped).
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<OsString>,
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

fn parse_policy(s: &str) -> Result<CpuPolicy, PolicyError> {
    s.parse()
}

fn parse_ratio(s: &str) -> Result<MemoryRatio, PolicyError> {
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
    /// Set GOMAXPROCS to N whatever the limits and the environment say.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub gomaxprocs: Option<u32>,
    /// Set GOMEMLIMIT to SIZE (`400m`, `1g`, `512MiB`, bytes) whatever the limits and the
    /// environment say; written in bytes.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub gomemlimit: Option<u64>,
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
    // `exec` sits in front of every start of a service: build only its own arguments, not
    // the whole command tree (clap builds every subcommand's definition to parse), which
    // halves the launcher's start-up cost.
    if std::env::args_os().nth(1).is_some_and(|a| a == "exec") {
        let ExecOnly::Exec(args) = ExecOnly::parse();
        return Cli {
            command: Command::Exec(args),
            wide: false,
        };
    }
    Cli::parse()
}

/// The `exec` subcommand alone, for [`parse`]'s fast path; same arguments and help.
#[derive(Debug, Parser)]
#[command(name = "boxwise", bin_name = "boxwise", version)]
enum ExecOnly {
    /// Set GOMAXPROCS and GOMEMLIMIT from the box's limits (GOMAXPROCS is left to a Go 1.25+
    /// runtime that picks the same number itself), then exec the program (same PID).
    #[command(override_usage = "boxwise exec [OPTIONS] -- <CMD>...")]
    Exec(ExecArgs),
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
    /// Also judge an image (engine name, `docker save` archive or OCI layout, as
    /// `boxwise image`): its Go service is the binary examined, its findings join the list.
    #[arg(long, value_name = "SOURCE", conflicts_with_all = ["binary", "pid"])]
    pub image: Option<String>,
    /// Also read a CPU profile (a file, or a net/http/pprof URL such as
    /// `http://127.0.0.1:6060/debug/pprof/profile`) and add what it shows: GC, scheduler,
    /// lock or syscall heavy.
    #[arg(long, value_name = "PROFILE|URL")]
    pub profile: Option<String>,
    /// For a --profile URL: collect for N seconds (sets `?seconds=N`).
    #[arg(long, value_name = "N", requires = "profile")]
    pub profile_seconds: Option<u32>,
    /// Also trace the process's system calls for this long (BPF, needs root) and add the
    /// Go reading's findings: futex storms, spinning, preemption, scavenging.
    #[arg(long, value_name = "DURATION", requires = "pid", conflicts_with_all = ["binary", "root", "image"], value_parser = positive_duration)]
    pub syscalls: Option<std::time::Duration>,
    /// With --pid: sample the process's CPU for this long (as `boxwise profile` does, no
    /// code change needed) and add what the profile shows.
    // `requires = "pid"` alone lets `--binary X --profile-live 1s` through (clap does not
    // ask for an argument that conflicts with one given), so the subjects --pid excludes
    // are named here too.
    #[arg(long, value_name = "D", requires = "pid", conflicts_with_all = ["profile", "binary", "root", "image"], value_parser = positive_duration)]
    pub profile_live: Option<std::time::Duration>,
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

#[derive(Debug, Args)]
pub struct TopArgs {
    /// Print one screen (two snapshots one interval apart) and exit.
    #[arg(long)]
    pub once: bool,
    /// Print the snapshot and the rates as JSON and exit.
    #[arg(long)]
    pub json: bool,
    /// Time between refreshes, e.g. 1s, 500ms.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = positive_duration)]
    pub interval: std::time::Duration,
    /// With --once: show every column and do not cut long names (wider than 80 columns).
    #[arg(long)]
    pub wide: bool,
    /// Sort cgroups by: cpu, throttled, memory, name.
    #[arg(long, value_name = "KEY", default_value = "throttled", value_parser = ["cpu", "throttled", "memory", "name"])]
    pub sort: String,
    /// Show only cgroups and processes whose id, container or name contains TEXT; searches
    /// every cgroup, idle ones too, and applies to --once and --json as well.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExporterArgs {
    /// Address to listen on (port 0 picks a free port, printed on stderr).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:9721", value_parser = parse_listen)]
    pub listen: String,
    /// How often to take a new snapshot; scrapes are served from the last one.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = positive_duration)]
    pub interval: std::time::Duration,
    /// At most this many cgroups (bounds memory and label cardinality).
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub max_cgroups: usize,
    /// At most this many Go processes.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub max_processes: usize,
    /// Print one exposition to stdout and exit (no server).
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Args)]
pub struct GctraceArgs {
    /// The captured stderr of a program run with GODEBUG=gctrace=1 (other lines are
    /// skipped); `-` or nothing reads stdin.
    #[arg(value_name = "FILE|-")]
    pub file: Option<PathBuf>,
    /// Print JSON (summary and every cycle) instead of the report.
    #[arg(long)]
    pub json: bool,
    /// Also write an SVG with the heap over time and the pause of each cycle.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// The GOMEMLIMIT the program ran with (bytes, or with a KiB/MiB/GiB/TiB suffix).
    #[arg(long, value_name = "BYTES", value_parser = parse_gomemlimit_bytes)]
    pub gomemlimit: Option<u64>,
    /// The container's memory limit (512m, 1.5g, 512MiB, or bytes).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<u64>,
}

fn parse_gomemlimit_bytes(s: &str) -> Result<u64, String> {
    match boxwise_box::goenv::parse_gomemlimit(s).map_err(|e| e.to_string())? {
        boxwise_box::goenv::GoMemLimit::Bytes(b) => Ok(b),
        boxwise_box::goenv::GoMemLimit::Off => {
            Err("GOMEMLIMIT off means no limit: leave the option out".into())
        }
    }
}

#[derive(Debug, Args)]
pub struct SchedtraceArgs {
    /// The captured stderr of a program run with GODEBUG=schedtrace=X (other lines are
    /// skipped); `-` or nothing reads stdin.
    #[arg(value_name = "FILE|-")]
    pub file: Option<PathBuf>,
    /// Print JSON (summary and every sample) instead of the report.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// CPU quota in CPUs (`0.5`, `1.5`), over a 100 ms period, as `docker run --cpus`.
    #[arg(long, value_name = "N")]
    pub cpus: Option<f64>,
    /// Memory limit: `512m`, `1g`, `1.5g`, `512MiB` or bytes.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory: Option<u64>,
    /// Memory plus swap, as Docker: a size (at least --memory), or -1 for unlimited swap.
    /// [default: twice --memory]
    #[arg(long, value_name = "SIZE", value_parser = parse_memory_swap, allow_hyphen_values = true)]
    pub memory_swap: Option<boxwise_lab::MemorySwap>,
    /// Most processes and threads at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub pids: Option<u64>,
    /// CPUs to run on (`0-1,3`).
    #[arg(long, value_name = "LIST")]
    pub cpuset: Option<String>,
    /// New namespaces, comma-separated: pid (the command is PID 1, with its own /proc),
    /// mount, uts, ipc, net (only `lo`, up).
    #[arg(long, value_name = "LIST", value_parser = parse_isolation)]
    pub isolate: Option<boxwise_lab::Isolation>,
    /// Set an environment variable for the command (repeatable).
    #[arg(short = 'e', long = "env", value_name = "K=V", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// Create the run's cgroup under CGROUP instead of `<boxwise's own cgroup>/boxwise`:
    /// `/bench` is below each hierarchy's mount point, `bench` below boxwise's own cgroup.
    /// It must exist in every hierarchy used.
    #[arg(long, value_name = "CGROUP")]
    pub parent: Option<PathBuf>,
    /// Write the run's statistics as JSON to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub stats_json: Option<PathBuf>,
    /// No summary on stderr after the run (limits that bit are still reported).
    #[arg(short, long)]
    pub quiet: bool,
    /// Change limits while the command runs, as an in-place resize does: `5s:cpus=0.5`,
    /// `10s:memory=256m`, `2s:cpus=1,memory=1g` (repeatable; times from the start).
    #[arg(long, value_name = "TIME:K=V", value_parser = parse_change)]
    pub at: Vec<boxwise_lab::Change>,
    /// A noisy neighbour for the duration: `cpu=1` (spinning processes under that quota),
    /// `memory=256m` (held and touched), or both, in a sibling cgroup.
    #[arg(long, value_name = "K=V", value_parser = parse_neighbour)]
    pub neighbour: Option<boxwise_lab::Neighbour>,
    /// Record GOMAXPROCS over the run from the Go runtime's schedtrace (GODEBUG gains
    /// `schedtrace=1000`; those lines are kept off stderr). On by itself with --at when the
    /// command is a Go program.
    #[arg(long)]
    pub track_gomaxprocs: bool,
    /// Cap reads from the disk behind --io-device at this many bytes a second (`10m`), as
    /// `docker run --device-read-bps` (v1 blkio.throttle, v2 io.max).
    #[arg(long, value_name = "RATE", value_parser = parse_size)]
    pub io_read_bps: Option<u64>,
    /// Cap writes to that disk at this many bytes a second (`10m`). On cgroup v1 only
    /// direct and synced writes are charged; buffered writeback is not.
    #[arg(long, value_name = "RATE", value_parser = parse_size)]
    pub io_write_bps: Option<u64>,
    /// Cap read operations on that disk per second.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub io_read_iops: Option<u64>,
    /// Cap write operations on that disk per second.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub io_write_iops: Option<u64>,
    /// The disk the --io-* caps apply to: a file or directory on it, or its /dev node.
    /// [default: the current directory's disk]
    #[arg(long, value_name = "PATH")]
    pub io_device: Option<PathBuf>,
    /// The program and its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "CMD"
    )]
    pub command: Vec<OsString>,
}

fn parse_size(s: &str) -> Result<u64, String> {
    match boxwise_box::units::parse_size(s) {
        Ok(0) => Err("expected a positive size".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_memory_swap(s: &str) -> Result<boxwise_lab::MemorySwap, String> {
    match s.trim() {
        "-1" => Ok(boxwise_lab::MemorySwap::Unlimited),
        _ => parse_size(s).map(boxwise_lab::MemorySwap::Total),
    }
}

fn parse_change(s: &str) -> Result<boxwise_lab::Change, String> {
    boxwise_lab::change::parse(s, |v| parse_size(v).ok()).map_err(|e| e.to_string())
}

fn parse_neighbour(s: &str) -> Result<boxwise_lab::Neighbour, String> {
    boxwise_lab::neighbour::parse(s, |v| parse_size(v).ok()).map_err(|e| e.to_string())
}

fn parse_isolation(s: &str) -> Result<boxwise_lab::Isolation, String> {
    boxwise_lab::Isolation::parse(s).map_err(|e| e.to_string())
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected K=V, found {s:?}")),
    }
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// CPU quotas to try, comma-separated (`0.5,1,2`).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub cpus: Vec<f64>,
    /// Memory limits to try, comma-separated (`256m,512m`).
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_size)]
    pub memory: Vec<u64>,
    /// An environment variable and the values to try: `GOMAXPROCS=1,2,4`. Repeatable.
    #[arg(long = "env", value_name = "NAME=V1,V2", value_parser = parse_env_values)]
    pub env: Vec<(String, Vec<String>)>,
    /// Runs per configuration.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    pub repeat: u64,
    /// Seed for the run order (random by default; printed, so an order can be replayed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Drive the workload with the built-in open-loop HTTP load generator at this URL.
    #[arg(long, value_name = "URL", value_parser = parse_http_url, requires = "rate")]
    pub http: Option<String>,
    /// Requests per second for --http.
    #[arg(long, value_name = "R", value_parser = positive_rate)]
    pub rate: Option<f64>,
    /// How long to load each run for --http.
    #[arg(long, value_name = "D", default_value = "10s", value_parser = boxwise_loadgen::parse_duration)]
    pub duration: std::time::Duration,
    /// Keep-alive connections for --http.
    #[arg(long, value_name = "C", default_value_t = boxwise_loadgen::LoadSpec::DEFAULT_CONNECTIONS)]
    pub connections: usize,
    /// Wait up to this long for the workload to answer before loading it.
    #[arg(long, value_name = "D", default_value = "30s", value_parser = boxwise_loadgen::parse_duration)]
    pub ready_timeout: std::time::Duration,
    /// A number from the workload's output: `NAME=REGEX` with one capture group (the last
    /// match counts). Repeatable.
    #[arg(long, value_name = "NAME=REGEX", value_parser = boxwise_sweep::metrics::MetricPattern::parse)]
    pub metric: Vec<boxwise_sweep::metrics::MetricPattern>,
    /// The metric that decides the best configuration (`p99`, `wall_seconds`, a --metric
    /// name; `:max` when higher is better). [default: p99 with --http, else the first
    /// --metric, else wall_seconds]
    #[arg(long, value_name = "NAME[:max]")]
    pub objective: Option<String>,
    /// Do not set GODEBUG=gctrace=1 (and so report no GC figures).
    #[arg(long)]
    pub no_gctrace: bool,
    /// Write every run and the per-configuration summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Print the summary as Markdown instead of a text table.
    #[arg(long)]
    pub markdown: bool,
    /// Write an SVG plot of the objective per configuration (every run and the median).
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// The workload and its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD",
        required = true
    )]
    pub command: Vec<OsString>,
}

fn parse_env_values(s: &str) -> Result<(String, Vec<String>), String> {
    let (name, values) = s
        .split_once('=')
        .filter(|(n, _)| !n.is_empty())
        .ok_or_else(|| format!("{s:?}: expected NAME=V1,V2"))?;
    Ok((
        name.to_string(),
        values.split(',').map(str::to_string).collect(),
    ))
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The plain-HTTP URL to GET (`http://127.0.0.1:8080/path`).
    #[arg(value_name = "URL", value_parser = parse_http_url)]
    pub url: String,
    /// Requests per second, held constant whatever the server does.
    #[arg(long, value_name = "R", value_parser = positive_rate)]
    pub rate: f64,
    /// How long to send for: `10s`, `500ms`, `1m` (a bare number is seconds).
    #[arg(long, value_name = "D", value_parser = boxwise_loadgen::parse_duration)]
    pub duration: std::time::Duration,
    /// Keep-alive connections (one thread each); each sends its next request after the
    /// previous response, so rate / connections must stay under 1 / latency.
    #[arg(long, value_name = "C", default_value_t = boxwise_loadgen::LoadSpec::DEFAULT_CONNECTIONS)]
    pub connections: usize,
    /// Limit on connecting and on each response; a late response counts as a timeout.
    #[arg(long, value_name = "D", default_value = "5s", value_parser = boxwise_loadgen::parse_duration)]
    pub timeout: std::time::Duration,
    /// Wait up to this long for the URL to answer before the load starts.
    #[arg(long, value_name = "D", default_value = "10s", value_parser = boxwise_loadgen::parse_duration)]
    pub ready_timeout: std::time::Duration,
    /// Print JSON instead of the report.
    #[arg(long)]
    pub json: bool,
}

fn parse_http_url(s: &str) -> Result<String, String> {
    boxwise_loadgen::HttpUrl::parse(s)
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct ImageArgs {
    /// An image in the Docker engine (name or id; `docker://NAME`), a `docker save` archive
    /// (`docker-archive:FILE`) or an OCI layout directory (`oci:DIR`).
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// Which image of a multi-platform index: `os/arch[/variant]` (default: this machine's).
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    /// The CPUs the container will get, to judge a hard-coded ENV GOMAXPROCS.
    #[arg(long, value_name = "N", value_parser = parse_positive_cpus)]
    pub cpus: Option<f64>,
    /// The memory limit it will get (512m, 1g, 512MiB or bytes), to judge ENV GOMEMLIMIT.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory: Option<u64>,
    /// Layers that belong to the base image, for the user-wasted ratio [default: where the
    /// history shows the base image ends, else 1 as dive].
    #[arg(long, value_name = "N")]
    pub base_layers: Option<usize>,
    /// Print JSON instead of the report.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print Markdown (for a pull request).
    #[arg(long)]
    pub markdown: bool,
    /// Show every layer's full instruction and more wasted files (wider than 80 columns).
    #[arg(long)]
    pub wide: bool,
    /// Exit 1 when a finding at LEVEL or worse exists (error, warning or info).
    #[arg(long, value_name = "LEVEL", value_parser = parse_image_severity)]
    pub fail_on: Option<boxwise_image::Severity>,
    /// Check dive's CI rules and exit 1 when one fails (also when CI=true in the environment).
    #[arg(long)]
    pub ci: bool,
    /// --ci: dive's rules file (`rules: {lowestEfficiency, highestWastedBytes,
    /// highestUserWastedPercent}`); flags win over it [default: .dive-ci when it exists].
    #[arg(long, value_name = "FILE")]
    pub ci_config: Option<PathBuf>,
    /// --ci: fail when efficiency is below this (0..1; `off` disables) [default: 0.9].
    #[arg(long, value_name = "RATIO", value_parser = boxwise_image::ci::parse_ratio)]
    pub lowest_efficiency: Option<Threshold<f64>>,
    /// --ci: fail when more bytes than this are wasted (`20MB`, `1GiB`; `off`) [default: off].
    #[arg(long, value_name = "SIZE", value_parser = boxwise_image::ci::parse_size)]
    pub highest_wasted_bytes: Option<Threshold<u64>>,
    /// --ci: fail when wasted bytes over the user layers' bytes exceed this (0..1; `off`)
    /// [default: 0.1].
    #[arg(long, value_name = "RATIO", value_parser = boxwise_image::ci::parse_ratio)]
    pub highest_user_wasted_percent: Option<Threshold<f64>>,
}

/// A CPU count that can be a limit: a positive, finite number (`0.5`, `2`).
pub(crate) fn parse_positive_cpus(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n),
        Ok(_) => Err("CPUs must be a positive number (0.5, 2)".into()),
        Err(_) => Err("not a number of CPUs (0.5, 2)".into()),
    }
}

fn parse_image_severity(s: &str) -> Result<boxwise_image::Severity, String> {
    boxwise_image::Severity::parse(s)
        .ok_or_else(|| format!("unknown level {s:?}; expected error, warning or info"))
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write each page to DIR/<name>.1 (boxwise.1, boxwise-run.1, boxwise-bench-net.1, ...).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct SyscallsArgs {
    /// Trace a running process (every thread); from the host, a container's process is
    /// given by its host pid.
    #[arg(long, value_name = "PID", conflicts_with = "command")]
    pub pid: Option<u32>,
    /// Stop after this long (the process keeps running), e.g. 5s, 1m.
    #[arg(long = "for", value_name = "DURATION", value_parser = positive_duration)]
    pub duration: Option<std::time::Duration>,
    /// Also count the target's child processes (forked after tracing starts).
    #[arg(short = 'f', long = "follow-forks")]
    pub follow_forks: bool,
    /// A latency histogram per call: p50, p99 and max.
    #[arg(long)]
    pub latency: bool,
    /// Also a table of calls and time per thread (Go's Ms).
    #[arg(long)]
    pub by_thread: bool,
    /// Print JSON (`{"rows": [...], "go_reading": [...]}`).
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print Markdown tables.
    #[arg(long)]
    pub markdown: bool,
    /// The program to start and trace, held before execve until tracing is attached.
    #[arg(last = true, value_name = "CMD", required_unless_present = "pid")]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Request/response latency and stream throughput over loopback, a veth pair between
    /// two network namespaces, and a bridge with NAT (Docker's bridge path). Needs root
    /// and iproute2 (and nftables for bridge) for the namespaced modes.
    Net(BenchNetArgs),
    /// Write latency and throughput per block size and sync mode in each directory, and
    /// buffered writes of small records at several buffer sizes.
    Io(BenchIoArgs),
}

#[derive(Debug, Args)]
pub struct BenchNetArgs {
    /// Modes, comma-separated: host, veth, bridge, docker (two containers on Docker's
    /// bridge and with --network host: rows docker-bridge and docker-host).
    #[arg(long, value_name = "LIST", default_value = "host,veth,bridge", value_parser = parse_net_modes)]
    pub modes: ::std::vec::Vec<boxwise_bench::NetMode>,
    /// Request and response size of the round trips.
    #[arg(long, value_name = "SIZE", default_value = "64", value_parser = parse_bench_size)]
    pub size: u64,
    /// How long each phase (latency, then throughput) runs per mode.
    #[arg(long, value_name = "D", default_value = "2s", value_parser = boxwise_loadgen::parse_duration)]
    pub duration: std::time::Duration,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// The static boxwise to put in the docker modes' scratch image [default: this one]
    #[arg(long, value_name = "PATH")]
    pub docker_binary: Option<PathBuf>,
    /// Inside the image: serve one client at ADDR and exit.
    #[arg(long, value_name = "ADDR", hide = true, conflicts_with = "connect")]
    pub serve: Option<std::net::SocketAddr>,
    /// Inside the image: measure against the server at ADDR, print the result as JSON.
    #[arg(long, value_name = "ADDR", hide = true)]
    pub connect: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub struct BenchIoArgs {
    /// Directory to write the test file in (repeatable). [default: .]
    #[arg(long, value_name = "DIR")]
    pub dir: Vec<PathBuf>,
    /// Block sizes, comma-separated.
    #[arg(long, value_name = "LIST", default_value = "4k,64k,1m", value_parser = parse_bench_sizes)]
    pub block: ::std::vec::Vec<u64>,
    /// Sync modes, comma-separated: none, fsync, fdatasync, O_DSYNC.
    #[arg(long, value_name = "LIST", default_value = "none,fsync,fdatasync,O_DSYNC", value_parser = parse_sync_modes)]
    pub sync: ::std::vec::Vec<boxwise_bench::SyncMode>,
    /// How long each case writes (it also stops after four passes over the file).
    #[arg(long, value_name = "D", default_value = "1s", value_parser = boxwise_loadgen::parse_duration)]
    pub duration: std::time::Duration,
    /// The test file's size; writes wrap around inside it.
    #[arg(long, value_name = "SIZE", default_value = "64m", value_parser = parse_bench_size)]
    pub file_size: u64,
    /// Buffer sizes for the buffered-write cases (bufio.Writer), comma-separated, or `none`.
    #[arg(long, value_name = "LIST", default_value = "4k,16k,64k,256k,1m")]
    pub buffers: String,
    /// Print JSON instead of the tables.
    #[arg(long)]
    pub json: bool,
}

fn parse_net_modes(s: &str) -> Result<Vec<boxwise_bench::NetMode>, String> {
    boxwise_bench::spec::parse_modes(s).map_err(|e| e.to_string())
}

fn parse_bench_sizes(s: &str) -> Result<Vec<u64>, String> {
    boxwise_bench::spec::parse_sizes(s).map_err(|e| e.to_string())
}

fn parse_bench_size(s: &str) -> Result<u64, String> {
    boxwise_bench::spec::parse_sizes(s)
        .map_err(|e| e.to_string())
        .and_then(|v| match v[..] {
            [one] => Ok(one),
            _ => Err(format!("{s:?}: expected one size")),
        })
}

fn parse_sync_modes(s: &str) -> Result<Vec<boxwise_bench::SyncMode>, String> {
    boxwise_bench::spec::parse_syncs(s).map_err(|e| e.to_string())
}

/// A duration that must be more than zero (an interval of 0 would spin; a zero-length
/// trace or profile records nothing).
fn positive_duration(s: &str) -> Result<std::time::Duration, String> {
    match boxwise_loadgen::parse_duration(s) {
        Ok(d) if d.is_zero() => Err("expected a duration above zero, e.g. 5s".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

/// `IP:PORT` to listen on (`0.0.0.0:9721`, `[::1]:0`).
fn parse_listen(s: &str) -> Result<String, String> {
    s.parse::<std::net::SocketAddr>()
        .map(|_| s.to_string())
        .map_err(|_| format!("{s:?} is not IP:PORT (for example 0.0.0.0:9721 or 127.0.0.1:0)"))
}

/// A request rate: a finite number above zero.
fn positive_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err("expected requests per second above zero, e.g. 500".into()),
    }
}
