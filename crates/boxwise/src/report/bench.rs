//! Text for `bench net` and `bench io`: one row per case, within 80 columns.

use std::fmt::Write as _;

use boxwise_bench::{IoReport, NetMode, NetReport, SyncMode};

/// Microseconds with as many decimals as are meaningful; "unknown" when not measured.
fn us(v: Option<f64>) -> String {
    match v {
        None => "unknown".into(),
        Some(x) if x < 10.0 => format!("{x:.2}"),
        Some(x) if x < 1000.0 => format!("{x:.1}"),
        Some(x) => format!("{x:.0}"),
    }
}

fn mib_s(v: Option<f64>) -> String {
    v.map_or_else(|| "unknown".into(), |b| format!("{:.0}", b / 1048576.0))
}

pub fn size(b: u64) -> String {
    match b {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{}m", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{}k", b >> 10),
        b => b.to_string(),
    }
}

/// Keep the head of a long name (`fuse-overlayfs` reads best from its start).
fn head(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(width - 1).collect::<String>())
    }
}

/// The filesystem column: a FUSE filesystem by its subtype (`fuse.fuse-overlayfs` is
/// fuse-overlayfs), cut to 9 characters.
fn fs(t: &str) -> String {
    head(t.strip_prefix("fuse.").unwrap_or(t), 9)
}

/// Keep the tail of a long path (the end says most), within `width` characters.
fn tail(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        s.to_string()
    } else {
        let skip = n - (width - 1);
        format!("…{}", s.chars().skip(skip).collect::<String>())
    }
}

/// Wrap a sentence at 79 columns (notes under a table).
fn wrap(out: &mut String, text: &str) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > 79 {
            let _ = writeln!(out, "{line}");
            line = "  ".into();
        }
        if !line.trim().is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.trim().is_empty() {
        let _ = writeln!(out, "{line}");
    }
}

pub fn net(r: &NetReport) -> String {
    let mut out = String::new();
    // docker-bridge is 13 characters: the address and trips columns give way.
    let docker = r.results.iter().any(|x| x.mode.is_docker());
    let (mode_w, addr_w, trips_w) = if docker { (13, 16, 9) } else { (7, 18, 10) };
    let _ = writeln!(
        out,
        "{:<mode_w$} {:<addr_w$} {:>9} {:>9} {:>9} {:>trips_w$} {:>9}",
        "mode", "address", "p50 us", "p99 us", "p99.9 us", "trips", "MiB/s"
    );
    for x in &r.results {
        let _ = writeln!(
            out,
            "{:<mode_w$} {:<addr_w$} {:>9} {:>9} {:>9} {:>trips_w$} {:>9}",
            x.mode.name(),
            tail(&x.address, addr_w),
            us(x.p50_us),
            us(x.p99_us),
            us(x.p999_us),
            x.round_trips,
            mib_s(x.throughput_bytes_per_second)
        );
    }
    let host = r.results.iter().find(|x| x.mode == NetMode::Host);
    let docker_host = r.results.iter().find(|x| x.mode == NetMode::DockerHost);
    for x in &r.results {
        // Each mode against its own baseline: Docker's bridge against Docker's host mode.
        let (base, against, what) = match x.mode {
            NetMode::Host | NetMode::DockerHost => continue,
            NetMode::Bridge => (host, "on host loopback", "two veth hops, a bridge and NAT"),
            NetMode::Veth => (
                host,
                "on host loopback",
                "a veth hop between two network stacks",
            ),
            NetMode::DockerBridge => (
                docker_host,
                "with --network host",
                "Docker's bridge (two veth hops and docker0)",
            ),
        };
        if let (Some(h), Some(p)) = (base.and_then(|h| h.p50_us), x.p50_us) {
            let verdict = if p > h {
                format!("{:+.1} us, the cost of {what}", p - h)
            } else {
                "no extra cost measurable in this run; repeat it, the noise is larger".into()
            };
            wrap(
                &mut out,
                &format!(
                    "{}: median round trip {} us against {} us {against}: {verdict}.",
                    x.mode.name(),
                    us(Some(p)),
                    us(Some(h)),
                ),
            );
        }
    }
    wrap(
        &mut out,
        &format!(
            "Round trips of {} bytes over one TCP connection; throughput is one stream.",
            r.results.first().map_or(0, |x| x.size_bytes)
        ),
    );
    out
}

