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
            Era {
                since: V0,
                default: Default::Value("0"),
                kind: ValueKind::Int { min: 0, max: 1 },
                unverified: false,
            },
            // 79e9fed46038 added 2 (loopback only) and made it the default; June 2018 net-next,
            // so 4.19 by the merge calendar, not confirmed from a release (KERNEL-FACTS 5.1).
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
        eras: &[Era {
            since: V0,
            default: Default::Value("1"),
            kind: ValueKind::Int { min: 0, max: 255 },
            unverified: false,
        }],
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
