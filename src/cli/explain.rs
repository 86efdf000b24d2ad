//! `twlint explain RULE`: finds the rule (by id or name, with a suggestion when it is
//! misspelt) in the catalog a check run would use, and prints its documentation
//! (`twlint::render::docs`). Of the shipped rules it loads only the one it explains (and
//! those the configuration's overrides name), unless the name is unknown.

use super::config::{catalog_for_rule, ConfigFlags};
use super::output::{ColorChoice, DocFormat, Io};
use crate::diag::did_you_mean;
use crate::render::docs;
use crate::source::SourceMap;
use std::io::{self, Write};
use std::path::PathBuf;

pub fn run(
    io: &mut Io,
    id: &str,
    format: DocFormat,
    dirs: &[PathBuf],
    config: &ConfigFlags,
) -> io::Result<u8> {
    let mut sources = SourceMap::new();
    let catalog = match catalog_for_rule(io, config, dirs, id, ColorChoice::Auto, &mut sources) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let rules = &catalog.rules;
    let Some(rule) = rules.get(id) else {
        let all = rules
            .rules
            .iter()
            .flat_map(|r| [r.id.as_str(), r.name.as_str()]);
        let hint = did_you_mean(id, all)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_else(|| "; run `twlint rules` to list them".into());
        return io.fail(format!("unknown rule `{id}`{hint}"));
    };
    let level = catalog.level(&rule.id);
    // Buffered: stdout is line-buffered, one write() per line otherwise.
    let mut out = io::BufWriter::with_capacity(1 << 16, &mut *io.out);
    match format {
        DocFormat::Json => docs::explain_json(&mut out, rule, level)?,
        DocFormat::Human => docs::explain_text(
            &mut out,
            rule,
            level,
            catalog.project.as_ref().map(|p| p.path.as_path()),
        )?,
    }
    out.flush()?;
    Ok(0)
}
