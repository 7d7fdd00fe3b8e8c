//! Stages of a parsed Dockerfile, with what the Go rules need: the base image (ARGs
//! expanded), references between stages, the `go build` commands and the environment.

use super::parse::{Args, Dockerfile, Instruction, commands, expand, key_values};
use crate::Position;

#[derive(Debug, Clone)]
pub struct Stage<'a> {
    pub index: usize,
    pub name: Option<String>,
    /// The image after ARG expansion, e.g. `golang:1.23-alpine`.
    pub base: String,
    /// The earlier stage this one starts from (`FROM build`).
    pub base_stage: Option<usize>,
    pub from: &'a Instruction,
    pub body: Vec<&'a Instruction>,
}

/// One `go build`/`go install` (or `go run`) found in a RUN.
#[derive(Debug, Clone)]
pub struct GoBuild {
    pub pos: Position,
    pub words: Vec<String>,
    /// `CGO_ENABLED` as the command sees it: inline, ENV or ARG; `None` when unset.
    pub cgo: Option<String>,
    pub goflags: Option<String>,
}

impl GoBuild {
    pub fn verb(&self) -> &str {
        self.words.get(1).map(String::as_str).unwrap_or("")
    }
    pub fn has_flag(&self, f: &str) -> bool {
        self.words
            .iter()
            .any(|w| w == f || w.starts_with(&format!("{f}=")))
    }
    /// The `-ldflags` value(s).
    pub fn ldflags(&self) -> String {
        let mut out = Vec::new();
        let mut it = self.words.iter();
        while let Some(w) = it.next() {
            for pre in ["-ldflags", "--ldflags"] {
                if w == pre {
                    if let Some(v) = it.next() {
                        out.push(v.clone());
                    }
                } else if let Some(v) = w.strip_prefix(&format!("{pre}=")) {
                    out.push(v.to_string());
                }
            }
        }
        out.join(" ")
    }
    /// `-mod=X` from the command line, else from GOFLAGS.
    pub fn mod_mode(&self) -> Option<String> {
        let from_words = self
            .words
            .iter()
            .find_map(|w| w.strip_prefix("-mod=").map(str::to_string));
        from_words.or_else(|| {
            self.goflags.as_deref().and_then(|g| {
                g.split_whitespace()
                    .find_map(|w| w.strip_prefix("-mod=").map(str::to_string))
            })
        })
    }
}

pub struct Model<'a> {
    pub file: &'a Dockerfile,
    pub stages: Vec<Stage<'a>>,
}

impl<'a> Model<'a> {
    pub fn new(file: &'a Dockerfile) -> Model<'a> {
        let mut global: Vec<(String, String)> = Vec::new();
        let mut stages: Vec<Stage<'a>> = Vec::new();
        for ins in &file.instructions {
            match ins.keyword.as_str() {
                "FROM" => {
                    let words = ins.args.words();
                    let lookup = |n: &str| {
                        global
                            .iter()
                            .rev()
                            .find(|(k, _)| k == n)
                            .map(|(_, v)| v.clone())
                    };
                    let base = expand(words.first().map(String::as_str).unwrap_or(""), &lookup);
                    let name = match words.get(1).map(|w| w.to_ascii_lowercase()) {
                        Some(ref a) if a == "as" => words.get(2).map(|n| n.to_ascii_lowercase()),
                        _ => None,
                    };
                    let base_stage = stages
                        .iter()
                        .position(|s| s.name.as_deref() == Some(&base.to_ascii_lowercase()));
                    stages.push(Stage {
                        index: stages.len(),
                        name,
                        base,
                        base_stage,
                        from: ins,
                        body: Vec::new(),
                    });
                }
                "ARG" if stages.is_empty() => {
                    for (k, v) in key_values(&ins.args) {
                        global.push((k, v));
                    }
                }
                _ => {
                    if let Some(s) = stages.last_mut() {
                        s.body.push(ins);
                    }
                }
            }
        }
        Model { file, stages }
    }

    pub fn final_stage(&self) -> Option<&Stage<'a>> {
        self.stages.last()
    }

    /// The stage a `--from=` value names (by name or index); `None` for an image.
    pub fn stage_ref(&self, from: &str) -> Option<usize> {
        let from = from.to_ascii_lowercase();
        if let Ok(n) = from.parse::<usize>() {
            return (n < self.stages.len()).then_some(n);
        }
        self.stages
            .iter()
            .position(|s| s.name.as_deref() == Some(from.as_str()))
    }

    /// The chain of stages `index` starts from, itself first.
    pub fn lineage(&self, index: usize) -> Vec<usize> {
        let mut out = vec![index];
        let mut cur = index;
        while let Some(b) = self.stages[cur].base_stage {
            if out.contains(&b) {
                break;
            }
            out.push(b);
            cur = b;
        }
        out
    }

    /// The root image of a stage, following `FROM <stage>`.
    pub fn root_image(&self, index: usize) -> &str {
        let l = self.lineage(index);
        &self.stages[*l.last().unwrap_or(&index)].base
    }

    /// ENV and ARG values set in a stage and the stages it starts from, latest last.
    pub fn env(&self, index: usize) -> Vec<(String, String, &'a Instruction)> {
        let mut out = Vec::new();
        for s in self.lineage(index).into_iter().rev() {
            for ins in &self.stages[s].body {
                if ins.keyword == "ENV" || ins.keyword == "ARG" {
                    for (k, v) in key_values(&ins.args) {
                        out.push((k, v, *ins));
                    }
                }
            }
        }
        out
    }

