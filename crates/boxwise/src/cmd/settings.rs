//! Policy options from flags, then BOXWISE_* variables, then defaults. A bad variable is a
//! warning, not a failure: an ENTRYPOINT must not stop the service over it.

use std::path::PathBuf;

use boxwise_box::BoxInfo;
use boxwise_box::goenv::GoEnv;
use boxwise_box::host::Host;
use boxwise_box::policy::{self, CpuPolicy, MemoryRatio, Options, Recommendation};
use boxwise_box::probe::{self, Detail, Target};

use crate::cli::PolicyArgs;

pub struct Resolved {
    pub options: Options,
    /// Environment variables that could not be used, in words.
    pub warnings: Vec<String>,
}

pub fn resolve(args: &PolicyArgs) -> Resolved {
    resolve_with(args, |k| std::env::var(k).ok())
}

/// Everything a report command needs: the whole box of a process (boxwise itself unless
/// `pid`), read under `root`, and the Go settings that fit it. Policy warnings go to stderr.
pub fn full_box(
    args: &PolicyArgs,
    root: Option<&PathBuf>,
    pid: Option<u32>,
) -> anyhow::Result<(Host, BoxInfo, Recommendation)> {
    full_box_env(args, root, pid, None)
}

/// [`full_box`], with `env` as the Go environment to judge when given (an image's ENV:
/// the settings its service will start with) instead of the process's.
pub fn full_box_env(
    args: &PolicyArgs,
    root: Option<&PathBuf>,
    pid: Option<u32>,
    env: Option<GoEnv>,
) -> anyhow::Result<(Host, BoxInfo, Recommendation)> {
    let resolved = resolve(args);
    for w in &resolved.warnings {
        eprintln!("boxwise: warning: {w}");
    }
    if let Some(root) = root {
        check_root(root)?;
    }
    let host = root.map_or_else(Host::live, Host::new);
    let own_env = own_go_env();
    let target = Target {
        pid,
        detail: Detail::Full,
        own_env: Some(own_env),
    };
    let mut info = probe::probe(&host, &target)?;
    if let Some(env) = env {
        info.go_env = env;
    }
    let rec = policy::recommend(&info, &resolved.options);
    Ok((host, info, rec))
}

/// `--root` names a directory holding a machine's `/proc` and `/sys/fs/cgroup`; say so when
/// it does not, rather than failing on the first missing file.
pub fn check_root(root: &std::path::Path) -> anyhow::Result<()> {
    if !root.is_dir() {
        anyhow::bail!("--root {}: not a directory", root.display());
    }
    let missing: Vec<&str> = ["proc", "sys/fs/cgroup"]
        .into_iter()
        .filter(|d| !root.join(d).is_dir())
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "--root {}: no {} in it; --root expects a copy of a machine's /proc and \
             /sys/fs/cgroup (as in tests/fixtures/docker-v1), or a host's / mounted read-only",
            root.display(),
            missing.join(" or ")
        );
    }
    Ok(())
}

fn resolve_with(args: &PolicyArgs, env: impl Fn(&str) -> Option<String>) -> Resolved {
    let mut warnings = Vec::new();
    let mut from_env = |name: &str, parse: &dyn Fn(&str) -> Result<(), String>| -> Option<String> {
        let value = env(name)?;
        match parse(&value) {
            Ok(()) => Some(value),
            Err(e) => {
                warnings.push(format!("ignoring {name}={value:?}: {e}"));
                None
            }
        }
    };
    let cpu_policy = args.cpu_policy.or_else(|| {
        from_env("BOXWISE_CPU_POLICY", &|v| {
            v.parse::<CpuPolicy>().map(drop).map_err(|e| e.to_string())
        })?
        .parse()
        .ok()
    });
    let min_procs = args.min_procs.or_else(|| {
        let parse_min = |v: &str| match v.parse::<u32>() {
            Ok(n) if n >= 1 => Ok(()),
            _ => Err("expected a whole number of at least 1".to_string()),
        };
        from_env("BOXWISE_MIN_PROCS", &parse_min)?.parse().ok()
    });
    let memory_ratio = args.memory_ratio.or_else(|| {
        from_env("BOXWISE_MEMORY_RATIO", &|v| {
            v.parse::<MemoryRatio>()
                .map(drop)
                .map_err(|e| e.to_string())
        })?
        .parse()
        .ok()
    });
    Resolved {
        options: Options {
            cpu_policy: cpu_policy.unwrap_or_default(),
            min_procs,
            memory_ratio: memory_ratio.unwrap_or_default(),
        },
        warnings,
    }
}

/// boxwise's own Go variables. Variables that are not UTF-8 are skipped rather than
/// panicking, as `std::env::vars` would.
pub fn own_go_env() -> GoEnv {
    GoEnv::from_pairs(
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> PolicyArgs {
        PolicyArgs {
            cpu_policy: None,
            min_procs: None,
            memory_ratio: None,
        }
    }

    #[test]
    fn env_fills_what_flags_leave() {
        let r = resolve_with(&none(), |k| match k {
            "BOXWISE_CPU_POLICY" => Some("floor".into()),
            "BOXWISE_MEMORY_RATIO" => Some("0.75".into()),
            _ => None,
        });
        assert_eq!(r.options.cpu_policy, CpuPolicy::Floor);
        assert_eq!(r.options.memory_ratio.get(), 0.75);
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn flags_win_and_bad_env_warns() {
        let mut args = none();
        args.cpu_policy = Some(CpuPolicy::Ceil);
        let r = resolve_with(&args, |k| match k {
            "BOXWISE_CPU_POLICY" => Some("floor".into()),
            "BOXWISE_MEMORY_RATIO" => Some("1.5".into()),
            "BOXWISE_MIN_PROCS" => Some("0".into()),
            _ => None,
        });
        assert_eq!(r.options.cpu_policy, CpuPolicy::Ceil);
        assert_eq!(r.options.memory_ratio, MemoryRatio::DEFAULT);
        assert_eq!(r.options.min_procs, None);
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        assert!(r.warnings[1].contains("BOXWISE_MEMORY_RATIO=\"1.5\""));
    }
}
