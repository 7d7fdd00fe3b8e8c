//! Layers applied in order, as the OCI image spec's "Applying Changesets" says: whiteouts
//! first (a `.wh.NAME` deletes NAME and everything under it from lower layers; an opaque
//! `.wh..wh..opq` hides every lower-layer child of its directory), then the layer's own
//! entries. What is left is the final filesystem; every byte a layer ships that did not
//! make it there is waste.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::layer::{Entry, Kind, LayerScan};

/// One path in the final filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The layer that set it.
    pub layer: usize,
    pub kind: Kind,
    pub size: u64,
    pub link: Option<String>,
}

/// What one layer did to the filesystem below it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Paths (not directories) new in this layer.
    pub added: u64,
    /// Paths (not directories) that replace a lower layer's.
    pub changed: u64,
    /// Lower-layer paths (not directories) deleted or hidden by this layer's whiteouts.
    pub removed: u64,
    /// Content bytes of the regular files in this layer.
    pub size_bytes: u64,
    /// Of those, bytes not in the final filesystem.
    pub wasted_bytes: u64,
    /// Bytes of lower-layer files this layer deleted, overwrote or hid: the waste this
    /// layer's step caused (counted against the layer that shipped them in `wasted_bytes`).
    pub caused_wasted_bytes: u64,
}

/// A path whose bytes were shipped more than they are used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wasted {
    pub path: String,
    /// Bytes shipped for it that the final filesystem does not hold.
    pub wasted_bytes: u64,
    /// How many layers ship a copy.
    pub copies: u64,
    /// Whether the final filesystem still has it.
    pub kept: bool,
}

/// The final filesystem and the per-layer accounting.
#[derive(Debug, Default)]
pub struct Filesystem {
    pub nodes: BTreeMap<String, Node>,
    pub changes: Vec<Changes>,
    /// Sorted by wasted bytes, largest first.
    pub wasted: Vec<Wasted>,
}

/// What a removal took away: non-directories, and content bytes of regular files.
#[derive(Default)]
struct Gone {
    paths: u64,
    bytes: u64,
}

impl Gone {
    fn add(&mut self, n: &Node) {
        self.paths += (n.kind != Kind::Dir) as u64;
        if n.kind == Kind::File {
            self.bytes += n.size;
        }
    }
}

fn gone(c: &mut Changes, g: Gone) {
    c.removed += g.paths;
    c.caused_wasted_bytes += g.bytes;
}

/// Removes `path`'s descendants (and `path` itself when `itself`).
fn remove_tree(nodes: &mut BTreeMap<String, Node>, path: &str, itself: bool) -> Gone {
    let mut removed = Gone::default();
    if itself && let Some(n) = nodes.remove(path) {
        removed.add(&n);
    }
    // Children sort between "path/" and "path0" ('0' follows '/').
    let (lo, hi) = if path.is_empty() {
        (Bound::Unbounded, Bound::Unbounded)
    } else {
        (
            Bound::Included(format!("{path}/")),
            Bound::Excluded(format!("{path}0")),
        )
    };
    let keys: Vec<String> = nodes
        .range::<String, _>((lo, hi))
        .map(|(k, _)| k.clone())
        .collect();
    for k in keys {
        if let Some(n) = nodes.remove(&k) {
            removed.add(&n);
        }
    }
    removed
}

/// Within one layer the last entry for a path wins (tar semantics).
fn last_entries(entries: &[Entry]) -> Vec<&Entry> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<&Entry> = entries
        .iter()
        .rev()
        .filter(|e| seen.insert(e.path.as_str()))
        .collect();
    out.reverse();
    out
}

