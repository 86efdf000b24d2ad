//! Baseline mode (`--add-noqa`, as ruff's): a reasoned suppression for every current finding,
//! written where the finding is, so a team adopting twlint on an existing fleet can gate new
//! problems first and work through the old ones later.
//!
//! This module computes, from a report and the texts it judged, the directives to add
//! (`# twlint: disable=IDS -- REASON`, the syntax of [`crate::suppress`]) and the findings that
//! have no place one could go; it changes text only, and the command line writes the files (as
//! [`crate::fix`] does for `--fix`). A directive goes on its own line above the finding's line,
//! indented as that line is (so it stays a comment inside a YAML mapping or a block scalar) and
//! ended as it is (`\r\n` stays `\r\n`); every other byte of the file is kept. The rules of one
//! line share one directive, and a finding already suppressed gets none, so a second run adds
//! nothing.
//!
//! A finding can be suppressed this way only in a file a node's values were read from, in a
//! format whose comments start with `#` (every format twlint reads but a dump) and where an
//! added comment line reads as a comment: each edited text is read again with its reader, and a
//! line where a comment would change the assignments (inside a shell command continued with
//! `\`) or the format the file is recognised as gets none. In a topology run, a finding no line
//! directive reaches (a kernel default, a topology's inline value or link, a dump printed by the
//! kernel) gets an `ignore:` entry on its node in the topology instead; the rest (those and a
//! suppression's own problems, TW020 to TW022) are listed as not suppressible, with why.

use crate::code::Code;
use crate::diag::{Severity, Verdict};
use crate::inputs;
use crate::report::Report;
use crate::source::{FileId, SourceMap, Span};
use crate::yaml::YamlNode;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

/// The codes about suppressions themselves: a directive cannot hide them.
const OWN_CODES: [Code; 3] = [Code::TW020, Code::TW021, Code::TW022];

/// What `--add-noqa` would change: the files' new texts and what stays unsuppressed.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// One entry per file with something to suppress, in path order.
    pub files: Vec<FileEdit>,
    /// Findings that no directive can reach, in report order.
    pub unsuppressible: Vec<Unsuppressible>,
}

/// The directives added to one file.
#[derive(Debug, Clone)]
pub struct FileEdit {
    /// The file as the report knows it (its first registration, when read for several nodes).
    pub file: FileId,
    pub path: String,
    /// The text with the directives added.
    pub text: String,
    /// How many directive lines were added.
    pub directives: usize,
    /// How many findings they suppress.
    pub findings: usize,
}

/// A finding left as it is, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsuppressible {
    pub rule: String,
    pub node: Option<String>,
    pub key: Option<String>,
    /// `path:line` when the finding has a place.
    pub place: Option<String>,
    pub why: String,
}

/// One finding with a place in a file.
struct Finding {
    rule: String,
    node: Option<String>,
    key: Option<String>,
    span: Option<Span>,
    /// Where a finding without a place comes from (a default, a live value, a topology).
    unplaced: &'static str,
}

fn refuse(f: &Finding, place: Option<String>, why: String, out: &mut Baseline) {
    out.unsuppressible.push(Unsuppressible {
        rule: f.rule.clone(),
        node: f.node.clone(),
        key: f.key.clone(),
        place,
        why,
    })
}

/// The directive line for `rules`, without its line ending.
pub fn directive(rules: &BTreeSet<String>, reason: &str) -> String {
    let ids: Vec<&str> = rules.iter().map(String::as_str).collect();
    format!("# twlint: disable={} -- {reason}", ids.join(","))
}

/// The byte range of the line holding `offset`, without its line ending.
fn line_of(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let end = if text[start..end].ends_with('\r') {
        end - 1
    } else {
        end
    };
    (start, end)
}

/// The reader twlint reads `path` with when its text is `text` (the file's name first, as
/// when a topology or a folder names it).
fn reader_of(path: &str, text: &str) -> &'static inputs::Reader {
    inputs::reader_by_name(Path::new(path)).unwrap_or_else(|| inputs::reader_for(text))
}

