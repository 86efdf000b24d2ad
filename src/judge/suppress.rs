//! Applying suppressions to a report: the sysctl files' `# twlint: disable` directives and the
//! topology nodes' `ignore:` entries (what they are and how they are written is
//! `crate::suppress`). Their rule ids are checked against the catalog (TW021), and a
//! suppression that hides nothing is reported (TW022).
//!
//! A directive is text from the input, so what it costs is bounded by what it is, not by what
//! it names: a directive gets at most one TW021 and one TW022, each with one label over the ids
//! concerned and a message naming the first few of them (each cut short), and both are capped
//! per rule and file like every other diagnostic. A 24 KB directive of 3,000 unknown ids, each
//! its own diagnostic quoting the whole line, printed 193 MB.

use super::diagnostics::{cap_per_rule, sort_by_place};
use crate::code::Code;
use crate::diag::{did_you_mean, shorten, Diagnostic};
use crate::report::Report;
use crate::rules::RuleSet;
use crate::source::{FileId, SourceMap, Span, Spanned};
use crate::suppress::{parse_directive, Kind, Suppression};
use std::collections::{HashMap, HashSet};

/// The codes suppressions emit; they cannot be suppressed by the directives they are about.
const OWN_CODES: [Code; 3] = [Code::TW020, Code::TW021, Code::TW022];

/// Most ids a TW021 or TW022 message names; the others are counted ("and 12 more").
const IDS_NAMED: usize = 3;

/// Longest rule id quoted in a message, in characters: an id is whatever the directive says.
const ID_CHARS: usize = 40;

/// One rule id of one directive, with what it applies to.
struct Entry {
    rule: String,
    suppression: Suppression,
    scope: Scope,
    /// Where the whole directive (or topology entry) starts: the entries of one directive are
    /// reported together.
    directive: Span,
    used: bool,
}

enum Scope {
    /// Byte range of the target line in a file.
    Line(FileId, usize, usize),
    File(FileId),
    Node(String),
}

impl Entry {
    fn covers_place(&self, span: Option<Span>, node: Option<&str>) -> bool {
        match &self.scope {
            Scope::Line(file, start, end) => {
                span.is_some_and(|s| s.file == *file && s.from() >= *start && s.from() <= *end)
            }
            Scope::File(file) => span.is_some_and(|s| s.file == *file),
            Scope::Node(name) => node == Some(name.as_str()),
        }
    }
}

/// `a`, `a, b` or `a, b, c and 4 more`: the first [`IDS_NAMED`] of `ids`, each cut short.
fn name_some<'a>(ids: impl ExactSizeIterator<Item = &'a str>, quote: bool) -> String {
    let total = ids.len();
    let named: Vec<String> = ids
        .take(IDS_NAMED)
        .map(|id| {
            let id = shorten(id, ID_CHARS);
            if quote {
                format!("`{id}`")
            } else {
                id.into_owned()
            }
        })
        .collect();
    let mut text = named.join(", ");
    if total > named.len() {
        text.push_str(&format!(" and {} more", total - named.len()));
    }
    text
}

/// The span from the first to the last of `spans` (all in one file, in order).
fn covering(spans: &[Span]) -> Span {
    let first = spans[0];
    let end = spans.iter().map(|s| s.to()).max().unwrap_or(first.to());
    Span::new(first.file, first.from(), end)
}

/// TW021 for the ids of one directive (or entry) that name no rule: one diagnostic, one label
/// over them, a did-you-mean for those named.
fn unknown_rules(unknown: &[&Spanned<String>], rules: &RuleSet) -> Diagnostic {
    let all = || {
        rules
            .rules
            .iter()
            .flat_map(|r| [r.id.as_str(), r.name.as_str()])
    };
    let hints: Vec<String> = unknown
        .iter()
        .take(IDS_NAMED)
        .filter_map(|r| did_you_mean(&r.value, all()).map(|s| (s, &r.value)))
        .map(|(s, id)| match unknown.len() {
            1 => format!("`{s}`"),
            _ => format!("`{s}` for `{}`", shorten(id, ID_CHARS)),
        })
        .collect();
    let help = match hints.is_empty() {
        false => format!("did you mean {}?", hints.join(", ")),
        true => "name a rule of `twlint rules` by id (TW101) or name".to_string(),
    };
    let (message, label) = match unknown.len() {
        1 => (
            format!(
                "unknown rule `{}` in a suppression",
                shorten(&unknown[0].value, ID_CHARS)
            ),
            "no such rule",
        ),
        _ => (
            format!(
                "unknown rules {} in a suppression",
                name_some(unknown.iter().map(|r| r.value.as_str()), true)
            ),
            "no such rules",
        ),
    };
    let spans: Vec<Span> = unknown.iter().map(|r| r.span).collect();
    Diagnostic::warning(Code::TW021, message)
        .at(covering(&spans), label)
        .with_help(help)
}

