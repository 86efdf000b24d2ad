//! Many hosts in one run: parallel judging and the fleet summary.
//!
//! `twlint dumps/*.txt` treats every `sysctl -a` dump as one host. This module owns the two
//! things that only matter when there are many of them: [`par_map`], which spreads independent
//! work (reading, parsing and judging one host) over all cores while keeping results in argument
//! order, and [`Fleet`], the summary of which hosts have which dangerous settings that the
//! renderers print after the per-host tables.
//!
//! The pool is `std::thread::scope` with a shared counter rather than rayon: the work items are
//! few (one per host) and of similar size, so a counter that hands out the next index balances
//! them as well as work stealing would, in thirty lines and without a dependency.

use crate::diag::Verdict;
use crate::engine::{Mode, Report};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Worker threads for `n` independent items: one per core, never more than there are items.
fn workers(n: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    cores.min(n).max(1)
}

/// Applies `f` to every item on all cores and returns the results in the items' order.
///
/// A panic in `f` is re-raised on the calling thread as it was, so a bug is reported the same
/// way with one host or a thousand.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = workers(items.len());
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut out: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        for h in handles {
            let done = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            for (i, r) in done {
                out[i] = Some(r);
            }
        }
    });
    out.into_iter()
        .map(|r| r.expect("every index is handed out exactly once"))
        .collect()
}

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
}

/// Which hosts have which dangerous settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    /// Every host in argument order.
    pub hosts: Vec<FleetHost>,
    /// For every key that is dangerous somewhere, the hosts where it is, in host order.
    pub dangerous: BTreeMap<&'static str, Vec<String>>,
}

impl Fleet {
    /// The summary of a report over sysctl files and dumps with at least two hosts; `None` for a
    /// topology or a single host, where the per-host table already says everything.
    pub fn of(r: &Report) -> Option<Fleet> {
        if r.mode != Mode::Files || r.nodes.len() < 2 {
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
            if d.severity != crate::diag::Severity::Error {
                continue;
            }
            if let Some(&i) = d.node.as_deref().and_then(|n| index.get(n)) {
                hosts[i].errors += 1;
            }
        }
        let mut dangerous: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for h in &hosts {
            for k in &h.dangerous {
                dangerous.entry(k).or_default().push(h.name.clone());
            }
        }
        Some(Fleet { hosts, dangerous })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_map_keeps_the_order_of_the_items() {
        let items: Vec<u64> = (0..1000).collect();
        let out = par_map(&items, |&i| {
            // Uneven work, so threads finish out of order.
            (0..(i % 7) * 1000).fold(i, |a, b| a.wrapping_add(b % 3))
                - (0..(i % 7) * 1000).fold(0, |a, b| a + b % 3)
        });
        assert_eq!(out, items);
        assert!(par_map(&[] as &[u8], |&b| b).is_empty());
    }

    #[test]
    #[should_panic(expected = "boom on 13")]
    fn a_panic_in_a_worker_reaches_the_caller() {
        let items: Vec<u32> = (0..64).collect();
        par_map(&items, |&i| {
            if i == 13 {
                panic!("boom on {i}");
            }
            i
        });
    }
}
