//! Verdicts: every judged key of every node, by the rules of the catalog, on each side of each
//! hop of a topology or on a node of its own. Each key keeps the worst verdict any rule gives it
//! on that (link, node), with the rule's message, help, extra labels and fix.

use super::diagnostics::LabelKey;
use super::nodes::NodeState;
use crate::config::{self, NodeConfig};
use crate::diag::{Label, Verdict};
use crate::error::{Error, Result};
use crate::facts::{self, LinkInfo};
use crate::middlebox::{ConntrackFacts, PathFacts};
use crate::report::{HopSummary, VerdictEntry};
use crate::rules::eval::{self, KeyVars};
use crate::rules::{RuleSet, Scope};
use crate::topology::Topology;
use std::collections::HashMap;

/// A rule whose condition or message fails at run time is a bug in that rule file.
#[derive(Debug, thiserror::Error)]
#[error("rule {rule} ({path}) failed on {subject}: {message}")]
pub struct RuleFailure {
    pub rule: String,
    pub path: String,
    pub subject: String,
    pub message: String,
}

/// One key judged on one node: the worst verdict any rule gives, with what the report says.
struct Judged {
    verdict: Verdict,
    rule: Option<(String, String)>,
    reason: String,
    help: Option<String>,
    labels: Vec<Label>,
    fix: Vec<(String, String)>,
    /// The rule's own level when it is not the verdict's (`severity:` of a CEL rule).
    level: Option<crate::diag::Severity>,
}

/// The variables a rule sees for one key of a node.
fn key_vars(cfg: &NodeConfig, key: &'static str) -> Option<KeyVars> {
    let v = cfg.value(key)?;
    let shown = v
        .printed
        .clone()
        .or_else(|| v.written.clone())
        .unwrap_or_default();
    Some(KeyVars {
        key: key.to_string(),
        num: shown
            .split_ascii_whitespace()
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0),
        value: shown,
        set: v.set,
        present: v.present,
        source: v.kind.as_str().to_string(),
    })
}

/// Runs every rule of `key` on a node (on one side of a hop when `peer` is given) and keeps the
/// worst verdict.
fn judge_key(
    rules: &RuleSet,
    key: &'static str,
    node: &NodeState,
    peer: Option<&NodeState>,
    base: &cel::Context<'_, '_>,
    link: Option<&str>,
) -> std::result::Result<Option<Judged>, RuleFailure> {
    let Some(vars) = key_vars(&node.cfg, key) else {
        return Ok(None);
    };
    let scope = eval::KeyScope(&vars);
    let ctx = eval::key_scope(base, &scope);
    let mut best: Option<Judged> = None;
    for (rule, cel_rule) in rules.for_key(key) {
        if cel_rule.scope == Scope::Hop && peer.is_none() {
            continue;
        }
        let fail = |message: String| RuleFailure {
            rule: rule.id.clone(),
            path: rule.path.clone(),
            // Written only when a rule fails: formatted for every key it was a tenth of judging.
            subject: match link {
                Some(link) => format!("{link} / {} / {key}", node.cfg.name),
                None => format!("{} / {key}", node.cfg.name),
            },
            message,
        };
        if !eval::condition(&cel_rule.when, &ctx).map_err(fail)? {
            continue;
        }
        if best.as_ref().is_some_and(|b| b.verdict >= cel_rule.verdict) {
            continue;
        }
        let reason = eval::render(&cel_rule.message, &ctx).map_err(fail)?;
        let help = eval::render(&cel_rule.help, &ctx).map_err(fail)?;
        let mut labels = Vec::new();
        for l in &cel_rule.labels {
            if let Some(w) = &l.when {
                if !eval::condition(w, &ctx).map_err(fail)? {
                    continue;
                }
            }
            let owner = if l.on_peer { peer } else { Some(node) };
            if let Some(span) = owner.and_then(|o| o.cfg.value(&l.key)).and_then(|v| v.span) {
                labels.push(Label::new(span, l.message.clone()));
            }
        }
        let mut fix = Vec::new();
        for (k, t) in &cel_rule.fix {
            fix.push((k.clone(), eval::render(t, &ctx).map_err(fail)?));
        }
        best = Some(Judged {
            verdict: cel_rule.verdict,
            rule: Some((rule.id.clone(), rule.name.clone())),
            reason,
            help: Some(help),
            labels,
            fix,
            level: cel_rule.level,
        });
    }
    let v = node.cfg.value(key).expect("checked above");
    let judged = best.unwrap_or_else(|| Judged {
        verdict: Verdict::Safe,
        rule: None,
        reason: if node.facts.unseen {
            "stands for hosts twlint cannot see; shown with kernel defaults, not judged".into()
        } else if v.set {
            "no rule objects to this value here".into()
        } else {
            "kernel default; no rule objects to it here".into()
        },
        help: None,
        labels: Vec::new(),
        fix: Vec::new(),
        level: None,
    });
    Ok(Some(match &v.refused {
        Some(r) => refused_row(key, v, r, judged),
        None => judged,
    }))
}

