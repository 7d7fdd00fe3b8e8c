//! One module per cgroup controller, each knowing its v1 and v2 file names and how to read
//! them (after youki's libcgroups): the probe reads through them, `lab` writes through them.

pub(crate) mod controller;
pub mod cpu;
pub mod cpuset;
pub mod io;
pub mod memory;
pub mod pids;

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::host::Host;
use crate::layout::CgroupDir;

pub use controller::{Controller, V2_DOMAIN};

/// Parse `dir/name` with `parser`, if the file exists.
pub(crate) fn file<T>(
    host: &Host,
    dir: &Path,
    name: &str,
    parser: impl FnOnce(&str) -> std::result::Result<T, crate::ParseError>,
) -> Result<Option<T>> {
    host.parse(&dir.join(name), parser)
}

/// The lowest limit in file `name` over the levels, with where it was found.
pub(crate) fn lowest_over_levels(
    host: &Host,
    d: &CgroupDir,
    name: &str,
    parser: fn(&str) -> std::result::Result<Option<u64>, crate::ParseError>,
) -> Result<Option<(u64, PathBuf)>> {
    let mut best: Option<(u64, PathBuf)> = None;
    for level in d.levels() {
        if let Some(Some(v)) = file(host, &level, name, parser)?
            && best.as_ref().is_none_or(|(b, _)| v < *b)
        {
            best = Some((v, level.join(name)));
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_names_agree() {
        let mut names = Controller::ALL.map(Controller::name);
        names.sort();
        assert_eq!(names, Controller::ALL.map(Controller::name));
        assert_eq!(
            serde_json::to_string(&Controller::Cpuacct).unwrap(),
            "\"cpuacct\""
        );
    }
}
