//! Applying suppressions to a report: the sysctl files' `# twlint: disable` directives and the
//! topology nodes' `ignore:` entries (what they are and how they are written is
//! `crate::suppress`). Their rule ids are checked against the catalog (TW021), and a
//! suppression that hides nothing is reported (TW022).

use crate::code::Code;
use super::diagnostics::sort_by_place;
use crate::diag::{did_you_mean, Diagnostic};
use crate::report::Report;
use crate::rules::RuleSet;
use crate::source::{FileId, SourceMap, Span, Spanned};
use crate::suppress::{parse_directive, Kind, Suppression};
use std::collections::HashSet;

/// The codes suppressions emit; they cannot be suppressed by the directives they are about.
const OWN_CODES: [Code; 3] = [Code::TW020, Code::TW021, Code::TW022];

/// One rule id of one directive, with what it applies to.
struct Entry {
    rule: String,
    suppression: Suppression,
    scope: Scope,
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
                span.is_some_and(|s| s.file == *file && s.start >= *start && s.start <= *end)
            }
            Scope::File(file) => span.is_some_and(|s| s.file == *file),
            Scope::Node(name) => node == Some(name.as_str()),
        }
    }
}

/// Checks a rule id of a directive or entry against the catalog; returns the id it names.
fn resolve_rule(
    rule: &Spanned<String>,
    rules: &RuleSet,
    diags: &mut Vec<Diagnostic>,
) -> Option<String> {
    if let Some(r) = rules.get(&rule.value) {
        return Some(r.id.clone());
    }
    let all = rules
        .rules
        .iter()
        .flat_map(|r| [r.id.as_str(), r.name.as_str()]);
    let help = match did_you_mean(&rule.value, all) {
        Some(s) => format!("did you mean `{s}`?"),
        None => "name a rule of `twlint rules` by id (TW101) or name".to_string(),
    };
    diags.push(
        Diagnostic::warning(
            Code::TW021,
            format!("unknown rule `{}` in a suppression", rule.value),
        )
        .at(rule.span, "no such rule")
        .with_help(help),
    );
    None
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
                    for r in &dir.rules {
                        let Some(id) = resolve_rule(r, rules, diags) else {
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
                            used: false,
                        };
                        if dir.file_wide {
                            entries.push(entry);
                        } else {
                            pending.push(entry);
                        }
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
        if let Some(id) = resolve_rule(&ig.rule, rules, &mut diags) {
            entries.push(Entry {
                rule: id,
                suppression: Suppression {
                    kind: Kind::Topology,
                    reason: ig.reason.value.clone(),
                    span: ig.rule.span,
                },
                scope: Scope::Node(ig.node.clone()),
                used: false,
            });
        }
    }

    for v in &mut report.verdicts {
        let Some(rule) = &v.rule else { continue };
        if let Some(e) = entries
            .iter_mut()
            .find(|e| &e.rule == rule && e.covers_place(v.span, Some(&v.node)))
        {
            e.used = true;
            v.suppressed = Some(e.suppression.clone());
        }
    }
    let mut kept = Vec::new();
    for d in std::mem::take(&mut report.diagnostics) {
        let span = d.primary.as_ref().map(|l| l.span);
        match entries
            .iter_mut()
            .find(|e| e.rule == d.code && e.covers_place(span, d.node.as_deref()))
        {
            Some(e) if !OWN_CODES.iter().any(|c| d.code == *c) => {
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
    for e in entries.iter().filter(|e| !e.used) {
        let key = place(e);
        if used.contains(&key) || !reported.insert(key) {
            continue;
        }
        let (what, help) = match e.suppression.kind {
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
        diags.push(
            Diagnostic::warning(
                Code::TW022,
                format!("suppression of {} matches no finding {what}", e.rule),
            )
            .at(e.suppression.span, "suppresses nothing")
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
}
