//! End-to-end checks in a real container: a static boxwise and the Go probe in
//! a `FROM scratch` image, run with `docker run --cpus 1.5 --memory 256m`.
//!
//! Needs a Docker engine and Go; skips otherwise (fails in CI, see
//! `support::require`).

mod support;

use std::path::Path;

use support::{DockerImage, ProbeReport, json_at};

const LIMITS: &[&str] = &["--cpus", "1.5", "--memory", "256m"];
const MEMORY_LIMIT: u64 = 256 * 1024 * 1024;
const EXPECTED_GOMEMLIMIT: i64 = 241_591_910;

/// The image with `/boxwise` and `/probe`, boxwise as the launcher; `None`
/// when Docker or Go is missing and the test should skip.
fn image() -> Option<DockerImage> {
    if !support::docker_or_skip() || !support::two_cpus_or_skip() {
        return None;
    }
    let probe = support::build_go_probe()?;
    let boxwise = support::static_boxwise();
    Some(DockerImage::build_scratch(
        &[(boxwise.as_path(), "boxwise"), (probe.as_path(), "probe")],
        r#"ENTRYPOINT ["/boxwise", "exec", "--", "/probe"]"#,
    ))
}

/// GOMAXPROCS under `--cpus 1.5` with the default `go125` policy, on 2 or more CPUs
/// (`image` skips below that): ceil(1.5) = 2, at least 2 -> 2, at most the CPUs (>= 2) -> 2.
const EXPECTED_PROCS: i64 = 2;

#[test]
#[ignore = "needs Docker, Go, 2 CPUs"]
fn exec_entrypoint_sets_go_settings_from_docker_limits() {
    let Some(img) = image() else {
        return;
    };
    let (cmd, out) = img.run(LIMITS, &[]);
    let report = ProbeReport::parse(&support::stdout_ok(&cmd, &out));
    assert_eq!(report.int("gomaxprocs"), EXPECTED_PROCS);
    assert_eq!(report.get("GOMAXPROCS"), EXPECTED_PROCS.to_string());
    assert_eq!(report.int("gomemlimit"), EXPECTED_GOMEMLIMIT);
    assert_eq!(report.get("GOMEMLIMIT"), EXPECTED_GOMEMLIMIT.to_string());
    assert_eq!(report.int("pid"), 1, "boxwise must exec the probe as PID 1");
}

#[test]
#[ignore = "needs Docker, Go, 2 CPUs"]
fn exec_entrypoint_keeps_user_gomaxprocs() {
    let Some(img) = image() else {
        return;
    };
    let mut args = LIMITS.to_vec();
    args.extend(["-e", "GOMAXPROCS=3"]);
    let (cmd, out) = img.run(&args, &[]);
    let report = ProbeReport::parse(&support::stdout_ok(&cmd, &out));
    assert_eq!(report.int("gomaxprocs"), 3);
    assert_eq!(report.int("gomemlimit"), EXPECTED_GOMEMLIMIT);
}

#[test]
#[ignore = "needs Docker, Go, 2 CPUs"]
fn inspect_in_container_reports_docker_limits() {
    let Some(img) = image() else {
        return;
    };
    let mut args = LIMITS.to_vec();
    args.extend(["--entrypoint", "/boxwise"]);
    let (cmd, out) = img.run(&args, &["inspect", "--json"]);
    let stdout = support::stdout_ok(&cmd, &out);
    let doc: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("invalid JSON from inspect ({e}):\n{stdout}"));

    // Docker on a v1 host mounts only the v1 controllers into the container
    // (runc may add the unified mount on hybrid hosts); a v2 host gives v2.
    let version = json_at(&doc, "cgroup.version").as_str().unwrap_or_default();
    match support::docker_cgroup_version().as_str() {
        "2" => assert_eq!(version, "v2"),
        _ => assert!(
            ["v1", "hybrid"].contains(&version),
            "cgroup.version {version:?} on a v1 Docker host"
        ),
    }
    // `--cpus 1.5`, below the 2 or more CPUs allowed.
    assert_eq!(json_at(&doc, "cpu.effective_cores").as_f64(), Some(1.5));
    assert_eq!(
        json_at(&doc, "memory.limit_bytes").as_u64(),
        Some(MEMORY_LIMIT)
    );
    assert_eq!(
        json_at(&doc, "recommendation.gomaxprocs").as_i64(),
        Some(EXPECTED_PROCS)
    );
    assert_eq!(
        json_at(&doc, "recommendation.gomemlimit_bytes").as_i64(),
        Some(EXPECTED_GOMEMLIMIT)
    );
}

