//! Dockerfile rules for Go images. Each function looks at the model and returns hits; none
//! reads anything else.

use super::model::{GoBuild, Libc, Model, Stage, golang_tag_version, libc_of, split_image};
use super::parse::{Args, Instruction, split_words};
use crate::fix::Edit;
use crate::{Hit, Position, Rule, Severity};

pub static GO_IN_FINAL: Rule = Rule {
    id: "dockerfile/go-in-final-stage",
    severity: Severity::Warning,
    summary: "the final stage is a Go toolchain image or builds with go",
};
pub static CGO_NO_LIBC: Rule = Rule {
    id: "dockerfile/cgo-binary-without-libc",
    severity: Severity::Error,
    summary: "a binary built with cgo is copied into a stage without its C library",
};
pub static NO_TRIMPATH: Rule = Rule {
    id: "dockerfile/build-without-trimpath",
    severity: Severity::Info,
    summary: "go build without -trimpath records the build machine's paths",
};
pub static NOT_STRIPPED: Rule = Rule {
    id: "dockerfile/build-without-strip",
    severity: Severity::Info,
    summary: "go build without -ldflags=\"-s -w\" keeps the symbol and DWARF tables",
};
pub static SHELL_FORM: Rule = Rule {
    id: "dockerfile/shell-form-entrypoint",
    severity: Severity::Warning,
    summary: "shell-form ENTRYPOINT or CMD: the shell is PID 1 and SIGTERM is not forwarded",
};
pub static ROOT_USER: Rule = Rule {
    id: "dockerfile/runs-as-root",
    severity: Severity::Warning,
    summary: "the final stage runs as root",
};
pub static HARDCODED_GO_ENV: Rule = Rule {
    id: "dockerfile/hardcoded-go-env",
    severity: Severity::Warning,
    summary: "GOMAXPROCS, GOMEMLIMIT or GOGC=off fixed in the image",
};
pub static COPY_BEFORE_DOWNLOAD: Rule = Rule {
    id: "dockerfile/copy-all-before-mod-download",
    severity: Severity::Warning,
    summary: "COPY . . before go mod download: every source change re-downloads modules",
};
pub static MOD_MOD: Rule = Rule {
    id: "dockerfile/build-mod-mod",
    severity: Severity::Warning,
    summary: "go build -mod=mod may change go.mod/go.sum during the image build",
};
pub static PPROF_EXPOSED: Rule = Rule {
    id: "dockerfile/pprof-port-exposed",
    severity: Severity::Warning,
    summary: "the pprof port is in EXPOSE",
};
pub static ADD_REMOTE: Rule = Rule {
    id: "dockerfile/add-remote-url",
    severity: Severity::Warning,
    summary: "ADD of a remote URL without --checksum",
};
pub static LATEST_TAG: Rule = Rule {
    id: "dockerfile/latest-tag",
    severity: Severity::Warning,
    summary: "FROM without a tag or with :latest",
};

pub static ALL: &[&Rule] = &[
    &GO_IN_FINAL,
    &CGO_NO_LIBC,
    &NO_TRIMPATH,
    &NOT_STRIPPED,
    &SHELL_FORM,
    &ROOT_USER,
    &HARDCODED_GO_ENV,
    &COPY_BEFORE_DOWNLOAD,
    &MOD_MOD,
    &PPROF_EXPOSED,
    &ADD_REMOTE,
    &LATEST_TAG,
];

/// The port `net/http/pprof` examples and most Go services use for it.
pub const PPROF_PORT: u16 = 6060;

pub fn check(m: &Model) -> Vec<Hit> {
    let mut hits = Vec::new();
    for s in &m.stages {
        latest_tag(s, &mut hits);
        for b in m.go_builds(s.index) {
            build_flags(&b, &mut hits);
        }
        copy_before_download(s, &mut hits);
        add_remote(s, &mut hits);
    }
    if let Some(f) = m.final_stage() {
        go_in_final(m, f, &mut hits);
        cgo_without_libc(m, f, &mut hits);
        entrypoint(m, f, &mut hits);
        user(m, f, &mut hits);
        go_env(m, f, &mut hits);
        expose(f, &mut hits);
    }
    hits
}

