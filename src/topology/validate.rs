//! Second phase of loading, meaning: from the raw topology (`raw`, as `yaml::de` read it) to the
//! [`Topology`], one diagnostic per problem, in the words and at the places of the format.

use super::raw;
use super::{Link, Node, Role, Topology};
use crate::code::Code;
use crate::diag::{did_you_mean, Diagnostic, Severity};
use crate::kernel::KernelVersion;
use crate::source::{FileId, Span, Spanned};
use crate::yaml::de::{Field, UnknownField};
use crate::yaml::{parse_float, parse_int, YamlNode};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

struct Validator<'a> {
    file: FileId,
    dir: &'a Path,
    /// `sysctl.files` must stay inside `dir` (TW067) unless the user allowed otherwise.
    contain: bool,
    text: &'a str,
    /// Keys the raw types do not declare, not yet reported (see [`Validator::unknown`]).
    unknown: Vec<UnknownField>,
    /// Required fields an unknown key of a mapping is a misspelling of (the mapping's span, the
    /// field): its TW051 already says "did you mean", so no TW052 repeats it.
    misspelt: Vec<(Span, &'static str)>,
    diags: &'a mut Vec<Diagnostic>,
    /// Each node name's index among the nodes read so far (the first node of that name): a
    /// link names two nodes, and looking them up by scanning every node made a topology of
    /// 10,000 nodes and 50,000 links take a billion string comparisons. Hashed with foldhash:
    /// the names are the file's own, and SipHash was a tenth of validating a large topology.
    index: foldhash::HashMap<String, usize>,
}

/// Builds the topology from a parsed document; `None` when the root is not a mapping.
pub(super) fn validate(
    file: FileId,
    dir: &Path,
    text: &str,
    root: &YamlNode,
    contain: bool,
    diags: &mut Vec<Diagnostic>,
) -> Option<Topology> {
    let mut v = Validator {
        file,
        dir,
        contain,
        text,
        unknown: Vec::new(),
        misspelt: Vec::new(),
        diags,
        index: foldhash::HashMap::default(),
    };
    match root {
        YamlNode::Mapping { .. } => {}
        YamlNode::Null(span) => {
            for field in ["version", "nodes"] {
                v.push_missing(field, "the topology", *span);
            }
            return None;
        }
        other => {
            v.diags.push(
                other
                    .wrong_type("a topology (a mapping with `version`, `nodes` and `links`)")
                    .with_help("start the file with `version: 1`, then `nodes:` and `links:`"),
            );
            return None;
        }
    }
    let (raw, unknown) = crate::yaml::de::read::<raw::Topology>(root);
    v.unknown = unknown;
    // A mapping always reads as the raw type; its fields hold what did not fit.
    let raw = raw.get()?.value;
    let root_span = root.span();
    v.unknown_fields(root_span, "the topology");

    match &raw.version {
        Field::Missing => v.push_missing("version", "the topology", root_span),
        f => v.version(f),
    }
    let name = raw
        .name
        .as_ref()
        .and_then(|n| n.scalar("a topology name", v.diags));
    let default_kernel = raw.defaults.as_ref().and_then(|d| {
        let d = d.mapping("a mapping of defaults (`kernel:`)", v.diags)?;
        v.unknown_fields(d.span, "`defaults`");
        d.value.kernel.as_ref().and_then(|k| v.kernel(k))
    });

    let mut nodes: Vec<Node> = Vec::new();
    // False for a node whose role was written but is invalid: checks about roles skip it.
    let mut role_known: Vec<bool> = Vec::new();
    match &raw.nodes {
        Field::Missing => v.push_missing("nodes", "the topology", root_span),
        list => {
            for item in list
                .list("a list of nodes", v.diags)
                .map_or(&[][..], |l| l.value)
            {
                let start = v.diags.len();
                if let Some((node, known)) = v.node(item, &nodes) {
                    for d in &mut v.diags[start..] {
                        d.node.get_or_insert_with(|| node.name.value.clone());
                    }
                    v.index
                        .entry(node.name.value.clone())
                        .or_insert(nodes.len());
                    nodes.push(node);
                    role_known.push(known);
                }
            }
        }
    }

    v.shared_namespaces(&mut nodes);

    let mut links: Vec<Link> = Vec::new();
    // The first link of each (from, to, port), by its index in `links`.
    let mut first_link: foldhash::HashMap<(usize, usize, u16), usize> =
        foldhash::HashMap::default();
    if let Some(list) = &raw.links {
        for item in list
            .list("a list of links", v.diags)
            .map_or(&[][..], |l| l.value)
        {
            let start = v.diags.len();
            let link = v.link(item, &nodes, &role_known);
            let failed = v.diags[start..]
                .iter()
                .any(|d| d.severity == Severity::Error);
            if let Some(link) = link.filter(|_| !failed) {
                let same = (link.from_idx, link.to_idx, link.port.value);
                if let Some(first) = first_link.get(&same).map(|&i| &links[i]) {
                    v.diags.push(
                        Diagnostic::warning(
                            Code::TW068,
                            format!(
                                "link {} on port {} is listed twice",
                                link.name(),
                                link.port.value
                            ),
                        )
                        .at(v.first_line(link.span), "listed again here")
                        .with_secondary(v.first_line(first.span), "first listed here")
                        .with_help("remove one of the two; twlint keeps the first"),
                    );
                } else {
                    first_link.insert(same, links.len());
                    links.push(link);
                }
            }
        }
    }

    let applied_by =
        raw.applied_by.as_ref().and_then(|a| {
            let t = a.scalar("`procps` or `systemd`", v.diags)?;
            match crate::config::Applier::parse(&t.value) {
                Some(applier) => Some(applier),
                None => {
                    v.diags.push(
                    Diagnostic::error(
                        Code::TW053,
                        format!("`applied_by` is `{}`; expected `procps` or `systemd`", t.value),
                    )
                    .at(t.span, "not a tool twlint knows")
                    .with_help(suggest(
                        &t.value,
                        ["procps", "systemd"],
                        "write `procps` (sysctl -p, sysctl --system) or `systemd` (systemd-sysctl)"
                            .to_string(),
                    )),
                );
                    None
                }
            }
        });

    let kubernetes = raw.kubernetes.as_ref().and_then(|k| {
        let k = k.mapping("a mapping (`version`, `allowed-unsafe-sysctls`)", v.diags)?;
        v.unknown_fields(k.span, "`kubernetes`");
        let mut cluster = crate::kubernetes::Cluster::default();
        k.value.apply(&mut cluster, "the topology", v.diags);
        Some(Box::new(cluster))
    });

    Some(Topology {
        file,
        dir: dir.to_path_buf(),
        name,
        default_kernel,
        nodes,
        links,
        applied_by,
        kubernetes,
    })
}

