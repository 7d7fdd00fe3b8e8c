//! `boxwise exec`: compute GOMAXPROCS/GOMEMLIMIT, then replace this process with the
//! command (execve: same PID, so it can be PID 1 in a container). Kept lean: it reads only
//! the limit files, and a failed detection never stops the program from starting.

use std::os::unix::process::CommandExt;
use std::process::ExitCode;

use anyhow::bail;
use boxwise_box::host::Host;
use boxwise_box::plan::{self, EnvPlan};
use boxwise_box::policy;
use boxwise_box::probe::{self, Detail, Target};

use super::settings;
use crate::cli::ExecArgs;

pub fn run(args: ExecArgs) -> anyhow::Result<ExitCode> {
    let resolved = settings::resolve(&args.policy);
    let mut warnings = resolved.warnings;
    let host = args.root.as_ref().map_or_else(Host::live, Host::new);
    let own_env = settings::own_go_env();
    let target = Target {
        pid: None,
        detail: Detail::Limits,
        own_env: Some(own_env.clone()),
    };

    let plan = match probe::probe(&host, &target) {
        Ok(b) => {
            warnings.extend(b.warnings.iter().cloned());
            Some(plan::plan(
                &own_env,
                &policy::recommend(&b, &resolved.options),
            ))
        }
        Err(e) if args.strict => bail!("cannot read the box's limits: {e}"),
        Err(e) => {
            warnings.push(format!(
                "cannot read the box's limits ({e}); starting the program unchanged"
            ));
            None
        }
    };

    if args.strict && !warnings.is_empty() {
        bail!("{}", warnings.join("; "));
    }
    for w in &warnings {
        eprintln!("boxwise: warning: {w}");
    }
    if let Some(p) = &plan {
        for problem in &p.problems {
            eprintln!("boxwise: error: {problem}");
        }
        if args.strict && !p.problems.is_empty() {
            return Ok(ExitCode::from(1));
        }
    }
    if args.dry_run {
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
    let mut command = std::process::Command::new(program);
    command.args(rest);
    for (k, v) in plan.iter().flat_map(|p| &p.set) {
        command.env(k, v);
    }
    // exec only returns on failure.
    let err = command.exec();
    eprintln!("boxwise: cannot run {:?}: {err}", program);
    let code = if err.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    };
    Ok(ExitCode::from(code))
}

/// Shell lines for `eval "$(boxwise exec --dry-run)"`: what would be set, and what is kept.
fn export_lines(plan: Option<&EnvPlan>) -> String {
    let Some(p) = plan else {
        return "# boxwise: limits unknown, nothing to set\n".into();
    };
    let mut out = String::new();
    for (k, v) in &p.set {
        out.push_str(&format!("export {k}={v}\n"));
    }
    for note in p
        .notes
        .iter()
        .filter(|n| n.contains("kept from the environment") || n.contains("unset"))
    {
        out.push_str(&format!("# {note}\n"));
    }
    out
}
