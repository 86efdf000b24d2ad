//! `twlint rules`: the catalog a check run would use (built-in rules, the configuration's and
//! `--rules` folders, the configuration's overrides), listed by `twlint::render::docs`. The
//! shipped catalog alone is listed from the build's index of its files, without loading them.

use super::config::{listing, ConfigFlags, Listing};
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
    let listed = match listing(io, config, dirs, ColorChoice::Auto, &mut sources) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let (headers, catalog) = match &listed {
        Listing::Index(headers) => (headers.clone(), None),
        Listing::Loaded(c) => (c.rules.rules.iter().map(|r| r.header()).collect(), Some(c)),
    };
    let level_of = |id: &str| catalog.and_then(|c| c.level(id));
    // Buffered: stdout is line-buffered, one write() per line otherwise.
    let mut out = io::BufWriter::with_capacity(1 << 16, &mut *io.out);
    match format {
        DocFormat::Json => docs::list_json(&mut out, &headers, &level_of)?,
        DocFormat::Human => docs::list_text(&mut out, &headers, &level_of)?,
    }
    out.flush()?;
    Ok(0)
}
