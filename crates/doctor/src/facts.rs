//! What the rules look at: the caller's facts, and the readings several rules share
//! (the GOMAXPROCS the program really runs with, the lowest memory limit) with their wording.

use boxwise_box::model::{BoxInfo, CpuQuotaInfo, MemoryLimit};
use boxwise_box::policy::{self, GoRuntime, PickBasis, Recommendation};
use boxwise_box::units;
use boxwise_goprog::GoBinary;

/// What the rules look at.
pub struct Facts<'a> {
    pub info: &'a BoxInfo,
    pub rec: &'a Recommendation,
    /// The program, when known (`--binary`, or `/proc/<pid>/exe`).
    pub binary: Option<&'a GoBinary>,
    /// Whose environment `info.go_env` is, for the evidence: `pid 4242`, `boxwise`.
    pub env_owner: String,
    /// A CPU profile's summary (`doctor --profile`), when given.
    pub profile: Option<&'a ProfileFacts>,
    /// OOM kills recorded outside the cgroup's own counter (kernel log, a parent's
    /// memory.events, the Docker engine), when they were looked for.
    pub oom_history: Option<&'a boxwise_oom::History>,
    /// A short syscall trace's Go reading (`doctor --syscalls 5s`), when given.
    pub syscalls: Option<&'a SyscallFacts>,
}

/// What a short syscall trace said about the Go runtime (the caller fills it from
/// `boxwise syscalls`' reading, so this crate never touches BPF).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyscallFacts {
    /// How long the trace ran.
    pub seconds: f64,
    pub total_calls: u64,
    pub notes: Vec<SyscallNote>,
}

/// One note of the Go reading: `id` as `boxwise syscalls --json` writes it
/// (`futex_wakeups`, `sched_yield_spinning`, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyscallNote {
    pub id: String,
    pub evidence: String,
    pub meaning: String,
    pub source: String,
}

/// The GOMAXPROCS the program runs (or would run) with, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoMaxProcs {
    pub value: u32,
    pub how: String,
}

/// What a profile says, as the rules need it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileFacts {
    /// The file or URL it came from, for the evidence.
    pub source: String,
    /// The sample type shown, e.g. `cpu`/`nanoseconds` or `samples`/`count`.
    pub sample_type: String,
    pub sample_unit: String,
    /// Σ|value| in `sample_unit`, and as a person reads it (`4.98s`).
    pub total: i64,
    pub total_text: String,
    /// Categories with a nonzero share, largest first.
    pub categories: Vec<ProfileCategory>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileCategory {
    /// Snake-case id as `pprof summary --json` writes it: `user`, `gc`, `scheduler`,
    /// `syscalls`, `malloc`, `cgo`, `locks`, `runtime_other`.
    pub id: String,
    /// Share of the total, in percent.
    pub percent: f64,
    /// Leaf functions with the most value, largest first, with their share in percent.
    pub top_functions: Vec<(String, f64)>,
}

impl ProfileFacts {
    /// CPU time (`cpu`, or `samples`/`count`): the only kind the rules read.
    pub fn is_cpu(&self) -> bool {
        self.sample_type == "cpu" || self.sample_type == "samples" && self.sample_unit == "count"
    }

    pub fn percent(&self, id: &str) -> f64 {
        self.category(id).map_or(0.0, |c| c.percent)
    }

    fn category(&self, id: &str) -> Option<&ProfileCategory> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// `GC is 31.2% of cpu in FILE (total 4.98s): runtime.scanobject 12.0%, ...`
    pub(crate) fn share_words(&self, id: &str, what: &str) -> String {
        let mut s = format!(
            "{what} is {}% of {} in {} (total {})",
            units::decimal(self.percent(id), 1),
            self.sample_type,
            self.source,
            self.total_text
        );
        if let Some(c) = self.category(id).filter(|c| !c.top_functions.is_empty()) {
            let fns: Vec<String> = c
                .top_functions
                .iter()
                .take(3)
                .map(|(n, p)| format!("{n} {}%", units::decimal(*p, 1)))
                .collect();
            s.push_str(&format!("; top: {}", fns.join(", ")));
        }
        s
    }
}

pub(crate) fn quota_words(q: &CpuQuotaInfo) -> String {
    format!(
        "cpu quota {} ({}/{} us) from {}",
        units::cpus(q.cores),
        q.quota_us,
        q.period_us,
        q.source.display()
    )
}

pub(crate) fn go_version(b: &GoBinary) -> &str {
    b.go_version
        .split_whitespace()
        .next()
        .unwrap_or(&b.go_version)
}

/// The program's runtime facts with the GODEBUG it runs with (which overrides its
/// DefaultGODEBUG); `None` for an unrecognised Go version.
pub(crate) fn runtime(f: &Facts, b: &GoBinary) -> Option<GoRuntime> {
    b.runtime(f.info.go_env.godebug.as_deref())
}

pub fn effective_gomaxprocs(f: &Facts) -> GoMaxProcs {
    let env = &f.info.go_env;
    if let Some(n) = env.gomaxprocs_value() {
        return GoMaxProcs {
            value: n,
            how: format!("GOMAXPROCS={n} in the environment of {}", f.env_owner),
        };
    }
    let cpus = f.info.cpu.cpu_count().unwrap_or(1);
    let Some((b, rt)) = f.binary.and_then(|b| Some((b, runtime(f, b)?))) else {
        return GoMaxProcs {
            value: cpus,
            how: format!(
                "GOMAXPROCS is not set, so a Go program before 1.25 uses the {cpus} CPUs it may run on"
            ),
        };
    };
    let version = go_version(b);
    let pick = policy::runtime_gomaxprocs(f.info, &rt);
    let value = pick.gomaxprocs;
    let how = match &pick.basis {
        PickBasis::BeforeGo125 => {
            format!("{version} ignores the cgroup quota and uses the {value} CPUs it may run on")
        }
        PickBasis::Disabled => format!(
            "{version} has containermaxprocs=0, so it ignores the cgroup quota and uses the {value} CPUs it may run on"
        ),
        PickBasis::CgroupNotFound {
            looks_at: Some(p),
            outside_namespace,
        } => format!(
            "{version} looks for its cgroup at {}, which is not it ({}), and uses the {value} CPUs it may run on",
            p.display(),
            boxwise_box::plan::not_found_cause(*outside_namespace)
        ),
        PickBasis::CgroupNotFound { looks_at: None, .. } => {
            format!("{version} finds no cpu cgroup and uses the {value} CPUs it may run on")
        }
        PickBasis::OwnQuota(_) => {
            format!("{version} rounds its own cgroup's quota up, at least 2: {value}")
        }
        PickBasis::NoOwnQuota => format!(
            "{version} reads only its own cgroup, which sets no quota, and uses the {value} CPUs it may run on"
        ),
    };
    GoMaxProcs { value, how }
}

pub(crate) fn lowest_memory_limit(info: &BoxInfo) -> Option<&MemoryLimit> {
    [info.memory.limit.as_ref(), info.memory.high.as_ref()]
        .into_iter()
        .flatten()
        .min_by_key(|l| l.bytes)
}

pub(crate) fn limit_words(l: &MemoryLimit) -> String {
    format!(
        "{} {} ({} bytes) from {}",
        l.kind.name(),
        units::bytes(l.bytes),
        l.bytes,
        l.source.display()
    )
}