/// The io table; `width` is the terminal's (`None`: a pipe or `--wide`, so directory
/// names are shown whole rather than cut to fit 80 columns).
pub fn io(r: &IoReport, width: Option<usize>) -> String {
    let mut out = String::new();
    let dir_w = match width {
        Some(_) => 14,
        None => r
            .results
            .iter()
            .map(|x| x.dir.to_string_lossy().chars().count())
            .max()
            .unwrap_or(3)
            .max(14),
    };
    let _ = writeln!(
        out,
        "{:<dir_w$} {:<9} {:>5} {:<9} {:>9} {:>9} {:>8} {:>9}",
        "dir", "fs", "block", "sync", "p50 us", "p99 us", "MiB/s", "IOPS"
    );
    for x in &r.results {
        let _ = writeln!(
            out,
            "{:<dir_w$} {:<9} {:>5} {:<9} {:>9} {:>9} {:>8} {:>9}",
            tail(&x.dir.to_string_lossy(), dir_w),
            fs(&x.fs_type),
            size(x.block_bytes),
            x.sync.name(),
            us(x.p50_us),
            us(x.p99_us),
            mib_s(x.throughput_bytes_per_second),
            x.iops
                .map_or_else(|| "unknown".into(), |v| format!("{v:.0}"))
        );
    }
    for x in &r.results {
        if x.sync != SyncMode::Fsync {
            continue;
        }
        let plain = r
            .results
            .iter()
            .find(|y| y.dir == x.dir && y.block_bytes == x.block_bytes && y.sync == SyncMode::None);
        if let (Some(f), Some(n)) = (x.p50_us, plain.and_then(|p| p.p50_us)) {
            let ratio = f / n.max(0.001);
            let why = if ratio < 2.0 {
                "nothing to wait for: this filesystem has no device behind it (tmpfs) \
                 or its device acknowledges at once."
            } else {
                "each Sync() waits for the device, a plain write only for the page cache."
            };
            wrap(
                &mut out,
                &format!(
                    "{} {}: fsync makes a write {ratio:.1}x as slow (median): {why}",
                    x.dir.to_string_lossy(),
                    size(x.block_bytes),
                ),
            );
        }
    }
    for l in &r.io_limits {
        let c = &l.caps;
        let mut caps = Vec::new();
        for (what, v, bytes) in [
            ("reads", c.read_bps, true),
            ("writes", c.write_bps, true),
            ("reads", c.read_iops, false),
            ("writes", c.write_iops, false),
        ] {
            if let Some(v) = v {
                caps.push(if bytes {
                    format!("{what} at {} MiB/s", mib_s(Some(v as f64)))
                } else {
                    format!("{what} at {v} IOPS")
                });
            }
        }
        wrap(
            &mut out,
            &format!(
                "{}: this process's cgroup caps disk {} ({}): {}.{}",
                l.dir.to_string_lossy(),
                l.device,
                l.cgroup.to_string_lossy(),
                caps.join(", "),
                if l.cgroup_version == "v1" {
                    " On cgroup v1 only synced and direct writes are held to it, not \
                     buffered ones (the kernel's flusher writes those back uncharged)."
                } else {
                    ""
                }
            ),
        );
    }
    if !r.buffered.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<14} {:<9} {:>7} {:>7} {:>12} {:>9}",
            "buffered: dir", "fs", "buffer", "record", "write calls", "MiB/s"
        );
        for x in &r.buffered {
            let _ = writeln!(
                out,
                "{:<14} {:<9} {:>7} {:>7} {:>12} {:>9}",
                tail(&x.dir.to_string_lossy(), 14),
                fs(&x.fs_type),
                size(x.buffer_bytes),
                size(x.record_bytes),
                x.write_calls,
                mib_s(x.throughput_bytes_per_second)
            );
        }
        wrap(
            &mut out,
            "Records handed to a buffer (bufio.Writer): a bigger buffer means fewer \
             write(2) calls; past the point where the calls stop mattering it only uses \
             memory.",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use boxwise_bench::{BufferedResult, IoResult, NetResult};
    use std::path::PathBuf;

    fn net_row(mode: NetMode, p50: Option<f64>) -> NetResult {
        NetResult {
            mode,
            address: "10.231.2.1:47001".into(),
            size_bytes: 64,
            round_trips: 1000,
            p50_us: p50,
            p99_us: p50.map(|p| p * 3.0),
            p999_us: None,
            max_us: None,
            throughput_bytes_per_second: Some(3.0e9),
        }
    }

    fn narrow(text: &str) {
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{} columns: {line}", line.len());
        }
    }

    #[test]
    fn net_fits_80_columns_and_says_unknown() {
        let r = NetReport {
            results: vec![
                net_row(NetMode::Host, Some(7.3)),
                net_row(NetMode::Veth, Some(6.2)),
                net_row(NetMode::Bridge, Some(12.25)),
            ],
            interrupted: false,
        };
        let text = net(&r);
        narrow(&text);
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(text.contains("unknown"), "{text}");
        assert!(
            text.contains("+5.0 us, the cost of two veth hops"),
            "{text}"
        );
        assert!(text.contains("veth: median round trip 6.20 us") && text.contains("no extra cost"));
        let r = NetReport {
            results: vec![
                net_row(NetMode::DockerBridge, Some(30.0)),
                net_row(NetMode::DockerHost, Some(12.0)),
            ],
            interrupted: false,
        };
        let text = net(&r);
        narrow(&text);
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains("docker-bridge: median round trip 30.0 us against 12.0 us with --network host: +18.0 us"),
            "{text}"
        );
    }

    #[test]
    fn io_fits_80_columns_with_long_names() {
        let row = |sync, p50| IoResult {
            dir: PathBuf::from("/var/lib/a/very/long/directory/name"),
            fs_type: "fuse.fuse-overlayfs".into(),
            block_bytes: 4096,
            sync,
            p50_us: Some(p50),
            p99_us: Some(p50 * 2.0),
            p999_us: None,
            max_us: None,
            writes: 10,
            bytes: 40960,
            seconds: 1.0,
            throughput_bytes_per_second: None,
            iops: None,
        };
        let r = IoReport {
            results: vec![row(SyncMode::None, 1.5), row(SyncMode::Fsync, 4500.0)],
            buffered: vec![BufferedResult {
                dir: PathBuf::from("/dev/shm"),
                fs_type: "tmpfs".into(),
                buffer_bytes: 64 << 10,
                record_bytes: 128,
                write_calls: 1024,
                bytes: 64 << 20,
                seconds: 0.1,
                throughput_bytes_per_second: Some(640.0 * 1048576.0),
            }],
            io_limits: vec![boxwise_bench::limit::IoLimit {
                dir: PathBuf::from("/var/tmp"),
                device: boxwise_box::cgroup::io::Device {
                    major: 254,
                    minor: 0,
                },
                caps: boxwise_box::cgroup::io::Caps {
                    write_bps: Some(4 << 20),
                    ..Default::default()
                },
                cgroup: PathBuf::from("/sys/fs/cgroup/blkio/boxwise/run-1-0"),
                cgroup_version: "v1",
            }],
            interrupted: false,
        };
        // A pipe or --wide (no width): the directory is whole.
        let wide = io(&r, None);
        assert!(
            wide.contains("/var/lib/a/very/long/directory/name"),
            "{wide}"
        );
        let text = io(&r, Some(80));
        narrow(&text);
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains("fuse-ove…") && text.contains("…irectory/name"),
            "{text}"
        );
        assert!(text.contains("3000.0x as slow"), "{text}");
        assert!(text.contains("64k") && text.contains("640"), "{text}");
        assert!(
            text.contains(
                "caps disk 254:0 (/sys/fs/cgroup/blkio/boxwise/run-1-0): writes at 4 MiB/s."
            ),
            "{text}"
        );
    }
}
