//! What the kernel knows: versions, and (in `keys`) the in-scope sysctl keys by version.
//!
//! This module holds kernel knowledge as data. Rules never compare version strings themselves;
//! they see what this module derives (whether a key exists, its default, whether a value would be
//! accepted) through the fact model.

use std::cmp::Ordering;
use std::fmt;

/// A kernel release reduced to what matters for sysctl behaviour: major, minor, patch.
/// `6.8.0-45-generic` and `6.8` compare equal in major and minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KernelVersion {
    pub const fn new(major: u32, minor: u32) -> KernelVersion {
        KernelVersion {
            major,
            minor,
            patch: 0,
        }
    }

    /// Parses a release as `uname -r` prints it or as a user writes it: `4.9`, `5.15.0`,
    /// `6.8.0-45-generic`, `3.10.0-1160.el7.x86_64`. Anything after the numeric part is ignored.
    pub fn parse(s: &str) -> Option<KernelVersion> {
        let s = s.trim();
        let numeric_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let mut parts = s[..numeric_end].split('.');
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next()?.parse().ok()?;
        let patch: u32 = match parts.next() {
            Some("") | None => 0,
            Some(p) => p.parse().ok()?,
        };
        // Linux has had releases 1.x to 7.x; a major of 0 or above 99 is a typo, not a kernel.
        if major == 0 || major > 99 || minor > 999 {
            return None;
        }
        Some(KernelVersion {
            major,
            minor,
            patch,
        })
    }

    /// The version as one integer, `major * 1000 + minor` (4.12 is 4012, 6.14 is 6014), as rules
    /// see it in CEL, where there is no version type.
    pub fn code(self) -> i64 {
        self.major as i64 * 1000 + self.minor as i64
    }
}

impl PartialOrd for KernelVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for KernelVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch))
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.patch == 0 {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uname_style_releases() {
        assert_eq!(
            KernelVersion::parse("6.8.0-45-generic"),
            Some(KernelVersion {
                major: 6,
                minor: 8,
                patch: 0
            })
        );
        assert_eq!(
            KernelVersion::parse("3.10.0-1160.el7.x86_64")
                .unwrap()
                .minor,
            10
        );
        assert_eq!(KernelVersion::parse("4.9").unwrap().code(), 4009);
        assert_eq!(KernelVersion::parse("6.18.44-fc-v669").unwrap().patch, 44);
        assert_eq!(KernelVersion::parse("six"), None);
        assert_eq!(KernelVersion::parse("6"), None);
        assert!(KernelVersion::new(4, 12) > KernelVersion::new(4, 9));
    }
}

/// How the kernel parses and checks a key's value: what `/proc/sys` accepts (KERNEL-FACTS 1.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// One integer in `min..=max` (`proc_dointvec_minmax`, `proc_dou8vec_minmax`).
    Int { min: i64, max: i64 },
    /// The two-integer port range, checked against `ip_unprivileged_port_start`.
    PortRange,
    /// A comma-separated list of ports and ranges (`8080,9000-9010`), possibly empty.
    PortList,
}

/// The default of a key, where it can be known without looking at the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Default {
    Value(&'static str),
    /// Computed at boot from memory (`tcp_max_tw_buckets` is half the established-hash size).
    MemoryDependent(&'static str),
}

/// A change of a key's default or accepted values at a kernel version.
#[derive(Debug, Clone, Copy)]
pub struct Era {
    /// First kernel with this behaviour.
    pub since: KernelVersion,
    pub default: Default,
    pub kind: ValueKind,
    /// Set when the version boundary is not confirmed by a primary source (KERNEL-FACTS marks it
    /// UNVERIFIED); messages then say so instead of asserting.
    pub unverified: bool,
}

/// Everything twlint knows about one in-scope key.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub key: &'static str,
    /// First kernel that has the key (`None`: older than any kernel twlint judges).
    pub since: Option<KernelVersion>,
    /// First kernel that no longer has it.
    pub removed: Option<KernelVersion>,
    /// Behaviour by version, oldest first; the last era whose `since` is not after the kernel applies.
    pub eras: &'static [Era],
    /// Judged (the verdict matrix): per endpoint of every link, or per middlebox for the keys
    /// of `crate::middlebox::KEYS`; companions are only read.
    pub judged: bool,
}

const V0: KernelVersion = KernelVersion::new(2, 6);

/// Seconds read by proc_dointvec_jiffies: refused where the jiffies overflow an int on every HZ
/// (see tcp_fin_timeout).
const JIFFIES: ValueKind = ValueKind::Int {
    min: -(i32::MAX as i64 / 100),
    max: i32::MAX as i64 / 100,
};

/// An int read without bounds (proc_dointvec).
const ANY_INT: ValueKind = ValueKind::Int {
    min: i32::MIN as i64,
    max: i32::MAX as i64,
};

