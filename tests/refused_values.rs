//! Refused values stay visible: a key whose last written value the kernel refuses has a
//! dangerous verdict row at that line naming the value in force; TW006 tells the truth under
//! procps; a topology's `applied_by` picks the tool whose end state is judged, and twlint warns
//! (TW010) where procps and systemd-sysctl end differently. The tools' behaviour is measured by
//! tests/lab_appliers.rs.

#[path = "common/in_process.rs"]
#[allow(dead_code)]
mod in_process;

use in_process::twlint;
use serde_json::Value;

fn json(args: &[&str]) -> Value {
    let mut all = vec!["--format", "json", "--fail-on", "never"];
    all.extend_from_slice(args);
    let out = twlint(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn row<'a>(v: &'a Value, key: &str) -> &'a Value {
    v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == key)
        .unwrap_or_else(|| panic!("no row for {key}"))
}

fn diags<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == rule)
        .collect()
}

#[test]
fn refused_value_row_is_dangerous_at_the_refused_line_and_names_the_value_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        "reuse.conf",
        "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_tw_reuse = 3\n",
    );
    let v = json(&["--kernel", "6.8", &f]);
    let r = row(&v, "net.ipv4.tcp_tw_reuse");
    assert_eq!(r["verdict"], "dangerous");
    assert_eq!(r["rule"], "TW004");
    assert_eq!(r["value"], "1", "the value procps leaves in force");
    assert_eq!(r["source"]["line"], 2, "{r}");
    assert!(r["reason"]
        .as_str()
        .unwrap()
        .contains("`1`, written before it"));
    // One TW004 diagnostic at the line, not a second one from the verdict row.
    assert_eq!(diags(&v, "TW004").len(), 1);
}

#[test]
fn refused_value_row_names_the_default_when_nothing_was_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let f = file(&dir, "delay.conf", "net.ipv4.tcp_tw_reuse_delay = 0\n");
    let v = json(&["--kernel", "6.18", &f]);
    let r = row(&v, "net.ipv4.tcp_tw_reuse_delay");
    assert_eq!(r["verdict"], "dangerous");
    assert_eq!(r["value"], "1000");
    assert_eq!(r["source"]["line"], 1);
    assert!(r["reason"]
        .as_str()
        .unwrap()
        .contains("the kernel default `1000` stays in force"));
    // Nothing differs between the tools: both leave the default.
    assert!(diags(&v, "TW010").is_empty());
}

#[test]
fn tw006_tells_the_truth_under_procps() {
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        "reuse.conf",
        "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_tw_reuse = 3\n",
    );
    let v = json(&["--kernel", "6.8", &f]);
    let d = diags(&v, "TW006");
    assert_eq!(d.len(), 1);
    let msg = d[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("under procps this one stays in force"),
        "{msg}"
    );
    assert!(!msg.contains("does not last"), "{msg}");
    assert_eq!(
        d[0]["labels"][0]["message"],
        "the kernel refuses this later value"
    );
    // A later value the kernel accepts still overrides: the usual wording.
    let g = file(
        &dir,
        "ok.conf",
        "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_tw_reuse = 0\n",
    );
    let v = json(&["--kernel", "6.8", &g]);
    let msg = diags(&v, "TW006")[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("does not last"), "{msg}");
}

#[test]
fn procps_and_systemd_end_states_differ_on_a_refused_last_value() {
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        "reuse.conf",
        "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_tw_reuse = 3\n",
    );
    let v = json(&["--kernel", "6.8", &f]);
    let d = diags(&v, "TW010");
    assert_eq!(d.len(), 1, "{v}");
    let msg = d[0]["message"].as_str().unwrap();
    assert!(msg.contains("`1` and `2`"), "{msg}");
    assert_eq!(d[0]["location"]["line"], 2);
}

fn topology(dir: &tempfile::TempDir, applied_by: &str) -> String {
    file(
        dir,
        "reuse.conf",
        "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_tw_reuse = 3\n",
    );
    file(
        dir,
        "topology.yaml",
        &format!(
            "version: 1\nnodes:\n  - name: host\n    kernel: \"6.8\"\n    sysctl: {{files: [reuse.conf]}}\napplied_by: {applied_by}\n"
        ),
    )
}

#[test]
fn applied_by_systemd_judges_systemd_end_state() {
    let dir = tempfile::tempdir().unwrap();
    let t = topology(&dir, "systemd");
    let v = json(&["--topology", &t]);
    let r = row(&v, "net.ipv4.tcp_tw_reuse");
    assert_eq!(r["value"], "2", "systemd-sysctl wrote only the refused 3");
    assert_eq!(r["verdict"], "dangerous");
    let msg = diags(&v, "TW006")[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("never applied"), "{msg}");
    // The other tool's end state is still named.
    assert_eq!(diags(&v, "TW010").len(), 1);

    let dir = tempfile::tempdir().unwrap();
    let t = topology(&dir, "procps");
    let v = json(&["--topology", &t]);
    assert_eq!(row(&v, "net.ipv4.tcp_tw_reuse")["value"], "1");
}

#[test]
fn applied_by_an_unknown_tool_is_an_error_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let t = topology(&dir, "systmd");
    let out = twlint(&["--format", "gcc", "--topology", &t]);
    assert_eq!(out.status.code(), Some(2));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("topology.yaml:6:13"), "{text}");
    assert!(text.contains("expected `procps` or `systemd`"), "{text}");
    assert!(text.contains("did you mean `systemd`?"), "{text}");
}
