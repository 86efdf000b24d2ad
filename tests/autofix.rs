//! `--fix`, `--diff` and `--unsafe-fixes` on sysctl.conf files: after `--fix`, linting again
//! finds none of the fixed problems, every other byte of the files is as it was (CRLF too),
//! `--diff` changes nothing and `patch` applies it to the same bytes, unsafe fixes wait for
//! `--unsafe-fixes`, suppressed findings are left alone, dumps are not edited, and nothing is
//! written through a link out of the folder.

#[allow(dead_code)] // the other helpers are for other test files
mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

fn twlint(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("twlint")
        .unwrap()
        .current_dir(dir)
        .env("TWLINT_NO_LIVE", "1")
        .args(args)
        .args(["--no-config", "--color", "never"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The rule ids of the diagnostics a JSON lint of `target` finds.
fn codes(dir: &Path, target: &str) -> BTreeSet<String> {
    let (_, out, err) = twlint(dir, &[target, "--kernel", "5.15", "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap().to_string())
        .collect()
}

const MESSY: &str = "# Tuning, handed down\n\
net.ipv4.tcp_tw_recycle = 1\n\
net.ipv4.ip_local_port_range = 61000 32768\n\
net.ipv4.tcp_fin_timeout = 30 # shorter FIN_WAIT_2\n\
  net.core.somaxconn = \"4096\"\n\
net.ipv4.tcp_syncookies = 0\n\
\n\
# keep\n\
net.ipv4.tcp_syncookies = 1\n";

const FIXED: &str = "# Tuning, handed down\n\
net.ipv4.ip_local_port_range = 32768 61000\n\
# shorter FIN_WAIT_2\n\
net.ipv4.tcp_fin_timeout = 30\n\
  net.core.somaxconn = 4096\n\
\n\
# keep\n\
net.ipv4.tcp_syncookies = 1\n";

#[test]
fn fix_repairs_every_safe_problem_and_keeps_the_rest_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("99-messy.conf"), MESSY).unwrap();
    let before = codes(dir.path(), "99-messy.conf");
    for c in ["TW101", "TW004", "TW005", "TW008", "TW006"] {
        assert!(before.contains(c), "{c} missing before: {before:?}");
    }
    let (code, _, err) = twlint(dir.path(), &["99-messy.conf", "--kernel", "5.15", "--fix"]);
    assert!(err.contains("fixed 5 problems in 1 file"), "{err}");
    assert!(code < 2, "{err}");
    assert_eq!(
        fs::read_to_string(dir.path().join("99-messy.conf")).unwrap(),
        FIXED
    );
    let after = codes(dir.path(), "99-messy.conf");
    for c in ["TW101", "TW004", "TW005", "TW008", "TW006"] {
        assert!(!after.contains(c), "{c} still there after --fix: {after:?}");
    }
    // A second run has nothing left to do.
    let (_, _, err) = twlint(dir.path(), &["99-messy.conf", "--kernel", "5.15", "--fix"]);
    assert!(err.contains("fixed 0 problems in 0 files"), "{err}");
}

#[test]
fn fix_keeps_crlf_line_ends() {
    let dir = tempfile::tempdir().unwrap();
    let crlf = MESSY.replace('\n', "\r\n");
    fs::write(dir.path().join("a.conf"), &crlf).unwrap();
    twlint(dir.path(), &["a.conf", "--kernel", "5.15", "--fix"]);
    assert_eq!(
        fs::read_to_string(dir.path().join("a.conf")).unwrap(),
        FIXED.replace('\n', "\r\n")
    );
}

#[test]
fn diff_changes_nothing_and_patch_applies_it_to_what_fix_writes() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("sysctl.d")).unwrap();
    fs::write(dir.path().join("sysctl.d/99-messy.conf"), MESSY).unwrap();
    let (code, diff, err) = twlint(dir.path(), &["sysctl.d", "--kernel", "5.15", "--diff"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("5 fixes in 1 file"), "{err}");
    assert!(
        diff.starts_with(
            "--- sysctl.d/99-messy.conf\n+++ sysctl.d/99-messy.conf\n@@ -1,9 +1,8 @@\n"
        ),
        "{diff}"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("sysctl.d/99-messy.conf")).unwrap(),
        MESSY,
        "--diff wrote"
    );
    let status = std::process::Command::new("patch")
        .args(["-p0", "--quiet"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(diff.as_bytes())?;
            c.wait()
        })
        .expect("patch runs");
    assert!(status.success());
    assert_eq!(
        fs::read_to_string(dir.path().join("sysctl.d/99-messy.conf")).unwrap(),
        FIXED
    );
    let (code, diff, _) = twlint(dir.path(), &["sysctl.d", "--kernel", "5.15", "--diff"]);
    assert_eq!((code, diff.as_str()), (0, ""));
}

/// A suggested spelling is a guess: `--fix` leaves it, `--unsafe-fixes` applies it.
#[test]
fn unsafe_fixes_wait_for_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.conf"), "net.ipv4.tcp_tw_resue = 1\n").unwrap();
    let (_, _, err) = twlint(dir.path(), &["a.conf", "--fix"]);
    assert!(
        err.contains("fixed 0 problems in 0 files (1 more fix with --unsafe-fixes)"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("a.conf")).unwrap(),
        "net.ipv4.tcp_tw_resue = 1\n"
    );
    let (code, _, err) = twlint(dir.path(), &["a.conf", "--fix", "--unsafe-fixes"]);
    assert!(err.contains("fixed 1 problem in 1 file"), "{err}");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        fs::read_to_string(dir.path().join("a.conf")).unwrap(),
        "net.ipv4.tcp_tw_reuse = 1\n"
    );
    let (code, _, err) = twlint(dir.path(), &["a.conf", "--unsafe-fixes"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--unsafe-fixes goes with --fix or --diff"),
        "{err}"
    );
}

