//! The command line as users and CI jobs see it: real processes, exit codes (0/1/2), stdout and
//! stderr, the JSON report's contract fields (docs/reference/json-report.md), `explain` and
//! `rules`, user rule folders, colour handling, a closed stdout, and the console blocks of the
//! worked examples under `examples/`, the README and `docs/`, checked against the binary.
//!
//! To refresh those blocks after an intended output change (excerpts, with `...` lines, are
//! edited by hand):
//!
//! ```text
//! TWLINT_UPDATE_EXAMPLES=1 cargo test --test cli -- examples_ docs_
//! ```

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

// Not every helper there is used by this file.
#[allow(dead_code)]
#[path = "common/in_process.rs"]
mod in_process;

const ESC: &str = "\u{1b}[";

fn twlint() -> Command {
    let mut cmd = Command::cargo_bin("twlint").expect("the twlint binary is built");
    cmd.current_dir(root());
    cmd.env_remove("NO_COLOR");
    // Pinned: this machine's hostname or addresses must not make a topology run read it (the
    // README and examples show the declared values).
    cmd.env("TWLINT_NO_LIVE", "1");
    cmd
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, text).unwrap();
    path
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON value ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Runs with the arguments and returns the output, asserting the exit code.
fn run(args: &[&str], code: i32) -> std::process::Output {
    expect_code(args, twlint().args(args).output().unwrap(), code)
}

/// As [`run`], in-process through `twlint::cli::run`: for tests about what is written, not
/// about the process.
fn run_here(args: &[&str], code: i32) -> std::process::Output {
    expect_code(args, in_process::twlint(args), code)
}

fn expect_code(args: &[&str], out: std::process::Output, code: i32) -> std::process::Output {
    assert_eq!(
        out.status.code(),
        Some(code),
        "twlint {args:?} exited with {:?}, expected {code}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Exit codes 0 and 1, --fail-on
// ---------------------------------------------------------------------------------------------

#[test]
fn clean_file_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "clean.conf",
        "# nothing to object to\nnet.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_timestamps = 1\n",
    );
    let out = run(&[p(&f), "--kernel", "5.15"], 0);
    let s = stdout_of(&out);
    assert!(s.contains("kernel 5.15"), "{s}");
    assert!(s.contains("tcp_tw_reuse"), "{s}");
    assert!(s.contains("0 dangerous, 0 pointless"), "{s}");
    assert!(out.stderr.is_empty(), "{}", stderr_of(&out));
}

#[test]
fn dangerous_value_exits_1_and_points_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "recycle.conf",
        "# old advice\nnet.ipv4.tcp_tw_recycle = 1\n",
    );
    let out = run_here(&[p(&f), "--kernel", "5.15"], 1);
    let s = stdout_of(&out);
    assert!(s.contains("TW101"), "{s}");
    assert!(s.contains("dangerous"), "{s}");
    assert!(
        s.contains("recycle.conf:2:27"),
        "location of the value: {s}"
    );
    assert!(s.contains("1 dangerous"), "{s}");
    insta::assert_snapshot!("lint-recycle", in_process::masked(&s, dir.path()));
}

#[test]
fn fail_on_never_exits_0_with_dangerous_findings() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "recycle.conf", "net.ipv4.tcp_tw_recycle = 1\n");
    let out = run(&[p(&f), "--kernel", "5.15", "--fail-on", "never"], 0);
    // The findings are still reported; only the exit code changes.
    assert!(stdout_of(&out).contains("TW101"));
}

#[test]
fn fail_on_pointless_turns_a_pointless_only_file_into_1() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "fin.conf", "net.ipv4.tcp_fin_timeout = 15\n");
    let out = run(&[p(&f), "--kernel", "5.15"], 0);
    let s = stdout_of(&out);
    assert!(
        s.contains("TW140") && s.contains("0 dangerous, 1 pointless"),
        "{s}"
    );
    let out = run(&[p(&f), "--kernel", "5.15", "--fail-on", "pointless"], 1);
    assert!(stdout_of(&out).contains("TW140"));
    run(&[p(&f), "--kernel", "5.15", "--fail-on", "dangerous"], 0);
}

#[test]
fn bad_fail_on_value_exits_2() {
    let out = run(&["--fail-on", "warning", "x.conf"], 2);
    let e = stderr_of(&out);
    assert!(e.contains("--fail-on") && e.contains("pointless"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Exit code 2: twlint could not do its job
// ---------------------------------------------------------------------------------------------

#[test]
fn no_arguments_exits_2() {
    let out = run(&[], 2);
    let e = stderr_of(&out);
    assert!(
        e.contains("nothing to judge") && e.contains("--topology"),
        "{e}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.conf");
    let out = run(&[p(&missing)], 2);
    let e = stderr_of(&out);
    assert!(e.contains("nope.conf"), "{e}");
    assert!(e.contains("No such file"), "{e}");
}

#[test]
fn missing_topology_exits_2() {
    let out = run(&["--topology", "topologies/does-not-exist.yaml"], 2);
    assert!(stderr_of(&out).contains("does-not-exist.yaml"));
}

#[test]
fn bad_kernel_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "a.conf", "net.ipv4.tcp_tw_reuse = 1\n");
    let out = run(&[p(&f), "--kernel", "banana"], 2);
    let e = stderr_of(&out);
    assert!(e.contains("--kernel") && e.contains("banana"), "{e}");
    assert!(out.stdout.is_empty(), "nothing judged");
}

#[test]
fn paths_and_topology_together_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "a.conf", "net.ipv4.tcp_tw_reuse = 1\n");
    let out = run(&[p(&f), "--topology", "topologies/lb-web-db.yaml"], 2);
    assert!(stderr_of(&out).contains("not both"));
}

