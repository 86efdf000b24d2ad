//! Host runs with the socket view folded in: the summary in the host section (human and JSON),
//! its figures as evidence on verdicts, a capture without socket data said plainly, and a
//! snapshot that carries its summary to the replay. Replays only, except the snapshot round
//! trip, which names its node with `--node` so this machine's hostname never matters.

mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

const TOPO: &str = "topologies/lb-web-db.yaml";
const SNAPSHOT_LB: &str = "tests/fixtures/host/snapshot-lb";
const SOSREPORT_WEB: &str = "tests/fixtures/host/sosreport-web";
const PROC_DB: &str = "tests/fixtures/host/proc-db";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str], code: i32) -> String {
    let out = Command::cargo_bin("twlint")
        .unwrap()
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "twlint {args:?}\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str], code: i32) -> Value {
    serde_json::from_str(&run(args, code)).expect("stdout is one JSON value")
}

#[test]
fn an_sosreport_shows_its_sockets_and_close_wait_is_no_sysctl_matter() {
    let text = run(
        &[
            "--topology",
            TOPO,
            "--root",
            SOSREPORT_WEB,
            "--color",
            "never",
        ],
        1,
    );
    for line in [
        "  sockets (from the capture's net/tcp and net/tcp6): 3292 TCP, 3140 TIME_WAIT, 37 CLOSE_WAIT",
        "    TIME_WAIT by peer: 10.162.74.45:3306 3140",
        "    CLOSE_WAIT by process: 37 without a known owner",
        "    ephemeral ports in use per tuple: 10.162.74.44 -> 10.162.74.45:3306 3164 of 28232 (11.2%)",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    }
    assert!(
        text.contains("    No sysctl fixes CLOSE_WAIT: the peer has closed"),
        "{text}"
    );
    let v = json(
        &[
            "--topology",
            TOPO,
            "--root",
            SOSREPORT_WEB,
            "--format",
            "json",
        ],
        1,
    );
    let s = &v["host"]["sockets"];
    assert_eq!(s["close_wait"]["total"], 37);
    assert_eq!(s["time_wait"]["total"], 3140);
    assert_eq!(s["ephemeral"]["tuples"][0]["in_use"], 3164);
    assert_eq!(s["source"]["kind"], "replay");
    assert!(v["host"]["sockets_missing"].is_null());
    // `twlint host` shows the same view, and leaves it out when asked.
    let v = json(&["host", "--root", SOSREPORT_WEB, "--format", "json"], 0);
    assert_eq!(v["host"]["sockets"]["close_wait"]["total"], 37);
    let v = json(
        &[
            "host",
            "--root",
            SOSREPORT_WEB,
            "--format",
            "json",
            "--no-sockets",
        ],
        0,
    );
    assert!(v["host"]["sockets"].is_null());
    assert!(v["host"]["sockets_missing"].is_null());
}

#[test]
fn a_capture_without_socket_tables_says_so() {
    let text = run(
        &[
            "--topology",
            TOPO,
            "--root",
            PROC_DB,
            "--node",
            "db",
            "--fail-on",
            "never",
        ],
        0,
    );
    assert!(
        text.contains("  sockets: this capture has no socket data (no net/tcp or net/tcp6 under tests/fixtures/host/proc-db)"),
        "{text}"
    );
    let v = json(&["host", "--root", PROC_DB, "--format", "json"], 0);
    assert!(v["host"]["sockets"].is_null());
    assert!(v["host"]["sockets_missing"]
        .as_str()
        .unwrap()
        .contains("no socket data"));
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn socket_figures_are_evidence_rule_files_cite() {
    // The load balancer's saved summary: 5000 TIME_WAIT sockets against 5000 buckets.
    let v = json(
        &[
            "--topology",
            TOPO,
            "--root",
            SNAPSHOT_LB,
            "--format",
            "json",
        ],
        1,
    );
    let ev: Vec<&Value> = v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["node"] == "lb" && x["rule"] == "TW150")
        .flat_map(|x| x["evidence"].as_array().unwrap())
        .filter(|e| e["counter"] == "time_wait_buckets_percent")
        .collect();
    assert!(!ev.is_empty(), "{v:#}");
    assert_eq!(ev[0]["value"], 100);
    assert_eq!(ev[0]["meaning"], "supports");

    // tcp_fin_timeout lowered on a web server holding CLOSE_WAIT sockets: the sockets say that
    // the setting does not reach them.
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    copy_tree(&root().join(SOSREPORT_WEB), &web);
    let sysctl = web.join("sos_commands/kernel/sysctl_-a");
    let text = fs::read_to_string(&sysctl).unwrap().replace(
        "net.ipv4.tcp_fin_timeout = 60",
        "net.ipv4.tcp_fin_timeout = 15",
    );
    assert!(text.contains("tcp_fin_timeout = 15"), "the fixture sets it");
    fs::write(&sysctl, text).unwrap();
    let v = json(
        &[
            "--topology",
            TOPO,
            "--root",
            web.to_str().unwrap(),
            "--format",
            "json",
        ],
        1,
    );
    let fin: Vec<&Value> = v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["node"] == "web" && x["rule"] == "TW140")
        .collect();
    assert!(!fin.is_empty(), "TW140 fires on web");
    let ev = &fin[0]["evidence"][0];
    assert_eq!(ev["counter"], "close_wait");
    assert_eq!(ev["value"], 37);
    assert_eq!(ev["meaning"], "contradicts");
    assert_eq!(ev["since"], "now");
}

