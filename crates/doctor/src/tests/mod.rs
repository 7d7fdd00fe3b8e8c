//! Unit tests: every fixture tree to its exact findings, then each rule at its threshold.
//! Expected numbers are worked out by hand from the fixture files (shown in comments), never
//! recomputed with the policy the code uses.

mod fixtures;
mod rules;

use std::path::Path;

use boxwise_box::host::Host;
use boxwise_box::model::BoxInfo;
use boxwise_box::policy::{self, Options, Recommendation};
use boxwise_box::probe::{self, Detail, Target};
use boxwise_goprog::{BlobFormat, GoBinary, Linkage};

use crate::{Facts, Finding, ProfileFacts, Severity};

/// The box of a fixture tree under `tests/fixtures/`, as `doctor --root` probes it.
fn fixture(name: &str) -> BoxInfo {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name);
    let target = Target {
        pid: None,
        detail: Detail::Full,
        own_env: None,
    };
    probe::probe(&Host::new(root), &target).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The facts of one case; `rec` is always the default policy's (go125, ratio 0.9).
struct Case {
    info: BoxInfo,
    rec: Recommendation,
    binary: Option<GoBinary>,
    profile: Option<ProfileFacts>,
    oom_history: Option<boxwise_oom::History>,
    syscalls: Option<crate::SyscallFacts>,
}

impl Case {
    fn new(info: BoxInfo) -> Case {
        let rec = policy::recommend(&info, &Options::default());
        Case {
            info,
            rec,
            binary: None,
            profile: None,
            oom_history: None,
            syscalls: None,
        }
    }

    fn of(name: &str) -> Case {
        Case::new(fixture(name))
    }

    /// The same box with the Go variables set (`GOMAXPROCS=4`, ...); the recommendation
    /// does not depend on them.
    fn env(mut self, pairs: &[(&str, &str)]) -> Case {
        self.info.go_env = boxwise_box::goenv::GoEnv::from_pairs(pairs.iter().copied());
        self
    }

    fn binary(mut self, b: GoBinary) -> Case {
        self.binary = Some(b);
        self
    }

    fn facts(&self) -> Facts<'_> {
        Facts {
            info: &self.info,
            rec: &self.rec,
            binary: self.binary.as_ref(),
            env_owner: "the test".into(),
            profile: self.profile.as_ref(),
            oom_history: self.oom_history.as_ref(),
            syscalls: self.syscalls.as_ref(),
        }
    }

    /// What one rule function adds.
    fn rule(&self, rule: fn(&Facts, &mut Vec<Finding>)) -> Vec<Finding> {
        let mut out = Vec::new();
        rule(&self.facts(), &mut out);
        out
    }

    fn diagnose(&self) -> Vec<Finding> {
        crate::diagnose(&self.facts())
    }
}

fn ids(findings: &[Finding]) -> Vec<(&'static str, Severity)> {
    findings
        .iter()
        .map(|f| (f.id.as_str(), f.severity))
        .collect()
}

/// The one finding `id` in `findings`.
fn one<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    let mut it = findings.iter().filter(|f| f.id.as_str() == id);
    let f = it
        .next()
        .unwrap_or_else(|| panic!("no {id} in {:?}", ids(findings)));
    assert!(it.next().is_none(), "two {id}");
    f
}

/// A static, stripped amd64 Go binary of `version`, with `DefaultGODEBUG` when given.
fn go_binary(version: &str, default_godebug: Option<&str>) -> GoBinary {
    GoBinary {
        file: "/app".into(),
        file_size: 8 << 20,
        go_version: version.into(),
        path: "example.com/app".into(),
        main: None,
        deps: Vec::new(),
        settings: default_godebug
            .map(|d| ("DefaultGODEBUG".to_string(), d.to_string()))
            .into_iter()
            .collect(),
        buildinfo_format: BlobFormat::Inline,
        class_bits: 64,
        big_endian: false,
        machine: "amd64".into(),
        position_independent: false,
        linkage: Linkage::Static,
        interpreter: None,
        needed: Vec::new(),
        libc: None,
        has_symtab: false,
        symtab_size: 0,
        dwarf_size: 0,
        sections: Vec::new(),
        go_build_id: None,
        gnu_build_id: None,
    }
}
