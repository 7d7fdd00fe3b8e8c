//! The function-granularity call graph pprof builds for `top` (`internal/graph`): one node
//! per distinct function (inlined frames are nodes of their own), flat and cum weights, and
//! the caller->callee edges that decide the ` (inline)` marks.

use std::collections::HashMap;

use crate::intern::Interner;
use crate::model::Profile;

/// Identity of a node at `functions` granularity: the function name, or for frames without
/// one, the binary and start line (pprof's `NodeInfo` after `Aggregate`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Name(String),
    Obj { objfile: String, start_line: i64 },
}

/// Nodes of a profile and, per location, the node of each of its lines.
pub struct Nodes {
    keys: Vec<Key>,
    /// Per location, node ids in line order (innermost first). Never empty.
    pub loc_nodes: Vec<Vec<u32>>,
}

impl Nodes {
    pub fn new(p: &Profile) -> Nodes {
        let mut keys = Interner::with_capacity(p.functions.len());
        let mut intern = |k: Key| keys.id(k);
        let loc_nodes = p
            .locations
            .iter()
            .map(|l| {
                let objfile = || {
                    l.mapping
                        .map(|m| p.mappings[m as usize].file.clone())
                        .unwrap_or_default()
                };
                if p.lines(l).is_empty() {
                    return vec![intern(Key::Obj {
                        objfile: objfile(),
                        start_line: 0,
                    })];
                }
                p.lines(l)
                    .iter()
                    .map(|ln| match ln.function.map(|f| &p.functions[f as usize]) {
                        Some(f) if !f.name.is_empty() => intern(Key::Name(f.name.clone())),
                        f => intern(Key::Obj {
                            objfile: objfile(),
                            start_line: f.map_or(0, |f| f.start_line),
                        }),
                    })
                    .collect()
            })
            .collect();
        Nodes {
            keys: keys.values,
            loc_nodes,
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// `NodeInfo.PrintableName` at functions granularity.
    pub fn name(&self, n: u32) -> String {
        match &self.keys[n as usize] {
            Key::Name(s) => s.clone(),
            Key::Obj { objfile, .. } if !objfile.is_empty() => {
                format!("[{}]", objfile.rsplit('/').next().unwrap_or(objfile))
            }
            Key::Obj { .. } => "<unknown>".into(),
        }
    }

    /// `fmt.Sprint(NodeInfo)`, pprof's last-resort tiebreak when sorting.
    pub fn sprint(&self, n: u32) -> String {
        match &self.keys[n as usize] {
            Key::Name(s) => format!("{{{s}  0  0 0 }}"),
            Key::Obj {
                objfile,
                start_line,
            } => format!("{{  0  {start_line} 0 {objfile}}}"),
        }
    }
}

/// One caller->callee edge, summed over samples.
#[derive(Debug, Clone, Copy)]
pub struct Edge {
    pub weight: i64,
    /// True while every contribution was a call inlined into its caller.
    pub inline: bool,
    last_sample: u32,
}

/// Flat and cum per node (and edges when asked) over a set of samples.
pub struct Weights {
    pub flat: Vec<i64>,
    pub cum: Vec<i64>,
    pub edges: HashMap<(u32, u32), Edge>,
}

impl Weights {
    /// Nodes that appear in the graph: any nonzero flat or cum (`selectNodesForGraph`).
    pub fn present(&self) -> Vec<u32> {
        (0..self.flat.len() as u32)
            .filter(|&n| self.flat[n as usize] != 0 || self.cum[n as usize] != 0)
            .collect()
    }
}

/// Walks each sample root -> leaf (`newGraph`): every node on the stack gets cum once per
/// sample, the leaf's innermost frame gets flat unless it was not kept. With `kept`, other
/// nodes are skipped and the edge over them is residual.
pub fn weigh(
    p: &Profile,
    nodes: &Nodes,
    samples: &[usize],
    value_index: usize,
    kept: Option<&[bool]>,
    with_edges: bool,
) -> Weights {
    let n = nodes.len();
    let mut flat = vec![0i64; n];
    let mut cum = vec![0i64; n];
    let mut seen = vec![0u32; n];
    let mut edges: HashMap<(u32, u32), Edge> = HashMap::new();
    let mut stamp = 0u32;
    for &si in samples {
        let s = p.samples.get(si);
        let w = s.values[value_index];
        if w == 0 {
            continue;
        }
        stamp += 1;
        let mut parent: Option<u32> = None;
        let mut residual = false;
        for &loc in s.locations.iter().rev() {
            let ln = &nodes.loc_nodes[loc as usize];
            for ni in (0..ln.len()).rev() {
                let node = ln[ni];
                if kept.is_some_and(|k| !k[node as usize]) {
                    residual = true;
                    continue;
                }
                if seen[node as usize] != stamp {
                    seen[node as usize] = stamp;
                    cum[node as usize] = cum[node as usize].saturating_add(w);
                }
                if with_edges && let Some(par) = parent.filter(|&par| par != node) {
                    let inline = ni != ln.len() - 1;
                    let e = edges.entry((par, node)).or_insert(Edge {
                        weight: 0,
                        inline,
                        last_sample: 0,
                    });
                    if e.last_sample != stamp {
                        e.last_sample = stamp;
                        e.weight = e.weight.saturating_add(w);
                        e.inline &= inline;
                    }
                }
                parent = Some(node);
                residual = false;
            }
        }
        if let Some(leaf) = parent.filter(|_| !residual) {
            flat[leaf as usize] = flat[leaf as usize].saturating_add(w);
        }
    }
    Weights { flat, cum, edges }
}