const BROKEN_TOPOLOGY: &str = "\
version: 1
name: broken
nodes:
  - name: lb
    role: load-balancer
    adresses: [10.0.0.1]
  - name: web
    role: web
links:
  - from: lb
    to: wbe
    port: 80
    closes_first: lb
";

#[test]
fn topology_with_errors_exits_2_with_every_problem_located() {
    let dir = tempfile::tempdir().unwrap();
    let t = write(dir.path(), "broken.yaml", BROKEN_TOPOLOGY);
    let out = run(&["--topology", p(&t), "--color", "never"], 2);
    let all = format!("{}{}", stdout_of(&out), stderr_of(&out));
    // Both problems at once, not just the first.
    assert!(all.contains("TW051"), "unknown field: {all}");
    assert!(
        all.contains("broken.yaml:6:5"),
        "line:column of `adresses`: {all}"
    );
    assert!(all.contains("did you mean `addresses`?"), "{all}");
    assert!(all.contains("TW055"), "unknown node: {all}");
    assert!(
        all.contains("broken.yaml:11:9"),
        "line:column of `wbe`: {all}"
    );
    assert!(all.contains("did you mean `web`?"), "{all}");
    // Nothing was judged: no verdict table.
    assert!(!all.contains("hop lb->"), "{all}");
}

#[test]
fn topology_with_errors_in_json_still_exits_2_and_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let t = write(dir.path(), "broken.yaml", BROKEN_TOPOLOGY);
    let out = run(&["--topology", p(&t), "--format", "json"], 2);
    let v = json_of(&out);
    let diags = v["diagnostics"].as_array().unwrap();
    let find = |rule: &str| {
        diags
            .iter()
            .find(|d| d["rule"] == rule)
            .unwrap_or_else(|| panic!("no {rule} in {diags:#?}"))
    };
    let unknown_field = find("TW051");
    assert_eq!(unknown_field["severity"], "error");
    assert_eq!(unknown_field["location"]["line"], 6);
    assert_eq!(unknown_field["location"]["column"], 5);
    assert!(unknown_field["location"]["path"]
        .as_str()
        .unwrap()
        .ends_with("broken.yaml"));
    let unknown_node = find("TW055");
    assert_eq!(unknown_node["location"]["line"], 11);
    assert_eq!(unknown_node["location"]["column"], 9);
    assert_eq!(v["verdicts"].as_array().unwrap().len(), 0);
}

#[test]
fn live_insists_on_a_node() {
    // A capture whose hostname and addresses name no node: --live (like --root) refuses to
    // judge declared values in its place. (More in tests/host_mode.rs.)
    let out = run(
        &[
            "--live",
            "--topology",
            "topologies/lb-web-db.yaml",
            "--root",
            "tests/fixtures/host/proc-db",
        ],
        2,
    );
    let e = stderr_of(&out);
    assert!(e.contains("is not a node of"), "{e}");
    assert!(out.stdout.is_empty());
    // --no-live judges the declared values.
    run(
        &[
            "--no-live",
            "--topology",
            "topologies/lb-web-db.yaml",
            "--fail-on",
            "never",
        ],
        0,
    );
    // The two conflict.
    run(
        &[
            "--live",
            "--no-live",
            "--topology",
            "topologies/lb-web-db.yaml",
        ],
        2,
    );
}

#[test]
fn node_that_is_not_in_the_topology_exits_2_with_a_suggestion() {
    let out = run_here(
        &["--topology", "topologies/lb-web-db.yaml", "--node", "wbe"],
        2,
    );
    let e = stderr_of(&out);
    assert!(e.contains("--node `wbe`"), "{e}");
    assert!(e.contains("did you mean `web`?"), "{e}");
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!("node-misspelt", e);

    let out = run_here(
        &[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--node",
            "zzzzzz",
        ],
        2,
    );
    let e = stderr_of(&out);
    assert!(
        e.contains("clients, nat, lb, web, db"),
        "lists the nodes: {e}"
    );
    insta::assert_snapshot!("node-unknown", e);

    // A node that exists is accepted (exit code from the findings).
    run_here(
        &[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--node",
            "web",
            "--fail-on",
            "never",
        ],
        0,
    );
}

#[test]
fn node_without_topology_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "a.conf", "net.ipv4.tcp_tw_reuse = 1\n");
    let out = run(&["--node", "web", p(&f)], 2);
    assert!(stderr_of(&out).contains("--topology"));
}

// ---------------------------------------------------------------------------------------------
// Directories: `sysctl --system` precedence
// ---------------------------------------------------------------------------------------------

#[test]
fn directory_is_read_with_sysctl_system_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("sysctl.d");
    // Written out of order on purpose: precedence is by file name, later wins.
    write(&d, "20-b.conf", "net.ipv4.tcp_fin_timeout = 20\n");
    write(&d, "10-a.conf", "net.ipv4.tcp_fin_timeout = 30\n");
    // Not `*.conf`: ignored, or this dangerous line would make the exit code 1.
    write(&d, "30-c.conf.disabled", "net.ipv4.tcp_tw_recycle = 1\n");
    write(&d, "README", "net.ipv4.tcp_tw_recycle = 1\n");
    let out = run(&[p(&d), "--kernel", "5.15", "--format", "json"], 0);
    let v = json_of(&out);
    let fin = v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "net.ipv4.tcp_fin_timeout")
        .expect("a verdict for tcp_fin_timeout");
    assert_eq!(fin["value"], "20", "the later file wins: {fin:#}");
    assert_eq!(fin["source"]["kind"], "file");
    assert!(fin["source"]["path"]
        .as_str()
        .unwrap()
        .ends_with("20-b.conf"));
    let dup = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule"] == "TW006")
        .expect("the overridden assignment is reported");
    assert!(dup["location"]["path"]
        .as_str()
        .unwrap()
        .ends_with("10-a.conf"));
    assert!(!out.stdout.is_empty());
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("tcp_tw_recycle = 1"),
        "files that are not *.conf are not read"
    );
    for x in v["verdicts"].as_array().unwrap() {
        assert_ne!(x["key"], "net.ipv4.tcp_tw_recycle", "{x:#}");
    }
}

