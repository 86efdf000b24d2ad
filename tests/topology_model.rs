//! The topology model judged end to end: hosts and replicas (per-host limits), the source
//! address of each hop, TIME_WAIT where it accumulates, open connections and network
//! namespaces (pods, sidecars). Each test loads a topology and judges it with the shipped rules,
//! asserting the findings a user sees. The kernel side of these facts is proved by
//! `tests/lab_model.rs`.

use twlint::judge::{self, Request};
use twlint::report::Report;
use twlint::rules::load::load_catalog;
use twlint::source::SourceMap;

/// Judges a topology written in a fresh folder with `files` beside it.
fn judge(topology: &str, files: &[(&str, &str)]) -> Report {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let mut sources = SourceMap::new();
    let (rules, diags) = load_catalog(&[], &mut sources).expect("embedded rules load");
    assert!(diags.is_empty());
    let loaded = twlint::topology::load_text("t.yaml", dir.path(), topology, &mut sources);
    judge::judge(
        Request::topology(loaded),
        &judge::Options::default(),
        &rules,
        &mut sources,
    )
    .expect("judged")
}

/// The rules that fire on `node` for `key` on `link`.
fn fired(r: &Report, link: &str, node: &str, key: &str) -> Vec<String> {
    r.verdicts
        .iter()
        .filter(|v| v.link.as_deref() == Some(link) && &*v.node == node && v.key == key)
        .filter_map(|v| v.rule.as_deref().map(str::to_string))
        .collect()
}

fn value(r: &Report, node: &str, key: &str) -> Option<String> {
    r.verdicts
        .iter()
        .find(|v| &*v.node == node && v.key == key)
        .and_then(|v| v.value.clone())
}

