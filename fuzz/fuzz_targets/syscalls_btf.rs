//! The BTF reader (/sys/kernel/btf/vmlinux) and the cpu list parser on arbitrary bytes:
//! nothing may panic.
#![no_main]

use boxwise_syscalls::{btf, cpulist};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = btf::member_offset(data, "task_struct", "tgid");
    let _ = btf::member_offset(data, "", "");
    let _ = cpulist::count(&String::from_utf8_lossy(data));
});
