//! The flame graph SVG is well-formed XML whatever the function names hold: markup
//! characters are escaped and characters XML 1.0 forbids (control characters) become spaces.

use boxwise_pprof::flame::{SvgOptions, folded, svg};
use boxwise_pprof::synth::{encode, stacks_profile};
use boxwise_pprof::{decode, filter};
use proptest::prelude::*;

fn options() -> SvgOptions {
    SvgOptions {
        title: "t".into(),
        unit: "count".into(),
        min_width_px: 0.0,
    }
}

/// The hover titles of the drawn frames, without the "(value, pct%)" suffix.
fn titles(doc: &roxmltree::Document) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.attribute("class") == Some("f"))
        .map(|g| {
            let t = g.children().find(|c| c.has_tag_name("title")).unwrap();
            let t = t.text().unwrap_or("");
            t[..t.rfind(" (").unwrap()].to_string()
        })
        .collect()
}

/// Regression: a function name with \x01 used to be written as is, and XML parsers rejected
/// the SVG. Goes the whole way: profile bytes, decode, folded stacks, SVG.
#[test]
fn control_character_in_a_function_name_still_parses() {
    let raw = encode(&stacks_profile(&[(&["main.main", "main.f\x01&\"'"], 10)]));
    let mut p = decode(&raw).unwrap();
    filter::remove_uninteresting(&mut p).unwrap();
    filter::simplify_names(&mut p);
    let vi = p.sample_index(None).unwrap();
    let all: Vec<usize> = (0..p.samples.len()).collect();
    let text = svg(&folded(&p, &all, vi), &options());
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(titles(&doc), ["all", "main.main", "main.f &\"'"]);
}

/// Characters a name may hold, weighted towards the ones XML cares about.
fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            any::<char>(),
            (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
            prop::sample::select(vec![
                '&', '<', '>', '"', '\'', '\u{fffe}', '\u{ffff}', '\u{7f}'
            ]),
        ],
        0..24,
    )
    .prop_map(|cs| cs.into_iter().filter(|&c| c != ';').collect())
}

/// What an XML parser gives back for a name: forbidden characters are spaces.
fn as_parsed(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 => ' ',
            '\u{fffe}' | '\u{ffff}' => ' ',
            c => c,
        })
        .collect()
}

/// Line ends as XML 1.0 section 2.11 says a parser may normalise them.
fn lines_normalised(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

proptest! {
    #[test]
    fn any_function_names_give_svg_that_parses(names in prop::collection::vec(name(), 1..4)) {
        let lines: Vec<(String, i64)> = names.iter().map(|n| (format!("main;{n}"), 1)).collect();
        let text = svg(&lines, &options());
        let doc = roxmltree::Document::parse(&text);
        prop_assert!(doc.is_ok(), "{:?}: {:?}", names, doc.err());
        let doc = doc.unwrap();
        let mut got: Vec<String> = titles(&doc).iter().map(|t| lines_normalised(t)).collect();
        let mut want: Vec<String> = vec!["all".into(), "main".into()];
        let mut distinct = names.clone();
        distinct.sort();
        distinct.dedup();
        want.extend(distinct.iter().map(|n| lines_normalised(&as_parsed(n))));
        got.sort();
        want.sort();
        prop_assert_eq!(got, want);
    }
}
