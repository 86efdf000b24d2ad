//! reviewdog's Diagnostic Format (rdjson): one JSON object with the source (`twlint`), and one
//! diagnostic per open finding with its message, location (path and range, 1-based lines and
//! columns in characters, the end exclusive), severity (`ERROR`, `WARNING`, `INFO`), the rule
//! as `code` with its documentation link, and related places. `reviewdog -f=rdjson` posts them
//! as review comments on the pull request's lines.

use crate::diag::Severity;
use crate::report::Report;
use crate::rules::RuleSet;
use crate::source::{SourceMap, Span};
use serde_json::{json, Value};
use std::io::{self, Write};

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "ERROR",
        Severity::Warning => "WARNING",
        Severity::Info => "INFO",
    }
}

fn location(sources: &SourceMap, span: Span) -> Value {
    let f = sources.get(span.file);
    let (line, column) = f.line_col(span.from());
    let (end_line, end_column) = f.line_col(span.to().max(span.from()));
    json!({
        "path": f.path,
        "range": {
            "start": {"line": line, "column": column},
            "end": {"line": end_line, "column": end_column.max(if end_line == line { column + 1 } else { 1 })},
        },
    })
}

/// Writes the document; every string passes `super::safe`, as in the other JSON formats.
pub fn write(
    out: &mut dyn Write,
    sources: &SourceMap,
    rules: &RuleSet,
    r: &Report,
) -> io::Result<()> {
    super::safe::escaped(out, super::safe::Form::Json, |out| {
        write_unescaped(out, sources, rules, r)
    })
}

fn write_unescaped(
    out: &mut dyn Write,
    sources: &SourceMap,
    rules: &RuleSet,
    r: &Report,
) -> io::Result<()> {
    let mut diagnostics = Vec::new();
    for d in &r.diagnostics {
        let mut message = d.message.clone();
        if let Some(n) = &d.node {
            message = format!("{n}: {message}");
        }
        if let Some(h) = &d.help {
            message.push_str(&format!("\nhelp: {h}"));
        }
        for n in &d.notes {
            message.push_str(&format!("\nnote: {n}"));
        }
        let mut diag = json!({
            "message": message,
            "severity": severity(d.severity),
            "code": {"value": d.code},
        });
        if let Some(url) = rules.get(&d.code).and_then(super::sarif::help_uri) {
            diag["code"]["url"] = json!(url);
        }
        if let Some(p) = d.primary.as_ref().or(d.secondary.first()) {
            diag["location"] = location(sources, p.span);
        } else {
            // rdjson needs a path: a finding with no place is about its node.
            diag["location"] = json!({"path": d.node.as_deref().unwrap_or("twlint")});
        }
        if !d.secondary.is_empty() {
            diag["related_locations"] = d
                .secondary
                .iter()
                .map(|l| json!({"message": l.message, "location": location(sources, l.span)}))
                .collect();
        }
        diagnostics.push(diag);
    }
    for u in &r.unread {
        diagnostics.push(json!({
            "message": u.error,
            "severity": "ERROR",
            "location": {"path": u.path},
        }));
    }
    let worst = r
        .diagnostics
        .iter()
        .map(|d| d.severity)
        .max()
        .map_or("INFO", severity);
    let doc = json!({
        "source": {"name": "twlint", "url": super::sarif::REPOSITORY_URL},
        "severity": if r.unread.is_empty() { worst } else { "ERROR" },
        "diagnostics": diagnostics,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
