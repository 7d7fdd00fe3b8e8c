//! Reports on committed fixtures (no Go needed): top byte-identical to the recorded
//! `go tool pprof -top` output, flame graph SVG/folded invariants, summary shares.

use std::path::PathBuf;

use boxwise_pprof::flame::{SvgOptions, folded, folded_text, parse_folded, svg};
use boxwise_pprof::summary::summarize;
use boxwise_pprof::top::{TopOptions, top};
use boxwise_pprof::{Profile, decode, filter};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/pprof")
        .join(name)
}

fn load(name: &str) -> Profile {
    let mut p = decode(&std::fs::read(fixture(name)).unwrap()).unwrap();
    filter::remove_uninteresting(&mut p).unwrap();
    filter::simplify_names(&mut p);
    p
}

const PROFILES: [&str; 4] = ["go119_cpu", "go119_heap", "go119_mutex", "synth_heap"];

#[test]
fn top_is_identical_to_recorded_go_tool_pprof_output() {
    for name in PROFILES {
        let p = load(&format!("{name}.pb.gz"));
        for (suffix, opts) in [
            ("top", TopOptions::default()),
            (
                "top_cum_n5",
                TopOptions {
                    cum: true,
                    node_count: 5,
                    ..Default::default()
                },
            ),
        ] {
            let want = std::fs::read_to_string(fixture(&format!("{name}.{suffix}.txt"))).unwrap();
            let got = top(&p, &opts).unwrap().to_text();
            assert_eq!(got, want, "{name} {suffix}");
        }
    }
}

#[test]
fn folded_round_trips_and_sums_to_the_samples() {
    for name in PROFILES {
        let p = load(&format!("{name}.pb.gz"));
        let vi = p.sample_index(None).unwrap();
        let all: Vec<usize> = (0..p.samples.len()).collect();
        let lines = folded(&p, &all, vi);
        let text = folded_text(&lines);
        assert_eq!(parse_folded(&text).unwrap(), lines, "{name}");
        let sum: i64 = lines.iter().map(|l| l.1).sum();
        let want: i64 = p
            .samples
            .iter()
            .filter(|s| !s.locations.is_empty())
            .map(|s| s.values[vi])
            .sum();
        assert_eq!(sum, want, "{name}");
        for (k, _) in &lines {
            assert!(
                !k.is_empty() && !k.contains(";;") && !k.contains('\n'),
                "{k}"
            );
        }
    }
}

#[test]
fn svg_parses_and_frame_widths_add_up() {
    for name in PROFILES {
        let p = load(&format!("{name}.pb.gz"));
        let vi = p.sample_index(None).unwrap();
        let all: Vec<usize> = (0..p.samples.len()).collect();
        let lines = folded(&p, &all, vi);
        let doc = svg(
            &lines,
            &SvgOptions {
                title: name.into(),
                unit: p.sample_types[vi].unit.clone(),
                min_width_px: 0.0,
            },
        );
        let xml = roxmltree::Document::parse(&doc).unwrap_or_else(|e| panic!("{name}: {e}"));
        let positive: i64 = lines.iter().map(|l| l.1).filter(|&v| v > 0).sum();
        let frames: Vec<_> = xml
            .descendants()
            .filter(|n| n.attribute("class") == Some("f"))
            .collect();
        let attr = |n: &roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
        let width = |n: &roxmltree::Node| {
            let r = n.children().find(|c| c.has_tag_name("rect")).unwrap();
            r.attribute("width").unwrap().parse::<f64>().unwrap()
        };
        let root = frames.iter().find(|n| attr(n, "data-l") == 0.0).unwrap();
        assert_eq!(attr(root, "data-v") as i64, positive, "{name}");
        assert!((width(root) - 1200.0).abs() < 0.01);
        // Each frame's children never exceed it; level 1 covers the root exactly.
        let level1: Vec<_> = frames.iter().filter(|n| attr(n, "data-l") == 1.0).collect();
        let sum_v: f64 = level1.iter().map(|n| attr(n, "data-v")).sum();
        assert_eq!(sum_v as i64, positive, "{name}");
        let sum_w: f64 = level1.iter().map(|n| width(n)).sum();
        assert!(
            (sum_w - 1200.0).abs() < 0.01 * level1.len() as f64,
            "{name}: {sum_w}"
        );
        // Every frame has a hover title.
        assert!(
            frames
                .iter()
                .all(|f| f.children().any(|c| c.has_tag_name("title")))
        );
        assert!(doc.contains("<script>"));
    }
}

#[test]
fn summary_shares_cover_the_total() {
    for name in PROFILES {
        let p = load(&format!("{name}.pb.gz"));
        let vi = p.sample_index(None).unwrap();
        let all: Vec<usize> = (0..p.samples.len()).collect();
        let s = summarize(&p, &all, vi, 3);
        let sum: i64 = s.categories.iter().map(|c| c.value).sum();
        assert_eq!(sum, s.total, "{name}");
        assert!(!s.readings.is_empty());
        assert!(s.categories.iter().all(|c| c.functions.len() <= 3));
    }
    let p = load("go119_cpu.pb.gz");
    let s = summarize(&p, &(0..p.samples.len()).collect::<Vec<_>>(), 1, 3);
    let user = s
        .categories
        .iter()
        .find(|c| c.title == "user code")
        .unwrap();
    assert!(user.functions.iter().any(|f| f.name == "main.fib"));
}

