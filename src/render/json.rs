//! The JSON report, version 1 (DESIGN.md "JSON report"): fixed field names, extra fields added.
//!
//! [`report`] builds the report as one JSON value (for callers that add to it); [`write`] writes
//! the same text with the verdicts, most of a large report, serialised straight from the engine's
//! entries instead of through a value tree (a third of judging a large topology went to building
//! and freeing that tree). Object keys come out in sorted order either way, as `serde_json::Map`
//! keeps them.

use crate::diag::Diagnostic;
use crate::engine::{Mode, Report, VerdictEntry};
use crate::facts::HopFacts;
use crate::rules::eval::format_number;
use crate::source::{SourceMap, Span};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

fn location(sources: &SourceMap, span: Option<Span>) -> Value {
    match span {
        Some(s) => serde_json::to_value(sources.location(s)).expect("locations serialise"),
        None => Value::Null,
    }
}

fn verdict(sources: &SourceMap, v: &VerdictEntry) -> Value {
    let mut source = Map::new();
    source.insert("kind".into(), json!(v.source.as_str()));
    if let Some(span) = v.span {
        let loc = sources.location(span);
        source.insert("path".into(), json!(loc.path));
        source.insert("line".into(), json!(loc.line));
        source.insert("column".into(), json!(loc.column));
    }
    let mut m = Map::new();
    m.insert("link".into(), json!(v.link));
    m.insert("node".into(), json!(v.node));
    if let Some(side) = v.side {
        m.insert("side".into(), json!(side));
    }
    m.insert("key".into(), json!(v.key));
    m.insert("value".into(), json!(v.value));
    m.insert("source".into(), Value::Object(source));
    m.insert("verdict".into(), json!(v.verdict.as_str()));
    m.insert("rule".into(), json!(v.rule));
    m.insert("rule_name".into(), json!(v.rule_name));
    m.insert("reason".into(), json!(v.reason));
    m.insert("help".into(), json!(v.help));
    // The rule's machine-readable fix (what `twlint advise` writes), only where it has one.
    if !v.fix.is_empty() {
        let fix: Map<String, Value> = v.fix.iter().map(|(k, x)| (k.clone(), json!(x))).collect();
        m.insert("fix".into(), Value::Object(fix));
    }
    if let Some(s) = &v.suppressed {
        m.insert("suppressed".into(), suppression(sources, s));
    }
    if let Some(level) = v.level {
        m.insert("level".into(), json!(level));
    }
    Value::Object(m)
}

/// What hid a verdict or a diagnostic: `kind` (line, file, topology), `reason`, `location`.
pub fn suppression(sources: &SourceMap, s: &crate::suppress::Suppression) -> Value {
    json!({
        "kind": s.kind.as_str(),
        "reason": s.reason,
        "location": location(sources, Some(s.span)),
    })
}

/// One diagnostic as JSON; also used by other machine formats.
pub fn diagnostic(sources: &SourceMap, d: &Diagnostic) -> Value {
    json!({
        "rule": d.code,
        "severity": d.severity,
        "verdict": d.verdict,
        "node": d.node,
        "key": d.key,
        "message": d.message,
        "help": d.help,
        "location": location(sources, d.primary.as_ref().map(|l| l.span)),
        "labels": d.secondary.iter().map(|l| json!({"message": l.message, "location": location(sources, Some(l.span))})).collect::<Vec<_>>(),
        "notes": d.notes,
    })
}

fn num(f: f64) -> Value {
    // Whole numbers stay integers in JSON; others keep one decimal, as in the human output.
    let s = format_number(f);
    s.parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| json!(s.parse::<f64>().unwrap_or(f)))
}

fn hop(h: &crate::engine::HopSummary) -> Value {
    let c: &HopFacts = &h.client;
    json!({
        "link": h.link,
        "from": h.from,
        "to": h.to,
        "port": h.port,
        "via": h.via,
        "closes_first": h.closes_first,
        "time_wait_on": h.closes_first,
        "rate": h.rate.map(num),
        "tuples": c.tuples,
        "rate_per_tuple": if c.rate_known { num(c.rate_per_tuple) } else { Value::Null },
        "time_wait_sockets": if c.rate_known { num(h.rate.unwrap_or(0.0) * crate::facts::TIME_WAIT_SECONDS) } else { Value::Null },
        "capacity": {
            "ports": c.capacity.ports,
            "without_reuse": num(c.capacity.without_reuse),
            "with_reuse": num(c.capacity.with_reuse),
            "reuse_works": c.capacity.reuse_works,
            "effective": num(c.capacity.effective),
        },
    })
}

