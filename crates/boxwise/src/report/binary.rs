//! `boxwise binary`: the readable summary and the JSON document for one Go binary.

use boxwise_goprog::notes::human_bytes;
use boxwise_goprog::{GoBinary, Linkage, Note, SectionSize};
use serde::Serialize;

use super::Section;

/// Sections listed in the text report, largest first.
const TOP_SECTIONS: usize = 12;

/// The JSON document: the binary's facts plus derived answers and the notes.
#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    binary: &'a GoBinary,
    go_minor: Option<u32>,
    cgo_enabled: Option<bool>,
    trimpath: bool,
    stripped: bool,
    default_godebug: Option<&'a str>,
    container_aware_gomaxprocs: bool,
    updates_gomaxprocs: bool,
    supports_gomemlimit: bool,
    /// DWARF plus symbol table bytes.
    debug_size: u64,
    /// `debug_size` as a percentage of the file.
    debug_percent: f64,
    notes: Vec<Note>,
}

pub fn json(bin: &GoBinary) -> serde_json::Result<String> {
    let doc = Report {
        binary: bin,
        go_minor: bin.go_minor(),
        cgo_enabled: bin.cgo_enabled(),
        trimpath: bin.trimpath(),
        stripped: bin.stripped(),
        default_godebug: bin.default_godebug(),
        container_aware_gomaxprocs: bin.container_aware_gomaxprocs(),
        updates_gomaxprocs: bin.updates_gomaxprocs(),
        supports_gomemlimit: bin.supports_gomemlimit(),
        debug_size: bin.debug_size(),
        debug_percent: round1(percent(bin.debug_size(), bin.file_size)),
        notes: bin.notes(),
    };
    serde_json::to_string_pretty(&doc)
}

pub fn render(bin: &GoBinary) -> String {
    let mut out = String::new();
    summary_section(bin).render(&mut out);
    if let Some(s) = sizes_section(bin) {
        out.push('\n');
        s.render(&mut out);
    }
    out.push('\n');
    out.push_str(&notes_text(bin));
    out
}

/// What the binary is: version, module, build, and how it behaves in a container.
fn summary_section(bin: &GoBinary) -> Section {
    let mut s = Section::new(bin.file.display().to_string());
    s.row("Go", bin.go_version.as_str(), "");
    if !bin.path.is_empty() {
        s.row("main package", bin.path.as_str(), "");
    }
    if let Some(m) = &bin.main {
        let version = match &m.replace {
            Some(r) => format!("{} => {} {}", m.version, r.path, r.version),
            None => m.version.clone(),
        };
        s.row("module", format!("{} {}", m.path, version).trim_end(), "");
    }
    let replaced = bin.deps.iter().filter(|d| d.replace.is_some()).count();
    let deps = match replaced {
        0 => format!("{}", bin.deps.len()),
        n => format!("{} ({n} replaced)", bin.deps.len()),
    };
    s.row("dependencies", deps, "");
    let cgo = match bin.cgo_enabled() {
        Some(true) => "CGO_ENABLED=1",
        Some(false) => "CGO_ENABLED=0",
        None => "not recorded",
    };
    s.row("cgo", cgo, "");
    let flags = build_flags(bin);
    if !flags.is_empty() {
        s.row("build", flags.join(" "), "");
    }
    if let Some(rev) = revision_line(bin) {
        s.row("revision", rev, "");
    }
    s.row("DefaultGODEBUG", godebug_line(bin), "");
    s.row("GOMAXPROCS", gomaxprocs_line(bin), "");
    s.row(
        "GOMEMLIMIT",
        if bin.supports_gomemlimit() {
            "honoured (Go 1.19+)"
        } else {
            "ignored (needs Go 1.19+)"
        },
        "",
    );
    s.row("linking", linking_line(bin), "");
    s.row(
        "machine",
        format!(
            "{} ({}-bit {}-endian{})",
            bin.machine,
            bin.class_bits,
            if bin.big_endian { "big" } else { "little" },
            if bin.position_independent {
                ", PIE"
            } else {
                ""
            }
        ),
        "",
    );
    let symbols = if bin.has_symtab {
        format!("present ({})", human_bytes(bin.symtab_size))
    } else {
        "stripped".to_string()
    };
    s.row("symbol table", symbols, "");
    let dwarf = if bin.dwarf_size > 0 {
        format!(
            "{} ({:.0}% of the file)",
            human_bytes(bin.dwarf_size),
            percent(bin.dwarf_size, bin.file_size)
        )
    } else {
        "none".to_string()
    };
    s.row("DWARF", dwarf, "");
    s.row(
        "file size",
        format!("{} ({} bytes)", human_bytes(bin.file_size), bin.file_size),
        "",
    );
    if let Some(id) = &bin.go_build_id {
        s.row("Go build ID", id.as_str(), "");
    }
    if let Some(id) = &bin.gnu_build_id {
        s.row("GNU build ID", id.as_str(), "");
    }
    s
}

/// The build settings worth a glance, in `go build`'s own spelling.
fn build_flags(bin: &GoBinary) -> Vec<String> {
    let mut flags = Vec::new();
    for key in [
        "-buildmode",
        "-compiler",
        "GOOS",
        "GOARCH",
        "GOAMD64",
        "GOARM",
        "GOARM64",
        "GO386",
    ] {
        if let Some(v) = bin.setting(key) {
            flags.push(format!("{key}={v}"));
        }
    }
    if bin.trimpath() {
        flags.push("-trimpath".into());
    }
    for key in ["-race", "-msan", "-asan", "-cover"] {
        if bin.setting(key) == Some("true") {
            flags.push(key.to_string());
        }
    }
    if let Some(tags) = bin.setting("-tags") {
        flags.push(format!("-tags={tags}"));
    }
    if let Some(v) = bin.setting("-ldflags") {
        flags.push(format!("-ldflags={v:?}"));
    }
    flags
}

