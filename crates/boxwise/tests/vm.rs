//! cgroup v2 on a real kernel with 8 CPUs: boots Debian's stock kernel under qemu (software
//! emulation) with an initramfs holding busybox, the static boxwise and the Go probes
//! (scripts/vm/), runs the guest scenarios (tests/vm/scenarios.sh) and checks every one here
//! against the layout it built: the true limits, boxwise's plan, and what each Go version picks
//! alone and under `boxwise exec`.
//!
//! One boot for the whole suite (about 90 s of emulation), so one test function. Needs
//! root, qemu-system-x86_64, cpio, busybox-static, the kernel (scripts/vm/fetch-kernel.sh)
//! and Go 1.19, 1.23, 1.25 and 1.26; skips otherwise (fails under
//! BOXWISE_REQUIRE_PRIVILEGED=1). BOXWISE_VM_LOG=FILE keeps a copy of the guest's console.

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{require, run, stdout_ok, workspace_root};

/// The guest powers itself off after this long whatever happens.
const GUEST_TIMEOUT_S: u64 = 600;
/// qemu is killed after this long (the guest's own watchdog should have fired first).
const HOST_TIMEOUT: Duration = Duration::from_secs(GUEST_TIMEOUT_S + 120);
const CPUS: u32 = 8;
const GO_VERSIONS: [&str; 4] = ["go119", "go123", "go125", "go126"];
/// Also checked, not in the table: Go 1.25 building a module that says `go 1.19`, whose
/// DefaultGODEBUG turns the container-aware default off (`containermaxprocs=0`).
const CHECKED_GO: [&str; 5] = ["go119", "go123", "go125", "go126", "go125old"];
const CG: &str = "/sys/fs/cgroup";
const NO_LIMIT: i64 = i64::MAX;

// ---------------------------------------------------------------------------
// The console log
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Block {
    rc: i32,
    out: String,
}

#[derive(Debug, Default)]
struct Scenario {
    blocks: BTreeMap<String, Block>,
    warnings: Vec<String>,
    raw: String,
}

impl Scenario {
    fn block(&self, label: &str) -> Option<&Block> {
        self.blocks.get(label)
    }

    fn stderr(&self, label: &str) -> &str {
        self.blocks
            .get(&format!("{label}.stderr"))
            .map_or("", |b| b.out.as_str())
    }
}

#[derive(Debug, Default)]
struct Log {
    guest: String,
    scenarios: BTreeMap<String, Scenario>,
    done: Option<String>,
    timeout: bool,
}

/// Kernel messages can land between our lines on the console (`[   12.345678] ...`).
fn is_kernel_line(line: &str) -> bool {
    line.starts_with('[')
        && line
            .find(']')
            .is_some_and(|i| line[1..i].trim().parse::<f64>().is_ok())
}

fn parse_log(text: &str) -> Log {
    let mut log = Log::default();
    let mut current = String::new();
    let mut open: Option<(String, String, String)> = None; // scenario, label, body
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if !line.starts_with("@@SCENARIO ")
            && let Some(s) = log.scenarios.get_mut(&current)
        {
            s.raw.push_str(line);
            s.raw.push('\n');
        }
        if let Some((scen, label, body)) = open.as_mut() {
            if let Some(rest) = line.strip_prefix(&format!("@@END {scen} {label} rc=")) {
                let rc = rest.trim().parse().unwrap_or(-1);
                let out = std::mem::take(body);
                let (scen, label, _) = open.take().unwrap();
                log.scenarios
                    .entry(scen)
                    .or_default()
                    .blocks
                    .insert(label, Block { rc, out });
            } else if !is_kernel_line(line) {
                body.push_str(line);
                body.push('\n');
            }
            continue;
        }
        if let Some(name) = line.strip_prefix("@@SCENARIO ") {
            current = name.trim().to_string();
            log.scenarios.entry(current.clone()).or_default();
        } else if let Some(rest) = line.strip_prefix("@@BEGIN ") {
            if let Some((scen, label)) = rest.trim().split_once(' ') {
                open = Some((scen.to_string(), label.to_string(), String::new()));
            }
        } else if let Some(rest) = line.strip_prefix("@@WARN ") {
            let scen = rest.split(' ').next().unwrap_or("").to_string();
            log.scenarios
                .entry(scen)
                .or_default()
                .warnings
                .push(rest.to_string());
        } else if let Some(rest) = line.strip_prefix("@@GUEST ") {
            log.guest = rest.to_string();
        } else if let Some(rest) = line.strip_prefix("@@DONE ") {
            log.done = Some(rest.to_string());
        } else if line.starts_with("@@TIMEOUT") {
            log.timeout = true;
        }
    }
    log
}

