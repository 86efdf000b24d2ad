//! Baseline mode, `--add-noqa`: every current finding gets a reasoned suppression where it is
//! written (a directive above its line, or an `ignore:` entry on its topology node), so that
//! running twlint again exits 0 with the same findings shown as suppressed; every other byte of
//! the files is kept; a second run adds nothing; standard input is refused; and a run that
//! exits 2 writes nothing.

#[allow(dead_code)] // the other helpers are for other test files
mod common;

use assert_cmd::Command;
use regex::Regex;
use serde_json::Value;
use std::fs;
use std::path::Path;

fn twlint(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("twlint")
        .unwrap()
        .current_dir(dir)
        .env("TWLINT_NO_LIVE", "1")
        .args(args)
        .args(["--no-config", "--color", "never"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// One finding, without its line (the added directives move lines down).
type Finding = (String, String, String, String);

fn finding(rule: &Value, node: &Value, key: &Value, path: &Value) -> Finding {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    (s(rule), s(node), s(key), s(path))
}

/// The findings of a JSON report that count (unsuppressed: verdicts other than safe,
/// diagnostics other than notes) and those shown as suppressed, each sorted.
fn findings(v: &Value) -> (Vec<Finding>, Vec<Finding>) {
    let mut open = Vec::new();
    let mut hidden = Vec::new();
    for x in v["verdicts"].as_array().unwrap() {
        if x["verdict"] == "safe" || x["rule"].is_null() {
            continue;
        }
        let f = finding(&x["rule"], &x["node"], &x["key"], &x["source"]["path"]);
        match x.get("suppressed") {
            Some(_) => hidden.push(f),
            None => open.push(f),
        }
    }
    let diag = |d: &Value| finding(&d["rule"], &d["node"], &d["key"], &d["location"]["path"]);
    for d in v["diagnostics"].as_array().unwrap() {
        if d["severity"] != "info" {
            open.push(diag(d));
        }
    }
    for d in v["suppressed"].as_array().into_iter().flatten() {
        hidden.push(diag(d));
    }
    open.sort();
    hidden.sort();
    (open, hidden)
}

fn report(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, out, err) = twlint(dir, &all);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, v)
}

/// `text` without the lines `--add-noqa` adds to a file.
fn without_directives(text: &str) -> String {
    let added =
        Regex::new(r"(?m)^[ \t]*# twlint: disable=[A-Z0-9,]+ -- baseline \d{4}-\d{2}-\d{2}\r?\n")
            .unwrap();
    added.replace_all(text, "").into_owned()
}

/// Runs `--add-noqa` with `args`, then checks the contract: the first run's findings are all
/// suppressed now and the run exits 0 (when every finding had a place), a second `--add-noqa`
/// changes no byte. Gives the stderr of the first `--add-noqa`.
fn round_trip(dir: &Path, args: &[&str], files: &[&str]) -> String {
    let (before_code, before) = report(dir, args);
    let (open, hidden_before) = findings(&before);
    assert!(
        before_code == 1 && !open.is_empty(),
        "the fixture must fail: {before}"
    );
    let mut noqa = args.to_vec();
    noqa.push("--add-noqa");
    let (code, _, err) = twlint(dir, &noqa);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("twlint: added "), "{err}");
    assert!(!err.contains("not suppressible"), "{err}");
    let (after_code, after) = report(dir, args);
    let (still_open, hidden) = findings(&after);
    assert_eq!(after_code, 0, "{after}");
    assert!(still_open.is_empty(), "{still_open:?}");
    let mut expected = [open, hidden_before].concat();
    expected.sort();
    assert_eq!(hidden, expected, "the same findings, suppressed");
    let dated = Regex::new(r"^baseline \d{4}-\d{2}-\d{2}$").unwrap();
    for x in after["verdicts"].as_array().unwrap() {
        if let Some(s) = x.get("suppressed") {
            let reason = s["reason"].as_str().unwrap();
            assert!(dated.is_match(reason), "{reason}");
        }
    }
    // Twice: nothing more.
    let snapshot: Vec<Vec<u8>> = files
        .iter()
        .map(|f| fs::read(dir.join(f)).unwrap())
        .collect();
    let (code, _, again) = twlint(dir, &noqa);
    assert_eq!(code, 0, "{again}");
    assert!(again.contains("no finding to suppress"), "{again}");
    for (f, bytes) in files.iter().zip(&snapshot) {
        assert_eq!(
            &fs::read(dir.join(f)).unwrap(),
            bytes,
            "{f} changed on the second run"
        );
    }
    err
}

