//! Limits that change while the workload runs (`run --at 5s:cpus=0.5`), as Kubernetes'
//! in-place resize and VPA do: parsed and checked here (pure), applied by `run`.

use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::quota;

/// One change: after `after` from the start, set these limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub after: Duration,
    pub cpus: Option<f64>,
    pub memory: Option<u64>,
    /// CPUs to run on, as a cpuset list (`0`, `0-1`): on a machine with few CPUs the one
    /// change Go 1.25+'s GOMAXPROCS can be seen to follow (it never goes below 2 for a quota).
    pub cpuset: Option<String>,
    /// The `--at` text as the user wrote it, for messages about it.
    pub text: String,
}

/// A change as it was made, for the stats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedChange {
    /// Seconds after the command started.
    pub at_seconds: f64,
    pub cpus: Option<f64>,
    pub cpu_quota_us: Option<u64>,
    pub memory_bytes: Option<u64>,
    pub cpuset: Option<String>,
    /// The write failed (the kernel refused it); the limits stayed as they were.
    pub error: Option<String>,
}

/// Parse `TIME:KEY=VALUE[,KEY=VALUE]`: TIME as `5s`, `500ms`, `1.5s` or `2m`; keys `cpus`
/// (CPUs, as `--cpus`), `memory` (a size, parsed by `size`, as `--memory`) and `cpuset`
/// (a CPU list, as `--cpuset`; lists hold commas, so it comes last).
pub fn parse(text: &str, size: impl Fn(&str) -> Option<u64>) -> Result<Change> {
    let bad = |why: &str| Error::Spec(format!("--at {text:?}: {why}"));
    let (time, rest) = text
        .split_once(':')
        .ok_or_else(|| bad("expected TIME:KEY=VALUE, e.g. 5s:cpus=0.5"))?;
    let after = parse_time(time).ok_or_else(|| bad("expected a time like 5s, 500ms or 2m"))?;
    let mut change = Change {
        after,
        cpus: None,
        memory: None,
        cpuset: None,
        text: text.to_string(),
    };
    // `cpuset=0,2-3` takes the rest of the text: its list has commas of its own.
    let (rest, cpuset) = match rest.find("cpuset=") {
        Some(i) => (&rest[..i], Some(rest[i + "cpuset=".len()..].trim())),
        None => (rest, None),
    };
    if let Some(list) = cpuset {
        if let Some(fixed) = cpuset_last(time, rest, list) {
            return Err(bad(&format!(
                "cpuset= must come last (its list holds commas): {fixed}"
            )));
        }
        let cpus =
            boxwise_box::parse::CpuList::parse(list).map_err(|e| bad(&format!("cpuset: {e}")))?;
        if cpus.is_empty() {
            return Err(bad("cpuset: no CPUs"));
        }
        change.cpuset = Some(list.to_string());
    }
    for pair in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| bad("expected KEY=VALUE after the time"))?;
        match key.trim() {
            "cpus" => {
                let cpus: f64 = value
                    .trim()
                    .parse()
                    .map_err(|_| bad("cpus: expected a number"))?;
                quota::cpu_quota_us_for("cpus=", cpus).map_err(|e| bad(&e.to_string()))?;
                change.cpus = Some(cpus);
            }
            "memory" => {
                let bytes = size(value.trim())
                    .filter(|&b| b > 0)
                    .ok_or_else(|| bad("memory: expected a size like 256m"))?;
                change.memory = Some(bytes);
            }
            other => {
                return Err(bad(&format!(
                    "unknown key {other:?}; expected cpus, memory or cpuset"
                )));
            }
        }
    }
    if change.cpus.is_none() && change.memory.is_none() && change.cpuset.is_none() {
        return Err(bad(
            "nothing to change; expected cpus=N, memory=SIZE or cpuset=LIST",
        ));
    }
    Ok(change)
}

