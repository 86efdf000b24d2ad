//! The engine: from inputs to a [`Report`] of verdicts and diagnostics.
//!
//! Two entry points share one pipeline. [`lint_files`] judges sysctl files or dumps on their own
//! (one node per linted set or per dump, no hops), [`judge_topology`] judges every endpoint of
//! every link of a topology. Both resolve each node's effective values (`config`), derive facts
//! (`facts`), run the CEL rules that judge each in-scope key, and keep the worst verdict per
//! (link, node, key). A value written in a file gets a diagnostic at its place when it is
//! dangerous on any hop, or pointless on every hop of that node: a `tcp_tw_reuse = 1` that is
//! pointless on the web server's incoming hop but useful on its hop to the database is not
//! flagged.

use crate::config::{self, InlineValue, KernelOrigin, NodeConfig, SourceKindOut, ASSUMED_KERNEL};
use crate::diag::{Diagnostic, Label, Severity, Verdict};
use crate::error::Result;
use crate::facts::{self, HopFacts, LinkInfo, NodeFacts, NodeInfo};
use crate::kernel::KernelVersion;
use crate::rules::eval::{self, KeyVars};
use crate::rules::{RuleSet, Scope};
use crate::source::{FileId, SourceMap, Span};
use crate::sysctl::{self, SysctlSet};
use crate::topology;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One verdict of the matrix: a key on one endpoint of one link (or on a linted set).
#[derive(Debug, Clone)]
pub struct VerdictEntry {
    pub link: Option<String>,
    pub node: String,
    pub side: Option<&'static str>,
    pub key: &'static str,
    pub value: Option<String>,
    pub source: SourceKindOut,
    pub span: Option<Span>,
    pub verdict: Verdict,
    pub rule: Option<String>,
    pub rule_name: Option<String>,
    pub reason: String,
    pub help: Option<String>,
    /// Set when a suppression hides this verdict: it stays in the matrix but no longer counts.
    pub suppressed: Option<crate::suppress::Suppression>,
    /// A `.twlint.yaml` severity override for its rule: what the verdict weighs for `--fail-on`
    /// (error as dangerous, warning as pointless, info never fails).
    pub level: Option<Severity>,
    /// The values a drop-in on this node sets to follow the advice (the rule's `fix`), for
    /// `twlint advise`; empty when the rule has none.
    pub fix: Vec<(String, String)>,
}

/// A node as the report presents it.
#[derive(Debug, Clone)]
pub struct NodeSummary {
    pub name: String,
    pub role: String,
    pub kernel: KernelVersion,
    pub kernel_origin: KernelOrigin,
    /// Files and dumps its values came from.
    pub sources: Vec<String>,
}

/// A hop as the report presents it: the seed article's scheme tables, with the numbers.
#[derive(Debug, Clone)]
pub struct HopSummary {
    pub link: String,
    pub from: String,
    pub to: String,
    pub port: u16,
    pub via: Option<String>,
    pub closes_first: String,
    pub rate: Option<f64>,
    /// The client side's facts (capacity is a property of the connecting side).
    pub client: HopFacts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Files,
    Topology,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub mode: Mode,
    pub topology: Option<String>,
    pub nodes: Vec<NodeSummary>,
    pub hops: Vec<HopSummary>,
    pub verdicts: Vec<VerdictEntry>,
    pub diagnostics: Vec<Diagnostic>,
    /// The input could not be judged (an invalid topology): exit code 2.
    pub fatal: bool,
    /// The topology nodes' `ignore:` entries, applied by [`crate::suppress::apply`].
    pub ignores: Vec<crate::suppress::NodeIgnore>,
    /// Diagnostics a suppression hid, with what hid them.
    pub suppressed: Vec<(Diagnostic, crate::suppress::Suppression)>,
    /// The `.twlint.yaml` the run used, set by the caller that read it.
    pub config: Option<String>,
}

