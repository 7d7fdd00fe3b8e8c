//! A noisy neighbour (`run --neighbour cpu=1,memory=256m`): competing load in a sibling
//! cgroup for as long as the workload runs, as another tenant on the same node would be.
//! What it is lives here (pure); starting it, in `neighbour_run`.

use crate::error::{Error, Result};
use crate::quota;

/// What the neighbour burns: CPUs' worth of spinning, and memory held (touched) throughout.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Neighbour {
    pub cpus: Option<f64>,
    pub memory: Option<u64>,
}

/// Most memory a neighbour may hold: bounded, so a typo cannot take the machine down.
const MAX_MEMORY: u64 = 64 << 30;

/// Parse `cpu=1`, `memory=256m`, `cpu=0.5,memory=1g` (`cpus` accepted too).
pub fn parse(text: &str, size: impl Fn(&str) -> Option<u64>) -> Result<Neighbour> {
    let bad = |why: &str| Error::Spec(format!("--neighbour {text:?}: {why}"));
    let mut n = Neighbour::default();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| bad("expected cpu=N and/or memory=SIZE"))?;
        match key.trim() {
            "cpu" | "cpus" => {
                let cpus: f64 = value
                    .trim()
                    .parse()
                    .map_err(|_| bad("cpu: expected a number"))?;
                quota::cpu_quota_us_for("cpus=", cpus).map_err(|e| bad(&e.to_string()))?;
                if cpus > 256.0 {
                    return Err(bad("cpu: at most 256"));
                }
                n.cpus = Some(cpus);
            }
            "memory" => {
                let b = size(value.trim())
                    .filter(|&b| b > 0 && b <= MAX_MEMORY)
                    .ok_or_else(|| bad("memory: expected a size from 1 byte to 64g"))?;
                n.memory = Some(b);
            }
            other => {
                return Err(bad(&format!(
                    "unknown key {other:?}; expected cpu or memory"
                )));
            }
        }
    }
    if n.cpus.is_none() && n.memory.is_none() {
        return Err(bad("expected cpu=N and/or memory=SIZE"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mib(s: &str) -> Option<u64> {
        s.strip_suffix('m')?.parse::<u64>().ok().map(|n| n << 20)
    }

    #[test]
    fn parses() {
        assert_eq!(
            parse("cpu=1", mib).unwrap(),
            Neighbour {
                cpus: Some(1.0),
                memory: None
            }
        );
        assert_eq!(
            parse("cpus=0.5, memory=256m", mib).unwrap(),
            Neighbour {
                cpus: Some(0.5),
                memory: Some(256 << 20)
            }
        );
        for bad in ["", "cpu", "cpu=0", "cpu=1000", "memory=0m", "disk=1"] {
            let e = parse(bad, mib).unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse(&s, mib);
        }
    }
}
