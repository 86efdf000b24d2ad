//! Inputs on which fuzzing found a panic (tests/fuzz-regressions/), run through the real binary.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn twlint() -> Command {
    Command::cargo_bin("twlint").unwrap()
}

fn regressions() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "README.md")
        .collect();
    files.sort();
    files
}

/// Runs one input the way its fuzz target reads it; returns (exit code, stdout, stderr).
fn run(path: &Path) -> (i32, String, String) {
    let name = path.file_name().unwrap().to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = twlint();
    if name.starts_with("rule-") {
        // A rule folder only reads files named like rules.
        std::fs::copy(path, tmp.path().join("TW900-fuzz.yaml")).unwrap();
        cmd.arg("rules").arg("--rules").arg(tmp.path());
    } else if name.starts_with("topology-") {
        cmd.arg("--topology").arg(path).args(["--format", "json"]);
    } else {
        cmd.arg(path)
            .args(["--format", "human", "--color", "always"]);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn no_regression_input_makes_twlint_panic() {
    let files = regressions();
    assert!(!files.is_empty());
    for f in files {
        let (code, _, stderr) = run(&f);
        assert!(
            matches!(code, 0..=2) && !stderr.contains("panicked"),
            "{}: exit {code}\n{stderr}",
            f.display()
        );
    }
}

#[test]
fn a_cel_error_at_a_multibyte_character_points_at_that_character() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions/rule-multibyte-cel-error-column.yaml");
    let (code, _, stderr) = run(&f);
    assert_eq!(code, 2, "{stderr}");
    // Line 8, column 128 is the character itself, counted in characters as editors count.
    assert!(stderr.contains("TW900-fuzz.yaml:8:128 ]"), "{stderr}");
    assert!(stderr.contains("no rule was used"), "{stderr}");
}

#[test]
fn a_yaml_error_at_the_end_of_a_rule_file_points_at_its_last_line() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions/rule-yaml-error-at-end-of-file.yaml");
    let (code, _, stderr) = run(&f);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("invalid YAML"), "{stderr}");
    assert!(stderr.contains(" 4 │ wh 1"), "{stderr}");
}
