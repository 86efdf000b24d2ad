//! The JSON report's own schema (`twlint schema report`): every JSON report pinned in
//! `tests/snapshots` validates against it, and so do the reports of the runs the snapshots do not
//! pin (host mode on each capture, a fleet of dumps, suppressions, an unread path, a manifest's
//! units, the advised topology); a report with a misspelt or unknown field fails it. The schema
//! is generated from the typed model the report is written from, so this test is what holds the
//! two together.

#[allow(dead_code)] // the other helpers are for other test files
mod common;

use assert_cmd::Command;
use serde_json::{json, Value};
use std::path::Path;

fn schema() -> Value {
    twlint::schema::report()
}

fn errors(schema: &Value, instance: &Value) -> Vec<String> {
    let v = jsonschema::validator_for(schema).expect("the generated schema compiles");
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// The schema of one of the report's parts (`JsonFleet`), with the definitions it refers to.
fn part(schema: &Value, def: &str) -> Value {
    json!({"$ref": format!("#/$defs/{def}"), "$defs": schema["$defs"].clone()})
}

/// The body of an insta snapshot file (after its `---` header).
fn snapshot_body(text: &str) -> &str {
    let rest = text
        .strip_prefix("---\n")
        .expect("a snapshot starts with its header");
    let end = rest.find("\n---\n").expect("the header ends");
    &rest[end + 5..]
}

fn is_report(v: &Value) -> bool {
    ["verdicts", "summary", "mode", "version"]
        .iter()
        .all(|k| v.get(k).is_some())
}

/// JSON snapshots of other formats, which have schemas of their own: SARIF, GitLab Code Quality,
/// reviewdog's rdjson, and `twlint observe`'s socket view.
const OTHER_FORMATS: &[&str] = &[
    "ci_formats__gitlab_",
    "ci_formats__rdjson_",
    "formats__sarif_",
    "formats_suppressed__suppressed_files_sarif",
    "formats_suppressed__suppressed_topology_sarif",
    "observe__",
];

#[test]
fn every_json_snapshot_of_the_report_validates() {
    let schema = schema();
    let mut reports = 0;
    let mut paths: Vec<_> = std::fs::read_dir("tests/snapshots")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "snap"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let Ok(v) = serde_json::from_str::<Value>(snapshot_body(&text)) else {
            continue;
        };
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let errs = if is_report(&v) {
            reports += 1;
            errors(&schema, &v)
        } else if name.starts_with("fleet__fleet_section") {
            errors(&part(&schema, "JsonFleet"), &v)
        } else {
            assert!(
                OTHER_FORMATS.iter().any(|p| name.starts_with(p)),
                "{name}: a JSON snapshot that is neither a report, a part of one, nor another format"
            );
            continue;
        };
        assert!(errs.is_empty(), "{name}:\n{}", errs.join("\n"));
    }
    assert!(reports >= 20, "only {reports} report snapshots found");
}

