//! The generated JSON Schemas describe the files twlint ships: every topology in `topologies/`
//! and every rule in `rules/` validates, and files with the mistakes the loaders reject fail.
//! The schemas are generated from the raw types the loaders read (`topology::raw`, `rules::raw`,
//! `settings::ConfigFile`), so these tests check that what the loaders accept and what the
//! schemas say agree where a schema can speak.

use serde_json::Value;
use std::path::{Path, PathBuf};
use twlint::source::{FileId, SourceMap};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_json(text: &str) -> Value {
    let mut sources = SourceMap::new();
    let id: FileId = sources.add("t.yaml", text);
    let doc = twlint::yaml::parse(id, text).expect("valid YAML");
    twlint::schema::yaml_to_json(&doc.root)
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    out.sort();
    out
}

fn errors(schema: &Value, instance: &Value) -> Vec<String> {
    let v = jsonschema::validator_for(schema).expect("the generated schema compiles");
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn every_shipped_topology_validates() {
    let schema = twlint::schema::topology();
    let files = yaml_files(&root().join("topologies"));
    assert!(files.len() >= 5, "topologies/ shrank: {files:?}");
    for f in files {
        let v = yaml_json(&std::fs::read_to_string(&f).unwrap());
        let errs = errors(&schema, &v);
        assert!(errs.is_empty(), "{}: {errs:#?}", f.display());
    }
}

#[test]
fn every_shipped_rule_validates() {
    let schema = twlint::schema::rule();
    let files = yaml_files(&root().join("rules"));
    assert!(files.len() >= 40, "rules/ shrank");
    for f in files {
        let v = yaml_json(&std::fs::read_to_string(&f).unwrap());
        let errs = errors(&schema, &v);
        assert!(errs.is_empty(), "{}: {errs:#?}", f.display());
    }
}

/// Rule examples embed topologies; those validate too (they are topologies users copy), except
/// the examples of the topology loader's own checks, which are wrong on purpose: those the
/// schema can see (field names, types, value sets) must fail it.
#[test]
fn topologies_in_rule_examples_validate() {
    let schema = twlint::schema::topology();
    // Checks whose mistakes a JSON Schema expresses; the others need cross-references or
    // formats (duplicate names, unknown nodes, addresses) that only the loader checks.
    let shape_checks = [
        "TW051", "TW052", "TW053", "TW058", "TW059", "TW062", "TW063", "TW090",
    ];
    let mut seen = 0;
    for f in yaml_files(&root().join("rules")) {
        let rule = yaml_json(&std::fs::read_to_string(&f).unwrap());
        let id = rule["id"].as_str().unwrap().to_string();
        let loader_check = id.as_str() >= "TW050" && id.as_str() < "TW100";
        for part in ["example", "use_instead"] {
            let Some(Value::String(t)) = rule["docs"][part].get("topology") else {
                continue;
            };
            // `#= PATH` sections after the topology are files beside it, not the topology.
            let t = &t
                .lines()
                .take_while(|l| !l.starts_with("#= "))
                .map(|l| format!("{l}\n"))
                .collect::<String>();
            seen += 1;
            if loader_check && part == "example" {
                if shape_checks.contains(&id.as_str()) {
                    assert!(
                        !errors(&schema, &yaml_json(t)).is_empty(),
                        "{id}'s example passes the schema"
                    );
                }
                continue;
            }
            let errs = errors(&schema, &yaml_json(t));
            assert!(errs.is_empty(), "{} {part}: {errs:#?}", f.display());
        }
    }
    assert!(seen >= 20, "only {seen} example topologies");
}

#[test]
fn wrong_topologies_fail_the_schema() {
    let schema = twlint::schema::topology();
    let good = "version: 1\nnodes:\n  - name: a\n    role: web\n    listen: [80]\n    ignore:\n      - {rule: TW101, reason: \"kept\"}\nlinks:\n  - {from: a, to: a, port: 80, closes_first: a, rate: 10}\n";
    assert!(errors(&schema, &yaml_json(good)).is_empty());
    for (bad, why) in [
        (good.replace("role: web", "role: webserver"), "unknown role"),
        (
            good.replace("    listen", "    listn"),
            "unknown node field",
        ),
        (good.replace("[80]", "[0]"), "port out of range"),
        (good.replace("version: 1", "version: 2"), "version 2"),
        (good.replace("rate: 10", "rate: 0"), "zero rate"),
        (
            good.replace(", reason: \"kept\"", ""),
            "ignore entry without a reason",
        ),
        (
            good.replace("{rule: TW101, reason: \"kept\"}", "TW101"),
            "ignore entry as a bare id",
        ),
        (good.replace("nodes:", "nodez:"), "no nodes"),
    ] {
        assert!(
            !errors(&schema, &yaml_json(&bad)).is_empty(),
            "the schema accepts a topology with {why}"
        );
    }
}

#[test]
fn wrong_rules_fail_the_schema() {
    let schema = twlint::schema::rule();
    let text = std::fs::read_to_string(root().join("rules/TW101-tw-recycle-removed.yaml")).unwrap();
    assert!(errors(&schema, &yaml_json(&text)).is_empty());
    for (from, to, why) in [
        ("id: TW101", "id: TW1010", "an id of the wrong shape"),
        (
            "verdict: dangerous",
            "verdict: deadly",
            "an unknown verdict",
        ),
        ("scope: ", "scop: ", "an unknown field"),
        (
            "name: tw-recycle-removed",
            "name: TwRecycleRemoved",
            "a name not in kebab-case",
        ),
    ] {
        assert!(text.contains(from), "TW101 changed: no `{from}`");
        let bad = text.replacen(from, to, 1);
        assert!(
            !errors(&schema, &yaml_json(&bad)).is_empty(),
            "the schema accepts a rule with {why}"
        );
    }
}

#[test]
fn config_schema_matches_the_loader() {
    let schema = twlint::schema::config();
    let good = "fail-on: pointless\nkernel: \"5.15\"\nrules: [my-rules]\nseverity:\n  TW006: off\n  TW121: error\n";
    assert!(errors(&schema, &yaml_json(good)).is_empty());
    assert!(!errors(&schema, &yaml_json("fail_on: pointless\n")).is_empty());
    assert!(!errors(&schema, &yaml_json("severity: {TW006: warn}\n")).is_empty());
}
