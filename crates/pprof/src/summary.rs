//! Where the value goes by category (user code, GC, scheduler, syscalls and netpoll, malloc,
//! cgo, locks, other runtime), each with its share and top leaf functions, plus a plain
//! reading of what the shares mean in a container. Rules and sources: docs/pprof.md.

use std::collections::HashMap;

use serde::Serialize;

use crate::model::Profile;
use crate::stacks::FrameNames;
use crate::top::compute_total;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    User,
    Gc,
    Scheduler,
    Syscalls,
    Malloc,
    Cgo,
    Locks,
    RuntimeOther,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::User,
        Category::Gc,
        Category::Scheduler,
        Category::Syscalls,
        Category::Malloc,
        Category::Cgo,
        Category::Locks,
        Category::RuntimeOther,
    ];

    /// The id `--json` writes (snake case).
    pub fn id(self) -> &'static str {
        match self {
            Category::User => "user",
            Category::Gc => "gc",
            Category::Scheduler => "scheduler",
            Category::Syscalls => "syscalls",
            Category::Malloc => "malloc",
            Category::Cgo => "cgo",
            Category::Locks => "locks",
            Category::RuntimeOther => "runtime_other",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Category::User => "user code",
            Category::Gc => "GC",
            Category::Scheduler => "scheduler",
            Category::Syscalls => "syscalls/netpoll",
            Category::Malloc => "malloc",
            Category::Cgo => "cgo",
            Category::Locks => "locks",
            Category::RuntimeOther => "runtime (other)",
        }
    }
}

/// Frames that decide a stack's category. The frame nearest the leaf that matches wins, so
/// a GC assist inside mallocgc is GC and a futex under findRunnable is scheduler.
/// `(prefix, exact)`: exact names must match whole; prefixes match the start.
const RULES: &[(Category, &[&str], &[&str])] = &[
    (
        Category::Gc,
        &[
            "runtime.gc",
            "runtime.markroot",
            "runtime.scanobject",
            "runtime.scanblock",
            "runtime.scanstack",
            "runtime.scanframeworker",
            "runtime.scanConservative",
            "runtime.greyobject",
            "runtime.(*gcWork).",
            "runtime.(*gcControllerState).",
            "runtime.bgsweep",
            "runtime.sweepone",
            "runtime.(*sweepLocked).",
            "runtime.(*mspan).sweep",
            "runtime.bgscavenge",
            "runtime.(*pageAlloc).scavenge",
            "runtime.(*scavengerState).",
            "runtime.wbBuf",
            "runtime.bulkBarrier",
        ],
        &["runtime.GC", "runtime.findObject", "runtime.forEachP"],
    ),
    (
        Category::Malloc,
        &[
            "runtime.mallocgc",
            "runtime.(*mcache).",
            "runtime.(*mcentral).",
            "runtime.(*mheap).",
        ],
        &[
            "runtime.newobject",
            "runtime.makeslice",
            "runtime.growslice",
            "runtime.newarray",
            "runtime.makemap",
            "runtime.makemap_small",
            "runtime.rawstring",
            "runtime.rawbyteslice",
            "runtime.rawruneslice",
            "runtime.nextFreeFast",
        ],
    ),
    (
        Category::Locks,
        &[
            "sync.(*Mutex).",
            "sync.(*RWMutex).",
            "sync.runtime_Sem",
            "runtime.semacquire",
            "runtime.semrelease",
            "sync.runtime_notifyList",
            "runtime.notifyList",
        ],
        &[],
    ),
    (
        Category::Cgo,
        &["_Cfunc_", "runtime.cgocall", "runtime.asmcgocall"],
        &[],
    ),
    (
        Category::Syscalls,
        &[
            "syscall.",
            "runtime/internal/syscall.",
            "internal/runtime/syscall.",
            "internal/syscall/",
            "internal/poll.",
            "runtime.netpoll",
            "runtime.entersyscall",
            "runtime.exitsyscall",
            "runtime.epoll",
            "runtime.reentersyscall",
        ],
        &[
            "runtime.read",
            "runtime.write",
            "runtime.write1",
            "runtime.open",
            "runtime.closefd",
        ],
    ),
    (
        Category::Scheduler,
        &[
            "runtime.findRunnable",
            "runtime.findrunnable",
            "runtime.stealWork",
            "runtime.runqsteal",
            "runtime.runqgrab",
            "runtime.goschedImpl",
            "runtime.gosched",
            "runtime.Gosched",
            "runtime.preempt",
            "runtime.asyncPreempt2",
            "runtime.checkTimers",
            "runtime.runtimer",
            "runtime.runOneTimer",
        ],
        &[
            "runtime.schedule",
            "runtime.park_m",
            "runtime.gopark",
            "runtime.goparkunlock",
            "runtime.goready",
            "runtime.ready",
            "runtime.mcall",
            "runtime.stopm",
            "runtime.startm",
            "runtime.wakep",
            "runtime.handoffp",
            "runtime.mPark",
            "runtime.notesleep",
            "runtime.notetsleep",
            "runtime.notetsleepg",
            "runtime.notewakeup",
            "runtime.resetspinning",
            "runtime.sysmon",
            "runtime.retake",
            "runtime.newproc",
            "runtime.newproc1",
            "runtime.goexit0",
            "runtime.gfget",
            "runtime.execute",
            "runtime.injectglist",
            "runtime.stopTheWorldWithSema",
            "runtime.startTheWorldWithSema",
        ],
    ),
];

