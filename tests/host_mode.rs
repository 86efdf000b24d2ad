//! Host mode from the command line: `--root` replays of a twlint snapshot, an sosreport and a
//! folder laid out like /proc (fixtures under tests/fixtures/host), node identification,
//! counters as evidence on verdicts, `twlint snapshot`, and a snapshot of this machine judged
//! like the live run it captured. Nothing here depends on this machine's hostname or addresses:
//! live runs name their node with `--node`.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

// Not every helper there is used by this file.
#[allow(dead_code)]
#[path = "common/in_process.rs"]
mod in_process;

fn twlint() -> Command {
    let mut cmd = Command::cargo_bin("twlint").expect("the twlint binary is built");
    cmd.current_dir(root());
    cmd.env_remove("NO_COLOR");
    cmd
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str], code: i32) -> std::process::Output {
    expect_code(args, twlint().args(args).output().unwrap(), code)
}

/// As [`run`], in-process through `twlint::cli::run`: for tests about what is written, not
/// about the process.
fn run_here(args: &[&str], code: i32) -> std::process::Output {
    expect_code(args, in_process::twlint(args), code)
}

fn expect_code(args: &[&str], out: std::process::Output, code: i32) -> std::process::Output {
    assert_eq!(
        out.status.code(),
        Some(code),
        "twlint {args:?} exited with {:?}, expected {code}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON value")
}

const TOPO: &str = "topologies/lb-web-db.yaml";
const SNAPSHOT_LB: &str = "tests/fixtures/host/snapshot-lb";
const SOSREPORT_WEB: &str = "tests/fixtures/host/sosreport-web";
const PROC_DB: &str = "tests/fixtures/host/proc-db";

fn verdicts_of<'a>(v: &'a Value, node: &str, key: &str) -> Vec<&'a Value> {
    v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["node"] == node && x["key"] == key)
        .collect()
}

#[test]
fn a_snapshot_is_placed_by_hostname_and_its_values_are_judged_as_live() {
    let v = json_of(&run(
        &[
            "--topology",
            TOPO,
            "--root",
            SNAPSHOT_LB,
            "--format",
            "json",
        ],
        1,
    ));
    let host = &v["host"];
    assert_eq!(host["node"], "lb");
    assert_eq!(host["matched_by"]["kind"], "hostname");
    assert_eq!(host["read_from"]["kind"], "snapshot");
    assert_eq!(host["taken_at"], "2026-11-20T14:02:11Z");
    assert_eq!(host["kernel"]["release"], "5.15.0-91-generic");
    assert_eq!(host["kernel"]["declared"], "6.8");
    assert_eq!(host["netns"]["initial"], true);
    assert_eq!(host["counters"]["since"], "boot");
    assert_eq!(host["counters"]["values"]["TCPTimeWaitOverflow"], 1893402);
    assert_eq!(host["counters"]["time_wait"], 5000);
    // Counters this kernel does not list are not reported.
    assert!(host["counters"]["values"].get("PAWSPassive").is_none());
    let unreadable: Vec<&str> = host["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        unreadable,
        ["net.ipv4.tcp_tw_recycle", "net.ipv4.tcp_tw_reuse_delay"]
    );
    // The node's kernel is the host's, and says so.
    let lb = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "lb")
        .unwrap();
    assert_eq!(
        (lb["kernel"].as_str(), lb["kernel_source"].as_str()),
        (Some("5.15"), Some("live"))
    );
    // Every value of lb is live, fields joined by one space (the file holds a tab).
    for x in v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["node"] == "lb")
    {
        assert_eq!(x["source"]["kind"], "live", "{x:#}");
    }
    let range = verdicts_of(&v, "lb", "net.ipv4.ip_local_port_range");
    assert_eq!(range[0]["value"], "10000 65535");
    // Other nodes keep their declared values.
    let web = verdicts_of(&v, "web", "net.ipv4.tcp_tw_reuse");
    assert_eq!(web[0]["source"]["kind"], "file");
    // The overflow counter backs the verdict on tcp_max_tw_buckets.
    let buckets = verdicts_of(&v, "lb", "net.ipv4.tcp_max_tw_buckets");
    assert_eq!(buckets[0]["verdict"], "dangerous");
    let ev = buckets[0]["evidence"]
        .as_array()
        .expect("evidence attached");
    assert_eq!(ev.len(), 2, "{ev:#?}");
    assert_eq!(ev[0]["counter"], "TCPTimeWaitOverflow");
    assert_eq!(ev[0]["value"], 1893402);
    assert_eq!(ev[0]["since"], "boot");
    assert_eq!(ev[0]["meaning"], "supports");
    // And the socket view the snapshot saved: 5000 TIME_WAIT sockets fill the 5000 buckets.
    assert_eq!(ev[1]["counter"], "time_wait_buckets_percent");
    assert_eq!(ev[1]["value"], 100);
    assert_eq!(ev[1]["since"], "now");
    assert_eq!(host["sockets"]["time_wait"]["total"], 5000);
    // No evidence on nodes that are not this host.
    assert!(v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["node"] != "lb")
        .all(|x| x.get("evidence").is_none()));
    // A value the files do not declare is listed as a difference.
    let drift = host["drift"].as_array().unwrap();
    assert_eq!(drift.len(), 1, "{drift:#?}");
    assert_eq!(drift[0]["key"], "net.ipv4.tcp_max_tw_buckets");
    assert_eq!(drift[0]["live"], "5000");
}

