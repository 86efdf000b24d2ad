//! Rule documentation: one rule in full (`twlint explain`) and the catalog as a list
//! (`twlint rules`), as text or JSON. The documentation is the rule file's own; this only lays it
//! out, with the project configuration's severity override where it sets one.

use crate::rules::{Check, Example, Header as Listed, Rule, Scope};
use crate::settings::Level;
use std::io::{self, Write};
use std::path::Path;

/// How `twlint rules` and `twlint explain` name an override.
pub fn level_note(l: Level) -> &'static str {
    match l {
        Level::Off => "off in the configuration",
        Level::Error => "counts as error in the configuration",
        Level::Warning => "counts as warning in the configuration",
        Level::Info => "counts as info in the configuration",
    }
}

fn level_word(l: Level) -> String {
    format!("{l:?}").to_lowercase()
}

fn example_text(e: &Example) -> String {
    let mut s = String::new();
    if let Some(k) = &e.kernel {
        s.push_str(&format!("(judged for kernel {k})\n"));
    }
    if let Some(t) = &e.sysctl {
        s.push_str(t);
    }
    if let Some(t) = &e.topology {
        s.push_str(t);
    }
    s
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The facts of a rule's header, shared by the text and the JSON: what kind of check it is, its
/// verdict or severity, the keys it judges, per node or hop, and its CEL condition.
pub(super) struct Header {
    pub(super) kind: &'static str,
    pub(super) level: String,
    pub(super) keys: String,
    pub(super) scope: &'static str,
    pub(super) when: String,
}

pub(super) fn header(rule: &Rule) -> Header {
    match &rule.check {
        Check::Cel(c) => Header {
            kind: "rule",
            level: c.verdict.as_str().to_string(),
            keys: c.keys.join(", "),
            scope: match c.scope {
                Scope::Node => "node",
                Scope::Hop => "hop",
            },
            when: c.when_source.trim().to_string(),
        },
        Check::Builtin { severity, verdict } => Header {
            kind: "built-in check",
            level: match verdict {
                Some(v) => format!(
                    "{} ({})",
                    format!("{severity:?}").to_lowercase(),
                    v.as_str()
                ),
                None => format!("{severity:?}").to_lowercase(),
            },
            keys: String::new(),
            scope: "",
            when: String::new(),
        },
    }
}

/// The rule's `fix` (what `twlint advise` sets), templates as written.
pub(super) fn fix_of(rule: &Rule) -> Vec<(String, String)> {
    rule.cel()
        .map(|c| c.fix.iter().map(|(k, t)| (k.clone(), t.source())).collect())
        .unwrap_or_default()
}

/// `twlint explain --format json`: one object with the header, the fix and the documentation.
pub fn explain_json(out: &mut dyn Write, rule: &Rule, level: Option<Level>) -> io::Result<()> {
    super::safe::escaped(out, super::safe::Form::Json, |out| {
        explain_json_unescaped(out, rule, level)
    })
}

fn explain_json_unescaped(
    out: &mut dyn Write,
    rule: &Rule,
    level: Option<Level>,
) -> io::Result<()> {
    let h = header(rule);
    let fix = fix_of(rule);
    let v = serde_json::json!({
        "id": rule.id, "name": rule.name, "summary": rule.summary, "kind": h.kind, "level": h.level,
        "keys": h.keys, "scope": h.scope, "when": h.when,
        "override": level.map(level_word),
        "fix": fix.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
        "docs": {
            "what": rule.docs.what, "why": rule.docs.why,
            "example": example_text(&rule.docs.example), "use_instead": example_text(&rule.docs.use_instead),
            "kernel": rule.docs.kernel, "references": rule.docs.references,
        },
        "path": rule.path,
    });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)
}

/// `twlint explain`: the header, the override (with the configuration file that sets it), then
/// one Markdown-style section per part of the documentation.
pub fn explain_text(
    out: &mut dyn Write,
    rule: &Rule,
    level: Option<Level>,
    config: Option<&Path>,
) -> io::Result<()> {
    super::safe::escaped(out, super::safe::Form::Text, |out| {
        explain_text_unescaped(out, rule, level, config)
    })
}