/// The row of a key whose last written value the kernel refuses: dangerous at that line (the
/// file does not do what it says), naming the value that stayed in force and what the rules
/// make of it. `advise` writes the value in force, so the refused line stops being the last.
fn refused_row(key: &str, v: &config::Value, r: &config::Refused, on_value: Judged) -> Judged {
    let shown = v.printed.as_deref().unwrap_or("unknown");
    let in_force = if v.set {
        format!("`{shown}`, written before it, stays in force")
    } else if v.printed.is_some() {
        format!("the kernel default `{shown}` stays in force")
    } else {
        "the kernel default stays in force".to_string()
    };
    let judged_value = match (&on_value.rule, on_value.verdict) {
        (Some(_), verdict) if verdict != Verdict::Safe => {
            format!("; that value is {verdict}: {}", on_value.reason)
        }
        _ => String::new(),
    };
    Judged {
        verdict: Verdict::Dangerous,
        rule: Some(("TW004".into(), "invalid-value".into())),
        reason: format!(
            "the kernel refuses `{}` for `{key}` ({}), so {in_force}{judged_value}",
            r.written, r.reason
        ),
        help: Some(match &on_value.help {
            Some(h) if on_value.verdict != Verdict::Safe => {
                format!("write a value the kernel accepts; for the value in force: {h}")
            }
            _ => "write a value the kernel accepts, or delete the line".to_string(),
        }),
        labels: on_value.labels,
        fix: if on_value.fix.is_empty() {
            v.printed
                .as_ref()
                .map(|p| vec![(key.to_string(), p.clone())])
                .unwrap_or_default()
        } else {
            on_value.fix
        },
        level: None,
    }
}

/// The matrix entry for a judged key.
fn entry(
    link: Option<String>,
    side: Option<&'static str>,
    node: &NodeState,
    key: &'static str,
    j: Judged,
) -> VerdictEntry {
    let v = node.cfg.value(key).expect("judged keys have values");
    VerdictEntry {
        link,
        node: node.cfg.name.clone(),
        side,
        key,
        value: v.printed.clone().or_else(|| v.written.clone()),
        source: v.kind,
        span: v.refused.as_ref().map(|r| r.span).or(v.span),
        verdict: j.verdict,
        rule_name: j.rule.as_ref().map(|r| r.1.clone()),
        rule: j.rule.map(|r| r.0),
        reason: j.reason,
        help: j.help,
        suppressed: None,
        level: j.level,
        fix: j.fix,
        unseen: node.facts.unseen,
    }
}

/// Judges every in-scope key of a node that is on no hop, collecting its rules' extra labels.
pub(super) fn judge_node(
    name: &str,
    rules: &RuleSet,
    state: &NodeState,
    base: &cel::Context<'_, '_>,
    labels: &mut Vec<(LabelKey, Vec<Label>)>,
    verdicts: &mut Vec<VerdictEntry>,
) -> Result<()> {
    for spec in config::judged_keys() {
        let judged = judge_key(rules, spec.key, state, None, base, None)
            .map_err(|e| Error::RuleFailed(e.to_string()))?;
        if let Some(mut j) = judged {
            if let Some((id, _)) = &j.rule {
                labels.push((
                    (name.to_string(), spec.key, id.clone()),
                    std::mem::take(&mut j.labels),
                ));
            }
            verdicts.push(entry(None, None, state, spec.key, j));
        }
    }
    Ok(())
}

/// What judging a topology's links gives.
pub(super) struct LinkVerdicts {
    pub verdicts: Vec<VerdictEntry>,
    pub hops: Vec<HopSummary>,
    pub labels: HashMap<LabelKey, Vec<Label>>,
}

