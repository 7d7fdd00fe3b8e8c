//! `boxwise image` on real images built by this machine's Docker engine `FROM scratch`
//! (busybox-static for `RUN`), read three ways: `docker save`, the engine's export API,
//! and skopeo's OCI layouts (gzip and zstd). Expected sizes are worked out here from the
//! files the Dockerfile copies and checked against what a container from the image sees.
//!
//! Needs Docker, busybox-static, skopeo and Go; skips otherwise (fails in CI).

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;
use support::DockerImage;

const BUSYBOX: &str = "/bin/busybox";
const BIG: u64 = 300_000;
const OVER: u64 = 200_000;

fn prerequisites() -> bool {
    support::docker_or_skip()
        && support::require(
            Path::new(BUSYBOX).exists(),
            "no /bin/busybox (apt-get install busybox-static)",
        )
        && support::require(
            Command::new("skopeo")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success()),
            "no skopeo (apt-get install skopeo)",
        )
}

/// A file of `n` bytes that compress badly (so layer sizes are not trivially small).
fn noise(dir: &Path, name: &str, n: u64) -> PathBuf {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ n;
    let data: Vec<u8> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let p = dir.join(name);
    fs::write(&p, data).unwrap();
    p
}

/// Runs boxwise with this test's environment less `CI`: CI=true (as CI runners set it)
/// turns `image --ci` on, like dive, which the tests below choose per call.
fn boxwise(args: &[&str]) -> (i32, String, String) {
    boxwise_env(args, &[])
}

fn boxwise_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(cargo_bin("boxwise"));
    cmd.args(args).env_remove("CI").envs(env.iter().copied());
    let out = support::run(&mut cmd);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn report(source: &str, extra: &[&str]) -> Value {
    let mut args = vec!["image", source, "--json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = boxwise(&args);
    assert!(
        code == 0 || code == 1,
        "boxwise image {source}: exit {code}: {stderr}"
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("JSON from {source}: {e}\n{stdout}"))
}

fn u(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not an integer in {v}"))
}

fn save(tag: &str, to: &Path) {
    let mut cmd = Command::new("docker");
    cmd.args(["save", "-o"]).arg(to).arg(tag);
    let out = support::run(&mut cmd);
    support::stdout_ok(&cmd, &out);
}

fn skopeo(from: &str, to: &str, extra: &[&str]) {
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "-q"]).args(extra).args([from, to]);
    let out = support::run(&mut cmd);
    support::stdout_ok(&cmd, &out);
}

/// Bytes of the regular files a container of `img` sees on its root filesystem, less
/// Docker's own /etc/hosts, /etc/hostname and /etc/resolv.conf (the images have no /etc).
fn container_file_bytes(img: &DockerImage) -> u64 {
    let (cmd, out) = img.run(
        &["--entrypoint", "/busybox"],
        &[
            "sh",
            "-c",
            "/busybox find / -xdev -type f ! -path '/etc/*' | /busybox xargs /busybox stat -c %s",
        ],
    );
    let text = support::stdout_ok(&cmd, &out);
    text.split_whitespace()
        .map(|n| n.parse::<u64>().unwrap())
        .sum()
}

