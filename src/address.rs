//! IP address kinds as the kernel's routing treats them, for the topology model: which family and
//! scope an address has, how a node's address list splits into its hosts' addresses, and which
//! source address `connect()` takes towards a destination.
//!
//! Without `bind()`, `connect()` takes its source address from the route to the destination: the
//! route's preferred source, else the primary address of the outgoing interface (KERNEL-FACTS-2
//! section 5). A topology does not describe routes, so twlint reasons from what it does know: a
//! source has the destination's family; a loopback source only reaches loopback destinations (or
//! the host's own addresses, when the node has no other address); and, where a node has several
//! addresses, the one of the destination's scope faces it (private towards private, public towards
//! public). Where that is an assumption, the choice says so, and the report shows it.

use std::net::IpAddr;

/// How far an address reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// 127.0.0.0/8, ::1 (and their v4-mapped forms).
    Loopback,
    /// RFC 1918, shared address space (100.64/10), link-local, IPv6 unique-local and link-local.
    Private,
    /// Everything else (documentation prefixes count as public: they stand for public addresses).
    Public,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Loopback => "loopback",
            Scope::Private => "private",
            Scope::Public => "public",
        }
    }
}

/// An address's family and scope: addresses of one kind are interchangeable for routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Kind {
    pub v6: bool,
    pub scope: Scope,
}

impl Kind {
    pub fn describe(self) -> String {
        format!(
            "{} {}",
            self.scope.as_str(),
            if self.v6 { "IPv6" } else { "IPv4" }
        )
    }
}

/// The kind of an address literal; `None` when it is not one.
pub fn kind(addr: &str) -> Option<Kind> {
    let ip = addr.parse::<IpAddr>().ok()?.to_canonical();
    let scope = if ip.is_loopback() {
        Scope::Loopback
    } else {
        match ip {
            IpAddr::V4(a) => {
                let o = a.octets();
                let shared = o[0] == 100 && (64..128).contains(&o[1]);
                if a.is_private() || a.is_link_local() || shared {
                    Scope::Private
                } else {
                    Scope::Public
                }
            }
            IpAddr::V6(a) => {
                let first = a.segments()[0];
                // fc00::/7 unique-local, fe80::/10 link-local.
                if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfe80 {
                    Scope::Private
                } else {
                    Scope::Public
                }
            }
        }
    };
    Some(Kind {
        v6: ip.is_ipv6(),
        scope,
    })
}

pub fn is_loopback(addr: &str) -> bool {
    kind(addr).is_some_and(|k| k.scope == Scope::Loopback)
}

/// A node's address list split into its hosts' addresses.
#[derive(Debug, Clone, PartialEq)]
pub struct Hosts {
    /// Each host's addresses, in the order written (indexes into the node's list): one entry
    /// per host, except that hosts beyond the longest kind's count, which repeat the first
    /// ones' addresses, are not listed.
    pub hosts: Vec<Vec<usize>>,
    /// What twlint assumed to get there, when the list alone does not say (addresses of several
    /// kinds, or a count that does not match `replicas`).
    pub assumed: Option<String>,
}

