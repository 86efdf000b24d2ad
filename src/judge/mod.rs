//! Judging: from nodes and what lies over them to a [`Report`] of verdicts and diagnostics.
//!
//! [`judge`] is the one entry point. A [`Request`] names the nodes, either sysctl sets judged on
//! their own (one node per set, no hops) or a loaded topology (every endpoint of every link),
//! and an [`Overlay`] of values laid over their declared ones (a host's values, a drop-in).
//! [`Options`] say how to judge. One pipeline serves both kinds of input:
//!
//! - `nodes`: each node's kernel and effective values (`crate::config`), and its facts
//!   (`crate::facts`);
//! - `verdicts`: the rules that judge each in-scope key, keeping the worst verdict per
//!   (link, node, key);
//! - `diagnostics`: diagnostics for dangerous or pointless written values, then every
//!   diagnostic in place order;
//! - `suppress`: the user's suppressions applied last.
//!
//! `load` reads the inputs from paths ([`read_sysctl_paths`], [`read_sysctl_paths_partial`],
//! [`load_topology`]); the judge itself takes what was read.

mod diagnostics;
mod load;
mod nodes;
mod overlay;
mod suppress;
mod verdicts;

/// The benchmarks' generators (kept with the topologies), for tests that judge a large
/// generated topology.
#[cfg(test)]
use crate::topology::gen;

pub use diagnostics::MAX_PER_RULE_AND_FILE;
pub use load::{
    load_topology, read_sysctl_inputs, read_sysctl_paths, read_sysctl_paths_partial, Input,
    PathsRead, Unread,
};
pub use overlay::{Layer, Overlay};

use crate::diag::{Diagnostic, Severity};
use crate::error::Result;
use crate::kernel::KernelVersion;
use crate::report::{Mode, Report};
use crate::rules::{eval, RuleSet};
use crate::source::SourceMap;
use crate::sysctl::SysctlSet;
use crate::topology;
use std::collections::HashMap;

/// How a run judges, beyond its inputs.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--kernel`: overrides every other source of a node's kernel.
    pub kernel: Option<KernelVersion>,
    /// `.twlint.yaml`'s `kernel`: used where nothing in the input says, instead of the assumed
    /// 6.18.
    pub default_kernel: Option<KernelVersion>,
    /// Honour suppressions (sysctl comments and topology `ignore:`); off with
    /// `--no-inline-ignores`.
    pub inline_ignores: bool,
    /// `--allow-outside-paths`: a topology's `sysctl.files` may lead outside its folder.
    pub allow_outside_paths: bool,
    /// The cluster pods of Kubernetes manifests are admitted by (`.twlint.yaml`'s
    /// `kubernetes`).
    pub kubernetes: crate::kubernetes::Cluster,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            kernel: None,
            default_kernel: None,
            inline_ignores: true,
            allow_outside_paths: false,
            kubernetes: crate::kubernetes::Cluster::default(),
        }
    }
}

/// The nodes a run judges.
#[derive(Debug, Clone)]
pub enum Nodes {
    /// Sysctl sets already read, each a node of its own named as given, in report order.
    Sets(Vec<(String, SysctlSet)>),
    /// A loaded topology; one with errors is reported as fatal, not judged.
    Topology(topology::Loaded),
}

/// What to judge.
#[derive(Debug, Clone)]
pub struct Request {
    pub nodes: Nodes,
    /// Values laid over the nodes' declared ones, by node name.
    pub overlay: Overlay,
}

impl Request {
    /// Sysctl sets, each judged as a node of its own.
    pub fn sets(sets: Vec<(String, SysctlSet)>) -> Request {
        Request {
            nodes: Nodes::Sets(sets),
            overlay: Overlay::default(),
        }
    }

    /// Every node of a loaded topology.
    pub fn topology(loaded: topology::Loaded) -> Request {
        Request {
            nodes: Nodes::Topology(loaded),
            overlay: Overlay::default(),
        }
    }

    /// The same nodes with `overlay` laid over them.
    pub fn with_overlay(mut self, overlay: Overlay) -> Request {
        self.overlay = overlay;
        self
    }
}

/// Judges the request's nodes: resolves each node's values, derives facts, runs the rules,
/// and applies suppressions (unless [`Options::inline_ignores`] is off). Needs the source map
/// mutably because a topology's nodes read their sysctl files now.
pub fn judge(
    req: Request,
    opts: &Options,
    rules: &RuleSet,
    sources: &mut SourceMap,
) -> Result<Report> {
    let mut report = match req.nodes {
        Nodes::Sets(sets) => judge_sets(&sets, &req.overlay, opts, rules, sources)?,
        Nodes::Topology(loaded) => judge_topology(loaded, &req.overlay, opts, rules, sources)?,
    };
    suppress::apply(&mut report, sources, rules, opts.inline_ignores);
    Ok(report)
}

/// One set judged on its own.
struct SetJudged {
    node: crate::report::NodeSummary,
    verdicts: Vec<crate::report::VerdictEntry>,
    diags: Vec<Diagnostic>,
    labels: Vec<(diagnostics::LabelKey, Vec<crate::diag::Label>)>,
}