/// The benchmark's large profile (100,000 samples, 60,000 locations), generated here rather
/// than committed: decodes through gzip and yields a consistent top table.
#[test]
fn large_generated_profile() {
    use prost::Message;
    use std::io::Write;
    let wire = boxwise_pprof::synth::large_profile(100_000, 60_000);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&wire.encode_to_vec()).unwrap();
    let p = decode(&gz.finish().unwrap()).unwrap();
    assert_eq!(p.samples.len(), 100_000);
    assert_eq!(p.locations.len(), 60_000);
    let r = top(&p, &TopOptions::default()).unwrap();
    let total: i64 = p.samples.iter().map(|s| s.values[1]).sum();
    assert_eq!(r.total, total);
    assert!(r.dropped_nodes > 0 && !r.rows.is_empty());
    let sum: i64 = r.rows.iter().map(|x| x.flat).sum();
    assert_eq!(sum, r.shown);
}

/// Values near i64::MAX wrap (as pprof's do) instead of overflowing in the summary.
#[test]
fn summary_survives_values_that_overflow() {
    use boxwise_pprof::synth::{encode, stacks_profile};
    let half = i64::MAX / 2;
    let raw = encode(&stacks_profile(&[
        (&["main", "a"], half + 10),
        (&["main", "a"], half + 10),
        (&["main", "b"], half),
    ]));
    let p = decode(&raw).unwrap();
    let all: Vec<usize> = (0..p.samples.len()).collect();
    let vi = p.sample_index(None).unwrap();
    let s = summarize(&p, &all, vi, 3);
    assert_eq!(
        s.categories
            .iter()
            .map(|c| c.value)
            .fold(0i64, i64::wrapping_add),
        s.total
    );
}

/// The errors' messages, word for word (the binary prints them after the file name).
#[test]
fn error_messages() {
    use boxwise_pprof::synth::{encode, stacks_profile};
    let mut p = decode(&encode(&stacks_profile(&[(&["main"], 1)]))).unwrap();
    let msg = |e: &dyn std::error::Error| e.to_string();
    assert_eq!(
        msg(&p.sample_index(Some("2")).unwrap_err()),
        "sample index 2 is outside the range [0..1]"
    );
    assert_eq!(
        msg(&p.sample_index(Some("-1")).unwrap_err()),
        "sample index -1 is outside the range [0..1]"
    );
    assert_eq!(
        msg(&p.sample_index(Some("alloc_space")).unwrap_err()),
        "sample index \"alloc_space\" must be one of: samples, cpu"
    );
    let opts = TopOptions {
        sample_index: Some("bytes".into()),
        ..TopOptions::default()
    };
    assert_eq!(
        msg(&top(&p, &opts).unwrap_err()),
        "sample index \"bytes\" must be one of: samples, cpu"
    );
    assert_eq!(
        parse_folded("a;b 1\n\nc x\n").unwrap_err().to_string(),
        "line 2: bad value \"x\""
    );
    assert_eq!(
        parse_folded("a;b 1\nnovalue\n").unwrap_err().to_string(),
        "line 2: no value"
    );
    p.drop_frames = "main(".into();
    let e = filter::remove_uninteresting(&mut p)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("drop_frames regexp \"main(\": regex parse error"),
        "{e}"
    );
    p.drop_frames = "x".into();
    p.keep_frames = "[".into();
    let e = filter::remove_uninteresting(&mut p)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("keep_frames regexp \"[\": regex parse error"),
        "{e}"
    );
    p.sample_types.clear();
    assert_eq!(
        msg(&p.sample_index(None).unwrap_err()),
        "profile has no sample types"
    );
}

/// Samples of i64::MIN and i64::MAX: the sums saturate (a wrapped total read as 0 or -1),
/// and the report says the values are not plausible.
#[test]
fn extreme_sample_values_saturate_and_are_called_implausible() {
    let raw = boxwise_pprof::synth::encode(&boxwise_pprof::synth::stacks_profile(&[
        (&["main.a"], i64::MAX),
        (&["main.b"], i64::MIN),
        (&["main.c"], 5),
    ]));
    let mut p = boxwise_pprof::decode(&raw).unwrap();
    boxwise_pprof::filter::remove_uninteresting(&mut p).unwrap();
    let r = boxwise_pprof::top::top(&p, &boxwise_pprof::top::TopOptions::default()).unwrap();
    assert_eq!(r.total, i64::MAX);
    assert!(
        r.labels.iter().any(|l| l.contains("not plausible")),
        "{:?}",
        r.labels
    );
    assert!(r.rows.iter().all(|row| row.flat != 0 || row.cum != 0));
}
