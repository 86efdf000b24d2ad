//! Hostile input: what a pull request can hand twlint in CI. Every case runs the real binary with
//! a timeout (a hang fails the test) and checks the outcome: a clear error naming the file (and
//! the line and column where there is one) with exit code 2, or, for input the tools themselves
//! read (CRLF, a BOM, invalid UTF-8, out-of-range numbers), diagnostics at their place. No case
//! may panic. Memory is checked from the kernel's own accounting of each child (wait4).

use assert_cmd::Command;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// A hang guard, not a speed check (speed is measured by the benchmarks): generous enough for a
/// debug build on a 2-core machine running the other test binaries at the same time (20 s was
/// not: the 100,000-duplicate file took longer under load).
const TIMEOUT: Duration = Duration::from_secs(120);

fn twlint() -> Command {
    let mut cmd = Command::cargo_bin("twlint").expect("the twlint binary is built");
    cmd.timeout(TIMEOUT)
        .env("NO_COLOR", "1")
        .env("TWLINT_NO_LIVE", "1");
    cmd
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, bytes).unwrap();
    path
}

/// Runs twlint and checks the exit code and that it did not panic.
fn run(args: &[&std::ffi::OsStr], code: i32) -> Output {
    let out = twlint().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "twlint {args:?} panicked:\n{stderr}"
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "twlint {args:?} exited with {:?} (a timeout shows as None), expected {code}\n--- stdout\n{}\n--- stderr\n{stderr}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
    );
    out
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo has no other preconditions.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

const TOPO_HEAD: &str = "version: 1\nnodes:\n  - name: a\n    sysctl:\n      files: [";

#[test]
fn binary_data_is_refused_at_its_first_nul_byte() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp".to_vec();
    bytes.push(0);
    bytes.extend((0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    let f = write(dir.path(), "blob.conf", &bytes);
    let out = run(&[f.as_os_str()], 2);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}:2:13: a NUL byte", f.display())),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
    // The same in a folder, a topology and a rule file.
    let d = dir.path().join("sysctl.d");
    fs::create_dir(&d).unwrap();
    fs::write(d.join("10-blob.conf"), &bytes).unwrap();
    let err = stderr(&run(&[d.as_os_str()], 2));
    assert!(err.contains("10-blob.conf:2:13: a NUL byte"), "{err}");
    let t = write(dir.path(), "topo.yaml", b"version: 1\x00\nnodes: []\n");
    let err = stderr(&run(&[os("--topology"), t.as_os_str()], 2));
    assert!(err.contains("topo.yaml:1:11: a NUL byte"), "{err}");
    let rules = dir.path().join("rules");
    write(&rules, "TW900-x.yaml", b"id: TW900\x00");
    let err = stderr(&run(&[os("--rules"), rules.as_os_str(), f.as_os_str()], 2));
    assert!(err.contains("TW900-x.yaml:1:10: a NUL byte"), "{err}");
}

#[test]
fn a_100_mb_single_line_is_refused_by_its_size_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.conf");
    let mut f = fs::File::create(&path).unwrap();
    f.write_all(b"net.ipv4.tcp_tw_reuse = ").unwrap();
    let chunk = vec![b'1'; 1 << 20];
    for _ in 0..100 {
        f.write_all(&chunk).unwrap();
    }
    drop(f);
    let err = stderr(&run(&[path.as_os_str()], 2));
    assert!(
        err.contains(&format!("{} is larger than 67108864 bytes", path.display())),
        "{err}"
    );
    let err = stderr(&run(&[os("--topology"), path.as_os_str()], 2));
    assert!(err.contains("is larger than 16777216 bytes"), "{err}");
}

#[test]
fn a_million_lines_are_read_and_their_repeats_are_capped() {
    // No limit on lines (only on size): a million lines, every one a duplicate, are read and
    // judged, and the 999,999 TW006 warnings cut to a readable number with a note saying how
    // many were left out; the same as the file of a topology node.
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..1_000_000)
        .map(|i| format!("net.ipv4.tcp_tw_reuse = {}\n", i % 2))
        .collect();
    let f = write(dir.path(), "million.conf", text.as_bytes());
    let t = write(
        dir.path(),
        "topo.yaml",
        format!("{TOPO_HEAD}million.conf]\n").as_bytes(),
    );
    for args in [vec![f.as_os_str()], vec![os("--topology"), t.as_os_str()]] {
        let mut args = args;
        args.splice(
            0..0,
            [os("--format"), os("json"), os("--fail-on"), os("never")],
        );
        let out = run(&args, 0);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let diags = v["diagnostics"].as_array().unwrap();
        let tw006: Vec<_> = diags.iter().filter(|d| d["rule"] == "TW006").collect();
        assert_eq!(tw006.len(), 200, "{args:?}");
        // The first 200 overridden lines, in order.
        assert_eq!(tw006[0]["location"]["line"], 1);
        assert_eq!(tw006[199]["location"]["line"], 200);
        let notes = tw006[199]["notes"].to_string();
        assert!(
            notes.contains("999799 more TW006 diagnostics in this file are not shown"),
            "{args:?}: {notes}"
        );
    }
}

