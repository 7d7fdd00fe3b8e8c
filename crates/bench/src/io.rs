//! `bench io`: time each write(2) (and its sync) on a file in each directory, then
//! buffered writes of small records at several buffer sizes. The test file is removed when
//! a case ends, whatever happened.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use boxwise_box::parse::mountinfo;
use nix::libc;

use crate::error::{Error, Result};
use crate::interrupt;
use crate::model::{self, BufferedResult, IoReport, IoResult, Latency};
use crate::spec::{IoSpec, SyncMode};

/// Run every case of `spec`; `progress` hears about each finished one.
pub fn run(spec: &IoSpec, mut progress: impl FnMut(&str)) -> Result<IoReport> {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .ok()
        .and_then(|t| mountinfo::parse(&t).ok())
        .unwrap_or_default();
    let mut report = IoReport {
        results: Vec::new(),
        buffered: Vec::new(),
        io_limits: Vec::new(),
        interrupted: false,
    };
    let largest = spec.blocks.iter().copied().max().unwrap_or(4096) as usize;
    let block: Vec<u8> = (0..largest).map(|i| (i % 251) as u8 + 1).collect();
    for dir in &spec.dirs {
        let canonical = dir
            .canonicalize()
            .map_err(|e| Error::file(dir, "cannot open directory", e))?;
        let fs_type = model::fs_type_of(&mounts, &canonical);
        if let Some(limit) = crate::limit::of(dir) {
            report.io_limits.push(limit);
        }
        for &bytes in &spec.blocks {
            for &sync in &spec.syncs {
                if interrupt::requested() {
                    report.interrupted = true;
                    return Ok(report);
                }
                let r = match one_case(spec, dir, &fs_type, &block[..bytes as usize], sync) {
                    Ok(r) => r,
                    Err(_) if interrupt::requested() => break,
                    Err(e) => return Err(e),
                };
                progress(&format!(
                    "{} {} {} p50 {:?} us",
                    dir.display(),
                    bytes,
                    sync.name(),
                    r.p50_us
                ));
                report.results.push(r);
            }
        }
        for &buffer in &spec.buffers {
            if interrupt::requested() {
                report.interrupted = true;
                return Ok(report);
            }
            report
                .buffered
                .push(buffered_case(spec, dir, &fs_type, buffer)?);
        }
    }
    report.interrupted = interrupt::requested();
    Ok(report)
}

/// The test file; removed on drop (success, error, or an unwinding panic).
struct Scratch {
    path: PathBuf,
    file: File,
}

impl Scratch {
    fn create(dir: &Path, dsync: bool) -> Result<Scratch> {
        let path = dir.join(format!(".boxwise-bench-{}.tmp", std::process::id()));
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(true);
        if dsync {
            opts.custom_flags(libc::O_DSYNC);
        }
        let file = opts
            .open(&path)
            .map_err(|e| Error::file(&path, "cannot create test file", e))?;
        Ok(Scratch { path, file })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn one_case(
    spec: &IoSpec,
    dir: &Path,
    fs_type: &str,
    block: &[u8],
    sync: SyncMode,
) -> Result<IoResult> {
    let scratch = Scratch::create(dir, sync == SyncMode::ODsync)?;
    let size = block.len() as u64;
    // Whole blocks only, at least one.
    let span = (spec.file_bytes / size).max(1) * size;
    let limit = span.saturating_mul(4);
    let mut hist = model::histogram();
    let mut written = 0u64;
    let start = Instant::now();
    while written == 0
        || (start.elapsed() < spec.duration && written < limit && !interrupt::requested())
    {
        let t = Instant::now();
        scratch
            .file
            .write_all_at(block, written % span)
            .map_err(|e| Error::file(&scratch.path, "write", e))?;
        match sync {
            SyncMode::Fsync => scratch.file.sync_all(),
            SyncMode::Fdatasync => scratch.file.sync_data(),
            SyncMode::None | SyncMode::ODsync => Ok(()),
        }
        .map_err(|e| Error::file(&scratch.path, "sync", e))?;
        let _ = hist.record((t.elapsed().as_nanos() as u64).max(1));
        written += size;
    }
    let seconds = start.elapsed().as_secs_f64();
    let l = Latency::of(&hist);
    Ok(IoResult {
        dir: dir.to_path_buf(),
        fs_type: fs_type.to_string(),
        block_bytes: size,
        sync,
        p50_us: l.p50_us,
        p99_us: l.p99_us,
        p999_us: l.p999_us,
        max_us: l.max_us,
        writes: l.samples,
        bytes: written,
        seconds,
        throughput_bytes_per_second: model::rate(written, seconds),
        iops: (seconds > 0.0).then(|| l.samples as f64 / seconds),
    })
}

/// Counts the write(2) calls the buffer makes.
struct Counting<'a> {
    file: &'a File,
    calls: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.calls += 1;
        (&*self.file).write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn buffered_case(spec: &IoSpec, dir: &Path, fs_type: &str, buffer: u64) -> Result<BufferedResult> {
    let scratch = Scratch::create(dir, false)?;
    let record: Vec<u8> = (0..spec.record_bytes)
        .map(|i| b'a' + (i % 26) as u8)
        .collect();
    let mut counting = Counting {
        file: &scratch.file,
        calls: 0,
    };
    let mut bytes = 0u64;
    let start = Instant::now();
    {
        let mut w = BufWriter::with_capacity(buffer as usize, &mut counting);
        while bytes < spec.buffered_total_bytes && !interrupt::requested() {
            w.write_all(&record)
                .map_err(|e| Error::file(&scratch.path, "write", e))?;
            bytes += record.len() as u64;
        }
        w.flush()
            .map_err(|e| Error::file(&scratch.path, "write", e))?;
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(BufferedResult {
        dir: dir.to_path_buf(),
        fs_type: fs_type.to_string(),
        buffer_bytes: buffer,
        record_bytes: spec.record_bytes,
        write_calls: counting.calls,
        bytes,
        seconds,
        throughput_bytes_per_second: model::rate(bytes, seconds),
    })
}
