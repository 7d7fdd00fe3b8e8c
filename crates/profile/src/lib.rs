//! `boxwise profile`: a CPU profile of a running process from outside, with no code change.
//! `sample` drives `perf_event_open` (the only unsafe code is in `perf`), `pclntab` and
//! `symbols` read names from the target's own executable and the kernel, and `build` writes
//! a pprof profile that `go tool pprof` and `boxwise pprof` read.

pub mod build;
mod perf;
pub use perf::interrupt_flag;
pub mod pclntab;
pub mod sample;
pub mod symbols;

pub use build::{Built, Symbolizer, Target, build, encode_gzip};
pub use sample::{Collected, Options, SampleError};

/// Files of the target read at the I/O edge (capped: an executable above 1 GiB is refused).
pub struct TargetFiles {
    pub exe: Vec<u8>,
    pub exe_path: String,
    pub maps: Vec<symbols::MapEntry>,
    pub kallsyms: Option<symbols::Kallsyms>,
}

const MAX_EXE: u64 = 1 << 30;

impl TargetFiles {
    /// Reads `/proc/PID/exe` (works across mount namespaces), `/proc/PID/maps` and
    /// not yet `/proc/kallsyms` (see [`profile`]). Call while the target is alive.
    pub fn read(pid: u32) -> std::io::Result<TargetFiles> {
        use std::io::Read;
        let exe_link = format!("/proc/{pid}/exe");
        let exe_path = std::fs::read_link(&exe_link)?
            .to_string_lossy()
            .trim_end_matches(" (deleted)")
            .to_string();
        let mut exe = Vec::new();
        std::fs::File::open(&exe_link)?
            .take(MAX_EXE)
            .read_to_end(&mut exe)?;
        let maps = symbols::parse_maps(&std::fs::read_to_string(format!("/proc/{pid}/maps"))?);
        Ok(TargetFiles {
            exe,
            exe_path,
            maps,
            kallsyms: None,
        })
    }

    pub fn target(&self) -> Target<'_> {
        Target {
            exe: &self.exe,
            exe_path: &self.exe_path,
            maps: &self.maps,
            kallsyms: self.kallsyms.as_ref(),
        }
    }
}

/// Samples `opts.pid` and builds the profile: the whole run, between the I/O edge (perf
/// events, `/proc`) and the pure symbolizer. `reap` reports a child of ours having exited.
pub fn profile(
    opts: &Options,
    files: &mut TargetFiles,
    stop: &std::sync::atomic::AtomicBool,
    reap: impl FnMut() -> bool,
) -> Result<(Collected, Built), SampleError> {
    let image = boxwise_goprog::elf::ElfImage::parse(&files.exe).ok();
    let tab = image
        .as_ref()
        .and_then(|i| pclntab::Pclntab::from_elf(i).ok());
    let bias = image
        .as_ref()
        .map(|i| build::load_bias(i, &files.target()))
        .unwrap_or(0);
    let sp_delta = |pc: u64| tab.as_ref()?.sp_delta(pc.wrapping_sub(bias));
    let collected = sample::run(opts, stop, reap, sp_delta)?;
    // Kernel symbols are the same for every target: read after sampling, so a short-lived
    // target is not missed while 100k lines are parsed.
    let kallsyms = std::fs::read_to_string("/proc/kallsyms")
        .ok()
        .and_then(|t| symbols::Kallsyms::parse(&t));
    files.kallsyms = kallsyms;
    let built = build(&collected, &files.target());
    Ok((collected, built))
}
