//! The names of what twlint reads on a host that rule files may cite under `evidence:`: the
//! TcpExt counters, the TIME_WAIT count and the figures of the socket view.
//!
//! This is the vocabulary `rules` checks evidence items against and `host` reads and reports;
//! it sits below both so that neither depends on the other. Reading the values is `host`'s job.

/// TcpExt counters that bear on how connections close (KERNEL-FACTS 1.10), in report order.
pub const TCPEXT: &[&str] = &[
    "TW",
    "TWRecycled",
    "TWKilled",
    "TCPTimeWaitOverflow",
    "PAWSPassive",
    "PAWSActive",
    "PAWSEstab",
    "PAWSTimewait",
    "PAWSOldAck",
    "TCPAbortOnClose",
];

/// The name under which the current TIME_WAIT count (sockstat `tw`) is reported.
pub const TIME_WAIT: &str = "time_wait";

/// CLOSE_WAIT sockets now.
pub const CLOSE_WAIT: &str = "close_wait";
/// Local ports of the range held on the busiest (local, remote, remote port) tuple.
pub const MAX_TUPLE_PORTS_IN_USE: &str = "max_tuple_ports_in_use";
/// The same, in percent of the ports usable per tuple (rounded down).
pub const MAX_TUPLE_PORTS_PERCENT: &str = "max_tuple_ports_percent";
/// TIME_WAIT sockets now in percent of the live `tcp_max_tw_buckets` (rounded down); only when
/// that value was read.
pub const TIME_WAIT_BUCKETS_PERCENT: &str = "time_wait_buckets_percent";

/// The figures rule files may cite, in report order.
pub const FIGURES: &[&str] = &[
    CLOSE_WAIT,
    MAX_TUPLE_PORTS_IN_USE,
    MAX_TUPLE_PORTS_PERCENT,
    TIME_WAIT_BUCKETS_PERCENT,
];

/// Conntrack's figures on a middlebox (KERNEL-FACTS-2 1.3), per network namespace: the entries
/// now (`/proc/sys/net/netfilter/nf_conntrack_count`), the same in percent of `nf_conntrack_max`
/// (rounded down), and the totals of `/proc/net/stat/nf_conntrack` summed over CPUs: `drop`
/// (table full with nothing to evict, or a NAT clash), `early_drop` (an unassured entry evicted
/// to make room), `insert_failed` (a clash at confirm time: NAT ports exhausted, or two CPUs
/// creating one flow). Absent where the conntrack module is not loaded.
pub const NF_CONNTRACK_COUNT: &str = "nf_conntrack_count";
pub const NF_CONNTRACK_PERCENT: &str = "nf_conntrack_percent";
pub const CONNTRACK: &[&str] = &[
    NF_CONNTRACK_COUNT,
    NF_CONNTRACK_PERCENT,
    "nf_conntrack_drop",
    "nf_conntrack_early_drop",
    "nf_conntrack_insert_failed",
];

/// Whether `name` is a reading of now (the TIME_WAIT count, socket figures) rather than a total
/// since boot.
pub fn is_now(name: &str) -> bool {
    name == TIME_WAIT
        || FIGURES.contains(&name)
        || name == NF_CONNTRACK_COUNT
        || name == NF_CONNTRACK_PERCENT
}
