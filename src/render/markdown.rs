//! Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`: a summary line, then a table
//! per hop (per linted set without a topology) of node, key, value, verdict, reason and fix,
//! dangerous rows first, the safe rows folded in `<details>`, then the findings in files.
//!
//! The output is deterministic (no timestamps, no paths outside the report, rows in a fixed
//! order), so two runs on the same input diff cleanly in a PR. GitHub-flavoured tables: `|` is
//! escaped and line breaks become spaces inside cells.

use crate::config::SourceKindOut;
use crate::diag::{Diagnostic, Severity, Verdict};
use crate::number::format_number;
use crate::report::{HopSummary, Mode, Report, VerdictEntry};
use crate::rules::RuleSet;
use crate::source::SourceMap;
use crate::suppress::{Kind, Suppression};
use std::io::{self, Write};

/// Text for a table cell: no line breaks, `|` escaped (GitHub splits cells on it even inside
/// code spans), `<` written as an entity so text never opens an HTML tag.
pub fn cell(s: &str) -> String {
    pipes(s).replace('<', "&lt;")
}

fn pipes(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// Inline code that survives any content: the fence is longer than any run of backticks inside.
fn code(s: &str) -> String {
    let longest = s.split(|c| c != '`').map(|r| r.len()).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    // Entities are not decoded inside code spans, so only pipes and line breaks are touched.
    pipes(&format!("{fence}{pad}{s}{pad}{fence}"))
}

fn verdict_cell(v: &VerdictEntry) -> String {
    let word = match v.verdict {
        // A host twlint cannot see: shown, not judged, not counted.
        _ if v.unseen => "⚪ not judged",
        Verdict::Dangerous => "🔴 **dangerous**",
        Verdict::Pointless => "🟡 pointless",
        Verdict::Safe => "🟢 safe",
    };
    // A .twlint.yaml severity override changes what the verdict weighs, not the verdict (as
    // in the human output).
    match v.level {
        Some(l) => format!("{word} (counts as {})", severity_word(l)),
        None => word.to_string(),
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// Why a finding was accepted, for the suppressed tables: the reason, then where it was written.
fn because(sources: &SourceMap, s: &Suppression) -> String {
    let loc = sources.location(s.span);
    let place = match s.kind {
        Kind::Line => "line directive",
        Kind::File => "file directive",
        Kind::Topology => "topology `ignore:`",
    };
    format!(
        "{} ({place} at {})",
        cell(&s.reason),
        code(&format!("{}:{}", loc.path, loc.line))
    )
}

fn value(v: &VerdictEntry) -> String {
    let shown = match &v.value {
        Some(s) if s.is_empty() => "(empty)".to_string(),
        Some(s) => code(s),
        None if v.source == SourceKindOut::Default => "memory-dependent".to_string(),
        None => "?".to_string(),
    };
    if v.source == SourceKindOut::Default {
        format!("{shown} (default)")
    } else {
        shown
    }
}

fn rule_link(rules: &RuleSet, id: &str) -> String {
    match rules.get(id).and_then(super::sarif::help_uri) {
        Some(u) => format!("[{id}]({u})"),
        None => id.to_string(),
    }
}

fn table(
    out: &mut dyn Write,
    ctx: &Ctx,
    rows: &[&VerdictEntry],
    side: bool,
    suppressed: bool,
) -> io::Result<()> {
    let rules = ctx.rules;
    let mut head = if side { "| node " } else { "" }.to_string();
    head.push_str("| key | value | verdict | reason | fix |");
    if suppressed {
        head.push_str(" suppressed because |");
    }
    let cols = head.matches('|').count() - 1;
    writeln!(out, "{head}")?;
    writeln!(out, "|{}", "---|".repeat(cols))?;
    for v in rows {
        let reason = match &v.rule {
            Some(id) => format!("{} ({})", cell(&v.reason), rule_link(rules, id)),
            None => cell(&v.reason),
        };
        let fix = v.help.as_deref().map(cell).unwrap_or_default();
        let node = if side {
            format!("| {} ({}) ", cell(&v.node), v.side.unwrap_or("-"))
        } else {
            String::new()
        };
        let hidden = match (&v.suppressed, suppressed) {
            (Some(s), true) => format!(" {} |", because(ctx.sources, s)),
            _ => String::new(),
        };
        writeln!(
            out,
            "{node}| {} | {} | {} | {} | {} |{hidden}",
            code(v.key),
            value(v),
            verdict_cell(v),
            reason,
            fix
        )?;
    }
    Ok(())
}

/// What the tables need besides their rows.
struct Ctx<'a> {
    sources: &'a SourceMap,
    rules: &'a RuleSet,
}

/// Non-safe rows in a table, worst first; safe rows folded below, then the suppressed rows
/// (which count as nothing, like in the summary) folded with the reason they were accepted.
fn rows_block(
    out: &mut dyn Write,
    ctx: &Ctx,
    rows: &[&VerdictEntry],
    side: bool,
) -> io::Result<()> {
    let (hidden, rows): (Vec<&VerdictEntry>, Vec<&VerdictEntry>) =
        rows.iter().partition(|v| v.suppressed.is_some());
    let mut findings: Vec<&VerdictEntry> = rows
        .iter()
        .copied()
        .filter(|v| v.verdict != Verdict::Safe)
        .collect();
    // Stable: the order within a verdict is the report's (side, then key order).
    findings.sort_by_key(|v| std::cmp::Reverse(v.verdict));
    let safe: Vec<&VerdictEntry> = rows
        .iter()
        .copied()
        .filter(|v| v.verdict == Verdict::Safe)
        .collect();
    if findings.is_empty() {
        writeln!(out, "Nothing dangerous or pointless here.")?;
        writeln!(out)?;
    } else {
        table(out, ctx, &findings, side, false)?;
        writeln!(out)?;
    }
    if !safe.is_empty() {
        let unseen = safe.iter().filter(|v| v.unseen).count();
        let judged = safe.len() - unseen;
        let summary = match (judged, unseen) {
            (_, 0) => format!(
                "{judged} safe setting{}",
                if judged == 1 { "" } else { "s" }
            ),
            (0, _) => format!("{unseen} settings not judged"),
            _ => format!(
                "{judged} safe setting{}, {unseen} not judged",
                if judged == 1 { "" } else { "s" }
            ),
        };
        writeln!(out, "<details><summary>{summary}</summary>")?;
        writeln!(out)?;
        table(out, ctx, &safe, side, false)?;
        writeln!(out)?;
        writeln!(out, "</details>")?;
        writeln!(out)?;
    }
    if !hidden.is_empty() {
        let mut hidden = hidden;
        hidden.sort_by_key(|v| std::cmp::Reverse(v.verdict));
        writeln!(
            out,
            "<details><summary>{} suppressed setting{}</summary>",
            hidden.len(),
            if hidden.len() == 1 { "" } else { "s" }
        )?;
        writeln!(out)?;
        table(out, ctx, &hidden, side, true)?;
        writeln!(out)?;
        writeln!(out, "</details>")?;
        writeln!(out)?;
    }
    Ok(())
}

/// The diagnostics table; with a "suppressed because" column when the rows carry suppressions.
fn findings_table(
    out: &mut dyn Write,
    ctx: &Ctx,
    r: &Report,
    diags: &[(&Diagnostic, Option<&Suppression>)],
) -> io::Result<()> {
    let suppressed = diags.iter().any(|d| d.1.is_some());
    if suppressed {
        writeln!(
            out,
            "| place | level | rule | message | fix | suppressed because |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|")?;
    } else {
        writeln!(out, "| place | level | rule | message | fix |")?;
        writeln!(out, "|---|---|---|---|---|")?;
    }
    for (d, s) in diags {
        let place = match &d.primary {
            Some(p) => {
                let loc = ctx.sources.location(p.span);
                code(&format!("{}:{}:{}", loc.path, loc.line, loc.column))
            }
            None => "-".into(),
        };
        let mut msg = cell(&d.message);
        if let Some(n) = d.node.as_ref().filter(|_| r.mode == Mode::Topology) {
            msg = format!("{}: {msg}", cell(n));
        }
        let hidden = match s {
            Some(s) => format!(" {} |", because(ctx.sources, s)),
            None => String::new(),
        };
        writeln!(
            out,
            "| {place} | {} | {} | {msg} | {} |{hidden}",
            severity_word(d.severity),
            rule_link(ctx.rules, &d.code),
            d.help.as_deref().map(cell).unwrap_or_default()
        )?;
    }
    Ok(())
}

fn hop_lines(h: &HopSummary) -> Vec<String> {
    let c = &h.client;
    let mut lines = Vec::new();
    match h.rate {
        Some(r) if !c.unseen_clients => lines.push(format!(
            "{}/s declared over {} tuple{}, {}/s per tuple; {} TIME_WAIT sockets on {}.",
            format_number(r),
            c.tuples,
            if c.tuples == 1 { "" } else { "s" },
            format_number(c.rate_per_tuple),
            format_number(r * crate::facts::TIME_WAIT_SECONDS),
            cell(&h.closes_first)
        )),
        Some(r) => lines.push(format!(
            "{}/s declared; TIME_WAIT lands on {}.",
            format_number(r),
            cell(&h.closes_first)
        )),
        None => lines.push(format!(
            "No rate declared; TIME_WAIT lands on {}.",
            cell(&h.closes_first)
        )),
    }
    if !c.unseen_clients {
        lines.push(format!(
            "{} can open {}/s per tuple without reuse, {}/s with reuse ({} usable ports){}.",
            cell(&h.from),
            format_number(c.capacity.without_reuse),
            format_number(c.capacity.with_reuse),
            c.capacity.ports,
            if !c.closes_first {
                "; ports are not held in TIME_WAIT on this side"
            } else if c.capacity.reuse_works {
                "; reuse works here"
            } else {
                "; reuse does not work here"
            }
        ));
    }
    lines
}

fn worst(rows: &[&VerdictEntry]) -> Verdict {
    rows.iter()
        .filter(|v| v.suppressed.is_none())
        .map(|v| v.verdict)
        .max()
        .unwrap_or(Verdict::Safe)
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
    let ctx = Ctx { sources, rules };
    let errors = r.diagnostics_of(Severity::Error);
    let warnings = r.diagnostics_of(Severity::Warning);
    match (&r.mode, &r.topology) {
        _ if r.fatal => writeln!(out, "## twlint: the topology has errors")?,
        (Mode::Topology, Some(name)) => writeln!(out, "## twlint: topology `{}`", cell(name))?,
        (Mode::Topology, None) => writeln!(out, "## twlint: topology")?,
        (Mode::Files, _) => writeln!(out, "## twlint: sysctl files")?,
    }
    writeln!(out)?;
    if r.fatal {
        writeln!(
            out,
            "Nothing was judged: {errors} error{} in the input (below).",
            if errors == 1 { "" } else { "s" }
        )?;
    } else {
        let not_judged = match r.not_judged() {
            0 => String::new(),
            n => format!(", {n} not judged"),
        };
        writeln!(
            out,
            "**{} dangerous**, {} pointless, {} safe{not_judged}; {} error{}, {} warning{}.",
            r.count(Verdict::Dangerous),
            r.count(Verdict::Pointless),
            r.count(Verdict::Safe),
            errors,
            if errors == 1 { "" } else { "s" },
            warnings,
            if warnings == 1 { "" } else { "s" }
        )?;
        // Accepted findings are listed (folded, with their reasons) but never counted above.
        let hidden = r.suppressed_verdicts();
        if hidden > 0 || !r.suppressed.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "Suppressed: {hidden} setting{}, {} finding{} in files (reasons below).",
                if hidden == 1 { "" } else { "s" },
                r.suppressed.len(),
                if r.suppressed.len() == 1 { "" } else { "s" }
            )?;
        }
        if !r.unread.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "**Not read: {} path{}**; the report covers the others.",
                r.unread.len(),
                if r.unread.len() == 1 { "" } else { "s" }
            )?;
            writeln!(out)?;
            for u in &r.unread {
                writeln!(out, "- {}: {}", code(&u.path), cell(&u.error))?;
            }
        }
    }
    writeln!(out)?;
    super::diagram::write_mermaid_block(out, r)?;

    if !r.fatal {
        match r.mode {
            Mode::Topology => {
                // Hops with dangerous rows first, then pointless, then the rest; ties keep the
                // topology's order, so the comment is stable between runs.
                let mut hops: Vec<(&HopSummary, Vec<&VerdictEntry>)> = r
                    .hops
                    .iter()
                    .map(|h| {
                        let rows = r
                            .verdicts
                            .iter()
                            .filter(|v| v.link.as_deref() == Some(&h.link))
                            .collect();
                        (h, rows)
                    })
                    .collect();
                hops.sort_by_key(|h| std::cmp::Reverse(worst(&h.1)));
                for (h, rows) in &hops {
                    let via = h
                        .via
                        .as_ref()
                        .map(|v| format!(" via {}", cell(v)))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "### hop {}{via} (port {}), {} closes first",
                        code(&h.link),
                        h.port,
                        cell(&h.closes_first)
                    )?;
                    writeln!(out)?;
                    for l in hop_lines(h) {
                        writeln!(out, "{l}")?;
                    }
                    writeln!(out)?;
                    rows_block(out, &ctx, rows, true)?;
                }
                let unlinked: Vec<&VerdictEntry> =
                    r.verdicts.iter().filter(|v| v.link.is_none()).collect();
                if !unlinked.is_empty() {
                    writeln!(out, "### nodes on no link")?;
                    writeln!(out)?;
                    rows_block(out, &ctx, &unlinked, true)?;
                }
            }
            Mode::Files => {
                for n in &r.nodes {
                    writeln!(out, "### `{}` (kernel {})", cell(&n.name), n.kernel)?;
                    writeln!(out)?;
                    let rows: Vec<&VerdictEntry> =
                        r.verdicts.iter().filter(|v| *v.node == *n.name).collect();
                    rows_block(out, &ctx, &rows, false)?;
                }
            }
        }
    }

    if !r.diagnostics.is_empty() {
        writeln!(out, "### Findings in files")?;
        writeln!(out)?;
        let mut diags: Vec<_> = r.diagnostics.iter().map(|d| (d, None)).collect();
        // Errors first; within a level the report's order (file, then line).
        diags.sort_by_key(|d| std::cmp::Reverse(d.0.severity));
        findings_table(out, &ctx, r, &diags)?;
        writeln!(out)?;
    }
    if !r.suppressed.is_empty() {
        writeln!(
            out,
            "<details><summary>{} suppressed finding{} in files</summary>",
            r.suppressed.len(),
            if r.suppressed.len() == 1 { "" } else { "s" }
        )?;
        writeln!(out)?;
        let mut diags: Vec<_> = r.suppressed.iter().map(|(d, s)| (d, Some(s))).collect();
        diags.sort_by_key(|d| std::cmp::Reverse(d.0.severity));
        findings_table(out, &ctx, r, &diags)?;
        writeln!(out)?;
        writeln!(out, "</details>")?;
        writeln!(out)?;
    }
    // The configuration decides levels, `off` rules and the default kernel: a reviewer should
    // know which one was used.
    let config = r
        .config
        .as_ref()
        .map(|c| format!(" with {}", code(c)))
        .unwrap_or_default();
    writeln!(
        out,
        "<sub>twlint {}{config}: `twlint explain RULE` prints a rule's documentation.</sub>",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_pipes_and_line_breaks() {
        assert_eq!(cell("a|b\nc<d>"), "a\\|b c&lt;d>");
        assert_eq!(code("a->b|c"), "`a->b\\|c`");
        assert_eq!(code("a`b"), "``a`b``");
    }
}