// ---------------------------------------------------------------------------------------------
// JSON report (version 1)
// ---------------------------------------------------------------------------------------------

fn check_report_shape(v: &Value) {
    assert_eq!(v["version"], 1);
    assert_eq!(v["tool"]["name"], "twlint");
    assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        v["tool"]["commit"].as_str(),
        twlint::build_info::COMMIT,
        "the commit twlint was built from"
    );
    for k in ["dangerous", "pointless", "safe"] {
        assert!(v["summary"][k].is_u64(), "summary.{k}: {:#}", v["summary"]);
    }
    let verdicts = v["verdicts"].as_array().expect("verdicts is an array");
    assert!(!verdicts.is_empty());
    let mut counts = [0u64; 3];
    for x in verdicts {
        for k in ["node", "key", "verdict", "reason"] {
            assert!(x[k].is_string(), "verdict.{k}: {x:#}");
        }
        assert!(
            x.get("link").is_some(),
            "verdict.link present (maybe null): {x:#}"
        );
        assert!(
            x.get("rule").is_some(),
            "verdict.rule present (maybe null): {x:#}"
        );
        assert!(x.get("value").is_some(), "verdict.value present: {x:#}");
        let kind = x["source"]["kind"].as_str().expect("source.kind");
        assert!(
            ["file", "inline", "live", "dump", "default"].contains(&kind),
            "source.kind {kind}"
        );
        if kind == "file" {
            assert!(x["source"]["path"].is_string(), "{x:#}");
            assert!(x["source"]["line"].is_u64(), "{x:#}");
        }
        match x["verdict"].as_str().unwrap() {
            "dangerous" => counts[0] += 1,
            "pointless" => counts[1] += 1,
            "safe" => counts[2] += 1,
            other => panic!("verdict {other}"),
        }
        if let Some(value) = x["value"].as_str() {
            assert!(
                !value.contains("  ") && !value.contains('\t'),
                "fields separated by one space: {value:?}"
            );
        }
    }
    assert_eq!(v["summary"]["dangerous"], counts[0]);
    assert_eq!(v["summary"]["pointless"], counts[1]);
    // The rows of hosts twlint cannot see are safe in the matrix but counted apart.
    assert_eq!(
        v["summary"]["safe"].as_u64().unwrap() + v["summary"]["not_judged"].as_u64().unwrap_or(0),
        counts[2]
    );
    for d in v["diagnostics"]
        .as_array()
        .expect("diagnostics is an array")
    {
        for k in ["rule", "severity", "message"] {
            assert!(d[k].is_string(), "diagnostic.{k}: {d:#}");
        }
        assert!(d.get("location").is_some(), "diagnostic.location: {d:#}");
        if !d["location"].is_null() {
            assert!(d["location"]["path"].is_string(), "{d:#}");
            assert!(d["location"]["line"].is_u64(), "{d:#}");
            assert!(d["location"]["column"].is_u64(), "{d:#}");
        }
    }
}

#[test]
fn json_report_for_a_topology() {
    let out = run(
        &[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--format",
            "json",
        ],
        1,
    );
    let v = json_of(&out);
    check_report_shape(&v);
    let verdicts = v["verdicts"].as_array().unwrap();
    for x in verdicts {
        let link = x["link"]
            .as_str()
            .expect("link is FROM->TO with a topology");
        let (from, to) = link.split_once("->").expect("FROM->TO");
        match x["side"].as_str().expect("side with a topology") {
            "client" => assert_eq!(x["node"], from, "{x:#}"),
            "server" => assert_eq!(x["node"], to, "{x:#}"),
            // The seed's NAT, judged for the link that passes it.
            "via" => {
                assert_eq!(link, "clients->lb", "{x:#}");
                assert_eq!(x["node"], "nat", "{x:#}");
                assert!(x["key"].as_str().unwrap().starts_with("net.netfilter."));
            }
            s => panic!("side {s}"),
        }
    }
    // The NAT carries 3000 new connections/s for 120 s of conntrack TIME_WAIT: 360000 entries
    // against the default 262144.
    let nat_max = verdicts
        .iter()
        .find(|x| x["node"] == "nat" && x["key"] == "net.netfilter.nf_conntrack_max")
        .expect("the NAT is judged");
    assert_eq!(nat_max["verdict"], "dangerous", "{nat_max:#}");
    assert_eq!(nat_max["rule"], "TW190");
    assert!(nat_max["reason"].as_str().unwrap().contains("360000"));
    // Every in-scope key on every endpoint of every link.
    for link in ["clients->lb", "lb->web", "web->db"] {
        for key in [
            "net.ipv4.tcp_tw_reuse",
            "net.ipv4.tcp_timestamps",
            "net.ipv4.ip_local_port_range",
            "net.ipv4.tcp_fin_timeout",
            "net.ipv4.tcp_max_tw_buckets",
            "net.ipv4.ip_local_reserved_ports",
        ] {
            for side in ["client", "server"] {
                assert!(
                    verdicts
                        .iter()
                        .any(|x| x["link"] == link && x["key"] == key && x["side"] == side),
                    "no verdict for {key} on {link} ({side})"
                );
            }
        }
    }
    // The lb's tcp_tw_reuse on the hop it opens and closes first comes from its file and is safe.
    let reuse = verdicts
        .iter()
        .find(|x| {
            x["link"] == "lb->web" && x["node"] == "lb" && x["key"] == "net.ipv4.tcp_tw_reuse"
        })
        .unwrap();
    assert_eq!(reuse["value"], "1");
    assert_eq!(reuse["verdict"], "safe");
    assert_eq!(reuse["source"]["kind"], "file");
    assert_eq!(reuse["source"]["path"], "topologies/hosts/lb/sysctl.conf");
    assert_eq!(reuse["source"]["line"], 2);
    let range = verdicts
        .iter()
        .find(|x| {
            x["link"] == "lb->web"
                && x["node"] == "lb"
                && x["key"] == "net.ipv4.ip_local_port_range"
        })
        .unwrap();
    assert_eq!(range["value"], "10000 65535");
    // db's tcp_timestamps=0 breaks web's reuse: a dangerous diagnostic pointing into db's file.
    let ts = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "TW120")
        .expect("TW120 on db");
    assert_eq!(ts["severity"], "error");
    assert_eq!(ts["location"]["path"], "topologies/hosts/db/sysctl.conf");
    assert_eq!(ts["location"]["line"], 2);
    assert!(v["summary"]["dangerous"].as_u64().unwrap() >= 1);
}