/// `key=value` lines (the probe's output); the last value of a key wins.
fn kv(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim_start_matches("export ").to_string(), v.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------
// The expectations, worked by hand from the layout each scenario builds
// ---------------------------------------------------------------------------

/// What a scenario set up (see tests/vm/scenarios.sh), as the process sees it.
struct Layout {
    name: &'static str,
    /// The lowest quota visible to boxwise (cores) and the cgroup (under /sys/fs/cgroup as the
    /// process sees it) whose cpu.max sets it.
    quota: Option<(f64, &'static str)>,
    /// The quota Go 1.25+ reads by itself: the cpu.max at mount point + /proc/self/cgroup
    /// path (its own cgroup, or the wrong one in a namespace without remount).
    go_reads: Option<f64>,
    /// CPUs allowed (cpuset, affinity).
    cpus: u32,
    /// Lowest memory.max and the cgroup that sets it; lowest memory.high.
    mem_max: Option<(u64, &'static str)>,
    mem_high: Option<u64>,
    /// Limits above the visible root exist and cannot be seen.
    hidden: bool,
    /// The quota on the process's own cgroup is the lowest, so Go 1.25+ gets it right alone
    /// and `exec` should leave GOMAXPROCS unset for it.
    own_is_lowest: bool,
}

const fn layout(name: &'static str) -> Layout {
    Layout {
        name,
        quota: None,
        go_reads: None,
        cpus: CPUS,
        mem_max: None,
        mem_high: None,
        hidden: false,
        own_is_lowest: false,
    }
}

fn layouts() -> Vec<Layout> {
    vec![
        layout("none"),
        Layout {
            quota: Some((2.5, "s-leafq/leaf")),
            go_reads: Some(2.5),
            own_is_lowest: true,
            ..layout("leaf-quota")
        },
        Layout {
            quota: Some((1.5, "s-parq")),
            ..layout("parent-quota")
        },
        Layout {
            quota: Some((0.5, "s-gpq")),
            ..layout("grandparent-quota")
        },
        Layout {
            quota: Some((1.5, "s-nla")),
            go_reads: Some(2.5),
            ..layout("nested-lower-above")
        },
        Layout {
            quota: Some((1.5, "s-nlb/leaf")),
            go_reads: Some(1.5),
            own_is_lowest: true,
            ..layout("nested-lower-below")
        },
        Layout {
            cpus: 3,
            ..layout("cpuset-leaf")
        },
        Layout {
            cpus: 2,
            ..layout("cpuset-parent")
        },
        Layout {
            mem_max: Some((268435456, "s-meml/leaf")),
            mem_high: Some(201326592),
            ..layout("memory-leaf")
        },
        Layout {
            mem_max: Some((209715200, "s-memp")),
            mem_high: Some(314572800),
            ..layout("memory-parent")
        },
        Layout {
            quota: Some((1.5, "s-blm/leaf")),
            go_reads: Some(1.5),
            own_is_lowest: true,
            mem_max: Some((536870912, "s-blm/leaf")),
            ..layout("burst-low-min")
        },
        // The whole hierarchy stays mounted: boxwise must find the real cgroup and see the
        // quota above the namespace root; Go reads /sys/fs/cgroup/cpu.max (none at the root).
        Layout {
            quota: Some((1.5, "s-cgns")),
            mem_max: Some((209715200, "s-cgns/leaf")),
            ..layout("cgns-noremount")
        },
        // Remounted: the namespace root (the leaf) is the visible root; the 1.5 above it is
        // hidden, and must be said to be.
        Layout {
            quota: Some((2.5, "")),
            go_reads: Some(2.5),
            own_is_lowest: true,
            mem_max: Some((209715200, "")),
            hidden: true,
            ..layout("cgns-remount")
        },
    ]
}

fn cg_file(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        format!("{CG}/{file}")
    } else {
        format!("{CG}/{dir}/{file}")
    }
}

/// GOMAXPROCS by a policy: round the quota (up, or down for floor), at least `min`, at most
/// the CPUs allowed; the CPU count without a quota.
fn procs(quota: Option<f64>, cpus: u32, min: u32, up: bool) -> i64 {
    let Some(q) = quota else {
        return i64::from(cpus);
    };
    let r = if up { q.ceil() } else { q.floor() } as u32;
    i64::from(r.max(min).min(cpus))
}

impl Layout {
    fn go125(&self) -> i64 {
        procs(self.quota.map(|q| q.0), self.cpus, 2, true)
    }
    fn floor(&self) -> i64 {
        procs(self.quota.map(|q| q.0), self.cpus, 1, false)
    }
    fn ceil(&self) -> i64 {
        procs(self.quota.map(|q| q.0), self.cpus, 1, true)
    }
    /// What Go picks alone: before 1.25 (and 1.25 with containermaxprocs=0) the CPU count;
    /// 1.25+ applies its rule to the one cpu.max it reads.
    fn alone(&self, go: &str) -> i64 {
        match go {
            "go125" | "go126" => procs(self.go_reads, self.cpus, 2, true),
            _ => i64::from(self.cpus),
        }
    }
    fn gomemlimit(&self) -> Option<i64> {
        let lowest = [self.mem_max.map(|m| m.0), self.mem_high]
            .into_iter()
            .flatten()
            .min()?;
        Some((lowest as f64 * 0.9).floor() as i64)
    }
    /// What `exec` should put in GOMAXPROCS for a Go version: `Some("")` unset, `Some(n)`
    /// set, `None` either (no quota: both are right).
    fn exec_env(&self, go: &str) -> Option<String> {
        self.quota?;
        let modern = matches!(go, "go125" | "go126");
        if modern && self.own_is_lowest && self.alone(go) == self.go125() {
            Some(String::new())
        } else {
            Some(self.go125().to_string())
        }
    }
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

struct Checker<'a> {
    scen: &'a Scenario,
    failures: Vec<String>,
}

impl<'a> Checker<'a> {
    fn fail(&mut self, msg: String) {
        self.failures.push(msg);
    }

    /// The block's stdout when it ran and exited 0.
    fn ok_block(&mut self, label: &str) -> Option<&'a str> {
        let scen = self.scen;
        match scen.block(label) {
            None => {
                self.fail(format!("{label}: no output (the guest did not run it)"));
                None
            }
            Some(b) if b.rc != 0 => {
                self.fail(format!(
                    "{label}: exit status {}; stderr: {}",
                    b.rc,
                    scen.stderr(label).trim()
                ));
                None
            }
            Some(b) => Some(b.out.as_str()),
        }
    }

    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, got: T, want: T) {
        if got != want {
            self.fail(format!("{what}: got {got:?}, want {want:?}"));
        }
    }

    /// The JSON value at a dotted path, or a failure naming it.
    fn at<'v>(&mut self, doc: &'v Value, path: &str) -> Option<&'v Value> {
        // Below a null (an absent quota) everything is null.
        let v = path
            .split('.')
            .try_fold(doc, |v, k| if v.is_null() { Some(v) } else { v.get(k) });
        if v.is_none() {
            self.fail(format!("inspect --json has no {path}"));
        }
        v
    }

    fn json_num(&mut self, doc: &Value, path: &str, want: Option<f64>) {
        let Some(v) = self.at(doc, path) else { return };
        let got = v.as_f64();
        let same = match (got, want) {
            (Some(g), Some(w)) => (g - w).abs() < 1e-6,
            (None, None) => v.is_null(),
            _ => false,
        };
        if !same {
            self.fail(format!("inspect {path}: got {v}, want {want:?}"));
        }
    }

    fn json_str(&mut self, doc: &Value, path: &str, want: &str) {
        let Some(v) = self.at(doc, path) else { return };
        if v.as_str() != Some(want) {
            self.fail(format!("inspect {path}: got {v}, want {want:?}"));
        }
    }
}

