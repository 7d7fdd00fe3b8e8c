//! deploy/: the Kubernetes manifests hold what the DaemonSet needs and no more, the rules
//! and dashboard use only metrics the exporter exports, `promtool check rules` accepts the
//! rules, and the exporter image built from deploy/Dockerfile reads the host's cgroups and
//! Go processes from a container, as the DaemonSet runs it.

mod support;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use support::{TestCgroup, build_go_program, require, workspace_root};
use yaml_rust2::{Yaml, YamlLoader};

fn deploy(path: &str) -> String {
    let p = workspace_root().join("deploy").join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

fn yaml_docs(path: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(&deploy(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn kind<'a>(docs: &'a [Yaml], kind: &str) -> &'a Yaml {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind}"))
}

/// Every `container_*` or `boxwise_*` name in a PromQL expression.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut word = String::new();
    for c in expr.chars().chain([' ']) {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            if word.starts_with("container_") || word.starts_with("boxwise_") {
                out.insert(word.clone());
            }
            word.clear();
        }
    }
    out
}

fn exported() -> BTreeSet<String> {
    boxwise_exporter::METRICS
        .iter()
        .map(|f| f.name.to_string())
        .collect()
}

fn rule_exprs(groups: &Yaml) -> Vec<(String, String)> {
    groups
        .as_vec()
        .expect("groups is a list")
        .iter()
        .flat_map(|g| g["rules"].as_vec().expect("rules is a list").iter())
        .map(|r| {
            (
                r["alert"].as_str().expect("every rule alerts").to_string(),
                r["expr"].as_str().expect("every rule has expr").to_string(),
            )
        })
        .collect()
}