#[test]
fn json_report_for_plain_files() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "host.conf",
        "net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.ip_local_port_range = 15000    61000\n",
    );
    let out = run(&[p(&f), "--kernel", "5.15", "--format", "json"], 1);
    let v = json_of(&out);
    check_report_shape(&v);
    for x in v["verdicts"].as_array().unwrap() {
        assert!(x["link"].is_null(), "no link without a topology: {x:#}");
        assert!(x.get("side").is_none(), "no side without a topology: {x:#}");
        assert!(x["node"].as_str().unwrap().ends_with("host.conf"), "{x:#}");
    }
    let range = v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "net.ipv4.ip_local_port_range")
        .unwrap();
    assert_eq!(range["value"], "15000 61000", "as the kernel prints it");
    assert_eq!(range["source"]["kind"], "file");
    assert_eq!(range["source"]["line"], 2);
    let recycle = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "TW101")
        .unwrap();
    assert_eq!(recycle["severity"], "error");
    assert_eq!(recycle["location"]["line"], 1);
    assert_eq!(recycle["location"]["column"], 27);
    // 15000-61000 covers NodePorts and MongoDB's port: dangerous, at warning level (TW133).
    assert_eq!(range["rule"], "TW133");
    assert_eq!(range["level"], "warning", "{range:#}");
    assert_eq!(v["summary"]["dangerous"], 2);
}

// ---------------------------------------------------------------------------------------------
// --help, --version
// ---------------------------------------------------------------------------------------------

#[test]
fn help_lists_exit_codes_and_headings() {
    let out = run_here(&["--help"], 0);
    let s = stdout_of(&out);
    for needle in [
        "Usage: twlint",
        "Input:",
        "Rules:",
        "Output:",
        "Exit codes:",
        "0  nothing at or above --fail-on",
        "1  findings at or above --fail-on",
        "2  twlint could not do its job",
        "--topology",
        "--fail-on",
        "--format",
        "explain",
        "rules",
    ] {
        assert!(s.contains(needle), "--help lacks {needle:?}:\n{s}");
    }
    insta::assert_snapshot!("help", s);
    // -h is the short form and still shows the exit codes.
    let s = stdout_of(&run_here(&["-h"], 0));
    assert!(s.contains("Exit codes:"), "{s}");
    insta::assert_snapshot!("help-short", s);
}

#[test]
fn version() {
    twlint()
        .arg("--version")
        .assert()
        .code(0)
        .stdout(predicate::str::diff(format!(
            "twlint {}\n",
            twlint::build_info::long_version()
        )));
    // Built from a git checkout (as the tests are), the version names its commit.
    if let Some(c) = twlint::build_info::COMMIT {
        let out = run_here(&["--version"], 0);
        assert!(stdout_of(&out).contains(&c[..12]), "{}", stdout_of(&out));
    }
}

// ---------------------------------------------------------------------------------------------
// explain, rules
// ---------------------------------------------------------------------------------------------

#[test]
fn explain_by_id_prints_every_section() {
    let out = run_here(&["explain", "TW101"], 0);
    let s = stdout_of(&out);
    assert!(s.starts_with("TW101 tw-recycle-removed: "), "{s}");
    let mut last = 0;
    for section in [
        "## What it does",
        "## Why",
        "## Example",
        "## Use instead",
        "## Kernel versions",
        "## References",
    ] {
        let at = s
            .find(section)
            .unwrap_or_else(|| panic!("no {section:?} in:\n{s}"));
        assert!(at > last, "{section} out of order");
        last = at;
    }
    assert!(
        s.contains("net.ipv4.tcp_tw_recycle = 1"),
        "the example: {s}"
    );
    assert!(s.contains("4.12"), "{s}");
    insta::assert_snapshot!("explain-TW101", s);
}

#[test]
fn explain_by_name_is_the_same_as_by_id() {
    let by_name = stdout_of(&run_here(&["explain", "tw-recycle-removed"], 0));
    let by_id = stdout_of(&run_here(&["explain", "TW101"], 0));
    assert_eq!(by_name, by_id);
}

#[test]
fn explain_json_parses() {
    let v = json_of(&run_here(&["explain", "TW140", "--format", "json"], 0));
    assert_eq!(v["id"], "TW140");
    assert_eq!(v["name"], "fin-timeout-not-time-wait");
    assert!(v["docs"]["why"].as_str().unwrap().contains("TIME_WAIT"));
}

