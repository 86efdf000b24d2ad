//! Fleet mode: many `sysctl -a` dumps in one run, each one host, judged in parallel, reported in
//! argument order with a summary of which hosts have which dangerous settings. The run writes
//! each host as soon as it is judged (`cli::fleet`): the report it streams is the one the
//! renderers write for the whole report.

#[path = "../benches/gen/mod.rs"]
mod gen;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// A `sysctl -a` dump in the form procps prints: about 1,300 lines over the usual top-level
/// directories, the in-scope keys at their defaults unless `set` changes them.
fn dump(release: &str, set: &[(&str, &str)]) -> String {
    let mut keys: Vec<(String, String)> = vec![
        ("kernel.osrelease".into(), release.into()),
        ("net.ipv4.tcp_tw_reuse".into(), "2".into()),
        ("net.ipv4.tcp_timestamps".into(), "1".into()),
        ("net.ipv4.ip_local_port_range".into(), "32768\t60999".into()),
        ("net.ipv4.tcp_fin_timeout".into(), "60".into()),
        ("net.ipv4.tcp_max_tw_buckets".into(), "262144".into()),
        ("net.ipv4.ip_local_reserved_ports".into(), "".into()),
    ];
    for i in 0..1300 {
        let top = ["kernel", "vm", "fs", "net.core", "dev.raid"][i % 5];
        keys.push((format!("{top}.fleet_test_{i}"), format!("{}", i * 7)));
    }
    for (k, v) in set {
        match keys.iter_mut().find(|(key, _)| key == k) {
            Some(e) => e.1 = v.to_string(),
            None => keys.push((k.to_string(), v.to_string())),
        }
    }
    keys.sort();
    keys.iter().map(|(k, v)| format!("{k} = {v}\n")).collect()
}