fn report_of(dir: &Path, args: &[&str]) -> Value {
    let out = Command::cargo_bin("twlint")
        .unwrap()
        .current_dir(dir)
        .env("TWLINT_NO_LIVE", "1")
        .args(args)
        .args(["--format", "json", "--no-config"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: {e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn dump(release: &str, extra: &str) -> String {
    common::small_dump(
        &format!("kernel.osrelease = {release}\n"),
        &format!("net.ipv4.tcp_tw_reuse = 2\nnet.ipv4.tcp_timestamps = 1\n{extra}"),
    )
}

#[test]
fn the_reports_tests_produce_validate() {
    let schema = schema();
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path();
    std::fs::write(tmp.join("a.txt"), dump("6.8.0-45-generic", "")).unwrap();
    std::fs::write(
        tmp.join("b.txt"),
        dump("4.4.0", "net.ipv4.tcp_tw_recycle = 1\n"),
    )
    .unwrap();
    std::fs::write(
        tmp.join("70-legacy.conf"),
        "# twlint: disable=TW101 -- staging only\nnet.ipv4.tcp_tw_recycle = 1\n# twlint: disable=TW140\nnet.ipv4.tcp_fin_timeout = 30\n",
    )
    .unwrap();
    let topo = here.join("topologies/lb-web-db.yaml");
    let topo = topo.to_str().unwrap();
    let fixture = |p: &str| here.join(p).display().to_string();
    let runs: Vec<(&str, Vec<String>)> = vec![
        ("a fleet of dumps", vec!["a.txt".into(), "b.txt".into()]),
        ("an unread path", vec!["a.txt".into(), "missing.txt".into()]),
        (
            "suppressions",
            vec!["70-legacy.conf".into(), "--kernel".into(), "5.15".into()],
        ),
        (
            "a snapshot",
            vec![
                "--topology".into(),
                topo.into(),
                "--root".into(),
                fixture("tests/fixtures/host/snapshot-lb"),
            ],
        ),
        (
            "an sosreport",
            vec![
                "--topology".into(),
                topo.into(),
                "--root".into(),
                fixture("tests/fixtures/host/sosreport-web"),
            ],
        ),
        (
            "a proc tree",
            vec![
                "--topology".into(),
                topo.into(),
                "--root".into(),
                fixture("tests/fixtures/host/proc-db"),
                "--node".into(),
                "db".into(),
            ],
        ),
        (
            "a topology, declared values",
            vec![
                "--topology".into(),
                fixture("topologies/lb-web-db.yaml"),
                "--no-live".into(),
            ],
        ),
        (
            "a manifest",
            vec![fixture("tests/fixtures/inputs/kubernetes/workloads.yaml")],
        ),
        (
            "a compose file",
            vec![fixture("tests/fixtures/inputs/compose/compose.yaml")],
        ),
    ];
    for (what, args) in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let v = report_of(tmp, &args);
        let errs = errors(&schema, &v);
        assert!(errs.is_empty(), "{what}:\n{}", errs.join("\n"));
        match what {
            "a fleet of dumps" => assert!(v.get("fleet").is_some(), "{what}"),
            "an unread path" => assert!(v.get("unread").is_some(), "{what}"),
            "suppressions" => assert!(v.get("suppressed").is_some(), "{what}"),
            "a snapshot" => assert!(v["host"].get("drift").is_some(), "{what}"),
            _ => {}
        }
    }
}

#[test]
fn a_misspelt_or_unknown_field_fails() {
    let schema = schema();
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let v = report_of(
        here,
        &[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--root",
            "tests/fixtures/host/snapshot-lb",
        ],
    );
    assert!(errors(&schema, &v).is_empty());
    let rename = |v: &mut Value, from: &str, to: &str| {
        let obj = v.as_object_mut().unwrap();
        let x = obj.remove(from).unwrap();
        obj.insert(to.to_string(), x);
    };
    let mut bad = Vec::new();
    let mut w = v.clone();
    rename(&mut w["verdicts"][0], "verdict", "verdikt");
    bad.push(("a verdict's field", w));
    let mut w = v.clone();
    w["summary"]["dangerus"] = json!(0);
    bad.push(("a summary field", w));
    let mut w = v.clone();
    rename(&mut w["host"], "drift", "drfit");
    bad.push(("a host field", w));
    let mut w = v.clone();
    w["verdicts"][0]["source"]["lines"] = json!(3);
    bad.push(("a value source's field", w));
    let mut w = v.clone();
    w["diagnostics"][0]["location"]["colum"] = json!(3);
    bad.push(("a location's field", w));
    let mut w = v.clone();
    w["version"] = json!(2);
    bad.push(("another version", w));
    let mut w = v.clone();
    w.as_object_mut().unwrap().remove("nodes");
    bad.push(("a missing list", w));
    let mut w = v.clone();
    w["verdicts"][0]["verdict"] = json!(7);
    bad.push(("a number for a string", w));
    for (what, w) in bad {
        assert!(!errors(&schema, &w).is_empty(), "{what} passed the schema");
    }
}

#[test]
fn the_schema_command_prints_the_report_schema() {
    let out = Command::cargo_bin("twlint")
        .unwrap()
        .args(["schema", "report"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, schema());
    assert_eq!(printed["title"], "twlint JSON report, version 1");
    assert_eq!(printed["additionalProperties"], false);
}