fn codes(r: &Report) -> Vec<&str> {
    r.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

fn replicated(replicas: usize) -> String {
    let web: Vec<String> = (1..=replicas).map(|i| format!("10.0.0.{i}")).collect();
    format!(
        "version: 1\ndefaults: {{kernel: \"6.8\"}}\nnodes:\n  - {{name: web, role: web, replicas: {replicas}, addresses: [{}], sysctl: {{set: {{net.ipv4.tcp_tw_reuse: 1, net.ipv4.tcp_max_tw_buckets: 130000}}}}}}\n  - {{name: db, role: db, addresses: [10.0.1.1, 10.0.1.2, 10.0.1.3, 10.0.1.4, 10.0.1.5], listen: [5432]}}\nlinks:\n  - {{from: web, to: db, port: 5432, closes_first: web, rate: 6000}}\n",
        web.join(", ")
    )
}

#[test]
fn tw_buckets_are_judged_per_host() {
    // 6000/s over 3 hosts x 5 database addresses: 400/s per tuple, 24000 TIME_WAIT each,
    // 360000 in all but 120000 per host, under each host's 130000.
    let r = judge(&replicated(3), &[]);
    assert!(fired(&r, "web->db", "web", "net.ipv4.tcp_max_tw_buckets").is_empty());
    assert_eq!(r.hops[0].time_wait_sockets, 360000.0);
    assert_eq!(r.hops[0].time_wait_per_host, 120000.0);
    // Two hosts: 600/s per tuple would be 36000 each, but a tuple holds at most its 28232
    // ports; 141160 per host is over the limit.
    let r = judge(&replicated(2), &[]);
    assert_eq!(
        fired(&r, "web->db", "web", "net.ipv4.tcp_max_tw_buckets"),
        ["TW150"]
    );
    assert_eq!(r.hops[0].time_wait_per_host, 141160.0);
    assert!(r.hops[0].time_wait_bounded);
}

#[test]
fn a_public_and_a_private_address_are_one_source_per_destination() {
    let topology = "version: 1\ndefaults: {kernel: \"6.8\"}\nnodes:\n  - {name: lb, role: load-balancer, addresses: [203.0.113.10, 10.0.0.10]}\n  - {name: web, role: web, addresses: [10.0.0.20], listen: [80]}\nlinks:\n  - {from: lb, to: web, port: 80, closes_first: lb, rate: 600}\n";
    let r = judge(topology, &[]);
    // Format 1 counted two tuples (300/s each, safe); the kernel uses the private address only.
    let hop = &r.hops[0].client;
    assert_eq!(hop.tuples, 1);
    assert_eq!(hop.sources, ["10.0.0.10"]);
    assert_eq!(
        fired(&r, "lb->web", "lb", "net.ipv4.ip_local_port_range"),
        ["TW130"]
    );
    // And twlint says how it read the addresses.
    assert!(codes(&r).contains(&"TW091"));
    // Through an explicit source, the public address.
    let r = judge(
        &topology.replace("rate: 600}", "rate: 600, source: 203.0.113.10}"),
        &[],
    );
    assert_eq!(r.hops[0].client.sources, ["203.0.113.10"]);
}

#[test]
fn loopback_only_towards_loopback() {
    // A proxy with 127.0.0.1 and its pod address reaches an upstream on another host from the
    // pod address, so `tcp_tw_reuse = 2` (loopback only) does not cover it.
    let topology = "version: 1\ndefaults: {kernel: \"6.8\"}\nnodes:\n  - {name: proxy, role: proxy, addresses: [127.0.0.1, 10.1.0.5]}\n  - {name: up, role: app, addresses: [10.2.0.9], listen: [8080]}\n  - {name: local, role: app, addresses: [127.0.0.1], listen: [9000]}\nlinks:\n  - {from: proxy, to: up, port: 8080, closes_first: proxy, rate: 1000}\n  - {from: proxy, to: local, port: 9000, closes_first: proxy, rate: 1000}\n";
    let r = judge(topology, &[]);
    let up = &r.hops[0].client;
    assert_eq!(up.sources, ["10.1.0.5"]);
    assert!(!up.loopback && !up.capacity.reuse_works);
    assert_eq!(
        fired(&r, "proxy->up", "proxy", "net.ipv4.tcp_tw_reuse"),
        ["TW110"]
    );
    let local = &r.hops[1].client;
    assert_eq!(local.sources, ["127.0.0.1"]);
    assert!(local.loopback && local.capacity.reuse_works);
}

#[test]
fn server_time_wait_is_bounded_by_the_clients_ports() {
    // The server closes first at 2000/s from one client address: rate x 60 s would be 120000,
    // but a SYN from a client port whose TIME_WAIT the server holds takes it over, so the server
    // holds at most the client's 28232 ports; its 100000 buckets suffice.
    let topology = "version: 1\ndefaults: {kernel: \"6.8\"}\nnodes:\n  - {name: lb, role: load-balancer, addresses: [10.0.0.10]}\n  - {name: web, role: web, addresses: [10.0.0.20], listen: [80], sysctl: {set: {net.ipv4.tcp_max_tw_buckets: 100000}}}\nlinks:\n  - {from: lb, to: web, port: 80, closes_first: web, rate: 2000}\n";
    let r = judge(topology, &[]);
    assert_eq!(r.hops[0].time_wait_sockets, 28232.0);
    assert!(fired(&r, "lb->web", "web", "net.ipv4.tcp_max_tw_buckets").is_empty());
    // The client's ports are not used up by the server's TIME_WAIT.
    assert!(fired(&r, "lb->web", "lb", "net.ipv4.ip_local_port_range").is_empty());
    // Clients twlint cannot count (unseen, behind NAT) give no bound.
    let unseen = topology.replace(
        "{name: lb, role: load-balancer, addresses: [10.0.0.10]}",
        "{name: lb, role: client}",
    );
    let r = judge(&unseen, &[]);
    assert_eq!(r.hops[0].time_wait_sockets, 120000.0);
    assert_eq!(
        fired(&r, "lb->web", "web", "net.ipv4.tcp_max_tw_buckets"),
        ["TW150"]
    );
}

#[test]
fn open_connections_hold_ports_and_sidecars_share_them() {
    // A pool of 2000 connections on a 1000-port range cannot open.
    let pool = "version: 1\ndefaults: {kernel: \"6.8\"}\nnodes:\n  - {name: app, role: app, addresses: [10.0.0.20], sysctl: {set: {net.ipv4.ip_local_port_range: \"60000 60999\"}}}\n  - {name: db, role: db, addresses: [10.0.0.30], listen: [5432]}\nlinks:\n  - {from: app, to: db, port: 5432, closes_first: app, open: 2000, rate: 1}\n";
    let r = judge(pool, &[]);
    assert_eq!(
        fired(&r, "app->db", "app", "net.ipv4.ip_local_port_range"),
        ["TW134"]
    );
    // 900 open leave 100 ports: 2/s churn fits, the capacity is 100/60 s.
    let r = judge(
        &pool.replace("open: 2000, rate: 1", "open: 900, rate: 1"),
        &[],
    );
    assert_eq!(r.hops[0].client.capacity.ports, 100);
    assert!(fired(&r, "app->db", "app", "net.ipv4.ip_local_port_range") == ["TW132"]);
    // An app and its sidecar in one namespace draw from the same ports towards the same
    // destination: 300/s each fits in 470.5/s, 600/s together does not.
    let shared = "version: 1\ndefaults: {kernel: \"6.8\"}\nnodes:\n  - {name: app, role: app, namespace: own, addresses: [10.0.0.20]}\n  - {name: envoy, role: proxy, shares_namespace_with: app}\n  - {name: db, role: db, addresses: [10.0.0.30], listen: [5432]}\nlinks:\n  - {from: app, to: db, port: 5432, closes_first: app, rate: 300}\n  - {from: envoy, to: db, port: 5432, closes_first: envoy, rate: 300}\n";
    let r = judge(shared, &[]);
    for (link, node) in [("app->db", "app"), ("envoy->db", "envoy")] {
        assert_eq!(
            fired(&r, link, node, "net.ipv4.ip_local_port_range"),
            ["TW130"],
            "{link}"
        );
    }
    assert_eq!(r.hops[1].client.sources, ["10.0.0.20"]);
}

#[test]
fn a_pod_starts_from_the_kernel_defaults() {
    let conf = "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.ip_local_port_range = 1024 65535\n";
    let topology = "version: 1\ndefaults: {kernel: \"6.8\"}\nnodes:\n  - {name: host, sysctl: {files: [node.conf]}}\n  - {name: pod, namespace: own, sysctl: {files: [node.conf], set: {net.ipv4.ip_local_port_range: \"20000 60999\"}}}\n  - {name: sidecar, shares_namespace_with: pod}\n";
    let r = judge(topology, &[("node.conf", conf)]);
    assert_eq!(
        value(&r, "host", "net.ipv4.tcp_tw_reuse").as_deref(),
        Some("1")
    );
    // The host file does not reach the pod; its own values (the pod spec's) do.
    assert_eq!(
        value(&r, "pod", "net.ipv4.tcp_tw_reuse").as_deref(),
        Some("2")
    );
    assert_eq!(
        value(&r, "pod", "net.ipv4.ip_local_port_range").as_deref(),
        Some("20000 60999")
    );
    assert_eq!(
        value(&r, "sidecar", "net.ipv4.tcp_tw_reuse").as_deref(),
        Some("2")
    );
    let tw094: Vec<_> = r.diagnostics.iter().filter(|d| d.code == "TW094").collect();
    assert_eq!(tw094.len(), 1, "said once, on the namespace's owner");
    assert_eq!(tw094[0].node.as_deref(), Some("pod"));
    // On a kernel where the key was still global (before 4.11 for tcp_tw_reuse), the host's
    // value reaches the pod.
    let old = topology.replace("kernel: \"6.8\"", "kernel: \"4.4\"");
    let r = judge(&old, &[("node.conf", conf)]);
    assert_eq!(
        value(&r, "pod", "net.ipv4.tcp_tw_reuse").as_deref(),
        Some("1")
    );
}

#[test]
fn huge_counts_are_judged_without_trouble() {
    // Untrusted topologies: the largest counts the format accepts neither panic nor allocate.
    let topology = "version: 1\nnodes:\n  - {name: a, replicas: 4294967295, addresses: [10.0.0.1]}\n  - {name: b, listen: [80]}\n  - {name: c, shares_namespace_with: a}\nlinks:\n  - {from: a, to: b, port: 80, closes_first: b, open: 9223372036854775807, rate: 1e300}\n  - {from: c, to: b, port: 80, closes_first: c, open: 9223372036854775807, rate: 1e300}\n";
    let start = std::time::Instant::now();
    let r = judge(topology, &[]);
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(r.nodes[0].hosts, 4294967295);
    assert!(r.hops[0].client.open_exhausts);
}

#[test]
fn a_node_stands_for_one_workload_of_a_manifest() {
    let manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  template:\n    spec:\n      securityContext:\n        sysctls:\n          - {name: net.ipv4.ip_local_port_range, value: \"20000 60999\"}\n          - {name: net.ipv4.tcp_tw_reuse, value: \"1\"}\n      containers: [{name: api, image: api}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker, namespace: shop}\nspec:\n  template:\n    spec:\n      securityContext:\n        sysctls: [{name: net.ipv4.ip_local_port_range, value: \"40000 60999\"}]\n      containers: [{name: w, image: w}]\n";
    let node_conf = "net.ipv4.tcp_fin_timeout = 30\n";
    let topology = "version: 1\ndefaults: {kernel: \"6.8\"}\nnodes:\n  - {name: api, workload: shop/Deployment/api, sysctl: {files: [node.conf, deploy.yaml]}}\n  - {name: worker, workload: shop/Deployment/worker, sysctl: {files: [deploy.yaml]}}\n";
    let r = judge(
        topology,
        &[("deploy.yaml", manifest), ("node.conf", node_conf)],
    );
    // Each node has its own pod template's values, in a namespace of its own: the node's file
    // does not reach it.
    assert_eq!(
        value(&r, "api", "net.ipv4.ip_local_port_range").as_deref(),
        Some("20000 60999")
    );
    assert_eq!(
        value(&r, "worker", "net.ipv4.ip_local_port_range").as_deref(),
        Some("40000 60999")
    );
    assert_eq!(
        value(&r, "api", "net.ipv4.tcp_fin_timeout").as_deref(),
        Some("60")
    );
    let on = |code: &str, node: &str| {
        r.diagnostics
            .iter()
            .any(|d| d.code == code && d.node.as_deref() == Some(node))
    };
    assert!(on("TW094", "api"));
    // The kubelet admits the pod's sysctls: tcp_tw_reuse is not in the safe set.
    assert!(on("TW070", "api"), "{:?}", codes(&r));
    assert!(!on("TW070", "worker"));
    // A name no file has is an error, with the closest one.
    let r = judge(
        &topology.replace("shop/Deployment/worker", "shop/Deployment/workr"),
        &[("deploy.yaml", manifest), ("node.conf", node_conf)],
    );
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == "TW096")
        .expect("TW096");
    assert!(d
        .help
        .as_deref()
        .unwrap()
        .contains("shop/Deployment/worker"));
}

/// A topology's `kubernetes` block says which cluster admits its workloads' pods: its release
/// decides the safe set, its `allowed-unsafe-sysctls` lets an unsafe one through, and messages
/// name the topology as where the release came from.
#[test]
fn the_topology_names_the_kubernetes_cluster_of_its_workloads() {
    let manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  template:\n    spec:\n      securityContext:\n        sysctls:\n          - {name: net.ipv4.tcp_fin_timeout, value: \"30\"}\n          - {name: net.ipv4.tcp_tw_reuse, value: \"1\"}\n      containers: [{name: api, image: api}]\n";
    let base = "version: 1\ndefaults: {kernel: \"6.8\"}\nnodes:\n  - {name: api, workload: shop/Deployment/api, sysctl: {files: [deploy.yaml]}}\n";
    let tw070 = |r: &Report| -> Vec<String> {
        r.diagnostics
            .iter()
            .filter(|d| d.code == "TW070")
            .map(|d| format!("{} ({})", d.message, d.primary.as_ref().unwrap().message))
            .collect()
    };
    // Without the block: the default release (tcp_fin_timeout is safe), tcp_tw_reuse is not.
    let r = judge(base, &[("deploy.yaml", manifest)]);
    let found = tw070(&r);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("tcp_tw_reuse"), "{found:?}");
    // An older release: tcp_fin_timeout became safe in 1.29.
    let r = judge(
        &format!("{base}kubernetes: {{version: \"1.28\"}}\n"),
        &[("deploy.yaml", manifest)],
    );
    let found = tw070(&r);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found
            .iter()
            .any(|m| m.contains("tcp_fin_timeout")
                && m.contains("`kubernetes.version` in the topology")),
        "{found:?}"
    );
    // The kubelets allow tcp_tw_reuse: nothing is rejected.
    let r = judge(
        &format!("{base}kubernetes:\n  allowed-unsafe-sysctls: [net.ipv4.tcp_tw_reuse]\n"),
        &[("deploy.yaml", manifest)],
    );
    assert!(tw070(&r).is_empty(), "{:?}", tw070(&r));
    // A release that is not one, and a misspelt field, are errors at their places.
    let r = judge(
        &format!("{base}kubernetes: {{version: banana, allowed-unsafe: []}}\n"),
        &[("deploy.yaml", manifest)],
    );
    assert!(r.fatal);
    let found = codes(&r);
    assert!(found.contains(&"TW053"), "{found:?}");
    assert!(found.contains(&"TW051"), "{found:?}");
}
