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
//! This module owns what a suppression is (the records a report carries and a topology node
//! declares) and the directive syntax; `crate::judge` applies them to a report once the rules
//! have run, since what a suppression may name is the rule catalog.
//!
//! Both comment forms start with `#` or `;`, so procps and systemd-sysctl skip them. A
//! suppressed diagnostic moves from `Report::diagnostics` to `Report::suppressed`; a suppressed
//! verdict stays in the matrix (it is still twlint's judgement of the value, and the JSON
//! contract promises one entry per key and endpoint) but carries the suppression, and no longer
//! counts in the summary or towards the exit code. A suppression needs a reason after ` -- `;
//! one without, or in any other malformed shape, is not applied and is itself reported (TW020),
//! so a finding never disappears silently. Unknown rule ids are TW021 (with a did-you-mean),
//! suppressions that hide nothing TW022.

use crate::code::Code;
use crate::diag::{did_you_mean, shorten, Diagnostic};
use crate::source::{FileId, Span, Spanned};

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
            Code::TW020,
            format!(
                "malformed twlint directive: `{}` is not `disable=` or `disable-file=`",
                shorten(&word, 40)
            ),
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
            Code::TW020,
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
                Code::TW020,
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