fn hit(rule: &'static Rule, pos: Position, message: String, evidence: String, fix: String) -> Hit {
    Hit {
        rule,
        pos,
        message,
        evidence,
        fix,
        edit: None,
    }
}

/// The instruction's first line as written, for evidence.
fn evidence(ins: &Instruction) -> String {
    let args = match &ins.args {
        Args::Exec(v) => serde_json::to_string(v).unwrap_or_default(),
        Args::Shell(s) => s.clone(),
    };
    let flags: String = ins
        .flags
        .iter()
        .map(|(k, v)| {
            if v.is_empty() {
                format!("--{k} ")
            } else {
                format!("--{k}={v} ")
            }
        })
        .collect();
    format!("{} {flags}{args}", ins.keyword)
}

fn latest_tag(s: &Stage, hits: &mut Vec<Hit>) {
    if s.base_stage.is_some() || s.base == "scratch" || s.base.contains('@') {
        return;
    }
    // A FROM whose image is only a variable that was never set: nothing to judge.
    if s.base.is_empty() || s.base.contains('$') {
        return;
    }
    let (name, tag) = split_image(&s.base);
    if tag.is_empty() || tag == "latest" {
        hits.push(hit(
            &LATEST_TAG,
            s.from.pos,
            format!(
                "{} is whatever the registry has today: builds are not repeatable and the Go version can change under you",
                s.base
            ),
            evidence(s.from),
            format!("FROM {name}:<version>"),
        ));
    }
}

fn build_flags(b: &GoBuild, hits: &mut Vec<Hit>) {
    if b.verb() == "run" {
        return;
    }
    let cmd = shell_join(&b.words);
    if !b.has_flag("-trimpath") {
        hits.push(hit(
            &NO_TRIMPATH,
            b.pos,
            "the binary records the build machine's file paths in panics and debug info; -trimpath removes them and makes builds reproducible".into(),
            cmd.clone(),
            "go build -trimpath ...".into(),
        ));
    }
    let ld = b.ldflags();
    let words: Vec<&str> = ld.split_whitespace().collect();
    if !(words.contains(&"-s") && words.contains(&"-w")) {
        hits.push(hit(
            &NOT_STRIPPED,
            b.pos,
            "-ldflags=\"-s -w\" drops the symbol table and DWARF, typically a quarter of the binary; stack traces still work".into(),
            cmd.clone(),
            "go build -ldflags=\"-s -w\" ...".into(),
        ));
    }
    if b.mod_mode().as_deref() == Some("mod") {
        hits.push(hit(
            &MOD_MOD,
            b.pos,
            "-mod=mod lets the build rewrite go.mod and fetch versions the repository did not pin; since Go 1.16 the default -mod=readonly fails instead".into(),
            cmd,
            "drop -mod=mod (or use -mod=vendor with a vendor directory)".into(),
        ));
    }
}

fn copy_before_download(s: &Stage, hits: &mut Vec<Hit>) {
    let mut copy_all: Option<&Instruction> = None;
    for ins in &s.body {
        if ins.keyword == "COPY" && !ins.flags.iter().any(|(k, _)| k == "from") {
            let w = ins.args.words();
            if w.len() >= 2 && w[..w.len() - 1].iter().any(|src| src == "." || src == "./") {
                copy_all.get_or_insert(ins);
            }
        }
        if ins.keyword == "RUN" && ins.args.text().contains("go mod download") {
            if let Some(c) = copy_all {
                hits.push(hit(
                    &COPY_BEFORE_DOWNLOAD,
                    c.pos,
                    "the whole source tree is copied before `go mod download`, so any code change invalidates the module cache layer and every build downloads all modules again".into(),
                    evidence(c),
                    "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .".into(),
                ));
            }
            return;
        }
    }
}

