//! `boxwise exec`: compute GOMAXPROCS/GOMEMLIMIT, then replace this process with the
//! command (execve: same PID, so it can be PID 1 in a container). Kept lean: it reads only
//! the limit files and the program's build info, and a failed detection never stops the
//! program from starting.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use boxwise_box::host::Host;
use boxwise_box::plan::{self, EnvPlan};
use boxwise_box::policy;
use boxwise_box::policy::GoRuntime;
use boxwise_box::probe::{self, Detail, Target};
use boxwise_goprog::BuildFacts;

use super::settings;
use crate::cli::ExecArgs;

pub fn run(args: ExecArgs) -> anyhow::Result<ExitCode> {
    let resolved = settings::resolve(&args.policy);
    let mut warnings = resolved.warnings;
    if let Some(root) = &args.root {
        super::settings::check_root(root)?;
    }
    let host = args.root.as_ref().map_or_else(Host::live, Host::new);
    let own_env = settings::own_go_env();
    let target = Target {
        pid: None,
        detail: Detail::Limits,
        own_env: Some(own_env.clone()),
    };

    // The file execvp will run, found once: its build info and its ELF header are read.
    let file = args
        .command
        .first()
        .and_then(|p| resolve_program(p, std::env::var_os("PATH")));
    let plan = match probe::probe(&host, &target) {
        Ok(b) => {
            warnings.extend(b.warnings.iter().cloned());
            let rec = policy::recommend(&b, &resolved.options);
            let runtime = file
                .as_deref()
                .and_then(|f| program_runtime(f, own_env.godebug.as_deref()));
            let handover = plan::handover(&b, &rec, runtime.as_ref());
            Some(plan::plan(&own_env, &rec, &handover))
        }
        Err(e) if args.strict => bail!("cannot read the box's limits: {e}"),
        Err(e) => {
            warnings.push(format!(
                "cannot read the box's limits ({e}); starting the program unchanged"
            ));
            None
        }
    };

    // --gomaxprocs/--gomemlimit win over detection and the environment.
    let mut plan = plan;
    for (key, value) in [
        ("GOMAXPROCS", args.gomaxprocs.map(|n| n.to_string())),
        ("GOMEMLIMIT", args.gomemlimit.map(|b| b.to_string())),
    ] {
        if let Some(value) = value {
            override_var(plan.get_or_insert_with(EnvPlan::default), key, value);
        }
    }

    if args.strict && !warnings.is_empty() {
        bail!("{}", warnings.join("; "));
    }
    for w in &warnings {
        eprintln!("boxwise: warning: {w}");
    }
    if let Some(p) = &plan {
        for problem in &p.problems {
            eprintln!("boxwise: {problem}");
        }
        if args.strict && !p.problems.is_empty() {
            return Ok(ExitCode::from(1));
        }
    }
    if args.dry_run {
        if !args.command.is_empty() {
            eprintln!(
                "boxwise: --dry-run: not running the command; these are the settings it would get"
            );
        }
        print!("{}", export_lines(plan.as_ref()));
        return Ok(ExitCode::SUCCESS);
    }
    if let (Some(p), false) = (&plan, args.quiet) {
        eprintln!("boxwise: {}", p.summary());
    }

    let (program, rest) = args
        .command
        .split_first()
        .expect("clap requires CMD without --dry-run");
    // execvp would run a foreign or cut-short ELF through /bin/sh as a script.
    if let Some(why) = file.as_deref().and_then(boxwise_box::host::foreign_elf) {
        eprintln!("boxwise: cannot run {why}");
        return Ok(ExitCode::from(126));
    }
    let mut command = std::process::Command::new(program);
    command.args(rest);
    for (k, v) in plan.iter().flat_map(|p| &p.set) {
        command.env(k, v);
    }
    // exec only returns on failure.
    let err = command.exec();
    let Some(errno) = err.raw_os_error() else {
        eprintln!("boxwise: cannot run {}: {err}", program.to_string_lossy());
        return Ok(ExitCode::from(126));
    };
    let path = std::path::Path::new(program);
    eprintln!(
        "boxwise: cannot run {}",
        boxwise_box::host::exec_problem(path, errno)
    );
    Ok(ExitCode::from(boxwise_box::host::exec_status(errno)))
}

