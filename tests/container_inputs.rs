//! Kubernetes manifests and compose files: each pod template or service is a node of its own,
//! findings land on the key or value as written (YAML, JSON, shell inside YAML), and the
//! Kubernetes verdicts follow the cluster's release and allowed unsafe sysctls.

#[allow(dead_code)] // the Prometheus checker is for other test files
mod common;
#[path = "common/in_process.rs"]
#[allow(dead_code)] // `masked` is for tests that write temporary folders
mod in_process;

use in_process::twlint;
use std::path::PathBuf;
use twlint::judge::{self, Request};
use twlint::report::Report;
use twlint::rules::load::load_catalog;
use twlint::source::SourceMap;

const WORKLOADS: &str = "tests/fixtures/inputs/kubernetes/workloads.yaml";
const LIST: &str = "tests/fixtures/inputs/kubernetes/list.json";
const COMPOSE: &str = "tests/fixtures/inputs/compose/compose.yaml";

fn judged(path: &str, opts: judge::Options) -> (Report, SourceMap) {
    let mut sources = SourceMap::new();
    let (rules, _) = load_catalog(&[], &mut sources).unwrap();
    let sets = judge::read_sysctl_paths(&[PathBuf::from(path)], &mut sources).unwrap();
    let report = judge::judge(Request::sets(sets), &opts, &rules, &mut sources).unwrap();
    (report, sources)
}

