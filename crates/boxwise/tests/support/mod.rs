//! Shared helpers for the integration tests that touch the real machine:
//! skip-or-fail gating, the Go probe, throwaway cgroups and Docker images.
//!
//! Mountinfo and `/proc/self/cgroup` are parsed with `boxwise-box` (one parser per
//! format in the tree); expected values in the tests are written by hand.
#![allow(dead_code)] // each test binary uses a different subset

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{self, Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use boxwise_box::cgroup::Controller;
use boxwise_box::layout::{self, CgroupDir, Hierarchy, Layout};
use boxwise_box::parse;

/// Set to `1` (by `.ci/run`) to turn every skip into a failure.
pub const REQUIRE_ENV: &str = "BOXWISE_REQUIRE_PRIVILEGED";

/// Gates a test on a prerequisite (root, cgroup write access, Go, Docker).
///
/// Returns `cond`. When it is false the test should return early: a laptop
/// sees `SKIP: <why>` on stderr, while CI (`BOXWISE_REQUIRE_PRIVILEGED=1`)
/// panics, so a broken runner can never pass green by skipping everything.
/// A test that calls this (directly or through a helper) also carries
/// `#[ignore = "needs ..."]`, so a plain `cargo nextest run` counts it as
/// skipped; `.ci/run` runs it with `--run-ignored all`.
pub fn require(cond: bool, why: &str) -> bool {
    if cond {
        return true;
    }
    if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
        panic!("{REQUIRE_ENV}=1 but a prerequisite is missing: {why}");
    }
    eprintln!("SKIP: {why}");
    false
}

/// Gates a test whose expected numbers are worked out by hand for a machine with at least
/// two CPUs (affinity): with fewer, the CPU count caps GOMAXPROCS and effective cores first.
pub fn two_cpus_or_skip() -> bool {
    require(
        affinity_count() >= 2,
        "needs at least 2 CPUs (the expected GOMAXPROCS and cores are worked out for 2 or more)",
    )
}

/// The workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// Runs a command to completion, panicking with its name if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Stdout of a finished command, after asserting that it succeeded.
pub fn stdout_ok(cmd: &Command, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

/// CPUs this process may run on (`Cpus_allowed_list`), which caps GOMAXPROCS.
pub fn affinity_count() -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .expect("Cpus_allowed_list in /proc/self/status")
        .trim();
    list.split(',')
        .filter(|r| !r.is_empty())
        .map(|r| match r.split_once('-') {
            Some((a, b)) => b.parse::<u64>().unwrap() - a.parse::<u64>().unwrap() + 1,
            None => 1,
        })
        .sum()
}

/// Walks a dotted path (`"cpu.effective_cores"`) into a JSON document.
pub fn json_at<'a>(doc: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    path.split('.').fold(doc, |v, key| {
        v.get(key)
            .unwrap_or_else(|| panic!("JSON has no {path} (missing {key:?}):\n{doc:#}"))
    })
}

// ---------------------------------------------------------------------------
// Go probe
// ---------------------------------------------------------------------------

/// Builds `tests/go/probe` (static, `CGO_ENABLED=0`) once per test binary.
///
/// Returns `None` when `go` is missing and the test should skip (see
/// [`require`]). The binary lands in cargo's per-target temp dir and is
/// renamed into place, so parallel test processes never see a half-written file.
pub fn build_go_probe() -> Option<PathBuf> {
    static PROBE: OnceLock<Option<PathBuf>> = OnceLock::new();
    PROBE.get_or_init(|| build_go_program("probe")).clone()
}

/// Builds the Go program in `tests/go/<name>` into a static binary, once per test binary:
/// tests run as threads of one process, so concurrent builds of one program would race for
/// the same temporary file.
pub fn build_go_program(name: &str) -> Option<PathBuf> {
    static BUILT: std::sync::Mutex<Vec<(String, Option<PathBuf>)>> =
        std::sync::Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, path)) = built.iter().find(|(n, _)| n == name) {
        return path.clone();
    }
    let path = build_go_program_now(name);
    built.push((name.to_string(), path.clone()));
    path
}

fn build_go_program_now(name: &str) -> Option<PathBuf> {
    build_go(Path::new("go"), name, None)
}

