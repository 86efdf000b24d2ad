//! Verdicts: every judged key of every node, by the rules of the catalog, on each side of each
//! hop of a topology or on a node of its own. Each key keeps the worst verdict any rule gives it
//! on that (link, node), with the rule's message, help, extra labels and fix.

use super::diagnostics::LabelKey;
use super::nodes::NodeState;
use crate::config;
use crate::diag::{Label, Verdict};
use crate::error::{Error, Result};
use crate::facts::{self, LinkInfo};
use crate::middlebox::{ConntrackFacts, PathFacts};
use crate::report::{HopSummary, VerdictEntry};
use crate::rules::eval::{self, KeyVars};
use crate::rules::{CelRule, Check, Rule, RuleSet, Scope, TemplatePart};
use crate::topology::Topology;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

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
    rule: Option<(Arc<str>, Arc<str>)>,
    reason: Arc<str>,
    help: Option<Arc<str>>,
    labels: Vec<Label>,
    fix: Vec<(String, String)>,
    /// The rule's own level when it is not the verdict's (`severity:` of a CEL rule).
    level: Option<crate::diag::Severity>,
}

/// The variables a rule sees for one key of a node, whose value is `v`.
fn key_vars<'a>(v: &'a config::Value, key: &'static str) -> KeyVars<'a> {
    let shown = v
        .printed
        .as_deref()
        .or(v.written.as_deref())
        .unwrap_or_default();
    KeyVars {
        key,
        num: shown
            .split_ascii_whitespace()
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0),
        value: shown,
        set: v.set,
        present: v.present,
        source: v.kind.as_str(),
    }
}

/// The CEL rules of each key a run judges, found in the catalog once per run (the catalog
/// scanned again for every key of every node and hop was a twentieth of judging a topology),
/// and which of them a node's [`Memo`] keeps.
pub(super) struct KeyRules<'r> {
    /// Every key's rules in one list, grouped by key in [`key_list`]'s order, each group in id
    /// order: one allocation, where a list per key was one each.
    rules: Vec<KeyRule<'r>>,
    /// Where each key's group ends in `rules` (the group of key `i` is `ends[i - 1]..ends[i]`).
    ends: Vec<usize>,
    /// How many rules a [`Memo`] keeps.
    memoised: usize,
    /// The reasons of a key no rule objects to, shared by every such verdict: (unseen, set,
    /// default).
    unjudged: [Arc<str>; 3],
    /// Each CEL rule's id and name, shared by every verdict it gives (and by the lists of all
    /// the keys it names), made when it first gives one: a fleet makes these tables for every
    /// dump, and a dump's verdicts name a few rules of the catalog's fifty.
    names: Box<[OnceLock<RuleNames>]>,
}

/// A rule's id and name, as its verdicts hold them.
type RuleNames = (Arc<str>, Arc<str>);

struct KeyRule<'r> {
    rule: &'r Rule,
    /// The rule's place in [`KeyRules::names`].
    names: usize,
    cel: &'r CelRule,
    /// Its place in a node's [`Memo`], when the memo is asked for and none of the rule's
    /// programs reads anything of a link.
    memo: Option<usize>,
}