#[test]
fn rules_and_dashboard_use_only_exported_metrics() {
    let exported = exported();
    let rules = yaml_docs("prometheus/boxwise-rules.yaml");
    let exprs = rule_exprs(&rules[0]["groups"]);
    let alerts: Vec<&str> = exprs.iter().map(|(a, _)| a.as_str()).collect();
    // The four the issue asks for, and staleness.
    for want in [
        "BoxwiseCpuThrottled",
        "BoxwiseGomaxprocsAboveQuota",
        "BoxwiseGomemlimitUnset",
        "BoxwiseOomKilled",
    ] {
        assert!(alerts.contains(&want), "{want} missing from {alerts:?}");
    }
    let dash: serde_json::Value =
        serde_json::from_str(&deploy("grafana/boxwise-dashboard.json")).expect("dashboard JSON");
    let panel_exprs: Vec<String> = dash["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().expect("targets").iter())
        .map(|t| t["expr"].as_str().expect("expr").to_string())
        .collect();
    assert!(panel_exprs.len() >= 8);
    let mut used = BTreeSet::new();
    for (_, e) in &exprs {
        used.extend(metric_names(e));
    }
    for e in &panel_exprs {
        used.extend(metric_names(e));
    }
    let unknown: Vec<&String> = used.difference(&exported).collect();
    assert!(unknown.is_empty(), "not exported: {unknown:?}");
    // The contract metrics are all on the dashboard or in a rule.
    for m in [
        "container_cpu_cfs_periods_total",
        "container_cpu_cfs_throttled_periods_total",
        "boxwise_go_gomaxprocs",
        "boxwise_go_gomaxprocs_recommended",
        "boxwise_go_gomemlimit_bytes",
    ] {
        assert!(used.contains(m), "{m} is used nowhere");
    }
    // Panels fit Grafana's 24-column grid.
    for p in dash["panels"].as_array().unwrap() {
        let g = &p["gridPos"];
        let (x, w) = (g["x"].as_u64().unwrap(), g["w"].as_u64().unwrap());
        assert!(x + w <= 24, "panel {} overflows the grid", p["title"]);
    }
}

#[test]
fn docs_list_every_exported_metric() {
    let doc = std::fs::read_to_string(workspace_root().join("docs/fleet.md")).unwrap();
    for m in exported() {
        assert!(
            doc.contains(&format!("| `{m}` |")),
            "docs/fleet.md lacks {m}"
        );
    }
}

#[test]
fn the_prometheusrule_holds_the_same_rules() {
    let plain = rule_exprs(&yaml_docs("prometheus/boxwise-rules.yaml")[0]["groups"]);
    let docs = yaml_docs("kubernetes/prometheusrule.yaml");
    let wrapped = rule_exprs(&kind(&docs, "PrometheusRule")["spec"]["groups"]);
    assert_eq!(plain, wrapped);
}

#[test]
fn the_daemonset_reads_the_host_with_least_privilege() {
    let docs = yaml_docs("kubernetes/daemonset.yaml");
    let ds = kind(&docs, "DaemonSet");
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(pod["hostPID"].as_bool(), Some(true));
    assert_eq!(pod["automountServiceAccountToken"].as_bool(), Some(false));
    assert!(pod["hostNetwork"].is_badvalue(), "no host network");
    let c = &pod["containers"][0];
    let sc = &c["securityContext"];
    assert_eq!(sc["privileged"].as_bool(), Some(false));
    assert_eq!(sc["allowPrivilegeEscalation"].as_bool(), Some(false));
    assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(sc["capabilities"]["drop"][0].as_str(), Some("ALL"));
    let added: Vec<&str> = sc["capabilities"]["add"]
        .as_vec()
        .map(|v| v.iter().filter_map(Yaml::as_str).collect())
        .unwrap_or_default();
    assert!(
        added
            .iter()
            .all(|c| ["SYS_PTRACE", "DAC_READ_SEARCH"].contains(c)),
        "{added:?}"
    );
    for r in ["requests", "limits"] {
        for k in ["cpu", "memory"] {
            assert!(c["resources"][r][k].as_str().is_some(), "resources.{r}.{k}");
        }
    }
    // Every mount is read-only, and the only host path is the cgroup tree.
    for m in c["volumeMounts"].as_vec().expect("volumeMounts") {
        assert_eq!(m["readOnly"].as_bool(), Some(true), "{m:?}");
    }
    let paths: Vec<&str> = pod["volumes"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(|v| v["hostPath"]["path"].as_str())
        .collect();
    assert_eq!(paths, ["/sys/fs/cgroup"]);
    assert_eq!(
        c["readinessProbe"]["httpGet"]["path"].as_str(),
        Some("/healthz")
    );
    // The Service and ServiceMonitor find the pods on the port the exporter listens on.
    let labels = &ds["spec"]["template"]["metadata"]["labels"];
    let port = c["ports"][0]["containerPort"].as_i64().unwrap();
    let args: Vec<&str> = c["args"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert!(
        args.contains(&format!("0.0.0.0:{port}").as_str()),
        "{args:?}"
    );
    let svc = &yaml_docs("kubernetes/service.yaml")[0];
    for (k, v) in svc["spec"]["selector"].as_hash().unwrap() {
        assert_eq!(&labels[k.as_str().unwrap()], v);
    }
    let sm = &yaml_docs("kubernetes/servicemonitor.yaml")[0];
    for (k, v) in sm["spec"]["selector"]["matchLabels"].as_hash().unwrap() {
        assert_eq!(&svc["metadata"]["labels"][k.as_str().unwrap()], v);
    }
    assert_eq!(
        sm["spec"]["endpoints"][0]["port"],
        svc["spec"]["ports"][0]["name"]
    );
    assert_eq!(
        sm["spec"]["endpoints"][0]["path"].as_str(),
        Some("/metrics")
    );
}

fn promtool_or_skip() -> bool {
    let ok = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    require(ok, "promtool is not installed (apt-get install prometheus)")
}

#[test]
#[ignore = "needs promtool (Debian's prometheus package)"]
fn promtool_accepts_the_rules() {
    if !promtool_or_skip() {
        return;
    }
    let path = workspace_root().join("deploy/prometheus/boxwise-rules.yaml");
    let out = support::run(Command::new("promtool").args(["check", "rules"]).arg(&path));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("SUCCESS: 5 rules found"), "{text}");
}

#[test]
#[ignore = "needs root, a writable cgroup, Go and Docker"]
fn the_exporter_image_reads_the_host_from_a_container() {
    if !support::docker_or_skip() {
        return;
    }
    let Some(cg) = TestCgroup::create_or_skip() else {
        return;
    };
    let Some(worker) = build_go_program("worker") else {
        return;
    };
    cg.set_cpu_quota(0.1);
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = Kill(
        cg.command(&worker)
            .args(["burn", "600"])
            .env("GOMAXPROCS", "8")
            .stdout(Stdio::null())
            .spawn()
            .expect("start worker"),
    );
    let pid = child.0.id();

    // The image as deploy/Dockerfile builds it: its ENTRYPOINT and CMD, the static binary.
    let bin = support::static_boxwise();
    let dockerfile = deploy("Dockerfile");
    let tail: String = dockerfile
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("FROM") && !l.starts_with("COPY"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(dockerfile.contains("FROM scratch") && dockerfile.contains("COPY boxwise /boxwise"));
    let image = support::DockerImage::build_scratch(&[(bin.as_path(), "boxwise")], &tail);
    // As the DaemonSet runs it: host PID namespace, host cgroups read-only, dropped
    // capabilities but the two it adds, read-only root. `--once` prints one exposition.
    let (cmd, out) = image.run(
        &[
            "--pid=host",
            "-v",
            "/sys/fs/cgroup:/sys/fs/cgroup:ro",
            "--cap-drop=ALL",
            "--cap-add=SYS_PTRACE",
            "--cap-add=DAC_READ_SEARCH",
            "--read-only",
            "--security-opt=no-new-privileges",
        ],
        &["--once"],
    );
    let text = support::stdout_ok(&cmd, &out);
    let cgroup_id = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap()
        .lines()
        .find_map(|l| {
            let mut p = l.splitn(3, ':');
            let (_, c, path) = (p.next()?, p.next()?, p.next()?);
            (c.split(',').any(|c| c == "cpu") || c.is_empty()).then(|| path.to_string())
        })
        .unwrap();
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name) && l.contains(&format!("pid=\"{pid}\"")))
            .unwrap_or_else(|| panic!("no {name} for pid {pid} in:\n{text}"))
            .to_string()
    };
    assert!(line("boxwise_go_gomaxprocs{").ends_with(" 8"));
    assert!(line("boxwise_go_gomaxprocs_recommended{").ends_with(" 2"));
    assert!(line("boxwise_go_gomaxprocs{").contains(&format!("id=\"{cgroup_id}\"")));
    let quota = text
        .lines()
        .find(|l| {
            l.starts_with("container_spec_cpu_quota{") && l.contains(&format!("id=\"{cgroup_id}\""))
        })
        .unwrap_or_else(|| panic!("no quota for {cgroup_id} in:\n{text}"));
    assert!(quota.ends_with(" 10000"), "{quota}");
}