/// Builds `name` (a directory under tests/go, or a path from the workspace root) with the
/// toolchain `go` into `go-bin/<name>[-<label>]`, static (`CGO_ENABLED=0`). The binary is
/// written under a temporary name and renamed into place, so parallel test processes never
/// see a half-written file. `None` (via [`require`]) when that toolchain is missing.
fn build_go(go: &Path, name: &str, label: Option<&str>) -> Option<PathBuf> {
    build_go_flags(go, name, label, &[])
}

/// Like [`build_go_program_with`], with extra `go build` flags (e.g. `-ldflags=-s -w`).
pub fn build_go_program_flags(
    go: &Path,
    name: &str,
    label: &str,
    flags: &[&str],
) -> Option<PathBuf> {
    build_go_flags(go, name, Some(label), flags)
}

fn build_go_flags(go: &Path, name: &str, label: Option<&str>, flags: &[&str]) -> Option<PathBuf> {
    let have_go = Command::new(go)
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    let missing = match label {
        None => "`go` is not installed (apt-get install golang-go)".to_string(),
        Some(_) => format!("{} is not installed", go.display()),
    };
    if !require(have_go, &missing) {
        return None;
    }
    let src = if name.contains('/') {
        workspace_root().join(name)
    } else {
        workspace_root().join("tests/go").join(name)
    };
    let file_name = match label {
        None => name.replace('/', "_"),
        Some(l) => format!("{}-{l}", name.replace('/', "_")),
    };
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-bin");
    fs::create_dir_all(&out_dir).expect("create go-bin dir");
    let tmp = out_dir.join(format!("{file_name}.{}.tmp", process::id()));
    let dest = out_dir.join(&file_name);
    let mut cmd = Command::new(go);
    cmd.current_dir(&src)
        .args(["build", "-trimpath"])
        .args(flags)
        .arg("-o")
        .arg(&tmp)
        .arg(".")
        .env("CGO_ENABLED", "0")
        // No dependencies: never let a newer Go fetch a toolchain or module.
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env_remove("GOFLAGS")
        // Each toolchain finds its own standard library.
        .env_remove("GOROOT");
    if std::env::var_os("HOME").is_none()
        && std::env::var_os("GOCACHE").is_none()
        && std::env::var_os("XDG_CACHE_HOME").is_none()
    {
        // `go build` refuses to run without somewhere to cache.
        cmd.env(
            "GOCACHE",
            out_dir.join(format!(
                "gocache{}",
                label.map(|l| format!("-{l}")).unwrap_or_default()
            )),
        )
        .env("GOPATH", out_dir.join("gopath"));
    }
    let out = run(&mut cmd);
    stdout_ok(&cmd, &out);
    fs::rename(&tmp, &dest).expect("move go binary into place");
    Some(dest)
}

/// What the probe printed: `key=value` lines, in order.
#[derive(Debug, Clone)]
pub struct ProbeReport(pub Vec<(String, String)>);

impl ProbeReport {
    /// Parses the probe's stdout; panics on lines that are not `key=value`.
    pub fn parse(stdout: &str) -> Self {
        let pairs = stdout
            .lines()
            .map(|l| {
                let (k, v) = l
                    .split_once('=')
                    .unwrap_or_else(|| panic!("probe line without '=': {l:?}\n{stdout}"));
                (k.to_owned(), v.to_owned())
            })
            .collect();
        Self(pairs)
    }

    /// The raw value of `key`; panics if the probe did not print it.
    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("probe did not print {key}: {:?}", self.0))
    }

    /// The value of `key` as an integer.
    pub fn int(&self, key: &str) -> i64 {
        let v = self.get(key);
        v.parse()
            .unwrap_or_else(|e| panic!("probe {key}={v:?} is not an integer: {e}"))
    }
}

// ---------------------------------------------------------------------------
// cgroups
// ---------------------------------------------------------------------------

/// This process's cgroup layout, read with `boxwise-box`'s own mountinfo and
/// `/proc/self/cgroup` parsers (one implementation of those formats). What the tests
/// then check (limits they wrote themselves, numbers worked out by hand) stays
/// independent of the code under test.
fn own_layout() -> Result<Layout, String> {
    let read = |p: &str| fs::read_to_string(p).map_err(|e| format!("{p}: {e}"));
    let mounts = parse::mountinfo::parse(&read("/proc/self/mountinfo")?)
        .map_err(|e| format!("/proc/self/mountinfo: {e}"))?;
    let cgroups = parse::proc_cgroup::parse(&read("/proc/self/cgroup")?)
        .map_err(|e| format!("/proc/self/cgroup: {e}"))?;
    Ok(layout::resolve(&mounts, &cgroups))
}

