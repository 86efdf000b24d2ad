//! Read-only, proven: twlint never writes a sysctl, nor anything else. Every
//! mode runs under `strace`, which records each system call that opens or changes a file; the
//! test fails on any open with a write flag (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC) and on any call
//! that creates, renames, removes or truncates a file, anywhere. stdout and stderr are inherited,
//! not opened, so printing the report opens nothing.
//!
//! One mode writes by design: `twlint snapshot --out DIR`. Its writes are allowed inside that
//! folder and nowhere else (never under /proc/sys); every other mode gets no write at all.
//!
//! Needs strace (installed by `.ci/trust.sh` on CI); ignored in plain `cargo test`. Adding a mode
//! is one line in `invocations`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// System calls that change the file system without an open; any of them fails the test.
const MUTATING: &[&str] = &[
    "creat",
    "truncate",
    "ftruncate",
    "rename",
    "renameat",
    "renameat2",
    "unlink",
    "unlinkat",
    "rmdir",
    "mkdir",
    "mkdirat",
    "mknodat",
    "symlink",
    "symlinkat",
    "link",
    "linkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "chown",
    "fchown",
    "fchownat",
    "utimensat",
];

const WRITE_FLAGS: &[&str] = &["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every mode twlint has on this branch, with inputs from the repository. `snap` is the folder
/// the snapshot mode writes to (see [`allowed_dir`]).
fn invocations(dump: &Path, tree: &Path, snap: &Path) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let p = |p: &Path| p.display().to_string();
    vec![
        s(&["topologies/hosts/web/sysctl.conf"]),
        s(&["--format", "json", "topologies/hosts/web/sysctl.conf"]),
        s(&["examples/01-lint-sysctl-d"]),
        vec![p(tree)],
        vec![p(dump)],
        s(&["--topology", "topologies/lb-web-db.yaml"]),
        s(&[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--format",
            "json",
            "--node",
            "lb",
        ]),
        s(&[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--allow-outside-paths",
        ]),
        s(&["--rules", "rules", "topologies/hosts/db/sysctl.conf"]),
        s(&["explain", "TW101"]),
        s(&["explain", "TW101", "--format", "json"]),
        s(&["rules"]),
        s(&["rules", "--format", "json"]),
        s(&["--live"]),
        // Host mode, live: values, counters and the socket view of this machine, as each format.
        s(&["--topology", "topologies/lb-web-db.yaml", "--node", "web"]),
        s(&[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--node",
            "db",
            "--format",
            "prometheus",
        ]),
        s(&[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--root",
            "tests/fixtures/host/sosreport-web",
        ]),
        s(&["observe"]),
        s(&["observe", "--format", "json", "--reader", "proc"]),
        s(&["host"]),
        s(&["host", "--format", "json"]),
        vec!["snapshot".into(), "--out".into(), p(snap)],
        s(&["--no-live", "topologies/hosts/lb/sysctl.conf"]),
        // Fleet: several dumps judged on all cores.
        vec![p(dump), p(dump)],
        // The CI and pull-request formats, and advise printing its drop-ins (no --out).
        s(&[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--format",
            "sarif",
        ]),
        s(&[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--format",
            "github",
        ]),
        s(&[
            "--topology",
            "topologies/lb-web-db.yaml",
            "--format",
            "markdown",
        ]),
        s(&["--topology", "topologies/lb-web-db.yaml", "--format", "gcc"]),
        s(&["advise", "--topology", "topologies/lb-web-db.yaml"]),
        s(&[
            "advise",
            "--topology",
            "topologies/lb-web-db.yaml",
            "--format",
            "markdown",
        ]),
        s(&["schema", "topology"]),
        s(&["completions", "bash"]),
        s(&["man"]),
        s(&["--help"]),
        s(&["--version"]),
    ]
}

/// The one folder a mode may write to: the `--out` of `twlint snapshot`.
fn allowed_dir(args: &[String]) -> Option<PathBuf> {
    if args.first().map(String::as_str) != Some("snapshot") {
        return None;
    }
    let at = args.iter().position(|a| a == "--out")?;
    args.get(at + 1).map(PathBuf::from)
}

/// The first path a traced call names (`openat(AT_FDCWD, "/path", ...)`, `mkdir("/path", ...)`).
fn first_path(call: &str) -> Option<&str> {
    let start = call.find('"')? + 1;
    let len = call[start..].find('"')?;
    Some(&call[start..start + len])
}

/// Whether a write to `path` is inside `allowed` (the folder itself or anything under it), and
/// not under /proc/sys whatever `allowed` says.
fn inside(path: &str, allowed: &Path) -> bool {
    let path = Path::new(path);
    path.is_absolute() && !path.starts_with("/proc/sys") && path.starts_with(allowed)
}

/// Problems in one strace log: opens with write flags and mutating calls.
fn violations(log: &str) -> Vec<String> {
    violations_outside(log, None)
}

