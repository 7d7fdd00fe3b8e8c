//! The module-info text the Go linker embeds (`runtime/debug.ParseBuildInfo` and
//! `BuildInfo.String`): `path`, `mod`, `dep`, `=>` and `build` lines, tab-separated.

use serde::Serialize;

use crate::quote;

/// One module: the main module or a dependency, possibly replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Module {
    pub path: String,
    pub version: String,
    /// The go.sum hash (`h1:...`); empty for the main module and for directory replacements.
    pub sum: String,
    /// The `=>` target of a `replace` directive.
    pub replace: Option<Box<Module>>,
}

/// The parsed module-info block. Everything is empty for a binary built outside module mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModInfo {
    /// The main package's import path.
    pub path: String,
    /// The main module; `None` when the block has no `mod` line.
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    /// Build settings in the order the go command wrote them.
    pub settings: Vec<(String, String)>,
}

/// A line of the block that `ParseBuildInfo` would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {msg}")]
pub struct ModInfoError {
    pub line: usize,
    pub msg: String,
}

enum Last {
    None,
    Main,
    Dep(usize),
}

impl ModInfo {
    /// Parses the block the way `runtime/debug.ParseBuildInfo` does: unknown lines are
    /// skipped, and a final line without a newline is ignored.
    pub fn parse(data: &str) -> Result<ModInfo, ModInfoError> {
        let mut info = ModInfo::default();
        let mut last = Last::None;
        let mut rest = data;
        let mut line_no = 1;
        while let Some((line, tail)) = rest.split_once('\n') {
            rest = tail;
            let err = |msg: String| ModInfoError { line: line_no, msg };
            if let Some(p) = line.strip_prefix("path\t") {
                info.path = p.to_string();
            } else if let Some(cols) = line.strip_prefix("mod\t") {
                info.main = Some(module_line(cols).map_err(err)?);
                last = Last::Main;
            } else if let Some(cols) = line.strip_prefix("dep\t") {
                info.deps.push(module_line(cols).map_err(err)?);
                last = Last::Dep(info.deps.len() - 1);
            } else if let Some(cols) = line.strip_prefix("=>\t") {
                let elem: Vec<&str> = cols.split('\t').collect();
                if elem.len() != 3 {
                    return Err(err(format!(
                        "expected 3 columns for replacement; got {}",
                        elem.len()
                    )));
                }
                let target = match last {
                    Last::None => {
                        return Err(err("replacement with no module on previous line".into()));
                    }
                    Last::Main => info.main.as_mut(),
                    Last::Dep(i) => info.deps.get_mut(i),
                };
                if let Some(m) = target {
                    m.replace = Some(Box::new(Module {
                        path: elem[0].to_string(),
                        version: elem[1].to_string(),
                        sum: elem[2].to_string(),
                        replace: None,
                    }));
                }
                last = Last::None;
            } else if let Some(kv) = line.strip_prefix("build\t") {
                info.settings.push(build_line(kv).map_err(err)?);
            }
            line_no += 1;
        }
        Ok(info)
    }

    /// The block as `BuildInfo.String()` writes it (without a `go` line): every line ends
    /// with `\n`, keys and values are quoted where Go quotes them.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if !self.path.is_empty() {
            out.push_str("path\t");
            out.push_str(&self.path);
            out.push('\n');
        }
        if let Some(m) = &self.main {
            // Go skips a main module that is entirely empty.
            if *m != Module::default() {
                write_module(&mut out, "mod", m);
            }
        }
        for d in &self.deps {
            write_module(&mut out, "dep", d);
        }
        for (k, v) in &self.settings {
            out.push_str("build\t");
            if quote::needs_quote_key(k) {
                out.push_str(&quote::quote(k));
            } else {
                out.push_str(k);
            }
            out.push('=');
            if quote::needs_quote_value(v) {
                out.push_str(&quote::quote(v));
            } else {
                out.push_str(v);
            }
            out.push('\n');
        }
        out
    }
}

fn write_module(out: &mut String, word: &str, m: &Module) {
    out.push_str(word);
    out.push('\t');
    out.push_str(&m.path);
    out.push('\t');
    out.push_str(&m.version);
    match &m.replace {
        None => {
            out.push('\t');
            out.push_str(&m.sum);
        }
        Some(r) => {
            out.push('\n');
            // Go's recursion ends the `=>` line and then the outer line as well, so a
            // replacement is followed by an empty line; `go version -m` prints it as a lone tab.
            write_module(out, "=>", r);
        }
    }
    out.push('\n');
}

fn module_line(cols: &str) -> Result<Module, String> {
    let elem: Vec<&str> = cols.split('\t').collect();
    if elem.len() != 2 && elem.len() != 3 {
        return Err(format!("expected 2 or 3 columns; got {}", elem.len()));
    }
    Ok(Module {
        path: elem[0].to_string(),
        version: elem[1].to_string(),
        sum: elem.get(2).unwrap_or(&"").to_string(),
        replace: None,
    })
}

