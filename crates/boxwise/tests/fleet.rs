//! `boxwise exporter` scraped by Debian's real Prometheus, and `boxwise top --once/--json`:
//! a Go program runs in a real cgroup with a 0.1-CPU quota and GOMAXPROCS=8, and
//! Prometheus's HTTP API must return its throttling and its GOMAXPROCS misfit, and the
//! alerting rules in deploy/ must go pending for it.

mod support;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use support::{TestCgroup, build_go_program, require, workspace_root};

/// A child process killed and reaped when dropped, also when the test fails.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn boxwise() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_boxwise"))
}

/// The cgroup path of `pid` in the cpu hierarchy (v1) or the unified one, read from
/// /proc without boxwise's code.
fn cpu_cgroup_of(pid: u32) -> String {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("read cgroup");
    let v1 = text.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
        ctrls
            .split(',')
            .any(|c| c == "cpu")
            .then(|| path.to_string())
    });
    v1.or_else(|| {
        text.lines()
            .find_map(|l| l.strip_prefix("0::").map(str::to_string))
    })
    .expect("a cpu or unified line")
}

/// Start the exporter on a free loopback port; returns it and its address.
fn start_exporter(interval: &str) -> (Reaped, String) {
    let mut child = Command::new(boxwise())
        .args([
            "exporter",
            "--listen",
            "127.0.0.1:0",
            "--interval",
            interval,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start boxwise exporter");
    let stderr = child.stderr.take().expect("stderr");
    let child = Reaped(child);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the exporter says where it listens");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_string();
    (child, addr)
}

fn get(url: &str) -> (u16, String) {
    let mut resp = ureq::get(url)
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().expect("body"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

/// Run an instant query until it returns a sample or a minute passes; the samples.
fn query_until(prom: &str, q: &str) -> Vec<serde_json::Value> {
    let url = format!("http://{prom}/api/v1/query?query={}", percent_encode(q));
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(mut resp) = ureq::get(&url).call() {
            let doc: serde_json::Value =
                serde_json::from_str(&resp.body_mut().read_to_string().unwrap_or_default())
                    .unwrap_or_default();
            if let Some(result) = doc["data"]["result"].as_array()
                && !result.is_empty()
            {
                return result.clone();
            }
        }
        if Instant::now() > deadline {
            panic!("Prometheus returned nothing for {q}");
        }
        thread::sleep(Duration::from_millis(500));
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn value(sample: &serde_json::Value) -> f64 {
    sample["value"][1]
        .as_str()
        .and_then(|v| match v {
            "+Inf" => Some(f64::INFINITY),
            v => v.parse().ok(),
        })
        .unwrap_or_else(|| panic!("no value in {sample}"))
}

/// A Go program burning CPU in a fresh cgroup with a 0.1-CPU quota, 256 MiB limit and
/// GOMAXPROCS=8. The quota is small so that it throttles even on a machine so busy that
/// the program would get less than half a CPU anyway. `None` when the prerequisites are missing (skipped).
fn misfit_worker() -> Option<(TestCgroup, Reaped, u32)> {
    let cg = TestCgroup::create_or_skip()?;
    let worker = build_go_program("worker")?;
    cg.set_cpu_quota(0.1);
    cg.set_memory_limit(256 << 20);
    let child = cg
        .command(&worker)
        .args(["burn", "600"])
        .env("GOMAXPROCS", "8")
        .env_remove("GOMEMLIMIT")
        .stdout(Stdio::null())
        .spawn()
        .expect("start worker");
    let pid = child.id();
    Some((cg, Reaped(child), pid))
}

#[test]
#[ignore = "needs root, a writable cgroup, Go and Debian's prometheus"]
fn prometheus_scrapes_throttling_and_the_gomaxprocs_misfit() {
    let have_prom = Command::new("prometheus")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !require(
        have_prom,
        "prometheus is not installed (apt-get install prometheus)",
    ) {
        return;
    }
    let Some((_cg, _worker, pid)) = misfit_worker() else {
        return;
    };
    let cgroup_id = cpu_cgroup_of(pid);
    let (_exporter, addr) = start_exporter("1s");

    // The exposition itself passes promtool's lint.
    let (status, body) = get(&format!("http://{addr}/metrics"));
    assert_eq!(status, 200);
    let mut lint = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promtool");
    {
        use std::io::Write;
        lint.stdin
            .take()
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
    }
    let out = lint.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, health) = get(&format!("http://{addr}/healthz"));
    assert_eq!((status, health.as_str()), (200, "ok\n"));

    // Prometheus on loopback, scraping every second, with deploy/'s alerting rules.
    let dir = tempfile::tempdir().unwrap();
    let rules = workspace_root().join("deploy/prometheus/boxwise-rules.yaml");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\n\
             scrape_configs:\n  - job_name: boxwise\n    static_configs:\n      - targets: ['{addr}']\n",
            rules.display()
        ),
    )
    .unwrap();
    let prom_addr = format!("127.0.0.1:{}", free_port());
    let prom = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address={prom_addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let _prom = Reaped(prom);

    let sel = format!("pid=\"{pid}\"");
    let procs = query_until(&prom_addr, &format!("boxwise_go_gomaxprocs{{{sel}}}"));
    assert_eq!(value(&procs[0]), 8.0, "{procs:?}");
    assert_eq!(procs[0]["metric"]["id"], cgroup_id.as_str());
    let want = query_until(
        &prom_addr,
        &format!("boxwise_go_gomaxprocs_recommended{{{sel}}}"),
    );
    assert_eq!(
        value(&want[0]),
        2.0,
        "0.1 CPU rounds up to Go 1.25's minimum of 2"
    );
    let fit = query_until(
        &prom_addr,
        &format!("boxwise_go_fit{{{sel},setting=\"gomaxprocs\"}}"),
    );
    assert_eq!(value(&fit[0]), 0.0);
    let memlimit = query_until(&prom_addr, &format!("boxwise_go_gomemlimit_bytes{{{sel}}}"));
    assert_eq!(value(&memlimit[0]), f64::INFINITY, "GOMEMLIMIT is unset");
    let finding = query_until(
        &prom_addr,
        &format!("boxwise_go_finding{{{sel},rule=\"gomaxprocs-above-cpu-limit\"}}"),
    );
    assert!(matches!(
        finding[0]["metric"]["severity"].as_str(),
        Some("error" | "warning")
    ));

    let cg = format!("id=\"{cgroup_id}\"");
    let quota = query_until(&prom_addr, &format!("container_spec_cpu_quota{{{cg}}}"));
    assert_eq!(value(&quota[0]), 10_000.0);
    // Throttled in more than half of the periods: 8 threads of Go code on a 0.1-CPU quota.
    let throttled = query_until(
        &prom_addr,
        &format!(
            "rate(container_cpu_cfs_throttled_periods_total{{{cg}}}[10s]) \
             / rate(container_cpu_cfs_periods_total{{{cg}}}[10s]) > 0.5"
        ),
    );
    assert!(value(&throttled[0]) <= 1.0);
    // deploy/'s alerts go pending for it.
    for alert in ["BoxwiseGomaxprocsAboveQuota", "BoxwiseGomemlimitUnset"] {
        query_until(
            &prom_addr,
            &format!("ALERTS{{alertname=\"{alert}\",{sel}}}"),
        );
    }
    query_until(
        &prom_addr,
        &format!("ALERTS{{alertname=\"BoxwiseCpuThrottled\",{cg}}}"),
    );
}

#[test]
#[ignore = "needs root, a writable cgroup and Go"]
fn top_once_and_json_show_the_misfit() {
    let Some((_cg, _worker, pid)) = misfit_worker() else {
        return;
    };
    let cgroup_id = cpu_cgroup_of(pid);
    let out = support::run(Command::new(boxwise()).args(["top", "--json", "--interval", "1s"]));
    let text = support::stdout_ok(&Command::new("boxwise"), &out);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("top --json is JSON");
    let go = doc["go_processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("pid {pid} not in {text}"));
    assert_eq!(go["gomaxprocs"], 8);
    assert_eq!(go["gomaxprocs_recommended"], 2);
    assert_eq!(go["gomaxprocs_fit"], false);
    assert_eq!(go["gomemlimit_bytes"], serde_json::Value::Null);
    assert_eq!(go["cgroup"], cgroup_id.as_str());
    let row = doc["cgroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == cgroup_id.as_str())
        .unwrap_or_else(|| panic!("cgroup {cgroup_id} not in {text}"));
    assert_eq!(row["cpu_quota_us"], 10_000);
    assert_eq!(row["go_processes"], 1);
    let thr = row["rates"]["throttled_periods_percent"].as_f64().unwrap();
    assert!(thr > 50.0, "throttled {thr}% of periods");

    let out = support::run(Command::new(boxwise()).args([
        "top",
        "--once",
        "--interval",
        "1s",
        "--filter",
        &cgroup_id,
    ]));
    let text = support::stdout_ok(&Command::new("boxwise"), &out);
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(&pid.to_string()))
        .unwrap_or_else(|| panic!("no row for pid {pid}:\n{text}"));
    assert!(line.contains("8!want 2"), "{line}");
    assert!(line.contains("unset!"), "{line}");
    // The legend is told with this row's values and its limit, not a fixed example.
    assert!(
        text.contains("8!want 2: GOMAXPROCS is 8, but its CPU limit of 0.1 cores calls for 2."),
        "{text}"
    );

    // --json keeps to the filter: this cgroup and this process only.
    let out = support::run(Command::new(boxwise()).args([
        "top",
        "--json",
        "--interval",
        "1s",
        "--filter",
        &cgroup_id,
    ]));
    let text = support::stdout_ok(&Command::new("boxwise"), &out);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("top --json is JSON");
    let ids: Vec<&str> = doc["cgroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.is_empty() && ids.iter().all(|i| i.contains(&cgroup_id)),
        "{ids:?}"
    );
    let pids: Vec<&serde_json::Value> = doc["go_processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["pid"])
        .collect();
    assert_eq!(pids, [&serde_json::Value::from(pid)], "{text}");
}

/// A Go process with no CPU limit and more GOMAXPROCS than CPUs: the legend says the
/// CPUs it may use call for the value, not a limit that is not there.
#[test]
#[ignore = "needs root, a writable cgroup and Go"]
fn top_legend_without_a_cpu_limit_names_the_cpus() {
    let Some(cg) = TestCgroup::create_or_skip() else {
        return;
    };
    let Some(worker) = build_go_program("worker") else {
        return;
    };
    let procs = (support::affinity_count() + 3).to_string();
    let child = cg
        .command(&worker)
        .arg("sleep")
        .env("GOMAXPROCS", &procs)
        .stdout(Stdio::null())
        .spawn()
        .expect("start worker");
    let pid = child.id();
    let _worker = Reaped(child);
    let cgroup_id = cpu_cgroup_of(pid);
    let out = support::run(Command::new(boxwise()).args([
        "top",
        "--once",
        "--interval",
        "1s",
        "--filter",
        &cgroup_id,
    ]));
    let text = support::stdout_ok(&Command::new("boxwise"), &out);
    let legend = text
        .lines()
        .find(|l| l.starts_with(&format!("{procs}!want ")))
        .unwrap_or_else(|| panic!("no legend for GOMAXPROCS={procs}:\n{text}"));
    assert!(
        legend.contains("with no CPU limit the CPUs it may use call for")
            && !legend.contains("limit calls for"),
        "{legend}"
    );
    assert!(legend.chars().count() <= 80, "{legend}");
}

#[test]
#[ignore = "needs root, a writable cgroup, Go and tmux"]
fn top_runs_in_tmux_at_80x24() {
    let have_tmux = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !require(have_tmux, "tmux is not installed (apt-get install tmux)") {
        return;
    }
    let Some((_cg, _worker, pid)) = misfit_worker() else {
        return;
    };
    let session = format!("boxwise-top-{}", std::process::id());
    let socket = tempfile::tempdir().unwrap();
    let sock = socket.path().join("tmux");
    let tmux = |args: &[&str]| {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&sock)
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    struct Kill<'a>(&'a dyn Fn(&[&str]) -> String);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            (self.0)(&["kill-server"]);
        }
    }
    let _kill = Kill(&tmux);
    let cmd = format!("{} top --interval 500ms", boxwise().display());
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "80",
        "-y",
        "24",
        &cmd,
    ]);
    let capture = || tmux(&["capture-pane", "-p", "-t", &session]);
    let wait_for = |what: &dyn Fn(&str) -> bool| -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = capture();
            if what(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("tmux screen never matched:\n{screen}");
            }
            thread::sleep(Duration::from_millis(200));
        }
    };
    let pid_s = pid.to_string();
    let screen = wait_for(&|s| s.contains(&pid_s) && s.contains("8!want 2"));
    assert!(screen.lines().count() <= 24);
    assert!(screen.lines().all(|l| l.chars().count() <= 80));
    assert!(screen.contains("sort throttled"), "{screen}");
    tmux(&["send-keys", "-t", &session, "m"]);
    wait_for(&|s| s.contains("sort memory"));
    // Filter to a name nothing has: the Go table empties.
    tmux(&[
        "send-keys",
        "-t",
        &session,
        "/",
        "nothing-is-called-this",
        "Enter",
    ]);
    let screen = wait_for(&|s| s.contains("filter \"nothing-is-called-this\""));
    assert!(!screen.contains(&format!(" {pid_s} ")), "{screen}");
    tmux(&["send-keys", "-t", &session, "/", "Escape"]);
    wait_for(&|s| s.contains(&pid_s));
    tmux(&["send-keys", "-t", &session, "q"]);
    // The session ends when top exits.
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux(&["list-sessions"]).contains(&session) {
        assert!(Instant::now() < deadline, "top did not quit on q");
        thread::sleep(Duration::from_millis(100));
    }
}