/// The Go runtime of the program execvp would run, with the GODEBUG it inherits. `None`
/// for anything unreadable or not Go (a script, a missing file): then GOMAXPROCS is set as
/// for any program, and quietly, since the exec itself reports a missing program.
fn program_runtime(file: &Path, godebug: Option<&str>) -> Option<GoRuntime> {
    BuildFacts::read(file).ok()?.runtime(godebug)
}

/// execvp's search: a name with a slash is a path; otherwise the first executable regular
/// file in PATH (empty entries mean the current directory; glibc's default when unset).
pub(crate) fn resolve_program(program: &OsStr, path: Option<OsString>) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.as_bytes().contains(&b'/') {
        return Some(PathBuf::from(program));
    }
    let path = path.unwrap_or_else(|| "/bin:/usr/bin".into());
    path.as_bytes()
        .split(|&b| b == b':')
        .map(|dir| match dir {
            b"" => Path::new(".").join(program),
            d => Path::new(OsStr::from_bytes(d)).join(program),
        })
        .find(|f| {
            f.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Shell lines for `eval "$(boxwise exec --dry-run)"`: what would be set (with why, when
/// the program's own runtime would get GOMAXPROCS wrong), and what is kept or left unset.
/// Set `key` to `value` as asked on the command line, replacing what the plan would do.
fn override_var(p: &mut EnvPlan, key: &'static str, value: String) {
    let flag = format!("--{}", key.to_ascii_lowercase());
    let ours = |text: &String| text.starts_with(key);
    p.set.retain(|(k, _)| *k != key);
    p.notes.retain(|n| !ours(n));
    p.comments.retain(|n| !ours(n));
    p.problems.retain(|n| !n.contains(key));
    if key == "GOMAXPROCS" {
        p.gomaxprocs_why = None;
    }
    p.notes.push(format!("{key}={value} ({flag})"));
    p.set.push((key, value));
}

fn export_lines(plan: Option<&EnvPlan>) -> String {
    let Some(p) = plan else {
        return "# boxwise: limits unknown, nothing to set\n".into();
    };
    let mut out = String::new();
    for (k, v) in &p.set {
        match (&p.gomaxprocs_why, *k) {
            (Some(why), "GOMAXPROCS") => out.push_str(&format!("export {k}={v}  # {why}\n")),
            _ => out.push_str(&format!("export {k}={v}\n")),
        }
    }
    for note in &p.comments {
        out.push_str(&format!("# {note}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_execvp() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("a")).unwrap();
        std::fs::create_dir(d.join("b")).unwrap();
        std::fs::write(d.join("a/prog"), "").unwrap(); // not executable: skipped
        std::fs::write(d.join("b/prog"), "").unwrap();
        std::fs::set_permissions(d.join("b/prog"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir(d.join("b/dir")).unwrap();
        let path: OsString = format!("{}:{}", d.join("a").display(), d.join("b").display()).into();
        assert_eq!(
            resolve_program(OsStr::new("prog"), Some(path.clone())),
            Some(d.join("b/prog"))
        );
        assert_eq!(resolve_program(OsStr::new("dir"), Some(path.clone())), None);
        assert_eq!(resolve_program(OsStr::new("none"), Some(path)), None);
        assert_eq!(
            resolve_program(OsStr::new("./x/y"), None),
            Some(PathBuf::from("./x/y"))
        );
        assert_eq!(
            resolve_program(OsStr::new("sh"), None),
            Some(PathBuf::from("/bin/sh"))
        );
        assert_eq!(resolve_program(OsStr::new(""), None), None);
    }
}
