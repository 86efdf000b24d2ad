//! Host mode against the real kernel, inside throwaway network namespaces (`unshare -n`): values
//! set in the namespace are read live and judged, the TcpExt counters of real loopback traffic
//! back the verdicts, and a snapshot taken inside is judged outside exactly like the live run.
//! Nothing is ever written to the host's own namespace: every `sysctl -w` runs inside
//! `unshare -n`, which a new namespace starts from the kernel's defaults.
//!
//! These need root: `.ci/run` runs them (`.ci/host.sh`).

use serde_json::Value;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_twlint");
const TOPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lb-web-db.yaml");

/// Runs a shell script in a new network namespace with loopback up; panics (never skips) when
/// namespaces are not available.
fn in_netns(script: &str) -> String {
    let full = format!("set -eu\nip link set lo up\n{script}");
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", &full])
        .output()
        .expect("unshare runs");
    assert!(
        out.status.success(),
        "the script failed in a network namespace (root and `unshare -n` are needed):\n{}\n--- stderr\n{}",
        full,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn verdicts_of<'a>(v: &'a Value, node: &str, key: &str) -> Vec<&'a Value> {
    v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["node"] == node && x["key"] == key)
        .collect()
}

/// Twenty loopback connections that the client closes first (KERNEL-FACTS 1.5's experiment).
const TRAFFIC: &str = r#"python3 - <<'EOF'
import socket
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(64)
port = srv.getsockname()[1]
for _ in range(20):
    c = socket.create_connection(("127.0.0.1", port))
    s, _ = srv.accept()
    c.close()
    s.recv(1)
    s.close()
EOF
"#;

#[test]
#[ignore = "needs root and network namespaces: run by .ci/run"]
fn values_set_in_a_namespace_are_read_live_and_backed_by_its_counters() {
    let script = format!(
        "sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.tcp_fin_timeout=30 net.ipv4.tcp_max_tw_buckets=5\n\
         sysctl -qw net.ipv4.ip_local_port_range='20000 30001'\n\
         {TRAFFIC}\n\
         '{BIN}' --topology '{TOPO}' --node lb --format json --fail-on never"
    );
    let v: Value = serde_json::from_str(&in_netns(&script)).unwrap();
    let host = &v["host"];
    assert_eq!(host["read_from"]["kind"], "live");
    // A namespace of its own, never the reserved inode of the initial one.
    assert_ne!(host["netns"]["inode"], 4026531833u64);
    assert_ne!(host["netns"]["initial"], true, "{:#}", host["netns"]);
    let value = |k: &str| verdicts_of(&v, "lb", k)[0]["value"].clone();
    assert_eq!(value("net.ipv4.tcp_tw_reuse"), "1");
    assert_eq!(value("net.ipv4.ip_local_port_range"), "20000 30001");
    assert_eq!(value("net.ipv4.tcp_fin_timeout"), "30");
    assert_eq!(value("net.ipv4.tcp_max_tw_buckets"), "5");
    for x in v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["node"] == "lb")
    {
        assert_eq!(x["source"]["kind"], "live", "{x:#}");
    }
    // 20 client-closed connections, 5 buckets: 5 TIME_WAIT sockets, 15 overflows.
    assert_eq!(host["counters"]["values"]["TCPTimeWaitOverflow"], 15);
    // A namespace's counters start when it is created, not at boot.
    assert_ne!(host["counters"]["since"], "boot");
    assert_eq!(host["counters"]["time_wait"], 5);
    // `--node` says from the start that this machine is a node: its sockets are read while the
    // rules and the topology load, and the view is this namespace's, read through netlink.
    assert_eq!(host["sockets"]["source"]["kind"], "netlink");
    assert_eq!(
        host["sockets"]["time_wait"]["total"], 5,
        "{:#}",
        host["sockets"]
    );
    let buckets = verdicts_of(&v, "lb", "net.ipv4.tcp_max_tw_buckets");
    assert_eq!(buckets[0]["verdict"], "dangerous");
    let ev = buckets[0]["evidence"]
        .as_array()
        .expect("evidence on the verdict");
    assert!(
        ev.iter().any(|e| e["counter"] == "TCPTimeWaitOverflow"
            && e["value"] == 15
            && e["meaning"] == "supports"),
        "{ev:#?}"
    );
}

#[test]
#[ignore = "needs root and network namespaces: run by .ci/run"]
fn a_fresh_namespace_has_the_kernel_defaults_not_the_hosts() {
    let v: Value = serde_json::from_str(&in_netns(&format!(
        "'{BIN}' --topology '{TOPO}' --node db --format json --fail-on never"
    )))
    .unwrap();
    // db's file turns timestamps off; a new namespace starts with them on (KERNEL-FACTS 1.9).
    let ts = verdicts_of(&v, "db", "net.ipv4.tcp_timestamps");
    assert!(ts.iter().all(|x| x["value"] == "1"));
    let drift = v["host"]["drift"].as_array().unwrap();
    assert!(drift
        .iter()
        .any(|d| d["key"] == "net.ipv4.tcp_timestamps" && d["declared"] == "0"));
}

#[test]
#[ignore = "needs root and network namespaces: run by .ci/run"]
fn a_snapshot_taken_in_a_namespace_is_judged_outside_like_the_live_run() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap");
    let live = in_netns(&format!(
        "sysctl -qw net.ipv4.tcp_tw_reuse=0 net.ipv4.tcp_timestamps=0 net.ipv4.ip_local_reserved_ports=20000-20010\n\
         '{BIN}' snapshot --out '{}' >/dev/null\n\
         '{BIN}' --topology '{TOPO}' --node lb --format json --fail-on never",
        snap.display()
    ));
    let out = Command::new(BIN)
        .args([
            "--topology",
            TOPO,
            "--node",
            "lb",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--root",
        ])
        .arg(&snap)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let strip = |mut v: Value| {
        let host = v["host"].as_object_mut().unwrap();
        host.remove("read_from");
        host.remove("taken_at");
        host["kernel"].as_object_mut().unwrap().remove("path");
        for (_, val) in host["values"].as_object_mut().unwrap() {
            val.as_object_mut().unwrap().remove("path");
        }
        v
    };
    let live: Value = strip(serde_json::from_str(&live).unwrap());
    let replay: Value = strip(serde_json::from_slice(&out.stdout).unwrap());
    // A quiet namespace: no counter moves between the snapshot and the live run, so everything
    // (counters and the evidence they give) must be equal.
    assert_eq!(live, replay);
    assert_eq!(
        verdicts_of(&live, "lb", "net.ipv4.ip_local_reserved_ports")[0]["value"],
        "20000-20010"
    );
}
