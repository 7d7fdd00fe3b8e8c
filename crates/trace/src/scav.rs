//! One `GODEBUG=scavtrace=1` line (`printScavTrace` in `runtime/mgcscavenge.go`):
//!
//! ```text
//! go1.19:  scav 17336 KiB work, 82472 KiB total, 99% util (forced)
//! go1.21+: scav 0 KiB work (bg), 24120 KiB work (eager), 121192 KiB now, 95% util (forced)
//! ```
//!
//! Either may end with ` (forced)` or ` [controller reset]`. The docs say `KiB total` for
//! the newer form too; the code prints `KiB now`, and both are accepted.

use serde::Serialize;

use crate::cursor::Cursor;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScavLine {
    /// 1-based line number in the input.
    pub line: usize,
    /// Memory returned to the OS since the previous line (background plus eager).
    pub work_kib: u64,
    /// The eager part of `work_kib` (Go 1.21+ lines only).
    pub work_eager_kib: Option<u64>,
    /// Address space currently returned to the OS.
    pub released_kib: u64,
    /// Share of the unscavenged heap that is in use.
    pub util_percent: u64,
    /// Forced by `debug.FreeOSMemory()`.
    pub forced: bool,
    pub controller_reset: bool,
}

/// Parses a scavtrace line that starts at `scav `. `None` when it is not one.
pub fn parse(s: &str, line: usize) -> Option<ScavLine> {
    let mut c = Cursor::new(s);
    c.expect("scav ")?;
    let first = c.uint()?;
    let (work_kib, work_eager_kib) = if c.eat(" KiB work (bg), ") {
        let eager = c.uint()?;
        c.expect(" KiB work (eager), ")?;
        (first.checked_add(eager)?, Some(eager))
    } else {
        c.expect(" KiB work, ")?;
        (first, None)
    };
    let released_kib = c.uint()?;
    if !(c.eat(" KiB now, ") || c.eat(" KiB total, ")) {
        return None;
    }
    let util_percent = c.uint()?;
    c.expect("% util")?;
    let forced = c.eat(" (forced)");
    let controller_reset = !forced && c.eat(" [controller reset]");
    Some(ScavLine {
        line,
        work_kib,
        work_eager_kib,
        released_kib,
        util_percent,
        forced,
        controller_reset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms() {
        let old = parse("scav 17336 KiB work, 82472 KiB total, 99% util (forced)", 3).unwrap();
        assert_eq!(
            (
                old.work_kib,
                old.work_eager_kib,
                old.released_kib,
                old.util_percent,
                old.forced
            ),
            (17336, None, 82472, 99, true)
        );
        let new = parse("scav 52064 KiB work (bg), 10 KiB work (eager), 50200 KiB now, 48% util [controller reset]", 4).unwrap();
        assert_eq!(
            (
                new.work_kib,
                new.work_eager_kib,
                new.released_kib,
                new.util_percent,
                new.forced,
                new.controller_reset
            ),
            (52074, Some(10), 50200, 48, false, true)
        );
        assert!(parse("scav 1 KiB work (bg), 2 KiB now, 3% util", 1).is_none());
        assert!(parse("scavenger started", 1).is_none());
    }
}
