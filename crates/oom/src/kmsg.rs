//! The kernel log's OOM kill records, as `/dev/kmsg` gives them: one record per read,
//! `PRIO,SEQ,USEC,FLAGS;MESSAGE`. A memcg kill writes two lines we use:
//! `oom-kill:constraint=...,oom_memcg=/docker/ID,task_memcg=/docker/ID,task=worker,pid=N,uid=0`
//! then `Memory cgroup out of memory: Killed process N (worker) total-vm:..kB, anon-rss:..kB,
//! file-rss:..kB, shmem-rss:..kB, ...` (mm/oom_kill.c, Linux 4.19+).

use serde::Serialize;

/// One record: its sequence number, microseconds since boot, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    pub seq: u64,
    pub usec: u64,
    pub message: &'a str,
}

/// Parse one `/dev/kmsg` record; continuation lines (` KEY=VALUE`) are dropped.
pub fn record(text: &str) -> Option<Record<'_>> {
    let (head, message) = text.split_once(';')?;
    let mut fields = head.split(',');
    let _prio: u32 = fields.next()?.parse().ok()?;
    let seq = fields.next()?.parse().ok()?;
    let usec = fields.next()?.parse().ok()?;
    let message = message.split('\n').next().unwrap_or("");
    Some(Record { seq, usec, message })
}

/// One OOM kill, from the kernel's two lines about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kill {
    /// Microseconds since boot.
    pub usec: u64,
    /// The cgroup whose limit was hit (`oom_memcg`).
    pub oom_memcg: String,
    /// The killed task's cgroup (`task_memcg`).
    pub task_memcg: String,
    pub task: String,
    pub pid: u32,
    /// anon + file + shmem RSS at the kill, from the `Killed process` line; `None` when that
    /// line was missing.
    pub rss_bytes: Option<u64>,
}

/// The `oom-kill:` lines, each with the RSS from the `Killed process` line for its pid that
/// follows it.
pub fn kills<'a>(records: impl IntoIterator<Item = Record<'a>>) -> Vec<Kill> {
    let mut out: Vec<Kill> = Vec::new();
    for r in records {
        if let Some(fields) = r.message.strip_prefix("oom-kill:") {
            let get = |key: &str| {
                fields
                    .split(',')
                    .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            };
            let (Some(pid), Some(task_memcg)) =
                (get("pid").and_then(|p| p.parse().ok()), get("task_memcg"))
            else {
                continue;
            };
            out.push(Kill {
                usec: r.usec,
                oom_memcg: get("oom_memcg").unwrap_or(task_memcg).to_string(),
                task_memcg: task_memcg.to_string(),
                task: get("task").unwrap_or("?").to_string(),
                pid,
                rss_bytes: None,
            });
        } else if let Some((pid, rss)) = killed_process(r.message)
            && let Some(k) = out
                .iter_mut()
                .rev()
                .find(|k| k.pid == pid && k.rss_bytes.is_none())
        {
            k.rss_bytes = Some(rss);
        }
    }
    out
}

/// `... Killed process 30120 (worker) total-vm:711416kB, anon-rss:65152kB, file-rss:1160kB,
/// shmem-rss:0kB, ...` -> (30120, RSS in bytes).
fn killed_process(message: &str) -> Option<(u32, u64)> {
    let rest = &message[message.find("Killed process ")? + "Killed process ".len()..];
    let pid = rest.split_whitespace().next()?.parse().ok()?;
    let kb = |key: &str| -> Option<u64> {
        let at = rest.find(key)? + key.len();
        let digits: String = rest[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    };
    let rss = kb("anon-rss:")?
        .saturating_add(kb("file-rss:").unwrap_or(0))
        .saturating_add(kb("shmem-rss:").unwrap_or(0));
    Some((pid, rss.saturating_mul(1024)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Records read from this machine's /dev/kmsg after a test worker was OOM-killed.
    const REAL: [&str; 4] = [
        "4,1292,1292644028,-;worker invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
        "6,1368,1292644486,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/process_api/620c/boxwise-test-29918-0,task_memcg=/process_api/620c/boxwise-test-29918-0,task=worker,pid=30120,uid=0",
        "3,1369,1292644502,-;Memory cgroup out of memory: Killed process 30120 (worker) total-vm:711416kB, anon-rss:65152kB, file-rss:1160kB, shmem-rss:0kB, UID:0 pgtables:204kB oom_score_adj:0",
        "6,1370,1292650000,-;something else\n SUBSYSTEM=foo",
    ];

    #[test]
    fn a_real_kill() {
        let records: Vec<Record> = REAL.iter().filter_map(|r| record(r)).collect();
        assert_eq!(records.len(), 4);
        assert_eq!(records[3].message, "something else");
        assert_eq!(
            kills(records),
            [Kill {
                usec: 1292644486,
                oom_memcg: "/process_api/620c/boxwise-test-29918-0".into(),
                task_memcg: "/process_api/620c/boxwise-test-29918-0".into(),
                task: "worker".into(),
                pid: 30120,
                rss_bytes: Some((65152 + 1160) * 1024),
            }]
        );
    }

    #[test]
    fn a_kill_without_its_rss_line() {
        let k = kills(record(REAL[1]));
        assert_eq!(k.len(), 1);
        assert_eq!(k[0].rss_bytes, None);
        assert!(kills(record(REAL[2])).is_empty());
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,200}") {
            let _ = record(&text).map(|r| kills([r]));
        }

        /// Any well-formed record round-trips its numbers and first message line.
        #[test]
        fn records_round_trip(prio in 0u32..8, seq: u64, usec: u64, msg in "[^\n;]{0,80}") {
            let text = format!("{prio},{seq},{usec},-;{msg}\n KEY=v");
            let r = record(&text).unwrap();
            prop_assert_eq!((r.seq, r.usec, r.message), (seq, usec, msg.as_str()));
        }

        /// The pid and RSS of a `Killed process` line come back as written.
        #[test]
        fn killed_lines(pid in 1u32.., anon in 0u64..1 << 40, file in 0u64..1 << 40) {
            let oom = format!("6,1,5,-;oom-kill:task_memcg=/a,task=x,pid={pid}");
            let killed = format!("3,2,6,-;Memory cgroup out of memory: Killed process {pid} (x) total-vm:1kB, anon-rss:{anon}kB, file-rss:{file}kB, shmem-rss:0kB");
            let k = kills([record(&oom).unwrap(), record(&killed).unwrap()]);
            prop_assert_eq!(k[0].rss_bytes, Some((anon + file) * 1024));
        }
    }
}