#[test]
fn invalid_utf8_is_read_as_the_tools_read_bytes() {
    let dir = tempfile::tempdir().unwrap();
    // Latin-1 in a comment is common in old files and harmless; in a value the kernel refuses it.
    let f = write(
        dir.path(),
        "latin1.conf",
        b"# r\xe9glages r\xe9seau\nnet.ipv4.tcp_fin_timeout = 3\xff0\n",
    );
    let out = run(&[os("--format"), os("json"), f.as_os_str()], 1);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &v["diagnostics"][0];
    assert_eq!(d["rule"], "TW004", "{d}");
    assert_eq!(d["location"]["line"], 2);
    assert_eq!(d["location"]["column"], 28);
    // A topology with invalid UTF-8 in a name: read, and the name is shown with U+FFFD.
    let t = write(
        dir.path(),
        "topo.yaml",
        b"version: 1\nnodes:\n  - name: caf\xe9\n  - name: b\nlinks:\n  - from: caf\xe9\n    to: b\n    port: 80\n    closes_first: b\n",
    );
    let out = run(
        &[
            os("--topology"),
            t.as_os_str(),
            os("--fail-on"),
            os("never"),
        ],
        0,
    );
    assert!(stdout(&out).contains("caf\u{fffd}"), "{}", stdout(&out));
}

#[test]
fn a_byte_order_mark_is_reported_at_line_one() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "bom.conf",
        b"\xef\xbb\xbfnet.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_fin_timeout = 30\n",
    );
    let out = run(
        &[
            os("--format"),
            os("json"),
            os("--fail-on"),
            os("never"),
            f.as_os_str(),
        ],
        0,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "TW012")
        .expect("TW012 reported");
    assert_eq!(d["location"]["line"], 1);
}

#[test]
fn crlf_line_ends_are_read_like_the_tools_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "crlf.conf",
        b"net.ipv4.tcp_fin_timeout = 30\r\nnet.ipv4.ip_local_port_range = 10000 60001\r\n",
    );
    let out = run(
        &[
            os("--format"),
            os("json"),
            os("--fail-on"),
            os("never"),
            f.as_os_str(),
        ],
        0,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let value = |key: &str| {
        v["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key)
            .map(|e| e["value"].clone())
            .unwrap()
    };
    assert_eq!(value("net.ipv4.tcp_fin_timeout"), "30");
    assert_eq!(value("net.ipv4.ip_local_port_range"), "10000 60001");
}

#[test]
fn a_yaml_alias_bomb_is_refused_without_expanding_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("version: 1\nnodes: []\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..30 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let t = write(dir.path(), "bomb.yaml", text.as_bytes());
    // A topology's diagnostics are its report, on stdout.
    let report = stdout(&run(&[os("--topology"), t.as_os_str()], 2));
    assert!(report.contains("more than 200000 YAML nodes"), "{report}");
    assert!(report.contains("bomb.yaml:8:10"), "{report}");
    // And in a rule file.
    let rules = dir.path().join("rules");
    write(&rules, "TW900-bomb.yaml", text.as_bytes());
    let f = write(dir.path(), "a.conf", b"net.ipv4.tcp_fin_timeout = 30\n");
    let err = stderr(&run(&[os("--rules"), rules.as_os_str(), f.as_os_str()], 2));
    assert!(err.contains("TW900-bomb.yaml"), "{err}");
}

#[test]
fn deeply_nested_yaml_is_refused_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!(
        "version: 1\nnodes: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let t = write(dir.path(), "deep.yaml", deep.as_bytes());
    let out = run(
        &[os("--topology"), t.as_os_str(), os("--format"), os("json")],
        2,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["diagnostics"][0]["rule"], "TW050");
    assert_eq!(v["diagnostics"][0]["location"]["line"], 2);
    // Block style, indentation only.
    let block: String = (1..2000)
        .map(|i| format!("{}- \n", "  ".repeat(i)))
        .collect();
    let t = write(
        dir.path(),
        "block.yaml",
        format!("version: 1\nnodes:\n{block}").as_bytes(),
    );
    let out = run(
        &[os("--topology"), t.as_os_str(), os("--format"), os("json")],
        2,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["diagnostics"][0]["rule"], "TW050", "{v}");
}

#[test]
fn huge_and_negative_numbers_are_diagnosed_at_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "nums.conf",
        b"net.ipv4.tcp_fin_timeout = 99999999999999999999999999\n\
          net.ipv4.tcp_tw_reuse = -99999999999999999999\n\
          net.ipv4.ip_local_port_range = -1 4294967296\n\
          net.ipv4.tcp_max_tw_buckets = -2147483649\n\
          net.ipv4.ip_local_reserved_ports = 99999999999999999999-1\n",
    );
    let out = run(&[os("--format"), os("json"), f.as_os_str()], 1);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines: Vec<i64> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "TW004")
        .map(|d| d["location"]["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [1, 2, 3, 4, 5]);

    let t = write(
        dir.path(),
        "nums.yaml",
        b"version: 1\nnodes:\n  - name: a\n    listen: [99999999999999999999999, -1]\n  - name: b\n\
links:\n  - from: a\n    to: b\n    port: -99999999999999999999\n    closes_first: a\n    rate: 1e400\n",
    );
    let out = run(
        &[os("--topology"), t.as_os_str(), os("--format"), os("json")],
        2,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, i64)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["location"]["line"].as_i64().unwrap(),
            )
        })
        .collect();
    for expected in [("TW058", 4), ("TW058", 9), ("TW059", 11)] {
        assert!(
            found.contains(&(expected.0.to_string(), expected.1)),
            "{expected:?} in {found:?}"
        );
    }
}

