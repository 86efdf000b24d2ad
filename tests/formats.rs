//! The machine formats (`--format sarif|github|markdown|gcc|prometheus`): snapshots of each on
//! the seed topology and on a linted sysctl.d folder, SARIF validated against the official
//! OASIS schema (vendored in tests/sarif/), the Prometheus text parsed by a strict checker of
//! the exposition format, and GitHub workflow commands parsed back.

mod common;

use common::check_exposition;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use twlint::judge::{self, Request};
use twlint::render;
use twlint::report::Report;
use twlint::rules::load::load_catalog;
use twlint::rules::RuleSet;
use twlint::source::SourceMap;

struct Judged {
    sources: SourceMap,
    rules: RuleSet,
    report: Report,
}

fn topology(path: &str) -> Judged {
    let mut sources = SourceMap::new();
    let (rules, diags) = load_catalog(&[], &mut sources).unwrap();
    assert!(diags.is_empty());
    let opts = judge::Options::default();
    let loaded = judge::load_topology(Path::new(path), &opts, &mut sources).unwrap();
    let report = judge::judge(Request::topology(loaded), &opts, &rules, &mut sources).unwrap();
    Judged {
        sources,
        rules,
        report,
    }
}

fn files(paths: &[&str], kernel: Option<&str>) -> Judged {
    let mut sources = SourceMap::new();
    let (rules, _) = load_catalog(&[], &mut sources).unwrap();
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let kernel = kernel.map(|k| twlint::kernel::KernelVersion::parse(k).unwrap());
    let opts = judge::Options {
        kernel,
        ..judge::Options::default()
    };
    let sets = judge::read_sysctl_paths(&paths, &mut sources).unwrap();
    let report = judge::judge(Request::sets(sets), &opts, &rules, &mut sources).unwrap();
    Judged {
        sources,
        rules,
        report,
    }
}

fn render(j: &Judged, format: &str) -> String {
    let mut out = Vec::new();
    match format {
        "sarif" => render::sarif::write(&mut out, &j.sources, &j.rules, &j.report),
        "github" => render::github::write(&mut out, &j.sources, &j.rules, &j.report),
        "markdown" => render::markdown::write(&mut out, &j.sources, &j.rules, &j.report),
        "gcc" => render::gcc::write(&mut out, &j.sources, &j.report),
        "prometheus" => render::prometheus::write(&mut out, &j.report),
        _ => unreachable!(),
    }
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    // The commit that built twlint is no part of a snapshot.
    if format == "sarif" {
        twlint::build_info::without_commit_text(&text)
    } else {
        text
    }
}

/// Every input the format tests run on: all reference topologies and the linted examples.
fn inputs() -> Vec<(String, Judged)> {
    let mut v = Vec::new();
    let mut topos: Vec<_> = std::fs::read_dir("topologies")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    topos.sort();
    for p in topos {
        let s = p.display().to_string();
        v.push((s.clone(), topology(&s)));
    }
    v.push((
        "examples/01-lint-sysctl-d/sysctl.d".into(),
        files(&["examples/01-lint-sysctl-d/sysctl.d"], None),
    ));
    v.push((
        "examples/05-ci/etc/sysctl.d".into(),
        files(&["examples/05-ci/etc/sysctl.d/"], Some("6.8")),
    ));
    v
}

const SEED: &str = "topologies/lb-web-db.yaml";
const LINTED: &str = "examples/01-lint-sysctl-d/sysctl.d";

#[test]
fn sarif_snapshot() {
    insta::assert_snapshot!("sarif_seed", render(&topology(SEED), "sarif"));
    insta::assert_snapshot!("sarif_linted", render(&files(&[LINTED], None), "sarif"));
}

#[test]
fn github_snapshot() {
    insta::assert_snapshot!("github_seed", render(&topology(SEED), "github"));
    insta::assert_snapshot!("github_linted", render(&files(&[LINTED], None), "github"));
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!("markdown_seed", render(&topology(SEED), "markdown"));
    insta::assert_snapshot!(
        "markdown_linted",
        render(&files(&[LINTED], None), "markdown")
    );
}

#[test]
fn gcc_snapshot() {
    insta::assert_snapshot!("gcc_seed", render(&topology(SEED), "gcc"));
    insta::assert_snapshot!("gcc_linted", render(&files(&[LINTED], None), "gcc"));
}

#[test]
fn prometheus_snapshot() {
    insta::assert_snapshot!("prometheus_seed", render(&topology(SEED), "prometheus"));
    insta::assert_snapshot!(
        "prometheus_linted",
        render(&files(&[LINTED], None), "prometheus")
    );
}

