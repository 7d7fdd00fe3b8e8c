//! List the cgroups of each hierarchy and read each one's own counters and limits, through
//! `boxwise-box`'s file names and parsers.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;

use boxwise_box::cgroup::{cpu, memory};
use boxwise_box::container::{self, Clues, Runtime};
use boxwise_box::host::Host;
use boxwise_box::layout::Hierarchy;
use boxwise_box::parse::cgroupfs::{self, Keyed};
use boxwise_box::parse::psi;

use crate::Options;
use crate::counter;
use crate::hierarchy::{Hierarchies, Mounted};
use crate::model::CgroupSample;

pub struct Walked {
    pub cgroups: Vec<CgroupSample>,
    pub truncated: bool,
    pub errors: Vec<String>,
}

/// How often a [`Walker`] does each part of its work, in refreshes. `Pace::FULL` reads every
/// file every time (`--once`, `--json`, the exporter); `Pace::LIVE` is `top`'s screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// List the hierarchies again every this many refreshes; a cgroup that disappears in
    /// between is dropped at once (its counter file stops answering).
    pub relist: u32,
    /// Read the settings (quota, period, memory limit) and the OOM kill count of each
    /// cgroup every this many refreshes, spread over them; a new cgroup's at once.
    pub settings: u32,
    /// Read `memory.stat` (the working set) and PSI of every cgroup; otherwise only for the
    /// ids passed to [`Walker::detail`].
    pub detail_all: bool,
}

impl Pace {
    pub const FULL: Pace = Pace {
        relist: 1,
        settings: 1,
        detail_all: true,
    };
    pub const LIVE: Pace = Pace {
        relist: 5,
        settings: 10,
        detail_all: false,
    };
}

/// Every cgroup id in the cpu and memory hierarchies (v1 keeps separate trees, so the same
/// id may exist in one only), in path order, at most `opts.max_cgroups`, every file read.
pub fn walk(host: &Host, h: &Hierarchies, opts: &Options) -> Walked {
    Walker::new(Pace::FULL).walk(host, h, opts)
}

/// A cgroup's directory in each hierarchy that has one, found once when it is listed.
#[derive(Debug, Clone, Default)]
struct Dirs {
    cpu: Option<(PathBuf, Hierarchy)>,
    acct: Option<PathBuf>,
    mem: Option<(PathBuf, Hierarchy)>,
    psi: Option<PathBuf>,
}

/// One counter file read every refresh: kept open and read again from offset 0 (cgroupfs
/// renders the file afresh on each read from the start), or opened each time once the
/// process has used its share of file descriptors.
enum Hot {
    Absent,
    Held(std::fs::File),
    Path(PathBuf),
}

/// A cgroup the walker follows between refreshes: its directories, its open counter files
/// and its last sample (the settings carry over between their reads).
struct Tracked {
    dirs: Dirs,
    /// Spreads the settings reads over the refreshes.
    slot: u32,
    settings_read: bool,
    cpu_stat: Hot,
    acct_usage: Hot,
    mem_usage: Hot,
    sample: CgroupSample,
}

/// Reads the cgroups again and again, doing the least each time: the directories are
/// listed every `pace.relist` refreshes, each cgroup's counter files stay open, the
/// settings are read every `pace.settings` refreshes, and `memory.stat` and PSI (the costly
/// files: v1 sums `memory.stat` over the subtree on every read) only where asked.
pub struct Walker {
    pace: Pace,
    refreshes: u32,
    tracked: BTreeMap<String, Tracked>,
    truncated: bool,
    next_slot: u32,
    /// File descriptors held open, and how many may be.
    held: usize,
    budget: usize,
    buf: Vec<u8>,
}

impl Walker {
    pub fn new(pace: Pace) -> Walker {
        Walker {
            pace,
            refreshes: 0,
            tracked: BTreeMap::new(),
            truncated: false,
            next_slot: 0,
            held: 0,
            budget: fd_budget(),
            buf: Vec::with_capacity(4096),
        }
    }

    pub fn pace(&self) -> Pace {
        self.pace
    }

