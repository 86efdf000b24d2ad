//! JUnit XML, which most CI systems (GitLab, Jenkins, Azure DevOps, CircleCI) show as a test
//! report: one test suite `twlint`, one test case per open diagnostic (named by rule and place,
//! failed with its severity as the type, the message, help and notes as the text), and one
//! passing case `twlint` when there are none, so an empty report still reads as a run. A path
//! that could not be read is an `<error>` case.

use crate::report::Report;
use crate::source::SourceMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Text as XML character data or an attribute value; characters XML 1.0 cannot carry at all
/// (control characters other than tab and line breaks) become U+FFFD.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Writes the report; what the XML escaping leaves (C1 and bidirectional controls) passes
/// `super::safe` as text.
pub fn write(out: &mut dyn Write, sources: &SourceMap, r: &Report) -> io::Result<()> {
    super::safe::escaped(out, super::safe::Form::Text, |out| {
        write_unescaped(out, sources, r)
    })
}

fn write_unescaped(out: &mut dyn Write, sources: &SourceMap, r: &Report) -> io::Result<()> {
    let mut cases = String::new();
    let mut failures = 0;
    for d in &r.diagnostics {
        // Every field is one line (a path may hold a line break, and a CI log line starting
        // `::` is a workflow command): the text's lines are twlint's own.
        let one = |s: &str| super::safe::line(s).into_owned();
        let place = match &d.primary {
            Some(p) => {
                let loc = sources.location(p.span);
                format!("{}:{}:{}", one(&loc.path), loc.line, loc.column)
            }
            None => one(d.node.as_deref().unwrap_or("twlint")),
        };
        let node = d
            .node
            .as_ref()
            .map(|n| format!("{}: ", one(n)))
            .unwrap_or_default();
        let mut body = format!("{place}: {node}{}", one(&d.message));
        if let Some(h) = &d.help {
            let _ = write!(body, "\nhelp: {}", one(h));
        }
        for n in &d.notes {
            let _ = write!(body, "\nnote: {}", one(n));
        }
        let severity = format!("{:?}", d.severity).to_lowercase();
        failures += 1;
        let _ = writeln!(
            cases,
            "    <testcase classname=\"{}\" name=\"{} {}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
            xml(&place),
            xml(&d.code),
            xml(&place),
            severity,
            xml(&format!("{node}{}", one(&d.message))),
            xml(&body)
        );
    }
    let errors = r.unread.len();
    for u in &r.unread {
        let _ = writeln!(
            cases,
            "    <testcase classname=\"{}\" name=\"read {}\">\n      <error type=\"unread\" message=\"{}\"/>\n    </testcase>",
            xml(&super::safe::line(&u.path)),
            xml(&super::safe::line(&u.path)),
            xml(&super::safe::line(&u.error))
        );
    }
    let mut tests = failures + errors;
    if tests == 0 {
        cases.push_str("    <testcase classname=\"twlint\" name=\"twlint\"/>\n");
        tests = 1;
    }
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"twlint\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">\n  <testsuite name=\"twlint\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">\n{cases}  </testsuite>\n</testsuites>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(
            xml("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(xml("esc\u{1b}[2J\tok\n"), "esc\u{fffd}[2J\tok\n");
    }
}