/// Judges every in-scope key on both ends of every link, the middlebox keys of every middlebox
/// with conntrack on every link through it, then the node-level checks of the endpoints on no
/// link (a removed key is wrong anywhere).
///
/// Links are independent of each other once the facts are in (the topology's aggregates were
/// summed before), so they are judged on all cores ([`crate::pool::par_map`]); the results are
/// then taken in link order, so the report is the same whatever thread judged what.
pub(super) fn judge_topology(
    topo: &Topology,
    links: &[LinkInfo],
    states: &[NodeState],
    rules: &RuleSet,
) -> Result<LinkVerdicts> {
    let mut out = LinkVerdicts {
        verdicts: Vec::new(),
        hops: Vec::new(),
        labels: HashMap::new(),
    };
    let figures = super::nodes::middlebox_figures(topo, states, links);
    let items: Vec<_> = links.iter().zip(&topo.links).zip(&figures).collect();
    let mut on_a_link = vec![false; states.len()];
    // A window of links at a time, each link's results moved into the report before the next
    // window is judged: held for every link before the merge, they doubled a large topology's
    // peak memory.
    for window in items.chunks(LINK_WINDOW) {
        let judged =
            crate::pool::par_map_from(PARALLEL_FROM, window, |((link, l), (path, cts))| {
                ROOT.with(|root| judge_link(link, l, path, cts, states, rules, root))
            });
        for j in judged {
            let j = j?;
            for i in j.on {
                on_a_link[i] = true;
            }
            out.hops.push(j.hop);
            out.verdicts.extend(j.verdicts);
            for (key, labels) in j.labels {
                out.labels.entry(key).or_default().extend(labels);
            }
        }
    }
    judge_unlinked(states, &on_a_link, rules, &mut out.verdicts)?;
    for l in out.labels.values_mut() {
        l.dedup();
    }
    Ok(out)
}

/// Links judged between two merges into the report (see [`judge_topology`]): enough to keep
/// every core busy, few enough that their results are a small part of the report.
const LINK_WINDOW: usize = 2048;

/// Links (or unlinked nodes) from which judging is spread over the cores: a small topology's
/// few links are judged sooner on the calling thread than threads start.
pub(super) const PARALLEL_FROM: usize = 32;

thread_local! {
    /// CEL's standard library, built once per thread that judges.
    static ROOT: eval::RootContext = eval::root_context();
}

/// What judging one link gives: its hop summary, its verdicts and labels in the order they
/// were made, and the nodes it judged (both ends and its middleboxes).
struct LinkJudged {
    hop: HopSummary,
    verdicts: Vec<VerdictEntry>,
    labels: Vec<(LabelKey, Vec<Label>)>,
    on: Vec<usize>,
}

/// Judges both ends of one link and the middleboxes with conntrack on its way.
fn judge_link(
    link: &LinkInfo,
    l: &crate::topology::Link,
    path: &PathFacts,
    cts: &[ConntrackFacts],
    states: &[NodeState],
    rules: &RuleSet,
    root: &eval::RootContext,
) -> Result<LinkJudged> {
    let mut verdicts = Vec::new();
    let mut labels = Vec::new();
    let mut on = vec![link.from, link.to];
    let mut summary = None;
    let from_role = states[link.from].facts.role.clone();
    let mut closing: Option<facts::HopFacts> = None;
    for client_side in [true, false] {
        let (me, peer) = if client_side {
            (link.from, link.to)
        } else {
            (link.to, link.from)
        };
        let mut hop = facts::hop_facts(
            link,
            client_side,
            &states[me].facts,
            &states[peer].facts,
            &from_role,
        );
        if hop.closes_first {
            closing = Some(hop.clone());
        }
        hop.path = path.clone();
        if client_side {
            summary = Some(HopSummary {
                link: link.name.clone(),
                from: l.from.value.clone(),
                to: l.to.value.clone(),
                port: link.port,
                via: l.via.as_ref().map(|v| v.value.clone()),
                closes_first: l.closes_first.value.clone(),
                rate: link.rate,
                client: hop.clone(),
                time_wait_sockets: 0.0,
                time_wait_per_host: 0.0,
                time_wait_bounded: false,
                open_declared: l.open.is_some(),
                via_conntrack: Vec::new(),
            });
        }
        let hop_cel = eval::to_cel_hop(&hop);
        let bound = eval::Bound::new(&states[me].cel, Some((&states[peer].cel, &hop_cel)));
        let base = eval::base_context(root, &bound);
        let side = if client_side { "client" } else { "server" };
        for spec in config::judged_keys() {
            let j = judge_key(
                rules,
                spec.key,
                &states[me],
                Some(&states[peer]),
                &base,
                Some(&link.name),
            )
            .map_err(|e| Error::RuleFailed(e.to_string()))?;
            if let Some(mut j) = j {
                if let Some((id, _)) = &j.rule {
                    labels.push((
                        (states[me].cfg.name.clone(), spec.key, id.clone()),
                        std::mem::take(&mut j.labels),
                    ));
                }
                verdicts.push(entry(
                    Some(link.name.clone()),
                    Some(side),
                    &states[me],
                    spec.key,
                    j,
                ));
            }
        }
    }
    let mut summary = summary.expect("the client side comes first");
    if let Some(h) = closing {
        summary.time_wait_sockets = h.tw_sockets;
        summary.time_wait_per_host = h.tw_per_host;
        summary.time_wait_bounded = h.tw_bounded;
    }
    for (&b, ct) in link.vias.iter().zip(cts) {
        on.push(b);
        if ct.tracks {
            summary
                .via_conntrack
                .push((states[b].cfg.name.clone(), ct.clone()));
            judge_via(
                link,
                b,
                path,
                ct,
                states,
                rules,
                root,
                &mut verdicts,
                &mut labels,
            )?;
        }
    }
    Ok(LinkJudged {
        hop: summary,
        verdicts,
        labels,
        on,
    })
}