/// How a run judges, beyond its inputs.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--kernel`: overrides every other source of a node's kernel.
    pub kernel: Option<KernelVersion>,
    /// `.twlint.yaml`'s `kernel`: used where neither the topology nor a dump says, instead of
    /// the assumed 6.18.
    pub default_kernel: Option<KernelVersion>,
    /// Honour suppressions (sysctl comments and topology `ignore:`); off with
    /// `--no-inline-ignores`.
    pub inline_ignores: bool,
    /// `--allow-outside-paths`: a topology's `sysctl.files` may lead outside its folder.
    pub allow_outside_paths: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            kernel: None,
            default_kernel: None,
            inline_ignores: true,
            allow_outside_paths: false,
        }
    }
}

impl Report {
    /// Verdicts of this kind that no suppression hides.
    pub fn count(&self, v: Verdict) -> usize {
        self.verdicts
            .iter()
            .filter(|e| e.verdict == v && e.suppressed.is_none())
            .count()
    }

    /// Diagnostics of this severity (suppressed ones are not in `diagnostics`).
    pub fn diagnostics_of(&self, s: Severity) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == s).count()
    }

    /// Verdicts a suppression hides: they stay in the matrix but count nowhere else.
    pub fn suppressed_verdicts(&self) -> usize {
        self.verdicts
            .iter()
            .filter(|v| v.suppressed.is_some())
            .count()
    }

    /// Whether anything reaches the `--fail-on` threshold.
    pub fn fails(&self, threshold: Option<Verdict>) -> bool {
        let Some(t) = threshold else { return false };
        let sev = t.severity();
        self.verdicts
            .iter()
            .filter(|e| e.suppressed.is_none() && e.verdict != Verdict::Safe)
            .any(|e| e.level.unwrap_or(e.verdict.severity()) >= sev)
            || self
                .diagnostics
                .iter()
                .any(|d| d.severity >= sev && d.severity != Severity::Info)
    }
}

/// A rule whose condition or message fails at run time is a bug in that rule file.
#[derive(Debug, thiserror::Error)]
#[error("rule {rule} ({path}) failed on {subject}: {message}")]
pub struct RuleFailure {
    pub rule: String,
    pub path: String,
    pub subject: String,
    pub message: String,
}

struct Judged {
    verdict: Verdict,
    rule: Option<(String, String)>,
    reason: String,
    help: Option<String>,
    labels: Vec<Label>,
    fix: Vec<(String, String)>,
}

/// Everything needed to judge one node's keys.
struct NodeState {
    cfg: NodeConfig,
    facts: NodeFacts,
    cel: eval::CelFacts,
}

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

fn judge_key(
    rules: &RuleSet,
    key: &'static str,
    node: &NodeState,
    peer: Option<&NodeState>,
    base: &cel::Context<'_, '_>,
    subject: &str,
) -> std::result::Result<Option<Judged>, RuleFailure> {
    let Some(vars) = key_vars(&node.cfg, key) else {
        return Ok(None);
    };
    let ctx = eval::key_scope(base, &vars);
    let mut best: Option<Judged> = None;
    for (rule, cel_rule) in rules.for_key(key) {
        if cel_rule.scope == Scope::Hop && peer.is_none() {
            continue;
        }
        let fail = |message: String| RuleFailure {
            rule: rule.id.clone(),
            path: rule.path.clone(),
            subject: subject.to_string(),
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
        });
    }
    Ok(Some(best.unwrap_or_else(|| {
        let v = node.cfg.value(key).expect("checked above");
        Judged {
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
        }
    })))
}

fn entry(
    link: Option<String>,
    side: Option<&'static str>,
    node: &NodeState,
    key: &'static str,
    j: &Judged,
) -> VerdictEntry {
    let v = node.cfg.value(key).expect("judged keys have values");
    VerdictEntry {
        link,
        node: node.cfg.name.clone(),
        side,
        key,
        value: v.printed.clone().or_else(|| v.written.clone()),
        source: v.kind,
        span: v.span,
        verdict: j.verdict,
        rule: j.rule.as_ref().map(|r| r.0.clone()),
        rule_name: j.rule.as_ref().map(|r| r.1.clone()),
        reason: j.reason.clone(),
        help: j.help.clone(),
        suppressed: None,
        level: None,
        fix: j.fix.clone(),
    }
}

