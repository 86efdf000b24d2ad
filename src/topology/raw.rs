//! The topology format (version 1) as written: the one description of its fields, their shapes
//! and their documentation. `yaml::de` reads a file into these types (first phase, shape), the
//! `validate` module turns them into the [`super::Topology`] (second phase, meaning), and
//! `twlint schema topology` prints their JSON Schema.
//!
//! Scalars are kept as the text written, each with a schema that says what the text must look
//! like; the doc comments are the schema's descriptions, written for the file's users. Field
//! order is the order "the fields of ... are:" lists them in.

use crate::yaml::de::{text_leaf, Entries, Field, KernelRelease};
use schemars::JsonSchema;
use serde::Deserialize;

text_leaf!(
    /// A port as written.
    Port,
    {
        "description": "A TCP port.",
        "format": "uint16",
        "maximum": 65535,
        "minimum": 1,
        "type": "integer"
    }
);

text_leaf!(
    /// A value under `set:` as written.
    SysctlValue,
    {
        "anyOf": [{"type": "string"}, {"format": "double", "type": "number"}, {"type": "boolean"}],
        "description": "A sysctl value as written under `set:`."
    }
);

text_leaf!(
    /// A node's `conntrack:` as written.
    ConntrackSetting,
    {
        "anyOf": [{"type": "boolean"}, {"enum": ["kube-proxy"], "type": "string"}],
        "description": "true, false, or a preset: kube-proxy (nf_conntrack_tcp_timeout_established 86400, nf_conntrack_tcp_timeout_close_wait 3600, as kube-proxy writes them)."
    }
);

text_leaf!(
    /// A node's `idle_timeout:` as written.
    IdleTimeout,
    {
        "anyOf": [
            {"format": "double", "minimum": 0.001, "type": "number"},
            {"enum": ["aws-nat-gateway", "aws-nlb", "aws-alb", "aws-clb", "azure-lb", "azure-nat-gateway", "gcp-cloud-nat"], "type": "string"}
        ],
        "description": "Seconds a flow may stay idle before the middlebox forgets it, or a preset named after the product."
    }
);

/// A twlint topology, format version 1.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "twlint topology (format version 1)")]
pub struct Topology {
    /// The format version: 1.
    #[schemars(with = "u8", range(min = 1, max = 1))]
    pub version: Field<String>,
    pub name: Option<Field<String>>,
    pub defaults: Option<Field<Defaults>>,
    pub nodes: Field<Vec<Field<Node>>>,
    pub links: Option<Field<Vec<Field<Link>>>>,
    /// The tool that applies the nodes' sysctl files: `procps` (`sysctl -p`, `sysctl --system`;
    /// the default) or `systemd` (systemd-sysctl). They end in different states where a file's
    /// last value for a key is refused by the kernel; twlint judges this tool's end state and
    /// warns where the two differ.
    #[schemars(with = "Option<crate::config::Applier>")]
    pub applied_by: Option<Field<String>>,
    /// The cluster that runs the topology's Kubernetes workloads (`version`,
    /// `allowed-unsafe-sysctls`, as in `.twlint.yaml`, whose block it replaces for this
    /// topology): which pod sysctls its kubelets admit.
    pub kubernetes: Option<Field<crate::kubernetes::ClusterRaw>>,
}

/// Defaults for every node.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Kernel release assumed for nodes that do not say.
    pub kernel: Option<Field<KernelRelease>>,
}

