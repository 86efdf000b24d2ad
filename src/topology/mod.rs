//! Topology files (format version 1, see docs/guide/topology.md): the system the sysctl values serve.
//!
//! Loading has two phases. [`crate::yaml::parse`] turns the text into a spanned YAML tree (a large
//! text in two halves at once, `split`); then
//! `validate` walks that tree once and builds the [`Topology`], pushing a diagnostic for every
//! problem it meets, each at the exact place (codes TW050 to TW069, documented in `rules/`). It
//! never stops at the first problem: a file with five mistakes gets five diagnostics.
//!
//! The model holds only what validated. A node with a bad field keeps its other fields (so links
//! to it still resolve); a node with no usable name, a second node with the same name, a link
//! with any error and a repeated link are left out. Callers decide from the diagnostics'
//! severities whether to go on.

pub mod raw;
mod split;
mod validate;

/// The benchmarks' generators, for tests that read or judge a large generated topology.
#[cfg(test)]
#[path = "../../benches/gen/mod.rs"]
pub(crate) mod gen;

#[cfg(test)]
mod tests;

/// Every `.yaml`/`.yml` file under `dir`, for tests that run over the shipped topologies and
/// examples (here and in `judge`).
#[cfg(test)]
pub(crate) fn yaml_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

use crate::diag::{Diagnostic, Severity};
use crate::error::Result;
use crate::kernel::KernelVersion;
use crate::source::{FileId, SourceMap, Span, Spanned};
use std::path::{Path, PathBuf};

/// Largest topology file twlint reads.
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// What a node does on the network; decides which side of a hop a rule looks at. (The schema
/// says the first half: it is for the topology's authors.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(description = "What a node does on the network.")]
pub enum Role {
    /// Hosts that open connections (browsers, load generators).
    Client,
    /// A middlebox that rewrites source addresses; not a TCP endpoint.
    Nat,
    LoadBalancer,
    Proxy,
    Web,
    App,
    Db,
    Cache,
    Generic,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Client,
        Role::Nat,
        Role::LoadBalancer,
        Role::Proxy,
        Role::Web,
        Role::App,
        Role::Db,
        Role::Cache,
        Role::Generic,
    ];

    /// The name as written in a topology file (`load-balancer`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Nat => "nat",
            Role::LoadBalancer => "load-balancer",
            Role::Proxy => "proxy",
            Role::Web => "web",
            Role::App => "app",
            Role::Db => "db",
            Role::Cache => "cache",
            Role::Generic => "generic",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Whose network namespace a node's sockets live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(description = "Whose network namespace a node's sockets live in.")]
pub enum Namespace {
    /// The host's (initial) namespace: host sysctl files apply.
    Host,
    /// Its own (a pod, a container): per-namespace keys start from the kernel's defaults.
    Own,
}

impl Namespace {
    pub fn parse(s: &str) -> Option<Namespace> {
        match s {
            "host" => Some(Namespace::Host),
            "own" => Some(Namespace::Own),
            _ => None,
        }
    }
}

