//! Where the cgroup hierarchies are mounted, from `/proc/self/mountinfo`.

use std::path::{Path, PathBuf};

use boxwise_box::host::Host;
use boxwise_box::layout::Hierarchy;
use boxwise_box::parse::{Mount, mountinfo};

/// One mounted hierarchy: where, and which cgroup its top directory is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounted {
    pub mount_point: PathBuf,
    /// The mount's root field: `/` for the whole hierarchy, `/docker/<id>` for Docker's v1
    /// view of a container's own cgroup.
    pub root: String,
    pub hierarchy: Hierarchy,
}

impl Mounted {
    /// The cgroup id (path) of a directory under the mount point.
    pub fn id_of(&self, dir: &Path) -> String {
        let rel = dir.strip_prefix(&self.mount_point).unwrap_or(dir);
        let joined = Path::new(&self.root).join(rel);
        let s = joined.to_string_lossy().trim_end_matches('/').to_string();
        if s.is_empty() { "/".into() } else { s }
    }

    /// The directory of cgroup `id`, if this mount shows it.
    pub fn dir_of(&self, id: &str) -> Option<PathBuf> {
        let rel = Path::new(id).strip_prefix(&self.root).ok()?;
        Some(self.mount_point.join(rel))
    }
}

/// A cgroup path without the leading `/..` levels that a cgroup namespace shows above its
/// root: mountinfo roots and `/proc/<pid>/cgroup` paths both read relative to boxwise's own
/// namespace, so cutting the same levels off both keeps them comparable and the labels
/// readable.
pub fn normalize(path: &str) -> String {
    let mut rest = path;
    while let Some(r) = rest.strip_prefix("/..") {
        if r.is_empty() || r.starts_with('/') {
            rest = r;
        } else {
            break;
        }
    }
    if rest.is_empty() {
        "/".into()
    } else {
        rest.to_string()
    }
}

/// The hierarchies that hold what boxwise reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hierarchies {
    pub cpu: Option<Mounted>,
    /// v1's cpuacct when mounted apart from cpu; the cpu mount otherwise.
    pub cpuacct: Option<Mounted>,
    pub memory: Option<Mounted>,
    pub unified: Option<Mounted>,
}

impl Hierarchies {
    pub fn version(&self) -> &'static str {
        let v1 = [&self.cpu, &self.memory]
            .iter()
            .any(|m| m.as_ref().is_some_and(|m| m.hierarchy == Hierarchy::V1));
        match (v1, self.unified.is_some()) {
            (true, true) => "hybrid",
            (true, false) => "v1",
            (false, true) => "v2",
            (false, false) => "none",
        }
    }
}

/// Read `/proc/self/mountinfo` and pick the hierarchies.
pub fn find(host: &Host) -> boxwise_box::error::Result<Hierarchies> {
    let mounts = host.parse_required(Path::new("/proc/self/mountinfo"), mountinfo::parse)?;
    Ok(pick(&mounts))
}

