//! `boxwise pprof flame|summary` end to end on the committed fixtures (no Go needed).

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/pprof")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn boxwise(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_boxwise"))
        .args(args)
        .output()
        .expect("run boxwise");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn flame_writes_an_svg_that_parses() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("cpu.svg");
    boxwise(&[
        "pprof",
        "flame",
        "-o",
        svg.to_str().unwrap(),
        &fixture("go119_cpu.pb.gz"),
    ]);
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(text.contains("main.fib"));
}

#[test]
fn folded_output_matches_the_sample_total() {
    let out = boxwise(&["pprof", "flame", "--folded", &fixture("go119_heap.pb.gz")]);
    let text = String::from_utf8(out.stdout).unwrap();
    let sum: i64 = text
        .lines()
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<i64>().unwrap())
        .sum();
    let top = boxwise(&["pprof", "top", "--json", &fixture("go119_heap.pb.gz")]);
    let v: serde_json::Value = serde_json::from_slice(&top.stdout).unwrap();
    assert_eq!(sum, v["total"].as_i64().unwrap());
}

#[test]
fn summary_json_has_categories_that_add_up() {
    let out = boxwise(&["pprof", "summary", "--json", &fixture("go119_cpu.pb.gz")]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cats = v["categories"].as_array().unwrap();
    let sum: i64 = cats.iter().map(|c| c["value"].as_i64().unwrap()).sum();
    assert_eq!(sum, v["total"].as_i64().unwrap());
    assert!(cats.iter().any(|c| c["category"] == "user"));
    let text = boxwise(&["pprof", "summary", &fixture("go119_cpu.pb.gz")]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("Reading:"));
}