#[test]
fn a_snapshot_carries_its_socket_summary_to_the_replay() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let said = run(&["snapshot", "--out", out.to_str().unwrap()], 0);
    assert!(
        said.lines()
            .any(|l| l.starts_with("sockets: ") && l.ends_with("(in sockets.json)")),
        "{said}"
    );
    let saved: Value =
        serde_json::from_str(&fs::read_to_string(out.join("sockets.json")).unwrap()).unwrap();
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(out.join("twlint-snapshot.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["sockets"], "sockets.json");
    // `twlint host` and a judged run of the replay show the figures that were saved.
    let host = json(
        &["host", "--root", out.to_str().unwrap(), "--format", "json"],
        0,
    );
    assert_eq!(host["host"]["sockets"], saved);
    let judged = json(
        &[
            "--topology",
            TOPO,
            "--root",
            out.to_str().unwrap(),
            "--node",
            "lb",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        0,
    );
    assert_eq!(judged["host"]["sockets"], saved);
    let text = run(&["host", "--root", out.to_str().unwrap()], 0);
    let line = format!(
        "  sockets (when the snapshot was taken): {} TCP, {} TIME_WAIT, {} CLOSE_WAIT",
        saved["totals"]["sockets"], saved["time_wait"]["total"], saved["close_wait"]["total"]
    );
    assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
}

#[test]
fn a_damaged_socket_summary_is_an_error_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("lb");
    copy_tree(&root().join(SNAPSHOT_LB), &snap);
    fs::write(snap.join("sockets.json"), "{\"version\": 1}").unwrap();
    let out = Command::cargo_bin("twlint")
        .unwrap()
        .args(["host", "--root", snap.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sockets.json: not a socket summary"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn prometheus_in_host_mode_carries_the_sockets_and_counters() {
    for (name, root, node) in [
        ("prometheus_host_snapshot_lb", SNAPSHOT_LB, None),
        ("prometheus_host_sosreport_web", SOSREPORT_WEB, None),
        ("prometheus_host_proc_db", PROC_DB, Some("db")),
    ] {
        let mut args = vec![
            "--topology",
            TOPO,
            "--root",
            root,
            "--format",
            "prometheus",
            "--fail-on",
            "never",
        ];
        if let Some(n) = node {
            args.extend(["--node", n]);
        }
        let text = run(&args, 0);
        common::check_exposition(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        insta::assert_snapshot!(name, text);
    }
    // The figures are the socket view's, labelled with the node.
    let text = run(
        &[
            "--topology",
            TOPO,
            "--root",
            SOSREPORT_WEB,
            "--format",
            "prometheus",
        ],
        1,
    );
    for line in [
        "twlint_host_tcp_sockets{node=\"web\",state=\"time_wait\"} 3140",
        "twlint_host_tcp_sockets{node=\"web\",state=\"close_wait\"} 37",
        "twlint_host_close_wait_sockets{node=\"web\",command=\"(unknown)\"} 37",
        "twlint_host_tuple_ports_in_use{node=\"web\",local=\"10.162.74.44\",remote=\"10.162.74.45\",remote_port=\"3306\"} 3164",
        "twlint_host_tuple_ports_usable{node=\"web\"} 28232",
        "twlint_host_tcpext_total{node=\"web\",counter=\"PAWSPassive\"} 4127",
        "# TYPE twlint_host_tcpext_total counter",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    }
    // A capture without socket tables has counters but no socket families.
    let text = run(
        &[
            "--topology",
            TOPO,
            "--root",
            PROC_DB,
            "--node",
            "db",
            "--format",
            "prometheus",
            "--fail-on",
            "never",
        ],
        0,
    );
    assert!(
        text.contains("twlint_host_tcpext_total{node=\"db\",counter=\"TW\"} 31044"),
        "{text}"
    );
    assert!(!text.contains("twlint_host_tcp_sockets"), "{text}");
    // Without host mode, no host family.
    let text = run(
        &["--topology", TOPO, "--no-live", "--format", "prometheus"],
        1,
    );
    assert!(!text.contains("twlint_host_"), "{text}");
}

#[test]
fn twlint_no_live_pins_a_topology_run_to_the_declared_values() {
    let with_env = |args: &[&str], env: &str| -> Value {
        let out = Command::cargo_bin("twlint")
            .unwrap()
            .current_dir(root())
            .env("TWLINT_NO_LIVE", env)
            .args(args)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let node = [
        "--topology",
        TOPO,
        "--node",
        "lb",
        "--format",
        "json",
        "--fail-on",
        "never",
    ];
    // Set: even a run that names its node judges the declared values, as --no-live.
    let v = with_env(&node, "1");
    assert!(v.get("host").is_none(), "{:#}", v["host"]);
    // Empty or 0: unset.
    for off in ["", "0"] {
        let v = with_env(&node, off);
        assert_eq!(
            v["host"]["read_from"]["kind"], "live",
            "TWLINT_NO_LIVE={off:?}"
        );
    }
    // A flag that asks for a host wins over the environment.
    let mut root_args = vec!["--root", SNAPSHOT_LB];
    root_args.extend(node);
    let v = with_env(&root_args, "1");
    assert_eq!(v["host"]["read_from"]["kind"], "snapshot");
    let mut live_args = vec!["--live"];
    live_args.extend(node);
    let v = with_env(&live_args, "1");
    assert_eq!(v["host"]["read_from"]["kind"], "live");
}

#[test]
fn the_prometheus_example_shows_the_host_families_twlint_writes() {
    let readme =
        fs::read_to_string(root().join("examples/08-prometheus-textfile/README.md")).unwrap();
    let shown: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("twlint_host_"))
        .collect();
    let text = run(
        &[
            "--topology",
            TOPO,
            "--root",
            SOSREPORT_WEB,
            "--format",
            "prometheus",
            "--fail-on",
            "never",
        ],
        0,
    );
    let written: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("twlint_host_"))
        .collect();
    assert_eq!(
        shown, written,
        "examples/08-prometheus-textfile/README.md is stale"
    );
}

#[test]
fn a_port_range_known_only_from_sysctl_a_is_a_caveat_not_a_figure() {
    // sos did not copy proc/sys here, and sysctl -a says the host's range is not the default:
    // the socket view counted the default range's ports, and says so.
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    copy_tree(&root().join(SOSREPORT_WEB), &web);
    let sysctl = web.join("sos_commands/kernel/sysctl_-a");
    let text = fs::read_to_string(&sysctl).unwrap().replace(
        "net.ipv4.ip_local_port_range = 32768\t60999",
        "net.ipv4.ip_local_port_range = 1024\t65000",
    );
    assert!(text.contains("1024\t65000"), "the fixture sets the range");
    fs::write(&sysctl, text).unwrap();
    let web = web.to_str().unwrap();
    let v = json(
        &[
            "--topology",
            TOPO,
            "--root",
            web,
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        0,
    );
    let caveat = v["host"]["sockets_caveat"].as_str().expect("a caveat");
    assert!(
        caveat.contains("kernel default range 32768-60999, not the host's 1024-65000"),
        "{caveat}"
    );
    assert!(v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|x| x["evidence"].as_array().into_iter().flatten())
        .all(|e| !e["counter"].as_str().unwrap().starts_with("max_tuple")));
    let text = run(
        &[
            "--topology",
            TOPO,
            "--root",
            web,
            "--color",
            "never",
            "--fail-on",
            "never",
        ],
        0,
    );
    assert!(
        text.lines().any(|l| l
            .starts_with("    caution: the capture has no proc/sys/net/ipv4/ip_local_port_range")),
        "{text}"
    );
    // The unchanged capture agrees with itself: no caveat.
    let v = json(
        &[
            "--topology",
            TOPO,
            "--root",
            SOSREPORT_WEB,
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        0,
    );
    assert!(v["host"]["sockets_caveat"].is_null());
}

#[test]
fn twlint_host_reads_this_hosts_sockets_beside_its_values() {
    // Live, `twlint host` starts reading the socket view on a thread of its own before it
    // reads the values: the values are those `--no-sockets` reads, and the socket view is
    // there, or says why not.
    if !std::path::Path::new("/proc/sys/net/ipv4/tcp_fin_timeout").exists() {
        return;
    }
    let with = json(&["host", "--format", "json"], 0);
    let without = json(&["host", "--no-sockets", "--format", "json"], 0);
    assert_eq!(with["host"]["read_from"]["kind"], "live");
    for field in [
        "values",
        "unreadable",
        "hostname",
        "addresses",
        "kernel",
        "netns",
    ] {
        assert_eq!(with["host"][field], without["host"][field], "host.{field}");
    }
    assert!(
        without["host"]["sockets"].is_null(),
        "{:#}",
        without["host"]
    );
    match with["host"]["sockets"].as_object() {
        Some(summary) => {
            for field in ["close_wait", "ephemeral", "source"] {
                assert!(summary.contains_key(field), "{field}: {summary:#?}");
            }
        }
        None => assert!(
            with["host"]["sockets_missing"].is_string(),
            "{:#}",
            with["host"]
        ),
    }
}