/// u8 keys (proc_dou8vec_minmax, 0 to 255; [LOCAL] 6.18 refuses 256 and -1). They were ints
/// before Eric Dumazet's 2021 conversion series (5.13 by the merge calendar, UNVERIFIED).
const U8_SINCE: KernelVersion = KernelVersion::new(5, 13);

const U8_ERAS_0: &[Era] = &[
    Era {
        since: V0,
        default: Default::Value("0"),
        kind: ANY_INT,
        unverified: false,
    },
    Era {
        since: U8_SINCE,
        default: Default::Value("0"),
        kind: ValueKind::Int { min: 0, max: 255 },
        unverified: true,
    },
];

const U8_ERAS_9: &[Era] = &[
    Era {
        since: V0,
        default: Default::Value("9"),
        kind: ANY_INT,
        unverified: false,
    },
    Era {
        since: U8_SINCE,
        default: Default::Value("9"),
        kind: ValueKind::Int { min: 0, max: 255 },
        unverified: true,
    },
];

/// The in-scope keys. Sources for every line: KERNEL-FACTS sections 1.1 to 1.6 and 1.14.
pub static KEYS: &[KeySpec] = &[
    KeySpec {
        key: "net.ipv4.tcp_tw_reuse",
        since: None,
        removed: None,
        eras: &[
            // `proc_dointvec` without bounds: any int is accepted and `tcp_twsk_unique()` tests
            // `if (sysctl_tcp_tw_reuse ...)`, so every non-zero value turns reuse on for all
            // destinations ([SRC] net/ipv4/sysctl_net_ipv4.c of a 4.14 tree; BEHAVIOURS
            // `tw_reuse_values`).
            Era {
                since: V0,
                default: Default::Value("0"),
                kind: ValueKind::Int {
                    min: i32::MIN as i64,
                    max: i32::MAX as i64,
                },
                unverified: false,
            },
            // 79e9fed46038 (author date 2018-06-04, the day after 4.17, with net-next closed for
            // the 4.18 merge window) added 2 (loopback only), made it the default and bounded
            // the value to 0..2 (`proc_dointvec_minmax`, zero..two): present in a 4.19 tree
            // [SRC], absent in 4.14 [SRC]; no 4.18 tree was read, hence UNVERIFIED.
            Era {
                since: KernelVersion::new(4, 19),
                default: Default::Value("2"),
                kind: ValueKind::Int { min: 0, max: 2 },
                unverified: true,
            },
        ],
        judged: true,
    },
    KeySpec {
        key: "net.ipv4.tcp_tw_recycle",
        since: None,
        removed: Some(KernelVersion::new(4, 12)),
        eras: &[Era {
            since: V0,
            default: Default::Value("0"),
            kind: ValueKind::Int {
                min: i32::MIN as i64,
                max: i32::MAX as i64,
            },
            unverified: false,
        }],
        judged: true,
    },
    KeySpec {
        key: "net.ipv4.tcp_timestamps",
        since: None,
        removed: None,
        eras: &[
            // `proc_dointvec` in 4.14 and 4.19 trees [SRC]: any int is accepted.
            Era {
                since: V0,
                default: Default::Value("1"),
                kind: ValueKind::Int {
                    min: i32::MIN as i64,
                    max: i32::MAX as i64,
                },
                unverified: false,
            },
            // Stored as a u8 (`proc_dou8vec_minmax`, "tcp: convert elligible sysctls to u8",
            // believed 5.13, UNVERIFIED): 255 is accepted, 256 and -1 are refused ([LOCAL] 6.18).
            Era {
                since: KernelVersion::new(5, 13),
                default: Default::Value("1"),
                kind: ValueKind::Int { min: 0, max: 255 },
                unverified: true,
            },
        ],
        judged: true,
    },
    KeySpec {
        key: "net.ipv4.ip_local_port_range",
        since: None,
        removed: None,
        eras: &[
            Era {
                since: V0,
                default: Default::Value("32768 61000"),
                kind: ValueKind::PortRange,
                unverified: false,
            },
            // 07f4c90062f8 moved the default to different parity; believed 4.2 (KERNEL-FACTS 5.3).
            Era {
                since: KernelVersion::new(4, 2),
                default: Default::Value("32768 60999"),
                kind: ValueKind::PortRange,
                unverified: true,
            },
        ],
        judged: true,
    },
    KeySpec {
        key: "net.ipv4.tcp_fin_timeout",
        since: None,
        removed: None,
        eras: &[Era {
            since: V0,
            default: Default::Value("60"),
            // proc_dointvec_jiffies refuses seconds whose jiffies overflow an int: above
            // INT_MAX / HZ. HZ is a build option (100 to 1000); twlint flags what every HZ
            // refuses (tests/differential.rs found 2147483647 refused).
            kind: ValueKind::Int {
                min: -(i32::MAX as i64 / 100),
                max: i32::MAX as i64 / 100,
            },
            unverified: false,
        }],
        judged: true,
    },
    KeySpec {
        key: "net.ipv4.tcp_max_tw_buckets",
        since: None,
        removed: None,
        eras: &[Era {
            since: V0,
            default: Default::MemoryDependent(
                "half the TCP established-hash size (131072 on a 24 GiB machine)",
            ),
            // proc_dointvec without bounds: -2 is accepted (tests/differential.rs).
            kind: ValueKind::Int {
                min: i32::MIN as i64,
                max: i32::MAX as i64,
            },
            unverified: false,
        }],
        judged: true,
    },
    KeySpec {
        key: "net.ipv4.ip_local_reserved_ports",
        since: Some(KernelVersion::new(2, 6)),
        removed: None,
        eras: &[Era {
            since: V0,
            default: Default::Value(""),
            kind: ValueKind::PortList,
            unverified: false,
        }],
        judged: true,
    },
    KeySpec {
        key: "net.ipv4.tcp_tw_reuse_delay",
        since: Some(KernelVersion::new(6, 14)),
        // Posted to net-next in December 2024, so 6.14 by the merge calendar (KERNEL-FACTS 5.2).
        removed: None,
        eras: &[Era {
            since: KernelVersion::new(6, 14),
            default: Default::Value("1000"),
            kind: ValueKind::Int { min: 1, max: 60000 },
            unverified: true,
        }],
        judged: true,
    },
    // Keepalive (KERNEL-FACTS-2 4.1): per network namespace since 4.5, a new namespace starts
    // at these defaults. proc_dointvec_jiffies, like tcp_fin_timeout ([LOCAL] 6.18: -1 and 0
    // are accepted).
    KeySpec {
        key: "net.ipv4.tcp_keepalive_time",
        since: None,
        removed: None,
        eras: &[Era {
            since: V0,
            default: Default::Value("7200"),
            kind: JIFFIES,
            unverified: false,
        }],
        judged: true,
    },
    KeySpec {
        key: "net.ipv4.tcp_keepalive_intvl",
        since: None,
        removed: None,
        eras: &[Era {
            since: V0,
            default: Default::Value("75"),
            kind: JIFFIES,
            unverified: false,
        }],
        judged: true,
    },
    KeySpec {
        key: "net.ipv4.tcp_keepalive_probes",
        since: None,
        removed: None,
        eras: U8_ERAS_9,
        judged: true,
    },
    // Orphans (KERNEL-FACTS-2 7): tcp_max_orphans is ehash/2, global (absent in a child
    // namespace); tcp_orphan_retries 0 means 8 for a socket that sent recently.
    KeySpec {
        key: "net.ipv4.tcp_max_orphans",
        since: None,
        removed: None,
        eras: &[Era {
            since: V0,
            default: Default::MemoryDependent(
                "half the TCP established-hash size (131072 on a 24 GiB machine)",
            ),
            kind: ValueKind::Int {
                min: i32::MIN as i64,
                max: i32::MAX as i64,
            },
            unverified: false,
        }],
        judged: true,
    },
    KeySpec {
        key: "net.ipv4.tcp_orphan_retries",
        since: None,
        removed: None,
        eras: U8_ERAS_0,
        judged: true,
    },
    KeySpec {
        key: "net.ipv4.tcp_rfc1337",
        since: None,
        removed: None,
        eras: U8_ERAS_0,
        judged: true,
    },
    // Conntrack (KERNEL-FACTS-2 1.1, 1.2; [LOCAL] 6.18, 24 GiB: 262144, 262144, 120, 432000,
    // 60). Judged on middleboxes only (`config::judged_keys` leaves out `middlebox::KEYS`). The
    // table size is one global value (read-only in a child namespace); the timeouts are per
    // namespace and start at these defaults in every new one.
    KeySpec {
        key: "net.netfilter.nf_conntrack_max",
        since: None,
        removed: None,
        eras: &[
            Era {
                since: V0,
                default: Default::MemoryDependent(
                    "4 x nf_conntrack_buckets before 5.15 (262144 on a 64-bit machine with more than 4 GiB)",
                ),
                kind: ANY_INT,
                unverified: false,
            },
            // d532bcd0b269 "sanitize table size default settings", a 5.15-rc fix.
            Era {
                since: KernelVersion::new(5, 15),
                default: Default::MemoryDependent(
                    "equal to nf_conntrack_buckets (262144 on a 64-bit machine with more than 4 GiB)",
                ),
                kind: ANY_INT,
                unverified: false,
            },
        ],
        judged: true,
    },
    KeySpec {
        key: "net.netfilter.nf_conntrack_buckets",
        since: None,
        removed: None,
        eras: &[
            Era {
                since: V0,
                default: Default::MemoryDependent(
                    "RAM / 16384 / 8, 65536 with more than 4 GiB, 16384 with more than 1 GiB",
                ),
                kind: ANY_INT,
                unverified: false,
            },
            Era {
                since: KernelVersion::new(5, 15),
                default: Default::MemoryDependent(
                    "RAM / 16384 / 8, between 1024 and 262144 (262144 on a 64-bit machine with more than 4 GiB)",
                ),
                kind: ANY_INT,
                unverified: false,
            },
        ],
        judged: true,
    },
    KeySpec {
        key: "net.netfilter.nf_conntrack_tcp_timeout_time_wait",
        since: None,
        removed: None,
        eras: &[Era {
            since: V0,
            default: Default::Value("120"),
            kind: JIFFIES,
            unverified: false,
        }],
        judged: true,
    },
    KeySpec {
        key: "net.netfilter.nf_conntrack_tcp_timeout_established",
        since: None,
        removed: None,
        eras: &[Era {
            since: V0,
            default: Default::Value("432000"),
            kind: JIFFIES,
            unverified: false,
        }],
        judged: true,
    },
    KeySpec {
        key: "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
        since: None,
        removed: None,
        eras: &[Era {
            since: V0,
            default: Default::Value("60"),
            kind: JIFFIES,
            unverified: false,
        }],
        judged: true,
    },
    KeySpec {
        key: "net.ipv4.ip_unprivileged_port_start",
        since: Some(KernelVersion::new(4, 11)),
        removed: None,
        eras: &[Era {
            since: KernelVersion::new(4, 11),
            default: Default::Value("1024"),
            kind: ValueKind::Int { min: 0, max: 65535 },
            unverified: false,
        }],
        judged: false,
    },
];