#[test]
fn a_sysctl_file_is_baselined_and_keeps_every_other_byte() {
    let dir = tempfile::tempdir().unwrap();
    let original = "# legacy tuning\nnet.ipv4.tcp_tw_recycle = 1\r\n\n  net.ipv4.tcp_fin_timeout = 30\nnet.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_tw_reuse = 2\nnet.ipv4.tcp_timestamps=1";
    fs::write(dir.path().join("70-legacy.conf"), original).unwrap();
    let err = round_trip(
        dir.path(),
        &["70-legacy.conf", "--kernel", "5.15"],
        &["70-legacy.conf"],
    );
    let text = fs::read_to_string(dir.path().join("70-legacy.conf")).unwrap();
    assert_eq!(without_directives(&text), original);
    // Above the line, indented and ended as it is.
    assert!(
        Regex::new(r"\n# twlint: disable=TW101 -- baseline [0-9-]+\r\nnet.ipv4.tcp_tw_recycle")
            .unwrap()
            .is_match(&text),
        "{text}"
    );
    assert!(
        Regex::new(r"\n  # twlint: disable=TW140 -- baseline [0-9-]+\n  net.ipv4.tcp_fin_timeout")
            .unwrap()
            .is_match(&text),
        "{text}"
    );
    assert!(err.contains("added 3 suppressions"), "{err}");
}

#[test]
fn a_folder_is_baselined_file_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("sysctl.d");
    fs::create_dir(&d).unwrap();
    let clean = "net.ipv4.tcp_tw_reuse = 1\n";
    let legacy = "net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_max_tw_buckets = 5000\n";
    let late = "net.ipv4.tcp_max_tw_buckets = 6000\n";
    fs::write(d.join("10-clean.conf"), clean).unwrap();
    fs::write(d.join("50-legacy.conf"), legacy).unwrap();
    fs::write(d.join("90-late.conf"), late).unwrap();
    round_trip(
        dir.path(),
        &["sysctl.d", "--kernel", "5.15"],
        &[
            "sysctl.d/10-clean.conf",
            "sysctl.d/50-legacy.conf",
            "sysctl.d/90-late.conf",
        ],
    );
    assert_eq!(fs::read_to_string(d.join("10-clean.conf")).unwrap(), clean);
    let text = fs::read_to_string(d.join("50-legacy.conf")).unwrap();
    assert_eq!(without_directives(&text), legacy);
    assert!(
        text.contains("disable=TW006"),
        "the overridden line: {text}"
    );
}

#[test]
fn a_kubernetes_manifest_is_baselined_with_comments_yaml_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = fs::read_to_string("tests/fixtures/inputs/kubernetes/workloads.yaml").unwrap();
    fs::write(dir.path().join("workloads.yaml"), &manifest).unwrap();
    round_trip(
        dir.path(),
        &["workloads.yaml", "--kernel", "6.8"],
        &["workloads.yaml"],
    );
    let text = fs::read_to_string(dir.path().join("workloads.yaml")).unwrap();
    assert_eq!(without_directives(&text), manifest);
}

#[test]
fn a_compose_file_is_baselined_with_comments_yaml_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let compose = fs::read_to_string("tests/fixtures/inputs/compose/compose.yaml").unwrap();
    fs::write(dir.path().join("compose.yaml"), &compose).unwrap();
    round_trip(
        dir.path(),
        &["compose.yaml", "--kernel", "6.8"],
        &["compose.yaml"],
    );
    let text = fs::read_to_string(dir.path().join("compose.yaml")).unwrap();
    assert_eq!(without_directives(&text), compose);
}