    /// One refresh: the counters of every cgroup, the rest as the pace says.
    pub fn walk(&mut self, host: &Host, h: &Hierarchies, opts: &Options) -> Walked {
        let mut errors = Vec::new();
        if self.refreshes.is_multiple_of(self.pace.relist.max(1)) || self.tracked.is_empty() {
            self.relist(host, h, opts);
        }
        let settings_every = self.pace.settings.max(1);
        let refresh = self.refreshes;
        self.refreshes = self.refreshes.wrapping_add(1);
        let buf = &mut self.buf;
        let mut gone = Vec::new();
        for (id, t) in self.tracked.iter_mut() {
            if !read_counters(t, buf, &mut errors) {
                gone.push(id.clone());
                continue;
            }
            if !t.settings_read || (refresh.wrapping_add(t.slot)) % settings_every == 0 {
                read_settings(host, t, &mut errors);
                t.settings_read = true;
            }
            if self.pace.detail_all {
                read_detail(host, t, &mut errors);
            } else {
                t.sample.memory_working_set_bytes = None;
                t.sample.cpu_pressure_some_avg10 = None;
                t.sample.memory_pressure_some_avg10 = None;
                t.sample.cpu_pressure_some_avg60 = None;
                t.sample.memory_pressure_some_avg60 = None;
                t.sample.cpu_pressure_some_stall_seconds = None;
                t.sample.memory_pressure_some_stall_seconds = None;
                t.sample.memory_pressure_full_stall_seconds = None;
            }
        }
        for id in gone {
            if let Some(t) = self.tracked.remove(&id) {
                self.held -= held_count(&t);
            }
        }
        Walked {
            cgroups: self.tracked.values().map(|t| t.sample.clone()).collect(),
            truncated: self.truncated,
            errors,
        }
    }

    /// Read the costly files (working set, PSI, OOM kills, limits) of the cgroups `ids`
    /// into `cgroups`: what `top` shows on screen.
    pub fn detail(&mut self, host: &Host, cgroups: &mut [CgroupSample], ids: &[&str]) {
        for c in cgroups.iter_mut().filter(|c| ids.contains(&c.id.as_str())) {
            if let Some(t) = self.tracked.get_mut(&c.id) {
                let mut ignored = Vec::new();
                read_settings(host, t, &mut ignored);
                t.sample.memory_usage_bytes = c.memory_usage_bytes;
                read_detail(host, t, &mut ignored);
                let fresh = &t.sample;
                c.memory_working_set_bytes = fresh.memory_working_set_bytes;
                c.cpu_pressure_some_avg10 = fresh.cpu_pressure_some_avg10;
                c.memory_pressure_some_avg10 = fresh.memory_pressure_some_avg10;
                c.cpu_pressure_some_avg60 = fresh.cpu_pressure_some_avg60;
                c.memory_pressure_some_avg60 = fresh.memory_pressure_some_avg60;
                c.cpu_pressure_some_stall_seconds = fresh.cpu_pressure_some_stall_seconds;
                c.memory_pressure_some_stall_seconds = fresh.memory_pressure_some_stall_seconds;
                c.memory_pressure_full_stall_seconds = fresh.memory_pressure_full_stall_seconds;
                c.memory_limit_bytes = fresh.memory_limit_bytes;
                c.oom_kills = fresh.oom_kills;
                c.cpu_quota_us = fresh.cpu_quota_us;
                c.cpu_period_us = fresh.cpu_period_us;
            }
        }
    }