/// The host's cgroup layout as the design names it: `v1`, `v2`, `hybrid` or `none`.
pub fn host_cgroup_version() -> &'static str {
    own_layout().map_or("none", |l| l.version.as_str())
}

/// The directory of a controller's or the unified hierarchy, refusing one that could
/// not be mapped through its mount's root (the tests must never write at a mount point
/// by mistake).
fn mapped(dir: &CgroupDir) -> Result<PathBuf, String> {
    if dir.unmapped {
        return Err(format!(
            "own cgroup {} could not be mapped under {} (mount root {})",
            dir.cgroup_path,
            dir.mount_point.display(),
            dir.mount_root
        ));
    }
    Ok(dir.dir.clone())
}

/// Whether the kernel accounts swap in this process's memory cgroup (v1
/// `memory.memsw.limit_in_bytes`, v2 `memory.swap.max`), so a swap limit can be written.
pub fn swap_accounting() -> bool {
    match find_parents() {
        Ok(p) if p.kind == CgroupKind::V1 => p.memory.join("memory.memsw.limit_in_bytes").exists(),
        Ok(p) => p.memory.join("memory.swap.max").exists(),
        Err(_) => false,
    }
}

/// Which hierarchy a [`TestCgroup`] lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupKind {
    /// Separate v1 `cpu` and `memory` hierarchies (v1 and hybrid hosts).
    V1,
    /// The unified hierarchy (pure v2 hosts).
    V2,
}

/// Where the test process's own `cpu` and `memory` cgroups live.
struct Parents {
    kind: CgroupKind,
    cpu: PathBuf,
    memory: PathBuf,
}

fn find_parents() -> Result<Parents, String> {
    let layout = own_layout()?;
    let v1 = |c: Controller| {
        layout
            .controller(c)
            .filter(|d| d.hierarchy == Hierarchy::V1)
    };
    match (v1(Controller::Cpu), v1(Controller::Memory)) {
        (Some(cpu), Some(memory)) => {
            return Ok(Parents {
                kind: CgroupKind::V1,
                cpu: mapped(cpu)?,
                memory: mapped(memory)?,
            });
        }
        (None, None) => {}
        _ => return Err("only one of cpu and memory is on a v1 hierarchy".into()),
    }
    let unified = layout
        .unified
        .as_ref()
        .ok_or("no cgroup v1 cpu/memory mount and no cgroup2 mount with a 0:: line")?;
    let dir = mapped(unified)?;
    Ok(Parents {
        kind: CgroupKind::V2,
        cpu: dir.clone(),
        memory: dir,
    })
}

/// Makes sure `cpu` and `memory` are delegated to children of a v2 cgroup.
///
/// Enabling them is left in place on drop: other tests may rely on it at the
/// same moment, and it changes no limit.
fn enable_v2_controllers(dir: &Path) -> Result<(), String> {
    let read = |f: &str| fs::read_to_string(dir.join(f)).unwrap_or_default();
    let available = read("cgroup.controllers");
    let enabled = read("cgroup.subtree_control");
    for ctrl in ["cpu", "memory"] {
        if !available.split_whitespace().any(|c| c == ctrl) {
            return Err(format!(
                "controller {ctrl} is not available in {}",
                dir.display()
            ));
        }
        if enabled.split_whitespace().any(|c| c == ctrl) {
            continue;
        }
        fs::write(dir.join("cgroup.subtree_control"), format!("+{ctrl}")).map_err(|e| {
            format!(
                "cannot enable {ctrl} in {}/cgroup.subtree_control: {e} \
                 (a non-root v2 cgroup holding processes cannot delegate controllers)",
                dir.display()
            )
        })?;
    }
    Ok(())
}

/// The entries of `parent` named `<prefix><pid>-<n>` whose test process `<pid>` is gone:
/// leftovers of a run that died without its Drop (a timeout's SIGKILL).
pub fn stale_entries(parent: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            name.to_str()
                .and_then(|n| n.strip_prefix(prefix))
                .and_then(|rest| rest.split_once('-'))
                .is_some_and(|(pid, _)| {
                    pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists()
                })
        })
        .map(|entry| entry.path())
        .collect()
}

