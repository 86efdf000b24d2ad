//! TcpExt counters (`/proc/net/netstat`) and the TIME_WAIT count (`/proc/net/sockstat`): the
//! evidence that backs or contradicts a verdict.
//!
//! Counter names differ by kernel (`PAWSPassive` left with tw_recycle in 4.12, `PAWSTimewait`
//! and `PAWSOldAck` came in 2025), so only the counters the file lists are reported. TcpExt
//! counters are totals since boot (of this network namespace: each namespace has its own MIB);
//! two readings some seconds apart give rates.

use crate::counters::{TCPEXT, TIME_WAIT};
use std::collections::BTreeMap;

/// Since when the TcpExt totals count: each network namespace has its own counters, which start
/// when the namespace is created; the initial one's start at boot.
pub fn since(initial: Option<bool>) -> &'static str {
    match initial {
        Some(true) => "boot",
        Some(false) => "namespace-creation",
        None => "boot-or-namespace-creation",
    }
}

/// Words for [`since`].
pub fn since_words(initial: Option<bool>) -> &'static str {
    match initial {
        Some(true) => "since boot",
        Some(false) => "since this namespace was created",
        None => "since boot (or since this namespace was created)",
    }
}

/// One reading of the counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    /// TcpExt counters of [`TCPEXT`] that this kernel has: totals since boot.
    pub tcpext: BTreeMap<String, u64>,
    /// TIME_WAIT sockets now (sockstat `TCP: ... tw N`), IPv4 and IPv6 together.
    pub time_wait: Option<u64>,
    /// Increase of each counter over an interval, when two readings were taken.
    pub rates: Option<Rates>,
    /// Files that were missing or unreadable, and why.
    pub missing: Vec<(String, String)>,
    /// Figures of the socket view (`crate::counters::FIGURES`), sockets now; empty until the
    /// sockets are read.
    pub sockets: BTreeMap<String, u64>,
    /// Conntrack's figures (`crate::counters::CONNTRACK`); empty where conntrack is not loaded.
    pub conntrack: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rates {
    pub interval_seconds: f64,
    pub delta: BTreeMap<String, u64>,
}

impl Counters {
    /// A counter's total since boot, the TIME_WAIT count for [`TIME_WAIT`], or a figure of the
    /// socket view.
    pub fn get(&self, name: &str) -> Option<u64> {
        if name == TIME_WAIT {
            return self.time_wait;
        }
        self.tcpext
            .get(name)
            .or_else(|| self.sockets.get(name))
            .or_else(|| self.conntrack.get(name))
            .copied()
    }

    /// Adds the rates between this reading and a later one.
    pub fn with_rates(mut self, later: &Counters, interval_seconds: f64) -> Counters {
        let delta = self
            .tcpext
            .iter()
            .filter_map(|(k, a)| {
                later
                    .tcpext
                    .get(k)
                    .map(|b| (k.clone(), b.saturating_sub(*a)))
            })
            .collect();
        // Totals and the TIME_WAIT count are the later reading's: the newest state.
        self.tcpext = later.tcpext.clone();
        if !later.conntrack.is_empty() {
            self.conntrack = later.conntrack.clone();
        }
        self.time_wait = later.time_wait;
        self.rates = Some(Rates {
            interval_seconds,
            delta,
        });
        self
    }
}

/// Reads the TcpExt section of `/proc/net/netstat`: pairs of lines, a header of names and a line
/// of values, each starting with `TcpExt:`.
pub fn parse_netstat(text: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(names) = lines.next() {
        let Some(names) = names.strip_prefix("TcpExt:") else {
            continue;
        };
        let Some(values) = lines.next().and_then(|v| v.strip_prefix("TcpExt:")) else {
            break;
        };
        for (n, v) in names
            .split_ascii_whitespace()
            .zip(values.split_ascii_whitespace())
        {
            if TCPEXT.contains(&n) {
                if let Ok(v) = v.parse() {
                    out.insert(n.to_string(), v);
                }
            }
        }
    }
    out
}