    /// List the hierarchies; keep what is still there (with its open files), add what is
    /// new, forget what is gone.
    fn relist(&mut self, host: &Host, h: &Hierarchies, opts: &Options) {
        let mut ids = BTreeSet::new();
        let mut truncated = false;
        let mut seen_points = Vec::new();
        for m in [&h.cpu, &h.memory].into_iter().flatten() {
            if seen_points.contains(&m.mount_point) {
                continue;
            }
            seen_points.push(m.mount_point.clone());
            truncated |= list(host, m, opts, &mut ids);
        }
        self.truncated = truncated;
        let gone: Vec<String> = self
            .tracked
            .keys()
            .filter(|id| !ids.contains(*id))
            .cloned()
            .collect();
        for id in gone {
            if let Some(t) = self.tracked.remove(&id) {
                self.held -= held_count(&t);
            }
        }
        for id in ids {
            if self.tracked.contains_key(&id) {
                continue;
            }
            let dirs = dirs_of(host, h, &id);
            let mut open = |dir: Option<&PathBuf>, name: &str| -> Hot {
                let Some(dir) = dir else { return Hot::Absent };
                let path = host.path(&dir.join(name));
                if self.held < self.budget
                    && let Ok(f) = std::fs::File::open(&path)
                {
                    self.held += 1;
                    return Hot::Held(f);
                }
                Hot::Path(path)
            };
            let cpu_stat = open(dirs.cpu.as_ref().map(|(d, _)| d), cpu::STAT);
            let acct_usage = open(dirs.acct.as_ref(), cpu::V1_ACCT_USAGE);
            let mem_usage = match &dirs.mem {
                Some((d, hy)) => open(Some(d), memory::usage_file(*hy)),
                None => Hot::Absent,
            };
            let t = Tracked {
                sample: empty_sample(&id),
                dirs,
                slot: self.next_slot,
                settings_read: false,
                cpu_stat,
                acct_usage,
                mem_usage,
            };
            self.next_slot = self.next_slot.wrapping_add(1);
            self.tracked.insert(id, t);
        }
    }
}

fn held_count(t: &Tracked) -> usize {
    [&t.cpu_stat, &t.acct_usage, &t.mem_usage]
        .iter()
        .filter(|h| matches!(h, Hot::Held(_)))
        .count()
}

/// Half of the soft `RLIMIT_NOFILE` (from `/proc/self/limits`), leaving the rest to the
/// process's other work; 400 when it cannot be read.
fn fd_budget() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            let line = t.lines().find(|l| l.starts_with("Max open files"))?;
            let soft = line.split_whitespace().nth(3)?;
            Some(match soft {
                "unlimited" => 1 << 20,
                n => n.parse::<usize>().ok()?,
            })
        })
        .map_or(400, |n| n / 2)
}

/// Breadth first under the mount point; true when the cap cut it short.
fn list(host: &Host, m: &Mounted, opts: &Options, ids: &mut BTreeSet<String>) -> bool {
    let mut queue = VecDeque::from([(m.mount_point.clone(), 0usize)]);
    while let Some((dir, depth)) = queue.pop_front() {
        if ids.len() >= opts.max_cgroups && !ids.contains(&m.id_of(&dir)) {
            return true;
        }
        ids.insert(m.id_of(&dir));
        if depth < opts.max_depth {
            let mut subs = host.subdirs(&dir);
            subs.sort();
            queue.extend(subs.into_iter().map(|d| (d, depth + 1)));
        }
    }
    false
}

fn dirs_of(host: &Host, h: &Hierarchies, id: &str) -> Dirs {
    let get = |m: &Option<Mounted>| -> Option<(PathBuf, Hierarchy)> {
        let m = m.as_ref()?;
        let dir = m.dir_of(id)?;
        host.exists(&dir).then_some((dir, m.hierarchy))
    };
    Dirs {
        cpu: get(&h.cpu),
        acct: get(&h.cpuacct)
            .filter(|(_, hy)| *hy == Hierarchy::V1)
            .map(|(d, _)| d),
        mem: get(&h.memory),
        psi: get(&h.unified).map(|(d, _)| d),
    }
}

fn empty_sample(id: &str) -> CgroupSample {
    CgroupSample {
        id: id.to_string(),
        container: container_of(id),
        container_id: container_id_of(id),
        container_name: None,
        pod_uid: pod_uid_of(id),
        cpu_usage_seconds: None,
        cfs_periods: None,
        cfs_throttled_periods: None,
        cfs_throttled_seconds: None,
        cpu_quota_us: None,
        cpu_period_us: None,
        memory_usage_bytes: None,
        memory_working_set_bytes: None,
        memory_limit_bytes: None,
        oom_kills: None,
        cpu_pressure_some_avg10: None,
        memory_pressure_some_avg10: None,
        cpu_pressure_some_avg60: None,
        memory_pressure_some_avg60: None,
        cpu_pressure_some_stall_seconds: None,
        memory_pressure_some_stall_seconds: None,
        memory_pressure_full_stall_seconds: None,
    }
}