fn sarif_validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("sarif/sarif-schema-2.1.0.json")).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the vendored SARIF schema compiles")
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let validator = sarif_validator();
    for (name, j) in inputs() {
        let doc: serde_json::Value = serde_json::from_str(&render(&j, "sarif")).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        // One result per diagnostic (suppressed ones too), each rule it uses described with help and a help URI.
        let run = &doc["runs"][0];
        assert_eq!(
            run["results"].as_array().unwrap().len(),
            j.report.diagnostics.len() + j.report.suppressed.len(),
            "{name}"
        );
        for rule in run["tool"]["driver"]["rules"].as_array().unwrap() {
            assert!(rule["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("### Why"));
            assert!(rule["helpUri"].as_str().unwrap().starts_with("https://"));
        }
        for (res, d) in run["results"]
            .as_array()
            .unwrap()
            .iter()
            .zip(&j.report.diagnostics)
        {
            if let Some(p) = &d.primary {
                let loc = j.sources.location(p.span);
                let region = &res["locations"][0]["physicalLocation"]["region"];
                assert_eq!(region["startLine"], loc.line, "{name}");
                assert_eq!(region["startColumn"], loc.column, "{name}");
            }
        }
    }
}

#[test]
fn the_schema_check_catches_a_broken_log() {
    // The validator is not vacuous: a result without a message and a bad level fail it.
    let validator = sarif_validator();
    let mut doc: serde_json::Value =
        serde_json::from_str(&render(&topology(SEED), "sarif")).unwrap();
    doc["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&doc));
}

#[test]
fn prometheus_text_is_valid_exposition_format() {
    for (name, j) in inputs() {
        let text = render(&j, "prometheus");
        let n = check_exposition(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        assert!(n > 0, "{name}");
        // The findings add up to the report's non-safe verdicts.
        let findings: f64 = text
            .lines()
            .filter(|l| l.starts_with("twlint_findings{"))
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
            .sum();
        let expected = j.report.count(twlint::diag::Verdict::Dangerous)
            + j.report.count(twlint::diag::Verdict::Pointless);
        assert_eq!(findings as usize, expected, "{name}");
    }
}

#[test]
fn the_exposition_checker_rejects_broken_text() {
    assert!(check_exposition("x 1\n").is_err());
    assert!(check_exposition("# HELP x h\n# TYPE x gauge\nx{a=\"b} 1\n").is_err());
    assert!(check_exposition("# HELP x h\n# TYPE x gauge\nx{a=\"b\"} one\n").is_err());
    assert!(check_exposition("# HELP x h\n# TYPE x gauge\nx 1\nx 2\n").is_err());
    assert_eq!(
        check_exposition("# HELP x h\n# TYPE x gauge\nx{a=\"q\\\"\"} 1\n"),
        Ok(1)
    );
}

#[test]
fn github_commands_parse_back_to_the_diagnostics() {
    fn unescape(s: &str) -> String {
        s.replace("%0A", "\n")
            .replace("%0D", "\r")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    }
    for (name, j) in inputs() {
        let text = render(&j, "github");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), j.report.diagnostics.len(), "{name}");
        for (line, d) in lines.iter().zip(&j.report.diagnostics) {
            let rest = line.strip_prefix("::").unwrap();
            let (head, msg) = rest.split_once("::").unwrap();
            let (cmd, props) = head.split_once(' ').unwrap();
            assert!(["error", "warning", "notice"].contains(&cmd));
            let props: HashMap<&str, String> = props
                .split(',')
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap();
                    (k, unescape(v))
                })
                .collect();
            assert!(props["title"].starts_with(&d.code));
            if let Some(p) = &d.primary {
                let loc = j.sources.location(p.span);
                assert_eq!(props["file"], loc.path);
                assert_eq!(props["line"], loc.line.to_string());
            }
            assert!(!msg.contains('\n'));
            assert!(unescape(msg).contains(&d.message), "{name}: {msg}");
        }
    }
}

#[test]
fn markdown_is_stable_and_puts_dangerous_rows_first() {
    let a = render(&topology(SEED), "markdown");
    let b = render(&topology(SEED), "markdown");
    assert_eq!(a, b);
    // In every findings table, no pointless row comes before a dangerous one.
    for table in a.split("\n\n") {
        let verdicts: Vec<bool> = table
            .lines()
            .filter(|l| l.starts_with("| "))
            .filter_map(|l| {
                if l.contains("**dangerous**") {
                    Some(true)
                } else if l.contains("pointless |") {
                    Some(false)
                } else {
                    None
                }
            })
            .collect();
        let mut sorted = verdicts.clone();
        sorted.sort_by(|x, y| y.cmp(x));
        assert_eq!(verdicts, sorted, "{table}");
    }
}