/// Removes `boxwise-test-<pid>-<n>` leftovers (rmdir only succeeds on empty cgroups).
fn remove_stale(parent: &Path) {
    for dir in stale_entries(parent, "boxwise-test-") {
        let _ = fs::remove_dir(dir);
    }
}

/// A throwaway child cgroup beneath the test process's own cgroup, with a
/// CPU quota and memory limit that commands can be started inside.
///
/// Created per controller under the cgroup this process already runs in, so
/// nothing is placed at a hierarchy root the process is not at; the test
/// process itself never moves. Drop kills what is left inside and removes
/// the directories, also when the test fails.
#[derive(Debug)]
pub struct TestCgroup {
    kind: CgroupKind,
    cpu: PathBuf,
    memory: PathBuf,
    /// Directories created, in creation order (one on v2, two on v1).
    created: Vec<PathBuf>,
}

impl TestCgroup {
    /// Creates the cgroup, or returns `None` (via [`require`]) when this
    /// process cannot: not root, read-only cgroupfs, no cpu/memory controller.
    pub fn create_or_skip() -> Option<Self> {
        match Self::create() {
            Ok(cg) => Some(cg),
            Err(why) => {
                require(false, &format!("cannot create a test cgroup: {why}"));
                None
            }
        }
    }

    fn create() -> Result<Self, String> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let parents = find_parents()?;
        if parents.kind == CgroupKind::V2 {
            enable_v2_controllers(&parents.cpu)?;
        }
        let name = format!(
            "boxwise-test-{}-{}",
            process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut cg = TestCgroup {
            kind: parents.kind,
            cpu: parents.cpu.join(&name),
            memory: parents.memory.join(&name),
            created: Vec::new(),
        };
        let mut dirs = vec![cg.cpu.clone()];
        if cg.memory != cg.cpu {
            dirs.push(cg.memory.clone());
        }
        for dir in dirs {
            let parent = dir.parent().expect("cgroup dir has a parent");
            remove_stale(parent);
            // Pushed only on success; Drop cleans up whatever was created.
            fs::create_dir(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
            cg.created.push(dir);
        }
        Ok(cg)
    }

    /// A cgroup nested inside this one (same controllers), for limits set on a parent
    /// only, as Kubernetes sets them on the pod. Drop it before its parent.
    pub fn child(&self) -> Self {
        let mut cg = TestCgroup {
            kind: self.kind,
            cpu: self.cpu.join("leaf"),
            memory: self.memory.join("leaf"),
            created: Vec::new(),
        };
        let mut dirs = vec![cg.cpu.clone()];
        if cg.memory != cg.cpu {
            dirs.push(cg.memory.clone());
        }
        for dir in dirs {
            fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
            cg.created.push(dir);
        }
        cg
    }

    /// The hierarchy this cgroup lives in.
    pub fn kind(&self) -> CgroupKind {
        self.kind
    }

    /// The directory holding the CPU controller's files.
    pub fn cpu_dir(&self) -> &Path {
        &self.cpu
    }

    /// The directory holding the memory controller's files.
    pub fn memory_dir(&self) -> &Path {
        &self.memory
    }

    /// Sets a CFS quota of `cores` CPUs over a 100 ms period.
    pub fn set_cpu_quota(&self, cores: f64) {
        let period = 100_000u64;
        let quota = (cores * period as f64).round() as u64;
        match self.kind {
            CgroupKind::V1 => {
                write_file(&self.cpu.join("cpu.cfs_period_us"), &period.to_string());
                write_file(&self.cpu.join("cpu.cfs_quota_us"), &quota.to_string());
            }
            CgroupKind::V2 => write_file(&self.cpu.join("cpu.max"), &format!("{quota} {period}")),
        }
    }

    /// Sets the hard memory limit in bytes.
    pub fn set_memory_limit(&self, bytes: u64) {
        let file = match self.kind {
            CgroupKind::V1 => "memory.limit_in_bytes",
            CgroupKind::V2 => "memory.max",
        };
        write_file(&self.memory.join(file), &bytes.to_string());
    }

    /// A `Command` for `program` that starts inside this cgroup.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        self.attach(&mut cmd);
        cmd
    }

