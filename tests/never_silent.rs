//! Never silent: a run that fails says why in every format, at the most precise place there is.
//! The fixture fails on kernel defaults alone (values nobody wrote), whose findings point at the
//! topology's link line; every reference topology is checked for a diagnostic behind each
//! verdict that fails its run.

// Not every helper there is used by this file.
#[allow(dead_code)]
#[path = "common/in_process.rs"]
mod in_process;

use in_process::twlint;
use serde_json::Value;
use std::path::Path;

const DEFAULTS: &str = "tests/fixtures/never-silent/defaults-only.yaml";

/// The link `lb -> web` is on line 8 of the fixture; its first column of text is 5.
const LINK_LINE: usize = 8;

fn run(format: &str) -> (i32, String) {
    let out = twlint(&["--topology", DEFAULTS, "--format", format]);
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn gcc_names_the_failing_defaults_at_the_link_line() {
    let (code, text) = run("gcc");
    assert_eq!(code, 1, "{text}");
    for rule in ["TW110", "TW130"] {
        assert!(
            text.lines().any(
                |l| l.starts_with(&format!("{DEFAULTS}:{LINK_LINE}:5: error: lb: "))
                    && l.ends_with(&format!("[{rule}]"))
            ),
            "{rule} missing:\n{text}"
        );
    }
}

#[test]
fn github_annotates_the_link_line() {
    let (code, text) = run("github");
    assert_eq!(code, 1, "{text}");
    for rule in ["TW110", "TW130"] {
        assert!(
            text.lines().any(|l| l
                .starts_with(&format!("::error file={DEFAULTS},line={LINK_LINE},col=5,"))
                && l.contains(&format!("title={rule} "))),
            "{rule} missing:\n{text}"
        );
    }
}

#[test]
fn sarif_has_a_located_result_per_failing_default() {
    let (code, text) = run("sarif");
    assert_eq!(code, 1);
    let log: Value = serde_json::from_str(&text).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    for rule in ["TW110", "TW130"] {
        let r = results
            .iter()
            .find(|r| r["ruleId"] == rule)
            .unwrap_or_else(|| panic!("{rule} missing: {text}"));
        assert_eq!(r["level"], "error");
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], DEFAULTS);
        assert_eq!(loc["region"]["startLine"], LINK_LINE);
        assert_eq!(r["properties"]["node"], "lb");
    }
}

#[test]
fn json_lists_a_diagnostic_per_failing_default() {
    let (code, text) = run("json");
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&text).unwrap();
    let diags = report["diagnostics"].as_array().unwrap();
    for rule in ["TW110", "TW130"] {
        let d = diags
            .iter()
            .find(|d| d["rule"] == rule)
            .unwrap_or_else(|| panic!("{rule} missing: {text}"));
        assert_eq!(d["severity"], "error");
        assert_eq!(d["node"], "lb");
        assert_eq!(d["location"]["line"], LINK_LINE);
        assert_eq!(d["location"]["path"], DEFAULTS);
    }
}

#[test]
fn human_frames_the_link_line_with_the_default_named() {
    let (code, text) = run("human");
    assert_eq!(code, 1);
    for (rule, label) in [
        (
            "TW110",
            "net.ipv4.tcp_tw_reuse = 2 (kernel default) on lb, client side",
        ),
        (
            "TW130",
            "net.ipv4.ip_local_port_range = 32768 60999 (kernel default) on lb, client side",
        ),
    ] {
        assert!(text.contains(&format!("[{rule}] Error: ")), "{text}");
        assert!(text.contains(label), "{label}:\n{text}");
    }
    assert!(
        text.contains(&format!("{DEFAULTS}:{LINK_LINE}:5")),
        "{text}"
    );
}

#[test]
fn markdown_lists_the_failing_defaults_with_their_place() {
    let (code, text) = run("markdown");
    assert_eq!(code, 1);
    for rule in ["TW110", "TW130"] {
        assert!(
            text.lines().any(|l| l
                .starts_with(&format!("| `{DEFAULTS}:{LINK_LINE}:5` | error | [{rule}]"))),
            "{rule} missing:\n{text}"
        );
    }
}

/// Whatever the topology, a dangerous verdict that no suppression hides (written or not) comes
/// with a diagnostic of its rule on its node, which every format renders.
#[test]
fn every_verdict_that_fails_a_reference_topology_has_a_diagnostic() {
    let mut checked = 0;
    let mut topos: Vec<_> = std::fs::read_dir("topologies")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    topos.push(DEFAULTS.into());
    topos.sort();
    for path in topos {
        let out = twlint(&[
            "--topology",
            path.to_str().unwrap(),
            "--format",
            "json",
            "--no-config",
        ]);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let diags = report["diagnostics"].as_array().unwrap();
        for v in report["verdicts"].as_array().unwrap() {
            if v["verdict"] != "dangerous" || !v["suppressed"].is_null() {
                continue;
            }
            checked += 1;
            assert!(
                diags
                    .iter()
                    .any(|d| d["rule"] == v["rule"] && d["node"] == v["node"]),
                "{}: no diagnostic for {v}",
                path.display()
            );
        }
    }
    assert!(checked >= 2, "{checked}");
    assert!(Path::new(DEFAULTS).exists());
}

/// Code scanning tracks an alert across commits by its partial fingerprint: one per result,
/// different for different findings, and unchanged when lines are added above the finding.
#[test]
fn sarif_fingerprints_survive_lines_moving() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(DEFAULTS).unwrap();
    let moved = dir.path().join("moved.yaml");
    let fingerprints = |path: &str| -> Vec<String> {
        let out = twlint(&["--topology", path, "--format", "sarif"]);
        let log: Value = serde_json::from_slice(&out.stdout).unwrap();
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["twlintFinding/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let before = fingerprints(DEFAULTS);
    assert_eq!(before.len(), 2);
    assert_ne!(before[0], before[1]);
    // The same topology in another file would differ by its path; compare in one place.
    std::fs::write(&moved, &text).unwrap();
    let here = fingerprints(moved.to_str().unwrap());
    std::fs::write(&moved, format!("# a comment\n# and another\n{text}")).unwrap();
    assert_eq!(fingerprints(moved.to_str().unwrap()), here);
}
