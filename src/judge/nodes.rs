//! Nodes: what each judged node is before any rule runs. A node's kernel (one precedence for
//! every kind of input), its effective values (its sysctl files, inline `set:` values and its
//! overlay, resolved by `crate::config`), its facts, and how the report presents it.
//!
//! Nodes of a topology that read the same files share one parsed set, so a file's diagnostics
//! appear once however many nodes use it.

use super::diagnostics::node_diags;
use super::overlay::{Layer, Overlay};
use super::Options;
use crate::config::{self, Applier, InlineValue, KernelOrigin, NodeConfig, ASSUMED_KERNEL};
use crate::diag::Diagnostic;
use crate::error::Result;
use crate::facts::{self, LinkInfo, NodeFacts, NodeInfo};
use crate::kernel::KernelVersion;
use crate::report::NodeSummary;
use crate::rules::eval;
use crate::source::SourceMap;
use crate::sysctl::{self, SysctlSet};
use crate::topology::{self, Topology};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything needed to judge one node's keys.
pub(super) struct NodeState {
    pub cfg: NodeConfig,
    /// Shared with `cel`, which converts the fields a rule reads when it first reads them.
    pub facts: Arc<NodeFacts>,
    pub cel: eval::CelFacts,
    /// The node's name, shared by all its verdicts.
    pub name: Arc<str>,
}

impl NodeState {
    pub fn new(cfg: NodeConfig, facts: NodeFacts) -> NodeState {
        let facts = Arc::new(facts);
        NodeState {
            cel: eval::to_cel_node(&facts),
            name: cfg.name.as_str().into(),
            cfg,
            facts,
        }
    }
}

/// What the input says about a node's kernel, by source.
#[derive(Default)]
pub(super) struct KernelClaims {
    /// The node's own `kernel:` in a topology.
    pub node: Option<KernelVersion>,
    /// The topology's `defaults.kernel`.
    pub defaults: Option<KernelVersion>,
    /// `kernel.osrelease` in a dump the node reads.
    pub dump: Option<KernelVersion>,
}

impl KernelClaims {
    /// Reads the release a set's dump carries, if any.
    pub fn with_dump_of(mut self, set: Option<&SysctlSet>) -> KernelClaims {
        self.dump = set
            .and_then(|s| s.kernel_release())
            .and_then(|r| KernelVersion::parse(&r.value));
        self
    }
}

/// The kernel a node is judged for, and where that came from. `--kernel` wins over everything;
/// the release of the host whose values lie over the node comes next, then what the topology
/// says (the node's own, then its defaults), then a dump's `kernel.osrelease`, then
/// `.twlint.yaml`'s `kernel`, and last the newest kernel twlint knows.
pub(super) fn kernel_of(
    opts: &Options,
    layer: Option<&Layer>,
    claims: &KernelClaims,
) -> (KernelVersion, KernelOrigin) {
    let said = [
        (opts.kernel, KernelOrigin::Flag),
        (layer.and_then(|l| l.kernel), KernelOrigin::Live),
        (claims.node, KernelOrigin::Node),
        (claims.defaults, KernelOrigin::Defaults),
        (claims.dump, KernelOrigin::Dump),
        (opts.default_kernel, KernelOrigin::Config),
    ];
    said.into_iter()
        .find_map(|(k, origin)| k.map(|k| (k, origin)))
        .unwrap_or((ASSUMED_KERNEL, KernelOrigin::Assumed))
}

/// Resolves one node's values: its set, then its inline values, then what its overlay writes,
/// then what its overlay read from a host in place of all of those.
fn resolve(
    name: &str,
    kernel: (KernelVersion, KernelOrigin),
    set: Option<&SysctlSet>,
    mut inline: Vec<InlineValue>,
    layer: Option<&Layer>,
    applier: Applier,
    diags: &mut Vec<Diagnostic>,
) -> NodeConfig {
    let mut cfg = resolve_declared(name, kernel, set, &mut inline, layer, applier, diags);
    // TW006 was worded by the reader, which cannot know that the kernel refuses a later value.
    config::correct_overrides(diags, &cfg);
    if let Some(l) = layer {
        l.apply_read(&mut cfg);
    }
    cfg
}