/// Splits a node's `addresses` into hosts. Addresses are grouped by kind (family and scope);
/// every host has one address of each non-loopback kind (host `i` the `i`-th, wrapping round when
/// a kind has fewer) and every loopback address (each host has its own loopback). Without
/// `replicas`, the number of hosts is the largest number of addresses of one non-loopback kind:
/// format 1's "one host per address" for a list of one kind, and for a list of several kinds
/// (a public and a private address) the reading the kernel supports, since a host with both
/// uses one of them per destination.
pub fn split_hosts(addresses: &[&str], replicas: Option<u32>) -> Hosts {
    let mut kinds: Vec<(Kind, Vec<usize>)> = Vec::new();
    for (i, a) in addresses.iter().enumerate() {
        let Some(k) = kind(a) else { continue };
        match kinds.iter_mut().find(|(kk, _)| *kk == k) {
            Some((_, v)) => v.push(i),
            None => kinds.push((k, vec![i])),
        }
    }
    let loopback: Vec<usize> = kinds
        .iter()
        .filter(|(k, _)| k.scope == Scope::Loopback)
        .flat_map(|(_, v)| v.iter().copied())
        .collect();
    let routed: Vec<&(Kind, Vec<usize>)> = kinds
        .iter()
        .filter(|(k, _)| k.scope != Scope::Loopback)
        .collect();
    let widest = routed.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    let n = replicas.map(|r| r.max(1) as usize).unwrap_or(widest.max(1));
    // Host i has the (i mod len)-th address of each kind, so the first `widest` hosts already
    // hold every combination that matters; more are not built (`replicas` may be large).
    let built = n.min(widest.max(1));
    let hosts: Vec<Vec<usize>> = (0..built)
        .map(|h| {
            let mut mine: Vec<usize> = routed
                .iter()
                .map(|(_, v)| v[h % v.len()])
                .chain(loopback.iter().copied())
                .collect();
            mine.sort_unstable();
            mine
        })
        .collect();
    let mixed = routed.len() > 1 || (!routed.is_empty() && !loopback.is_empty());
    let uneven = routed.iter().any(|(_, v)| v.len() != 1 && v.len() != n);
    let assumed = if mixed || uneven {
        let kinds_said: Vec<String> = kinds
            .iter()
            .map(|(k, v)| format!("{} {}", v.len(), k.describe()))
            .collect();
        let per_host: Vec<String> = routed
            .iter()
            .map(|(k, v)| {
                if v.len() == 1 && n > 1 {
                    format!("the {} address shared by all", k.describe())
                } else {
                    format!("one {} address", k.describe())
                }
            })
            .chain((!loopback.is_empty()).then(|| "its own loopback".to_string()))
            .collect();
        Some(format!(
            "{} address{} ({}): twlint assumes {}{}",
            addresses.len(),
            if addresses.len() == 1 { "" } else { "es" },
            kinds_said.join(", "),
            if n == 1 {
                "1 host with ".to_string()
            } else {
                format!("{n} hosts, each with ")
            },
            per_host.join(" and ")
        ))
    } else {
        None
    };
    Hosts { hosts, assumed }
}

