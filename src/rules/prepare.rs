//! The shipped CEL rules read at build time into the form a run that judges uses
//! (`rules::prepared`): `build.rs` includes this file with `#[path]` and writes, for each rule
//! file, the Rust source of a `Prepared` (its fields as the file writes them), so a run reads
//! no YAML tree, runs no serde and builds no parser state for the catalog it judges with.
//!
//! This reading is deliberately narrow: a file in the plain shape the shipped rules have (one
//! mapping of the known fields, scalars without tags, anchors or aliases, no duplicate keys, no
//! nulls, no `check`) is prepared, anything else is not (`None`), and the loader then reads that
//! file's YAML as before, with every check and its diagnostics. What the loader makes of a
//! prepared file is held to what it makes of the YAML, rule for rule, by the test
//! `every_prepared_rule_is_the_rule_its_yaml_loads` (`rules::load`); the meaning of each
//! field (verdict and scope words, templates, keys) is read at run time by the crate's own code.
//!
//! Compiled into the build script and the crate's tests, so it uses only `std` and
//! `saphyr_parser`.

use saphyr_parser::{Event, Parser};
use std::fmt::Write;

/// A node of the file as this reading keeps it: text, or a list or mapping, with the
/// character indices of its span as the crate's YAML tree computes them.
enum Node {
    Scalar(String, usize),
    Seq(Vec<Node>, usize),
    Map(Vec<(String, Node)>, usize),
}

impl Node {
    /// The character index where the node ends.
    fn end(&self) -> usize {
        match self {
            Node::Scalar(_, end) | Node::Seq(_, end) | Node::Map(_, end) => *end,
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Node::Scalar(t, _) => Some(t),
            _ => None,
        }
    }

    fn list(&self) -> Option<&[Node]> {
        match self {
            Node::Seq(items, _) => Some(items),
            _ => None,
        }
    }

    /// The entries of a mapping, when every key is one of `allowed`.
    fn fields(&self, allowed: &[&str]) -> Option<&[(String, Node)]> {
        match self {
            Node::Map(entries, _) if entries.iter().all(|(k, _)| allowed.contains(&k.as_str())) => {
                Some(entries)
            }
            _ => None,
        }
    }
}

/// The value of `key` among `entries`.
fn get<'a>(entries: &'a [(String, Node)], key: &str) -> Option<&'a Node> {
    entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// A collection being read: its items (keys and values alternate in a mapping's) and the
/// character index it starts at.
struct Open {
    mapping: bool,
    items: Vec<Node>,
    start: usize,
}

/// Reads the first document of `text` into a [`Node`]; `None` for anything outside the plain
/// shape (see the module comment) or a text the parser refuses.
fn read(text: &str) -> Option<(Node, usize)> {
    let mut stack: Vec<Open> = Vec::new();
    let (mut root, mut root_start) = (None, 0);
    for item in Parser::new_from_str(text) {
        let (event, span) = item.ok()?;
        let (start, end) = (span.start.index(), span.end.index());
        let mapping = matches!(event, Event::MappingStart(..));
        let node = match event {
            Event::Scalar(value, style, anchor, tag) => {
                let null = style == saphyr_parser::ScalarStyle::Plain
                    && matches!(&*value, "" | "~" | "null" | "Null" | "NULL");
                if anchor != 0 || tag.is_some() || null {
                    return None;
                }
                Node::Scalar(value.into_owned(), end.max(start))
            }
            Event::MappingStart(anchor, tag) | Event::SequenceStart(anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                stack.push(Open {
                    mapping,
                    items: Vec::new(),
                    start,
                });
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let open = stack.pop()?;
                if stack.is_empty() {
                    root_start = open.start;
                }
                // As `yaml::end_of`: a flow collection ends at its closing bracket, a block one
                // with its last child.
                let end = if end > start {
                    end
                } else {
                    open.items
                        .last()
                        .map_or(open.start, Node::end)
                        .max(open.start)
                };
                if open.mapping {
                    let mut entries = Vec::new();
                    let mut items = open.items.into_iter();
                    while let (Some(k), Some(v)) = (items.next(), items.next()) {
                        let Node::Scalar(k, _) = k else { return None };
                        if entries.iter().any(|(seen, _)| *seen == k) {
                            return None;
                        }
                        entries.push((k, v));
                    }
                    Node::Map(entries, end)
                } else {
                    Node::Seq(open.items, end)
                }
            }
            Event::Alias(_) => return None,
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::Nothing => continue,
        };
        match stack.last_mut() {
            Some(open) => open.items.push(node),
            None if root.is_none() => root = Some(node),
            // A second document: the loader reads the first; leave such a file to it.
            None => return None,
        }
    }
    Some((root?, root_start))
}

/// The top-level fields of a CEL rule file, and within them what each list item or mapping has.
const FIELDS: &[&str] = &[
    "id", "name", "summary", "severity", "verdict", "scope", "keys", "when", "message", "help",
    "labels", "fix", "evidence", "docs",
];
const LABEL: &[&str] = &["on", "key", "message", "when"];
const EVIDENCE: &[&str] = &["counter", "meaning", "when", "note"];

/// The `{{ expression }}` holes of a template, their sources trimmed, as the loader splits
/// them (`rules::load::template_parts`); a template that does not split has none here (the
/// loader then reports it).
fn holes(template: &str, out: &mut Vec<String>) {
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return;
        };
        out.push(after[..close].trim().to_string());
        rest = &after[close + 2..];
    }
}

