//! `boxwise image` as text and Markdown: summary, layers, waste, config, Go programs,
//! findings, CI rules.

use boxwise_goprog::notes::human_bytes;
use boxwise_image::judge::BaseFrom;
use boxwise_image::{ImageReport, Severity};

use super::{Section, grid};

const WIDTH: usize = 80;

/// Cuts `s` to `max` characters, ending in `…` when cut.
fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Runs of whitespace (tabs and line breaks of a `RUN` line too) as one space: a tab
/// would take up to eight columns where it counts as one.
fn one_spaced(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Wraps words to `width`, every line after the first indented by `indent` spaces.
fn wrap(s: &str, first: usize, indent: usize) -> String {
    let mut out = String::new();
    let mut line = 0usize;
    let mut limit = WIDTH.saturating_sub(first);
    for word in s.split_whitespace() {
        let n = word.chars().count();
        if line > 0 && line + 1 + n > limit {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            line = 0;
            limit = WIDTH.saturating_sub(indent);
        }
        if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += n;
    }
    out
}

fn pct(r: f64) -> String {
    format!("{:.1}%", r * 100.0)
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

fn summary(r: &ImageReport) -> Vec<String> {
    vec![
        format!(
            "{} shipped in {} layer(s); {} in the final filesystem ({} files)",
            human_bytes(r.size_bytes),
            r.layers.len(),
            human_bytes(r.final_bytes),
            r.files
        ),
        format!(
            "wasted {} ({} bytes); efficiency {}",
            human_bytes(r.wasted_bytes),
            r.wasted_bytes,
            pct(r.efficiency),
        ),
        base_line(r),
        if r.base_layers >= r.layers.len() {
            "user wasted n/a: no layers above the base".to_string()
        } else if r.user_bytes == 0 {
            // No share of nothing: the JSON's ratio says 0 here, the words say why.
            format!(
                "user wasted n/a: the layers above the base ship 0 B and waste {}",
                human_bytes(r.user_wasted_bytes)
            )
        } else {
            format!(
                "user wasted {}: the layers above the base waste {}, ship {}",
                pct(r.user_wasted_ratio),
                human_bytes(r.user_wasted_bytes),
                human_bytes(r.user_bytes),
            )
        },
        format!(
            "blobs {} as stored; platform {}",
            human_bytes(r.blob_bytes),
            r.platform
        ),
    ]
}

/// Which layers are the base image, how that was found, and its os-release name.
fn base_line(r: &ImageReport) -> String {
    let n = r.base_layers;
    let layers = format!("{n} layer{}", if n == 1 { "" } else { "s" });
    let how = match (r.base_from, &r.config.base_ends_with) {
        (BaseFrom::History, Some(end)) => {
            format!("history: up to {}", boxwise_image::one_line(end, 24))
        }
        (BaseFrom::History, None) => "history".into(),
        (BaseFrom::Flag, _) => "--base-layers".into(),
        (BaseFrom::FirstLayer, _) => "history marks none; the first, as dive".into(),
    };
    let name = r
        .config
        .os
        .as_ref()
        .map(|os| format!("; os {os}"))
        .unwrap_or_default();
    fit(&format!("base image: {layers} ({how}){name}"), WIDTH - 2)
}

pub fn text(r: &ImageReport, wide: bool) -> String {
    let mut out = String::new();
    let title = if r.tags.is_empty() {
        r.source.clone()
    } else {
        format!("{} ({})", r.source, r.tags.join(", "))
    };
    out.push_str(&fit(&title, if wide { usize::MAX } else { WIDTH }));
    out.push('\n');
    for l in summary(r) {
        out.push_str(&format!("  {l}\n"));
    }

    out.push_str("\nLayers\n");
    let mut rows = vec![vec![
        "#".to_string(),
        "size".into(),
        "+".into(),
        "~".into(),
        "-".into(),
        "wasted".into(),
        "instruction".into(),
    ]];
    for l in &r.layers {
        rows.push(vec![
            l.index.to_string(),
            human_bytes(l.size_bytes),
            l.files_added.to_string(),
            l.files_changed.to_string(),
            l.files_removed.to_string(),
            human_bytes(l.wasted_bytes),
            l.created_by
                .as_deref()
                .map_or_else(|| "unknown".into(), one_spaced),
        ]);
    }
    let table = grid(&rows);
    for line in table.lines() {
        let line = format!("  {line}");
        out.push_str(&if wide { line } else { fit(&line, WIDTH) });
        out.push('\n');
    }
    out.push_str("  (+ added, ~ changed, - removed files; size = file bytes in the layer)\n");

    if !r.wasted_files.is_empty() {
        out.push_str("\nWasted: shipped in a layer, not in the final filesystem\n");
        let mut rows = vec![vec!["wasted".to_string(), "copies".into(), "path".into()]];
        for w in &r.wasted_files {
            let how = if w.kept {
                " (overwritten)"
            } else {
                " (deleted)"
            };
            rows.push(vec![
                human_bytes(w.wasted_bytes),
                w.copies.to_string(),
                format!("{}{how}", w.path),
            ]);
        }
        for line in grid(&rows).lines() {
            let line = format!("  {line}");
            out.push_str(&if wide { line } else { fit(&line, WIDTH) });
            out.push('\n');
        }
    }

    let c = &r.config;
    let mut s = Section::new("\nConfig");
    let start = start_line(c);
    s.row(
        "starts",
        fit(&start, WIDTH - 16),
        if c.shell_form { "shell form" } else { "" },
    );
    s.row(
        "program",
        c.program
            .clone()
            .unwrap_or_else(|| "not in the image".into()),
        "PID 1",
    );
    if let Some(service) = &c.service {
        let how = if c.boxwise_exec {
            "Go, under boxwise exec"
        } else {
            "Go"
        };
        s.row("service", service.clone(), how);
    } else if c.boxwise_exec {
        s.row("service", "unknown", "boxwise exec runs it");
    }
    s.row(
        "user",
        c.user
            .clone()
            .unwrap_or_else(|| "root (USER not set)".into()),
        "",
    );
    for key in ["GOMAXPROCS", "GOMEMLIMIT", "GOGC", "GODEBUG"] {
        if let Some(v) = c
            .env
            .iter()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        {
            s.row(&format!("ENV {key}"), fit(v, WIDTH - 20), "");
        }
    }
    s.row(
        "healthcheck",
        c.healthcheck
            .as_ref()
            .map(|h| fit(&h.join(" "), WIDTH - 16))
            .unwrap_or_else(|| "none".into()),
        "",
    );
    s.row(
        "ports",
        if c.exposed_ports.is_empty() {
            "none".into()
        } else {
            c.exposed_ports.join(", ")
        },
        "",
    );
    s.row(
        "os",
        c.os.clone()
            .unwrap_or_else(|| "unknown (no os-release)".into()),
        "",
    );
    s.render(&mut out);

    out.push_str("\nGo programs\n");
    if r.go_binaries.is_empty() {
        out.push_str("  none found\n");
    }
    for g in &r.go_binaries {
        out.push_str(&format!(
            "  {}  {}  {}\n",
            fit(&g.path, 40),
            g.go_version,
            human_bytes(g.size_bytes)
        ));
        let link = if g.static_ {
            "static".to_string()
        } else if g.missing.is_empty() {
            "dynamic, libraries present".to_string()
        } else {
            format!("dynamic, MISSING {}", g.missing.join(", "))
        };
        let facts = format!(
            "{link}; cgo {}; {}; trimpath {}; GOMAXPROCS container-aware {}",
            yes_no(g.cgo),
            if g.stripped {
                "stripped"
            } else {
                "symbols/DWARF kept"
            },
            if g.trimpath { "yes" } else { "no" },
            if g.container_aware { "yes" } else { "no" },
        );
        out.push_str(&format!("    {}\n", wrap(&facts, 4, 4)));
        if let Some(m) = &g.module {
            out.push_str(&format!("    module {}\n", fit(m, WIDTH - 11)));
        }
    }

    out.push_str("\nFindings\n");
    if r.findings.is_empty() {
        out.push_str("  none\n");
    }
    for f in &r.findings {
        let head = format!("{:<7} {}", f.severity.as_str().to_uppercase(), f.id);
        out.push_str(&format!("{head}\n        {}\n", wrap(&f.title, 8, 8)));
        for e in &f.evidence {
            out.push_str(&format!("        evidence: {}\n", wrap(e, 18, 18)));
        }
        out.push_str(&format!("        fix: {}\n", wrap(&f.fix, 13, 13)));
    }

    if let Some(ci) = &r.ci {
        out.push_str(&format!(
            "\nCI: {}\n",
            if ci.passed { "PASS" } else { "FAIL" }
        ));
        for c in &ci.checks {
            out.push_str(&format!(
                "  {:<5} {}\n",
                c.result.to_uppercase(),
                ci_words(c, r.user_bytes == 0)
            ));
        }
        if ci
            .checks
            .iter()
            .any(|c| c.rule == "highest_user_wasted_percent" && c.value > 1.0)
        {
            out.push_str(&format!(
                "  {}\n",
                wrap(
                    "(user waste can pass 100%: a layer above the base that deletes or \
                     overwrites a base file wastes all of that file, which the user layers \
                     did not ship)",
                    2,
                    3
                )
            ));
        }
    }
    out
}

/// One CI check in the summary's units, with the way the value stands to the threshold:
/// `user wasted: 125.0% is above the highest allowed 10.0%`. With no bytes above the base
/// (`no_user_bytes`) the user share is n/a, as the summary says, and cannot fail.
fn ci_words(c: &boxwise_image::judge::CiCheck, no_user_bytes: bool) -> String {
    if c.rule == "highest_user_wasted_percent" && no_user_bytes {
        return "user wasted: n/a, the layers above the base ship 0 B".into();
    }
    let (label, show, lowest): (&str, fn(f64) -> String, bool) = match c.rule {
        "lowest_efficiency" => ("efficiency", pct, true),
        "highest_wasted_bytes" => ("wasted", |v| human_bytes(v as u64), false),
        "highest_user_wasted_percent" => ("user wasted", pct, false),
        other => (other, |v| format!("{v}"), false),
    };
    let Some(t) = c.threshold else {
        return format!("{label}: {} (rule off)", show(c.value));
    };
    let relation = match (lowest, c.result == "fail") {
        (true, true) => "is below the lowest allowed",
        (true, false) => "is at or above the lowest allowed",
        (false, true) => "is above the highest allowed",
        (false, false) => "is at or below the highest allowed",
    };
    format!("{label}: {} {relation} {}", show(c.value), show(t))
}

/// ENTRYPOINT and CMD as the Dockerfile would say them, or `none`.
fn start_line(c: &boxwise_image::ConfigReport) -> String {
    let mut parts = Vec::new();
    if let Some(e) = &c.entrypoint {
        parts.push(format!(
            "ENTRYPOINT {}",
            serde_json::to_string(e).unwrap_or_default()
        ));
    }
    if let Some(cmd) = &c.cmd {
        parts.push(format!(
            "CMD {}",
            serde_json::to_string(cmd).unwrap_or_default()
        ));
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(" ")
    }
}

/// Markdown inline code for any text (a backtick inside gets a longer fence).
fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

/// The Config section of the Markdown report: what the text report's Config says.
fn markdown_config(c: &boxwise_image::ConfigReport) -> String {
    let mut out = String::from("\n### Config\n\n");
    let shell = if c.shell_form { " (shell form)" } else { "" };
    out.push_str(&format!("- starts: {}{shell}\n", code(&start_line(c))));
    out.push_str(&format!(
        "- program (PID 1): {}\n",
        c.program
            .as_deref()
            .map(code)
            .unwrap_or_else(|| "not in the image".into())
    ));
    if let Some(service) = &c.service {
        let how = if c.boxwise_exec {
            " (Go, under boxwise exec)"
        } else {
            " (Go)"
        };
        out.push_str(&format!("- service: {}{how}\n", code(service)));
    } else if c.boxwise_exec {
        out.push_str("- service: unknown (boxwise exec runs it)\n");
    }
    out.push_str(&format!(
        "- user: {}\n",
        c.user
            .as_deref()
            .map(code)
            .unwrap_or_else(|| "root (USER not set)".into())
    ));
    if let Some(w) = &c.working_dir {
        out.push_str(&format!("- workdir: {}\n", code(w)));
    }
    if c.env.is_empty() {
        out.push_str("- ENV: none\n");
    } else {
        out.push_str("- ENV:\n");
        for kv in &c.env {
            out.push_str(&format!("  - {}\n", code(kv)));
        }
    }
    out.push_str(&format!(
        "- healthcheck: {}\n",
        c.healthcheck
            .as_ref()
            .map(|h| code(&h.join(" ")))
            .unwrap_or_else(|| "none".into())
    ));
    out.push_str(&format!(
        "- ports: {}\n",
        if c.exposed_ports.is_empty() {
            "none".into()
        } else {
            c.exposed_ports.join(", ")
        }
    ));
    out.push_str(&format!(
        "- os: {}\n",
        c.os.as_deref().unwrap_or("unknown (no os-release)")
    ));
    out
}

pub fn markdown(r: &ImageReport) -> String {
    let mut out = format!("## Image `{}`\n\n", r.source);
    for l in summary(r) {
        out.push_str(&format!("- {l}\n"));
    }
    out.push_str("\n| # | size | added | changed | removed | wasted | instruction |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for l in &r.layers {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | `{}` |\n",
            l.index,
            human_bytes(l.size_bytes),
            l.files_added,
            l.files_changed,
            l.files_removed,
            human_bytes(l.wasted_bytes),
            l.created_by
                .as_deref()
                .unwrap_or("unknown")
                .replace('|', "\\|")
        ));
    }
    out.push_str(&markdown_config(&r.config));
    if !r.go_binaries.is_empty() {
        out.push_str(
            "\n| Go program | version | static | missing | size |\n|---|---|---|---|---|\n",
        );
        for g in &r.go_binaries {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                g.path,
                g.go_version,
                if g.static_ { "yes" } else { "no" },
                if g.missing.is_empty() {
                    "-".into()
                } else {
                    g.missing.join(", ")
                },
                human_bytes(g.size_bytes)
            ));
        }
    }
    out.push_str("\n### Findings\n\n");
    if r.findings.is_empty() {
        out.push_str("None.\n");
    }
    for f in &r.findings {
        let mark = match f.severity {
            Severity::Error => "**error**",
            Severity::Warning => "**warning**",
            Severity::Info => "info",
        };
        out.push_str(&format!("- {mark} `{}`: {}\n", f.id, f.title));
        for e in &f.evidence {
            out.push_str(&format!("  - evidence: {e}\n"));
        }
        out.push_str(&format!("  - fix: {}\n", f.fix));
    }
    if let Some(ci) = &r.ci {
        out.push_str(&format!(
            "\nCI: **{}**\n",
            if ci.passed { "PASS" } else { "FAIL" }
        ));
    }
    out
}