fn check_layout(l: &Layout, scen: &Scenario) -> Vec<String> {
    let mut c = Checker {
        scen,
        failures: Vec::new(),
    };
    let want_procs = l.go125();
    let want_mem = l.gomemlimit();

    if let Some(out) = c.ok_block("inspect") {
        match serde_json::from_str::<Value>(out) {
            Err(e) => c.fail(format!("inspect --json is not JSON: {e}")),
            Ok(doc) => {
                c.json_num(&doc, "cpu.quota.cores", l.quota.map(|q| q.0));
                if let Some((_, dir)) = l.quota {
                    c.json_str(&doc, "cpu.quota.source", &cg_file(dir, "cpu.max"));
                }
                let eff = l
                    .quota
                    .map_or(f64::from(l.cpus), |q| q.0.min(f64::from(l.cpus)));
                c.json_num(&doc, "cpu.effective_cores", Some(eff));
                c.json_num(&doc, "cpu.cpuset.count", Some(f64::from(l.cpus)));
                c.json_num(&doc, "cpu.affinity.count", Some(f64::from(l.cpus)));
                c.json_num(&doc, "memory.limit_bytes", l.mem_max.map(|m| m.0 as f64));
                if let Some((_, dir)) = l.mem_max {
                    c.json_str(&doc, "memory.limit.source", &cg_file(dir, "memory.max"));
                }
                c.json_num(&doc, "memory.high_bytes", l.mem_high.map(|h| h as f64)); // fix 5
                c.json_num(&doc, "recommendation.gomaxprocs", Some(want_procs as f64));
                c.json_num(
                    &doc,
                    "recommendation.gomemlimit_bytes",
                    want_mem.map(|m| m as f64),
                );
                // fix 3
                if let Some(v) = c.at(&doc, "cgroup.ancestors_hidden")
                    && v.as_bool() != Some(l.hidden)
                {
                    c.fail(format!(
                        "inspect cgroup.ancestors_hidden: got {v}, want {}",
                        l.hidden
                    ));
                }
                if l.name == "burst-low-min" {
                    // fix 5
                    c.json_num(&doc, "cpu.quota.burst_us", Some(50000.0));
                    c.json_num(&doc, "cpu.own_quota.burst_us", Some(50000.0));
                    c.json_num(&doc, "memory.low_bytes", Some(67108864.0));
                    c.json_num(&doc, "memory.min_bytes", Some(33554432.0));
                    c.json_str(
                        &doc,
                        "pressure.cpu.source",
                        &cg_file("s-blm/leaf", "cpu.pressure"),
                    );
                }
            }
        }
    }

    // --dry-run: the default policy may leave GOMAXPROCS out (fix 4); the others must set it.
    for (label, want, required) in [
        ("dryrun", want_procs, false),
        ("dryrun-floor", l.floor(), true),
        ("dryrun-ceil", l.ceil(), true),
    ] {
        let Some(out) = c.ok_block(label) else {
            continue;
        };
        let vars = kv(out);
        match vars.get("GOMAXPROCS") {
            Some(v) => c.eq(&format!("{label} GOMAXPROCS"), v.clone(), want.to_string()),
            None if required => c.fail(format!("{label}: no GOMAXPROCS in {out:?}")),
            None => {}
        }
        c.eq(
            &format!("{label} GOMEMLIMIT"),
            vars.get("GOMEMLIMIT").cloned(),
            want_mem.map(|m| m.to_string()),
        );
    }

    for go in CHECKED_GO {
        if let Some(out) = c.ok_block(&format!("alone-{go}")) {
            let p = kv(out);
            c.eq(
                &format!("{go} alone gomaxprocs"),
                p.get("gomaxprocs").cloned(),
                Some(l.alone(go).to_string()),
            );
            c.eq(
                &format!("{go} alone gomemlimit"),
                p.get("gomemlimit").cloned(),
                Some(NO_LIMIT.to_string()),
            );
        }
        if let Some(out) = c.ok_block(&format!("exec-{go}")) {
            let p = kv(out);
            c.eq(
                &format!("{go} under exec gomaxprocs"),
                p.get("gomaxprocs").cloned(),
                Some(want_procs.to_string()),
            );
            c.eq(
                &format!("{go} under exec gomemlimit"),
                p.get("gomemlimit").cloned(),
                Some(want_mem.unwrap_or(NO_LIMIT).to_string()),
            );
            c.eq(
                &format!("{go} under exec GOMEMLIMIT env"),
                p.get("GOMEMLIMIT").cloned(),
                Some(want_mem.map(|m| m.to_string()).unwrap_or_default()),
            );
            if let Some(env) = l.exec_env(go) {
                // fix 4
                c.eq(
                    &format!("{go} under exec GOMAXPROCS env"),
                    p.get("GOMAXPROCS").cloned(),
                    Some(env),
                );
            }
        }
    }
    c.failures
}

