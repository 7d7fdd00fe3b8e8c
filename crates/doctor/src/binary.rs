//! The Go binary as a file: how it is linked and what it ships.

use boxwise_box::units;
use boxwise_goprog::Linkage;

use crate::facts::Facts;
use crate::finding::{Finding, FindingId, Severity, finding};

/// `dynamic-binary`: needs a loader that scratch and distroless/static images lack.
pub(crate) fn dynamic(f: &Facts, out: &mut Vec<Finding>) {
    let Some(b) = f.binary else { return };
    if b.linkage == Linkage::Dynamic {
        let mut evidence = Vec::new();
        if let Some(i) = &b.interpreter {
            evidence.push(format!("interpreter {i}"));
        }
        if !b.needed.is_empty() {
            evidence.push(format!("needs {}", b.needed.join(", ")));
        }
        out.push(finding(
            FindingId::DynamicBinary,
            Severity::Warning,
            format!("{} is dynamically linked: it will not start FROM scratch or distroless/static", b.file.display()),
            evidence,
            "build with CGO_ENABLED=0 (or `-ldflags '-linkmode external -extldflags -static'` when cgo is needed), or use a base image with the libc it needs".into(),
        ));
    }
}

/// `debug-info-shipped`.
pub(crate) fn debug_info(f: &Facts, out: &mut Vec<Finding>) {
    let Some(b) = f.binary else { return };
    let debug = b.debug_size();
    if debug > 0 && b.file_size > 0 {
        let share = 100.0 * debug as f64 / b.file_size as f64;
        out.push(finding(
            FindingId::DebugInfoShipped,
            Severity::Info,
            format!(
                "debug info is {}% of the file ({})",
                units::decimal(share, 0),
                units::bytes(debug)
            ),
            vec![format!(
                "DWARF {}, symbol table {}, file {}",
                units::bytes(b.dwarf_size),
                units::bytes(b.symtab_size),
                units::bytes(b.file_size)
            )],
            "build with `go build -ldflags='-s -w'` (keep an unstripped copy for profiling)".into(),
        ));
    }
}
