//! Profile-wide edits pprof makes before any report: `drop_frames`/`keep_frames` pruning
//! (`profile/prune.go`) and `--focus`/`--ignore` sample selection (`profile/filter.go`).

use regex::Regex;

use crate::model::Profile;

/// Why the profile's own filters cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// `drop_frames` or `keep_frames` (`list`) is not a regex.
    #[error("{list} regexp {pattern:?}: {error}")]
    FrameRegex {
        list: &'static str,
        pattern: String,
        #[source]
        error: regex::Error,
    },
}

/// Applies the profile's own `drop_frames`/`keep_frames` as pprof's fetch step does
/// (`RemoveUninteresting`). Errors name the regex that does not compile.
pub fn remove_uninteresting(p: &mut Profile) -> Result<(), FilterError> {
    if p.drop_frames.is_empty() {
        return Ok(());
    }
    let anchored = |re: &str, list: &'static str| {
        Regex::new(&format!("^({re})$")).map_err(|error| FilterError::FrameRegex {
            list,
            pattern: re.to_string(),
            error,
        })
    };
    let drop = anchored(&p.drop_frames, "drop_frames")?;
    let keep = if p.keep_frames.is_empty() {
        None
    } else {
        Some(anchored(&p.keep_frames, "keep_frames")?)
    };
    prune(p, &drop, keep.as_ref());
    Ok(())
}

/// `Profile.Prune`: a location whose frame matches `drop` (and not `keep`) loses that frame
/// and every frame inlined into it; samples lose it and everything the leaf-side of it,
/// unless it comes before the first kept frame from the root.
pub fn prune(p: &mut Profile, drop: &Regex, keep: Option<&Regex>) {
    let n = p.locations.len();
    let mut prune_loc = vec![false; n];
    let mut prune_beneath = vec![false; n];
    for li in 0..n {
        let lines = p.lines(&p.locations[li]);
        let mut hit = None;
        for i in (0..lines.len()).rev() {
            let Some(f) = lines[i].function else {
                continue;
            };
            let name = &p.functions[f as usize].name;
            if name.is_empty() {
                continue;
            }
            let simple = simplify_func(name);
            if drop.is_match(simple) && !keep.is_some_and(|k| k.is_match(simple)) {
                hit = Some(i);
                break;
            }
        }
        if let Some(i) = hit {
            prune_beneath[li] = true;
            if i == lines.len() - 1 {
                prune_loc[li] = true;
            } else {
                p.locations[li].drop_inner_lines(i + 1);
            }
        }
    }
    for si in 0..p.samples.len() {
        let locs = p.samples.get(si).locations;
        let mut found_user = false;
        let mut cut = 0;
        for i in (0..locs.len()).rev() {
            let id = locs[i] as usize;
            if !prune_loc[id] && !prune_beneath[id] {
                found_user = true;
                continue;
            }
            if !found_user {
                continue;
            }
            cut = if prune_loc[id] { i + 1 } else { i };
            break;
        }
        p.samples.drop_leaf_locations(si, cut);
    }
}

/// Strips a C++-style argument list so `f(int)` matches `f` (`simplifyFunc`).
fn simplify_func(f: &str) -> &str {
    let name = f.strip_prefix('.').unwrap_or(f);
    let reserved = ["(anonymous namespace)"];
    let mut at = 0;
    while let Some(rel) = name[at..].find('(') {
        let i = at + rel;
        if name[i..].starts_with(reserved[0]) {
            at = i + reserved[0].len();
            continue;
        }
        if name[..i].ends_with("operator") && name[i..].starts_with("()") {
            at = i + 2;
            continue;
        }
        return &name[..i];
    }
    name
}

/// Whether a location matches a `--focus`/`--ignore` regex: any function name or file name
/// of its lines, or its mapping's file (`Location.matchesName`).
fn location_matches(p: &Profile, loc: usize, re: &Regex) -> bool {
    let l = &p.locations[loc];
    p.lines(l).iter().any(|ln| {
        ln.function.is_some_and(|f| {
            let f = &p.functions[f as usize];
            re.is_match(&f.name) || re.is_match(&f.filename)
        })
    }) || l
        .mapping
        .is_some_and(|m| re.is_match(&p.mappings[m as usize].file))
}

/// Indices of the samples kept by `focus` and `ignore` (`FilterSamplesByName`): at least one
/// frame matches focus (or there is no focus) and none matches ignore.
pub fn select_samples(p: &Profile, focus: Option<&Regex>, ignore: Option<&Regex>) -> Vec<usize> {
    if focus.is_none() && ignore.is_none() {
        return (0..p.samples.len()).collect();
    }
    // Some(true) = focused, Some(false) = ignored, None = neither.
    let marks: Vec<Option<bool>> = (0..p.locations.len())
        .map(|l| {
            if ignore.is_some_and(|re| location_matches(p, l, re)) {
                Some(false)
            } else if focus.is_none_or(|re| location_matches(p, l, re)) {
                Some(true)
            } else {
                None
            }
        })
        .collect();
    p.samples
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            let mut focused = false;
            for &l in s.locations {
                match marks[l as usize] {
                    Some(false) => return false,
                    Some(true) => focused = true,
                    None => {}
                }
            }
            focused
        })
        .map(|(i, _)| i)
        .collect()
}

/// pprof's default name clean-up (`symbolizer.Demangle`, mode ""): a function without a
/// name takes its system name, and names that look like demangled C++ lose their parameter
/// and template lists. Mangled `_Z` names are left as they are (no demangler here).
pub fn simplify_names(p: &mut Profile) {
    for f in &mut p.functions {
        if !f.name.is_empty() && f.system_name != f.name {
            continue;
        }
        let mut name = f.system_name.clone();
        if looks_like_demangled_cplusplus(&name) {
            name = remove_matching(&name, b'(', b')');
            name = remove_matching(&name, b'<', b'>');
        }
        f.name = name;
    }
}

fn looks_like_demangled_cplusplus(s: &str) -> bool {
    if s.contains(".<") || s.contains("]).") {
        return false;
    }
    s.contains(['<', '>', '[', ']']) || s.contains("::")
}

/// Removes nested `start..end` groups; gives the name back unchanged on a mismatch.
fn remove_matching(name: &str, start: u8, end: u8) -> String {
    let mut b = name.as_bytes().to_vec();
    let (mut nesting, mut first, mut cur) = (0i32, 0usize, 0usize);
    while cur < b.len() {
        let c = b[cur];
        if c == start {
            nesting += 1;
            if nesting == 1 {
                first = cur;
            }
        } else if c == end {
            nesting -= 1;
            if nesting < 0 {
                return name.to_string();
            }
            if nesting == 0 {
                b.drain(first..=cur);
                cur = first;
                continue;
            }
        }
        cur += 1;
    }
    String::from_utf8(b).unwrap_or_else(|_| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplify_keeps_reserved_names() {
        assert_eq!(simplify_func("foo(int)"), "foo");
        assert_eq!(simplify_func(".bar"), "bar");
        assert_eq!(
            simplify_func("(anonymous namespace)::f(x)"),
            "(anonymous namespace)::f"
        );
        assert_eq!(simplify_func("main.(*T).M"), "main.");
    }
}
