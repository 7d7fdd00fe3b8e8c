//! Container names from the Docker engine (`GET /containers/json`: each running
//! container's id and names), kept in a map that a background thread refreshes now and
//! then. A snapshot only looks names up in the map, so a slow or absent engine never
//! delays a refresh or a scrape; without an answer the names stay unknown and the cgroup
//! path is what names a container.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// Each read or write on the socket waits at most this long.
const TIMEOUT: Duration = Duration::from_secs(2);
/// `/containers/json` of a busy node is some hundred KiB; more is not the engine's.
const MAX_BODY: usize = 16 << 20;
/// An unknown container asks for a refresh, at most this often.
const MIN_GAP: Duration = Duration::from_secs(5);

#[derive(Default)]
struct State {
    /// Full container id to its name.
    names: HashMap<String, String>,
    /// The engine has answered (or failed) at least once.
    asked: bool,
    /// Someone saw a container the map does not know.
    poked: bool,
    /// Ids that were unknown after a refresh they asked for (another runtime's): they do
    /// not ask again; the regular refresh still names them if the engine learns them.
    strangers: HashSet<String>,
    /// Ids seen unknown since the last refresh.
    pending: HashSet<String>,
}

/// Names of the engine's containers; cheap to clone (one shared map).
#[derive(Clone)]
pub struct Names {
    shared: Arc<(Mutex<State>, Condvar)>,
}

#[derive(Deserialize)]
struct Listed {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Names", default)]
    names: Vec<String>,
}

/// The engine's list as id -> name (its first name without the leading `/`).
pub fn parse(body: &[u8]) -> Result<HashMap<String, String>, String> {
    let listed: Vec<Listed> =
        serde_json::from_slice(body).map_err(|e| format!("container list JSON: {e}"))?;
    Ok(listed
        .into_iter()
        .filter_map(|c| {
            let name = c.names.first()?.trim_start_matches('/').to_string();
            (!name.is_empty()).then_some((c.id, name))
        })
        .collect())
}

impl Names {
    /// Start asking the engine at `DOCKER_HOST` (a unix socket) or the default socket,
    /// every `every` and when poked. `None` when `DOCKER_HOST` is not a unix socket or
    /// the socket is not there: no thread is started.
    pub fn start(every: Duration) -> Option<Names> {
        let socket = boxwise_engine::socket_path().ok()?;
        if !socket.exists() {
            return None;
        }
        Some(Names::start_at(socket, every))
    }

    /// Like [`Names::start`], for a given socket.
    pub fn start_at(socket: PathBuf, every: Duration) -> Names {
        let names = Names {
            shared: Arc::new((Mutex::new(State::default()), Condvar::new())),
        };
        let shared = Arc::clone(&names.shared);
        let spawned = thread::Builder::new()
            .name("docker-names".into())
            .spawn(move || refresh_loop(&socket, every, &shared));
        if spawned.is_err() {
            names.lock().asked = true;
        }
        names
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The name of the container with this full id; an unknown id asks for a refresh.
    pub fn get(&self, container_id: &str) -> Option<String> {
        let mut s = self.lock();
        let found = s.names.get(container_id).cloned();
        if found.is_none() && s.asked && !s.strangers.contains(container_id) {
            s.pending.insert(container_id.to_string());
            if !s.poked {
                s.poked = true;
                self.shared.1.notify_all();
            }
        }
        found
    }

    /// Wait until the engine first answered (or failed), at most `timeout`: for one-shot
    /// output, which has no later refresh to show the names in.
    pub fn wait_first(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut s = self.lock();
        while !s.asked {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            s = self
                .shared
                .1
                .wait_timeout(s, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

fn refresh_loop(socket: &std::path::Path, every: Duration, shared: &(Mutex<State>, Condvar)) {
    let (lock, wake) = shared;
    loop {
        let answer = boxwise_engine::get_ok(socket, "/containers/json", Some(TIMEOUT), MAX_BODY)
            .and_then(|body| parse(&body));
        let asked_at = Instant::now();
        {
            let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
            // A failed ask keeps the last names: the engine may be restarting.
            if let Ok(names) = answer {
                s.names = names;
                let State {
                    names,
                    strangers,
                    pending,
                    ..
                } = &mut *s;
                strangers.extend(pending.drain().filter(|id| !names.contains_key(id)));
            }
            s.asked = true;
            s.poked = false;
            wake.notify_all();
        }
        thread::sleep(MIN_GAP);
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        while !s.poked && asked_at.elapsed() < every {
            let left = every.saturating_sub(asked_at.elapsed());
            s = wake
                .wait_timeout(s, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_first_name_without_its_slash() {
        let body =
            br#"[{"Id":"abc","Names":["/web-1","/other"],"Image":"x"},{"Id":"def","Names":[]}]"#;
        let m = parse(body).unwrap();
        assert_eq!(m.get("abc").map(String::as_str), Some("web-1"));
        assert!(!m.contains_key("def"));
        assert!(parse(b"{").is_err());
    }

    #[test]
    fn no_engine_gives_no_names_and_does_not_wait_long() {
        let dir = tempfile::tempdir().unwrap();
        let names = Names::start_at(dir.path().join("absent.sock"), Duration::from_secs(60));
        names.wait_first(Duration::from_secs(30));
        assert_eq!(names.get("abc"), None);
        assert!(names.lock().asked);
    }

    proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&body);
        }
    }
}
