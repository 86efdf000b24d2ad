//! Lab tests: twlint's topology model (issue "the model, part 1") against the real kernel.
//!
//! Each test is one scenario, built like `tests/lab_capacity.rs`: the parent writes a topology,
//! asks the real `twlint --format json` binary what it predicts, re-runs this test binary,
//! filtered to the same test, under `unshare -n`, and compares what the kernel did there (one
//! JSON line) with the prediction, printing a row of the agreement table. The child checks that
//! it is not in its parent's namespace before writing anything; it uses loopback and a veth
//! pair inside its own namespace only, in bounded loops, and the parent checks that its own
//! namespace's values did not change.
//!
//! - `server_time_wait_is_bounded_by_the_clients_ports`: the server closes first; 200
//!   connections through 8 client ports leave at most twlint's bound of TIME_WAIT sockets on
//!   the server, and every connect succeeds (server TIME_WAIT does not exhaust the client).
//! - `source_address_follows_the_route`: a namespace with a private and a public address picks,
//!   per destination, the source address twlint says each hop uses.
//! - `a_fresh_namespace_starts_from_the_defaults`: values written in one namespace do not reach a
//!   namespace created from it; twlint's values for a `namespace: own` node with that host file
//!   are the ones the new namespace has.
//! - `open_connections_hold_ports`: connections held open leave exactly twlint's
//!   `capacity.ports` to new ones.
//!
//! Ignored by a plain `cargo test` (they need root and network namespaces); `.ci/lab.sh` runs
//! them and fails when namespaces are impossible.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::time::Duration;

const CHILD: &str = "TWLINT_LAB_CHILD";
const PARENT_NETNS: &str = "TWLINT_LAB_PARENT_NETNS";
const EADDRNOTAVAIL: i32 = 99;
/// Keys of the parent's namespace that must not change.
const WATCHED: [&str; 6] = [
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_tw_reuse",
    "net.ipv4.tcp_timestamps",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_max_tw_buckets",
    "net.ipv4.ip_local_reserved_ports",
];

fn proc_path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}

fn read_key(key: &str) -> Option<String> {
    std::fs::read_to_string(proc_path(key))
        .ok()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn write_key(key: &str, value: &str) {
    std::fs::write(proc_path(key), value)
        .unwrap_or_else(|e| panic!("cannot write {key} = {value}: {e}"));
}

fn netns_of(pid: &str) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/ns/net"))
        .ok()
        .map(|p| p.display().to_string())
}

fn release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .expect("/proc/sys/kernel/osrelease is readable")
        .trim()
        .to_string()
}

fn ip(args: &[&str]) {
    let status = Command::new("ip")
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cannot run `ip` (iproute2): {e}"));
    assert!(status.success(), "ip {args:?} failed");
}

fn row(scenario: &str, predicted: &str, kernel: &str) {
    println!("| {scenario:<45} | {predicted:<36} | {kernel:<52} |");
}

fn header() {
    println!();
    row("scenario", "twlint predicts", "kernel does");
    println!("|{:-<47}|{:-<38}|{:-<54}|", "", "", "");
}

/// Runs twlint on a topology (written with `files` beside it) and returns its JSON report.
fn twlint(topology: &str, files: &[(&str, &str)]) -> Value {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("a file beside the topology");
    }
    let path = dir.path().join("lab.yaml");
    std::fs::write(&path, topology).expect("the topology is written");
    let out = Command::new(env!("CARGO_BIN_EXE_twlint"))
        .env("TWLINT_NO_LIVE", "1")
        .args(["--format", "json", "--fail-on", "never", "--color", "never"])
        .arg("--topology")
        .arg(&path)
        .output()
        .expect("twlint runs");
    assert!(
        out.status.success(),
        "twlint failed on\n{topology}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("twlint prints JSON")
}

fn hop<'a>(report: &'a Value, link: &str) -> &'a Value {
    report["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .find(|h| h["link"] == link)
        .unwrap_or_else(|| panic!("no hop {link} in {report}"))
}

