//! Samples as call stacks of function names, root first, with inlined frames expanded:
//! the common input of the flame graph and the summary.

use crate::intern::Interner;
use crate::model::Profile;

/// Frame names per location (outermost first, as a stack reads root -> leaf).
pub struct FrameNames {
    per_location: Vec<Vec<u32>>,
    pub names: Vec<String>,
}

impl FrameNames {
    /// Names as pprof prints them at function granularity: the function name, else
    /// `[binary]`, else `<unknown>`.
    pub fn new(p: &Profile) -> FrameNames {
        let mut names = Interner::with_capacity(0);
        let mut intern = |s: String| names.id(s);
        let per_location = p
            .locations
            .iter()
            .map(|l| {
                let obj = || match l.mapping.map(|m| p.mappings[m as usize].file.as_str()) {
                    Some(f) if !f.is_empty() => format!("[{}]", f.rsplit('/').next().unwrap_or(f)),
                    _ => "<unknown>".to_string(),
                };
                if p.lines(l).is_empty() {
                    return vec![intern(obj())];
                }
                p.lines(l)
                    .iter()
                    .rev()
                    .map(
                        |ln| match ln.function.map(|f| &p.functions[f as usize].name) {
                            Some(n) if !n.is_empty() => intern(n.clone()),
                            _ => intern(obj()),
                        },
                    )
                    .collect()
            })
            .collect();
        FrameNames {
            per_location,
            names: names.values,
        }
    }

    /// The stack of sample `s` as name ids, root first.
    pub fn stack(&self, p: &Profile, s: usize, out: &mut Vec<u32>) {
        out.clear();
        for &l in p.samples.get(s).locations.iter().rev() {
            out.extend_from_slice(&self.per_location[l as usize]);
        }
    }
}
