//! SARIF 2.1.0 (OASIS): one run, `tool.driver.rules` for every rule a result uses (with its full
//! documentation as Markdown help and a `helpUri` into the repository), one result per
//! diagnostic with its region and related locations (suppressed diagnostics too, marked with
//! `suppressions` and their reason) and a `partialFingerprints` entry that survives lines moving. GitHub code scanning and most CI systems
//! read it. The output is validated against the official schema in `tests/formats.rs`.

use crate::diag::{Diagnostic, Severity};
use crate::report::Report;
use crate::rules::{Check, Example, Rule, RuleSet};
use crate::source::{SourceMap, Span};
use crate::suppress::Suppression;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Where the project's sources are published (`repository` in Cargo.toml, the one place it is
/// written). Rule documentation links point at the rule's page in `docs/rules/` of this
/// repository at the `main` branch; change Cargo.toml for a fork.
pub const REPOSITORY_URL: &str = env!("CARGO_PKG_REPOSITORY");

/// The documentation URL of a rule shipped with twlint (`docs/rules/TW101.md`, generated from
/// `rules/TW101-tw-recycle-removed.yaml`), or `None` for a user's rule loaded with `--rules`,
/// which has no published page.
pub fn help_uri(rule: &Rule) -> Option<String> {
    crate::rules::load::EMBEDDED
        .iter()
        .any(|(p, _)| *p == rule.path)
        .then(|| {
            format!(
                "{REPOSITORY_URL}/blob/main/docs/rules/{}",
                super::rule_pages::page_name(rule)
            )
        })
}

/// A relative path as a URI reference: bytes outside the unreserved and path characters are
/// percent-encoded, so a file name with a space or `#` stays one path.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn region(sources: &SourceMap, span: Span) -> Value {
    let file = sources.get(span.file);
    let (start_line, start_col) = file.line_col(span.from());
    let (end_line, end_col) = file.line_col(span.to().max(span.from()));
    let mut r = Map::new();
    r.insert("startLine".into(), json!(start_line));
    r.insert("startColumn".into(), json!(start_col));
    r.insert("endLine".into(), json!(end_line));
    // SARIF's endColumn is the column after the region; an empty span still covers one column.
    let end_col = if (end_line, end_col) == (start_line, start_col) {
        end_col + 1
    } else {
        end_col
    };
    r.insert("endColumn".into(), json!(end_col));
    Value::Object(r)
}

