//! The lint parsers and rules on arbitrary text: Dockerfile, YAML (Kubernetes and Compose).
#![no_main]

use boxwise_lint::files::{FileKind, Source};
use boxwise_lint::{Config, lint_source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in [FileKind::Dockerfile, FileKind::Yaml] {
        let src = Source {
            name: "fuzz".into(),
            kind,
            text: text.to_string(),
        };
        let _ = lint_source(&src, &Config::default());
    }
});
