//! The report: what a run found, as data. Judging (`crate::judge`) fills it in; renderers
//! (`crate::render`), `advise` and the CLI read it. Nothing here judges or formats.
//!
//! A [`Report`] holds the nodes and hops it judged, one [`VerdictEntry`] per key and endpoint
//! (the matrix), the diagnostics at places in the input, what suppressions hid, and the paths
//! it could not read ([`Unread`]); [`Fleet`] is the summary of a run over many hosts.

mod fleet;

pub use fleet::{Fleet, FleetHost, Totals};

use crate::config::{KernelOrigin, SourceKindOut};
use crate::diag::{Diagnostic, Severity, Verdict};
use crate::facts::HopFacts;
use crate::kernel::KernelVersion;
use crate::source::Span;
use crate::suppress::{NodeIgnore, Suppression};
use std::sync::Arc;

/// One verdict of the matrix: a key on one endpoint of one link (or on a linted set).
///
/// Its names and texts are shared (`Arc<str>`): a large topology has a million verdicts, and
/// most repeat a node's and a link's name, a rule's id and name and a handful of reasons, which
/// held as a string each were most of a run's memory.
#[derive(Debug, Clone)]
pub struct VerdictEntry {
    pub link: Option<Arc<str>>,
    pub node: Arc<str>,
    pub side: Option<&'static str>,
    pub key: &'static str,
    pub value: Option<String>,
    pub source: SourceKindOut,
    pub span: Option<Span>,
    pub verdict: Verdict,
    pub rule: Option<Arc<str>>,
    pub rule_name: Option<Arc<str>>,
    pub reason: Arc<str>,
    pub help: Option<Arc<str>>,
    /// Set when a suppression hides this verdict: it stays in the matrix but no longer counts.
    /// Boxed: few verdicts are suppressed, and held in place it made every entry a fifth larger.
    pub suppressed: Option<Box<Suppression>>,
    /// A `.twlint.yaml` severity override for its rule: what the verdict weighs for `--fail-on`
    /// (error as dangerous, warning as pointless, info never fails).
    pub level: Option<Severity>,
    /// The values a drop-in on this node sets to follow the advice (the rule's `fix`), for
    /// `twlint advise`; empty when the rule has none.
    pub fix: Vec<(String, String)>,
    /// The node stands for hosts twlint cannot see (clients without files): its row shows the
    /// kernel defaults, not judged, and counts as neither safe nor a problem.
    pub unseen: bool,
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
    /// How many identical hosts it stands for (1 in file mode).
    pub hosts: u32,
    /// Whose network namespace its sockets live in: `None` for the host's, `Some("")` for one
    /// of its own, `Some(NODE)` for another node's (a sidecar's).
    pub namespace: Option<String>,
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
    /// TIME_WAIT sockets the hop keeps on the side that closes first (all its hosts, and on
    /// each), and whether the connecting side's ports bound them below rate x 60 s.
    pub time_wait_sockets: f64,
    pub time_wait_per_host: f64,
    pub time_wait_bounded: bool,
    /// The link declares `open` (even 0).
    pub open_declared: bool,
    /// Each middlebox with conntrack on the way, with its figures for this link.
    pub via_conntrack: Vec<(String, crate::middlebox::ConntrackFacts)>,
}

/// What a run judged: sysctl files and dumps on their own, or a topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Files,
    Topology,
}

/// Everything a run found.
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
    /// The topology nodes' `ignore:` entries, applied by the judge with the suppressions of `crate::suppress`.
    pub ignores: Vec<NodeIgnore>,
    /// Diagnostics a suppression hid, with what hid them.
    pub suppressed: Vec<(Diagnostic, Suppression)>,
    /// The `.twlint.yaml` the run used, set by the caller that read it.
    pub config: Option<String>,
    /// Paths named for linting that could not be read, in argument order, set by the caller
    /// that read them: the report covers the others, and the run is incomplete (exit code 2).
    pub unread: Vec<Unread>,
}

/// A path named for linting that could not be read: a host of a fleet with an error instead of
/// verdicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    /// The path as it was named.
    pub path: String,
    /// Why, as one line that names the path (`cannot read a.txt: Permission denied ...`).
    pub error: String,
}

impl Report {
    /// Verdicts of this kind that no suppression hides, on hosts twlint judged.
    pub fn count(&self, v: Verdict) -> usize {
        self.verdicts
            .iter()
            .filter(|e| e.verdict == v && e.suppressed.is_none() && !e.unseen)
            .count()
    }

    /// Rows of hosts twlint cannot see: shown, not judged, not counted by [`Report::count`].
    pub fn not_judged(&self) -> usize {
        self.verdicts.iter().filter(|e| e.unseen).count()
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

    /// Whether twlint could not do its whole job: an input that could not be judged (an invalid
    /// topology) or read (a broken path of a fleet). Exit code 2, whatever the findings.
    pub fn incomplete(&self) -> bool {
        self.fatal || !self.unread.is_empty()
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