/// Refuse two changes at the same time: which one the kernel would end up with is not
/// something a run should leave to chance. The message quotes both as written and, when
/// they set different limits, the one `--at` that makes both.
pub fn check_distinct(changes: &[Change]) -> Result<()> {
    for (i, a) in changes.iter().enumerate() {
        if let Some(b) = changes[i + 1..].iter().find(|b| b.after == a.after) {
            let fix = match combined(&a.text, &b.text) {
                Some(both) => format!("give one --at with both changes: --at {both}"),
                None => "they set the same limit; keep the one you want".to_string(),
            };
            return Err(Error::Spec(format!(
                "--at {:?} and --at {:?} are both at {}; {fix}",
                a.text,
                b.text,
                time(a.after),
            )));
        }
    }
    Ok(())
}

/// `TIME:` and the pairs of an `--at` text, the `cpuset=` list apart (it holds commas).
fn pairs(text: &str) -> (&str, Vec<&str>, Option<&str>) {
    let (time, rest) = text.split_once(':').unwrap_or(("", text));
    let (rest, cpuset) = match rest.find("cpuset=") {
        Some(i) => (&rest[..i], Some(rest[i..].trim())),
        None => (rest, None),
    };
    let list = rest
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    (time.trim(), list, cpuset)
}

/// Two `--at` texts at one time as one (`a`'s time, `a`'s pairs, then `b`'s, `cpuset=`
/// last); `None` when both set the same limit.
fn combined(a: &str, b: &str) -> Option<String> {
    let (time, mut all, a_set) = pairs(a);
    let (_, b_pairs, b_set) = pairs(b);
    let key = |p: &str| p.split('=').next().unwrap_or("").trim().to_string();
    for p in b_pairs {
        if all.iter().any(|q| key(q) == key(p)) {
            return None;
        }
        all.push(p);
    }
    match (a_set, b_set) {
        (Some(_), Some(_)) => return None,
        (Some(c), None) | (None, Some(c)) => all.push(c),
        (None, None) => {}
    }
    Some(format!("{time}:{}", all.join(",")))
}

/// When a `cpuset=` list swallowed other pairs (`cpuset=0,cpus=1`), the text with
/// `cpuset=` moved to the end (`2s:cpus=1,cpuset=0`).
fn cpuset_last(time: &str, before: &str, list: &str) -> Option<String> {
    let items: Vec<&str> = list.split(',').map(str::trim).collect();
    let first_pair = items.iter().position(|i| i.contains('='))?;
    let mut all: Vec<&str> = before
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    all.extend(items[first_pair..].iter().filter(|p| !p.is_empty()));
    Some(format!(
        "{}:{},cpuset={}",
        time.trim(),
        all.join(","),
        items[..first_pair].join(",")
    ))
}