fn add_remote(s: &Stage, hits: &mut Vec<Hit>) {
    for ins in &s.body {
        if ins.keyword != "ADD" || ins.flags.iter().any(|(k, _)| k == "checksum") {
            continue;
        }
        let w = ins.args.words();
        if w.iter()
            .take(w.len().saturating_sub(1))
            .any(|u| u.starts_with("http://") || u.starts_with("https://"))
        {
            hits.push(hit(
                &ADD_REMOTE,
                ins.pos,
                "ADD downloads the URL at build time without checking what it got; pin it with --checksum (Dockerfile 1.6+) or download and verify in a RUN".into(),
                evidence(ins),
                format!("ADD --checksum=sha256:<digest> {}", ins.args.text()),
            ));
        }
    }
}

fn go_in_final(m: &Model, f: &Stage, hits: &mut Vec<Hit>) {
    let root = m.root_image(f.index);
    let toolchain = split_image(root).0.rsplit('/').next() == Some("golang");
    let builds = m.go_builds(f.index).into_iter().any(|b| b.verb() != "run");
    let runs = m.go_builds(f.index).into_iter().any(|b| b.verb() == "run")
        || final_command(f).is_some_and(|(_, w)| w.first().map(String::as_str) == Some("go"));
    if toolchain || builds || runs {
        let what = if runs {
            "runs `go run`"
        } else if builds {
            "builds with go"
        } else {
            "starts from the golang image"
        };
        hits.push(hit(
            &GO_IN_FINAL,
            f.from.pos,
            format!("the final stage {what}: the image ships the whole Go toolchain and sources (hundreds of MB); build in one stage and copy only the binary into a small final stage"),
            evidence(f.from),
            "FROM golang:<version> AS build\n...\nRUN CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o /out/app .\nFROM <distroless static or scratch>\nCOPY --from=build /out/app /app".into(),
        ));
    }
}

/// Whether a `go build` in `stage` gives a binary that needs a C library, and which.
fn needs_libc(m: &Model, stage: usize, b: &GoBuild) -> Option<Libc> {
    let root = m.root_image(stage);
    let builder = libc_of(root);
    let ld = b.ldflags();
    if ld.contains("-extldflags") && ld.contains("-static") {
        return None;
    }
    match b.cgo.as_deref() {
        Some("0") => None,
        Some("1") => Some(builder),
        _ => {
            // golang:*-alpine has no C compiler unless one is installed; Go 1.20+ then turns
            // cgo off by itself and the binary is static.
            let installs_cc = m.stages[stage].body.iter().any(|i| {
                i.keyword == "RUN" && {
                    let t = i.args.text();
                    t.contains("gcc") || t.contains("build-base") || t.contains("clang")
                }
            });
            let alpine = builder == Libc::Musl;
            let v = golang_tag_version(root);
            if alpine && !installs_cc && v.is_none_or(|v| v >= (1, 20)) {
                None
            } else {
                Some(builder)
            }
        }
    }
}

fn cgo_without_libc(m: &Model, f: &Stage, hits: &mut Vec<Hit>) {
    let final_libc = libc_of(m.root_image(f.index));
    if matches!(final_libc, Libc::Unknown) {
        return;
    }
    for ins in &f.body {
        if ins.keyword != "COPY" {
            continue;
        }
        let Some(from) = ins.flags.iter().find(|(k, _)| k == "from") else {
            continue;
        };
        let Some(src) = m.stage_ref(&from.1) else {
            continue;
        };
        for b in m.go_builds(src).iter().filter(|b| b.verb() != "run") {
            let Some(needed) = needs_libc(m, src, b) else {
                continue;
            };
            if needed == final_libc || needed == Libc::Unknown {
                continue;
            }
            let have = match final_libc {
                Libc::None => "no C library",
                Libc::Glibc => "glibc",
                Libc::Musl => "musl",
                Libc::Unknown => "an unknown C library",
            };
            let built = match needed {
                Libc::Musl => "musl",
                _ => "glibc",
            };
            let why = match b.cgo.as_deref() {
                Some("1") => "CGO_ENABLED=1".to_string(),
                _ => format!(
                    "cgo on (CGO_ENABLED is not set and {} has a C compiler)",
                    m.root_image(src)
                ),
            };
            hits.push(hit(
                &CGO_NO_LIBC,
                ins.pos,
                format!("the binary is built with {why}, so it links {built} dynamically, but {} has {have}: it will fail to start with \"no such file or directory\"", m.root_image(f.index)),
                format!("{} / {}", shell_join(&b.words), evidence(ins)),
                format!("RUN CGO_ENABLED=0 {}", shell_join(&b.words)),
            ));
            return;
        }
    }
}