/// A check of a `boxwise run` scenario.
type RunCheck = fn(&Scenario) -> Vec<String>;

fn check_run_occupied(scen: &Scenario) -> Vec<String> {
    let mut c = Checker {
        scen,
        failures: Vec::new(),
    };
    // fix 1: works, or exits 1 with one line that names the cgroup and says --parent.
    match scen.block("run") {
        None => c.fail("run: no output".into()),
        Some(b) if b.rc == 0 => {}
        Some(b) => {
            let err = scen.stderr("run").trim();
            let lines = err.lines().count();
            if b.rc != 1 || lines != 1 || !err.contains("--parent") || !err.contains("s-runo/leaf")
            {
                c.fail(format!(
                    "run from an occupied cgroup: exit {} with {lines} stderr line(s); want 0, \
                     or 1 with one line naming s-runo/leaf and --parent: {err:?}",
                    b.rc
                ));
            }
        }
    }
    let before = c.ok_block("subtree-before").map(str::to_string);
    let after = c.ok_block("subtree-after").map(str::to_string);
    c.eq("caller's cgroup.subtree_control after run", after, before);
    if let Some(out) = c.ok_block("children") {
        c.eq(
            "directories left in the caller's cgroup",
            out.trim().to_string(),
            String::new(),
        );
    }
    c.failures
}

