//! Suppressions: findings the user has looked at and accepted, with the reason written down.
//!
//! This module owns the three ways to suppress and what a suppression hides:
//!
//! - `# twlint: disable=TW101,TW006 -- reason` in a sysctl file, on its own comment line: hides
//!   those rules' findings on the next line that is neither blank nor a comment (sysctl files
//!   have no comments after a value, TW005, so the directive cannot sit on the line itself).
//!   Several directives may be stacked above one line.
//! - `# twlint: disable-file=TW006 -- reason` anywhere in a sysctl file: hides those rules'
//!   findings anywhere in that file.
//! - `ignore: [{rule: TW101, reason: "..."}]` on a topology node: hides those rules' findings
//!   about that node (its verdicts and the diagnostics that name it).
//!
//! Both comment forms start with `#` or `;`, so procps and systemd-sysctl skip them. A
//! suppressed diagnostic moves from `Report::diagnostics` to `Report::suppressed`; a suppressed
//! verdict stays in the matrix (it is still twlint's judgement of the value, and the JSON
//! contract promises one entry per key and endpoint) but carries the suppression, and no longer
//! counts in the summary or towards the exit code. A suppression needs a reason after ` -- `;
//! one without, or in any other malformed shape, is not applied and is itself reported (TW020),
//! so a finding never disappears silently. Unknown rule ids are TW021 (with a did-you-mean),
//! suppressions that hide nothing TW022.

use crate::diag::{did_you_mean, Diagnostic};
use crate::engine::Report;
use crate::rules::RuleSet;
use crate::source::{FileId, SourceMap, Span, Spanned};
use std::collections::HashSet;

/// Where a suppression was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `# twlint: disable=...` above one line.
    Line,
    /// `# twlint: disable-file=...`.
    File,
    /// A topology node's `ignore:` entry.
    Topology,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Line => "line",
            Kind::File => "file",
            Kind::Topology => "topology",
        }
    }
}

/// What hid a finding: shown next to it in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub kind: Kind,
    pub reason: String,
    /// The rule id as written in the directive or entry.
    pub span: Span,
}

/// A topology node's `ignore:` entry, as the topology loader validated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIgnore {
    pub node: String,
    pub rule: Spanned<String>,
    pub reason: Spanned<String>,
}

/// The codes this module emits; they cannot be suppressed by the directives they are about.
const OWN_CODES: [&str; 3] = ["TW020", "TW021", "TW022"];

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

/// A directive found in a comment, before its rule ids are checked against the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub file_wide: bool,
    /// Rule ids or names as written, with their spans.
    pub rules: Vec<Spanned<String>>,
    pub reason: Spanned<String>,
}