/// The final stage's ENTRYPOINT, else CMD, with its words.
fn final_command<'a>(f: &Stage<'a>) -> Option<(&'a Instruction, Vec<String>)> {
    let last = |kw: &str| f.body.iter().rev().find(|i| i.keyword == kw).copied();
    let ins = last("ENTRYPOINT").or_else(|| last("CMD"))?;
    Some((ins, ins.args.words()))
}

/// Exec form for a shell command, when the text is plain words (no shell syntax).
pub fn exec_form(text: &str) -> Option<Vec<String>> {
    if text.chars().any(|c| "$`|&;<>()*?~{}\n".contains(c)) {
        return None;
    }
    let words = split_words(text);
    (!words.is_empty()).then_some(words)
}

fn entrypoint(m: &Model, f: &Stage, hits: &mut Vec<Hit>) {
    let no_shell = libc_of(m.root_image(f.index)) == Libc::None;
    for kw in ["ENTRYPOINT", "CMD"] {
        let Some(ins) = f.body.iter().rev().find(|i| i.keyword == kw) else {
            continue;
        };
        let Args::Shell(text) = &ins.args else {
            continue;
        };
        // `exec prog` replaces the shell, so the program is PID 1 after all.
        if text.trim_start().starts_with("exec ") {
            continue;
        }
        let exec = exec_form(text);
        let fix = match &exec {
            Some(w) => format!("{kw} {}", json_array(w)),
            None => format!(
                "{kw} [\"/bin/sh\", \"-c\", \"exec {}\"]",
                text.replace('"', "\\\"")
            ),
        };
        // Only plain words are rewritten by --fix; shell syntax needs a person.
        let edit = exec.is_some().then(|| Edit::Lines {
            first: ins.pos.line,
            last: ins.end_line,
            text: fix.clone(),
        });
        let mut message = format!(
            "shell-form {kw} runs `/bin/sh -c`, so the shell is PID 1: SIGTERM from `docker stop` or Kubernetes is not forwarded and the Go program is killed after the grace period instead of shutting down cleanly"
        );
        if no_shell {
            message.push_str(&format!(
                "; {} has no /bin/sh, so the container will not start at all",
                m.root_image(f.index)
            ));
        }
        hits.push(Hit {
            rule: &SHELL_FORM,
            pos: ins.pos,
            message,
            evidence: evidence(ins),
            fix,
            edit,
        });
    }
}