fn explain_text_unescaped(
    out: &mut dyn Write,
    rule: &Rule,
    level: Option<Level>,
    config: Option<&Path>,
) -> io::Result<()> {
    let Header {
        kind,
        level: verdict,
        keys,
        scope,
        when,
    } = header(rule);
    let fix = fix_of(rule);
    writeln!(out, "{} {}: {}", rule.id, rule.name, rule.summary)?;
    writeln!(
        out,
        "{kind}, {verdict}{}",
        if keys.is_empty() {
            String::new()
        } else {
            format!(", judges {keys} per {scope}")
        }
    )?;
    if let (Some(l), Some(p)) = (level, config) {
        writeln!(out, "{} ({})", level_note(l), p.display())?;
    }
    let section = |out: &mut dyn Write, title: &str, body: &str| -> io::Result<()> {
        writeln!(out, "\n## {title}\n")?;
        for line in body.trim_end().lines() {
            writeln!(out, "{line}")?;
        }
        Ok(())
    };
    section(out, "What it does", &rule.docs.what)?;
    section(out, "Why", &rule.docs.why)?;
    section(out, "Example", &indent(&example_text(&rule.docs.example)))?;
    section(
        out,
        "Use instead",
        &indent(&example_text(&rule.docs.use_instead)),
    )?;
    section(out, "Kernel versions", &rule.docs.kernel)?;
    if !when.is_empty() {
        section(out, "Condition (CEL)", &indent(&when))?;
    }
    if !fix.is_empty() {
        let lines: Vec<String> = fix.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        section(
            out,
            "Fix (what `twlint advise` writes in the node's drop-in)",
            &indent(&lines.join("\n")),
        )?;
    }
    if let Some(c) = rule.cel().filter(|c| !c.evidence.is_empty()) {
        let lines: Vec<String> = c
            .evidence
            .iter()
            .map(|e| format!("- {}", e.describe()))
            .collect();
        section(out, "Evidence in host mode", &lines.join("\n"))?;
    }
    section(
        out,
        "References",
        &rule
            .docs
            .references
            .iter()
            .map(|r| format!("- {r}"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// `twlint rules --format json`: one object per rule; `level_of` gives the configuration's
/// override of a rule, written only where it sets one.
pub fn list_json(
    out: &mut dyn Write,
    rules: &[Listed<'_>],
    level_of: &dyn Fn(&str) -> Option<Level>,
) -> io::Result<()> {
    super::safe::escaped(out, super::safe::Form::Json, |out| {
        list_json_unescaped(out, rules, level_of)
    })
}

fn list_json_unescaped(
    out: &mut dyn Write,
    rules: &[Listed<'_>],
    level_of: &dyn Fn(&str) -> Option<Level>,
) -> io::Result<()> {
    let v: Vec<_> = rules
        .iter()
        .map(|r| {
            let mut v = serde_json::json!({"id": r.id, "name": r.name, "summary": r.summary, "verdict": r.verdict, "severity": r.severity, "builtin": r.builtin});
            if let Some(l) = level_of(r.id) {
                v["override"] = level_word(l).into();
            }
            v
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)
}

/// `twlint rules`: a header, then one line per rule (id, name, the severity of its finding, the
/// verdict it gives a value, summary), the override noted before the summary.
pub fn list_text(
    out: &mut dyn Write,
    rules: &[Listed<'_>],
    level_of: &dyn Fn(&str) -> Option<Level>,
) -> io::Result<()> {
    super::safe::escaped(out, super::safe::Form::Text, |out| {
        list_text_unescaped(out, rules, level_of)
    })
}

fn list_text_unescaped(
    out: &mut dyn Write,
    rules: &[Listed<'_>],
    level_of: &dyn Fn(&str) -> Option<Level>,
) -> io::Result<()> {
    // Two words, two columns: the severity of the finding a rule reports (what `--fail-on`
    // weighs) and the verdict it gives a value (`-` for a check that judges no value). A rule
    // whose verdict is safe reports no finding.
    let w = rules.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let id_w = rules.iter().map(|r| r.id.len()).max().unwrap_or(2);
    writeln!(
        out,
        "{:<id_w$}  {:<w$}  {:<8}  {:<9}  summary",
        "id", "name", "finding", "verdict"
    )?;
    for r in rules {
        let severity = match r.verdict {
            Some(crate::diag::Verdict::Safe) => "-".to_string(),
            _ => format!("{:?}", r.severity).to_lowercase(),
        };
        let verdict = r.verdict.map_or("-", |v| v.as_str());
        let summary = match level_of(r.id) {
            Some(l) => format!("[{}] {}", level_note(l), r.summary),
            None => r.summary.to_string(),
        };
        writeln!(
            out,
            "{:<id_w$}  {:<w$}  {:<8}  {:<9}  {}",
            r.id, r.name, severity, verdict, summary
        )?;
    }
    Ok(())
}
