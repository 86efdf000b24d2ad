//! What the container formats share: which keys a container or pod can set at all, and how a
//! YAML scalar's text maps back to the file.
//!
//! A pod or a container gets its own network (and IPC) namespace, and its runtime writes its
//! sysctls there, so only keys the kernel keeps per namespace can be set (the kubelet's
//! `NamespacedBy`, Docker's `ValidateSysctl`). [`scope`] says which namespace a key lives in, or
//! why a container cannot set it. [`Located`] turns places inside a scalar's value (a
//! `key=value` list item, a word of a shell script in a block scalar) into spans of the file as
//! written, so findings land on the key or value the user typed.

use super::{conf, Assignment};
use crate::source::{FileId, Span, Spanned};
use crate::yaml::{ScalarStyle, YamlNode};
use std::ops::Range;

/// Where a key lives, as a container runtime sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Per network namespace: a pod or container has its own, starting from the kernel's
    /// defaults.
    Net,
    /// Per IPC namespace (`kernel.shm*`, `kernel.msg*`, `kernel.sem`, `fs.mqueue.*`).
    Ipc,
    /// Under `net.` but kept by the initial network namespace only: a new namespace has no
    /// such file (or a read-only one), so the runtime's write fails and the container does not
    /// start.
    InitNetOnly,
    /// In no namespace: the node's whole kernel. Neither the kubelet nor Docker lets a pod or
    /// container set it.
    Node,
}

/// The `net.` keys a new network namespace does not have, or has read-only.
///
/// - net/ipv4, measured on 6.18 in a fresh `ip netns add` (KERNEL-FACTS §1.9): `tcp_max_orphans`,
///   `tcp_mem`, `udp_mem`, `inet_peer_*`, `cipso_*`, `fib_sync_mem`, `ipfrag_secret_interval`,
///   `tcp_available_ulp`, `tcp_low_latency` are absent.
/// - conntrack (KERNEL-FACTS-2 §1.1): `nf_conntrack_max`, `nf_conntrack_buckets` and
///   `nf_conntrack_expect_max` are read-only in a child namespace (one global table size), and
///   the legacy `net.nf_conntrack_max` is absent.
/// - net/core (KERNEL-FACTS-2 §3.5; kernel `net/core/sysctl_net_core.c`, whose `net_core_table`
///   is registered for the initial namespace only, while `netns_core_table` holds `somaxconn`
///   and the other per-namespace keys): `devconf_inherit_init_net`, the socket buffer limits
///   and the device queue settings.
const INIT_NET_ONLY: [&str; 23] = [
    "net.ipv4.tcp_max_orphans",
    "net.ipv4.tcp_mem",
    "net.ipv4.udp_mem",
    "net.ipv4.inet_peer_",
    "net.ipv4.cipso_",
    "net.ipv4.fib_sync_mem",
    "net.ipv4.ipfrag_secret_interval",
    "net.ipv4.tcp_available_ulp",
    "net.ipv4.tcp_low_latency",
    "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_buckets",
    "net.netfilter.nf_conntrack_expect_max",
    "net.nf_conntrack_max",
    "net.core.devconf_inherit_init_net",
    "net.core.rmem_max",
    "net.core.wmem_max",
    "net.core.rmem_default",
    "net.core.wmem_default",
    "net.core.netdev_max_backlog",
    "net.core.netdev_budget",
    "net.core.dev_weight",
    "net.core.default_qdisc",
    "net.core.busy_poll",
];

/// Where `key` (dotted) lives; see [`Scope`]. The namespaced prefixes are the kubelet's
/// (`pkg/kubelet/sysctl/namespace.go`: `kernel.shm`, `kernel.msg`, `fs.mqueue.`, `net.`, and
/// `kernel.sem` exactly), which Docker's validation shares.
pub fn scope(key: &str) -> Scope {
    if key.starts_with("net.") {
        let exact_or_prefix = |p: &&str| {
            if p.ends_with('_') {
                key.starts_with(*p)
            } else {
                key == *p
            }
        };
        if INIT_NET_ONLY.iter().any(exact_or_prefix) {
            return Scope::InitNetOnly;
        }
        return Scope::Net;
    }
    if key == "kernel.sem"
        || key.starts_with("kernel.shm")
        || key.starts_with("kernel.msg")
        || key.starts_with("fs.mqueue.")
    {
        return Scope::Ipc;
    }
    Scope::Node
}

/// A scalar of a YAML file, able to say where a part of its value was written.
///
/// A plain or quoted scalar without escapes, and every line of a literal block, is its value
/// byte for byte at some place in the file: such places map exactly. Where the value differs
/// from the text (escapes, folded lines), a part maps to the whole scalar, which still names
/// the right line.
pub struct Located<'a> {
    pub value: &'a str,
    whole: Span,
    /// For each line of `value`: its range in `value`, and where it was found in the file.
    lines: Vec<(Range<usize>, Option<usize>)>,
}