/// A topology whose nodes read a sysctl file, a shell script and an Ansible playbook, with a
/// middlebox whose findings are about its kernel defaults (no line to put a directive on): those
/// get an `ignore:` entry on the node, in the topology.
#[test]
fn a_topology_is_baselined_in_its_files_and_on_its_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let topology = fs::read_to_string("topologies/lb-web-db.yaml")
        .unwrap()
        .replace(
            "  - name: nat\n    role: nat\n",
            "  - {name: nat, role: nat}\n",
        )
        .replace(
            "files: [hosts/web/sysctl.conf]",
            "files: [hosts/web/sysctl.conf, hosts/web/provision.sh]",
        )
        .replace(
            "files: [hosts/db/sysctl.conf]",
            "files: [hosts/db/sysctl.conf, hosts/db/playbook.yml]",
        );
    assert!(topology.contains("{name: nat, role: nat}"));
    fs::write(root.join("topo.yaml"), &topology).unwrap();
    let mut files = vec!["topo.yaml".to_string()];
    let mut originals = Vec::new();
    for (host, extra) in [
        ("lb", None),
        (
            "web",
            Some(("tests/fixtures/inputs/shell/provision.sh", "provision.sh")),
        ),
        (
            "db",
            Some(("tests/fixtures/inputs/ansible/playbook.yml", "playbook.yml")),
        ),
    ] {
        fs::create_dir_all(root.join("hosts").join(host)).unwrap();
        let conf = format!("hosts/{host}/sysctl.conf");
        fs::copy(Path::new("topologies").join(&conf), root.join(&conf)).unwrap();
        files.push(conf);
        if let Some((from, name)) = extra {
            let to = format!("hosts/{host}/{name}");
            fs::copy(from, root.join(&to)).unwrap();
            files.push(to);
        }
    }
    for f in &files[1..] {
        originals.push((f.clone(), fs::read_to_string(root.join(f)).unwrap()));
    }
    let names: Vec<&str> = files.iter().map(String::as_str).collect();
    round_trip(root, &["--topology", "topo.yaml"], &names);
    for (f, original) in originals {
        let now = fs::read_to_string(root.join(&f)).unwrap();
        assert_ne!(now, original, "{f} has findings");
        assert_eq!(without_directives(&now), original, "{f}");
    }
    let now = fs::read_to_string(root.join("topo.yaml")).unwrap();
    let entry = Regex::new(r#"\{rule: (TW\d+), reason: "baseline \d{4}-\d{2}-\d{2}"\}"#).unwrap();
    let line = now.lines().find(|l| l.contains("name: nat")).unwrap();
    assert!(entry.is_match(line), "{line}");
    let restored = Regex::new(r#", ignore: \[[^\]]*\]"#)
        .unwrap()
        .replace(&now, "");
    assert_eq!(restored, topology, "only the nat node changed");
}

#[test]
fn standard_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("twlint")
        .unwrap()
        .current_dir(dir.path())
        .args(["-", "--add-noqa", "--no-config"])
        .write_stdin("net.ipv4.tcp_tw_recycle = 1\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--add-noqa cannot write"), "{err}");
}