#[test]
fn the_human_report_opens_with_the_host() {
    let out = run_here(
        &[
            "--topology",
            TOPO,
            "--root",
            SNAPSHOT_LB,
            "--color",
            "never",
        ],
        1,
    );
    let text = stdout_of(&out);
    let head: Vec<&str> = text.lines().take(13).collect();
    assert_eq!(
        head[0],
        "host lb is node lb (matched by hostname `lb`), replayed from the twlint snapshot tests/fixtures/host/snapshot-lb"
    );
    assert!(
        head.contains(
            &"  kernel 5.15.0-91-generic; the topology says 6.8: judged for 5.15.0-91-generic"
        ),
        "{text}"
    );
    assert!(
        head.contains(&"  13 values read; not on this kernel: tcp_tw_recycle, tcp_tw_reuse_delay"),
        "{text}"
    );
    assert!(
        head.iter()
            .any(|l| l.starts_with("  counters since boot: TW 4821733, TWRecycled 0")),
        "{text}"
    );
    assert!(
        head.iter().any(|l| l.starts_with("    supports    TW150 tcp_max_tw_buckets on clients->lb, lb->web: TCPTimeWaitOverflow 1893402 since boot: ")),
        "{text}"
    );
    assert!(
        text.contains("  node lb           load-balancer  kernel 5.15 (this host's, read live)"),
        "{text}"
    );
    insta::assert_snapshot!("human-snapshot-lb", text);
}

#[test]
fn an_sosreport_is_placed_by_address_and_read_from_sysctl_a() {
    let v = json_of(&run(
        &[
            "--topology",
            TOPO,
            "--root",
            SOSREPORT_WEB,
            "--format",
            "json",
        ],
        1,
    ));
    let host = &v["host"];
    assert_eq!(host["read_from"]["kind"], "sosreport");
    assert_eq!(host["node"], "web");
    assert_eq!(
        host["matched_by"],
        serde_json::json!({"kind": "address", "value": "10.162.74.44"})
    );
    assert_eq!(host["hostname"], "web-2.prod.example");
    assert_eq!(host["addresses"], serde_json::json!(["10.162.74.44"]));
    assert_eq!(host["kernel"]["release"], "4.9.0-19-amd64");
    assert_eq!(host["netns"]["initial"], Value::Null);
    // Values from proc/sys where sos copied them, from sysctl -a otherwise.
    assert!(host["values"]["net.ipv4.tcp_tw_recycle"]["path"]
        .as_str()
        .unwrap()
        .ends_with("proc/sys/net/ipv4/tcp_tw_recycle"));
    assert!(host["values"]["net.ipv4.tcp_tw_reuse"]["path"]
        .as_str()
        .unwrap()
        .ends_with("sos_commands/kernel/sysctl_-a"));
    assert_eq!(
        host["values"]["net.ipv4.ip_local_port_range"]["value"],
        "32768 60999"
    );
    // tw_recycle on the 4.9 host read from the sosreport: the load balancer (6.8) keys its
    // timestamp offsets per address pair, so recycle's per-host check holds (no TW104), and it
    // closes first, so recycle has nothing to act on here.
    let recycle = verdicts_of(&v, "web", "net.ipv4.tcp_tw_recycle");
    let server = recycle.iter().find(|x| x["link"] == "lb->web").unwrap();
    assert_eq!(server["verdict"], "pointless");
    assert_eq!(server["rule"], "TW106");
}