/// `1.5s`, `500ms`: the time as the user would write it.
fn time(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms.fract() == 0.0 && ms % 1000.0 != 0.0 {
        format!("{ms}ms")
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

/// A change written back in `--at` form (sizes in bytes).
pub fn describe(c: &Change) -> String {
    let mut what: Vec<String> = Vec::new();
    if let Some(n) = c.cpus {
        what.push(format!("cpus={n}"));
    }
    if let Some(m) = c.memory {
        what.push(format!("memory={m}"));
    }
    if let Some(l) = &c.cpuset {
        what.push(format!("cpuset={l}"));
    }
    format!("{}:{}", time(c.after), what.join(","))
}

fn parse_time(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    (secs.is_finite() && (0.0..=86_400.0).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mib(s: &str) -> Option<u64> {
        s.strip_suffix('m')?.parse::<u64>().ok().map(|n| n << 20)
    }

    #[test]
    fn parses_the_documented_forms() {
        let c = parse("3s:cpus=1,cpuset=0,2-3", mib).unwrap();
        assert_eq!((c.cpus, c.cpuset.as_deref()), (Some(1.0), Some("0,2-3")));
        assert_eq!(
            parse("3s:cpuset=1", mib).unwrap().cpuset.as_deref(),
            Some("1")
        );
        let c = parse("5s:cpus=0.5", mib).unwrap();
        assert_eq!(
            (c.after, c.cpus, c.memory),
            (Duration::from_secs(5), Some(0.5), None)
        );
        let c = parse("1.5s:memory=256m,cpus=2", mib).unwrap();
        assert_eq!(c.after, Duration::from_millis(1500));
        assert_eq!((c.cpus, c.memory), (Some(2.0), Some(256 << 20)));
        assert_eq!(
            parse("500ms:cpus=1", mib).unwrap().after,
            Duration::from_millis(500)
        );
        for bad in [
            "5:cpus=1",
            "5s",
            "5s:",
            "5s:cpus=0",
            "5s:cpus=x",
            "5s:disk=1",
            "5s:memory=0m",
            "-1s:cpus=1",
            "5s:cpuset=",
            "5s:cpuset=x",
            "5s:cpuset=0,cpus=1",
        ] {
            let e = parse(bad, mib).unwrap_err().to_string();
            assert!(e.contains(bad) && !e.contains('\n'), "{bad}: {e}");
        }
    }

    #[test]
    fn two_changes_at_one_time_are_refused() {
        let a = parse("3s:cpus=1", mib).unwrap();
        let b = parse("3000ms:memory=256m", mib).unwrap();
        let c = parse("500ms:cpuset=0", mib).unwrap();
        assert!(check_distinct(&[a.clone(), c.clone()]).is_ok());
        let e = check_distinct(&[c.clone(), a.clone(), b.clone()])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "--at \"3s:cpus=1\" and --at \"3000ms:memory=256m\" are both at 3s; give one \
             --at with both changes: --at 3s:cpus=1,memory=256m"
        );
        // The suggestion is itself a valid --at, at the same time, with both changes.
        let both = e.rsplit("--at ").next().unwrap();
        let made = parse(both, mib).unwrap();
        assert_eq!(
            (made.after, made.cpus, made.memory),
            (a.after, a.cpus, b.memory)
        );
        // cpuset= stays last in the suggestion.
        let d = parse("500ms:memory=64m", mib).unwrap();
        let e = check_distinct(&[c.clone(), d]).unwrap_err().to_string();
        assert!(e.ends_with("--at 500ms:memory=64m,cpuset=0"), "{e}");
        let e = check_distinct(&[c.clone(), c]).unwrap_err().to_string();
        assert!(
            e.starts_with("--at \"500ms:cpuset=0\" and --at \"500ms:cpuset=0\" ")
                && e.ends_with("they set the same limit; keep the one you want"),
            "{e}"
        );
    }

    #[test]
    fn cpuset_must_come_last() {
        let e = parse("2s:cpuset=0,cpus=1", mib).unwrap_err().to_string();
        assert_eq!(
            e,
            "--at \"2s:cpuset=0,cpus=1\": cpuset= must come last (its list holds commas): \
             2s:cpus=1,cpuset=0"
        );
        let e = parse("2s:memory=64m,cpuset=0-1,3,cpus=1", mib)
            .unwrap_err()
            .to_string();
        assert!(e.ends_with(": 2s:memory=64m,cpus=1,cpuset=0-1,3"), "{e}");
        let fixed = e.rsplit(": ").next().unwrap();
        assert_eq!(parse(fixed, mib).unwrap().cpuset.as_deref(), Some("0-1,3"));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse(&s, mib);
        }

        #[test]
        fn cpusets_round_trip(ms in 0u64..100_000, a in 0u32..64, n in 0u32..8, cpus in 1u32..8) {
            let list = format!("{a}-{}", a + n);
            let c = parse(&format!("{ms}ms:cpus={cpus},cpuset={list}"), mib).unwrap();
            prop_assert_eq!(c.cpuset.as_deref(), Some(list.as_str()));
            prop_assert_eq!(c.cpus, Some(f64::from(cpus)));
            // Written back and parsed again, it is the same change.
            let again = parse(&describe(&c), mib).unwrap();
            prop_assert_eq!(
                (again.after, again.cpus, again.memory, again.cpuset),
                (c.after, c.cpus, c.memory, c.cpuset)
            );
        }

        #[test]
        fn suggestions_never_panic(a in "\\PC{0,30}", b in "\\PC{0,30}") {
            let _ = combined(&a, &b);
            let _ = cpuset_last("1s", &a, &b);
        }

        #[test]
        fn times_round_trip(ms in 0u64..100_000) {
            let c = parse(&format!("{ms}ms:cpus=1"), mib).unwrap();
            prop_assert_eq!(c.after, Duration::from_millis(ms));
        }
    }
}