/// The mount for each controller. A later mount on the same point hides the earlier one (a
/// container given the host's `/sys/fs/cgroup` over its own); of the rest, the one showing
/// the most of the hierarchy (the shortest root) wins.
pub fn pick(mounts: &[Mount]) -> Hierarchies {
    let visible: Vec<&Mount> = mounts
        .iter()
        .enumerate()
        .filter(|(i, m)| {
            !mounts[i + 1..]
                .iter()
                .any(|l| l.mount_point == m.mount_point)
        })
        .map(|(_, m)| m)
        .collect();
    let best = |filter: &dyn Fn(&Mount) -> bool, hierarchy| {
        visible
            .iter()
            .filter(|m| filter(m))
            .rev()
            .min_by_key(|m| normalize(&m.root).len())
            .map(|m| Mounted {
                mount_point: PathBuf::from(&m.mount_point),
                root: normalize(&m.root),
                hierarchy,
            })
    };
    let v1 = |name: &'static str| {
        move |m: &Mount| m.fs_type == "cgroup" && m.options().any(|o| o == name)
    };
    let unified = best(&|m: &Mount| m.fs_type == "cgroup2", Hierarchy::V2);
    let cpu = best(&v1("cpu"), Hierarchy::V1);
    let cpuacct = best(&v1("cpuacct"), Hierarchy::V1);
    let memory = best(&v1("memory"), Hierarchy::V1);
    // Pure v2: every controller lives in the unified hierarchy.
    let or_unified = |m: Option<Mounted>| m.or_else(|| unified.clone());
    let cpu = or_unified(cpu);
    Hierarchies {
        cpuacct: cpuacct.or_else(|| cpu.clone()),
        cpu,
        memory: or_unified(memory),
        unified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(root: &str, point: &str, fs: &str, opts: &str) -> Mount {
        Mount {
            root: root.into(),
            mount_point: point.into(),
            fs_type: fs.into(),
            source: "cgroup".into(),
            super_options: opts.into(),
        }
    }

    #[test]
    fn hybrid_picks_v1_controllers_and_the_unified_mount() {
        let m = [
            mount("/", "/sys/fs/cgroup/unified", "cgroup2", "rw"),
            mount("/", "/sys/fs/cgroup/cpu", "cgroup", "rw,cpu"),
            mount("/", "/sys/fs/cgroup/cpuacct", "cgroup", "rw,cpuacct"),
            mount("/", "/sys/fs/cgroup/memory", "cgroup", "rw,memory"),
        ];
        let h = pick(&m);
        assert_eq!(h.version(), "hybrid");
        assert_eq!(
            h.cpuacct.unwrap().mount_point,
            PathBuf::from("/sys/fs/cgroup/cpuacct")
        );
        assert_eq!(h.cpu.unwrap().hierarchy, Hierarchy::V1);
    }

    #[test]
    fn pure_v2_uses_the_unified_mount_for_all() {
        let h = pick(&[mount("/", "/sys/fs/cgroup", "cgroup2", "rw")]);
        assert_eq!(h.version(), "v2");
        assert_eq!(h.memory, h.unified);
        assert_eq!(h.cpuacct, h.cpu);
    }

    #[test]
    fn the_widest_view_wins_and_ids_map_both_ways() {
        let h = pick(&[
            mount(
                "/docker/abc",
                "/sys/fs/cgroup/cpu",
                "cgroup",
                "rw,cpu,cpuacct",
            ),
            mount("/", "/host/cpu", "cgroup", "rw,cpu,cpuacct"),
        ]);
        let cpu = h.cpu.unwrap();
        assert_eq!(cpu.mount_point, PathBuf::from("/host/cpu"));
        assert_eq!(cpu.id_of(Path::new("/host/cpu/a/b")), "/a/b");
        assert_eq!(cpu.id_of(Path::new("/host/cpu")), "/");
        assert_eq!(cpu.dir_of("/a/b"), Some(PathBuf::from("/host/cpu/a/b")));
        let docker = Mounted {
            mount_point: "/sys/fs/cgroup/cpu".into(),
            root: "/docker/abc".into(),
            hierarchy: Hierarchy::V1,
        };
        assert_eq!(
            docker.id_of(Path::new("/sys/fs/cgroup/cpu/x")),
            "/docker/abc/x"
        );
        assert_eq!(docker.dir_of("/other"), None);
    }

    #[test]
    fn a_later_mount_hides_the_earlier_and_namespace_levels_are_cut() {
        let h = pick(&[
            mount("/", "/sys/fs/cgroup", "cgroup2", "rw"),
            mount("/../../..", "/sys/fs/cgroup", "cgroup2", "rw"),
        ]);
        assert_eq!(h.unified.unwrap().root, "/");
        assert_eq!(normalize("/../../kubepods.slice/x"), "/kubepods.slice/x");
        assert_eq!(normalize("/.."), "/");
        assert_eq!(normalize("/..foo/bar"), "/..foo/bar");
    }

    proptest::proptest! {
        #[test]
        fn normalize_is_idempotent_and_absolute(p in "(/\\.\\.|/[a-z.]{1,4}){0,6}") {
            let once = normalize(&p);
            proptest::prop_assert!(once.starts_with('/'));
            proptest::prop_assert_eq!(normalize(&once), once.clone());
        }
    }

    #[test]
    fn no_cgroups_is_none() {
        assert_eq!(pick(&[]).version(), "none");
    }
}
