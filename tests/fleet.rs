//! Fleet mode: many `sysctl -a` dumps in one run, each one host, judged in parallel, reported in
//! argument order with a summary of which hosts have which dangerous settings.

use assert_cmd::Command;
use std::path::Path;

/// A `sysctl -a` dump in the form procps prints: about 1,300 lines over the usual top-level
/// directories, the in-scope keys at their defaults unless `set` changes them.
fn dump(release: &str, set: &[(&str, &str)]) -> String {
    let mut keys: Vec<(String, String)> = vec![
        ("kernel.osrelease".into(), release.into()),
        ("net.ipv4.tcp_tw_reuse".into(), "2".into()),
        ("net.ipv4.tcp_timestamps".into(), "1".into()),
        ("net.ipv4.ip_local_port_range".into(), "32768\t60999".into()),
        ("net.ipv4.tcp_fin_timeout".into(), "60".into()),
        ("net.ipv4.tcp_max_tw_buckets".into(), "262144".into()),
        ("net.ipv4.ip_local_reserved_ports".into(), "".into()),
    ];
    for i in 0..1300 {
        let top = ["kernel", "vm", "fs", "net.core", "dev.raid"][i % 5];
        keys.push((format!("{top}.fleet_test_{i}"), format!("{}", i * 7)));
    }
    for (k, v) in set {
        match keys.iter_mut().find(|(key, _)| key == k) {
            Some(e) => e.1 = v.to_string(),
            None => keys.push((k.to_string(), v.to_string())),
        }
    }
    keys.sort();
    keys.iter().map(|(k, v)| format!("{k} = {v}\n")).collect()
}

fn write_fleet(dir: &Path) {
    std::fs::write(dir.join("a-clean.txt"), dump("6.8.0-45-generic", &[])).unwrap();
    std::fs::write(
        dir.join("b-recycle.txt"),
        dump(
            "4.4.0-21-generic",
            &[
                ("net.ipv4.tcp_tw_recycle", "1"),
                ("net.ipv4.tcp_max_tw_buckets", "100"),
            ],
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("c-buckets.txt"),
        dump("5.15.0-1-amd64", &[("net.ipv4.tcp_max_tw_buckets", "5000")]),
    )
    .unwrap();
}

fn twlint(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("twlint").unwrap();
    c.current_dir(dir).args(["--color", "never"]);
    c
}

fn stdout(c: &mut Command) -> (i32, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn each_dump_is_a_host_with_its_own_kernel_and_the_summary_says_who_is_dangerous() {
    let tmp = tempfile::tempdir().unwrap();
    write_fleet(tmp.path());
    let (code, out) =
        stdout(twlint(tmp.path()).args(["a-clean.txt", "b-recycle.txt", "c-buckets.txt"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("a-clean.txt: kernel 6.8 (from the dump)"),
        "{out}"
    );
    assert!(
        out.contains("b-recycle.txt: kernel 4.4 (from the dump)"),
        "{out}"
    );
    let fleet = &out[out.find("fleet: ").expect("a fleet summary")..];
    let table: Vec<&str> = fleet.lines().take(5).collect();
    assert_eq!(table[0], "fleet: 3 hosts, 2 with dangerous settings");
    assert_eq!(
        table[1],
        "  host           kernel  tcp_max_tw_buckets  tcp_tw_recycle  pointless  errors"
    );
    assert!(
        table[2].starts_with("  a-clean.txt    6.8     -                   -  "),
        "{fleet}"
    );
    assert!(
        table[3].starts_with("  b-recycle.txt  4.4     dangerous           dangerous"),
        "{fleet}"
    );
    assert!(
        table[4].starts_with("  c-buckets.txt  5.15    dangerous           -  "),
        "{fleet}"
    );
    assert!(fleet.contains("  tcp_max_tw_buckets is dangerous on 2 of 3 hosts\n"));
    assert!(fleet.contains("  tcp_tw_recycle is dangerous on 1 of 3 hosts\n"));
}

#[test]
fn the_json_report_gains_a_fleet_section_in_argument_order() {
    let tmp = tempfile::tempdir().unwrap();
    write_fleet(tmp.path());
    // Reversed on purpose: the report follows the arguments, not file names or thread timing.
    let (code, out) = stdout(twlint(tmp.path()).args([
        "--format",
        "json",
        "c-buckets.txt",
        "b-recycle.txt",
        "a-clean.txt",
    ]));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let nodes: Vec<&str> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["c-buckets.txt", "b-recycle.txt", "a-clean.txt"]);
    assert_eq!(v["nodes"][1]["kernel_source"], "dump");
    insta::assert_json_snapshot!("fleet_section", v["fleet"]);
}

#[test]
fn one_dump_has_no_fleet_section() {
    let tmp = tempfile::tempdir().unwrap();
    write_fleet(tmp.path());
    let (_, out) = stdout(twlint(tmp.path()).args(["--format", "json", "a-clean.txt"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v.get("fleet").is_none());
    let (code, out) = stdout(twlint(tmp.path()).arg("a-clean.txt"));
    assert_eq!(code, 0);
    assert!(!out.contains("fleet:"), "{out}");
}

#[test]
fn many_dumps_give_the_same_report_every_time() {
    let tmp = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for i in 0..48 {
        let set: &[(&str, &str)] = match i % 3 {
            0 => &[],
            1 => &[("net.ipv4.tcp_max_tw_buckets", "64")],
            _ => &[
                ("net.ipv4.tcp_tw_reuse", "1"),
                ("net.ipv4.tcp_tw_reuse_delay", "10"),
            ],
        };
        let name = format!("host-{:02}.txt", 47 - i);
        std::fs::write(tmp.path().join(&name), dump("6.18.0", set)).unwrap();
        names.push(name);
    }
    let first = stdout(twlint(tmp.path()).args(["--format", "json"]).args(&names));
    for _ in 0..3 {
        assert_eq!(
            stdout(twlint(tmp.path()).args(["--format", "json"]).args(&names)),
            first
        );
    }
    let v: serde_json::Value = serde_json::from_str(&first.1).unwrap();
    let hosts: Vec<&str> = v["fleet"]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, names);
    assert_eq!(v["fleet"]["with_dangerous"], 32);
    assert_eq!(
        v["fleet"]["dangerous"]["net.ipv4.tcp_max_tw_buckets"]
            .as_array()
            .unwrap()
            .len(),
        16
    );
}

#[test]
fn an_unreadable_dump_among_many_stops_the_run_with_its_path() {
    let tmp = tempfile::tempdir().unwrap();
    write_fleet(tmp.path());
    let out = twlint(tmp.path())
        .args(["a-clean.txt", "missing.txt", "c-buckets.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.txt"));
    assert!(out.stdout.is_empty());
}
