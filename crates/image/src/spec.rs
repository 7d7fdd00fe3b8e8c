//! The JSON documents of an image: `docker save`'s manifest.json, OCI indexes and
//! manifests, and the image config. Only the fields boxwise reads.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Error;

/// One image in `docker save`'s manifest.json.
#[derive(Debug, Clone, Deserialize)]
pub struct SaveEntry {
    #[serde(rename = "Config")]
    pub config: String,
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    pub layers: Vec<String>,
}

/// An OCI (or Docker distribution) descriptor.
#[derive(Debug, Clone, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    /// `linux/arm64/v8`.
    pub fn name(&self) -> String {
        match &self.variant {
            Some(v) if !v.is_empty() => format!("{}/{}/{v}", self.os, self.architecture),
            _ => format!("{}/{}", self.os, self.architecture),
        }
    }

    /// Whether `want` (`os/arch[/variant]`) names this platform.
    pub fn matches(&self, want: &str) -> bool {
        let mut parts = want.split('/');
        let (os, arch, variant) = (parts.next(), parts.next(), parts.next());
        os == Some(self.os.as_str())
            && arch == Some(self.architecture.as_str())
            && variant.is_none_or(|v| self.variant.as_deref() == Some(v))
    }
}

/// An OCI image index or a Docker manifest list.
#[derive(Debug, Clone, Deserialize)]
pub struct Index {
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

/// An OCI image manifest (or a Docker v2 schema 2 manifest: the same shape).
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

/// The image config: what runs, as whom, with what environment, and how it was built.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub config: Option<RunConfig>,
    #[serde(default)]
    pub history: Vec<History>,
}

/// The `config` object: what Dockerfile's ENTRYPOINT, CMD, USER, ENV... set.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RunConfig {
    #[serde(rename = "User", default)]
    pub user: Option<String>,
    #[serde(rename = "Env", default)]
    pub env: Option<Vec<String>>,
    #[serde(rename = "Entrypoint", default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", default)]
    pub cmd: Option<Vec<String>>,
    #[serde(rename = "WorkingDir", default)]
    pub working_dir: Option<String>,
    #[serde(rename = "ExposedPorts", default)]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(rename = "Healthcheck", default)]
    pub healthcheck: Option<Healthcheck>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Healthcheck {
    #[serde(rename = "Test", default)]
    pub test: Option<Vec<String>>,
}

/// One history entry; entries with `empty_layer` made no layer.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct History {
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub empty_layer: bool,
}

/// Parses one of the JSON documents above; `what` names it in the error. Public for the
/// fuzz target.
pub fn parse<T: for<'de> Deserialize<'de>>(what: &str, data: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(data).map_err(|e| Error::Format(format!("{what}: {e}")))
}

pub(crate) fn is_index(media_type: &str) -> bool {
    media_type.contains("image.index") || media_type.contains("manifest.list")
}

/// `sha256:abc` -> `blobs/sha256/abc` (the OCI layout path of a blob).
pub fn blob_path(digest: &str) -> Result<String, Error> {
    match digest.split_once(':') {
        Some((alg, hex))
            if !alg.is_empty()
                && !hex.is_empty()
                && alg.bytes().all(|b| b.is_ascii_alphanumeric())
                && hex.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Ok(format!("blobs/{alg}/{hex}"))
        }
        _ => Err(Error::Format(format!("bad digest {digest:?}"))),
    }
}

/// Where the image's pieces are, once the index or manifest.json is read.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub config: Config,
    /// Paths of the layer blobs inside the archive or layout, bottom first.
    pub layers: Vec<String>,
    pub tags: Vec<String>,
    pub platform: String,
}

/// The host's platform in OCI terms (`linux/amd64`).
pub fn host_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    format!("linux/{arch}")
}

/// How an error says the input is no image at all.
pub const NOT_AN_IMAGE: &str = "not an image (neither a docker save archive nor an OCI layout)";

