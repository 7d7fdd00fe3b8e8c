//! Vantage points (issue 8, DESIGN.md "Vantage point matters"), each checked against the
//! true limits in real containers and a real cgroup namespace:
//!
//! - Docker `--cgroup-parent` with the CPU quota and memory limit on the parent only: inside,
//!   the quota cannot be seen (ancestors hidden, said plainly), the v1 memory limit still can
//!   (`hierarchical_memory_limit`); from the host, `inspect/doctor/ps --pid` read the host's
//!   hierarchy, so the parent's limits and its throttling count.
//! - `--cgroupns private` with `--cpus/--memory`: the same limits inside and from the host.
//! - `docker restart`: a new pid, the same limits, and `boxwise exec` still right.
//! - `unshare -C` without a remounted cgroupfs (no Docker): the real cgroup directory, not
//!   the mount point.
//!
//! Every cgroup is made beneath this process's own cgroup in each hierarchy, with the limits
//! written before `docker run`; containers, images and cgroups are removed by Drop guards,
//! also when an assertion fails; a killed run's leftovers are removed by the next one. Skips
//! without root/Docker/Go (fails under `BOXWISE_REQUIRE_PRIVILEGED=1`, see
//! `support::require`); on a cgroup v2 host these v1 layouts do not apply and the tests skip
//! as not applicable even in CI (v2 is the VM suite's).
//!
//! Checks collect every wrong value before failing, so one run shows all that is wrong.

mod support;

use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{self, Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use boxwise_box::parse;
use serde_json::Value;
use support::{DockerImage, ProbeReport, TestCgroup};

const MIB: u64 = 1 << 20;
/// The memory limit on the `--cgroup-parent` (and the unshare cgroup): 200 MiB.
const PARENT_MEMORY: u64 = 200 * MIB;
/// floor(0.9 x 200 MiB) = floor(0.9 x 209715200), worked by hand.
const GOMEMLIMIT_200M: u64 = 188_743_680;
/// floor(0.9 x 256 MiB) = floor(0.9 x 268435456), worked by hand.
const GOMEMLIMIT_256M: u64 = 241_591_910;

// ---------------------------------------------------------------------------
// Checks that collect every mismatch
// ---------------------------------------------------------------------------

/// Mismatches gathered over one test; `finish` fails with all of them at once.
#[derive(Default)]
struct Checks(Vec<String>);

impl Checks {
    fn eq<T: PartialEq + Debug>(&mut self, what: &str, got: T, want: T) {
        if got != want {
            self.0.push(format!("{what}: got {got:?}, want {want:?}"));
        }
    }

    fn that(&mut self, cond: bool, msg: impl Into<String>) {
        if !cond {
            self.0.push(msg.into());
        }
    }

    /// The value at a dotted path, recording a mismatch (labelled `what`) when a key is
    /// missing.
    fn at<'a>(&mut self, what: &str, doc: &'a Value, path: &str) -> &'a Value {
        static MISSING: Value = Value::Null;
        let mut v = doc;
        for key in path.split('.') {
            match v.get(key) {
                Some(next) => v = next,
                None => {
                    self.0
                        .push(format!("{what}: {path} missing (no key {key:?})"));
                    return &MISSING;
                }
            }
        }
        v
    }

    /// Checks a JSON value at `path` against `want` (missing counts as wrong).
    fn json(&mut self, what: &str, doc: &Value, path: &str, want: Value) {
        let before = self.0.len();
        let got = self.at(what, doc, path).clone();
        if self.0.len() == before && got != want {
            self.0.push(format!("{what}: {path} = {got}, want {want}"));
        }
    }

    fn finish(self, context: &str) {
        assert!(
            self.0.is_empty(),
            "{} wrong:\n  - {}\n\n{context}",
            self.0.len(),
            self.0.join("\n  - ")
        );
    }
}

fn path_value(p: &Path) -> Value {
    Value::String(p.display().to_string())
}

// Expected numbers are worked out by hand for 2 or more CPUs (affinity), on hosts where online
// and cpuset are all CPUs and the affinity is never wider than them; the tests that need that
// start with `support::two_cpus_or_skip()`. Under the default `go125` policy GOMAXPROCS is
// min(affinity, max(2, ceil(quota))), and `cpu.effective_cores` is min(quota, affinity).

fn boxwise() -> Command {
    Command::new(env!("CARGO_BIN_EXE_boxwise"))
}

fn parse_json(what: &str, text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: invalid JSON ({e}):\n{text}"))
}

/// Runs `cmd`, asserts success, parses stdout as JSON.
fn json_of(mut cmd: Command) -> Value {
    let out = support::run(&mut cmd);
    let text = support::stdout_ok(&cmd, &out);
    parse_json(&format!("{cmd:?}"), &text)
}