/// When each in-scope key became per network namespace (KERNEL-FACTS 1.9). Before it the key was
/// global, and a host's value reached every namespace; from it a new namespace starts from the
/// kernel's default. `None`: per namespace on every kernel twlint judges.
const PER_NAMESPACE_SINCE: &[(&str, Option<KernelVersion>)] = &[
    // 122ff243f5f1, 3.16.
    (
        "net.ipv4.ip_local_reserved_ports",
        Some(KernelVersion::new(3, 16)),
    ),
    // 1e579caa18b9, 4.6.
    ("net.ipv4.tcp_fin_timeout", Some(KernelVersion::new(4, 6))),
    // "ipv4: Namespaceify tcp_tw_reuse knob" and "... tcp_tw_recycle and tcp_max_tw_buckets
    // knob" (Haishuang Yan, net-next early 2017): 4.11 by the merge calendar, UNVERIFIED; missing
    // in a 4.2 container (moby#38519), present on 4.15.
    ("net.ipv4.tcp_tw_reuse", Some(KernelVersion::new(4, 11))),
    ("net.ipv4.tcp_tw_recycle", Some(KernelVersion::new(4, 11))),
    (
        "net.ipv4.tcp_max_tw_buckets",
        Some(KernelVersion::new(4, 11)),
    ),
    // Release UNVERIFIED; per namespace on 6.18 (measured). 4.15 namespaced the remaining TCP
    // knobs in one series, which twlint takes as the bound.
    ("net.ipv4.tcp_timestamps", Some(KernelVersion::new(4, 15))),
    (
        "net.ipv4.ip_local_port_range",
        Some(KernelVersion::new(4, 15)),
    ),
    // Per namespace from birth (4.11, about 6.14).
    ("net.ipv4.ip_unprivileged_port_start", None),
    ("net.ipv4.tcp_tw_reuse_delay", None),
];

