//! A deterministic large profile for performance runs and tests: `locations` locations over
//! a third as many functions (one in five with an inlined callee), `samples` samples with
//! stacks 8-32 deep drawn from a skewed distribution, CPU-profile sample types; and small
//! profiles of given stacks (`stacks_profile`) for tests.

use crate::proto;

/// xorshift64*: small, deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn large_profile(samples: usize, locations: usize) -> proto::Profile {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut strings = vec![
        String::new(),
        "samples".into(),
        "count".into(),
        "cpu".into(),
        "nanoseconds".into(),
        "/usr/local/bin/bigservice".into(),
    ];
    let functions_n = (locations / 3).max(1);
    let mut function = Vec::with_capacity(functions_n);
    for i in 0..functions_n {
        let pkg = [
            "main",
            "net/http",
            "encoding/json",
            "runtime",
            "github.com/acme/svc/store",
        ][i % 5];
        strings.push(format!("{pkg}.func{i:05}"));
        strings.push(format!("/src/{pkg}/file{}.go", i % 97));
        function.push(proto::Function {
            id: i as u64 + 1,
            name: strings.len() as i64 - 2,
            system_name: strings.len() as i64 - 2,
            filename: strings.len() as i64 - 1,
            start_line: (i % 500) as i64,
        });
    }
    let mut location = Vec::with_capacity(locations);
    for i in 0..locations {
        let f = (i % functions_n) as u64 + 1;
        let mut line = Vec::new();
        if i % 5 == 0 {
            line.push(proto::Line {
                function_id: rng.below(functions_n as u64) + 1,
                line: rng.below(900) as i64 + 1,
                column: 0,
            });
        }
        line.push(proto::Line {
            function_id: f,
            line: rng.below(900) as i64 + 1,
            column: 0,
        });
        location.push(proto::Location {
            id: i as u64 + 1,
            mapping_id: 1,
            address: 0x40_0000 + i as u64 * 16,
            line,
            is_folded: false,
        });
    }
    let mut sample = Vec::with_capacity(samples);
    for _ in 0..samples {
        let depth = 8 + rng.below(25) as usize;
        // Skewed: low location ids are hot, like a real service's main paths.
        let location_id = (0..depth)
            .map(|_| {
                let r = rng.below(locations as u64);
                (r * r / locations as u64).min(locations as u64 - 1) + 1
            })
            .collect();
        let count = 1 + rng.below(3) as i64;
        sample.push(proto::Sample {
            location_id,
            value: vec![count, count * 10_000_000],
            label: vec![],
        });
    }
    proto::Profile {
        sample_type: vec![
            proto::ValueType { r#type: 1, unit: 2 },
            proto::ValueType { r#type: 3, unit: 4 },
        ],
        sample,
        mapping: vec![proto::Mapping {
            id: 1,
            memory_start: 0x40_0000,
            memory_limit: 0x40_0000 + locations as u64 * 16 + 16,
            filename: 5,
            has_functions: true,
            has_filenames: true,
            has_line_numbers: true,
            has_inline_frames: true,
            ..Default::default()
        }],
        location,
        function,
        string_table: strings,
        time_nanos: 1_700_000_000_000_000_000,
        duration_nanos: 60_000_000_000,
        period_type: Some(proto::ValueType { r#type: 3, unit: 4 }),
        period: 10_000_000,
        ..Default::default()
    }
}

/// A small CPU profile (`samples`/`count`, `cpu`/`nanoseconds`, 10 ms period) with the given
/// stacks, each root first with its CPU time in nanoseconds: for tests that need a profile
/// of a known shape. One location per distinct frame name, no inlining.
pub fn stacks_profile(stacks: &[(&[&str], i64)]) -> proto::Profile {
    let mut strings: Vec<String> = ["", "samples", "count", "cpu", "nanoseconds", "/app"]
        .map(String::from)
        .to_vec();
    let mut function: Vec<proto::Function> = Vec::new();
    let mut location: Vec<proto::Location> = Vec::new();
    let mut sample = Vec::new();
    for (frames, nanos) in stacks {
        let mut ids = Vec::new();
        for name in frames.iter().rev() {
            let id = match strings.iter().position(|s| s == name) {
                Some(si) => function
                    .iter()
                    .find(|f| f.name == si as i64)
                    .map(|f| f.id)
                    .expect("frame names and fixed strings do not overlap"),
                None => {
                    strings.push(name.to_string());
                    let id = function.len() as u64 + 1;
                    function.push(proto::Function {
                        id,
                        name: strings.len() as i64 - 1,
                        system_name: strings.len() as i64 - 1,
                        filename: 0,
                        start_line: 1,
                    });
                    location.push(proto::Location {
                        id,
                        mapping_id: 1,
                        address: 0x1000 * id,
                        line: vec![proto::Line {
                            function_id: id,
                            line: 1,
                            column: 0,
                        }],
                        is_folded: false,
                    });
                    id
                }
            };
            ids.push(id);
        }
        sample.push(proto::Sample {
            location_id: ids,
            value: vec![nanos / 10_000_000, *nanos],
            label: vec![],
        });
    }
    proto::Profile {
        sample_type: vec![
            proto::ValueType { r#type: 1, unit: 2 },
            proto::ValueType { r#type: 3, unit: 4 },
        ],
        sample,
        mapping: vec![proto::Mapping {
            id: 1,
            filename: 5,
            has_functions: true,
            ..Default::default()
        }],
        location,
        function,
        string_table: strings,
        period_type: Some(proto::ValueType { r#type: 3, unit: 4 }),
        period: 10_000_000,
        duration_nanos: 5_000_000_000,
        ..Default::default()
    }
}

/// The protobuf bytes of a wire profile (uncompressed; `decode` takes both).
pub fn encode(p: &proto::Profile) -> Vec<u8> {
    prost::Message::encode_to_vec(p)
}
