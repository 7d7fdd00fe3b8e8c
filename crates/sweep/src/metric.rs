//! The numbers a run is judged by: the standard metrics boxwise measures itself ([`Metric`]),
//! the workload's own (`--metric`), and a map of them ([`Metrics`]) that serialises as one
//! object keyed by name, in name order, as the JSON has always been.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};

/// A metric boxwise measures itself. Its name is the JSON key and the `--objective` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    WallSeconds,
    CpuSeconds,
    ThrottledPct,
    PeakMemoryMib,
    GcCount,
    GcPerSecond,
    GcCpuPct,
    GcPauseTotalMs,
    P50,
    P90,
    P99,
    P999,
    Max,
    AchievedRate,
    Errors,
    GomaxprocsFirst,
    GomaxprocsLast,
}

impl Metric {
    pub const ALL: [Metric; 17] = [
        Metric::WallSeconds,
        Metric::CpuSeconds,
        Metric::ThrottledPct,
        Metric::PeakMemoryMib,
        Metric::GcCount,
        Metric::GcPerSecond,
        Metric::GcCpuPct,
        Metric::GcPauseTotalMs,
        Metric::P50,
        Metric::P90,
        Metric::P99,
        Metric::P999,
        Metric::Max,
        Metric::AchievedRate,
        Metric::Errors,
        Metric::GomaxprocsFirst,
        Metric::GomaxprocsLast,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::WallSeconds => "wall_seconds",
            Metric::CpuSeconds => "cpu_seconds",
            Metric::ThrottledPct => "throttled_pct",
            Metric::PeakMemoryMib => "peak_memory_mib",
            Metric::GcCount => "gc_count",
            Metric::GcPerSecond => "gc_per_second",
            Metric::GcCpuPct => "gc_cpu_pct",
            Metric::GcPauseTotalMs => "gc_pause_total_ms",
            Metric::P50 => "p50",
            Metric::P90 => "p90",
            Metric::P99 => "p99",
            Metric::P999 => "p999",
            Metric::Max => "max",
            Metric::AchievedRate => "achieved_rate",
            Metric::Errors => "errors",
            Metric::GomaxprocsFirst => "gomaxprocs_first",
            Metric::GomaxprocsLast => "gomaxprocs_last",
        }
    }

    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Which way is better when the user does not say: only throughput is better higher.
    pub fn higher_is_better(self) -> bool {
        self == Metric::AchievedRate
    }
}

/// A standard metric or one of the workload's own (`--metric NAME=...`). Equal and ordered
/// by name, so a map of them keeps the order a map keyed by the names had.
#[derive(Debug, Clone)]
pub enum MetricId {
    Std(Metric),
    Custom(String),
}

impl MetricId {
    /// The standard metric of that name, else a custom one.
    pub fn parse(name: &str) -> MetricId {
        Metric::from_name(name).map_or_else(|| MetricId::Custom(name.to_string()), MetricId::Std)
    }

    pub fn name(&self) -> &str {
        match self {
            MetricId::Std(m) => m.name(),
            MetricId::Custom(n) => n,
        }
    }

    pub fn std(&self) -> Option<Metric> {
        match self {
            MetricId::Std(m) => Some(*m),
            MetricId::Custom(_) => None,
        }
    }
}

impl From<Metric> for MetricId {
    fn from(m: Metric) -> MetricId {
        MetricId::Std(m)
    }
}

impl PartialEq for MetricId {
    fn eq(&self, other: &MetricId) -> bool {
        self.name() == other.name()
    }
}

impl Eq for MetricId {}

impl PartialOrd for MetricId {
    fn partial_cmp(&self, other: &MetricId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MetricId {
    fn cmp(&self, other: &MetricId) -> std::cmp::Ordering {
        self.name().cmp(other.name())
    }
}

impl PartialEq<Metric> for MetricId {
    fn eq(&self, other: &Metric) -> bool {
        self.std() == Some(*other)
    }
}

impl fmt::Display for MetricId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for MetricId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Values by metric (a run's numbers, or a configuration's summaries), in name order.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics<T = f64>(BTreeMap<MetricId, T>);

impl<T> Default for Metrics<T> {
    fn default() -> Self {
        Metrics(BTreeMap::new())
    }
}

impl<T> Metrics<T> {
    pub fn insert(&mut self, id: impl Into<MetricId>, value: T) {
        self.0.insert(id.into(), value);
    }

    pub fn get(&self, id: &MetricId) -> Option<&T> {
        self.0.get(id)
    }

    pub fn get_mut(&mut self, id: &MetricId) -> Option<&mut T> {
        self.0.get_mut(id)
    }

    pub fn get_std(&self, m: Metric) -> Option<&T> {
        self.0.get(&MetricId::Std(m))
    }

    pub fn contains(&self, id: &MetricId) -> bool {
        self.0.contains_key(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&MetricId, &T)> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T> FromIterator<(MetricId, T)> for Metrics<T> {
    fn from_iter<I: IntoIterator<Item = (MetricId, T)>>(iter: I) -> Self {
        Metrics(iter.into_iter().collect())
    }
}

impl<T: Serialize> Serialize for Metrics<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_distinct() {
        for m in Metric::ALL {
            assert_eq!(Metric::from_name(m.name()), Some(m));
        }
        let mut names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Metric::ALL.len());
        assert_eq!(Metric::from_name("elapsed_ms"), None);
    }

    #[test]
    fn ids_parse_standard_names_first() {
        assert_eq!(MetricId::parse("p99").std(), Some(Metric::P99));
        assert_eq!(MetricId::parse("elapsed_ms").std(), None);
        assert_eq!(MetricId::parse("elapsed_ms").name(), "elapsed_ms");
        assert_eq!(MetricId::parse("p99"), Metric::P99);
    }

    #[test]
    fn serialises_like_a_map_keyed_by_name() {
        // Standard and custom names interleave in name order, as a BTreeMap<String, f64> did.
        let mut m = Metrics::default();
        m.insert(Metric::WallSeconds, 1.5);
        m.insert(MetricId::parse("elapsed_ms"), 12.0);
        m.insert(Metric::P99, 3.0);
        m.insert(Metric::AchievedRate, 100.0);
        let old: BTreeMap<String, f64> = [
            ("wall_seconds", 1.5),
            ("elapsed_ms", 12.0),
            ("p99", 3.0),
            ("achieved_rate", 100.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            serde_json::to_string(&old).unwrap()
        );
        assert_eq!(m.get_std(Metric::P99), Some(&3.0));
        assert_eq!(m.get(&MetricId::parse("elapsed_ms")), Some(&12.0));
    }
}