/// Whether `key` is per network namespace on `kernel`: a namespace of its own then starts it at
/// the kernel's default, whatever the host's files say. Keys outside the table (`nf_conntrack_max`,
/// `tcp_max_orphans`) are global.
pub fn per_namespace(key: &str, kernel: KernelVersion) -> bool {
    PER_NAMESPACE_SINCE
        .iter()
        .find(|(k, _)| *k == key)
        .is_some_and(|(_, since)| since.is_none_or(|s| kernel >= s))
}

/// A kernel behaviour that changed across releases, kept as data like [`KEYS`]: what it is from
/// each release on, and where each fact comes from. Rules see the value for a node's kernel
/// through the fact model (`node.ts_tick_ms`, `node.ts_offsets`, `node.tw_reuse`).
#[derive(Debug, Clone, Copy)]
pub struct Behaviour {
    pub name: &'static str,
    /// What the values mean.
    pub doc: &'static str,
    /// Oldest first; the last era whose `since` is not after the kernel applies. A stable series
    /// whose patch releases changed the behaviour has an era of its own (`since` its x.y.0).
    pub eras: &'static [BehaviourEra],
}

#[derive(Debug, Clone, Copy)]
pub struct BehaviourEra {
    pub since: KernelVersion,
    pub value: &'static str,
    /// The commit, source tree or measurement behind it.
    pub source: &'static str,
    /// The release boundary is not confirmed by a primary source (UNVERIFIED).
    pub unverified: bool,
}

