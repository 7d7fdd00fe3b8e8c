//! The Docker engine's record of a container (`GET /containers/ID/json`): whether its last
//! exit was an OOM kill and how often it was restarted, which outlive the cgroup.

use serde::{Deserialize, Serialize};

/// What the engine says about the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DockerState {
    pub id: String,
    pub name: Option<String>,
    /// `State.OOMKilled`: the kernel OOM-killed the container's last run.
    pub oom_killed: bool,
    pub restart_count: u64,
    /// `State.ExitCode` of the last exit (137 after a SIGKILL).
    pub exit_code: Option<i64>,
    /// RFC 3339, as the engine writes them.
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

#[derive(Deserialize)]
struct Inspect {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Name")]
    name: Option<String>,
    #[serde(rename = "RestartCount", default)]
    restart_count: u64,
    #[serde(rename = "State")]
    state: StateJson,
}

#[derive(Deserialize)]
struct StateJson {
    #[serde(rename = "OOMKilled", default)]
    oom_killed: bool,
    #[serde(rename = "ExitCode")]
    exit_code: Option<i64>,
    #[serde(rename = "StartedAt")]
    started_at: Option<String>,
    #[serde(rename = "FinishedAt")]
    finished_at: Option<String>,
}

/// Parse the engine's inspect JSON.
pub fn parse(body: &[u8]) -> Result<DockerState, String> {
    let i: Inspect = serde_json::from_slice(body).map_err(|e| format!("container JSON: {e}"))?;
    // The zero time means "never".
    let time = |t: Option<String>| t.filter(|t| !t.starts_with("0001-01-01"));
    Ok(DockerState {
        id: i.id,
        name: i.name.map(|n| n.trim_start_matches('/').to_string()),
        oom_killed: i.state.oom_killed,
        restart_count: i.restart_count,
        exit_code: i.state.exit_code,
        started_at: time(i.state.started_at),
        finished_at: time(i.state.finished_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_engine_answer() {
        let body = br#"{"Id":"abc","Name":"/web","RestartCount":2,"State":{"Status":"running","OOMKilled":true,"ExitCode":0,"StartedAt":"2026-11-29T23:40:01.5Z","FinishedAt":"2026-11-29T23:40:00.9Z"}}"#;
        let s = parse(body).unwrap();
        assert_eq!(s.name.as_deref(), Some("web"));
        assert!(s.oom_killed);
        assert_eq!(s.restart_count, 2);
        assert_eq!(s.finished_at.as_deref(), Some("2026-11-29T23:40:00.9Z"));
        let never = br#"{"Id":"a","State":{"FinishedAt":"0001-01-01T00:00:00Z"}}"#;
        assert_eq!(parse(never).unwrap().finished_at, None);
        assert!(parse(b"{").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&body);
        }
    }
}