fn check_run_root(scen: &Scenario) -> Vec<String> {
    let mut c = Checker {
        scen,
        failures: Vec::new(),
    };
    // --cpus 2.5 on the run's own cgroup: Go 1.25 reads it itself.
    if let Some(out) = c.ok_block("run-alone") {
        c.eq(
            "go125 under run --cpus 2.5: gomaxprocs",
            kv(out).get("gomaxprocs").cloned(),
            Some("3".into()),
        );
    }
    if let Some(out) = c.ok_block("stats") {
        match serde_json::from_str::<Value>(out) {
            Err(e) => c.fail(format!("--stats-json is not JSON: {e}")),
            Ok(doc) => {
                c.eq(
                    "stats exit_code",
                    doc.get("exit_code").cloned(),
                    Some(Value::from(0)),
                );
                c.eq(
                    "stats limits.cgroup_version",
                    doc.pointer("/limits/cgroup_version").cloned(),
                    Some(Value::from("v2")),
                );
            }
        }
    }
    if let Some(out) = c.ok_block("run-exec") {
        let p = kv(out);
        c.eq(
            "go119 under run --cpus 2.5 --memory 100m + exec: gomaxprocs",
            p.get("gomaxprocs").cloned(),
            Some("3".into()),
        );
        c.eq(
            "go119 under run --cpus 2.5 --memory 100m + exec: gomemlimit",
            p.get("gomemlimit").cloned(),
            Some(((100u64 << 20) as f64 * 0.9).floor().to_string()),
        );
    }
    if let Some(out) = c.ok_block("leftovers") {
        c.eq("run cgroups left", out.trim().to_string(), String::new());
    }
    c.failures
}

/// A number > 0 under a key naming pids anywhere but in `limits` (what was asked for) or a
/// peak (any run has one).
fn pids_evidence(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .filter(|(k, _)| k.as_str() != "limits" && !k.contains("peak"))
            .any(|(k, v)| pids_evidence(v, if key.contains("pids") { key } else { k })),
        Value::Array(a) => a.iter().any(|v| pids_evidence(v, key)),
        Value::Number(n) => key.contains("pids") && n.as_f64().is_some_and(|x| x > 0.0),
        _ => false,
    }
}

/// The GOMAXPROCS values a gmpwatch block printed, in order, repeats folded.
fn gomaxprocs_series(out: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for v in out.lines().filter_map(|l| {
        l.split_whitespace()
            .find_map(|w| w.strip_prefix("gomaxprocs="))
    }) {
        if seen.last().map(String::as_str) != Some(v) {
            seen.push(v.to_string());
        }
    }
    seen
}

fn check_run_at(scen: &Scenario) -> Vec<String> {
    let mut c = Checker {
        scen,
        failures: Vec::new(),
    };
    // --cpus 2, then 5 at 1.5 s: Go 1.25 re-reads its cgroup's cpu.max and follows.
    if let Some(out) = c.ok_block("at-go125") {
        c.eq(
            "go125 under run --cpus 2 --at 1500ms:cpus=5: GOMAXPROCS over time",
            gomaxprocs_series(out),
            vec!["2".to_string(), "5".to_string()],
        );
        // run itself watched the runtime's schedtrace (on by itself with --at on a Go
        // program) and says it followed.
        let err = c.scen.stderr("at-go125");
        if !err.contains("  GOMAXPROCS 2 -> 5 after cpus=5 at 1.5s, seen in the trace at ")
            || err.contains("SCHED ")
        {
            c.fail(format!("at-go125: run's GOMAXPROCS line: {err}"));
        }
    }
    // Go 1.23 sizes GOMAXPROCS from the CPUs once and never looks at the quota.
    if let Some(out) = c.ok_block("at-go123") {
        c.eq(
            "go123 under the same change: GOMAXPROCS over time",
            gomaxprocs_series(out),
            vec![CPUS.to_string()],
        );
        let err = c.scen.stderr("at-go123");
        let want = format!("  GOMAXPROCS {CPUS} throughout: did not follow cpus=5 at ");
        if !err.contains(&want) {
            c.fail(format!(
                "at-go123: run's GOMAXPROCS line, want {want:?}: {err}"
            ));
        }
    }
    if let Some(out) = c.ok_block("leftovers") {
        c.eq("run cgroups left", out.trim().to_string(), String::new());
    }
    c.failures
}