/// Behaviours by kernel version. Sources: KERNEL-FACTS 1.3 and 1.4, kernel trees read through the
/// search tool, and measurements on 6.18 ([LOCAL]).
pub static BEHAVIOURS: &[Behaviour] = &[
    Behaviour {
        name: "tw_reuse_values",
        doc:
            "what a value of tcp_tw_reuse does: `nonzero-all` (every non-zero value enables reuse \
              for all destinations) or `0-1-2` (1 all destinations, 2 loopback only)",
        eras: &[
            BehaviourEra {
                since: V0,
                value: "nonzero-all",
                source:
                    "tcp_twsk_unique() tests `sysctl_tcp_tw_reuse` for non-zero; the sysctl is \
                         proc_dointvec without bounds (4.14 tree)",
                unverified: false,
            },
            BehaviourEra {
                since: KernelVersion::new(4, 19),
                value: "0-1-2",
                source: "79e9fed46038 net-tcp: extend tcp_tw_reuse sysctl to enable loopback only \
                         optimization (2018-06-04; in a 4.19 tree, 4.18 not read)",
                unverified: true,
            },
        ],
    },
    Behaviour {
        name: "ts_tick_ms",
        doc: "the longest tick of the host's TCP timestamp clock, in ms: how long a peer may \
              have to wait before this host's TSval moves",
        eras: &[
            BehaviourEra {
                since: V0,
                value: "10",
                source: "tcp_time_stamp was jiffies (include/net/tcp.h): one tick per 1/HZ, at \
                         most 10 ms for HZ >= 100",
                unverified: false,
            },
            BehaviourEra {
                since: KernelVersion::new(4, 13),
                value: "1",
                source:
                    "9a568de4818d tcp: switch TCP TS option (RFC 7323) to 1ms clock (net-next, \
                         May 2017, so 4.13 by the merge calendar)",
                unverified: true,
            },
        ],
    },
    Behaviour {
        name: "ts_offsets",
        doc: "what the random offset of outgoing timestamps (tcp_timestamps = 1) is keyed on: \
              `none`, `connection` (the 4-tuple), `host-pair` (source and destination address) \
              or `unknown` (a stable series whose patch releases changed it)",
        eras: &[
            BehaviourEra {
                since: V0,
                value: "none",
                source: "no offsets before 95a22caee396",
                unverified: false,
            },
            BehaviourEra {
                since: KernelVersion::new(4, 10),
                value: "connection",
                source: "95a22caee396 tcp: randomize tcp timestamp offsets for each connection; \
                         tcp(7): since Linux 4.10",
                unverified: false,
            },
            BehaviourEra {
                since: KernelVersion::new(4, 11),
                value: "host-pair",
                source: "28ee1b746f49 secure_seq: downgrade to per-host timestamp offsets \
                         (siphash of saddr, daddr); release believed 4.11",
                unverified: true,
            },
            BehaviourEra {
                since: KernelVersion::new(6, 12),
                value: "unknown",
                source: "165573e41f2f tcp: secure_seq: add back ports to TS offset, queued for \
                         6.12.y stable in 2026-03: per host pair before that patch release, per \
                         connection after",
                unverified: true,
            },
            BehaviourEra {
                since: KernelVersion::new(6, 13),
                value: "host-pair",
                source: "28ee1b746f49; series 6.13 to 6.17 ended before 165573e41f2f",
                unverified: true,
            },
            BehaviourEra {
                since: KernelVersion::new(6, 18),
                value: "unknown",
                source: "165573e41f2f queued for 6.19.y and 6.12.y stable (2026-03); the 6.18 \
                         long-term series between them is not confirmed either way",
                unverified: true,
            },
            BehaviourEra {
                since: KernelVersion::new(7, 0),
                value: "connection",
                source: "165573e41f2f merged in mainline in 2026 (the release after 6.19)",
                unverified: true,
            },
        ],
    },
];

/// The era of a behaviour that applies to a kernel.
///
/// # Panics
/// When `name` is not in [`BEHAVIOURS`]: the names are fixed in this file.
pub fn behaviour(name: &str, kernel: KernelVersion) -> &'static BehaviourEra {
    let b = BEHAVIOURS
        .iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("no kernel behaviour named {name}"));
    b.eras
        .iter()
        .rev()
        .find(|e| kernel >= e.since)
        .unwrap_or(&b.eras[0])
}

/// What `tcp_tw_reuse = value` does on a kernel: 0 off, 1 every destination, 2 loopback only.
/// Before the 0..2 range check any non-zero value meant every destination.
pub fn tw_reuse_mode(kernel: KernelVersion, value: i64) -> i64 {
    match (behaviour("tw_reuse_values", kernel).value, value) {
        (_, 0) => 0,
        ("nonzero-all", _) => 1,
        (_, v) => v,
    }
}

/// The spec of an in-scope key.
pub fn spec(key: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|s| s.key == key)
}

