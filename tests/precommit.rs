//! `.pre-commit-hooks.yaml` works as pre-commit would run it: the hook's `files` pattern picks
//! the repository's sysctl files and nothing else, and its entry and args, given those files,
//! run the real binary to a verdict (exit 0 or 1, never 2). `.ci/precommit.sh` runs the hooks
//! through pre-commit itself.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use twlint::source::SourceMap;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn hooks() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let mut sources = SourceMap::new();
    let id = sources.add(".pre-commit-hooks.yaml", text.as_str());
    let doc = twlint::yaml::parse(id, &text).expect("the hooks file is valid YAML");
    match twlint::schema::yaml_to_json(&doc.root) {
        Value::Array(v) => v,
        other => panic!("the hooks file is a list of hooks, not {other}"),
    }
}

fn hook(id: &str) -> Value {
    hooks()
        .into_iter()
        .find(|h| h["id"] == id)
        .unwrap_or_else(|| panic!("no hook `{id}`"))
}

/// The hook's command line: `entry` split on blanks, then `args`.
fn command(h: &Value) -> Command {
    let entry = h["entry"].as_str().unwrap();
    let mut words = entry.split_whitespace();
    assert_eq!(words.next(), Some("twlint"), "the entry runs twlint");
    let mut cmd = Command::cargo_bin("twlint").unwrap();
    cmd.env("TWLINT_NO_LIVE", "1").args(words);
    for a in h["args"].as_array().into_iter().flatten() {
        cmd.arg(a.as_str().unwrap());
    }
    cmd.current_dir(root()).arg("--no-config");
    cmd
}

/// Every file of the repository, relative to its root, as pre-commit lists them.
fn repo_files(dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_dir() {
            if name != "target" && !name.starts_with('.') {
                repo_files(&p, out);
            }
        } else {
            out.push(
                p.strip_prefix(root())
                    .unwrap()
                    .to_string_lossy()
                    .to_string(),
            );
        }
    }
}

#[test]
fn every_hook_is_complete() {
    for h in hooks() {
        for field in ["id", "name", "entry", "language", "files"] {
            assert!(h[field].is_string(), "hook {} has no `{field}`", h["id"]);
        }
        // `rust`: pre-commit builds the crate with `cargo install`. `python`: it pip-installs
        // the top-level pyproject.toml, which pulls the prebuilt wheel. No binary needs to be
        // present either way.
        assert!(
            h["language"] == "rust" || h["language"] == "python",
            "hook {}: language {}",
            h["id"],
            h["language"]
        );
    }
}

/// Each prebuilt-wheel hook does exactly what its source-built twin does: only the language
/// (how pre-commit installs twlint) differs.
#[test]
fn the_python_hooks_mirror_the_rust_ones() {
    for id in ["twlint", "twlint-topology"] {
        let mut rust = hook(id);
        let mut python = hook(&format!("{id}-python"));
        assert_eq!(rust["language"], "rust");
        assert_eq!(python["language"], "python");
        for h in [&mut rust, &mut python] {
            let o = h.as_object_mut().unwrap();
            for k in ["id", "language", "description"] {
                o.remove(k);
            }
        }
        assert_eq!(rust, python, "{id} and {id}-python differ");
    }
    // The package pre-commit installs for them pins the wheel of this very version.
    let pyproject = std::fs::read_to_string(root().join("pyproject.toml")).unwrap();
    let pin = format!("dependencies = [\"twlint=={}\"]", env!("CARGO_PKG_VERSION"));
    assert!(pyproject.contains(&pin), "pyproject.toml lacks {pin}");
    let version = format!("version = \"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(
        pyproject.contains(&version),
        "pyproject.toml lacks {version}"
    );
}

#[test]
fn the_sysctl_hook_picks_sysctl_files_only() {
    let h = hook("twlint");
    let re = regex::Regex::new(h["files"].as_str().unwrap()).unwrap();
    for yes in [
        "sysctl.conf",
        "etc/sysctl.conf",
        "etc/sysctl.d/60-tcp.conf",
        "roles/web/files/web.sysctl.conf",
    ] {
        assert!(re.is_match(yes), "{yes} is not linted");
    }
    for no in [
        "etc/nginx/nginx.conf",
        "topologies/lb-web-db.yaml",
        "sysctl.conf.bak",
        "etc/sysctl.d/README",
    ] {
        assert!(!re.is_match(no), "{no} is linted");
    }
}

#[test]
fn the_sysctl_hook_runs_on_the_repository_files() {
    let h = hook("twlint");
    let re = regex::Regex::new(h["files"].as_str().unwrap()).unwrap();
    let mut files = Vec::new();
    repo_files(&root(), &mut files);
    let mut picked: Vec<String> = files.into_iter().filter(|f| re.is_match(f)).collect();
    picked.sort();
    assert!(
        picked.len() >= 5,
        "the hook picks too few files: {picked:?}"
    );
    let out = command(&h).args(&picked).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}: {stderr}",
        out.status.code()
    );
    assert!(!stderr.contains("twlint: error"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(" dangerous, "), "no summary: {stdout}");
}

#[test]
fn the_sysctl_hook_passes_a_clean_file_and_blocks_a_dangerous_one() {
    let h = hook("twlint");
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("60-tcp.conf");
    std::fs::write(&clean, "net.ipv4.tcp_tw_reuse = 1\n").unwrap();
    command(&h).arg(&clean).assert().code(0);
    let bad = dir.path().join("70-legacy.conf");
    std::fs::write(&bad, "net.ipv4.tcp_tw_recycle = 1\n").unwrap();
    command(&h)
        .arg(&bad)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("TW101"));
}

#[test]
fn the_topology_hook_runs_with_the_topology_as_args() {
    let h = hook("twlint-topology");
    assert_eq!(
        h["pass_filenames"], false,
        "a topology is one file, given in args"
    );
    command(&h)
        .args(["--topology", "topologies/lb-web-db.yaml"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("hop lb->web"));
    // Without args it says what is missing instead of passing silently.
    command(&h)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--topology FILE"));
}
