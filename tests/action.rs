//! The GitHub Action (`action.yml`) as GitHub would run it: every input its steps read is
//! declared, every `run:` step calls a script of dist/action/ that exists, and those scripts,
//! run with the inputs the steps give them and the twlint built here on PATH, annotate, write
//! SARIF and gate as the action promises. The install step downloads a release, so it is run
//! by `.ci/package.sh` against the tarball built there (a `file://` download-url).

use std::path::Path;
use std::process::Command;
use twlint::source::SourceMap;
use twlint::yaml::{self, YamlNode};

fn action() -> YamlNode {
    let text = std::fs::read_to_string("action.yml").unwrap();
    let mut sources = SourceMap::new();
    let id = sources.add("action.yml", text.clone());
    yaml::parse(id, &text).unwrap().root
}

fn scalar(n: &YamlNode) -> String {
    n.as_scalar().unwrap().0.value.clone()
}

fn keys(n: &YamlNode) -> Vec<String> {
    match n {
        YamlNode::Mapping { entries, .. } => entries.iter().map(|(k, _)| k.value.clone()).collect(),
        other => panic!("expected a mapping, found {}", other.describe()),
    }
}

fn steps(a: &YamlNode) -> Vec<YamlNode> {
    match a.get("runs").unwrap().get("steps").unwrap() {
        YamlNode::Sequence { items, .. } => items.clone(),
        other => panic!("expected a list, found {}", other.describe()),
    }
}

/// Runs one mode of dist/action/run.sh in `dir` with the given inputs; (exit code, stdout,
/// the GITHUB_OUTPUT it wrote).
fn run(dir: &Path, mode: &str, inputs: &[(&str, &str)]) -> (i32, String, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_twlint")).parent().unwrap();
    let output = dir.join("github-output");
    let _ = std::fs::remove_file(&output);
    let out = Command::new("bash")
        .arg(std::fs::canonicalize("dist/action/run.sh").unwrap())
        .arg(mode)
        .current_dir(dir)
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("TWLINT_NO_LIVE", "1")
        .env("GITHUB_OUTPUT", &output)
        .envs(inputs.iter().map(|(k, v)| (format!("INPUT_{k}"), *v)))
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        std::fs::read_to_string(&output).unwrap_or_default(),
    )
}

#[test]
fn every_input_a_step_reads_is_declared_and_every_script_exists() {
    let a = action();
    let declared = keys(a.get("inputs").unwrap());
    assert_eq!(
        scalar(a.get("runs").unwrap().get("using").unwrap()),
        "composite"
    );
    let mut scripts = 0;
    for step in steps(&a) {
        let mut text = String::new();
        for field in ["run", "if"] {
            if let Some(v) = step.get(field) {
                text.push_str(&scalar(v));
            }
        }
        for sub in ["env", "with"] {
            if let Some(m) = step.get(sub) {
                for k in keys(m) {
                    text.push_str(&scalar(m.get(&k).unwrap()));
                }
            }
        }
        for (i, _) in text.match_indices("inputs.") {
            let name: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            assert!(
                declared.contains(&name),
                "a step reads inputs.{name}, which is not declared"
            );
        }
        if let Some(run) = step.get("run") {
            let run = scalar(run);
            let script = run
                .split('"')
                .find(|w| w.starts_with("$GITHUB_ACTION_PATH/"))
                .unwrap_or_else(|| panic!("step runs no script of the action: {run}"))
                .trim_start_matches("$GITHUB_ACTION_PATH/");
            let meta = std::fs::metadata(script).unwrap_or_else(|_| panic!("{script} is missing"));
            assert!(
                std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0,
                "{script} is not executable"
            );
            scripts += 1;
        }
    }
    assert_eq!(scripts, 4);
    // The version the action installs by default is this one.
    let version = a
        .get("inputs")
        .unwrap()
        .get("version")
        .unwrap()
        .get("default")
        .unwrap();
    assert_eq!(scalar(version), env!("CARGO_PKG_VERSION"));
}

#[test]
fn the_steps_annotate_write_sarif_and_gate() {
    let dir = tempfile::tempdir().unwrap();
    let infra = Path::new("examples/06-github-actions/infra");
    let topo = std::fs::canonicalize(infra.join("topology.yaml")).unwrap();
    let topo = topo.to_str().unwrap();

    // Annotations, and the step itself passes whatever twlint found.
    let (code, out, _) = run(
        dir.path(),
        "report",
        &[("TOPOLOGY", topo), ("FORMAT", "github")],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("::error file="), "{out}");
    assert!(out.contains("60-hardening.conf,line=2,col=27"), "{out}");

    // SARIF at the path asked for, announced as the step's output.
    let (code, _, outputs) = run(
        dir.path(),
        "sarif",
        &[("TOPOLOGY", topo), ("SARIF_FILE", "out.sarif")],
    );
    assert_eq!(code, 0);
    assert_eq!(outputs, "sarif-file=out.sarif\n");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());

    // The gate fails on the example's dangerous setting and passes with --fail-on never.
    let (code, out, outputs) = run(dir.path(), "gate", &[("TOPOLOGY", topo)]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(outputs, "exit-code=1\n");
    assert!(out.contains("::error::twlint found settings"), "{out}");
    let (code, _, outputs) = run(
        dir.path(),
        "gate",
        &[("TOPOLOGY", topo), ("FAIL_ON", "never")],
    );
    assert_eq!((code, outputs.as_str()), (0, "exit-code=0\n"));

    // Paths, blank-separated, with a kernel and extra arguments.
    let clean = dir.path().join("a.conf");
    let legacy = dir.path().join("b.conf");
    std::fs::write(&clean, "net.ipv4.tcp_tw_reuse = 1\n").unwrap();
    std::fs::write(&legacy, "net.ipv4.tcp_tw_recycle = 1\n").unwrap();
    let (code, _, _) = run(
        dir.path(),
        "gate",
        &[("PATHS", "a.conf"), ("KERNEL", "6.8")],
    );
    assert_eq!(code, 0);
    let (code, out, _) = run(
        dir.path(),
        "gate",
        &[
            ("PATHS", "a.conf\nb.conf"),
            ("KERNEL", "6.8"),
            ("ARGS", "--no-config"),
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TW101"), "{out}");

    // Unreadable input: the report step warns, the gate fails with 2.
    let (code, out, _) = run(dir.path(), "report", &[("PATHS", "missing.conf")]);
    assert_eq!(code, 0);
    assert!(
        out.contains("::warning::twlint could not do its job (exit 2)"),
        "{out}"
    );
    let (code, _, outputs) = run(dir.path(), "gate", &[("PATHS", "missing.conf")]);
    assert_eq!((code, outputs.as_str()), (2, "exit-code=2\n"));

    // Neither topology nor paths: install only, nothing judged, nothing failed.
    let (code, out, _) = run(dir.path(), "gate", &[]);
    assert_eq!(code, 0);
    assert!(out.contains("nothing judged"), "{out}");
}