/// Parent: predicts, runs the child in a new namespace, checks the host is untouched. Child:
/// runs `probe` and prints its outcome. Returns the prediction and the outcome (parent only).
fn lab(
    name: &str,
    predict: impl FnOnce() -> Value,
    probe: impl FnOnce() -> Value,
) -> Option<(Value, Value)> {
    if std::env::var_os(CHILD).is_some() {
        let mine = netns_of("self").expect("/proc/self/ns/net is readable");
        let parent = std::env::var(PARENT_NETNS).expect("the parent passes its namespace");
        assert_ne!(
            mine, parent,
            "refusing to run: still in the parent's network namespace"
        );
        if let Some(init) = netns_of("1") {
            assert_ne!(mine, init, "refusing to run: in PID 1's network namespace");
        }
        ip(&["link", "set", "lo", "up"]);
        let outcome = probe();
        println!("LAB-OUTCOME {outcome}");
        return None;
    }
    let prediction = predict();
    let before: Vec<_> = WATCHED.iter().map(|k| read_key(k)).collect();
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = Command::new("unshare")
        .args(["-n", "--"])
        .arg(&exe)
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env(PARENT_NETNS, netns_of("self").expect("own namespace"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run `unshare -n` (util-linux): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the probe in a new network namespace failed ({}); network namespaces need root:\n{stdout}\n{stderr}",
        out.status
    );
    let after: Vec<_> = WATCHED.iter().map(|k| read_key(k)).collect();
    assert_eq!(before, after, "the host namespace's values changed");
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("LAB-OUTCOME ").map(|(_, j)| j))
        .unwrap_or_else(|| panic!("the probe printed no outcome:\n{stdout}\n{stderr}"));
    Some((
        prediction,
        serde_json::from_str(line).expect("outcome JSON"),
    ))
}

/// One counter of this namespace's /proc/net/netstat.
fn netstat(group: &str, name: &str) -> i64 {
    let text = std::fs::read_to_string("/proc/net/netstat").expect("/proc/net/netstat");
    let prefix = format!("{group}:");
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with(&prefix)).collect();
    lines[0]
        .split_whitespace()
        .zip(lines[1].split_whitespace())
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("{group} {name} not in /proc/net/netstat"))
}

/// TIME_WAIT sockets (state 06) whose local port is `port`, in this namespace.
fn time_wait_on_port(port: u16) -> usize {
    let text = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    text.lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(3) == Some(&"06")
                && f.get(1)
                    .and_then(|a| a.split_once(':'))
                    .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                    == Some(port)
        })
        .count()
}

const RANGE_8: &str = "40000 40007";
const SERVER_PORT: u16 = 8080;

