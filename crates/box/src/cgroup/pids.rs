//! The pids controller: the same file names on v1 and v2.

use super::{Controller, file, lowest_over_levels};
use crate::error::Result;
use crate::host::Host;
use crate::layout::Layout;
use crate::model::PidsInfo;
use crate::parse::cgroupfs;

pub const MAX: &str = "pids.max";
pub const CURRENT: &str = "pids.current";
/// `max` counts forks and clones refused by `pids.max`.
pub const EVENTS: &str = "pids.events";
/// Only on newer kernels.
pub const PEAK: &str = "pids.peak";

pub(crate) fn read(host: &Host, layout: &Layout, full: bool) -> Result<PidsInfo> {
    let mut info = PidsInfo {
        max: None,
        max_source: None,
        current: None,
    };
    if let (true, Some(d)) = (full, layout.controller(Controller::Pids)) {
        if let Some((max, source)) = lowest_over_levels(host, d, MAX, cgroupfs::max_or_integer)? {
            info.max = Some(max);
            info.max_source = Some(source);
        }
        info.current = file(host, &d.dir, CURRENT, cgroupfs::integer)?;
    }
    Ok(info)
}
