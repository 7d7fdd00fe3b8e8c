//! Go-process discovery over a fake /proc, and the `ps` row built from a fixture box.

mod support;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use boxwise_box::host::Host;
use boxwise_box::parse::status::Status;
use boxwise_box::policy::{self, Options};
use boxwise_box::probe::{self, Detail, Target};
use boxwise_goprog::GoBinary;
use boxwise_goprog::process::{Found, Kind, Row, discover};
use support::{build, framed, layouts};

fn go_elf(version: &str) -> Vec<u8> {
    build(layouts()[15], version, &framed("path\texample.com/app\n"))
}

/// `/proc/<pid>/exe` pointing at `exe` (when given), and a status naming the process.
fn process(root: &Path, pid: u32, name: &str, exe: Option<&Path>) {
    let dir = root.join(format!("proc/{pid}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("status"),
        format!("Name:\t{name}\nThreads:\t4\nVmRSS:\t  2048 kB\n"),
    )
    .unwrap();
    if let Some(exe) = exe {
        symlink(exe, dir.join("exe")).unwrap();
    }
}

fn summary(found: &[Found]) -> Vec<(u32, String, Option<String>)> {
    found
        .iter()
        .map(|f| {
            let version = match &f.kind {
                Kind::Go { binary, .. } => Some(binary.go_version.clone()),
                Kind::Unreadable(_) => None,
            };
            (f.pid, f.status.name.clone().unwrap_or_default(), version)
        })
        .collect()
}

fn binary(f: &Found) -> &Rc<GoBinary> {
    match &f.kind {
        Kind::Go { binary, .. } => binary,
        Kind::Unreadable(why) => panic!("pid {}: {why}", f.pid),
    }
}

#[test]
fn finds_the_go_processes_and_reads_each_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("bin")).unwrap();
    let (app, copy, script) = (
        root.join("bin/app"),
        root.join("bin/app-copy"),
        root.join("bin/script"),
    );
    std::fs::write(&app, go_elf("go1.22.4")).unwrap();
    std::fs::write(&copy, go_elf("go1.22.4")).unwrap();
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    process(root, 300, "app", Some(&app));
    process(root, 41, "app", Some(&app)); // the same file: read once
    process(root, 1000, "copy", Some(&copy)); // the same bytes, another inode
    process(root, 7, "sh", Some(&script)); // not Go: not listed
    process(root, 2, "kthreadd", None); // a kernel thread: no exe
    process(root, 55, "gone", Some(&root.join("bin/deleted"))); // exited / dangling
    std::fs::create_dir_all(root.join("proc/sys")).unwrap(); // not a pid

    let host = Host::new(root);
    let found = discover(&host, None).unwrap();
    let go = |name: &str| (name.to_string(), Some("go1.22.4".to_string()));
    let expect: Vec<(u32, String, Option<String>)> =
        [(41, go("app")), (300, go("app")), (1000, go("copy"))]
            .into_iter()
            .map(|(pid, (n, v))| (pid, n, v))
            .collect();
    assert_eq!(summary(&found), expect);
    assert!(Rc::ptr_eq(binary(&found[0]), binary(&found[1])));
    assert!(!Rc::ptr_eq(binary(&found[0]), binary(&found[2])));
    // The executable as the process sees it, and its status.
    match &found[0].kind {
        Kind::Go { exe, .. } => assert_eq!(exe, &app),
        Kind::Unreadable(why) => panic!("{why}"),
    }
    assert_eq!(
        (found[0].status.threads, found[0].status.vm_rss_bytes),
        (Some(4), Some(2 << 20))
    );

    // boxwise itself is left out on the live machine.
    let pids: Vec<u32> = discover(&host, Some(300))
        .unwrap()
        .iter()
        .map(|f| f.pid)
        .collect();
    assert_eq!(pids, [41, 1000]);
    // No /proc at all is an error, not an empty list.
    assert!(discover(&Host::new(root.join("bin")), None).is_err());
}

#[test]
fn a_row_from_a_kubernetes_box() {
    let fixture = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/k8s-v2-pod-limit"
    ));
    let info = probe::probe(
        &Host::new(fixture),
        &Target {
            pid: None,
            detail: Detail::Full,
            own_env: None,
        },
    )
    .unwrap();
    let rec = policy::recommend(&info, &Options::default());
    let bin = GoBinary::parse("/app/server", &go_elf("go1.24.1 X:nocoverageredesign")).unwrap();
    let status = Status {
        name: Some("server".into()),
        threads: Some(9),
        vm_rss_bytes: Some(25_473_024),
        ..Status::default()
    };
    let row = Row::go(4242, &status, "/app/server".into(), &bin).with_box(&info, &rec, 2);
    // The JSON `boxwise ps --json` prints, field for field.
    let id = "bc3f10464a27f469fa73a605c58d20e46e476f7578d464ed30f502598a44f7b8";
    let want = serde_json::json!({
        "pid": 4242,
        "name": "server",
        "exe": "/app/server",
        "go_version": "go1.24.1 X:nocoverageredesign",
        "gomaxprocs": 2,
        "gomaxprocs_from_env": true,
        "gomemlimit": null,
        "gomemlimit_bytes": null,
        "gogc": "100",
        "threads": 9,
        "rss_bytes": 25_473_024,
        "memory_limit_bytes": 1_073_741_824u64,
        "cpu_quota_cores": 2.0,
        "effective_cores": 2.0,
        "container_runtime": "kubernetes",
        "container_id": id,
        "recommended_gomaxprocs": 2,
        "recommended_gomemlimit_bytes": 966_367_641,
        "error": null,
    });
    assert_eq!(serde_json::to_value(&row).unwrap(), want);
    // In the order the struct declares them (the table's JSON is printed as is).
    let text = serde_json::to_string(&row).unwrap();
    let mut order: Vec<&str> = want
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    order.sort_by_key(|k| text.find(&format!("\"{k}\":")).unwrap());
    assert_eq!(
        order,
        [
            "pid",
            "name",
            "exe",
            "go_version",
            "gomaxprocs",
            "gomaxprocs_from_env",
            "gomemlimit",
            "gomemlimit_bytes",
            "gogc",
            "threads",
            "rss_bytes",
            "memory_limit_bytes",
            "cpu_quota_cores",
            "effective_cores",
            "container_runtime",
            "container_id",
            "recommended_gomaxprocs",
            "recommended_gomemlimit_bytes",
            "error"
        ]
    );

    // A box that could not be read: the process is listed with the error.
    let row = Row::go(4242, &status, "/app/server".into(), &bin).box_error("gone".into());
    assert_eq!(
        (row.error.as_deref(), row.gomaxprocs, row.threads),
        (Some("gone"), None, Some(9))
    );
}