/// Secondary label on a node's role: where it was written, or its name when it has none.
fn role_label(node: &Node) -> String {
    if node.role.span == node.name.span {
        "this node has no `role`, so it is generic".to_string()
    } else {
        format!("its role is {}", node.role.value.as_str())
    }
}

/// "did you mean `x`?" when a candidate is close, else `otherwise`.
fn suggest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    otherwise: String,
) -> String {
    match did_you_mean(word, candidates) {
        Some(c) => format!("did you mean `{c}`?"),
        None => otherwise,
    }
}

impl Validator<'_> {
    /// The first line of a span: where a missing field or a whole link is pointed at.
    fn first_line(&self, span: Span) -> Span {
        let text = self.text.get(span.range()).unwrap_or("");
        let end = text
            .find(['\r', '\n'])
            .map_or(span.to(), |i| span.from() + i);
        Span::new(self.file, span.from(), end)
    }

    /// TW052 for a required field the mapping at `span` lacks, unless one of its unknown keys
    /// is a misspelling of it (reported once, as that key's TW051 with "did you mean").
    fn push_missing(&mut self, field: &str, what: &str, span: Span) {
        if self.misspelt.iter().any(|(s, f)| *s == span && *f == field) {
            return;
        }
        self.diags.push(
            Diagnostic::error(Code::TW052, format!("{what} has no `{field}`"))
                .at(self.first_line(span), format!("`{field}` is missing here"))
                .with_help(format!("add `{field}:` to {what}")),
        );
    }

    /// TW051 for the keys of the mapping at `within` that its raw type does not declare. They
    /// are reported when the mapping is validated, so they come where the walk over the tree
    /// used to put them (and belong to the node being validated). A mapping copied by an alias
    /// has the span of the anchored one: its unknown keys are reported with the first copy.
    fn unknown_fields(&mut self, within: Span, what: &str) {
        let (here, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.unknown)
            .into_iter()
            .partition(|u| u.within == within);
        self.unknown = rest;
        for UnknownField {
            key,
            fields: allowed,
            ..
        } in here
        {
            let otherwise = format!("the fields of {what} are: {}", allowed.join(", "));
            if let Some(field) = did_you_mean(&key.value, allowed.iter().copied()) {
                self.misspelt.push((within, field));
            }
            self.diags.push(
                Diagnostic::error(
                    Code::TW051,
                    format!("unknown field `{}` in {what}", key.value),
                )
                .at(key.span, "unknown field")
                .with_help(suggest(&key.value, allowed.iter().copied(), otherwise)),
            );
        }
    }

    fn version(&mut self, node: &Field<String>) {
        let Some(text) = node.plain("the format version 1", self.diags) else {
            return;
        };
        if parse_int(&text.value) != Some(1) {
            self.diags.push(
                Diagnostic::error(
                    Code::TW062,
                    format!("unsupported topology format version `{}`", text.value),
                )
                .at(text.span, "this twlint reads version 1 only")
                .with_help(concat!(
                    "write `version: 1` and the fields of format version 1 (see ",
                    env!("CARGO_PKG_REPOSITORY"),
                    "/blob/main/docs/guide/topology.md)"
                )),
            );
        }
    }

    fn kernel(
        &mut self,
        node: &Field<crate::yaml::de::KernelRelease>,
    ) -> Option<Spanned<KernelVersion>> {
        let text = node.scalar("a kernel release such as \"6.8\"", self.diags)?;
        match KernelVersion::parse(&text.value) {
            Some(k) => Some(Spanned::new(k, text.span)),
            None => {
                self.diags.push(
                    Diagnostic::error(
                        Code::TW061,
                        format!("`{}` is not a kernel release", text.value),
                    )
                    .at(text.span, "not a kernel release")
                    .with_help(
                        "write the release as `uname -r` prints it, quoted: \"5.15\" or \"6.8.0-45-generic\"",
                    ),
                );
                None
            }
        }
    }

    fn port(&mut self, node: &Field<raw::Port>) -> Option<Spanned<u16>> {
        let text = node.plain("a port number", self.diags)?;
        match parse_int(&text.value) {
            Some(p @ 1..=65535) => Some(Spanned::new(p as u16, text.span)),
            parsed => {
                let message = match parsed {
                    Some(p) => format!("port {p} is out of range"),
                    None => format!("`{}` is not a port number", text.value),
                };
                self.diags.push(
                    Diagnostic::error(Code::TW058, message)
                        .at(text.span, "not a TCP port")
                        .with_help("write a port number from 1 to 65535"),
                );
                None
            }
        }
    }

    fn rate(&mut self, node: &Field<String>) -> Option<Spanned<f64>> {
        let text = node.plain("a rate in new connections per second", self.diags)?;
        let parsed = parse_float(&text.value);
        match parsed {
            Some(r) if r.is_finite() && r > 0.0 => Some(Spanned::new(r, text.span)),
            _ => {
                let message = match parsed {
                    Some(_) => format!("rate `{}` is not a positive number", text.value),
                    None => format!("`{}` is not a number", text.value),
                };
                self.diags.push(
                    Diagnostic::error(Code::TW059, message)
                        .at(text.span, "not a usable rate")
                        .with_help("write new connections per second as a positive number, such as 1500 or 1500.5, or leave `rate` out"),
                );
                None
            }
        }
    }

    /// A node; `None` when it has no usable name or repeats an earlier name. The flag is false
    /// when its role was written but is not valid (checks about roles then skip it).
    fn node(&mut self, item: &Field<raw::Node>, earlier: &[Node]) -> Option<(Node, bool)> {
        let item = item.mapping("a node (a mapping with at least `name`)", self.diags)?;
        let (raw, span) = (item.value, item.span);
        self.unknown_fields(span, "a node");
        let name = match &raw.name {
            Field::Missing => {
                self.push_missing("name", "this node", span);
                None
            }
            n => n.scalar("a node name", self.diags),
        };
        let mut duplicate = false;
        if let Some(name) = &name {
            if let Some(first) = self.index.get(&name.value).map(|&i| &earlier[i]) {
                duplicate = true;
                self.diags.push(
                    Diagnostic::error(
                        Code::TW054,
                        format!("node `{}` is defined twice", name.value),
                    )
                    .at(name.span, "defined again here")
                    .with_secondary(first.name.span, "first defined here")
                    .with_help("give every node its own name, or merge the two definitions")
                    .with_node(name.value.clone()),
                );
            }
        }

        // An absent role is a known one (generic); a wrong one is not.
        let mut role_known = true;
        let role = raw.role.as_ref().and_then(|r| {
            role_known = false;
            let text = r.scalar("a role", self.diags)?;
            match Role::parse(&text.value) {
                Some(role) => {
                    role_known = true;
                    Some(Spanned::new(role, text.span))
                }
                None => {
                    let names = Role::ALL.map(Role::as_str);
                    let otherwise = format!("the roles are: {}", names.join(", "));
                    self.diags.push(
                        Diagnostic::error(Code::TW063, format!("unknown role `{}`", text.value))
                            .at(text.span, "not a role")
                            .with_help(suggest(&text.value, names, otherwise)),
                    );
                    None
                }
            }
        });
        let kernel = raw.kernel.as_ref().and_then(|k| self.kernel(k));

        let mut addresses = Vec::new();
        if let Some(list) = &raw.addresses {
            addresses = self.addresses(list);
        }
        let replicas = raw
            .replicas
            .as_ref()
            .and_then(|r| self.count(r, 1, "replicas"))
            .map(|r| Spanned::new(r.value.min(u32::MAX as u64) as u32, r.span));
        let host_addresses = self.host_addresses(raw, &mut addresses, replicas.as_ref(), span);
        let namespace = raw.namespace.as_ref().and_then(|n| {
            let text = n.scalar("`own` or `host`", self.diags)?;
            match super::Namespace::parse(&text.value) {
                Some(ns) => Some(Spanned::new(ns, text.span)),
                None => {
                    self.diags.push(
                        Diagnostic::error(
                            Code::TW093,
                            format!("unknown namespace `{}`", text.value),
                        )
                        .at(text.span, "not `own` or `host`")
                        .with_help("write `namespace: own` for a pod or container with its own network namespace, `host` (the default) otherwise"),
                    );
                    None
                }
            }
        });
        let workload = raw
            .workload
            .as_ref()
            .and_then(|w| w.scalar("a workload name such as default/Deployment/api", self.diags));
        let shares = raw
            .shares_namespace_with
            .as_ref()
            .and_then(|n| n.scalar("a node name", self.diags));
        if let Some(shared) = &shares {
            // A container in another's namespace has that namespace's addresses and values.
            let own_fields: [(&str, Option<Span>); 7] = [
                ("addresses", raw.addresses.as_ref().and_then(|f| f.span())),
                (
                    "host_addresses",
                    raw.host_addresses.as_ref().and_then(|f| f.span()),
                ),
                ("replicas", raw.replicas.as_ref().and_then(|f| f.span())),
                ("kernel", raw.kernel.as_ref().and_then(|f| f.span())),
                ("namespace", raw.namespace.as_ref().and_then(|f| f.span())),
                ("sysctl", raw.sysctl.as_ref().and_then(|f| f.span())),
                ("workload", raw.workload.as_ref().and_then(|f| f.span())),
            ];
            for (field, at) in own_fields {
                if let Some(at) = at {
                    self.diags.push(
                        Diagnostic::error(
                            Code::TW093,
                            format!(
                                "a node that shares `{}`'s namespace cannot set `{field}`",
                                shared.value
                            ),
                        )
                        .at(at, format!("`{field}` belongs to the namespace"))
                        .with_secondary(shared.span, "the namespace is shared here")
                        .with_help(format!(
                            "set `{field}` on `{}`: every container of the namespace has it",
                            shared.value
                        )),
                    );
                }
            }
        }
        let mut listen = Vec::new();
        if let Some(list) = &raw.listen {
            for p in list
                .list("a list of ports", self.diags)
                .map_or(&[][..], |l| l.value)
            {
                listen.extend(self.port(p));
            }
        }
        let (sysctl_files, sysctl_set) = match &raw.sysctl {
            Some(s) => self.sysctl(s),
            None => (Vec::new(), Vec::new()),
        };

        let ignores = match &raw.ignore {
            Some(list) => self.ignores(list),
            None => Vec::new(),
        };
        let conntrack = raw.conntrack.as_ref().and_then(|c| self.conntrack(c));
        let idle_timeout = raw.idle_timeout.as_ref().and_then(|t| self.idle_timeout(t));

        let name = name.filter(|_| !duplicate)?;
        let ignores = ignores
            .into_iter()
            .map(|(rule, reason)| crate::suppress::NodeIgnore {
                node: name.value.clone(),
                rule,
                reason,
            })
            .collect();
        let role = role.unwrap_or_else(|| Spanned::new(Role::Generic, name.span));
        let node = Node {
            name,
            role,
            kernel,
            addresses,
            replicas,
            listen,
            sysctl_files,
            sysctl_set,
            ignores,
            span,
            host_addresses,
            namespace,
            shares_namespace_with: shares.map(|s| (s, usize::MAX)),
            workload,
            conntrack,
            idle_timeout,
        };
        Some((node, role_known))
    }

    /// IP address literals (TW066 for others).
    fn addresses(&mut self, list: &Field<Vec<Field<String>>>) -> Vec<Spanned<String>> {
        let mut out = Vec::new();
        for a in list
            .list("a list of IP addresses", self.diags)
            .map_or(&[][..], |l| l.value)
        {
            let Some(text) = a.scalar("an IP address", self.diags) else {
                continue;
            };
            if text.value.parse::<IpAddr>().is_ok() {
                out.push(text);
            } else {
                self.diags.push(
                    Diagnostic::error(
                        Code::TW066,
                        format!("`{}` is not an IP address", text.value),
                    )
                    .at(text.span, "not an IPv4 or IPv6 address")
                    .with_help("write one IPv4 or IPv6 address per item, without a port or prefix length: 10.0.0.5 or fd00::5"),
                );
            }
        }
        out
    }

    /// A whole number of at least `min` (TW090 otherwise).
    fn count(&mut self, node: &Field<String>, min: u64, field: &str) -> Option<Spanned<u64>> {
        let text = node.plain("a whole number", self.diags)?;
        match parse_int(&text.value) {
            Some(n) if n >= min as i64 => Some(Spanned::new(n as u64, text.span)),
            _ => {
                self.diags.push(
                    Diagnostic::error(
                        Code::TW090,
                        format!(
                            "`{field}` must be a whole number of at least {min}, not `{}`",
                            text.value
                        ),
                    )
                    .at(text.span, "not a usable count")
                    .with_help(format!(
                        "write `{field}` as a whole number of at least {min}, unquoted"
                    )),
                );
                None
            }
        }
    }

    /// Each host's addresses: `host_addresses` (appended to `addresses`, which must then be
    /// empty), else `addresses` split by kind, with TW091 when that needed an assumption.
    fn host_addresses(
        &mut self,
        raw: &raw::Node,
        addresses: &mut Vec<Spanned<String>>,
        replicas: Option<&Spanned<u32>>,
        span: Span,
    ) -> Vec<Vec<usize>> {
        if let Some(lists) = &raw.host_addresses {
            if let (Some(a), Some(h)) =
                (raw.addresses.as_ref().and_then(|f| f.span()), lists.span())
            {
                self.diags.push(
                    Diagnostic::error(
                        Code::TW095,
                        "a node gives both `addresses` and `host_addresses`",
                    )
                    .at(h, "the addresses of each host")
                    .with_secondary(a, "and every address again")
                    .with_help("keep one: `host_addresses` when hosts have several addresses, `addresses` otherwise"),
                );
            }
            addresses.clear();
            let mut hosts = Vec::new();
            let items = lists.list("a list of address lists, one per host", self.diags);
            for item in items.map_or(&[][..], |l| l.value) {
                let mine = self.addresses(item);
                let start = addresses.len();
                addresses.extend(mine);
                hosts.push((start..addresses.len()).collect::<Vec<usize>>());
            }
            if let (Some(r), Some(l)) = (replicas, lists.span()) {
                if r.value as usize != hosts.len() {
                    self.diags.push(
                        Diagnostic::error(
                            Code::TW095,
                            format!(
                                "`replicas` is {} but `host_addresses` lists {} host{}",
                                r.value,
                                hosts.len(),
                                if hosts.len() == 1 { "" } else { "s" }
                            ),
                        )
                        .at(r.span, "hosts counted here")
                        .with_secondary(l, "and listed here")
                        .with_help("give one address list per host, or leave `replicas` out"),
                    );
                }
            }
            return hosts;
        }
        let texts: Vec<&str> = addresses.iter().map(|a| a.value.as_str()).collect();
        let split = crate::address::split_hosts(&texts, replicas.map(|r| r.value));
        if let Some(assumed) = split.assumed {
            let at = raw
                .addresses
                .as_ref()
                .and_then(|f| f.span())
                .unwrap_or(self.first_line(span));
            self.diags.push(
                Diagnostic::new(Code::TW091, Severity::Info, assumed)
                    .at(at, "addresses of several kinds")
                    .with_help("write `host_addresses: [[PUBLIC, PRIVATE], ...]` (one list per host) or `replicas` to say how the addresses belong to hosts"),
            );
        }
        split.hosts
    }

    /// A node's `ignore:` list: `{rule: TW101, reason: "..."}` items. An entry without a reason
    /// is TW020 and is dropped, so the finding it meant to hide stays visible.
    fn ignores(
        &mut self,
        list: &Field<Vec<Field<raw::IgnoreEntry>>>,
    ) -> Vec<(Spanned<String>, Spanned<String>)> {
        let mut out = Vec::new();
        let items = list.list(
            "a list of `{rule: TW101, reason: \"...\"}` entries",
            self.diags,
        );
        for item in items.map_or(&[][..], |l| l.value) {
            if let Some(text) = item.stray_scalar() {
                self.diags.push(
                    Diagnostic::warning(
                        Code::TW020,
                        format!("`ignore` entry `{}` has no reason", text.value),
                    )
                    .at(text.span, "not applied: no reason")
                    .with_help(format!(
                        "write `- {{rule: {}, reason: \"why this is fine here\"}}`",
                        text.value
                    )),
                );
                continue;
            }
            let Some(item) = item.mapping(
                "an `ignore` entry (a mapping with `rule` and `reason`)",
                self.diags,
            ) else {
                continue;
            };
            let (entry, span) = (item.value, item.span);
            self.unknown_fields(span, "an `ignore` entry");
            let rule = match &entry.rule {
                Field::Missing => {
                    self.push_missing("rule", "this `ignore` entry", span);
                    None
                }
                r => r.scalar("a rule id such as TW101", self.diags),
            };
            let reason = match &entry.reason {
                Field::Missing => {
                    self.diags.push(
                        Diagnostic::warning(
                            Code::TW020,
                            "`ignore` entry has no reason".to_string(),
                        )
                        .at(self.first_line(span), "not applied: no `reason`")
                        .with_help("add `reason: \"why this is fine here\"` to the entry"),
                    );
                    None
                }
                r => match r.scalar("a reason", self.diags) {
                    Some(t) if t.value.trim().is_empty() => {
                        self.diags.push(
                            Diagnostic::warning(Code::TW020, "`ignore` entry has an empty reason")
                                .at(t.span, "not applied: empty reason")
                                .with_help("say why the finding is acceptable on this node"),
                        );
                        None
                    }
                    other => other,
                },
            };
            if let (Some(rule), Some(reason)) = (rule, reason) {
                out.push((rule, reason));
            }
        }
        out
    }

    #[allow(clippy::type_complexity)]
    fn sysctl(
        &mut self,
        node: &Field<raw::NodeSysctl>,
    ) -> (
        Vec<Spanned<PathBuf>>,
        Vec<(Spanned<String>, Spanned<String>)>,
    ) {
        let mut files = Vec::new();
        let mut set = Vec::new();
        let Some(sysctl) = node.mapping("a mapping with `files` and `set`", self.diags) else {
            return (files, set);
        };
        self.unknown_fields(sysctl.span, "`sysctl`");
        if let Some(list) = &sysctl.value.files {
            let items = list.list("a list of sysctl files and folders", self.diags);
            for item in items.map_or(&[][..], |l| l.value) {
                let Some(text) = item.scalar("a file or folder path", self.diags) else {
                    continue;
                };
                let path = self.dir.join(&text.value);
                if self.contain {
                    if let Err(why) = crate::contain::check(self.dir, Path::new(&text.value)) {
                        let label = match why {
                            crate::contain::Outside::Written => {
                                "leads out of the topology's folder".to_string()
                            }
                            crate::contain::Outside::Link(real) => format!(
                                "a symlink leads to {}, out of the topology's folder",
                                real.display()
                            ),
                        };
                        self.diags.push(
                            Diagnostic::error(
                                Code::TW067,
                                format!(
                                    "sysctl file `{}` is outside the topology's folder",
                                    text.value
                                ),
                            )
                            .at(text.span, label)
                            .with_help("copy the file next to the topology, or pass --allow-outside-paths if you trust this topology")
                            .with_note("twlint does not read it: a topology from a pull request must not make CI print files of the machine it runs on"),
                        );
                        continue;
                    }
                }
                if path.exists() {
                    files.push(Spanned::new(path, text.span));
                } else {
                    self.diags.push(
                        Diagnostic::error(
                            Code::TW060,
                            format!("sysctl file `{}` does not exist", text.value),
                        )
                        .at(text.span, format!("not found as {}", path.display()))
                        .with_help("paths are relative to the topology file's folder; fix the path, or write the values under `set:`"),
                    );
                }
            }
        }
        if let Some(map) = &sysctl.value.set {
            let entries = map.mapping("a mapping of sysctl keys to values", self.diags);
            for (key, value) in entries.map_or(&[][..], |e| &e.value.0) {
                if let Some(text) = value.scalar("a sysctl value", self.diags) {
                    set.push((key.clone(), text));
                }
            }
        }
        (files, set)
    }

    /// Resolves `shares_namespace_with` to a node index; a node that names itself, an unknown
    /// node (TW055) or a node that itself shares another's (TW093) keeps no share.
    fn shared_namespaces(&mut self, nodes: &mut [Node]) {
        for i in 0..nodes.len() {
            let Some((name, _)) = nodes[i].shares_namespace_with.clone() else {
                continue;
            };
            let start = self.diags.len();
            let target = self.resolve(&name, "shares_namespace_with", nodes);
            let ok = match target {
                Some(t) if t == i => {
                    self.diags.push(
                        Diagnostic::error(Code::TW093, format!("node `{}` shares its own namespace", name.value))
                            .at(name.span, "names this node itself")
                            .with_help("name the node whose namespace this container joins (the app of a sidecar), or remove the field"),
                    );
                    None
                }
                Some(t) if nodes[t].shares_namespace_with.is_some() => {
                    self.diags.push(
                        Diagnostic::error(
                            Code::TW093,
                            format!("`{}` itself shares another node's namespace", name.value),
                        )
                        .at(name.span, "not the namespace's owner")
                        .with_help("name the node that holds the namespace (every container of a pod shares the pod's)"),
                    );
                    None
                }
                other => other,
            };
            let node_name = nodes[i].name.value.clone();
            for d in &mut self.diags[start..] {
                d.node.get_or_insert_with(|| node_name.clone());
            }
            match ok {
                Some(t) => {
                    // Addresses, hosts and namespace are the owner's.
                    let owner = nodes[t].clone();
                    let n = &mut nodes[i];
                    n.addresses = owner.addresses;
                    n.host_addresses = owner.host_addresses;
                    n.replicas = owner.replicas;
                    n.namespace = owner.namespace;
                    n.kernel = owner.kernel;
                    n.workload = owner.workload;
                    n.shares_namespace_with = Some((name, t));
                }
                None => nodes[i].shares_namespace_with = None,
            }
        }
    }

    /// Resolves a node name of a link; TW055 when no node has it.
    fn resolve(&mut self, name: &Spanned<String>, field: &str, nodes: &[Node]) -> Option<usize> {
        if let Some(&i) = self.index.get(&name.value) {
            return Some(i);
        }
        let names = nodes.iter().map(|n| n.name.value.as_str());
        let otherwise = "name a node defined under `nodes`, or define it there".to_string();
        self.diags.push(
            Diagnostic::error(Code::TW055, format!("unknown node `{}`", name.value))
                .at(name.span, format!("`{field}` names no node"))
                .with_help(suggest(&name.value, names, otherwise)),
        );
        None
    }

    /// TW065 when a link endpoint is a NAT.
    fn not_nat(&mut self, name: &Spanned<String>, idx: usize, nodes: &[Node], known: &[bool]) {
        let node = &nodes[idx];
        if node.role.value == Role::Nat && known[idx] {
            self.diags.push(
                Diagnostic::error(
                    Code::TW065,
                    format!(
                        "link end `{}` is a NAT node, not a TCP endpoint",
                        name.value
                    ),
                )
                .at(name.span, "a NAT does not open or accept connections")
                .with_secondary(node.role.span, "its role is nat")
                .with_help("link the hosts on either side and name the NAT under `via:`")
                .with_node(name.value.clone()),
            );
        }
    }

    fn link(&mut self, item: &Field<raw::Link>, nodes: &[Node], known: &[bool]) -> Option<Link> {
        let item = item.mapping(
            "a link (a mapping with `from`, `to`, `port`, `closes_first`)",
            self.diags,
        )?;
        let (raw, span) = (item.value, item.span);
        self.unknown_fields(span, "a link");
        fn required<'f, T>(
            v: &mut Validator,
            key: &str,
            f: &'f Field<T>,
            span: Span,
        ) -> Option<&'f Field<T>> {
            if let Field::Missing = f {
                v.push_missing(key, "this link", span);
                return None;
            }
            Some(f)
        }
        let from = required(self, "from", &raw.from, span)
            .and_then(|n| n.scalar("a node name", self.diags));
        let to =
            required(self, "to", &raw.to, span).and_then(|n| n.scalar("a node name", self.diags));
        let port = required(self, "port", &raw.port, span).and_then(|p| self.port(p));
        let closes = required(self, "closes_first", &raw.closes_first, span)
            .and_then(|n| n.scalar("a node name", self.diags));
        let (from, to, closes) = (from.as_ref(), to.as_ref(), closes.as_ref());

        let from_idx = from.and_then(|f| self.resolve(f, "from", nodes));
        let to_idx = to.and_then(|t| self.resolve(t, "to", nodes));
        for (name, idx) in [(from, from_idx), (to, to_idx)] {
            if let (Some(name), Some(idx)) = (name, idx) {
                self.not_nat(name, idx, nodes, known);
            }
        }

        let vias: Vec<(Spanned<String>, usize)> = raw
            .via
            .as_ref()
            .map(|v| self.via_names(v))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|name| {
                let idx = self.resolve(&name, "via", nodes)?;
                let node = &nodes[idx];
                if !node.is_middlebox() && known[idx] {
                    self.diags.push(
                        Diagnostic::error(
                            Code::TW057,
                            format!("`via` names `{}`, which is not a middlebox", name.value),
                        )
                        .at(name.span, "`via` must name a nat node or a node with `conntrack` or `idle_timeout`")
                        .with_secondary(node.role.span, role_label(node))
                        .with_help(format!(
                            "set `role: nat` on `{}` if it rewrites source addresses, `conntrack: true` if it forwards through Linux conntrack (a load balancer that NATs, a kube-proxy node), or `idle_timeout:` for a cloud product; otherwise remove it from `via`",
                            name.value
                        ))
                        .with_node(name.value.clone()),
                    );
                }
                Some((name, idx))
            })
            .collect();
        let via = vias.first().map(|v| v.0.clone());
        let via_idx = vias.first().map(|v| v.1);

        if let Some(closes) = closes {
            let endpoints: Vec<&str> = [from, to]
                .into_iter()
                .flatten()
                .map(|s| s.value.as_str())
                .collect();
            let is_node = self.index.contains_key(&closes.value);
            if !endpoints.contains(&closes.value.as_str()) {
                if !is_node {
                    let names = endpoints
                        .iter()
                        .copied()
                        .chain(nodes.iter().map(|n| n.name.value.as_str()));
                    let otherwise = "name the link's `from` or `to` node".to_string();
                    self.diags.push(
                        Diagnostic::error(Code::TW055, format!("unknown node `{}`", closes.value))
                            .at(closes.span, "`closes_first` names no node")
                            .with_help(suggest(&closes.value, names, otherwise)),
                    );
                } else {
                    let mut d = Diagnostic::error(
                        Code::TW056,
                        format!(
                            "`closes_first` names `{}`, which is not an end of this link",
                            closes.value
                        ),
                    )
                    .at(closes.span, "must be the link's `from` or `to`")
                    .with_help("write the node that calls close() first: the link's `from` (the client) or `to` (the server)");
                    if let Some(f) = from {
                        d = d.with_secondary(f.span, "`from` is here");
                    }
                    if let Some(t) = to {
                        d = d.with_secondary(t.span, "`to` is here");
                    }
                    self.diags.push(d);
                }
            }
        }

        let rate = raw.rate.as_ref().and_then(|r| self.rate(r));
        let open = raw.open.as_ref().and_then(|o| self.count(o, 0, "open"));
        let source = raw
            .source
            .as_ref()
            .and_then(|s| s.scalar("an IP address", self.diags));
        if let (Some(src), Some(f)) = (&source, from_idx) {
            let node = &nodes[f];
            if !node.addresses.iter().any(|a| a.value == src.value) {
                let mut d = Diagnostic::error(
                    Code::TW092,
                    format!(
                        "`source` {} is not an address of `{}`",
                        src.value, node.name.value
                    ),
                )
                .at(src.span, "not one of its addresses")
                .with_help(if node.addresses.is_empty() {
                    format!(
                        "give `{}` its addresses, or remove `source`",
                        node.name.value
                    )
                } else {
                    format!(
                        "name one of `{}`'s addresses: {}",
                        node.name.value,
                        node.addresses
                            .iter()
                            .map(|a| a.value.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                });
                if let Some(a) = node.addresses.first() {
                    d = d.with_secondary(a.span, "its addresses are here");
                }
                self.diags.push(d);
            }
        }
        let keepalive = raw.keepalive.as_ref().and_then(|k| self.keepalive(k));
        Some(Link {
            from: from?.clone(),
            to: to?.clone(),
            from_idx: from_idx?,
            to_idx: to_idx?,
            port: port?,
            via,
            via_idx,
            closes_first: closes?.clone(),
            rate,
            open,
            span,
            source,
            vias,
            keepalive,
        })
    }

    /// `via`: one node name, or a list of them in path order.
    fn via_names(&mut self, via: &Field<Vec<Field<String>>>) -> Vec<Spanned<String>> {
        if let Some(one) = via.stray_scalar() {
            return vec![Spanned::new(one.value.to_string(), one.span)];
        }
        via.list("a node name or a list of node names", self.diags)
            .map_or(&[][..], |l| l.value)
            .iter()
            .filter_map(|n| n.scalar("a node name", self.diags))
            .collect()
    }

    /// `conntrack:` true, false or a preset; TW097 otherwise.
    fn conntrack(
        &mut self,
        node: &Field<raw::ConntrackSetting>,
    ) -> Option<Spanned<crate::middlebox::Conntrack>> {
        let text = node.plain("true, false or a conntrack preset", self.diags)?;
        match crate::middlebox::Conntrack::parse(&text.value) {
            Some(c) => Some(Spanned::new(c, text.span)),
            None => {
                let names = ["true", "false"]
                    .into_iter()
                    .chain(crate::middlebox::Conntrack::PRESETS);
                let otherwise = format!(
                    "write true, false or a preset: {}",
                    crate::middlebox::Conntrack::PRESETS.join(", ")
                );
                self.diags.push(
                    Diagnostic::error(
                        Code::TW097,
                        format!(
                            "`conntrack` is `{}`, not true, false or a preset",
                            text.value
                        ),
                    )
                    .at(text.span, "not a conntrack setting")
                    .with_help(suggest(&text.value, names, otherwise)),
                );
                None
            }
        }
    }

    /// `idle_timeout:` seconds or a preset; TW097 otherwise.
    fn idle_timeout(
        &mut self,
        node: &Field<raw::IdleTimeout>,
    ) -> Option<Spanned<crate::middlebox::IdleTimeout>> {
        let text = node.plain("seconds or an idle-timeout preset", self.diags)?;
        match crate::middlebox::IdleTimeout::parse(&text.value) {
            Some(t) => Some(Spanned::new(t, text.span)),
            None => {
                let names = crate::middlebox::IdleTimeout::preset_names();
                let otherwise = format!("write seconds (350) or a preset: {}", names.join(", "));
                self.diags.push(
                    Diagnostic::error(
                        Code::TW097,
                        format!(
                            "`idle_timeout` is `{}`, not a positive number of seconds or a preset",
                            text.value
                        ),
                    )
                    .at(text.span, "not an idle timeout")
                    .with_help(suggest(&text.value, names, otherwise)),
                );
                None
            }
        }
    }

    /// `keepalive:` true or false; TW097 otherwise.
    fn keepalive(&mut self, node: &Field<String>) -> Option<Spanned<bool>> {
        let text = node.plain("true or false", self.diags)?;
        match text.value.as_str() {
            "true" => Some(Spanned::new(true, text.span)),
            "false" => Some(Spanned::new(false, text.span)),
            _ => {
                self.diags.push(
                    Diagnostic::error(
                        Code::TW097,
                        format!("`keepalive` is `{}`, not true or false", text.value),
                    )
                    .at(text.span, "not true or false")
                    .with_help("write `keepalive: true` if the application sets SO_KEEPALIVE on these connections, `false` if it does not, or leave it out"),
                );
                None
            }
        }
    }
}
