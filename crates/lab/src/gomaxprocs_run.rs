//! Reading GOMAXPROCS off a running workload (`run --track-gomaxprocs`): turn the runtime's
//! schedtrace on through GODEBUG, read the command's stderr as it streams, record the
//! timeline and pass every other line on to boxwise's own stderr unchanged.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::gomaxprocs::{self, Timeline};
use crate::spec::RunSpec;

/// Set up before the spawn; started on the child's stderr after it.
pub struct Tracker {
    /// boxwise turned the trace on, so its lines are hidden (the user's own are not).
    added: bool,
}

impl Tracker {
    /// Set the command up for tracking, when the run asks for it and its stderr is not
    /// going to a file (a sweep reads the file afterwards instead).
    pub fn attach(cmd: &mut Command, spec: &RunSpec) -> Option<Tracker> {
        if !spec.track_gomaxprocs || spec.stderr.is_some() {
            return None;
        }
        let given = spec
            .env
            .iter()
            .rev()
            .find(|(k, _)| k == OsStr::new("GODEBUG"))
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var_os("GODEBUG"));
        let given = given.map(|g| g.to_string_lossy().into_owned());
        let godebug = gomaxprocs::godebug_with_schedtrace(given.as_deref());
        if let Some(g) = &godebug {
            cmd.env("GODEBUG", g);
        }
        cmd.stderr(Stdio::piped());
        Some(Tracker {
            added: godebug.is_some(),
        })
    }

    /// Read the child's stderr until it closes (the command and everything it started are
    /// gone), timing each line from `start`.
    pub fn start(self, child: &mut Child, start: Instant) -> Option<JoinHandle<Timeline>> {
        let stderr = child.stderr.take()?;
        let added = self.added;
        Some(std::thread::spawn(move || {
            let mut timeline = Timeline::default();
            let mut reader = BufReader::new(stderr);
            let mut line = Vec::new();
            let out = std::io::stderr();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let t = start.elapsed().as_secs_f64();
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']);
                timeline.observe(t, text);
                if !gomaxprocs::hidden(text, added) {
                    let _ = out.lock().write_all(&line);
                }
            }
            timeline
        }))
    }
}
