//! Container-fitness notes about a binary: pure judgements over [`GoBinary`] facts.

use serde::Serialize;

use crate::{GoBinary, Libc, Linkage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Info,
}

/// One note: a stable id, its severity and one line of advice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub id: &'static str,
    pub severity: Severity,
    pub text: String,
}

/// Debug info below this share of the file is not worth a note.
const DEBUG_NOTE_PERCENT: f64 = 5.0;

pub fn for_binary(b: &GoBinary) -> Vec<Note> {
    let mut notes = Vec::new();
    let mut add = |id, severity, text: String| notes.push(Note { id, severity, text });
    let version = match b.go_release() {
        Some((maj, min)) => format!("Go {maj}.{min}"),
        None => b.go_version.clone(),
    };

    match b.go_release() {
        Some(r) if r < (1, 25) => add(
            "go-not-container-aware",
            Severity::Warning,
            format!(
                "{version}: GOMAXPROCS is not container-aware; run under `boxwise exec` or upgrade"
            ),
        ),
        Some(_) if !b.container_aware_gomaxprocs() => add(
            "go-not-container-aware",
            Severity::Warning,
            format!(
                "{version}: DefaultGODEBUG sets containermaxprocs=0 (go.mod says go 1.24 or \
                 lower), so GOMAXPROCS ignores the CPU limit; raise the go line, add \
                 `//go:debug containermaxprocs=1`, or run under `boxwise exec`"
            ),
        ),
        Some(_) if !b.updates_gomaxprocs() => add(
            "gomaxprocs-not-updated",
            Severity::Info,
            format!(
                "{version}: DefaultGODEBUG sets updatemaxprocs=0: GOMAXPROCS follows the CPU \
                 limit at start-up only, not when it changes"
            ),
        ),
        Some(_) => {}
        None => add(
            "go-version-unknown",
            Severity::Info,
            format!("unrecognised Go version {:?}", b.go_version),
        ),
    }
    if b.go_release().is_some_and(|r| r < (1, 19)) {
        add(
            "gomemlimit-unsupported",
            Severity::Warning,
            format!(
                "{version}: GOMEMLIMIT is ignored (it needs Go 1.19+); only GOGC can bound the heap"
            ),
        );
    }
    if b.linkage == Linkage::Dynamic {
        let what = match b.libc {
            Some(Libc::Other) | None => "dynamically linked".to_string(),
            Some(libc) => format!("dynamically linked against {libc}"),
        };
        let mut libs: Vec<&str> = b.interpreter.iter().map(String::as_str).collect();
        libs.extend(b.needed.iter().map(String::as_str));
        add(
            "dynamic-binary",
            Severity::Warning,
            format!(
                "{what}: will not start FROM scratch or distroless/static (needs {}); build with \
                 CGO_ENABLED=0 or ship the libraries",
                libs.join(", ")
            ),
        );
    }
    let debug = b.debug_size();
    if debug > 0 && b.file_size > 0 {
        let pct = debug as f64 * 100.0 / b.file_size as f64;
        if pct >= DEBUG_NOTE_PERCENT {
            add(
                "debug-info-shipped",
                Severity::Info,
                format!(
                    "debug info is {pct:.0}% of the file ({}); build with -ldflags='-s -w' to drop it",
                    human_bytes(debug)
                ),
            );
        }
    }
    notes.sort_by_key(|n| n.severity);
    notes
}

/// `12.3 MiB`, `512 KiB`, `900 B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if v >= 100.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_units() {
        assert_eq!(human_bytes(900), "900 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(300 * 1024 * 1024), "300 MiB");
    }
}