/// Judges sets on all cores ([`crate::pool::par_map`]); the report lists them in the given
/// order whatever the thread that judged them.
fn judge_sets(
    sets: &[(String, SysctlSet)],
    overlay: &Overlay,
    opts: &Options,
    rules: &RuleSet,
    sources: &SourceMap,
) -> Result<Report> {
    let key_rules = verdicts::KeyRules::new(rules, false);
    let judged = crate::pool::par_map(sets, |(name, set)| {
        judge_set(name, set, overlay, opts, &key_rules, sources)
    });
    let mut diags = Vec::new();
    let mut verdicts = Vec::new();
    let mut nodes = Vec::new();
    let mut labels = HashMap::new();
    for j in judged {
        let j = j?;
        diags.extend(j.diags);
        verdicts.extend(j.verdicts);
        labels.extend(j.labels);
        nodes.push(j.node);
    }
    let left_out: Vec<_> = sets.iter().flat_map(|(_, s)| s.left_out.clone()).collect();
    diagnostics::finish(
        &verdicts,
        &labels,
        &diagnostics::Places::default(),
        &mut diags,
        &left_out,
        sources,
    );
    let mut vias = diagnostics::Vias::default();
    for (_, set) in sets {
        vias.add(set);
    }
    vias.label(&mut diags);
    Ok(Report {
        mode: Mode::Files,
        topology: None,
        nodes,
        hops: Vec::new(),
        verdicts,
        diagnostics: diags,
        fatal: false,
        ignores: Vec::new(),
        suppressed: Vec::new(),
        config: None,
        unread: Vec::new(),
    })
}

/// Judges one set as a node without a topology. Needs only shared access to the source map, so
/// many hosts can be judged at once.
fn judge_set(
    name: &str,
    set: &SysctlSet,
    overlay: &Overlay,
    opts: &Options,
    rules: &verdicts::KeyRules<'_>,
    sources: &SourceMap,
) -> Result<SetJudged> {
    let mut diags = Vec::new();
    let mut verdicts = Vec::new();
    let mut labels = Vec::new();
    let (state, node) = nodes::set_node(name, set, opts, overlay, sources, &mut diags);
    // CEL's standard library, built once per thread: it cost as much as judging a dump.
    eval::with_root(|root| {
        let bound = eval::Bound::new(root, &state.cel, None);
        verdicts::judge_node(name, rules, &state, &bound, &mut labels, &mut verdicts)
    })?;
    Ok(SetJudged {
        node,
        verdicts,
        diags,
        labels,
    })
}

/// The options for judging `topo` when it has a `kubernetes` block of its own: that describes
/// its cluster better than the configuration's.
fn for_cluster(topo: &topology::Topology, opts: &Options) -> Option<Options> {
    topo.kubernetes.as_ref().map(|cluster| Options {
        kubernetes: cluster.as_ref().clone(),
        ..opts.clone()
    })
}

/// The values one node of a loaded topology is declared with, resolved as judging resolves
/// them (its files, inline values, kernel defaults; no overlay): what every verdict of the node
/// shows as its value (`config::Value::shown`), without judging anything. A host run compares
/// the host's values with these. `None` when the topology is not valid or has no such node.
pub fn declared_config(
    loaded: &topology::Loaded,
    opts: &Options,
    node: &str,
    sources: &mut SourceMap,
) -> Result<Option<crate::config::NodeConfig>> {
    let fatal = loaded
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error);
    let Some(topo) = loaded.topology.as_ref().filter(|_| !fatal) else {
        return Ok(None);
    };
    let with_cluster = for_cluster(topo, opts);
    let opts = with_cluster.as_ref().unwrap_or(opts);
    match topo.node(node) {
        Some((index, _)) => Ok(Some(nodes::declared_node(topo, opts, index, sources)?)),
        None => Ok(None),
    }
}

/// Nodes from which their states are freed on a thread of their own
/// ([`crate::pool::drop_aside`]).
const DROP_ASIDE_FROM: usize = 256;

/// Judges every endpoint of every link of a loaded topology; an invalid one gives a fatal
/// report with its diagnostics.
fn judge_topology(
    loaded: topology::Loaded,
    overlay: &Overlay,
    opts: &Options,
    rules: &RuleSet,
    sources: &mut SourceMap,
) -> Result<Report> {
    let mut diags = loaded.diagnostics;
    let fatal = diags.iter().any(|d| d.severity == Severity::Error);
    let Some(topo) = loaded.topology.filter(|_| !fatal) else {
        return Ok(Report {
            mode: Mode::Topology,
            topology: None,
            nodes: Vec::new(),
            hops: Vec::new(),
            verdicts: Vec::new(),
            diagnostics: diags,
            fatal: true,
            ignores: Vec::new(),
            suppressed: Vec::new(),
            config: None,
            unread: Vec::new(),
        });
    };
    let with_cluster = for_cluster(&topo, opts);
    let opts = with_cluster.as_ref().unwrap_or(opts);
    let mut nodes = nodes::topology_nodes(&topo, opts, overlay, sources, &mut diags)?;
    let judged = verdicts::judge_topology(&topo, &nodes.links, &nodes.states, rules)?;
    // The nodes' states (their values, facts and the CEL values made of them) are done with:
    // many are freed beside the steps that follow, on one thread.
    let states = std::mem::take(&mut nodes.states);
    if states.len() >= DROP_ASIDE_FROM {
        crate::pool::drop_aside(states);
    }
    let places = diagnostics::Places::of(&topo, &nodes.links, sources);
    diagnostics::finish(
        &judged.verdicts,
        &judged.labels,
        &places,
        &mut diags,
        &nodes.left_out,
        sources,
    );
    nodes.vias.label(&mut diags);
    Ok(Report {
        mode: Mode::Topology,
        topology: topo.name.as_ref().map(|n| n.value.clone()),
        nodes: nodes.summaries,
        hops: judged.hops,
        verdicts: judged.verdicts,
        diagnostics: diags,
        fatal: false,
        ignores: topo.nodes.iter().flat_map(|n| n.ignores.clone()).collect(),
        suppressed: Vec::new(),
        config: None,
        unread: Vec::new(),
    })
}
