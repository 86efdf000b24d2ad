//! `twlint rules`: the catalog a check run would use (built-in rules, the configuration's and
//! `--rules` folders, the configuration's overrides), listed by `twlint::render::docs`.

use super::config::{catalog, ConfigFlags};
use super::output::{ColorChoice, DocFormat, Io};
use crate::render::docs;
use crate::source::SourceMap;
use std::io::{self, Write};
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
    // Buffered: stdout is line-buffered, one write() per line otherwise.
    let mut out = io::BufWriter::with_capacity(1 << 16, &mut *io.out);
    match format {
        DocFormat::Json => docs::list_json(&mut out, &catalog.rules, &level_of)?,
        DocFormat::Human => docs::list_text(&mut out, &catalog.rules, &level_of)?,
    }
    out.flush()?;
    Ok(0)
}