/// What a reader finds in a text, without places: each assignment's key, value, `-` and glob
/// flags, and the codes of the problems.
type Meaning = (Vec<(String, String, bool, bool)>, Vec<String>);

/// The rules to disable above each line of a file (by the line's start), with the indexes of
/// the findings they suppress.
type Lines = BTreeMap<usize, (BTreeSet<String>, Vec<usize>)>;

/// What a reader finds in a text, without places: the assignments in order and the codes of
/// the problems. Adding comment lines must leave it as it was.
fn meaning(reader: &inputs::Reader, text: &str) -> Meaning {
    let parsed = (reader.read)(FileId(0), text);
    let assignments = parsed
        .assignments
        .iter()
        .map(|a| {
            (
                a.key().to_string(),
                a.value().to_string(),
                a.ignore_failure(),
                a.glob(),
            )
        })
        .collect();
    let mut codes: Vec<String> = parsed.diagnostics.iter().map(|d| d.code.clone()).collect();
    codes.sort();
    (assignments, codes)
}

/// The directives that suppress every unsuppressed finding of `report` (verdicts other than
/// safe, diagnostics other than notes), each with `reason`. `topology` is the path of the run's
/// topology, whose nodes take an `ignore:` entry for the findings no line directive reaches.
pub fn baseline(
    report: &Report,
    sources: &SourceMap,
    reason: &str,
    topology: Option<&str>,
) -> Baseline {
    let mut findings = Vec::new();
    for v in &report.verdicts {
        let Some(rule) = &v.rule else { continue };
        if v.verdict == Verdict::Safe || v.suppressed.is_some() {
            continue;
        }
        findings.push(Finding {
            rule: rule.to_string(),
            node: Some(v.node.to_string()),
            key: Some(v.key.to_string()),
            span: v.span,
            unplaced: match v.source {
                crate::config::SourceKindOut::Live => "the value was read from the host",
                crate::config::SourceKindOut::Default => "the value is the kernel's default",
                _ => "the finding has no place in a file",
            },
        });
    }
    for d in &report.diagnostics {
        if d.severity == Severity::Info {
            continue;
        }
        findings.push(Finding {
            rule: d.code.clone(),
            node: d.node.clone(),
            key: d.key.clone(),
            span: d.primary.as_ref().map(|l| l.span),
            unplaced: "the finding has no place in a file",
        });
    }

    // The files a node's values were read from: the only files a directive is read in.
    let sysctl_paths: HashSet<&str> = report
        .nodes
        .iter()
        .flat_map(|n| n.sources.iter().map(String::as_str))
        .collect();
    // Dumps, known by their values (a dump's registered text keeps only the lines judged, so
    // its reader may not recognise that text as one).
    let printed: HashSet<&str> = report
        .verdicts
        .iter()
        .filter(|v| v.source.is_printed())
        .filter_map(|v| v.span)
        .map(|s| sources.get(s.file).path.as_str())
        .collect();
    let mut out = Baseline::default();
    // Per path: its first registration, and per target line start the rules to disable there
    // with the findings' indexes.
    let mut targets: BTreeMap<String, (FileId, Lines)> = BTreeMap::new();
    // Findings no line directive reaches, with the place and why, for the topology's nodes.
    let mut fallback: Vec<(usize, Option<String>, String)> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        if OWN_CODES.iter().any(|c| f.rule == *c) {
            let place = f.span.map(|s| {
                let l = sources.location(s);
                format!("{}:{}", l.path, l.line)
            });
            refuse(
                f,
                place,
                "a problem of a suppression itself: correct or remove the directive".into(),
                &mut out,
            );
            continue;
        }
        let Some(span) = f.span else {
            fallback.push((i, None, f.unplaced.to_string()));
            continue;
        };
        let file = sources.get(span.file);
        let loc = sources.location(span);
        let place = format!("{}:{}", loc.path, loc.line);
        if !sysctl_paths.contains(file.path.as_str()) {
            let why = format!(
                "{} is not a file the nodes' values are read from",
                file.path
            );
            fallback.push((i, Some(place), why));
            continue;
        }
        if printed.contains(file.path.as_str())
            || reader_of(&file.path, &file.text).kind.is_printed()
        {
            let why = format!(
                "{} is a dump the kernel printed, not a file to edit",
                file.path
            );
            fallback.push((i, Some(place), why));
            continue;
        }
        let (start, end) = line_of(&file.text, span.from());
        let line = file.text[start..end].trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            fallback.push((
                i,
                Some(place),
                "the finding is on a comment or blank line".into(),
            ));
            continue;
        }
        let entry = targets
            .entry(file.path.clone())
            .or_insert_with(|| (span.file, BTreeMap::new()));
        let (rules, idx) = entry.1.entry(start).or_default();
        rules.insert(f.rule.clone());
        idx.push(i);
    }

    for (path, (file, lines)) in targets {
        let old = &sources.get(file).text;
        // The comments must change nothing twlint reads: same reader, same assignments. When
        // all of them together do, each line is tried alone and only those that keep the
        // meaning are written (a shell command continued with `\` takes no comment inside).
        let reader = reader_of(&path, old);
        let before = meaning(reader, old);
        let keeps = |text: &str| {
            std::ptr::eq(reader, reader_of(&path, text)) && meaning(reader, text) == before
        };
        let all: Vec<usize> = lines.keys().copied().collect();
        let mut kept = all.clone();
        let mut text = with_directives(old, &lines, &kept, reason);
        if !keeps(&text) {
            kept.retain(|&at| keeps(&with_directives(old, &lines, &[at], reason)));
            text = with_directives(old, &lines, &kept, reason);
            if !keeps(&text) {
                kept.clear();
            }
        }
        for at in all.iter().filter(|at| !kept.contains(at)) {
            for &i in &lines[at].1 {
                let loc = findings[i].span.map(|s| {
                    let l = sources.location(s);
                    format!("{}:{}", l.path, l.line)
                });
                let why = format!(
                    "a comment line there would change what {path} says (a continued line?)"
                );
                fallback.push((i, loc, why));
            }
        }
        if kept.is_empty() {
            continue;
        }
        out.files.push(FileEdit {
            file,
            path,
            text,
            directives: kept.len(),
            findings: kept.iter().map(|at| lines[at].1.len()).sum(),
        });
    }

    // The rest: an `ignore:` entry on the finding's node in the topology, where there is one.
    let topo_file = topology.and_then(|t| sources.files().find(|(_, f)| f.path == t));
    let doc = topo_file.and_then(|(id, f)| crate::yaml::parse(id, &f.text).ok());
    let mut by_node: BTreeMap<&str, (BTreeSet<String>, usize)> = BTreeMap::new();
    let mut seen = HashSet::new();
    for (i, place, why) in fallback {
        let f = &findings[i];
        let node = f.node.as_deref().filter(|n| {
            doc.as_ref()
                .is_some_and(|d| node_mapping(&d.root, n).is_some())
        });
        match node {
            Some(n) => {
                let e = by_node.entry(n).or_default();
                e.0.insert(f.rule.clone());
                e.1 += 1;
            }
            // One line per rule, node and place: a default judged on every hop is one here.
            None => {
                if seen.insert((f.rule.clone(), f.node.clone(), f.key.clone(), place.clone())) {
                    refuse(f, place, why, &mut out);
                }
            }
        }
    }
    if let (Some((id, file)), Some(doc), false) = (topo_file, doc, by_node.is_empty()) {
        match ignore_entries(&file.text, &doc.root, &by_node, reason, id) {
            Ok(text) => out.files.push(FileEdit {
                file: id,
                path: file.path.clone(),
                text,
                directives: by_node.values().map(|(r, _)| r.len()).sum(),
                findings: by_node.values().map(|(_, n)| n).sum(),
            }),
            Err(why) => {
                for (node, (rules, _)) in &by_node {
                    for rule in rules {
                        out.unsuppressible.push(Unsuppressible {
                            rule: rule.clone(),
                            node: Some(node.to_string()),
                            key: None,
                            place: None,
                            why: why.clone(),
                        });
                    }
                }
            }
        }
        out.files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    out
}