pub fn apply(layers: &[&LayerScan]) -> Filesystem {
    let mut fs = Filesystem::default();
    for (i, layer) in layers.iter().enumerate() {
        let mut c = Changes::default();
        for dir in &layer.opaque {
            gone(&mut c, remove_tree(&mut fs.nodes, dir, false));
        }
        for path in &layer.whiteouts {
            gone(&mut c, remove_tree(&mut fs.nodes, path, true));
        }
        for e in last_entries(&layer.entries) {
            c.size_bytes += e.size;
            let before = fs.nodes.get(&e.path);
            // A lower file replaced by anything is waste this layer causes.
            if let Some(n) = before
                && n.kind == Kind::File
            {
                c.caused_wasted_bytes += n.size;
            }
            match (before.map(|n| n.kind), e.kind) {
                // A directory listed again (its mode or mtime) keeps its children.
                (Some(Kind::Dir), Kind::Dir) => {}
                (Some(Kind::Dir), _) => {
                    gone(&mut c, remove_tree(&mut fs.nodes, &e.path, false));
                    c.added += 1;
                }
                (Some(_), Kind::Dir) => c.changed += 1,
                (Some(_), _) => c.changed += 1,
                (None, Kind::Dir) => {}
                (None, _) => c.added += 1,
            }
            fs.nodes.insert(
                e.path.clone(),
                Node {
                    layer: i,
                    kind: e.kind,
                    size: e.size,
                    link: e.link.clone(),
                },
            );
        }
        fs.changes.push(c);
    }
    // Waste: a layer's file whose path the final filesystem does not hold from that layer.
    let mut wasted: BTreeMap<&str, Wasted> = BTreeMap::new();
    for (i, layer) in layers.iter().enumerate() {
        for e in last_entries(&layer.entries) {
            if e.kind != Kind::File {
                continue;
            }
            let kept_here = fs.nodes.get(&e.path).is_some_and(|n| n.layer == i);
            let w = wasted.entry(&e.path).or_insert_with(|| Wasted {
                path: e.path.clone(),
                wasted_bytes: 0,
                copies: 0,
                kept: false,
            });
            w.copies += 1;
            if kept_here {
                w.kept = true;
            } else {
                w.wasted_bytes += e.size;
                fs.changes[i].wasted_bytes += e.size;
            }
        }
    }
    let mut list: Vec<Wasted> = wasted
        .into_values()
        .filter(|w| w.wasted_bytes > 0)
        .collect();
    list.sort_by(|a, b| {
        b.wasted_bytes
            .cmp(&a.wasted_bytes)
            .then(a.path.cmp(&b.path))
    });
    fs.wasted = list;
    fs
}

impl Filesystem {
    /// Content bytes of the final filesystem's regular files.
    pub fn size_bytes(&self) -> u64 {
        self.nodes.values().map(|n| n.size).sum()
    }

    /// Follows symlinks (at most 40, like the kernel) to the node a path names.
    pub fn resolve(&self, path: &str) -> Option<(String, &Node)> {
        let mut parts: Vec<String> = Vec::new();
        let mut todo: Vec<String> = path.split('/').rev().map(str::to_string).collect();
        let mut hops = 0;
        while let Some(part) = todo.pop() {
            match part.as_str() {
                "" | "." => continue,
                ".." => {
                    parts.pop();
                    continue;
                }
                _ => {}
            }
            parts.push(part);
            let here = parts.join("/");
            // A parent directory a layer did not list is still a directory.
            let Some(node) = self.nodes.get(&here) else {
                continue;
            };
            if node.kind == Kind::Symlink {
                hops += 1;
                if hops > 40 {
                    return None;
                }
                let target = node.link.clone().unwrap_or_default();
                parts.pop();
                if target.starts_with('/') {
                    parts.clear();
                }
                todo.extend(target.split('/').rev().map(str::to_string));
            }
        }
        let here = parts.join("/");
        let node = self.nodes.get(&here)?;
        Some((here, node))
    }

