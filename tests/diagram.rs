//! The topology as a picture: the Mermaid flowchart the Markdown report opens with and
//! `--format dot`. Snapshots of both on the seed topology; every shipped topology's Mermaid
//! text read back by a parser of the grammar subset twlint writes (node shapes, labelled
//! edges, `linkStyle`, `classDef`, `class`), so a label can never break the chart; hostile node
//! names stay inside their labels; and Graphviz renders the DOT (`.ci/diagram.sh` installs
//! Debian's graphviz and runs the ignored test).

use std::collections::BTreeSet;
use std::path::Path;
use twlint::judge::{self, Request};
use twlint::render;
use twlint::report::Report;
use twlint::rules::load::load_catalog;
use twlint::source::SourceMap;

fn judged(path: &Path) -> Report {
    let mut sources = SourceMap::new();
    let (rules, _) = load_catalog(&[], &mut sources).unwrap();
    let opts = judge::Options::default();
    let loaded = judge::load_topology(path, &opts, &mut sources).unwrap();
    judge::judge(Request::topology(loaded), &opts, &rules, &mut sources).unwrap()
}

fn mermaid(r: &Report) -> String {
    let mut out = Vec::new();
    render::diagram::write_mermaid_block(&mut out, r).unwrap();
    String::from_utf8(out).unwrap()
}

fn dot(r: &Report) -> String {
    let mut out = Vec::new();
    render::diagram::write_dot(&mut out, r).unwrap();
    String::from_utf8(out).unwrap()
}

/// Every topology shipped in `topologies/` and `examples/`.
fn shipped_topologies() -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("topologies").unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|e| e == "yaml") {
            out.push(p);
        }
    }
    for e in std::fs::read_dir("examples").unwrap() {
        let p = e.unwrap().path().join("topology.yaml");
        if p.exists() {
            out.push(p);
        }
    }
    out.sort();
    assert!(out.len() >= 5, "{out:?}");
    out
}

/// A quoted label: no raw `"`, and `#` only as an entity code (`#quot;`, `#35;`).
fn label_ok(s: &str) -> Result<(), String> {
    if s.contains('"') {
        return Err(format!("raw quote in {s:?}"));
    }
    let mut rest = s;
    while let Some(i) = rest.find('#') {
        let after = &rest[i + 1..];
        let end = after
            .find(';')
            .ok_or(format!("`#` without entity in {s:?}"))?;
        if end == 0 || !after[..end].chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("bad entity in {s:?}"));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

/// Reads the Mermaid block twlint writes, statement by statement, and returns (nodes, edges).
/// Fails on anything outside the subset: a statement Mermaid would read differently, an edge or
/// class naming an undefined node, a `linkStyle` past the last edge, a class used before it is
/// defined.
fn parse_mermaid(block: &str) -> Result<(usize, usize), String> {
    let body = block
        .strip_prefix("```mermaid\n")
        .ok_or("no ```mermaid fence")?;
    let end = body.find("\n```\n").ok_or("unclosed fence")?;
    let mut lines = body[..end].lines();
    if lines.next() != Some("flowchart LR") {
        return Err("the chart must start with `flowchart LR`".into());
    }
    let id = |s: &str| -> Result<String, String> {
        let ok = s
            .strip_prefix('n')
            .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        ok.then(|| s.to_string())
            .ok_or(format!("bad node id {s:?}"))
    };
    let style_ok = |s: &str| {
        !s.is_empty()
            && s.split(',').all(|kv| {
                kv.split_once(':').is_some_and(|(k, v)| {
                    !k.is_empty()
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                        && !v.is_empty()
                        && v.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "#. ".contains(c))
                })
            })
    };
    let mut nodes = BTreeSet::new();
    let mut classes = BTreeSet::new();
    let mut edges = 0;
    for line in lines {
        let l = line
            .strip_prefix("  ")
            .ok_or(format!("statement not indented: {line:?}"))?;
        if let Some(rest) = l.strip_prefix("linkStyle ") {
            let (n, style) = rest.split_once(' ').ok_or("linkStyle without style")?;
            let n: usize = n.parse().map_err(|_| format!("bad linkStyle index {n}"))?;
            if n >= edges {
                return Err(format!("linkStyle {n} but only {edges} edges"));
            }
            if !style_ok(style) {
                return Err(format!("bad style {style:?}"));
            }
        } else if let Some(rest) = l.strip_prefix("classDef ") {
            let (name, style) = rest.split_once(' ').ok_or("classDef without style")?;
            if !style_ok(style) {
                return Err(format!("bad style {style:?}"));
            }
            classes.insert(name.to_string());
        } else if let Some(rest) = l.strip_prefix("class ") {
            let (ids, name) = rest.split_once(' ').ok_or("class without name")?;
            if !classes.contains(name) {
                return Err(format!("class {name} used before classDef"));
            }
            for i in ids.split(',') {
                if !nodes.contains(&id(i)?) {
                    return Err(format!("class on undefined node {i}"));
                }
            }
        } else if let Some((from, rest)) = l.split_once(" -.-> ") {
            for n in [from, rest] {
                if !nodes.contains(&id(n)?) {
                    return Err(format!("edge to undefined node {n}"));
                }
            }
            edges += 1;
        } else if let Some((from, rest)) = l.split_once(" -->|\"") {
            let (label, to) = rest.split_once("\"| ").ok_or("unterminated edge label")?;
            label_ok(label)?;
            for n in [from, to] {
                if !nodes.contains(&id(n)?) {
                    return Err(format!("edge to undefined node {n}"));
                }
            }
            edges += 1;
        } else {
            let q = l.find('"').ok_or(format!("unknown statement {l:?}"))?;
            let (name, open) = l[..q].split_at(
                l[..q]
                    .find(|c: char| !c.is_ascii_alphanumeric())
                    .unwrap_or(q),
            );
            let close = match open {
                "([" => "])",
                "{{" => "}}",
                "[[" => "]]",
                "[(" => ")]",
                "[" => "]",
                _ => return Err(format!("unknown node shape {open:?} in {l:?}")),
            };
            let rest = &l[q + 1..];
            let label = rest
                .strip_suffix(&format!("\"{close}"))
                .ok_or(format!("node {name} does not close with {close}"))?;
            label_ok(label)?;
            if !nodes.insert(id(name)?) {
                return Err(format!("node {name} twice"));
            }
        }
    }
    Ok((nodes.len(), edges))
}