    /// Makes `cmd` start inside this cgroup, with no moment where it runs
    /// outside: the forked child joins every controller's cgroup before exec.
    pub fn attach<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        let procs: Vec<File> = self
            .created
            .iter()
            .map(|d| {
                let p = d.join("cgroup.procs");
                OpenOptions::new()
                    .write(true)
                    .open(&p)
                    .unwrap_or_else(|e| panic!("open {}: {e}", p.display()))
            })
            .collect();
        // SAFETY: between fork and exec the closure only calls write(2) on
        // descriptors opened above; no allocation or locking, so it is
        // async-signal-safe. Writing "0" moves the writing process itself.
        unsafe {
            cmd.pre_exec(move || {
                for mut f in &procs {
                    f.write_all(b"0")?;
                }
                Ok(())
            });
        }
        cmd
    }

    /// The pids currently inside the cgroup (any controller).
    pub fn pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self
            .created
            .iter()
            .flat_map(|d| {
                fs::read_to_string(d.join("cgroup.procs"))
                    .unwrap_or_default()
                    .lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<u32>>()
            })
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for _ in 0..100 {
            let pids = self.pids();
            if pids.is_empty() {
                break;
            }
            // The shell's builtin kill: no libc dependency, always present.
            let _ = Command::new("sh")
                .arg("-c")
                .arg("kill -KILL \"$@\" 2>/dev/null")
                .arg("sh")
                .args(pids.iter().map(u32::to_string))
                .status();
            thread::sleep(Duration::from_millis(20));
        }
        for dir in self.created.iter().rev() {
            let mut result = fs::remove_dir(dir);
            for _ in 0..50 {
                match &result {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        thread::sleep(Duration::from_millis(20));
                        result = fs::remove_dir(dir);
                    }
                    _ => break,
                }
            }
            if let Err(e) = result
                && e.kind() != io::ErrorKind::NotFound
            {
                eprintln!("warning: cannot remove test cgroup {}: {e}", dir.display());
            }
        }
    }
}

/// Writes a cgroup control file, panicking with the file and value on error.
fn write_file(path: &Path, value: &str) {
    fs::write(path, value).unwrap_or_else(|e| panic!("write {value:?} to {}: {e}", path.display()));
}

// ---------------------------------------------------------------------------
// Docker
// ---------------------------------------------------------------------------

/// True when a Docker engine answers; otherwise skips or fails via [`require`].
pub fn docker_or_skip() -> bool {
    let ok = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    require(ok, "no Docker engine (`docker info` failed)")
}

/// A `FROM scratch` image holding Debian's static busybox as `/busybox`, for a container
/// that only has to sit there; `None` (skipped or failed via [`require`]) without Docker
/// or busybox-static.
pub fn busybox_image_or_skip() -> Option<DockerImage> {
    if !docker_or_skip() {
        return None;
    }
    let busybox = Path::new("/bin/busybox");
    if !require(
        busybox.exists(),
        "no /bin/busybox (apt-get install busybox-static)",
    ) {
        return None;
    }
    Some(DockerImage::build_scratch(&[(busybox, "busybox")], ""))
}

