//! `twlint rules`: the catalog a check run would use (built-in rules, the configuration's and
//! `--rules` folders, the configuration's overrides), listed by `twlint::render::docs`.

use super::config::{catalog, ConfigFlags};
use super::output::{ColorChoice, DocFormat, Io};
use crate::render::docs;
use crate::source::SourceMap;
use std::io;
use std::path::PathBuf;

pub fn run(
    io: &mut Io,
    format: DocFormat,
    dirs: &[PathBuf],
    config: &ConfigFlags,
) -> io::Result<u8> {
    let mut sources = SourceMap::new();
    let catalog = match catalog(io, config, dirs, ColorChoice::Auto, &mut sources) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let level_of = |id: &str| catalog.level(id);
    match format {
        DocFormat::Json => docs::list_json(io.out, &catalog.rules, &level_of)?,
        DocFormat::Human => docs::list_text(io.out, &catalog.rules, &level_of)?,
    }
    Ok(0)
}