#[test]
fn explain_unknown_rule_exits_2_with_a_suggestion() {
    let out = run_here(&["explain", "TW999"], 2);
    let e = stderr_of(&out);
    assert!(e.contains("unknown rule `TW999`"), "{e}");
    assert!(
        e.contains("did you mean") || e.contains("twlint rules"),
        "{e}"
    );
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!("explain-unknown", e);

    let out = run_here(&["explain", "tw-recycle-removd"], 2);
    let e = stderr_of(&out);
    assert!(e.contains("did you mean `tw-recycle-removed`?"), "{e}");
}

#[test]
fn rules_lists_the_catalog() {
    let s = stdout_of(&run_here(&["rules"], 0));
    for needle in [
        "TW001",
        "TW101  tw-recycle-removed",
        "TW111",
        "TW140",
        "fin-timeout-not-time-wait",
    ] {
        assert!(s.contains(needle), "rules lacks {needle:?}:\n{s}");
    }
    let ids: Vec<&str> = s.lines().skip(1).map(|l| &l[..5]).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "sorted by id, each once");
    insta::assert_snapshot!("rules", s);
}

#[test]
fn rules_json_parses() {
    let v = json_of(&run_here(&["rules", "--format", "json"], 0));
    let rules = v.as_array().expect("an array of rules");
    let recycle = rules.iter().find(|r| r["id"] == "TW101").expect("TW101");
    assert_eq!(recycle["name"], "tw-recycle-removed");
    assert_eq!(recycle["verdict"], "dangerous");
    assert!(rules
        .iter()
        .all(|r| r["id"].as_str().unwrap().starts_with("TW")));
    let human = stdout_of(&run_here(&["rules"], 0));
    assert_eq!(
        rules.len(),
        human.lines().count() - 1,
        "same catalog in both formats"
    );
}

// ---------------------------------------------------------------------------------------------
// --rules DIR: user rule files
// ---------------------------------------------------------------------------------------------

const USER_RULE: &str = r#"id: TW900
name: fin-timeout-touched
summary: site policy forbids changing tcp_fin_timeout
verdict: dangerous
scope: node
keys: [net.ipv4.tcp_fin_timeout]
when: set && num != 60
message: "tcp_fin_timeout={{ num }} is against site policy"
help: "remove the line"
docs:
  what: |
    Flags tcp_fin_timeout set to anything but 60.
  why: |
    Site policy: nobody remembers why it was lowered.
  example:
    sysctl: |
      net.ipv4.tcp_fin_timeout = 15
  use_instead:
    sysctl: |
      net.ipv4.tcp_fin_timeout = 60
  kernel: |
    All kernels.
  references:
    - "site policy"
"#;

#[test]
fn user_rule_folder_adds_a_rule() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    write(&rules, "TW900-fin-timeout-touched.yaml", USER_RULE);
    let f = write(dir.path(), "fin.conf", "net.ipv4.tcp_fin_timeout = 15\n");

    // Without the folder: only pointless (TW140), exit 0.
    run(&[p(&f), "--kernel", "5.15"], 0);
    // With it: the user rule makes it dangerous.
    let out = run(
        &[
            p(&f),
            "--kernel",
            "5.15",
            "--rules",
            p(&rules),
            "--format",
            "json",
        ],
        1,
    );
    let v = json_of(&out);
    let fin = v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "net.ipv4.tcp_fin_timeout")
        .unwrap();
    assert_eq!(fin["rule"], "TW900", "{fin:#}");
    assert_eq!(fin["verdict"], "dangerous");
    assert_eq!(fin["reason"], "tcp_fin_timeout=15 is against site policy");
    let human = stdout_of(&run(&[p(&f), "--kernel", "5.15", "--rules", p(&rules)], 1));
    assert!(human.contains("TW900"), "{human}");

    // `rules` and `explain` see it too.
    let listed = stdout_of(&run(&["rules", "--rules", p(&rules)], 0));
    assert!(listed.contains("TW900  fin-timeout-touched"), "{listed}");
    let explained = stdout_of(&run(&["explain", "TW900", "--rules", p(&rules)], 0));
    assert!(explained.contains("Site policy"), "{explained}");
    assert!(explained.contains("set && num != 60"), "{explained}");
}

#[test]
fn user_rule_with_bad_cel_exits_2_pointing_into_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    let rule = write(
        &rules,
        "TW900-fin-timeout-touched.yaml",
        &USER_RULE.replace("when: set && num != 60", "when: set && num !="),
    );
    let f = write(dir.path(), "fin.conf", "net.ipv4.tcp_fin_timeout = 15\n");
    let out = run(&[p(&f), "--rules", p(&rules), "--color", "never"], 2);
    let e = stderr_of(&out);
    assert!(e.contains("not valid CEL"), "{e}");
    assert!(
        e.contains(&format!("{}:7:", p(&rule))),
        "path:line:col: {e}"
    );
    assert!(e.contains("no rule was used"), "{e}");
    assert!(
        out.stdout.is_empty(),
        "nothing judged with a broken catalog"
    );

    // explain and rules refuse the broken folder too.
    run(&["rules", "--rules", p(&rules)], 2);
    run(&["explain", "TW101", "--rules", p(&rules)], 2);
}