fn check_run_pids(scen: &Scenario) -> Vec<String> {
    let mut c = Checker {
        scen,
        failures: Vec::new(),
    };
    let stderr = scen.stderr("run");
    match scen.block("run") {
        None => c.fail("run: no output".into()),
        Some(b) if b.rc == 0 => c.fail(format!(
            "threads 32 under --pids 10 succeeded: {:?}",
            b.out.trim()
        )),
        Some(_) => {}
    }
    let said = stderr.contains("pids.events") || stderr.contains("pids limit");
    let counted = c
        .ok_block("stats")
        .and_then(|out| serde_json::from_str::<Value>(out).ok())
        .is_some_and(|doc| match doc.get("pids_limit_hits") {
            Some(hits) => hits.as_u64().is_some_and(|n| n > 0),
            None => pids_evidence(&doc, ""),
        });
    if !said && !counted {
        // fix 1's pids report
        c.fail(format!(
            "run --pids: neither --stats-json (outside limits) nor stderr says the pids limit \
             was hit; stderr: {:?}",
            stderr.lines().take(3).collect::<Vec<_>>()
        ));
    }
    if let Some(out) = c.ok_block("leftovers") {
        c.eq("run cgroups left", out.trim().to_string(), String::new());
    }
    c.failures
}

// ---------------------------------------------------------------------------
// The table for docs/detection.md, from what the guest printed
// ---------------------------------------------------------------------------

fn table(layouts: &[Layout], log: &Log) -> String {
    let mut t = String::from(
        "| layout | boxwise reports | alone 1.19 / 1.23 / 1.25 / 1.26 | under `boxwise exec` |\n\
         |---|---|---|---|\n",
    );
    for l in layouts {
        let Some(s) = log.scenarios.get(l.name) else {
            continue;
        };
        let doc: Value = s
            .block("inspect")
            .and_then(|b| serde_json::from_str(&b.out).ok())
            .unwrap_or(Value::Null);
        let q = doc.pointer("/cpu/quota/cores").and_then(Value::as_f64);
        let mem = doc.pointer("/memory/limit_bytes").and_then(Value::as_u64);
        let high = doc.pointer("/memory/high/bytes").and_then(Value::as_u64);
        let src = doc
            .pointer("/cpu/quota/source")
            .and_then(Value::as_str)
            .map_or("", |p| p.trim_start_matches(CG).trim_start_matches('/'));
        let mut rep = match q {
            Some(q) => format!("quota {q} ({src})"),
            None => "no quota".into(),
        };
        let _ = write!(
            rep,
            ", {} CPUs",
            doc.pointer("/cpu/cpuset/count").unwrap_or(&Value::Null)
        );
        if let Some(m) = mem {
            let _ = write!(rep, ", max {} MiB", m >> 20);
        }
        if let Some(h) = high {
            let _ = write!(rep, ", high {} MiB", h >> 20);
        }
        if doc.pointer("/cgroup/ancestors_hidden") == Some(&Value::Bool(true)) {
            rep.push_str(", ancestors hidden");
        }
        let procs = doc
            .pointer("/recommendation/gomaxprocs")
            .unwrap_or(&Value::Null);
        let _ = write!(rep, " -> GOMAXPROCS {procs}");
        if let Some(m) = doc
            .pointer("/recommendation/gomemlimit_bytes")
            .and_then(Value::as_u64)
        {
            let _ = write!(rep, ", GOMEMLIMIT {m}");
        }
        let probe = |label: &str| {
            s.block(label).map_or("?".to_string(), |b| {
                let p = kv(&b.out);
                let n = p.get("gomaxprocs").cloned().unwrap_or("?".into());
                match p.get("GOMAXPROCS").map(String::as_str) {
                    None | Some("") if label.starts_with("exec") => format!("{n} (env unset)"),
                    _ => n,
                }
            })
        };
        let alone: Vec<String> = GO_VERSIONS
            .iter()
            .map(|g| probe(&format!("alone-{g}")))
            .collect();
        let exec: Vec<String> = GO_VERSIONS
            .iter()
            .map(|g| probe(&format!("exec-{g}")))
            .collect();
        let _ = writeln!(
            t,
            "| {} | {rep} | {} | {} |",
            l.name,
            alone.join(" / "),
            exec.join(" / ")
        );
    }
    t
}

// ---------------------------------------------------------------------------
// Booting
// ---------------------------------------------------------------------------

/// qemu, killed and reaped however the test ends.
struct Qemu(Child);

