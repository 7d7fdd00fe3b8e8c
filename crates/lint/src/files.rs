//! Which files are lintable, what kind each is, and the `# boxwise:ignore=RULE` comments.
//! The only I/O of the crate lives here: walking directories and reading capped files.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Files larger than this are not read (no manifest or Dockerfile comes near it).
pub const MAX_FILE_BYTES: u64 = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Dockerfile,
    Compose,
    Kubernetes,
    /// YAML of unknown purpose (stdin): each document is judged by its shape.
    Yaml,
}

/// One file's text, ready to lint.
#[derive(Debug, Clone)]
pub struct Source {
    /// As given or found (`-` for stdin).
    pub name: String,
    pub kind: FileKind,
    pub text: String,
}

/// The kind a file name says, `None` for files lint does not read.
pub fn kind_of(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    if lower == "dockerfile"
        || lower == "containerfile"
        || lower.ends_with(".dockerfile")
        || lower.starts_with("dockerfile.")
        || lower.starts_with("containerfile.")
    {
        return Some(FileKind::Dockerfile);
    }
    let yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
    if yaml && (lower.starts_with("docker-compose") || lower.starts_with("compose")) {
        return Some(FileKind::Compose);
    }
    yaml.then_some(FileKind::Kubernetes)
}

/// The kind of text from stdin: a Dockerfile when its first instruction is one.
pub fn kind_of_text(text: &str) -> FileKind {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let word = first
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    if matches!(word.as_str(), "FROM" | "ARG") {
        FileKind::Dockerfile
    } else {
        FileKind::Yaml
    }
}

/// Files under `paths` (files as given, directories walked in name order, skipping hidden
/// directories, `vendor`, `node_modules` and `target`).
pub fn discover(paths: &[PathBuf]) -> Result<Vec<(PathBuf, FileKind)>, std::io::Error> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| with_path(p, e))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            // A file named on the command line is linted even with an odd name.
            let kind = kind_of(p).unwrap_or(FileKind::Dockerfile);
            out.push((p.clone(), kind));
        }
    }
    Ok(out)
}

fn with_path(p: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, FileKind)>) -> Result<(), std::io::Error> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| with_path(dir, e))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        let name = e.file_name().to_string_lossy().to_string();
        if ft.is_dir() {
            // A Helm chart's templates are not YAML until rendered: lint `helm template`'s
            // output on stdin instead.
            let chart_templates = name == "templates" && dir.join("Chart.yaml").exists();
            if !(name.starts_with('.')
                || chart_templates
                || matches!(name.as_str(), "vendor" | "node_modules" | "target"))
            {
                walk(&path, out)?;
            }
        } else if ft.is_file()
            && let Some(kind) = kind_of(&path)
        {
            out.push((path, kind));
        }
    }
    Ok(())
}

/// Read a regular file, at most [`MAX_FILE_BYTES`], as UTF-8.
pub fn read(path: &Path, kind: FileKind) -> Result<Source, crate::FileError> {
    let name = path.display().to_string();
    let err = |message: String| crate::FileError {
        file: name.clone(),
        line: None,
        column: None,
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if !meta.is_file() {
        return Err(err("not a regular file".into()));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(|e| err(e.to_string()))?
        .take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| err(format!("not readable as UTF-8 text: {e}")))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(err(format!(
            "larger than {} MiB; not linted",
            MAX_FILE_BYTES >> 20
        )));
    }
    Ok(Source { name, kind, text })
}

/// Lines carrying `boxwise:ignore=RULE[,RULE]` and the rules each names.
pub fn ignores(text: &str) -> Vec<(usize, Vec<String>)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let at = l.find("boxwise:ignore=")?;
            if !l[..at].contains('#') {
                return None;
            }
            let list = l[at + "boxwise:ignore=".len()..]
                .split_whitespace()
                .next()
                .unwrap_or("");
            Some((i + 1, list.split(',').map(str::to_string).collect()))
        })
        .collect()
}

/// A rule is ignored on `line` by a comment on that line or the line before.
pub fn ignored(ignores: &[(usize, Vec<String>)], line: usize, rule: &str) -> bool {
    ignores.iter().any(|(l, rules)| {
        (*l == line || *l + 1 == line) && rules.iter().any(|r| r == rule || r == "all")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let k = |n: &str| kind_of(Path::new(n));
        assert_eq!(k("Dockerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("api.Dockerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("Containerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("compose.yaml"), Some(FileKind::Compose));
        assert_eq!(k("docker-compose.prod.yml"), Some(FileKind::Compose));
        assert_eq!(k("deploy.yaml"), Some(FileKind::Kubernetes));
        assert_eq!(k("main.go"), None);
        assert_eq!(kind_of_text("# c\nFROM x\n"), FileKind::Dockerfile);
        assert_eq!(kind_of_text("apiVersion: v1\n"), FileKind::Yaml);
    }

    #[test]
    fn walk_finds_kinds_and_skips_chart_templates() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        for f in [
            "Dockerfile",
            "chart/Chart.yaml",
            "chart/templates/deploy.yaml",
            "k8s/app.yaml",
            "vendor/x/Dockerfile",
            ".git/a.yaml",
            "main.go",
            "compose.yaml",
        ] {
            std::fs::create_dir_all(p.join(f).parent().unwrap()).unwrap();
            std::fs::write(p.join(f), "x").unwrap();
        }
        let found: Vec<(String, FileKind)> = discover(&[p.to_path_buf()])
            .unwrap()
            .into_iter()
            .map(|(f, k)| (f.strip_prefix(p).unwrap().display().to_string(), k))
            .collect();
        assert_eq!(
            found,
            [
                ("Dockerfile".to_string(), FileKind::Dockerfile),
                ("chart/Chart.yaml".to_string(), FileKind::Kubernetes),
                ("compose.yaml".to_string(), FileKind::Compose),
                ("k8s/app.yaml".to_string(), FileKind::Kubernetes),
            ]
        );
    }

    #[test]
    fn ignore_comments() {
        let ig =
            ignores("FROM x\n# boxwise:ignore=a/b,c/d\nUSER root\nRUN x # boxwise:ignore=all\n");
        assert!(ignored(&ig, 3, "a/b"));
        assert!(ignored(&ig, 3, "c/d"));
        assert!(!ignored(&ig, 3, "e/f"));
        assert!(ignored(&ig, 4, "e/f"));
        assert!(!ignored(&ig, 1, "a/b"));
    }
}