/// Collects the directives of one sysctl file.
fn scan_file(
    file: FileId,
    text: &str,
    rules: &RuleSet,
    entries: &mut Vec<Entry>,
    diags: &mut Vec<Diagnostic>,
) {
    // Every directive contains the tag; most files (every dump) have none, and a fleet run
    // scans a thousand of them.
    if memchr::memmem::find(text.as_bytes(), b"twlint:").is_none() {
        return;
    }
    // Directives waiting for the line they apply to.
    let mut pending: Vec<Entry> = Vec::new();
    let mut start = 0;
    while start <= text.len() {
        let nl = text[start..].find('\n').map(|i| start + i);
        let end_raw = nl.unwrap_or(text.len());
        let end = if text[start..end_raw].ends_with('\r') {
            end_raw - 1
        } else {
            end_raw
        };
        let line = &text[start..end];
        let trimmed = line.trim_start();
        let is_comment = trimmed.starts_with('#') || trimmed.starts_with(';');
        if is_comment {
            match parse_directive(file, text, start, end) {
                None => {}
                Some(Err(d)) => diags.push(d),
                Some(Ok(dir)) => {
                    let directive = Span::new(file, start, end);
                    let mut unknown = Vec::new();
                    for r in &dir.rules {
                        let Some(id) = rules.get(&r.value).map(|rule| rule.id.clone()) else {
                            unknown.push(r);
                            continue;
                        };
                        let suppression = Suppression {
                            kind: if dir.file_wide {
                                Kind::File
                            } else {
                                Kind::Line
                            },
                            reason: dir.reason.value.clone(),
                            span: r.span,
                        };
                        let entry = Entry {
                            rule: id,
                            suppression,
                            scope: Scope::File(file),
                            directive,
                            used: false,
                        };
                        if dir.file_wide {
                            entries.push(entry);
                        } else {
                            pending.push(entry);
                        }
                    }
                    if !unknown.is_empty() {
                        diags.push(unknown_rules(&unknown, rules));
                    }
                }
            }
        } else if !trimmed.trim().is_empty() {
            for mut e in pending.drain(..) {
                e.scope = Scope::Line(file, start, end);
                entries.push(e);
            }
        }
        match nl {
            Some(i) => start = i + 1,
            None => break,
        }
    }
    // A `disable=` with no line after it hides nothing: it is reported as unused below.
    for mut e in pending {
        e.scope = Scope::Line(file, text.len() + 1, text.len() + 1);
        entries.push(e);
    }
}