/// The ids of a `doctor --json` report's findings.
fn finding_ids(doctor: &Value) -> Vec<String> {
    doctor["findings"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter_map(|f| f["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The doctor finding about limits set above the visible cgroup (docs/rules.md).
fn is_hidden_ancestors_finding(id: &str) -> bool {
    id == "ancestors-hidden"
}

// ---------------------------------------------------------------------------
// Cgroup hierarchies (parsed with boxwise-box; every one, named ones included)
// ---------------------------------------------------------------------------

/// One hierarchy this process belongs to: where it is mounted and its own path in it.
#[derive(Debug, Clone)]
struct Hierarchy {
    /// The v1 controllers (and `name=...`) of the mount; empty for cgroup2.
    controllers: Vec<String>,
    mount_point: PathBuf,
    /// This process's cgroup path from the hierarchy root.
    own: String,
}

impl Hierarchy {
    fn has(&self, ctrl: &str) -> bool {
        self.controllers.iter().any(|c| c == ctrl)
    }

    /// The directory of cgroup `path` (from the hierarchy root).
    fn dir(&self, path: &str) -> PathBuf {
        self.mount_point.join(path.trim_start_matches('/'))
    }
}

/// Every hierarchy listed in /proc/self/cgroup that is mounted here, with its root at the
/// hierarchy's root (the host's view; anything else cannot take `--cgroup-parent` paths).
fn hierarchies() -> Result<Vec<Hierarchy>, String> {
    let read = |p: &str| fs::read_to_string(p).map_err(|e| format!("{p}: {e}"));
    let mounts = parse::mountinfo::parse(&read("/proc/self/mountinfo")?)
        .map_err(|e| format!("/proc/self/mountinfo: {e}"))?;
    let lines = parse::proc_cgroup::parse(&read("/proc/self/cgroup")?)
        .map_err(|e| format!("/proc/self/cgroup: {e}"))?;
    let mut out = Vec::new();
    for line in lines {
        let mount = mounts.iter().find(|m| {
            if line.controllers.is_empty() {
                m.fs_type == "cgroup2"
            } else {
                m.fs_type == "cgroup"
                    && line.controllers.iter().all(|c| m.options().any(|o| o == c))
            }
        });
        let Some(mount) = mount else {
            continue;
        };
        if mount.root != "/" {
            return Err(format!(
                "the cgroup mount at {} has root {}: this process does not see the \
                 host's hierarchy",
                mount.mount_point, mount.root
            ));
        }
        out.push(Hierarchy {
            controllers: line.controllers,
            mount_point: PathBuf::from(&mount.mount_point),
            own: line.path,
        });
    }
    Ok(out)
}

fn is_ancestor_or_self(a: &str, b: &str) -> bool {
    a == "/" || a == b || b.starts_with(&format!("{}/", a.trim_end_matches('/')))
}

/// Removes `dir` and every cgroup beneath it (deepest first), retrying while the kernel
/// still holds a dying cgroup. Returns the last error.
fn rmdir_tree(dir: &Path, deadline: Instant) -> std::io::Result<()> {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = rmdir_tree(&e.path(), deadline);
            }
        }
    }
    loop {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// A cgroup to pass as Docker's `--cgroup-parent`: `<deepest own path>/boxwise-dv-<pid>-<n>`,
/// made in every hierarchy Docker (runc) will use, each beneath this process's own cgroup
/// there. Drop removes it (with what Docker left beneath it) and the intermediate
/// directories it had to make.
struct CgroupParent {
    /// The path from the hierarchy root, as `--cgroup-parent` takes it.
    path: String,
    hierarchies: Vec<Hierarchy>,
    /// Directories between an own cgroup and `path` (made here or by a parallel test),
    /// deepest last.
    intermediates: Vec<PathBuf>,
}

impl CgroupParent {
    fn create_or_skip() -> Option<Self> {
        match Self::create() {
            Ok(p) => Some(p),
            Err(why) => {
                support::require(false, &format!("cannot make a --cgroup-parent: {why}"));
                None
            }
        }
    }

    fn create() -> Result<Self, String> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let hs = hierarchies()?;
        if !hs.iter().any(|h| h.has("cpu")) || !hs.iter().any(|h| h.has("memory")) {
            return Err("no v1 cpu and memory hierarchies (this test is for v1 hosts)".into());
        }
        let deepest = hs
            .iter()
            .max_by_key(|h| h.own.len())
            .expect("at least one hierarchy")
            .own
            .clone();
        if let Some(h) = hs.iter().find(|h| !is_ancestor_or_self(&h.own, &deepest)) {
            return Err(format!(
                "own cgroups differ between hierarchies ({} in {}, {deepest} elsewhere): no \
                 single --cgroup-parent is beneath all of them",
                h.own,
                h.mount_point.display()
            ));
        }
        let name = format!(
            "boxwise-dv-{}-{}",
            process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = format!("{}/{name}", deepest.trim_end_matches('/'));
        let mut parent = CgroupParent {
            path,
            hierarchies: hs.clone(),
            intermediates: Vec::new(),
        };
        for h in &hs {
            remove_stale(&h.dir(&deepest));
            let rel = parent.path[h.own.trim_end_matches('/').len()..].trim_start_matches('/');
            // A parallel test's Drop may remove a shared intermediate between our mkdirs:
            // then walk again from the own cgroup.
            let mut walked = make_path(h, rel);
            for _ in 0..20 {
                match &walked {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        thread::sleep(Duration::from_millis(20));
                        walked = make_path(h, rel);
                    }
                    _ => break,
                }
            }
            let mut dirs = walked
                .map_err(|e| format!("make {rel} beneath {}: {e}", h.dir(&h.own).display()))?;
            dirs.pop(); // the parent itself
            parent.intermediates.extend(dirs);
        }
        Ok(parent)
    }

    fn dir_of(&self, ctrl: &str) -> PathBuf {
        let h = self
            .hierarchies
            .iter()
            .find(|h| h.has(ctrl))
            .unwrap_or_else(|| panic!("no {ctrl} hierarchy"));
        h.dir(&self.path)
    }

    fn cpu_dir(&self) -> PathBuf {
        self.dir_of("cpu")
    }

    fn memory_dir(&self) -> PathBuf {
        self.dir_of("memory")
    }

    fn set_cpu_quota(&self, cores: f64) {
        let period = 100_000u64;
        let quota = (cores * period as f64).round() as u64;
        write(
            &self.cpu_dir().join("cpu.cfs_period_us"),
            &period.to_string(),
        );
        write(&self.cpu_dir().join("cpu.cfs_quota_us"), &quota.to_string());
    }

    fn set_memory_limit(&self, bytes: u64) {
        write(
            &self.memory_dir().join("memory.limit_in_bytes"),
            &bytes.to_string(),
        );
        assert_memory_truth(&self.memory_dir(), bytes);
    }
}

impl Drop for CgroupParent {
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        for h in &self.hierarchies {
            let dir = h.dir(&self.path);
            if let Err(e) = rmdir_tree(&dir, deadline) {
                eprintln!("warning: cannot remove {}: {e}", dir.display());
            }
        }
        // Shared with parallel tests, which may still use them: one try each (rmdir only
        // removes an empty cgroup). Whoever finishes last removes them.
        for dir in self.intermediates.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// Removes `boxwise-dv-<pid>-<n>` leftovers of test processes that died without Drop.
fn remove_stale(parent: &Path) {
    for dir in support::stale_entries(parent, "boxwise-dv-") {
        let _ = rmdir_tree(&dir, Instant::now());
    }
}

/// Makes each directory of `rel` beneath the own cgroup of `h` (the last one must be new),
/// filling in an empty cpuset on the way. Returns the directories, outermost first.
fn make_path(h: &Hierarchy, rel: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut dir = h.dir(&h.own);
    let comps: Vec<&str> = rel.split('/').collect();
    let mut out = Vec::new();
    for (i, comp) in comps.iter().enumerate() {
        let up = dir.clone();
        dir.push(comp);
        match fs::create_dir(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && i + 1 < comps.len() => {}
            other => other?,
        }
        if h.has("cpuset") {
            // Without clone_children a new cpuset is empty and no task may join it.
            for f in ["cpuset.cpus", "cpuset.mems"] {
                let cur = fs::read_to_string(dir.join(f))?;
                if cur.trim().is_empty() {
                    fs::write(dir.join(f), fs::read_to_string(up.join(f))?.trim())?;
                }
            }
        }
        out.push(dir.clone());
    }
    Ok(out)
}

fn write(path: &Path, value: &str) {
    fs::write(path, value).unwrap_or_else(|e| panic!("write {value:?} to {}: {e}", path.display()));
}

/// Asserts that `bytes` really is the lowest memory limit over `dir` and its ancestors (the
/// kernel's own `hierarchical_memory_limit`): a lower limit above this process's cgroup would
/// change the truth the tests assert.
fn assert_memory_truth(dir: &Path, bytes: u64) {
    let stat = fs::read_to_string(dir.join("memory.stat")).unwrap_or_default();
    let hier = stat.lines().find_map(|l| {
        l.strip_prefix("hierarchical_memory_limit ")?
            .trim()
            .parse::<u64>()
            .ok()
    });
    assert_eq!(
        hier,
        Some(bytes),
        "setup: {}/memory.stat hierarchical_memory_limit is not the limit just set (a lower \
         limit above?)",
        dir.display()
    );
}

/// `nr_periods`, `nr_throttled` of a v1 `cpu.stat`.
fn throttled(cpu_dir: &Path) -> (u64, u64) {
    let text = fs::read_to_string(cpu_dir.join("cpu.stat")).unwrap_or_default();
    let key = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k)?.trim().parse().ok())
            .unwrap_or(0)
    };
    (key("nr_periods "), key("nr_throttled "))
}