#[test]
#[ignore = "needs root and network namespaces; run by .ci/lab.sh"]
fn server_time_wait_is_bounded_by_the_clients_ports() {
    const CONNECTIONS: usize = 200;
    let predict = || {
        let topology = format!(
            "version: 1\nnodes:\n  - {{name: client, role: app, kernel: \"{r}\", addresses: [127.0.0.1], sysctl: {{set: {{net.ipv4.ip_local_port_range: \"{RANGE_8}\"}}}}}}\n  - {{name: server, role: web, kernel: \"{r}\", addresses: [127.0.0.1], listen: [{SERVER_PORT}]}}\nlinks:\n  - {{from: client, to: server, port: {SERVER_PORT}, closes_first: server, rate: 20}}\n",
            r = release()
        );
        let report = twlint(&topology, &[]);
        hop(&report, "client->server").clone()
    };
    let probe = || {
        write_key("net.ipv4.ip_local_port_range", RANGE_8);
        let listener = TcpListener::bind(("127.0.0.1", SERVER_PORT)).expect("listen");
        let mut ok = 0;
        let mut peak = 0;
        let mut errnos = Vec::new();
        for _ in 0..CONNECTIONS {
            match TcpStream::connect_timeout(
                &SocketAddr::from(([127, 0, 0, 1], SERVER_PORT)),
                Duration::from_secs(2),
            ) {
                Ok(mut client) => {
                    let (accepted, _) = listener.accept().expect("accept");
                    // The server closes first; the client reads the FIN, then closes.
                    drop(accepted);
                    client
                        .set_read_timeout(Some(Duration::from_secs(2)))
                        .expect("timeout");
                    let mut buf = [0u8; 1];
                    let _ = client.read(&mut buf);
                    drop(client);
                    ok += 1;
                }
                Err(e) => errnos.push(e.raw_os_error().unwrap_or(-1)),
            }
            std::thread::sleep(Duration::from_millis(5));
            peak = peak.max(time_wait_on_port(SERVER_PORT));
        }
        json!({
            "connected": ok,
            "errnos": errnos,
            "server_time_wait_peak": peak,
            "server_time_wait_end": time_wait_on_port(SERVER_PORT),
            "time_wait_created": netstat("TcpExt", "TW"),
        })
    };
    let Some((hop, k)) = lab(
        "server_time_wait_is_bounded_by_the_clients_ports",
        predict,
        probe,
    ) else {
        return;
    };
    let bound = hop["time_wait_sockets"]
        .as_f64()
        .expect("time_wait_sockets");
    let ports = hop["capacity"]["ports"].as_i64().expect("capacity.ports");
    header();
    row(
        "server closes first, 8 client ports, 200 conns",
        &format!("server TIME_WAIT <= {bound} ({ports} ports)"),
        &format!(
            "peak {} on the server, {} created, {}/{CONNECTIONS} connected",
            k["server_time_wait_peak"], k["time_wait_created"], k["connected"]
        ),
    );
    assert_eq!(hop["time_wait_on"], "server");
    assert_eq!(
        k["connected"].as_u64(),
        Some(CONNECTIONS as u64),
        "server TIME_WAIT must not exhaust the client: errnos {}",
        k["errnos"]
    );
    let peak = k["server_time_wait_peak"].as_f64().expect("peak");
    assert!(
        peak <= bound,
        "the kernel kept {peak} TIME_WAIT sockets on the server, above twlint's bound {bound}"
    );
    // The bound is the client's ports, not the rate: far more TIME_WAITs were created than
    // remained, each new SYN taking one over.
    assert!(k["time_wait_created"].as_i64().unwrap_or(0) >= CONNECTIONS as i64);
    assert!(peak >= 1.0 && bound == ports as f64);
}

#[test]
#[ignore = "needs root and network namespaces; run by .ci/lab.sh"]
fn source_address_follows_the_route() {
    // Destinations: private (on the private link), public (through the default route on the
    // public link), loopback.
    const DESTS: [(&str, &str, u16); 3] = [
        ("web", "10.14.0.50", 80),
        ("partner", "198.51.100.9", 443),
        ("local", "127.0.0.5", 8080),
    ];
    let predict = || {
        let r = release();
        let mut topology = format!(
            "version: 1\nnodes:\n  - {{name: lb, role: load-balancer, kernel: \"{r}\", host_addresses: [[203.0.113.10, 10.14.0.7, 127.0.0.1]]}}\n"
        );
        for (name, addr, port) in DESTS {
            topology.push_str(&format!(
                "  - {{name: {name}, kernel: \"{r}\", addresses: [{addr}], listen: [{port}]}}\n"
            ));
        }
        topology.push_str("links:\n");
        for (name, _, port) in DESTS {
            topology.push_str(&format!(
                "  - {{from: lb, to: {name}, port: {port}, closes_first: lb, rate: 10}}\n"
            ));
        }
        let report = twlint(&topology, &[]);
        let mut sources = serde_json::Map::new();
        for (name, addr, _) in DESTS {
            let h = hop(&report, &format!("lb->{name}"));
            assert!(
                h["source_assumption"].is_null(),
                "no assumption needed: {h}"
            );
            sources.insert(addr.to_string(), h["sources"].clone());
        }
        Value::Object(sources)
    };
    let probe = || {
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        ip(&["addr", "add", "10.14.0.7/24", "dev", "v0"]);
        ip(&["addr", "add", "203.0.113.10/24", "dev", "v1"]);
        ip(&["link", "set", "v0", "up"]);
        ip(&["link", "set", "v1", "up"]);
        ip(&["route", "add", "default", "via", "203.0.113.50"]);
        let mut chosen = serde_json::Map::new();
        for (_, addr, port) in DESTS {
            // connect() on a UDP socket runs the same route lookup and fixes the source address
            // without sending anything.
            let s = UdpSocket::bind("0.0.0.0:0").expect("udp socket");
            s.connect((addr, port)).expect("route to the destination");
            chosen.insert(
                addr.to_string(),
                json!([s.local_addr().expect("local address").ip().to_string()]),
            );
        }
        Value::Object(chosen)
    };
    let Some((predicted, kernel)) = lab("source_address_follows_the_route", predict, probe) else {
        return;
    };
    header();
    for (_, addr, _) in DESTS {
        row(
            &format!("source towards {addr}"),
            &predicted[addr].to_string(),
            &kernel[addr].to_string(),
        );
    }
    assert_eq!(
        predicted, kernel,
        "twlint's source addresses differ from the kernel's"
    );
}

