//! Text and JSON for `boxwise profile`: what was sampled, how much was lost, what the names
//! came from, and where the profile went.

use boxwise_profile::{Built, Collected, Symbolizer};

pub struct RunFacts<'a> {
    pub pid: u32,
    pub exe: String,
    pub hz: u64,
    pub output: String,
    pub collected: &'a Collected,
    pub built: &'a Built,
    pub kallsyms: bool,
}

impl RunFacts<'_> {
    fn symbols(&self) -> &'static str {
        match self.built.symbolizer {
            Symbolizer::GoPclntab { inline: true, .. } => "Go pclntab, with inlined frames",
            Symbolizer::GoPclntab { inline: false, .. } => "Go pclntab (inline tree not found)",
            Symbolizer::ElfSymbols => "ELF symbols (not a Go binary)",
            Symbolizer::None => "none (not Go, no ELF symbols): addresses only",
        }
    }

    fn kernel(&self) -> &'static str {
        if self.collected.kernel_excluded {
            "not sampled (not permitted)"
        } else if self.kallsyms {
            "named from /proc/kallsyms"
        } else {
            "one [kernel] frame (/proc/kallsyms hidden)"
        }
    }

    fn ended(&self) -> &'static str {
        if self.collected.target_exited {
            "target exited (profile has what was collected)"
        } else if self.collected.interrupted {
            "interrupted (profile has what was collected)"
        } else {
            "time up"
        }
    }

    pub fn json(&self) -> serde_json::Value {
        let c = self.collected;
        serde_json::json!({
            "pid": self.pid,
            "executable": self.exe,
            "hz": self.hz,
            "duration_seconds": c.elapsed.as_secs_f64(),
            "samples": self.built.samples,
            "cpu_nanoseconds": c.samples.iter().map(|s| s.period).sum::<u64>(),
            "lost_samples": c.lost,
            "offcpu_nanoseconds": c.offcpu.as_ref().map(|v| v.iter().map(|s| s.period).sum::<u64>()),
            "offcpu_switches": c.offcpu.as_ref().map(|v| v.iter().map(|s| s.count).sum::<u64>()),
            "threads": c.threads,
            "unsymbolized_samples": self.built.unsymbolized,
            "symbolizer": self.built.symbolizer,
            "kernel_frames": !c.kernel_excluded,
            "kallsyms": self.kallsyms,
            "target_exited": c.target_exited,
            "interrupted": c.interrupted,
            "output": self.output,
        })
    }
}

fn clip(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        return s.to_string();
    }
    let tail: String = s
        .chars()
        .rev()
        .take(w - 3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("...{tail}")
}

pub fn render(f: &RunFacts<'_>) -> String {
    let c = f.collected;
    let cpu: u64 = c.samples.iter().map(|s| s.period).sum();
    let mut out = String::new();
    out.push_str(&format!("profile of PID {} {}\n", f.pid, clip(&f.exe, 56)));
    let rows = [
        (
            "sampled",
            format!(
                "{:.1}s at {} Hz, {} thread{}",
                c.elapsed.as_secs_f64(),
                f.hz,
                c.threads,
                if c.threads == 1 { "" } else { "s" }
            ),
        ),
        (
            "samples",
            format!("{} ({:.2}s of CPU)", f.built.samples, cpu as f64 / 1e9),
        ),
        (
            "lost",
            if c.lost == 0 {
                "0 samples".to_string()
            } else {
                format!("{} samples (ring buffer full: try a lower --hz)", c.lost)
            },
        ),
        (
            "off-CPU",
            match &c.offcpu {
                None => "not recorded (--offcpu)".to_string(),
                Some(v) => format!(
                    "{:.2}s in {} switches (-sample_index=offcpu)",
                    v.iter().map(|s| s.period).sum::<u64>() as f64 / 1e9,
                    v.iter().map(|s| s.count).sum::<u64>()
                ),
            },
        ),
        ("names", f.symbols().to_string()),
        ("kernel", f.kernel().to_string()),
        ("ended", f.ended().to_string()),
        ("wrote", clip(&f.output, 64)),
        (
            "read it",
            clip(&format!("boxwise pprof top {}", f.output), 64),
        ),
    ];
    for (k, v) in rows {
        out.push_str(&format!("  {k:<9} {v}\n"));
    }
    if f.built.samples == 0 {
        out.push_str("  note: no samples: the target used no CPU while it was sampled.\n");
    } else if f.built.unsymbolized * 2 > f.built.samples {
        out.push_str(
            "  note: most samples have no names: the executable has no symbols boxwise can read.\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use boxwise_profile::{Target, build};
    use std::time::{Duration, SystemTime};

    fn sampled_line(threads: usize) -> String {
        let collected = Collected {
            samples: Vec::new(),
            offcpu: None,
            lost: 0,
            threads,
            started: SystemTime::now(),
            elapsed: Duration::from_secs(2),
            period_ns: 10_101_010,
            target_exited: false,
            interrupted: false,
            kernel_excluded: false,
        };
        let built = build(
            &collected,
            &Target {
                exe: &[],
                exe_path: "/x",
                maps: &[],
                kallsyms: None,
            },
        );
        let facts = RunFacts {
            pid: 7,
            exe: "/x".into(),
            hz: 99,
            output: "cpu.pprof".into(),
            collected: &collected,
            built: &built,
            kallsyms: false,
        };
        render(&facts)
            .lines()
            .find(|l| l.trim_start().starts_with("sampled"))
            .expect("sampled row")
            .trim()
            .to_string()
    }

    #[test]
    fn threads_singular_and_plural() {
        assert_eq!(sampled_line(1), "sampled   2.0s at 99 Hz, 1 thread");
        assert_eq!(sampled_line(0), "sampled   2.0s at 99 Hz, 0 threads");
        assert_eq!(sampled_line(4), "sampled   2.0s at 99 Hz, 4 threads");
    }
}
