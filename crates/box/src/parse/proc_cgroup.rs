//! `/proc/<pid>/cgroup`: `hierarchy-id:controller-list:cgroup-path` per line.
//!
//! v1 lines name their controllers (`4:memory:/docker/abc`, `1:name=systemd:/`); the v2 line
//! is `0::/path`. Paths may contain colons (systemd slices for CRI-O and containerd), so a
//! line is split on its first two colons only.

use crate::error::{ParseError, quote};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupLine {
    pub hierarchy: u32,
    /// Empty for the v2 line.
    pub controllers: Vec<String>,
    pub path: String,
}

impl CgroupLine {
    /// Whether this is the unified (v2) hierarchy's line.
    pub fn is_unified(&self) -> bool {
        self.hierarchy == 0 && self.controllers.is_empty()
    }

    pub fn has_controller(&self, name: &str) -> bool {
        self.controllers.iter().any(|c| c == name)
    }
}

pub fn parse(text: &str) -> Result<Vec<CgroupLine>, ParseError> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(parse_line)
        .collect()
}

pub fn parse_line(line: &str) -> Result<CgroupLine, ParseError> {
    let bad = |why: &str| ParseError(format!("{why} in cgroup line {}", quote(line)));
    let mut parts = line.splitn(3, ':');
    let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("expected hierarchy-id:controllers:path"));
    };
    let hierarchy = id
        .parse::<u32>()
        .map_err(|_| bad("hierarchy id is not a number"))?;
    if !path.starts_with('/') {
        return Err(bad("cgroup path does not start with '/'"));
    }
    let controllers = controllers
        .split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    Ok(CgroupLine {
        hierarchy,
        controllers,
        path: path.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn v1_and_v2_lines() {
        let lines =
            parse("4:memory:/process_api/x\n2:cpu,cpuacct:/\n1:name=systemd:/\n0::/\n").unwrap();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0].controllers, ["memory"]);
        assert_eq!(lines[0].path, "/process_api/x");
        assert!(lines[1].has_controller("cpuacct") && !lines[1].is_unified());
        assert!(lines[3].is_unified());
    }

    #[test]
    fn colons_stay_in_the_path() {
        let l = parse_line("0::/kubepods.slice/kubepods-pod1.slice/cri-containerd:abc:def.scope")
            .unwrap();
        assert_eq!(
            l.path,
            "/kubepods.slice/kubepods-pod1.slice/cri-containerd:abc:def.scope"
        );
        assert!(l.is_unified());
    }

    #[test]
    fn errors() {
        for bad in ["1:cpu", "x:cpu:/", "0::relative", "", "::"] {
            assert!(
                parse_line(bad).unwrap_err().0.contains("cgroup line"),
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") { let _ = parse(&s); }

        #[test]
        fn path_survives(id in 0u32..20, ctl in "[a-z_=]{0,12}", path in "/[a-z0-9:._/-]{0,40}") {
            let l = parse_line(&format!("{id}:{ctl}:{path}")).unwrap();
            prop_assert_eq!(l.hierarchy, id);
            prop_assert_eq!(l.path, path);
        }
    }
}