/// One machine (or group of identical replicas) of the topology.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: Spanned<String>,
    /// [`Role::Generic`] when absent; the span is then the node's name.
    pub role: Spanned<Role>,
    /// The node's own `kernel:`; see [`Topology::kernel_of`] for the effective one.
    pub kernel: Option<Spanned<KernelVersion>>,
    /// IPv4 or IPv6 literals, as written (with `host_addresses`, every host's, in order).
    pub addresses: Vec<Spanned<String>>,
    /// How many identical hosts the node stands for, as written.
    pub replicas: Option<Spanned<u32>>,
    pub listen: Vec<Spanned<u16>>,
    /// `sysctl.files`, joined to the topology's folder (not canonicalised); only those that
    /// exist. The span is the list item in the YAML.
    pub sysctl_files: Vec<Spanned<PathBuf>>,
    /// `sysctl.set`, in file order: key and value as written (`"1"`, `"1024 65535"`).
    pub sysctl_set: Vec<(Spanned<String>, Spanned<String>)>,
    /// `ignore:` entries (rule and reason), checked against the catalog by `suppress`.
    pub ignores: Vec<crate::suppress::NodeIgnore>,
    /// The whole node mapping.
    pub span: Span,
    /// Each host's addresses (indexes into `addresses`): from `host_addresses`, or `addresses`
    /// split by kind ([`crate::address::split_hosts`]). One entry per host.
    pub host_addresses: Vec<Vec<usize>>,
    /// `namespace:` as written; `None` is the host's.
    pub namespace: Option<Spanned<Namespace>>,
    /// `shares_namespace_with:` and the index of the node it names (validated: that node shares
    /// no one else's).
    pub shares_namespace_with: Option<(Spanned<String>, usize)>,
    /// `workload:`: the unit of its multi-unit `sysctl.files` (a pod template, a compose
    /// service) the node stands for.
    pub workload: Option<Spanned<String>>,
    /// `conntrack:` as written and understood; see [`Node::tracks`].
    pub conntrack: Option<Spanned<crate::middlebox::Conntrack>>,
    /// `idle_timeout:` in seconds, with the preset it came from.
    pub idle_timeout: Option<Spanned<crate::middlebox::IdleTimeout>>,
}

impl Node {
    /// How many identical hosts the node stands for: `replicas` if given, else one per address
    /// of one kind (format 1's "one per address" for a list of one kind), at least 1.
    pub fn hosts(&self) -> u32 {
        match &self.replicas {
            Some(r) => r.value,
            None => self.host_addresses.len().max(1) as u32,
        }
    }

    /// The node has a network namespace of its own (a pod or container): `namespace: own`, or
    /// a `workload` without `namespace: host` (a pod with `hostNetwork`).
    pub fn own_namespace(&self) -> bool {
        match &self.namespace {
            Some(n) => n.value == Namespace::Own,
            None => self.workload.is_some(),
        }
    }

    /// Whether flows through this node are tracked by Linux conntrack: `conntrack:` if given,
    /// else whether it is a `nat` node (Linux NAT needs conntrack).
    pub fn tracks(&self) -> bool {
        match &self.conntrack {
            Some(c) => c.value.tracks(),
            None => self.role.value == Role::Nat,
        }
    }

    /// A middlebox: a `nat` node, or one that says it tracks flows or forgets idle ones.
    pub fn is_middlebox(&self) -> bool {
        self.role.value == Role::Nat || self.conntrack.is_some() || self.idle_timeout.is_some()
    }
}

/// One hop: `from` calls connect(), `to` accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    /// Indices into [`Topology::nodes`].
    pub from_idx: usize,
    pub to_idx: usize,
    pub port: Spanned<u16>,
    pub via: Option<Spanned<String>>,
    pub via_idx: Option<usize>,
    /// Equal to `from` or `to`.
    pub closes_first: Spanned<String>,
    /// New connections per second over the whole link; finite and positive.
    pub rate: Option<Spanned<f64>>,
    /// Connections held open at once over the whole link.
    pub open: Option<Spanned<u64>>,
    pub span: Span,
    /// `source:`: the address `from` connects from (one of its addresses).
    pub source: Option<Spanned<String>>,
    /// Every middlebox on the way, in path order, with its index in [`Topology::nodes`]
    /// (`via` and `via_idx` are the first of them).
    pub vias: Vec<(Spanned<String>, usize)>,
    /// Whether the application sets SO_KEEPALIVE on these connections (`None`: not said).
    pub keepalive: Option<Spanned<bool>>,
}

impl Link {
    /// `FROM->TO`, as the JSON report names links.
    pub fn name(&self) -> String {
        format!("{}->{}", self.from.value, self.to.value)
    }