impl Drop for Qemu {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// A directory removed however the test ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn have(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Every prerequisite, or `None` after `require` has said which is missing.
fn prerequisites() -> Option<PathBuf> {
    let root = fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if !require(
        root,
        "the VM test needs root (qemu, cpio of root-owned files)",
    ) {
        return None;
    }
    let godir = std::env::var("BOXWISE_GO_DIR").unwrap_or_else(|_| "/opt/boxwise-go".into());
    let tools = [
        (
            "qemu-system-x86_64".to_string(),
            "--version",
            "qemu-system-x86 (bookworm-backports)",
        ),
        ("cpio".into(), "--version", "cpio"),
        ("go".into(), "version", "golang-go"),
        (
            "/usr/lib/go-1.23/bin/go".into(),
            "version",
            "golang-1.23-go",
        ),
        (
            format!("{godir}/go-1.25/bin/go"),
            "version",
            "scripts/fetch-go.sh",
        ),
        (
            format!("{godir}/go-1.26/bin/go"),
            "version",
            "scripts/fetch-go.sh",
        ),
    ];
    for (cmd, arg, pkg) in &tools {
        if !require(have(cmd, arg), &format!("{cmd} is missing (install {pkg})")) {
            return None;
        }
    }
    if !require(
        Path::new("/bin/busybox").is_file(),
        "/bin/busybox is missing (apt-get install busybox-static)",
    ) {
        return None;
    }
    let mut cmd = Command::new("bash");
    cmd.arg(workspace_root().join("scripts/vm/fetch-kernel.sh"));
    let out = run(&mut cmd);
    let kernel = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .map(PathBuf::from);
    match kernel {
        Some(k) if out.status.success() && k.is_file() => Some(k),
        _ => {
            require(
                false,
                &format!(
                    "no kernel: scripts/vm/fetch-kernel.sh failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            );
            None
        }
    }
}

/// Boots the guest once and returns its console output.
fn boot(kernel: &Path) -> String {
    let build_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vm");
    let mut cmd = Command::new("bash");
    cmd.arg(workspace_root().join("scripts/vm/build-initramfs.sh"))
        .arg(&build_dir)
        .env("BOXWISE_STATIC_BIN", support::static_boxwise());
    let out = run(&mut cmd);
    let initrd = PathBuf::from(stdout_ok(&cmd, &out).lines().last().unwrap().trim());

    let tmp = TempDir(build_dir.join(format!("boot-{}", std::process::id())));
    fs::create_dir_all(&tmp.0).expect("create the boot dir");
    let log = tmp.0.join("serial.log");
    let start = Instant::now();
    let child = Command::new("bash")
        .arg(workspace_root().join("scripts/vm/boot.sh"))
        .arg(kernel)
        .arg(&initrd)
        .arg(&log)
        .arg(GUEST_TIMEOUT_S.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start qemu");
    let mut qemu = Qemu(child);
    let status = loop {
        if let Some(s) = qemu.0.try_wait().expect("wait for qemu") {
            break Some(s);
        }
        if start.elapsed() > HOST_TIMEOUT {
            break None;
        }
        thread::sleep(Duration::from_millis(250));
    };
    let text = fs::read_to_string(&log).unwrap_or_default();
    // A copy of the whole console for whoever wants to read it.
    if let Some(keep) = std::env::var_os("BOXWISE_VM_LOG") {
        let _ = fs::write(keep, &text);
    }
    let _ = fs::remove_file(&initrd);
    match status {
        None => panic!(
            "qemu still running after {HOST_TIMEOUT:?}; killed. Console:\n{}",
            tail(&text)
        ),
        Some(s) if !s.success() => {
            let mut err = String::new();
            if let Some(mut e) = qemu.0.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            panic!("qemu exited with {s}: {err}\nConsole:\n{}", tail(&text))
        }
        Some(_) => {}
    }
    eprintln!(
        "vm: boot, scenarios and power-off took {:.1} s",
        start.elapsed().as_secs_f64()
    );
    text
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

#[test]
#[ignore = "needs qemu and a kernel"]
fn vm_cgroup2_8_cpus_scenarios() {
    let Some(kernel) = prerequisites() else {
        return;
    };
    let text = boot(&kernel);
    let log = parse_log(&text);

    let mut report = String::new();
    if log.timeout {
        report.push_str("the guest's watchdog fired (@@TIMEOUT)\n");
    }
    if !log.done.as_deref().is_some_and(|d| d.starts_with("rc=0 ")) {
        let _ = writeln!(report, "the guest did not finish: @@DONE {:?}", log.done);
    }
    if !log.guest.contains(&format!("cpus={CPUS}")) {
        let _ = writeln!(report, "guest: {:?}, want cpus={CPUS}", log.guest);
    }

    let layouts = layouts();
    let runs: [(&str, RunCheck); 4] = [
        ("run-occupied", check_run_occupied),
        ("run-root", check_run_root),
        ("run-pids", check_run_pids),
        ("run-at", check_run_at),
    ];
    let names = layouts
        .iter()
        .map(|l| l.name)
        .chain(runs.iter().map(|r| r.0));
    let check = |name: &str, scen: &Scenario| match layouts.iter().find(|l| l.name == name) {
        Some(l) => check_layout(l, scen),
        None => runs
            .iter()
            .find(|r| r.0 == name)
            .map_or(Vec::new(), |r| (r.1)(scen)),
    };
    let mut failed = 0;
    let mut total = 0;
    for name in names {
        total += 1;
        let Some(scen) = log.scenarios.get(name) else {
            let _ = writeln!(report, "\n## {name}: missing from the console");
            failed += 1;
            continue;
        };
        let mut failures: Vec<String> = scen
            .warnings
            .iter()
            .map(|w| format!("guest: {w}"))
            .collect();
        failures.extend(check(name, scen));
        if !failures.is_empty() {
            failed += 1;
            let _ = writeln!(report, "\n## {name}: {} failure(s)", failures.len());
            for f in &failures {
                let _ = writeln!(report, "- {f}");
            }
            let _ = writeln!(report, "raw output:\n{}", scen.raw);
        }
    }
    if let Some(end) = log.scenarios.get("end") {
        match end.block("leftovers") {
            Some(b) if b.out.trim().is_empty() => {}
            other => {
                let _ = writeln!(report, "\ncgroups left in the guest: {other:?}");
            }
        }
    }

    // The measured table (docs/detection.md) for whoever reads the test's output.
    println!(
        "{} (done at {})\n\n{}",
        log.guest,
        log.done.as_deref().unwrap_or("?"),
        table(&layouts, &log)
    );
    assert!(
        report.is_empty(),
        "{failed} of {} VM scenarios failed ({}):\n{report}",
        total,
        log.guest
    );
}

/// The console parser and the policy model, without a VM: a checker that cannot see a block,
/// or that computes the wrong expectation, would make the suite pass or fail for nothing.
#[test]
fn vm_log_parser_and_model() {
    let text = "noise\n@@GUEST kernel=x cpus=8\n@@SCENARIO a\n@@BEGIN a inspect\n{\"x\":1}\r\n\
                [   12.5] kernel says\n@@END a inspect rc=0\n@@BEGIN a run.stderr\nboom\n\
                @@END a run.stderr rc=0\n@@WARN a cannot write\n@@DONE rc=0 uptime=1\n";
    let log = parse_log(text);
    assert_eq!(log.guest, "kernel=x cpus=8");
    assert_eq!(log.done.as_deref(), Some("rc=0 uptime=1"));
    let a = &log.scenarios["a"];
    assert_eq!(
        a.block("inspect").map(|b| b.out.as_str()),
        Some("{\"x\":1}\n")
    );
    assert_eq!(a.stderr("run"), "boom\n");
    assert_eq!(a.warnings, ["a cannot write"]);

    // 8 CPUs: 2.5 -> go125 3, floor 2, ceil 3; 0.5 -> 2, 1, 1; a 3-CPU cpuset caps.
    assert_eq!(procs(Some(2.5), 8, 2, true), 3);
    assert_eq!(procs(Some(2.5), 8, 1, false), 2);
    assert_eq!(procs(Some(0.5), 8, 2, true), 2);
    assert_eq!(procs(Some(0.5), 8, 1, false), 1);
    assert_eq!(procs(Some(0.5), 8, 1, true), 1);
    assert_eq!(procs(Some(6.0), 3, 2, true), 3);
    assert_eq!(procs(None, 3, 2, true), 3);
    let nla = layouts()
        .into_iter()
        .find(|l| l.name == "nested-lower-above")
        .unwrap();
    assert_eq!(
        (nla.go125(), nla.alone("go125"), nla.alone("go119")),
        (2, 3, 8)
    );
    assert_eq!(nla.exec_env("go126").as_deref(), Some("2"));

    let hit: Value = serde_json::json!({"limits": {"pids": 10}, "peak_pids": 9});
    assert!(!pids_evidence(&hit, ""));
    let hit: Value = serde_json::json!({"limits": {"pids": 10}, "pids": {"max_events": 3}});
    assert!(pids_evidence(&hit, ""));
}
