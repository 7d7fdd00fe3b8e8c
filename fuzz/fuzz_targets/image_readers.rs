//! The image readers on arbitrary bytes: the OCI / docker-save JSON documents, one layer
//! blob (gzip, zstd or plain tar) scanned from a Cursor, a whole `docker save` stream, and
//! the `.dive-ci` rules: nothing may panic.
#![no_main]

use std::io::Cursor;

use boxwise_image::spec::{self, Config, Index, Manifest, SaveEntry};
use boxwise_image::{ci, fs, layer, source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = spec::parse::<Vec<SaveEntry>>("manifest.json", data);
    if let Ok(index) = spec::parse::<Index>("index", data) {
        for d in &index.manifests {
            let _ = spec::blob_path(&d.digest);
        }
    }
    let _ = spec::parse::<Manifest>("manifest", data);
    if let Ok(config) = spec::parse::<Config>("config", data) {
        let _ = boxwise_image::judge::base_from_history(&config.history);
    }
    if let Ok(scan) = layer::scan(Cursor::new(data), "fuzz") {
        let f = fs::apply(&[&scan]);
        let _ = f.size_bytes();
        let _ = f.resolve("/usr/local/bin/app");
    }
    let _ = source::read_tar_stream(Cursor::new(data), None);
    let _ = source::read_tar_stream(Cursor::new(data), Some("linux/amd64"));
    let text = String::from_utf8_lossy(data);
    let _ = ci::parse_dive_ci(&text);
    let _ = ci::parse_ratio(&text);
    let _ = ci::parse_size(&text);
    let _ = layer::clean_path(&text);
});
