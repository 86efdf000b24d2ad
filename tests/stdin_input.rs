//! `twlint -`: standard input read as one file, named `<stdin>` or by `--stdin-filename`, with
//! the same findings, limits and format choice as the same text in a file named on the command
//! line; `--fix` refused, `--diff` shown, and a sysctl file that would join other files' set
//! refused.

#[path = "../benches/gen/mod.rs"]
mod gen;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn twlint(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("twlint").expect("the twlint binary is built");
    cmd.current_dir(dir);
    cmd.env("TWLINT_NO_LIVE", "1");
    cmd.env_remove("TWLINT_FORMAT");
    cmd.env_remove("TWLINT_FAIL_ON");
    cmd.arg("--no-config");
    cmd
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const DANGEROUS: &str = "examples/01-lint-sysctl-d/sysctl.d/10-web-tuning.conf";

fn out(cmd: &mut Command) -> (String, String, i32) {
    let o = cmd.output().unwrap();
    (
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
        o.status.code().unwrap(),
    )
}

#[test]
fn a_dangerous_file_on_stdin_gives_the_findings_of_the_file_by_path() {
    let text = std::fs::read_to_string(root().join(DANGEROUS)).unwrap();
    let (by_path, _, path_code) = out(twlint(&root()).args(["--format", "gcc", DANGEROUS]));
    let (by_stdin, err, stdin_code) = out(twlint(&root())
        .args(["--format", "gcc", "-"])
        .write_stdin(text.clone()));
    assert_eq!(path_code, 1, "the file is dangerous");
    assert_eq!(stdin_code, path_code, "{err}");
    assert!(by_stdin.starts_with("<stdin>:2:27: error:"), "{by_stdin}");
    assert_eq!(by_stdin, by_path.replace(DANGEROUS, "<stdin>"));
    // The name given is the one messages and annotations use.
    let (named, _, _) = out(twlint(&root())
        .args([
            "--format",
            "github",
            "--stdin-filename",
            "etc/sysctl.d/99-x.conf",
            "-",
        ])
        .write_stdin(text));
    assert!(
        named.contains("file=etc/sysctl.d/99-x.conf,line=2"),
        "{named}"
    );
    assert!(!named.contains("<stdin>"), "{named}");
}

#[test]
fn a_dump_on_stdin_is_a_host_as_the_dump_by_path_is() {
    let dir = tempfile::tempdir().unwrap();
    let dump = gen::dump(3, 400);
    std::fs::write(dir.path().join("host-3.txt"), &dump).unwrap();
    let nodes = |stdout: &str| -> Vec<(Value, Value, Value)> {
        let report: Value = serde_json::from_str(stdout).unwrap();
        report["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["name"].clone(),
                    n["kernel"].clone(),
                    n["findings"].clone(),
                )
            })
            .collect()
    };
    let (by_path, _, path_code) = out(twlint(dir.path()).args(["--format", "json", "host-3.txt"]));
    let (by_stdin, err, stdin_code) = out(twlint(dir.path())
        .args(["--format", "json", "--stdin-filename", "host-3.txt", "-"])
        .write_stdin(dump.clone()));
    assert_eq!(stdin_code, path_code, "{err}");
    assert_eq!(nodes(&by_stdin), nodes(&by_path));
    let kernel = dump
        .lines()
        .find_map(|l| l.strip_prefix("kernel.osrelease = "))
        .unwrap();
    let n = nodes(&by_stdin);
    assert_eq!(n.len(), 1);
    assert!(
        kernel.starts_with(n[0].1.as_str().unwrap()),
        "the dump's own kernel ({kernel}), not the default: {:?}",
        n[0].1
    );
    // Unnamed, the same host under `<stdin>`; beside a file named on the command line too.
    std::fs::write(dir.path().join("a.conf"), "net.ipv4.tcp_fin_timeout = 30\n").unwrap();
    let (mixed, err, code) = out(twlint(dir.path())
        .args(["--format", "json", "a.conf", "-"])
        .write_stdin(dump));
    assert_ne!(code, 2, "{err}");
    let names: Vec<Value> = nodes(&mixed).into_iter().map(|n| n.0).collect();
    assert_eq!(names, [Value::from("a.conf"), Value::from("<stdin>")]);
}

#[test]
fn stdin_over_the_size_limit_is_refused_with_exit_2() {
    // One byte over the limit of a file (64 MiB).
    let big = vec![b'#'; 64 * 1024 * 1024 + 1];
    let (stdout, err, code) = out(twlint(&root()).arg("-").write_stdin(big));
    assert_eq!(code, 2, "{err}");
    assert!(stdout.is_empty());
    assert!(
        err.contains("standard input") && err.contains("67108864 bytes"),
        "{err}"
    );
}

#[test]
fn fix_with_stdin_is_refused_and_diff_shows_the_fixes() {
    let text = "net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_fin_timeout = 30\n";
    let (stdout, err, code) = out(twlint(&root()).args(["--fix", "-"]).write_stdin(text));
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(
        err.contains("--fix cannot write fixes back to standard input"),
        "{err}"
    );
    let (diff, err, code) = out(twlint(&root())
        .args(["--diff", "--unsafe-fixes", "-"])
        .write_stdin(text));
    assert_eq!(code, 1, "{err}");
    assert!(
        diff.contains("--- <stdin>") || diff.contains("<stdin>"),
        "{diff}"
    );
    assert!(diff.contains("-net.ipv4.tcp_tw_recycle = 1"), "{diff}");
}

#[test]
fn stdin_filename_picks_the_reader_by_name() {
    // No line sets a sysctl: by content this is in no format twlint reads (refused, as the same
    // file named on the command line is); as a shell script (what `.sh` says) it sets nothing.
    let text = "set -euo pipefail\n";
    let (_, err, code) = out(twlint(&root())
        .args(["--format", "gcc", "-"])
        .write_stdin(text));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("<stdin>:1: not in a format twlint reads"),
        "{err}"
    );
    let (as_shell, err, shell_code) = out(twlint(&root())
        .args([
            "--format",
            "gcc",
            "--stdin-filename",
            "deploy/provision.sh",
            "-",
        ])
        .write_stdin(text));
    assert_eq!(shell_code, 0, "{as_shell}{err}");
    assert!(!as_shell.contains("TW001"), "{as_shell}");
    // `--input-format` forces a reader whatever the name.
    let (forced, _, _) = out(twlint(&root())
        .args([
            "--format",
            "gcc",
            "--input-format",
            "sysctl",
            "--stdin-filename",
            "x.sh",
            "-",
        ])
        .write_stdin(text));
    assert!(
        forced.contains("x.sh:1:1: error") && forced.contains("[TW001]"),
        "{forced}"
    );
}

#[test]
fn stdin_is_named_once_and_does_not_join_a_set_of_files() {
    let (_, err, code) = out(twlint(&root()).args(["-", "-"]).write_stdin(""));
    assert_eq!(code, 2);
    assert!(err.contains("may be named once"), "{err}");
    let (_, err, code) = out(twlint(&root())
        .args([DANGEROUS, "-"])
        .write_stdin("net.ipv4.tcp_fin_timeout = 30\n"));
    assert_eq!(code, 2);
    assert!(
        err.contains("would join the other files named in one set"),
        "{err}"
    );
    let (_, err, code) = out(twlint(&root()).args(["--stdin-filename", "x.conf", DANGEROUS]));
    assert_eq!(code, 2);
    assert!(err.contains("add `-`"), "{err}");
}