// ---------------------------------------------------------------------------
// Docker
// ---------------------------------------------------------------------------

/// A detached container, named so Drop can remove it even when `docker run` failed.
struct Container {
    name: String,
}

impl Container {
    /// `docker run -d --name ... <docker_args> <image> <args>`; panics if it fails.
    fn start(img: &DockerImage, docker_args: &[&str], args: &[&str]) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let c = Container {
            name: format!(
                "boxwise-dv-{}-{}",
                process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ),
        };
        let mut cmd = Command::new("docker");
        cmd.args(["run", "-d", "--name", &c.name, "--label"])
            .arg(format!("boxwise-test={}", img.tag()))
            .args(docker_args)
            .arg(img.tag())
            .args(args);
        let out = support::run(&mut cmd);
        support::stdout_ok(&cmd, &out);
        c
    }

    fn inspect(&self, format: &str) -> String {
        let mut cmd = Command::new("docker");
        cmd.args(["inspect", "-f", format, &self.name]);
        let out = support::run(&mut cmd);
        support::stdout_ok(&cmd, &out).trim().to_owned()
    }

    fn id(&self) -> String {
        self.inspect("{{.Id}}")
    }

    fn pid(&self) -> u32 {
        let pid = self.inspect("{{.State.Pid}}");
        pid.parse()
            .unwrap_or_else(|e| panic!("State.Pid {pid:?} of {}: {e}", self.name))
    }

    fn logs(&self) -> String {
        let out = Command::new("docker")
            .args(["logs", &self.name])
            .output()
            .expect("docker logs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the container's stdout holds `n` lines equal to `line`.
    fn wait_for_lines(&self, line: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let logs = self.logs();
            if logs.lines().filter(|l| l.trim() == line).count() >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "container {} did not print {line:?} {n} time(s) within 30 s; logs:\n{logs}\nstate: {}",
                self.name,
                self.inspect("{{json .State}}")
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// `docker exec [exec_args] <container> <args>`.
    fn exec(&self, exec_args: &[&str], args: &[&str]) -> (Command, Output) {
        let mut cmd = Command::new("docker");
        cmd.arg("exec").args(exec_args).arg(&self.name).args(args);
        let out = support::run(&mut cmd);
        (cmd, out)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.name])
            .output();
    }
}