/// The text of a counter file into `buf`; `Ok(None)` when it has no such file.
fn read_hot<'b>(hot: &Hot, buf: &'b mut Vec<u8>) -> std::io::Result<Option<&'b str>> {
    use std::io::Read as _;
    use std::os::unix::fs::FileExt as _;
    buf.clear();
    match hot {
        Hot::Absent => return Ok(None),
        Hot::Held(f) => {
            buf.resize(4096, 0);
            let mut n = 0;
            loop {
                let got = f.read_at(&mut buf[n..], n as u64)?;
                if got == 0 {
                    break;
                }
                n += got;
                if n == buf.len() {
                    buf.resize(n * 2, 0);
                }
            }
            buf.truncate(n);
        }
        Hot::Path(p) => {
            std::fs::File::open(p)?.read_to_end(buf)?;
        }
    }
    std::str::from_utf8(buf)
        .map(Some)
        .map_err(|_| std::io::Error::other("not UTF-8"))
}

/// Where a counter file lives, for error lines.
fn hot_name(hot: &Hot) -> String {
    match hot {
        Hot::Path(p) => p.display().to_string(),
        _ => "a counter file".into(),
    }
}

/// The counters read every refresh; false when the cgroup is gone (removed since listed).
fn read_counters(t: &mut Tracked, buf: &mut Vec<u8>, errors: &mut Vec<String>) -> bool {
    let s = &mut t.sample;
    let mut alive = true;
    let mut note = |hot: &Hot, dir: &Option<PathBuf>, name: &str, e: std::io::Error| {
        // ENODEV from an open file, ENOENT from a path: the cgroup was removed.
        if matches!(e.raw_os_error(), Some(19) | Some(2)) {
            alive = false;
        } else {
            let at = dir
                .as_ref()
                .map_or_else(|| hot_name(hot), |d| d.join(name).display().to_string());
            errors.push(format!("{at}: {e}"));
        }
    };
    if let Some((dir, hy)) = &t.dirs.cpu {
        match read_hot(&t.cpu_stat, buf) {
            Ok(Some(text)) => {
                s.cfs_periods = counter::value(text, "nr_periods");
                s.cfs_throttled_periods = counter::value(text, "nr_throttled");
                s.cfs_throttled_seconds = match hy {
                    Hierarchy::V1 => counter::value(text, "throttled_time").map(|v| v as f64 / 1e9),
                    Hierarchy::V2 => counter::value(text, "throttled_usec").map(|v| v as f64 / 1e6),
                };
                if *hy == Hierarchy::V2 {
                    s.cpu_usage_seconds =
                        counter::value(text, "usage_usec").map(|us| us as f64 / 1e6);
                }
            }
            Ok(None) => {}
            Err(e) => note(&t.cpu_stat, &Some(dir.clone()), cpu::STAT, e),
        }
    }
    if let Some(dir) = &t.dirs.acct {
        match read_hot(&t.acct_usage, buf) {
            Ok(Some(text)) => {
                s.cpu_usage_seconds = counter::integer(text).map(cpu::v1_usage_seconds);
            }
            Ok(None) => {}
            Err(e) => note(&t.acct_usage, &Some(dir.clone()), cpu::V1_ACCT_USAGE, e),
        }
    }
    if let Some((dir, hy)) = &t.dirs.mem {
        match read_hot(&t.mem_usage, buf) {
            Ok(Some(text)) => s.memory_usage_bytes = counter::integer(text),
            Ok(None) => {}
            Err(e) => note(&t.mem_usage, &Some(dir.clone()), memory::usage_file(*hy), e),
        }
    }
    alive
}

/// The settings: quota and period, memory limit, and the OOM kill count.
fn read_settings(host: &Host, t: &mut Tracked, errors: &mut Vec<String>) {
    let s = &mut t.sample;
    if let Some((dir, hy)) = &t.dirs.cpu {
        let q = ok(
            errors,
            cpu::quota_at(host, *hy, dir).map(|q| q.map(|(q, _)| q)),
        );
        s.cpu_quota_us = q.as_ref().map(|q| q.quota_us);
        s.cpu_period_us = q.as_ref().map(|q| q.period_us);
    }
    if let Some((dir, hy)) = &t.dirs.mem {
        let hy = *hy;
        let limit = match hy {
            Hierarchy::V1 => cgroupfs::v1_limit,
            Hierarchy::V2 => cgroupfs::max_or_integer,
        };
        s.memory_limit_bytes =
            ok(errors, host.parse(&dir.join(memory::limit_file(hy)), limit)).flatten();
        s.oom_kills = ok(
            errors,
            host.parse(&dir.join(memory::events_file(hy)), cgroupfs::keyed),
        )
        .and_then(|e| e.get(memory::OOM_KILL));
    }
}