/// The whole report as one JSON value.
pub fn report(sources: &SourceMap, r: &Report) -> Value {
    let mut out = report_without_verdicts(sources, r, true);
    out["verdicts"] = r.verdicts.iter().map(|v| verdict(sources, v)).collect();
    out
}

/// The report but for its `verdicts`, which [`report`] and [`write`] add each their own way
/// (and, unless `diagnostics`, with an empty `diagnostics` list, which [`write`] writes itself).
fn report_without_verdicts(sources: &SourceMap, r: &Report, diagnostics: bool) -> Value {
    let errors = r.diagnostics_of(crate::diag::Severity::Error);
    let warnings = r.diagnostics_of(crate::diag::Severity::Warning);
    let mut out = json!({
        "version": 1,
        "tool": crate::build_info::tool_json(),
        "mode": match r.mode { Mode::Files => "files", Mode::Topology => "topology" },
        "topology": r.topology,
        "nodes": r.nodes.iter().map(|n| json!({
            "name": n.name,
            "role": n.role,
            "kernel": n.kernel.to_string(),
            "kernel_source": n.kernel_origin.as_str(),
            "sources": n.sources,
        })).collect::<Vec<_>>(),
        "hops": r.hops.iter().map(hop).collect::<Vec<_>>(),
        "diagnostics": if diagnostics { r.diagnostics.iter().map(|d| diagnostic(sources, d)).collect::<Vec<_>>() } else { Vec::new() },
        "summary": {
            "dangerous": r.count(crate::diag::Verdict::Dangerous),
            "pointless": r.count(crate::diag::Verdict::Pointless),
            "safe": r.count(crate::diag::Verdict::Safe),
            "errors": errors,
            "warnings": warnings,
        },
    });
    if let Some(c) = &r.config {
        out["config"] = json!(c);
    }
    // Present only when something was suppressed, so reports without suppressions keep the
    // exact shape they always had.
    let hidden = r.suppressed_verdicts();
    if hidden > 0 || !r.suppressed.is_empty() {
        out["suppressed"] = r
            .suppressed
            .iter()
            .map(|(d, s)| {
                let mut v = diagnostic(sources, d);
                v["suppressed"] = suppression(sources, s);
                v
            })
            .collect();
        out["summary"]["suppressed"] = json!({
            "verdicts": hidden,
            "diagnostics": r.suppressed.len(),
        });
    }
    // Only with several hosts, so single-host and topology reports keep their shape.
    if let (Some(fleet), Some(obj)) = (crate::fleet::Fleet::of(r), out.as_object_mut()) {
        obj.insert("fleet".into(), super::fleet::json(&fleet));
    }
    out
}

pub fn write(out: &mut dyn std::io::Write, sources: &SourceMap, r: &Report) -> std::io::Result<()> {
    write_with(out, sources, r, Extra::default())
}

/// What a host run adds to the report: a top-level `host` object and, per verdict (by index
/// into the report's verdicts), an `evidence` list.
#[derive(Default)]
pub struct Extra {
    pub host: Option<Value>,
    pub evidence: HashMap<usize, Vec<Value>>,
}

/// [`write`] with a host run's additions, written the same streaming way ([`report`] with them
/// inserted gives the same text, building every verdict as a value first).
pub fn write_with(
    out: &mut dyn std::io::Write,
    sources: &SourceMap,
    r: &Report,
    extra: Extra,
) -> std::io::Result<()> {
    let mut rest = report_without_verdicts(sources, r, false);
    if let Some(host) = extra.host {
        rest["host"] = host;
    }
    let rest = rest.as_object().expect("the report is an object");
    let verdicts = pretty_array(r.verdicts.len(), |i| StreamedVerdict {
        sources,
        v: &r.verdicts[i],
        evidence: extra.evidence.get(&i),
    });
    let diagnostics = pretty_array(r.diagnostics.len(), |i| {
        diagnostic(sources, &r.diagnostics[i])
    });
    // The top level as `to_writer_pretty` writes an object, keys in order; every value but the
    // two long arrays is small and written here.
    let mut keys: Vec<&str> = rest.keys().map(String::as_str).collect();
    keys.push("verdicts");
    keys.sort_unstable();
    out.write_all(b"{")?;
    let mut value = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        out.write_all(if i == 0 { b"\n  " } else { b",\n  " })?;
        serde_json::to_writer(&mut *out, k)?;
        out.write_all(b": ")?;
        match *k {
            "verdicts" => out.write_all(&verdicts)?,
            "diagnostics" => out.write_all(&diagnostics)?,
            _ => {
                value.clear();
                serde_json::to_writer_pretty(&mut value, &rest[*k])?;
                write_indented(out, &value, b"\n  ")?;
            }
        }
    }
    out.write_all(b"\n}\n")
}