/// `docker run --rm` of `/boxwise ARGS` in the image; returns stdout (asserting success).
fn boxwise_inside(img: &DockerImage, docker_args: &[&str], args: &[&str]) -> String {
    let mut all = docker_args.to_vec();
    all.extend(["--entrypoint", "/boxwise"]);
    let (cmd, out) = img.run(&all, args);
    support::stdout_ok(&cmd, &out)
}

/// These are cgroup v1 layouts (Docker's v1 bind mounts, v1 hierarchies): elsewhere they
/// do not apply, which is not a missing privilege, so this skips even in CI (cgroup v2 is
/// the VM suite's). Call after `docker_or_skip`.
fn v1_layout() -> bool {
    let host = support::host_cgroup_version();
    let docker = support::docker_cgroup_version();
    let ok = matches!(host, "v1" | "hybrid") && docker == "1";
    if !ok {
        eprintln!(
            "SKIP: not applicable: a cgroup v1 case; this host's layout is {host}, Docker's \
             cgroup version {docker}"
        );
    }
    ok
}

/// A scratch image with `/boxwise` (static), `/probe` and `/worker` (static Go 1.19);
/// `None` when Go is missing and the test should skip.
fn image() -> Option<DockerImage> {
    let probe = support::build_go_probe()?;
    let worker = support::build_go_program("worker")?;
    let boxwise = support::static_boxwise();
    Some(DockerImage::build_scratch(
        &[
            (boxwise.as_path(), "boxwise"),
            (probe.as_path(), "probe"),
            (worker.as_path(), "worker"),
        ],
        "",
    ))
}

/// Docker with cgroup v1, a fresh `--cgroup-parent` and the image; `None` to skip.
fn docker_setup() -> Option<(CgroupParent, DockerImage)> {
    if !support::docker_or_skip() || !v1_layout() {
        return None;
    }
    remove_stale_containers();
    let parent = CgroupParent::create_or_skip()?;
    let img = image()?;
    Some((parent, img))
}

/// Removes what test processes that died without Drop (a timeout's SIGKILL) left in Docker:
/// `boxwise-dv-<pid>-<n>` containers (before `remove_stale` looks at the cgroups they held)
/// and support's `boxwise-test-<pid>-<n>` images.
fn remove_stale_containers() {
    let list = |args: &[&str]| -> Vec<String> {
        Command::new("docker")
            .args(args)
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let dead = |name: &str, prefix: &str| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(pid, _)| {
                pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists()
            })
    };
    let containers = list(&[
        "ps",
        "-a",
        "--filter",
        "name=boxwise-dv-",
        "--format",
        "{{.Names}}",
    ]);
    for name in containers.iter().filter(|n| dead(n, "boxwise-dv-")) {
        let _ = Command::new("docker").args(["rm", "-f", name]).output();
    }
    let images = list(&["images", "--format", "{{.Repository}}", "boxwise-test-*"]);
    for tag in images.iter().filter(|t| dead(t, "boxwise-test-")) {
        let _ = Command::new("docker").args(["rmi", "-f", tag]).output();
    }
}

// ---------------------------------------------------------------------------
// 1. --cgroup-parent with the limits on the parent only
// ---------------------------------------------------------------------------

/// The parent's quota. A quarter CPU rather than a half: the test machine is shared and often
/// loaded (load average 10 on 2 CPUs), and two busy goroutines then rarely get more than half a
/// CPU, so a 0.5 quota is seldom hit; a 0.25 one is.
const PARENT_CORES: f64 = 0.25;

/// Inside a container whose quota and memory limit sit on its `--cgroup-parent`: the v1
/// bind mounts start at the container's own cgroup, so the quota cannot be seen. boxwise must
/// say so (JSON `cgroup.ancestors_hidden`, a plain note in the text, a doctor finding) rather
/// than report "no quota"; the memory limit is still there through v1's
/// `hierarchical_memory_limit`.
#[test]
#[ignore = "needs root and cgroups, Docker, Go"]
fn cgroup_parent_inside_says_ancestors_hidden() {
    // (parent, img): the image and its containers go before the cgroups they ran in.
    let Some((parent, img)) = docker_setup() else {
        return;
    };
    parent.set_cpu_quota(PARENT_CORES);
    parent.set_memory_limit(PARENT_MEMORY);
    let args = ["--cgroup-parent", parent.path.as_str()];

    let doc = parse_json(
        "inspect --json inside",
        &boxwise_inside(&img, &args, &["inspect", "--json"]),
    );
    let text = boxwise_inside(&img, &args, &["inspect"]);
    let doctor = parse_json(
        "doctor --json inside",
        &boxwise_inside(&img, &args, &["doctor", "--json"]),
    );
    let probe = ProbeReport::parse(&boxwise_inside(
        &img,
        &args,
        &["exec", "--quiet", "--", "/probe"],
    ));

    let mut c = Checks::default();
    c.json("inside", &doc, "cgroup.ancestors_hidden", Value::Bool(true));
    c.json(
        "inside: the quota is not visible",
        &doc,
        "cpu.quota",
        Value::Null,
    );
    c.json(
        "inside: the container's own cgroup has no quota",
        &doc,
        "cpu.own_quota",
        Value::Null,
    );
    c.json(
        "inside: memory via hierarchical_memory_limit",
        &doc,
        "memory.limit_bytes",
        PARENT_MEMORY.into(),
    );
    c.json(
        "inside",
        &doc,
        "memory.limit.kind",
        "hierarchical_limit".into(),
    );
    c.json(
        "inside",
        &doc,
        "recommendation.gomemlimit_bytes",
        GOMEMLIMIT_200M.into(),
    );
    c.eq(
        "inside: exec -- probe: gomemlimit (from hierarchical_memory_limit)",
        probe.int("gomemlimit"),
        GOMEMLIMIT_200M as i64,
    );
    // Plainly: a note, and the quota row itself must not read a bare "none".
    let quota_row = text
        .lines()
        .find(|l| l.trim_start().starts_with("quota"))
        .unwrap_or_default();
    c.that(
        text.to_lowercase().contains("hidden") && quota_row.to_lowercase().contains("hidden"),
        format!(
            "inside: the text output does not say that limits above the container's cgroup \
             are hidden (quota row {quota_row:?})"
        ),
    );
    let ids = finding_ids(&doctor);
    c.that(
        ids.iter().any(|id| is_hidden_ancestors_finding(id)),
        format!("inside: doctor has no finding about hidden ancestors: {ids:?}"),
    );
    c.finish(&format!(
        "inspect --json:\n{doc:#}\ninspect:\n{text}\ndoctor findings: {ids:?}"
    ));
}

