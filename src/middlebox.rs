//! Middleboxes: the boxes a link passes through (`via`) without being an end of it: a NAT, a load
//! balancer that forwards, a Kubernetes node whose kube-proxy rules rewrite Service traffic. This
//! module owns what twlint knows about them as data (the conntrack keys judged on them, the
//! kube-proxy preset, the idle-timeout presets of cloud products, each with its source) and the
//! arithmetic of the figures their rules see: conntrack entries against `nf_conntrack_max`,
//! source-NAT ports per destination, and the smallest idle timeout on a link's way.
//!
//! It depends only on `kernel`: callers (the judge) hand it plain numbers read from each node's
//! effective values, so the same figures serve the topology, host mode and the lab proofs.
//! Facts are from KERNEL-FACTS-2 (sections 1 to 4).

use serde::Serialize;
use std::collections::HashMap;

/// The keys judged on a middlebox for every link through it (`side: via`), in report order.
/// Adding a key here (and to `kernel::KEYS`) is all it takes to judge it there.
pub static KEYS: &[&str] = &[
    "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_buckets",
    "net.netfilter.nf_conntrack_tcp_timeout_time_wait",
    "net.netfilter.nf_conntrack_tcp_timeout_established",
    "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
];

/// Keys that only the initial network namespace has or can write: one value for the whole
/// machine ([LOCAL] 6.18: `nf_conntrack_max` and `_buckets` are mode 0444 in a child namespace,
/// `tcp_max_orphans` is absent there). Every other key of this module is per namespace, and a
/// new namespace starts at the kernel default (KERNEL-FACTS-2 3.5).
pub static NODE_LEVEL_KEYS: &[&str] = &[
    "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_buckets",
    "net.ipv4.tcp_max_orphans",
];

/// Whether a network namespace (a pod, a container) can change the key for itself.
pub fn namespace_can_change(key: &str) -> bool {
    !NODE_LEVEL_KEYS.contains(&key)
}

/// `nf_conntrack_max` when it is the memory-dependent default: 262144 on any 64-bit machine with
/// more than 4 GiB (5.15 and later: = buckets, capped at 262144; before: 4 x 65536).
pub const ASSUMED_CONNTRACK_MAX: i64 = 262_144;

/// Bytes one conntrack entry costs: the 256-byte `nf_conntrack` slab object plus an 8-byte hash
/// bucket ([LOCAL] 6.18 /proc/slabinfo; NAT and accounting extensions add a little).
pub const CONNTRACK_ENTRY_BYTES: i64 = 264;

/// Source ports masquerade or SNAT without a port range chooses from for an original port of 1024
/// or above: 1024 to 65535 (`nf_nat_l4proto_unique_tuple()`, KERNEL-FACTS-2 2).
pub const SNAT_PORTS: i64 = 64_512;

/// What a node's `conntrack:` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conntrack {
    Off,
    On,
    /// A Kubernetes node running kube-proxy in iptables or nftables mode: conntrack on, with the
    /// values kube-proxy writes at start ([`KUBE_PROXY_VALUES`]).
    KubeProxy,
}

impl Conntrack {
    pub const PRESETS: [&'static str; 1] = ["kube-proxy"];

    pub fn parse(s: &str) -> Option<Conntrack> {
        match s {
            "true" => Some(Conntrack::On),
            "false" => Some(Conntrack::Off),
            "kube-proxy" => Some(Conntrack::KubeProxy),
            _ => None,
        }
    }

    pub fn tracks(self) -> bool {
        self != Conntrack::Off
    }

    /// The values the preset's software writes into the node's own namespace, applied over the
    /// node's files (the software writes them after boot) and under its inline `set:`.
    pub fn preset_values(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Conntrack::KubeProxy => KUBE_PROXY_VALUES,
            _ => &[],
        }
    }
}

