//! `twlint advise`: the round trip (every reference topology judged with its advised drop-ins
//! applied has no dangerous verdict left, except the listed ones no sysctl can fix), and the
//! CLI contract of `--out` (idempotent, never replaces a file twlint did not write).

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::Path;
use twlint::advise;
use twlint::diag::Verdict;
use twlint::judge::{self, Layer, Overlay, Request};
use twlint::rules::load::load_catalog;
use twlint::source::SourceMap;

/// Dangerous verdicts a drop-in cannot remove, with the reason. Anything else left after the
/// advice is a bug in a rule's `fix`.
const CANNOT_FIX: &[(&str, &str, &str)] = &[
    // The seed architecture's NAT maps 3000 new flows/s from one public address to one
    // destination: more than the 64512 ports per destination allow at 120 s of conntrack
    // TIME_WAIT. More public addresses fix it, not a sysctl.
    ("lb-web-db.yaml", "nat", "TW194"),
    ("lb-web-db-4x.yaml", "nat", "TW194"),
    ("lb-web-db-web-closes.yaml", "nat", "TW194"),
    ("lb-web-db-web-closes-4x.yaml", "nat", "TW194"),
];

#[test]
fn advised_dropins_leave_no_dangerous_verdict() {
    let mut topos: Vec<_> = std::fs::read_dir("topologies")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    topos.sort();
    let mut advised_somewhere = false;
    for path in topos {
        let mut sources = SourceMap::new();
        let (rules, _) = load_catalog(&[], &mut sources).unwrap();
        let opts = judge::Options::default();
        let loaded = judge::load_topology(&path, &opts, &mut sources).unwrap();
        let before = judge::judge(Request::topology(loaded), &opts, &rules, &mut sources).unwrap();
        let advice = advise::advise(&before, &sources, &path.display().to_string());
        let dropins: BTreeMap<String, (String, String)> = advice
            .nodes
            .iter()
            .map(|n| {
                advised_somewhere = true;
                (
                    n.node.clone(),
                    (n.file_name.clone(), advise::dropin_text(&advice, n)),
                )
            })
            .collect();
        let mut sources = SourceMap::new();
        let (rules, _) = load_catalog(&[], &mut sources).unwrap();
        let mut overlay = Overlay::default();
        for (node, (name, text)) in &dropins {
            overlay.insert(node, Layer::file(name, text, &mut sources));
        }
        let loaded = judge::load_topology(&path, &opts, &mut sources).unwrap();
        let after = judge::judge(
            Request::topology(loaded).with_overlay(overlay),
            &opts,
            &rules,
            &mut sources,
        )
        .unwrap();
        let left: Vec<(String, String, String)> = after
            .verdicts
            .iter()
            .filter(|v| v.verdict == Verdict::Dangerous)
            .map(|v| {
                (
                    v.node.to_string(),
                    v.key.to_string(),
                    v.rule.as_deref().unwrap_or_default().to_string(),
                )
            })
            .filter(|(n, _, r)| {
                !CANNOT_FIX
                    .iter()
                    .any(|(t, cn, cr)| path.ends_with(t) && n == cn && r == cr)
            })
            .collect();
        assert!(
            left.is_empty(),
            "{}: dangerous after the advice: {left:?}\n{}",
            path.display(),
            advise::text(&advice)
        );
        // The advised values themselves are clean: no diagnostic points into a drop-in.
        for d in &after.diagnostics {
            if let Some(p) = &d.primary {
                let path = &sources.get(p.span.file).path;
                assert!(
                    !path.starts_with("99-twlint-"),
                    "{}: {path}: [{}] {}",
                    before.topology.as_deref().unwrap_or("?"),
                    d.code,
                    d.message
                );
            }
        }
        // Every dangerous verdict before was either fixed or listed as not fixable.
        for v in before
            .verdicts
            .iter()
            .filter(|v| v.verdict == Verdict::Dangerous)
        {
            let fixed = advice.nodes.iter().any(|n| *n.node == *v.node);
            let listed = advice
                .unfixable
                .iter()
                .any(|u| *u.node == *v.node && u.key == v.key);
            assert!(
                fixed || listed,
                "{}: {} {} neither fixed nor listed",
                path.display(),
                v.node,
                v.key
            );
        }
        // The drop-ins are valid sysctl files with nothing to say about them on their own.
        for (name, text) in dropins.values() {
            let mut s = SourceMap::new();
            let set = twlint::sysctl::load_text(name, text, &mut s);
            assert!(set.diagnostics.is_empty(), "{name}: {:?}", set.diagnostics);
        }
    }
    assert!(
        advised_somewhere,
        "no reference topology needed advice: the test proves nothing"
    );
}

