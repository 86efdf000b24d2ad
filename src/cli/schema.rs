//! `twlint schema KIND`: the JSON Schema of a file format (topology, rule, `.twlint.yaml`), for
//! editors and validators, or of the JSON report.

use clap::ValueEnum;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaKind {
    /// Topology files (format version 1)
    Topology,
    /// Rule files (rules/*.yaml and --rules folders)
    Rule,
    /// The project configuration, .twlint.yaml
    Config,
    /// The JSON report (`--format json`, version 1)
    Report,
}

pub fn run(out: &mut dyn Write, kind: SchemaKind) -> io::Result<u8> {
    let v = match kind {
        SchemaKind::Topology => crate::schema::topology(),
        SchemaKind::Rule => crate::schema::rule(),
        SchemaKind::Config => crate::schema::config(),
        SchemaKind::Report => crate::schema::report(),
    };
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)?;
    Ok(0)
}
