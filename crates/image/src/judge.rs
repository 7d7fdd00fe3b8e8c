//! Judgements over the model: waste, the config, the Go programs; `--ci` rules.

use serde::Serialize;

use boxwise_goprog::{GoBinary, Linkage, notes::human_bytes};

use crate::fs::{self, Filesystem};
use crate::layer::LayerScan;
use crate::source::Loaded;
use crate::{ConfigReport, GoBinaryReport, ImageReport, LayerReport, Options, Source, WastedFile};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }
}

/// One finding: a stable id, what is wrong, the numbers behind it, and the line to change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub severity: Severity,
    pub title: String,
    pub evidence: Vec<String>,
    pub fix: String,
}

/// The deployment the image is judged against (`--cpus`, `--memory`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub cpus: Option<f64>,
    pub memory: Option<u64>,
}

/// dive's `.dive-ci` rules; `None` disables one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CiRules {
    pub lowest_efficiency: Option<f64>,
    pub highest_wasted_bytes: Option<u64>,
    pub highest_user_wasted_percent: Option<f64>,
}

impl Default for CiRules {
    /// dive's defaults: efficiency 0.9, wasted bytes off, user wasted 0.1.
    fn default() -> Self {
        CiRules {
            lowest_efficiency: Some(0.9),
            highest_wasted_bytes: None,
            highest_user_wasted_percent: Some(0.1),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CiCheck {
    pub rule: &'static str,
    pub threshold: Option<f64>,
    pub value: f64,
    /// pass, fail or skip (disabled).
    pub result: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct CiResult {
    pub passed: bool,
    pub checks: Vec<CiCheck>,
}

fn ci(rules: &CiRules, r: &ImageReport) -> CiResult {
    let mut checks = Vec::new();
    let mut check = |rule, threshold: Option<f64>, value: f64, fails: &dyn Fn(f64) -> bool| {
        let result = match threshold {
            None => "skip",
            Some(t) if fails(t) => "fail",
            Some(_) => "pass",
        };
        checks.push(CiCheck {
            rule,
            threshold,
            value,
            result,
        });
    };
    let eff = r.efficiency;
    check("lowest_efficiency", rules.lowest_efficiency, eff, &|t| {
        t > eff
    });
    let wasted = r.wasted_bytes as f64;
    check(
        "highest_wasted_bytes",
        rules.highest_wasted_bytes.map(|b| b as f64),
        wasted,
        &|t| wasted > t,
    );
    let uw = r.user_wasted_ratio;
    check(
        "highest_user_wasted_percent",
        rules.highest_user_wasted_percent,
        uw,
        &|t| uw > t,
    );
    CiResult {
        passed: checks.iter().all(|c| c.result != "fail"),
        checks,
    }
}

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const LIB_DIRS: &[&str] = &[
    "lib",
    "usr/lib",
    "lib64",
    "usr/lib64",
    "lib/x86_64-linux-gnu",
    "usr/lib/x86_64-linux-gnu",
    "lib/aarch64-linux-gnu",
    "usr/lib/aarch64-linux-gnu",
    "usr/local/lib",
];

fn env_value<'a>(env: &'a [String], key: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

fn is_shell(prog: &str) -> bool {
    matches!(
        prog.rsplit('/').next(),
        Some("sh" | "bash" | "ash" | "dash" | "busybox")
    )
}

/// The command line PID 1 runs: ENTRYPOINT followed by CMD.
fn argv(cfg: &ConfigReport) -> Vec<String> {
    let mut v = cfg.entrypoint.clone().unwrap_or_default();
    if cfg.entrypoint.is_none() || cfg.cmd.is_some() {
        v.extend(cfg.cmd.clone().unwrap_or_default());
    }
    v
}

/// Finds a program as execve would: absolute, relative to WORKDIR, or on PATH.
fn locate(fs: &Filesystem, prog: &str, env: &[String], workdir: Option<&str>) -> Option<String> {
    let candidates: Vec<String> = if prog.starts_with('/') {
        vec![prog.to_string()]
    } else if prog.contains('/') {
        vec![format!("{}/{prog}", workdir.unwrap_or("/"))]
    } else {
        env_value(env, "PATH")
            .unwrap_or(DEFAULT_PATH)
            .split(':')
            .map(|d| format!("{d}/{prog}"))
            .collect()
    };
    candidates
        .into_iter()
        .find_map(|c| {
            fs.resolve(&c)
                .filter(|(_, n)| n.kind != crate::layer::Kind::Dir)
        })
        .map(|(p, _)| format!("/{p}"))
}

/// Parses Go's GOMEMLIMIT syntax: a number with an optional B/KiB/MiB/GiB/TiB suffix.
pub fn parse_gomemlimit(v: &str) -> Option<u64> {
    let v = v.trim();
    let units = [
        ("TiB", 1u64 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("B", 1),
    ];
    for (suffix, mult) in units {
        if let Some(n) = v.strip_suffix(suffix) {
            return n.trim().parse::<u64>().ok()?.checked_mul(mult);
        }
    }
    v.parse().ok()
}

pub(crate) fn report(source: &Source, loaded: &Loaded, opts: &Options) -> ImageReport {
    let scans: Vec<&LayerScan> = loaded.layers.iter().map(|(_, _, s)| s).collect();
    let fsys = fs::apply(&scans);
    let cfg_raw = &loaded.resolved.config;
    let run = cfg_raw.config.clone().unwrap_or_default();
    // History entries that made a layer, in order, line up with the layers.
    let made: Vec<Option<String>> = cfg_raw
        .history
        .iter()
        .filter(|h| !h.empty_layer)
        .map(|h| h.created_by.clone())
        .collect();
    let history_fits = made.len() == scans.len();
    let layers: Vec<LayerReport> = loaded
        .layers
        .iter()
        .zip(&fsys.changes)
        .enumerate()
        .map(|(i, ((blob, blob_bytes, scan), c))| LayerReport {
            index: i,
            blob: blob.clone(),
            blob_bytes: *blob_bytes,
            compression: scan.compression,
            size_bytes: c.size_bytes,
            created_by: if history_fits {
                made[i].clone().map(|s| tidy_instruction(&s))
            } else {
                None
            },
            files_added: c.added,
            files_changed: c.changed,
            files_removed: c.removed,
            wasted_bytes: c.wasted_bytes,
            caused_wasted_bytes: c.caused_wasted_bytes,
        })
        .collect();
    let size_bytes: u64 = layers.iter().map(|l| l.size_bytes).sum();
    let wasted_bytes: u64 = layers.iter().map(|l| l.wasted_bytes).sum();
    let final_bytes = fsys.size_bytes();
    let found = if history_fits {
        base_from_history(&cfg_raw.history)
    } else {
        None
    };
    let (base_layers, base_from) = match (opts.base_layers, &found) {
        (Some(n), _) => (n.min(layers.len()), BaseFrom::Flag),
        (None, Some(b)) => (b.layers.min(layers.len()), BaseFrom::History),
        (None, None) => (1.min(layers.len()), BaseFrom::FirstLayer),
    };
    let user_bytes: u64 = layers[base_layers..].iter().map(|l| l.size_bytes).sum();
    // Waste the layers above the base caused: their own files that did not last, and
    // the base's files they deleted or overwrote. The base's own waste is not the user's.
    let user_wasted_bytes: u64 = fsys.changes[base_layers..]
        .iter()
        .map(|c| c.caused_wasted_bytes)
        .sum();
    let efficiency = if size_bytes == 0 {
        1.0
    } else {
        final_bytes as f64 / size_bytes as f64
    };
    let user_wasted_ratio = if user_bytes == 0 {
        0.0
    } else {
        user_wasted_bytes as f64 / user_bytes as f64
    };

    let env = run.env.clone().unwrap_or_default();
    let os = ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .find_map(|p| {
            let (_, node) = fsys.resolve(p)?;
            let text = scans.get(node.layer)?.texts.iter().find(|(tp, _)| {
                fsys.resolve(tp)
                    .is_some_and(|(rp, _)| fsys.resolve(p).is_some_and(|(q, _)| q == rp))
            })?;
            os_name(&text.1)
        });
    let mut config = ConfigReport {
        entrypoint: run.entrypoint.clone(),
        cmd: run.cmd.clone(),
        shell_form: false,
        program: None,
        boxwise_exec: false,
        service: None,
        user: run.user.clone().filter(|u| !u.is_empty()),
        env: env.clone(),
        working_dir: run.working_dir.clone().filter(|w| !w.is_empty()),
        healthcheck: run
            .healthcheck
            .as_ref()
            .and_then(|h| h.test.clone())
            .filter(|t| t.first().is_some_and(|f| f != "NONE")),
        exposed_ports: run
            .exposed_ports
            .as_ref()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default(),
        os,
        base_created_by: made
            .first()
            .cloned()
            .flatten()
            .map(|s| tidy_instruction(&s)),
        base_ends_with: match base_from {
            BaseFrom::History => found.map(|b| b.ends_with),
            _ => None,
        },
    };

    // Go binaries that survive in the final filesystem.
    let mut go: Vec<(&GoBinary, usize)> = Vec::new();
    for (i, scan) in scans.iter().enumerate() {
        for b in &scan.go {
            let p = b.file.to_string_lossy();
            let key = p.trim_start_matches('/');
            if fsys.nodes.get(key).is_some_and(|n| n.layer == i) {
                go.push((b, i));
            }
        }
    }
    go.sort_by(|a, b| a.0.file.cmp(&b.0.file));
    let go_binaries: Vec<GoBinaryReport> = go
        .iter()
        .map(|(b, layer)| {
            let mut missing = Vec::new();
            if b.linkage == Linkage::Dynamic {
                if let Some(interp) = &b.interpreter
                    && !fsys.has_file(interp)
                {
                    missing.push(interp.clone());
                }
                for lib in &b.needed {
                    let found = if lib.contains('/') {
                        fsys.has_file(lib)
                    } else {
                        LIB_DIRS
                            .iter()
                            .any(|d| fsys.has_file(&format!("{d}/{lib}")))
                    };
                    if !found {
                        missing.push(lib.clone());
                    }
                }
            }
            GoBinaryReport {
                path: b.file.to_string_lossy().into_owned(),
                layer: *layer,
                size_bytes: b.file_size,
                go_version: b.go_version.clone(),
                module: b
                    .main
                    .as_ref()
                    .map(|m| m.path.clone())
                    .or_else(|| (!b.path.is_empty()).then(|| b.path.clone())),
                cgo: b.cgo_enabled(),
                static_: b.linkage != Linkage::Dynamic,
                interpreter: b.interpreter.clone(),
                missing,
                stripped: b.stripped(),
                trimpath: b.trimpath(),
                container_aware: b.container_aware_gomaxprocs(),
                notes: b.notes(),
            }
        })
        .collect();

    // What PID 1 runs.
    let args = argv(&config);
    let mut prog_args: Vec<String> = args.clone();
    if args.len() >= 3 && is_shell(&args[0]) && args[1] == "-c" {
        config.shell_form = true;
        let script = args[2].trim();
        let script = script.strip_prefix("exec ").unwrap_or(script);
        prog_args = script.split_whitespace().map(str::to_string).collect();
    }
    // PID 1 is argv[0] (the shell, in shell form); the service is what it ends up running.
    if let Some(first) = args.first() {
        config.program = locate(&fsys, first, &env, config.working_dir.as_deref());
    }
    if let Some(first) = prog_args.first() {
        let is_boxwise = first.rsplit('/').next() == Some("boxwise");
        let found = locate(&fsys, first, &env, config.working_dir.as_deref());
        if is_boxwise && prog_args.get(1).is_some_and(|a| a == "exec") {
            config.boxwise_exec = true;
            let target = prog_args[2..].iter().find(|a| !a.starts_with('-'));
            if let Some(t) = target {
                config.service = locate(&fsys, t, &env, config.working_dir.as_deref());
            }
        } else {
            config.service = found;
        }
    }
    if config
        .service
        .as_ref()
        .is_some_and(|s| !go_binaries.iter().any(|g| &g.path == s))
    {
        config.service = None;
    }

    let mut report = ImageReport {
        source: source.describe(),
        tags: loaded.resolved.tags.clone(),
        platform: loaded.resolved.platform.clone(),
        size_bytes,
        blob_bytes: layers.iter().map(|l| l.blob_bytes).sum(),
        final_bytes,
        wasted_bytes,
        efficiency,
        base_layers,
        base_from,
        user_bytes,
        user_wasted_bytes,
        user_wasted_ratio,
        files: fsys
            .nodes
            .values()
            .filter(|n| n.kind != crate::layer::Kind::Dir)
            .count() as u64,
        layers,
        wasted_files: fsys
            .wasted
            .iter()
            .take(opts.top_wasted.max(1))
            .map(|w| WastedFile {
                path: format!("/{}", w.path),
                wasted_bytes: w.wasted_bytes,
                copies: w.copies,
                kept: w.kept,
            })
            .collect(),
        config,
        go_binaries,
        findings: Vec::new(),
        ci: None,
    };
    report.findings = findings(&report, &args, &opts.limits);
    if let Some(rules) = &opts.ci {
        report.ci = Some(ci(rules, &report));
    }
    report
}

/// How the layers of the base image were told apart from the image's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BaseFrom {
    /// The config's history marks where the base image's Dockerfile ended.
    History,
    /// `--base-layers N`.
    Flag,
    /// History marks no boundary: the first layer, as dive counts it.
    FirstLayer,
}

/// Where the base image ends in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseBoundary {
    /// Layers made by the base image's entries.
    pub layers: usize,
    /// The entry that ends the base (`CMD ["sh"]`).
    pub ends_with: String,
}

/// Finds where the base image ends: history lists the base image's entries first and the
/// Dockerfile's own steps after them, with nothing in between to mark FROM. A Dockerfile
/// sets CMD or ENTRYPOINT at its end (both make no layer), so the last CMD or ENTRYPOINT
/// entry that a layer-making entry follows closes the base; everything up to it came
/// FROM. Both builders' spellings are read: `/bin/sh -c #(nop)  CMD ["sh"]` (legacy) and
/// `CMD ["sh"]` (BuildKit). None when no such entry exists (a `FROM scratch` image, or a
/// base built without CMD or ENTRYPOINT).
pub fn base_from_history(history: &[crate::spec::History]) -> Option<BaseBoundary> {
    let mut layers = 0usize;
    let mut candidate: Option<BaseBoundary> = None;
    let mut best: Option<BaseBoundary> = None;
    for h in history {
        if !h.empty_layer {
            // A layer after a CMD/ENTRYPOINT: that entry ended a Dockerfile.
            if let Some(c) = candidate.take() {
                best = Some(c);
            }
            layers += 1;
            continue;
        }
        let by = tidy_instruction(h.created_by.as_deref().unwrap_or(""));
        let word = by.split_whitespace().next().unwrap_or("");
        if word.eq_ignore_ascii_case("CMD") || word.eq_ignore_ascii_case("ENTRYPOINT") {
            candidate = Some(BaseBoundary {
                layers,
                ends_with: by,
            });
        }
    }
    best.filter(|b| b.layers > 0)
}

/// Drops the legacy builder's `/bin/sh -c #(nop) ` prefix: `#(nop) ENV A=1` -> `ENV A=1`.
fn tidy_instruction(s: &str) -> String {
    let s = s.trim();
    let s = s.strip_prefix("/bin/sh -c #(nop) ").unwrap_or(s);
    match s.strip_prefix("/bin/sh -c ") {
        Some(rest) => format!("RUN {rest}"),
        None => s.trim().to_string(),
    }
}

fn json_array(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn findings(r: &ImageReport, argv: &[String], limits: &Limits) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add =
        |id: &'static str, severity, title: String, evidence: Vec<String>, fix: String| {
            out.push(Finding {
                id,
                severity,
                title,
                evidence,
                fix,
            })
        };
    let c = &r.config;
    let service = c
        .service
        .as_ref()
        .and_then(|s| r.go_binaries.iter().find(|g| &g.path == s));

    for g in &r.go_binaries {
        if !g.static_ && !g.missing.is_empty() {
            add(
                "go-binary-missing-libraries",
                Severity::Error,
                format!(
                    "{} cannot start: the image lacks what it is linked against",
                    g.path
                ),
                vec![
                    format!("{} is dynamically linked (cgo: {})", g.path, yes_no(g.cgo)),
                    format!("missing from the image: {}", g.missing.join(", ")),
                ],
                "build it with `RUN CGO_ENABLED=0 go build ...`, or start FROM an image that \
                 ships the C library it needs"
                    .into(),
            );
        }
        for n in &g.notes {
            let sev = match n.severity {
                boxwise_goprog::notes::Severity::Warning => Severity::Warning,
                boxwise_goprog::notes::Severity::Info => Severity::Info,
            };
            // The dynamic note is the finding above when libraries are missing.
            if n.id == "dynamic-binary" && !g.missing.is_empty() {
                continue;
            }
            add(
                n.id,
                sev,
                format!("{}: {}", g.path, n.text),
                vec![format!("{} {}", g.path, g.go_version)],
                fix_for_note(n.id),
            );
        }
    }
    if let Some(first) = argv.first()
        && c.program.is_none()
    {
        add(
            "entrypoint-missing",
            Severity::Error,
            format!("the program the container starts, {first}, is not in the image"),
            vec![format!("ENTRYPOINT/CMD: {}", json_array(argv))],
            "fix the path in ENTRYPOINT or COPY the program there".into(),
        );
    } else if argv.is_empty() {
        add(
            "no-entrypoint",
            Severity::Info,
            "the image sets neither ENTRYPOINT nor CMD".into(),
            vec![],
            "add `ENTRYPOINT [\"/app\"]` so the image runs its service by itself".into(),
        );
    }
    if c.shell_form {
        let script = argv.get(2).cloned().unwrap_or_default();
        if !script.trim_start().starts_with("exec ") {
            let words: Vec<String> = script.split_whitespace().map(str::to_string).collect();
            add(
                "shell-form-entrypoint",
                Severity::Warning,
                "ENTRYPOINT/CMD runs through a shell: the shell is PID 1 and does not pass \
                 SIGTERM on, so stops wait for the kill timeout"
                    .into(),
                vec![format!("ENTRYPOINT/CMD: {}", json_array(argv))],
                format!("use the exec form: `ENTRYPOINT {}`", json_array(&words)),
            );
        }
    }
    let root = match c.user.as_deref() {
        None => true,
        Some(u) => {
            let name = u.split(':').next().unwrap_or("");
            name == "root" || name == "0"
        }
    };
    if root {
        add(
            "runs-as-root",
            Severity::Warning,
            "the container runs as root: a bug in the service is a bug with root's rights".into(),
            vec![format!(
                "USER: {}",
                c.user.as_deref().unwrap_or("(not set)")
            )],
            "add `USER 65532:65532` (any non-zero uid) after the last RUN".into(),
        );
    }
    let go_service = service.is_some() || !r.go_binaries.is_empty();
    if let Some(v) = env_value(&c.env, "GOMAXPROCS") {
        let n: Option<f64> = v.trim().parse().ok();
        match (n, limits.cpus) {
            (Some(n), Some(cpus)) if n > cpus.ceil() => add(
                "gomaxprocs-above-cpus",
                Severity::Warning,
                format!(
                    "ENV GOMAXPROCS={v} but the container gets {cpus} CPU(s): Go runs {v} threads on a {cpus}-CPU quota and gets throttled"
                ),
                vec![format!("ENV GOMAXPROCS={v}"), format!("--cpus {cpus}")],
                format!(
                    "delete `ENV GOMAXPROCS={v}`; Go 1.25+ or `boxwise exec` sets it from the CPU limit"
                ),
            ),
            (Some(n), Some(cpus)) if n < cpus.floor() => add(
                "gomaxprocs-below-cpus",
                Severity::Info,
                format!("ENV GOMAXPROCS={v} uses fewer than the {cpus} CPU(s) the container gets"),
                vec![format!("ENV GOMAXPROCS={v}"), format!("--cpus {cpus}")],
                format!(
                    "delete `ENV GOMAXPROCS={v}`; Go 1.25+ or `boxwise exec` sets it from the CPU limit"
                ),
            ),
            (Some(_), Some(_)) => {}
            _ => add(
                "gomaxprocs-hardcoded",
                Severity::Info,
                format!("ENV GOMAXPROCS={v} is fixed in the image: right for one CPU limit only"),
                vec![format!("ENV GOMAXPROCS={v}")],
                format!(
                    "delete `ENV GOMAXPROCS={v}` and let Go 1.25+ or `boxwise exec` set it per deployment (pass --cpus to judge it)"
                ),
            ),
        }
    }
    let memlimit = env_value(&c.env, "GOMEMLIMIT");
    if let Some(v) = memlimit {
        match (parse_gomemlimit(v), limits.memory) {
            (Some(n), Some(mem)) if n >= mem => add(
                "gomemlimit-above-memory",
                Severity::Error,
                format!(
                    "ENV GOMEMLIMIT={v} is at or above the {} memory limit: the heap grows into an OOM kill before the GC works hard",
                    human_bytes(mem)
                ),
                vec![
                    format!("ENV GOMEMLIMIT={v} ({n} bytes)"),
                    format!("--memory {mem}"),
                ],
                format!(
                    "delete `ENV GOMEMLIMIT={v}` and run under `boxwise exec` (90% of the limit), or set it below the limit"
                ),
            ),
            (Some(n), Some(mem)) if n as f64 > mem as f64 * 0.95 => add(
                "gomemlimit-near-memory",
                Severity::Warning,
                format!(
                    "ENV GOMEMLIMIT={v} leaves under 5% of the {} limit for non-heap memory",
                    human_bytes(mem)
                ),
                vec![
                    format!("ENV GOMEMLIMIT={v} ({n} bytes)"),
                    format!("--memory {mem}"),
                ],
                "set GOMEMLIMIT to about 90% of the memory limit, or run under `boxwise exec`"
                    .into(),
            ),
            (Some(_), Some(_)) => {}
            _ => add(
                "gomemlimit-hardcoded",
                Severity::Info,
                format!(
                    "ENV GOMEMLIMIT={v} is fixed in the image: right for one memory limit only"
                ),
                vec![format!("ENV GOMEMLIMIT={v}")],
                format!(
                    "delete `ENV GOMEMLIMIT={v}` and let `boxwise exec` set it per deployment (pass --memory to judge it)"
                ),
            ),
        }
    }
    if env_value(&c.env, "GOGC").is_some_and(|v| v.eq_ignore_ascii_case("off"))
        && memlimit.is_none()
    {
        add(
            "gogc-off-without-limit",
            Severity::Warning,
            "ENV GOGC=off without GOMEMLIMIT: the GC never runs and the heap grows until the OOM kill".into(),
            vec!["ENV GOGC=off".into()],
            "delete `ENV GOGC=off`, or add a GOMEMLIMIT (`boxwise exec` sets one)".into(),
        );
    }
    if let Some(v) = env_value(&c.env, "GODEBUG")
        && v.split(',').any(|kv| kv.trim() == "containermaxprocs=0")
    {
        add(
            "godebug-containermaxprocs-off",
            Severity::Warning,
            "ENV GODEBUG turns off Go 1.25's container-aware GOMAXPROCS".into(),
            vec![format!("ENV GODEBUG={v}")],
            "remove containermaxprocs=0 from `ENV GODEBUG`".into(),
        );
    }
    if c.healthcheck.is_none() && go_service {
        add(
            "no-healthcheck",
            Severity::Info,
            "no HEALTHCHECK: Docker cannot tell a hung service from a working one".into(),
            vec![],
            "add a `HEALTHCHECK CMD [...]` line that asks the service whether it works (or a Kubernetes probe)".into(),
        );
    }
    if let Some(p) = c
        .exposed_ports
        .iter()
        .find(|p| p.split('/').next() == Some("6060"))
    {
        add(
            "pprof-port-exposed",
            Severity::Warning,
            "port 6060 (net/http/pprof's usual port) is exposed: profiles and goroutine dumps should not be public".into(),
            vec![format!("EXPOSE {p}")],
            "remove `EXPOSE 6060`; reach pprof with `docker exec` or a port-forward instead".into(),
        );
    }
    if let Some(s) = service
        && !s.container_aware
        && !c.boxwise_exec
        && env_value(&c.env, "GOMAXPROCS").is_none()
    {
        add(
            "not-boxwise-exec",
            Severity::Info,
            format!(
                "{} ({}) sizes GOMAXPROCS from the host's CPUs, not the container's limit",
                s.path, s.go_version
            ),
            vec![format!("ENTRYPOINT/CMD: {}", json_array(argv))],
            format!(
                "start it as `ENTRYPOINT [\"/boxwise\", \"exec\", \"--\", \"{}\"]` (COPY a static boxwise in), or build with Go 1.25+",
                s.path
            ),
        );
    }
    if r.wasted_bytes > 0 && r.efficiency < 0.9 {
        let top: Vec<String> = r
            .wasted_files
            .iter()
            .take(3)
            .map(|w| {
                format!(
                    "{}: {} wasted ({} copies shipped)",
                    w.path,
                    human_bytes(w.wasted_bytes),
                    w.copies
                )
            })
            .collect();
        add(
            "wasted-space",
            Severity::Warning,
            format!(
                "{} of the {} shipped are not in the final filesystem (efficiency {:.0}%)",
                human_bytes(r.wasted_bytes),
                human_bytes(r.size_bytes),
                r.efficiency * 100.0
            ),
            top,
            "delete files in the same RUN that creates them, or build in one stage and `COPY --from` only the result".into(),
        );
    }
    if let Some(s) = service
        && r.final_bytes > s.size_bytes.saturating_mul(3)
        && r.final_bytes - s.size_bytes > 10 << 20
    {
        add(
            "image-larger-than-service",
            Severity::Info,
            format!(
                "the image holds {} for a {} Go service",
                human_bytes(r.final_bytes),
                human_bytes(s.size_bytes)
            ),
            vec![format!("base: {}", c.os.as_deref().unwrap_or("unknown"))],
            "if it is static, copy it into `FROM scratch` (or distroless/static) in a second stage"
                .into(),
        );
    }
    if r.go_binaries.is_empty() {
        add(
            "no-go-binary",
            Severity::Info,
            "no Go executable in the final filesystem".into(),
            vec![],
            "nothing to change if this image runs no Go service".into(),
        );
    }
    out.sort_by_key(|f| f.severity);
    out
}

fn fix_for_note(id: &str) -> String {
    match id {
        "go-not-container-aware" => {
            "build with Go 1.25+ (go line 1.25 in go.mod), or start it under `boxwise exec`".into()
        }
        "gomaxprocs-not-updated" => "raise the go line in go.mod to 1.25+".into(),
        "dynamic-binary" => "build with `CGO_ENABLED=0` unless it needs cgo".into(),
        "debug-info-shipped" => "build with `go build -ldflags='-s -w'`".into(),
        "gomemlimit-unsupported" => "build with Go 1.19 or later".into(),
        _ => "see `boxwise binary` on this file".into(),
    }
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

/// The name os-release gives: `PRETTY_NAME`, else `NAME` and `VERSION_ID` (both optional
/// in the format), `None` when it names nothing.
pub fn os_name(text: &str) -> Option<String> {
    let field = |key: &str| {
        text.lines().find_map(|l| {
            let v = l.trim().strip_prefix(key)?.strip_prefix('=')?;
            let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
            (!v.is_empty()).then(|| v.to_string())
        })
    };
    if let Some(pretty) = field("PRETTY_NAME") {
        return Some(pretty);
    }
    let name = field("NAME")?;
    Some(match field("VERSION_ID") {
        Some(v) => format!("{name} {v}"),
        None => name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gomemlimit_syntax() {
        assert_eq!(parse_gomemlimit("512MiB"), Some(512 << 20));
        assert_eq!(parse_gomemlimit("1GiB"), Some(1 << 30));
        assert_eq!(parse_gomemlimit("1000"), Some(1000));
        assert_eq!(parse_gomemlimit("lots"), None);
    }

    #[test]
    fn instructions_are_tidied() {
        assert_eq!(tidy_instruction("/bin/sh -c #(nop) ENV A=1"), "ENV A=1");
        assert_eq!(tidy_instruction("/bin/sh -c rm -f /x"), "RUN rm -f /x");
        assert_eq!(
            tidy_instruction("COPY f / # buildkit"),
            "COPY f / # buildkit"
        );
    }

    use crate::layer::{Entry, Kind, LayerScan};
    use crate::source::Loaded;
    use crate::spec::{Config, Resolved};

    fn loaded(config: serde_json::Value, entries: Vec<Entry>) -> Loaded {
        let config: Config = serde_json::from_value(config).unwrap();
        Loaded {
            resolved: Resolved {
                config,
                layers: vec!["l".into()],
                tags: vec![],
                platform: "linux/amd64".into(),
            },
            layers: vec![(
                "l".into(),
                0,
                LayerScan {
                    entries,
                    ..Default::default()
                },
            )],
        }
    }

    fn file(path: &str) -> Entry {
        Entry {
            path: path.into(),
            kind: Kind::File,
            size: 10,
            link: None,
        }
    }

    fn ids(r: &ImageReport) -> Vec<(&'static str, Severity)> {
        r.findings.iter().map(|f| (f.id, f.severity)).collect()
    }

    #[test]
    fn config_findings_against_the_deployment() {
        let l = loaded(
            serde_json::json!({"config": {
                "Env": ["GOMAXPROCS=8", "GOMEMLIMIT=1GiB", "GODEBUG=containermaxprocs=0"],
                "Cmd": ["/bin/sh", "-c", "/app --port 1"],
                "ExposedPorts": {"6060/tcp": {}}}}),
            vec![file("bin/sh"), file("app")],
        );
        let opts = Options {
            limits: Limits {
                cpus: Some(1.0),
                memory: Some(512 << 20),
            },
            ..Default::default()
        };
        let r = report(&Source::Engine("x".into()), &l, &opts);
        let got = ids(&r);
        for want in [
            ("gomemlimit-above-memory", Severity::Error),
            ("gomaxprocs-above-cpus", Severity::Warning),
            ("godebug-containermaxprocs-off", Severity::Warning),
            ("shell-form-entrypoint", Severity::Warning),
            ("runs-as-root", Severity::Warning),
            ("pprof-port-exposed", Severity::Warning),
        ] {
            assert!(got.contains(&want), "{want:?} not in {got:?}");
        }
        assert!(r.config.shell_form);
        assert_eq!(r.config.program.as_deref(), Some("/bin/sh"));
        // Ranked: errors first.
        assert_eq!(r.findings[0].severity, Severity::Error);
        let shell = r
            .findings
            .iter()
            .find(|f| f.id == "shell-form-entrypoint")
            .unwrap();
        assert_eq!(
            shell.fix,
            "use the exec form: `ENTRYPOINT [\"/app\",\"--port\",\"1\"]`"
        );
    }

    #[test]
    fn exec_form_as_non_root_with_exec_in_shell_is_quiet() {
        let l = loaded(
            serde_json::json!({"config": {
                "User": "65532",
                "Entrypoint": ["/bin/sh", "-c", "exec /app"]}}),
            vec![file("bin/sh"), file("app")],
        );
        let r = report(&Source::Engine("x".into()), &l, &Options::default());
        let got = ids(&r);
        assert!(
            !got.iter()
                .any(|(id, _)| *id == "shell-form-entrypoint" || *id == "runs-as-root"),
            "{got:?}"
        );
        assert!(
            !got.iter().any(|(id, _)| *id == "entrypoint-missing"),
            "{got:?}"
        );
        let l = loaded(
            serde_json::json!({"config": {"Entrypoint": ["/nope"]}}),
            vec![],
        );
        let r = report(&Source::Engine("x".into()), &l, &Options::default());
        assert_eq!(r.findings[0].id, "entrypoint-missing");
    }

    fn history(entries: &[(&str, bool)]) -> Vec<crate::spec::History> {
        entries
            .iter()
            .map(|(by, empty)| crate::spec::History {
                created_by: Some(by.to_string()),
                empty_layer: *empty,
            })
            .collect()
    }

    #[test]
    fn base_ends_at_the_last_cmd_a_layer_follows() {
        // Legacy builder: a base of 2 layers ending in CMD, then the app's own steps.
        let h = history(&[
            ("/bin/sh -c #(nop) ADD file:ab in / ", false),
            ("/bin/sh -c apt-get install -y ca-certificates", false),
            ("/bin/sh -c #(nop)  CMD [\"bash\"]", true),
            ("/bin/sh -c #(nop) COPY file:cd in /app ", false),
            ("/bin/sh -c #(nop)  ENTRYPOINT [\"/app\"]", true),
        ]);
        assert_eq!(
            base_from_history(&h),
            Some(BaseBoundary {
                layers: 2,
                ends_with: "CMD [\"bash\"]".into()
            })
        );
        // BuildKit spells them as the Dockerfile does; a base of a base: the last one wins.
        let h = history(&[
            ("ADD rootfs.tar / # buildkit", false),
            ("CMD [\"sh\"]", true),
            ("RUN /bin/sh -c apk add go # buildkit", false),
            ("ENTRYPOINT [\"go\"]", true),
            ("COPY app /app # buildkit", false),
            ("RUN /bin/sh -c rm -rf /tmp # buildkit", false),
        ]);
        assert_eq!(base_from_history(&h).map(|b| b.layers), Some(2));
        // FROM scratch with CMD at the end only: no base image to be seen.
        let h = history(&[
            ("/bin/sh -c #(nop) COPY file:ab in / ", false),
            ("/bin/sh -c #(nop)  CMD [\"/app\"]", true),
        ]);
        assert_eq!(base_from_history(&h), None);
        // A CMD before any layer marks nothing.
        let h = history(&[("CMD [\"sh\"]", true), ("COPY a / # buildkit", false)]);
        assert_eq!(base_from_history(&h), None);
    }

    proptest! {
        /// Any history: a boundary inside the layers it made, never a panic.
        #[test]
        fn base_boundary_is_within_the_layers(
            entries in proptest::collection::vec(("(CMD|ENTRYPOINT|RUN|COPY|/bin/sh -c #\\(nop\\)  CMD)? ?\\PC{0,8}", any::<bool>()), 0..20)
        ) {
            let h: Vec<crate::spec::History> = entries
                .iter()
                .map(|(by, empty)| crate::spec::History { created_by: Some(by.clone()), empty_layer: *empty })
                .collect();
            let made = h.iter().filter(|e| !e.empty_layer).count();
            if let Some(b) = base_from_history(&h) {
                prop_assert!(b.layers > 0 && b.layers < made);
            }
        }

        #[test]
        fn gomemlimit_never_panics(s in "\\PC{0,20}") {
            let _ = parse_gomemlimit(&s);
        }

        /// Any os-release text: a name that is never empty, or none.
        #[test]
        fn os_name_is_never_empty(s in "((PRETTY_NAME|NAME|VERSION_ID)=\"?\\PC{0,8}\n){0,4}") {
            prop_assert!(os_name(&s).is_none_or(|n| !n.is_empty()));
        }
    }

    #[test]
    fn os_release_names_from_pretty_name_else_name_and_version() {
        assert_eq!(
            os_name("NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian 12\"\n").as_deref(),
            Some("Debian 12")
        );
        assert_eq!(
            os_name("NAME=Alpine\nVERSION_ID=3.20.1\n").as_deref(),
            Some("Alpine 3.20.1")
        );
        assert_eq!(
            os_name("NAME='distroless'\n").as_deref(),
            Some("distroless")
        );
        assert_eq!(os_name(""), None);
        assert_eq!(os_name("NAME=\n"), None);
    }
}