#[test]
fn a_symlink_loop_in_a_sysctl_folder_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("sysctl.d");
    fs::create_dir(&d).unwrap();
    fs::write(d.join("10-ok.conf"), "net.ipv4.tcp_fin_timeout = 30\n").unwrap();
    symlink("20-loop.conf", d.join("20-loop.conf")).unwrap();
    symlink("31-b.conf", d.join("30-a.conf")).unwrap();
    symlink("30-a.conf", d.join("31-b.conf")).unwrap();
    let err = stderr(&run(&[d.as_os_str()], 2));
    assert!(err.contains("20-loop.conf"), "{err}");
    assert!(err.contains("symbolic links"), "{err}");
    // A loop named *.yaml in a rules folder is not skipped silently either.
    let rules = dir.path().join("rules");
    fs::create_dir(&rules).unwrap();
    symlink("TW900-x.yaml", rules.join("TW900-x.yaml")).unwrap();
    let f = d.join("10-ok.conf");
    let err = stderr(&run(&[os("--rules"), rules.as_os_str(), f.as_os_str()], 2));
    assert!(
        err.contains("TW900-x.yaml") && err.contains("symbolic links"),
        "{err}"
    );
}

#[test]
fn an_unreadable_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // Root reads mode-000 files, so under root the check runs as `nobody` (setpriv, from
    // util-linux); the folder must then be open to it, the file itself stays closed.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let f = write(
        dir.path(),
        "secret.conf",
        b"net.ipv4.tcp_fin_timeout = 30\n",
    );
    fs::set_permissions(&f, fs::Permissions::from_mode(0o000)).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("twlint");
    let is_root = unsafe { libc::geteuid() } == 0;
    let out = if is_root {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&bin)
            .arg(&f)
            .timeout(TIMEOUT)
            .output()
            .expect("setpriv (util-linux) is installed")
    } else {
        twlint().arg(&f).output().unwrap()
    };
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("cannot read {}: Permission denied", f.display())),
        "{err}"
    );
}