impl<'a> Located<'a> {
    /// `node` must be a scalar of the file `text` was registered as; `None` otherwise.
    pub fn new(node: &'a YamlNode, text: &str) -> Option<Located<'a>> {
        let (v, style) = node.as_scalar()?;
        let whole = v.span;
        let raw = text.get(whole.range()).unwrap_or("");
        let value = v.value.as_str();
        let mut lines = Vec::new();
        let inner = match style {
            ScalarStyle::Quoted if raw.len() >= 2 => (whole.from() + 1, &raw[1..raw.len() - 1]),
            _ => (whole.from(), raw),
        };
        if inner.1 == value {
            lines.push((0..value.len(), Some(inner.0)));
        } else {
            // Line by line, each searched after the previous one (a literal block's lines are
            // its text minus the indentation).
            let mut from = 0;
            let mut start = 0;
            for line in value.split('\n') {
                let found = if line.is_empty() {
                    None
                } else {
                    raw[from.min(raw.len())..].find(line).map(|i| from + i)
                };
                if let Some(i) = found {
                    from = i + line.len();
                }
                lines.push((start..start + line.len(), found.map(|i| whole.from() + i)));
                start += line.len() + 1;
            }
        }
        Some(Located {
            value,
            whole,
            lines,
        })
    }

    /// The span of `value[r]` in the file, or the whole scalar's when it cannot be mapped.
    pub fn span(&self, r: Range<usize>) -> Span {
        let line = self
            .lines
            .iter()
            .find(|(l, _)| l.start <= r.start && r.end <= l.end);
        match line {
            Some((l, Some(at))) => Span::new(
                self.whole.file,
                at + r.start - l.start,
                at + r.end - l.start,
            ),
            _ => self.whole,
        }
    }

    pub fn whole(&self) -> Span {
        self.whole
    }
}

/// The whole line of `text` around byte `at`, without its end-of-line bytes.
pub fn line_at(file: FileId, text: &str, at: usize) -> Span {
    let start = text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |i| at + i);
    let end = if end > start && text.as_bytes()[end - 1] == b'\r' {
        end - 1
    } else {
        end
    };
    Span::new(file, start, end.max(start))
}

/// The text of an item of a YAML block sequence whose node spans `node`: from its `-` to the
/// node's end. `None` for an item of a flow sequence (`[a, b]`), whose commas a removal would
/// have to mend.
pub fn yaml_item(text: &str, node: Span) -> Option<Span> {
    let before = text.get(..node.from())?;
    let marker = before.trim_end_matches([' ', '\t']);
    (marker.ends_with('-') && marker.len() < before.len())
        .then(|| Span::new(node.file, marker.len() - 1, node.to()))
}

/// The neutral record of one `key = value` read from a container format.
pub fn assignment(
    file: FileId,
    text: &str,
    key: &str,
    key_span: Span,
    value: &str,
    value_span: Span,
) -> Assignment {
    Assignment {
        key: Spanned::new(conf::normalize_key(key), key_span),
        value: Spanned::new(value.into(), value_span),
        ignore_failure: false,
        // Neither the kubelet nor Docker expands globs: such a name is refused as it is.
        glob: false,
        line: line_at(file, text, key_span.from()),
        entry: None,
        placement: None,
    }
}

/// The text of a scalar, or `None` for anything else.
pub fn scalar(node: &YamlNode) -> Option<&Spanned<String>> {
    node.as_scalar().map(|(v, _)| v)
}

/// Whether a node is the YAML boolean `true` (plain `true`, `True` or `TRUE`).
pub fn is_true(node: Option<&YamlNode>) -> bool {
    matches!(
        node.and_then(YamlNode::as_scalar),
        Some((v, ScalarStyle::Plain)) if matches!(v.value.as_str(), "true" | "True" | "TRUE")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    #[test]
    fn scopes_follow_the_kubelet_and_the_kernel() {
        assert_eq!(scope("net.core.somaxconn"), Scope::Net);
        assert_eq!(scope("net.ipv4.tcp_max_tw_buckets"), Scope::Net);
        assert_eq!(scope("net.ipv4.tcp_max_orphans"), Scope::InitNetOnly);
        assert_eq!(scope("net.ipv4.inet_peer_threshold"), Scope::InitNetOnly);
        assert_eq!(scope("net.core.rmem_max"), Scope::InitNetOnly);
        assert_eq!(scope("kernel.shm_rmid_forced"), Scope::Ipc);
        assert_eq!(scope("kernel.sem"), Scope::Ipc);
        assert_eq!(scope("kernel.semx"), Scope::Node);
        assert_eq!(scope("vm.swappiness"), Scope::Node);
        assert_eq!(scope("fs.file-max"), Scope::Node);
    }

    #[test]
    fn places_in_a_literal_block_map_to_the_file() {
        let text = "c:\n  - |\n    set -e\n    sysctl -w net.core.somaxconn=1\n";
        let mut map = SourceMap::new();
        let id = map.add("t.yaml", text);
        let doc = crate::yaml::parse(id, text).unwrap();
        let YamlNode::Sequence { items, .. } = doc.root.get("c").unwrap() else {
            panic!()
        };
        let l = Located::new(&items[0], text).unwrap();
        let at = l.value.find("net.core").unwrap();
        let span = l.span(at..at + "net.core.somaxconn".len());
        assert_eq!(map.slice(span), "net.core.somaxconn");
        let loc = map.location(span);
        assert_eq!((loc.line, loc.column), (4, 15));
    }
}