/// The Rust source of the `rules::prepared::Prepared` for a rule file's text, and the sources
/// of the CEL programs it holds (conditions, and the holes of its templates), which the build
/// parses (`rules::tree`); `None` when the file is not a CEL rule in the plain shape.
pub fn prepare(text: &str) -> Option<(String, Vec<String>)> {
    let (root, start) = read(text)?;
    let entries = root.fields(FIELDS)?;
    // The docs are not read for a run that judges: the rule's span ends with the last entry
    // read, as in the recording without them.
    let read: Vec<&(String, Node)> = entries.iter().filter(|(k, _)| k != "docs").collect();
    let end = read.last().map_or(start, |(_, v)| v.end()).max(start);
    let field = |k: &str| get(entries, k);
    let text_of = |k: &str| field(k)?.text();
    let chars: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let byte = |c: usize| chars.get(c).copied().unwrap_or(text.len());
    let mut out = String::from("Prepared { ");
    for k in [
        "id", "name", "summary", "scope", "verdict", "when", "message", "help",
    ] {
        write!(out, "{k}: {:?}, ", text_of(k)?).ok()?;
    }
    let mut programs = vec![text_of("when")?.to_string()];
    holes(text_of("message")?, &mut programs);
    holes(text_of("help")?, &mut programs);
    write!(out, "span: ({}, {}), ", byte(start), byte(end)).ok()?;
    match field("severity") {
        Some(s) => write!(out, "severity: Some({:?}), ", s.text()?).ok()?,
        None => out.push_str("severity: None, "),
    }
    out.push_str("keys: &[");
    for k in field("keys")?.list()? {
        write!(out, "{:?}, ", k.text()?).ok()?;
    }
    out.push_str("], labels: &[");
    for l in field("labels").map_or(Some(&[][..]), Node::list)? {
        let l = l.fields(LABEL)?;
        let t = |k: &str| get(l, k)?.text();
        write!(
            out,
            "PreparedLabel {{ on: {:?}, key: {:?}, message: {:?}, when: {} }}, ",
            t("on")?,
            t("key")?,
            t("message")?,
            match get(l, "when") {
                Some(w) => {
                    programs.push(w.text()?.to_string());
                    format!("Some({:?})", w.text()?)
                }
                None => "None".to_string(),
            }
        )
        .ok()?;
    }
    out.push_str("], fix: &[");
    if let Some(fix) = field("fix") {
        let set = get(fix.fields(&["set"])?, "set")?;
        let Node::Map(pairs, _) = set else {
            return None;
        };
        for (k, v) in pairs {
            write!(out, "({k:?}, {:?}), ", v.text()?).ok()?;
            holes(v.text()?, &mut programs);
        }
    }
    out.push_str("], evidence: &[");
    for e in field("evidence").map_or(Some(&[][..]), Node::list)? {
        let e = e.fields(EVIDENCE)?;
        let t = |k: &str| get(e, k)?.text();
        programs.push(t("when")?.to_string());
        holes(t("note")?, &mut programs);
        write!(
            out,
            "PreparedEvidence {{ counter: {:?}, meaning: {:?}, when: {:?}, note: {:?} }}, ",
            t("counter")?,
            t("meaning")?,
            t("when")?,
            t("note")?
        )
        .ok()?;
    }
    out.push_str("] }");
    Some((out, programs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "id: TW900\nname: x\nsummary: s\nverdict: pointless\nscope: node\n\
        keys: [net.ipv4.tcp_fin_timeout]\nwhen: num > 0\nmessage: \"m {{ num }}\"\nhelp: h\n\
        labels: []\nfix: {set: {net.ipv4.tcp_fin_timeout: \"60\"}}\n\
        evidence:\n  - {counter: TW, meaning: supports, when: value > 0, note: n}\n\
        docs:\n  what: w\n";

    #[test]
    fn a_rule_in_the_plain_shape_is_prepared_without_its_docs() {
        let (rust, programs) = prepare(PLAIN).unwrap();
        assert_eq!(programs, ["num > 0", "num", "value > 0"]);
        assert!(
            rust.starts_with("Prepared { id: \"TW900\", name: \"x\""),
            "{rust}"
        );
        assert!(
            rust.contains("keys: &[\"net.ipv4.tcp_fin_timeout\", ]"),
            "{rust}"
        );
        assert!(
            rust.contains("fix: &[(\"net.ipv4.tcp_fin_timeout\", \"60\"), ]"),
            "{rust}"
        );
        assert!(rust.contains("meaning: \"supports\""), "{rust}");
        assert!(!rust.contains("what"), "{rust}");
        // The span ends with the last entry before the docs: the evidence's flow mapping.
        let end = PLAIN.find("}\ndocs").unwrap() + 1;
        assert!(rust.contains(&format!("span: (0, {end})")), "{rust}");
    }

    #[test]
    fn anything_outside_the_plain_shape_is_left_to_the_loader() {
        for (what, from, to) in [
            ("an unknown key", "help: h\n", "help: h\nhelp_text: x\n"),
            ("a duplicate key", "help: h\n", "help: h\nhelp: i\n"),
            ("a built-in check", "help: h\n", "help: h\ncheck: builtin\n"),
            ("a missing field", "help: h\n", ""),
            ("a null", "help: h\n", "help: ~\n"),
            ("a tag", "help: h\n", "help: !!str h\n"),
            ("an anchor", "help: h\n", "help: &a h\nx: *a\n"),
            ("a list for text", "help: h\n", "help: [h]\n"),
            (
                "an unknown label field",
                "labels: []",
                "labels: [{on: node, key: k, message: m, at: 1}]",
            ),
        ] {
            assert!(PLAIN.contains(from));
            let text = PLAIN.replacen(from, to, 1);
            assert_eq!(prepare(&text), None, "{what}");
        }
        assert_eq!(
            prepare(&format!("{PLAIN}---\nid: TW901\n")),
            None,
            "two documents"
        );
        assert_eq!(prepare("- a\n- b\n"), None);
        assert_eq!(prepare("id: [\n"), None);
    }
}