/// Applies every suppression to a report: the sysctl files' directives (unless
/// `inline_ignores` is false) and the topology's `ignore:` entries. Adds TW020 to TW022.
pub fn apply(report: &mut Report, sources: &SourceMap, rules: &RuleSet, inline_ignores: bool) {
    if !inline_ignores || report.fatal {
        return;
    }
    let mut diags = Vec::new();
    let mut entries = Vec::new();
    let sysctl_paths: HashSet<&str> = report
        .nodes
        .iter()
        .flat_map(|n| n.sources.iter().map(String::as_str))
        .collect();
    // A file read for two nodes is registered twice (two ids, one path): every copy is scanned,
    // so findings in either are covered; problems and unused entries are reported once below.
    for (id, f) in sources.files() {
        if sysctl_paths.contains(f.path.as_str()) {
            scan_file(id, &f.text, rules, &mut entries, &mut diags);
        }
    }
    for ig in &report.ignores {
        let Some(id) = rules.get(&ig.rule.value).map(|r| r.id.clone()) else {
            diags.push(unknown_rules(&[&ig.rule], rules));
            continue;
        };
        entries.push(Entry {
            rule: id,
            suppression: Suppression {
                kind: Kind::Topology,
                reason: ig.reason.value.clone(),
                span: ig.rule.span,
            },
            scope: Scope::Node(ig.node.clone()),
            directive: ig.rule.span,
            used: false,
        });
    }

    // The entries of each rule, in order: a finding is matched against its rule's entries
    // only (99,000 stacked directives made every finding walk them all).
    let mut by_rule: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        by_rule.entry(e.rule.clone()).or_default().push(i);
    }
    let first_covering = |entries: &[Entry], rule: &str, span: Option<Span>, node: Option<&str>| {
        by_rule
            .get(rule)?
            .iter()
            .copied()
            .find(|&i| entries[i].covers_place(span, node))
    };
    for v in &mut report.verdicts {
        let Some(rule) = &v.rule else { continue };
        if let Some(i) = first_covering(&entries, rule, v.span, Some(&v.node)) {
            entries[i].used = true;
            v.suppressed = Some(Box::new(entries[i].suppression.clone()));
        }
    }
    let mut kept = Vec::new();
    for d in std::mem::take(&mut report.diagnostics) {
        let span = d.primary.as_ref().map(|l| l.span);
        let found = match OWN_CODES.iter().any(|c| d.code == *c) {
            true => None,
            false => first_covering(&entries, &d.code, span, d.node.as_deref()),
        };
        match found.map(|i| &mut entries[i]) {
            Some(e) => {
                e.used = true;
                report.suppressed.push((d, e.suppression.clone()));
            }
            _ => kept.push(d),
        }
    }
    report.diagnostics = kept;
    // The same directive in every copy of a file: (path, offset, rule) identifies it.
    let place = |e: &Entry| {
        (
            sources.get(e.suppression.span.file).path.clone(),
            e.suppression.span.start,
            e.rule.clone(),
            e.suppression.kind,
        )
    };
    let used: HashSet<_> = entries.iter().filter(|e| e.used).map(place).collect();
    let mut reported = HashSet::new();
    // The unused entries of each directive, in order, directives in order of their first one.
    let mut groups: Vec<Vec<&Entry>> = Vec::new();
    let mut group_of: HashMap<(String, usize, Kind), usize> = HashMap::new();
    for e in entries.iter().filter(|e| !e.used) {
        let key = place(e);
        if used.contains(&key) || !reported.insert(key) {
            continue;
        }
        let directive = (
            sources.get(e.directive.file).path.clone(),
            e.directive.from(),
            e.suppression.kind,
        );
        let g = *group_of.entry(directive).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(e);
    }
    for group in groups {
        let (what, help) = match group[0].suppression.kind {
            Kind::Line => (
                "on the line below it",
                "remove it, or move it above the line it was meant for",
            ),
            Kind::File => ("in this file", "remove it: the rule finds nothing here"),
            Kind::Topology => (
                "on this node",
                "remove the entry: the rule finds nothing on this node",
            ),
        };
        let spans: Vec<Span> = group.iter().map(|e| e.suppression.span).collect();
        let ids = name_some(group.iter().map(|e| e.rule.as_str()), false);
        diags.push(
            Diagnostic::warning(
                Code::TW022,
                format!("suppression of {ids} matches no finding {what}"),
            )
            .at(covering(&spans), "suppresses nothing")
            .with_help(help),
        );
    }
    let mut seen = HashSet::new();
    diags.retain(|d| {
        let at = d.primary.as_ref().map(|l| {
            let loc = sources.location(l.span);
            (loc.path, loc.line, loc.column)
        });
        seen.insert((d.code.clone(), at, d.message.clone()))
    });
    report.diagnostics.extend(diags);
    sort_by_place(&mut report.diagnostics, sources);
    // Suppressions' own diagnostics are capped like every other kind (the others already are,
    // so this leaves them as they were).
    cap_per_rule(&mut report.diagnostics, &[]);
}
