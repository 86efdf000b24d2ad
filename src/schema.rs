//! JSON Schemas of the topology, rule and configuration formats, for editors and validators.
//!
//! twlint reads these files with its own spanned loaders (`topology`, `rules::load`, `settings`),
//! not with serde, so the schemas are generated (with `schemars`) from schema-only mirror types
//! kept here. They describe the same fields, types and value sets as the loaders; the loaders
//! stay the judges of what cross-references (node names, ids against file names, CEL) mean. The
//! mirrors are kept honest by `tests/schema.rs`, which validates every shipped topology and rule
//! file against the generated schemas and checks that wrong files fail them.
//!
//! [`yaml_to_json`] turns a spanned YAML tree into the JSON value the schemas describe, reading
//! plain scalars as YAML 1.2 core types (numbers, booleans, null) and quoted ones as strings.

#![allow(dead_code)] // The mirror types exist only for their schemas.

use crate::yaml::{parse_float, parse_int, ScalarStyle, YamlNode};
use schemars::JsonSchema;
use serde_json::Value;

/// A kernel release such as "6.8" or "5.15.0-91-generic"; quote it, or `6.10` reads as 6.1.
#[derive(JsonSchema)]
#[serde(untagged)]
enum KernelRelease {
    Text(String),
    Number(f64),
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum VerdictName {
    Safe,
    Pointless,
    Dangerous,
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum SeverityName {
    Error,
    Warning,
    Info,
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum ScopeName {
    /// Once per node (also without a topology).
    Node,
    /// Per link end.
    Hop,
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum CheckName {
    Builtin,
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum LabelOwner {
    Node,
    Peer,
}

/// A secondary label, drawn where a related key was set.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct LabelSpec {
    on: LabelOwner,
    key: String,
    message: String,
    /// CEL condition for drawing the label.
    when: Option<String>,
}

/// What `twlint advise` writes in the judged node's drop-in to follow the rule's advice.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Fix {
    /// Key -> value; keys twlint judges, values may hold `{{ expr }}` templates.
    set: std::collections::BTreeMap<String, String>,
}

/// Whether a counter backs or undermines the verdict.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum EvidenceMeaning {
    Supports,
    Contradicts,
}

/// A host counter shown beside the verdict in host mode, when its condition holds.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Evidence {
    /// A TcpExt counter of /proc/net/netstat (e.g. TCPTimeWaitOverflow), `time_wait`, or a
    /// figure of the socket view (`close_wait`, `max_tuple_ports_in_use`,
    /// `max_tuple_ports_percent`, `time_wait_buckets_percent`).
    counter: String,
    meaning: EvidenceMeaning,
    /// CEL condition over `value`, `delta` and `interval`.
    when: String,
    /// Text shown with the counter; may hold `{{ expr }}` templates.
    note: String,
}

/// An example: a sysctl file or a whole topology.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Example {
    /// A sysctl file; `#= PATH` lines split it into several files.
    sysctl: Option<String>,
    /// A whole topology (version 1) with inline `set:` values.
    topology: Option<String>,
    /// Kernel release for sysctl examples (--kernel).
    kernel: Option<KernelRelease>,
    /// The node it must fire on.
    node: Option<String>,
}

/// The documentation sections.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Docs {
    what: String,
    why: String,
    /// Must fire (a test checks it).
    example: Example,
    /// Must not fire.
    use_instead: Example,
    /// Kernel versions; say UNVERIFIED where a release is not confirmed.
    kernel: String,
    references: Vec<String>,
}

/// A twlint rule file (`rules/<id>-<name>.yaml`).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "twlint rule")]
struct RuleFile {
    /// Permanent id, never reused.
    #[schemars(regex(pattern = r"^TW[0-9]{3}$"))]
    id: String,
    /// Kebab-case, naming what the rule flags.
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    name: String,
    /// Lowercase, no final period.
    summary: String,
    /// `builtin` for checks implemented by the readers; absent for CEL rules.
    check: Option<CheckName>,
    /// Built-in checks only.
    severity: Option<SeverityName>,
    verdict: Option<VerdictName>,
    scope: Option<ScopeName>,
    /// Keys this rule judges (in-scope keys only).
    keys: Option<Vec<String>>,
    /// CEL condition over the fact model (rules/README.md).
    when: Option<String>,
    message: Option<String>,
    help: Option<String>,
    labels: Option<Vec<LabelSpec>>,
    fix: Option<Fix>,
    /// Counters that back or contradict the verdict in host mode.
    evidence: Option<Vec<Evidence>>,
    docs: Docs,
}

/// The JSON Schema of topology files.
pub fn topology() -> Value {
    serde_json::to_value(schemars::schema_for!(crate::topology::raw::Topology))
        .expect("schemas serialise")
}

/// The JSON Schema of rule files.
pub fn rule() -> Value {
    serde_json::to_value(schemars::schema_for!(RuleFile)).expect("schemas serialise")
}

/// The JSON Schema of `.twlint.yaml`.
pub fn config() -> Value {
    serde_json::to_value(schemars::schema_for!(crate::settings::ConfigFile))
        .expect("schemas serialise")
}

/// A spanned YAML tree as JSON: plain scalars typed as YAML 1.2 core reads them.
pub fn yaml_to_json(node: &YamlNode) -> Value {
    match node {
        YamlNode::Scalar { value, style } => {
            let v = value.value.as_str();
            if *style != ScalarStyle::Plain {
                return Value::String(v.to_string());
            }
            if let Some(i) = parse_int(v) {
                return Value::from(i);
            }
            if let Some(f) = parse_float(v).filter(|f| f.is_finite()) {
                return serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number);
            }
            match v {
                "true" | "True" | "TRUE" => Value::Bool(true),
                "false" | "False" | "FALSE" => Value::Bool(false),
                "null" | "Null" | "NULL" | "~" | "" => Value::Null,
                _ => Value::String(v.to_string()),
            }
        }
        YamlNode::Sequence { items, .. } => Value::Array(items.iter().map(yaml_to_json).collect()),
        YamlNode::Mapping { entries, .. } => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.value.clone(), yaml_to_json(v)))
                .collect(),
        ),
        YamlNode::Null(_) => Value::Null,
    }
}
