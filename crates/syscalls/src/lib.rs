//! `boxwise syscalls`: counts a process's system calls in the kernel with BPF and reads the
//! result for a Go program.
//!
//! Data flows one way: [`session`] attaches raw tracepoints assembled in [`asm`] (through
//! the one unsafe module, [`sys`]) and returns raw counters; [`model`] turns them into a
//! table; [`goread`] judges the table against what the Go runtime is known to do.
#![deny(unsafe_code)]

pub mod asm;
pub mod btf;
pub mod cpulist;
#[doc(hidden)]
pub mod floor;
pub mod goread;
pub mod hist;
pub mod model;
pub mod names;
pub mod session;
mod sys;
mod tables;

pub use model::{Row, Table};
pub use names::Arch;
pub use session::{End, Error, Options, Outcome, Target, trace};