#[test]
fn markdown_opens_with_the_mermaid_topology_of_the_seed() {
    let r = judged(Path::new("topologies/lb-web-db.yaml"));
    insta::assert_snapshot!(mermaid(&r));
}

#[test]
fn dot_of_the_seed() {
    let r = judged(Path::new("topologies/lb-web-db.yaml"));
    insta::assert_snapshot!(dot(&r));
}

#[test]
fn every_shipped_topology_gives_mermaid_the_parser_reads() {
    for path in shipped_topologies() {
        let r = judged(&path);
        let block = mermaid(&r);
        let (nodes, edges) =
            parse_mermaid(&block).unwrap_or_else(|e| panic!("{}: {e}\n{block}", path.display()));
        assert_eq!(nodes, r.nodes.len(), "{}", path.display());
        let want = r.hops.len() + r.hops.iter().filter(|h| h.via.is_some()).count();
        assert_eq!(edges, want, "{}", path.display());
    }
}

/// Node names come from the user's topology: quotes, brackets, `#`, `|` and markup stay inside
/// their labels in both languages.
#[test]
fn hostile_node_names_stay_inside_their_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.yaml");
    std::fs::write(
        &path,
        r#"version: 1
name: hostile
nodes:
  - name: 'a"]; n9["x'
    role: app
  - name: "b#35;<script>|`"
    role: db
links:
  - from: 'a"]; n9["x'
    to: "b#35;<script>|`"
    port: 5432
    closes_first: 'a"]; n9["x'
    rate: 10
"#,
    )
    .unwrap();
    let r = judged(&path);
    let block = mermaid(&r);
    assert_eq!(parse_mermaid(&block), Ok((2, 1)), "{block}");
    assert!(!block.contains("<script>"), "{block}");
    let d = dot(&r);
    assert!(d.contains(r#"label="a\"]; n9[\"x"#), "{d}");
}

fn twlint(args: &[&str]) -> String {
    let out = assert_cmd::Command::cargo_bin("twlint")
        .unwrap()
        .env("TWLINT_NO_LIVE", "1")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.code().unwrap() < 2, "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Files on their own have no topology: no chart in the Markdown, and `--format dot` draws the
/// hosts without edges.
#[test]
fn reports_of_files_draw_no_topology() {
    let md = twlint(&[
        "examples/01-lint-sysctl-d/sysctl.d/",
        "--format",
        "markdown",
    ]);
    assert!(!md.contains("```mermaid"), "{md}");
    let d = twlint(&["examples/01-lint-sysctl-d/sysctl.d/", "--format", "dot"]);
    assert!(d.starts_with("digraph twlint {"), "{d}");
    assert!(!d.contains("->"), "{d}");
}

/// `--format dot` is the same picture the library draws, through the command line.
#[test]
fn format_dot_on_the_command_line() {
    let d = twlint(&["--topology", "topologies/lb-web-db.yaml", "--format", "dot"]);
    assert_eq!(d, dot(&judged(Path::new("topologies/lb-web-db.yaml"))));
}

/// Graphviz (Debian's `graphviz` package) reads and lays out every shipped topology's DOT.
/// Ignored by plain `cargo test` (it needs the `dot` program); `.ci/diagram.sh` installs it and
/// runs this.
#[test]
#[ignore = "needs Graphviz's `dot`; run by .ci/diagram.sh"]
fn graphviz_renders_the_dot_of_every_shipped_topology() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    for path in shipped_topologies() {
        let text = dot(&judged(&path));
        let mut child = Command::new("dot")
            .args(["-Tsvg"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("Graphviz's `dot` is installed (apt-get install graphviz)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {err}\n{text}", path.display());
        assert!(err.is_empty(), "{}: warnings: {err}", path.display());
        // Graphviz writes a hyphen in SVG text as a character reference.
        let svg = String::from_utf8_lossy(&out.stdout).replace("&#45;", "-");
        let r = judged(&path);
        for n in &r.nodes {
            assert!(
                svg.contains(&n.name),
                "{}: {} not drawn",
                path.display(),
                n.name
            );
        }
    }
}

/// The README shows the seed topology's chart as twlint draws it.
#[test]
fn readme_shows_the_seed_chart() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let r = judged(Path::new("topologies/lb-web-db.yaml"));
    let block = mermaid(&r);
    let chart = &block[..block.find("\n```\n").unwrap() + 5];
    assert!(
        readme.contains(chart),
        "README.md's ```mermaid block is stale; the seed's chart is:\n{chart}"
    );
}
