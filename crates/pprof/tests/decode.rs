//! Decoder tests on hand-built wire profiles: both repeated encodings, inlining, labels,
//! negative values, drop/keep frames, broken references; and never a panic on bad bytes.

use std::io::Write;

use boxwise_pprof::top::{TopOptions, top};
use boxwise_pprof::{decode, filter, proto};
use proptest::prelude::*;
use prost::Message;

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// main -> work -> (inlined) helper, plus a recursive rec -> rec -> rec stack.
fn wire() -> proto::Profile {
    let st = strings(&[
        "",
        "samples",
        "count",
        "cpu",
        "nanoseconds",
        "main",
        "work",
        "helper",
        "rec",
        "a.go",
        "/bin/app",
        "bid",
        "k",
        "v",
        "bytes",
        "runtime\\..*",
        "note",
        "runtime.goexit",
    ]);
    let f = |id, name| proto::Function {
        id,
        name,
        system_name: name,
        filename: 9,
        start_line: 1,
    };
    let line = |fid| proto::Line {
        function_id: fid,
        line: 10,
        column: 0,
    };
    proto::Profile {
        sample_type: vec![
            proto::ValueType { r#type: 1, unit: 2 },
            proto::ValueType { r#type: 3, unit: 4 },
        ],
        mapping: vec![proto::Mapping {
            id: 1,
            filename: 10,
            build_id: 11,
            has_functions: true,
            ..Default::default()
        }],
        function: vec![f(1, 5), f(2, 6), f(3, 7), f(4, 8), f(5, 17)],
        location: vec![
            proto::Location {
                id: 1,
                mapping_id: 1,
                address: 0x10,
                line: vec![line(1)],
                is_folded: false,
            },
            // helper inlined into work: innermost first.
            proto::Location {
                id: 2,
                mapping_id: 1,
                address: 0x20,
                line: vec![line(3), line(2)],
                is_folded: false,
            },
            proto::Location {
                id: 3,
                mapping_id: 1,
                address: 0x30,
                line: vec![line(4)],
                is_folded: false,
            },
            proto::Location {
                id: 4,
                mapping_id: 1,
                address: 0x40,
                line: vec![line(5)],
                is_folded: false,
            },
        ],
        sample: vec![
            proto::Sample {
                location_id: vec![2, 1],
                value: vec![3, 30],
                label: vec![proto::Label {
                    key: 12,
                    str: 13,
                    num: 0,
                    num_unit: 0,
                }],
            },
            proto::Sample {
                location_id: vec![3, 3, 3, 1],
                value: vec![2, 20],
                label: vec![proto::Label {
                    key: 14,
                    str: 0,
                    num: 512,
                    num_unit: 14,
                }],
            },
            proto::Sample {
                location_id: vec![1],
                value: vec![-1, -10],
                label: vec![],
            },
        ],
        string_table: st,
        time_nanos: 1_506_718_620_000_000_000,
        duration_nanos: 2_000_000_000,
        period_type: Some(proto::ValueType { r#type: 3, unit: 4 }),
        period: 10_000_000,
        comment: vec![16],
        ..Default::default()
    }
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

#[test]
fn decodes_raw_and_gzip_alike() {
    let raw = wire().encode_to_vec();
    let a = decode(&raw).unwrap();
    let b = decode(&gzip(&raw)).unwrap();
    assert_eq!(a.samples.len(), 3);
    assert_eq!(b.samples.len(), 3);
    assert_eq!(a.sample_types[1].ty, "cpu");
    assert_eq!(a.main_file(), Some("app"));
    assert_eq!(a.mappings[0].build_id, "bid");
    assert_eq!(a.comments, vec!["note"]);
    assert_eq!(a.period_type.as_ref().unwrap().unit, "nanoseconds");
    // Inlined frames stay in order, innermost first.
    let l = &a.locations[1];
    let names: Vec<_> = a
        .lines(l)
        .iter()
        .map(|ln| a.functions[ln.function.unwrap() as usize].name.as_str())
        .collect();
    assert_eq!(names, ["helper", "work"]);
    assert_eq!(a.samples.get(0).labels[0].key, "k");
    assert_eq!(a.samples.get(0).labels[0].str, "v");
    assert_eq!(a.samples.get(1).labels[0].num, 512);
    assert_eq!(a.samples.get(1).labels[0].num_unit, "bytes");
    assert_eq!(a.samples.get(2).values, vec![-1, -10]);
}

/// The Go runtime writes short repeated fields unpacked and long ones packed, in one profile.
#[test]
fn accepts_unpacked_repeated_fields() {
    let mut p = wire();
    let extra = p.sample.pop().unwrap();
    let mut bytes = p.encode_to_vec();
    let mut msg = Vec::new();
    prost::encoding::uint64::encode_repeated(1, &extra.location_id, &mut msg);
    prost::encoding::int64::encode_repeated(2, &extra.value, &mut msg);
    prost::encoding::encode_key(2, prost::encoding::WireType::LengthDelimited, &mut bytes);
    prost::encoding::encode_varint(msg.len() as u64, &mut bytes);
    bytes.extend_from_slice(&msg);
    // An unpacked comment too.
    prost::encoding::int64::encode_repeated(13, &[16], &mut bytes);
    let d = decode(&bytes).unwrap();
    assert_eq!(d.samples.len(), 3);
    assert_eq!(d.samples.get(2).values, vec![-1, -10]);
    assert_eq!(d.comments, vec!["note", "note"]);
}

#[test]
fn top_counts_recursion_once_and_marks_inline() {
    let p = decode(&wire().encode_to_vec()).unwrap();
    let r = top(&p, &TopOptions::default()).unwrap();
    // total = |30| + |20| + |-10|
    assert_eq!(r.total, 60);
    let row = |n: &str| r.rows.iter().find(|x| x.name == n).unwrap().clone();
    assert_eq!(row("rec").cum, 20, "recursion counted once per sample");
    assert_eq!(row("rec").flat, 20);
    assert_eq!(row("helper").inline, Some("inline"));
    assert_eq!(row("work").inline, None);
    assert_eq!(row("main").cum, 40);
    assert_eq!(row("main").flat, -10);
    let text = r.to_text();
    assert!(
        text.contains("Duration: 2s, Total samples = 60ns"),
        "{text}"
    );
    assert!(
        text.contains("30ns 50.00% 50.00%       30ns 50.00%  helper (inline)"),
        "{text}"
    );
}

#[test]
fn drop_frames_prunes_matching_frames_and_their_callees() {
    let mut w = wire();
    // Drop "rec": samples through rec keep only their callers.
    w.string_table.push("rec".into());
    w.drop_frames = w.string_table.len() as i64 - 1;
    let mut p = decode(&w.encode_to_vec()).unwrap();
    filter::remove_uninteresting(&mut p).unwrap();
    let ids: Vec<u64> = p
        .samples
        .get(1)
        .locations
        .iter()
        .map(|&l| p.locations[l as usize].id)
        .collect();
    assert_eq!(ids, vec![1]);
    // keep_frames overrides drop_frames.
    w.keep_frames = w.drop_frames;
    let mut p = decode(&w.encode_to_vec()).unwrap();
    filter::remove_uninteresting(&mut p).unwrap();
    assert_eq!(p.samples.get(1).locations.len(), 4);
}

#[test]
fn bad_references_are_clear_errors() {
    let check = |mut edit: Box<dyn FnMut(&mut proto::Profile)>, want: &str| {
        let mut w = wire();
        edit(&mut w);
        let e = decode(&w.encode_to_vec()).unwrap_err().to_string();
        assert!(e.contains(want), "{e:?} should mention {want:?}");
    };
    check(
        Box::new(|w| w.function[0].name = 999),
        "function name: string index 999 is out of range",
    );
    check(Box::new(|w| w.function[0].name = -1), "string index -1");
    check(
        Box::new(|w| w.sample[0].location_id[0] = 77),
        "sample refers to location id 77",
    );
    check(
        Box::new(|w| w.location[0].line[0].function_id = 42),
        "function id 42",
    );
    check(Box::new(|w| w.location[0].mapping_id = 9), "mapping id 9");
    check(
        Box::new(|w| w.string_table[0] = "x".into()),
        "string_table[0]",
    );
    check(
        Box::new(|w| w.sample[0].value.push(1)),
        "sample 0 has 3 values but the profile has 2",
    );
    check(
        Box::new(|w| w.location[1].id = 1),
        "duplicate location id 1",
    );
    check(Box::new(|w| w.function[1].id = 0), "function has id 0");
}

#[test]
fn truncated_gzip_and_garbage_are_errors() {
    let gz = gzip(&wire().encode_to_vec());
    let e = decode(&gz[..gz.len() / 2]).unwrap_err().to_string();
    assert!(e.starts_with("gunzip:"), "{e}");
    let e = decode(b"\x0a\xff\xff\xff\xff\x0f").unwrap_err().to_string();
    assert!(e.starts_with("not a pprof protobuf"), "{e}");
    assert_eq!(decode(b"").unwrap_err().to_string(), "empty input");
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&b);
        let mut gz = vec![0x1f, 0x8b];
        gz.extend_from_slice(&b);
        let _ = decode(&gz);
    }

    #[test]
    fn never_panics_on_truncated_or_flipped_profiles(cut in 0usize..2000, flip in 0usize..2000, bit in 0u8..8) {
        let raw = wire().encode_to_vec();
        for bytes in [raw.clone(), gzip(&raw)] {
            let mut b = bytes[..cut.min(bytes.len())].to_vec();
            if !b.is_empty() {
                let i = flip % b.len();
                b[i] ^= 1 << bit;
            }
            if let Ok(mut p) = decode(&b) {
                // Whatever decodes must also be safe to report on.
                let _ = filter::remove_uninteresting(&mut p);
                let _ = top(&p, &TopOptions::default());
            }
        }
    }
}

/// A small gzip of millions of empty samples (two bytes each on the wire) is refused once
/// the count passes what any real profile holds, instead of growing to gigabytes first.
#[test]
fn a_flood_of_empty_samples_is_refused_by_count() {
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let chunk = [0x12u8, 0x00].repeat(1 << 16);
    let wanted = boxwise_pprof::decode::MAX_ITEMS + 1;
    for _ in 0..wanted.div_ceil(1 << 16) {
        gz.write_all(&chunk).unwrap();
    }
    let bytes = gz.finish().unwrap();
    assert!(
        bytes.len() < 1 << 20,
        "the input stays small: {}",
        bytes.len()
    );
    let err = boxwise_pprof::decode::decode(&bytes)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("more than 16777216 samples"), "{err}");
}