impl<'r> KeyRules<'r> {
    /// The rules of every judged key and middlebox key. With `memo`, the rules that read nothing
    /// of a link get a place in each node's [`Memo`] (finding them compiles their programs).
    pub(super) fn new(rules: &'r RuleSet, memo: bool) -> KeyRules<'r> {
        let keys = key_list();
        // One pass over the catalog, in id order (a fleet makes this for every dump): each CEL
        // rule joins the groups of the keys it names (once each, however often it names one),
        // with one place for its id and name; the stable sort by key keeps each group in id
        // order.
        let mut found: Vec<(usize, KeyRule<'r>)> = Vec::with_capacity(rules.rules.len());
        let mut memoised = 0;
        let mut named = 0;
        for rule in &rules.rules {
            let Check::Cel(cel) = &rule.check else {
                continue;
            };
            let keeps = memo && !reads_link(cel);
            named += 1;
            for (i, c) in cel.keys.iter().enumerate() {
                if cel.keys[..i].contains(c) {
                    continue;
                }
                let Some(k) = keys.iter().position(|k| k == c) else {
                    continue;
                };
                found.push((
                    k,
                    KeyRule {
                        rule,
                        names: named - 1,
                        cel,
                        memo: keeps.then(|| {
                            memoised += 1;
                            memoised - 1
                        }),
                    },
                ));
            }
        }
        found.sort_by_key(|(k, _)| *k);
        let mut ends = vec![0; keys.len()];
        for (k, _) in &found {
            ends[*k] += 1;
        }
        for k in 1..ends.len() {
            ends[k] += ends[k - 1];
        }
        KeyRules {
            rules: found.into_iter().map(|(_, r)| r).collect(),
            ends,
            memoised,
            unjudged: [
                "stands for hosts twlint cannot see; shown with kernel defaults, not judged".into(),
                "no rule objects to this value here".into(),
                "kernel default; no rule objects to it here".into(),
            ],
            names: (0..named).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The id and name of `kr`'s rule, as its verdicts hold them.
    fn names(&self, kr: &KeyRule<'_>) -> RuleNames {
        let (id, name) = self.names[kr.names]
            .get_or_init(|| (kr.rule.id.as_str().into(), kr.rule.name.as_str().into()));
        (Arc::clone(id), Arc::clone(name))
    }

    fn of(&self, key: &str) -> &[KeyRule<'r>] {
        let Some(&k) = key_places().get(key) else {
            return &[];
        };
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.rules[start..self.ends[k]]
    }
}

/// The keys [`KeyRules`] holds rules for: every judged key, then the middlebox keys. Made once
/// per process from the static tables (only the rules vary from run to run).
fn key_list() -> &'static [&'static str] {
    static KEYS: OnceLock<Vec<&'static str>> = OnceLock::new();
    KEYS.get_or_init(|| {
        config::judged_keys()
            .map(|s| s.key)
            .chain(crate::middlebox::KEYS.iter().copied())
            .collect()
    })
}

/// Each key's place in [`key_list`] (its first, should a key be there twice): looked up for
/// every key of every node and hop, where comparing the key with the list's in turn was a
/// twentieth of judging a topology.
fn key_places() -> &'static foldhash::HashMap<&'static str, usize> {
    static PLACES: OnceLock<foldhash::HashMap<&'static str, usize>> = OnceLock::new();
    PLACES.get_or_init(|| {
        let mut places = foldhash::HashMap::default();
        for (i, k) in key_list().iter().enumerate() {
            places.entry(*k).or_insert(i);
        }
        places
    })
}

/// Whether any program of a rule (condition, message, help, labels, fix) names `hop` or `peer`
/// (`Program::names_any`: read from the source, so that the templates of rules that never fire
/// are not compiled to find out).
fn reads_link(c: &CelRule) -> bool {
    const LINK: &[&str] = &["hop", "peer"];
    let templates = [&c.message, &c.help]
        .into_iter()
        .chain(c.fix.iter().map(|(_, t)| t));
    let holes = templates.flat_map(|t| {
        t.parts.iter().filter_map(|p| match p {
            TemplatePart::Expr(p, _) => Some(p.as_ref()),
            TemplatePart::Text(_) => None,
        })
    });
    std::iter::once(c.when.as_ref())
        .chain(holes)
        .chain(c.labels.iter().filter_map(|l| l.when.as_deref()))
        .any(|p| p.names_any(LINK))
}

/// What a node's rules that read nothing of a link (no `hop`, no `peer`: their variables are
/// the key's and the node's, and `topology` is true on every link) give on every link of the
/// node: each evaluated on the first link that needs it, on any thread, and read on the others.
/// A node is on ten links of a generated topology, and these rules are half of its rules. The
/// test `memo_gives_what_evaluating_gives` holds it to evaluating every rule on every link.
pub(super) struct Memo(Box<[Slot]>);

impl Memo {
    pub(super) fn new(rules: &KeyRules<'_>) -> Memo {
        Memo((0..rules.memoised).map(|_| Slot::default()).collect())
    }
}

#[derive(Default)]
struct Slot {
    holds: OnceLock<std::result::Result<bool, String>>,
    fired: OnceLock<std::result::Result<Box<Fired>, String>>,
}

/// What a rule whose condition holds gives, before its labels are placed.
#[derive(Clone)]
struct Fired {
    reason: Arc<str>,
    help: Arc<str>,
    /// Whether each of the rule's labels is drawn (its `when`).
    labels: Vec<bool>,
    fix: Vec<(String, String)>,
}

/// Renders what a rule whose condition holds says, in the order a failure is reported:
/// message, help, each label's condition, each fix.
fn fire(c: &CelRule, ctx: &cel::Context<'_, '_>) -> std::result::Result<Fired, String> {
    let reason = eval::render(&c.message, ctx)?;
    let help = eval::render(&c.help, ctx)?;
    let mut labels = Vec::with_capacity(c.labels.len());
    for l in &c.labels {
        labels.push(match &l.when {
            Some(w) => eval::condition(w, ctx)?,
            None => true,
        });
    }
    let mut fix = Vec::new();
    for (k, t) in &c.fix {
        fix.push((k.clone(), eval::render(t, ctx)?));
    }
    Ok(Fired {
        reason: reason.into(),
        help: help.into(),
        labels,
        fix,
    })
}

/// Runs every rule of `key` on a node (on one side of a hop when `peer` is given) and keeps the
/// worst verdict. With the node's `memo` (on a link), the rules it keeps are read from it.
fn judge_key(
    rules: &KeyRules<'_>,
    key: &'static str,
    node: &NodeState,
    peer: Option<&NodeState>,
    bound: &eval::Bound<'_>,
    link: Option<&str>,
    memo: Option<&Memo>,
) -> std::result::Result<Option<Judged>, RuleFailure> {
    let Some(v) = node.cfg.value(key) else {
        return Ok(None);
    };
    let key_vars = key_vars(v, key);
    let vars = eval::Vars::new(bound, Some(&key_vars));
    let ctx = vars.context();
    let mut best: Option<Judged> = None;
    for kr in rules.of(key) {
        let (rule, cel_rule) = (kr.rule, kr.cel);
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
        let slot = memo.zip(kr.memo).map(|(m, i)| &m.0[i]);
        let holds = match slot {
            Some(s) => s
                .holds
                .get_or_init(|| eval::condition(&cel_rule.when, &ctx))
                .clone(),
            None => eval::condition(&cel_rule.when, &ctx),
        };
        if !holds.map_err(fail)? {
            continue;
        }
        if best.as_ref().is_some_and(|b| b.verdict >= cel_rule.verdict) {
            continue;
        }
        let fired = match slot {
            Some(s) => match s.fired.get_or_init(|| fire(cel_rule, &ctx).map(Box::new)) {
                Ok(f) => Fired::clone(f),
                Err(e) => return Err(fail(e.clone())),
            },
            None => fire(cel_rule, &ctx).map_err(fail)?,
        };
        let mut labels = Vec::new();
        for (l, drawn) in cel_rule.labels.iter().zip(&fired.labels) {
            if !drawn {
                continue;
            }
            let owner = if l.on_peer { peer } else { Some(node) };
            if let Some(span) = owner.and_then(|o| o.cfg.value(&l.key)).and_then(|v| v.span) {
                labels.push(Label::new(span, l.message.clone()));
            }
        }
        best = Some(Judged {
            verdict: cel_rule.verdict,
            rule: Some(rules.names(kr)),
            reason: fired.reason,
            help: Some(fired.help),
            labels,
            fix: fired.fix,
            level: cel_rule.level,
        });
    }
    let judged = best.unwrap_or_else(|| Judged {
        verdict: Verdict::Safe,
        rule: None,
        reason: if node.facts.unseen {
            rules.unjudged[0].clone()
        } else if v.set {
            rules.unjudged[1].clone()
        } else {
            rules.unjudged[2].clone()
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
        )
        .into(),
        help: Some(
            match &on_value.help {
                Some(h) if on_value.verdict != Verdict::Safe => {
                    format!("write a value the kernel accepts; for the value in force: {h}")
                }
                _ => "write a value the kernel accepts, or delete the line".to_string(),
            }
            .into(),
        ),
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
    link: Option<Arc<str>>,
    side: Option<&'static str>,
    node: &NodeState,
    key: &'static str,
    j: Judged,
) -> VerdictEntry {
    let v = node.cfg.value(key).expect("judged keys have values");
    VerdictEntry {
        link,
        node: node.name.clone(),
        side,
        key,
        value: v.shown(),
        source: v.kind,
        span: v.shown_span(),
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
    rules: &KeyRules<'_>,
    state: &NodeState,
    bound: &eval::Bound<'_>,
    labels: &mut Vec<(LabelKey, Vec<Label>)>,
    verdicts: &mut Vec<VerdictEntry>,
) -> Result<()> {
    for spec in config::judged_keys() {
        let judged = judge_key(rules, spec.key, state, None, bound, None, None)
            .map_err(|e| Error::RuleFailed(e.to_string()))?;
        if let Some(mut j) = judged {
            if let Some((id, _)) = &j.rule {
                labels.push((
                    (name.to_string(), spec.key, id.to_string()),
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
    judge_links(topo, links, states, &KeyRules::new(rules, true))
}

/// [`judge_topology`] with the rules given: with a memo or without (the test that holds the
/// two to the same report).
fn judge_links(
    topo: &Topology,
    links: &[LinkInfo],
    states: &[NodeState],
    rules: &KeyRules<'_>,
) -> Result<LinkVerdicts> {
    let memos: Vec<Memo> = states.iter().map(|_| Memo::new(rules)).collect();
    let mut out = LinkVerdicts {
        verdicts: Vec::new(),
        hops: Vec::new(),
        labels: HashMap::new(),
    };
    let figures = super::nodes::middlebox_figures(topo, states, links);
    let items: Vec<_> = links.iter().zip(&topo.links).zip(&figures).collect();
    let mut on_a_link = vec![false; states.len()];
    type Item<'a> = (
        (&'a LinkInfo, &'a crate::topology::Link),
        &'a (PathFacts, Vec<ConntrackFacts>),
    );
    let judge = |window: &[Item<'_>]| {
        crate::pool::par_map_from(PARALLEL_FROM, window, |((link, l), (path, cts))| {
            eval::with_root(|root| judge_link(link, l, path, cts, states, &memos, rules, root))
        })
    };
    let mut merge = |judged: Vec<Result<LinkJudged>>| -> Result<()> {
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
        Ok(())
    };
    // A window of links at a time, each link's results moved into the report while the next
    // window is judged: held for every link before the merge, they doubled a large topology's
    // peak memory, and merged between windows they left the cores idle (a tenth of the time
    // judging 10,000 nodes took).
    crate::pool::pipelined(items.chunks(LINK_WINDOW), judge, &mut merge)?;
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

/// What judging one link gives: its hop summary, its verdicts and labels in the order they
/// were made, and the nodes it judged (both ends and its middleboxes).
struct LinkJudged {
    hop: HopSummary,
    verdicts: Vec<VerdictEntry>,
    labels: Vec<(LabelKey, Vec<Label>)>,
    on: Vec<usize>,
}

/// Judges both ends of one link and the middleboxes with conntrack on its way.
#[allow(clippy::too_many_arguments)]
fn judge_link(
    link: &LinkInfo,
    l: &crate::topology::Link,
    path: &PathFacts,
    cts: &[ConntrackFacts],
    states: &[NodeState],
    memos: &[Memo],
    rules: &KeyRules<'_>,
    root: &eval::RootContext,
) -> Result<LinkJudged> {
    let mut verdicts = Vec::new();
    let mut labels = Vec::new();
    let mut on = vec![link.from, link.to];
    let link_name: Arc<str> = link.name.as_str().into();
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
        let hop_cel = eval::to_cel_hop(hop);
        let bound = eval::Bound::new(root, &states[me].cel, Some((&states[peer].cel, &hop_cel)));
        let side = if client_side { "client" } else { "server" };
        for spec in config::judged_keys() {
            let j = judge_key(
                rules,
                spec.key,
                &states[me],
                Some(&states[peer]),
                &bound,
                Some(&link.name),
                Some(&memos[me]),
            )
            .map_err(|e| Error::RuleFailed(e.to_string()))?;
            if let Some(mut j) = j {
                // A rule that labels nothing adds nothing to the run's labels: no key is made
                // for it (for most of a topology's verdicts).
                if let Some((id, _)) = j.rule.as_ref().filter(|_| !j.labels.is_empty()) {
                    labels.push((
                        (states[me].cfg.name.clone(), spec.key, id.to_string()),
                        std::mem::take(&mut j.labels),
                    ));
                }
                verdicts.push(entry(
                    Some(link_name.clone()),
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
                memos,
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
    memos: &[Memo],
    rules: &KeyRules<'_>,
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
    let hop_cel = eval::to_cel_hop(hop);
    let me = &states[b];
    let peer = &states[link.from];
    let bound = eval::Bound::new(root, &me.cel, Some((&peer.cel, &hop_cel)));
    for key in crate::middlebox::KEYS {
        let Some(spec) = crate::kernel::spec(key) else {
            continue;
        };
        let j = judge_key(
            rules,
            spec.key,
            me,
            Some(peer),
            &bound,
            Some(&link.name),
            Some(&memos[b]),
        )
        .map_err(|e| Error::RuleFailed(e.to_string()))?;
        if let Some(mut j) = j {
            // A rule that labels nothing adds nothing to the run's labels: no key is made
            // for it (for most of a topology's verdicts).
            if let Some((id, _)) = j.rule.as_ref().filter(|_| !j.labels.is_empty()) {
                labels.push((
                    (me.cfg.name.clone(), spec.key, id.to_string()),
                    std::mem::take(&mut j.labels),
                ));
            }
            verdicts.push(entry(
                Some(link.name.as_str().into()),
                Some("via"),
                me,
                spec.key,
                j,
            ));
        }
    }
    Ok(())
}

/// The node-level checks of the endpoints on no link, on all cores, in node order.
fn judge_unlinked(
    states: &[NodeState],
    on_a_link: &[bool],
    rules: &KeyRules<'_>,
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
        eval::with_root(|root| {
            let bound = eval::Bound::new(root, &s.cel, None);
            let mut verdicts = Vec::new();
            for spec in config::judged_keys() {
                if let Some(j) = judge_key(rules, spec.key, s, None, &bound, None, None)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::{load_topology, nodes, Options, Overlay};
    use crate::source::SourceMap;
    use crate::topology::yaml_files;
    use std::path::Path;

    /// What judging the links of the topology at `path` gives with each node's memo and with
    /// every rule evaluated on every link, in full (`None` for a file that is no valid
    /// topology).
    fn with_and_without_memo(path: &Path) -> Option<(String, String)> {
        let mut sources = SourceMap::new();
        let (rules, _) = crate::rules::load::load_catalog(&[], &mut sources).unwrap();
        let opts = Options::default();
        let loaded = load_topology(path, &opts, &mut sources).ok()?;
        if loaded.has_errors() {
            return None;
        }
        let topo = loaded.topology?;
        let mut diags = Vec::new();
        let overlay = Overlay::default();
        let nodes = nodes::topology_nodes(&topo, &opts, &overlay, &mut sources, &mut diags).ok()?;
        let run = |memo: bool| {
            let key_rules = KeyRules::new(&rules, memo);
            assert_eq!(key_rules.memoised > 0, memo);
            let j = judge_links(&topo, &nodes.links, &nodes.states, &key_rules).unwrap();
            let mut labels: Vec<_> = j.labels.into_iter().collect();
            labels.sort_by(|a, b| a.0.cmp(&b.0));
            format!("{:#?}\n{:#?}\n{:#?}", j.verdicts, j.hops, labels)
        };
        Some((run(true), run(false)))
    }

    #[test]
    fn memo_gives_what_evaluating_gives() {
        let mut files = Vec::new();
        yaml_files(Path::new("topologies"), &mut files);
        yaml_files(Path::new("examples"), &mut files);
        let dir = tempfile::tempdir().unwrap();
        let generated = dir.path().join("generated.yaml");
        std::fs::write(&generated, crate::judge::gen::topology(300, 1500)).unwrap();
        files.push(generated.clone());
        let mut judged = 0;
        for path in &files {
            let text = std::fs::read_to_string(path).unwrap();
            if !text.contains("\nnodes:") {
                continue;
            }
            let Some((memo, plain)) = with_and_without_memo(path) else {
                continue;
            };
            assert!(
                memo == plain,
                "{}: the memo changes the report",
                path.display()
            );
            judged += 1;
        }
        // Every reference topology, the examples' and the generated one were judged both ways.
        let references = std::fs::read_dir("topologies").unwrap().count();
        assert!(judged > references, "{judged} topologies judged");
        let (memo, _) = with_and_without_memo(&generated).unwrap();
        assert!(memo.matches("VerdictEntry {").count() > 10_000);
    }
}