    /// Whether the connecting side (`from`) closes first, and so holds the TIME_WAIT sockets.
    pub fn client_closes(&self) -> bool {
        self.closes_first.value == self.from.value
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    pub file: FileId,
    /// The folder `sysctl.files` are relative to.
    pub dir: PathBuf,
    pub name: Option<Spanned<String>>,
    pub default_kernel: Option<Spanned<KernelVersion>>,
    pub nodes: Vec<Node>,
    pub links: Vec<Link>,
    /// `applied_by`: the tool whose end state is judged (procps when not said).
    pub applied_by: Option<crate::config::Applier>,
    /// `kubernetes`: the cluster its workloads' pods are admitted by, when it says.
    pub kubernetes: Option<Box<crate::kubernetes::Cluster>>,
}

impl Topology {
    pub fn node(&self, name: &str) -> Option<(usize, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .find(|(_, n)| n.name.value == name)
    }

    /// The node's kernel, else `defaults.kernel`, else `None`.
    pub fn kernel_of(&self, idx: usize) -> Option<KernelVersion> {
        self.nodes
            .get(idx)
            .and_then(|n| n.kernel.as_ref())
            .or(self.default_kernel.as_ref())
            .map(|k| k.value)
    }
}

/// The result of loading a topology: the model, and every problem found.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// `None` only when the file cannot be made sense of at all (a YAML syntax error, a document
    /// that is not a mapping). With errors among the diagnostics, it holds what validated.
    pub topology: Option<Topology>,
    /// In file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Reads and validates a topology file. I/O problems, a path that is not a regular file (a FIFO,
/// `/dev/zero`) and files over [`MAX_FILE_SIZE`] are errors; everything else is a diagnostic.
/// `sysctl.files` must stay inside the topology's folder (TW067); see [`load_allowing_outside`].
pub fn load(path: &Path, sources: &mut SourceMap) -> Result<Loaded> {
    load_with(path, sources, true)
}

/// Like [`load`], but `sysctl.files` may name files anywhere (`--allow-outside-paths`).
pub fn load_allowing_outside(path: &Path, sources: &mut SourceMap) -> Result<Loaded> {
    load_with(path, sources, false)
}

fn load_with(path: &Path, sources: &mut SourceMap, contain: bool) -> Result<Loaded> {
    let text = crate::read::read_text(path, MAX_FILE_SIZE)?;
    let dir = folder_of(path);
    Ok(load_text_with(
        &path.display().to_string(),
        dir,
        &text,
        contain,
        sources,
    ))
}

/// The folder a topology's `sysctl.files` are relative to.
pub fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Validates topology text as if read from `path`, with `sysctl.files` relative to `dir`.
/// A leading byte order mark is dropped before the text is registered, so columns start at 1.
/// `sysctl.files` must stay inside `dir`.
pub fn load_text(path: &str, dir: &Path, text: &str, sources: &mut SourceMap) -> Loaded {
    load_text_with(path, dir, text, true, sources)
}

/// Bytes of text from which a topology's YAML tree is freed on a thread of its own
/// ([`crate::pool::drop_aside`]); a small one is freed sooner than a thread starts.
const DROP_ASIDE_FROM: usize = 256 * 1024;

fn load_text_with(
    path: &str,
    dir: &Path,
    text: &str,
    contain: bool,
    sources: &mut SourceMap,
) -> Loaded {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let file = sources.add(path, text);
    let (topology, mut diagnostics) = match split::parse(file, text) {
        Err(diagnostic) => (None, vec![diagnostic]),
        Ok(doc) => {
            let mut diagnostics = doc.diagnostics;
            let topology =
                validate::validate(file, dir, text, &doc.root, contain, &mut diagnostics);
            // A large tree is freed beside the steps that follow (a tenth of the time
            // reading a 10,000-node topology took).
            if text.len() >= DROP_ASIDE_FROM {
                crate::pool::drop_aside(doc.root);
            }
            (topology, diagnostics)
        }
    };
    diagnostics.sort_by_key(|d| d.primary.as_ref().map(|l| l.span.start));
    Loaded {
        topology,
        diagnostics,
    }
}
