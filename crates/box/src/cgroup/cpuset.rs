//! The cpuset controller: which CPUs (and memory nodes) a cgroup may use.

use std::path::Path;

use super::file;
use crate::error::Result;
use crate::host::Host;
use crate::layout::{CgroupDir, Hierarchy};
use crate::model::CpuSetInfo;
use crate::parse::CpuList;

/// The CPUs asked for (both versions).
pub const CPUS: &str = "cpuset.cpus";
/// The memory nodes; v1 refuses tasks until it is set.
pub const MEMS: &str = "cpuset.mems";

/// The CPUs a cgroup really gets, after its parents' limits.
pub fn effective_cpus_file(h: Hierarchy) -> &'static str {
    h.pick("cpuset.effective_cpus", "cpuset.cpus.effective")
}

/// A CPU list and the file it came from.
pub(crate) fn cpu_set(cpus: CpuList, source: &Path) -> CpuSetInfo {
    CpuSetInfo {
        count: cpus.count(),
        cpus,
        source: source.to_path_buf(),
    }
}

/// The effective cpuset: v1 keeps it in every cgroup; on v2 the file exists only where the
/// cpuset controller is enabled, so take the nearest level that has it.
pub(crate) fn read(host: &Host, d: &CgroupDir) -> Result<Option<CpuSetInfo>> {
    let name = effective_cpus_file(d.hierarchy);
    for level in d.levels() {
        if let Some(cpus) = file(host, &level, name, CpuList::parse)?
            && !cpus.is_empty()
        {
            return Ok(Some(cpu_set(cpus, &level.join(name))));
        }
    }
    Ok(None)
}