/// From the host, `inspect/doctor/ps --pid` of the same container read the host's
/// hierarchy: the parent's 0.5 CPU quota (its `cpu.cfs_quota_us`) and 200 MiB count, and
/// nothing is hidden. A busy loop in the container is throttled by the parent's quota; the
/// throttling is read from the level that sets the quota.
#[test]
#[ignore = "needs root and cgroups, Docker, Go"]
fn cgroup_parent_from_host_counts_the_parents_limits() {
    if !support::two_cpus_or_skip() {
        return;
    }
    // (parent, img): the image and its containers go before the cgroups they ran in.
    let Some((parent, img)) = docker_setup() else {
        return;
    };
    parent.set_cpu_quota(PARENT_CORES);
    parent.set_memory_limit(PARENT_MEMORY);
    let ctr = Container::start(
        &img,
        &["--cgroup-parent", parent.path.as_str()],
        &["/worker", "sleep"],
    );
    ctr.wait_for_lines("ready", 1);
    let pid = ctr.pid();
    let id = ctr.id();
    let pid_s = pid.to_string();

    // Burn CPU in the container (one goroutine per P against a quarter CPU), 2 s at a time
    // until the parent's quota has throttled it (at most 20 s on a loaded machine).
    let burn_deadline = Instant::now() + Duration::from_secs(20);
    let parent_throttled = loop {
        let (cmd, out) = ctr.exec(&[], &["/worker", "burn", "2"]);
        support::stdout_ok(&cmd, &out);
        let (_, n) = throttled(&parent.cpu_dir());
        if n > 0 || Instant::now() >= burn_deadline {
            break n;
        }
    };

    let mut inspect_cmd = boxwise();
    inspect_cmd.args(["inspect", "--json", "--pid", &pid_s]);
    let doc = json_of(inspect_cmd);
    let mut doctor_cmd = boxwise();
    doctor_cmd.args(["doctor", "--json", "--pid", &pid_s]);
    let doctor = json_of(doctor_cmd);
    let mut ps_cmd = boxwise();
    ps_cmd.args(["ps", "--json"]);
    let ps = json_of(ps_cmd);

    let quota_file = parent.cpu_dir().join("cpu.cfs_quota_us");
    let mut c = Checks::default();
    c.that(
        parent_throttled > 0,
        format!(
            "setup: the busy loop was never throttled by the parent ({}/cpu.stat nr_throttled 0)",
            parent.cpu_dir().display()
        ),
    );
    c.json("host", &doc, "cgroup.ancestors_hidden", Value::Bool(false));
    c.json("host", &doc, "cpu.quota.cores", PARENT_CORES.into());
    c.json("host", &doc, "cpu.quota.source", path_value(&quota_file));
    c.json(
        "host",
        &doc,
        "cpu.effective_cores",
        // min(quota 0.25, affinity >= 2) = 0.25
        0.25_f64.into(),
    );
    c.json("host", &doc, "memory.limit_bytes", PARENT_MEMORY.into());
    c.json("host", &doc, "memory.limit.kind", "limit_in_bytes".into());
    c.json(
        "host",
        &doc,
        "memory.limit.source",
        path_value(&parent.memory_dir().join("memory.limit_in_bytes")),
    );
    c.json(
        "host",
        &doc,
        "recommendation.gomaxprocs",
        // min(affinity >= 2, max(2, ceil(0.25) = 1)) = 2
        2_u64.into(),
    );
    c.json(
        "host",
        &doc,
        "recommendation.gomemlimit_bytes",
        GOMEMLIMIT_200M.into(),
    );
    c.json(
        "host: throttling from the level that sets the quota",
        &doc,
        "cpu.throttling.source",
        path_value(&parent.cpu_dir().join("cpu.stat")),
    );
    let nr_throttled = c.at("host", &doc, "cpu.throttling.nr_throttled").as_u64();
    c.that(
        nr_throttled.is_some_and(|n| n > 0 && n <= parent_throttled),
        format!(
            "host: cpu.throttling.nr_throttled = {nr_throttled:?}, want 1..={parent_throttled} \
             (the parent's cpu.stat after the busy loop)"
        ),
    );
    c.json("host", &doc, "container.id", id.as_str().into());

    c.json(
        "doctor --pid",
        &doctor,
        "cpu.effective_cores",
        // min(quota 0.25, affinity >= 2) = 0.25
        0.25_f64.into(),
    );
    c.json(
        "doctor --pid",
        &doctor,
        "memory.limit_bytes",
        PARENT_MEMORY.into(),
    );
    let ids = finding_ids(&doctor);
    c.that(
        !ids.iter().any(|id| is_hidden_ancestors_finding(id)),
        format!("doctor --pid: a hidden-ancestors finding from the host, which sees them: {ids:?}"),
    );
    c.that(
        ids.iter().any(|id| id == "gomemlimit-unset"),
        format!("doctor --pid: no gomemlimit-unset for a Go 1.19 worker under 200 MiB: {ids:?}"),
    );

    let row = ps.as_array().and_then(|rows| {
        rows.iter()
            .find(|r| r["pid"].as_u64() == Some(u64::from(pid)))
    });
    match row {
        None => c.that(false, format!("ps --json: pid {pid} is not listed")),
        Some(row) => {
            c.json(
                "ps --json row",
                row,
                "effective_cores",
                // min(quota 0.25, affinity >= 2) = 0.25
                0.25_f64.into(),
            );
            c.json(
                "ps --json row",
                row,
                "memory_limit_bytes",
                PARENT_MEMORY.into(),
            );
            c.json("ps --json row", row, "container_id", id.as_str().into());
        }
    }
    c.finish(&format!(
        "inspect --json --pid {pid}:\n{doc:#}\ndoctor findings: {ids:?}"
    ));
}