/// Finds the image in a set of small JSON documents keyed by path: `manifest.json`
/// (`docker save`) when present and no platform is asked for, otherwise `index.json`.
pub fn resolve(
    get: &dyn Fn(&str) -> Option<Vec<u8>>,
    platform: Option<&str>,
) -> Result<Resolved, Error> {
    // manifest.json names one platform's image; an index is needed only to choose one.
    let index_json = if platform.is_some() {
        get("index.json")
    } else {
        None
    };
    if index_json.is_none()
        && let Some(data) = get("manifest.json")
    {
        let entries: Vec<SaveEntry> = parse("manifest.json", &data)?;
        let entry = entries
            .into_iter()
            .next()
            .ok_or_else(|| Error::Format("manifest.json lists no image".into()))?;
        let data = get(&entry.config)
            .ok_or_else(|| Error::Format(format!("config {} is missing", entry.config)))?;
        let config: Config = parse(&entry.config, &data)?;
        let have = config_platform(&config);
        if let Some(want) = platform
            && !have.starts_with(want)
        {
            return Err(Error::Platform(format!(
                "the archive holds a {have} image only, not {want}"
            )));
        }
        return Ok(Resolved {
            config,
            layers: entry.layers,
            tags: entry.repo_tags.unwrap_or_default(),
            platform: have,
        });
    }
    let data = index_json
        .or_else(|| get("index.json"))
        .ok_or_else(|| Error::Format(format!("{NOT_AN_IMAGE}: no manifest.json or index.json")))?;
    let index: Index = parse("index.json", &data)?;
    let tags = index
        .manifests
        .iter()
        .filter_map(|d| {
            d.annotations
                .as_ref()?
                .get("io.containerd.image.name")
                .cloned()
        })
        .collect();
    let manifest = pick(get, index, platform, 0)?;
    let path = blob_path(&manifest.config.digest)?;
    let data = get(&path).ok_or_else(|| Error::Format(format!("config {path} is missing")))?;
    let config: Config = parse(&path, &data)?;
    let layers = manifest
        .layers
        .iter()
        .map(|d| blob_path(&d.digest))
        .collect::<Result<_, _>>()?;
    Ok(Resolved {
        platform: config_platform(&config),
        config,
        layers,
        tags,
    })
}

fn config_platform(c: &Config) -> String {
    Platform {
        architecture: c.architecture.clone(),
        os: c.os.clone(),
        variant: c.variant.clone(),
    }
    .name()
}