/// The same, with writes inside `allowed` accepted (a path that leaves it with `..` is not).
fn violations_outside(log: &str, allowed: Option<&Path>) -> Vec<String> {
    let mut bad = Vec::new();
    for line in log.lines() {
        // Lines look like `1234  openat(AT_FDCWD, "/path", O_RDONLY|O_CLOEXEC) = 3`.
        let call = line
            .split_once(char::is_whitespace)
            .map(|(_, rest)| rest.trim_start())
            .unwrap_or(line);
        let name = call.split('(').next().unwrap_or("");
        let is_open = matches!(name, "open" | "openat" | "openat2");
        let writes =
            (is_open && WRITE_FLAGS.iter().any(|f| call.contains(f))) || MUTATING.contains(&name);
        let accepted = allowed.is_some_and(|dir| {
            first_path(call).is_some_and(|p| !p.contains("/../") && inside(p, dir))
        });
        if writes && !accepted {
            bad.push(line.to_string());
        }
    }
    bad
}

#[test]
#[ignore = "needs strace: run by .ci/run"]
fn no_mode_opens_anything_for_writing() {
    let bin = assert_cmd::cargo::cargo_bin("twlint");
    let dir = tempfile::tempdir().unwrap();
    // A dump and a root tree, built here so every input kind is covered.
    let dump = dir.path().join("host.txt");
    std::fs::write(
        &dump,
        "kernel.osrelease = 6.8.0\nnet.ipv4.tcp_tw_reuse = 2\nnet.ipv4.tcp_timestamps = 1\n",
    )
    .unwrap();
    let tree = dir.path().join("root");
    std::fs::create_dir_all(tree.join("etc/sysctl.d")).unwrap();
    std::fs::create_dir_all(tree.join("usr/lib/sysctl.d")).unwrap();
    std::fs::write(
        tree.join("usr/lib/sysctl.d/50-default.conf"),
        "net.ipv4.tcp_fin_timeout = 30\n",
    )
    .unwrap();
    std::fs::write(tree.join("etc/sysctl.conf"), "net.ipv4.tcp_tw_reuse = 1\n").unwrap();

    let snap = dir.path().join("snap");
    let mut failures = Vec::new();
    let mut opened_proc_sys = 0;
    for (i, args) in invocations(&dump, &tree, &snap).iter().enumerate() {
        let log = dir.path().join(format!("trace-{i}"));
        let status = Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=%file,%desc", "-o"])
            .arg(&log)
            .arg(&bin)
            .args(args)
            .current_dir(root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("strace is installed (apt-get install strace)");
        let code = status.code();
        assert!(
            matches!(code, Some(0..=2)),
            "twlint {args:?} under strace ended with {code:?}"
        );
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.contains("execve("),
            "strace recorded nothing for {args:?}: is ptrace allowed here?\n{text}"
        );
        opened_proc_sys += text.matches("\"/proc/sys").count();
        for v in violations_outside(&text, allowed_dir(args).as_deref()) {
            failures.push(format!("twlint {args:?}: {v}"));
        }
    }
    assert!(
        failures.is_empty(),
        "write access:\n{}",
        failures.join("\n")
    );
    // The live modes read /proc/sys (and the check above saw those opens read-only): a count of
    // 0 would mean strace missed them.
    eprintln!("opens under /proc/sys: {opened_proc_sys}");
    assert!(opened_proc_sys > 0, "the live modes read /proc/sys");
    // The snapshot was written, inside its folder.
    assert!(snap.join("twlint-snapshot.json").is_file());
}

#[test]
fn the_checker_catches_writes() {
    // The parser of strace lines must flag what it is meant to flag, or the test above proves
    // nothing.
    let log = "\
100 openat(AT_FDCWD, \"/etc/x\", O_RDONLY|O_CLOEXEC) = 3
100 openat(AT_FDCWD, \"/proc/sys/net/ipv4/tcp_tw_reuse\", O_WRONLY|O_TRUNC) = 3
100 openat(AT_FDCWD, \"/tmp/y\", O_RDWR|O_CREAT, 0666) = 4
100 unlink(\"/tmp/z\") = 0
100 read(3, \"x\", 1) = 1
";
    let v = violations(log);
    assert_eq!(v.len(), 3, "{v:?}");
    assert!(v[0].contains("/proc/sys"));

    // The snapshot's folder may be written; next to it, above it or under /proc/sys may not.
    let snap = "\
100 mkdir(\"/tmp/t/snap\", 0777) = 0
100 openat(AT_FDCWD, \"/tmp/t/snap/proc/net/netstat\", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 3
100 openat(AT_FDCWD, \"/tmp/t/snapshot-elsewhere\", O_WRONLY|O_CREAT, 0666) = 3
100 openat(AT_FDCWD, \"/tmp/t/snap/../x\", O_WRONLY|O_CREAT, 0666) = 3
100 openat(AT_FDCWD, \"/proc/sys/net/ipv4/tcp_tw_reuse\", O_WRONLY) = 3
";
    let v = violations_outside(snap, Some(Path::new("/tmp/t/snap")));
    assert_eq!(v.len(), 3, "{v:?}");
    assert!(v[0].contains("snapshot-elsewhere"));
    assert!(v[1].contains("/../"));
    assert!(v[2].contains("/proc/sys"));
    assert_eq!(
        violations_outside(snap, Some(Path::new("/proc/sys"))).len(),
        5
    );
    assert_eq!(
        allowed_dir(&["snapshot".into(), "--out".into(), "/tmp/t/snap".into()]),
        Some(PathBuf::from("/tmp/t/snap"))
    );
    assert_eq!(allowed_dir(&["host".into()]), None);
}