fn write_fleet(dir: &Path) {
    std::fs::write(dir.join("a-clean.txt"), dump("6.8.0-45-generic", &[])).unwrap();
    std::fs::write(
        dir.join("b-recycle.txt"),
        dump(
            "4.4.0-21-generic",
            &[
                ("net.ipv4.tcp_tw_recycle", "1"),
                ("net.ipv4.tcp_max_tw_buckets", "100"),
            ],
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("c-buckets.txt"),
        dump("5.15.0-1-amd64", &[("net.ipv4.tcp_max_tw_buckets", "5000")]),
    )
    .unwrap();
}

fn twlint(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("twlint").unwrap();
    c.current_dir(dir).args(["--color", "never"]);
    c
}

fn stdout(c: &mut Command) -> (i32, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn each_dump_is_a_host_with_its_own_kernel_and_the_summary_says_who_is_dangerous() {
    let tmp = tempfile::tempdir().unwrap();
    write_fleet(tmp.path());
    let (code, out) =
        stdout(twlint(tmp.path()).args(["a-clean.txt", "b-recycle.txt", "c-buckets.txt"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("a-clean.txt: kernel 6.8 (from the dump)"),
        "{out}"
    );
    assert!(
        out.contains("b-recycle.txt: kernel 4.4 (from the dump)"),
        "{out}"
    );
    let at = out.find("fleet: ").expect("a fleet summary");
    let fleet = &out[at..];
    let table: Vec<&str> = fleet.lines().take(5).collect();
    assert_eq!(table[0], "fleet: 3 hosts, 2 with dangerous settings");
    assert_eq!(
        table[1],
        "  host           kernel  tcp_max_tw_buckets  tcp_tw_recycle  pointless  errors"
    );
    // Worst hosts first: two dangerous settings, then one, then none.
    assert!(
        table[2].starts_with("  b-recycle.txt  4.4     dangerous           dangerous"),
        "{fleet}"
    );
    assert!(
        table[3].starts_with("  c-buckets.txt  5.15    dangerous           -  "),
        "{fleet}"
    );
    assert!(
        table[4].starts_with("  a-clean.txt    6.8     -                   -  "),
        "{fleet}"
    );
    // The summary comes first; then each host, its findings under its table, in argument
    // order; then the last lines.
    assert!(out.starts_with("fleet: 3 hosts"), "{out}");
    let a = out.find("a-clean.txt: kernel 6.8").unwrap();
    let b = out.find("b-recycle.txt: kernel 4.4").unwrap();
    let c = out.find("c-buckets.txt: kernel 5.15").unwrap();
    let b_finding = out.find("[TW103]").expect("b's tcp_tw_recycle finding");
    let last = out.find("\nverdicts: ").expect("the last lines");
    assert!(
        at < a && a < b && b < b_finding && b_finding < c && c < last,
        "{out}"
    );
    assert!(fleet.contains("  tcp_max_tw_buckets is dangerous on 2 of 3 hosts\n"));
    assert!(fleet.contains("  tcp_tw_recycle is dangerous on 1 of 3 hosts\n"));
}

#[test]
fn the_json_report_gains_a_fleet_section_in_argument_order() {
    let tmp = tempfile::tempdir().unwrap();
    write_fleet(tmp.path());
    // Reversed on purpose: the report follows the arguments, not file names or thread timing.
    let (code, out) = stdout(twlint(tmp.path()).args([
        "--format",
        "json",
        "c-buckets.txt",
        "b-recycle.txt",
        "a-clean.txt",
    ]));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let nodes: Vec<&str> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["c-buckets.txt", "b-recycle.txt", "a-clean.txt"]);
    assert_eq!(v["nodes"][1]["kernel_source"], "dump");
    insta::assert_json_snapshot!("fleet_section", v["fleet"]);
}

#[test]
fn one_dump_has_no_fleet_section() {
    let tmp = tempfile::tempdir().unwrap();
    write_fleet(tmp.path());
    let (_, out) = stdout(twlint(tmp.path()).args(["--format", "json", "a-clean.txt"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v.get("fleet").is_none());
    let (code, out) = stdout(twlint(tmp.path()).arg("a-clean.txt"));
    assert_eq!(code, 0);
    assert!(!out.contains("fleet:"), "{out}");
}

#[test]
fn many_dumps_give_the_same_report_every_time() {
    let tmp = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for i in 0..48 {
        let set: &[(&str, &str)] = match i % 3 {
            0 => &[],
            1 => &[("net.ipv4.tcp_max_tw_buckets", "64")],
            _ => &[
                ("net.ipv4.tcp_tw_reuse", "1"),
                ("net.ipv4.tcp_tw_reuse_delay", "10"),
            ],
        };
        let name = format!("host-{:02}.txt", 47 - i);
        std::fs::write(tmp.path().join(&name), dump("6.18.0", set)).unwrap();
        names.push(name);
    }
    let first = stdout(twlint(tmp.path()).args(["--format", "json"]).args(&names));
    for _ in 0..3 {
        assert_eq!(
            stdout(twlint(tmp.path()).args(["--format", "json"]).args(&names)),
            first
        );
    }
    let v: serde_json::Value = serde_json::from_str(&first.1).unwrap();
    let hosts: Vec<&str> = v["fleet"]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, names);
    assert_eq!(v["fleet"]["with_dangerous"], 32);
    assert_eq!(
        v["fleet"]["dangerous"]["net.ipv4.tcp_max_tw_buckets"]
            .as_array()
            .unwrap()
            .len(),
        16
    );
}

// ---------------------------------------------------------------------------------------------
// Partial failure (issue 17): a path of a fleet that cannot be read is a host with an error; the
// others are judged and reported as usual, and the run exits 2 (twlint could not do its whole
// job), whatever `--fail-on` says.

/// stdout and stderr of a run in `dir`, with its exit code.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = twlint(dir).args(args).output().unwrap();
    (
        out.status.code().expect("an exit code, not a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The fleet with `broken` named between its dumps: exit 2, every judged host in the report,
/// the broken path named with `reason` on stderr, in the human fleet table and in the JSON
/// report. Returns the JSON report.
fn fleet_with(dir: &Path, broken: &str, reason: &str) -> serde_json::Value {
    write_fleet(dir);
    let paths = ["a-clean.txt", broken, "c-buckets.txt"];
    let mut args = paths.to_vec();
    args.extend(["--fail-on", "never"]);
    let (code, out, err) = run(dir, &args);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains(broken) && err.contains(reason), "{err}");
    assert!(
        out.contains("a-clean.txt: kernel 6.8 (from the dump)"),
        "{out}"
    );
    assert!(
        out.contains("c-buckets.txt: kernel 5.15 (from the dump)"),
        "{out}"
    );
    assert!(
        out.contains("fleet: 3 hosts, 1 with dangerous settings, 1 not read"),
        "{out}"
    );
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with(broken))
        .unwrap_or_else(|| panic!("no fleet row for {broken}:\n{out}"));
    assert!(
        row.contains("unknown") && row.ends_with("not read"),
        "{row}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("not read:") && l.contains(broken) && l.contains(reason)),
        "{out}"
    );
    // The last line agrees with the exit code: the run is incomplete.
    assert!(
        out.trim_end()
            .ends_with("twlint: 1 path could not be read (listed above); the run is incomplete"),
        "{out}"
    );

    args.extend(["--format", "json"]);
    let (code, out, err) = run(dir, &args);
    assert_eq!(code, 2, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let nodes: Vec<&str> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["a-clean.txt", "c-buckets.txt"]);
    assert_eq!(v["summary"]["unread"], 1);
    assert_eq!(v["unread"][0]["path"], broken);
    assert!(
        v["unread"][0]["error"].as_str().unwrap().contains(reason),
        "{v}"
    );
    let hosts = v["fleet"]["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 3);
    assert_eq!(hosts[2]["name"], broken);
    assert_eq!(hosts[2]["kernel"], "unknown");
    assert!(hosts[2]["error"].as_str().unwrap().contains(reason));
    assert!(
        hosts[0].get("error").is_none(),
        "hosts read keep their shape"
    );
    v
}

#[test]
fn a_missing_dump_among_many_is_named_and_the_others_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    fleet_with(tmp.path(), "missing.txt", "No such file");
}

#[test]
fn a_dangling_link_among_dumps_is_named_and_the_others_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("gone.txt", tmp.path().join("dangling.txt")).unwrap();
    fleet_with(tmp.path(), "dangling.txt", "No such file");
}

#[test]
fn a_folder_with_nothing_to_lint_among_dumps_is_named_and_the_others_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("folder.txt")).unwrap();
    fleet_with(tmp.path(), "folder.txt", "holds no `*.conf` file");
}

#[test]
fn a_fifo_among_dumps_is_refused_without_blocking_and_the_others_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = std::ffi::CString::new(tmp.path().join("fifo.txt").to_str().unwrap()).unwrap();
    // SAFETY: a valid C string; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    fleet_with(
        tmp.path(),
        "fifo.txt",
        "not a file or directory that twlint can read",
    );
}

