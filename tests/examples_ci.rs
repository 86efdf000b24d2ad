//! The CI and monitoring examples run as written: the GitHub Actions workflow's `run:` steps,
//! the GitLab job's script and the systemd unit's script are parsed out of the example files
//! and executed against the example's own files with the twlint built here, and what they
//! produce (annotations, SARIF, Markdown, drop-ins, the Prometheus textfile) is checked.
//! Steps that need the hosting service (installing twlint from git, `gh`, `curl` to the API,
//! `uses:` actions) are not run; their inputs are checked to exist instead.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use twlint::source::SourceMap;
use twlint::yaml::{self, YamlNode};

fn parse_yaml(path: &str) -> YamlNode {
    let text = std::fs::read_to_string(path).unwrap();
    let mut sources = SourceMap::new();
    let id = sources.add(path, text.clone());
    yaml::parse(id, &text).unwrap().root
}

fn scalar(n: &YamlNode) -> String {
    n.as_scalar().unwrap().0.value.clone()
}

fn items(n: &YamlNode) -> &[YamlNode] {
    match n {
        YamlNode::Sequence { items, .. } => items,
        other => panic!("expected a list, found {}", other.describe()),
    }
}

fn entries(n: &YamlNode) -> &[(twlint::source::Spanned<String>, YamlNode)] {
    match n {
        YamlNode::Mapping { entries, .. } => entries,
        other => panic!("expected a mapping, found {}", other.describe()),
    }
}

/// A PATH with the twlint built for these tests first.
fn path_with_twlint() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_twlint")).parent().unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Runs a script the way the CI service does (bash, stop at the first failure) in `dir`.
fn run_script(script: &str, dir: &Path, env: &[(String, String)]) -> std::process::Output {
    Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path_with_twlint())
        .env("TWLINT_NO_LIVE", "1")
        .env("NO_COLOR", "1")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap()
}

fn needs_the_service(script: &str) -> bool {
    script.contains("cargo install") || script.contains("pip install") || script.contains("gh pr ")
}

#[test]
fn github_actions_workflow_runs_as_written() {
    let wf = parse_yaml("examples/06-github-actions/twlint.yml");
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        Path::new("examples/06-github-actions/infra"),
        &dir.path().join("infra"),
    );
    let summary = dir.path().join("step-summary.md");
    let mut env: Vec<(String, String)> = entries(wf.get("env").unwrap())
        .iter()
        .map(|(k, v)| (k.value.clone(), scalar(v)))
        .collect();
    env.push(("GITHUB_STEP_SUMMARY".into(), summary.display().to_string()));
    let (_, job) = &entries(wf.get("jobs").unwrap())[0];
    let steps = items(job.get("steps").unwrap());
    let mut ran = Vec::new();
    let mut annotations = String::new();
    for step in steps {
        let name = step.get("name").map(scalar).unwrap_or_default();
        if let Some(uses) = step.get("uses").map(scalar) {
            if uses.starts_with("github/codeql-action/upload-sarif") {
                // The file the upload reads was written by an earlier step, and is SARIF.
                let file = scalar(step.get("with").unwrap().get("sarif_file").unwrap());
                let text = std::fs::read_to_string(dir.path().join(&file))
                    .unwrap_or_else(|_| panic!("{file} was not written before the upload"));
                let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(doc["version"], "2.1.0");
                assert!(!doc["runs"][0]["results"].as_array().unwrap().is_empty());
            }
            continue;
        }
        let script = scalar(step.get("run").unwrap());
        if needs_the_service(&script) {
            if script.contains("gh pr ") {
                // The comment posts the file the previous step wrote.
                assert!(dir.path().join("twlint-comment.md").exists());
            }
            continue;
        }
        let out = run_script(&script, dir.path(), &env);
        let code = out.status.code();
        if name.starts_with("Fail on dangerous") {
            // The example infra has a dangerous setting (db turns timestamps off): the gate fails.
            assert_eq!(
                code,
                Some(1),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            assert_eq!(
                code,
                Some(0),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if name.starts_with("Annotate") {
            annotations = String::from_utf8(out.stdout).unwrap();
        }
        ran.push(name);
    }
    assert_eq!(ran.len(), 4, "{ran:?}");
    // Annotations land on the file and line of the dangerous value.
    assert!(
        annotations
            .contains("::error file=infra/hosts/db/sysctl.d/60-hardening.conf,line=2,col=27,"),
        "{annotations}"
    );
    // The comment holds the per-hop report and the advised drop-in, and so does the summary.
    let comment = std::fs::read_to_string(dir.path().join("twlint-comment.md")).unwrap();
    assert!(comment.contains("### hop `web->db`"), "{comment}");
    assert!(
        comment.contains("### `99-twlint-db.conf` on db"),
        "{comment}"
    );
    assert!(comment.contains("net.ipv4.tcp_timestamps = 1"));
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), comment);
}