fn location(sources: &SourceMap, span: Span, message: Option<&str>) -> Value {
    let mut loc = Map::new();
    loc.insert(
        "physicalLocation".into(),
        json!({
            "artifactLocation": {"uri": uri(&sources.get(span.file).path)},
            "region": region(sources, span),
        }),
    );
    if let Some(m) = message {
        loc.insert("message".into(), json!({"text": m}));
    }
    Value::Object(loc)
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

pub(super) fn example_md(e: &Example) -> String {
    let mut s = String::new();
    if let Some(k) = &e.kernel {
        s.push_str(&format!("(judged for kernel {k})\n\n"));
    }
    // An example in another input format (a manifest, a compose file) is YAML.
    let lang = if e.format.is_some() { "yaml" } else { "ini" };
    for (text, lang) in [(&e.sysctl, lang), (&e.topology, "yaml")] {
        if let Some(t) = text {
            s.push_str(&format!("```{lang}\n{}\n```\n", t.trim_end()));
        }
    }
    s
}

/// The rule's documentation as Markdown (and as plain text, the same words without markup).
fn help(rule: &Rule) -> (String, String) {
    let d = &rule.docs;
    let mut md = format!("**{} {}**: {}\n\n", rule.id, rule.name, rule.summary);
    let mut text = format!("{} {}: {}\n\n", rule.id, rule.name, rule.summary);
    for (title, body) in [
        ("What it does", d.what.trim()),
        ("Why", d.why.trim()),
        ("Kernel versions", d.kernel.trim()),
    ] {
        if !body.is_empty() {
            md.push_str(&format!("### {title}\n\n{body}\n\n"));
            text.push_str(&format!("{title}\n{body}\n\n"));
        }
    }
    for (title, ex) in [("Example", &d.example), ("Use instead", &d.use_instead)] {
        let body = example_md(ex);
        if !body.is_empty() {
            md.push_str(&format!("### {title}\n\n{body}\n"));
            text.push_str(&format!(
                "{title}\n{}\n",
                body.replace("```ini\n", "")
                    .replace("```yaml\n", "")
                    .replace("```\n", "")
            ));
        }
    }
    if !d.references.is_empty() {
        md.push_str("### References\n\n");
        text.push_str("References\n");
        for r in &d.references {
            md.push_str(&format!("- {r}\n"));
            text.push_str(&format!("- {r}\n"));
        }
    }
    (md.trim_end().to_string(), text.trim_end().to_string())
}

fn descriptor(id: &str, rule: Option<&Rule>) -> Value {
    let Some(rule) = rule else {
        return json!({"id": id});
    };
    let (md, text) = help(rule);
    let (default_level, kind) = match &rule.check {
        Check::Cel(c) => (level(c.verdict.severity()), "rule"),
        Check::Builtin { severity, .. } => (level(*severity), "built-in check"),
    };
    let mut m = Map::new();
    m.insert("id".into(), json!(rule.id));
    m.insert("name".into(), json!(rule.name));
    m.insert("shortDescription".into(), json!({"text": rule.summary}));
    m.insert(
        "fullDescription".into(),
        json!({"text": rule.docs.what.trim()}),
    );
    m.insert("help".into(), json!({"text": text, "markdown": md}));
    if let Some(u) = help_uri(rule) {
        m.insert("helpUri".into(), json!(u));
    }
    m.insert(
        "defaultConfiguration".into(),
        json!({"level": default_level}),
    );
    let mut props = Map::new();
    props.insert("kind".into(), json!(kind));
    if let Some(v) = rule.verdict() {
        props.insert("verdict".into(), json!(v.as_str()));
    }
    props.insert("tags".into(), json!(["sysctl", "tcp"]));
    m.insert("properties".into(), Value::Object(props));
    Value::Object(m)
}

/// A suppressed result's `suppressions` entry. Every twlint suppression is written in a file
/// twlint read (a sysctl comment, or an `ignore:` entry of the topology it judged), so all are
/// `inSource`; `accepted` because a reason is required. Code scanning then lists the result as
/// dismissed rather than open.
fn suppression(sources: &SourceMap, s: &Suppression) -> Value {
    json!({
        "kind": "inSource",
        "status": "accepted",
        "justification": s.reason,
        "location": location(sources, s.span, None),
        "properties": {"twlintKind": s.kind.as_str()},
    })
}

fn result(
    sources: &SourceMap,
    d: &Diagnostic,
    index: usize,
    suppressed: Option<&Suppression>,
    fix: Option<&crate::fix::Fix>,
) -> Value {
    let mut text = d.message.clone();
    if let Some(h) = &d.help {
        text.push_str(&format!("\nhelp: {h}"));
    }
    for n in &d.notes {
        text.push_str(&format!("\nnote: {n}"));
    }
    let mut r = Map::new();
    r.insert("ruleId".into(), json!(d.code));
    r.insert("ruleIndex".into(), json!(index));
    r.insert("level".into(), json!(level(d.severity)));
    r.insert("message".into(), json!({"text": text}));
    // Code scanning drops results without a location: a problem with no place of its own is
    // shown at its first related place.
    if let Some(p) = d.primary.as_ref().or(d.secondary.first()) {
        r.insert("locations".into(), json!([location(sources, p.span, None)]));
    }
    if !d.secondary.is_empty() {
        let related: Vec<Value> = d
            .secondary
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut v = location(sources, l.span, Some(&l.message));
                v["id"] = json!(i + 1);
                v
            })
            .collect();
        r.insert("relatedLocations".into(), Value::Array(related));
    }
    let mut props = Map::new();
    if let Some(v) = d.verdict {
        props.insert("verdict".into(), json!(v.as_str()));
    }
    if let Some(n) = &d.node {
        props.insert("node".into(), json!(n));
    }
    if let Some(k) = &d.key {
        props.insert("key".into(), json!(k));
    }
    if !props.is_empty() {
        r.insert("properties".into(), Value::Object(props));
    }
    r.insert(
        "partialFingerprints".into(),
        json!({"twlintFinding/v1": fingerprint(sources, d)}),
    );
    if let Some(s) = suppressed {
        r.insert("suppressions".into(), json!([suppression(sources, s)]));
    } else if let Some(f) = fix {
        // The edit `twlint --fix` makes (one byte range replaced), for viewers that offer it.
        let how = match f.safety {
            crate::fix::Safety::Safe => "safe fix: twlint --fix",
            crate::fix::Safety::Unsafe => "unsafe fix: twlint --fix --unsafe-fixes",
        };
        r.insert(
            "fixes".into(),
            json!([{
                "description": {"text": format!("{} ({how})", f.title)},
                "artifactChanges": [{
                    "artifactLocation": {"uri": uri(&sources.get(f.span.file).path)},
                    "replacements": [{
                        "deletedRegion": region(sources, f.span),
                        "insertedContent": {"text": f.replacement},
                    }],
                }],
            }]),
        );
    }
    Value::Object(r)
}

