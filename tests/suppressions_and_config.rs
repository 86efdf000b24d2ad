//! Suppressions (line, file and topology directives; unknown and unused ones) and the project
//! configuration `.twlint.yaml` (found upward, severity overrides, rule folders, its own
//! errors), run as real processes: the configuration is found from the working directory.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;

fn twlint(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("twlint").unwrap();
    c.env("TWLINT_NO_LIVE", "1");
    c.current_dir(dir).args(["--color", "never"]);
    c
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let out = twlint(dir)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn codes(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap().to_string())
        .collect()
}

const RECYCLE: &str = "# twlint: disable=TW101 -- staging box, removed with the next image\nnet.ipv4.tcp_tw_recycle = 1\n";

#[test]
fn a_line_directive_hides_the_finding_and_keeps_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.conf", RECYCLE);
    twlint(dir.path()).arg("a.conf").assert().code(0).stdout(
        predicate::str::contains("[suppressed: staging box, removed with the next image]").and(
            predicate::str::contains("suppressed: 1 verdict, 1 diagnostic"),
        ),
    );
    let r = json(dir.path(), &["a.conf"]);
    assert!(!codes(&r).contains(&"TW101".to_string()));
    let v = r["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["key"] == "net.ipv4.tcp_tw_recycle")
        .unwrap();
    assert_eq!(v["verdict"], "dangerous", "the judgement stays");
    assert_eq!(v["suppressed"]["kind"], "line");
    assert_eq!(v["suppressed"]["location"]["line"], 1);
    assert_eq!(r["summary"]["dangerous"], 0);
    assert_eq!(r["summary"]["suppressed"]["verdicts"], 1);
    assert_eq!(r["suppressed"][0]["rule"], "TW101");
    assert_eq!(
        r["suppressed"][0]["suppressed"]["reason"],
        "staging box, removed with the next image"
    );
}

#[test]
fn suppression_report_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.conf",
        "# twlint: disable=TW006 -- kept for reference\nnet.ipv4.tcp_fin_timeout = 10\nnet.ipv4.tcp_fin_timeout = 5\n# twlint: disable-file=TW140 -- orphans on purpose\n",
    );
    let r = json(dir.path(), &["a.conf"]);
    insta::assert_json_snapshot!("suppression_report", twlint::build_info::without_commit(r));
}

#[test]
fn no_inline_ignores_shows_everything() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.conf", RECYCLE);
    twlint(dir.path())
        .args(["a.conf", "--no-inline-ignores"])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("[TW101]").and(predicate::str::contains("suppressed").not()),
        );
}

#[test]
fn a_directive_without_reason_is_reported_and_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.conf",
        "# twlint: disable=TW101\nnet.ipv4.tcp_tw_recycle = 1\n",
    );
    twlint(dir.path()).arg("a.conf").assert().code(1).stdout(
        predicate::str::contains("[TW020] Warning: twlint directive without a reason")
            .and(predicate::str::contains("a.conf:1:1"))
            .and(predicate::str::contains("[TW101]")),
    );
}

#[test]
fn unknown_and_unused_suppressions_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.conf",
        "# twlint: disable=TW1O1 -- typo\nnet.ipv4.tcp_tw_reuse = 1\n# twlint: disable=TW006 -- nothing to hide\nnet.ipv4.tcp_fin_timeout = 30\n",
    );
    let r = json(dir.path(), &["a.conf"]);
    let diags = r["diagnostics"].as_array().unwrap();
    let unknown = diags.iter().find(|d| d["rule"] == "TW021").unwrap();
    assert_eq!(unknown["help"], "did you mean `TW101`?");
    assert_eq!(unknown["location"]["column"], 19);
    let unused = diags.iter().find(|d| d["rule"] == "TW022").unwrap();
    assert_eq!(unused["location"]["line"], 3);
    assert!(unused["message"].as_str().unwrap().contains("TW006"));
}

