//! The diagnostics a run reports besides the input's own: a value written in a file gets one at
//! its place when it is dangerous on any hop, or pointless on every hop of that node. Then every
//! run's diagnostics are de-duplicated, put in place order and capped per rule and file.
//!
//! A `tcp_tw_reuse = 1` that is pointless on the web server's incoming hop but useful on its hop
//! to the database is not flagged: the verdicts of all of a node's hops are weighed together.

use crate::diag::{Diagnostic, Label, Verdict};
use crate::report::VerdictEntry;
use crate::source::{FileId, SourceMap};
use crate::sysctl::SysctlSet;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Where a rule's extra labels are collected: (node, key, rule id).
pub(super) type LabelKey = (String, &'static str, String);

/// The tail of every run: diagnostics for the verdicts on written values, then one list without
/// repeats, in place order, capped per rule and file.
pub(super) fn finish(
    verdicts: &[VerdictEntry],
    labels: &HashMap<LabelKey, Vec<Label>>,
    diags: &mut Vec<Diagnostic>,
    sources: &SourceMap,
) {
    verdict_diagnostics(verdicts, labels, diags);
    dedupe(diags);
    sort_by_place(diags, sources);
    cap_per_rule(diags);
}

/// Turns verdicts on written values into diagnostics (see the module docs for when).
fn verdict_diagnostics(
    verdicts: &[VerdictEntry],
    extra_labels: &HashMap<LabelKey, Vec<Label>>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut by_node_key: BTreeMap<(String, &'static str), Vec<&VerdictEntry>> = BTreeMap::new();
    for v in verdicts {
        by_node_key
            .entry((v.node.clone(), v.key))
            .or_default()
            .push(v);
    }
    for ((node, key), entries) in by_node_key {
        let Some(span) = entries[0].span else {
            continue;
        };
        let worst = entries
            .iter()
            .map(|e| e.verdict)
            .max()
            .unwrap_or(Verdict::Safe);
        let report = match worst {
            Verdict::Dangerous => Verdict::Dangerous,
            Verdict::Pointless if entries.iter().all(|e| e.verdict == Verdict::Pointless) => {
                Verdict::Pointless
            }
            _ => continue,
        };
        let mut seen_rules: Vec<String> = Vec::new();
        for e in entries.iter().filter(|e| e.verdict == report) {
            let Some(rule) = &e.rule else { continue };
            // A refused value's row: config reported TW004 at that place already.
            if rule == "TW004" || seen_rules.contains(rule) {
                continue;
            }
            seen_rules.push(rule.clone());
            let hops: Vec<String> = entries
                .iter()
                .filter(|x| x.rule.as_ref() == Some(rule))
                .filter_map(|x| {
                    x.link
                        .as_ref()
                        .map(|l| format!("{l} ({} side)", x.side.unwrap_or("?")))
                })
                .collect();
            let severity = e.level.unwrap_or(report.severity());
            let mut d = Diagnostic::new(rule.clone(), severity, e.reason.clone())
                .with_verdict(report)
                .with_node(node.clone())
                .with_key(key)
                .at(span, format!("{report} here"));
            if let Some(h) = &e.help {
                d = d.with_help(h.clone());
            }
            if !hops.is_empty() {
                d = d.with_note(format!("on {}", hops.join(", ")));
            }
            if let Some(labels) = extra_labels.get(&(node.clone(), key, rule.clone())) {
                for l in labels {
                    if !d.secondary.contains(l) && l.span != span {
                        d.secondary.push(l.clone());
                    }
                }
            }
            diags.push(d);
        }
    }
}

fn dedupe(diags: &mut Vec<Diagnostic>) {
    let mut seen = HashSet::new();
    diags.retain(|d| {
        seen.insert((
            d.code.clone(),
            d.primary
                .as_ref()
                .map(|l| (l.span.file, l.span.start, l.span.end)),
            d.message.clone(),
        ))
    });
}

/// Orders diagnostics by file and position (those without a place last), so a report reads top
/// to bottom through each file and two runs list them identically.
pub(super) fn sort_by_place(diags: &mut [Diagnostic], sources: &SourceMap) {
    // The key borrows the path instead of cloning it for every comparison.
    // `None` sorts before `Some`, hence the flag that puts place-less diagnostics last.
    diags.sort_by_cached_key(|d| match d.primary.as_ref() {
        Some(l) => (
            false,
            Some((sources.get(l.span.file).path.as_str(), l.span.start)),
        ),
        None => (true, None),
    });
}

/// Most diagnostics of one rule kept per file. A generated file can repeat one mistake on
/// every line; past this many, more of the same tell the reader nothing and only cost memory
/// and output (a 100,000-line file would otherwise print 100,000 warnings).
pub const MAX_PER_RULE_AND_FILE: usize = 200;

/// Keeps the first [`MAX_PER_RULE_AND_FILE`] diagnostics of each rule in each file (in place
/// order) and notes on the last one kept how many were left out.
pub(super) fn cap_per_rule(diags: &mut Vec<Diagnostic>) {
    let mut count: HashMap<(String, Option<FileId>), usize> = HashMap::new();
    for d in diags.iter() {
        let k = (d.code.clone(), d.primary.as_ref().map(|l| l.span.file));
        *count.entry(k).or_default() += 1;
    }
    if count.values().all(|&n| n <= MAX_PER_RULE_AND_FILE) {
        return;
    }
    let mut seen: HashMap<(String, Option<FileId>), usize> = HashMap::new();
    let mut keep = Vec::with_capacity(diags.len());
    for mut d in diags.drain(..) {
        let k = (d.code.clone(), d.primary.as_ref().map(|l| l.span.file));
        let n = seen.entry(k.clone()).or_default();
        *n += 1;
        if *n > MAX_PER_RULE_AND_FILE {
            continue;
        }
        if *n == MAX_PER_RULE_AND_FILE && count[&k] > MAX_PER_RULE_AND_FILE {
            let note = format!(
                "{} more {} diagnostics in this file are not shown",
                count[&k] - MAX_PER_RULE_AND_FILE,
                d.code
            );
            d = d.with_note(note);
        }
        keep.push(d);
    }
    *diags = keep;
}

/// Copies the diagnostics of a node's sysctl files into the run, naming the node.
pub(super) fn node_diags(name: &str, set: &SysctlSet, diags: &mut Vec<Diagnostic>) {
    for d in &set.diagnostics {
        let mut d = d.clone();
        if d.node.is_none() {
            d.node = Some(name.to_string());
        }
        diags.push(d);
    }
}