#[test]
fn a_proc_tree_needs_node_when_its_hostname_matches_nothing() {
    let out = run(&["--topology", TOPO, "--root", PROC_DB], 2);
    let e = stderr_of(&out);
    assert!(e.contains("hostname `db01`"), "{e}");
    assert!(
        e.contains("is not a node of topologies/lb-web-db.yaml; give --node NAME"),
        "{e}"
    );
    assert!(out.stdout.is_empty());

    let v = json_of(&run(
        &[
            "--topology",
            TOPO,
            "--root",
            PROC_DB,
            "--node",
            "db",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        0,
    ));
    assert_eq!(v["host"]["read_from"]["kind"], "proc-tree");
    assert_eq!(v["host"]["matched_by"]["kind"], "flag");
    // The file turns timestamps off; this host has them on: the live value is judged, and the
    // difference is reported.
    let ts = verdicts_of(&v, "db", "net.ipv4.tcp_timestamps");
    assert!(ts
        .iter()
        .all(|x| x["value"] == "1" && x["source"]["kind"] == "live"));
    let drift = v["host"]["drift"].as_array().unwrap();
    assert!(drift.iter().any(|d| d["key"] == "net.ipv4.tcp_timestamps"
        && d["declared"] == "0"
        && d["location"]["path"] == "topologies/hosts/db/sysctl.conf"));
    // The TIME_WAIT counters contradict "db never closes first".
    let buckets = verdicts_of(&v, "db", "net.ipv4.tcp_max_tw_buckets");
    let ev = buckets[0]["evidence"].as_array().unwrap();
    assert!(ev.iter().all(|e| e["meaning"] == "contradicts"), "{ev:#?}");
    assert!(ev
        .iter()
        .any(|e| e["counter"] == "TW" && e["value"] == 31044));
    assert!(ev
        .iter()
        .any(|e| e["counter"] == "time_wait" && e["since"] == "now"));
}

#[test]
fn several_matching_nodes_are_an_error_that_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let topo = dir.path().join("t.yaml");
    fs::write(
        &topo,
        "version: 1\nnodes:\n  - {name: a, role: app, addresses: [10.162.74.10]}\n  - {name: b, role: db, addresses: [10.162.74.10]}\nlinks:\n  - {from: a, to: b, port: 5432, closes_first: a}\n",
    )
    .unwrap();
    // The snapshot's hostname `lb` names neither node; its address is both.
    let out = run(
        &["--topology", topo.to_str().unwrap(), "--root", SNAPSHOT_LB],
        2,
    );
    let e = stderr_of(&out);
    assert!(
        e.contains("match several nodes: a (10.162.74.10), b (10.162.74.10); give --node NAME"),
        "{e}"
    );
    // --node settles it.
    run(
        &[
            "--topology",
            topo.to_str().unwrap(),
            "--root",
            SNAPSHOT_LB,
            "--node",
            "b",
            "--fail-on",
            "never",
        ],
        0,
    );
}

