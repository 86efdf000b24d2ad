//! The fact model: everything a rule condition may look at, computed once per node and per hop.
//!
//! Rules never see files, spans or the topology itself; they see these plain structs, converted
//! to CEL values. The field names here are part of the rule format's contract and are documented
//! in `rules/README.md`; a test checks that every documented field exists.
//!
//! Capacity figures follow KERNEL-FACTS 1.11: a connection is unique by its 4-tuple, so for one
//! (source IP, destination IP, destination port) the usable source ports are the ephemeral range
//! minus reserved ports, and each connection the connecting side closes first holds its port for
//! the 60 s of TIME_WAIT (`TCP_TIMEWAIT_LEN`, not tunable) unless `tcp_tw_reuse` can take it over
//! after `tcp_tw_reuse_delay` (1 s before 6.14).

use crate::config::NodeConfig;
use crate::kernel::{behaviour, parse_port_list, tw_reuse_mode, KernelVersion};
use serde::Serialize;
use std::collections::BTreeMap;

/// A value per in-scope key, in the order of `kernel::KEYS` (each key once): to a rule, a map
/// from the key to the value. Serialised as a struct whose fields are the keys, so that the
/// facts' CEL form borrows the keys (`rules::celval`) instead of copying each, for every node;
/// every serialiser twlint uses writes a struct as it writes a map with string keys.
#[derive(Debug, Clone, Default)]
pub struct ByKey<V>(pub Vec<(&'static str, V)>);

impl<V: Serialize> Serialize for ByKey<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("ByKey", self.0.len())?;
        for (k, v) in &self.0 {
            st.serialize_field(k, v)?;
        }
        st.end()
    }
}

/// TIME_WAIT length in seconds (`TCP_TIMEWAIT_LEN`).
pub const TIME_WAIT_SECONDS: f64 = 60.0;

/// Ports that services commonly listen on, which an ephemeral range should not cover: a
/// connect() or bind(0) that takes one first makes the service fail to bind when it starts.
/// Judged without a topology, where the node's own `listen` ports are not known (TW133).
pub const WELL_KNOWN_LISTEN_PORTS: &[(u16, u16, &str)] = &[
    (2181, 2181, "ZooKeeper"),
    (2379, 2380, "etcd"),
    (3306, 3306, "MySQL"),
    (5432, 5432, "PostgreSQL"),
    (5672, 5672, "RabbitMQ"),
    (6379, 6379, "Redis"),
    (6443, 6443, "Kubernetes API server"),
    (8080, 8080, "HTTP alternate"),
    (9042, 9042, "Cassandra"),
    (9092, 9092, "Kafka"),
    (9200, 9200, "Elasticsearch"),
    (9300, 9300, "Elasticsearch transport"),
    (10250, 10250, "kubelet"),
    (10256, 10256, "kube-proxy health"),
    (11211, 11211, "memcached"),
    (27017, 27017, "MongoDB"),
    (30000, 32767, "Kubernetes NodePorts"),
];

/// connect()'s two-pass even/odd port scan (`1580ab63fc9a`, about 4.6, UNVERIFIED release);
/// before it every port of the range was reachable.
const PARITY_SCAN_SINCE: KernelVersion = KernelVersion::new(4, 6);