#[test]
fn user_rule_with_unknown_field_exits_2_pointing_into_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    let rule = write(
        &rules,
        "TW900-fin-timeout-touched.yaml",
        &USER_RULE.replace("help: \"remove the line\"", "hepl: \"remove the line\""),
    );
    let f = write(dir.path(), "fin.conf", "net.ipv4.tcp_fin_timeout = 15\n");
    let out = run(&[p(&f), "--rules", p(&rules), "--color", "never"], 2);
    let e = stderr_of(&out);
    assert!(e.contains("unknown field `hepl`"), "{e}");
    assert!(
        e.contains(&format!("{}:9:1", p(&rule))),
        "path:line:col: {e}"
    );
    assert!(e.contains("did you mean `help`?"), "{e}");
}

#[test]
fn missing_rules_folder_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "a.conf", "net.ipv4.tcp_tw_reuse = 1\n");
    let out = run(&[p(&f), "--rules", p(&dir.path().join("no-such-dir"))], 2);
    assert!(
        stderr_of(&out).contains("no-such-dir"),
        "{}",
        stderr_of(&out)
    );
}

// ---------------------------------------------------------------------------------------------
// Colour
// ---------------------------------------------------------------------------------------------

#[test]
fn no_colour_when_stdout_is_not_a_terminal() {
    let out = run(&["--topology", "topologies/lb-web-db.yaml"], 1);
    assert!(
        !stdout_of(&out).contains(ESC),
        "escape codes in piped output"
    );
    let out = twlint()
        .env("NO_COLOR", "1")
        .args(["--topology", "topologies/lb-web-db.yaml"])
        .output()
        .unwrap();
    assert!(!stdout_of(&out).contains(ESC));
}

#[test]
fn colour_with_color_always_and_none_with_never() {
    let out = run(
        &[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--color",
            "always",
        ],
        1,
    );
    assert!(
        stdout_of(&out).contains(ESC),
        "no escape codes with --color always"
    );
    let out = run(
        &[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--color",
            "never",
        ],
        1,
    );
    assert!(!stdout_of(&out).contains(ESC));
    // JSON never carries escape codes.
    let out = run(
        &[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--format",
            "json",
            "--color",
            "always",
        ],
        1,
    );
    assert!(!stdout_of(&out).contains(ESC));
    json_of(&out);
}

/// On a real terminal (a pty from util-linux `script`) colour is on by default and `NO_COLOR=1`
/// turns it off. Skipped when `script` is not installed.
#[test]
fn no_color_env_on_a_terminal() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("twlint");
    let on_tty = |no_color: bool| -> String {
        let inner = format!(
            "{}'{}' --topology topologies/lb-web-db.yaml",
            if no_color { "NO_COLOR=1 " } else { "" },
            bin.display()
        );
        let out = std::process::Command::new("script")
            .args(["-qec", &inner, "/dev/null"])
            .current_dir(root())
            .env_remove("NO_COLOR")
            .env("TWLINT_NO_LIVE", "1")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = on_tty(false);
    assert!(coloured.contains("hop lb->web"), "{coloured}");
    assert!(coloured.contains(ESC), "colour on a terminal by default");
    let plain = on_tty(true);
    assert!(plain.contains("hop lb->web"), "{plain}");
    assert!(!plain.contains(ESC), "NO_COLOR=1 on a terminal: {plain}");
}

// ---------------------------------------------------------------------------------------------
// A closed stdout
// ---------------------------------------------------------------------------------------------

#[test]
fn closed_stdout_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // Megabytes of output, far more than a pipe buffer, so twlint writes after head has gone.
    let text: String = (0..3000)
        .map(|i| format!("net.ipv4.tcp_fin_timeut = {i}\n"))
        .collect();
    let f = write(dir.path(), "big.conf", &text);
    let bin = assert_cmd::cargo::cargo_bin("twlint");
    let script = format!(
        "'{}' '{}' --kernel 5.15 2>'{}' | head -1; echo \"twlint=${{PIPESTATUS[0]}}\"",
        bin.display(),
        f.display(),
        dir.path().join("stderr").display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    let err = fs::read_to_string(dir.path().join("stderr")).unwrap();
    let mut lines = s.lines();
    assert_eq!(
        lines.next(),
        Some(&*format!("{}: kernel 5.15", f.display())),
        "{s}"
    );
    let status = lines.next().expect("status line");
    assert!(
        status == "twlint=0" || status == "twlint=1",
        "exit status after a closed stdout: {status}; stderr: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.to_lowercase().contains("broken pipe"), "{err}");
    assert!(err.is_empty(), "nothing on stderr: {err}");

    // JSON too.
    let script = format!(
        "'{}' '{}' --format json 2>'{}' | head -c 10; echo; echo \"twlint=${{PIPESTATUS[0]}}\"",
        bin.display(),
        f.display(),
        dir.path().join("stderr").display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.starts_with('{'), "{s}");
    assert!(s.contains("twlint=0") || s.contains("twlint=1"), "{s}");
    let err = fs::read_to_string(dir.path().join("stderr")).unwrap();
    assert!(err.is_empty(), "nothing on stderr: {err}");
}

// ---------------------------------------------------------------------------------------------
// examples/*/README.md stay true
// ---------------------------------------------------------------------------------------------

/// A ```` ```console ```` block of a README: a `$ ` command line, the output it prints,
/// optionally followed by `$ echo $?` and the exit status.
struct ConsoleBlock {
    /// Line index of the `$ ` line.
    command_line: usize,
    /// Line index of the closing fence.
    end: usize,
    command: String,
    output: String,
    status: Option<i32>,
}

fn console_blocks(readme: &str) -> Vec<ConsoleBlock> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut blocks = Vec::new();
    let mut from = 0;
    // A block whose output holds a fence of its own (a Markdown report with a ```mermaid
    // chart) opens with four backticks and closes with the same four.
    let fence_of = |l: &str| {
        let l = l.trim_end();
        let ticks = l.len() - l.trim_start_matches('`').len();
        (ticks >= 3 && &l[ticks..] == "console").then(|| "`".repeat(ticks))
    };
    while let Some(offset) = lines[from..].iter().position(|l| fence_of(l).is_some()) {
        let start = from + offset;
        let fence = fence_of(lines[start]).unwrap();
        let end = start
            + 1
            + lines[start + 1..]
                .iter()
                .position(|l| l.trim_end() == fence)
                .expect("console block is closed");
        let command_line = start + 1;
        let command = lines[command_line]
            .strip_prefix("$ ")
            .expect("a console block starts with a `$ ` line")
            .to_string();
        let mut output = String::new();
        let mut status = None;
        let mut i = command_line + 1;
        while i < end {
            if lines[i] == "$ echo $?" {
                status = Some(
                    lines[i + 1]
                        .trim()
                        .parse()
                        .expect("exit status after `$ echo $?`"),
                );
                break;
            }
            output.push_str(lines[i]);
            output.push('\n');
            i += 1;
        }
        blocks.push(ConsoleBlock {
            command_line,
            end,
            command,
            output,
            status,
        });
        from = end + 1;
    }
    blocks
}

