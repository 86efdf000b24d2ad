//! The formats CI tools read besides SARIF and GitHub's: GitLab Code Quality (the merge-request
//! widget), JUnit XML (test reports) and reviewdog's rdjson (review comments). Each is pinned
//! by a snapshot on the seed topology and checked for what its consumer needs: one entry per
//! finding, a path and line for each, unique fingerprints, the counts of the run.

#[allow(dead_code)]
#[path = "common/in_process.rs"]
mod in_process;

use in_process::twlint;
use serde_json::Value;

const SEED: &str = "topologies/lb-web-db.yaml";
const DEFAULTS: &str = "tests/fixtures/never-silent/defaults-only.yaml";

fn run(path: &str, format: &str) -> (i32, String) {
    let out = twlint(&["--topology", path, "--format", format]);
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn diagnostics(path: &str) -> Vec<Value> {
    let (_, json) = run(path, "json");
    let report: Value = serde_json::from_str(&json).unwrap();
    report["diagnostics"].as_array().unwrap().clone()
}

#[test]
fn gitlab_code_quality_has_one_issue_per_finding_with_a_unique_fingerprint() {
    let (code, text) = run(SEED, "gitlab");
    assert_eq!(code, 1);
    insta::assert_snapshot!("gitlab_seed", text);
    let issues: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(issues.len(), diagnostics(SEED).len());
    let mut fingerprints = std::collections::HashSet::new();
    for i in &issues {
        for field in ["description", "check_name", "fingerprint", "severity"] {
            assert!(i[field].is_string(), "{field}: {i}");
        }
        assert!(["info", "minor", "major", "critical", "blocker"]
            .contains(&i["severity"].as_str().unwrap()));
        assert!(i["location"]["path"].is_string());
        assert!(i["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        assert!(fingerprints.insert(i["fingerprint"].as_str().unwrap().to_string()));
    }
    // A run failing on defaults only has its issues at the link line.
    let (_, text) = run(DEFAULTS, "gitlab");
    let issues: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(issues.len(), 2);
    for i in issues {
        assert_eq!(i["location"]["path"], DEFAULTS);
        assert_eq!(i["location"]["lines"]["begin"], 8);
        assert_eq!(i["severity"], "major");
    }
}

#[test]
fn junit_has_a_failed_case_per_finding() {
    let (code, text) = run(SEED, "junit");
    assert_eq!(code, 1);
    insta::assert_snapshot!("junit_seed", text);
    let n = diagnostics(SEED).len();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
    assert!(text.contains(&format!("tests=\"{n}\" failures=\"{n}\" errors=\"0\"")));
    assert_eq!(text.matches("<testcase ").count(), n);
    assert_eq!(text.matches("<failure ").count(), n);
    assert_eq!(text.matches("</testcase>").count(), n);
    // Every element opened is closed, and no raw `<`, `&` or quote is left in the text.
    assert_eq!(text.matches("<testsuite ").count(), 1);
    assert!(text.trim_end().ends_with("</testsuite>\n</testsuites>"));
    let (_, text) = run(DEFAULTS, "junit");
    assert!(
        text.contains(&format!("name=\"TW110 {DEFAULTS}:8:5\"")),
        "{text}"
    );
}

#[test]
fn junit_of_a_clean_run_is_one_passing_case() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clean.conf");
    std::fs::write(&path, "net.ipv4.tcp_timestamps = 1\n").unwrap();
    let out = twlint(&[path.to_str().unwrap(), "--format", "junit"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("tests=\"1\" failures=\"0\" errors=\"0\""),
        "{text}"
    );
    assert!(text.contains("<testcase classname=\"twlint\" name=\"twlint\"/>"));
}

#[test]
fn rdjson_has_a_located_diagnostic_per_finding() {
    let (code, text) = run(SEED, "rdjson");
    assert_eq!(code, 1);
    insta::assert_snapshot!("rdjson_seed", text);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["source"]["name"], "twlint");
    assert_eq!(doc["severity"], "ERROR");
    let diags = doc["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), diagnostics(SEED).len());
    for d in diags {
        assert!(["ERROR", "WARNING", "INFO"].contains(&d["severity"].as_str().unwrap()));
        let start = &d["location"]["range"]["start"];
        let end = &d["location"]["range"]["end"];
        assert!(start["line"].as_u64().unwrap() >= 1, "{d}");
        assert!(
            (end["line"].as_u64(), end["column"].as_u64())
                > (start["line"].as_u64(), start["column"].as_u64()),
            "{d}"
        );
        assert!(
            d["code"]["url"].as_str().unwrap().contains("/rules/TW"),
            "{d}"
        );
    }
}
