//! The rule file format (`rules/<id>-<name>.yaml`) as written: the one description of its
//! fields, their shapes and their documentation. `yaml::de` reads a file into these types (first
//! phase, shape), `rules::load` checks what they mean and compiles the CEL (second phase), and
//! `twlint schema rule` prints their JSON Schema.
//!
//! Scalars are kept as the text written, each with a schema that says what the text must look
//! like; the doc comments are the schema's descriptions, for rule authors. Field order is the
//! order "allowed fields:" lists them in. Text is borrowed from the parsed tree (`serde(borrow)`):
//! the validation step copies what it keeps, so reading the shipped catalog copies each string
//! once, as the hand-walked loader did.

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
pub struct RuleFile<'a> {
    /// Permanent id, never reused.
    #[schemars(regex(pattern = r"^TW[0-9]{3}$"))]
    #[serde(borrow)]
    pub id: Field<&'a str>,
    /// Kebab-case, naming what the rule flags.
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    #[serde(borrow)]
    pub name: Field<&'a str>,
    /// Lowercase, no final period.
    #[serde(borrow)]
    pub summary: Field<&'a str>,
    /// `builtin` for checks implemented by the readers; absent for CEL rules.
    pub check: Option<Field<CheckName>>,
    /// A built-in check's severity; for a CEL rule, optional: the level of its findings when
    /// it is not the verdict's (dangerous is an error, pointless a warning).
    pub severity: Option<Field<SeverityName>>,
    pub verdict: Option<Field<VerdictName>>,
    pub scope: Option<Field<ScopeName>>,
    /// Keys this rule judges (in-scope keys only).
    #[serde(borrow)]
    pub keys: Option<Field<Vec<Field<&'a str>>>>,
    /// CEL condition over the fact model (rules/README.md).
    #[serde(borrow)]
    pub when: Option<Field<&'a str>>,
    #[serde(borrow)]
    pub message: Option<Field<&'a str>>,
    #[serde(borrow)]
    pub help: Option<Field<&'a str>>,
    #[serde(borrow)]
    pub labels: Option<Field<Vec<Field<LabelSpec<'a>>>>>,
    #[serde(borrow)]
    pub fix: Option<Field<Fix<'a>>>,
    #[serde(borrow)]
    pub docs: Field<Docs<'a>>,
    /// Counters that back or contradict the verdict in host mode.
    #[serde(borrow)]
    pub evidence: Option<Field<Vec<Field<Evidence<'a>>>>>,
}

/// A secondary label, drawn where a related key was set.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelSpec<'a> {
    pub on: Field<LabelOwner>,
    #[serde(borrow)]
    pub key: Field<&'a str>,
    #[serde(borrow)]
    pub message: Field<&'a str>,
    /// CEL condition for drawing the label.
    #[serde(borrow)]
    pub when: Option<Field<&'a str>>,
}

/// What `twlint advise` writes in the judged node's drop-in to follow the rule's advice.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fix<'a> {
    /// Key -> value; keys twlint judges, values may hold `{{ expr }}` templates.
    #[serde(borrow)]
    pub set: Field<Entries<&'a str>>,
}

/// A host counter shown beside the verdict in host mode, when its condition holds.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence<'a> {
    /// A TcpExt counter of /proc/net/netstat (e.g. TCPTimeWaitOverflow), `time_wait`, or a
    /// figure of the socket view (`close_wait`, `max_tuple_ports_in_use`,
    /// `max_tuple_ports_percent`, `time_wait_buckets_percent`).
    #[serde(borrow)]
    pub counter: Field<&'a str>,
    pub meaning: Field<EvidenceMeaning>,
    /// CEL condition over `value`, `delta` and `interval`.
    #[serde(borrow)]
    pub when: Field<&'a str>,
    /// Text shown with the counter; may hold `{{ expr }}` templates.
    #[serde(borrow)]
    pub note: Field<&'a str>,
}

/// An example: a sysctl file or a whole topology.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Example<'a> {
    /// A sysctl file; `#= PATH` lines split it into several files.
    #[serde(borrow)]
    pub sysctl: Option<Field<&'a str>>,
    /// A whole topology (version 1) with inline `set:` values.
    #[serde(borrow)]
    pub topology: Option<Field<&'a str>>,
    /// Kernel release for sysctl examples (--kernel).
    pub kernel: Option<Field<KernelRelease>>,
    /// The input format of the `sysctl` text when it is not sysctl.conf (`--input-format`:
    /// kubernetes, compose).
    #[serde(borrow)]
    pub format: Option<Field<&'a str>>,
    /// The node it must fire on.
    #[serde(borrow)]
    pub node: Option<Field<&'a str>>,
}

/// The documentation sections.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Docs<'a> {
    #[serde(borrow)]
    pub what: Field<&'a str>,
    #[serde(borrow)]
    pub why: Field<&'a str>,
    /// Must fire (a test checks it).
    #[serde(borrow)]
    pub example: Field<Example<'a>>,
    /// Must not fire.
    #[serde(borrow)]
    pub use_instead: Field<Example<'a>>,
    /// Kernel versions; say UNVERIFIED where a release is not confirmed.
    #[serde(borrow)]
    pub kernel: Field<&'a str>,
    #[serde(borrow)]
    pub references: Field<Vec<Field<&'a str>>>,
}
