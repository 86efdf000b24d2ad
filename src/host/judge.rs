//! A topology judged on (or for) one host: read the host, find its node, judge that node with
//! the host's values, and gather what the report says about the host.
//!
//! The values read replace the declared ones key by key (`source.kind` = `live`); a key that
//! could not be read keeps its declared value and is listed as unreadable. The host's release
//! replaces the topology's kernel for its node unless `--kernel` is given. Where the host's
//! values differ from what the topology declares, the difference is listed too: a file that
//! was never applied, or a value set by hand.

use super::evidence::{self, Evidence};
use super::identify::{identify, Candidate, Match};
use super::{read, HostError, HostSnapshot, HostSource};
use crate::config::{looks_like_default, NodeConfig, SourceKindOut, Value};
use crate::engine::{self, Report};
use crate::kernel::{self, KernelVersion};
use crate::rules::RuleSet;
use crate::source::{Location, SourceMap};
use crate::topology;
use std::collections::BTreeMap;
use std::path::Path;

/// One node's values as read from its host.
#[derive(Debug, Clone)]
pub struct LiveValues {
    pub node: String,
    pub kernel: Option<KernelVersion>,
    pub values: BTreeMap<&'static str, String>,
    /// Keys the host does not have (no file under /proc/sys).
    pub absent: Vec<&'static str>,
}

impl LiveValues {
    pub fn new(node: &str, s: &HostSnapshot) -> LiveValues {
        LiveValues {
            node: node.to_string(),
            kernel: s.kernel(),
            values: s.values.clone(),
            absent: s
                .unreadable
                .iter()
                .filter(|(_, why)| **why == super::Unreadable::Absent)
                .map(|(k, _)| *k)
                .collect(),
        }
    }

    /// Puts the host's values into a node's configuration.
    pub fn apply(&self, cfg: &mut NodeConfig) {
        for (key, value) in &self.values {
            let Some(spec) = kernel::spec(key) else {
                continue;
            };
            cfg.values.insert(
                spec.key,
                Value {
                    printed: Some(value.clone()),
                    written: Some(value.clone()),
                    kind: SourceKindOut::Live,
                    span: None,
                    present: true,
                    // As for dumps: "set" means configured, not equal to the kernel's default.
                    set: !looks_like_default(spec, cfg.kernel, value),
                    default_note: None,
                },
            );
        }
        // A default the host does not have is not a value of this node; a declared value stays,
        // since the file still tries to set it.
        for key in &self.absent {
            if cfg
                .values
                .get(key)
                .is_some_and(|v| v.kind == SourceKindOut::Default)
            {
                cfg.values.remove(key);
            }
        }
    }
}

/// Whether to read the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveMode {
    /// Read it when the host is a node of the topology (`--node`, hostname, address).
    Auto,
    /// `--live` or `--root`: the host must be a node.
    Force,
}

#[derive(Debug, Clone)]
pub struct HostOptions {
    pub source: HostSource,
    pub mode: LiveMode,
    pub node: Option<String>,
    /// `--interval`: read the counters twice this many seconds apart.
    pub interval: Option<f64>,
}

/// A key whose value on the host is not the one the topology declares.
#[derive(Debug, Clone)]
pub struct Drift {
    pub key: &'static str,
    pub declared: Option<String>,
    /// `file`, `inline` or `default`.
    pub declared_kind: SourceKindOut,
    pub declared_at: Option<Location>,
    pub live: String,
}

/// What host mode adds to a report.
#[derive(Debug, Clone)]
pub struct HostRun {
    pub snapshot: HostSnapshot,
    pub matched: Option<Match>,
    /// The kernel the topology declares for the node (its own or `defaults.kernel`).
    pub declared_kernel: Option<KernelVersion>,
    pub drift: Vec<Drift>,
    /// (index into the report's verdicts, evidence).
    pub evidence: Vec<(usize, Evidence)>,
    /// When no node matched: why the declared values were judged.
    pub unmatched: Option<String>,
}

fn describe_host(s: &HostSnapshot) -> String {
    let addrs: Vec<String> = s.identity.addresses.iter().map(|a| a.to_string()).collect();
    format!(
        "hostname `{}`, addresses {}",
        s.identity.hostname.as_deref().unwrap_or("?"),
        if addrs.is_empty() {
            "unknown".to_string()
        } else {
            addrs.join(", ")
        }
    )
}