/// [`resolve`] up to the values the node's files, inline values and overlay write, before the
/// TW006 diagnostics are reworded for it and what the overlay read is laid over them.
fn resolve_declared(
    name: &str,
    kernel: (KernelVersion, KernelOrigin),
    set: Option<&SysctlSet>,
    inline: &mut Vec<InlineValue>,
    layer: Option<&Layer>,
    applier: Applier,
    diags: &mut Vec<Diagnostic>,
) -> NodeConfig {
    if let Some(l) = layer {
        inline.extend(l.written.iter().cloned());
    }
    config::resolve_with(name, kernel.0, kernel.1, set, inline, applier, diags)
}

/// What [`config::correct_overrides`] reads of a node's values: the refused ones and the tool
/// that applies them (`None` when no value is refused, and so no diagnostic reworded).
fn refused_only(cfg: &NodeConfig) -> Option<NodeConfig> {
    let refused: std::collections::BTreeMap<_, _> = cfg
        .values
        .iter()
        .filter(|(_, v)| v.refused.is_some())
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    (!refused.is_empty()).then(|| NodeConfig {
        name: cfg.name.clone(),
        kernel: cfg.kernel,
        kernel_origin: cfg.kernel_origin,
        values: refused,
        applier: cfg.applier,
    })
}

/// The paths of the files a set was read from, for the report.
fn source_paths(set: Option<&SysctlSet>, sources: &SourceMap) -> Vec<String> {
    set.map(|s| {
        let mut paths: Vec<String> = s
            .files
            .iter()
            .map(|f| sources.get(f.file).path.clone())
            .collect();
        // A unit read from one file applies values in several ways, one record each.
        paths.dedup();
        paths
    })
    .unwrap_or_default()
}