/// The twlint arguments of a README command: what follows `--` in `cargo run --release -- ARGS`
/// (or `--profile dist`),
/// or `twlint ARGS`. `--color never` is added when the command does not say it.
fn twlint_args(command: &str) -> Vec<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let args: Vec<String> = if let Some(at) = words.iter().position(|w| *w == "--") {
        assert_eq!(words[0], "cargo", "unexpected command {command:?}");
        words[at + 1..].iter().map(|s| s.to_string()).collect()
    } else if words.first() == Some(&"twlint") {
        words[1..].iter().map(|s| s.to_string()).collect()
    } else {
        panic!("a console block must run `cargo run --release -- ...` (or `--profile dist`) or `twlint ...`: {command:?}")
    };
    assert!(
        !args
            .iter()
            .any(|a| a.contains(['|', '>', '<', '\'', '"', '$', '`'])),
        "the example command must be plain arguments, no shell syntax (show excerpts in a ```json \
         or ```text block instead): {command:?}"
    );
    let mut args = args;
    // `schema` prints JSON and takes no colour flag.
    if !args.iter().any(|a| a == "--color") && args.first().is_none_or(|a| a != "schema") {
        args.extend(["--color".to_string(), "never".to_string()]);
    }
    args
}

fn example_readmes() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(root().join("examples"))
        .expect("examples/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.join("README.md"))
        .collect();
    out.sort();
    out
}

#[test]
fn examples_index_links_every_example() {
    let index = fs::read_to_string(root().join("examples/README.md")).expect("examples/README.md");
    let readmes = example_readmes();
    assert!(readmes.len() >= 5, "{readmes:?}");
    for r in readmes {
        assert!(r.exists(), "{} is missing", r.display());
        let dir = r.parent().unwrap().file_name().unwrap().to_str().unwrap();
        assert!(
            index.contains(&format!("]({dir}/")),
            "examples/README.md does not link {dir}/"
        );
    }
}

/// Every ```` ```console ```` block in `examples/*/README.md` is run (from the repository root,
/// with `--color never`) and its output and `$ echo $?` status compared with the binary's.
/// `TWLINT_UPDATE_EXAMPLES=1` rewrites the blocks instead of failing.
#[test]
fn examples_readme_output_matches_the_binary() {
    check_console_blocks(&example_readmes(), true);
}

/// The Markdown files of the README and `docs/` (the generated rule pages hold no console block).
fn doc_pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "md") {
                out.push(p);
            }
        }
    }
    let mut out = vec![root().join("README.md")];
    walk(&root().join("docs"), &mut out);
    out.sort();
    out
}

/// The same for the README and every page of `docs/`: a ```` ```console ```` block there is
/// run too (output that depends on the machine, needs root or files that are not in the
/// repository is shown in a ```` ```text ```` block instead). A block whose output has `...`
/// lines is an excerpt: each run of lines between them must appear, in order, in the output.
#[test]
fn docs_console_blocks_match_the_binary() {
    let pages = doc_pages();
    let with_blocks = pages
        .iter()
        .filter(|p| !console_blocks(&fs::read_to_string(p).unwrap()).is_empty())
        .count();
    assert!(
        with_blocks >= 8,
        "only {with_blocks} pages have console blocks"
    );
    check_console_blocks(&pages, false);
}

/// Whether `output` holds the excerpt `want`: the runs of lines between `...` lines appear in
/// order; a run not preceded (followed) by `...` must start (end) the output.
fn excerpt_matches(want: &str, output: &str) -> Result<(), String> {
    let got: Vec<&str> = output.lines().collect();
    let lines: Vec<&str> = want.lines().collect();
    let mut chunks: Vec<Vec<&str>> = vec![vec![]];
    for l in &lines {
        if *l == "..." {
            chunks.push(vec![]);
        } else {
            chunks.last_mut().unwrap().push(l);
        }
    }
    let last = chunks.len() - 1;
    let mut pos = 0;
    for (i, chunk) in chunks.iter().enumerate() {
        if chunk.is_empty() {
            continue;
        }
        let fits = |s: usize| got.len() >= s + chunk.len() && got[s..s + chunk.len()] == chunk[..];
        let found = if i == 0 {
            fits(0).then_some(0)
        } else if i == last {
            got.len()
                .checked_sub(chunk.len())
                .filter(|s| *s >= pos && fits(*s))
        } else {
            (pos..=got.len()).find(|s| fits(*s))
        };
        match found {
            Some(s) => pos = s + chunk.len(),
            None => {
                return Err(format!(
                    "the excerpt's lines from {:?} are not in the output (after its line {pos})",
                    chunk[0]
                ))
            }
        }
    }
    Ok(())
}

