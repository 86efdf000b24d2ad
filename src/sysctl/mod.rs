//! Effective values: what the assignments the readers of [`crate::inputs`] produced add up to,
//! as procps-ng 4 (`sysctl -p`, `sysctl --system`) and systemd-sysctl apply them.
//!
//! This module owns the step from assignments to effective values: `resolve` decides which
//! assignment wins for each key and reports what only shows across assignments (duplicates,
//! procps/systemd divergence). The functions here read paths or texts through the input seam
//! and resolve them. Problems in the content are
//! [`Diagnostic`](crate::diag::Diagnostic)s; only I/O failures are errors.

mod resolve;
#[cfg(test)]
mod tests;

// The records and reading limits of the input seam, under the names this layer always had.
pub use crate::inputs::{
    is_dump, normalize_key, read_sysctl_bytes, read_sysctl_text, read_text as parse_text,
    Assignment, Exclusion, ParsedFile, SourceKind, MAX_FILE_SIZE,
};
pub use resolve::{Setting, SysctlSet};

use crate::error::Result;
use crate::inputs::{self, system};
use crate::source::SourceMap;
use std::path::{Path, PathBuf};

/// Whether a dotted glob pattern (`net.ipv4.conf.*.rp_filter`) matches a dotted key as procps
/// and systemd-sysctl expand it over /proc/sys.
pub fn glob_matches(pattern: &str, key: &str) -> bool {
    resolve::glob_match(pattern, key)
}

/// Reads the files and folders in `paths` as `sysctl --system` does ([`system::read`]) and
/// resolves them as one set.
pub fn load(paths: &[PathBuf], sources: &mut SourceMap) -> Result<SysctlSet> {
    load_within(paths, sources, None)
}

/// Like [`load`], refusing (before reading) any file whose real location, symlinks followed, is
/// outside `jail`: the files of a folder named by a topology must not lead out of its tree.
pub fn load_within(
    paths: &[PathBuf],
    sources: &mut SourceMap,
    jail: Option<&Path>,
) -> Result<SysctlSet> {
    let applied = system::read(paths, sources, jail)?;
    Ok(resolve::resolve(applied.files, applied.systemd_order))
}

/// Registers one in-memory file under `path` and resolves it alone.
pub fn load_text(path: &str, text: &str, sources: &mut SourceMap) -> SysctlSet {
    let file = sources.add(path, text);
    sources.set_format(file, inputs::reader_for(text).name);
    resolve_file(inputs::read_text(file, text))
}

/// Resolves one file read on its own (a host's dump, see [`inputs::Reader::host`]).
pub fn resolve_file(file: ParsedFile) -> SysctlSet {
    resolve::resolve(vec![file], None)
}

/// Resolves the records of one unit of a file (see [`inputs::Reader::units`]), applied in
/// their order.
pub fn resolve_unit(files: Vec<ParsedFile>) -> SysctlSet {
    resolve::resolve(files, None)
}

/// [`load_as`], with the reader of each named file already known where `readers` says (see
/// [`system::read_known`]).
pub fn load_known(
    paths: &[PathBuf],
    readers: &[Option<&'static inputs::Reader>],
    sources: &mut SourceMap,
    forced: Option<&'static inputs::Reader>,
) -> Result<SysctlSet> {
    let applied = system::read_known(paths, readers, sources, None, forced)?;
    Ok(resolve::resolve(applied.files, applied.systemd_order))
}

/// A text named `name` (standard input, read by the caller) loaded as one named file alone, as
/// [`load_known`] loads a single path; `reader` is what [`inputs::recognised`] gives it, when
/// known already.
pub fn load_named_text(
    name: &str,
    text: String,
    reader: Option<&'static inputs::Reader>,
    sources: &mut SourceMap,
    forced: Option<&'static inputs::Reader>,
) -> Result<SysctlSet> {
    let applied = system::read_named_text(name, text, reader, sources, forced)?;
    Ok(resolve::resolve(applied.files, applied.systemd_order))
}

/// [`load`] with every file read by `forced` (`--input-format`) instead of the reader its
/// content chooses.
pub fn load_as(
    paths: &[PathBuf],
    sources: &mut SourceMap,
    forced: Option<&'static inputs::Reader>,
) -> Result<SysctlSet> {
    let applied = system::read_as(paths, sources, None, forced)?;
    Ok(resolve::resolve(applied.files, applied.systemd_order))
}