/// Reads one comment line (`line` is its byte range in `text`). `None` when the comment is not
/// meant for twlint; `Some(Err)` when it starts with `twlint:` but is malformed.
pub fn parse_directive(
    file: FileId,
    text: &str,
    start: usize,
    end: usize,
) -> Option<Result<Directive, Diagnostic>> {
    let line = &text[start..end];
    let body_at = line.find(|c: char| !c.is_ascii_whitespace())?;
    if !line[body_at..].starts_with(['#', ';']) {
        return None;
    }
    let after_mark = body_at + 1;
    let rest = &line[after_mark..];
    let lead = rest.len() - rest.trim_start().len();
    let tag_at = after_mark + lead;
    let rest = &line[tag_at..];
    let tail = rest.strip_prefix("twlint:")?;
    let abs = |i: usize| start + i;
    let whole = Span::new(file, abs(body_at), end);
    let form = "write `# twlint: disable=TW101 -- why this is fine here` above the line, or `# twlint: disable-file=TW101 -- why` for the whole file";
    let verb_at = tag_at + "twlint:".len() + (tail.len() - tail.trim_start().len());
    let verb_text = &line[verb_at..];
    let (file_wide, after_verb) = if let Some(r) = verb_text.strip_prefix("disable-file=") {
        (true, r)
    } else if let Some(r) = verb_text.strip_prefix("disable=") {
        (false, r)
    } else {
        let word: String = verb_text
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '=')
            .collect();
        let hint = did_you_mean(&word, ["disable", "disable-file"])
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        return Some(Err(Diagnostic::warning(
            "TW020",
            format!("malformed twlint directive: `{word}` is not `disable=` or `disable-file=`"),
        )
        .at(whole, "not applied")
        .with_help(format!("{hint}{form}"))));
    };
    let list_at = end - after_verb.len();
    let (list, reason) = match after_verb.find(" -- ") {
        Some(i) => (
            &after_verb[..i],
            Some((list_at + i + 4, &after_verb[i + 4..])),
        ),
        None => (after_verb, None),
    };
    let mut rules = Vec::new();
    let mut offset = list_at;
    for part in list.split(',') {
        let lead = part.len() - part.trim_start().len();
        let id = part.trim();
        if !id.is_empty() {
            let s = offset + lead;
            rules.push(Spanned::new(
                id.to_string(),
                Span::new(file, s, s + id.len()),
            ));
        }
        offset += part.len() + 1;
    }
    if rules.is_empty() || rules.iter().any(|r| r.value.contains(char::is_whitespace)) {
        return Some(Err(Diagnostic::warning(
            "TW020",
            "malformed twlint directive: no rule ids after `=`".to_string(),
        )
        .at(whole, "not applied")
        .with_help(format!(
            "list rule ids separated by commas, without blanks: {form}"
        ))));
    }
    let reason = match reason {
        Some((at, r)) if !r.trim().is_empty() => {
            let lead = r.len() - r.trim_start().len();
            let t = r.trim();
            Spanned::new(t.to_string(), Span::new(file, at + lead, at + lead + t.len()))
        }
        _ => {
            return Some(Err(Diagnostic::warning(
                "TW020",
                "twlint directive without a reason".to_string(),
            )
            .at(whole, "not applied: no ` -- reason`")
            .with_help(
                "say why the finding is acceptable after ` -- `, e.g. `# twlint: disable=TW006 -- the later file wins on purpose`",
            )))
        }
    };
    Some(Ok(Directive {
        file_wide,
        rules,
        reason,
    }))
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
            "TW021",
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
            Some(e) if !OWN_CODES.contains(&d.code.as_str()) => {
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
                "TW022",
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
    crate::engine::sort_by_place(&mut report.diagnostics, sources);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Option<Result<Directive, Diagnostic>> {
        parse_directive(FileId(0), line, 0, line.len())
    }

    #[test]
    fn a_directive_has_rules_and_a_reason() {
        let d = parse("# twlint: disable=TW006, TW101 -- the later file wins")
            .unwrap()
            .unwrap();
        assert!(!d.file_wide);
        let ids: Vec<_> = d.rules.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(ids, ["TW006", "TW101"]);
        assert_eq!(d.rules[1].span.start, 25);
        assert_eq!(d.reason.value, "the later file wins");
        let d = parse(";twlint: disable-file=TW006 -- x").unwrap().unwrap();
        assert!(d.file_wide);
    }

    #[test]
    fn ordinary_comments_are_not_directives() {
        assert!(parse("# twlint checks this file").is_none());
        assert!(parse("net.ipv4.tcp_tw_reuse = 1").is_none());
        assert!(parse("# see twlint: docs").is_none());
    }

    #[test]
    fn malformed_directives_are_reported() {
        for (line, needle) in [
            ("# twlint: disable=TW006", "without a reason"),
            ("# twlint: disable=TW006 --   ", "without a reason"),
            ("# twlint: disabel=TW006 -- x", "did you mean `disable`"),
            ("# twlint: disable= -- x", "no rule ids"),
        ] {
            let d = parse(line).unwrap().unwrap_err();
            assert_eq!(d.code, "TW020");
            let text = format!("{} {}", d.message, d.help.unwrap_or_default());
            assert!(text.contains(needle), "{line}: {text}");
        }
    }
}