fn twlint() -> Command {
    let mut c = Command::cargo_bin("twlint").unwrap();
    // Pinned: this machine's hostname or addresses must not make a topology run read it.
    c.env("TWLINT_NO_LIVE", "1");
    c
}

#[test]
fn out_dir_is_written_once_and_then_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sysctl.d");
    let first = twlint()
        .args(["advise", "--topology", "topologies/lb-web-db.yaml", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(0));
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(
        err.contains("wrote") && err.contains("99-twlint-db.conf"),
        "{err}"
    );
    let db = std::fs::read_to_string(out.join("99-twlint-db.conf")).unwrap();
    assert!(db.starts_with(advise::MARKER));
    assert!(db.contains("\nnet.ipv4.tcp_timestamps = 1\n"));
    // web needs nothing: no file.
    assert!(!out.join("99-twlint-web.conf").exists());

    let second = twlint()
        .args(["advise", "--topology", "topologies/lb-web-db.yaml", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(0));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(!err.contains("wrote"), "{err}");
    assert!(err.contains("nothing changed"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("99-twlint-db.conf")).unwrap(),
        db
    );
}

#[test]
fn out_dir_refuses_to_replace_a_file_twlint_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("99-twlint-db.conf"),
        "net.ipv4.tcp_timestamps = 0\n",
    )
    .unwrap();
    let out = twlint()
        .args(["advise", "--topology", "topologies/lb-web-db.yaml", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("was not written by twlint"));
    // Nothing written, not even the other node's file.
    assert!(!dir.path().join("99-twlint-lb.conf").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("99-twlint-db.conf")).unwrap(),
        "net.ipv4.tcp_timestamps = 0\n"
    );
}

#[test]
fn stdout_and_markdown_are_deterministic() {
    for format in ["text", "markdown"] {
        let run = || {
            twlint()
                .args([
                    "advise",
                    "--topology",
                    "topologies/lb-web-db.yaml",
                    "--format",
                    format,
                ])
                .output()
                .unwrap()
        };
        let (a, b) = (run(), run());
        assert_eq!(a.status.code(), Some(0));
        assert_eq!(a.stdout, b.stdout);
        let name = format!("advise_{format}");
        insta::assert_snapshot!(name, String::from_utf8(a.stdout).unwrap());
    }
}

#[test]
fn a_topology_with_errors_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.yaml");
    std::fs::write(&t, "version: 1\nnodes: []\nlinks: [{from: a}]\n").unwrap();
    let out = twlint()
        .args(["advise", "--topology"])
        .arg(&t)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(Path::new(&t).exists());
}

/// A user rule (TW901, judging another key of the same node) asks for another value of the key a
/// shipped rule (TW120) fixes: the shipped rule wins (same verdict, lower id) and the drop-in says
/// what it set aside, the same way on every run.
#[test]
fn conflicting_fixes_resolve_by_verdict_then_id_and_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("TW901-db-timestamps-two.yaml"),
        r#"id: TW901