/// One machine, or a group of identical replicas.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub name: Field<String>,
    /// Defaults to generic.
    #[schemars(with = "Option<super::Role>")]
    pub role: Option<Field<String>>,
    pub kernel: Option<Field<KernelRelease>>,
    /// Addresses it connects from and is reached at: one host per address of one kind (format 1),
    /// or the addresses of `replicas` hosts; see `host_addresses` for a list per host.
    pub addresses: Option<Field<Vec<Field<String>>>>,
    /// Ports its services listen on.
    pub listen: Option<Field<Vec<Field<Port>>>>,
    pub sysctl: Option<Field<NodeSysctl>>,
    /// Findings accepted on this node: `- {rule: TW101, reason: "..."}`.
    pub ignore: Option<Field<Vec<Field<IgnoreEntry>>>>,
    /// How many identical hosts the node stands for. Per-host limits (tcp_max_tw_buckets,
    /// ports) are judged per host. Without it: one host per address of one kind (format 1).
    #[schemars(with = "Option<u32>", range(min = 1))]
    pub replicas: Option<Field<String>>,
    /// The addresses of each host, one list per host (instead of `addresses`): a host with a
    /// public and a private address is `[[203.0.113.10, 10.0.0.10]]`.
    pub host_addresses: Option<Field<Vec<Field<AddressList>>>>,
    /// `own`: a pod or container with its own network namespace, whose per-namespace keys
    /// start from the kernel's defaults (host sysctl files do not reach it). `host` (default):
    /// the host's namespace.
    #[schemars(with = "Option<super::Namespace>")]
    pub namespace: Option<Field<String>>,
    /// Another node whose network namespace this one shares (a sidecar and its app in one
    /// pod): same addresses, ports, values and TIME_WAIT table.
    pub shares_namespace_with: Option<Field<String>>,
    /// One workload of the node's `sysctl.files` that hold several: a pod template of a
    /// Kubernetes manifest (`namespace/Kind/name`, as twlint names it) or a compose service.
    /// The node stands for it, in a network namespace of its own.
    pub workload: Option<Field<String>>,
    /// Whether the links passing through this node (`via`) are tracked by Linux conntrack:
    /// `true`, `false`, or a preset that also sets the conntrack values its software writes
    /// (`kube-proxy`). `nat` nodes track by default; say `false` for a cloud NAT gateway or load
    /// balancer that is not a Linux box you configure.
    pub conntrack: Option<Field<ConntrackSetting>>,
    /// How long a flow through this node may stay idle before the node forgets it: seconds, or
    /// a preset (`aws-nat-gateway`, `aws-nlb`, `aws-alb`, `aws-clb`, `azure-lb`,
    /// `azure-nat-gateway`, `gcp-cloud-nat`). Defaults to nf_conntrack_tcp_timeout_established
    /// on a node with conntrack.
    pub idle_timeout: Option<Field<IdleTimeout>>,
}

/// One host's addresses, as written.
pub type AddressList = Vec<Field<String>>;

/// The node's declared sysctl values.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeSysctl {
    /// Sysctl files and sysctl.d folders, relative to the topology file.
    pub files: Option<Field<Vec<Field<String>>>>,
    /// Inline values (`net.ipv4.tcp_tw_reuse: 1`), applied after the files.
    pub set: Option<Field<Entries<SysctlValue>>>,
}

/// A finding accepted on this node, with the reason.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    /// Rule id (TW101) or name.
    pub rule: Field<String>,
    /// Why the finding is acceptable here.
    #[schemars(length(min = 1))]
    pub reason: Field<String>,
}

/// One hop: `from` calls connect(), `to` accepts.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub from: Field<String>,
    pub to: Field<String>,
    pub port: Field<Port>,
    /// The middlebox the connections pass on the way (a `nat` node, or a node with `conntrack`
    /// or `idle_timeout`), or a list of them in path order.
    #[schemars(with = "Option<ViaList>")]
    pub via: Option<Field<Vec<Field<String>>>>,
    /// The node that closes first (`from` or `to`): where TIME_WAIT lands.
    pub closes_first: Field<String>,
    /// New connections per second over the whole link.
    #[schemars(with = "Option<f64>", range(min = 0.000001))]
    pub rate: Option<Field<String>>,
    /// Connections held open at once over the whole link (long-lived or pooled); they hold ports
    /// and conntrack entries.
    #[schemars(with = "Option<u64>")]
    pub open: Option<Field<String>>,
    /// The source address `from` connects from (one of its addresses), when routes or a bind
    /// choose it; without it twlint picks the address of the destination's family and scope.
    pub source: Option<Field<String>>,
    /// Whether the application sets SO_KEEPALIVE on these connections (only then do the
    /// connecting side's tcp_keepalive_* values apply). Unknown when absent.
    #[schemars(with = "Option<bool>")]
    pub keepalive: Option<Field<String>>,
}

/// `via`: one node name, or a list of them in path order.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ViaList {
    One(String),
    Many(Vec<String>),
}