/// What kube-proxy writes with its default flags (KERNEL-FACTS-2 3.1, [SRC] kubernetes
/// `pkg/proxy/apis/config/v1alpha1/defaults.go` and `pkg/proxy/conntrack/sysctls.go`):
/// `--conntrack-tcp-timeout-established=24h`, `--conntrack-tcp-timeout-close-wait=1h`. It leaves
/// `nf_conntrack_tcp_timeout_time_wait` alone. It also raises `nf_conntrack_max` to
/// max(131072, 32768 x CPUs) when that is larger; twlint does not know the CPU count, so the
/// table size stays what the node says (set `nf_conntrack_max` on the node to the figure).
pub static KUBE_PROXY_VALUES: &[(&str, &str)] = &[
    (
        "net.netfilter.nf_conntrack_tcp_timeout_established",
        "86400",
    ),
    ("net.netfilter.nf_conntrack_tcp_timeout_close_wait", "3600"),
];

/// A product whose idle timeout is documented.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdlePreset {
    pub name: &'static str,
    pub seconds: f64,
    /// Whether TCP keepalive probes (no payload) reset the idle timer. Proxies (AWS ALB and
    /// Classic LB) need payload bytes.
    pub keepalive_counts: bool,
    /// What a flow sees on its next packet after the timeout.
    pub on_expiry: &'static str,
    /// Where the figure comes from; `UNVERIFIED` where no primary source was read.
    pub source: &'static str,
}

/// Idle-timeout presets (KERNEL-FACTS-2 4.2).
pub static IDLE_PRESETS: &[IdlePreset] = &[
    IdlePreset {
        name: "aws-nat-gateway",
        seconds: 350.0,
        keepalive_counts: true,
        on_expiry: "the next packet from inside gets a RST",
        source: "AWS NAT gateway, fixed 350 s (UNVERIFIED: secondary sources only)",
    },
    IdlePreset {
        name: "aws-nlb",
        seconds: 350.0,
        keepalive_counts: true,
        on_expiry: "the flow is dropped silently",
        source: "docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html (TCP listener default 350 s, 60 to 6000)",
    },
    IdlePreset {
        name: "aws-alb",
        seconds: 60.0,
        keepalive_counts: false,
        on_expiry: "the load balancer closes the connection",
        source: "docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html (default 60 s)",
    },
    IdlePreset {
        name: "aws-clb",
        seconds: 60.0,
        keepalive_counts: false,
        on_expiry: "the load balancer closes the connection",
        source: "AWS Classic Load Balancer config-idle-timeout (default 60 s; keepalive probes do not count)",
    },
    IdlePreset {
        name: "azure-lb",
        seconds: 240.0,
        keepalive_counts: true,
        on_expiry: "the flow is dropped silently (RST only with \"TCP reset on idle\")",
        source: "learn.microsoft.com load-balancer-tcp-idle-timeout (default 4 min, 4 to 100)",
    },
    IdlePreset {
        name: "azure-nat-gateway",
        seconds: 240.0,
        keepalive_counts: true,
        on_expiry: "the next packet gets a RST (UNVERIFIED)",
        source: "Azure NAT Gateway, default 4 min (UNVERIFIED: secondary source)",
    },
    IdlePreset {
        name: "gcp-cloud-nat",
        seconds: 1200.0,
        keepalive_counts: true,
        on_expiry: "the mapping is dropped and the flow hangs (UNVERIFIED)",
        source: "Compute API RouterNat tcpEstablishedIdleTimeoutSec (defaults to 1200 s)",
    },
];

/// A middlebox's idle timeout, as `idle_timeout:` gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdleTimeout {
    pub seconds: f64,
    pub preset: Option<&'static IdlePreset>,
}

impl IdleTimeout {
    /// Seconds (`350`, `350.5`) or a preset name.
    pub fn parse(s: &str) -> Option<IdleTimeout> {
        if let Some(p) = IDLE_PRESETS.iter().find(|p| p.name == s) {
            return Some(IdleTimeout {
                seconds: p.seconds,
                preset: Some(p),
            });
        }
        let v: f64 = s.parse().ok()?;
        (v.is_finite() && v > 0.0).then_some(IdleTimeout {
            seconds: v,
            preset: None,
        })
    }

    pub fn preset_names() -> Vec<&'static str> {
        IDLE_PRESETS.iter().map(|p| p.name).collect()
    }
}