/// Judges a topology for the host `opts` names. Without a match in [`LiveMode::Auto`], the
/// declared values are judged, exactly as without host mode, and `unmatched` says why.
pub fn judge_topology(
    path: &Path,
    eopts: &engine::Options,
    opts: &HostOptions,
    rules: &RuleSet,
    sources: &mut SourceMap,
) -> Result<(Report, Option<HostRun>), HostError> {
    let loaded = engine::load_topology(path, eopts, sources)?;
    let Some(topo) = loaded.topology.as_ref().filter(|_| !loaded.has_errors()) else {
        return Ok((
            engine::judge_loaded_topology(loaded, eopts, None, rules, sources)?,
            None,
        ));
    };
    // A nat node is a middlebox with no values judged: it cannot be the host judged here.
    if let Some(n) = opts.node.as_deref().and_then(|n| topo.node(n)) {
        if n.1.role.value == topology::Role::Nat {
            return Err(HostError::Identify(format!(
                "--node `{}` is a nat node, a middlebox whose values twlint does not judge; name the TCP endpoint this host is",
                n.1.name.value
            )));
        }
    }
    let candidates: Vec<Candidate> = topo
        .nodes
        .iter()
        .map(|n| Candidate {
            endpoint: n.role.value != topology::Role::Nat,
            name: n.name.value.clone(),
            addresses: n.addresses.iter().map(|a| a.value.clone()).collect(),
        })
        .collect();
    let mut snapshot = read(&opts.source)?;
    let matched = identify(&candidates, &snapshot.identity, opts.node.as_deref())
        .map_err(HostError::Identify)?;
    let Some(matched) = matched else {
        let what = match &opts.source {
            HostSource::Live => "this host".to_string(),
            HostSource::Root(d) => format!("the capture {}", d.display()),
        };
        let why = format!(
            "{what} ({}) is not a node of {}",
            describe_host(&snapshot),
            path.display()
        );
        if opts.mode == LiveMode::Force {
            return Err(HostError::Identify(format!(
                "{why}; give --node NAME to say which node it is"
            )));
        }
        let report = engine::judge_loaded_topology(loaded, eopts, None, rules, sources)?;
        return Ok((
            report,
            Some(HostRun {
                snapshot,
                matched: None,
                declared_kernel: None,
                drift: Vec::new(),
                evidence: Vec::new(),
                unmatched: Some(format!("{why}: the declared values are judged")),
            }),
        ));
    };
    if let Some(secs) = opts.interval {
        std::thread::sleep(std::time::Duration::from_secs_f64(secs));
        let later = super::read::read_counters(&opts.source)?;
        snapshot.counters = snapshot.counters.clone().with_rates(&later, secs);
    }
    // The socket view is read once the host is known to be a node: its figures back verdicts.
    snapshot.read_sockets()?;
    let declared_kernel = topo
        .node(&matched.node)
        .and_then(|(i, _)| topo.kernel_of(i));
    let live = LiveValues::new(&matched.node, &snapshot);
    let declared = engine::judge_loaded_topology(loaded.clone(), eopts, None, rules, sources)?;
    let report = engine::judge_loaded_topology(loaded, eopts, Some(&live), rules, sources)?;
    let live_kernel = report
        .nodes
        .iter()
        .find(|n| n.name == matched.node)
        .map(|n| n.kernel)
        .unwrap_or(crate::config::ASSUMED_KERNEL);
    let drift = drift(&declared, &report, &matched.node, live_kernel, sources);
    let since = super::counters::since(snapshot.identity.netns.initial);
    let evidence = evidence::attach(&report, rules, &snapshot.counters, &matched.node, since)
        .map_err(|e| HostError::Library(crate::error::Error::RuleFailed(e)))?;
    Ok((
        report,
        Some(HostRun {
            snapshot,
            matched: Some(matched),
            declared_kernel,
            drift,
            evidence,
            unmatched: None,
        }),
    ))
}

/// Keys whose live value differs from the declared one, first verdict of each key.
fn drift(
    declared: &Report,
    live: &Report,
    node: &str,
    live_kernel: KernelVersion,
    sources: &SourceMap,
) -> Vec<Drift> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for l in live.verdicts.iter().filter(|v| v.node == node) {
        if l.source != SourceKindOut::Live || !seen.insert(l.key) {
            continue;
        }
        let Some(d) = declared
            .verdicts
            .iter()
            .find(|d| d.node == node && d.key == l.key)
        else {
            continue;
        };
        let live_value = l.value.clone().unwrap_or_default();
        if d.value.as_deref() == Some(live_value.as_str()) {
            continue;
        }
        // A default is the host kernel's own (defaults change between releases, and a
        // memory-dependent one has no value to compare): the host differs only when its value
        // does not look like its kernel's default.
        if d.source == SourceKindOut::Default
            && kernel::spec(l.key)
                .is_some_and(|spec| looks_like_default(spec, live_kernel, &live_value))
        {
            continue;
        }
        out.push(Drift {
            key: l.key,
            declared: d.value.clone(),
            declared_kind: d.source,
            declared_at: d.span.map(|s| sources.location(s)),
            live: live_value,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, KernelOrigin};

    #[test]
    fn live_values_replace_declared_ones_and_defaults_count_as_unset() {
        let k = KernelVersion::new(6, 8);
        let mut cfg = config::resolve("lb", k, KernelOrigin::Live, None, &[], &mut Vec::new());
        assert!(
            cfg.value("net.ipv4.tcp_tw_reuse_delay").is_none(),
            "6.8 has no reuse delay"
        );
        let live = LiveValues {
            node: "lb".into(),
            kernel: Some(k),
            values: [
                ("net.ipv4.tcp_tw_reuse", "1".to_string()),
                ("net.ipv4.tcp_timestamps", "1".to_string()),
                ("net.ipv4.tcp_max_tw_buckets", "262144".to_string()),
            ]
            .into_iter()
            .collect(),
            absent: vec!["net.ipv4.ip_local_reserved_ports"],
        };
        live.apply(&mut cfg);
        let reuse = cfg.value("net.ipv4.tcp_tw_reuse").unwrap();
        assert_eq!((reuse.kind, reuse.set), (SourceKindOut::Live, true));
        let ts = cfg.value("net.ipv4.tcp_timestamps").unwrap();
        assert_eq!(
            (ts.kind, ts.set),
            (SourceKindOut::Live, false),
            "the default is not set"
        );
        // A power of two is the memory-dependent default, not a choice.
        assert!(!cfg.value("net.ipv4.tcp_max_tw_buckets").unwrap().set);
        // A default the host does not have is dropped.
        assert!(cfg.value("net.ipv4.ip_local_reserved_ports").is_none());
    }
}