/// `old` with a directive above each line of `lines` that starts at one of `at` (in order),
/// indented and ended as that line is.
fn with_directives(old: &str, lines: &Lines, at: &[usize], reason: &str) -> String {
    let mut text = String::with_capacity(old.len() + at.len() * 64);
    let mut done = 0;
    for start in at {
        let (_, end) = line_of(old, *start);
        let line = &old[*start..end];
        let indent_len = line.len() - line.trim_start().len();
        let eol = if old[end..].starts_with("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        text.push_str(&old[done..*start]);
        text.push_str(&old[*start..*start + indent_len]);
        text.push_str(&directive(&lines[start].0, reason));
        text.push_str(eol);
        done = *start;
    }
    text.push_str(&old[done..]);
    text
}

/// The mapping of the topology node named `name`.
fn node_mapping<'a>(root: &'a YamlNode, name: &str) -> Option<&'a YamlNode> {
    let YamlNode::Mapping { entries, .. } = root else {
        return None;
    };
    let (_, YamlNode::Sequence { items, .. }) = entries.iter().find(|(k, _)| k.value == "nodes")?
    else {
        return None;
    };
    items.iter().find(|n| match n {
        YamlNode::Mapping { entries, .. } => entries.iter().any(|(k, v)| {
            k.value == "name" && matches!(v, YamlNode::Scalar { value, .. } if value.value == name)
        }),
        _ => false,
    })
}

