//! One line per diagnostic in the compilers' format, `file:line:col: severity: message [TW001]`,
//! which editors (Vim's quickfix, Emacs' compilation mode, VS Code problem matchers) jump to.
//! Related places and the fix follow as `note:` lines, as GCC prints them. A path is one line
//! whatever its name holds: a line break in it would start a line of its own (in a CI log, a
//! line starting `::error::` is a workflow command).

use super::safe;
use crate::diag::Severity;
use crate::report::Report;
use crate::source::SourceMap;
use std::io::{self, Write};

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Messages are one line in this format: line breaks inside them become spaces.
fn one_line(s: &str) -> String {
    s.split(['\r', '\n'])
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn write(out: &mut dyn Write, sources: &SourceMap, r: &Report) -> io::Result<()> {
    super::safe::escaped(out, super::safe::Form::Text, |out| {
        write_unescaped(out, sources, r)
    })
}

fn write_unescaped(out: &mut dyn Write, sources: &SourceMap, r: &Report) -> io::Result<()> {
    for d in &r.diagnostics {
        let place = match &d.primary {
            Some(p) => {
                let loc = sources.location(p.span);
                format!("{}:{}:{}", safe::line(&loc.path), loc.line, loc.column)
            }
            None => "twlint".to_string(),
        };
        let node = d
            .node
            .as_ref()
            // A finding with no place names its node (a linted set) even outside a topology.
            .filter(|_| r.mode == crate::report::Mode::Topology || d.primary.is_none())
            .map(|n| format!("{n}: "))
            .unwrap_or_default();
        writeln!(
            out,
            "{place}: {}: {node}{} [{}]",
            severity(d.severity),
            one_line(&d.message),
            d.code
        )?;
        for l in &d.secondary {
            let loc = sources.location(l.span);
            writeln!(
                out,
                "{}:{}:{}: note: {}",
                safe::line(&loc.path),
                loc.line,
                loc.column,
                one_line(&l.message)
            )?;
        }
        if let Some(h) = &d.help {
            writeln!(out, "{place}: note: help: {}", one_line(h))?;
        }
    }
    // A path that could not be read has no line: `path: error: ...`, which editors still open.
    for u in &r.unread {
        writeln!(out, "{}: error: {}", u.path, one_line(&u.error))?;
    }
    Ok(())
}
