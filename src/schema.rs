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

/// The JSON Schema of topology files.
pub fn topology() -> Value {
    serde_json::to_value(schemars::schema_for!(crate::topology::raw::Topology))
        .expect("schemas serialise")
}

/// The JSON Schema of rule files.
pub fn rule() -> Value {
    serde_json::to_value(schemars::schema_for!(crate::rules::raw::RuleFile))
        .expect("schemas serialise")
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