fn check_console_blocks(files: &[PathBuf], require_blocks: bool) {
    let update =
        std::env::var_os("TWLINT_UPDATE_EXAMPLES").is_some_and(|v| v != "0" && !v.is_empty());
    let mut failures = Vec::new();
    for readme in files {
        let text = fs::read_to_string(readme).unwrap();
        let rel = readme.strip_prefix(root()).unwrap().display().to_string();
        let blocks = console_blocks(&text);
        if blocks.is_empty() {
            if require_blocks {
                failures.push(format!("{rel}: no ```console block"));
            }
            continue;
        }
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let mut changed = false;
        // Last block first, so that rewriting one keeps the line numbers of the others.
        for block in blocks.iter().rev() {
            let args = twlint_args(&block.command);
            let out = twlint().args(&args).output().unwrap();
            let stdout = stdout_of(&out);
            let code = out.status.code().expect("exited");
            assert!(
                code != 2 || !stdout.is_empty(),
                "{rel}: `{}` could not run (exit 2): {}",
                block.command,
                stderr_of(&out)
            );
            let excerpt = block.output.lines().any(|l| l == "...");
            let stale_status = block.status.is_some_and(|s| s != code);
            if excerpt {
                let result = excerpt_matches(&block.output, &stdout);
                if result.is_ok() && !stale_status {
                    continue;
                }
                let mut msg = format!(
                    "{rel}: the ```console excerpt of `{}` is stale (an excerpt is edited by hand)",
                    block.command
                );
                if let Err(e) = result {
                    msg.push_str(&format!("\n  {e}"));
                }
                if stale_status {
                    msg.push_str(&format!(
                        "\n  exit status: the page says {}, twlint exited {code}",
                        block.status.unwrap()
                    ));
                }
                failures.push(msg);
                continue;
            }
            let stale_output = stdout != block.output;
            if !(stale_output || stale_status) {
                continue;
            }
            if update {
                let mut new: Vec<String> = stdout.lines().map(String::from).collect();
                if block.status.is_some() {
                    new.push("$ echo $?".into());
                    new.push(code.to_string());
                }
                lines.splice(block.command_line + 1..block.end, new);
                changed = true;
                continue;
            }
            let mut msg = format!(
                "{rel}: the ```console block of `{}` is stale",
                block.command
            );
            if stale_status {
                msg.push_str(&format!(
                    "\n  exit status: README says {}, twlint exited {code}",
                    block.status.unwrap()
                ));
            }
            if stale_output {
                let (want, got): (Vec<&str>, Vec<&str>) =
                    (block.output.lines().collect(), stdout.lines().collect());
                let first = want
                    .iter()
                    .zip(&got)
                    .position(|(a, b)| a != b)
                    .unwrap_or(want.len().min(got.len()));
                msg.push_str(&format!(
                    "\n  first difference at output line {}:\n    README: {:?}\n    twlint: {:?}",
                    first + 1,
                    want.get(first).copied().unwrap_or("<end>"),
                    got.get(first).copied().unwrap_or("<end>")
                ));
            }
            failures.push(msg);
        }
        if changed {
            let mut new = lines.join("\n");
            new.push('\n');
            fs::write(readme, new).unwrap();
            eprintln!("updated {rel}");
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\nIf the new output is intended, regenerate the README blocks with\n    \
         TWLINT_UPDATE_EXAMPLES=1 cargo test --test cli -- examples_ docs_\nthen review the diff and check \
         that the prose around the blocks still matches.",
        failures.join("\n\n")
    );
}

/// The JSON excerpt in example 02 is what twlint prints: its summary and every verdict it shows
/// are in the real report. (Regenerate with the `jq` command shown above the block.)
#[test]
fn examples_json_excerpt_is_current() {
    let readme = fs::read_to_string(root().join("examples/02-seed-scheme-1/README.md")).unwrap();
    let start = readme.find("```json\n").expect("a ```json block") + "```json\n".len();
    let end = start + readme[start..].find("\n```").unwrap();
    let excerpt: Value = serde_json::from_str(&readme[start..end]).expect("the excerpt parses");
    let real = json_of(&run(
        &[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--format",
            "json",
        ],
        1,
    ));
    assert_eq!(excerpt["version"], real["version"]);
    // The excerpt was taken from a build that names no commit; every build from git adds one.
    assert_eq!(
        excerpt["tool"],
        twlint::build_info::without_commit(real.clone())["tool"]
    );
    assert_eq!(
        excerpt["summary"], real["summary"],
        "examples/02-seed-scheme-1/README.md: the JSON excerpt is stale; rerun the jq command above it"
    );
    let verdicts = excerpt["verdicts"].as_array().unwrap();
    assert!(!verdicts.is_empty());
    for v in verdicts {
        assert!(
            real["verdicts"].as_array().unwrap().contains(v),
            "examples/02-seed-scheme-1/README.md: the JSON excerpt is stale; rerun the jq command above it: {v:#}"
        );
    }
}

/// A reader that stops early must not turn findings into success under `set -o pipefail`.
#[test]
fn closed_stdout_keeps_the_exit_code_of_the_findings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.conf");
    let body: String = (0..3000)
        .map(|i| format!("net.ipv4.tcp_fin_timeut = {i}\n"))
        .collect();
    std::fs::write(&path, body).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("twlint");
    let script = format!(
        "set -o pipefail; '{}' --color never --kernel 5.15 '{}' | head -1 >/dev/null; echo $?",
        bin.display(),
        path.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