#[test]
fn a_dump_too_large_to_read_is_named_and_the_others_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    // Sparse: the size is what is refused, before anything is read.
    let f = std::fs::File::create(tmp.path().join("huge.txt")).unwrap();
    f.set_len(twlint::inputs::MAX_FILE_SIZE + 1).unwrap();
    fleet_with(tmp.path(), "huge.txt", "refuses to read it whole");
}

#[test]
fn a_binary_file_among_dumps_is_named_and_the_others_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("core.txt"),
        b"kernel.osrelease = 6.8\n\x7fELF\0\0\0",
    )
    .unwrap();
    fleet_with(tmp.path(), "core.txt", "a NUL byte");
}

#[test]
fn an_unreadable_dump_among_many_is_named_and_the_others_are_reported() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_fleet(d);
    // Root reads mode-000 files, so under root the run is `nobody`'s (setpriv, from util-linux,
    // as in tests/hostile.rs); the folder and the other dumps must then be open to it.
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    let locked = d.join("locked.txt");
    std::fs::write(&locked, dump("6.1.0", &[])).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let args = [
        "a-clean.txt",
        "locked.txt",
        "c-buckets.txt",
        "--color",
        "never",
    ];
    // SAFETY: geteuid has no preconditions.
    let out = if unsafe { libc::geteuid() } == 0 {
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(assert_cmd::cargo::cargo_bin("twlint"))
            .args(args)
            .current_dir(d)
            .output()
            .expect("setpriv (util-linux) is installed")
    } else {
        twlint(d).args(args).output().unwrap()
    };
    let (out_text, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(2), "{out_text}{err}");
    assert!(
        err.contains("cannot read locked.txt: Permission denied"),
        "{err}"
    );
    for host in ["a-clean.txt: kernel 6.8", "c-buckets.txt: kernel 5.15"] {
        assert!(out_text.contains(host), "{out_text}");
    }
    assert!(
        out_text.contains("not read: cannot read locked.txt: Permission denied"),
        "{out_text}"
    );
}

