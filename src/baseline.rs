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
//! file whose assignments would change (a shell line continued with `\`, a comment that changes
//! the format the file is recognised as) is left alone. The others (a kernel default, a value
//! read from the host, a topology's inline value or link, a dump printed by the kernel, a
//! suppression's own problem, TW020 to TW022) are listed as not suppressible, with why.

use crate::code::Code;
use crate::diag::{Severity, Verdict};
use crate::inputs;
use crate::report::Report;
use crate::source::{FileId, SourceMap, Span};
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

/// What a reader finds in a text, without places: the assignments in order and the codes of
/// the problems. Adding comment lines must leave it as it was.
fn meaning(reader: &inputs::Reader, text: &str) -> (Vec<(String, String, bool, bool)>, Vec<String>) {
    let parsed = (reader.read)(FileId(0), text);
    let assignments = parsed
        .assignments
        .iter()
        .map(|a| {
            (
                a.key.value.clone(),
                a.value.value.clone(),
                a.ignore_failure,
                a.glob,
            )
        })
        .collect();
    let mut codes: Vec<String> = parsed.diagnostics.iter().map(|d| d.code.clone()).collect();
    codes.sort();
    (assignments, codes)
}

/// The directives that suppress every unsuppressed finding of `report` (verdicts other than
/// safe, diagnostics other than notes), each with `reason`.
pub fn baseline(report: &Report, sources: &SourceMap, reason: &str) -> Baseline {
    let mut findings = Vec::new();
    for v in &report.verdicts {
        let Some(rule) = &v.rule else { continue };
        if v.verdict == Verdict::Safe || v.suppressed.is_some() {
            continue;
        }
        findings.push(Finding {
            rule: rule.clone(),
            node: Some(v.node.clone()),
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
    let mut out = Baseline::default();
    // Per path: its first registration, and per target line start the rules to disable there
    // with the findings' indexes.
    let mut targets: BTreeMap<String, (FileId, BTreeMap<usize, (BTreeSet<String>, Vec<usize>)>)> =
        BTreeMap::new();
    let mut seen = HashSet::new();
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
            // One line per rule and node: a default judged on every hop is one finding here.
            if seen.insert((f.rule.clone(), f.node.clone(), f.key.clone())) {
                refuse(f, None, f.unplaced.to_string(), &mut out);
            }
            continue;
        };
        let file = sources.get(span.file);
        let loc = sources.location(span);
        let place = format!("{}:{}", loc.path, loc.line);
        if !sysctl_paths.contains(file.path.as_str()) {
            if seen.insert((f.rule.clone(), None, Some(place.clone()))) {
                let why = format!(
                    "{} is not a file the nodes' values are read from (a topology's values and links take an `ignore:` entry on the node)",
                    file.path
                );
                refuse(f, Some(place), why, &mut out);
            }
            continue;
        }
        if reader_of(&file.path, &file.text).kind.is_printed() {
            if seen.insert((f.rule.clone(), None, Some(file.path.clone()))) {
                let why = format!("{} is a dump the kernel printed, not a file to edit", file.path);
                refuse(f, Some(place), why, &mut out);
            }
            continue;
        }
        let (start, end) = line_of(&file.text, span.start);
        let line = file.text[start..end].trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            refuse(f, Some(place), "the finding is on a comment or blank line".into(), &mut out);
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
        let mut text = String::with_capacity(old.len() + lines.len() * 64);
        let mut at = 0;
        let mut suppressed = 0;
        for (start, (rules, idx)) in &lines {
            let (_, end) = line_of(old, *start);
            let indent_len = old[*start..end].len() - old[*start..end].trim_start().len();
            let eol = if old[end..].starts_with("\r\n") {
                "\r\n"
            } else {
                "\n"
            };
            text.push_str(&old[at..*start]);
            text.push_str(&old[*start..*start + indent_len]);
            text.push_str(&directive(rules, reason));
            text.push_str(eol);
            at = *start;
            suppressed += idx.len();
        }
        text.push_str(&old[at..]);
        // The comments must change nothing twlint reads: same reader, same assignments.
        let reader = reader_of(&path, old);
        let same_reader = std::ptr::eq(reader, reader_of(&path, &text));
        if !same_reader || meaning(reader, old) != meaning(reader, &text) {
            for (_, idx) in lines.values() {
                for &i in idx {
                    let f = &findings[i];
                    let loc = f.span.map(|s| {
                        let l = sources.location(s);
                        format!("{}:{}", l.path, l.line)
                    });
                    refuse(
                        f,
                        loc,
                        format!("a comment line there would change what {path} says (a continued line?)"),
                        &mut out,
                    );
                }
            }
            continue;
        }
        out.files.push(FileEdit {
            file,
            path,
            text,
            directives: lines.len(),
            findings: suppressed,
        });
    }
    out
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
