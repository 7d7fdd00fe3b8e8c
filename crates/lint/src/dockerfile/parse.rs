//! A Dockerfile parser for the BuildKit syntax: parser directives (`# syntax=`, `# escape=`),
//! line continuations (with comment lines inside them skipped, as BuildKit does), heredocs
//! (`<<EOF`, `<<-EOF`, quoted terminators), flags, and JSON (exec) versus shell form. Every
//! instruction keeps the line and column it starts at and the line it ends on, so findings can
//! point at it and `--fix` can replace exactly its lines.

use crate::Position;

/// One parsed Dockerfile, instructions in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Dockerfile {
    /// Parser directives from the top of the file, lower-case name and value.
    pub directives: Vec<(String, String)>,
    pub escape: char,
    pub instructions: Vec<Instruction>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    /// Upper-case keyword: `FROM`, `RUN`, ...
    pub keyword: String,
    pub pos: Position,
    /// The last line of the instruction, heredoc bodies included.
    pub end_line: usize,
    /// `--name=value` flags before the arguments (`--from=build`, `--mount=...`).
    pub flags: Vec<(String, String)>,
    pub args: Args,
    pub heredocs: Vec<Heredoc>,
}

/// The arguments after the keyword and flags.
#[derive(Debug, Clone, PartialEq)]
pub enum Args {
    /// `["a", "b"]`: run without a shell.
    Exec(Vec<String>),
    /// Anything else, continuations joined (the escape and newline removed).
    Shell(String),
}

impl Args {
    /// The words, for instructions whose form does not matter (FROM, COPY, EXPOSE, USER).
    pub fn words(&self) -> Vec<String> {
        match self {
            Args::Exec(v) => v.clone(),
            Args::Shell(s) => split_words(s),
        }
    }

    pub fn text(&self) -> String {
        match self {
            Args::Exec(v) => v.join(" "),
            Args::Shell(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Heredoc {
    pub name: String,
    pub body: String,
}

/// A Dockerfile that cannot be parsed, with where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {}, column {}: {message}", pos.line, pos.column)]
pub struct ParseError {
    pub pos: Position,
    pub message: String,
}

const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Parse a whole Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut directives = Vec::new();
    let mut escape = '\\';
    let mut i = 0;
    // Directives: only at the very top, each `# name=value`, until anything else.
    while i < lines.len() {
        let Some((name, value)) = directive(lines[i]) else {
            break;
        };
        if directives.iter().any(|(n, _)| *n == name) {
            break;
        }
        if name == "escape" {
            escape = match value.as_str() {
                "\\" => '\\',
                "`" => '`',
                _ => {
                    return Err(ParseError {
                        pos: Position::new(i + 1, 1),
                        message: format!("escape directive {value:?} must be \\ or `"),
                    });
                }
            };
        }
        directives.push((name, value));
        i += 1;
    }

    let mut instructions = Vec::new();
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let column = line.len() - trimmed.len() + 1;
        // Join continuation lines.
        let mut logical = String::new();
        let mut cur = trimmed.to_string();
        loop {
            let t = cur.trim_end();
            if let Some(stripped) = t.strip_suffix(escape) {
                logical.push_str(stripped);
                i += 1;
                // Skip comment lines and (deprecated) empty lines inside the continuation.
                while i < lines.len() {
                    let next = lines[i].trim_start();
                    if next.starts_with('#') || next.trim().is_empty() {
                        i += 1;
                    } else {
                        break;
                    }
                }
                if i >= lines.len() {
                    break;
                }
                cur = lines[i].to_string();
            } else {
                logical.push_str(&cur);
                break;
            }
        }
        let pos = Position::new(start + 1, column);
        let (keyword, rest) = split_keyword(&logical);
        let upper = keyword.to_ascii_uppercase();
        if !KEYWORDS.contains(&upper.as_str()) {
            return Err(ParseError {
                pos,
                message: format!("unknown instruction {keyword:?}"),
            });
        }
        let (flags, rest) = if matches!(
            upper.as_str(),
            "FROM" | "COPY" | "ADD" | "RUN" | "HEALTHCHECK"
        ) {
            split_flags(rest)
        } else {
            (Vec::new(), rest.trim())
        };
        // Heredocs: RUN, COPY and ADD may name terminators; their bodies follow the line.
        let mut heredocs = Vec::new();
        if matches!(upper.as_str(), "RUN" | "COPY" | "ADD") {
            for (name, strip_tabs) in heredoc_names(rest) {
                let mut body = String::new();
                let mut found = false;
                i += 1;
                while i < lines.len() {
                    let l = lines[i];
                    let cmp = if strip_tabs {
                        l.trim_start_matches('\t')
                    } else {
                        l
                    };
                    if cmp == name {
                        found = true;
                        break;
                    }
                    body.push_str(cmp);
                    body.push('\n');
                    i += 1;
                }
                if !found {
                    return Err(ParseError {
                        pos,
                        message: format!("heredoc <<{name} is never closed"),
                    });
                }
                heredocs.push(Heredoc { name, body });
            }
        }
        let args = match rest.trim_start().starts_with('[') {
            true => match serde_json::from_str::<Vec<String>>(rest.trim()) {
                Ok(v) => Args::Exec(v),
                Err(_) => Args::Shell(rest.trim().to_string()),
            },
            false => Args::Shell(rest.trim().to_string()),
        };
        if rest.trim().is_empty() && heredocs.is_empty() {
            return Err(ParseError {
                pos,
                message: format!("{upper} needs arguments"),
            });
        }
        instructions.push(Instruction {
            keyword: upper,
            pos,
            end_line: i.min(lines.len().saturating_sub(1)) + 1,
            flags,
            args,
            heredocs,
        });
        i += 1;
    }
    Ok(Dockerfile {
        directives,
        escape,
        instructions,
    })
}

/// `# name=value` at the top of a file, name lower-cased.
fn directive(line: &str) -> Option<(String, String)> {
    let body = line.trim().strip_prefix('#')?;
    let (name, value) = body.split_once('=')?;
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return None;
    }
    Some((name.to_ascii_lowercase(), value.trim().to_string()))
}

fn split_keyword(line: &str) -> (&str, &str) {
    let line = line.trim_start();
    match line.find(char::is_whitespace) {
        Some(n) => (&line[..n], &line[n..]),
        None => (line, ""),
    }
}

/// Leading `--flag=value` / `--flag` words.
fn split_flags(mut rest: &str) -> (Vec<(String, String)>, &str) {
    let mut flags = Vec::new();
    loop {
        let t = rest.trim_start();
        let Some(body) = t.strip_prefix("--") else {
            return (flags, t);
        };
        let end = body.find(char::is_whitespace).unwrap_or(body.len());
        let word = &body[..end];
        let (k, v) = word.split_once('=').unwrap_or((word, ""));
        flags.push((k.to_ascii_lowercase(), v.to_string()));
        rest = &body[end..];
    }
}

/// Heredoc terminators named in the arguments: `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`.
fn heredoc_names(args: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = args;
    while let Some(n) = rest.find("<<") {
        let mut after = &rest[n + 2..];
        let strip = after.starts_with('-');
        if strip {
            after = &after[1..];
        }
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
        let body = if quote.is_some() { &after[1..] } else { after };
        let end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        let name = &body[..end];
        if !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()) {
            out.push((name.to_string(), strip));
        }
        rest = &body[end..];
    }
    out
}