/// The static build really is static (no `PT_INTERP` program header): a
/// dynamic one dies in a scratch image with a baffling "no such file".
/// Gated on Docker because images are the only reason to build it.
#[test]
#[ignore = "needs Docker"]
fn static_binary_has_no_interpreter() {
    if !support::docker_or_skip() {
        return;
    }
    let bin = support::static_boxwise();
    let elf = std::fs::read(Path::new(&bin)).expect("read static boxwise");
    assert_eq!(
        &elf[..5],
        b"\x7fELF\x02",
        "{} is not a 64-bit ELF",
        bin.display()
    );
    let u16_at = |o: usize| usize::from(u16::from_le_bytes([elf[o], elf[o + 1]]));
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    const PT_INTERP: u32 = 3;
    let has_interp = (0..phnum).any(|i| {
        let o = phoff + i * phentsize;
        u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) == PT_INTERP
    });
    assert!(!has_interp, "{} asks for a dynamic loader", bin.display());
}

/// From the host, `inspect --pid`, `ps` and `doctor --pid` look at a Go process inside a
/// container: its cgroup files are in the container's mount namespace (Docker's v1 layout
/// mounts the container's cgroup as the root of each hierarchy), so they must be read
/// through `/proc/PID/root`, not at the same path on the host.
#[test]
#[ignore = "needs Docker, Go, 2 CPUs"]
fn host_side_commands_see_the_containers_limits() {
    if !support::docker_or_skip() || !support::two_cpus_or_skip() {
        return;
    }
    let Some(worker) = support::build_go_program("worker") else {
        return;
    };
    let img = DockerImage::build_scratch(
        &[(worker.as_path(), "worker")],
        r#"ENTRYPOINT ["/worker", "sleep"]"#,
    );
    let mut args = vec!["-d"];
    args.extend(LIMITS);
    let (cmd, out) = img.run(&args, &[]);
    let id = support::stdout_ok(&cmd, &out).trim().to_string();
    let pid_out = std::process::Command::new("docker")
        .args(["inspect", "-f", "{{.State.Pid}}", &id])
        .output()
        .unwrap();
    let pid = String::from_utf8(pid_out.stdout)
        .unwrap()
        .trim()
        .to_string();
    let boxwise = env!("CARGO_BIN_EXE_boxwise");

    let json = |args: &[&str]| -> serde_json::Value {
        let mut c = std::process::Command::new(boxwise);
        c.args(args);
        let o = support::run(&mut c);
        serde_json::from_str(&support::stdout_ok(&c, &o)).unwrap()
    };
    let inspect = json(&["inspect", "--json", "--pid", &pid]);
    let ps = json(&["ps", "--json"]);
    let doctor = json(&["doctor", "--json", "--pid", &pid]);
    let _ = std::process::Command::new("docker")
        .args(["kill", &id])
        .output();

    // `--cpus 1.5`, below the 2 or more CPUs allowed.
    let cores = 1.5;
    assert_eq!(
        json_at(&inspect, "cpu.effective_cores").as_f64(),
        Some(cores),
        "{inspect:#}"
    );
    assert_eq!(
        json_at(&inspect, "memory.limit_bytes").as_u64(),
        Some(MEMORY_LIMIT)
    );
    assert_eq!(
        json_at(&inspect, "recommendation.gomemlimit_bytes").as_i64(),
        Some(EXPECTED_GOMEMLIMIT)
    );
    assert_eq!(json_at(&inspect, "container.runtime"), "docker");
    assert_eq!(json_at(&inspect, "container.id"), id.as_str());

    let row = ps
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pid"].as_u64().map(|p| p.to_string()).as_deref() == Some(pid.as_str()))
        .unwrap_or_else(|| panic!("{pid} not in ps: {ps:#}"));
    assert_eq!(row["memory_limit_bytes"], MEMORY_LIMIT);
    assert_eq!(row["effective_cores"].as_f64(), Some(cores));
    assert_eq!(row["container_id"], id.as_str());

    let ids: Vec<&str> = doctor["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"gomemlimit-unset"), "{ids:?}");
}
