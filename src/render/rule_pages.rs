//! The rule catalog as Markdown pages: `docs/rules/TWnnn.md`, one per shipped rule, and
//! `docs/rules/README.md`, the index. They are generated from the rule files (the same words
//! `twlint explain` prints and SARIF carries as help), so that SARIF's `helpUri` and the Markdown
//! report can link a page a browser shows; `tests/docs.rs` fails when a page is stale.

use super::docs::{fix_of, header};
use super::sarif::example_md;
use crate::rules::{Rule, RuleSet};

/// The file name of a rule's page in `docs/rules/`.
pub fn page_name(rule: &Rule) -> String {
    format!("{}.md", rule.id)
}

/// Markdown table cells hold one line and no unescaped `|`.
fn cell(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// One rule's page: what it is (kind, verdict or severity, keys, scope), its documentation, its
/// condition, the fix `twlint advise` writes, the counters that back it in host mode, and the
/// rule file it comes from.
pub fn rule_page(rule: &Rule) -> String {
    let h = header(rule);
    let mut s = format!(
        "<!-- Generated from {path} by `TWLINT_UPDATE_DOCS=1 cargo test --test docs`; edit the \
         rule file, not this page. -->\n\n# {id} `{name}`\n\n{summary}\n\n",
        path = rule.path,
        id = rule.id,
        name = rule.name,
        summary = rule.summary.trim(),
    );
    s.push_str("| kind | level | judges | per |\n|---|---|---|---|\n");
    s.push_str(&format!(
        "| {} | {} | {} | {} |\n\n",
        h.kind,
        cell(&h.level),
        if h.keys.is_empty() {
            "-".to_string()
        } else {
            cell(&h.keys)
        },
        if h.scope.is_empty() { "-" } else { h.scope }
    ));
    let d = &rule.docs;
    for (title, body) in [("What it does", d.what.trim()), ("Why", d.why.trim())] {
        if !body.is_empty() {
            s.push_str(&format!("## {title}\n\n{body}\n\n"));
        }
    }
    for (title, ex) in [("Example", &d.example), ("Use instead", &d.use_instead)] {
        let body = example_md(ex);
        if !body.is_empty() {
            s.push_str(&format!("## {title}\n\n{body}\n"));
        }
    }
    if !d.kernel.trim().is_empty() {
        s.push_str(&format!("## Kernel versions\n\n{}\n\n", d.kernel.trim()));
    }
    if !h.when.is_empty() {
        s.push_str(&format!(
            "## Condition (CEL)\n\nOver the [fact model](../../rules/README.md):\n\n```\n{}\n```\n\n",
            h.when
        ));
    }
    let fix = fix_of(rule);
    if !fix.is_empty() {
        s.push_str("## Fix\n\nWhat `twlint advise` writes in the node's drop-in:\n\n```ini\n");
        for (k, v) in &fix {
            s.push_str(&format!("{k} = {v}\n"));
        }
        s.push_str("```\n\n");
    }
    let autofix: Vec<String> = crate::fix::CATALOG
        .iter()
        .filter(|(code, _, _)| *code == rule.id)
        .map(|(_, safety, what)| {
            let how = match safety {
                crate::fix::Safety::Safe => "safe fix: `twlint --fix`",
                crate::fix::Safety::Unsafe => "unsafe fix: `twlint --fix --unsafe-fixes`",
            };
            format!("- {what} ({how})\n")
        })
        .collect();
    if !autofix.is_empty() {
        s.push_str(&format!(
            "## Autofix\n\nIn the files twlint reads ([Fixing files](../guide/autofix.md) says which \
             fix each format gets):\n\n{}\n",
            autofix.concat()
        ));
    }
    if let Some(c) = rule.cel().filter(|c| !c.evidence.is_empty()) {
        s.push_str("## Evidence in host mode\n\n");
        for e in &c.evidence {
            s.push_str(&format!("- {}\n", e.describe()));
        }
        s.push('\n');
    }
    if !d.references.is_empty() {
        s.push_str("## References\n\n");
        for r in &d.references {
            s.push_str(&format!("- {r}\n"));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "Source: [`{p}`](../../{p}). `twlint explain {id}` prints this page in a terminal.\n",
        p = rule.path,
        id = rule.id
    ));
    s
}

/// The index of `docs/rules/`: one row per shipped rule (id linking its page, name, level,
/// summary).
pub fn rules_index(rules: &RuleSet) -> String {
    let mut s = String::from(
        "<!-- Generated from rules/ by `TWLINT_UPDATE_DOCS=1 cargo test --test docs`. -->\n\n\
         # Rules\n\n\
         One page per rule twlint ships, generated from its file in [`rules/`](../../rules/README.md) \
         (which also says how to write your own). Value rules give a verdict (safe, pointless, \
         dangerous) about a value; built-in checks give a finding a severity (error, warning, \
         info). `twlint rules` lists them, `twlint explain ID` prints one.\n\n\
         | id | name | level | what it flags |\n|---|---|---|---|\n",
    );
    for r in &rules.rules {
        let h = header(r);
        s.push_str(&format!(
            "| [{id}]({page}) | `{name}` | {level} | {summary} |\n",
            id = r.id,
            page = page_name(r),
            name = r.name,
            level = cell(&h.level),
            summary = cell(&r.summary),
        ));
    }
    s
}