#[test]
#[ignore = "needs root and network namespaces; run by .ci/lab.sh"]
fn a_fresh_namespace_starts_from_the_defaults() {
    // Values a "host" (this test's first namespace) sets; none is a default.
    const HOST: [(&str, &str); 5] = [
        ("net.ipv4.tcp_tw_reuse", "1"),
        ("net.ipv4.ip_local_port_range", "20000 30001"),
        ("net.ipv4.tcp_fin_timeout", "30"),
        ("net.ipv4.tcp_timestamps", "0"),
        ("net.ipv4.tcp_max_tw_buckets", "5000"),
    ];
    let conf: String = HOST.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
    let predict = || {
        let r = release();
        let topology = format!(
            "version: 1\nnodes:\n  - {{name: host, kernel: \"{r}\", sysctl: {{files: [host.conf]}}}}\n  - {{name: pod, kernel: \"{r}\", namespace: own, sysctl: {{files: [host.conf]}}}}\n"
        );
        let report = twlint(&topology, &[("host.conf", &conf)]);
        let tw094 = report["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .any(|d| d["rule"] == "TW094" && d["node"] == "pod");
        assert!(
            tw094,
            "twlint says the host file does not apply to the pod: {report}"
        );
        let mut values = serde_json::Map::new();
        for node in ["host", "pod"] {
            let mut mine = serde_json::Map::new();
            for v in report["verdicts"].as_array().expect("verdicts") {
                if v["node"] == node {
                    mine.insert(v["key"].as_str().unwrap().to_string(), v["value"].clone());
                }
            }
            values.insert(node.to_string(), Value::Object(mine));
        }
        Value::Object(values)
    };
    let probe = || {
        for (k, v) in HOST {
            write_key(k, v);
        }
        let host: serde_json::Map<String, Value> = HOST
            .iter()
            .map(|(k, _)| (k.to_string(), json!(read_key(k))))
            .collect();
        // A namespace created from this one, as a runtime creates a pod's.
        let paths: Vec<String> = HOST.iter().map(|(k, _)| proc_path(k)).collect();
        let out = Command::new("unshare")
            .args(["-n", "--", "cat"])
            .args(&paths)
            .output()
            .expect("unshare -n cat");
        assert!(
            out.status.success(),
            "the grandchild namespace could not be read"
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let pod: serde_json::Map<String, Value> = HOST
            .iter()
            .zip(text.lines())
            .map(|((k, _), v)| {
                (
                    k.to_string(),
                    json!(v.split_whitespace().collect::<Vec<_>>().join(" ")),
                )
            })
            .collect();
        json!({"host": host, "pod": pod})
    };
    let Some((predicted, kernel)) =
        lab("a_fresh_namespace_starts_from_the_defaults", predict, probe)
    else {
        return;
    };
    header();
    for (key, written) in HOST {
        let host_p = &predicted["host"][key];
        let pod_p = &predicted["pod"][key];
        let host_k = &kernel["host"][key];
        let pod_k = &kernel["pod"][key];
        row(
            &format!("{} host {written}", key.trim_start_matches("net.ipv4.")),
            &format!("pod {}", pod_p),
            &format!("pod {pod_k}, host {host_k}"),
        );
        assert_eq!(host_k, &json!(written), "the first namespace took {key}");
        assert_eq!(
            host_p,
            &json!(written),
            "twlint's host node has {key} from its file"
        );
        assert_ne!(pod_k, &json!(written), "{key} reached the new namespace");
        // twlint shows the memory-dependent default as null; every other value must be the
        // new namespace's.
        if !pod_p.is_null() {
            assert_eq!(
                pod_p, pod_k,
                "twlint's pod value of {key} is not the new namespace's"
            );
        }
    }
}

#[test]
#[ignore = "needs root and network namespaces; run by .ci/lab.sh"]
fn open_connections_hold_ports() {
    const RANGE: &str = "40000 40009";
    const OPEN: usize = 6;
    let predict = || {
        let r = release();
        let topology = format!(
            "version: 1\nnodes:\n  - {{name: app, role: app, kernel: \"{r}\", addresses: [127.0.0.1], sysctl: {{set: {{net.ipv4.ip_local_port_range: \"{RANGE}\"}}}}}}\n  - {{name: db, role: db, kernel: \"{r}\", addresses: [127.0.0.1], listen: [{SERVER_PORT}]}}\nlinks:\n  - {{from: app, to: db, port: {SERVER_PORT}, closes_first: app, open: {OPEN}, rate: 1}}\n"
        );
        let report = twlint(&topology, &[]);
        hop(&report, "app->db").clone()
    };
    let probe = || {
        write_key("net.ipv4.ip_local_port_range", RANGE);
        // TIME_WAIT must hold its ports for the test: no reuse.
        write_key("net.ipv4.tcp_tw_reuse", "0");
        let listener = TcpListener::bind(("127.0.0.1", SERVER_PORT)).expect("listen");
        let to = SocketAddr::from(([127, 0, 0, 1], SERVER_PORT));
        let mut pool = Vec::new();
        for _ in 0..OPEN {
            let c = TcpStream::connect_timeout(&to, Duration::from_secs(2)).expect("pool connect");
            let (a, _) = listener.accept().expect("accept");
            pool.push((c, a));
        }
        // New connections, the client closing first, until connect() fails (bounded).
        let mut opened = 0;
        let mut errno = None;
        for _ in 0..64 {
            match TcpStream::connect_timeout(&to, Duration::from_secs(2)) {
                Ok(c) => {
                    let (mut a, _) = listener.accept().expect("accept");
                    drop(c);
                    a.set_read_timeout(Some(Duration::from_secs(2)))
                        .expect("timeout");
                    let mut buf = [0u8; 1];
                    let _ = a.read(&mut buf);
                    let _ = a.flush();
                    drop(a);
                    opened += 1;
                }
                Err(e) => {
                    errno = e.raw_os_error();
                    break;
                }
            }
        }
        // The pool is still open.
        let alive = pool
            .iter_mut()
            .filter_map(|(c, _)| c.write(b"x").ok())
            .count();
        json!({"opened": opened, "errno": errno, "pool_alive": alive})
    };
    let Some((hop, k)) = lab("open_connections_hold_ports", predict, probe) else {
        return;
    };
    let ports = hop["capacity"]["ports"].as_i64().expect("capacity.ports");
    header();
    row(
        &format!("{OPEN} open, range {RANGE}"),
        &format!("{ports} ports left for new connections"),
        &format!(
            "EADDRNOTAVAIL after {} new, errno {}",
            k["opened"], k["errno"]
        ),
    );
    assert_eq!(hop["open"], json!(OPEN));
    assert_eq!(k["pool_alive"], json!(OPEN));
    assert_eq!(k["errno"], json!(EADDRNOTAVAIL));
    assert_eq!(
        k["opened"].as_i64(),
        Some(ports),
        "the kernel found another number of free ports than twlint's capacity.ports"
    );
}