/// Walks an index (and nested indexes, at most 4 deep) down to one image manifest.
fn pick(
    get: &dyn Fn(&str) -> Option<Vec<u8>>,
    index: Index,
    platform: Option<&str>,
    depth: u32,
) -> Result<Manifest, Error> {
    if depth > 4 {
        return Err(Error::Format("indexes nested more than 4 deep".into()));
    }
    // Attestations (buildx) are manifests for platform unknown/unknown: never the image.
    let candidates: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| {
            let attest = d
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key("vnd.docker.reference.type"));
            let unknown = d.platform.as_ref().is_some_and(|p| p.os == "unknown");
            !attest && !unknown
        })
        .collect();
    let want = platform.map(str::to_string);
    let chosen = match &want {
        Some(w) => candidates
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|p| p.matches(w)))
            .or_else(|| {
                candidates
                    .iter()
                    .find(|d| d.platform.is_none() && is_index(&d.media_type))
            }),
        None if candidates.len() <= 1 || candidates.iter().all(|d| d.platform.is_none()) => {
            candidates.first()
        }
        None => {
            let host = host_platform();
            candidates
                .iter()
                .find(|d| d.platform.as_ref().is_some_and(|p| p.matches(&host)))
        }
    };
    let Some(d) = chosen else {
        let have: Vec<String> = candidates
            .iter()
            .filter_map(|d| d.platform.as_ref().map(Platform::name))
            .collect();
        return Err(Error::Platform(format!(
            "no image for {} in the index (it has: {}); pick one with --platform",
            want.unwrap_or_else(host_platform),
            if have.is_empty() {
                "none".into()
            } else {
                have.join(", ")
            }
        )));
    };
    let path = blob_path(&d.digest)?;
    let data = get(&path).ok_or_else(|| Error::Format(format!("manifest {path} is missing")))?;
    if is_index(&d.media_type) {
        return pick(get, parse(&path, &data)?, platform, depth + 1);
    }
    // Some writers leave mediaType out of the descriptor: look inside.
    let v: serde_json::Value = parse(&path, &data)?;
    if v.get("manifests").is_some() {
        return pick(get, parse(&path, &data)?, platform, depth + 1);
    }
    parse(&path, &data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_names_match() {
        let p = Platform {
            architecture: "arm64".into(),
            os: "linux".into(),
            variant: Some("v8".into()),
        };
        assert!(p.matches("linux/arm64"));
        assert!(p.matches("linux/arm64/v8"));
        assert!(!p.matches("linux/amd64"));
        assert_eq!(p.name(), "linux/arm64/v8");
    }

    fn store(docs: &[(&str, &str)]) -> impl Fn(&str) -> Option<Vec<u8>> {
        let docs: Vec<(String, Vec<u8>)> = docs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect();
        move |p: &str| docs.iter().find(|(k, _)| k == p).map(|(_, v)| v.clone())
    }

    #[test]
    fn index_platforms_and_attestations() {
        let get = store(&[
            (
                "index.json",
                r#"{"manifests":[
                {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a","platform":{"os":"linux","architecture":"amd64"}},
                {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b","platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
                {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:c","platform":{"os":"unknown","architecture":"unknown"}}]}"#,
            ),
            (
                "blobs/sha256/a",
                r#"{"config":{"digest":"sha256:ca"},"layers":[{"digest":"sha256:la"}]}"#,
            ),
            (
                "blobs/sha256/b",
                r#"{"config":{"digest":"sha256:cb"},"layers":[{"digest":"sha256:lb"}]}"#,
            ),
            (
                "blobs/sha256/ca",
                r#"{"architecture":"amd64","os":"linux"}"#,
            ),
            (
                "blobs/sha256/cb",
                r#"{"architecture":"arm64","os":"linux","variant":"v8"}"#,
            ),
        ]);
        let r = resolve(&get, Some("linux/arm64")).unwrap();
        assert_eq!(
            (r.layers, r.platform),
            (
                vec!["blobs/sha256/lb".to_string()],
                "linux/arm64/v8".to_string()
            )
        );
        let r = resolve(&get, Some("linux/amd64")).unwrap();
        assert_eq!(r.layers, vec!["blobs/sha256/la".to_string()]);
        let e = resolve(&get, Some("linux/s390x")).unwrap_err().to_string();
        assert!(e.contains("linux/amd64, linux/arm64/v8"), "{e}");
    }

    #[test]
    fn legacy_manifest_checks_the_platform() {
        let get = store(&[
            (
                "manifest.json",
                r#"[{"Config":"c.json","RepoTags":["x:1"],"Layers":["l/layer.tar"]}]"#,
            ),
            (
                "c.json",
                r#"{"architecture":"amd64","os":"linux","history":[]}"#,
            ),
        ]);
        let r = resolve(&get, None).unwrap();
        assert_eq!(
            (r.tags, r.layers),
            (vec!["x:1".to_string()], vec!["l/layer.tar".to_string()])
        );
        assert!(resolve(&get, Some("linux/amd64")).is_ok());
        assert!(matches!(
            resolve(&get, Some("linux/arm64")),
            Err(Error::Platform(_))
        ));
    }

    #[test]
    fn digests_become_paths() {
        assert_eq!(blob_path("sha256:ab12").unwrap(), "blobs/sha256/ab12");
        assert!(blob_path("sha256:../../etc").is_err());
        assert!(blob_path("nocolon").is_err());
    }
}