// ---------------------------------------------------------------------------
// 2. --cgroupns private
// ---------------------------------------------------------------------------

/// `--cgroupns private --cpus 1.5 --memory 256m`: inside, the container's own cgroup is the
/// namespace root and its limits are read right, while anything above is hidden; from the
/// host, `--pid` gives the same limits at the full path.
#[test]
#[ignore = "needs root and cgroups, Docker, Go"]
fn cgroupns_private_inside_and_from_host() {
    if !support::two_cpus_or_skip() {
        return;
    }
    // (parent, img): the image and its containers go before the cgroups they ran in.
    let Some((parent, img)) = docker_setup() else {
        return;
    };
    let args = [
        "--cgroup-parent",
        parent.path.as_str(),
        "--cgroupns",
        "private",
        "--cpus",
        "1.5",
        "--memory",
        "256m",
    ];
    let inside = parse_json(
        "inspect --json inside --cgroupns private",
        &boxwise_inside(&img, &args, &["inspect", "--json"]),
    );

    let ctr = Container::start(&img, &args, &["/worker", "sleep"]);
    ctr.wait_for_lines("ready", 1);
    let pid = ctr.pid();
    let id = ctr.id();
    let mut cmd = boxwise();
    cmd.args(["inspect", "--json", "--pid", &pid.to_string()]);
    let host = json_of(cmd);

    let mut c = Checks::default();
    c.json(
        "inside",
        &inside,
        "cgroup.ancestors_hidden",
        Value::Bool(true),
    );
    c.json("inside", &inside, "cpu.quota.cores", 1.5.into());
    c.json(
        "inside",
        &inside,
        "cpu.quota.source",
        "/sys/fs/cgroup/cpu/cpu.cfs_quota_us".into(),
    );
    c.json(
        "inside",
        &inside,
        "cpu.effective_cores",
        // min(quota 1.5, affinity >= 2) = 1.5
        1.5_f64.into(),
    );
    c.json("inside", &inside, "memory.limit_bytes", (256 * MIB).into());
    c.json(
        "inside",
        &inside,
        "memory.limit.kind",
        "limit_in_bytes".into(),
    );
    c.json(
        "inside",
        &inside,
        "recommendation.gomaxprocs",
        // min(affinity >= 2, max(2, ceil(1.5) = 2)) = 2
        2_u64.into(),
    );
    c.json(
        "inside",
        &inside,
        "recommendation.gomemlimit_bytes",
        GOMEMLIMIT_256M.into(),
    );

    let cpu_dir = parent.cpu_dir().join(&id);
    let mem_dir = parent.memory_dir().join(&id);
    c.json("host", &host, "cgroup.ancestors_hidden", Value::Bool(false));
    c.json(
        "host",
        &host,
        "cgroup.controllers.cpu.dir",
        path_value(&cpu_dir),
    );
    c.json(
        "host",
        &host,
        "cgroup.controllers.memory.dir",
        path_value(&mem_dir),
    );
    c.json("host", &host, "cpu.quota.cores", 1.5.into());
    c.json(
        "host",
        &host,
        "cpu.quota.source",
        path_value(&cpu_dir.join("cpu.cfs_quota_us")),
    );
    c.json(
        "host",
        &host,
        "cpu.effective_cores",
        // min(quota 1.5, affinity >= 2) = 1.5
        1.5_f64.into(),
    );
    c.json("host", &host, "memory.limit_bytes", (256 * MIB).into());
    c.json(
        "host",
        &host,
        "memory.limit.source",
        path_value(&mem_dir.join("memory.limit_in_bytes")),
    );
    c.json(
        "host",
        &host,
        "recommendation.gomemlimit_bytes",
        GOMEMLIMIT_256M.into(),
    );
    c.finish(&format!(
        "inside:\n{inside:#}\nhost (--pid {pid}):\n{host:#}"
    ));
}

// ---------------------------------------------------------------------------
// 3. A restarted container
// ---------------------------------------------------------------------------