#[test]
fn topology_ignore_entries_hide_findings_on_their_node() {
    let dir = tempfile::tempdir().unwrap();
    let topo = "version: 1\ndefaults:\n  kernel: \"6.8\"\nnodes:\n  - name: web\n    role: web\n    addresses: [10.0.0.2]\n    listen: [80]\n    sysctl:\n      set:\n        net.ipv4.tcp_tw_recycle: 1\n    ignore:\n      - {rule: TW101, reason: \"decommissioned on Friday\"}\n      - {rule: tw-reuse-effective, reason: \"stale\"}\n      - TW121\n  - name: lb\n    role: load-balancer\n    addresses: [10.0.0.1]\nlinks:\n  - {from: lb, to: web, port: 80, closes_first: lb}\n";
    write(dir.path(), "t.yaml", topo);
    let r = json(dir.path(), &["--topology", "t.yaml"]);
    let c = codes(&r);
    assert!(!c.contains(&"TW101".to_string()), "{c:?}");
    assert!(
        c.contains(&"TW022".to_string()),
        "the stale entry is reported: {c:?}"
    );
    assert!(
        c.contains(&"TW020".to_string()),
        "the bare id is reported: {c:?}"
    );
    let v = r["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["node"] == "web" && v["key"] == "net.ipv4.tcp_tw_recycle")
        .unwrap();
    assert_eq!(v["suppressed"]["kind"], "topology");
    assert_eq!(v["suppressed"]["reason"], "decommissioned on Friday");
    twlint(dir.path())
        .args(["--topology", "t.yaml"])
        .assert()
        .code(0);
    twlint(dir.path())
        .args(["--topology", "t.yaml", "--no-inline-ignores"])
        .assert()
        .code(1);
}

#[test]
fn config_is_found_upward_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".twlint.yaml",
        "fail-on: pointless\nkernel: \"5.15\"\n",
    );
    write(
        dir.path(),
        "etc/sysctl.d/60.conf",
        "net.ipv4.tcp_fin_timeout = 5\n",
    );
    let sub = dir.path().join("etc");
    let r = json(&sub, &["sysctl.d"]);
    assert!(r["config"].as_str().unwrap().ends_with(".twlint.yaml"));
    assert_eq!(r["nodes"][0]["kernel"], "5.15");
    assert_eq!(r["nodes"][0]["kernel_source"], "config");
    // TW140 is pointless: fails with the file's fail-on, not with the flag's.
    twlint(&sub).arg("sysctl.d").assert().code(1);
    twlint(&sub)
        .args(["sysctl.d", "--fail-on", "dangerous"])
        .assert()
        .code(0);
    twlint(&sub)
        .args(["sysctl.d", "--no-config"])
        .assert()
        .code(0);
    let r = json(&sub, &["sysctl.d", "--kernel", "6.8"]);
    assert_eq!(r["nodes"][0]["kernel_source"], "flag");
}