#[test]
fn bad_host_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &["--topology", TOPO, "--root", dir.path().to_str().unwrap()],
        2,
    );
    assert!(
        stderr_of(&out).contains("is not a host capture"),
        "{}",
        stderr_of(&out)
    );
    let out = run(&["--topology", TOPO, "--root", "no/such/dir"], 2);
    assert!(
        stderr_of(&out).contains("cannot read no/such/dir"),
        "{}",
        stderr_of(&out)
    );
    let out = run(
        &["--topology", TOPO, "--root", SNAPSHOT_LB, "--interval", "1"],
        2,
    );
    assert!(
        stderr_of(&out).contains("--interval needs a live host"),
        "{}",
        stderr_of(&out)
    );
    let out = run(&["--topology", TOPO, "--node", "lb", "--interval", "0"], 2);
    assert!(
        stderr_of(&out).contains("invalid --interval"),
        "{}",
        stderr_of(&out)
    );
    run(&["--topology", TOPO, "--root", SNAPSHOT_LB, "--no-live"], 2);
    run(
        &["--root", SNAPSHOT_LB, "topologies/hosts/lb/sysctl.conf"],
        2,
    );
    let out = run(
        &["--topology", TOPO, "--root", SNAPSHOT_LB, "--node", "wbe"],
        2,
    );
    assert!(
        stderr_of(&out).contains("did you mean `web`?"),
        "{}",
        stderr_of(&out)
    );
    // A broken manifest is named.
    let bad = tempfile::tempdir().unwrap();
    fs::write(bad.path().join("twlint-snapshot.json"), "{\"format\": 9}").unwrap();
    let out = run(
        &["--topology", TOPO, "--root", bad.path().to_str().unwrap()],
        2,
    );
    assert!(
        stderr_of(&out).contains("snapshot format 9"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn no_live_judges_the_declared_values_as_before() {
    let v = json_of(&run(
        &[
            "--topology",
            TOPO,
            "--node",
            "lb",
            "--no-live",
            "--format",
            "json",
        ],
        1,
    ));
    assert!(v.get("host").is_none());
    let reuse = verdicts_of(&v, "lb", "net.ipv4.tcp_tw_reuse");
    assert!(reuse.iter().all(|x| x["source"]["kind"] == "file"));
}

#[test]
fn a_live_run_reads_this_host_for_the_named_node() {
    // Reads this machine's /proc; the values vary, the shape does not.
    let v = json_of(&run(
        &[
            "--topology",
            TOPO,
            "--node",
            "web",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        0,
    ));
    assert_eq!(v["host"]["read_from"]["kind"], "live");
    assert_eq!(v["host"]["node"], "web");
    assert!(v["host"]["kernel"]["release"].is_string());
    let reuse = verdicts_of(&v, "web", "net.ipv4.tcp_tw_reuse");
    let live_value = v["host"]["values"]["net.ipv4.tcp_tw_reuse"]["value"].clone();
    assert!(reuse
        .iter()
        .all(|x| x["source"]["kind"] == "live" && x["value"] == live_value));
}

#[test]
fn interval_adds_rates() {
    let v = json_of(&run(
        &[
            "--topology",
            TOPO,
            "--node",
            "lb",
            "--interval",
            "0.2",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        0,
    ));
    let c = &v["host"]["counters"];
    assert_eq!(c["interval_seconds"], 0.2);
    assert!(
        c["delta"].is_object() && c["rate_per_second"].is_object(),
        "{c:#}"
    );
    if c["values"].get("TW").is_some() {
        assert!(c["delta"]["TW"].is_u64());
    }
}

fn written_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn snapshot_writes_only_its_files_and_refuses_a_folder_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("snap");
    let out = run(&["snapshot", "--out", out_dir.to_str().unwrap()], 0);
    assert!(stdout_of(&out).contains("judge it anywhere with: twlint --topology FILE --root"));
    let files = written_files(&out_dir);
    assert!(
        files.contains(&"twlint-snapshot.json".to_string()),
        "{files:?}"
    );
    assert!(
        files.contains(&"proc/sys/kernel/osrelease".to_string()),
        "{files:?}"
    );
    assert!(
        files.contains(&"proc/sys/net/ipv4/tcp_timestamps".to_string()),
        "{files:?}"
    );
    assert!(
        files.iter().all(|f| f == "twlint-snapshot.json"
            || f == "sockets.json"
            || f.starts_with("proc/sys/net/ipv4/")
            || f.starts_with("proc/sys/net/netfilter/")
            || f.starts_with("proc/sys/kernel/")
            || f.starts_with("proc/net/")),
        "{files:?}"
    );
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(out_dir.join("twlint-snapshot.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["format"], 1);
    assert!(manifest["taken_at"].as_str().unwrap().ends_with('Z'));

    // A second snapshot into the same folder is refused, and nothing changes.
    let before = fs::read_to_string(out_dir.join("twlint-snapshot.json")).unwrap();
    let out = run(&["snapshot", "--out", out_dir.to_str().unwrap()], 2);
    assert!(
        stderr_of(&out).contains("is not empty; give --force"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(
        before,
        fs::read_to_string(out_dir.join("twlint-snapshot.json")).unwrap()
    );
    // A folder holding someone else's file too.
    let other = dir.path().join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("notes.txt"), "mine").unwrap();
    run(&["snapshot", "--out", other.to_str().unwrap()], 2);
    assert_eq!(written_files(&other), ["notes.txt"]);
    run(
        &["snapshot", "--out", other.to_str().unwrap(), "--force"],
        0,
    );
    assert_eq!(fs::read_to_string(other.join("notes.txt")).unwrap(), "mine");
}

/// Removes what differs by design between a live run and the replay of its snapshot: where the
/// values were read from and when.
fn without_places(mut v: Value) -> Value {
    let host = v["host"].as_object_mut().unwrap();
    host.remove("read_from");
    host.remove("taken_at");
    host["kernel"].as_object_mut().unwrap().remove("path");
    for (_, val) in host["values"].as_object_mut().unwrap() {
        val.as_object_mut().unwrap().remove("path");
    }
    v
}

#[test]
fn a_snapshot_of_this_host_is_judged_like_the_live_run() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap");
    run(&["snapshot", "--out", snap.to_str().unwrap()], 0);
    let args = |root: Option<&str>| {
        let mut a = vec![
            "--topology",
            TOPO,
            "--node",
            "lb",
            "--format",
            "json",
            "--fail-on",
            "never",
        ];
        if let Some(r) = root {
            a.extend(["--root", r]);
        }
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let live_args = args(None);
    let replay_args = args(Some(snap.to_str().unwrap()));
    let live = json_of(&run(
        &live_args.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        0,
    ));
    let replay = json_of(&run(
        &replay_args.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        0,
    ));
    assert_eq!(replay["host"]["read_from"]["kind"], "snapshot");
    let (mut live, mut replay) = (without_places(live), without_places(replay));
    // This machine keeps working between the snapshot and the live run; when its counters or
    // sockets moved, compare everything but them and what they back (the namespace test in
    // tests/host_netns.rs compares them too, in a quiet namespace).
    if live["host"]["counters"] != replay["host"]["counters"]
        || live["host"]["sockets"] != replay["host"]["sockets"]
    {
        for v in [&mut live, &mut replay] {
            v["host"].as_object_mut().unwrap().remove("counters");
            v["host"].as_object_mut().unwrap().remove("sockets");
            for x in v["verdicts"].as_array_mut().unwrap() {
                x.as_object_mut().unwrap().remove("evidence");
            }
        }
    }
    assert_eq!(live, replay);
}

#[test]
fn rule_files_declare_evidence_and_bad_declarations_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let rule = r#"id: TW901
name: reuse-everywhere
summary: tcp_tw_reuse left at its default
verdict: pointless
scope: node
keys: [net.ipv4.tcp_tw_reuse]
when: "num == 2"
message: "reuse is loopback only"
help: "set it to 1 where this host connects and closes first"
evidence:
  - counter: TWRecyled
    meaning: supports
    when: "value > 0"
    note: "reused {{ value }} times"
docs:
  what: flags the default of tcp_tw_reuse in this test
  why: a test of the evidence declarations in rule files
  example: {sysctl: "net.ipv4.tcp_tw_reuse = 2\n"}
  use_instead: {sysctl: "net.ipv4.tcp_tw_reuse = 1\n"}
  kernel: any kernel that has tcp_tw_reuse = 2 (4.19 and later)
  references: [tests]
"#;
    let path = dir.path().join("TW901-reuse-everywhere.yaml");
    fs::write(&path, rule).unwrap();
    let out = run(&["rules", "--rules", dir.path().to_str().unwrap()], 2);
    let e = stderr_of(&out);
    assert!(
        e.contains("twlint does not read a counter `TWRecyled`"),
        "{e}"
    );
    assert!(e.contains("did you mean `TWRecycled`?"), "{e}");
    assert!(e.contains("TW901-reuse-everywhere.yaml:11:14"), "{e}");
    fs::write(
        &path,
        rule.replace("TWRecyled", "TWRecycled")
            .replace("value > 0", "valu > 0"),
    )
    .unwrap();
    let e = stderr_of(&run(&["rules", "--rules", dir.path().to_str().unwrap()], 2));
    assert!(
        e.contains("uses `valu`, which evidence does not have"),
        "{e}"
    );
    fs::write(&path, rule.replace("TWRecyled", "TWRecycled")).unwrap();
    run(&["rules", "--rules", dir.path().to_str().unwrap()], 0);
}

#[test]
fn host_shows_what_is_read_without_judging() {
    let v = json_of(&run(
        &["host", "--root", SOSREPORT_WEB, "--format", "json"],
        0,
    ));
    assert_eq!(v["version"], 1);
    let host = &v["host"];
    assert_eq!(host["hostname"], "web-2.prod.example");
    assert_eq!(host["values"]["net.ipv4.tcp_tw_recycle"]["value"], "1");
    assert_eq!(host["counters"]["values"]["PAWSPassive"], 4127);
    assert_eq!(host["counters"]["since"], "boot-or-namespace-creation");
    let text = stdout_of(&run_here(&["host", "--root", SNAPSHOT_LB], 0));
    assert!(
        text.starts_with(
            "host lb, replayed from the twlint snapshot tests/fixtures/host/snapshot-lb\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  net.ipv4.ip_local_port_range = 10000 65535\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "  net.ipv4.tcp_tw_reuse_delay: absent: this kernel or namespace has no such key\n"
        ),
        "{text}"
    );
    insta::assert_snapshot!("host-snapshot-lb", text);
    let out = run_here(&["host", "--root", "no/such/dir"], 2);
    assert!(stderr_of(&out).contains("cannot read no/such/dir"));
    // This machine: the shape only.
    let v = json_of(&run(&["host", "--format", "json"], 0));
    assert_eq!(v["host"]["read_from"]["kind"], "live");
}

/// The whole JSON report of each replayed capture, as the oracle for what host mode adds
/// (`host`, `evidence`, live sources); review changes with `cargo insta review`.
#[test]
fn replayed_reports_are_stable() {
    for (name, root, node) in [
        ("snapshot-lb", SNAPSHOT_LB, None),
        ("sosreport-web", SOSREPORT_WEB, None),
        ("proc-db", PROC_DB, Some("db")),
    ] {
        let mut args = vec![
            "--topology",
            TOPO,
            "--root",
            root,
            "--format",
            "json",
            "--fail-on",
            "never",
        ];
        if let Some(n) = node {
            args.extend(["--node", n]);
        }
        let v = twlint::build_info::without_commit(json_of(&run(&args, 0)));
        insta::assert_json_snapshot!(name, v);
    }
}

const PROC_NAT: &str = "tests/fixtures/host/proc-nat";

/// A NAT host's conntrack figures (count, and drop / insert_failed summed over CPUs from
/// /proc/net/stat/nf_conntrack) are attached to the NAT's verdicts for the link through it.
#[test]
fn a_nat_host_attaches_conntrack_counters_to_its_via_verdicts() {
    let v = json_of(&run(
        &[
            "--topology",
            TOPO,
            "--root",
            PROC_NAT,
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        0,
    ));
    assert_eq!(v["host"]["matched_by"]["kind"], "hostname");
    let verdicts = v["verdicts"].as_array().unwrap();
    let max = verdicts
        .iter()
        .find(|x| x["node"] == "nat" && x["key"] == "net.netfilter.nf_conntrack_max")
        .expect("the NAT is judged");
    assert_eq!(max["side"], "via");
    assert_eq!(max["verdict"], "dangerous");
    assert_eq!(max["value"], "262144");
    let ev = max["evidence"].as_array().expect("evidence attached");
    let find = |c: &str| ev.iter().find(|e| e["counter"] == c).cloned();
    // 0x4d2 + 0x22e on two CPUs.
    assert_eq!(find("nf_conntrack_drop").unwrap()["value"], 9802);
    assert_eq!(find("nf_conntrack_drop").unwrap()["meaning"], "supports");
    // 262140 of 262144, read now.
    let pct = find("nf_conntrack_percent").unwrap();
    assert_eq!(pct["value"], 99);
    assert_eq!(pct["since"], "now");
    let snat = verdicts
        .iter()
        .find(|x| {
            x["node"] == "nat" && x["key"] == "net.netfilter.nf_conntrack_tcp_timeout_time_wait"
        })
        .unwrap();
    let ev = snat["evidence"].as_array().expect("evidence attached");
    assert_eq!(ev[0]["counter"], "nf_conntrack_insert_failed");
    assert_eq!(ev[0]["value"], 1792);
}