/// `docker restart` gives the container a new pid (and a new cgroup with the same limits):
/// `inspect --pid` of the new pid gives the limits, and `boxwise exec` in the container sets
/// GOMAXPROCS/GOMEMLIMIT from them, both as its entrypoint and when run again.
#[test]
#[ignore = "needs root and cgroups, Docker, Go"]
fn restarted_container_keeps_its_limits() {
    if !support::two_cpus_or_skip() {
        return;
    }
    // (parent, img): the image and its containers go before the cgroups they ran in.
    let Some((parent, img)) = docker_setup() else {
        return;
    };
    const CORES: f64 = 1.0;
    let ctr = Container::start(
        &img,
        &[
            "--cgroup-parent",
            parent.path.as_str(),
            "--cpus",
            "1",
            "--memory",
            "200m",
        ],
        &["/boxwise", "exec", "--quiet", "--", "/worker", "sleep"],
    );
    ctr.wait_for_lines("ready", 1);
    let old_pid = ctr.pid();
    let mut cmd = Command::new("docker");
    cmd.args(["restart", "-t", "5", &ctr.name]);
    let out = support::run(&mut cmd);
    support::stdout_ok(&cmd, &out);
    ctr.wait_for_lines("ready", 2);
    let pid = ctr.pid();
    let id = ctr.id();

    let mut cmd = boxwise();
    cmd.args(["inspect", "--json", "--pid", &pid.to_string()]);
    let doc = json_of(cmd);
    let environ = fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    let environ: Vec<String> = environ
        .split(|&b| b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    let (cmd, out) = ctr.exec(&[], &["/boxwise", "exec", "--", "/probe"]);
    let probe = ProbeReport::parse(&support::stdout_ok(&cmd, &out));
    let (cmd, out) = ctr.exec(
        &["-e", "BOXWISE_CPU_POLICY=floor"],
        &["/boxwise", "exec", "--", "/probe"],
    );
    let probe_floor = ProbeReport::parse(&support::stdout_ok(&cmd, &out));

    let cpu_dir = parent.cpu_dir().join(&id);
    let mut c = Checks::default();
    c.that(
        pid != old_pid,
        format!("pid {pid} did not change on restart"),
    );
    c.json("after restart", &doc, "cpu.quota.cores", CORES.into());
    c.json(
        "after restart",
        &doc,
        "cpu.quota.source",
        path_value(&cpu_dir.join("cpu.cfs_quota_us")),
    );
    c.json(
        "after restart",
        &doc,
        "memory.limit_bytes",
        PARENT_MEMORY.into(),
    );
    c.json(
        "after restart",
        &doc,
        "recommendation.gomaxprocs",
        // min(affinity >= 2, max(2, ceil(1.0) = 1)) = 2
        2_u64.into(),
    );
    c.json(
        "after restart",
        &doc,
        "recommendation.gomemlimit_bytes",
        GOMEMLIMIT_200M.into(),
    );
    c.json("after restart", &doc, "container.id", id.as_str().into());
    // The entrypoint `boxwise exec` ran again at the restart (a Go 1.19 worker: it must set
    // both).
    let want_env = [
        // min(affinity >= 2, max(2, ceil(1.0) = 1)) = 2
        "GOMAXPROCS=2".to_string(),
        format!("GOMEMLIMIT={GOMEMLIMIT_200M}"),
    ];
    for kv in &want_env {
        c.that(
            environ.contains(kv),
            format!("after restart: pid {pid}'s environment lacks {kv}"),
        );
    }
    c.eq(
        "exec -- probe: gomaxprocs",
        probe.int("gomaxprocs"),
        // min(affinity >= 2, max(2, ceil(1.0) = 1)) = 2
        2,
    );
    c.eq(
        "exec -- probe: gomemlimit",
        probe.int("gomemlimit"),
        GOMEMLIMIT_200M as i64,
    );
    // floor(1 CPU) = 1, unlike the runtime's own 2: only the quota can give it.
    c.eq(
        "BOXWISE_CPU_POLICY=floor exec -- probe: gomaxprocs",
        probe_floor.int("gomaxprocs"),
        1,
    );
    c.finish(&format!(
        "inspect --json --pid {pid}:\n{doc:#}\nprobe: {probe:?}\nprobe (floor): {probe_floor:?}"
    ));
}

// ---------------------------------------------------------------------------
// 4. A cgroup namespace without remount, no Docker
// ---------------------------------------------------------------------------

/// `unshare -C` from a cgroup with 1 CPU and 200 MiB, without remounting cgroupfs: the
/// mountinfo roots become `/..` (cpu) and `/../../..` (memory, nested here) and
/// /proc/self/cgroup says `/`. boxwise must find the real directory (it is all visible: the
/// mount is the host's) rather than fall back to the mount point, the host root's cgroup.
#[test]
#[ignore = "needs root and cgroups"]
fn unshare_cgroupns_without_remount_finds_the_real_cgroup() {
    if !support::two_cpus_or_skip() {
        return;
    }
    let unshare_ok = Command::new("unshare")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !support::require(unshare_ok, "no unshare (util-linux)") {
        return;
    }
    let Some(cg) = TestCgroup::create_or_skip() else {
        return;
    };
    if cg.kind() != support::CgroupKind::V1 {
        eprintln!("SKIP: not applicable: a cgroup v1 case, and the test cgroup is on v2");
        return;
    }
    cg.set_cpu_quota(1.0);
    cg.set_memory_limit(PARENT_MEMORY);
    assert_memory_truth(cg.memory_dir(), PARENT_MEMORY);
    let bin = env!("CARGO_BIN_EXE_boxwise");

    let mut cmd = cg.command("unshare");
    cmd.args(["-C", bin, "inspect", "--json"]);
    let out = support::run(&mut cmd);
    let doc = parse_json("unshare -C inspect", &support::stdout_ok(&cmd, &out));
    let dry_run = |extra: &[&str]| -> Vec<String> {
        let mut cmd = cg.command("unshare");
        cmd.args(["-C", bin, "exec", "--dry-run"]).args(extra);
        let out = support::run(&mut cmd);
        support::stdout_ok(&cmd, &out)
            .lines()
            .filter_map(|l| l.strip_prefix("export ").map(str::to_owned))
            .collect()
    };
    let exports = dry_run(&[]);
    let exports_floor = dry_run(&["--cpu-policy", "floor"]);

    let mut c = Checks::default();
    c.json(
        "unshare -C",
        &doc,
        "cgroup.controllers.cpu.dir",
        path_value(cg.cpu_dir()),
    );
    c.json(
        "unshare -C",
        &doc,
        "cgroup.controllers.memory.dir",
        path_value(cg.memory_dir()),
    );
    // Nothing is hidden: the host's cgroupfs is still mounted, every ancestor is readable.
    c.json(
        "unshare -C",
        &doc,
        "cgroup.ancestors_hidden",
        Value::Bool(false),
    );
    c.json("unshare -C", &doc, "cpu.quota.cores", 1.0.into());
    c.json(
        "unshare -C",
        &doc,
        "cpu.quota.source",
        path_value(&cg.cpu_dir().join("cpu.cfs_quota_us")),
    );
    c.json(
        "unshare -C",
        &doc,
        "memory.limit_bytes",
        PARENT_MEMORY.into(),
    );
    c.json(
        "unshare -C",
        &doc,
        "memory.limit.kind",
        "limit_in_bytes".into(),
    );
    c.json(
        "unshare -C",
        &doc,
        "memory.limit.source",
        path_value(&cg.memory_dir().join("memory.limit_in_bytes")),
    );
    c.json(
        "unshare -C",
        &doc,
        "recommendation.gomemlimit_bytes",
        GOMEMLIMIT_200M.into(),
    );
    let warnings = c.at("unshare -C", &doc, "warnings").to_string();
    c.that(
        !warnings.contains("using the mount point"),
        format!("unshare -C: fell back to the mount point: {warnings}"),
    );
    for kv in [
        // min(affinity >= 2, max(2, ceil(1.0) = 1)) = 2
        "GOMAXPROCS=2".to_string(),
        format!("GOMEMLIMIT={GOMEMLIMIT_200M}"),
    ] {
        c.that(
            exports.contains(&kv),
            format!("unshare -C exec --dry-run: no `export {kv}` in {exports:?}"),
        );
    }
    c.that(
        exports_floor.contains(&"GOMAXPROCS=1".to_owned()),
        format!(
            "unshare -C exec --dry-run --cpu-policy floor: no `export GOMAXPROCS=1` in \
             {exports_floor:?}"
        ),
    );
    c.finish(&format!("unshare -C inspect --json:\n{doc:#}"));
}

/// From the host, `doctor --pid` reads the host's hierarchy, but a Go runtime finds its
/// cgroup from its own mounts: Go 1.25 inside a Docker v1 container (mount root
/// `/docker/<id>`) misses it (golang/go#76390) while Go 1.26 maps it; in a private cgroup
/// namespace both find it. The worker is built by each toolchain and made container-aware
/// with `GODEBUG=containermaxprocs=1` (its go.mod says go 1.19), which doctor reads from the
/// process's environment.
#[test]
#[ignore = "needs Docker, Go"]
fn host_view_judges_the_go_runtime_by_its_own_mounts() {
    if !support::docker_or_skip() || !v1_layout() {
        return;
    }
    remove_stale_containers();
    let toolchains = [
        ("1.25", "/opt/boxwise-go/go-1.25/bin/go"),
        ("1.26", "/opt/boxwise-go/go-1.26/bin/go"),
    ];
    let mut files = Vec::new();
    for (label, go) in toolchains {
        let Some(bin) = support::build_go_program_with(Path::new(go), "worker", label) else {
            return;
        };
        files.push((bin, format!("worker{}", label.replace('.', ""))));
    }
    let boxwise = support::static_boxwise();
    let mut list: Vec<(&Path, &str)> = files
        .iter()
        .map(|(p, n)| (p.as_path(), n.as_str()))
        .collect();
    list.push((boxwise.as_path(), "boxwise"));
    let img = DockerImage::build_scratch(&list, "");

    let reason = |cgroupns: &str, worker: &str| -> String {
        let c = Container::start(
            &img,
            &[
                "--cpus",
                "1",
                "--cgroupns",
                cgroupns,
                "-e",
                "GODEBUG=containermaxprocs=1",
            ],
            &[&format!("/{worker}"), "sleep"],
        );
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_boxwise"));
        cmd.args(["doctor", "--json", "--pid"])
            .arg(c.pid().to_string());
        let out = support::run(&mut cmd);
        let doc: Value = serde_json::from_str(&support::stdout_ok(&cmd, &out)).expect("JSON");
        doc["effective_gomaxprocs_reason"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let mut wrong = Vec::new();
    let why = reason("host", "worker125");
    if !(why.starts_with("go1.25.") && why.contains("golang/go#76390")) {
        wrong.push(format!("Go 1.25, Docker v1 mounts: {why}"));
    }
    let why = reason("host", "worker126");
    if !(why.starts_with("go1.26.") && why.contains("rounds its own cgroup's quota up")) {
        wrong.push(format!("Go 1.26, Docker v1 mounts: {why}"));
    }
    let why = reason("private", "worker125");
    if !(why.starts_with("go1.25.") && why.contains("rounds its own cgroup's quota up")) {
        wrong.push(format!("Go 1.25, private cgroup namespace: {why}"));
    }
    assert!(
        wrong.is_empty(),
        "doctor --pid from the host:\n{}",
        wrong.join("\n")
    );
}
