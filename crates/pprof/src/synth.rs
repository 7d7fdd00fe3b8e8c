//! A deterministic large profile for performance runs and tests: `locations` locations over
//! a third as many functions (one in five with an inlined callee), `samples` samples with
//! stacks 8-32 deep drawn from a skewed distribution, CPU-profile sample types.

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