/// Every diagnostic as `CODE line:column node`.
fn findings(report: &Report, sources: &SourceMap) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .map(|d| {
            let at = sources.location(d.primary.as_ref().unwrap().span);
            format!(
                "{} {}:{} {}",
                d.code,
                at.line,
                at.column,
                d.node.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

fn nodes(report: &Report) -> Vec<&str> {
    report.nodes.iter().map(|n| n.name.as_str()).collect()
}

#[test]
fn every_pod_template_of_a_multi_document_manifest_is_a_node_named_namespace_kind_name() {
    let (report, _) = judged(WORKLOADS, judge::Options::default());
    // The ConfigMap holds no pod template: it is no node.
    assert_eq!(
        nodes(&report),
        [
            "shop/Deployment/api",
            "default/StatefulSet/cache",
            "ops/CronJob/report",
            "kube-system/DaemonSet/node-tuner",
            "default/Job/migrate"
        ]
    );
}

#[test]
fn findings_in_a_manifest_land_on_the_key_or_value_as_written() {
    let (report, sources) = judged(WORKLOADS, judge::Options::default());
    let got = findings(&report, &sources);
    for want in [
        // securityContext.sysctls: the value of a same-parity range, an unsafe key.
        "TW007 21:21 shop/Deployment/api",
        "TW070 24:19 shop/Deployment/api",
        // Inside `sh -c "..."` of a privileged init container: the key and value in the string.
        "TW115 31:66 shop/Deployment/api",
        "TW121 31:106 shop/Deployment/api",
        // hostNetwork, not namespaced, a number where the API wants a string.
        "TW072 46:19 default/StatefulSet/cache",
        "TW071 64:23 ops/CronJob/report",
        "TW075 67:24 ops/CronJob/report",
        "TW073 72:17 ops/CronJob/report",
        // A literal block script of an unprivileged init container.
        "TW074 92:25 kube-system/DaemonSet/node-tuner",
        // Exec form: a privileged init container writes the node's kernel.
        "TW071 109:33 default/Job/migrate",
    ] {
        assert!(got.iter().any(|g| g == want), "{want} not in {got:#?}");
    }
    // A safe sysctl in 1.32 (tcp_fin_timeout, since 1.29) is no TW070.
    assert!(!got.iter().any(|g| g.starts_with("TW070 22:")), "{got:#?}");
}

#[test]
fn the_safe_set_follows_the_release_and_the_allowed_unsafe_list() {
    let opts = |minor, allowed: &[&str]| judge::Options {
        kubernetes: twlint::kubernetes::Cluster {
            release: twlint::kubernetes::Release::new(1, minor),
            configured_in: Some(".twlint.yaml"),
            allowed_unsafe: allowed.iter().map(|s| s.to_string()).collect(),
        },
        ..judge::Options::default()
    };
    // tcp_fin_timeout became safe in 1.29.
    let (report, sources) = judged(WORKLOADS, opts(28, &[]));
    let old = findings(&report, &sources);
    assert!(old.iter().any(|g| g.starts_with("TW070 22:19")), "{old:#?}");
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.code == "TW070" && d.key.as_deref() == Some("net.ipv4.tcp_fin_timeout"))
        .unwrap();
    assert!(
        d.primary
            .as_ref()
            .unwrap()
            .message
            .contains("safe only from Kubernetes 1.29"),
        "{d:?}"
    );
    // The kubelet's --allowed-unsafe-sysctls admits somaxconn; patterns end in `*`.
    let (report, sources) = judged(WORKLOADS, opts(32, &["net.core.*"]));
    assert!(!findings(&report, &sources)
        .iter()
        .any(|g| g.starts_with("TW070")));
    // tcp_rmem is safe from 1.32 only.
    let (report, sources) = judged(LIST, opts(31, &[]));
    let got = findings(&report, &sources);
    assert!(
        got.contains(&"TW070 26:55 default/ReplicaSet/front".to_string()),
        "{got:#?}"
    );
}

#[test]
fn a_json_list_is_read_item_by_item_with_places_in_the_json() {
    let (report, sources) = judged(LIST, judge::Options::default());
    assert_eq!(
        nodes(&report),
        ["edge/Pod/probe", "default/ReplicaSet/front"]
    );
    assert_eq!(findings(&report, &sources), ["TW070 12:23 edge/Pod/probe"]);
    let reuse = report
        .verdicts
        .iter()
        .find(|v| &*v.node == "edge/Pod/probe" && v.key == "net.ipv4.tcp_tw_reuse")
        .unwrap();
    assert_eq!(reuse.value.as_deref(), Some("1"));
}

#[test]
fn compose_services_are_nodes_and_host_network_sysctls_are_refused() {
    let (report, sources) = judged(COMPOSE, judge::Options::default());
    assert_eq!(
        nodes(&report),
        ["web", "worker", "edge", "batch", "batch-2"]
    );
    let got = findings(&report, &sources);
    assert_eq!(
        got,
        [
            "TW140 4:31 batch",
            "TW007 11:38 web",
            "TW071 16:9 worker",
            "TW075 17:9 worker",
            "TW072 22:9 edge"
        ]
    );
    // The map form, the list form (value span inside `key=value`), a merge key and extends.
    let value = |node: &str, key: &str| {
        report
            .verdicts
            .iter()
            .find(|v| &*v.node == node && v.key == key)
            .and_then(|v| v.value.clone())
    };
    assert_eq!(
        value("web", "net.ipv4.ip_local_port_range").as_deref(),
        Some("10000 60000")
    );
    assert_eq!(
        value("worker", "net.ipv4.tcp_tw_reuse").as_deref(),
        Some("1")
    );
    assert_eq!(
        value("batch-2", "net.ipv4.tcp_fin_timeout").as_deref(),
        Some("15")
    );
    // A container starts from the kernel's defaults, not from the host's files.
    assert_eq!(value("edge", "net.ipv4.tcp_tw_reuse").as_deref(), Some("2"));
}

#[test]
fn input_format_forces_a_reader_and_an_unknown_one_is_refused() {
    let out = twlint(&["--input-format", "sysctl", "--format", "gcc", COMPOSE]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("[TW001]"),
        "read as sysctl.conf when forced: {text}"
    );
    let out = twlint(&["--input-format", "helm", COMPOSE]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "dump, kubernetes, compose, salt, ansible, nix, jinja, cloud-init, tuned, shell, sysctl"
        ),
        "{err}"
    );
}

#[test]
fn a_manifest_in_a_folder_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(WORKLOADS, dir.path().join("10-pods.conf")).unwrap();
    let out = twlint(&[dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("10-pods.conf is a kubernetes file"), "{err}");
}

#[test]
fn the_kubernetes_release_comes_from_twlint_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join(".twlint.yaml");
    std::fs::write(
        &cfg,
        "kubernetes:\n  version: \"1.28\"\n  allowed-unsafe-sysctls: [net.core.somaxconn]\n",
    )
    .unwrap();
    let out = twlint(&[
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "gcc",
        WORKLOADS,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("24:19"), "somaxconn is allowed: {text}");
    assert!(
        text.contains(
            "workloads.yaml:22:19: error: `net.ipv4.tcp_fin_timeout` is an unsafe sysctl"
        ),
        "{text}"
    );
    std::fs::write(&cfg, "kubernetes:\n  version: one\n").unwrap();
    let out = twlint(&["--config", cfg.to_str().unwrap(), WORKLOADS]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`one` is not a Kubernetes release"));
}

#[test]
fn human_and_json_output_of_a_manifest() {
    let out = twlint(&["--color", "never", LIST]);
    insta::assert_snapshot!("manifest_human", String::from_utf8_lossy(&out.stdout));
    let out = twlint(&["--format", "json", LIST]);
    // The commit twlint was built from is left out, so the snapshot holds whichever built it.
    insta::assert_snapshot!(
        "manifest_json",
        twlint::build_info::without_commit_text(&String::from_utf8_lossy(&out.stdout))
    );
}

#[test]
fn the_guide_page_shows_the_checked_example_output() {
    common::assert_docs_show_example(
        "docs/guide/input-kubernetes.md",
        "examples/10-kubernetes-compose/README.md",
        "examples/10-kubernetes-compose/",
    );
}