/// What the judge knows about one middlebox, read from its node and its effective values.
#[derive(Debug, Clone)]
pub struct BoxInput {
    pub name: String,
    /// Hosts the node stands for: the table and the ports are per host.
    pub hosts: u32,
    /// Flows through it are tracked by Linux conntrack.
    pub tracks: bool,
    /// It rewrites source addresses (a `nat` node).
    pub snat: bool,
    /// Its addresses (the public ones a NAT rewrites to).
    pub addresses: usize,
    /// `nf_conntrack_max`; `None` for the memory-dependent default.
    pub max: Option<i64>,
    pub tw_timeout: i64,
    pub established_timeout: i64,
    pub idle: Option<IdleTimeout>,
}

impl BoxInput {
    /// The idle timeout that applies: the declared one, else conntrack's established timeout.
    fn idle(&self) -> Option<(f64, bool, String)> {
        match (&self.idle, self.tracks) {
            (Some(t), _) => Some((
                t.seconds,
                t.preset.is_none_or(|p| p.keepalive_counts),
                match t.preset {
                    Some(p) => format!("{} preset: {}", p.name, p.source),
                    None => "idle_timeout".into(),
                },
            )),
            (None, true) => Some((
                self.established_timeout as f64,
                true,
                "nf_conntrack_tcp_timeout_established".into(),
            )),
            (None, false) => None,
        }
    }
}

/// One link as the middlebox figures need it.
#[derive(Debug, Clone)]
pub struct FlowInput {
    /// New connections per second over the whole link.
    pub rate: Option<f64>,
    /// Connections held open at once over the whole link.
    pub open: Option<f64>,
    /// The destination node and port: SNAT ports are per (public address, destination address,
    /// destination port).
    pub to: usize,
    pub port: u16,
    pub dst_addresses: usize,
    /// Indices of the middleboxes on the way (into the boxes' slice).
    pub vias: Vec<usize>,
    /// The application sets SO_KEEPALIVE (`None`: not said).
    pub keepalive: Option<bool>,
}

/// What a link's way through middleboxes means for its connections, on every side of it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PathFacts {
    /// Middleboxes on the way.
    pub middleboxes: i64,
    /// Connections held open over the whole link (0 when not declared).
    pub open: f64,
    /// The smallest idle timeout on the way in seconds (0 when none is known).
    pub idle_timeout: f64,
    /// The middlebox with that timeout, and where the figure comes from.
    pub idle_by: String,
    pub idle_source: String,
    /// What a flow sees after that timeout.
    pub idle_expiry: String,
    /// TCP keepalive probes reset that middlebox's idle timer (false for proxies that need
    /// payload, like AWS ALB and Classic LB).
    pub keepalive_counts: bool,
    /// Whether the application sets SO_KEEPALIVE: `true`, `false` or `unknown`.
    pub keepalive: String,
}

/// A middlebox's conntrack and SNAT figures for one link through it (`side: via`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConntrackFacts {
    /// The middlebox tracks these flows with Linux conntrack.
    pub tracks: bool,
    pub hosts: i64,
    /// Entries this link keeps in the box's table: rate x conntrack TIME_WAIT + open.
    pub link_entries: f64,
    /// Entries all the links through the box keep, per host of the box.
    pub entries: f64,
    /// Every link through the box declares a rate.
    pub entries_known: bool,
    /// `nf_conntrack_max`, or -1 for the memory-dependent default.
    pub max: i64,
    /// The limit compared against: `max`, or 262144 for the default.
    pub limit: i64,
    /// Entries per host exceed the limit: new flows are dropped.
    pub overflows: bool,
    /// Megabytes of kernel memory the entries take (264 bytes each).
    pub memory_mb: f64,
    pub tw_timeout: i64,
    pub established_timeout: i64,
    /// New short connections per second one host of the box sustains: limit / TIME_WAIT timeout.
    pub rate_capacity: f64,
    /// The box rewrites source addresses.
    pub snat: bool,
    /// Source ports per (public address, destination address, destination port).
    pub snat_ports: i64,
    /// Such triples the traffic to this link's destination spreads over.
    pub snat_tuples: i64,
    /// Ports held per triple by the links through the box to this destination: new flows/s x
    /// conntrack TIME_WAIT + open connections, per triple.
    pub snat_held: f64,
    /// New flows per second one triple sustains besides its open connections.
    pub snat_capacity: f64,
    /// New flows per second per triple towards this destination.
    pub snat_rate_per_tuple: f64,
    /// More ports held than the range has: SYNs are dropped (connect timeouts, insert_failed).
    pub snat_exhausts: bool,
}