/// Split shell-ish text into words, honouring single and double quotes and backslashes.
/// Operators (`&&`, `||`, `;`, `|`) become words of their own so commands can be found.
pub fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    cur.push(d);
                }
            }
            '"' => {
                in_word = true;
                while let Some(d) = chars.next() {
                    match d {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                if !matches!(e, '"' | '\\' | '$' | '`') {
                                    cur.push('\\');
                                }
                                cur.push(e);
                            }
                        }
                        _ => cur.push(d),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(d) = chars.next() {
                    cur.push(d);
                }
            }
            ';' | '|' | '&' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
                let mut op = c.to_string();
                if (c == '&' || c == '|') && chars.peek() == Some(&c) {
                    op.push(c);
                    chars.next();
                }
                words.push(if c == '\n' { ";".into() } else { op });
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            _ => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// Simple commands in shell text: the words between operators.
pub fn commands(text: &str) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new()];
    for w in split_words(text) {
        if matches!(w.as_str(), ";" | "&&" | "||" | "|" | "&") {
            out.push(Vec::new());
        } else if let Some(last) = out.last_mut() {
            last.push(w);
        }
    }
    out.retain(|c| !c.is_empty());
    out
}

/// `KEY=value` pairs of ENV, ARG or LABEL (also the legacy `ENV KEY value`).
pub fn key_values(args: &Args) -> Vec<(String, String)> {
    let text = args.text();
    let words = split_words(&text);
    if words.len() >= 2 && !words[0].contains('=') {
        // Legacy `ENV KEY the rest` form.
        let (k, v) = text
            .trim()
            .split_once(char::is_whitespace)
            .unwrap_or(("", ""));
        return vec![(k.to_string(), v.trim().to_string())];
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (w, String::new()),
        })
        .collect()
}