#[test]
fn every_broken_path_is_named_in_argument_order_and_in_every_machine_format() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_fleet(d);
    std::fs::create_dir(d.join("empty.d")).unwrap();
    let args = [
        "missing-1.txt",
        "a-clean.txt",
        "empty.d",
        "c-buckets.txt",
        "missing-2.txt",
        "--fail-on",
        "never",
    ];
    let broken = ["missing-1.txt", "empty.d", "missing-2.txt"];
    let (code, _, err) = run(d, &args);
    assert_eq!(code, 2);
    let at: Vec<usize> = broken.iter().map(|b| err.find(b).expect(b)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "argument order:\n{err}");
    let format = |f: &str| {
        let mut a = args.to_vec();
        a.extend(["--format", f]);
        let (code, out, _) = run(d, &a);
        assert_eq!(code, 2, "{f}");
        out
    };
    let json: serde_json::Value = serde_json::from_str(&format("json")).unwrap();
    let unread: Vec<&str> = json["unread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["path"].as_str().unwrap())
        .collect();
    assert_eq!(unread, broken);
    let sarif: serde_json::Value = serde_json::from_str(&format("sarif")).unwrap();
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 3);
    assert_eq!(
        notes[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "empty.d"
    );
    let github = format("github");
    for b in broken {
        assert!(
            github.contains(&format!("::error file={b},title=not read::")),
            "{github}"
        );
        assert!(format("gcc").contains(&format!("{b}: error: ")), "{b}");
        assert!(format("markdown").contains(&format!("- `{b}`: ")), "{b}");
        assert!(
            format("prometheus").contains(&format!("twlint_unread_paths{{path=\"{b}\"}} 1")),
            "{b}"
        );
    }
}

#[test]
fn a_run_where_no_path_can_be_read_still_reports_each() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = run(tmp.path(), &["gone-1.txt", "gone-2.txt"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("gone-1.txt") && err.contains("gone-2.txt"),
        "{err}"
    );
    assert!(
        out.contains("fleet: 2 hosts, 0 with dangerous settings, 2 not read"),
        "{out}"
    );
}

#[test]
fn a_broken_file_among_sysctl_files_leaves_the_others_judged_as_one_set() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.conf"), "net.ipv4.tcp_tw_recycle = 1\n").unwrap();
    std::fs::write(d.join("b.conf"), "net.ipv4.tcp_fin_timeout = 30\n").unwrap();
    let (code, out, err) = run(d, &["a.conf", "missing.conf", "b.conf", "--format", "json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("missing.conf"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["nodes"][0]["name"], "a.conf, b.conf");
    assert_eq!(v["unread"][0]["path"], "missing.conf");
    // The set's findings are there: the run judged what it could.
    assert!(v["summary"]["dangerous"].as_u64().unwrap() > 0, "{v}");
}

#[test]
fn a_single_broken_path_is_an_error_and_no_report_as_before() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("empty.d")).unwrap();
    for path in ["missing.txt", "empty.d"] {
        let (code, out, err) = run(tmp.path(), &[path]);
        assert_eq!(code, 2);
        assert!(err.contains(path), "{err}");
        assert!(out.is_empty(), "{out}");
    }
}