/// Judges the middlebox keys of one middlebox for one link through it (`side: via`). The peer
/// a rule sees is the link's connecting side (its keepalive decides whether the box forgets a
/// pooled connection); the hop is the connecting side's, with the box's figures.
#[allow(clippy::too_many_arguments)]
fn judge_via(
    link: &LinkInfo,
    b: usize,
    path: &PathFacts,
    ct: &ConntrackFacts,
    states: &[NodeState],
    rules: &RuleSet,
    root: &eval::RootContext,
    verdicts: &mut Vec<VerdictEntry>,
    labels: &mut Vec<(LabelKey, Vec<Label>)>,
) -> Result<()> {
    let from_role = states[link.from].facts.role.clone();
    let mut hop = facts::hop_facts(
        link,
        true,
        &states[link.from].facts,
        &states[link.to].facts,
        &from_role,
    );
    hop.side = "via".into();
    hop.connects = false;
    hop.closes_first = false;
    hop.peer_closes_first = false;
    hop.needs_reuse = false;
    hop.exhausts = false;
    hop.tw_sockets = 0.0;
    hop.path = path.clone();
    hop.conntrack = ct.clone();
    let hop_cel = eval::to_cel_hop(&hop);
    let me = &states[b];
    let peer = &states[link.from];
    let bound = eval::Bound::new(&me.cel, Some((&peer.cel, &hop_cel)));
    let base = eval::base_context(root, &bound);
    for key in crate::middlebox::KEYS {
        let Some(spec) = crate::kernel::spec(key) else {
            continue;
        };
        let j = judge_key(rules, spec.key, me, Some(peer), &base, Some(&link.name))
            .map_err(|e| Error::RuleFailed(e.to_string()))?;
        if let Some(mut j) = j {
            if let Some((id, _)) = &j.rule {
                labels.push((
                    (me.cfg.name.clone(), spec.key, id.clone()),
                    std::mem::take(&mut j.labels),
                ));
            }
            verdicts.push(entry(Some(link.name.clone()), Some("via"), me, spec.key, j));
        }
    }
    Ok(())
}

/// The node-level checks of the endpoints on no link, on all cores, in node order.
fn judge_unlinked(
    states: &[NodeState],
    on_a_link: &[bool],
    rules: &RuleSet,
    verdicts: &mut Vec<VerdictEntry>,
) -> Result<()> {
    // A middlebox on a link's way is judged there (`side: via`).
    let unlinked: Vec<&NodeState> = states
        .iter()
        .zip(on_a_link)
        .filter(|(s, on)| !**on && s.facts.role != "nat")
        .map(|(s, _)| s)
        .collect();
    let judged = crate::pool::par_map_from(PARALLEL_FROM, &unlinked, |s| {
        ROOT.with(|root| {
            let bound = eval::Bound::new(&s.cel, None);
            let base = eval::base_context(root, &bound);
            let mut verdicts = Vec::new();
            for spec in config::judged_keys() {
                if let Some(j) = judge_key(rules, spec.key, s, None, &base, None)
                    .map_err(|e| Error::RuleFailed(e.to_string()))?
                {
                    verdicts.push(entry(None, None, s, spec.key, j));
                }
            }
            Ok(verdicts)
        })
    });
    for v in judged {
        verdicts.extend(v?);
    }
    Ok(())
}