    /// Every `go build`/`go install`/`go run` in a stage's RUNs (heredoc bodies included).
    pub fn go_builds(&self, index: usize) -> Vec<GoBuild> {
        let mut out = Vec::new();
        let mut env: Vec<(String, String)> = Vec::new();
        for s in self.lineage(index).into_iter().rev() {
            for ins in &self.stages[s].body {
                if ins.keyword == "ENV" || ins.keyword == "ARG" {
                    env.extend(key_values(&ins.args));
                }
                if ins.keyword != "RUN" || s != index {
                    continue;
                }
                let mut texts = vec![match &ins.args {
                    Args::Shell(t) => t.clone(),
                    Args::Exec(v) => v.join(" "),
                }];
                texts.extend(ins.heredocs.iter().map(|h| h.body.clone()));
                for text in texts {
                    let mut exported: Vec<(String, String)> = Vec::new();
                    for cmd in commands(&text) {
                        let mut words = cmd.as_slice();
                        let mut inline: Vec<(String, String)> = Vec::new();
                        if words.first().map(String::as_str) == Some("export") {
                            for w in &words[1..] {
                                if let Some((k, v)) = w.split_once('=') {
                                    exported.push((k.into(), v.into()));
                                }
                            }
                            continue;
                        }
                        while let Some((k, v)) = words.first().and_then(|w| w.split_once('=')) {
                            if !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                                break;
                            }
                            inline.push((k.into(), v.into()));
                            words = &words[1..];
                        }
                        let is_go = words
                            .first()
                            .is_some_and(|w| w == "go" || w.ends_with("/go"));
                        let verb = words.get(1).map(String::as_str);
                        if !is_go || !matches!(verb, Some("build" | "install" | "run")) {
                            continue;
                        }
                        let get = |key: &str| {
                            inline
                                .iter()
                                .chain(exported.iter().rev())
                                .chain(env.iter().rev())
                                .find(|(k, _)| k == key)
                                .map(|(_, v)| v.clone())
                        };
                        let mut words = words.to_vec();
                        words[0] = "go".into();
                        out.push(GoBuild {
                            pos: ins.pos,
                            words,
                            cgo: get("CGO_ENABLED"),
                            goflags: get("GOFLAGS"),
                        });
                    }
                }
            }
        }
        out
    }
}

/// What C library an image gives a dynamically linked binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Libc {
    None,
    Glibc,
    Musl,
    Unknown,
}

/// The C library of a base image, from its name.
pub fn libc_of(image: &str) -> Libc {
    let (name, tag) = split_image(image);
    let last = name.rsplit('/').next().unwrap_or(&name);
    if name == "scratch" {
        return Libc::None;
    }
    if name.contains("distroless/static") || name.ends_with("chainguard/static") {
        return Libc::None;
    }
    if name.contains("distroless/") {
        return Libc::Glibc;
    }
    if last == "alpine" || tag.contains("alpine") {
        return Libc::Musl;
    }
    if matches!(
        last,
        "debian"
            | "ubuntu"
            | "golang"
            | "busybox"
            | "fedora"
            | "ubi-minimal"
            | "ubi"
            | "redhat/ubi9"
    ) {
        return if last == "busybox" && !tag.contains("glibc") {
            Libc::Unknown
        } else {
            Libc::Glibc
        };
    }
    Libc::Unknown
}

/// `repo[:tag][@digest]` into the repository and the tag (empty when none).
pub fn split_image(image: &str) -> (String, String) {
    let no_digest = image.split('@').next().unwrap_or(image);
    // A colon after the last slash is a tag; before it, a registry port.
    let slash = no_digest.rfind('/').map(|n| n + 1).unwrap_or(0);
    match no_digest[slash..].rfind(':') {
        Some(c) => (
            no_digest[..slash + c].to_string(),
            no_digest[slash + c + 1..].to_string(),
        ),
        None => (no_digest.to_string(), String::new()),
    }
}

/// The Go version in an official `golang:` tag, e.g. `1.23-alpine` -> (1, 23).
pub fn golang_tag_version(image: &str) -> Option<(u32, u32)> {
    let (name, tag) = split_image(image);
    if name.rsplit('/').next() != Some("golang") {
        return None;
    }
    let mut parts = tag.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images() {
        assert_eq!(
            split_image("localhost:5000/app:1.2"),
            ("localhost:5000/app".into(), "1.2".into())
        );
        assert_eq!(
            split_image("golang@sha256:ab"),
            ("golang".into(), "".into())
        );
        assert_eq!(golang_tag_version("golang:1.23-alpine"), Some((1, 23)));
        assert_eq!(golang_tag_version("golang"), None);
        assert_eq!(
            libc_of("gcr.io/distroless/static-debian12:nonroot"),
            Libc::None
        );
        assert_eq!(libc_of("gcr.io/distroless/base-debian12"), Libc::Glibc);
        assert_eq!(libc_of("alpine:3.20"), Libc::Musl);
        assert_eq!(libc_of("golang:1.22-alpine"), Libc::Musl);
    }
}
