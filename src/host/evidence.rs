//! Attaching counters to the verdicts they bear on.
//!
//! Which counter backs which verdict is declared in the rule files (`evidence:`, see
//! `crate::rules::evidence`); this module only applies those declarations to the verdicts given
//! on the host's own node, with the counters this kernel has. Counters belong to the host, so
//! nothing is attached to other nodes' verdicts.

use super::counters::Counters;
use crate::report::Report;
use crate::rules::evidence::{Meaning, Reading};
use crate::rules::RuleSet;

/// One counter attached to one verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub rule: String,
    pub counter: String,
    /// The total (since boot, or since the namespace was created), or the TIME_WAIT sockets now
    /// for `time_wait`.
    pub value: u64,
    /// `boot`, `namespace-creation` or `boot-or-namespace-creation` for TcpExt totals
    /// (`counters::since`), `now` for the TIME_WAIT count.
    pub since: &'static str,
    /// Increase over `--interval`, with the interval in seconds.
    pub delta: Option<(u64, f64)>,
    pub meaning: Meaning,
    pub note: String,
}

/// For every verdict on `node` whose rule declares evidence, the evidence that holds, as
/// (index into `report.verdicts`, evidence). A rule whose evidence fails to evaluate is a bug
/// in that rule file, reported as an error.
pub fn attach(
    report: &Report,
    rules: &RuleSet,
    counters: &Counters,
    node: &str,
    since: &'static str,
) -> Result<Vec<(usize, Evidence)>, String> {
    let mut out = Vec::new();
    for (i, v) in report.verdicts.iter().enumerate() {
        if &*v.node != node {
            continue;
        }
        let Some(rule) = v.rule.as_deref().and_then(|id| rules.get(id)) else {
            continue;
        };
        let Some(cel) = rule.cel() else { continue };
        for spec in &cel.evidence {
            let Some(value) = counters.get(&spec.counter) else {
                continue;
            };
            let delta = counters
                .rates
                .as_ref()
                .and_then(|r| r.delta.get(&spec.counter).map(|d| (*d, r.interval_seconds)));
            let reading = Reading {
                value,
                delta: delta.map(|d| d.0).unwrap_or(0),
                interval: delta.map(|d| d.1).unwrap_or(0.0),
            };
            let note = spec.applies(reading).map_err(|e| {
                format!(
                    "rule {} ({}) evidence on {}: {e}",
                    rule.id, rule.path, spec.counter
                )
            })?;
            if let Some(note) = note {
                out.push((
                    i,
                    Evidence {
                        rule: rule.id.clone(),
                        counter: spec.counter.clone(),
                        value,
                        since: if crate::counters::is_now(&spec.counter) {
                            "now"
                        } else {
                            since
                        },
                        delta,
                        meaning: spec.meaning,
                        note,
                    },
                ));
            }
        }
    }
    Ok(out)
}
