//! `twlint observe` as users see it, without root: a captured /proc-like folder written here
//! (IPv4 and IPv6 tables, the port range, a process holding a CLOSE_WAIT socket) replayed
//! through the command line in-process (`twlint::cli::run`), its JSON and table pinned with
//! insta, bad input (path:line:column, exit 2, nothing on stdout), argument errors, and a live
//! run of this namespace.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::Path;
use twlint::sockets::SocketSummary;

// Not every helper there is used by this file.
#[allow(dead_code)]
#[path = "common/in_process.rs"]
mod in_process;

fn twlint() -> Command {
    Command::cargo_bin("twlint").expect("the twlint binary is built")
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

const HEADER: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

/// A host 10.0.0.1 with a web listener on 80, a database pool to 10.0.0.5:5432 (three
/// connections in TIME_WAIT, one open, one on a reserved port), a server-side TIME_WAIT from a
/// client, two CLOSE_WAIT sockets to a cache (one owned by pid 4242, one by nobody visible),
/// and over IPv6 a TIME_WAIT to 2001:db8::20:443 plus an IPv4-mapped one that joins the
/// database tuple.
fn fixture(dir: &Path) {
    let tcp = [
        "   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20001 1 0000000000000000 100 0 0 10 0",
        "   1: 0100000A:0050 0900000A:C350 01 00000000:00000000 02:000AFC80 00000000    33        0 20002 1 0000000000000000 20 4 30 10 -1",
        "   2: 0100000A:0050 0900000A:C351 06 00000000:00000000 03:00000FA0 00000000     0        0 0 3 0000000000000000",
        "   3: 0100000A:9C40 0500000A:1538 06 00000000:00000000 03:00000BB8 00000000     0        0 0 3 0000000000000000",
        "   4: 0100000A:9C41 0500000A:1538 06 00000000:00000000 03:00000BB8 00000000     0        0 0 3 0000000000000000",
        "   5: 0100000A:9C42 0500000A:1538 06 00000000:00000000 03:00000BB8 00000000     0        0 0 3 0000000000000000",
        "   6: 0100000A:9C43 0500000A:1538 01 00000000:00000000 02:000AFC80 00000000  1000        0 20006 1 0000000000000000 20 4 30 10 -1",
        "   7: 0100000A:9CA4 0700000A:18EB 08 00000000:00000001 00:00000000 00000000  1000        0 9999 1 0000000000000000 20 4 30 10 -1",
        "   8: 0100000A:9CA5 0700000A:18EB 08 00000000:00000001 00:00000000 00000000  1000        0 9998 1 0000000000000000 20 4 30 10 -1",
        "   9: 0100000A:9D08 0500000A:1538 01 00000000:00000000 02:000AFC80 00000000  1000        0 20009 1 0000000000000000 20 4 30 10 -1",
    ];
    let tcp6 = [
        "   0: B80D0120000000000000000010000000:9C40 B80D0120000000000000000020000000:01BB 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000",
        "   1: 0000000000000000FFFF00000100000A:9C4A 0000000000000000FFFF00000500000A:1538 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000",
    ];
    write(dir, "net/tcp", &format!("{HEADER}{}\n", tcp.join("\n")));
    write(dir, "net/tcp6", &format!("{HEADER}{}\n", tcp6.join("\n")));
    write(dir, "sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
    write(dir, "sys/net/ipv4/ip_local_reserved_ports", "40200-40299\n");
    write(dir, "4242/comm", "leaky-app\n");
    fs::create_dir_all(dir.join("4242/fd")).unwrap();
    std::os::unix::fs::symlink("socket:[9999]", dir.join("4242/fd/7")).unwrap();
    std::os::unix::fs::symlink("/dev/null", dir.join("4242/fd/0")).unwrap();
    write(dir, "77/comm", "bystander\n");
    fs::create_dir_all(dir.join("77/fd")).unwrap();
    std::os::unix::fs::symlink("socket:[20006]", dir.join("77/fd/3")).unwrap();
}

fn replay(args: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let path = dir
        .path()
        .to_str()
        .expect("a UTF-8 temporary path")
        .to_string();
    let mut argv = vec!["observe", "--proc-dir", &path];
    argv.extend_from_slice(args);
    let out = in_process::twlint(&argv);
    (dir, out)
}

#[test]
fn replayed_folder_json() {
    let (dir, out) = replay(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source"]["path"], dir.path().display().to_string());
    v["source"]["path"] = "<dir>".into();
    insta::assert_json_snapshot!("observe_replay_json", v);

    // The contract round-trips through the library's types.
    let s: SocketSummary = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(serde_json::to_value(&s).unwrap()["totals"], v["totals"]);
    assert_eq!(s.totals.sockets, 12);
    assert_eq!((s.totals.ipv4, s.totals.ipv6), (10, 2));
    assert_eq!(s.close_wait.total, 2);
    assert_eq!(s.close_wait.by_process.len(), 1);
    assert_eq!(s.close_wait.by_process[0].pid, 4242);
    assert_eq!(s.close_wait.by_process[0].command, "leaky-app");
    assert_eq!(s.close_wait.unattributed, 1);
    // 3 IPv4 TIME_WAIT + the IPv4-mapped one + the open connection; 40200 is reserved.
    let db = &s.ephemeral.tuples[0];
    assert_eq!(db.remote.to_string(), "10.0.0.5");
    assert_eq!((db.in_use, db.time_wait, db.usable), (5, 4, 28132));
}

#[test]
fn replayed_folder_table() {
    let (dir, out) = replay(&[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace(&dir.path().display().to_string(), "<dir>");
    assert!(text.contains("No sysctl fixes CLOSE_WAIT"));
    insta::assert_snapshot!("observe_replay_table", text);
}

#[test]
fn state_filter_counts_only_those_states() {
    let (_dir, out) = replay(&["--format", "json", "--state", "time-wait,CLOSE_WAIT"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let s: SocketSummary = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s.states, ["time_wait", "close_wait"]);
    assert_eq!(s.totals.sockets, 8);
    assert_eq!(s.totals.by_state.len(), 2);
    // the listener is still read, so the client's TIME_WAIT on port 80 stays inbound
    assert!(s
        .time_wait
        .by_remote
        .iter()
        .any(|r| r.port == 80 && r.address.to_string() == "10.0.0.9"));
}

#[test]
fn top_limits_the_table_rows() {
    let (_dir, out) = replay(&["--top", "1"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("... and 2 more remotes (--top 0 shows all; --format json has all)"),
        "{text}"
    );
}

#[test]
fn malformed_line_is_an_error_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let tcp = fs::read_to_string(dir.path().join("net/tcp")).unwrap();
    let broken = tcp.replacen(
        "0100000A:9C41 0500000A:1538 06",
        "0100000A:9C41 0500000A:1538 6Q",
        1,
    );
    fs::write(dir.path().join("net/tcp"), broken).unwrap();
    let out = twlint()
        .args(["observe", "--proc-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    let want = format!(
        "twlint: error: {}:6:35: `6Q` is not a known TCP state\n",
        dir.path().join("net/tcp").display()
    );
    assert_eq!(err, want);
}

#[test]
fn folder_without_tables_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = twlint()
        .args(["observe", "--proc-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("holds neither net/tcp nor net/tcp6"), "{err}");
}

#[test]
fn argument_errors_exit_2() {
    for args in [
        &["observe", "--state", "time-wiat"][..],
        &["observe", "--interval", "0"],
        &["observe", "--interval", "soon"],
        &["observe", "--proc-dir", "/proc", "--interval", "1"],
    ] {
        let out = twlint().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = twlint()
        .args(["observe", "--state", "time-wiat"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("not a TCP state; use one of established"),
        "{err}"
    );
}

/// This machine's own namespace, read without root: whatever it holds, the totals add up.
#[test]
fn live_namespace_is_read_and_totals_add_up() {
    for reader in ["auto", "proc"] {
        let out = twlint()
            .args(["observe", "--format", "json", "--reader", reader])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let s: SocketSummary = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(s.totals.sockets, s.totals.by_state.values().sum::<u64>());
        assert_eq!(s.totals.sockets, s.totals.ipv4 + s.totals.ipv6);
        assert_eq!(
            s.time_wait.total,
            s.time_wait.by_local.iter().map(|l| l.count).sum::<u64>()
        );
    }
}

#[test]
fn replay_without_port_range_uses_the_kernel_default_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    fs::remove_dir_all(dir.path().join("sys")).unwrap();
    fs::remove_file(dir.path().join("net/tcp6")).unwrap();
    let out = twlint()
        .args(["observe", "--format", "json", "--proc-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let s: SocketSummary = serde_json::from_slice(&out.stdout).unwrap();
    let r = &s.ephemeral.range;
    assert_eq!(
        (r.low, r.high, r.reserved_in_range, r.usable),
        (32768, 60999, 0, 28232)
    );
    assert_eq!(
        serde_json::to_value(r.source).unwrap(),
        Value::from("default")
    );
    assert_eq!((s.totals.ipv4, s.totals.ipv6), (10, 0));
    // 40200 is no longer reserved: the reserved-port connection joins the database tuple.
    assert_eq!(s.ephemeral.tuples[0].in_use, 5);

    let out = twlint()
        .args(["observe", "--proc-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("range 32768-60999 (kernel default: not in the replayed folder)"),
        "{text}"
    );
}

/// Two live samples of this namespace: every tuple then has a rate and a growth.
#[test]
fn live_interval_gives_every_tuple_a_rate() {
    let out = twlint()
        .args(["observe", "--format", "json", "--interval", "0.2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let s: SocketSummary = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s.ephemeral.interval_secs, Some(0.2));
    for t in &s.ephemeral.tuples {
        assert!(
            t.rate_per_sec.is_some() && t.growth_per_sec.is_some(),
            "{t:?}"
        );
    }
}