#[test]
fn gitlab_job_runs_as_written() {
    let ci = parse_yaml("examples/07-gitlab-ci/gitlab-ci.yml");
    let job = ci.get("twlint").unwrap();
    let env: Vec<(String, String)> = entries(job.get("variables").unwrap())
        .iter()
        .map(|(k, v)| (k.value.clone(), scalar(v)))
        .collect();
    let before: Vec<String> = items(job.get("before_script").unwrap())
        .iter()
        .map(scalar)
        .collect();
    assert!(before.iter().all(|s| needs_the_service(s)), "{before:?}");
    let script: Vec<String> = items(job.get("script").unwrap())
        .iter()
        .map(scalar)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        Path::new("examples/06-github-actions/infra"),
        &dir.path().join("infra"),
    );
    // GitLab runs the lines in one shell; everything but the gate succeeds, the gate fails on
    // the example's dangerous setting.
    let (gate, rest) = script.split_last().unwrap();
    let out = run_script(&rest.join("\n"), dir.path(), &env);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8(out.stdout).unwrap();
    assert!(
        log.contains("infra/hosts/db/sysctl.d/60-hardening.conf:2:27: error: "),
        "{log}"
    );
    let out = run_script(gate, dir.path(), &env);
    assert_eq!(out.status.code(), Some(1));
    // The artifacts exist and say what they should.
    let paths: Vec<String> = items(job.get("artifacts").unwrap().get("paths").unwrap())
        .iter()
        .map(scalar)
        .collect();
    for p in &paths {
        assert!(dir.path().join(p).exists(), "artifact {p} missing");
    }
    let md = std::fs::read_to_string(dir.path().join("twlint.md")).unwrap();
    assert!(md.contains("## twlint advise"));
    let dropin = std::fs::read_to_string(dir.path().join("advised/99-twlint-db.conf")).unwrap();
    assert!(dropin.contains("net.ipv4.tcp_timestamps = 1"));
}

#[test]
fn systemd_unit_writes_a_valid_textfile() {
    let e = Path::new("examples/08-prometheus-textfile");
    let unit = std::fs::read_to_string(e.join("twlint-textfile.service")).unwrap();
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    // The unit runs the example's script, installed under the name it gives.
    let script = PathBuf::from(exec.trim());
    assert_eq!(script.file_name().unwrap(), "twlint-textfile.sh");
    let timer = std::fs::read_to_string(e.join("twlint-textfile.timer")).unwrap();
    assert!(timer.lines().any(|l| l == "Unit=twlint-textfile.service"));

    let out_dir = tempfile::tempdir().unwrap();
    let run = || {
        Command::new("sh")
            .arg(e.join("twlint-textfile.sh"))
            .env("TWLINT", env!("CARGO_BIN_EXE_twlint"))
            .env("TEXTFILE_DIR", out_dir.path())
            .env("SYSCTL_ROOT", e.join("root"))
            .env("KERNEL", "6.8.0-45-generic")
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(out_dir.path().join("twlint.prom")).unwrap();
    common::check_exposition(&text).unwrap();
    assert!(
        text.contains("twlint_findings{node=\"examples/08-prometheus-textfile/root\",rule=\"TW101\",verdict=\"dangerous\"} 1"),
        "{text}"
    );
    // Only the final file is left behind; a second run gives the same bytes.
    let names: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("twlint.prom")]);
    assert_eq!(run().status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(out_dir.path().join("twlint.prom")).unwrap(),
        text
    );

    // An error keeps the previous file and fails the unit.
    let broken = Command::new("sh")
        .arg(e.join("twlint-textfile.sh"))
        .env("TWLINT", env!("CARGO_BIN_EXE_twlint"))
        .env("TEXTFILE_DIR", out_dir.path())
        .env("SYSCTL_ROOT", e.join("does-not-exist"))
        .env("KERNEL", "6.8")
        .output()
        .unwrap();
    assert_ne!(broken.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(out_dir.path().join("twlint.prom")).unwrap(),
        text
    );
}
