//! Pure parsers, one per file format. Each takes the file's text and returns typed values or a
//! [`ParseError`](crate::ParseError) quoting the offending text; none of them touch the disk.

pub mod cgroupfs;
pub mod cpulist;
pub mod mountinfo;
pub mod proc_cgroup;
pub mod psi;
pub mod stat;
pub mod status;

pub use cpulist::CpuList;
pub use mountinfo::Mount;
pub use proc_cgroup::CgroupLine;
pub use psi::Pressure;