    /// Whether a path exists (after symlinks) as something other than a directory.
    pub fn has_file(&self, path: &str) -> bool {
        self.resolve(path).is_some_and(|(_, n)| n.kind != Kind::Dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn file(path: &str, size: u64) -> Entry {
        Entry {
            path: path.into(),
            kind: Kind::File,
            size,
            link: None,
        }
    }

    fn layer(entries: Vec<Entry>, whiteouts: &[&str], opaque: &[&str]) -> LayerScan {
        LayerScan {
            entries,
            whiteouts: whiteouts.iter().map(|s| s.to_string()).collect(),
            opaque: opaque.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn whiteout_overwrite_and_opaque_waste() {
        let l0 = layer(
            vec![
                file("a", 10),
                file("d/x", 20),
                file("d/y", 30),
                file("keep", 1),
            ],
            &[],
            &[],
        );
        let l1 = layer(vec![file("a", 4)], &["keep"], &[]);
        let l2 = layer(vec![file("d/z", 5)], &[], &["d"]);
        let fs = apply(&[&l0, &l1, &l2]);
        // a: 10 overwritten; keep: 1 deleted; d/x and d/y hidden by the opaque dir.
        let total: u64 = fs.changes.iter().map(|c| c.size_bytes).sum();
        let wasted: u64 = fs.changes.iter().map(|c| c.wasted_bytes).sum();
        assert_eq!(total, 70);
        assert_eq!(wasted, 61);
        assert_eq!(fs.size_bytes(), 9);
        assert_eq!(fs.changes[1].changed, 1);
        assert_eq!(fs.changes[1].removed, 1);
        assert_eq!(fs.changes[2].removed, 2);
        assert_eq!(fs.changes[2].added, 1);
        // Who caused it: layer 1 overwrote a (10) and deleted keep (1); layer 2 hid d (50).
        let caused: Vec<u64> = fs.changes.iter().map(|c| c.caused_wasted_bytes).collect();
        assert_eq!(caused, vec![0, 11, 50]);
        // The kept copy of "a" is not waste (dive #684 counts it).
        let a = fs.wasted.iter().find(|w| w.path == "a").unwrap();
        assert_eq!((a.wasted_bytes, a.copies, a.kept), (10, 2, true));
    }

    #[test]
    fn symlinks_resolve() {
        let l0 = layer(
            vec![
                Entry {
                    path: "lib64".into(),
                    kind: Kind::Symlink,
                    size: 0,
                    link: Some("usr/lib64".into()),
                },
                file("usr/lib64/ld.so", 3),
                Entry {
                    path: "usr/lib64/ld".into(),
                    kind: Kind::Symlink,
                    size: 0,
                    link: Some("/lib64/ld.so".into()),
                },
            ],
            &[],
            &[],
        );
        let fs = apply(&[&l0]);
        assert!(fs.has_file("/lib64/ld.so"));
        assert!(fs.has_file("lib64/ld"));
        assert!(!fs.has_file("/lib64/nope"));
    }

    proptest! {
        /// Shipped = final + wasted, whatever the layers do.
        #[test]
        fn bytes_balance(ops in proptest::collection::vec(
            proptest::collection::vec((0u8..6, 0u8..3, 0u64..100, 0u8..10), 0..12), 1..6)) {
            let names = ["a", "b", "d/a", "d/b", "d/e/f", "d"];
            let layers: Vec<LayerScan> = ops.iter().map(|ops| {
                let mut l = LayerScan::default();
                for (n, _, size, what) in ops {
                    let p = names[*n as usize].to_string();
                    match what {
                        0 => l.whiteouts.push(p),
                        1 => l.opaque.push("d".into()),
                        2 => l.entries.push(Entry { path: p, kind: Kind::Dir, size: 0, link: None }),
                        _ => l.entries.push(file(&p, *size)),
                    }
                }
                l
            }).collect();
            let refs: Vec<&LayerScan> = layers.iter().collect();
            let fs = apply(&refs);
            let shipped: u64 = fs.changes.iter().map(|c| c.size_bytes).sum();
            let wasted: u64 = fs.changes.iter().map(|c| c.wasted_bytes).sum();
            prop_assert_eq!(shipped, fs.size_bytes() + wasted);
            // Every wasted copy was taken away by exactly one later layer.
            let caused: u64 = fs.changes.iter().map(|c| c.caused_wasted_bytes).sum();
            prop_assert_eq!(caused, wasted);
        }
    }
}
