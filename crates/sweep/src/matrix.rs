//! Every combination of the swept limits and environment values.

use serde::Serialize;

/// One configuration: the limits to run under and the environment to add. `None` means the
/// dimension is not swept (no limit is set).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    pub cpus: Option<f64>,
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// `(NAME, value)` pairs, in the order the `--env` options were given; a JSON object.
    #[serde(serialize_with = "env_as_object")]
    pub env: Vec<(String, String)>,
}

fn env_as_object<S: serde::Serializer>(env: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(env.iter().map(|(k, v)| (k, v)))
}

impl Config {
    /// A short label for tables and plots: `cpus=1 memory=256MiB GOMAXPROCS=2`.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = self.cpus {
            parts.push(format!("cpus={c}"));
        }
        if let Some(m) = self.memory {
            parts.push(format!("memory={}", memory_label(m)));
        }
        parts.extend(self.env.iter().map(|(k, v)| format!("{k}={v}")));
        if parts.is_empty() {
            "default".into()
        } else {
            parts.join(" ")
        }
    }
}

fn memory_label(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    if bytes.is_multiple_of(1 << 30) {
        format!("{}GiB", bytes >> 30)
    } else if bytes.is_multiple_of(MIB) {
        format!("{}MiB", bytes / MIB)
    } else {
        bytes.to_string()
    }
}

/// The cartesian product, cpus varying slowest and the last `--env` fastest. An empty list
/// for a dimension means "not swept".
pub fn matrix(cpus: &[f64], memory: &[u64], env: &[(String, Vec<String>)]) -> Vec<Config> {
    let cpus: Vec<Option<f64>> = if cpus.is_empty() {
        vec![None]
    } else {
        cpus.iter().copied().map(Some).collect()
    };
    let memory: Vec<Option<u64>> = if memory.is_empty() {
        vec![None]
    } else {
        memory.iter().copied().map(Some).collect()
    };
    let mut envs: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for (name, values) in env {
        envs = envs
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push((name.clone(), v.clone()));
                    next
                })
            })
            .collect();
    }
    let mut out = Vec::new();
    for &c in &cpus {
        for &m in &memory {
            for e in &envs {
                out.push(Config {
                    cpus: c,
                    memory: m,
                    env: e.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn two_by_two_by_two() {
        let env = vec![("GOMAXPROCS".to_string(), vec!["1".into(), "2".into()])];
        let m = matrix(&[0.5, 1.0], &[256 << 20], &env);
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].label(), "cpus=0.5 memory=256MiB GOMAXPROCS=1");
        assert_eq!(m[3].label(), "cpus=1 memory=256MiB GOMAXPROCS=2");
        assert_eq!(matrix(&[], &[], &[])[0].label(), "default");
    }

    proptest! {
        #[test]
        fn size_is_the_product(c in 0usize..4, m in 0usize..4, e1 in 0usize..4, e2 in 0usize..4) {
            let cpus: Vec<f64> = (0..c).map(|i| i as f64 + 0.5).collect();
            let mem: Vec<u64> = (0..m).map(|i| (i as u64 + 1) << 20).collect();
            let env = vec![
                ("A".to_string(), (0..e1).map(|i| i.to_string()).collect::<Vec<_>>()),
                ("B".to_string(), (0..e2).map(|i| i.to_string()).collect::<Vec<_>>()),
            ];
            let n = matrix(&cpus, &mem, &env).len();
            prop_assert_eq!(n, c.max(1) * m.max(1) * e1 * e2);
        }
    }
}