/// Words back into shell text, quoting those that need it.
pub fn shell_join(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
            {
                w.clone()
            } else {
                format!(
                    "\"{}\"",
                    w.replace('\\', "\\\\")
                        .replace('"', "\\\"")
                        .replace('$', "\\$")
                )
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn json_array(w: &[String]) -> String {
    let items: Vec<String> = w
        .iter()
        .map(|s| serde_json::to_string(s).unwrap_or_default())
        .collect();
    format!("[{}]", items.join(", "))
}

fn user(m: &Model, f: &Stage, hits: &mut Vec<Hit>) {
    let lineage = m.lineage(f.index);
    let mut last_user: Option<&Instruction> = None;
    for s in lineage.iter().rev() {
        for ins in &m.stages[*s].body {
            if ins.keyword == "USER" {
                last_user = Some(ins);
            }
        }
    }
    let root_image = m.root_image(f.index);
    let (_, tag) = split_image(root_image);
    match last_user {
        None if tag.contains("nonroot") => {}
        None => hits.push(hit(
            &ROOT_USER,
            f.from.pos,
            format!("no USER in the final stage, so the service runs as root (uid 0) in {root_image}; a bug or a compromised dependency then has root in the container"),
            evidence(f.from),
            "USER 65532:65532".into(),
        )),
        Some(ins) => {
            let u = ins.args.text();
            let name = u.split(':').next().unwrap_or("").trim();
            if name == "root" || name == "0" {
                hits.push(hit(
                    &ROOT_USER,
                    ins.pos,
                    "USER root: the service runs as uid 0; a bug or a compromised dependency then has root in the container".into(),
                    evidence(ins),
                    "USER 65532:65532".into(),
                ));
            }
        }
    }
}

fn go_env(m: &Model, f: &Stage, hits: &mut Vec<Hit>) {
    let env: Vec<_> = m
        .env(f.index)
        .into_iter()
        .filter(|(_, _, i)| i.keyword == "ENV")
        .collect();
    for (k, v, ins) in &env {
        let why = match k.as_str() {
            "GOMAXPROCS" => format!(
                "GOMAXPROCS={v} is fixed in the image, so it cannot follow the CPU limit of wherever the image runs (Go 1.25+ and `boxwise exec` derive it from the cgroup)"
            ),
            "GOMEMLIMIT" => format!(
                "GOMEMLIMIT={v} is fixed in the image, but the memory limit is set at deploy time: set it per deployment (about 90% of the limit) or let `boxwise exec` derive it"
            ),
            "GOGC" if v == "off" => {
                let has_limit = env
                    .iter()
                    .any(|(k2, v2, _)| k2 == "GOMEMLIMIT" && !v2.is_empty() && v2 != "off");
                if has_limit {
                    "GOGC=off with a fixed GOMEMLIMIT: the GC runs only near that limit, so the heap grows to it whatever the container's real limit is".into()
                } else {
                    "GOGC=off without GOMEMLIMIT turns the garbage collector off: the heap grows until the container is OOM-killed".into()
                }
            }
            _ => continue,
        };
        hits.push(hit(
            &HARDCODED_GO_ENV,
            ins.pos,
            why,
            evidence(ins),
            format!("remove {k} from ENV; ENTRYPOINT [\"/boxwise\", \"exec\", \"--\", ...] sets GOMAXPROCS and GOMEMLIMIT from the limits at start"),
        ));
    }
}

fn expose(f: &Stage, hits: &mut Vec<Hit>) {
    let is_pprof =
        |w: &String| w.split('/').next().and_then(|p| p.parse::<u16>().ok()) == Some(PPROF_PORT);
    for ins in &f.body {
        if ins.keyword != "EXPOSE" || !ins.args.words().iter().any(is_pprof) {
            continue;
        }
        let rest: Vec<String> = ins
            .args
            .words()
            .into_iter()
            .filter(|w| !is_pprof(w))
            .collect();
        let line = if rest.is_empty() {
            String::new()
        } else {
            format!("EXPOSE {}", rest.join(" "))
        };
        let mut h = hit(
            &PPROF_EXPOSED,
            ins.pos,
            format!(
                "port {PPROF_PORT} is the usual net/http/pprof port: exposing it publishes heap dumps, goroutine stacks and a CPU profiler to whoever reaches the container; bind pprof to localhost and reach it with port-forward"
            ),
            evidence(ins),
            if line.is_empty() {
                "remove the EXPOSE line".into()
            } else {
                line.clone()
            },
        );
        h.edit = Some(Edit::Lines {
            first: ins.pos.line,
            last: ins.end_line,
            text: line,
        });
        hits.push(h);
    }
}