/// Spawn `cmd` with piped output, wait, and parse its stdout as JSON (failing the test with
/// its stderr if it did not succeed); also its pid, for checking what it left behind.
pub fn spawn_json(cmd: &mut Command) -> (u32, serde_json::Value) {
    let child = cmd
        .stdout(process::Stdio::piped())
        .stderr(process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let text = stdout_ok(cmd, &out);
    (pid, serde_json::from_str(&text).unwrap())
}

/// The host's Docker cgroup version (`1` or `2`), as the engine reports it.
pub fn docker_cgroup_version() -> String {
    let mut cmd = Command::new("docker");
    cmd.args(["info", "--format", "{{.CgroupVersion}}"]);
    let out = run(&mut cmd);
    stdout_ok(&cmd, &out).trim().to_owned()
}

/// A `FROM scratch` image tagged `boxwise-test-<pid>-<n>`, removed on drop
/// together with any container started from it.
#[derive(Debug)]
pub struct DockerImage {
    tag: String,
}

impl DockerImage {
    /// Builds an image holding each `(file, name)` at `/name`, followed by
    /// the Dockerfile lines in `tail` (for example an `ENTRYPOINT`).
    pub fn build_scratch(files: &[(&Path, &str)], tail: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let image = DockerImage {
            tag: format!(
                "boxwise-test-{}-{}",
                process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ),
        };
        let ctx = tempfile::tempdir().expect("docker build context");
        let mut dockerfile = String::from("FROM scratch\n");
        for (src, name) in files {
            fs::copy(src, ctx.path().join(name))
                .unwrap_or_else(|e| panic!("copy {} into context: {e}", src.display()));
            dockerfile.push_str(&format!("COPY {name} /{name}\n"));
        }
        dockerfile.push_str(tail);
        fs::write(ctx.path().join("Dockerfile"), dockerfile).expect("write Dockerfile");
        // No build cache: tests build images with the same files at the same time, and
        // the legacy builder would share intermediate layers between them, which another
        // test's `docker rmi` can delete mid-build ("unknown parent image ID").
        let mut cmd = Command::new("docker");
        cmd.args(["build", "--no-cache", "-q", "-t", &image.tag])
            .arg(ctx.path());
        let out = run(&mut cmd);
        stdout_ok(&cmd, &out);
        image
    }

    /// The image's tag.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// `docker run --rm <docker_args> <image> <args>`, labelled so Drop can
    /// find the container if the run is interrupted.
    pub fn run(&self, docker_args: &[&str], args: &[&str]) -> (Command, Output) {
        let mut cmd = Command::new("docker");
        cmd.args(["run", "--rm", "--label"])
            .arg(format!("boxwise-test={}", self.tag))
            .args(docker_args)
            .arg(&self.tag)
            .args(args);
        let out = run(&mut cmd);
        (cmd, out)
    }
}

impl Drop for DockerImage {
    fn drop(&mut self) {
        let filter = format!("label=boxwise-test={}", self.tag);
        if let Ok(out) = Command::new("docker")
            .args(["ps", "-aq", "--filter", &filter])
            .output()
        {
            let ids = String::from_utf8_lossy(&out.stdout);
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let _ = Command::new("docker")
                    .args(["rm", "-f"])
                    .args(&ids)
                    .output();
            }
        }
        let _ = Command::new("docker")
            .args(["rmi", "-f", &self.tag])
            .output();
    }
}

// ---------------------------------------------------------------------------
// Static boxwise
// ---------------------------------------------------------------------------

/// A statically linked boxwise for `FROM scratch` images.
///
/// `BOXWISE_STATIC_BIN` names a ready binary; otherwise this runs
/// `scripts/build-static.sh` (incremental, so cheap when up to date; always
/// running it means the image never holds a stale build).
pub fn static_boxwise() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("BOXWISE_STATIC_BIN") {
            return PathBuf::from(p);
        }
        let mut cmd = Command::new("bash");
        cmd.arg(workspace_root().join("scripts/build-static.sh"))
            .current_dir(workspace_root());
        let out = run(&mut cmd);
        let stdout = stdout_ok(&cmd, &out);
        let path = PathBuf::from(
            stdout
                .lines()
                .last()
                .expect("build-static.sh printed a path")
                .trim(),
        );
        assert!(
            path.is_file(),
            "build-static.sh printed {path:?}, not a file"
        );
        path
    })
    .clone()
}

// ---------------------------------------------------------------------------
// boxwise run
// ---------------------------------------------------------------------------

/// This process's cgroup directory in every mounted hierarchy boxwise knows (each v1
/// controller's, plus the unified one).
pub fn own_cgroup_dirs() -> Vec<PathBuf> {
    let Ok(layout) = own_layout() else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = layout
        .controllers
        .iter()
        .map(|(_, d)| d)
        .chain(layout.unified.as_ref())
        .filter_map(|d| mapped(d).ok())
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// The `run-<pid>-*` cgroups that `boxwise run` with process id `pid` has under
/// `boxwise/` in any of this process's hierarchies (a child of the test
/// process shares them). Empty once the run has cleaned up.
pub fn boxwise_run_cgroups(pid: u32) -> Vec<PathBuf> {
    let prefix = format!("run-{pid}-");
    own_cgroup_dirs()
        .iter()
        .filter_map(|d| fs::read_dir(d.join("boxwise")).ok())
        .flat_map(|entries| entries.flatten().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .collect()
}

/// Builds the Go program in `tests/go/<name>` with a given Go toolchain (for example
/// `/usr/lib/go-1.23/bin/go`) into `go-bin/<name>-<label>`.
///
/// Returns `None` (via [`require`]) when that toolchain is not installed.
pub fn build_go_program_with(go: &Path, name: &str, label: &str) -> Option<PathBuf> {
    build_go(go, name, Some(label))
}
