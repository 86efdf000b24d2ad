//! Kernel facts by version, end to end: what `tcp_tw_reuse` accepts and means before and after
//! the 0..2 range check (4.19), the peer's timestamp clock tick for `tcp_tw_reuse_delay`, and
//! the history of timestamp offsets (`kernel::BEHAVIOURS`).

#[path = "common/in_process.rs"]
#[allow(dead_code)]
mod in_process;

use in_process::twlint;
use serde_json::Value;

fn json(dir: &tempfile::TempDir, name: &str, text: &str, extra: &[&str]) -> Value {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    let mut args = vec!["--format", "json", "--fail-on", "never"];
    args.extend_from_slice(extra);
    let p = p.to_str().unwrap().to_string();
    if name.ends_with(".yaml") {
        args.push("--topology");
    }
    args.push(&p);
    let out = twlint(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rows<'a>(v: &'a Value, node: &str, key: &str) -> Vec<&'a Value> {
    v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"] == node && e["key"] == key)
        .collect()
}

fn rules(v: &Value) -> Vec<String> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn tw_reuse_any_integer_is_accepted_before_the_range_check() {
    let dir = tempfile::tempdir().unwrap();
    let text = "net.ipv4.tcp_tw_reuse = 3\n";
    let old = json(&dir, "reuse.conf", text, &["--kernel", "4.14"]);
    assert!(!rules(&old).contains(&"TW004".to_string()), "{old}");
    let row = old["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "net.ipv4.tcp_tw_reuse")
        .unwrap();
    assert_eq!(row["value"], "3");
    let new = json(&dir, "reuse.conf", text, &["--kernel", "4.19"]);
    assert!(rules(&new).contains(&"TW004".to_string()), "{new}");
}

/// A connecting side that closes first at 1000/s towards one address: reuse is needed.
fn busy_hop(kernel: &str, reuse: &str) -> String {
    format!(
        "version: 1\nnodes:\n  - {{name: proxy, role: proxy, kernel: \"{kernel}\", addresses: [10.0.0.1], sysctl: {{set: {{net.ipv4.tcp_tw_reuse: {reuse}}}}}}}\n  - {{name: app, role: app, kernel: \"{kernel}\", addresses: [10.0.0.2], listen: [8080]}}\nlinks:\n  - {{from: proxy, to: app, port: 8080, closes_first: proxy, rate: 1000}}\n"
    )
}

#[test]
fn tw_reuse_nonzero_means_every_destination_before_the_range_check() {
    let dir = tempfile::tempdir().unwrap();
    // On 4.14, 2 is not "loopback only": reuse works towards 10.0.0.2.
    let v = json(&dir, "t.yaml", &busy_hop("4.14", "2"), &[]);
    let hop = &v["hops"][0];
    assert_eq!(hop["capacity"]["reuse_works"], true, "{hop}");
    let row = rows(&v, "proxy", "net.ipv4.tcp_tw_reuse")[0];
    assert_eq!(row["rule"], "TW111", "{row}");
    assert!(row["reason"]
        .as_str()
        .unwrap()
        .contains("tcp_tw_reuse=2 acts as 1 on kernel 4.14"));
    // On 4.19, 2 covers loopback only: the hop runs out of ports.
    let v = json(&dir, "t.yaml", &busy_hop("4.19", "2"), &[]);
    assert_eq!(v["hops"][0]["capacity"]["reuse_works"], false);
    assert_eq!(
        rows(&v, "proxy", "net.ipv4.tcp_tw_reuse")[0]["rule"],
        "TW110"
    );
}

fn delay_towards(peer_kernel: &str, delay: u32) -> String {
    format!(
        "version: 1\nnodes:\n  - {{name: proxy, role: proxy, kernel: \"6.18\", sysctl: {{set: {{net.ipv4.tcp_tw_reuse: 1, net.ipv4.tcp_tw_reuse_delay: {delay}}}}}}}\n  - {{name: legacy, role: app, kernel: \"{peer_kernel}\", listen: [8080]}}\nlinks:\n  - {{from: proxy, to: legacy, port: 8080, closes_first: proxy}}\n"
    )
}

#[test]
fn reuse_delay_is_judged_against_the_peer_timestamp_clock_tick() {
    let dir = tempfile::tempdir().unwrap();
    let verdict = |peer: &str, delay: u32| {
        let v = json(&dir, "t.yaml", &delay_towards(peer, delay), &[]);
        let r = rows(&v, "proxy", "net.ipv4.tcp_tw_reuse_delay")[0].clone();
        (
            r["verdict"].as_str().unwrap().to_string(),
            r["rule"].clone(),
        )
    };
    // A 4.9 peer's timestamp clock is jiffies: at most 10 ms a tick.
    assert_eq!(verdict("4.9", 100).0, "safe");
    assert_eq!(verdict("4.9", 10).0, "safe");
    assert_eq!(verdict("4.9", 5), ("dangerous".into(), "TW170".into()));
    // From 4.13 it ticks every millisecond.
    assert_eq!(verdict("5.15", 5).0, "safe");
}

fn recycle_towards(peer_kernel: &str) -> String {
    format!(
        "version: 1\nnodes:\n  - {{name: lb, role: load-balancer, kernel: \"{peer_kernel}\"}}\n  - {{name: web, role: web, kernel: \"4.9\", listen: [80], sysctl: {{set: {{net.ipv4.tcp_tw_recycle: 1}}}}}}\nlinks:\n  - {{from: lb, to: web, port: 80, closes_first: web}}\n"
    )
}

#[test]
fn timestamp_offset_history_decides_recycle_towards_one_peer() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |peer: &str| {
        let v = json(&dir, "t.yaml", &recycle_towards(peer), &[]);
        let r = rows(&v, "web", "net.ipv4.tcp_tw_recycle")[0].clone();
        (
            r["rule"].as_str().unwrap_or("-").to_string(),
            r["reason"].clone(),
        )
    };
    // Per connection in 4.10.
    assert_eq!(rule("4.10").0, "TW104");
    // Per address pair from about 4.11: one peer stays monotonic.
    assert_eq!(rule("4.14").0, "TW105");
    assert_eq!(rule("5.15").0, "TW105");
    // A stable series that took the 2026 change in a patch release: "may".
    let (r, reason) = rule("6.12.40");
    assert_eq!(r, "TW104");
    assert!(reason.as_str().unwrap().contains("may send"), "{reason}");
}