/// The costly files: `memory.stat` for the working set, and PSI.
fn read_detail(host: &Host, t: &mut Tracked, errors: &mut Vec<String>) {
    let s = &mut t.sample;
    if let Some((dir, hy)) = &t.dirs.mem {
        let stat: Option<Keyed> = ok(errors, host.parse(&dir.join(memory::STAT), cgroupfs::keyed));
        s.memory_working_set_bytes = memory::working_set(
            s.memory_usage_bytes,
            stat.as_ref(),
            memory::inactive_file_key(*hy),
        );
    }
    if let Some(dir) = &t.dirs.psi {
        // The root cgroup has no pressure files on older kernels; absent is fine.
        let read = |name: &str| host.parse(&dir.join(name), psi::parse).ok().flatten();
        let cpu = read("cpu.pressure");
        let mem = read("memory.pressure");
        s.cpu_pressure_some_avg10 = cpu.as_ref().map(|p| p.some.avg10);
        s.memory_pressure_some_avg10 = mem.as_ref().map(|p| p.some.avg10);
        s.cpu_pressure_some_avg60 = cpu.as_ref().map(|p| p.some.avg60);
        s.memory_pressure_some_avg60 = mem.as_ref().map(|p| p.some.avg60);
        s.cpu_pressure_some_stall_seconds = cpu.as_ref().map(|p| p.some.total_us as f64 / 1e6);
        s.memory_pressure_some_stall_seconds = mem.as_ref().map(|p| p.some.total_us as f64 / 1e6);
        s.memory_pressure_full_stall_seconds = mem
            .as_ref()
            .and_then(|p| p.full.as_ref())
            .map(|f| f.total_us as f64 / 1e6);
    }
}

/// The value, or `None` and the error noted.
fn ok<T>(errors: &mut Vec<String>, r: boxwise_box::error::Result<Option<T>>) -> Option<T> {
    r.unwrap_or_else(|e| {
        errors.push(e.to_string());
        None
    })
}

/// The full container id when the cgroup path names a container.
pub fn container_id_of(id: &str) -> Option<String> {
    let found = container::detect(&Clues {
        cgroup_paths: vec![id],
        ..Clues::default()
    });
    match found.runtime {
        Runtime::None | Runtime::Systemd => None,
        _ => found.id,
    }
}

/// `runtime/short-id` when the cgroup path names a container, by `boxwise-box`'s detector.
pub fn container_of(id: &str) -> Option<String> {
    let found = container::detect(&Clues {
        cgroup_paths: vec![id],
        ..Clues::default()
    });
    let runtime = match found.runtime {
        Runtime::None | Runtime::Systemd => return None,
        r => format!("{r:?}").to_lowercase(),
    };
    let id = found.id?;
    Some(format!("{runtime}/{}", &id[..12.min(id.len())]))
}

