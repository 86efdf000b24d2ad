//! The diagnostics a run reports besides the input's own: a value written in a file gets one at
//! its place when it is dangerous on any hop, or pointless on every hop of that node. Then every
//! run's diagnostics are de-duplicated, put in place order and capped per rule and file.
//!
//! A `tcp_tw_reuse = 1` that is pointless on the web server's incoming hop but useful on its hop
//! to the database is not flagged: the verdicts of all of a node's hops are weighed together.
//!
//! A value nobody wrote (a kernel default) has no place in a sysctl file, yet a dangerous one
//! fails the run: its diagnostic points at the topology's line of the link it is dangerous on
//! (one per link), or of its node for a node-level verdict ([`Places`]), and has no place at all
//! when there is no topology. Without one a CI format would print nothing for a failing run.

use crate::diag::{Diagnostic, Label, LeftOut, Verdict};
use crate::report::VerdictEntry;
use crate::source::{FileId, SourceMap, Span};
use crate::sysctl::SysctlSet;
use std::collections::HashMap;

/// Where a rule's extra labels are collected: (node, key, rule id).
pub(super) type LabelKey = (String, &'static str, String);

/// Where the findings on values nobody wrote are pointed at: the first line of each topology
/// node and link, by name. Empty without a topology.
#[derive(Debug, Default)]
pub(super) struct Places {
    pub nodes: HashMap<String, Span>,
    pub links: HashMap<String, Span>,
}

impl Places {
    /// The places of a topology's nodes (their `name:` line) and links (their first line, up to
    /// its first comma: a one-line `{from: a, to: b, ...}` is marked at `{from: a`, so the label
    /// drawn after the mark stays within the terminal).
    pub fn of(
        topo: &crate::topology::Topology,
        links: &[crate::facts::LinkInfo],
        sources: &SourceMap,
    ) -> Places {
        let first_line = |s: Span| {
            let text = sources.get(s.file).text.get(s.range()).unwrap_or("");
            let line = text.find(['\r', '\n']).map_or(text, |i| &text[..i]);
            let end = line.find(',').unwrap_or(line.len());
            Span::new(s.file, s.from(), s.from() + end)
        };
        Places {
            nodes: topo
                .nodes
                .iter()
                .map(|n| (n.name.value.clone(), first_line(n.span)))
                .collect(),
            links: links
                .iter()
                .zip(&topo.links)
                .map(|(info, l)| (info.name.clone(), first_line(l.span)))
                .collect(),
        }
    }
}

/// The tail of every run: diagnostics for the verdicts that count (see the module docs), then
/// one list without repeats, in place order, capped per rule and file.
pub(super) fn finish(
    verdicts: &[VerdictEntry],
    labels: &HashMap<LabelKey, Vec<Label>>,
    places: &Places,
    diags: &mut Vec<Diagnostic>,
    left_out: &[LeftOut],
    sources: &SourceMap,
) {
    verdict_diagnostics(verdicts, labels, diags);
    default_diagnostics(verdicts, places, diags);
    dedupe(diags);
    sort_by_place(diags, sources);
    cap_per_rule(diags, left_out);
}

/// The places that apply values written in another file (an Ansible task's `{{ var }}`
/// whose value a role's defaults hold; see `Assignment::via`), by the value's place.
#[derive(Debug, Default)]
pub(super) struct Vias(HashMap<Span, Span>);

impl Vias {
    pub fn add(&mut self, set: &SysctlSet) {
        for a in set.files.iter().flat_map(|f| &f.assignments) {
            if let Some(via) = a.via() {
                self.0.insert(a.value_span(), via);
            }
        }
    }

    /// Adds the applying place to each diagnostic at such a value, as a related place: the
    /// finding is where the value is written, and the task that applies it is named with it.
    pub fn label(&self, diags: &mut [Diagnostic]) {
        if self.0.is_empty() {
            return;
        }
        for d in diags {
            let Some(&via) = d.primary.as_ref().and_then(|p| self.0.get(&p.span)) else {
                continue;
            };
            let l = Label::new(via, "applied by this task");
            if !d.secondary.contains(&l) {
                d.secondary.push(l);
            }
        }
    }
}

/// Turns verdicts on written values into diagnostics (see the module docs for when).
fn verdict_diagnostics(
    verdicts: &[VerdictEntry],
    extra_labels: &HashMap<LabelKey, Vec<Label>>,
    diags: &mut Vec<Diagnostic>,
) {
    // Grouped by (node, key): each verdict's group found through a hash map, the groups put
    // in (node, key) order, then each group's verdicts laid out together in one list, in the
    // run's order. A B-tree of a million verdicts compared names at every level of every
    // insertion (more than half of this), and a list per group grew by copies.
    if verdicts.is_empty() {
        return;
    }
    // Grouped first by the addresses and lengths of the node's shared name and the key's
    // static text (a node's verdicts share its name, and every key is the table's text), which
    // hashes two numbers where the texts took a hundred instructions a verdict; two groups of
    // equal texts, which that may give and a run does not make, are found once the groups are
    // in order, and then the texts are hashed as they always were.
    let by_address = group_by(verdicts, |v| {
        (
            (v.node.as_ptr() as usize, v.node.len()),
            (v.key.as_ptr() as usize, v.key.len()),
        )
    });
    let (names, group_of, order) = match by_address {
        Some(grouped) => grouped,
        None => group_by(verdicts, |v| (&*v.node, v.key)).expect("text keys are the names"),
    };
    // Where each group's verdicts start in `laid`, by group, then the verdicts laid out.
    let mut start = vec![0usize; names.len() + 1];
    for &g in &group_of {
        start[g as usize + 1] += 1;
    }
    for g in 0..names.len() {
        start[g + 1] += start[g];
    }
    let mut next = start.clone();
    let mut laid: Vec<&VerdictEntry> = vec![&verdicts[0]; verdicts.len()];
    for (v, &g) in verdicts.iter().zip(&group_of) {
        laid[next[g as usize]] = v;
        next[g as usize] += 1;
    }
    // Each group's diagnostics are its own: groups are weighed on all cores, a batch at a
    // time, and their diagnostics taken in the groups' order.
    let batches: Vec<&[u32]> = order.chunks(GROUP_BATCH).collect();
    let made = crate::pool::par_map_from(2, &batches, |batch| {
        let mut made = Vec::new();
        for &g in *batch {
            let g = g as usize;
            let (node, key) = names[g];
            group_diagnostics(
                node,
                key,
                &laid[start[g]..start[g + 1]],
                extra_labels,
                &mut made,
            );
        }
        made
    });
    diags.extend(made.into_iter().flatten());
}

/// (node, key) groups weighed on one thread between two looks at the next batch.
const GROUP_BATCH: usize = 512;

/// The distinct (node, key) names of `verdicts` as `key` tells them apart, in the order they
/// first appear; each verdict's group, in the run's order; and the groups in the order of
/// their names (a `BTreeMap`'s order). `None` when two groups have the same names.
#[allow(clippy::type_complexity)]
fn group_by<'v, K: std::hash::Hash + Eq>(
    verdicts: &'v [VerdictEntry],
    key: impl Fn(&'v VerdictEntry) -> K,
) -> Option<(Vec<(&'v str, &'static str)>, Vec<u32>, Vec<u32>)> {
    let mut names: Vec<(&str, &'static str)> = Vec::new();
    let mut group_of: Vec<u32> = Vec::with_capacity(verdicts.len());
    let mut index: foldhash::HashMap<K, u32> = foldhash::HashMap::default();
    for v in verdicts {
        let g = *index.entry(key(v)).or_insert_with(|| {
            names.push((&*v.node, v.key));
            (names.len() - 1) as u32
        });
        group_of.push(g);
    }
    let mut order: Vec<u32> = (0..names.len() as u32).collect();
    order.sort_unstable_by_key(|&g| names[g as usize]);
    if order
        .windows(2)
        .any(|w| names[w[0] as usize] == names[w[1] as usize])
    {
        return None;
    }
    Some((names, group_of, order))
}

/// The diagnostics of one (node, key) group's verdicts (see the module docs), pushed to
/// `diags`.
fn group_diagnostics(
    node: &str,
    key: &'static str,
    entries: &[&VerdictEntry],
    extra_labels: &HashMap<LabelKey, Vec<Label>>,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(span) = entries[0].span else {
        return;
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
        _ => return,
    };
    let mut seen_rules: Vec<&str> = Vec::new();
    for e in entries.iter().filter(|e| e.verdict == report) {
        let Some(rule) = e.rule.as_deref() else {
            continue;
        };
        // A refused value's row: config reported TW004 at that place already.
        if rule == "TW004" || seen_rules.contains(&rule) {
            continue;
        }
        seen_rules.push(rule);
        let hops: Vec<String> = entries
            .iter()
            .filter(|x| x.rule.as_deref() == Some(rule))
            .filter_map(|x| {
                x.link
                    .as_ref()
                    .map(|l| format!("{l} ({} side)", x.side.unwrap_or("?")))
            })
            .collect();
        let severity = e.level.unwrap_or(report.severity());
        let mut d = Diagnostic::new(rule, severity, e.reason.to_string())
            .with_verdict(report)
            .with_node(node.to_string())
            .with_key(key)
            .at(span, format!("{report} here"));
        if let Some(h) = &e.help {
            d = d.with_help(h.to_string());
        }
        if !hops.is_empty() {
            d = d.with_note(format!("on {}", hops.join(", ")));
        }
        if let Some(labels) = extra_labels.get(&(node.to_string(), key, rule.to_string())) {
            for l in labels {
                if !d.secondary.contains(l) && l.span != span {
                    d.secondary.push(l.clone());
                }
            }
        }
        diags.push(d);
    }
}

/// Diagnostics for the dangerous verdicts on values nobody wrote: one per node, key, rule and
/// message. A finding on one link points at that link's line; one that says the same on several
/// links is about the node (the TIME_WAIT sockets of all its hops) and points at the node's line.
/// Without a topology there is no line: the label becomes a note.
fn default_diagnostics(verdicts: &[VerdictEntry], places: &Places, diags: &mut Vec<Diagnostic>) {
    // (node, key, rule, message): one diagnostic each.
    type Finding<'a> = (&'a str, &'a str, &'a str, &'a str);
    let mut groups: Vec<(Finding<'_>, Vec<&VerdictEntry>)> = Vec::new();
    let mut index: foldhash::HashMap<Finding<'_>, usize> = foldhash::HashMap::default();
    for e in verdicts {
        if e.span.is_some() || e.verdict != Verdict::Dangerous {
            continue;
        }
        let Some(rule) = e.rule.as_deref() else {
            continue;
        };
        let k = (&*e.node, e.key, rule, &*e.reason);
        let i = *index.entry(k).or_insert_with(|| {
            groups.push((k, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(e);
    }
    for ((node, key, rule, reason), entries) in groups {
        let e = entries[0];
        let value = e.value.as_deref().unwrap_or("memory-dependent");
        let label = format!("{key} = {value} (kernel default) on {node}");
        let hops: Vec<String> = entries
            .iter()
            .filter_map(|x| {
                x.link
                    .as_ref()
                    .map(|l| format!("{l} ({} side)", x.side.unwrap_or("?")))
            })
            .collect();
        let at = match (&e.link, entries.len()) {
            (Some(l), 1) => places
                .links
                .get(&**l)
                .map(|s| (*s, format!("{label}, {} side", e.side.unwrap_or("?")))),
            _ => places.nodes.get(node).map(|s| (*s, label.clone())),
        };
        let mut d = Diagnostic::new(rule, Verdict::Dangerous.severity(), reason)
            .with_verdict(Verdict::Dangerous)
            .with_node(node)
            .with_key(e.key);
        d = match at {
            Some((span, label)) => d.at(span, label),
            None => d.with_note(label),
        };
        if let Some(h) = &e.help {
            d = d.with_help(h.to_string());
        }
        if !hops.is_empty() {
            d = d.with_note(format!("on {}", hops.join(", ")));
        }
        diags.push(d);
    }
}

fn dedupe(diags: &mut Vec<Diagnostic>) {
    // Which to keep, decided first with the texts borrowed (a copy of four texts per
    // diagnostic was most of this), then kept.
    let keep: Vec<bool> = {
        let mut seen = foldhash::HashSet::default();
        diags
            .iter()
            .map(|d| {
                seen.insert((
                    d.code.as_str(),
                    d.primary
                        .as_ref()
                        .map(|l| (l.span.file, l.span.start, l.span.end)),
                    d.message.as_str(),
                    // Two nodes' findings at one link line differ by their label (which names
                    // the node); two nodes sharing a file share one finding at its line.
                    d.primary.as_ref().map(|l| l.message.as_str()),
                    d.primary.is_none().then_some(d.node.as_deref()),
                ))
            })
            .collect()
    };
    let mut keep = keep.into_iter();
    diags.retain(|_| keep.next().unwrap_or(true));
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

pub use crate::diag::MAX_PER_RULE_AND_FILE;

/// Keeps the first [`MAX_PER_RULE_AND_FILE`] diagnostics of each rule in each file (in place
/// order) and notes on the last one kept how many were left out, counting those the checks
/// left out already (`left_out`, all of them past the first ones of their file).
pub(super) fn cap_per_rule(diags: &mut Vec<Diagnostic>, left_out: &[LeftOut]) {
    // The codes borrowed (a copy of each diagnostic's code was most of this).
    let mut count: foldhash::HashMap<(&str, Option<FileId>), usize> = Default::default();
    for l in left_out {
        *count.entry((l.code, Some(l.file))).or_default() += l.count;
    }
    for d in diags.iter() {
        let k = (d.code.as_str(), d.primary.as_ref().map(|l| l.span.file));
        *count.entry(k).or_default() += 1;
    }
    if count.values().all(|&n| n <= MAX_PER_RULE_AND_FILE) {
        return;
    }
    let count: HashMap<(String, Option<FileId>), usize> = count
        .into_iter()
        .map(|((code, file), n)| ((code.to_string(), file), n))
        .collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::{judge, Options, Request};

    /// A generated topology's verdicts grouped by their names' addresses are grouped as by
    /// their texts; a node's name in a second allocation is found, and then the texts decide.
    #[test]
    fn groups_by_address_are_the_groups_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("generated.yaml");
        std::fs::write(&path, crate::judge::gen::topology(60, 300)).unwrap();
        let mut sources = SourceMap::new();
        let (rules, _) = crate::rules::load::load_catalog(&[], &mut sources).unwrap();
        let opts = Options::default();
        let loaded = crate::judge::load_topology(&path, &opts, &mut sources).unwrap();
        let report = judge(Request::topology(loaded), &opts, &rules, &mut sources).unwrap();
        let verdicts = &report.verdicts;
        assert!(verdicts.len() > 1000);
        let by_text = group_by(verdicts, |v| (&*v.node, v.key)).unwrap();
        let by_address = group_by(verdicts, |v| {
            (
                (v.node.as_ptr() as usize, v.node.len()),
                (v.key.as_ptr() as usize, v.key.len()),
            )
        })
        .unwrap();
        assert_eq!(by_address, by_text);
        // The last verdict's node named again from a text of its own: two groups by address
        // with one name.
        let mut again = verdicts.clone();
        let last = again.last_mut().unwrap();
        last.node = last.node.to_string().into();
        assert!(again[..again.len() - 1]
            .iter()
            .any(|v| v.node == again[again.len() - 1].node && v.key == again[again.len() - 1].key));
        let by_address = group_by(&again, |v| {
            (
                (v.node.as_ptr() as usize, v.node.len()),
                (v.key.as_ptr() as usize, v.key.len()),
            )
        });
        assert!(by_address.is_none());
        let mut from_copy = Vec::new();
        let mut from_shared = Vec::new();
        verdict_diagnostics(&again, &HashMap::new(), &mut from_copy);
        verdict_diagnostics(verdicts, &HashMap::new(), &mut from_shared);
        assert_eq!(format!("{from_copy:?}"), format!("{from_shared:?}"));
        assert!(!from_shared.is_empty());
    }
}