#[test]
fn a_fleet_read_whole_keeps_its_report_shape() {
    let tmp = tempfile::tempdir().unwrap();
    write_fleet(tmp.path());
    let (code, out, _) = run(
        tmp.path(),
        &[
            "a-clean.txt",
            "c-buckets.txt",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v.get("unread").is_none() && v["summary"].get("unread").is_none());
    for h in v["fleet"]["hosts"].as_array().unwrap() {
        assert!(h.get("error").is_none(), "{h}");
    }
}

#[test]
fn summary_shows_the_fleet_table_and_the_last_lines_only() {
    let tmp = tempfile::tempdir().unwrap();
    write_fleet(tmp.path());
    let (code, out) = stdout(twlint(tmp.path()).args([
        "--summary",
        "a-clean.txt",
        "b-recycle.txt",
        "c-buckets.txt",
    ]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("fleet: 3 hosts, 2 with dangerous settings\n"),
        "{out}"
    );
    assert!(!out.contains("(from the dump)"), "{out}");
    assert!(!out.contains("Error:"), "{out}");
    let last: Vec<&str> = out.lines().rev().take(2).collect();
    assert!(last[0].starts_with("twlint: failed: "), "{out}");
    assert!(last[1].starts_with("verdicts: "), "{out}");
}

/// `n` generated dumps in `dir`, by absolute path, in argument order = file name order (the order
/// the whole report lists findings in, by path).
fn generated(dir: &Path, n: usize) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let p = dir.join(format!("host-{i:03}.txt"));
            std::fs::write(&p, gen::dump(i, 1300)).unwrap();
            p
        })
        .collect()
}

/// The streamed run writes, byte for byte, what the renderers write for the whole report of the
/// same dumps judged at once (more dumps than one window of the stream, so windows join).
#[test]
fn a_streamed_fleet_report_is_the_whole_report_written_at_once() {
    use twlint::judge::{self, Request};
    use twlint::render::{self, Style};
    let tmp = tempfile::tempdir().unwrap();
    let paths = generated(tmp.path(), 300);
    let mut sources = twlint::source::SourceMap::new();
    let (rules, _) = twlint::rules::load::load_catalog(&[], &mut sources).unwrap();
    let sets = judge::read_sysctl_paths(&paths, &mut sources).unwrap();
    let opts = judge::Options::default();
    let report = judge::judge(Request::sets(sets), &opts, &rules, &mut sources).unwrap();
    assert!(!report.diagnostics.is_empty() && report.verdicts.len() > 2000);

    let streamed = |format: &str| {
        let out = Command::cargo_bin("twlint")
            .unwrap()
            .current_dir(tmp.path())
            .env("COLUMNS", "100")
            .args(["--no-config", "--color", "never", "--format", format])
            .args(&paths)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stdout).unwrap()
    };
    let mut whole = Vec::new();
    render::json::write(&mut whole, render::json::Json::new(&sources, &report)).unwrap();
    assert_eq!(streamed("json"), String::from_utf8(whole).unwrap());
    let mut whole = Vec::new();
    let threshold = Some(twlint::diag::Verdict::Dangerous);
    render::human::write(&mut whole, Style::plain(), &sources, &report, threshold).unwrap();
    assert_eq!(streamed("human"), String::from_utf8(whole).unwrap());
}

/// Argument order, not file names, orders the hosts and their findings, in every format that
/// streams.
#[test]
fn a_streamed_fleet_follows_the_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let mut paths = generated(tmp.path(), 12);
    paths.reverse();
    let out = twlint(tmp.path())
        .args(["--format", "json", "--fail-on", "never"])
        .args(&paths)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names = |list: &str, field: &str| -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for x in v[list].as_array().unwrap() {
            let n = x[field].as_str().unwrap().to_string();
            if seen.last() != Some(&n) {
                seen.push(n);
            }
        }
        seen
    };
    let given: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(names("nodes", "name"), given);
    assert_eq!(names("verdicts", "node"), given);
    let with_findings = names("diagnostics", "node");
    assert!(with_findings.len() > 3, "{with_findings:?}");
    let order: Vec<usize> = with_findings
        .iter()
        .map(|n| given.iter().position(|g| g == n).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
}
