//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per diagnostic,
//! so the runner turns each into an annotation on the file and line of the pull request.
//!
//! Escaping follows the runner's rules (actions/toolkit `command.ts`): in the message `%`, `\r`
//! and `\n` become `%25`, `%0D`, `%0A`; in properties `:` and `,` are escaped too (`%3A`,
//! `%2C`), since they separate properties. Paths are written as twlint was given them, so run
//! twlint from the repository root with relative paths for the annotations to land.

use crate::diag::{Diagnostic, Severity};
use crate::report::Report;
use crate::rules::RuleSet;
use crate::source::SourceMap;
use std::io::{self, Write};

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

fn line(sources: &SourceMap, rules: &RuleSet, topology: bool, d: &Diagnostic) -> String {
    let mut props = Vec::new();
    if let Some(p) = &d.primary {
        let file = sources.get(p.span.file);
        let (l, c) = file.line_col(p.span.from());
        let (el, ec) = file.line_col(p.span.to().max(p.span.from()));
        props.push(format!("file={}", escape_property(&file.path)));
        props.push(format!("line={l}"));
        if el != l {
            props.push(format!("endLine={el}"));
        } else {
            // Columns only make sense on one line; the end column is the one after the span.
            props.push(format!("col={c}"));
            props.push(format!("endColumn={}", ec.max(c + 1)));
        }
    }
    let title = match rules.get(&d.code) {
        Some(r) => format!("{} {}", d.code, r.name),
        None => d.code.clone(),
    };
    props.push(format!("title={}", escape_property(&title)));
    let mut msg = d.message.clone();
    // With a topology the node says which host; without one it is the linted path, already
    // in the annotation's file.
    if let Some(n) = d.node.as_ref().filter(|_| topology || d.primary.is_none()) {
        msg = format!("{n}: {msg}");
    }
    if let Some(h) = &d.help {
        msg.push_str(&format!("\nhelp: {h}"));
    }
    for n in &d.notes {
        msg.push_str(&format!("\nnote: {n}"));
    }
    for l in &d.secondary {
        let loc = sources.location(l.span);
        msg.push_str(&format!(
            "\n{}:{}:{}: {}",
            loc.path, loc.line, loc.column, l.message
        ));
    }
    format!(
        "::{} {}::{}",
        command(d.severity),
        props.join(","),
        escape_data(&msg)
    )
}

pub fn write(
    out: &mut dyn Write,
    sources: &SourceMap,
    rules: &RuleSet,
    r: &Report,
) -> io::Result<()> {
    super::safe::escaped(out, super::safe::Form::Text, |out| {
        write_unescaped(out, sources, rules, r)
    })
}

fn write_unescaped(
    out: &mut dyn Write,
    sources: &SourceMap,
    rules: &RuleSet,
    r: &Report,
) -> io::Result<()> {
    let topology = r.mode == crate::report::Mode::Topology;
    for d in &r.diagnostics {
        writeln!(out, "{}", line(sources, rules, topology, d))?;
    }
    // A path that could not be read has no line to point at: the annotation is on the file.
    for u in &r.unread {
        writeln!(
            out,
            "::error file={},title=not read::{}",
            escape_property(&u.path),
            escape_data(&u.error)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_runner() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