impl KeySpec {
    /// Whether a kernel has this key.
    pub fn exists_on(&self, kernel: KernelVersion) -> bool {
        self.since.is_none_or(|s| kernel >= s) && self.removed.is_none_or(|r| kernel < r)
    }

    /// The era that applies to a kernel (the first one if the kernel predates them all).
    pub fn era(&self, kernel: KernelVersion) -> &'static Era {
        self.eras
            .iter()
            .rev()
            .find(|e| kernel >= e.since)
            .unwrap_or(&self.eras[0])
    }
}

/// Why the kernel would refuse a value (the write fails with EINVAL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: String,
}

/// Parses one decimal integer the way `proc_dointvec` does: optional sign, digits, and the token
/// must end at a blank or the end of the text.
///
/// The kernel reads the number with base 0 (`strtoul_lenient(.., 0, ..)`), so `0x1f` is hex and
/// a leading `0` makes it octal: `010` is 8 and `08` is refused. Found by tests/differential.rs.
fn parse_int_token(tok: &str) -> Option<i64> {
    let (neg, digits) = match tok.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, tok),
    };
    let (radix, digits) = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, hex)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) || digits.len() > 15 {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

fn ints(value: &str, n: usize) -> Result<Vec<i64>, Rejection> {
    // The kernel reads up to `n` integers separated by blanks and ignores what follows once the
    // vector is full (`2 # on` is accepted, `40000 # 50001` is not).
    let mut out = Vec::with_capacity(n);
    for tok in value.split_ascii_whitespace().take(n) {
        match parse_int_token(tok) {
            Some(v) => out.push(v),
            None => {
                return Err(Rejection {
                    reason: format!("`{tok}` is not an integer"),
                })
            }
        }
    }
    if out.is_empty() {
        return Err(Rejection {
            reason: "the value is empty".into(),
        });
    }
    Ok(out)
}

/// Parses `8080,9000-9010` into inclusive ranges, as the kernel's bitmap list parser does.
pub fn parse_port_list(value: &str) -> Result<Vec<(u32, u32)>, Rejection> {
    let value = value.trim();
    // bitmap_parselist accepts one trailing comma (`80,`), not a leading one.
    let value = value
        .strip_suffix(',')
        .filter(|v| !v.is_empty())
        .unwrap_or(value);
    let mut out = Vec::new();
    if value.is_empty() {
        return Ok(out);
    }
    for part in value.split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a, b),
            None => (part, part),
        };
        let parse = |s: &str| -> Result<u32, Rejection> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 5 {
                return Err(Rejection {
                    reason: format!("`{part}` is not a port or a port range (write 8080 or 9000-9010, no spaces)"),
                });
            }
            let v: u32 = s.parse().unwrap_or(u32::MAX);
            if v > 65535 {
                return Err(Rejection {
                    reason: format!("port {v} is above 65535"),
                });
            }
            Ok(v)
        };
        let (lo, hi) = (parse(a)?, parse(b)?);
        if hi < lo {
            return Err(Rejection {
                reason: format!("range `{part}` is reversed"),
            });
        }
        out.push((lo, hi));
    }
    Ok(out)
}

/// Context a value check needs besides the value: the kernel and the companion values it is
/// checked against (the port range must start at or above `ip_unprivileged_port_start`).
#[derive(Debug, Clone, Copy)]
pub struct CheckContext {
    pub kernel: KernelVersion,
    pub unprivileged_port_start: i64,
    /// The current port range, for a one-number write that changes only the low bound.
    pub current_high: i64,
    /// The current start of the port range: ip_unprivileged_port_start may not exceed it.
    pub current_low: i64,
}

