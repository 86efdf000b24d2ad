//! What the command line says about itself: shell completions, the man pages, the JSON Schemas
//! it prints, help grouped by input, rules and output, and errors that say what to do next.
//! Real processes, as a shell or an editor runs them.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;

fn twlint(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("twlint").unwrap();
    c.env("TWLINT_NO_LIVE", "1");
    c.current_dir(dir).args(["--color", "never"]);
    c
}

/// For subcommands, which take no top-level flags.
fn bare(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("twlint").unwrap();
    c.env("TWLINT_NO_LIVE", "1");
    c.current_dir(dir);
    c
}

#[test]
fn completions_name_the_subcommands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = bare(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        // fish writes long flags without their dashes (`-l fail-on`).
        for word in [
            "explain",
            "schema",
            "topology",
            "fail-on",
            "no-inline-ignores",
        ] {
            assert!(text.contains(word), "{shell} completion lacks {word}");
        }
        if shell == "bash" {
            let script = dir.path().join("twlint.bash");
            std::fs::write(&script, &text).unwrap();
            let ok = std::process::Command::new("bash")
                .arg("-n")
                .arg(&script)
                .status()
                .unwrap();
            assert!(ok.success(), "bash -n rejects the completion script");
        }
    }
}

#[test]
fn the_man_page_documents_the_flags() {
    let out = bare(Path::new(".")).arg("man").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(".ie") || text.contains(".TH twlint 1"));
    for word in [
        "\\-\\-fail\\-on",
        "\\-\\-config",
        "explain",
        "completions",
        ".SH \"EXIT STATUS\"",
        ".SH ENVIRONMENT",
        "TWLINT_NO_LIVE",
        ".SH FILES",
        ".twlint.yaml",
        ".SH EXAMPLES",
        ".SH \"SEE ALSO\"",
        "twlint\\-advise(1)",
    ] {
        assert!(text.contains(word), "the man page lacks {word}");
    }
    // One preamble, one title: the sections twlint adds follow clap_mangen's page.
    assert_eq!(text.matches(".TH ").count(), 1, "{text}");
}

#[test]
fn every_subcommand_has_a_man_page() {
    let dir = tempfile::tempdir().unwrap();
    let out = bare(Path::new("."))
        .args(["man", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    pages.sort();
    let listed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(listed.lines().count(), pages.len(), "{listed}");
    for sub in [
        "advise",
        "observe",
        "snapshot",
        "host",
        "explain",
        "rules",
        "completions",
        "man",
        "schema",
    ] {
        let name = format!("twlint-{sub}.1");
        assert!(pages.contains(&name), "no {name} in {pages:?}");
        let text = std::fs::read_to_string(dir.path().join(&name)).unwrap();
        assert!(
            text.contains(&format!(".TH twlint-{sub} 1 ")),
            "{name}: {text}"
        );
        assert!(text.contains(".SH \"EXIT STATUS\""), "{name}");
        assert!(
            text.contains("twlint(1)"),
            "{name} does not point back to twlint(1)"
        );
        // `twlint man SUB` prints the same page.
        let one = bare(Path::new(".")).args(["man", sub]).output().unwrap();
        assert_eq!(String::from_utf8(one.stdout).unwrap(), text, "{name}");
    }
    assert!(pages.contains(&"twlint.1".to_string()));
    assert!(
        !pages.iter().any(|p| p == "twlint-help.1"),
        "a page for `help`: {pages:?}"
    );
    // A page that does not exist is an error that lists the ones that do.
    let out = bare(Path::new(".")).args(["man", "lint"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("there is no page twlint-lint") && err.contains("twlint-advise"),
        "{err}"
    );
}

#[test]
fn schemas_are_printed_as_json() {
    for (kind, title) in [
        ("topology", "twlint topology (format version 1)"),
        ("rule", "twlint rule"),
        ("config", "twlint configuration (.twlint.yaml)"),
    ] {
        let out = bare(Path::new("."))
            .args(["schema", kind])
            .output()
            .unwrap();
        assert!(out.status.success());
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["title"], title);
        assert!(v["$schema"].as_str().unwrap().contains("json-schema.org"));
    }
}

#[test]
fn help_is_grouped_by_input_rules_output() {
    let out = twlint(Path::new(".")).arg("--help").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let pos = |h: &str| text.find(h).unwrap_or_else(|| panic!("no {h} in --help"));
    assert!(pos("Input:") < pos("Rules:") && pos("Rules:") < pos("Output:"));
    assert!(text[pos("Rules:")..pos("Output:")].contains("--config"));
    for sub in ["explain", "rules"] {
        let out = bare(Path::new(".")).args([sub, "--help"]).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("Rules:") && text.contains("Output:"),
            "{sub} --help: {text}"
        );
    }
}

#[test]
fn errors_say_what_to_do_next() {
    let dir = tempfile::tempdir().unwrap();
    twlint(dir.path())
        .args(["--node", "lb"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("add --topology FILE"));
    twlint(dir.path())
        .arg("missing.conf")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("help: check the path"));
}