/// The figures of every link: its path facts, and the conntrack facts of each of its vias (in
/// the order of `FlowInput::vias`).
pub fn figures(boxes: &[BoxInput], flows: &[FlowInput]) -> Vec<(PathFacts, Vec<ConntrackFacts>)> {
    let entries_of = |f: &FlowInput, b: &BoxInput| {
        f.rate.unwrap_or(0.0) * b.tw_timeout.max(0) as f64 + f.open.unwrap_or(0.0)
    };
    // Table population per box, over every link through it.
    let mut total = vec![0.0f64; boxes.len()];
    let mut known = vec![true; boxes.len()];
    for f in flows {
        for &b in &f.vias {
            total[b] += entries_of(f, &boxes[b]);
            known[b] &= f.rate.is_some();
        }
    }
    // Rate and open connections of the links through each box to each destination and port,
    // summed in link order once (a NAT's links each summed every link of the topology).
    let mut shared: HashMap<(usize, usize, u16), (f64, f64)> = HashMap::new();
    for f in flows {
        for (i, &b) in f.vias.iter().enumerate() {
            if f.vias[..i].contains(&b) {
                continue;
            }
            let e = shared.entry((b, f.to, f.port)).or_default();
            e.0 += f.rate.unwrap_or(0.0);
            e.1 += f.open.unwrap_or(0.0);
        }
    }
    flows
        .iter()
        .map(|f| {
            let mut path = PathFacts {
                middleboxes: f.vias.len() as i64,
                open: f.open.unwrap_or(0.0),
                keepalive: match f.keepalive {
                    Some(true) => "true",
                    Some(false) => "false",
                    None => "unknown",
                }
                .into(),
                keepalive_counts: true,
                ..PathFacts::default()
            };
            for &b in &f.vias {
                if let Some((secs, counts, source)) = boxes[b].idle() {
                    if path.idle_timeout == 0.0 || secs < path.idle_timeout {
                        path.idle_timeout = secs;
                        path.idle_by = boxes[b].name.clone();
                        path.idle_source = source;
                        path.keepalive_counts = counts;
                        path.idle_expiry = match boxes[b].idle.and_then(|t| t.preset) {
                            Some(p) => p.on_expiry.into(),
                            None if boxes[b].tracks => "conntrack forgets the flow: its next packet is picked up as a new flow if the NAT maps it to the same port, else it gets a RST (a different port) or is dropped (nf_conntrack_tcp_loose=0, or INVALID dropped)".into(),
                            None => "the middlebox forgets the flow".into(),
                        };
                    }
                }
            }
            let cts = f
                .vias
                .iter()
                .map(|&b| {
                    let shared = shared.get(&(b, f.to, f.port)).copied().unwrap_or_default();
                    conntrack_facts(&boxes[b], f, shared, total[b], known[b])
                })
                .collect();
            (path, cts)
        })
        .collect()
}

