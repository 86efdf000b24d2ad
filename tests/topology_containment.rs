//! Containment: a topology from a pull request must not make twlint read or
//! print files outside the topology's folder. Each escape is refused by default with a
//! diagnostic or error naming the entry, exit 2, and the outside file's content never appears
//! in any output; `--allow-outside-paths` lets a trusted topology do it.

use assert_cmd::Command;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

/// A line no sysctl grammar accepts, so a file holding it is quoted in a TW001 diagnostic
/// when read: if it ever appears in the output, the file was read and echoed.
const CANARY: &str = "CANARY-root:$6$do-not-print-me";

fn twlint() -> Command {
    let mut cmd = Command::cargo_bin("twlint").expect("the twlint binary is built");
    cmd.timeout(Duration::from_secs(20))
        .env("NO_COLOR", "1")
        .env("TWLINT_NO_LIVE", "1");
    cmd
}

/// A checkout (`repo/`) with a topology whose node reads `entry`, next to a secret outside it.
fn setup(entry: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    fs::create_dir_all(repo.join("hosts")).unwrap();
    fs::write(dir.path().join("secret.conf"), format!("{CANARY}\n")).unwrap();
    fs::create_dir(dir.path().join("secret.d")).unwrap();
    fs::write(dir.path().join("secret.d/10-s.conf"), format!("{CANARY}\n")).unwrap();
    fs::write(
        repo.join("topo.yaml"),
        format!(
            "version: 1\nnodes:\n  - name: web\n    sysctl:\n      files: [{entry}]\n  - name: db\nlinks:\n  - from: web\n    to: db\n    port: 5432\n    closes_first: web\n"
        ),
    )
    .unwrap();
    dir
}

/// Runs on the topology in both formats; returns stdout + stderr of the human run after
/// checking the exit code and that the canary is absent from every output.
fn judge(dir: &Path, extra: &[&str], code: i32) -> String {
    let topo = dir.join("repo/topo.yaml");
    let mut human = String::new();
    for format in ["human", "json"] {
        let out = twlint()
            .arg("--topology")
            .arg(&topo)
            .args(["--format", format, "--fail-on", "never"])
            .args(extra)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(code), "{format}:\n{all}");
        if code == 2 {
            assert!(
                !all.contains("CANARY"),
                "{format} echoed the outside file:\n{all}"
            );
        }
        if format == "human" {
            human = all;
        }
    }
    human
}

#[test]
fn an_absolute_path_outside_is_refused_at_its_place() {
    let dir = setup("/etc/shadow");
    let out = judge(dir.path(), &[], 2);
    assert!(out.contains("[TW067]"), "{out}");
    assert!(out.contains("topo.yaml:5:15"), "{out}");
    assert!(out.contains("sysctl file `/etc/shadow` is outside the topology's folder"));
    // Absolute, to the secret: same.
    let secret = dir.path().join("secret.conf");
    let dir2 = setup(&secret.display().to_string());
    let out = judge(dir2.path(), &[], 2);
    assert!(out.contains("[TW067]"), "{out}");
}

#[test]
fn dot_dot_out_of_the_folder_is_refused() {
    let dir = setup("../secret.conf");
    let out = judge(dir.path(), &[], 2);
    assert!(out.contains("[TW067]") && out.contains("outside"), "{out}");
    let dir = setup("hosts/../../secret.d");
    let out = judge(dir.path(), &[], 2);
    assert!(out.contains("[TW067]"), "{out}");
}

#[test]
fn a_symlink_pointing_out_is_refused() {
    let dir = setup("hosts/web.conf");
    symlink("../../secret.conf", dir.path().join("repo/hosts/web.conf")).unwrap();
    let out = judge(dir.path(), &[], 2);
    assert!(out.contains("[TW067]"), "{out}");
    assert!(out.contains("a symlink leads to"), "{out}");
}

#[test]
fn a_symlinked_directory_pointing_out_is_refused() {
    // The entry names a path through a linked folder ...
    let dir = setup("hosts/linked/10-s.conf");
    symlink("../../secret.d", dir.path().join("repo/hosts/linked")).unwrap();
    let out = judge(dir.path(), &[], 2);
    assert!(out.contains("[TW067]"), "{out}");
    // ... or the linked folder itself.
    let dir = setup("hosts/linked");
    symlink("../../secret.d", dir.path().join("repo/hosts/linked")).unwrap();
    let out = judge(dir.path(), &[], 2);
    assert!(out.contains("[TW067]"), "{out}");
}

#[test]
fn a_link_inside_a_listed_folder_pointing_out_is_refused() {
    let dir = setup("hosts/sysctl.d");
    let d = dir.path().join("repo/hosts/sysctl.d");
    fs::create_dir(&d).unwrap();
    fs::write(d.join("10-ok.conf"), "net.ipv4.tcp_fin_timeout = 30\n").unwrap();
    symlink("../../../secret.conf", d.join("20-leak.conf")).unwrap();
    let out = judge(dir.path(), &[], 2);
    assert!(
        out.contains("20-leak.conf leads to") && out.contains("outside the topology's folder"),
        "{out}"
    );
}

#[test]
fn links_that_stay_inside_are_fine() {
    let dir = setup("hosts/sysctl.d");
    let repo = dir.path().join("repo");
    fs::write(repo.join("shared.conf"), "net.ipv4.tcp_fin_timeout = 30\n").unwrap();
    fs::create_dir(repo.join("hosts/sysctl.d")).unwrap();
    symlink(
        "../../shared.conf",
        repo.join("hosts/sysctl.d/10-shared.conf"),
    )
    .unwrap();
    let out = judge(dir.path(), &[], 0);
    assert!(!out.contains("TW067"), "{out}");
}

#[test]
fn allow_outside_paths_reads_them() {
    let dir = setup("../secret.conf");
    let out = judge(dir.path(), &["--allow-outside-paths"], 0);
    // Read and linted: the line is quoted in its syntax diagnostic.
    assert!(out.contains("TW001") && out.contains(CANARY), "{out}");
    let dir = setup("hosts/sysctl.d");
    let d = dir.path().join("repo/hosts/sysctl.d");
    fs::create_dir(&d).unwrap();
    symlink("../../../secret.conf", d.join("20-leak.conf")).unwrap();
    let out = judge(dir.path(), &["--allow-outside-paths"], 0);
    assert!(out.contains(CANARY), "{out}");
}

#[test]
fn the_flag_needs_a_topology() {
    let out = twlint()
        .args(["--allow-outside-paths", "x.conf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