/// Expand `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alt}` from `vars`; unknown
/// variables become empty, as BuildKit does.
pub fn expand(text: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'{') {
            chars.next();
            let mut inner = String::new();
            let mut closed = false;
            for d in chars.by_ref() {
                if d == '}' {
                    closed = true;
                    break;
                }
                inner.push(d);
            }
            if !closed {
                out.push_str("${");
                out.push_str(&inner);
                continue;
            }
            let (name, op, word) = if let Some((n, w)) = inner.split_once(":-") {
                (n, "-", w)
            } else if let Some((n, w)) = inner.split_once(":+") {
                (n, "+", w)
            } else {
                (inner.as_str(), "", "")
            };
            let val = vars(name).filter(|v| !v.is_empty());
            match (op, val) {
                ("-", None) => out.push_str(word),
                ("+", Some(_)) => out.push_str(word),
                ("+", None) => {}
                (_, Some(v)) => out.push_str(&v),
                (_, None) => {}
            }
        } else {
            let mut name = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' {
                    name.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            if name.is_empty() {
                out.push('$');
            } else if let Some(v) = vars(&name) {
                out.push_str(&v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn full_syntax() {
        let text = "# syntax=docker/dockerfile:1.7\n# escape=`\nARG GO=1.23\nFROM golang:${GO}-alpine AS build\nRUN go build `\n  # a comment inside\n  -o /app .\nRUN <<EOF\nset -e\necho hi\nEOF\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\", \"serve\"]\nCMD serve --port 80\n";
        let d = parse(text).unwrap();
        assert_eq!(d.escape, '`');
        assert_eq!(
            d.directives[0],
            ("syntax".into(), "docker/dockerfile:1.7".into())
        );
        let kw: Vec<_> = d.instructions.iter().map(|i| i.keyword.as_str()).collect();
        assert_eq!(
            kw,
            ["ARG", "FROM", "RUN", "RUN", "COPY", "ENTRYPOINT", "CMD"]
        );
        let run = &d.instructions[2];
        assert_eq!(run.args, Args::Shell("go build   -o /app .".into()));
        assert_eq!((run.pos.line, run.end_line), (5, 7));
        assert_eq!(d.instructions[3].heredocs[0].body, "set -e\necho hi\n");
        assert_eq!(d.instructions[3].end_line, 11);
        assert_eq!(d.instructions[4].flags, [("from".into(), "build".into())]);
        assert_eq!(
            d.instructions[5].args,
            Args::Exec(vec!["/app".into(), "serve".into()])
        );
        assert!(matches!(d.instructions[6].args, Args::Shell(_)));
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("FROM x\n  BOGUS y\n").unwrap_err();
        assert_eq!((e.pos.line, e.pos.column), (2, 3));
        let e = parse("FROM x\nRUN <<EOF\nnever closed\n").unwrap_err();
        assert!(e.message.contains("never closed"), "{e}");
    }

    #[test]
    fn expansion() {
        let vars = |n: &str| (n == "V").then(|| "1.22".to_string());
        assert_eq!(expand("golang:${V}-alpine", &vars), "golang:1.22-alpine");
        assert_eq!(expand("a:$V", &vars), "a:1.22");
        assert_eq!(expand("${X:-dflt}", &vars), "dflt");
        assert_eq!(expand("${V:+set}${X:+no}", &vars), "set");
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = parse(&s);
        }

        /// Lines of known instructions parse to as many instructions, each at its line.
        #[test]
        fn instructions_keep_lines(words in proptest::collection::vec("[a-z0-9/._-]{1,12}", 1..20)) {
            let text: String = words.iter().map(|w| format!("RUN echo {w}\n\n")).collect();
            let d = parse(&text).unwrap();
            prop_assert_eq!(d.instructions.len(), words.len());
            for (n, (ins, w)) in d.instructions.iter().zip(&words).enumerate() {
                prop_assert_eq!(ins.pos.line, 2 * n + 1);
                prop_assert_eq!(ins.args.text(), format!("echo {w}"));
            }
        }

        /// Continuation lines join into one instruction at the first line's position, the
        /// words intact; a heredoc body comes back byte for byte.
        #[test]
        fn continuations_and_heredocs(
            // Not starting with `-`: a leading `--x` word is a RUN flag.
            words in proptest::collection::vec("[a-z0-9][a-z0-9=./-]{0,7}", 1..12),
            body in proptest::collection::vec("[ -~]{0,20}", 0..6),
            pad in 0usize..3,
        ) {
            prop_assume!(body.iter().all(|l| l != "EOF"));
            let run: String = words.join(" \\\n  ");
            let heredoc: String = body.iter().map(|l| format!("{l}\n")).collect();
            let text = format!("{}FROM x\nRUN {run}\nCOPY <<EOF /f\n{heredoc}EOF\nUSER 1\n", "\n".repeat(pad));
            let d = parse(&text).unwrap();
            prop_assert_eq!(d.instructions.len(), 4);
            let r = &d.instructions[1];
            prop_assert_eq!(r.pos.line, pad + 2);
            prop_assert_eq!(r.end_line, pad + 1 + words.len());
            prop_assert_eq!(split_words(&r.args.text()), words.clone());
            prop_assert_eq!(&d.instructions[2].heredocs[0].body, &heredoc);
            prop_assert_eq!(d.instructions[3].pos.line, pad + 2 + words.len() + body.len() + 2);
        }

        /// Exec form round-trips any strings through JSON.
        #[test]
        fn exec_form_round_trips(args in proptest::collection::vec("\\PC{0,10}", 1..5)) {
            let json = serde_json::to_string(&args).unwrap();
            prop_assume!(!json.contains('\n') && !json.trim_end().ends_with('\\'));
            let d = parse(&format!("CMD {json}\n")).unwrap();
            prop_assert_eq!(&d.instructions[0].args, &Args::Exec(args));
        }
    }
}
