//! The documentation stays true: the rule pages in `docs/rules/` are the rule files' own words
//! (regenerate with `TWLINT_UPDATE_DOCS=1 cargo test --test docs`), the docs index links every
//! page of the guide and the reference, every relative link in the README and `docs/` leads to a
//! file (and heading) that exists, and the README stays a short front page. The console blocks
//! of the README and `docs/` are run by `tests/cli.rs` (`docs_console_blocks_match_the_binary`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use twlint::render::rule_pages;
use twlint::rules::load::load_catalog;
use twlint::source::SourceMap;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn update() -> bool {
    std::env::var_os("TWLINT_UPDATE_DOCS").is_some_and(|v| v != "0" && !v.is_empty())
}

/// Every Markdown file of `docs/` (recursively) and the README.
fn doc_files() -> Vec<PathBuf> {
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

#[test]
fn rule_pages_are_generated_from_the_rule_files() {
    let mut sources = SourceMap::new();
    let (rules, diags) = load_catalog(&[], &mut sources).expect("embedded rules load");
    assert!(diags.is_empty(), "{diags:#?}");
    let dir = root().join("docs/rules");
    let mut want: Vec<(String, String)> = rules
        .rules
        .iter()
        .map(|r| (rule_pages::page_name(r), rule_pages::rule_page(r)))
        .collect();
    want.push(("README.md".into(), rule_pages::rules_index(&rules)));
    let names: BTreeSet<&str> = want.iter().map(|(n, _)| n.as_str()).collect();
    let mut stale = Vec::new();
    if update() {
        fs::create_dir_all(&dir).unwrap();
    }
    for (name, text) in &want {
        let path = dir.join(name);
        if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            if update() {
                fs::write(&path, text).unwrap();
            } else {
                stale.push(format!("docs/rules/{name} is missing or stale"));
            }
        }
    }
    for e in fs::read_dir(&dir).into_iter().flatten() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if !names.contains(name.as_str()) {
            if update() {
                fs::remove_file(&p).unwrap();
            } else {
                stale.push(format!("docs/rules/{name} documents no rule"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "{}\n\nRegenerate with `TWLINT_UPDATE_DOCS=1 cargo test --test docs` and review the diff.",
        stale.join("\n")
    );
}

/// A reader finds every page from `docs/README.md`: a new page in `docs/guide/` or
/// `docs/reference/` must be linked there.
#[test]
fn docs_index_links_every_guide_and_reference_page() {
    let index = fs::read_to_string(root().join("docs/README.md")).unwrap();
    let mut missing = Vec::new();
    for folder in ["guide", "reference"] {
        for e in fs::read_dir(root().join("docs").join(folder)).unwrap() {
            let name = e.unwrap().file_name().to_str().unwrap().to_string();
            if name.ends_with(".md") && !index.contains(&format!("]({folder}/{name})")) {
                missing.push(format!("{folder}/{name}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/README.md does not link {missing:?}: add a line for each under Guide or Reference"
    );
}

/// GitHub's anchor of a heading: lower case, punctuation dropped, spaces to `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Tracks fenced code blocks: the fence that opened the current one (three backticks or more),
/// closed only by a line of the same backticks, so a ```` ````console ```` block may hold a
/// ```` ```mermaid ```` one.
fn in_fence(fence: &mut Option<String>, line: &str) -> bool {
    let l = line.trim();
    let ticks = l.len() - l.trim_start_matches('`').len();
    match fence {
        Some(f) if l == f.as_str() => {
            *fence = None;
            true
        }
        Some(_) => true,
        None if ticks >= 3 => {
            *fence = Some("`".repeat(ticks));
            true
        }
        None => false,
    }
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut fence = None;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if !in_fence(&mut fence, line) && line.starts_with('#') {
            out.insert(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// The targets of the inline links `[text](target)` of a Markdown text, outside code blocks and
/// code spans.
fn links(text: &str) -> Vec<String> {
    let mut fence = None;
    let mut out = Vec::new();
    for line in text.lines() {
        if in_fence(&mut fence, line) {
            continue;
        }
        // Drop code spans, whose brackets are not links.
        let mut plain = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                plain.push_str(part);
            }
        }
        let mut rest = plain.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

/// Every Markdown file a reader follows links from: the README, `docs/`, the other top-level
/// documents, `examples/`, `topologies/` and `rules/`.
fn linking_files() -> Vec<PathBuf> {
    let mut out = doc_files();
    for e in fs::read_dir(root()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|e| e == "md") && !out.contains(&p) {
            out.push(p);
        }
    }
    for dir in ["examples", "topologies", "rules"] {
        for e in fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            let md = if p.is_dir() { p.join("README.md") } else { p };
            if md.extension().is_some_and(|e| e == "md") && md.exists() {
                out.push(md);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn relative_links_in_readme_and_docs_lead_somewhere() {
    let mut broken = Vec::new();
    for file in linking_files() {
        let text = fs::read_to_string(&file).unwrap();
        let rel = file.strip_prefix(root()).unwrap().display().to_string();
        for target in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, frag) = match target.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (target.as_str(), None),
            };
            let dest = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            if !dest.exists() {
                broken.push(format!("{rel}: `{target}`: no such file"));
                continue;
            }
            if let Some(f) = frag {
                let md = if dest.is_dir() {
                    dest.join("README.md")
                } else {
                    dest.clone()
                };
                if md.extension().is_some_and(|e| e == "md") {
                    let t = fs::read_to_string(&md).unwrap();
                    if !anchors(&t).contains(f) {
                        broken.push(format!("{rel}: `{target}`: no heading #{f}"));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The README is the front page: at most 300 lines, opening with the two commands that work on
/// a fresh machine (the main job on a shipped example, and the tests), and never pointing at a
/// design document the repository does not ship.
#[test]
fn readme_is_a_short_front_page() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines; move detail to docs/"
    );
    let first_block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("the README opens with a ```sh block");
    assert!(
        first_block.starts_with("cargo run --profile dist -- --topology topologies/lb-web-db.yaml"),
        "{first_block}"
    );
    assert!(first_block.contains("\ncargo test "), "{first_block}");
    assert!(root().join("topologies/lb-web-db.yaml").exists());
    for file in linking_files() {
        let text = fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("DESIGN.md") || root().join("DESIGN.md").exists(),
            "{} refers to DESIGN.md, which the repository does not have (point at docs/reference/)",
            file.display()
        );
    }
}

/// SARIF's `helpUri` (and the Markdown report's rule links) lead to a generated page: the
/// repository's address (Cargo.toml's `repository`, written once) then `docs/rules/ID.md`.
#[test]
fn help_links_point_at_the_rule_pages() {
    let mut sources = SourceMap::new();
    let (rules, _) = load_catalog(&[], &mut sources).unwrap();
    for r in &rules.rules {
        let uri = twlint::render::sarif::help_uri(r).expect("a shipped rule has a page");
        let page = uri
            .strip_prefix(concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/"))
            .unwrap_or_else(|| panic!("{uri} is not in the repository"));
        assert_eq!(page, format!("docs/rules/{}.md", r.id));
        assert!(root().join(page).exists(), "{page} is missing");
    }
}