fn build_line(kv: &str) -> Result<(String, String), String> {
    let first = kv.chars().next().ok_or("build line missing '='")?;
    let (key, raw_value) = match first {
        '=' => return Err("build line with missing key".into()),
        '`' | '"' => {
            let raw_key = quote::quoted_prefix(kv)
                .map_err(|_| "invalid quoted key in build line".to_string())?;
            let after = &kv[raw_key.len()..];
            match after.chars().next() {
                None => return Err("build line missing '=' after quoted key".into()),
                Some('=') => {}
                Some(c) => return Err(format!("unexpected character after quoted key: {c:?}")),
            }
            let key = quote::unquote(raw_key)
                .map_err(|_| "invalid quoted key in build line".to_string())?;
            (key, &after[1..])
        }
        _ => {
            let (key, value) = kv
                .split_once('=')
                .ok_or("build line missing '=' after key")?;
            if quote::needs_quote_key(key) {
                return Err(format!("unquoted key {key:?} must be quoted"));
            }
            (key.to_string(), value)
        }
    };
    let value = match raw_value.chars().next() {
        None => String::new(),
        Some('`' | '"') => quote::unquote(raw_value)
            .map_err(|_| "invalid quoted value in build line".to_string())?,
        Some(_) => {
            if quote::needs_quote_value(raw_value) {
                return Err(format!("unquoted value {raw_value:?} must be quoted"));
            }
            raw_value.to_string()
        }
    };
    Ok((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "path\texample.com/app\n\
        mod\texample.com/app\t(devel)\t\n\
        dep\texample.com/greet\tv1.2.3\n\
        =>\t./greet\t(devel)\t\n\
        \n\
        dep\tgolang.org/x/sys\tv0.1.0\th1:abc=\n\
        build\t-ldflags=\"-s -w\"\n\
        build\tCGO_ENABLED=1\n\
        build\tCGO_CFLAGS=\n\
        build\tDefaultGODEBUG=panicnil=1,containermaxprocs=0\n";

    #[test]
    fn parses_and_formats_like_go() {
        let info = ModInfo::parse(SAMPLE).unwrap();
        assert_eq!(info.path, "example.com/app");
        assert_eq!(info.main.as_ref().unwrap().version, "(devel)");
        assert_eq!(info.deps.len(), 2);
        let r = info.deps[0].replace.as_ref().unwrap();
        assert_eq!(
            (r.path.as_str(), r.version.as_str()),
            ("./greet", "(devel)")
        );
        assert_eq!(info.deps[1].sum, "h1:abc=");
        assert_eq!(info.settings[0], ("-ldflags".into(), "-s -w".into()));
        assert_eq!(info.settings[2], ("CGO_CFLAGS".into(), String::new()));
        assert_eq!(info.to_text(), SAMPLE);
    }

    #[test]
    fn normalises_like_go() {
        // A two-column dep gains the empty sum column; a final unterminated line is dropped;
        // unknown lines are skipped.
        let info = ModInfo::parse("go\tgo1.22\ndep\ta\tv1\nbuild\tX=1").unwrap();
        assert_eq!(info.to_text(), "dep\ta\tv1\t\n");
        let replaced_main = "mod\tm\tv1\th1:x\n=>\t../m\t\t\n";
        assert_eq!(
            ModInfo::parse(replaced_main).unwrap().to_text(),
            "mod\tm\tv1\n=>\t../m\t\t\n\n"
        );
    }

    #[test]
    fn rejects_what_go_rejects() {
        let cases = [
            ("mod\ta\n", 1, "expected 2 or 3 columns; got 1"),
            (
                "path\tp\n=>\ta\tb\tc\n",
                2,
                "replacement with no module on previous line",
            ),
            (
                "dep\ta\tv\n=>\ta\tb\n",
                2,
                "expected 3 columns for replacement; got 2",
            ),
            ("build\t\n", 1, "build line missing '='"),
            ("build\t=x\n", 1, "build line with missing key"),
            ("build\tk\n", 1, "build line missing '=' after key"),
            ("build\ta b=c\n", 1, "unquoted key \"a b\" must be quoted"),
            ("build\tk=a b\n", 1, "unquoted value \"a b\" must be quoted"),
            (
                "build\t\"k\"x\n",
                1,
                "unexpected character after quoted key: 'x'",
            ),
            (
                "build\t\"k\"\n",
                1,
                "build line missing '=' after quoted key",
            ),
            ("build\t\"k\n", 1, "invalid quoted key in build line"),
            ("build\tk=\"v\n", 1, "invalid quoted value in build line"),
        ];
        for (text, line, msg) in cases {
            let e = ModInfo::parse(text).unwrap_err();
            assert_eq!((e.line, e.msg.as_str()), (line, msg), "{text:?}");
        }
        assert!(ModInfo::parse("dep\ta\tb\n=>\tx\ty\tz\n=>\tp\tq\tr\n").is_err());
    }

    #[test]
    fn quoted_keys_and_values_round_trip() {
        let text = "build\t\"a=b\"=\"x\\ty\"\nbuild\t\"\"=v\n";
        let info = ModInfo::parse(text).unwrap();
        assert_eq!(info.settings[0], ("a=b".into(), "x\ty".into()));
        assert_eq!(info.settings[1], (String::new(), "v".into()));
        assert_eq!(info.to_text(), text);
    }

    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            "path\t[a-z./]{0,8}",
            "(mod|dep|=>)(\t[a-z()./0-9=]{0,6}){1,4}",
            "build\t[\"`]?[A-Za-z= \t\"`-]{0,8}=?[\"`]?[a-z= \t\\\\\"`-]{0,8}[\"`]?",
            "[a-z\t=>\"]{0,10}",
        ]
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = ModInfo::parse(&s);
        }

        #[test]
        fn formatted_output_reparses_to_the_same(lines in prop::collection::vec(line(), 0..8)) {
            let text = lines.join("\n") + "\n";
            if let Ok(info) = ModInfo::parse(&text) {
                let again = ModInfo::parse(&info.to_text()).expect("own output parses");
                prop_assert_eq!(again.to_text(), info.to_text());
            }
        }

        #[test]
        fn settings_round_trip(k in "[^\n]{0,12}", v in "[^\n]{0,12}") {
            let info = ModInfo { settings: vec![(k, v)], ..ModInfo::default() };
            let text = info.to_text();
            let back = ModInfo::parse(&text).unwrap();
            prop_assert_eq!(back, info);
        }
    }
}