fn revision_line(bin: &GoBinary) -> Option<String> {
    let rev = bin.setting("vcs.revision")?;
    let dirty = if bin.setting("vcs.modified") == Some("true") {
        " (modified)"
    } else {
        ""
    };
    let time = bin
        .setting("vcs.time")
        .map(|t| format!(" at {t}"))
        .unwrap_or_default();
    Some(format!("{rev}{time}{dirty}"))
}

/// The largest sections in the file, the rest summed; none for a file without sections.
fn sizes_section(bin: &GoBinary) -> Option<Section> {
    let mut largest: Vec<&SectionSize> = bin.sections.iter().filter(|s| s.file_size > 0).collect();
    if largest.is_empty() {
        return None;
    }
    largest.sort_by(|a, b| b.file_size.cmp(&a.file_size).then(a.name.cmp(&b.name)));
    let mut s = Section::new("Size by section (in the file)");
    for sec in largest.iter().take(TOP_SECTIONS) {
        s.row(
            &sec.name,
            human_bytes(sec.file_size),
            format!("{:.1}%", percent(sec.file_size, bin.file_size)),
        );
    }
    let rest: u64 = largest.iter().skip(TOP_SECTIONS).map(|s| s.file_size).sum();
    if rest > 0 {
        let n = largest.len() - TOP_SECTIONS;
        s.row(
            &format!("({n} more)"),
            human_bytes(rest),
            format!("{:.1}%", percent(rest, bin.file_size)),
        );
    }
    Some(s)
}

fn notes_text(bin: &GoBinary) -> String {
    let notes = bin.notes();
    if notes.is_empty() {
        return "Notes\n  none: fit for a container as built\n".into();
    }
    let mut out = String::from("Notes\n");
    for n in notes {
        let level = match n.severity {
            boxwise_goprog::Severity::Warning => "warning",
            boxwise_goprog::Severity::Info => "info",
        };
        out.push_str(&format!("  {level}: {}\n", n.text));
    }
    out
}

/// GODEBUG keys that change behaviour inside a container, shown by name in the summary.
const CONTAINER_GODEBUG: [&str; 5] = [
    "containermaxprocs",
    "updatemaxprocs",
    "madvdontneed",
    "disablethp",
    "asyncpreemptoff",
];

fn godebug_line(bin: &GoBinary) -> String {
    let Some(all) = bin.default_godebug().filter(|v| !v.is_empty()) else {
        return "(none)".into();
    };
    godebug_words(all)
}

/// The container keys of a DefaultGODEBUG, and how many others there are; "N keys, none
/// about containers" when there is nothing to show first.
fn godebug_words(all: &str) -> String {
    let pairs: Vec<&str> = all.split(',').filter(|p| !p.is_empty()).collect();
    let shown: Vec<&str> = pairs
        .iter()
        .copied()
        .filter(|p| {
            CONTAINER_GODEBUG
                .iter()
                .any(|k| p.split('=').next() == Some(k))
        })
        .collect();
    let others = pairs.len() - shown.len();
    let s = if others == 1 { "" } else { "s" };
    if shown.is_empty() {
        return format!("{others} key{s}, none about containers (--json lists them)");
    }
    let mut line = shown.join(",");
    if others > 0 {
        line.push_str(&format!(" (+{others} other key{s}; --json lists them)"));
    }
    line
}

fn gomaxprocs_line(bin: &GoBinary) -> String {
    match bin.go_release() {
        None => "unknown Go version".into(),
        Some(r) if r < (1, 25) => "not container-aware (Go < 1.25 uses every CPU it sees)".into(),
        Some(_) if !bin.container_aware_gomaxprocs() => {
            "not container-aware: DefaultGODEBUG containermaxprocs=0".into()
        }
        Some(_) if !bin.updates_gomaxprocs() => {
            "follows the CPU limit at start-up (updatemaxprocs=0)".into()
        }
        Some(_) => "follows the cgroup CPU limit (Go 1.25+)".into(),
    }
}

fn linking_line(bin: &GoBinary) -> String {
    match bin.linkage {
        Linkage::Static => "static (runs FROM scratch)".into(),
        Linkage::StaticPie => "static-pie (runs FROM scratch)".into(),
        Linkage::Dynamic => {
            let mut s = match bin.libc {
                Some(libc) => format!("dynamic, {libc}"),
                None => "dynamic".into(),
            };
            if let Some(i) = &bin.interpreter {
                s.push_str(&format!("; interpreter {i}"));
            }
            if !bin.needed.is_empty() {
                s.push_str(&format!("; needs {}", bin.needed.join(", ")));
            }
            s
        }
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
mod godebug_tests {
    use super::godebug_words;

    #[test]
    fn container_keys_first_and_no_dangling_plus() {
        assert_eq!(
            godebug_words("containermaxprocs=0,updatemaxprocs=0,x509sha1=1"),
            "containermaxprocs=0,updatemaxprocs=0 (+1 other key; --json lists them)"
        );
        assert_eq!(
            godebug_words("httplaxcontentlength=1,httpmuxgo121=1,tls10server=1,x509sha1=1"),
            "4 keys, none about containers (--json lists them)"
        );
    }
}