/// Checks a value as the kernel would and returns it as the kernel would print it (fields
/// separated by one space).
pub fn check_value(spec: &KeySpec, value: &str, ctx: &CheckContext) -> Result<String, Rejection> {
    let era = spec.era(ctx.kernel);
    match era.kind {
        ValueKind::Int { min, max } => {
            let v = ints(value, 1)?[0];
            if v < min || v > max {
                return Err(Rejection {
                    reason: format!(
                        "{v} is outside the accepted range {min}..{max} on kernel {}",
                        ctx.kernel
                    ),
                });
            }
            // ipv4_privileged_ports: the unprivileged start may not pass the ephemeral range's
            // start (tests/differential.rs).
            if spec.key == "net.ipv4.ip_unprivileged_port_start" && v > ctx.current_low {
                return Err(Rejection {
                    reason: format!(
                        "{v} is above the start of ip_local_port_range ({})",
                        ctx.current_low
                    ),
                });
            }
            Ok(v.to_string())
        }
        ValueKind::PortRange => {
            if value.contains(',') {
                return Err(Rejection {
                    reason: "the two ports are separated by a comma; the kernel wants blanks"
                        .into(),
                });
            }
            let v = ints(value, 2)?;
            let low = v[0];
            let high = v.get(1).copied().unwrap_or(ctx.current_high);
            for p in [low, high] {
                if !(1..=65535).contains(&p) {
                    return Err(Rejection {
                        reason: format!("port {p} is outside 1..65535"),
                    });
                }
            }
            if high < low {
                return Err(Rejection {
                    reason: format!("the range is reversed ({low} > {high})"),
                });
            }
            if ctx.kernel >= KernelVersion::new(4, 11) && low < ctx.unprivileged_port_start {
                return Err(Rejection {
                    reason: format!(
                        "the range starts at {low}, below ip_unprivileged_port_start ({})",
                        ctx.unprivileged_port_start
                    ),
                });
            }
            Ok(format!("{low} {high}"))
        }
        ValueKind::PortList => {
            // The kernel keeps a bitmap and prints it back sorted, with adjacent ports merged
            // into ranges (`1000,1001` reads back as `1000-1001`).
            let mut ranges = parse_port_list(value)?;
            ranges.sort_unstable();
            let mut merged: Vec<(u32, u32)> = Vec::new();
            for (a, b) in ranges {
                match merged.last_mut() {
                    Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            Ok(merged
                .iter()
                .map(|&(a, b)| {
                    if a == b {
                        a.to_string()
                    } else {
                        format!("{a}-{b}")
                    }
                })
                .collect::<Vec<_>>()
                .join(","))
        }
    }
}

#[cfg(test)]
mod value_tests {
    use super::*;

    fn ctx(k: KernelVersion) -> CheckContext {
        CheckContext {
            kernel: k,
            unprivileged_port_start: 1024,
            current_high: 60999,
            current_low: 32768,
        }
    }

    fn check(key: &str, v: &str) -> Result<String, Rejection> {
        check_value(spec(key).unwrap(), v, &ctx(KernelVersion::new(6, 8)))
    }

    #[test]
    fn accepted_values_match_the_kernel() {
        // KERNEL-FACTS 1.14, checked on 6.18.
        assert_eq!(check("net.ipv4.tcp_tw_reuse", "2 # on").unwrap(), "2");
        assert!(check("net.ipv4.tcp_tw_reuse", "3").is_err());
        assert!(check("net.ipv4.tcp_tw_reuse", "-1").is_err());
        assert!(check("net.ipv4.tcp_tw_reuse", "1x").is_err());
        assert_eq!(check("net.ipv4.tcp_timestamps", "255").unwrap(), "255");
        assert!(check("net.ipv4.tcp_timestamps", "256").is_err());
        assert_eq!(check("net.ipv4.tcp_fin_timeout", "-1").unwrap(), "-1");
        assert!(check("net.ipv4.tcp_tw_reuse_delay", "0").is_err());
        assert!(check("net.ipv4.tcp_tw_reuse_delay", "60001").is_err());
        assert_eq!(
            check("net.ipv4.tcp_tw_reuse_delay", "59999").unwrap(),
            "59999"
        );
    }

    /// Each of these disagreed with the kernel in tests/differential.rs before it was fixed.
    #[test]
    fn values_found_by_the_differential_test() {
        // Base 0, as strtoul_lenient reads: hex and octal.
        assert_eq!(check("net.ipv4.tcp_tw_reuse", "0x1").unwrap(), "1");
        assert_eq!(check("net.ipv4.tcp_fin_timeout", "010").unwrap(), "8");
        assert!(check("net.ipv4.tcp_fin_timeout", "08").is_err());
        assert!(check("net.ipv4.tcp_fin_timeout", "0x").is_err());
        // Jiffies overflow: refused on every HZ.
        assert!(check("net.ipv4.tcp_fin_timeout", "2147483647").is_err());
        assert!(check("net.ipv4.tcp_fin_timeout", "-2147483648").is_err());
        assert_eq!(
            check("net.ipv4.tcp_fin_timeout", "2000000").unwrap(),
            "2000000"
        );
        // No lower bound on tcp_max_tw_buckets.
        assert_eq!(check("net.ipv4.tcp_max_tw_buckets", "-2").unwrap(), "-2");
        // One trailing comma is fine; ports read back sorted and merged.
        assert_eq!(
            check("net.ipv4.ip_local_reserved_ports", "80,").unwrap(),
            "80"
        );
        assert!(check("net.ipv4.ip_local_reserved_ports", ",80").is_err());
        assert_eq!(
            check(
                "net.ipv4.ip_local_reserved_ports",
                "9000-9010,8080,8081,9005"
            )
            .unwrap(),
            "8080-8081,9000-9010"
        );
        // The unprivileged start may not pass the ephemeral range's start (32768 here).
        assert!(check("net.ipv4.ip_unprivileged_port_start", "65535").is_err());
        assert_eq!(
            check("net.ipv4.ip_unprivileged_port_start", "32768").unwrap(),
            "32768"
        );
    }

    #[test]
    fn port_range_rules() {
        assert_eq!(
            check("net.ipv4.ip_local_port_range", "1024\t65535").unwrap(),
            "1024 65535"
        );
        assert_eq!(
            check("net.ipv4.ip_local_port_range", "30000").unwrap(),
            "30000 60999"
        );
        assert_eq!(
            check("net.ipv4.ip_local_port_range", "1024 65535 # c").unwrap(),
            "1024 65535"
        );
        assert!(check("net.ipv4.ip_local_port_range", "40000 # 50001").is_err());
        assert!(check("net.ipv4.ip_local_port_range", "1024 1023").is_err());
        assert!(check("net.ipv4.ip_local_port_range", "1000 65535").is_err());
        assert!(check("net.ipv4.ip_local_port_range", "40000,40001").is_err());
        assert!(check("net.ipv4.ip_local_port_range", "\"1024 65535\"").is_err());
        assert!(check("net.ipv4.ip_local_port_range", "0 100").is_err());
        assert!(check("net.ipv4.ip_local_port_range", "1024 65536").is_err());
    }

    #[test]
    fn reserved_ports_list() {
        assert_eq!(
            check("net.ipv4.ip_local_reserved_ports", "8080,9000-9010").unwrap(),
            "8080,9000-9010"
        );
        assert_eq!(check("net.ipv4.ip_local_reserved_ports", "").unwrap(), "");
        assert!(check("net.ipv4.ip_local_reserved_ports", "9000-8000").is_err());
        assert!(check("net.ipv4.ip_local_reserved_ports", "8080 9000").is_err());
    }

    #[test]
    fn tw_reuse_accepted_values_by_version() {
        let reuse = spec("net.ipv4.tcp_tw_reuse").unwrap();
        let on = |k: KernelVersion, v: &str| check_value(reuse, v, &ctx(k));
        // 4.14: proc_dointvec, any integer; every non-zero value is reuse for all destinations.
        assert_eq!(on(KernelVersion::new(4, 14), "3").unwrap(), "3");
        assert_eq!(on(KernelVersion::new(4, 14), "-1").unwrap(), "-1");
        assert_eq!(tw_reuse_mode(KernelVersion::new(4, 14), 3), 1);
        assert_eq!(tw_reuse_mode(KernelVersion::new(4, 14), 2), 1);
        assert_eq!(tw_reuse_mode(KernelVersion::new(4, 14), 0), 0);
        // 4.19: the 0..2 range check and the loopback-only value came together.
        assert!(on(KernelVersion::new(4, 19), "3").is_err());
        assert_eq!(tw_reuse_mode(KernelVersion::new(4, 19), 2), 2);
        assert_eq!(tw_reuse_mode(KernelVersion::new(6, 8), 1), 1);
    }

    #[test]
    fn timestamp_clock_and_offsets_by_version() {
        let tick = |k| behaviour("ts_tick_ms", k).value;
        assert_eq!(tick(KernelVersion::new(4, 9)), "10");
        assert_eq!(tick(KernelVersion::new(4, 13)), "1");
        let offsets = |k| behaviour("ts_offsets", k).value;
        assert_eq!(offsets(KernelVersion::new(4, 9)), "none");
        assert_eq!(offsets(KernelVersion::new(4, 10)), "connection");
        assert_eq!(offsets(KernelVersion::new(4, 14)), "host-pair");
        assert_eq!(offsets(KernelVersion::new(5, 15)), "host-pair");
        assert_eq!(offsets(KernelVersion::parse("6.12.40").unwrap()), "unknown");
        assert_eq!(offsets(KernelVersion::new(6, 14)), "host-pair");
        assert_eq!(offsets(KernelVersion::new(7, 0)), "connection");
        // Every era says where it comes from.
        assert!(BEHAVIOURS
            .iter()
            .flat_map(|b| b.eras)
            .all(|e| !e.source.is_empty()));
    }

    #[test]
    fn timestamps_accept_any_int_before_the_u8_conversion() {
        let ts = spec("net.ipv4.tcp_timestamps").unwrap();
        let k = KernelVersion::new(4, 19);
        assert_eq!(check_value(ts, "256", &ctx(k)).unwrap(), "256");
        assert!(check_value(ts, "256", &ctx(KernelVersion::new(6, 8))).is_err());
    }

    #[test]
    fn keys_by_version() {
        let recycle = spec("net.ipv4.tcp_tw_recycle").unwrap();
        assert!(recycle.exists_on(KernelVersion::new(4, 11)));
        assert!(!recycle.exists_on(KernelVersion::new(4, 12)));
        let reuse = spec("net.ipv4.tcp_tw_reuse").unwrap();
        assert_eq!(
            reuse.era(KernelVersion::new(4, 9)).default,
            Default::Value("0")
        );
        assert_eq!(
            reuse.era(KernelVersion::new(5, 15)).default,
            Default::Value("2")
        );
        assert!(!spec("net.ipv4.tcp_tw_reuse_delay")
            .unwrap()
            .exists_on(KernelVersion::new(6, 8)));
    }
}
