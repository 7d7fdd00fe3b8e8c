//! The OOM readers on arbitrary bytes: `/dev/kmsg` records and the kills found in them, and
//! the container engine's inspect JSON: nothing may panic.
#![no_main]

use boxwise_oom::{belongs, docker, kmsg};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = docker::parse(data);
    let text = String::from_utf8_lossy(data);
    let records: Vec<_> = text.lines().filter_map(kmsg::record).collect();
    for k in kmsg::kills(records) {
        let _ = format!("{k:?}");
    }
    if let Some((memcg, cgroup)) = text.split_once('\n') {
        let _ = belongs(memcg, cgroup);
    }
});
