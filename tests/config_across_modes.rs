//! Where the output formats, `advise`, suppressions and `.twlint.yaml` meet (real processes):
//! the rule's `fix` in the JSON report and in `twlint explain`; `explain` and `rules` reading the
//! configuration; `advise` honouring the configuration and suppressions.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

fn twlint(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("twlint").unwrap();
    c.current_dir(dir).env("TWLINT_NO_LIVE", "1");
    c
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// stdout, asserting the exit code.
fn run(dir: &Path, args: &[&str], code: i32) -> String {
    let out = twlint(dir).args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A project with its own rule (TW901: tcp_fin_timeout = 7 is dangerous, fix 60) in a folder
/// its `.twlint.yaml` names, and TW140 turned off.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let rule = std::fs::read_to_string(root().join("rules/TW141-fin-timeout-not-positive.yaml"))
        .unwrap()
        .replace("id: TW141", "id: TW901")
        .replace("name: fin-timeout-not-positive", "name: fin-timeout-seven")
        .replace("when: present && num <= 0", "when: present && num == 7")
        .replace("tcp_fin_timeout = 0\n", "tcp_fin_timeout = 7\n");
    write(dir.path(), "ci-rules/TW901-fin-timeout-seven.yaml", &rule);
    write(
        dir.path(),
        ".twlint.yaml",
        "rules: [ci-rules]\nseverity:\n  TW140: off\n  TW007: info\n",
    );
    write(
        dir.path(),
        "topology.yaml",
        "version: 1\nnodes:\n  - {name: app, role: app, sysctl: {set: {net.ipv4.tcp_fin_timeout: 7}}}\n  - {name: db, role: db}\nlinks:\n  - {from: app, to: db, port: 5432, closes_first: app}\n",
    );
    dir
}

#[test]
fn json_verdicts_carry_the_rules_fix_only_where_it_has_one() {
    let out = run(
        root(),
        &[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--format",
            "json",
        ],
        1,
    );
    let r: Value = serde_json::from_str(&out).unwrap();
    let verdicts = r["verdicts"].as_array().unwrap();
    let tw120 = verdicts
        .iter()
        .find(|v| v["rule"] == "TW120" && v["node"] == "db")
        .expect("TW120 on db");
    assert_eq!(
        tw120["fix"],
        serde_json::json!({"net.ipv4.tcp_timestamps": "1"})
    );
    // No rule, or a rule without a fix: no field at all.
    assert!(verdicts
        .iter()
        .filter(|v| v["verdict"] == "safe")
        .all(|v| v.get("fix").is_none()));
    let unfixable = run(
        root(),
        &["examples/01-lint-sysctl-d/sysctl.d", "--format", "json"],
        1,
    );
    let r: Value = serde_json::from_str(&unfixable).unwrap();
    for v in r["verdicts"].as_array().unwrap() {
        if let Some(fix) = v.get("fix") {
            assert!(!fix.as_object().unwrap().is_empty(), "{v}");
        }
    }
}

#[test]
fn explain_shows_the_fix_in_text_and_json() {
    let text = run(root(), &["explain", "TW102"], 0);
    assert!(
        text.contains(
            "## Fix (what `twlint advise` writes in the node's drop-in)\n\n    net.ipv4.tcp_tw_recycle = 0\n"
        ),
        "{text}"
    );
    let text = run(root(), &["explain", "TW150"], 0);
    assert!(
        text.contains("    net.ipv4.tcp_max_tw_buckets = {{ (int(node.tw_population) / 65536 + 2) * 65536 }}\n"),
        "{text}"
    );
    let v: Value =
        serde_json::from_str(&run(root(), &["explain", "TW102", "--format", "json"], 0)).unwrap();
    assert_eq!(
        v["fix"],
        serde_json::json!({"net.ipv4.tcp_tw_recycle": "0"})
    );
    // A rule without a fix: no section, an empty object.
    let text = run(root(), &["explain", "TW001"], 0);
    assert!(!text.contains("## Fix"));
    let v: Value =
        serde_json::from_str(&run(root(), &["explain", "TW001", "--format", "json"], 0)).unwrap();
    assert_eq!(v["fix"], serde_json::json!({}));
}

#[test]
fn explain_and_rules_read_the_configuration() {
    let p = project();
    let dir = p.path();
    // The project's own rule is explainable and listed, found through .twlint.yaml.
    let text = run(dir, &["explain", "TW901"], 0);
    assert!(text.starts_with("TW901 fin-timeout-seven:"), "{text}");
    assert!(text.contains("net.ipv4.tcp_fin_timeout = 60"));
    let list = run(dir, &["rules"], 0);
    assert!(list.contains("TW901  fin-timeout-seven"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.starts_with("TW140") && l.contains("[off in the configuration]")),
        "{list}"
    );
    assert!(list
        .lines()
        .any(|l| l.starts_with("TW007") && l.contains("[counts as info in the configuration]")));
    let explained = run(dir, &["explain", "TW140"], 0);
    assert!(
        explained.contains("\noff in the configuration (.twlint.yaml)\n"),
        "{explained}"
    );
    let json: Value = serde_json::from_str(&run(dir, &["rules", "--format", "json"], 0)).unwrap();
    let by_id = |id: &str| {
        json.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
    };
    assert_eq!(by_id("TW140").unwrap()["override"], "off");
    assert_eq!(by_id("TW007").unwrap()["override"], "info");
    assert!(by_id("TW102").unwrap().get("override").is_none());
    assert!(by_id("TW901").is_some());
    let v: Value =
        serde_json::from_str(&run(dir, &["explain", "TW140", "--format", "json"], 0)).unwrap();
    assert_eq!(v["override"], "off");

    // --no-config: the built-in catalog only.
    let out = twlint(dir)
        .args(["explain", "TW901", "--no-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!run(dir, &["rules", "--no-config"], 0).contains("TW901"));
    assert!(!run(dir, &["rules", "--no-config"], 0).contains("in the configuration"));
    // --config from elsewhere: its `rules` folders are relative to the file.
    let list = run(
        root(),
        &[
            "rules",
            "--config",
            dir.join(".twlint.yaml").to_str().unwrap(),
        ],
        0,
    );
    assert!(list.contains("TW901  fin-timeout-seven"), "{list}");
    // A broken configuration stops explain too.
    write(dir, ".twlint.yaml", "severity: {TW140: loud}\n");
    let out = twlint(dir).args(["explain", "TW140"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".twlint.yaml"));
}

#[test]
fn advise_reads_the_configuration() {
    let p = project();
    let dir = p.path();
    // With the configuration: TW140 is off, the project's TW901 asks for 60.
    let text = run(dir, &["advise", "--topology", "topology.yaml"], 0);
    assert!(text.contains("# ==> 99-twlint-app.conf <=="), "{text}");
    assert!(text.contains("# TW901 fin-timeout-seven"), "{text}");
    assert!(text.contains("\nnet.ipv4.tcp_fin_timeout = 60\n"));
    // Without it no shipped rule fixes tcp_fin_timeout = 7 (TW140 only says it is pointless).
    let text = run(
        dir,
        &["advise", "--topology", "topology.yaml", "--no-config"],
        0,
    );
    assert_eq!(
        text,
        "# twlint: no node needs a change the rules can make\n"
    );
    // A rule turned off advises nothing.
    write(
        dir,
        "off.yaml",
        "rules: [ci-rules]\nseverity: {TW901: off}\n",
    );
    let text = run(
        dir,
        &[
            "advise",
            "--topology",
            "topology.yaml",
            "--config",
            "off.yaml",
        ],
        0,
    );
    assert_eq!(
        text,
        "# twlint: no node needs a change the rules can make\n"
    );
    // The configuration's kernel is the default: on 4.9 tcp_tw_reuse_delay does not exist
    // (TW100), which no drop-in can fix.
    write(
        dir,
        "old.yaml",
        "version: 1\nnodes:\n  - {name: app, role: app, sysctl: {set: {net.ipv4.tcp_tw_reuse_delay: 1000}}}\n  - {name: db, role: db}\nlinks:\n  - {from: app, to: db, port: 5432, closes_first: app}\n",
    );
    write(dir, "k.yaml", "kernel: \"4.9\"\n");
    let text = run(
        dir,
        &["advise", "--topology", "old.yaml", "--config", "k.yaml"],
        0,
    );
    assert!(
        text.contains("# ==> not fixable by a drop-in <=="),
        "{text}"
    );
    assert!(text.contains("TW100"), "{text}");
    let text = run(dir, &["advise", "--topology", "old.yaml", "--no-config"], 0);
    assert!(!text.contains("TW100"), "{text}");
}

#[test]
fn advise_leaves_suppressed_findings_as_they_are_and_says_why() {
    let topo = "examples/09-suppressions-config/topology.yaml";
    let text = run(root(), &["advise", "--topology", topo], 0);
    assert!(!text.contains("99-twlint-web.conf"), "{text}");
    assert!(text.contains("# ==> suppressed, left as they are <=="));
    assert!(text.contains("host retired in OPS-311"), "{text}");
    let md = run(
        root(),
        &["advise", "--topology", topo, "--format", "markdown"],
        0,
    );
    assert!(md.contains("### Suppressed, left as they are"));
    assert!(
        md.contains("| web | `net.ipv4.tcp_tw_recycle` | TW102 | dangerous |"),
        "{md}"
    );
    // --out writes nothing for it and says so on stderr.
    let out_dir = tempfile::tempdir().unwrap();
    let out = twlint(root())
        .args(["advise", "--topology", topo, "--out"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("left as it is: web net.ipv4.tcp_tw_recycle (TW102, dangerous on clients->web): suppressed at examples/09-suppressions-config/topology.yaml:19: host retired in OPS-311"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(out_dir.path()).unwrap().count(), 0);
    // --no-inline-ignores advises it like any other finding.
    let text = run(
        root(),
        &["advise", "--topology", topo, "--no-inline-ignores"],
        0,
    );
    assert!(text.contains("# ==> 99-twlint-web.conf <=="));
    assert!(text.contains("\nnet.ipv4.tcp_tw_recycle = 0\n"));
    assert!(!text.contains("left as they are"));
}

#[test]
fn severity_overrides_reach_suppressed_findings() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.conf",
        "# twlint: disable=TW006 -- kept for the diff\nnet.ipv4.tcp_fin_timeout = 30\nnet.ipv4.tcp_fin_timeout = 60\n",
    );
    let report = |config: &str| -> Value {
        write(dir.path(), "c.yaml", config);
        serde_json::from_str(&run(
            dir.path(),
            &["a.conf", "--config", "c.yaml", "--format", "json"],
            0,
        ))
        .unwrap()
    };
    let r = report("severity: {TW006: info}\n");
    assert_eq!(r["suppressed"][0]["rule"], "TW006");
    assert_eq!(r["suppressed"][0]["severity"], "info");
    // An `off` rule's findings are gone from the suppressed list too.
    let r = report("severity: {TW006: off}\n");
    assert!(r["suppressed"]
        .as_array()
        .is_none_or(|s| s.iter().all(|d| d["rule"] != "TW006")));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The gates of the GitHub and GitLab examples leave the threshold to the project's
/// `.twlint.yaml`: with TW120 (the example's one dangerous finding) weighed as `info` they pass;
/// without a configuration they fail as before.
#[test]
fn the_example_ci_gates_follow_the_project_configuration() {
    let gh = std::fs::read_to_string(root().join("examples/06-github-actions/twlint.yml")).unwrap();
    let gh_gate = gh
        .split("- name: Fail on dangerous settings")
        .nth(1)
        .unwrap()
        .lines()
        .find_map(|l| l.trim().strip_prefix("run: "))
        .unwrap()
        .to_string();
    let gl = std::fs::read_to_string(root().join("examples/07-gitlab-ci/gitlab-ci.yml")).unwrap();
    let gl_gate = gl
        .split("# The gate:")
        .nth(1)
        .unwrap()
        .lines()
        .find_map(|l| l.trim().strip_prefix("- "))
        .unwrap()
        .to_string();
    let bin = assert_cmd::cargo::cargo_bin("twlint");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for gate in [gh_gate, gl_gate] {
        assert!(!gate.contains("--fail-on"), "{gate}");
        let dir = tempfile::tempdir().unwrap();
        copy_dir(
            &root().join("examples/06-github-actions/infra"),
            &dir.path().join("infra"),
        );
        let run = || {
            std::process::Command::new("bash")
                .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &gate])
                .current_dir(dir.path())
                .env("PATH", &path)
                .env("TWLINT_NO_LIVE", "1")
                .env("NO_COLOR", "1")
                .env("TWLINT_TOPOLOGY", "infra/topology.yaml")
                .output()
                .unwrap()
                .status
                .code()
        };
        assert_eq!(run(), Some(1), "{gate}");
        write(dir.path(), ".twlint.yaml", "severity: {TW120: info}\n");
        assert_eq!(run(), Some(0), "{gate}");
        write(dir.path(), ".twlint.yaml", "fail-on: never\n");
        assert_eq!(run(), Some(0), "{gate}");
    }
}