/// The pod UID in a kubelet cgroup path: `/kubepods/burstable/pod<uid>/...` (cgroupfs
/// driver) or `.../kubepods-burstable-pod<uid with _ for ->.slice/...` (systemd driver).
/// The pod's name is only in the API server, which boxwise does not ask.
pub fn pod_uid_of(id: &str) -> Option<String> {
    if !id.contains("kubepods") {
        return None;
    }
    id.split('/').find_map(|part| {
        let part = part.strip_suffix(".slice").unwrap_or(part);
        let at = part.rfind("pod")?;
        let uid = part[at + 3..].replace('_', "-");
        let ok = uid.len() == 36 && uid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        ok.then_some(uid)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v1 cpu,cpuacct and memory tree under a temporary root: `/` and `/app`.
    fn fixture() -> (tempfile::TempDir, Host, Hierarchies) {
        let dir = tempfile::tempdir().unwrap();
        let w = |rel: &str, text: &str| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        for cg in ["", "app/"] {
            w(
                &format!("sys/fs/cgroup/cpu/{cg}cpu.stat"),
                "nr_periods 10\nnr_throttled 5\nthrottled_time 2000000000\n",
            );
            w(
                &format!("sys/fs/cgroup/cpu/{cg}cpuacct.usage"),
                "3000000000\n",
            );
            w(
                &format!("sys/fs/cgroup/cpu/{cg}cpu.cfs_quota_us"),
                "50000\n",
            );
            w(
                &format!("sys/fs/cgroup/cpu/{cg}cpu.cfs_period_us"),
                "100000\n",
            );
            w(
                &format!("sys/fs/cgroup/memory/{cg}memory.usage_in_bytes"),
                "1000\n",
            );
            w(
                &format!("sys/fs/cgroup/memory/{cg}memory.limit_in_bytes"),
                "4096\n",
            );
            w(
                &format!("sys/fs/cgroup/memory/{cg}memory.stat"),
                "total_inactive_file 400\n",
            );
            w(
                &format!("sys/fs/cgroup/memory/{cg}memory.oom_control"),
                "oom_kill 1\n",
            );
        }
        let host = Host::new(dir.path());
        let v1 = |name: &str| Mounted {
            mount_point: PathBuf::from(format!("/sys/fs/cgroup/{name}")),
            root: "/".into(),
            hierarchy: Hierarchy::V1,
        };
        let h = Hierarchies {
            cpu: Some(v1("cpu")),
            cpuacct: Some(v1("cpu")),
            memory: Some(v1("memory")),
            unified: None,
        };
        (dir, host, h)
    }

    #[test]
    fn the_live_pace_reads_counters_always_and_the_working_set_only_where_asked() {
        let (dir, host, h) = fixture();
        let opts = Options::default();
        let mut full = Walker::new(Pace::FULL);
        let all = full.walk(&host, &h, &opts);
        assert!(all.errors.is_empty(), "{:?}", all.errors);
        let app = all.cgroups.iter().find(|c| c.id == "/app").unwrap();
        assert_eq!(app.memory_working_set_bytes, Some(600));
        assert_eq!(app.cpu_quota_us, Some(50_000));
        assert_eq!(app.oom_kills, Some(1));

        let mut live = Walker::new(Pace::LIVE);
        let first = live.walk(&host, &h, &opts);
        assert_eq!(first.cgroups.len(), 2);
        assert!(
            first
                .cgroups
                .iter()
                .all(|c| c.memory_working_set_bytes.is_none())
        );
        // A counter changes: the file kept open shows the new text; the settings are kept.
        std::fs::write(
            dir.path().join("sys/fs/cgroup/cpu/app/cpu.stat"),
            "nr_periods 20\nnr_throttled 15\nthrottled_time 3000000000\n",
        )
        .unwrap();
        let mut second = live.walk(&host, &h, &opts).cgroups;
        let app = second.iter().find(|c| c.id == "/app").unwrap();
        assert_eq!(app.cfs_periods, Some(20));
        assert_eq!(app.cfs_throttled_periods, Some(15));
        assert_eq!(app.cpu_quota_us, Some(50_000));
        assert_eq!(app.cpu_usage_seconds, Some(3.0));
        live.detail(&host, &mut second, &["/app"]);
        let by = |id: &str| second.iter().find(|c| c.id == id).unwrap().clone();
        assert_eq!(by("/app").memory_working_set_bytes, Some(600));
        assert_eq!(by("/").memory_working_set_bytes, None);
    }

    #[test]
    fn pod_uids_come_from_kubelet_paths() {
        let uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        assert_eq!(
            pod_uid_of(&format!("/kubepods/burstable/pod{uid}/{}", "a".repeat(64))).as_deref(),
            Some(uid)
        );
        let systemd = format!(
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{}.slice/cri-containerd-{}.scope",
            uid.replace('-', "_"),
            "b".repeat(64)
        );
        assert_eq!(pod_uid_of(&systemd).as_deref(), Some(uid));
        assert_eq!(pod_uid_of("/kubepods/burstable"), None);
        assert_eq!(pod_uid_of("/docker/podabc"), None);
    }

    #[test]
    fn container_names_come_from_the_path() {
        let id = "a".repeat(64);
        assert_eq!(
            container_of(&format!("/docker/{id}")).as_deref(),
            Some("docker/aaaaaaaaaaaa")
        );
        assert_eq!(container_of("/user.slice/session-1.scope"), None);
        assert_eq!(container_of("/"), None);
    }
}