/// Leaf frames that say nothing by themselves (a futex wait serves whoever called it); a
/// stack with no deciding frame and one of these leaves is scheduler work.
const IDLE_LEAVES: &[&str] = &[
    "runtime.futex",
    "runtime.usleep",
    "runtime.osyield",
    "runtime.nanosleep",
    "runtime.procyield",
    "runtime.futexsleep",
    "runtime.futexwakeup",
];

/// Runtime lock frames: locks when nothing else decided the stack.
const RUNTIME_LOCKS: &[&str] = &["runtime.lock2", "runtime.unlock2", "runtime.lockWithRank"];

pub fn classify_frame(name: &str) -> Option<Category> {
    RULES.iter().find_map(|(c, prefixes, exact)| {
        (prefixes.iter().any(|p| name.starts_with(p)) || exact.contains(&name)).then_some(*c)
    })
}

/// The category of a stack given root-first frame names. A leaf `runtime.asyncPreempt` (the
/// preemption signal's landing pad) counts as the code it interrupted.
pub fn classify_stack<'a>(frames: impl DoubleEndedIterator<Item = &'a str> + Clone) -> Category {
    if frames.clone().next_back() == Some("runtime.asyncPreempt") {
        let mut rest = frames.clone();
        rest.next_back();
        if rest.clone().next_back().is_some() {
            return classify_stack(rest);
        }
    }
    if let Some(c) = frames.clone().rev().find_map(classify_frame) {
        return c;
    }
    let leaf = frames.clone().next_back().unwrap_or("");
    if frames.clone().any(|f| RUNTIME_LOCKS.contains(&f)) {
        return Category::Locks;
    }
    if IDLE_LEAVES.contains(&leaf) {
        return Category::Scheduler;
    }
    if leaf.starts_with("runtime.") || leaf.starts_with("runtime/") {
        Category::RuntimeOther
    } else {
        Category::User
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FunctionShare {
    pub name: String,
    pub value: i64,
    pub percent: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryShare {
    pub category: Category,
    pub title: &'static str,
    pub value: i64,
    pub percent: f64,
    /// Leaf functions with the most value in this category.
    pub functions: Vec<FunctionShare>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub sample_type: String,
    pub sample_unit: String,
    pub total: i64,
    /// Largest first; categories with no value are left out.
    pub categories: Vec<CategoryShare>,
    pub readings: Vec<String>,
}

/// Classifies every selected sample by its stack and sums `|value|` per category.
pub fn summarize(p: &Profile, samples: &[usize], vi: usize, top_functions: usize) -> Summary {
    let frames = FrameNames::new(p);
    let total = compute_total(p, vi);
    let mut per: HashMap<Category, (i64, HashMap<u32, i64>)> = HashMap::new();
    let mut stack = Vec::new();
    for &s in samples {
        let w = p.samples.get(s).values[vi].saturating_abs();
        if w == 0 {
            continue;
        }
        frames.stack(p, s, &mut stack);
        let names = stack.iter().map(|&i| frames.names[i as usize].as_str());
        let c = classify_stack(names);
        let e = per.entry(c).or_default();
        e.0 = e.0.saturating_add(w);
        if let Some(&leaf) = stack.last() {
            let v = e.1.entry(leaf).or_insert(0);
            *v = v.saturating_add(w);
        }
    }
    let pct = |v: i64| {
        if total == 0 {
            0.0
        } else {
            v as f64 * 100.0 / total as f64
        }
    };
    let mut categories: Vec<CategoryShare> = Category::ALL
        .iter()
        .filter_map(|c| per.get(c).map(|e| (c, e)))
        .filter(|(_, e)| e.0 != 0)
        .map(|(&category, (value, fns))| {
            let mut f: Vec<(u32, i64)> = fns.iter().map(|(&k, &v)| (k, v)).collect();
            f.sort_by(|a, b| {
                b.1.cmp(&a.1)
                    .then_with(|| frames.names[a.0 as usize].cmp(&frames.names[b.0 as usize]))
            });
            CategoryShare {
                category,
                title: category.title(),
                value: *value,
                percent: pct(*value),
                functions: f
                    .into_iter()
                    .take(top_functions)
                    .map(|(n, v)| FunctionShare {
                        name: frames.names[n as usize].clone(),
                        value: v,
                        percent: pct(v),
                    })
                    .collect(),
            }
        })
        .collect();
    categories.sort_by(|a, b| b.value.cmp(&a.value).then(a.title.cmp(b.title)));
    let st = &p.sample_types[vi];
    let readings = readings(&st.ty, &st.unit, &categories);
    Summary {
        sample_type: st.ty.clone(),
        sample_unit: st.unit.clone(),
        total,
        categories,
        readings,
    }
}

/// Shares (percent of CPU) from which a reading is given: rules of thumb, documented in
/// docs/pprof.md. `boxwise doctor --profile` uses the same thresholds.
pub const GC_PERCENT: f64 = 25.0;
pub const MALLOC_PERCENT: f64 = 15.0;
pub const SCHEDULER_PERCENT: f64 = 10.0;
pub const LOCKS_PERCENT: f64 = 10.0;
pub const SYSCALLS_PERCENT: f64 = 30.0;
pub const CGO_PERCENT: f64 = 10.0;

/// CPU time: the only kind of profile the readings apply to.
pub fn is_cpu(ty: &str, unit: &str) -> bool {
    ty == "cpu" || ty == "samples" && unit == "count"
}

/// Only CPU profiles get readings.
fn readings(ty: &str, unit: &str, cats: &[CategoryShare]) -> Vec<String> {
    let share = |c: Category| {
        cats.iter()
            .find(|x| x.category == c)
            .map_or(0.0, |x| x.percent)
    };
    let mut r = Vec::new();
    if !is_cpu(ty, unit) {
        r.push(format!(
            "Shares are of {ty}, not CPU time: the container readings apply to CPU profiles only."
        ));
        return r;
    }
    let gc = share(Category::Gc);
    if gc >= GC_PERCENT {
        r.push(format!("GC is {gc:.0}% of CPU: the heap is close to GOMEMLIMIT or GOGC is low; check GODEBUG=gctrace=1 (`boxwise gctrace`) and the memory limit (`boxwise inspect`)."));
    }
    let malloc = share(Category::Malloc);
    if malloc >= MALLOC_PERCENT {
        r.push(format!("Allocation is {malloc:.0}% of CPU: allocation-heavy code also drives GC; see `boxwise pprof top` on the allocs profile."));
    }
    let sched = share(Category::Scheduler);
    if sched >= SCHEDULER_PERCENT {
        r.push(format!("Scheduler and futex {sched:.0}%: GOMAXPROCS may exceed the CPU quota (threads spin and park instead of working); compare with `boxwise inspect` and set it with `boxwise exec`."));
    }
    let locks = share(Category::Locks);
    if locks >= LOCKS_PERCENT {
        r.push(format!("Lock contention {locks:.0}%: see the mutex profile (`boxwise pprof top .../debug/pprof/mutex`); CPU throttling makes lock holders stall longer."));
    }
    let sys = share(Category::Syscalls);
    if sys >= SYSCALLS_PERCENT {
        r.push(format!("Syscalls and the network poller {sys:.0}%: the service is I/O bound; batching writes or larger buffers cut syscalls."));
    }
    let cgo = share(Category::Cgo);
    if cgo >= CGO_PERCENT {
        r.push(format!("cgo {cgo:.0}%: C calls hold an OS thread each; many concurrent calls add threads beyond GOMAXPROCS."));
    }
    if r.is_empty() {
        r.push("Most CPU goes to the program's own work; no runtime cost stands out.".into());
    }
    r
}

impl Summary {
    pub fn to_text(&self, fmt: &dyn Fn(i64) -> String) -> String {
        let mut s = format!(
            "Type: {}, total {}\n{:<18} {:>7} {:>12}  top functions\n",
            self.sample_type,
            fmt(self.total),
            "category",
            "share",
            "value"
        );
        for c in &self.categories {
            let fns: Vec<String> = c
                .functions
                .iter()
                .map(|f| format!("{} {:.1}%", f.name, f.percent))
                .collect();
            s.push_str(&format!(
                "{:<18} {:>6.1}% {:>12}  {}\n",
                c.title,
                c.percent,
                fmt(c.value),
                fns.join(", ")
            ));
        }
        s.push_str("\nReading:\n");
        for r in &self.readings {
            s.push_str(&format!("- {r}\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(stack: &[&str]) -> Category {
        classify_stack(stack.iter().copied())
    }

    #[test]
    fn nearest_deciding_frame_wins() {
        use Category::*;
        assert_eq!(
            c(&[
                "main.main",
                "runtime.mallocgc",
                "runtime.gcAssistAlloc",
                "runtime.scanobject"
            ]),
            Gc
        );
        assert_eq!(
            c(&[
                "main.main",
                "runtime.makeslice",
                "runtime.mallocgc",
                "runtime.memclrNoHeapPointers"
            ]),
            Malloc
        );
        assert_eq!(
            c(&[
                "runtime.mcall",
                "runtime.park_m",
                "runtime.schedule",
                "runtime.findRunnable",
                "runtime.futexsleep",
                "runtime.futex"
            ]),
            Scheduler
        );
        assert_eq!(
            c(&[
                "main.h",
                "sync.(*Mutex).Lock",
                "sync.(*Mutex).lockSlow",
                "runtime.procyield"
            ]),
            Locks
        );
        assert_eq!(
            c(&[
                "main.h",
                "os.(*File).Write",
                "internal/poll.(*FD).Write",
                "syscall.write",
                "syscall.Syscall",
                "runtime/internal/syscall.Syscall6"
            ]),
            Syscalls
        );
        assert_eq!(
            c(&["main.h", "main._Cfunc_sqlite3_step", "runtime.cgocall"]),
            Cgo
        );
        assert_eq!(c(&["runtime.main", "main.main", "main.fib"]), User);
        assert_eq!(
            c(&["runtime.main", "main.main", "runtime.memmove"]),
            RuntimeOther
        );
        assert_eq!(c(&["runtime.mstart", "runtime.futex"]), Scheduler);
        assert_eq!(c(&["main.main", "main.fib", "runtime.asyncPreempt"]), User);
        assert_eq!(c(&["x", "runtime.lock2", "runtime.futex"]), Locks);
    }
}