/// One `ignore:` entry in flow style.
fn ignore_entry(rule: &str, reason: &str) -> String {
    let reason = reason.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{{rule: {rule}, reason: \"{reason}\"}}")
}

/// The topology's text with `ignore:` entries for `rules` on each node: appended to the node's
/// `ignore:` list when it has one, else a new `ignore:` key after the node's `name`. The new text
/// is parsed again, and must give every node the entries asked for and keep the others' keys.
fn ignore_entries(
    text: &str,
    root: &YamlNode,
    by_node: &BTreeMap<&str, (BTreeSet<String>, usize)>,
    reason: &str,
    file: FileId,
) -> Result<String, String> {
    let cannot = |node: &str, what: &str| {
        Err(format!(
            "the node {node} of the topology {what}; add `ignore:` entries to it by hand"
        ))
    };
    // (offset, text to insert there), applied from the end.
    let mut inserts: Vec<(usize, String)> = Vec::new();
    for (node, (rules, _)) in by_node {
        let Some(YamlNode::Mapping { entries, span }) = node_mapping(root, node) else {
            return cannot(node, "is not a mapping");
        };
        let flow = text[span.from()..].starts_with('{');
        let entries_text: Vec<String> = rules.iter().map(|r| ignore_entry(r, reason)).collect();
        match entries.iter().find(|(k, _)| k.value == "ignore") {
            Some((_, YamlNode::Sequence { items, span }))
                if text[span.from()..].starts_with('[') =>
            {
                let Some(close) = text[..span.to()].rfind(']').filter(|&c| c >= span.from()) else {
                    return cannot(node, "has an `ignore:` list whose end was not found");
                };
                let sep = if items.is_empty() { "" } else { ", " };
                inserts.push((close, format!("{sep}{}", entries_text.join(", "))));
            }
            Some((_, YamlNode::Sequence { items, .. })) if !items.is_empty() => {
                let first = items[0].span().from();
                let (first_line, _) = line_of(text, first);
                let dash = &text[first_line..first];
                let Some(dash_at) = dash.find('-').filter(|&d| dash[..d].trim().is_empty()) else {
                    return cannot(
                        node,
                        "has an `ignore:` list in a shape twlint does not extend",
                    );
                };
                let indent = &dash[..dash_at];
                let last_end = items[items.len() - 1].span().to();
                let (_, end) = line_of(text, last_end.saturating_sub(1).max(first));
                let eol = if text[end..].starts_with("\r\n") {
                    "\r\n"
                } else {
                    "\n"
                };
                let added: String = entries_text
                    .iter()
                    .map(|e| format!("{eol}{indent}- {e}"))
                    .collect();
                inserts.push((end, added));
            }
            Some(_) => return cannot(node, "has an `ignore:` key that is not a list"),
            None if flow => {
                let Some(close) = text[..span.to()].rfind('}').filter(|&c| c > span.from()) else {
                    return cannot(node, "is a mapping whose end was not found");
                };
                inserts.push((close, format!(", ignore: [{}]", entries_text.join(", "))));
            }
            None => {
                let Some((name_key, name_value)) = entries.iter().find(|(k, _)| k.value == "name")
                else {
                    return cannot(node, "has no name");
                };
                let (line_start, _) = line_of(text, name_key.span.from());
                let column = text[line_start..name_key.span.from()].chars().count();
                let indent = " ".repeat(column);
                let (_, end) = line_of(text, name_value.span().to().saturating_sub(1));
                if end < name_value.span().to() {
                    return cannot(node, "has a name over several lines");
                }
                let eol = if text[end..].starts_with("\r\n") {
                    "\r\n"
                } else {
                    "\n"
                };
                let mut added = format!("{eol}{indent}ignore:");
                for e in &entries_text {
                    added.push_str(&format!("{eol}{indent}  - {e}"));
                }
                inserts.push((end, added));
            }
        }
    }
    inserts.sort_by_key(|(at, _)| *at);
    let mut new = String::with_capacity(text.len() + inserts.len() * 80);
    let mut at = 0;
    for (offset, added) in &inserts {
        new.push_str(&text[at..*offset]);
        new.push_str(added);
        at = *offset;
    }
    new.push_str(&text[at..]);
    // Read back: every node keeps its keys, and those baselined list the rules asked for.
    let check = crate::yaml::parse(file, &new)
        .map_err(|_| "adding `ignore:` entries would break the topology's YAML".to_string())?;
    for (node, (rules, _)) in by_node {
        let before = node_mapping(root, node);
        let after = node_mapping(&check.root, node);
        let keys = |n: Option<&YamlNode>| match n {
            Some(YamlNode::Mapping { entries, .. }) => entries
                .iter()
                .map(|(k, _)| k.value.clone())
                .filter(|k| k != "ignore")
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        let ignored: BTreeSet<String> = match after {
            Some(YamlNode::Mapping { entries, .. }) => entries
                .iter()
                .filter(|(k, _)| k.value == "ignore")
                .flat_map(|(_, v)| match v {
                    YamlNode::Sequence { items, .. } => items.iter().collect(),
                    _ => Vec::new(),
                })
                .filter_map(|item| match item {
                    YamlNode::Mapping { entries, .. } => {
                        entries
                            .iter()
                            .find_map(|(k, v)| match (k.value.as_str(), v) {
                                ("rule", YamlNode::Scalar { value, .. }) => {
                                    Some(value.value.clone())
                                }
                                _ => None,
                            })
                    }
                    _ => None,
                })
                .collect(),
            _ => BTreeSet::new(),
        };
        if keys(before) != keys(after) || !rules.is_subset(&ignored) {
            return cannot(node, "could not be given `ignore:` entries safely");
        }
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directive_lists_its_rules_in_order() {
        let rules: BTreeSet<String> = ["TW101", "TW006"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            directive(&rules, "baseline 2026-01-02"),
            "# twlint: disable=TW006,TW101 -- baseline 2026-01-02"
        );
        let parsed = crate::suppress::parse_directive(
            FileId(0),
            &directive(&rules, "x"),
            0,
            directive(&rules, "x").len(),
        );
        assert!(matches!(parsed, Some(Ok(d)) if d.rules.len() == 2 && !d.file_wide));
    }

    #[test]
    fn lines_are_found_without_their_ending() {
        let text = "a = 1\r\nb = 2\nc";
        assert_eq!(line_of(text, 2), (0, 5));
        assert_eq!(line_of(text, 8), (7, 12));
        assert_eq!(line_of(text, 13), (13, 14));
    }
}