/// Bad values are usage errors (exit 2) before anything starts, and the live screen
/// without a terminal says what to use instead.
#[test]
fn top_and_exporter_refuse_what_they_cannot_do() {
    for args in [
        &["top", "--interval", "0s"][..],
        &["exporter", "--interval", "0s", "--once"],
        &["exporter", "--listen", "nonsense", "--once"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_boxwise"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_boxwise"))
        .arg("top")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("needs a terminal") && err.contains("--once"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// The header counts what the filter lets through, and the `!want` legend appears only when
/// a row shows the mark.
#[test]
fn top_once_counts_what_the_filter_shows() {
    let out = Command::new(env!("CARGO_BIN_EXE_boxwise"))
        .args([
            "top",
            "--once",
            "--interval",
            "200ms",
            "--filter",
            "zz-no-such-name-zz",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.contains("0/") && header.contains(" 0 Go") && header.contains("zz-no-such"),
        "{header}"
    );
    // Shortened to fit, never cut mid-word; what was unreadable is named under the table.
    assert!(header.chars().count() <= 80, "{header}");
    if header.contains("unreadable") {
        assert!(!header.contains('…'), "{header}");
        assert!(text.contains("\nunreadable: "), "{text}");
    }
    assert!(!text.contains("!want"), "{text}");
}

#[test]
#[ignore = "needs root, Docker and busybox-static"]
fn docker_names_reach_top_and_the_exporter() {
    // A real container with a memory limit (so top shows it as a row), named by us.
    let Some(image) = support::busybox_image_or_skip() else {
        return;
    };
    let name = format!("boxwise-names-{}", std::process::id());
    let (cmd, out) = image.run(
        &["-d", "--name", &name, "--memory", "64m"],
        &["/busybox", "sleep", "600"],
    );
    let id = support::stdout_ok(&cmd, &out).trim().to_string();
    assert_eq!(id.len(), 64, "container id {id:?}");

    let out = support::run(Command::new(boxwise()).args(["top", "--json", "--interval", "1s"]));
    let text = support::stdout_ok(&Command::new("boxwise"), &out);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("top --json is JSON");
    let rows: Vec<&serde_json::Value> = doc["cgroups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"].as_str().is_some_and(|p| p.contains(&id)))
        .collect();
    assert!(!rows.is_empty(), "no row for container {id} in {text}");
    for row in &rows {
        assert_eq!(row["container_name"], name.as_str(), "{row}");
        assert_eq!(row["memory_limit_bytes"], 64 << 20, "{row}");
    }

    let out = support::run(Command::new(boxwise()).args(["exporter", "--once"]));
    let text = support::stdout_ok(&Command::new("boxwise"), &out);
    let limit = text
        .lines()
        .find(|l| l.starts_with("container_spec_memory_limit_bytes{") && l.contains(&id))
        .unwrap_or_else(|| panic!("no memory limit for {id} in the exposition"));
    assert!(
        limit.contains(&format!("name=\"{name}\"")),
        "the name label is not the container's: {limit}"
    );
    assert!(limit.ends_with(&format!(" {}", 64 << 20)), "{limit}");
}

/// `top`'s live walker against a real cgroup: its counters move between refreshes although
/// the files stay open (read again from offset 0), and once the cgroup is removed it drops
/// out at the next refresh, before the next listing (its open file answers ENODEV).
#[test]
#[ignore = "needs root and a writable cgroup"]
fn the_live_walker_follows_a_real_cgroup_and_drops_it_when_removed() {
    use boxwise_box::host::Host;
    use boxwise_fleet::{Options, Pace, Walker, hierarchy};

    let Some(parent) = TestCgroup::create_or_skip() else {
        return;
    };
    let cg = parent.child();
    cg.set_cpu_quota(0.1);
    let host = Host::live();
    let h = hierarchy::find(&host).expect("mountinfo");
    let id = h.cpu.as_ref().expect("a cpu hierarchy").id_of(cg.cpu_dir());
    let mut walker = Walker::new(Pace::LIVE);
    let opts = Options::default();
    let periods = |w: &mut Walker| {
        w.walk(&host, &h, &opts)
            .cgroups
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| c.cfs_periods)
    };
    let before = periods(&mut walker).expect("the new cgroup is listed");
    let spin = Reaped(
        cg.command("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .expect("start a busy loop"),
    );
    thread::sleep(Duration::from_millis(1500));
    let during = periods(&mut walker).expect("still there");
    assert!(
        during.unwrap_or(0) > before.unwrap_or(0) + 5,
        "cfs periods did not move: {before:?} -> {during:?}"
    );
    drop(spin);
    drop(cg);
    // The next refresh is not a listing (Pace::LIVE lists every 5).
    assert_eq!(
        periods(&mut walker),
        None,
        "{id} is still reported after rmdir"
    );
}

/// An idle container with no limits is a row: in the plain view (LIMIT `-`), found by a
/// filter on its name, and `--json --filter` returns it and nothing the filter leaves out
/// (not `/`, not the engine's Go processes). A filter that matches nothing says what it
/// searched.
#[test]
#[ignore = "needs root, Docker and busybox-static"]
fn top_finds_an_idle_container_without_limits() {
    let Some(image) = support::busybox_image_or_skip() else {
        return;
    };
    let name = format!("newcomer-{}", std::process::id());
    let (cmd, out) = image.run(&["-d", "--name", &name], &["/busybox", "sleep", "600"]);
    let id = support::stdout_ok(&cmd, &out).trim().to_string();
    assert_eq!(id.len(), 64, "container id {id:?}");

    let top = |args: &[&str]| {
        let mut cmd = Command::new(boxwise());
        cmd.args(["top", "--interval", "1s"]).args(args);
        let out = support::run(&mut cmd);
        support::stdout_ok(&cmd, &out)
    };
    for args in [&["--once"][..], &["--once", "--filter", &name]] {
        let text = top(args);
        let row = text
            .lines()
            .find(|l| l.starts_with(&name))
            .unwrap_or_else(|| panic!("no row for {name} with {args:?}:\n{text}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells[cells.len() - 2],
            "-",
            "LIMIT of an unlimited box: {row}"
        );
        for l in text.lines() {
            assert!(
                l.chars().count() <= 80,
                "{} columns: {l}",
                l.chars().count()
            );
        }
    }

    let text = top(&["--json", "--filter", &name]);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("top --json is JSON");
    assert_eq!(doc["filter"], name.as_str(), "{text}");
    let rows = doc["cgroups"].as_array().unwrap();
    assert!(!rows.is_empty(), "no row for {name}: {text}");
    for row in rows {
        assert!(row["id"].as_str().unwrap().contains(&id), "{row}");
        assert_eq!(row["container_name"], name.as_str(), "{row}");
        assert!(row["memory_limit_bytes"].is_null(), "{row}");
    }
    assert_eq!(doc["go_processes"].as_array().unwrap().len(), 0, "{text}");

    let text = top(&["--once", "--filter", "zz-no-such-name-zz"]);
    assert!(
        text.contains("no cgroup path or container name contains \"zz-no-such-name-zz\"")
            && text.contains("searched all"),
        "{text}"
    );
}