#[derive(Debug, Clone, Serialize)]
pub struct KernelFacts {
    /// The release as given (`5.15`, `6.8.0-45-generic` reduced to `6.8`).
    pub release: String,
    /// `major * 1000 + minor`: 4.12 is 4012.
    pub version: i64,
    pub major: i64,
    pub minor: i64,
    /// Where the version came from: node, defaults, flag, dump or assumed.
    pub origin: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PortFacts {
    pub low: i64,
    pub high: i64,
    /// Ports in the range.
    pub count: i64,
    /// Ports of the range that `ip_local_reserved_ports` takes out.
    pub reserved_in_range: i64,
    /// Ports connect() can always choose from for one destination tuple: the range minus
    /// reserved ports, minus this node's own listen ports inside it, minus the port the parity
    /// scan misses when the range has an odd number of ports.
    pub usable: i64,
    pub same_parity: bool,
    /// Listen ports of this node inside the range and not reserved.
    pub listen_exposed: Vec<i64>,
    /// Ports services commonly listen on ([`WELL_KNOWN_LISTEN_PORTS`]) inside the range and not
    /// all reserved, as `10250 (kubelet)` or `30000-32767 (Kubernetes NodePorts)`.
    pub well_known_exposed: Vec<String>,
    /// Reserved ports that lie outside the range (reserving them does nothing).
    pub reserved_outside: i64,
    /// Number of reserved ports in total.
    pub reserved_total: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeFacts {
    pub name: String,
    pub role: String,
    pub kernel: KernelFacts,
    pub listen: Vec<i64>,
    pub addresses: Vec<String>,
    /// How many identical hosts the node stands for (`replicas`, else one per address of one
    /// kind, at least 1).
    pub hosts: i64,
    /// Each host's addresses.
    pub host_addresses: Vec<Vec<String>>,
    /// The node has a network namespace of its own (a pod or container, or a container sharing
    /// one): its per-namespace keys start from the kernel's defaults.
    pub own_namespace: bool,
    /// The node whose network namespace this one's sockets live in (its own name, or the node
    /// named by `shares_namespace_with`): nodes with the same `namespace` share ports, values
    /// and the TIME_WAIT table.
    pub namespace: String,
    /// Effective value of every in-scope key the kernel has (and of set keys it lacks, as
    /// written), as the kernel prints it.
    pub sysctl: ByKey<String>,
    /// The first integer of each numeric value in `sysctl`.
    pub num: ByKey<i64>,
    /// Whether the kernel has each in-scope key.
    pub has: ByKey<bool>,
    /// Whether each in-scope key was set explicitly (file, inline, dump, live).
    pub set: ByKey<bool>,
    /// `tcp_timestamps` is not 0.
    pub timestamps: bool,
    /// What the random offset of outgoing timestamps is keyed on (`kernel::BEHAVIOURS`
    /// `ts_offsets`): `none` (before 4.10, or `tcp_timestamps` other than 1), `connection`,
    /// `host-pair` (about 4.11 on), or `unknown` (a stable series whose patch releases changed
    /// it, 2026).
    pub ts_offsets: String,
    /// Timestamps of successive connections to one peer may go backwards: offsets per
    /// connection, or possibly so (`ts_offsets` is `connection` or `unknown`).
    pub ts_random_offsets: bool,
    /// The longest tick of this host's timestamp clock in ms (`kernel::BEHAVIOURS`
    /// `ts_tick_ms`): 10 before 4.13 (jiffies), 1 after.
    pub ts_tick_ms: i64,
    /// What `tcp_tw_reuse` does here: 0 off, 1 every destination, 2 loopback only. Before the
    /// 0..2 range check (4.19) every non-zero value is 1.
    pub tw_reuse: i64,
    /// `tcp_tw_reuse_delay` in ms (1000 on kernels without the key).
    pub reuse_delay_ms: i64,
    pub ports: PortFacts,
    /// `tcp_max_tw_buckets`, or -1 when it is the memory-dependent default.
    pub tw_buckets: i64,
    /// A `client` node with no addresses and no values: it stands for hosts twlint cannot see
    /// (browsers, partners), whose ports and TIME_WAIT are theirs, spread over many machines.
    pub unseen: bool,
    /// Topology aggregates (all false or 0 without a topology).
    pub holds_time_wait: bool,
    pub connects: bool,
    pub accepts: bool,
    pub accepts_via_nat: bool,
    pub accepts_from_clients: bool,
    /// Accepts connections from clients or through NAT: its timestamps are seen by the internet.
    pub internet_facing: bool,
    /// TIME_WAIT sockets the declared rates keep on each host of this node's network namespace:
    /// over the links it (or a container sharing its namespace) closes first, each hop's
    /// TIME_WAIT divided among the hosts of the closing side; whether every such link declares a
    /// rate. Compared with `tcp_max_tw_buckets`, a per-host, per-namespace limit.
    pub tw_population: f64,
    /// The same summed over all hosts.
    pub tw_population_total: f64,
    pub tw_population_known: bool,
    /// On some hop this node needs `tcp_tw_reuse` to keep up with the declared rate.
    pub reuse_needed: bool,
    /// On some hop this node connects and closes first (reuse could apply).
    pub reuse_applicable: bool,
    /// Connections per second this node closes first (sum of the rates of those links).
    pub close_rate: f64,
    /// Times an orphan retransmits its FIN: `tcp_orphan_retries`, where 0 means 8 for a socket
    /// that sent recently (`tcp_orphan_retries()` in tcp_timer.c, KERNEL-FACTS-2 7).
    pub orphan_retries: i64,
    /// Seconds an orphan whose peer stopped answering keeps retrying: the RTO doubling from
    /// 200 ms (capped at 120 s) over those retries.
    pub orphan_window: f64,
    /// Orphans the close rate leaves while the peers stop answering: close_rate x orphan_window.
    pub orphans_if_peers_vanish: f64,
}

/// Seconds an orphan keeps retransmitting its FIN when nothing answers, for `retries` retries
/// (the first send plus each retry waits one RTO, doubling from TCP_RTO_MIN, 200 ms, up to
/// TCP_RTO_MAX, 120 s). 8 retries: about 102 s, the ">100 seconds" of the kernel's comment.
pub fn orphan_window(retries: i64) -> f64 {
    let mut rto = 0.2f64;
    let mut total = 0.0;
    for _ in 0..=retries.clamp(0, 255) {
        total += rto;
        rto = (rto * 2.0).min(120.0);
    }
    total
}

#[derive(Debug, Clone, Serialize)]
pub struct CapacityFacts {
    /// Ports per destination tuple free for new connections: the usable ports minus those the
    /// link's open connections hold.
    pub ports: i64,
    /// New connections per second per tuple when every port is held 60 s in TIME_WAIT.
    pub without_reuse: f64,
    /// The bound with `tcp_tw_reuse` working: ports / reuse delay.
    pub with_reuse: f64,
    /// Reuse actually applies on this hop: this side connects, closes first, has reuse enabled
    /// (1, or 2 on a loopback hop) and both ends have timestamps on.
    pub reuse_works: bool,
    /// The bound that applies: `with_reuse` if reuse works, else `without_reuse`.
    pub effective: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HopFacts {
    pub link: String,
    /// `client` for the side that calls connect() (`from`), `server` for `to`.
    pub side: String,
    pub connects: bool,
    pub closes_first: bool,
    pub peer_closes_first: bool,
    /// The connecting side closes first (TIME_WAIT lands on it and holds its ports).
    pub client_closes_first: bool,
    /// The connections pass a NAT (`via`).
    pub via_nat: bool,
    /// The connecting side is a `client` role node or comes through NAT: many hosts behind it.
    pub many_clients: bool,
    /// The connecting side is an unseen `client` node: no capacity or TIME_WAIT figures apply to
    /// it, since its connections come from many machines.
    pub unseen_clients: bool,
    pub port: i64,
    pub rate_known: bool,
    /// Declared new connections per second over the whole link (0 when unknown).
    pub rate: f64,
    /// Distinct (source IP, destination IP, destination port) tuples the rate spreads over: one
    /// source address per connecting host (the one the kernel picks by route) times the
    /// destination addresses of the kind it reaches.
    pub tuples: i64,
    /// New connections per second on each tuple: this link's rate, plus the rate of other links
    /// from the same network namespace to the same destination and port (they draw from the
    /// same ports), over `tuples`.
    pub rate_per_tuple: f64,
    /// The source addresses connect() takes on this hop (one per connecting host; empty when
    /// the connecting node has no addresses).
    pub sources: Vec<String>,
    /// The destination addresses reached (of the kind the sources reach; empty when the
    /// accepting node has no addresses).
    pub destinations: Vec<String>,
    /// What twlint assumed to choose them ("" when the kernel's rule decides alone).
    pub source_assumption: String,
    /// Connections held open at once over the whole link (`open`, 0 when not declared), and
    /// per tuple with the other links of the namespace to the same destination (rounded up).
    pub open: i64,
    pub open_per_tuple: i64,
    /// The connections held open per tuple are more than the usable ports: connect() fails with
    /// EADDRNOTAVAIL before the pool is full.
    pub open_exhausts: bool,
    /// Every tuple of the hop has a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) at
    /// one end: all destination addresses are loopback, or all source addresses are. This is
    /// the kernel's test for `tcp_tw_reuse = 2` (`tcp_twsk_unique()` looks at the TIME_WAIT's
    /// destination and its local address; measured on 6.18 by tests/lab_capacity.rs).
    pub loopback: bool,
    /// The connecting side's port capacity per tuple (the same on both sides of the hop).
    pub capacity: CapacityFacts,
    /// The connecting side closes first and the rate per tuple exceeds the no-reuse bound.
    pub needs_reuse: bool,
    /// The rate per tuple exceeds the bound that applies: connect() will fail with EADDRNOTAVAIL.
    pub exhausts: bool,
    /// TIME_WAIT sockets this hop keeps on this side when it closes first, over all its hosts:
    /// per tuple, rate x 60 s, but never more than the connecting side's free ports of that
    /// tuple (a TIME_WAIT is keyed by the client's address and port; on the server a new SYN
    /// from the same port takes it over, `tcp_timewait_state_process()` TCP_TW_SYN). Unbounded
    /// for unseen clients and through NAT, whose sources twlint cannot count.
    pub tw_sockets: f64,
    /// `tw_sockets` on each host of this side.
    pub tw_per_host: f64,
    /// The connecting side's ports bound `tw_sockets` below rate x 60 s.
    pub tw_bounded: bool,
    /// What the middleboxes on the link's way mean for its connections (idle timeouts).
    pub path: crate::middlebox::PathFacts,
    /// On the `via` side: the middlebox's conntrack and SNAT figures for this link.
    pub conntrack: crate::middlebox::ConntrackFacts,
}

/// What a topology says about one node, besides its sysctl values.
#[derive(Debug, Clone, Default)]
pub struct NodeInfo {
    pub role: String,
    pub listen: Vec<u16>,
    pub addresses: Vec<String>,
    /// Each host's addresses; empty means one host per address (format 1, as in file mode).
    pub host_addresses: Vec<Vec<String>>,
    /// Hosts the node stands for; 0 means one per entry of `host_addresses` (at least 1).
    pub hosts: u32,
    pub own_namespace: bool,
    /// The node whose namespace it shares, if any.
    pub namespace_of: Option<String>,
}

/// The shape of one link, as far as facts are concerned.
#[derive(Debug, Clone)]
pub struct LinkInfo {
    pub name: String,
    pub from: usize,
    pub to: usize,
    pub port: u16,
    pub via_nat: bool,
    pub client_closes: bool,
    pub rate: Option<f64>,
    /// Connections held open at once (`open`).
    pub open: Option<u64>,
    /// The link's explicit `source` address.
    pub source: Option<String>,
    /// Rate and open connections of every link from the same network namespace to the same
    /// destination node and port, this one included (filled by [`share_tuples`]; the link's
    /// own when not).
    pub namespace_rate: Option<f64>,
    pub namespace_open: Option<u64>,
    /// The middleboxes on the way, in path order (indices of nodes).
    pub vias: Vec<usize>,
    /// The application sets SO_KEEPALIVE (`None`: not said).
    pub keepalive: Option<bool>,
}

fn ports_of(cfg: &NodeConfig, info: &NodeInfo) -> PortFacts {
    let range = cfg
        .value("net.ipv4.ip_local_port_range")
        .and_then(|v| v.printed.clone())
        .unwrap_or_else(|| "32768 60999".into());
    let mut it = range.split(' ').filter_map(|p| p.parse::<i64>().ok());
    let low = it.next().unwrap_or(32768);
    let high = it.next().unwrap_or(60999).max(low);
    let reserved = cfg
        .value("net.ipv4.ip_local_reserved_ports")
        .and_then(|v| v.printed.clone())
        .and_then(|s| parse_port_list(&s).ok())
        .unwrap_or_default();
    let is_reserved = |p: i64| {
        reserved
            .iter()
            .any(|&(a, b)| p >= a as i64 && p <= b as i64)
    };
    let mut reserved_in_range = 0;
    let mut reserved_total = 0;
    for &(a, b) in &reserved {
        let (a, b) = (a as i64, b as i64);
        reserved_total += b - a + 1;
        let lo = a.max(low);
        let hi = b.min(high);
        if hi >= lo {
            reserved_in_range += hi - lo + 1;
        }
    }
    // Overlapping reserved entries would be counted twice; clamp to the range size.
    let count = high - low + 1;
    let reserved_in_range = reserved_in_range.min(count);
    let mut listen_exposed: Vec<i64> = info
        .listen
        .iter()
        .map(|&p| p as i64)
        .filter(|&p| p >= low && p <= high && !is_reserved(p))
        .collect();
    listen_exposed.sort_unstable();
    listen_exposed.dedup();
    let well_known_exposed = WELL_KNOWN_LISTEN_PORTS
        .iter()
        .filter_map(|&(a, b, name)| {
            let (lo, hi) = (i64::from(a).max(low), i64::from(b).min(high));
            if lo > hi || (lo..=hi).all(is_reserved) {
                return None;
            }
            Some(if lo == hi {
                format!("{lo} ({name})")
            } else {
                format!("{lo}-{hi} ({name})")
            })
        })
        .collect();
    // connect() skips a port that a socket bound explicitly (a listener of this node), besides
    // the reserved ones (`__inet_hash_connect`: a bind bucket with fastreuse >= 0).
    let blocked = |p: i64| is_reserved(p) || listen_exposed.contains(&p);
    // The parity scan: connect() walks `count & !1` slots from an even offset, so with an odd
    // count one port of the low end's parity is out of reach in every scan: the top one when
    // the offset is 0 (always so with 3 ports), the bottom one otherwise. Which one depends on
    // a random offset; the port it can miss is not usable capacity (measured on 6.18 by
    // tests/lab_capacity.rs: 3 ports give 2 connections, 5 ports give 4 or 5).
    let parity_loss = cfg.kernel >= PARITY_SCAN_SINCE
        && count > 1
        && count % 2 == 1
        && (!blocked(high) || (count > 3 && !blocked(low)));
    PortFacts {
        low,
        high,
        count,
        reserved_in_range,
        usable: (count - reserved_in_range - listen_exposed.len() as i64 - parity_loss as i64)
            .max(0),
        same_parity: (low ^ high) & 1 == 0 && low != high,
        listen_exposed,
        well_known_exposed,
        reserved_outside: (reserved_total - reserved_in_range).max(0),
        reserved_total,
    }
}

/// Node facts without topology aggregates (file mode, or before `aggregate`).
pub fn node_facts(cfg: &NodeConfig, info: &NodeInfo) -> NodeFacts {
    let n = crate::kernel::KEYS.len();
    let mut sysctl = ByKey(Vec::with_capacity(n));
    let mut num = ByKey(Vec::with_capacity(n));
    let mut has = ByKey(Vec::with_capacity(n));
    let mut set = ByKey(Vec::with_capacity(n));
    for spec in crate::kernel::KEYS {
        has.0.push((spec.key, spec.exists_on(cfg.kernel)));
        let v = cfg.value(spec.key);
        set.0.push((spec.key, v.is_some_and(|v| v.set)));
        if let Some(v) = v {
            if let Some(text) = v.printed.as_ref().or(v.written.as_ref()) {
                sysctl.0.push((spec.key, text.clone()));
                if let Some(n) = text
                    .split_ascii_whitespace()
                    .next()
                    .and_then(|t| t.parse::<i64>().ok())
                {
                    num.0.push((spec.key, n));
                }
            }
        }
    }
    let ts = cfg.int("net.ipv4.tcp_timestamps").unwrap_or(1);
    let ts_offsets = if ts == 1 {
        behaviour("ts_offsets", cfg.kernel).value
    } else {
        // secure_tcp_ts_off() returns 0 whenever tcp_timestamps is not 1.
        "none"
    };
    NodeFacts {
        name: cfg.name.clone(),
        role: if info.role.is_empty() {
            "generic".into()
        } else {
            info.role.clone()
        },
        kernel: KernelFacts {
            release: cfg.kernel.to_string(),
            version: cfg.kernel.code(),
            major: cfg.kernel.major as i64,
            minor: cfg.kernel.minor as i64,
            origin: cfg.kernel_origin.as_str().into(),
        },
        listen: info.listen.iter().map(|&p| p as i64).collect(),
        addresses: info.addresses.clone(),
        host_addresses: host_addresses(info),
        hosts: if info.hosts > 0 {
            info.hosts as i64
        } else {
            host_addresses(info).len().max(1) as i64
        },
        own_namespace: info.own_namespace,
        namespace: info
            .namespace_of
            .clone()
            .unwrap_or_else(|| cfg.name.clone()),
        timestamps: ts != 0,
        ts_offsets: ts_offsets.into(),
        ts_random_offsets: matches!(ts_offsets, "connection" | "unknown"),
        ts_tick_ms: behaviour("ts_tick_ms", cfg.kernel)
            .value
            .parse()
            .unwrap_or(1000),
        tw_reuse: tw_reuse_mode(cfg.kernel, cfg.int("net.ipv4.tcp_tw_reuse").unwrap_or(0)),
        reuse_delay_ms: cfg.int("net.ipv4.tcp_tw_reuse_delay").unwrap_or(1000),
        ports: ports_of(cfg, info),
        tw_buckets: cfg.int("net.ipv4.tcp_max_tw_buckets").unwrap_or(-1),
        unseen: info.role == "client" && info.addresses.is_empty() && !set.0.iter().any(|v| v.1),
        sysctl,
        num,
        has,
        set,
        holds_time_wait: false,
        connects: false,
        accepts: false,
        accepts_via_nat: false,
        accepts_from_clients: false,
        internet_facing: false,
        tw_population: 0.0,
        tw_population_total: 0.0,
        tw_population_known: true,
        reuse_needed: false,
        reuse_applicable: false,
        close_rate: 0.0,
        orphan_retries: match cfg.int("net.ipv4.tcp_orphan_retries").unwrap_or(0) {
            0 => 8,
            r => r,
        },
        orphan_window: orphan_window(match cfg.int("net.ipv4.tcp_orphan_retries").unwrap_or(0) {
            0 => 8,
            r => r,
        }),
        orphans_if_peers_vanish: 0.0,
    }
}

/// Each host's addresses: as the topology split them, else one host per address (format 1).
fn host_addresses(info: &NodeInfo) -> Vec<Vec<String>> {
    if !info.host_addresses.is_empty() {
        return info.host_addresses.clone();
    }
    let texts: Vec<&str> = info.addresses.iter().map(String::as_str).collect();
    crate::address::split_hosts(&texts, (info.hosts > 0).then_some(info.hosts))
        .hosts
        .into_iter()
        .map(|h| h.into_iter().map(|i| info.addresses[i].clone()).collect())
        .collect()
}

/// The addresses a hop uses: one source per connecting host, the destinations it reaches.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub sources: Vec<String>,
    pub destinations: Vec<String>,
    pub tuples: i64,
    /// Every tuple has a loopback address at one end.
    pub loopback: bool,
    /// What was assumed, in words ("" when nothing was).
    pub assumption: String,
}

/// Chooses the destination addresses and each connecting host's source address for a link, as
/// the kernel would (KERNEL-FACTS-2 section 5; see [`crate::address`]).
pub fn route(link: &LinkInfo, from: &NodeFacts, to: &NodeFacts) -> Route {
    use crate::address::{kind, source_for, Kind, Scope};
    let mut notes: Vec<String> = Vec::new();
    let from_kinds: Vec<Kind> = from.addresses.iter().filter_map(|a| kind(a)).collect();
    let to_kinds: Vec<Kind> = {
        let mut k: Vec<Kind> = to.addresses.iter().filter_map(|a| kind(a)).collect();
        k.sort_unstable();
        k.dedup();
        k
    };
    let explicit = link.source.as_deref().and_then(kind);
    // The kind of destination the connecting side reaches. With an explicit source: its family,
    // its scope if the destination has it. Otherwise: loopback only from a node with loopback,
    // then the scopes the connecting side has itself (private first: traffic between two nodes
    // that both have a private address stays private), then its family.
    let has = |k: &Kind| from_kinds.contains(k);
    let same_family = |k: &Kind| from_kinds.iter().any(|f| f.v6 == k.v6);
    let many_outside = from.addresses.is_empty() && (link.via_nat || from.role == "client");
    let dest_kind: Option<Kind> = if to_kinds.is_empty() {
        None
    } else if let Some(src) = explicit {
        to_kinds
            .iter()
            .copied()
            .find(|k| *k == src)
            .or_else(|| {
                to_kinds
                    .iter()
                    .copied()
                    .find(|k| k.v6 == src.v6 && k.scope != Scope::Loopback)
            })
            .or(Some(src))
    } else if from_kinds.is_empty() {
        // Nothing is known of the connecting side: clients outside reach a public address,
        // anything else a private one, and loopback only when the node has nothing else.
        let want = if many_outside {
            [Scope::Public, Scope::Private]
        } else {
            [Scope::Private, Scope::Public]
        };
        want.iter()
            .find_map(|s| to_kinds.iter().copied().find(|k| k.scope == *s))
            .or(to_kinds.first().copied())
    } else {
        let by = |pred: &dyn Fn(&Kind) -> bool| to_kinds.iter().copied().find(|k| pred(k));
        by(&|k| k.scope == Scope::Loopback && has(k))
            .or_else(|| by(&|k| k.scope == Scope::Private && has(k)))
            .or_else(|| by(&|k| k.scope == Scope::Public && has(k)))
            .or_else(|| by(&|k| k.scope != Scope::Loopback && same_family(k)))
            .or_else(|| by(&|k| same_family(k)))
            .or(to_kinds.first().copied())
    };
    let routed_kinds = to_kinds
        .iter()
        .filter(|k| k.scope != Scope::Loopback)
        .count();
    if let Some(k) = dest_kind {
        // A choice was made: between routed kinds (public or private, IPv4 or IPv6), or for
        // loopback where the node is reachable otherwise too.
        if routed_kinds > 1 || (k.scope == Scope::Loopback && routed_kinds > 0) {
            notes.push(format!(
                "{} is reached at its {} address{}",
                to.name,
                k.describe(),
                if to.hosts > 1 { "es" } else { "" }
            ));
        }
    }
    // Distinct addresses: every host of a pod has its own 127.0.0.1, and each connecting host
    // reaches only its own, so a loopback address counts once.
    let mut destinations: Vec<String> = Vec::new();
    if let Some(k) = dest_kind {
        for a in to.addresses.iter().filter(|a| kind(a) == Some(k)) {
            if !destinations.contains(a) {
                destinations.push(a.clone());
            }
        }
    }
    let mut sources: Vec<String> = Vec::new();
    let mut unreachable = false;
    for host in &from.host_addresses {
        let mine: Vec<&str> = host.iter().map(String::as_str).collect();
        let chosen = match (&link.source, dest_kind) {
            (Some(src), _) if mine.contains(&src.as_str()) => Some(src.as_str()),
            (Some(src), _) => {
                // Another host's address was named: each host uses its own of that kind.
                let k = kind(src);
                mine.iter().copied().find(|a| kind(a) == k)
            }
            (None, Some(k)) => {
                let (s, note) = source_for(&mine, k);
                notes.extend(note);
                s
            }
            (None, None) => {
                // The destination's addresses are unknown: the one address of the host if it
                // has one kind; else private towards a node twlint has no address of.
                let routed: Vec<&str> = mine
                    .iter()
                    .copied()
                    .filter(|a| !crate::address::is_loopback(a))
                    .collect();
                let pick = routed
                    .iter()
                    .copied()
                    .find(|a| kind(a).is_some_and(|k| k.scope == Scope::Private))
                    .or(routed.first().copied())
                    .or(mine.first().copied());
                if routed.len() > 1 {
                    notes.push(format!(
                        "{} has no addresses; assumed {} connects from {}",
                        to.name,
                        from.name,
                        pick.unwrap_or("")
                    ));
                }
                pick
            }
        };
        match chosen {
            Some(a) => {
                if !sources.iter().any(|s| s == a) {
                    sources.push(a.to_string());
                }
            }
            None => unreachable |= !mine.is_empty(),
        }
    }
    if link.source.is_some() {
        notes.insert(0, "source given by the link".into());
    }
    if unreachable {
        notes.push(format!(
            "some hosts of {} have no address of the destination's family",
            from.name
        ));
    }
    notes.dedup();
    let dest_count = if destinations.is_empty() {
        to.hosts.max(1)
    } else {
        destinations.len() as i64
    };
    let loopback = dest_kind.is_some_and(|k| k.scope == Scope::Loopback)
        || (!sources.is_empty() && sources.iter().all(|a| crate::address::is_loopback(a)));
    Route {
        tuples: from.hosts.max(1) * dest_count,
        sources,
        destinations,
        loopback,
        assumption: notes.join("; "),
    }
}

/// Fills each link's namespace totals: links from the same network namespace to the same
/// destination node and port draw from the same ports of the same tuples.
pub fn share_tuples(nodes: &[NodeFacts], links: &mut [LinkInfo]) {
    // One pass summing each group in link order (the order the sums were always made in, so
    // the figures are the same to the last bit), then each link reads its group's totals: a
    // topology of 50,000 links compared every link with every other.
    type Totals = (Option<f64>, Option<u64>);
    let key = |l: &LinkInfo| (nodes[l.from].namespace.as_str(), l.to, l.port);
    let mut groups: std::collections::HashMap<(&str, usize, u16), Totals> =
        std::collections::HashMap::with_capacity(links.len());
    for l in links.iter() {
        let (rate, open) = groups.entry(key(l)).or_insert((None, None));
        if let Some(r) = l.rate {
            *rate = Some(rate.unwrap_or(0.0) + r);
        }
        if let Some(o) = l.open {
            *open = Some(open.unwrap_or(0).saturating_add(o));
        }
    }
    let totals: Vec<Totals> = links.iter().map(|l| groups[&key(l)]).collect();
    for (l, (rate, open)) in links.iter_mut().zip(totals) {
        l.namespace_rate = rate;
        l.namespace_open = open;
    }
}

/// The facts of one side of a link. `me` and `peer` are this side's and the other side's facts.
/// Capacity is always the connecting side's: only connect() draws ephemeral ports.
pub fn hop_facts(
    link: &LinkInfo,
    client_side: bool,
    me: &NodeFacts,
    peer: &NodeFacts,
    from_role: &str,
) -> HopFacts {
    let (from, to) = if client_side { (me, peer) } else { (peer, me) };
    let closes_first = link.client_closes == client_side;
    let route = route(link, from, to);
    let tuples = route.tuples;
    let rate = link.rate.unwrap_or(0.0);
    let tuple_rate = link.namespace_rate.or(link.rate).unwrap_or(0.0);
    let rate_per_tuple = tuple_rate / tuples as f64;
    let open = link.open.unwrap_or(0);
    let tuple_open = link.namespace_open.or(link.open).unwrap_or(0);
    // Open connections spread over the tuples; the busiest tuple holds the rounded-up share.
    let open_per_tuple = tuple_open.div_ceil(tuples.max(1) as u64) as i64;
    let usable = from.ports.usable.max(0);
    let free = (usable - open_per_tuple).max(0);
    let without_reuse = free as f64 / TIME_WAIT_SECONDS;
    let with_reuse = free as f64 / (from.reuse_delay_ms.max(1) as f64 / 1000.0);
    let reuse_enabled = from.tw_reuse == 1 || (from.tw_reuse == 2 && route.loopback);
    // Reuse needs the old connection's timestamps, so both ends must send them (KERNEL-FACTS 1.4).
    let reuse_works = link.client_closes && reuse_enabled && from.timestamps && to.timestamps;
    let effective = if reuse_works {
        with_reuse
    } else {
        without_reuse
    };
    // Unseen clients are many machines: their ports and TIME_WAIT are not one host's.
    let client_holds = link.client_closes && !from.unseen;
    // TIME_WAIT per tuple: rate x 60 s, bounded by the client's free ports of the tuple (on
    // the client a port in TIME_WAIT is not free; on the server a SYN from a port whose
    // TIME_WAIT it holds takes that TIME_WAIT over). Sources behind NAT or unseen are not
    // counted, so there the bound is unknown.
    let own_rate_per_tuple = rate / tuples as f64;
    let unbounded = own_rate_per_tuple * TIME_WAIT_SECONDS * tuples as f64;
    let countable = !from.unseen && (client_side || !link.via_nat);
    let tw_sockets = if !closes_first {
        0.0
    } else if countable {
        (own_rate_per_tuple * TIME_WAIT_SECONDS).min(free as f64) * tuples as f64
    } else {
        unbounded
    };
    HopFacts {
        link: link.name.clone(),
        side: if client_side { "client" } else { "server" }.into(),
        connects: client_side,
        closes_first,
        peer_closes_first: !closes_first,
        client_closes_first: link.client_closes,
        via_nat: link.via_nat,
        many_clients: link.via_nat || from_role == "client",
        unseen_clients: from.unseen,
        port: link.port as i64,
        rate_known: link.rate.is_some(),
        rate,
        tuples,
        rate_per_tuple,
        sources: route.sources,
        destinations: route.destinations,
        source_assumption: route.assumption,
        open: open as i64,
        open_per_tuple,
        open_exhausts: !from.unseen && open_per_tuple > usable,
        loopback: route.loopback,
        capacity: CapacityFacts {
            ports: free,
            without_reuse,
            with_reuse,
            reuse_works,
            effective,
        },
        needs_reuse: client_holds && link.rate.is_some() && rate_per_tuple > without_reuse,
        // Open connections that alone need more ports than there are are TW134's finding.
        exhausts: client_holds
            && link.rate.is_some()
            && open_per_tuple <= usable
            && rate_per_tuple > effective,
        tw_sockets,
        tw_per_host: tw_sockets / me.hosts.max(1) as f64,
        tw_bounded: closes_first && tw_sockets < unbounded,
        path: Default::default(),
        conntrack: Default::default(),
    }
}

/// Links from which [`aggregate`] finds the hops' facts on all cores.
const AGGREGATE_PARALLEL_FROM: usize = 256;

/// What one side of a link adds to its node's aggregates.
struct HopShare {
    closes_first: bool,
    rate: f64,
    tw_per_host: f64,
    tw_sockets: f64,
    rate_known: bool,
    needs_reuse: bool,
}

/// Fills the topology aggregates of every node from the links it is on. Nodes that share a
/// network namespace share its TIME_WAIT table: each gets the namespace's population.
pub fn aggregate(nodes: &mut [NodeFacts], links: &[LinkInfo]) {
    aggregate_from(AGGREGATE_PARALLEL_FROM, nodes, links);
}

/// [`aggregate`], the hops' facts found on all cores from `min` links (`usize::MAX`: on the
/// calling thread, as the test that holds the two to the same facts asks).
pub fn aggregate_from(min: usize, nodes: &mut [NodeFacts], links: &[LinkInfo]) {
    // What each side of each link brings, on all cores: a hop's facts read none of the
    // figures summed here (ports, addresses, reuse, timestamps, hosts). Then summed in link
    // order on this thread, as they always were, so the sums are the same to the last bit.
    let view: &[NodeFacts] = nodes;
    let sides = crate::pool::par_map_from(min, links, |link| {
        let from_role = view[link.from].role.as_str();
        [true, false].map(|client_side| {
            let (me_idx, peer_idx) = if client_side {
                (link.from, link.to)
            } else {
                (link.to, link.from)
            };
            let hop = hop_facts(link, client_side, &view[me_idx], &view[peer_idx], from_role);
            HopShare {
                closes_first: hop.closes_first,
                rate: hop.rate,
                tw_per_host: hop.tw_per_host,
                tw_sockets: hop.tw_sockets,
                rate_known: hop.rate_known,
                needs_reuse: hop.needs_reuse,
            }
        })
    });
    for (link, shares) in links.iter().zip(sides) {
        let from_client = nodes[link.from].role == "client";
        for (client_side, hop) in [true, false].into_iter().zip(shares) {
            let me_idx = if client_side { link.from } else { link.to };
            let me = &mut nodes[me_idx];
            if client_side {
                me.connects = true;
            } else {
                me.accepts = true;
                me.accepts_via_nat |= link.via_nat;
                me.accepts_from_clients |= from_client;
            }
            if hop.closes_first && !me.unseen {
                me.close_rate += hop.rate;
                me.holds_time_wait = true;
                me.tw_population += hop.tw_per_host;
                me.tw_population_total += hop.tw_sockets;
                me.tw_population_known &= hop.rate_known;
            }
            me.reuse_needed |= client_side && hop.needs_reuse;
            me.reuse_applicable |= client_side && hop.closes_first;
        }
    }
    let mut by_namespace: BTreeMap<String, (f64, f64, bool)> = BTreeMap::new();
    for n in nodes.iter() {
        let e = by_namespace
            .entry(n.namespace.clone())
            .or_insert((0.0, 0.0, true));
        e.0 += n.tw_population;
        e.1 += n.tw_population_total;
        e.2 &= n.tw_population_known;
    }
    for n in nodes.iter_mut() {
        n.internet_facing = n.accepts_via_nat || n.accepts_from_clients;
        n.orphans_if_peers_vanish = n.close_rate * n.orphan_window;
        let (per_host, total, known) = by_namespace[&n.namespace];
        n.tw_population = per_host;
        n.tw_population_total = total;
        n.tw_population_known = known;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, InlineValue, KernelOrigin};
    use crate::source::{SourceMap, Span};

    fn node(kernel: KernelVersion, values: &[(&str, &str)], info: NodeInfo) -> NodeFacts {
        let mut sources = SourceMap::new();
        let file = sources.add("t", "");
        let inline: Vec<InlineValue> = values
            .iter()
            .map(|(k, v)| InlineValue {
                key: k.to_string(),
                key_span: Span::new(file, 0, 0),
                value: v.to_string(),
                value_span: Span::new(file, 0, 0),
            })
            .collect();
        let mut diags = Vec::new();
        let cfg = config::resolve("n", kernel, KernelOrigin::Node, None, &inline, &mut diags);
        // Same-parity ranges are valid, only warned about (TW007).
        assert!(diags.iter().all(|d| d.code == "TW007"), "{diags:?}");
        node_facts(&cfg, &info)
    }

    fn info(addresses: &[&str], listen: &[u16]) -> NodeInfo {
        NodeInfo {
            role: "web".into(),
            listen: listen.to_vec(),
            addresses: addresses.iter().map(|s| s.to_string()).collect(),
            ..NodeInfo::default()
        }
    }

    fn link_defaults() -> LinkInfo {
        LinkInfo {
            name: "a->b".into(),
            from: 0,
            to: 1,
            port: 80,
            via_nat: false,
            client_closes: true,
            rate: None,
            open: None,
            source: None,
            namespace_rate: None,
            namespace_open: None,
            vias: Vec::new(),
            keepalive: None,
        }
    }

    #[test]
    fn default_range_allows_about_470_per_second_per_tuple() {
        // KERNEL-FACTS 1.11: 28232 ports / 60 s = 470.5/s; with reuse and a 1 s delay, 28232/s.
        let a = node(KernelVersion::new(6, 8), &[], info(&["10.0.0.1"], &[]));
        let b = node(KernelVersion::new(6, 8), &[], info(&["10.0.0.2"], &[80]));
        let link = LinkInfo {
            name: "a->b".into(),
            from: 0,
            to: 1,
            port: 80,
            via_nat: false,
            client_closes: true,
            rate: Some(1000.0),
            vias: Vec::new(),
            keepalive: None,
            ..link_defaults()
        };
        let hop = hop_facts(&link, true, &a, &b, "web");
        assert_eq!(hop.capacity.ports, 28232);
        assert!((hop.capacity.without_reuse - 470.53).abs() < 0.01);
        assert_eq!(hop.capacity.with_reuse, 28232.0);
        // Default tcp_tw_reuse is 2 (loopback only): reuse does not work towards 10.0.0.2.
        assert!(!hop.capacity.reuse_works);
        assert!(hop.needs_reuse && hop.exhausts);
        // 1000/s x 60 s would be 60000, but one tuple has only 28232 ports to hold them.
        assert_eq!(hop.tw_sockets, 28232.0);
        assert!(hop.tw_bounded);
    }

    #[test]
    fn reuse_needs_timestamps_at_both_ends_and_the_client_closing() {
        let a = node(
            KernelVersion::new(6, 8),
            &[("net.ipv4.tcp_tw_reuse", "1")],
            info(&["10.0.0.1"], &[]),
        );
        let b = node(KernelVersion::new(6, 8), &[], info(&["10.0.0.2"], &[80]));
        let b_no_ts = node(
            KernelVersion::new(6, 8),
            &[("net.ipv4.tcp_timestamps", "0")],
            info(&["10.0.0.2"], &[80]),
        );
        let mut link = LinkInfo {
            name: "a->b".into(),
            from: 0,
            to: 1,
            port: 80,
            via_nat: false,
            client_closes: true,
            rate: Some(1000.0),
            vias: Vec::new(),
            keepalive: None,
            ..link_defaults()
        };
        assert!(hop_facts(&link, true, &a, &b, "web").capacity.reuse_works);
        assert!(
            !hop_facts(&link, true, &a, &b_no_ts, "web")
                .capacity
                .reuse_works
        );
        link.client_closes = false;
        let hop = hop_facts(&link, true, &a, &b, "web");
        assert!(!hop.capacity.reuse_works && !hop.needs_reuse && !hop.closes_first);
        // The server side sees the same capacity but holds the TIME_WAIT.
        let server = hop_facts(&link, false, &b, &a, "web");
        // A SYN from a client port whose TIME_WAIT the server holds takes it over: at most the
        // client's 28232 ports per (client address, server address, port).
        assert!(server.closes_first && server.tw_sockets == 28232.0 && !server.connects);
    }

    #[test]
    fn server_time_wait_is_bounded_by_the_clients_ports() {
        // Measured (KERNEL-FACTS-2 section 6): 200 connections through 8 client ports leave at
        // most 8 TIME_WAIT sockets on the server; tests/lab_model.rs checks it on this kernel.
        let a = node(
            KernelVersion::new(6, 18),
            &[("net.ipv4.ip_local_port_range", "40000 40007")],
            info(&["10.0.0.1"], &[]),
        );
        let b = node(KernelVersion::new(6, 18), &[], info(&["10.0.0.2"], &[80]));
        let link = LinkInfo {
            client_closes: false,
            rate: Some(20.0),
            ..link_defaults()
        };
        let server = hop_facts(&link, false, &b, &a, "web");
        assert_eq!(server.tw_sockets, 8.0);
        assert!(server.tw_bounded);
        // The client holds none, and its capacity is not used up by the server's TIME_WAIT.
        let client = hop_facts(&link, true, &a, &b, "web");
        assert_eq!(client.tw_sockets, 0.0);
        assert!(!client.exhausts);
        // Unseen clients and clients behind NAT are not counted: no bound.
        let via = LinkInfo {
            via_nat: true,
            ..link.clone()
        };
        let server = hop_facts(&via, false, &b, &a, "web");
        assert_eq!(server.tw_sockets, 1200.0);
        assert!(!server.tw_bounded);
    }

    #[test]
    fn open_connections_hold_ports() {
        let a = node(
            KernelVersion::new(6, 18),
            &[("net.ipv4.ip_local_port_range", "40000 40009")],
            info(&["10.0.0.1"], &[]),
        );
        let b = node(KernelVersion::new(6, 18), &[], info(&["10.0.0.2"], &[80]));
        let link = LinkInfo {
            rate: Some(0.05),
            open: Some(6),
            ..link_defaults()
        };
        let hop = hop_facts(&link, true, &a, &b, "app");
        assert_eq!(hop.open_per_tuple, 6);
        assert_eq!(hop.capacity.ports, 4);
        assert!(!hop.open_exhausts);
        let over = LinkInfo {
            open: Some(11),
            ..link.clone()
        };
        assert!(hop_facts(&over, true, &a, &b, "app").open_exhausts);
    }

    #[test]
    fn one_source_address_per_host_by_route() {
        // A load balancer with a public and a private address reaches private web servers from
        // its private address only: one tuple per web server, not two.
        let lb = node(
            KernelVersion::new(6, 18),
            &[],
            info(&["203.0.113.10", "10.0.0.10"], &[80]),
        );
        let web = node(
            KernelVersion::new(6, 18),
            &[],
            info(&["10.0.0.20", "10.0.0.21"], &[80]),
        );
        assert_eq!(lb.hosts, 1);
        assert_eq!(web.hosts, 2);
        let link = link_defaults();
        let r = route(&link, &lb, &web);
        assert_eq!(r.sources, vec!["10.0.0.10"]);
        assert_eq!(r.destinations, vec!["10.0.0.20", "10.0.0.21"]);
        assert_eq!(r.tuples, 2);
        assert!(r.assumption.is_empty());
        // A proxy with 127.0.0.1 and its pod address reaches another host from the pod address.
        let proxy = node(
            KernelVersion::new(6, 18),
            &[],
            info(&["127.0.0.1", "10.1.0.5"], &[]),
        );
        let r = route(&link, &proxy, &web);
        assert_eq!(r.sources, vec!["10.1.0.5"]);
        assert!(!r.loopback);
        // An explicit source wins.
        let with_source = LinkInfo {
            source: Some("203.0.113.10".into()),
            ..link.clone()
        };
        let r = route(&with_source, &lb, &web);
        assert_eq!(r.sources, vec!["203.0.113.10"]);
        assert!(r.assumption.contains("source given by the link"));
        // A private-only node towards a public destination: assumed, and said.
        let partner = node(
            KernelVersion::new(6, 18),
            &[],
            info(&["198.51.100.9"], &[443]),
        );
        let r = route(&link, &web, &partner);
        assert_eq!(r.sources, vec!["10.0.0.20", "10.0.0.21"]);
        assert!(r.assumption.contains("no public IPv4 address"));
    }

    #[test]
    fn reuse_to_loopback_works_with_the_default() {
        let a = node(KernelVersion::new(6, 8), &[], info(&["127.0.0.1"], &[]));
        let b = node(KernelVersion::new(6, 8), &[], info(&["127.0.0.1"], &[8080]));
        let link = LinkInfo {
            name: "a->b".into(),
            from: 0,
            to: 1,
            port: 8080,
            via_nat: false,
            client_closes: true,
            rate: Some(1000.0),
            vias: Vec::new(),
            keepalive: None,
            ..link_defaults()
        };
        let hop = hop_facts(&link, true, &a, &b, "app");
        assert!(hop.loopback && hop.capacity.reuse_works && !hop.exhausts);
        // A loopback source counts too (the TIME_WAIT's local address), v4-mapped ones as well.
        let c = node(KernelVersion::new(6, 18), &[], info(&["10.9.0.1"], &[8080]));
        assert!(hop_facts(&link, true, &a, &c, "app").capacity.reuse_works);
        let d = node(
            KernelVersion::new(6, 18),
            &[],
            info(&["::ffff:127.0.0.1"], &[]),
        );
        assert!(hop_facts(&link, true, &d, &c, "app").capacity.reuse_works);
        let e = node(KernelVersion::new(6, 18), &[], info(&["10.9.0.2"], &[]));
        assert!(!hop_facts(&link, true, &e, &c, "app").capacity.reuse_works);
        // One non-loopback source and one non-loopback destination make a tuple without.
        let mixed = node(
            KernelVersion::new(6, 18),
            &[],
            info(&["127.0.0.1", "10.9.0.2"], &[]),
        );
        assert!(!hop_facts(&link, true, &mixed, &c, "app").loopback);
        assert!(hop_facts(&link, true, &mixed, &b, "app").loopback);
    }

    #[test]
    fn rate_spreads_over_address_pairs_and_reserved_ports_are_not_usable() {
        let a = node(
            KernelVersion::new(6, 8),
            &[
                ("net.ipv4.ip_local_port_range", "40000 40009"),
                ("net.ipv4.ip_local_reserved_ports", "40000-40001,9000"),
            ],
            info(&["10.0.0.1"], &[40005]),
        );
        assert_eq!(a.ports.count, 10);
        // 10 ports, 2 reserved, and the node's own listener on 40005 which connect() skips.
        assert_eq!(a.ports.usable, 7);
        assert_eq!(a.ports.reserved_outside, 1);
        assert_eq!(a.ports.listen_exposed, vec![40005]);
        let b = node(
            KernelVersion::new(6, 8),
            &[],
            info(&["10.0.0.2", "10.0.0.3"], &[80]),
        );
        let link = LinkInfo {
            name: "a->b".into(),
            from: 0,
            to: 1,
            port: 80,
            via_nat: false,
            client_closes: true,
            rate: Some(100.0),
            vias: Vec::new(),
            keepalive: None,
            ..link_defaults()
        };
        let hop = hop_facts(&link, true, &a, &b, "web");
        assert_eq!(hop.tuples, 2);
        assert_eq!(hop.rate_per_tuple, 50.0);
    }

    #[test]
    fn an_odd_range_loses_the_port_the_parity_scan_misses() {
        // Measured on 6.18 (tests/lab_capacity.rs): 3 ports give 2 connections, 5 give 4 or 5.
        let usable = |range: &str, reserved: &str, listen: &[u16]| {
            node(
                KernelVersion::new(6, 18),
                &[
                    ("net.ipv4.ip_local_port_range", range),
                    ("net.ipv4.ip_local_reserved_ports", reserved),
                ],
                info(&["127.0.0.1"], listen),
            )
            .ports
            .usable
        };
        assert_eq!(usable("40000 40007", "", &[]), 8);
        assert_eq!(usable("40000 40002", "", &[]), 2);
        assert_eq!(usable("40000 40004", "", &[]), 4);
        assert_eq!(usable("40000 40000", "", &[]), 1);
        assert_eq!(usable("32768 61000", "", &[]), 28232);
        // With 3 ports only the top one is ever missed: reserving it costs nothing more.
        assert_eq!(usable("40000 40002", "40002", &[]), 2);
        // With 5 or more either end may be missed; only both ends blocked avoid the loss.
        assert_eq!(usable("40000 40004", "40004", &[]), 3);
        assert_eq!(usable("40000 40004", "40004", &[40000]), 3);
        // Before the two-pass scan (about 4.6) every port was reachable.
        let old = node(
            KernelVersion::new(3, 10),
            &[("net.ipv4.ip_local_port_range", "32768 61000")],
            info(&["127.0.0.1"], &[]),
        );
        assert_eq!(old.ports.usable, 28233);
        // Default range: even count, nothing lost; a listener inside it takes one port.
        assert_eq!(usable("32768 60999", "", &[]), 28232);
        assert_eq!(usable("32768 60999", "", &[40000]), 28231);
    }

    #[test]
    fn timestamp_offset_history_by_version() {
        let offsets = |k| node(k, &[], NodeInfo::default());
        assert!(!offsets(KernelVersion::new(4, 9)).ts_random_offsets);
        assert!(offsets(KernelVersion::new(4, 10)).ts_random_offsets);
        // Per host pair from about 4.11: one peer's timestamps stay monotonic.
        let lts = offsets(KernelVersion::new(5, 15));
        assert_eq!(lts.ts_offsets, "host-pair");
        assert!(!lts.ts_random_offsets);
        // Per connection again in 2026 (mainline; some stable series by patch level).
        assert_eq!(offsets(KernelVersion::new(7, 0)).ts_offsets, "connection");
        assert!(offsets(KernelVersion::parse("6.12.80").unwrap()).ts_random_offsets);
        assert!(
            !node(
                KernelVersion::new(6, 8),
                &[("net.ipv4.tcp_timestamps", "2")],
                NodeInfo::default()
            )
            .ts_random_offsets
        );
    }

    #[test]
    fn tw_reuse_nonzero_means_every_destination_before_the_range_check() {
        let old = node(
            KernelVersion::new(4, 14),
            &[("net.ipv4.tcp_tw_reuse", "2")],
            info(&["10.0.0.1"], &[]),
        );
        assert_eq!(old.tw_reuse, 1);
        let b = node(KernelVersion::new(4, 14), &[], info(&["10.0.0.2"], &[80]));
        let link = LinkInfo {
            name: "a->b".into(),
            from: 0,
            to: 1,
            port: 80,
            via_nat: false,
            client_closes: true,
            rate: Some(1000.0),
            vias: Vec::new(),
            keepalive: None,
            ..link_defaults()
        };
        assert!(hop_facts(&link, true, &old, &b, "web").capacity.reuse_works);
        let new = node(
            KernelVersion::new(4, 19),
            &[("net.ipv4.tcp_tw_reuse", "2")],
            info(&["10.0.0.1"], &[]),
        );
        assert!(!hop_facts(&link, true, &new, &b, "web").capacity.reuse_works);
    }

    #[test]
    fn port_range_well_known_ports() {
        let exposed = |range: &str, reserved: &str| {
            node(
                KernelVersion::new(6, 8),
                &[
                    ("net.ipv4.ip_local_port_range", range),
                    ("net.ipv4.ip_local_reserved_ports", reserved),
                ],
                NodeInfo::default(),
            )
            .ports
            .well_known_exposed
        };
        assert!(exposed("32768 60999", "").is_empty());
        assert_eq!(
            exposed("10000 31000", "10250"),
            [
                "10256 (kube-proxy health)",
                "11211 (memcached)",
                "27017 (MongoDB)",
                "30000-31000 (Kubernetes NodePorts)"
            ]
        );
        assert_eq!(
            exposed("1024 65535", "").len(),
            WELL_KNOWN_LISTEN_PORTS.len()
        );
    }

    #[test]
    fn timestamp_clock_tick_by_version() {
        assert_eq!(
            node(KernelVersion::new(4, 9), &[], NodeInfo::default()).ts_tick_ms,
            10
        );
        assert_eq!(
            node(KernelVersion::new(4, 13), &[], NodeInfo::default()).ts_tick_ms,
            1
        );
    }

    #[test]
    fn aggregates_follow_the_links() {
        let mut nodes = vec![
            node(KernelVersion::new(6, 8), &[], info(&["10.0.0.1"], &[])),
            node(KernelVersion::new(6, 8), &[], info(&["10.0.0.2"], &[80])),
        ];
        let links = vec![LinkInfo {
            name: "a->b".into(),
            from: 0,
            to: 1,
            port: 80,
            via_nat: true,
            client_closes: false,
            rate: Some(10.0),
            vias: Vec::new(),
            keepalive: None,
            ..link_defaults()
        }];
        aggregate(&mut nodes, &links);
        assert!(nodes[0].connects && !nodes[0].holds_time_wait);
        assert!(nodes[1].accepts_via_nat && nodes[1].internet_facing && nodes[1].holds_time_wait);
        assert_eq!(nodes[1].tw_population, 600.0);
        // The server closes 10/s; with tcp_orphan_retries 0 (meaning 8) an orphan retries for
        // about 102 s when its peer stops answering.
        assert_eq!(nodes[1].close_rate, 10.0);
        assert_eq!(nodes[1].orphan_retries, 8);
        assert!((nodes[1].orphans_if_peers_vanish - 1022.0).abs() < 0.1);
    }

    #[test]
    fn orphan_window_doubles_the_rto_from_200_ms() {
        assert!((orphan_window(8) - 102.2).abs() < 0.01);
        assert!((orphan_window(3) - 3.0).abs() < 0.01);
        assert!((orphan_window(0) - 0.2).abs() < 0.01);
    }
}