/// Reads the `tw` field of the `TCP:` line of `/proc/net/sockstat`.
pub fn parse_sockstat(text: &str) -> Option<u64> {
    let line = text.lines().find_map(|l| l.strip_prefix("TCP:"))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    fields
        .windows(2)
        .find(|w| w[0] == "tw")
        .and_then(|w| w[1].parse().ok())
}

/// Reads `/proc/net/stat/nf_conntrack`: a header of column names, then one row of hexadecimal
/// numbers per CPU. The first column (`entries`) is the namespace's count, the same on every row;
/// the others are per-CPU totals, summed here. Returns the totals twlint names
/// (`nf_conntrack_drop`, `nf_conntrack_early_drop`, `nf_conntrack_insert_failed`).
pub fn parse_nf_conntrack_stat(text: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return out;
    };
    let names: Vec<&str> = header.split_whitespace().collect();
    let wanted = ["drop", "early_drop", "insert_failed"];
    let mut sums = [0u64; 3];
    let mut rows = 0;
    for line in lines {
        let cells: Vec<&str> = line.split_whitespace().collect();
        if cells.len() != names.len() {
            continue;
        }
        rows += 1;
        for (i, w) in wanted.iter().enumerate() {
            if let Some(col) = names.iter().position(|n| n == w) {
                sums[i] += u64::from_str_radix(cells[col], 16).unwrap_or(0);
            }
        }
    }
    if rows > 0 {
        for (i, w) in wanted.iter().enumerate() {
            if names.contains(w) {
                out.insert(format!("nf_conntrack_{w}"), sums[i]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_counters_this_kernel_has() {
        let text = "TcpExt: SyncookiesSent TW TWRecycled TWKilled PAWSActive TCPTimeWaitOverflow\n\
                    TcpExt: 0 120 7 0 2 15\n\
                    IpExt: InNoRoutes\nIpExt: 0\n";
        let c = parse_netstat(text);
        assert_eq!(c.get("TW"), Some(&120));
        assert_eq!(c.get("TCPTimeWaitOverflow"), Some(&15));
        // Not in the file, so not reported (a 6.x kernel has no PAWSPassive).
        assert_eq!(c.get("PAWSPassive"), None);
        // Not relevant to closing, so not kept.
        assert_eq!(c.get("SyncookiesSent"), None);
    }

    #[test]
    fn reads_time_wait_from_sockstat() {
        let text =
            "sockets: used 21\nTCP: inuse 2 orphan 0 tw 37 alloc 2 mem 418\nUDP: inuse 0 mem 0\n";
        assert_eq!(parse_sockstat(text), Some(37));
        assert_eq!(parse_sockstat("sockets: used 1\n"), None);
    }

    #[test]
    fn reads_conntrack_statistics_summed_over_cpus() {
        // The layout of /proc/net/stat/nf_conntrack on 6.18 (two CPUs), values in hex.
        let text = "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n\
                    000001f4  00000000 00000000 00000000 00000003 00000000 00000000 00000000 00000000 00000002 0000000a 00000001 00000000  00000000 00000000 00000000 00000000\n\
                    000001f4  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001 00000006 00000000 00000000  00000000 00000000 00000000 00000000\n";
        let c = parse_nf_conntrack_stat(text);
        assert_eq!(c["nf_conntrack_drop"], 16);
        assert_eq!(c["nf_conntrack_early_drop"], 1);
        assert_eq!(c["nf_conntrack_insert_failed"], 3);
        assert!(parse_nf_conntrack_stat("").is_empty());
    }

    #[test]
    fn rates_are_increases_over_the_interval() {
        let mut a = Counters::default();
        a.tcpext.insert("TW".into(), 100);
        let mut b = Counters::default();
        b.tcpext.insert("TW".into(), 160);
        b.time_wait = Some(5);
        let c = a.with_rates(&b, 2.0);
        let r = c.rates.as_ref().unwrap();
        assert_eq!(r.delta["TW"], 60);
        assert_eq!(c.get("TW"), Some(160));
        assert_eq!(c.get(TIME_WAIT), Some(5));
    }
}