#[test]
fn suppressed_findings_and_dumps_are_not_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let kept = "# twlint: disable=TW101 -- rebuilt next week\nnet.ipv4.tcp_tw_recycle = 1\n";
    fs::write(dir.path().join("a.conf"), kept).unwrap();
    let (_, _, err) = twlint(dir.path(), &["a.conf", "--kernel", "5.15", "--fix"]);
    assert!(err.contains("fixed 0 problems"), "{err}");
    assert_eq!(fs::read_to_string(dir.path().join("a.conf")).unwrap(), kept);
    // A `sysctl -a` dump (at least 100 lines in procps' form): a host's state, not a file to edit.
    let dump = common::small_dump(
        "fs.file-max = 9223372036854775807\nkernel.osrelease = 5.15.0\n",
        "net.ipv4.tcp_tw_recycle = 1\nvm.swappiness = 60\n",
    );
    fs::write(dir.path().join("host.txt"), &dump).unwrap();
    let (_, _, err) = twlint(dir.path(), &["host.txt", "--fix"]);
    assert!(err.contains("fixed 0 problems"), "{err}");
    assert_eq!(
        fs::read_to_string(dir.path().join("host.txt")).unwrap(),
        dump
    );
}

/// A file of the folder that is a link to a file elsewhere is not written through.
#[test]
fn fix_never_writes_through_a_link_out_of_the_folder() {
    let outside = tempfile::tempdir().unwrap();
    let real = outside.path().join("real.conf");
    fs::write(&real, MESSY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("sysctl.d")).unwrap();
    std::os::unix::fs::symlink(&real, dir.path().join("sysctl.d/99-link.conf")).unwrap();
    let (code, _, err) = twlint(dir.path(), &["sysctl.d", "--kernel", "5.15", "--fix"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot write the fixes"), "{err}");
    assert_eq!(fs::read_to_string(&real).unwrap(), MESSY);
    assert!(
        fs::symlink_metadata(dir.path().join("sysctl.d/99-link.conf"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// In a topology run the fixes go to the nodes' files, inside the topology's folder.
#[test]
fn fix_in_a_topology_run() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("hosts")).unwrap();
    fs::write(
        dir.path().join("hosts/web.conf"),
        "net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_tw_reuse = 1\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("t.yaml"),
        "version: 1\nname: t\ndefaults: {kernel: \"6.8\"}\nnodes:\n  - name: web\n    role: web\n    sysctl: {files: [hosts/web.conf]}\n  - name: db\n    role: db\nlinks:\n  - {from: web, to: db, port: 5432, closes_first: web, rate: 10}\n",
    )
    .unwrap();
    let (_, _, err) = twlint(dir.path(), &["--topology", "t.yaml", "--fix"]);
    assert!(err.contains("fixed 1 problem in 1 file"), "{err}");
    assert_eq!(
        fs::read_to_string(dir.path().join("hosts/web.conf")).unwrap(),
        "net.ipv4.tcp_tw_reuse = 1\n"
    );
}

/// The byte offset of a SARIF (line, column) position in `text`: 1-based, columns counted in
/// characters.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    start
        + text[start..]
            .chars()
            .take(column - 1)
            .map(char::len_utf8)
            .sum::<usize>()
}

/// Applies the safe `fixes` of a SARIF log's results to `text` (the file at `uri`).
fn apply_sarif(log: &Value, uri: &str, text: &str) -> (String, usize) {
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for r in log["runs"][0]["results"].as_array().unwrap() {
        let Some(fixes) = r["fixes"].as_array() else {
            continue;
        };
        let fix = &fixes[0];
        if !fix["description"]["text"]
            .as_str()
            .unwrap()
            .contains("(safe fix")
        {
            continue;
        }
        let change = &fix["artifactChanges"][0];
        assert_eq!(change["artifactLocation"]["uri"], uri);
        let rep = &change["replacements"][0];
        let region = &rep["deletedRegion"];
        let at = |l: &str, c: &str| {
            offset_of(
                text,
                region[l].as_u64().unwrap() as usize,
                region[c].as_u64().unwrap() as usize,
            )
        };
        edits.push((
            at("startLine", "startColumn"),
            at("endLine", "endColumn"),
            rep["insertedContent"]["text"].as_str().unwrap().to_string(),
        ));
    }
    edits.sort();
    let n = edits.len();
    let mut fixed = String::new();
    let mut at = 0;
    for (start, end, new) in edits {
        fixed.push_str(&text[at..start]);
        fixed.push_str(&new);
        at = end;
    }
    fixed.push_str(&text[at..]);
    (fixed, n)
}

/// SARIF carries the same edits: applying each result's safe `fixes` (a region replaced) gives
/// what `--fix` writes.
#[test]
fn sarif_fixes_are_the_edits_fix_makes() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("99-messy.conf"), MESSY).unwrap();
    let (_, out, err) = twlint(
        dir.path(),
        &["99-messy.conf", "--kernel", "5.15", "--format", "sarif"],
    );
    let log: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let (fixed, n) = apply_sarif(&log, "99-messy.conf", MESSY);
    assert_eq!(n, 5);
    assert_eq!(fixed, FIXED);
}

/// A key dropped because of a kernel twlint only assumed may still work on the host the file is
/// for: without `--kernel` (or a dump's, topology's or configuration's kernel) that fix waits
/// for `--unsafe-fixes`.
#[test]
fn dropping_a_key_for_an_assumed_kernel_is_unsafe() {
    let dir = tempfile::tempdir().unwrap();
    let text = "net.ipv4.tcp_tw_recycle = 1\n";
    fs::write(dir.path().join("a.conf"), text).unwrap();
    let (_, _, err) = twlint(dir.path(), &["a.conf", "--fix"]);
    assert!(
        err.contains("fixed 0 problems in 0 files (1 more fix with --unsafe-fixes)"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(dir.path().join("a.conf")).unwrap(), text);
    let (_, _, err) = twlint(dir.path(), &["a.conf", "--fix", "--kernel", "6.8"]);
    assert!(err.contains("fixed 1 problem in 1 file"), "{err}");
    assert_eq!(fs::read_to_string(dir.path().join("a.conf")).unwrap(), "");
}

/// The source kinds of the values a JSON lint of `target` judged (what reader read them).
fn kinds(dir: &Path, target: &str) -> BTreeSet<String> {
    let (_, out, err) = twlint(dir, &[target, "--kernel", "5.15", "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["source"]["kind"].as_str().unwrap().to_string())
        .filter(|k| k != "default")
        .collect()
}

/// One format's round trip: `--fix` writes `fixed` exactly (every byte it does not fix kept),
/// linting again finds none of the `fixed_codes` and nothing new, the file is still read as
/// `kind`, and a second `--fix` has nothing left to do. SARIF's safe fixes give the same text.
fn round_trip(name: &str, text: &str, kind: &str, fixed_codes: &[&str], fixed: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, text).unwrap();
    let before = codes(dir.path(), name);
    for c in fixed_codes {
        assert!(
            before.contains(*c),
            "{name}: {c} missing before: {before:?}"
        );
    }
    assert!(
        kinds(dir.path(), name).contains(kind),
        "{name}: not read as {kind}"
    );
    let (_, out, err) = twlint(dir.path(), &[name, "--kernel", "5.15", "--format", "sarif"]);
    let log: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let (from_sarif, _) = apply_sarif(&log, name, text);
    let (code, _, err) = twlint(dir.path(), &[name, "--kernel", "5.15", "--fix"]);
    assert!(code < 2, "{name}: {err}");
    let now = fs::read_to_string(&path).unwrap();
    assert_eq!(now, fixed, "{name}");
    assert_eq!(from_sarif, fixed, "{name}: SARIF fixes");
    let after = codes(dir.path(), name);
    for c in fixed_codes {
        assert!(!after.contains(*c), "{name}: {c} still there: {after:?}");
    }
    assert!(
        after.is_subset(&before),
        "{name}: new findings {after:?} vs {before:?}"
    );
    assert!(
        kinds(dir.path(), name).contains(kind),
        "{name}: no longer read as {kind}"
    );
    let (_, _, err) = twlint(dir.path(), &[name, "--kernel", "5.15", "--fix"]);
    assert!(err.contains("fixed 0 problems in 0 files"), "{name}: {err}");
}

#[test]
fn fix_in_kubernetes_manifests_drops_list_items_and_orders_ranges_in_their_quotes() {
    round_trip(
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  securityContext:\n    sysctls:\n      - name: net.ipv4.ip_local_port_range\n        value: \"61001 32768\"\n      - name: net.ipv4.tcp_fin_timeout   # shorter\n        value: \"30\"\n      - {name: net.ipv4.tcp_tw_recycle, value: \"1\"}\n      - name: net.ipv4.tcp_fin_timeout\n        value: \"20\"\n  containers:\n    - name: app\n      image: nginx\n",
        "kubernetes",
        &["TW101", "TW004", "TW006"],
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  securityContext:\n    sysctls:\n      - name: net.ipv4.ip_local_port_range\n        value: \"32768 61001\"\n      - name: net.ipv4.tcp_fin_timeout\n        value: \"20\"\n  containers:\n    - name: app\n      image: nginx\n",
    );
}

#[test]
fn fix_in_compose_files_drops_mapping_entries_list_items_and_overridden_duplicates() {
    round_trip(
        "docker-compose.yml",
        "services:\n  web:\n    image: nginx\n    sysctls:\n      net.ipv4.ip_local_port_range: \"61001 32768\"\n      net.ipv4.tcp_tw_recycle: 1\n      net.core.somaxconn: 1024\n  db:\n    image: postgres\n    sysctls:\n      - net.ipv4.tcp_tw_recycle=1\n      - \"net.ipv4.ip_local_port_range=61001    32768\"\n      - net.ipv4.tcp_fin_timeout=30\n      - net.ipv4.tcp_fin_timeout=20\n",
        "compose",
        &["TW101", "TW004", "TW006"],
        "services:\n  web:\n    image: nginx\n    sysctls:\n      net.ipv4.ip_local_port_range: \"32768 61001\"\n      net.core.somaxconn: 1024\n  db:\n    image: postgres\n    sysctls:\n      - \"net.ipv4.ip_local_port_range=32768    61001\"\n      - net.ipv4.tcp_fin_timeout=20\n",
    );
}

/// A task that only sets the removed key goes; one that registers a variable stays.
#[test]
fn fix_in_ansible_tasks_drops_a_task_that_only_sets_the_key() {
    round_trip(
        "tasks.yml",
        "---\n- name: Kernel tuning\n  ansible.posix.sysctl:\n    name: net.ipv4.tcp_tw_recycle\n    value: \"1\"\n    state: present\n  become: true\n\n- name: Port range\n  ansible.posix.sysctl:\n    name: net.ipv4.ip_local_port_range\n    value: \"61001 32768\"\n",
        "ansible",
        &["TW101", "TW004"],
        "---\n\n- name: Port range\n  ansible.posix.sysctl:\n    name: net.ipv4.ip_local_port_range\n    value: \"32768 61001\"\n",
    );
    // A task that registers a variable later tasks may read is not removed.
    let dir = tempfile::tempdir().unwrap();
    let kept = "- name: Checked later\n  ansible.posix.sysctl:\n    name: net.ipv4.tcp_tw_recycle\n    value: \"1\"\n  register: recycle\n- name: Port range\n  ansible.posix.sysctl:\n    name: net.ipv4.tcp_fin_timeout\n    value: \"30\"\n";
    fs::write(dir.path().join("tasks.yml"), kept).unwrap();
    let (_, _, err) = twlint(dir.path(), &["tasks.yml", "--kernel", "5.15", "--fix"]);
    assert!(err.contains("fixed 0 problems"), "{err}");
    assert_eq!(
        fs::read_to_string(dir.path().join("tasks.yml")).unwrap(),
        kept
    );
}

#[test]
fn fix_in_tuned_profiles_drops_the_option_line() {
    round_trip(
        "latency/tuned.conf",
        "[main]\nsummary=test\n\n[sysctl]\nnet.ipv4.tcp_tw_recycle=1\nnet.ipv4.ip_local_port_range = 61001 32768\nnet.ipv4.tcp_fin_timeout=30\nnet.ipv4.tcp_fin_timeout=20 # later\n",
        "tuned",
        &["TW101", "TW004", "TW006"],
        "[main]\nsummary=test\n\n[sysctl]\nnet.ipv4.ip_local_port_range = 32768 61001\nnet.ipv4.tcp_fin_timeout=20 # later\n",
    );
}

/// A command that writes only the removed key goes with its line; a key among others of one
/// command, or a command followed by another on its line, stays.
#[test]
fn fix_in_shell_scripts_drops_a_command_alone_on_its_line() {
    round_trip(
        "setup.sh",
        "#!/bin/sh\nset -e\nsysctl -w net.ipv4.tcp_tw_recycle=1\nsysctl -w net.ipv4.ip_local_port_range=\"61001 32768\" net.ipv4.tcp_fin_timeout=30\nsysctl -w net.core.somaxconn=4096 && echo done\ncat > /etc/sysctl.d/99-x.conf <<EOT\nnet.core.somaxconn = \"4096\"\nEOT\n",
        "shell",
        &["TW101", "TW004", "TW008"],
        "#!/bin/sh\nset -e\nsysctl -w net.ipv4.ip_local_port_range=\"32768 61001\" net.ipv4.tcp_fin_timeout=30\nsysctl -w net.core.somaxconn=4096 && echo done\ncat > /etc/sysctl.d/99-x.conf <<EOT\nnet.core.somaxconn = 4096\nEOT\n",
    );
    // Inside a compound command the command stays: `then` or `{` with an empty body is a
    // syntax error.
    let dir = tempfile::tempdir().unwrap();
    let kept = "#!/bin/sh\nif [ -w /proc/sys ]; then\n  sysctl -w net.ipv4.tcp_tw_recycle=1\nfi\nf() {\n  echo 1 > /proc/sys/net/ipv4/tcp_tw_recycle\n}\n";
    fs::write(dir.path().join("nested.sh"), kept).unwrap();
    let (_, _, err) = twlint(
        dir.path(),
        &["nested.sh", "--kernel", "5.15", "--fix", "--unsafe-fixes"],
    );
    assert!(err.contains("fixed 0 problems"), "{err}");
    assert_eq!(
        fs::read_to_string(dir.path().join("nested.sh")).unwrap(),
        kept
    );
}

#[test]
fn fix_in_nixos_modules_drops_an_attribute_alone_on_its_line() {
    round_trip(
        "configuration.nix",
        "{ config, lib, ... }:\n{\n  boot.kernel.sysctl = {\n    \"net.ipv4.tcp_tw_recycle\" = 1;\n    \"net.ipv4.ip_local_port_range\" = \"61001 32768\";\n    \"net.core.somaxconn\" = 1024;\n  };\n  boot.kernel.sysctl.\"net.ipv4.tcp_fin_timeout\" = 30;\n}\n",
        "nix",
        &["TW101", "TW004"],
        "{ config, lib, ... }:\n{\n  boot.kernel.sysctl = {\n    \"net.ipv4.ip_local_port_range\" = \"32768 61001\";\n    \"net.core.somaxconn\" = 1024;\n  };\n  boot.kernel.sysctl.\"net.ipv4.tcp_fin_timeout\" = 30;\n}\n",
    );
}

/// The sysctl file a cloud-config writes is fixed inside its block, with the block's
/// indentation; the commands of `runcmd` are left alone.
#[test]
fn fix_in_cloud_init_repairs_the_sysctl_file_it_writes() {
    round_trip(
        "user-data",
        "#cloud-config\nwrite_files:\n  - path: /etc/sysctl.d/99-x.conf\n    content: |\n      net.ipv4.tcp_tw_recycle = 1\n      net.ipv4.ip_local_port_range = 61001 32768\n      net.ipv4.tcp_fin_timeout = 30 # shorter\n      net.core.somaxconn = \"4096\"\nruncmd:\n  - [sysctl, -w, net.ipv4.tcp_keepalive_time=600]\n",
        "cloud-init",
        &["TW004", "TW005", "TW008"],
        "#cloud-config\nwrite_files:\n  - path: /etc/sysctl.d/99-x.conf\n    content: |\n      net.ipv4.ip_local_port_range = 32768 61001\n      # shorter\n      net.ipv4.tcp_fin_timeout = 30\n      net.core.somaxconn = 4096\nruncmd:\n  - [sysctl, -w, net.ipv4.tcp_keepalive_time=600]\n",
    );
}

#[test]
fn fix_in_jinja_templates_leaves_the_templated_lines() {
    round_trip(
        "sysctl.conf.j2",
        "# {{ ansible_managed }}\nnet.ipv4.tcp_tw_recycle = 1\nnet.ipv4.ip_local_port_range = 61001 32768\nnet.ipv4.tcp_max_syn_backlog = {{ backlog }}\nnet.core.somaxconn = \"4096\"\n",
        "jinja",
        &["TW101", "TW004", "TW008"],
        "# {{ ansible_managed }}\nnet.ipv4.ip_local_port_range = 32768 61001\nnet.ipv4.tcp_max_syn_backlog = {{ backlog }}\nnet.core.somaxconn = 4096\n",
    );
}

/// Salt states are not dropped (another state may require one by its id); a reversed range is
/// put in order.
#[test]
fn fix_in_salt_states_orders_a_reversed_range() {
    round_trip(
        "sysctl.sls",
        "net.ipv4.ip_local_port_range:\n  sysctl.present:\n    - value: 61001 32768\n\ntw_recycle:\n  sysctl.present:\n    - name: net.ipv4.tcp_fin_timeout\n    - value: 30\n",
        "salt",
        &["TW004"],
        "net.ipv4.ip_local_port_range:\n  sysctl.present:\n    - value: 32768 61001\n\ntw_recycle:\n  sysctl.present:\n    - name: net.ipv4.tcp_fin_timeout\n    - value: 30\n",
    );
}

/// A run that ends with exit 2 (a named path it cannot read) writes no fix, even to the files
/// it could read.
#[test]
fn an_incomplete_run_fixes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.conf"), MESSY).unwrap();
    let (code, _, err) = twlint(
        dir.path(),
        &["a.conf", "missing.conf", "--kernel", "5.15", "--fix"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not fixing: the run is incomplete"), "{err}");
    assert_eq!(
        fs::read_to_string(dir.path().join("a.conf")).unwrap(),
        MESSY
    );
}

/// Two items of one `sysctls` list that both go: one fix waits, so the list is never left
/// empty and the file stays a compose file.
#[test]
fn fixes_never_empty_a_yaml_collection() {
    let dir = tempfile::tempdir().unwrap();
    let text = "services:\n  web:\n    image: nginx\n    sysctls:\n      - net.ipv4.tcp_tw_recycle=1\n      - net.ipv4.tcp_tw_recycle=1\n";
    fs::write(dir.path().join("compose.yaml"), text).unwrap();
    let (_, diff, err) = twlint(
        dir.path(),
        &[
            "compose.yaml",
            "--kernel",
            "5.15",
            "--diff",
            "--unsafe-fixes",
        ],
    );
    assert!(err.contains("1 fix in 1 file"), "{err}");
    assert!(
        diff.contains("\n-      - net.ipv4.tcp_tw_recycle=1\n"),
        "{diff}"
    );
    let (_, _, err) = twlint(
        dir.path(),
        &[
            "compose.yaml",
            "--kernel",
            "5.15",
            "--fix",
            "--unsafe-fixes",
        ],
    );
    assert!(err.contains("fixed 1 problem in 1 file"), "{err}");
    assert_eq!(
        fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
        "services:\n  web:\n    image: nginx\n    sysctls:\n      - net.ipv4.tcp_tw_recycle=1\n"
    );
    assert!(kinds(dir.path(), "compose.yaml").contains("compose"));
}