#[test]
fn nothing_is_written_when_the_run_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let legacy = "net.ipv4.tcp_tw_recycle = 1\n";
    fs::write(root.join("legacy.conf"), legacy).unwrap();
    // A fleet with a path that cannot be read: the run is incomplete.
    let (code, _, err) = twlint(root, &["legacy.conf", "missing.conf", "--add-noqa"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("wrote nothing"), "{err}");
    assert_eq!(
        fs::read_to_string(root.join("legacy.conf")).unwrap(),
        legacy
    );
    // A topology whose sysctl.files holds a Kubernetes manifest (judged only when named).
    fs::create_dir(root.join("hosts")).unwrap();
    fs::write(root.join("hosts/legacy.conf"), legacy).unwrap();
    fs::copy(
        "tests/fixtures/inputs/kubernetes/workloads.yaml",
        root.join("hosts/workloads.yaml"),
    )
    .unwrap();
    let topology = "version: 1\nnodes:\n  - name: a\n    role: client\n    sysctl:\n      files: [hosts/legacy.conf, hosts/workloads.yaml]\n  - {name: b, role: web, listen: [80]}\nlinks:\n  - {from: a, to: b, port: 80, closes_first: a}\n";
    fs::write(root.join("topo.yaml"), topology).unwrap();
    let (code, _, err) = twlint(root, &["--topology", "topo.yaml", "--add-noqa"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        fs::read_to_string(root.join("topo.yaml")).unwrap(),
        topology
    );
    assert_eq!(
        fs::read_to_string(root.join("hosts/legacy.conf")).unwrap(),
        legacy
    );
}

#[test]
fn a_dump_is_not_edited_and_its_findings_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    // A `sysctl -a` dump (at least 100 lines in procps' form): a host's state.
    let dump = common::small_dump(
        "fs.file-max = 9223372036854775807\nkernel.osrelease = 5.15.0\n",
        "net.ipv4.tcp_tw_recycle = 1\nvm.swappiness = 60\n",
    );
    fs::write(dir.path().join("host.dump"), &dump).unwrap();
    let (_, _, err) = twlint(dir.path(), &["host.dump", "--add-noqa"]);
    assert!(err.contains("not suppressible"), "{err}");
    assert!(err.contains("is a dump the kernel printed"), "{err}");
    assert_eq!(
        fs::read_to_string(dir.path().join("host.dump")).unwrap(),
        dump
    );
}

#[test]
fn files_outside_the_topology_folder_need_allow_outside_paths() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("outside")).unwrap();
    fs::create_dir_all(root.join("topo")).unwrap();
    let legacy = "net.ipv4.tcp_tw_recycle = 1\n";
    fs::write(root.join("outside/legacy.conf"), legacy).unwrap();
    let topology = "version: 1\ndefaults: {kernel: \"6.8\"}\nnodes:\n  - name: a\n    role: client\n    sysctl:\n      files: [../outside/legacy.conf]\n  - {name: b, role: web, listen: [80]}\nlinks:\n  - {from: a, to: b, port: 80, closes_first: a}\n";
    fs::write(root.join("topo/topo.yaml"), topology).unwrap();
    let (code, _, err) = twlint(root, &["--topology", "topo/topo.yaml", "--add-noqa"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        fs::read_to_string(root.join("outside/legacy.conf")).unwrap(),
        legacy
    );
    let (code, _, err) = twlint(
        root,
        &[
            "--topology",
            "topo/topo.yaml",
            "--add-noqa",
            "--allow-outside-paths",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let text = fs::read_to_string(root.join("outside/legacy.conf")).unwrap();
    assert!(
        text.starts_with("# twlint: disable=TW101 -- baseline "),
        "{text}"
    );
}

#[test]
fn a_hosts_values_are_not_baselined() {
    let (code, _, err) = twlint(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--root",
            "tests/fixtures/host/snapshot-lb",
            "--add-noqa",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a host's values have no place there"), "{err}");
}

/// A comment inside a shell command continued with `\` would end the command: that line's
/// finding is listed as not suppressible, and the other lines get their directives.
#[test]
fn a_continued_shell_line_takes_no_comment() {
    let dir = tempfile::tempdir().unwrap();
    let script =
        "#!/bin/sh\nsysctl -w net.ipv4.tcp_fin_timeout=30 \\\n  net.ipv4.tcp_tw_recycle=1\n";
    fs::write(dir.path().join("tune.sh"), script).unwrap();
    let (code, _, err) = twlint(dir.path(), &["tune.sh", "--kernel", "6.8", "--add-noqa"]);
    assert_eq!(code, 1, "TW101 is left: {err}");
    assert!(
        err.contains("not suppressible: TW101 tune.sh net.ipv4.tcp_tw_recycle at tune.sh:3"),
        "{err}"
    );
    let text = fs::read_to_string(dir.path().join("tune.sh")).unwrap();
    assert!(
        Regex::new(r"^#!/bin/sh\n# twlint: disable=TW140 -- baseline [0-9-]+\nsysctl -w")
            .unwrap()
            .is_match(&text),
        "{text}"
    );
    assert_eq!(without_directives(&text), script);
}