name: db-timestamps-two
summary: a site policy that wants tcp_timestamps=2 on databases
verdict: dangerous
scope: node
keys: [net.ipv4.tcp_fin_timeout]
when: node.role == 'db' && node.num['net.ipv4.tcp_timestamps'] != 2
message: "site policy: databases run tcp_timestamps=2"
help: "set `net.ipv4.tcp_timestamps = 2`"
fix: {set: {net.ipv4.tcp_timestamps: "2"}}
docs:
  what: |
    A test policy.
  why: |
    To check how advise resolves two rules that want different values.
  example:
    topology: |
      version: 1
      nodes:
        - {name: db, role: db, sysctl: {set: {net.ipv4.tcp_timestamps: 0}}}
        - {name: app, role: app}
      links:
        - {from: app, to: db, port: 5432, closes_first: app}
  use_instead:
    sysctl: |
      net.ipv4.tcp_timestamps = 2
  kernel: |
    Any.
  references: ["tests/advise.rs"]
"#,
    )
    .unwrap();
    let run = || {
        twlint()
            .args([
                "advise",
                "--topology",
                "topologies/lb-web-db.yaml",
                "--rules",
            ])
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let db = &text[text.find("# ==> 99-twlint-db.conf <==").unwrap()..];
    assert!(db.contains("\nnet.ipv4.tcp_timestamps = 1\n"), "{db}");
    assert!(
        db.contains(
            "# TW901 asked for 2; set aside: the worst verdict, then the lowest rule id, decides"
        ),
        "{db}"
    );
    assert_eq!(run().stdout, out.stdout);
}

/// A removed key cannot be fixed by a drop-in (the line must go): advise lists it, with the
/// rule's help, and writes nothing for it.
#[test]
fn what_no_dropin_can_fix_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.yaml");
    std::fs::write(
        &t,
        "version: 1\nnodes:\n  - {name: app, role: app, kernel: \"6.8\", sysctl: {set: {net.ipv4.tcp_tw_recycle: 1}}}\n  - {name: db, role: db, kernel: \"6.8\"}\nlinks:\n  - {from: app, to: db, port: 5432, closes_first: app}\n",
    )
    .unwrap();
    let out = twlint()
        .args(["advise", "--topology"])
        .arg(&t)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("# twlint: no node needs a change the rules can make"),
        "{text}"
    );
    assert!(
        text.contains("# ==> not fixable by a drop-in <=="),
        "{text}"
    );
    assert!(
        text.contains("# app net.ipv4.tcp_tw_recycle (TW101 on app->db)"),
        "{text}"
    );
    let out_dir = dir.path().join("out");
    let out = twlint()
        .args(["advise", "--topology"])
        .arg(&t)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not fixable by a drop-in: app net.ipv4.tcp_tw_recycle (TW101)"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0);
}

/// A node that needed a drop-in and no longer does loses the file twlint wrote for it; files
/// twlint wrote from another topology are left alone.
#[test]
fn out_dir_removes_its_own_stale_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let stale = format!(
        "{} 0.1.0 for node web\n#   twlint advise --topology topologies/lb-web-db.yaml --out DIR\nnet.ipv4.tcp_tw_reuse = 1\n",
        advise::MARKER
    );
    let other = format!(
        "{} 0.1.0 for node web\n#   twlint advise --topology other.yaml --out DIR\nnet.ipv4.tcp_tw_reuse = 1\n",
        advise::MARKER
    );
    std::fs::write(dir.path().join("99-twlint-web.conf"), &stale).unwrap();
    std::fs::write(dir.path().join("99-twlint-other.conf"), &other).unwrap();
    let out = twlint()
        .args(["advise", "--topology", "topologies/lb-web-db.yaml", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("removed") && err.contains("99-twlint-web.conf"),
        "{err}"
    );
    assert!(!dir.path().join("99-twlint-web.conf").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("99-twlint-other.conf")).unwrap(),
        other
    );
}