#[test]
fn fifos_and_devices_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.conf");
    mkfifo(&fifo);
    for path in [fifo.as_path(), Path::new("/dev/zero")] {
        let err = stderr(&run(&[path.as_os_str()], 2));
        assert!(
            err.contains("is not a file or directory that twlint can read"),
            "{err}"
        );
        let err = stderr(&run(&[os("--topology"), path.as_os_str()], 2));
        assert!(
            err.contains("is not a file or directory that twlint can read"),
            "{err}"
        );
    }
    // Inside a folder: a FIFO and a link to /dev/zero named *.conf.
    let d = dir.path().join("sysctl.d");
    fs::create_dir(&d).unwrap();
    mkfifo(&d.join("10-pipe.conf"));
    let err = stderr(&run(&[d.as_os_str()], 2));
    assert!(err.contains("10-pipe.conf is not a file"), "{err}");
    fs::remove_file(d.join("10-pipe.conf")).unwrap();
    symlink("/dev/zero", d.join("10-zero.conf")).unwrap();
    let err = stderr(&run(&[d.as_os_str()], 2));
    assert!(err.contains("10-zero.conf is not a file"), "{err}");
    // As a node's file in a topology, and as a rule file.
    let t = write(
        dir.path(),
        "topo.yaml",
        format!("{TOPO_HEAD}pipe.conf]\n").as_bytes(),
    );
    let err = stderr(&run(&[os("--topology"), t.as_os_str()], 2));
    assert!(err.contains("pipe.conf is not a file"), "{err}");
    let rules = dir.path().join("rules");
    fs::create_dir(&rules).unwrap();
    mkfifo(&rules.join("TW900-x.yaml"));
    let err = stderr(&run(
        &[os("explain"), os("TW001"), os("--rules"), rules.as_os_str()],
        2,
    ));
    assert!(err.contains("TW900-x.yaml is not a file"), "{err}");
}

#[test]
fn an_empty_folder_is_an_error_not_a_host_of_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("sysctl.d");
    fs::create_dir(&d).unwrap();
    fs::write(d.join("README"), "not a .conf file").unwrap();
    let err = stderr(&run(&[d.as_os_str()], 2));
    assert!(
        err.contains(&format!("{} holds no `*.conf` file", d.display())),
        "{err}"
    );
    // An empty root tree likewise.
    let root = dir.path().join("root");
    fs::create_dir_all(root.join("etc/sysctl.d")).unwrap();
    let err = stderr(&run(&[root.as_os_str()], 2));
    assert!(err.contains("holds no `*.conf` file"), "{err}");
    // A folder with files next to an empty one: the empty one is still named.
    let full = dir.path().join("full");
    write(&full, "10-a.conf", b"net.ipv4.tcp_fin_timeout = 30\n");
    let err = stderr(&run(&[full.as_os_str(), d.as_os_str()], 2));
    assert!(err.contains("sysctl.d holds no"), "{err}");
}

/// Runs twlint with its address space limited to `limit_mib` (RLIMIT_AS, set in the child
/// before exec), so an input that makes it allocate more fails the run instead of passing.
/// Returns the exit code, or `None` when a signal ended it (an allocation failure aborts).
fn run_within(limit_mib: u64, args: &[&std::ffi::OsStr]) -> Option<i32> {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("twlint"));
    cmd.args(args)
        .env("TWLINT_NO_LIVE", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let bytes = limit_mib << 20;
    // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if start.elapsed() > TIMEOUT {
            child.kill().unwrap();
            panic!("twlint {args:?} did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn memory_stays_bounded_on_the_largest_inputs() {
    let dir = tempfile::tempdir().unwrap();
    // The largest file twlint reads (just under 64 MiB) ...
    let line = format!("# {}\n", "x".repeat(700));
    let big_path = write(
        dir.path(),
        "big.conf",
        line.repeat(60 * 1024 * 1024 / line.len()).as_bytes(),
    );
    // ... the densest one (100,000 distinct unknown keys), the most repetitive one ...
    let keys: String = (0..99_999)
        .map(|i| format!("net.ipv4.k{i} = 1\n"))
        .collect();
    let keys_path = write(dir.path(), "keys.conf", keys.as_bytes());
    let dups: String = (0..100_000)
        .map(|i| format!("net.ipv4.tcp_tw_reuse = {}\n", i % 2))
        .collect();
    let dups_path = write(dir.path(), "dups.conf", dups.as_bytes());
    // ... and a 100 MB one, refused before reading.
    let huge_path = dir.path().join("huge.conf");
    fs::File::create(&huge_path)
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    const LIMIT_MIB: u64 = 512;
    for (path, code) in [
        (&big_path, 0),
        (&keys_path, 0),
        (&dups_path, 0),
        (&huge_path, 2),
    ] {
        let args = [
            os("--format"),
            os("json"),
            os("--fail-on"),
            os("never"),
            path.as_os_str(),
        ];
        assert_eq!(
            run_within(LIMIT_MIB, &args),
            Some(code),
            "{} within {LIMIT_MIB} MiB of address space",
            path.display()
        );
    }
    // The limit is real: the largest file does not fit in 64 MiB.
    let args = [os("--format"), os("json"), big_path.as_os_str()];
    assert_ne!(run_within(64, &args), Some(0));
}
