//! The fleet summary: which hosts of a run over many `sysctl -a` dumps have which dangerous
//! settings, and which could not be read at all, derived from the report for the renderers to
//! print after the per-host tables.

use super::{Mode, Report};
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
    /// For every key that is dangerous somewhere, the hosts where it is, in host order.
    pub dangerous: BTreeMap<&'static str, Vec<String>>,
}

impl Fleet {
    /// The summary of a report over sysctl files and dumps with at least two hosts, those that
    /// could not be read included; `None` for a topology or a single host, where the per-host
    /// table already says everything.
    pub fn of(r: &Report) -> Option<Fleet> {
        if r.mode != Mode::Files || r.nodes.len() + r.unread.len() < 2 {
            return None;
        }
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
            let Some(&i) = index.get(v.node.as_str()) else {
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
        // After the judged hosts so that their indexes above stay those of the report's nodes.
        hosts.extend(r.unread.iter().map(|u| FleetHost {
            name: u.path.clone(),
            kernel: "unknown".to_string(),
            dangerous: Vec::new(),
            pointless: Vec::new(),
            errors: 0,
            error: Some(u.error.clone()),
        }));
        let mut dangerous: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for h in &hosts {
            for k in &h.dangerous {
                dangerous.entry(k).or_default().push(h.name.clone());
            }
        }
        Some(Fleet { hosts, dangerous })
    }
}
