//! The rule file format (`rules/<id>-<name>.yaml`) as written: the one description of its
//! fields, their shapes and their documentation. `yaml::de` reads a file into these types (first
//! phase, shape), `rules::load` checks what they mean and compiles the CEL (second phase), and
//! `twlint schema rule` prints their JSON Schema.
//!
//! Scalars are kept as the text written, each with a schema that says what the text must look
//! like; the doc comments are the schema's descriptions, for rule authors. Field order is the
//! order "allowed fields:" lists them in.

use crate::yaml::de::{text_leaf, Entries, Field, KernelRelease};
use schemars::JsonSchema;
use serde::Deserialize;

text_leaf!(
    /// `check:` as written.
    CheckName,
    {"enum": ["builtin"], "type": "string"}
);

text_leaf!(
    /// `severity:` as written.
    SeverityName,
    {"enum": ["error", "warning", "info"], "type": "string"}
);

text_leaf!(
    /// `verdict:` as written.
    VerdictName,
    {"enum": ["safe", "pointless", "dangerous"], "type": "string"}
);

text_leaf!(
    /// `scope:` as written.
    ScopeName,
    {
        "oneOf": [
            {"const": "node", "description": "Once per node (also without a topology).", "type": "string"},
            {"const": "hop", "description": "Per link end.", "type": "string"}
        ]
    }
);

text_leaf!(
    /// A label's `on:` as written.
    LabelOwner,
    {"enum": ["node", "peer"], "type": "string"}
);

text_leaf!(
    /// An evidence item's `meaning:` as written.
    EvidenceMeaning,
    {
        "description": "Whether a counter backs or undermines the verdict.",
        "enum": ["supports", "contradicts"],
        "type": "string"
    }
);

/// A twlint rule file (`rules/<id>-<name>.yaml`).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "twlint rule")]
pub struct RuleFile {
    /// Permanent id, never reused.
    #[schemars(regex(pattern = r"^TW[0-9]{3}$"))]
    pub id: Field<String>,
    /// Kebab-case, naming what the rule flags.
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub name: Field<String>,
    /// Lowercase, no final period.
    pub summary: Field<String>,
    /// `builtin` for checks implemented by the readers; absent for CEL rules.
    pub check: Option<Field<CheckName>>,
    /// Built-in checks only.
    pub severity: Option<Field<SeverityName>>,
    pub verdict: Option<Field<VerdictName>>,
    pub scope: Option<Field<ScopeName>>,
    /// Keys this rule judges (in-scope keys only).
    pub keys: Option<Field<Vec<Field<String>>>>,
    /// CEL condition over the fact model (rules/README.md).
    pub when: Option<Field<String>>,
    pub message: Option<Field<String>>,
    pub help: Option<Field<String>>,
    pub labels: Option<Field<Vec<Field<LabelSpec>>>>,
    pub fix: Option<Field<Fix>>,
    pub docs: Field<Docs>,
    /// Counters that back or contradict the verdict in host mode.
    pub evidence: Option<Field<Vec<Field<Evidence>>>>,
}

/// A secondary label, drawn where a related key was set.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelSpec {
    pub on: Field<LabelOwner>,
    pub key: Field<String>,
    pub message: Field<String>,
    /// CEL condition for drawing the label.
    pub when: Option<Field<String>>,
}

/// What `twlint advise` writes in the judged node's drop-in to follow the rule's advice.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fix {
    /// Key -> value; keys twlint judges, values may hold `{{ expr }}` templates.
    pub set: Field<Entries<String>>,
}

/// A host counter shown beside the verdict in host mode, when its condition holds.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// A TcpExt counter of /proc/net/netstat (e.g. TCPTimeWaitOverflow), `time_wait`, or a
    /// figure of the socket view (`close_wait`, `max_tuple_ports_in_use`,
    /// `max_tuple_ports_percent`, `time_wait_buckets_percent`).
    pub counter: Field<String>,
    pub meaning: Field<EvidenceMeaning>,
    /// CEL condition over `value`, `delta` and `interval`.
    pub when: Field<String>,
    /// Text shown with the counter; may hold `{{ expr }}` templates.
    pub note: Field<String>,
}

/// An example: a sysctl file or a whole topology.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// A sysctl file; `#= PATH` lines split it into several files.
    pub sysctl: Option<Field<String>>,
    /// A whole topology (version 1) with inline `set:` values.
    pub topology: Option<Field<String>>,
    /// Kernel release for sysctl examples (--kernel).
    pub kernel: Option<Field<KernelRelease>>,
    /// The node it must fire on.
    pub node: Option<Field<String>>,
}

/// The documentation sections.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Docs {
    pub what: Field<String>,
    pub why: Field<String>,
    /// Must fire (a test checks it).
    pub example: Field<Example>,
    /// Must not fire.
    pub use_instead: Field<Example>,
    /// Kernel versions; say UNVERIFIED where a release is not confirmed.
    pub kernel: Field<String>,
    pub references: Field<Vec<Field<String>>>,
}
