//! Which container runtime (if any) put the process where it is, and the container id,
//! guessed from cgroup paths, mount sources and marker files.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    Docker,
    Containerd,
    Kubernetes,
    Podman,
    Systemd,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Container {
    pub runtime: Runtime,
    pub id: Option<String>,
    /// What gave it away, in words.
    pub evidence: Option<String>,
}

/// What the detector looks at; gathered by the probe.
#[derive(Debug, Default)]
pub struct Clues<'a> {
    pub cgroup_paths: Vec<&'a str>,
    /// Mount roots and sources from mountinfo (Docker bind-mounts `/etc/hostname` from
    /// `/var/lib/docker/containers/<id>/`).
    pub mount_roots: Vec<&'a str>,
    pub dockerenv: bool,
    pub containerenv: bool,
    pub kubernetes_env: bool,
}

fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A 64-hex id after one of the given prefixes in a path component: `docker-<id>.scope`,
/// or the colon form of systemd-driver v1 paths, `<slice>:cri-containerd:<id>`.
fn id_after(path: &str, prefixes: &[&str]) -> Option<String> {
    path.split('/').find_map(|part| {
        prefixes.iter().find_map(|p| {
            let rest = part.strip_prefix(p).or_else(|| {
                let colon_form = format!(":{}:", p.trim_end_matches('-'));
                part.split_once(colon_form.as_str()).map(|(_, id)| id)
            })?;
            let id = rest.strip_suffix(".scope").unwrap_or(rest);
            is_id(id).then(|| id.to_string())
        })
    })
}

/// A bare 64-hex component (cgroupfs drivers: `/docker/<id>`, `/kubepods/.../<id>`).
fn bare_id(path: &str) -> Option<String> {
    path.split('/').find(|p| is_id(p)).map(str::to_string)
}

pub fn detect(clues: &Clues) -> Container {
    let found = |runtime, id, evidence: String| Container {
        runtime,
        id,
        evidence: Some(evidence),
    };
    for &path in &clues.cgroup_paths {
        if path.contains("kubepods") {
            let id = id_after(path, &["cri-containerd-", "crio-", "docker-", "cri-o-"])
                .or_else(|| bare_id(path));
            return found(Runtime::Kubernetes, id, format!("cgroup path {path}"));
        }
    }
    for &path in &clues.cgroup_paths {
        if let Some(id) = id_after(path, &["libpod-"]) {
            return found(Runtime::Podman, Some(id), format!("cgroup path {path}"));
        }
        if let Some(id) = id_after(path, &["docker-"]) {
            return found(Runtime::Docker, Some(id), format!("cgroup path {path}"));
        }
        if path.starts_with("/docker/") {
            return found(
                Runtime::Docker,
                bare_id(path),
                format!("cgroup path {path}"),
            );
        }
        if let Some(id) = id_after(path, &["cri-containerd-", "nerdctl-"]) {
            return found(Runtime::Containerd, Some(id), format!("cgroup path {path}"));
        }
    }
    // A private cgroup namespace hides the path; the bind mounts still show the id.
    for &root in &clues.mount_roots {
        if let Some(rest) = root.split("/docker/containers/").nth(1) {
            let id = rest
                .split('/')
                .next()
                .filter(|s| is_id(s))
                .map(str::to_string);
            return found(Runtime::Docker, id, format!("mount from {root}"));
        }
        if let Some(rest) = root.split("/io.containerd.runtime.v2.task/").nth(1) {
            let id = rest
                .split('/')
                .nth(1)
                .filter(|s| is_id(s))
                .map(str::to_string);
            let runtime = if rest.starts_with("k8s.io/") {
                Runtime::Kubernetes
            } else {
                Runtime::Containerd
            };
            return found(runtime, id, format!("mount from {root}"));
        }
    }
    if clues.kubernetes_env {
        return found(
            Runtime::Kubernetes,
            None,
            "KUBERNETES_SERVICE_HOST is set".into(),
        );
    }
    if clues.containerenv {
        return found(Runtime::Podman, None, "/run/.containerenv exists".into());
    }
    if clues.dockerenv {
        return found(Runtime::Docker, None, "/.dockerenv exists".into());
    }
    for &path in &clues.cgroup_paths {
        let unit = path.rsplit('/').next().unwrap_or("");
        if unit.ends_with(".service") || unit.ends_with(".scope") {
            return found(Runtime::Systemd, None, format!("systemd unit {unit}"));
        }
    }
    Container {
        runtime: Runtime::None,
        id: None,
        evidence: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4f1c9d2e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d";

    fn from_paths(paths: &[&str]) -> Container {
        detect(&Clues {
            cgroup_paths: paths.to_vec(),
            ..Clues::default()
        })
    }

    #[test]
    fn runtimes_from_cgroup_paths() {
        let docker = from_paths(&[&format!("/docker/{ID}")]);
        assert_eq!(
            (docker.runtime, docker.id.as_deref()),
            (Runtime::Docker, Some(ID))
        );
        let systemd_docker = from_paths(&[&format!("/system.slice/docker-{ID}.scope")]);
        assert_eq!(
            (systemd_docker.runtime, systemd_docker.id.as_deref()),
            (Runtime::Docker, Some(ID))
        );
        let k8s = from_paths(&[&format!(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice/cri-containerd-{ID}.scope"
        )]);
        assert_eq!(
            (k8s.runtime, k8s.id.as_deref()),
            (Runtime::Kubernetes, Some(ID))
        );
        let k8s_v1 = from_paths(&[&format!("/kubepods/burstable/pod1234/{ID}")]);
        assert_eq!(
            (k8s_v1.runtime, k8s_v1.id.as_deref()),
            (Runtime::Kubernetes, Some(ID))
        );
        let podman = from_paths(&[&format!(
            "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope"
        )]);
        assert_eq!(
            (podman.runtime, podman.id.as_deref()),
            (Runtime::Podman, Some(ID))
        );
        let containerd = from_paths(&[&format!("/system.slice/cri-containerd-{ID}.scope")]);
        assert_eq!(containerd.runtime, Runtime::Containerd);
        assert_eq!(
            from_paths(&["/system.slice/nginx.service"]).runtime,
            Runtime::Systemd
        );
        assert_eq!(from_paths(&["/", "/user.slice"]).runtime, Runtime::None);
    }

    #[test]
    fn private_namespace_falls_back_to_mounts() {
        let root = format!("/var/lib/docker/containers/{ID}/hostname");
        let c = detect(&Clues {
            cgroup_paths: vec!["/"],
            mount_roots: vec![&root],
            ..Clues::default()
        });
        assert_eq!((c.runtime, c.id.as_deref()), (Runtime::Docker, Some(ID)));
        let c = detect(&Clues {
            cgroup_paths: vec!["/"],
            dockerenv: true,
            ..Clues::default()
        });
        assert_eq!((c.runtime, c.id), (Runtime::Docker, None));
    }
}
