//! Which node of the topology this host is: `--node`, else the hostname, else the addresses.
//!
//! The hostname is compared with node names whole and by its first label (`lb` matches
//! `lb.example.com`), case-insensitively; addresses are compared with the nodes' `addresses`.
//! The hostname is asked first because it names a machine, where an address may be shared (a
//! VIP, a NAT'd range). Several nodes matching at the same step is an error that lists them:
//! guessing would judge the wrong values for the wrong role.

use super::Identity;
use crate::diag::did_you_mean;
use std::net::IpAddr;

/// A node of the topology as identification sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub name: String,
    /// A host twlint can read: a TCP endpoint or a Linux middlebox with conntrack; a nat node
    /// without conntrack (a managed gateway) is named in messages but never matched.
    pub endpoint: bool,
    pub addresses: Vec<String>,
}

/// How the node was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchedBy {
    Flag,
    Hostname(String),
    Address(IpAddr),
}

impl MatchedBy {
    pub fn describe(&self) -> String {
        match self {
            MatchedBy::Flag => "named by --node".into(),
            MatchedBy::Hostname(h) => format!("matched by hostname `{h}`"),
            MatchedBy::Address(a) => format!("matched by address {a}"),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            MatchedBy::Flag => "flag",
            MatchedBy::Hostname(_) => "hostname",
            MatchedBy::Address(_) => "address",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub node: String,
    pub by: MatchedBy,
}

/// Finds the node this host is. `Ok(None)`: no node matches. `Err`: `forced` names no node,
/// or several nodes match; the message lists them.
pub fn identify(
    nodes: &[Candidate],
    id: &Identity,
    forced: Option<&str>,
) -> Result<Option<Match>, String> {
    if let Some(name) = forced {
        if nodes.iter().any(|n| n.name == name) {
            return Ok(Some(Match {
                node: name.to_string(),
                by: MatchedBy::Flag,
            }));
        }
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        let hint = did_you_mean(name, names.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_else(|| format!("; its nodes are: {}", names.join(", ")));
        return Err(format!(
            "--node `{name}` is not a node of the topology{hint}"
        ));
    }
    if let Some(host) = id.hostname.as_deref().filter(|h| !h.is_empty()) {
        let short = host.split('.').next().unwrap_or(host);
        let hits: Vec<&Candidate> = nodes
            .iter()
            .filter(|n| n.endpoint)
            .filter(|n| n.name.eq_ignore_ascii_case(host) || n.name.eq_ignore_ascii_case(short))
            .collect();
        match hits.as_slice() {
            [one] => {
                return Ok(Some(Match {
                    node: one.name.clone(),
                    by: MatchedBy::Hostname(host.to_string()),
                }))
            }
            [] => {}
            many => {
                return Err(format!(
                    "hostname `{host}` matches several nodes: {}; give --node NAME",
                    many.iter()
                        .map(|n| n.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
    }
    let mut hits: Vec<(&Candidate, IpAddr)> = Vec::new();
    for n in nodes.iter().filter(|n| n.endpoint) {
        let found = n.addresses.iter().find_map(|a| {
            a.parse::<IpAddr>()
                .ok()
                .filter(|ip| id.addresses.contains(ip))
        });
        if let Some(ip) = found {
            hits.push((n, ip));
        }
    }
    match hits.as_slice() {
        [] => Ok(None),
        [(n, ip)] => Ok(Some(Match {
            node: n.name.clone(),
            by: MatchedBy::Address(*ip),
        })),
        many => Err(format!(
            "this host's addresses match several nodes: {}; give --node NAME",
            many.iter()
                .map(|(n, ip)| format!("{} ({ip})", n.name))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes() -> Vec<Candidate> {
        let c = |name: &str, addrs: &[&str]| Candidate {
            name: name.into(),
            endpoint: true,
            addresses: addrs.iter().map(|a| a.to_string()).collect(),
        };
        vec![
            c("lb", &["10.0.0.10"]),
            c("web", &["10.0.0.43", "10.0.0.44"]),
            c("db", &["10.0.0.45", "10.0.0.44"]),
        ]
    }

    fn id(host: Option<&str>, addrs: &[&str]) -> Identity {
        Identity {
            hostname: host.map(String::from),
            addresses: addrs.iter().map(|a| a.parse().unwrap()).collect(),
            ..Identity::default()
        }
    }

    #[test]
    fn flag_then_hostname_then_address() {
        let n = nodes();
        let m = identify(&n, &id(Some("db"), &["10.0.0.10"]), Some("web")).unwrap();
        assert_eq!(m.unwrap().by, MatchedBy::Flag);
        let m = identify(&n, &id(Some("LB.example.com"), &["10.0.0.45"]), None)
            .unwrap()
            .unwrap();
        assert_eq!(m.node, "lb");
        assert_eq!(m.by, MatchedBy::Hostname("LB.example.com".into()));
        let m = identify(&n, &id(Some("host-7"), &["10.0.0.43"]), None)
            .unwrap()
            .unwrap();
        assert_eq!((m.node.as_str(), m.by.kind()), ("web", "address"));
        assert_eq!(identify(&n, &id(Some("x"), &["192.0.2.1"]), None), Ok(None));
        assert_eq!(identify(&n, &id(None, &[]), None), Ok(None));
    }

    #[test]
    fn several_matches_are_an_error_that_lists_them() {
        let e = identify(&nodes(), &id(Some("x"), &["10.0.0.44"]), None).unwrap_err();
        assert!(e.contains("web (10.0.0.44), db (10.0.0.44)"), "{e}");
        assert!(e.contains("--node"), "{e}");
    }

    #[test]
    fn an_unknown_node_gets_a_suggestion() {
        let e = identify(&nodes(), &id(None, &[]), Some("wbe")).unwrap_err();
        assert!(e.contains("did you mean `web`?"), "{e}");
    }
}
