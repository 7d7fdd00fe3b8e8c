//! Every parser of text that comes from /proc, cgroupfs or the environment, fed the same
//! bytes: none may panic, whatever the input.
#![no_main]

use boxwise_box::goenv::{parse_gomaxprocs, parse_gomemlimit};
use boxwise_box::parse::{cgroupfs, cpulist::CpuList, mountinfo, proc_cgroup, psi, status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = mountinfo::parse(&text);
    let _ = proc_cgroup::parse(&text);
    let _ = status::parse(&text);
    let _ = CpuList::parse(&text);
    let _ = psi::parse(&text);
    let _ = cgroupfs::integer(&text);
    let _ = cgroupfs::max_or_integer(&text);
    let _ = cgroupfs::v1_limit(&text);
    let _ = cgroupfs::cfs_value(&text);
    let _ = cgroupfs::cpu_max(&text);
    let _ = cgroupfs::keyed(&text);
    let _ = parse_gomemlimit(&text);
    let _ = parse_gomaxprocs(&text);
});