#[test]
fn severity_overrides_turn_rules_off_or_change_their_weight() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.conf",
        "net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_fin_timeout = 5\n",
    );
    write(
        dir.path(),
        "strict.yaml",
        "severity:\n  fin-timeout-not-time-wait: off\n  TW101: warning\n",
    );
    twlint(dir.path()).arg("a.conf").assert().code(1);
    twlint(dir.path())
        .args(["a.conf", "--config", "strict.yaml"])
        .assert()
        .code(0);
    let r = json(dir.path(), &["a.conf", "--config", "strict.yaml"]);
    let by_key = |k: &str| {
        r["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["key"] == k)
            .unwrap()
            .clone()
    };
    let fin = by_key("net.ipv4.tcp_fin_timeout");
    assert_ne!(fin["rule"], "TW140", "an `off` rule does not judge");
    let recycle = by_key("net.ipv4.tcp_tw_recycle");
    assert_eq!(recycle["verdict"], "dangerous");
    assert_eq!(recycle["level"], "warning");
    let d = r["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "TW101")
        .unwrap();
    assert_eq!(d["severity"], "warning");
    twlint(dir.path())
        .args([
            "a.conf",
            "--config",
            "strict.yaml",
            "--fail-on",
            "pointless",
        ])
        .assert()
        .code(1);
}

#[test]
fn config_problems_point_into_the_file_and_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.conf", "net.ipv4.tcp_tw_reuse = 1\n");
    write(
        dir.path(),
        ".twlint.yaml",
        "fail_on: pointless\nseverity:\n  TW1011: off\n",
    );
    twlint(dir.path())
        .arg("a.conf")
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains(".twlint.yaml:1:1")
                .and(predicate::str::contains("did you mean `fail-on`?"))
                .and(predicate::str::contains("--no-config")),
        );
    write(dir.path(), ".twlint.yaml", "severity:\n  TW1011: off\n");
    twlint(dir.path()).arg("a.conf").assert().code(2).stderr(
        predicate::str::contains(".twlint.yaml:2:3")
            .and(predicate::str::contains("unknown rule `TW1011`")),
    );
    twlint(dir.path())
        .args(["a.conf", "--no-config"])
        .assert()
        .code(0);
    twlint(dir.path())
        .args(["a.conf", "--config", "missing.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("give --config an existing file"));
}

#[test]
fn a_file_shared_by_two_nodes_is_suppressed_in_both_and_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "common.conf",
        "# twlint: disable=TW101 -- both hosts are rebuilt next week\nnet.ipv4.tcp_tw_recycle = 1\n# twlint: disable=TW006 -- nothing to hide\nnet.ipv4.tcp_fin_timeout = 60\n",
    );
    write(dir.path(), "extra.conf", "net.ipv4.tcp_tw_reuse = 1\n");
    let topo = "version: 1\ndefaults:\n  kernel: \"6.8\"\nnodes:\n  - name: a\n    addresses: [10.0.0.1]\n    sysctl: {files: [common.conf]}\n  - name: b\n    addresses: [10.0.0.2]\n    listen: [80]\n    sysctl: {files: [common.conf, extra.conf]}\nlinks:\n  - {from: a, to: b, port: 80, closes_first: a}\n";
    write(dir.path(), "t.yaml", topo);
    let r = json(dir.path(), &["--topology", "t.yaml"]);
    let c = codes(&r);
    assert!(!c.contains(&"TW101".to_string()), "{c:?}");
    assert_eq!(c.iter().filter(|c| *c == "TW022").count(), 1, "{c:?}");
    let recycle: Vec<&Value> = r["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["key"] == "net.ipv4.tcp_tw_recycle")
        .collect();
    assert!(recycle.len() >= 2);
    assert!(recycle.iter().all(|v| v["suppressed"]["kind"] == "line"));
}

#[test]
fn a_rule_folder_named_in_the_config_and_on_the_command_line_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let rule = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/TW141-fin-timeout-not-positive.yaml"),
    )
    .unwrap()
    .replace("id: TW141", "id: TW901")
    .replace("name: fin-timeout-not-positive", "name: fin-timeout-zero")
    .replace("when: present && num <= 0", "when: present && num == 7")
    .replace("tcp_fin_timeout = 0\n", "tcp_fin_timeout = 7\n");
    write(dir.path(), "ci-rules/TW901-fin-timeout-zero.yaml", &rule);
    write(dir.path(), ".twlint.yaml", "rules: [ci-rules]\n");
    write(dir.path(), "a.conf", "net.ipv4.tcp_fin_timeout = 7\n");
    let r = json(dir.path(), &["a.conf", "--rules", "ci-rules"]);
    assert!(codes(&r).contains(&"TW901".to_string()), "{:?}", codes(&r));
    let out = twlint(dir.path()).args(["a.conf"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_wrong_ignore_entry_is_a_topology_error_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "t.yaml",
        "version: 1\nnodes:\n  - name: web\n    ignore:\n      - {rule: TW101, reason: x, until: 2027}\n",
    );
    twlint(dir.path())
        .args(["--topology", "t.yaml"])
        .assert()
        .code(2)
        .stdout(
            predicate::str::contains("[TW051] Error: unknown field `until` in an `ignore` entry")
                .and(predicate::str::contains("t.yaml:5:34"))
                .and(predicate::str::contains(
                    "the fields of an `ignore` entry are: rule, reason",
                )),
        );
}

#[test]
fn an_overridden_level_is_shown_beside_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.conf", "net.ipv4.tcp_tw_recycle = 1\n");
    write(dir.path(), ".twlint.yaml", "severity: {TW101: info}\n");
    twlint(dir.path()).arg("a.conf").assert().code(0).stdout(
        predicate::str::contains("dangerous tcp_tw_recycle")
            .and(predicate::str::contains("[counts as info]"))
            .and(predicate::str::contains("[TW101] Advice")),
    );
}