/// What identifies a finding across commits, so code scanning tracks it as one alert while
/// lines move above it: the rule, node, key, file and the text of the line it points at (with
/// its surrounding blanks trimmed), never the line number. FNV-1a, 64 bits, as hex: stable
/// across builds and platforms (std's hasher is not).
pub(crate) fn fingerprint(sources: &SourceMap, d: &Diagnostic) -> String {
    let mut parts: Vec<&str> = vec![
        &d.code,
        d.node.as_deref().unwrap_or(""),
        d.key.as_deref().unwrap_or(""),
    ];
    if let Some(p) = d.primary.as_ref().or(d.secondary.first()) {
        let f = sources.get(p.span.file);
        let (_, start) = f.line_at(p.span.from());
        let end = f.text[start..]
            .find('\n')
            .map_or(f.text.len(), |i| start + i);
        parts.push(&f.path);
        parts.push(f.text[start..end].trim());
    } else {
        parts.push(&d.message);
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The whole report as one SARIF log.
pub fn report(sources: &SourceMap, rules: &RuleSet, r: &Report) -> Value {
    // Open results first, then the suppressed ones (each carrying its `suppressions`), so a
    // consumer that ignores suppressions still sees the open findings in the report's order.
    let all: Vec<(&Diagnostic, Option<&Suppression>)> = r
        .diagnostics
        .iter()
        .map(|d| (d, None))
        .chain(r.suppressed.iter().map(|(d, s)| (d, Some(s))))
        .collect();
    // Rules in id order, each once, indexed by the results that use them.
    let used: BTreeMap<&str, ()> = all.iter().map(|(d, _)| (d.code.as_str(), ())).collect();
    let ids: Vec<&str> = used.into_keys().collect();
    let descriptors: Vec<Value> = ids.iter().map(|id| descriptor(id, rules.get(id))).collect();
    // The open results are the report's diagnostics in order: the fixes' indexes are theirs.
    let fixes: std::collections::HashMap<usize, crate::fix::Fix> =
        crate::fix::fixes(r, sources).into_iter().collect();
    let results: Vec<Value> = all
        .iter()
        .enumerate()
        .map(|(k, (d, s))| {
            let i = ids
                .iter()
                .position(|id| *id == d.code)
                .expect("listed above");
            let fix = if s.is_none() { fixes.get(&k) } else { None };
            result(sources, d, i, *s, fix)
        })
        .collect();
    let mut out = json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "twlint",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": REPOSITORY_URL,
                "rules": descriptors,
            }},
            "invocations": [invocation(r)],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    // The commit twlint was built from, in the driver's property bag (SARIF has no field of its own).
    if let Some(c) = crate::build_info::COMMIT {
        out["runs"][0]["tool"]["driver"]["properties"] = json!({"commit": c});
    }
    out
}

/// The run's invocation: whether twlint did its whole job, and, for each path it could not
/// read, a notification on that file (added only then, so complete runs keep their log).
fn invocation(r: &Report) -> Value {
    let mut inv = json!({"executionSuccessful": !r.incomplete()});
    if !r.unread.is_empty() {
        let notes: Vec<Value> = r
            .unread
            .iter()
            .map(|u| {
                json!({
                    "level": "error",
                    "message": {"text": u.error},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": u.path}}}],
                })
            })
            .collect();
        inv["toolExecutionNotifications"] = Value::Array(notes);
    }
    inv
}

pub fn write(
    out: &mut dyn std::io::Write,
    sources: &SourceMap,
    rules: &RuleSet,
    r: &Report,
) -> std::io::Result<()> {
    super::safe::escaped(out, super::safe::Form::Json, |out| {
        write_unescaped(out, sources, rules, r)
    })
}

fn write_unescaped(
    out: &mut dyn std::io::Write,
    sources: &SourceMap,
    rules: &RuleSet,
    r: &Report,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &report(sources, rules, r))?;
    writeln!(out)
}