/// Writes pretty JSON further in: `newline` (a newline and the blanks of the new level) for
/// every newline (pretty output has no newline but between tokens; strings escape theirs).
fn write_indented(
    out: &mut dyn std::io::Write,
    pretty: &[u8],
    newline: &[u8],
) -> std::io::Result<()> {
    for (j, line) in pretty.split(|&b| b == b'\n').enumerate() {
        if j > 0 {
            out.write_all(newline)?;
        }
        out.write_all(line)?;
    }
    Ok(())
}

/// An array of the report's top level, written as `to_writer_pretty` writes it, by batches on
/// all cores: each element is written pretty on its own and moved two levels in (pretty output
/// has no newline but between tokens; strings escape theirs). A fleet report has thousands of
/// verdicts, and writing them was the longest part of a run left on one core.
fn pretty_array<V: Serialize>(len: usize, element: impl Fn(usize) -> V + Sync) -> Vec<u8> {
    const BATCH: usize = 256;
    let batches: Vec<std::ops::Range<usize>> = (0..len)
        .step_by(BATCH)
        .map(|at| at..(at + BATCH).min(len))
        .collect();
    let written = crate::fleet::par_map(&batches, |batch| {
        let mut out = Vec::new();
        let mut one = Vec::new();
        for i in batch.clone() {
            if i > batch.start {
                out.extend_from_slice(b",\n    ");
            }
            one.clear();
            serde_json::to_writer_pretty(&mut one, &element(i))
                .expect("a report element serialises");
            write_indented(&mut out, &one, b"\n    ").expect("writing to memory cannot fail");
        }
        out
    });
    let mut text = Vec::new();
    if written.is_empty() {
        text.extend_from_slice(b"[]");
    } else {
        text.extend_from_slice(b"[\n    ");
        for (i, w) in written.iter().enumerate() {
            if i > 0 {
                text.extend_from_slice(b",\n    ");
            }
            text.extend_from_slice(w);
        }
        text.extend_from_slice(b"\n  ]");
    }
    text
}

/// One verdict as [`verdict`] builds it, keys in the same (sorted) order.
struct StreamedVerdict<'a> {
    sources: &'a SourceMap,
    v: &'a VerdictEntry,
    evidence: Option<&'a Vec<Value>>,
}

impl Serialize for StreamedVerdict<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (v, sources) = (self.v, self.sources);
        let mut m = s.serialize_map(None)?;
        if let Some(evidence) = self.evidence {
            m.serialize_entry("evidence", evidence)?;
        }
        if !v.fix.is_empty() {
            // Rare and small: built as a map so duplicate keys resolve as in `verdict`.
            let fix: Map<String, Value> =
                v.fix.iter().map(|(k, x)| (k.clone(), json!(x))).collect();
            m.serialize_entry("fix", &fix)?;
        }
        m.serialize_entry("help", &v.help)?;
        m.serialize_entry("key", &v.key)?;
        if let Some(level) = v.level {
            m.serialize_entry("level", &level)?;
        }
        m.serialize_entry("link", &v.link)?;
        m.serialize_entry("node", &v.node)?;
        m.serialize_entry("reason", &v.reason)?;
        m.serialize_entry("rule", &v.rule)?;
        m.serialize_entry("rule_name", &v.rule_name)?;
        if let Some(side) = v.side {
            m.serialize_entry("side", side)?;
        }
        m.serialize_entry(
            "source",
            &StreamedSource {
                sources,
                kind: v.source.as_str(),
                span: v.span,
            },
        )?;
        if let Some(sup) = &v.suppressed {
            m.serialize_entry("suppressed", &suppression(sources, sup))?;
        }
        m.serialize_entry("value", &v.value)?;
        m.serialize_entry("verdict", v.verdict.as_str())?;
        m.end()
    }
}

struct StreamedSource<'a> {
    sources: &'a SourceMap,
    kind: &'a str,
    span: Option<Span>,
}

impl Serialize for StreamedSource<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self.span {
            Some(span) => {
                let loc = self.sources.location(span);
                m.serialize_entry("column", &loc.column)?;
                m.serialize_entry("kind", self.kind)?;
                m.serialize_entry("line", &loc.line)?;
                m.serialize_entry("path", &loc.path)?;
            }
            None => m.serialize_entry("kind", self.kind)?,
        }
        m.end()
    }
}