#[test]
#[ignore = "needs Docker, busybox-static, skopeo"]
fn waste_matches_the_dockerfile_in_every_source_kind() {
    if !prerequisites() {
        return;
    }
    let ctx = tempfile::tempdir().unwrap();
    let big = noise(ctx.path(), "big", BIG);
    let over = noise(ctx.path(), "over", OVER);
    // The same bytes again under another mode: Docker 20.10's `docker save` drops a layer
    // identical to the one before it, so the second copy must differ in its tar header.
    let dup = ctx.path().join("dup");
    fs::copy(&big, &dup).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&dup, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let busybox_size = fs::metadata(BUSYBOX).unwrap().len();
    // Deleted, overwritten and duplicated files, each in its own layer.
    let img = DockerImage::build_scratch(
        &[
            (Path::new(BUSYBOX), "busybox"),
            (&big, "big"),
            (&over, "over"),
            (&dup, "dup"),
        ],
        r#"COPY big /data/big
COPY over /data/over
COPY big /data/dup
COPY dup /data/dup
RUN ["/busybox", "rm", "/data/big"]
RUN ["/busybox", "sh", "-c", "/busybox echo hi > /data/over"]
ENV GOMAXPROCS=64
ENTRYPOINT ["/busybox", "sleep", "1"]
"#,
    );
    // /busybox, /big, /over, /dup, /data/dup and the 3-byte /data/over stay.
    let final_bytes = busybox_size + BIG + OVER + BIG + BIG + 3;
    // /data/big deleted, /data/over overwritten, the first /data/dup overwritten.
    let wasted = BIG + OVER + BIG;
    let shipped = final_bytes + wasted;
    assert_eq!(
        container_file_bytes(&img),
        final_bytes,
        "the container sees other files"
    );

    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("save.tar");
    save(img.tag(), &tar);
    let tar_s = tar.to_str().unwrap();
    let oci = dir.path().join("oci");
    let zst = dir.path().join("zstd");
    skopeo(
        &format!("docker-archive:{tar_s}"),
        &format!("oci:{}", oci.display()),
        &[],
    );
    skopeo(
        &format!("docker-archive:{tar_s}"),
        &format!("oci:{}", zst.display()),
        &["--dest-compress", "--dest-compress-format", "zstd"],
    );
    // An OCI layout inside a tar (index.json, no manifest.json), as Docker 25+ and
    // `skopeo copy ... oci-archive:` write it.
    let oci_tar = dir.path().join("oci.tar");
    skopeo(
        &format!("docker-archive:{tar_s}"),
        &format!("oci-archive:{}", oci_tar.display()),
        &[],
    );
    let sources = [
        tar_s.to_string(),
        oci_tar.display().to_string(),
        format!("docker://{}", img.tag()),
        oci.display().to_string(),
        format!("oci:{}", zst.display()),
    ];
    for source in &sources {
        let r = report(source, &[]);
        assert_eq!(u(&r, "size_bytes"), shipped, "{source}");
        assert_eq!(u(&r, "wasted_bytes"), wasted, "{source}");
        assert_eq!(u(&r, "final_bytes"), final_bytes, "{source}");
        let eff = r["efficiency"].as_f64().unwrap();
        assert!(
            (eff - final_bytes as f64 / shipped as f64).abs() < 1e-9,
            "{source}: {eff}"
        );
        let layers = r["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 10, "{source}");
        let sizes: Vec<u64> = layers.iter().map(|l| u(l, "size_bytes")).collect();
        assert_eq!(
            sizes,
            vec![busybox_size, BIG, OVER, BIG, BIG, OVER, BIG, BIG, 0, 3],
            "{source}"
        );
        assert_eq!(u(&layers[8], "files_removed"), 1, "{source}: rm /data/big");
        assert_eq!(
            u(&layers[9], "files_changed"),
            1,
            "{source}: /data/over rewritten"
        );
        assert_eq!(
            u(&layers[7], "files_changed"),
            1,
            "{source}: second /data/dup"
        );
        let created = layers[8]["created_by"].as_str().unwrap_or("");
        assert!(created.contains("rm"), "{source}: {created}");
        // The kept copy of /data/dup is not waste (dive #684 would count both).
        let dup = r["wasted_files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["path"] == "/data/dup")
            .unwrap();
        assert_eq!(
            (u(dup, "wasted_bytes"), u(dup, "copies")),
            (BIG, 2),
            "{source}"
        );
        assert!(r["go_binaries"].as_array().unwrap().is_empty());
        let ids: Vec<&str> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert!(
            ids.contains(&"runs-as-root") && ids.contains(&"gomaxprocs-hardcoded"),
            "{source}: {ids:?}"
        );
        assert!(
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["severity"].is_string())
        );
    }
    let r = report(&format!("oci:{}", zst.display()), &[]);
    assert!(
        r["layers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["compression"] == "zstd")
    );

    // --ci: dive's default efficiency rule (0.9) fails at 84%; relaxed rules pass.
    let (code, stdout, _) = boxwise(&["image", tar_s, "--ci"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("CI: FAIL"), "{stdout}");
    // CI=true in the environment turns the same rules on without --ci (as in dive).
    let (code, stdout, _) = boxwise_env(&["image", tar_s], &[("CI", "true")]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("CI: FAIL"), "{stdout}");
    let (code, stdout, _) = boxwise(&[
        "image",
        tar_s,
        "--ci",
        "--lowest-efficiency",
        "0.5",
        "--highest-user-wasted-percent",
        "off",
        "--highest-wasted-bytes",
        "1MB",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("CI: PASS"), "{stdout}");
    let (code, _, _) = boxwise(&[
        "image",
        tar_s,
        "--ci",
        "--lowest-efficiency",
        "0.5",
        "--highest-user-wasted-percent",
        "off",
        "--highest-wasted-bytes",
        "700KB",
    ]);
    assert_eq!(code, 1, "800,000 wasted bytes are over 700KB");
    // The same rules from a .dive-ci file; a flag still wins over the file.
    let rules = tempfile::tempdir().unwrap();
    let dive_ci = rules.path().join("dive-ci.yaml");
    std::fs::write(
        &dive_ci,
        "rules:\n  lowestEfficiency: 0.5\n  highestWastedBytes: 1MB\n  \
         highestUserWastedPercent: disabled\n",
    )
    .unwrap();
    let dive_ci_s = dive_ci.to_str().unwrap();
    let (code, stdout, stderr) = boxwise(&["image", tar_s, "--ci", "--ci-config", dive_ci_s]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("CI: PASS"), "{stdout}");
    let (code, _, _) = boxwise(&[
        "image",
        tar_s,
        "--ci",
        "--ci-config",
        dive_ci_s,
        "--highest-wasted-bytes",
        "700KB",
    ]);
    assert_eq!(code, 1, "the flag's 700KB wins over the file's 1MB");
    std::fs::write(&dive_ci, "rules:\n  lowestEfficency: 0.5\n").unwrap();
    let (code, _, stderr) = boxwise(&["image", tar_s, "--ci", "--ci-config", dive_ci_s]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("dive-ci.yaml: rules.lowestEfficency: unknown rule"),
        "{stderr}"
    );
    // --cpus judges the hard-coded GOMAXPROCS.
    let r = report(tar_s, &["--cpus", "1"]);
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "gomaxprocs-above-cpus");
    assert!(f.is_some_and(|f| f["severity"] == "warning"), "{r}");
    // The text report fits 80 columns.
    let (code, text, stderr) = boxwise(&["image", tar_s]);
    assert_eq!(code, 0, "{stderr}");
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line}");
    }
    assert!(text.contains("/data/dup"), "{text}");
    // --markdown has the Config section the text and JSON have.
    let (code, md, stderr) = boxwise(&["image", tar_s, "--markdown"]);
    assert_eq!(code, 0, "{stderr}");
    let config = md
        .split("\n### Config\n")
        .nth(1)
        .and_then(|rest| rest.split("\n### ").next())
        .unwrap_or_else(|| panic!("no Config section: {md}"));
    for want in [
        r#"- starts: `ENTRYPOINT ["/busybox","sleep","1"]`"#,
        "- user: root (USER not set)",
        "  - `GOMAXPROCS=64`",
        "- ports: none",
    ] {
        assert!(config.contains(want), "{want:?} not in {config}");
    }
    // doctor --image judges the service with the image's ENV: GOMAXPROCS=64 is above the
    // CPUs of any box this runs on.
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(cpus < 64, "this test needs a box with fewer than 64 CPUs");
    let (code, stdout, stderr) = boxwise(&["doctor", "--image", tar_s, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let d: Value = serde_json::from_str(&stdout).unwrap();
    let f = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "gomaxprocs-above-cpu-limit")
        .unwrap_or_else(|| panic!("GOMAXPROCS=64 not flagged: {d}"));
    assert!(
        f["evidence"][0]
            .as_str()
            .is_some_and(|e| e.contains("GOMAXPROCS=64") && e.contains("its ENV")),
        "{f}"
    );
}

/// Errors that need no engine: a missing path, a file that is no image, bad --cpus.
#[test]
fn path_sources_and_usage_fail_without_asking_the_engine() {
    let tmp = tempfile::tempdir().unwrap();
    // A FIFO or a device given as an archive is refused at once (an open would block, a
    // read never end).
    let fifo = tmp.path().join("fifo.tar");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    for special in [fifo.display().to_string(), "/dev/zero".to_string()] {
        let (code, _, stderr) = boxwise(&["image", &special]);
        assert_eq!(code, 1, "{special}: {stderr}");
        assert_eq!(
            stderr,
            format!("boxwise: {special}: not a regular file (a FIFO, socket or device)\n")
        );
    }
    // A missing path is reported as missing, never sent to the engine as a name.
    for missing in [
        tmp.path().join("nosuch.tar").display().to_string(),
        "./boxwise-nosuch".to_string(),
        "nosuch.tgz".to_string(),
    ] {
        for args in [vec!["image", &missing], vec!["doctor", "--image", &missing]] {
            let (code, _, stderr) = boxwise(&args);
            assert_eq!(code, 1, "{args:?}");
            assert_eq!(
                stderr,
                format!("boxwise: {missing}: No such file or directory\n"),
                "{args:?}"
            );
        }
    }
    // A text file like /etc/passwd: one line, none of its content.
    let passwd = tmp.path().join("passwd");
    let line = "root:x:0:0:SECRET-CONTENT:/root:/bin/bash\n";
    fs::write(&passwd, line.repeat(40)).unwrap();
    let p = passwd.to_str().unwrap();
    let (code, _, stderr) = boxwise(&["image", p]);
    assert_eq!(code, 1);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "boxwise: {p}: not an image (neither a docker save archive nor an OCI layout): "
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("SECRET") && !stderr.contains("root:x"),
        "{stderr}"
    );
    // The tar reader's own words about the bytes it met mean nothing to the user.
    assert!(
        stderr.trim_end().ends_with("not a tar archive") && !stderr.contains("numeric"),
        "{stderr}"
    );
    // An empty engine name is a usage error naming the argument, never sent to the engine.
    for empty in ["docker://", "docker-daemon:"] {
        let (code, _, stderr) = boxwise(&["image", empty]);
        assert_eq!(code, 2, "{empty}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("{empty:?}")) && stderr.contains("name is empty"),
            "{stderr}"
        );
    }
    // A directory that is no OCI layout.
    let (code, _, stderr) = boxwise(&["image", tmp.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("not an image") && stderr.contains("no manifest.json or index.json"),
        "{stderr}"
    );
    // --cpus must be a positive, finite number: a usage error otherwise.
    for bad in [
        "--cpus=-1",
        "--cpus=0",
        "--cpus=NaN",
        "--cpus=inf",
        "--cpus=x",
    ] {
        let (code, _, stderr) = boxwise(&["image", "x.tar", bad]);
        assert_eq!(code, 2, "{bad}: {stderr}");
        assert!(stderr.contains("--cpus"), "{bad}: {stderr}");
    }
}

/// Builds tests/go/corpus/cgo with cgo on: dynamically linked against glibc.
fn build_cgo(dir: &Path) -> Option<PathBuf> {
    let have = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
        && Command::new("gcc")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !support::require(have, "needs go and gcc for a cgo build") {
        return None;
    }
    let out = dir.join("cgoapp");
    let mut cmd = Command::new("go");
    cmd.current_dir(support::workspace_root().join("tests/go/corpus/cgo"))
        .args(["build", "-o"])
        .arg(&out)
        .arg(".")
        .env("CGO_ENABLED", "1")
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env_remove("GOFLAGS");
    if std::env::var_os("HOME").is_none() && std::env::var_os("GOCACHE").is_none() {
        cmd.env("GOCACHE", dir.join("gocache"))
            .env("GOPATH", dir.join("gopath"));
    }
    let o = support::run(&mut cmd);
    support::stdout_ok(&cmd, &o);
    Some(out)
}

#[test]
#[ignore = "needs Docker, Go, gcc"]
fn cgo_binary_in_scratch_is_broken_and_static_one_is_fine() {
    if !support::docker_or_skip() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some(cgo) = build_cgo(tmp.path()) else {
        return;
    };
    let Some(hello) = support::build_go_program("hello") else {
        return;
    };

    let broken = DockerImage::build_scratch(&[(&cgo, "app")], "ENTRYPOINT [\"/app\"]\n");
    // Really broken: the kernel cannot find the loader.
    let (_, out) = broken.run(&[], &[]);
    assert!(!out.status.success(), "a cgo binary started FROM scratch");
    let r = report(
        &format!("docker://{}", broken.tag()),
        &["--fail-on", "error"],
    );
    let g = &r["go_binaries"][0];
    assert_eq!(g["path"], "/app");
    assert_eq!(g["static"], false);
    assert_eq!(g["cgo"], true);
    let missing: Vec<&str> = g["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(
        missing.iter().any(|m| m.contains("ld-linux")),
        "{missing:?}"
    );
    assert!(missing.contains(&"libc.so.6"), "{missing:?}");
    let f = &r["findings"][0];
    assert_eq!(
        (f["id"].as_str(), f["severity"].as_str()),
        (Some("go-binary-missing-libraries"), Some("error"))
    );
    assert_eq!(r["config"]["service"], "/app");
    let (code, _, _) = boxwise(&[
        "image",
        &format!("docker://{}", broken.tag()),
        "--fail-on",
        "error",
    ]);
    assert_eq!(code, 1);
    // doctor --image: the image's findings join the doctor's list, its Go program is judged.
    let (code, stdout, stderr) = boxwise(&[
        "doctor",
        "--image",
        &format!("docker://{}", broken.tag()),
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let d: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(d["subject"]["kind"], "image");
    assert_eq!(d["subject"]["service"], "/app");
    let ids: Vec<&str> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], "go-binary-missing-libraries", "{ids:?}");
    assert!(ids.contains(&"runs-as-root"), "{ids:?}");
    // An id both the image and the doctor report appears once. (pressure-high is the
    // machine's, one per resource under pressure, and may well repeat on a busy host.)
    for id in ids.iter().filter(|i| **i != "pressure-high") {
        assert_eq!(
            ids.iter().filter(|i| *i == id).count(),
            1,
            "{id} twice: {ids:?}"
        );
    }

    let fine = DockerImage::build_scratch(
        &[(&hello, "hello")],
        "USER 65532:65532\nHEALTHCHECK CMD [\"/hello\", \"-h\"]\nENTRYPOINT [\"/hello\", \"-for\", \"1ms\"]\n",
    );
    let r = report(&format!("docker://{}", fine.tag()), &[]);
    let g = &r["go_binaries"][0];
    assert_eq!(g["path"], "/hello");
    assert_eq!(g["static"], true);
    let go_version = support::run(Command::new("go").args(["env", "GOVERSION"]));
    assert_eq!(
        g["go_version"].as_str().unwrap(),
        String::from_utf8_lossy(&go_version.stdout).trim()
    );
    assert_eq!(u(g, "size_bytes"), fs::metadata(&hello).unwrap().len());
    assert!(g["missing"].as_array().unwrap().is_empty());
    let errors: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .filter(|f| f["id"] != "go-not-container-aware")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let (code, _, stderr) = boxwise(&[
        "image",
        &format!("docker://{}", fine.tag()),
        "--fail-on",
        "error",
    ]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
#[ignore = "needs Docker"]
fn missing_image_and_bad_archive_are_one_line_errors() {
    if !support::docker_or_skip() {
        return;
    }
    let (code, _, stderr) = boxwise(&["image", "docker://boxwise-no-such-image-xyz"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("boxwise: ") && stderr.trim().lines().count() == 1,
        "{stderr}"
    );
    assert!(!stderr.trim_end().ends_with(':'), "says nothing: {stderr}");
    let tmp = tempfile::tempdir().unwrap();
    let junk = tmp.path().join("junk.tar");
    fs::write(&junk, b"not a tar at all").unwrap();
    let (code, _, stderr) = boxwise(&["image", junk.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("junk.tar"), "{stderr}");
}

/// Removes an image on drop (for images loaded with skopeo rather than built).
struct Rmi(String);

impl Drop for Rmi {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

#[test]
#[ignore = "needs Docker, busybox-static, skopeo, umoci"]
fn opaque_whiteout_hides_the_lower_directory() {
    if !prerequisites()
        || !support::require(
            Command::new("umoci")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success()),
            "no umoci (apt-get install umoci)",
        )
    {
        return;
    }
    let ctx = tempfile::tempdir().unwrap();
    let fa = noise(ctx.path(), "fa", BIG);
    let fb = noise(ctx.path(), "fb", OVER);
    let busybox_size = fs::metadata(BUSYBOX).unwrap().len();
    let img = DockerImage::build_scratch(
        &[(Path::new(BUSYBOX), "busybox"), (&fa, "fa"), (&fb, "fb")],
        "COPY fa /data/dir/a\nCOPY fb /data/dir/b\nENTRYPOINT [\"/busybox\", \"true\"]\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("save.tar");
    save(img.tag(), &tar);
    let oci = dir.path().join("oci");
    skopeo(
        &format!("docker-archive:{}", tar.display()),
        &format!("oci:{}:t", oci.display()),
        &[],
    );
    // A layer as overlayfs writes one when a directory is deleted and made again:
    // `.wh..wh..opq` hides everything below, then the new file.
    let stage = dir.path().join("stage");
    fs::create_dir_all(stage.join("data/dir")).unwrap();
    fs::write(stage.join("data/dir/.wh..wh..opq"), b"").unwrap();
    fs::write(stage.join("data/dir/c"), b"new").unwrap();
    let layer = dir.path().join("layer.tar");
    let mut cmd = Command::new("tar");
    cmd.arg("-cf").arg(&layer).arg("-C").arg(&stage).arg("data");
    let out = support::run(&mut cmd);
    support::stdout_ok(&cmd, &out);
    let mut cmd = Command::new("umoci");
    cmd.args(["raw", "add-layer", "--image"])
        .arg(format!("{}:t", oci.display()))
        .arg(&layer);
    let out = support::run(&mut cmd);
    support::stdout_ok(&cmd, &out);

    // The engine's own view of the result is the ground truth.
    let loaded = Rmi(format!("{}-opq", img.tag()));
    skopeo(
        &format!("oci:{}:t", oci.display()),
        &format!("docker-daemon:{}:latest", loaded.0),
        &[],
    );
    let mut cmd = Command::new("docker");
    cmd.args([
        "run",
        "--rm",
        "--entrypoint",
        "/busybox",
        &loaded.0,
        "sh",
        "-c",
        "/busybox find / -xdev -type f ! -path '/etc/*' | /busybox xargs /busybox stat -c %s",
    ]);
    let out = support::run(&mut cmd);
    let seen: u64 = support::stdout_ok(&cmd, &out)
        .split_whitespace()
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    let final_bytes = busybox_size + BIG + OVER + 3;
    assert_eq!(seen, final_bytes, "the engine did not hide /data/dir");

    for source in [
        format!("oci:{}", oci.display()),
        format!("docker://{}", loaded.0),
    ] {
        let r = report(&source, &[]);
        assert_eq!(u(&r, "final_bytes"), final_bytes, "{source}");
        assert_eq!(
            u(&r, "wasted_bytes"),
            BIG + OVER,
            "{source}: the hidden /data/dir/a and b"
        );
        let last = r["layers"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            (u(&last, "files_removed"), u(&last, "files_added")),
            (2, 1),
            "{source}"
        );
    }
}

#[test]
#[ignore = "needs Docker, busybox-static, skopeo"]
fn platform_picks_one_image_of_an_index() {
    if !prerequisites() {
        return;
    }
    let ctx = tempfile::tempdir().unwrap();
    let small = noise(ctx.path(), "small", 1000);
    let large = noise(ctx.path(), "large", 5000);
    let a = DockerImage::build_scratch(&[(&small, "small")], "");
    let b = DockerImage::build_scratch(&[(&large, "large")], "");
    let dir = tempfile::tempdir().unwrap();
    let oci = dir.path().join("oci");
    for (img, tag) in [(&a, "a"), (&b, "b")] {
        let tar = dir.path().join(format!("{tag}.tar"));
        save(img.tag(), &tar);
        skopeo(
            &format!("docker-archive:{}", tar.display()),
            &format!("oci:{}:{tag}", oci.display()),
            &[],
        );
    }
    // Label the two manifests as two platforms of one index, as a multi-arch build does.
    let index_path = oci.join("index.json");
    let mut index: Value = serde_json::from_slice(&fs::read(&index_path).unwrap()).unwrap();
    for m in index["manifests"].as_array_mut().unwrap() {
        let tag = m["annotations"]["org.opencontainers.image.ref.name"]
            .as_str()
            .unwrap()
            .to_string();
        let arch = if tag == "a" { "amd64" } else { "arm64" };
        m["platform"] = serde_json::json!({"os": "linux", "architecture": arch});
    }
    fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    let src = oci.display().to_string();
    assert_eq!(
        u(&report(&src, &["--platform", "linux/amd64"]), "size_bytes"),
        1000
    );
    assert_eq!(
        u(&report(&src, &["--platform", "linux/arm64"]), "size_bytes"),
        5000
    );
    if cfg!(target_arch = "x86_64") {
        assert_eq!(
            u(&report(&src, &[]), "size_bytes"),
            1000,
            "default: this machine's"
        );
    }
    let (code, _, stderr) = boxwise(&["image", &src, "--platform", "linux/s390x"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("linux/amd64") && stderr.contains("linux/arm64"),
        "{stderr}"
    );
}

/// An image tagged here (not built by `DockerImage`: its Dockerfile starts FROM another
/// test image), removed on drop.
struct Built(Rmi);

impl Built {
    fn build(tag: String, ctx: &Path, dockerfile: &str) -> Built {
        fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
        let built = Built(Rmi(tag));
        let mut cmd = Command::new("docker");
        cmd.args(["build", "--no-cache", "-q", "-t", &built.0.0])
            .arg(ctx);
        let out = support::run(&mut cmd);
        support::stdout_ok(&cmd, &out);
        built
    }
}

const BASE_A: u64 = 100_000;
const BASE_B: u64 = 120_000;
const BASE_E: u64 = 140_000;
const APP_C: u64 = 160_000;
const APP_B2: u64 = 50_000;
const OS_RELEASE: &str = "NAME=\"Boxbase\"\nPRETTY_NAME=\"Boxbase Linux 1.0\"\nID=boxbase\n";

/// A base image of 7 layers FROM scratch (busybox, /bin/sh, os-release, three files, one
/// deleted again: the base's own waste) ending in CMD, and an app image FROM it whose 5
/// layers waste a file of their own, overwrite one base file and delete another. The
/// sizes it expects come from the files written here.
struct BaseAndApp {
    app: Built,
    _base: Built,
    base_layers: u64,
    layers: u64,
    shipped: u64,
    final_bytes: u64,
    wasted: u64,
    user_bytes: u64,
    user_wasted: u64,
}

fn build_base_and_app() -> BaseAndApp {
    let ctx = tempfile::tempdir().unwrap();
    let c = ctx.path();
    fs::copy(BUSYBOX, c.join("busybox")).unwrap();
    fs::write(c.join("os-release"), OS_RELEASE).unwrap();
    noise(c, "a", BASE_A);
    noise(c, "b", BASE_B);
    noise(c, "e", BASE_E);
    noise(c, "c", APP_C);
    noise(c, "b2", APP_B2);
    // Unique per call: `cargo test` runs the tests that build these as threads of one process.
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let id = format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let base = Built::build(
        format!("boxwise-test-base-{id}"),
        c,
        r#"FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "ln", "-s", "busybox", "/bin/sh"]
COPY os-release /etc/os-release
COPY a /base/a
COPY b /base/b
COPY e /base/e
RUN rm /base/a
ENV BASE=1
CMD ["sh"]
"#,
    );
    let app = Built::build(
        format!("boxwise-test-app-{id}"),
        c,
        &format!(
            "FROM {}\nCOPY c /app/c\nRUN rm /app/c\nCOPY b2 /base/b\nRUN rm /base/e\n\
             RUN echo hi > /app/d\nUSER 1\nCMD [\"sh\", \"-c\", \"sleep 1\"]\n",
            base.0.0
        ),
    );
    let busybox = fs::metadata(BUSYBOX).unwrap().len();
    let os = OS_RELEASE.len() as u64;
    // "hi\n" in /app/d; /bin/sh is a symlink (no bytes).
    let user_bytes = APP_C + APP_B2 + 3;
    BaseAndApp {
        app,
        _base: base,
        base_layers: 7,
        layers: 12,
        shipped: busybox + os + BASE_A + BASE_B + BASE_E + user_bytes,
        final_bytes: busybox + os + APP_B2 + 3,
        wasted: BASE_A + BASE_B + BASE_E + APP_C,
        // The base's own rm of /base/a is not the app's doing; the rest is.
        user_bytes,
        user_wasted: APP_C + BASE_B + BASE_E,
    }
}

fn check_base_split(x: &BaseAndApp, source: &str) {
    let r = report(source, &[]);
    assert_eq!(u(&r, "size_bytes"), x.shipped, "{source}");
    assert_eq!(u(&r, "final_bytes"), x.final_bytes, "{source}");
    assert_eq!(u(&r, "wasted_bytes"), x.wasted, "{source}");
    assert_eq!(
        r["layers"].as_array().unwrap().len() as u64,
        x.layers,
        "{source}"
    );
    assert_eq!(
        (u(&r, "base_layers"), r["base_from"].as_str()),
        (x.base_layers, Some("history")),
        "{source}"
    );
    assert_eq!(
        (u(&r, "user_bytes"), u(&r, "user_wasted_bytes")),
        (x.user_bytes, x.user_wasted),
        "{source}"
    );
    let ratio = r["user_wasted_ratio"].as_f64().unwrap();
    assert!(
        (ratio - x.user_wasted as f64 / x.user_bytes as f64).abs() < 1e-9,
        "{source}: {ratio}"
    );
    assert_eq!(r["config"]["base_ends_with"], "CMD [\"sh\"]", "{source}");
    assert_eq!(r["config"]["os"], "Boxbase Linux 1.0", "{source}");
    // The layer that deleted the base's /base/e caused that waste.
    let caused: u64 = r["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| u(l, "caused_wasted_bytes"))
        .sum();
    assert_eq!(caused, x.wasted, "{source}: every wasted byte has a cause");
}

#[test]
#[ignore = "needs Docker, busybox-static, skopeo"]
fn base_image_layers_come_from_history() {
    if !prerequisites() {
        return;
    }
    let x = build_base_and_app();
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("app.tar");
    save(&x.app.0.0, &tar);
    let tar_s = tar.to_str().unwrap();
    let oci = dir.path().join("oci");
    skopeo(
        &format!("docker-archive:{tar_s}"),
        &format!("oci:{}", oci.display()),
        &[],
    );
    for source in [
        tar_s.to_string(),
        format!("docker://{}", x.app.0.0),
        format!("oci:{}", oci.display()),
    ] {
        check_base_split(&x, &source);
    }
    // The text report names the base, how it was found, and fits 80 columns.
    let (code, text, stderr) = boxwise(&["image", tar_s]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        text.contains("base image: 7 layers (history: up to CMD [\"sh\"]); os Boxbase Linux 1.0"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    // --base-layers overrides history: above layer 1, every wasted byte is the user's.
    let r = report(tar_s, &["--base-layers", "1"]);
    let busybox = fs::metadata(BUSYBOX).unwrap().len();
    assert_eq!(
        (
            u(&r, "base_layers"),
            r["base_from"].as_str(),
            u(&r, "user_bytes"),
            u(&r, "user_wasted_bytes")
        ),
        (1, Some("flag"), x.shipped - busybox, x.wasted)
    );
    // The user-wasted rule reads the app's own ratio, which is above 1 here (its layers
    // delete more base bytes than they ship); dive's (all waste over the bytes above the
    // first layer) is below 0.95, so a 0.95 threshold fails only on ours.
    let ours = x.user_wasted as f64 / x.user_bytes as f64;
    let dives = x.wasted as f64 / (x.shipped - busybox) as f64;
    assert!(dives < 0.95 && ours > 0.95, "{dives} {ours}");
    let threshold = "0.95";
    let r = report(
        tar_s,
        &[
            "--ci",
            "--lowest-efficiency",
            "off",
            "--highest-user-wasted-percent",
            threshold,
        ],
    );
    let check = r["ci"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "highest_user_wasted_percent")
        .unwrap()
        .clone();
    assert!(
        (check["value"].as_f64().unwrap() - ours).abs() < 1e-9,
        "{check}"
    );
    assert_eq!(check["result"], "fail", "{check}");
}

/// A second Docker engine, Debian trixie's 26.x (unpacked by scripts/fetch-docker26.sh),
/// on a private socket and data root, in its own network and mount namespaces: with no
/// bridge of its own it would otherwise delete the host engine's docker0. Stopped and
/// removed on drop.
struct Docker26 {
    run: PathBuf,
    daemon: std::process::Child,
    dir: tempfile::TempDir,
}

impl Docker26 {
    fn dir() -> PathBuf {
        std::env::var_os("BOXWISE_DOCKER26_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/opt/boxwise-docker26"))
    }

    fn start(run: PathBuf) -> Docker26 {
        let dir = tempfile::Builder::new()
            .prefix("bw-d26-")
            .tempdir_in("/tmp")
            .unwrap();
        let p = dir.path();
        fs::write(p.join("daemon.json"), "{}").unwrap();
        let log = fs::File::create(p.join("dockerd.log")).unwrap();
        let daemon = Command::new("unshare")
            .args(["--net", "--mount", "--propagation", "private"])
            .arg(&run)
            .arg("dockerd")
            .arg(format!("--config-file={}/daemon.json", p.display()))
            .arg(format!("--host=unix://{}/d.sock", p.display()))
            .arg(format!("--data-root={}/data", p.display()))
            .arg(format!("--exec-root={}/exec", p.display()))
            .arg(format!("--pidfile={}/d.pid", p.display()))
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--storage-driver=vfs",
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start trixie's dockerd");
        let d = Docker26 { run, daemon, dir };
        for _ in 0..300 {
            if d.cli(&["version", "--format", "{{.Server.Version}}"])
                .status
                .success()
            {
                return d;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let log = fs::read_to_string(d.dir.path().join("dockerd.log")).unwrap_or_default();
        panic!("trixie's dockerd did not answer in 30 s:\n{log}");
    }

    fn cli(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(&self.run);
        cmd.arg("docker")
            .args(args)
            .env(
                "DOCKER_HOST",
                format!("unix://{}/d.sock", self.dir.path().display()),
            )
            .env("DOCKER_CONFIG", self.dir.path().join("cli"));
        support::run(&mut cmd)
    }

    fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "docker {args:?} (26): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Docker26 {
    fn drop(&mut self) {
        // dockerd stops the containerd it started on SIGTERM.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.daemon.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        for _ in 0..200 {
            if self.daemon.try_wait().is_ok_and(|s| s.is_some()) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

#[test]
#[ignore = "needs Docker, busybox-static, skopeo, scripts/fetch-docker26.sh, root"]
fn docker_25_plus_save_archive_reads_like_the_legacy_one() {
    if !prerequisites() {
        return;
    }
    let run = Docker26::dir().join("run");
    if !support::require(
        run.exists(),
        "no Docker 26 engine (bash scripts/fetch-docker26.sh)",
    ) || !support::require(
        fs::read_to_string("/proc/self/status").is_ok_and(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|u| u.split_whitespace().nth(1))
                == Some("0")
        }),
        "not root (a second dockerd needs it)",
    ) {
        return;
    }
    let x = build_base_and_app();
    let dir = tempfile::tempdir().unwrap();
    let legacy = dir.path().join("legacy.tar");
    save(&x.app.0.0, &legacy);
    let d26 = Docker26::start(run);
    let version = d26.cli_ok(&["version", "--format", "{{.Server.Version}}"]);
    let major: u32 = version.trim().split('.').next().unwrap().parse().unwrap();
    assert!(major >= 25, "not a Docker 25+ engine: {version}");
    d26.cli_ok(&["load", "-i", legacy.to_str().unwrap()]);
    let saved = dir.path().join("docker26.tar");
    d26.cli_ok(&["save", "-o", saved.to_str().unwrap(), &x.app.0.0]);
    drop(d26);
    // The archive really is the new kind: an OCI layout, and manifest.json pointing into it.
    let mut cmd = Command::new("tar");
    cmd.arg("-tf").arg(&saved);
    let out = support::run(&mut cmd);
    let names = support::stdout_ok(&cmd, &out);
    assert!(
        names.lines().any(|l| l == "oci-layout") && names.lines().any(|l| l == "index.json"),
        "{names}"
    );
    let mut cmd = Command::new("tar");
    cmd.arg("-xOf").arg(&saved).arg("manifest.json");
    let out = support::run(&mut cmd);
    let manifest: Value = serde_json::from_str(&support::stdout_ok(&cmd, &out)).unwrap();
    let layers = manifest[0]["Layers"].as_array().unwrap();
    assert!(
        layers
            .iter()
            .all(|l| l.as_str().is_some_and(|l| l.starts_with("blobs/sha256/"))),
        "{manifest}"
    );
    check_base_split(&x, saved.to_str().unwrap());
    check_base_split(&x, &format!("docker-archive:{}", saved.display()));
}

/// What a newcomer met: os-release with NAME but no PRETTY_NAME, a RUN line with tabs,
/// --base-layers past the last layer or at it, --ci's lines, and --platform on an engine
/// image.
#[test]
#[ignore = "needs Docker, busybox-static"]
fn newcomer_wording_on_a_real_image() {
    if !support::docker_or_skip()
        || !support::require(
            Path::new(BUSYBOX).exists(),
            "no /bin/busybox (apt-get install busybox-static)",
        )
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let big = noise(tmp.path(), "big", BIG);
    // Layers: busybox, big, /etc/os-release, small (made by a RUN with tabs), the rm of big.
    let img = DockerImage::build_scratch(
        &[(Path::new(BUSYBOX), "busybox"), (&big, "big")],
        "RUN [\"/busybox\", \"sh\", \"-c\", \"/busybox mkdir -p /etc && \
         /busybox printf 'NAME=\\\"Tiny Linux\\\"\\\\nVERSION_ID=1.2\\\\n' > /etc/os-release\"]\n\
         RUN [\"/busybox\", \"sh\", \"-c\", \"echo a\\tb\\tc\\td\\te\\tf\\tg\\th\\ti\\tj\\tk\\tl\\tm\\tn\\to > /small\"]\n\
         RUN [\"/busybox\", \"rm\", \"/big\"]\n",
    );
    let tag = img.tag();

    let (code, text, stderr) = boxwise(&["image", tag]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("os ") && l.ends_with(" Tiny Linux 1.2")),
        "{text}"
    );
    assert!(!text.contains("no os-release"), "{text}");
    for l in text.lines() {
        assert!(
            l.chars().count() <= 80 && !l.contains('\t'),
            "{} columns: {l:?}",
            l.chars().count()
        );
    }

    let (code, _, stderr) = boxwise(&["image", tag, "--base-layers", "99"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr,
        "boxwise: --base-layers 99: the image has only 5 layers\n"
    );
    let (code, text, stderr) = boxwise(&["image", tag, "--base-layers", "5"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        text.contains("user wasted n/a: no layers above the base"),
        "{text}"
    );

    // The top layer (the rm) ships nothing and wastes big: no share to give.
    let (_, text, _) = boxwise(&["image", tag, "--base-layers", "4"]);
    assert!(
        text.contains("user wasted n/a: the layers above the base ship 0 B and waste 293 KiB"),
        "{text}"
    );
    // The CI check says the same n/a, not a 0.0% the summary contradicts.
    let (_, text, _) = boxwise(&["image", tag, "--ci", "--base-layers", "4"]);
    assert!(
        text.contains("PASS  user wasted: n/a, the layers above the base ship 0 B"),
        "{text}"
    );
    // The user layers (small, rm) ship a few bytes and waste all of big: far over 100%.
    let (code, text, stderr) = boxwise(&["image", tag, "--ci", "--base-layers", "3"]);
    assert_eq!(code, 1, "{stderr}");
    let line = text
        .lines()
        .find(|l| l.contains("user wasted:"))
        .unwrap_or_else(|| panic!("no user wasted check:\n{text}"));
    assert!(
        line.starts_with("  FAIL  user wasted: ")
            && line.ends_with("% is above the highest allowed 10.0%"),
        "{line}"
    );
    assert!(text.contains("(user waste can pass 100%"), "{text}");
    assert!(
        text.contains("  PASS  efficiency: ") || text.contains("  FAIL  efficiency: "),
        "{text}"
    );
    // The JSON keeps its rule names and raw values.
    let doc = report(tag, &["--ci", "--base-layers", "3"]);
    let check = doc["ci"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "highest_user_wasted_percent")
        .unwrap_or_else(|| panic!("no user wasted rule in {doc}"));
    assert!(check["value"].as_f64().unwrap() > 1.0, "{check}");
    assert_eq!(check["threshold"], 0.1, "{check}");

    let (code, _, stderr) = boxwise(&["image", tag, "--platform", "linux/arm64"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        !stderr.contains("archive") && stderr.contains(tag) && stderr.contains("linux/arm64"),
        "{stderr}"
    );
}
