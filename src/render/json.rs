//! The JSON report, version 1 (DESIGN.md "JSON report"): fixed field names, extra fields added.

use crate::diag::Diagnostic;
use crate::engine::{Mode, Report, VerdictEntry};
use crate::facts::HopFacts;
use crate::rules::eval::format_number;
use crate::source::{SourceMap, Span};
use serde_json::{json, Map, Value};

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
    let errors = r
        .diagnostics
        .iter()
        .filter(|d| d.severity == crate::diag::Severity::Error)
        .count();
    let warnings = r
        .diagnostics
        .iter()
        .filter(|d| d.severity == crate::diag::Severity::Warning)
        .count();
    let mut out = json!({
        "version": 1,
        "tool": {"name": "twlint", "version": env!("CARGO_PKG_VERSION")},
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
        "verdicts": r.verdicts.iter().map(|v| verdict(sources, v)).collect::<Vec<_>>(),
        "diagnostics": r.diagnostics.iter().map(|d| diagnostic(sources, d)).collect::<Vec<_>>(),
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
    let hidden = r.verdicts.iter().filter(|v| v.suppressed.is_some()).count();
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
    serde_json::to_writer_pretty(&mut *out, &report(sources, r))?;
    writeln!(out)
}
