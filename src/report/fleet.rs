//! The fleet summary: which hosts of a run over many `sysctl -a` dumps have which dangerous
//! settings, and which could not be read at all, derived from the report for the renderers to
//! print after the per-host reports; and the [`Totals`] the last lines of a report count.
//!
//! Both are built host by host ([`Fleet::hosts_of`], [`Totals::add`]) so that a fleet run can
//! write each host's report and drop it as soon as it is judged, keeping only these (a few
//! dozen bytes per host); [`Fleet::of`] and [`Totals::of`] give the same for a whole report.

use super::{Mode, Report, Unread};
use crate::diag::{Severity, Verdict};
use std::collections::BTreeMap;

/// One host of the fleet and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetHost {
    pub name: String,
    pub kernel: String,
    /// Keys with a dangerous verdict, in the order of the report.
    pub dangerous: Vec<&'static str>,
    /// Keys with a pointless verdict.
    pub pointless: Vec<&'static str>,
    /// Error-level diagnostics on this host (unknown keys, rejected values, ...).
    pub errors: usize,
    /// Why the host's path could not be read; such a host has no verdicts and kernel `unknown`.
    pub error: Option<String>,
}

/// Which hosts have which dangerous settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    /// Every host judged, in argument order, then every path that could not be read.
    pub hosts: Vec<FleetHost>,
    /// For every key that is dangerous somewhere, the hosts where it is (indexes into
    /// `hosts`, in host order).
    pub dangerous: BTreeMap<&'static str, Vec<u32>>,
}

impl Fleet {
    /// The summary of a report over sysctl files and dumps with at least two hosts, those that
    /// could not be read included; `None` for a topology or a single host, where the per-host
    /// table already says everything.
    pub fn of(r: &Report) -> Option<Fleet> {
        if r.mode != Mode::Files || r.nodes.len() + r.unread.len() < 2 {
            return None;
        }
        Some(Fleet::from_hosts(Fleet::hosts_of(r), &r.unread))
    }

    /// The judged hosts of a report (or of one host's part of a streamed run), in its order.
    pub fn hosts_of(r: &Report) -> Vec<FleetHost> {
        let index: BTreeMap<&str, usize> = r
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.as_str(), i))
            .collect();
        let mut hosts: Vec<FleetHost> = r
            .nodes
            .iter()
            .map(|n| FleetHost {
                name: n.name.clone(),
                kernel: n.kernel.to_string(),
                dangerous: Vec::new(),
                pointless: Vec::new(),
                errors: 0,
                error: None,
            })
            .collect();
        for v in &r.verdicts {
            let Some(&i) = index.get(&*v.node) else {
                continue;
            };
            let list = match v.verdict {
                Verdict::Dangerous => &mut hosts[i].dangerous,
                Verdict::Pointless => &mut hosts[i].pointless,
                Verdict::Safe => continue,
            };
            if !list.contains(&v.key) {
                list.push(v.key);
            }
        }
        for d in &r.diagnostics {
            if d.severity != Severity::Error {
                continue;
            }
            if let Some(&i) = d.node.as_deref().and_then(|n| index.get(n)) {
                hosts[i].errors += 1;
            }
        }
        hosts
    }

    /// The summary of the judged `hosts` (in report order) and the paths that could not be read
    /// (in argument order, listed after them).
    pub fn from_hosts(mut hosts: Vec<FleetHost>, unread: &[Unread]) -> Fleet {
        hosts.extend(unread.iter().map(|u| FleetHost {
            name: u.path.clone(),
            kernel: "unknown".to_string(),
            dangerous: Vec::new(),
            pointless: Vec::new(),
            errors: 0,
            error: Some(u.error.clone()),
        }));
        let mut dangerous: BTreeMap<&'static str, Vec<u32>> = BTreeMap::new();
        for (i, h) in hosts.iter().enumerate() {
            for k in &h.dangerous {
                dangerous.entry(k).or_default().push(i as u32);
            }
        }
        Fleet { hosts, dangerous }
    }
}

/// What the last lines of a report count (and the JSON report's `summary`), added up host by
/// host in a streamed run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub dangerous: usize,
    pub pointless: usize,
    pub safe: usize,
    /// Rows of hosts twlint cannot see ([`Report::not_judged`]).
    pub not_judged: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    /// Verdicts a suppression hides ([`Report::suppressed_verdicts`]).
    pub suppressed_verdicts: usize,
    /// Diagnostics a suppression hid.
    pub suppressed_diagnostics: usize,
    /// Paths that could not be read.
    pub unread: usize,
    /// Whether anything reaches the run's `--fail-on` threshold ([`Report::fails`]).
    pub fails: bool,
}

impl Totals {
    /// The counts of a report, its findings weighed against `threshold` (`None`: never fails).
    pub fn of(r: &Report, threshold: Option<Verdict>) -> Totals {
        Totals {
            dangerous: r.count(Verdict::Dangerous),
            pointless: r.count(Verdict::Pointless),
            safe: r.count(Verdict::Safe),
            not_judged: r.not_judged(),
            errors: r.diagnostics_of(Severity::Error),
            warnings: r.diagnostics_of(Severity::Warning),
            notes: r.diagnostics_of(Severity::Info),
            suppressed_verdicts: r.suppressed_verdicts(),
            suppressed_diagnostics: r.suppressed.len(),
            unread: r.unread.len(),
            fails: r.fails(threshold),
        }
    }

    /// Adds another part's counts.
    pub fn add(&mut self, o: &Totals) {
        self.dangerous += o.dangerous;
        self.pointless += o.pointless;
        self.safe += o.safe;
        self.not_judged += o.not_judged;
        self.errors += o.errors;
        self.warnings += o.warnings;
        self.notes += o.notes;
        self.suppressed_verdicts += o.suppressed_verdicts;
        self.suppressed_diagnostics += o.suppressed_diagnostics;
        self.unread += o.unread;
        self.fails |= o.fails;
    }
}