/// The conntrack facts of box `b` for flow `f`; `shared` is the rate and open connections of
/// every flow through `b` to the same destination and port (`f` included).
fn conntrack_facts(
    b: &BoxInput,
    f: &FlowInput,
    shared: (f64, f64),
    total: f64,
    known: bool,
) -> ConntrackFacts {
    let hosts = b.hosts.max(1) as f64;
    let limit = b.max.unwrap_or(ASSUMED_CONNTRACK_MAX);
    let tw = b.tw_timeout.max(0) as f64;
    let entries = total / hosts;
    let mut out = ConntrackFacts {
        tracks: b.tracks,
        hosts: b.hosts as i64,
        link_entries: f.rate.unwrap_or(0.0) * tw + f.open.unwrap_or(0.0),
        entries,
        entries_known: known,
        max: b.max.unwrap_or(-1),
        limit,
        overflows: b.tracks && entries > limit as f64,
        memory_mb: entries * CONNTRACK_ENTRY_BYTES as f64 / (1024.0 * 1024.0),
        tw_timeout: b.tw_timeout,
        established_timeout: b.established_timeout,
        rate_capacity: if tw > 0.0 { limit as f64 / tw } else { 0.0 },
        snat: b.snat && b.tracks,
        snat_ports: SNAT_PORTS,
        ..ConntrackFacts::default()
    };
    if out.snat {
        // Every link through this box to the same destination shares its ports.
        let (rate, open) = shared;
        let tuples = (b.addresses.max(1) * f.dst_addresses.max(1)) as f64;
        out.snat_tuples = tuples as i64;
        out.snat_rate_per_tuple = rate / tuples;
        out.snat_held = (rate * tw + open) / tuples;
        out.snat_capacity = if tw > 0.0 {
            ((SNAT_PORTS as f64 - open / tuples) / tw).max(0.0)
        } else {
            0.0
        };
        out.snat_exhausts = out.snat_held > SNAT_PORTS as f64;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nat(max: Option<i64>, tw: i64) -> BoxInput {
        BoxInput {
            name: "nat".into(),
            hosts: 1,
            tracks: true,
            snat: true,
            addresses: 1,
            max,
            tw_timeout: tw,
            established_timeout: 432_000,
            idle: None,
        }
    }

    fn flow(rate: f64, open: Option<f64>) -> FlowInput {
        FlowInput {
            rate: Some(rate),
            open,
            to: 9,
            port: 80,
            dst_addresses: 1,
            vias: vec![0],
            keepalive: None,
        }
    }

    #[test]
    fn conntrack_time_wait_fills_the_table_at_rate_times_timeout() {
        // KERNEL-FACTS-2 1.4: 1500/s x 120 s = 180000 entries; 2184/s fills 262144.
        let f = figures(&[nat(None, 120)], &[flow(1500.0, None)]);
        let ct = &f[0].1[0];
        assert_eq!(ct.entries, 180_000.0);
        assert!(!ct.overflows && ct.max == -1 && ct.limit == 262_144);
        assert!((ct.rate_capacity - 2184.5).abs() < 0.1);
        let f = figures(&[nat(Some(65536), 120)], &[flow(1500.0, Some(1000.0))]);
        assert_eq!(f[0].1[0].entries, 181_000.0);
        assert!(f[0].1[0].overflows);
        // Measured: 50/s with a 10 s timeout plateaued at 500 TIME_WAIT entries.
        assert_eq!(
            figures(&[nat(None, 10)], &[flow(50.0, None)])[0].1[0].entries,
            500.0
        );
    }

    #[test]
    fn replicas_share_the_entries() {
        let mut b = nat(Some(100_000), 120);
        b.hosts = 2;
        let f = figures(&[b], &[flow(1500.0, None)]);
        assert_eq!(f[0].1[0].entries, 90_000.0);
        assert!(!f[0].1[0].overflows);
    }

    #[test]
    fn snat_ports_are_per_public_address_and_destination() {
        // 64512 ports / 120 s = 537.6 new flows/s per (public address, destination ip:port).
        let f = figures(&[nat(None, 120)], &[flow(600.0, None)]);
        let ct = &f[0].1[0];
        assert!((ct.snat_capacity - 537.6).abs() < 0.1);
        assert!(ct.snat_exhausts);
        let mut two = nat(None, 120);
        two.addresses = 2;
        assert!(!figures(&[two], &[flow(600.0, None)])[0].1[0].snat_exhausts);
    }

    #[test]
    fn the_smallest_idle_timeout_on_the_way_wins() {
        let mut gw = nat(None, 120);
        gw.tracks = false;
        gw.idle = IdleTimeout::parse("aws-nat-gateway");
        let linux = nat(None, 120);
        let mut f = flow(1.0, Some(10.0));
        f.vias = vec![1, 0];
        let out = figures(&[gw, linux], &[f]);
        assert_eq!(out[0].0.idle_timeout, 350.0);
        assert_eq!(out[0].0.idle_by, "nat");
        assert!(out[0].0.keepalive_counts);
        assert_eq!(IdleTimeout::parse("60").unwrap().seconds, 60.0);
        assert!(IdleTimeout::parse("-1").is_none() && IdleTimeout::parse("aws").is_none());
        assert!(
            !IdleTimeout::parse("aws-alb")
                .unwrap()
                .preset
                .unwrap()
                .keepalive_counts
        );
    }
}
