//! GitLab Code Quality: the JSON array GitLab's merge-request widget reads
//! (`artifacts:reports:codequality`), one issue per open diagnostic: `description`,
//! `check_name` (the rule id), `fingerprint` (unique per issue, stable while lines move:
//! [`super::sarif::fingerprint`]), `severity` (`info`, `minor`, `major`) and `location` with a
//! path and the first line. GitLab needs a path for every issue: a finding with no place of its
//! own is put at its first related place, else at the path of the node it is about.

use super::sarif::fingerprint;
use crate::diag::Severity;
use crate::report::Report;
use crate::source::SourceMap;
use serde::Serialize;
use std::collections::HashSet;
use std::io::{self, Write};

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Info => "info",
    }
}

/// Writes the issues; every string passes `super::safe`, as in the other JSON formats.
pub fn write(out: &mut dyn Write, sources: &SourceMap, r: &Report) -> io::Result<()> {
    super::safe::escaped(out, super::safe::Form::Json, |out| {
        write_unescaped(out, sources, r)
    })
}

fn write_unescaped(out: &mut dyn Write, sources: &SourceMap, r: &Report) -> io::Result<()> {
    let mut seen = HashSet::new();
    let mut issues = Vec::new();
    for d in &r.diagnostics {
        let location = match d.primary.as_ref().or(d.secondary.first()) {
            Some(p) => {
                let loc = sources.location(p.span);
                Location {
                    path: loc.path,
                    lines: Lines { begin: loc.line },
                }
            }
            None => Location {
                path: d.node.clone().unwrap_or_else(|| "twlint".into()),
                lines: Lines { begin: 1 },
            },
        };
        let mut description = d.message.clone();
        if let Some(n) = &d.node {
            description = format!("{n}: {description}");
        }
        if let Some(h) = &d.help {
            description.push_str(&format!(" (help: {h})"));
        }
        // GitLab keys issues by fingerprint: a second finding with the same one gets a suffix.
        let base = fingerprint(sources, d);
        let mut fp = base.clone();
        let mut n = 1;
        while !seen.insert(fp.clone()) {
            n += 1;
            fp = format!("{base}-{n}");
        }
        issues.push(Issue {
            description,
            check_name: &d.code,
            fingerprint: fp,
            severity: severity(d.severity),
            location,
        });
    }
    for u in &r.unread {
        issues.push(Issue {
            description: u.error.clone(),
            check_name: "unread",
            fingerprint: format!("unread-{}", u.path),
            severity: "major",
            location: Location {
                path: u.path.clone(),
                lines: Lines { begin: 1 },
            },
        });
    }
    serde_json::to_writer_pretty(&mut *out, &issues)?;
    writeln!(out)
}