/// `--node`: that node's drop-in only, and a name that is no node is refused.
#[test]
fn advise_node_gives_that_nodes_dropin_only() {
    let out = twlint()
        .args([
            "advise",
            "--topology",
            "topologies/lb-web-db.yaml",
            "--node",
            "db",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("# ==> 99-twlint-db.conf <=="), "{text}");
    assert_eq!(text.matches("# ==> 99-twlint-").count(), 1, "{text}");
    assert!(
        text.contains("--out DIR --node db\n"),
        "the regenerate command: {text}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("advised on the values topologies/lb-web-db.yaml declares"),
        "{err}"
    );

    let out = twlint()
        .args([
            "advise",
            "--topology",
            "topologies/lb-web-db.yaml",
            "--node",
            "dbb",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `db`?"), "{err}");
}

/// `--out` with `--node` writes that node's file and leaves the other nodes' files alone.
#[test]
fn advise_node_out_leaves_the_other_nodes_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sysctl.d");
    let all = twlint()
        .args(["advise", "--topology", "topologies/lb-web-db.yaml", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(all.status.code(), Some(0));
    let before: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(before.len() > 1, "{before:?}");
    let one = twlint()
        .args([
            "advise",
            "--topology",
            "topologies/lb-web-db.yaml",
            "--node",
            "db",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(one.status.code(), Some(0));
    let err = String::from_utf8_lossy(&one.stderr);
    assert!(!err.contains("removed"), "{err}");
    let after: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before.len(), after.len(), "{err}");
}

/// `--root`: the capture's values are advised for the node it is. The topology's db file turns
/// timestamps off (advice: turn them on); the captured db has them on, so its advice has no
/// such change, and the output says whose values were advised.
#[test]
fn advise_root_advises_a_captures_values() {
    let declared = twlint()
        .args([
            "advise",
            "--topology",
            "topologies/lb-web-db.yaml",
            "--node",
            "db",
        ])
        .output()
        .unwrap();
    let declared = String::from_utf8_lossy(&declared.stdout).to_string();
    assert!(
        declared.contains("\nnet.ipv4.tcp_timestamps = 1\n"),
        "{declared}"
    );

    let out = twlint()
        .args([
            "advise",
            "--topology",
            "topologies/lb-web-db.yaml",
            "--root",
            "tests/fixtures/host/proc-db",
            "--node",
            "db",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("net.ipv4.tcp_timestamps = 1"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("advised on the values of the capture tests/fixtures/host/proc-db, node db"),
        "{err}"
    );
}

/// A snapshot names its host: `--root` finds the node by hostname, advises that node only, on
/// the captured values (its tcp_max_tw_buckets of 5000, which no file declares), and each
/// drop-in's header says so.
#[test]
fn advise_root_finds_the_node_a_snapshot_is() {
    let out = twlint()
        .args([
            "advise",
            "--topology",
            "topologies/lb-web-db.yaml",
            "--root",
            "tests/fixtures/host/snapshot-lb",
            "--format",
            "markdown",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "Advised on the values of the capture tests/fixtures/host/snapshot-lb, node lb."
        ),
        "{text}"
    );
    assert!(text.contains("### `99-twlint-lb.conf` on lb"), "{text}");
    assert_eq!(text.matches("### `99-twlint-").count(), 1, "{text}");
    assert!(
        text.contains("| `net.ipv4.tcp_max_tw_buckets` | `5000` |"),
        "{text}"
    );
    assert!(
        text.contains(
            "# Advised on the values of the capture tests/fixtures/host/snapshot-lb, node lb.\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("--out DIR --node lb --root tests/fixtures/host/snapshot-lb\n"),
        "{text}"
    );
}

/// `--live`: this machine's values, for the node `--node` names; without a node it is not, the
/// run is refused as a check run's `--live` is.
#[test]
fn advise_live_reads_this_host() {
    let out = twlint()
        .args([
            "advise",
            "--topology",
            "topologies/lb-web-db.yaml",
            "--live",
            "--node",
            "web",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("advised on the live values of this host ("),
        "{err}"
    );
    assert!(err.contains("), node web"), "{err}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("for node db"), "{text}");

    let out = twlint()
        .args([
            "advise",
            "--topology",
            "topologies/lb-web-db.yaml",
            "--live",
            "--node",
            "nat",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = twlint()
        .args([
            "advise",
            "--topology",
            "topologies/lb-web-db.yaml",
            "--live",
            "--no-live",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