/// The source address `connect()` takes on one host towards a destination of kind `dest`, from
/// the host's addresses, and what was assumed to get it (`None` when the kernel's rule decides
/// alone: one address of the destination's kind, or loopback towards loopback).
pub fn source_for<'a>(host: &[&'a str], dest: Kind) -> (Option<&'a str>, Option<String>) {
    let of = |pred: &dyn Fn(Kind) -> bool| -> Vec<&'a str> {
        host.iter()
            .copied()
            .filter(|a| kind(a).is_some_and(pred))
            .collect()
    };
    let same = of(&|k| k == dest);
    if let Some(&first) = same.first() {
        // The kernel takes the primary address of the outgoing interface; with several of one
        // kind, twlint cannot see which is primary, and the first written stands for it.
        let note = (same.len() > 1).then(|| {
            format!(
                "{} {} addresses; the first stands for the interface's primary address",
                same.len(),
                dest.describe()
            )
        });
        return (Some(first), note);
    }
    if dest.scope == Scope::Loopback {
        // A loopback destination is reached from a loopback source only.
        return (None, None);
    }
    let routed = of(&|k| k.v6 == dest.v6 && k.scope != Scope::Loopback);
    if let Some(&first) = routed.first() {
        return (
            Some(first),
            Some(format!(
                "no {} address; assumed the route to it leaves from {first}",
                dest.describe()
            )),
        );
    }
    let lo = of(&|k| k.v6 == dest.v6);
    if let Some(&first) = lo.first() {
        return (
            Some(first),
            Some(format!(
                "only loopback addresses; assumed the {} destination is an address of the same host, reached from {first}",
                dest.describe()
            )),
        );
    }
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_follow_the_special_purpose_registries() {
        let s = |a: &str| kind(a).unwrap().scope;
        assert_eq!(s("127.0.0.5"), Scope::Loopback);
        assert_eq!(s("::ffff:127.0.0.1"), Scope::Loopback);
        assert_eq!(s("::1"), Scope::Loopback);
        assert_eq!(s("10.1.2.3"), Scope::Private);
        assert_eq!(s("172.31.0.1"), Scope::Private);
        assert_eq!(s("100.64.0.1"), Scope::Private);
        assert_eq!(s("fd00::5"), Scope::Private);
        assert_eq!(s("203.0.113.10"), Scope::Public);
        assert_eq!(s("2001:db8::1"), Scope::Public);
        assert!(kind("203.0.113.10").unwrap() != kind("2001:db8::1").unwrap());
    }

    #[test]
    fn one_kind_means_one_host_per_address() {
        let h = split_hosts(&["10.0.0.1", "10.0.0.2"], None);
        assert_eq!(h.hosts, vec![vec![0], vec![1]]);
        assert!(h.assumed.is_none());
        assert_eq!(split_hosts(&[], None).hosts, vec![Vec::<usize>::new()]);
        // Hosts that would repeat the first ones' addresses are not built, however many.
        assert_eq!(split_hosts(&[], Some(3)).hosts.len(), 1);
        assert_eq!(split_hosts(&["10.0.0.1"], Some(u32::MAX)).hosts.len(), 1);
    }

    #[test]
    fn mixed_kinds_are_one_host_with_both_and_say_so() {
        let h = split_hosts(&["203.0.113.10", "10.0.0.10"], None);
        assert_eq!(h.hosts, vec![vec![0, 1]]);
        assert!(h.assumed.unwrap().contains("1 host with one public IPv4"));
        let h = split_hosts(&["127.0.0.1", "10.0.0.5"], None);
        assert_eq!(h.hosts, vec![vec![0, 1]]);
        let h = split_hosts(&["10.0.0.1", "10.0.0.2", "203.0.113.1"], None);
        assert_eq!(h.hosts, vec![vec![0, 2], vec![1, 2]]);
        assert!(h.assumed.unwrap().contains("shared by all"));
        // replicas decide the count; a list of one kind matching it needs no assumption.
        let h = split_hosts(&["10.0.0.1", "10.0.0.2", "10.0.0.3"], Some(3));
        assert!(h.assumed.is_none() && h.hosts.len() == 3);
        assert!(split_hosts(&["10.0.0.1", "10.0.0.2"], Some(3))
            .assumed
            .is_some());
    }

    #[test]
    fn source_follows_family_and_scope() {
        let k = |a: &str| kind(a).unwrap();
        let lb = ["203.0.113.10", "10.0.0.10", "127.0.0.1"];
        assert_eq!(source_for(&lb, k("10.0.0.50")), (Some("10.0.0.10"), None));
        assert_eq!(
            source_for(&lb, k("198.51.100.9")),
            (Some("203.0.113.10"), None)
        );
        assert_eq!(source_for(&lb, k("127.0.0.5")), (Some("127.0.0.1"), None));
        // No IPv6 at all: no source.
        assert_eq!(source_for(&lb, k("fd00::1")).0, None);
        // Only a private address towards a public one: the route decides; assumed.
        let (s, note) = source_for(&["10.0.0.10"], k("198.51.100.9"));
        assert_eq!(s, Some("10.0.0.10"));
        assert!(note.is_some());
        // A loopback-only node towards a routed address: the same host's address.
        let (s, note) = source_for(&["127.0.0.1"], k("10.9.0.1"));
        assert_eq!(s, Some("127.0.0.1"));
        assert!(note.unwrap().contains("same host"));
        // A routed-only node never reaches a loopback destination.
        assert_eq!(source_for(&["10.0.0.10"], k("127.0.0.1")), (None, None));
    }
}
