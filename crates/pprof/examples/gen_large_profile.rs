//! Writes the large synthetic profile used by the `pprof top` benchmark:
//! `cargo run --release -p boxwise-pprof --example gen_large_profile -- OUT.pb.gz`
//! (100,000 samples, 60,000 locations; see docs/benchmarks.md).

use std::io::Write;

use prost::Message;

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "large.pb.gz".into());
    let p = boxwise_pprof::synth::large_profile(100_000, 60_000);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&p.encode_to_vec()).unwrap();
    let bytes = gz.finish().unwrap();
    std::fs::write(&out, &bytes).unwrap_or_else(|e| panic!("writing {out}: {e}"));
    eprintln!("{out}: {} bytes", bytes.len());
}