/// A sysctl set judged on its own: a node named after it, with no role and no topology.
pub(super) fn set_node(
    name: &str,
    set: &SysctlSet,
    opts: &Options,
    overlay: &Overlay,
    sources: &SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> (NodeState, NodeSummary) {
    node_diags(name, set, diags);
    let layer = overlay.get(name);
    let claims = KernelClaims::default().with_dump_of(Some(set));
    let kernel = kernel_of(opts, layer, &claims);
    // A pod's sysctls are admitted by the kubelet, on the node's kernel.
    diags.extend(
        crate::kubernetes::admit(set, &opts.kubernetes, kernel.0)
            .into_iter()
            .map(|mut d| {
                d.node = Some(name.to_string());
                d
            }),
    );
    let cfg = resolve(
        name,
        kernel,
        Some(set),
        Vec::new(),
        layer,
        Applier::default(),
        diags,
    );
    let facts = facts::node_facts(&cfg, &NodeInfo::default());
    let summary = NodeSummary {
        name: name.to_string(),
        role: "generic".into(),
        kernel: kernel.0,
        kernel_origin: kernel.1,
        sources: source_paths(Some(set), sources),
        hosts: 1,
        namespace: None,
    };
    (NodeState::new(cfg, facts), summary)
}

/// Every node of a topology, in its order, ready to be judged: the facts include the
/// topology's aggregates (what the links bring to each node).
pub(super) struct TopologyNodes {
    pub states: Vec<NodeState>,
    pub summaries: Vec<NodeSummary>,
    pub links: Vec<LinkInfo>,
    /// The places that apply values written in other files (see [`super::diagnostics::Vias`]).
    pub vias: super::diagnostics::Vias,
    /// What the checks of the nodes' sets counted but did not build (see [`SysctlSet::left_out`]).
    pub left_out: Vec<crate::diag::LeftOut>,
}

/// Reads each node's files (once per distinct list of files), resolves its values and derives
/// its facts.
pub(super) fn topology_nodes(
    topo: &Topology,
    opts: &Options,
    overlay: &Overlay,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Result<TopologyNodes> {
    topology_nodes_on(true, topo, opts, overlay, sources, diags)
}

/// [`topology_nodes`], on all cores or (for the test that holds the two to the same nodes) on
/// the calling thread.
fn topology_nodes_on(
    all_cores: bool,
    topo: &Topology,
    opts: &Options,
    overlay: &Overlay,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Result<TopologyNodes> {
    let mut sets = NodeSets::default();
    // The ports listened on in each node's namespace, by the node that owns it: its own and
    // those of the nodes that share it (one pass, not one pass over every node per node).
    let mut namespace_listen: Vec<Vec<u16>> = vec![Vec::new(); topo.nodes.len()];
    for (i, n) in topo.nodes.iter().enumerate() {
        let ports = n.listen.iter().map(|p| p.value);
        namespace_listen[i].extend(ports.clone());
        if let Some((_, t)) = &n.shares_namespace_with {
            namespace_listen[*t].extend(ports);
        }
    }
    // First, in node order on this thread, what reads files or registers them (each distinct
    // list of files read once): each node's set, kernel and namespace view, with the
    // diagnostics of those steps.
    let mut read: Vec<ReadNode> = Vec::with_capacity(topo.nodes.len());
    for index in 0..topo.nodes.len() {
        read.push(read_node(topo, opts, overlay, index, &mut sets, sources)?);
    }
    // Then each node resolved, described and its facts derived, on all cores: the files are
    // read, and the nodes are independent of each other until the topology's aggregates.
    let sources: &SourceMap = sources;
    let from = if all_cores { PARALLEL_FROM } else { usize::MAX };
    let resolved = crate::pool::par_map_from(from, &read, |r| {
        let i = r.index;
        let node = &topo.nodes[i];
        let owner = owner_of(topo, node);
        let mut diags = Vec::new();
        let set = r.in_namespace.as_ref().or(r.set.map(|i| &sets.sets[i]));
        let kernel = r.kernel;
        // A pod's sysctls are admitted by the kubelet, on the node's kernel (once per pod).
        if let (Some(_), Some(s), true) = (&owner.workload, set, node == owner) {
            diags.extend(
                crate::kubernetes::admit(s, &opts.kubernetes, kernel.0)
                    .into_iter()
                    .map(|mut d| {
                        d.node = Some(node.name.value.clone());
                        d
                    }),
            );
        }
        let (cfg, overrides) = resolve_node(topo, overlay, &sets, r, &mut diags);
        // Every listener of the namespace is a port connect() skips.
        let owner_idx = node.shares_namespace_with.as_ref().map_or(i, |(_, t)| *t);
        let mut listen = namespace_listen[owner_idx].clone();
        listen.sort_unstable();
        listen.dedup();
        let info = NodeInfo {
            role: node.role.value.as_str().to_string(),
            listen,
            addresses: node.addresses.iter().map(|a| a.value.clone()).collect(),
            host_addresses: node
                .host_addresses
                .iter()
                .map(|h| h.iter().map(|&i| node.addresses[i].value.clone()).collect())
                .collect(),
            hosts: node.hosts(),
            own_namespace: owner.own_namespace(),
            namespace_of: node
                .shares_namespace_with
                .as_ref()
                .map(|(n, _)| n.value.clone()),
        };
        let summary = NodeSummary {
            name: node.name.value.clone(),
            role: info.role.clone(),
            kernel: kernel.0,
            kernel_origin: kernel.1,
            sources: source_paths(set, sources),
            hosts: node.hosts(),
            namespace: match &node.shares_namespace_with {
                Some((owner, _)) => Some(owner.value.clone()),
                None => node.own_namespace().then(String::new),
            },
        };
        let facts = facts::node_facts(&cfg, &info);
        (cfg, facts, summary, diags, overrides)
    });
    // The diagnostics in node order, each node's as they were made: the files' and the
    // namespace's, then the kubelet's and the values', then TW006 reworded for its values.
    let mut configs: Vec<NodeConfig> = Vec::with_capacity(resolved.len());
    // The facts become CEL values only once the topology's aggregates are in (converting them
    // is a good part of judging a node).
    let mut all_facts: Vec<NodeFacts> = Vec::with_capacity(resolved.len());
    let mut summaries = Vec::with_capacity(resolved.len());
    for (r, (cfg, facts, summary, more, overrides)) in read.into_iter().zip(resolved) {
        diags.extend(r.diags);
        diags.extend(more);
        if let Some(o) = overrides {
            config::correct_overrides(diags, &o);
        }
        configs.push(cfg);
        all_facts.push(facts);
        summaries.push(summary);
    }
    let mut links = links_of(topo);
    facts::share_tuples(&all_facts, &mut links);
    if all_cores {
        facts::aggregate(&mut all_facts, &links);
    } else {
        facts::aggregate_from(usize::MAX, &mut all_facts, &links);
    }
    let states = configs
        .into_iter()
        .zip(all_facts)
        .map(|(cfg, facts)| NodeState::new(cfg, facts))
        .collect();
    let mut vias = super::diagnostics::Vias::default();
    for set in &sets.sets {
        vias.add(set);
    }
    Ok(TopologyNodes {
        states,
        summaries,
        links,
        vias,
        left_out: sets.sets.iter().flat_map(|s| s.left_out.clone()).collect(),
    })
}

/// The values node `index` of `topo` is declared with, resolved as [`topology_nodes`] resolves
/// them without an overlay, reading only the files that node reads: what a host run compares
/// the host's values with (`judge::declared_config`).
pub(super) fn declared_node(
    topo: &Topology,
    opts: &Options,
    index: usize,
    sources: &mut SourceMap,
) -> Result<NodeConfig> {
    let overlay = Overlay::default();
    let mut sets = NodeSets::default();
    let read = read_node(topo, opts, &overlay, index, &mut sets, sources)?;
    Ok(resolve_node(topo, &overlay, &sets, &read, &mut Vec::new()).0)
}

/// The first step of resolving node `index`, in node order on the calling thread because it
/// reads files or registers them (`sets` reads each distinct list of files once): its set, its
/// kernel and its namespace's view, with the diagnostics of those steps.
fn read_node(
    topo: &Topology,
    opts: &Options,
    overlay: &Overlay,
    index: usize,
    sets: &mut NodeSets,
    sources: &mut SourceMap,
) -> Result<ReadNode> {
    let node = &topo.nodes[index];
    let mut diags = Vec::new();
    // A container sharing another's namespace has that namespace's values.
    let owner = owner_of(topo, node);
    let set = sets.read(owner, topo, opts, sources, &mut diags)?;
    let layer = layer_of(overlay, node, owner);
    let claims = KernelClaims {
        node: owner.kernel.as_ref().map(|k| k.value),
        defaults: topo.default_kernel.as_ref().map(|k| k.value),
        dump: None,
    }
    .with_dump_of(set.map(|i| &sets.sets[i]));
    let kernel = kernel_of(opts, layer, &claims);
    // A namespace of its own starts its per-namespace keys from the kernel's defaults: the
    // host files' values of those keys do not reach it (said once, on the owner).
    let in_namespace = owner
        .own_namespace()
        .then(|| {
            set.map(|i| {
                let s = &sets.sets[i];
                namespace_view(owner, s, kernel.0, node == owner, sources, &mut diags)
            })
        })
        .flatten();
    Ok(ReadNode {
        index,
        set,
        in_namespace,
        kernel,
        diags,
    })
}

/// A read node's values: its set, inline values and overlay layer resolved on its kernel, and
/// what [`refused_only`] keeps of them (for rewording TW006, see `config::correct_overrides`).
fn resolve_node(
    topo: &Topology,
    overlay: &Overlay,
    sets: &NodeSets,
    r: &ReadNode,
    diags: &mut Vec<Diagnostic>,
) -> (NodeConfig, Option<NodeConfig>) {
    let node = &topo.nodes[r.index];
    let owner = owner_of(topo, node);
    let set = r.in_namespace.as_ref().or(r.set.map(|i| &sets.sets[i]));
    let layer = layer_of(overlay, node, owner);
    let mut cfg = resolve_declared(
        &node.name.value,
        r.kernel,
        set,
        &mut inline_values(owner),
        layer,
        topo.applied_by.unwrap_or_default(),
        diags,
    );
    // The TW006 diagnostics are reworded for the node on the calling thread, in node order:
    // any node's diagnostics so far, as `resolve` rewords them.
    let overrides = refused_only(&cfg);
    if let Some(l) = layer {
        l.apply_read(&mut cfg);
    }
    (cfg, overrides)
}

/// Nodes from which a topology's nodes are resolved on all cores.
const PARALLEL_FROM: usize = 64;

/// A node of a topology once its files are read: the set it reads (by its place among the
/// topology's sets), the view of it its own namespace has, its kernel, and the diagnostics
/// reading them gave.
struct ReadNode {
    /// The node's place in the topology.
    index: usize,
    set: Option<usize>,
    in_namespace: Option<SysctlSet>,
    kernel: (KernelVersion, KernelOrigin),
    diags: Vec<Diagnostic>,
}

/// The node whose network namespace (and so whose values) `node` has: the one it shares it
/// with, or itself.
fn owner_of<'t>(topo: &'t Topology, node: &'t topology::Node) -> &'t topology::Node {
    match &node.shares_namespace_with {
        Some((_, t)) => &topo.nodes[*t],
        None => node,
    }
}

/// The overlay's layer for `node`, else for the node whose namespace it shares.
fn layer_of<'o>(
    overlay: &'o Overlay,
    node: &topology::Node,
    owner: &topology::Node,
) -> Option<&'o Layer> {
    overlay
        .get(&node.name.value)
        .or_else(|| overlay.get(&owner.name.value))
}

/// What a node with a network namespace of its own reads from its files: the values written for
/// the namespace (a pod's `securityContext.sysctls`, a compose service's `sysctls`), the values a
/// dump printed (taken where it was taken), and of host files only the keys the kernel keeps
/// global. Each host file that sets per-namespace keys gets TW094 at its `sysctl.files` entry
/// when `report` (once per namespace).
fn namespace_view(
    node: &topology::Node,
    set: &SysctlSet,
    kernel: KernelVersion,
    report: bool,
    sources: &SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> SysctlSet {
    use crate::inputs::SourceKind;
    let in_namespace = |kind: SourceKind| {
        kind.is_printed()
            || [
                SourceKind::Kubernetes,
                SourceKind::InitContainer,
                SourceKind::Compose,
            ]
            .contains(&kind)
    };
    let mut files = Vec::new();
    for f in &set.files {
        if in_namespace(f.kind) {
            files.push(f.clone());
            continue;
        }
        let per_namespace =
            |a: &crate::inputs::AssignmentRef| crate::kernel::per_namespace(a.key(), kernel);
        let dropped: Vec<_> = f.assignments.iter().filter(per_namespace).collect();
        if report && !dropped.is_empty() {
            let path = &sources.get(f.file).path;
            let mut keys: Vec<&str> = dropped.iter().map(|a| a.key()).collect();
            keys.dedup();
            // The `sysctl.files` entry that brought the file in: the one naming it or its folder.
            let entry = node
                .sysctl_files
                .iter()
                .find(|e| std::path::Path::new(path).starts_with(&e.value))
                .or(node.sysctl_files.first());
            let mut d = Diagnostic::warning(
                crate::code::Code::TW094,
                format!(
                    "`{}` has its own network namespace: {} of {path} do{} not apply there",
                    node.name.value,
                    keys.join(", "),
                    if keys.len() == 1 { "es" } else { "" }
                ),
            )
            .with_help("set these keys in the pod or container (`securityContext.sysctls`, compose `sysctls:`, or `set:` on the node); a new namespace starts them from the kernel's defaults")
            .with_node(node.name.value.clone());
            d = match entry {
                Some(e) => d
                    .at(e.span, "a host file, not read in the node's namespace")
                    .with_secondary(
                        dropped[0].key_span(),
                        "per-namespace: starts from the default in a new namespace",
                    ),
                None => d.at(
                    dropped[0].key_span(),
                    "per-namespace: starts from the default in a new namespace",
                ),
            };
            diags.push(d);
        }
        let mut f = f.clone();
        f.assignments.retain(|a| !per_namespace(&a));
        files.push(f);
    }
    sysctl::resolve_unit(files)
}

/// The sysctl sets a topology's nodes read: nodes that name the same files share one set (and
/// its diagnostics appear once).
#[derive(Default)]
struct NodeSets {
    sets: Vec<SysctlSet>,
    by_files: HashMap<Vec<PathBuf>, usize>,
    /// The sets of workload nodes, by their files and workload (see [`read_workload`]).
    by_workload: HashMap<(Vec<PathBuf>, String), usize>,
}

impl NodeSets {
    /// The set a node reads, read now if no node before it named the same files; `None` for a
    /// node without files.
    fn read(
        &mut self,
        node: &topology::Node,
        topo: &Topology,
        opts: &Options,
        sources: &mut SourceMap,
        diags: &mut Vec<Diagnostic>,
    ) -> Result<Option<usize>> {
        let files: Vec<PathBuf> = node.sysctl_files.iter().map(|f| f.value.clone()).collect();
        if files.is_empty() {
            return Ok(None);
        }
        if let Some(workload) = &node.workload {
            let key = (files.clone(), workload.value.clone());
            if let Some(&i) = self.by_workload.get(&key) {
                return Ok(Some(i));
            }
            let set = read_workload(node, workload, &files, topo, opts, sources, diags)?;
            node_diags(&node.name.value, &set, diags);
            self.sets.push(set);
            self.by_workload.insert(key, self.sets.len() - 1);
            return Ok(Some(self.sets.len() - 1));
        }
        if let Some(&i) = self.by_files.get(&files) {
            return Ok(Some(i));
        }
        let jail = (!opts.allow_outside_paths).then_some(topo.dir.as_path());
        let set = sysctl::load_within(&files, sources, jail)?;
        node_diags(&node.name.value, &set, diags);
        self.sets.push(set);
        self.by_files.insert(files, self.sets.len() - 1);
        Ok(Some(self.sets.len() - 1))
    }
}

/// The values of the workload a node stands for: from each of its files that holds several
/// units (a Kubernetes manifest's pod templates, a compose file's services) only the unit named
/// `workload`, applied after the node's other files, which are read as usual. TW096 when no
/// file has that unit.
fn read_workload(
    node: &topology::Node,
    workload: &crate::source::Spanned<String>,
    files: &[PathBuf],
    topo: &Topology,
    opts: &Options,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Result<SysctlSet> {
    let mut rest = Vec::new();
    let mut picked = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut found = false;
    for path in files {
        if path.is_file() {
            let text = crate::read::read_text(path, crate::inputs::MAX_FILE_SIZE)?;
            let reader = crate::inputs::reader_for(&text);
            if reader.units.is_some() {
                let shown = path.display().to_string();
                let id = sources.add(shown.clone(), text);
                sources.set_format(id, reader.name);
                let text = sources.get(id).text.clone();
                for unit in crate::inputs::read_units(reader, id, &shown, &text) {
                    if unit.name == workload.value {
                        found = true;
                        picked.extend(unit.files);
                    } else {
                        names.push(unit.name);
                    }
                }
                continue;
            }
        }
        rest.push(path.clone());
    }
    if !found {
        let help = match crate::diag::did_you_mean(&workload.value, names.iter().map(String::as_str)) {
            Some(c) => format!("did you mean `{c}`?"),
            None if names.is_empty() => "name a pod template (`namespace/Kind/name`) or a compose service of a manifest or compose file under `sysctl.files`".to_string(),
            None => format!("the workloads in the node's files are: {}", names.join(", ")),
        };
        diags.push(
            Diagnostic::error(
                crate::code::Code::TW096,
                format!(
                    "no workload `{}` in the files of `{}`",
                    workload.value, node.name.value
                ),
            )
            .at(workload.span, "not a pod template or service of its files")
            .with_help(help)
            .with_node(node.name.value.clone()),
        );
    }
    let mut all = if rest.is_empty() {
        Vec::new()
    } else {
        let jail = (!opts.allow_outside_paths).then_some(topo.dir.as_path());
        sysctl::load_within(&rest, sources, jail)?.files
    };
    all.extend(picked);
    Ok(sysctl::resolve_unit(all))
}

/// A node's inline `set:` values, keys written with dots, after the values its conntrack preset
/// writes (kube-proxy writes them after boot, over the files; the node's own `set:` wins). A
/// preset value points at the `conntrack:` that asked for it.
fn inline_values(node: &topology::Node) -> Vec<InlineValue> {
    let own: Vec<InlineValue> = node
        .sysctl_set
        .iter()
        .map(|(k, v)| InlineValue {
            key: k.value.replace('/', "."),
            key_span: k.span,
            value: v.value.clone(),
            value_span: v.span,
        })
        .collect();
    let mut out: Vec<InlineValue> = Vec::new();
    if let Some(c) = &node.conntrack {
        for (key, value) in c.value.preset_values() {
            if own.iter().any(|v| v.key == *key) {
                continue;
            }
            out.push(InlineValue {
                key: key.to_string(),
                key_span: c.span,
                value: value.to_string(),
                value_span: c.span,
            });
        }
    }
    out.extend(own);
    out
}

/// The shape of each link, as facts need it.
fn links_of(topo: &Topology) -> Vec<LinkInfo> {
    topo.links
        .iter()
        .map(|l| LinkInfo {
            name: l.name(),
            from: l.from_idx,
            to: l.to_idx,
            port: l.port.value,
            // Only a NAT puts many clients behind one address; a load balancer or kube-proxy
            // node that forwards keeps the clients' addresses.
            via_nat: l
                .vias
                .iter()
                .any(|(_, i)| topo.nodes[*i].role.value == topology::Role::Nat),
            client_closes: l.client_closes(),
            rate: l.rate.as_ref().map(|r| r.value),
            open: l.open.as_ref().map(|o| o.value),
            source: l.source.as_ref().map(|s| s.value.clone()),
            namespace_rate: None,
            namespace_open: None,
            vias: l.vias.iter().map(|(_, i)| *i).collect(),
            keepalive: l.keepalive.as_ref().map(|k| k.value),
        })
        .collect()
}

/// The middlebox figures of every link (path facts, and the conntrack facts of each via), from
/// each node's effective values.
pub(super) fn middlebox_figures(
    topo: &Topology,
    states: &[NodeState],
    links: &[LinkInfo],
) -> Vec<(
    crate::middlebox::PathFacts,
    Vec<crate::middlebox::ConntrackFacts>,
)> {
    use crate::middlebox::{BoxInput, FlowInput};
    let boxes: Vec<BoxInput> = topo
        .nodes
        .iter()
        .zip(states)
        .map(|(n, s)| BoxInput {
            name: n.name.value.clone(),
            hosts: n.hosts(),
            tracks: n.tracks(),
            snat: n.role.value == topology::Role::Nat,
            addresses: n.addresses.len(),
            max: s.cfg.int("net.netfilter.nf_conntrack_max"),
            tw_timeout: s
                .cfg
                .int("net.netfilter.nf_conntrack_tcp_timeout_time_wait")
                .unwrap_or(120),
            established_timeout: s
                .cfg
                .int("net.netfilter.nf_conntrack_tcp_timeout_established")
                .unwrap_or(432_000),
            idle: n.idle_timeout.as_ref().map(|t| t.value),
        })
        .collect();
    let flows: Vec<FlowInput> = links
        .iter()
        .map(|l| FlowInput {
            rate: l.rate,
            open: l.open.map(|o| o as f64),
            to: l.to,
            port: l.port,
            dst_addresses: topo.nodes[l.to].addresses.len(),
            vias: l.vias.clone(),
            keepalive: l.keepalive,
        })
        .collect();
    crate::middlebox::figures(&boxes, &flows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::load_topology;
    use std::path::Path;

    /// Every reference and example topology, and a generated one large enough for every step
    /// to use the cores: the nodes resolved on all cores are those resolved in turn (values,
    /// facts with the aggregates, summaries, links, diagnostics in order).
    #[test]
    fn nodes_resolved_on_all_cores_are_the_nodes_resolved_in_turn() {
        let mut files: Vec<std::path::PathBuf> = Vec::new();
        for dir in ["topologies", "examples"] {
            let mut stack = vec![Path::new(dir).to_path_buf()];
            while let Some(d) = stack.pop() {
                for entry in std::fs::read_dir(&d).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                        files.push(path);
                    }
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let generated = dir.path().join("generated.yaml");
        std::fs::write(&generated, crate::judge::gen::topology(300, 1500)).unwrap();
        files.push(generated);
        // Nodes sharing a file whose later value the kernel refuses (TW006 reworded per node,
        // in node order), some with values of their own, on kernels that refuse differently.
        std::fs::write(
            dir.path().join("reuse.conf"),
            "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_tw_reuse = 3\nnet.ipv4.ip_local_port_range = 1024 1024\n",
        )
        .unwrap();
        for applier in ["systemd", "procps"] {
            let mut text = format!("version: 1\napplied_by: {applier}\nnodes:\n");
            for i in 0..100 {
                let kernel = ["4.9", "5.15", "6.8"][i % 3];
                text += &format!("  - name: n{i}\n    kernel: \"{kernel}\"\n    sysctl:\n      files: [reuse.conf]\n");
                if i % 7 == 0 {
                    text += "      set: {net.ipv4.tcp_tw_reuse: 5}\n";
                }
            }
            let path = dir.path().join(format!("refused-{applier}.yaml"));
            std::fs::write(&path, text).unwrap();
            files.push(path);
        }
        let mut compared = 0;
        for path in &files {
            let run = |all_cores: bool| {
                let mut sources = SourceMap::new();
                let opts = Options::default();
                let loaded = load_topology(path, &opts, &mut sources).ok()?;
                if loaded.has_errors() {
                    return None;
                }
                let topo = loaded.topology?;
                let mut diags = Vec::new();
                let overlay = Overlay::default();
                let n =
                    topology_nodes_on(all_cores, &topo, &opts, &overlay, &mut sources, &mut diags)
                        .ok()?;
                let states: Vec<_> = n.states.iter().map(|s| (&s.cfg, &s.facts)).collect();
                Some(format!(
                    "{states:#?}\n{:#?}\n{:#?}\n{diags:#?}\n{:#?}",
                    n.summaries, n.links, n.left_out
                ))
            };
            let (Some(all), Some(in_turn)) = (run(true), run(false)) else {
                continue;
            };
            assert!(all == in_turn, "{}", path.display());
            compared += 1;
        }
        assert!(compared > 10, "{compared} topologies compared");
        let refused = files.iter().rev().take(2).filter(|p| {
            let mut sources = SourceMap::new();
            let opts = Options::default();
            let topo = load_topology(p, &opts, &mut sources)
                .unwrap()
                .topology
                .unwrap();
            let mut diags = Vec::new();
            topology_nodes(&topo, &opts, &Overlay::default(), &mut sources, &mut diags).unwrap();
            diags
                .iter()
                .any(|d| d.code == "TW006" && d.message.contains("refuses"))
        });
        assert_eq!(
            refused.count(),
            2,
            "the refused values' topologies are judged"
        );
    }
}
