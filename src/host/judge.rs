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
use super::sockets::Pending;
use super::{read, HostError, HostSnapshot, HostSource};
use crate::config::{looks_like_default, NodeConfig, SourceKindOut};
use crate::judge::{self, Layer, Overlay, Request};
use crate::kernel::{self, KernelVersion};
use crate::report::Report;
use crate::rules::RuleSet;
use crate::source::{Location, SourceMap, Span};
use crate::topology;
use std::path::Path;

/// The layer a host's values make over its node: the values read replace the declared ones,
/// its release is the node's kernel, and keys it does not have drop their defaults.
pub fn live_layer(s: &HostSnapshot) -> Layer {
    Layer {
        kernel: s.kernel(),
        read: s.values.clone(),
        absent: s
            .unreadable
            .iter()
            .filter(|(_, why)| **why == super::Unreadable::Absent)
            .map(|(k, _)| *k)
            .collect(),
        written: Vec::new(),
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
    eopts: &judge::Options,
    opts: &HostOptions,
    rules: &RuleSet,
    sources: &mut SourceMap,
    early: Option<Pending>,
) -> Result<(Report, Option<HostRun>), HostError> {
    let loaded = judge::load_topology(path, eopts, sources)?;
    let Some(topo) = loaded.topology.as_ref().filter(|_| !loaded.has_errors()) else {
        return Ok((
            judge::judge(Request::topology(loaded), eopts, rules, sources)?,
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
            // A Linux middlebox (a NAT with conntrack) is a host too; a managed gateway
            // (`conntrack: false`) is not.
            endpoint: n.role.value != topology::Role::Nat || n.tracks(),
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
        let report = judge::judge(Request::topology(loaded), eopts, rules, sources)?;
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
    let declared_kernel = topo
        .node(&matched.node)
        .and_then(|(i, _)| topo.kernel_of(i));
    let live = Overlay::default().with(&matched.node, live_layer(&snapshot));
    // The socket view backs verdicts as evidence and nothing else, so it is read while the
    // values are judged: live, most of its cost is the kernel walking its whole established
    // hash (262,144 buckets on a 24 GiB machine, however few sockets there are), which on
    // another thread overlaps judging. It is read once the host is known to be a node, unless
    // the command line said so from the start (`early`, kept only when this machine is what
    // was read).
    let reading = match early.filter(|_| snapshot.origin == super::Origin::Live) {
        Some(pending) => pending,
        None => Pending::start(snapshot.origin.clone()),
    };
    // What the topology declares for the node is what its verdicts would show judged without
    // the host's values; resolving the node gives it without judging the topology twice.
    let judged =
        judge::declared_config(&loaded, eopts, &matched.node, sources).and_then(|declared| {
            let report = judge::judge(
                Request::topology(loaded).with_overlay(live),
                eopts,
                rules,
                sources,
            )?;
            Ok((declared, report))
        });
    let capture = reading.wait();
    // A damaged capture's error comes first, as when the sockets were read before judging.
    snapshot.attach_sockets(capture?);
    let (declared, report) = judged?;
    let live_kernel = report
        .nodes
        .iter()
        .find(|n| n.name == matched.node)
        .map(|n| n.kernel)
        .unwrap_or(crate::config::ASSUMED_KERNEL);
    let drift = match &declared {
        Some(declared) => drift(declared, &report, &matched.node, live_kernel, sources),
        None => Vec::new(),
    };
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

/// Keys whose live value differs from the declared one, in the order of the node's first
/// verdict of each key. A key the node is judged on has a verdict in a judging of the declared
/// values exactly when it has a declared value (the keys judged are the same; a verdict is
/// made for every key with a value), and that verdict shows the value, kind and place
/// `declared` has: the test `drift_from_declared_values_is_drift_from_judging_them` holds the
/// two ways to the same list.
fn drift(
    declared: &NodeConfig,
    live: &Report,
    node: &str,
    live_kernel: KernelVersion,
    sources: &SourceMap,
) -> Vec<Drift> {
    drift_with(live, node, live_kernel, sources, |key| {
        declared
            .value(key)
            .map(|d| (d.shown(), d.kind, d.shown_span()))
    })
}

/// [`drift`] with the declared value, kind and place of a key found by `declared`.
fn drift_with(
    live: &Report,
    node: &str,
    live_kernel: KernelVersion,
    sources: &SourceMap,
    declared: impl Fn(&'static str) -> Option<(Option<String>, SourceKindOut, Option<Span>)>,
) -> Vec<Drift> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for l in live.verdicts.iter().filter(|v| &*v.node == node) {
        if l.source != SourceKindOut::Live || !seen.insert(l.key) {
            continue;
        }
        let Some((value, kind, span)) = declared(l.key) else {
            continue;
        };
        let live_value = l.value.clone().unwrap_or_default();
        if value.as_deref() == Some(live_value.as_str()) {
            continue;
        }
        // A default is the host kernel's own (defaults change between releases, and a
        // memory-dependent one has no value to compare): the host differs only when its value
        // does not look like its kernel's default.
        if kind == SourceKindOut::Default
            && kernel::spec(l.key)
                .is_some_and(|spec| looks_like_default(spec, live_kernel, &live_value))
        {
            continue;
        }
        out.push(Drift {
            key: l.key,
            declared: value,
            declared_kind: kind,
            declared_at: span.map(|s| sources.location(s)),
            live: live_value,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{read, HostSource};
    use std::path::PathBuf;

    /// Drift as read off a judging of the declared values: the first declared verdict of the
    /// node for each key.
    fn drift_by_judging(
        declared: &Report,
        live: &Report,
        node: &str,
        live_kernel: KernelVersion,
        sources: &SourceMap,
    ) -> Vec<Drift> {
        drift_with(live, node, live_kernel, sources, |key| {
            declared
                .verdicts
                .iter()
                .find(|d| &*d.node == node && d.key == key)
                .map(|d| (d.value.clone(), d.source, d.span))
        })
    }

    /// Every node (a NAT too) of every shipped topology, given the values of each captured
    /// host in the fixtures: the drift from the node's declared values is the drift a judging
    /// of those values gives, key for key, in the same order, with the same places.
    #[test]
    fn drift_from_declared_values_is_drift_from_judging_them() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut topologies: Vec<PathBuf> = std::fs::read_dir(root.join("topologies"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        topologies.sort();
        let captures = ["snapshot-lb", "sosreport-web", "proc-db", "proc-nat"];
        let snapshots: Vec<HostSnapshot> = captures
            .iter()
            .map(|c| read(&HostSource::Root(root.join("tests/fixtures/host").join(c))).unwrap())
            .collect();
        let (mut compared, mut drifted) = (0, 0);
        for path in &topologies {
            let mut sources = SourceMap::new();
            let (rules, _) = crate::rules::load::load_catalog(&[], &mut sources).unwrap();
            let opts = judge::Options::default();
            let loaded = judge::load_topology(path, &opts, &mut sources).unwrap();
            let Some(topo) = loaded.topology.as_ref().filter(|_| !loaded.has_errors()) else {
                continue;
            };
            let names: Vec<String> = topo.nodes.iter().map(|n| n.name.value.clone()).collect();
            let declared = judge::judge(
                Request::topology(loaded.clone()),
                &opts,
                &rules,
                &mut sources,
            )
            .unwrap();
            for name in &names {
                let config = judge::declared_config(&loaded, &opts, name, &mut sources)
                    .unwrap()
                    .expect("every node of a valid topology resolves");
                for snapshot in &snapshots {
                    let overlay = Overlay::default().with(name, live_layer(snapshot));
                    let live = judge::judge(
                        Request::topology(loaded.clone()).with_overlay(overlay),
                        &opts,
                        &rules,
                        &mut sources,
                    )
                    .unwrap();
                    let kernel = live
                        .nodes
                        .iter()
                        .find(|n| n.name == *name)
                        .map(|n| n.kernel)
                        .unwrap();
                    let by_values = drift(&config, &live, name, kernel, &sources);
                    let by_judging = drift_by_judging(&declared, &live, name, kernel, &sources);
                    assert_eq!(
                        format!("{by_values:#?}"),
                        format!("{by_judging:#?}"),
                        "{} / {name}",
                        path.display()
                    );
                    compared += 1;
                    drifted += by_values.len();
                }
            }
        }
        // The comparison is of something: many nodes, and captures that differ from them.
        assert!(compared >= 100, "{compared} nodes compared");
        assert!(drifted >= 100, "{drifted} keys drifted");
    }
}