/// Turns verdicts on written values into diagnostics (see the module docs for when).
fn verdict_diagnostics(
    verdicts: &[VerdictEntry],
    extra_labels: &HashMap<(String, &'static str, String), Vec<Label>>,
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
            if seen_rules.contains(rule) {
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
            let mut d = Diagnostic::new(rule.clone(), report.severity(), e.reason.clone())
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

fn node_state(cfg: NodeConfig, info: &NodeInfo) -> NodeState {
    let facts = facts::node_facts(&cfg, info);
    let cel = eval::to_cel_node(&facts);
    NodeState { cfg, facts, cel }
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
pub fn sort_by_place(diags: &mut [Diagnostic], sources: &SourceMap) {
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
fn cap_per_rule(diags: &mut Vec<Diagnostic>) {
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

fn node_diags(name: &str, set: &SysctlSet, diags: &mut Vec<Diagnostic>) {
    for d in &set.diagnostics {
        let mut d = d.clone();
        if d.node.is_none() {
            d.node = Some(name.to_string());
        }
        diags.push(d);
    }
}

/// Where a rule's extra labels are collected: (node, key, rule id).
type LabelKey = (String, &'static str, String);

/// One linted set or dump, judged on its own.
struct Judged1 {
    node: NodeSummary,
    verdicts: Vec<VerdictEntry>,
    diags: Vec<Diagnostic>,
    labels: Vec<(LabelKey, Vec<Label>)>,
}

/// Judges every in-scope key of one node without a topology.
fn judge_keys(
    name: &str,
    rules: &RuleSet,
    state: &NodeState,
    base: &cel::Context<'_, '_>,
    labels: &mut Vec<(LabelKey, Vec<Label>)>,
    verdicts: &mut Vec<VerdictEntry>,
) -> Result<()> {
    for spec in config::judged_keys() {
        let subject = format!("{name} / {}", spec.key);
        let judged = judge_key(rules, spec.key, state, None, base, &subject)
            .map_err(|e| crate::error::Error::RuleFailed(e.to_string()))?;
        if let Some(j) = judged {
            if let Some((id, _)) = &j.rule {
                labels.push(((name.to_string(), spec.key, id.clone()), j.labels.clone()));
            }
            verdicts.push(entry(None, None, state, spec.key, &j));
        }
    }
    Ok(())
}

/// Judges one linted set or dump as a node without a topology. Needs only shared access to the
/// source map, so many hosts can be judged at once.
fn judge_set(
    name: &str,
    set: &SysctlSet,
    kernel: Option<KernelVersion>,
    assumed: (KernelVersion, KernelOrigin),
    rules: &RuleSet,
    sources: &SourceMap,
) -> Result<Judged1> {
    let mut diags = Vec::new();
    let mut verdicts = Vec::new();
    let mut labels = Vec::new();
    node_diags(name, set, &mut diags);
    let dump_kernel = set
        .kernel_release()
        .and_then(|r| KernelVersion::parse(&r.value));
    let (k, origin) = match (kernel, dump_kernel) {
        (Some(k), _) => (k, KernelOrigin::Flag),
        (None, Some(k)) => (k, KernelOrigin::Dump),
        (None, None) => assumed,
    };
    let cfg = config::resolve(name, k, origin, Some(set), &[], &mut diags);
    let state = node_state(cfg, &NodeInfo::default());
    // CEL's standard library, built once per thread: it cost as much as judging a dump.
    thread_local! {
        static ROOT: eval::RootContext = eval::root_context();
    }
    ROOT.with(|root| {
        let bound = eval::Bound::new(&state.cel, None);
        let base = eval::base_context(root, &bound);
        judge_keys(name, rules, &state, &base, &mut labels, &mut verdicts)
    })?;
    let node = NodeSummary {
        name: name.to_string(),
        role: "generic".into(),
        kernel: k,
        kernel_origin: origin,
        sources: set
            .files
            .iter()
            .map(|f| sources.get(f.file).path.clone())
            .collect(),
    };
    Ok(Judged1 {
        node,
        verdicts,
        diags,
        labels,
    })
}

/// Judges sysctl files and dumps without a topology.
///
/// Every `sysctl -a` dump is a host of its own (its kernel from its `kernel.osrelease`);
/// everything else is one set read with `sysctl --system` precedence, judged first. Dumps are
/// read, parsed and judged on all cores ([`crate::fleet::par_map`]); the report lists them in
/// argument order whatever the thread that judged them.
pub fn lint_files(
    paths: &[PathBuf],
    kernel: Option<KernelVersion>,
    rules: &RuleSet,
    sources: &mut SourceMap,
) -> Result<Report> {
    let opts = Options {
        kernel,
        ..Options::default()
    };
    lint_files_with(paths, &opts, rules, sources)
}

/// [`lint_files`] with every option; suppressions are applied.
pub fn lint_files_with(
    paths: &[PathBuf],
    opts: &Options,
    rules: &RuleSet,
    sources: &mut SourceMap,
) -> Result<Report> {
    // What each path stands for is independent per path (the input seam's registration table
    // decides); an error stops the run at the first failing path in argument order, as a
    // sequential read would.
    let named = crate::fleet::par_map(paths, |p| crate::inputs::sort_named(p));
    let mut hosts = Vec::new();
    let mut set_paths = Vec::new();
    for (p, n) in paths.iter().zip(named) {
        match n? {
            crate::inputs::Named::Host(file) => hosts.push(file),
            crate::inputs::Named::Set => set_paths.push(p.clone()),
        }
    }
    let mut sets: Vec<(String, SysctlSet)> = Vec::new();
    if !set_paths.is_empty() {
        let name = set_paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        sets.push((name, sysctl::load(&set_paths, sources)?));
    }
    // Registering is sequential (file ids follow argument order) and only moves the files.
    // A host is named by its path, as it was registered.
    let hosts: Vec<crate::inputs::RegisteredHost> =
        hosts.into_iter().map(|h| h.register(sources)).collect();
    let shared: &SourceMap = sources;
    sets.extend(crate::fleet::par_map(&hosts, |h| {
        (
            shared.get(h.file).path.clone(),
            sysctl::resolve_file(h.read(shared)),
        )
    }));
    lint_sets(&sets, opts, rules, sources)
}

/// Judges one text (a sysctl file or a `sysctl -a` dump) registered under `name`: the library
/// entry for a single file held in memory (fuzzing, benchmarks, embedders).
pub fn lint_text(
    name: &str,
    text: &str,
    kernel: Option<KernelVersion>,
    rules: &RuleSet,
    sources: &mut SourceMap,
) -> Result<Report> {
    let set = sysctl::load_text(name, text, sources);
    let opts = Options {
        kernel,
        ..Options::default()
    };
    lint_sets(&[(name.to_string(), set)], &opts, rules, sources)
}

fn lint_sets(
    sets: &[(String, SysctlSet)],
    opts: &Options,
    rules: &RuleSet,
    sources: &SourceMap,
) -> Result<Report> {
    let assumed = assumed(opts);
    let judged = crate::fleet::par_map(sets, |(name, set)| {
        judge_set(name, set, opts.kernel, assumed, rules, sources)
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
    verdict_diagnostics(&verdicts, &labels, &mut diags);
    dedupe(&mut diags);
    sort_by_place(&mut diags, sources);
    cap_per_rule(&mut diags);
    let mut report = Report {
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
    };
    crate::suppress::apply(&mut report, sources, rules, opts.inline_ignores);
    Ok(report)
}

/// Judges every endpoint of every link of a topology file.
pub fn judge_topology(
    path: &Path,
    kernel: Option<KernelVersion>,
    rules: &RuleSet,
    sources: &mut SourceMap,
) -> Result<Report> {
    let opts = Options {
        kernel,
        ..Options::default()
    };
    judge_topology_with(path, &opts, rules, sources)
}

/// [`judge_topology`] with every option; suppressions are applied.
pub fn judge_topology_with(
    path: &Path,
    opts: &Options,
    rules: &RuleSet,
    sources: &mut SourceMap,
) -> Result<Report> {
    let loaded = load_topology(path, opts, sources)?;
    judge_loaded(loaded, opts, None, rules, sources, &BTreeMap::new())
}

/// Like [`judge_topology`], but the topology's `sysctl.files` may lead anywhere
/// (`--allow-outside-paths`), not only inside its folder.
pub fn judge_topology_allowing_outside(
    path: &Path,
    kernel: Option<KernelVersion>,
    rules: &RuleSet,
    sources: &mut SourceMap,
) -> Result<Report> {
    let opts = Options {
        kernel,
        allow_outside_paths: true,
        ..Options::default()
    };
    judge_topology_with(path, &opts, rules, sources)
}

/// Loads a topology, its `sysctl.files` contained in its folder unless
/// `--allow-outside-paths` ([`Options::allow_outside_paths`]).
pub fn load_topology(
    path: &Path,
    opts: &Options,
    sources: &mut SourceMap,
) -> Result<topology::Loaded> {
    if opts.allow_outside_paths {
        topology::load_allowing_outside(path, sources)
    } else {
        topology::load(path, sources)
    }
}

/// The kernel of a node nothing in the input names one for.
fn assumed(opts: &Options) -> (KernelVersion, KernelOrigin) {
    match opts.default_kernel {
        Some(k) => (k, KernelOrigin::Config),
        None => (ASSUMED_KERNEL, KernelOrigin::Assumed),
    }
}

/// Judges a topology as if each named node also had the given sysctl file applied after all of
/// its values (files and inline `set:`): what `twlint advise`'s drop-ins lead to. The map is
/// node name -> (file name, text).
pub fn judge_topology_with_dropins(
    path: &Path,
    kernel: Option<KernelVersion>,
    rules: &RuleSet,
    sources: &mut SourceMap,
    dropins: &BTreeMap<String, (String, String)>,
) -> Result<Report> {
    let loaded = topology::load(path, sources)?;
    let opts = Options {
        kernel,
        ..Options::default()
    };
    judge_loaded(loaded, &opts, None, rules, sources, dropins)
}

/// Judges a loaded topology with one node's values read from its host (`crate::host`): those
/// values replace the declared ones key by key, and its kernel is the host's unless `--kernel`
/// says otherwise.
pub fn judge_loaded_topology(
    loaded: topology::Loaded,
    opts: &Options,
    live: Option<&crate::host::judge::LiveValues>,
    rules: &RuleSet,
    sources: &mut SourceMap,
) -> Result<Report> {
    judge_loaded(loaded, opts, live, rules, sources, &BTreeMap::new())
}

/// Judges a topology given as text (rule examples and tests); `dir` resolves its files.
pub fn judge_topology_text(
    name: &str,
    dir: &Path,
    text: &str,
    rules: &RuleSet,
    sources: &mut SourceMap,
) -> Result<Report> {
    let loaded = topology::load_text(name, dir, text, sources);
    judge_loaded(
        loaded,
        &Options::default(),
        None,
        rules,
        sources,
        &BTreeMap::new(),
    )
}

fn judge_loaded(
    loaded: topology::Loaded,
    opts: &Options,
    live: Option<&crate::host::judge::LiveValues>,
    rules: &RuleSet,
    sources: &mut SourceMap,
    dropins: &BTreeMap<String, (String, String)>,
) -> Result<Report> {
    let kernel = opts.kernel;
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
        });
    };

    // Nodes sharing the same files share one parsed set (and its diagnostics appear once).
    let mut sets: HashMap<Vec<PathBuf>, usize> = HashMap::new();
    let mut loaded_sets: Vec<SysctlSet> = Vec::new();
    // Each node's configuration and facts; the facts become CEL values once the topology's
    // aggregates are in (converting them is a good part of judging a node).
    let mut configs: Vec<(NodeConfig, NodeFacts)> = Vec::new();
    let mut summaries = Vec::new();
    for node in &topo.nodes {
        let files: Vec<PathBuf> = node.sysctl_files.iter().map(|f| f.value.clone()).collect();
        let set_idx = if files.is_empty() {
            None
        } else if let Some(&i) = sets.get(&files) {
            Some(i)
        } else {
            let jail = (!opts.allow_outside_paths).then_some(topo.dir.as_path());
            let set = sysctl::load_within(&files, sources, jail)?;
            node_diags(&node.name.value, &set, &mut diags);
            loaded_sets.push(set);
            sets.insert(files.clone(), loaded_sets.len() - 1);
            Some(loaded_sets.len() - 1)
        };
        let set = set_idx.map(|i| &loaded_sets[i]);
        let live_here = live.filter(|l| l.node == node.name.value);
        // The host's own release comes after `--kernel` and before anything the topology says.
        let flag = kernel.map(|k| (k, KernelOrigin::Flag)).or_else(|| {
            live_here
                .and_then(|l| l.kernel)
                .map(|k| (k, KernelOrigin::Live))
        });
        let (k, origin) = match (flag, node.kernel.as_ref(), topo.default_kernel.as_ref()) {
            (Some(k), _, _) => k,
            (None, Some(k), _) => (k.value, KernelOrigin::Node),
            (None, None, Some(k)) => (k.value, KernelOrigin::Defaults),
            (None, None, None) => match set
                .and_then(|s| s.kernel_release())
                .and_then(|r| KernelVersion::parse(&r.value))
            {
                Some(k) => (k, KernelOrigin::Dump),
                None => assumed(opts),
            },
        };
        let mut inline: Vec<InlineValue> = node
            .sysctl_set
            .iter()
            .map(|(k, v)| InlineValue {
                key: k.value.replace('/', "."),
                key_span: k.span,
                value: v.value.clone(),
                value_span: v.span,
            })
            .collect();
        if let Some((name, text)) = dropins.get(&node.name.value) {
            let set = sysctl::load_text(name, text, sources);
            for f in &set.files {
                for a in &f.assignments {
                    inline.push(InlineValue {
                        key: a.key.value.clone(),
                        key_span: a.key.span,
                        value: a.value.value.clone(),
                        value_span: a.value.span,
                    });
                }
            }
        }
        let mut cfg = config::resolve(&node.name.value, k, origin, set, &inline, &mut diags);
        if let Some(l) = live_here {
            l.apply(&mut cfg);
        }
        let info = NodeInfo {
            role: node.role.value.as_str().to_string(),
            listen: node.listen.iter().map(|p| p.value).collect(),
            addresses: node.addresses.iter().map(|a| a.value.clone()).collect(),
        };
        summaries.push(NodeSummary {
            name: node.name.value.clone(),
            role: info.role.clone(),
            kernel: k,
            kernel_origin: origin,
            sources: set
                .map(|s| {
                    s.files
                        .iter()
                        .map(|f| sources.get(f.file).path.clone())
                        .collect()
                })
                .unwrap_or_default(),
        });
        let f = facts::node_facts(&cfg, &info);
        configs.push((cfg, f));
    }

    let links: Vec<LinkInfo> = topo
        .links
        .iter()
        .map(|l| LinkInfo {
            name: l.name(),
            from: l.from_idx,
            to: l.to_idx,
            port: l.port.value,
            via_nat: l.via_idx.is_some(),
            client_closes: l.client_closes(),
            rate: l.rate.as_ref().map(|r| r.value),
        })
        .collect();
    let (cfgs, mut all_facts): (Vec<NodeConfig>, Vec<NodeFacts>) = configs.into_iter().unzip();
    facts::aggregate(&mut all_facts, &links);
    let states: Vec<NodeState> = cfgs
        .into_iter()
        .zip(all_facts)
        .map(|(cfg, facts)| NodeState {
            cel: eval::to_cel_node(&facts),
            cfg,
            facts,
        })
        .collect();

    let mut verdicts = Vec::new();
    let mut hops = Vec::new();
    let mut labels: HashMap<(String, &'static str, String), Vec<Label>> = HashMap::new();
    let mut on_a_link = vec![false; states.len()];
    let root = eval::root_context();
    for (link, l) in links.iter().zip(&topo.links) {
        let from_role = states[link.from].facts.role.clone();
        for client_side in [true, false] {
            let (me, peer) = if client_side {
                (link.from, link.to)
            } else {
                (link.to, link.from)
            };
            on_a_link[me] = true;
            let hop = facts::hop_facts(
                link,
                client_side,
                &states[me].facts,
                &states[peer].facts,
                &from_role,
            );
            if client_side {
                hops.push(HopSummary {
                    link: link.name.clone(),
                    from: l.from.value.clone(),
                    to: l.to.value.clone(),
                    port: link.port,
                    via: l.via.as_ref().map(|v| v.value.clone()),
                    closes_first: l.closes_first.value.clone(),
                    rate: link.rate,
                    client: hop.clone(),
                });
            }
            let hop_cel = eval::to_cel_hop(&hop);
            let bound = eval::Bound::new(&states[me].cel, Some((&states[peer].cel, &hop_cel)));
            let base = eval::base_context(&root, &bound);
            let side = if client_side { "client" } else { "server" };
            for spec in config::judged_keys() {
                let subject = format!("{} / {} / {}", link.name, states[me].cfg.name, spec.key);
                let j = judge_key(
                    rules,
                    spec.key,
                    &states[me],
                    Some(&states[peer]),
                    &base,
                    &subject,
                )
                .map_err(|e| crate::error::Error::RuleFailed(e.to_string()))?;
                if let Some(j) = j {
                    if let Some((id, _)) = &j.rule {
                        labels
                            .entry((states[me].cfg.name.clone(), spec.key, id.clone()))
                            .or_default()
                            .extend(j.labels.clone());
                    }
                    verdicts.push(entry(
                        Some(link.name.clone()),
                        Some(side),
                        &states[me],
                        spec.key,
                        &j,
                    ));
                }
            }
        }
    }
    // Nodes on no link still get their node-level checks (a removed key is wrong anywhere).
    for (i, s) in states.iter().enumerate() {
        if on_a_link[i] || s.facts.role == "nat" {
            continue;
        }
        let bound = eval::Bound::new(&s.cel, None);
        let base = eval::base_context(&root, &bound);
        for spec in config::judged_keys() {
            let subject = format!("{} / {}", s.cfg.name, spec.key);
            if let Some(j) = judge_key(rules, spec.key, s, None, &base, &subject)
                .map_err(|e| crate::error::Error::RuleFailed(e.to_string()))?
            {
                verdicts.push(entry(None, None, s, spec.key, &j));
            }
        }
    }
    for l in labels.values_mut() {
        l.dedup();
    }
    verdict_diagnostics(&verdicts, &labels, &mut diags);
    dedupe(&mut diags);
    sort_by_place(&mut diags, sources);
    cap_per_rule(&mut diags);
    let mut report = Report {
        mode: Mode::Topology,
        topology: topo.name.as_ref().map(|n| n.value.clone()),
        nodes: summaries,
        hops,
        verdicts,
        diagnostics: diags,
        fatal: false,
        ignores: topo.nodes.iter().flat_map(|n| n.ignores.clone()).collect(),
        suppressed: Vec::new(),
        config: None,
    };
    crate::suppress::apply(&mut report, sources, rules, opts.inline_ignores);
    Ok(report)
}
