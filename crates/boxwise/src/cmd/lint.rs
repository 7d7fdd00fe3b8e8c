//! `boxwise lint`: find and read the files (stdin for `-`), let the lint crate judge, render,
//! and with `--fix` write the safe edits back and print their diff.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use boxwise_lint::files::{self, FileKind, Source};
use boxwise_lint::{Config, Severity, all_rules, fix, lint_all, output};

use crate::cli::{LintArgs, LintFailOn, LintFormat};
use crate::report::lint as render;

const DEFAULT_CONFIG: &str = ".boxwise-lint.yaml";

pub fn run(args: LintArgs) -> anyhow::Result<ExitCode> {
    if args.list_rules {
        print!("{}", render::rules(&all_rules()));
        return Ok(ExitCode::SUCCESS);
    }
    let config = load_config(args.config.as_deref())?;

    let mut sources = Vec::new();
    let mut read_errors = Vec::new();
    for p in &args.paths {
        if p.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .take(files::MAX_FILE_BYTES + 1)
                .read_to_string(&mut text)
                .context("stdin: not readable as UTF-8 text")?;
            anyhow::ensure!(
                text.len() as u64 <= files::MAX_FILE_BYTES,
                "stdin: larger than {} MiB",
                files::MAX_FILE_BYTES >> 20
            );
            // An empty pipe is most often a generator that failed (`helm template ... |`):
            // passing it would turn that failure green.
            anyhow::ensure!(
                !text.trim().is_empty(),
                "stdin: empty: nothing to lint (did the command feeding it fail?)"
            );
            let kind = files::kind_of_text(&text);
            sources.push(Source {
                name: "-".into(),
                kind,
                text,
            });
            continue;
        }
        let found = files::discover(std::slice::from_ref(p))?;
        // A directory with nothing lintable is most often the wrong path; in CI a silent
        // "no findings" would hide that.
        anyhow::ensure!(
            !found.is_empty(),
            "{}: no Dockerfile, Compose file or Kubernetes YAML found under it",
            p.display()
        );
        for (path, kind) in found {
            match files::read(&path, kind) {
                Ok(s) => sources.push(s),
                Err(e) => read_errors.push(e),
            }
        }
    }

    let mut report = lint_all(&sources, &config);
    report.files += read_errors.len();
    report.errors.extend(read_errors);

    if args.fix {
        let fixed = apply_fixes(&sources, &config)?;
        if !fixed.is_empty() {
            print!("{fixed}");
        }
        // Judge what is left after the fixes.
        let after: Vec<Source> = sources
            .iter()
            .filter(|s| s.name != "-")
            .filter_map(|s| files::read(Path::new(&s.name), s.kind).ok())
            .collect();
        let mut again = lint_all(&after, &config);
        again.files = report.files;
        again.errors = report.errors.clone();
        report = again;
    }

    match args.format {
        LintFormat::Text => print!("{}", render::text(&report, args.wide)),
        LintFormat::Json => println!("{}", serde_json::to_string_pretty(&output::json(&report))?),
        LintFormat::Sarif => println!(
            "{}",
            serde_json::to_string_pretty(&output::sarif(&report, env!("CARGO_PKG_VERSION")))?
        ),
        LintFormat::Github => print!("{}", output::github(&report)),
    }
    if args.format == LintFormat::Text {
        for e in &report.errors {
            eprintln!("boxwise: {e}");
        }
    }

    let threshold = match args.fail_on {
        LintFailOn::Error => Some(Severity::Error),
        LintFailOn::Warning => Some(Severity::Warning),
        LintFailOn::Info => Some(Severity::Info),
        LintFailOn::Never => None,
    };
    let failed_findings = threshold.is_some_and(|t| report.worst().is_some_and(|w| w >= t));
    Ok(if failed_findings || !report.errors.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    let (path, explicit) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (Path::new(DEFAULT_CONFIG).to_path_buf(), false),
    };
    if !explicit && !path.exists() {
        return Ok(Config::default());
    }
    let src = files::read(&path, FileKind::Yaml).map_err(|e| anyhow::anyhow!("{e}"))?;
    Config::parse(&src.text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Write each file's safe edits and return the diffs.
fn apply_fixes(sources: &[Source], config: &Config) -> anyhow::Result<String> {
    let mut diffs = String::new();
    for s in sources {
        let edits: Vec<fix::Edit> = boxwise_lint::fix_edits(s, config)
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        if edits.is_empty() {
            continue;
        }
        let (new, _) = fix::apply(&s.text, &edits);
        if new == s.text {
            continue;
        }
        diffs.push_str(&fix::diff(&s.name, &s.text, &new));
        if s.name != "-" {
            std::fs::write(&s.name, &new).with_context(|| format!("{}: cannot write", s.name))?;
        }
    }
    Ok(diffs)
}
