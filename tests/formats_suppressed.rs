//! Suppressions and `.twlint.yaml` severity overrides in the machine formats: every format
//! treats a suppressed finding as the human and JSON outputs do (listed with its reason where
//! the format can say so, never counted, never an annotation), and shows the overridden level.
//! Runs the real binary on examples/09-suppressions-config with its configuration.

mod common;

use assert_cmd::Command;
use serde_json::Value;

const FILES: &[&str] = &[
    "examples/09-suppressions-config/sysctl.d",
    "--config",
    "examples/09-suppressions-config/twlint.yaml",
];
const TOPOLOGY: &[&str] = &[
    "--topology",
    "examples/09-suppressions-config/topology.yaml",
    "--config",
    "examples/09-suppressions-config/twlint.yaml",
];

/// stdout of a run from the repository root (exit 0 or 1 only).
fn run(input: &[&str], extra: &[&str]) -> String {
    let out = Command::cargo_bin("twlint")
        .unwrap()
        .env("TWLINT_NO_LIVE", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--color", "never"])
        .args(input)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn format(input: &[&str], f: &str) -> String {
    let text = run(input, &["--format", f]);
    // The commit that built twlint is no part of a snapshot.
    if f == "sarif" {
        twlint::build_info::without_commit_text(&text)
    } else {
        text
    }
}

fn json(input: &[&str], extra: &[&str]) -> Value {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&run(input, &args)).unwrap()
}

#[test]
fn snapshots_with_suppressions_and_levels() {
    for f in ["markdown", "sarif", "github", "gcc", "prometheus"] {
        insta::assert_snapshot!(format!("suppressed_files_{f}"), format(FILES, f));
        insta::assert_snapshot!(format!("suppressed_topology_{f}"), format(TOPOLOGY, f));
    }
}

/// The rows of the Markdown outside any `<details>` block (what a reviewer sees unfolded).
fn unfolded(md: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for l in md.lines() {
        if l.starts_with("<details>") {
            depth += 1;
        }
        if depth == 0 {
            out.push_str(l);
            out.push('\n');
        }
        if l.starts_with("</details>") {
            depth -= 1;
        }
    }
    out
}

#[test]
fn markdown_folds_suppressed_rows_with_their_reason_and_does_not_count_them() {
    let md = format(FILES, "markdown");
    let summary = &json(FILES, &[])["summary"];
    // The one dangerous verdict left is the load generator's wide range (TW133, a warning).
    assert_eq!(summary["dangerous"], 1);
    assert!(md.contains("**1 dangerous**, 0 pointless, 11 safe"), "{md}");
    assert!(md.contains("Suppressed: 1 setting, 2 findings in files"));
    // The suppressed dangerous verdict is not in any unfolded table.
    assert!(
        !unfolded(&md).contains("tw_reuse_delay` | `100` | 🔴"),
        "{md}"
    );
    assert!(!unfolded(&md).contains("TW171"), "{md}");
    // It is in its own folded table, with the reason and where it was written.
    let folded = md
        .split("<details><summary>1 suppressed setting</summary>")
        .nth(1)
        .expect("a suppressed section")
        .split("</details>")
        .next()
        .unwrap();
    assert!(folded.contains("🔴 **dangerous**"));
    assert!(folded.contains("peers are our own 6.x hosts (1 ms timestamp clock); measured in LOAD-42 (line directive at `examples/09-suppressions-config/sysctl.d/60-loadgen.conf:2`)"), "{folded}");
    assert!(md.contains("<details><summary>2 suppressed findings in files</summary>"));
    // The severity override shows in the findings table's level column.
    assert!(md.contains("| info | [TW007]"), "{md}");

    // Without suppressions the same verdict is counted and shown unfolded.
    let md = run(FILES, &["--format", "markdown", "--no-inline-ignores"]);
    assert!(md.contains("**2 dangerous**"), "{md}");
    assert!(unfolded(&md).contains("TW171"));
    assert!(!md.contains("suppressed"));
}

#[test]
fn markdown_shows_a_verdict_level_override_beside_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.conf"), "net.ipv4.tcp_fin_timeout = 15\n").unwrap();
    std::fs::write(dir.path().join("c.yaml"), "severity:\n  TW140: info\n").unwrap();
    let out = Command::cargo_bin("twlint")
        .unwrap()
        .env("TWLINT_NO_LIVE", "1")
        .current_dir(dir.path())
        .args(["a.conf", "--config", "c.yaml", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("| 🟡 pointless (counts as info) |"), "{md}");
}

fn sarif_validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(include_str!("sarif/sarif-schema-2.1.0.json")).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

#[test]
fn sarif_marks_suppressed_results_and_follows_the_level_overrides() {
    let validator = sarif_validator();
    for input in [FILES, TOPOLOGY] {
        let doc: Value = serde_json::from_str(&format(input, "sarif")).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let report = json(input, &[]);
        let results = doc["runs"][0]["results"].as_array().unwrap();
        let open: Vec<&Value> = results
            .iter()
            .filter(|r| r.get("suppressions").is_none())
            .collect();
        let hidden: Vec<&Value> = results
            .iter()
            .filter(|r| r.get("suppressions").is_some())
            .collect();
        let diags = report["diagnostics"].as_array().unwrap();
        let suppressed = report["suppressed"].as_array().unwrap();
        assert_eq!(open.len(), diags.len());
        assert_eq!(hidden.len(), suppressed.len());
        assert!(!hidden.is_empty());
        for (r, s) in hidden.iter().zip(suppressed) {
            assert_eq!(r["ruleId"], s["rule"]);
            let sup = &r["suppressions"][0];
            assert_eq!(sup["kind"], "inSource");
            assert_eq!(sup["status"], "accepted");
            assert_eq!(sup["justification"], s["suppressed"]["reason"]);
            let region = &sup["location"]["physicalLocation"]["region"];
            assert_eq!(region["startLine"], s["suppressed"]["location"]["line"]);
        }
        // Levels follow the report's severities, overrides included.
        for (r, d) in open.iter().zip(diags) {
            let want = match d["severity"].as_str().unwrap() {
                "info" => "note",
                s => s,
            };
            assert_eq!(r["level"], want, "{r:#}");
        }
    }
    // TW007 is `info` in the configuration: a note; without it, a warning.
    let level = |doc: &Value| {
        doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ruleId"] == "TW007")
            .unwrap()["level"]
            .clone()
    };
    let with: Value = serde_json::from_str(&format(FILES, "sarif")).unwrap();
    assert_eq!(level(&with), "note");
    let without: Value =
        serde_json::from_str(&run(&FILES[..1], &["--format", "sarif", "--no-config"])).unwrap();
    assert_eq!(level(&without), "warning");
}

#[test]
fn github_and_gcc_leave_suppressed_findings_out_and_follow_the_levels() {
    let gh = format(FILES, "github");
    assert!(
        !gh.contains("title=TW171") && !gh.contains("title=TW006"),
        "{gh}"
    );
    assert!(gh.contains("::notice file=examples/09-suppressions-config/sysctl.d/60-loadgen.conf,line=9,col=32,endColumn=43,title=TW007 port-range-same-parity::"), "{gh}");
    let gcc = format(FILES, "gcc");
    assert!(
        !gcc.contains("[TW171]") && !gcc.contains("[TW006]"),
        "{gcc}"
    );
    assert!(gcc.contains(
        "examples/09-suppressions-config/sysctl.d/60-loadgen.conf:9:32: note: port range 10000-65000 starts and ends on the same parity [TW007]"
    ));
    // --no-inline-ignores brings them back, at their own level.
    let gh = run(FILES, &["--format", "github", "--no-inline-ignores"]);
    assert!(
        gh.contains(
            "::error file=examples/09-suppressions-config/sysctl.d/60-loadgen.conf,line=3,"
        ),
        "{gh}"
    );
    let gcc = run(FILES, &["--format", "gcc", "--no-inline-ignores"]);
    assert!(gcc.contains(": error: tcp_tw_reuse_delay=100 ms"), "{gcc}");
    assert!(gcc.contains("[TW006]"));
}

fn samples(text: &str, family: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[test]
fn prometheus_counts_suppressed_findings_apart() {
    for input in [FILES, TOPOLOGY] {
        let text = format(input, "prometheus");
        common::check_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let report = json(input, &[]);
        let sum = |f: &str| samples(&text, f).iter().map(|s| s.1).sum::<f64>() as u64;
        let s = &report["summary"];
        assert_eq!(
            sum("twlint_verdicts"),
            s["dangerous"].as_u64().unwrap()
                + s["pointless"].as_u64().unwrap()
                + s["safe"].as_u64().unwrap()
        );
        assert_eq!(
            sum("twlint_findings"),
            s["dangerous"].as_u64().unwrap() + s["pointless"].as_u64().unwrap()
        );
        assert_eq!(
            sum("twlint_suppressed_findings"),
            report["verdicts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|v| v.get("suppressed").is_some() && v["verdict"] != "safe")
                .count() as u64
        );
        assert_eq!(
            sum("twlint_suppressed_diagnostics"),
            s["suppressed"]["diagnostics"].as_u64().unwrap()
        );
        assert_eq!(
            sum("twlint_diagnostics"),
            report["diagnostics"].as_array().unwrap().len() as u64
        );
    }
    let text = format(FILES, "prometheus");
    // Only the unsuppressed TW133 (the load generator's wide range) is a finding.
    assert_eq!(
        samples(&text, "twlint_findings"),
        [(
            "twlint_findings{node=\"examples/09-suppressions-config/sysctl.d\",rule=\"TW133\",verdict=\"dangerous\"}".to_string(),
            1.0
        )],
        "{text}"
    );
    assert_eq!(
        samples(&text, "twlint_suppressed_findings"),
        [(
            "twlint_suppressed_findings{node=\"examples/09-suppressions-config/sysctl.d\",rule=\"TW171\",verdict=\"dangerous\"}".to_string(),
            1.0
        )]
    );
    // Without suppressions the families are absent and the finding is back.
    let text = run(FILES, &["--format", "prometheus", "--no-inline-ignores"]);
    assert!(!text.contains("twlint_suppressed_"));
    assert_eq!(samples(&text, "twlint_findings").len(), 2);
}
