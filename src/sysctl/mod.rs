//! Reading sysctl configuration the way procps-ng 4 (`sysctl -p`, `sysctl --system`) and
//! systemd-sysctl read it, with a span on everything.
//!
//! This module owns the path from files on disk (or one text in memory) to effective values:
//! `parse` reads the line grammar of one file, `dump` recognises `sysctl -a` output, `load` finds
//! and orders files as `sysctl --system` does, and `resolve` decides which assignment wins for
//! each key and reports what only shows across assignments (duplicates, procps/systemd
//! divergence). Problems in the content are [`Diagnostic`]s; only I/O failures are
//! errors.

mod dump;
mod load;
mod parse;
mod resolve;

pub use dump::is_dump;
pub use load::{load, load_within, read_sysctl_bytes, read_sysctl_text, MAX_FILE_SIZE, MAX_LINES};
pub use parse::normalize_key;
pub use resolve::{Setting, SysctlSet};

use crate::diag::Diagnostic;
use crate::source::{FileId, SourceMap, Span, Spanned};

/// Whether a file holds settings someone wrote, or a host's state printed by `sysctl -a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    File,
    Dump,
}

/// One `key = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The key in dotted form (see [`normalize_key`]); the span covers the key as written,
    /// without a leading `-`.
    pub key: Spanned<String>,
    /// The value as procps writes it: everything after the first `=`, blanks stripped at both
    /// ends, inner blanks (tabs too) kept. An empty value has an empty span right after `=`.
    pub value: Spanned<String>,
    /// The line starts with `-`: write failures are to be ignored.
    pub ignore_failure: bool,
    /// The key contains `*`, `?` or `[` and is expanded over /proc/sys by the tools.
    pub glob: bool,
    /// The whole line, without its end-of-line bytes.
    pub line: Span,
}

/// A `-key` line without `=`: the key is excluded from glob assignments (procps 4, systemd).
/// Both tools compare it literally with the keys a glob expands to; it is not itself a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    pub pattern: Spanned<String>,
}

/// One file after parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    pub file: FileId,
    pub kind: SourceKind,
    pub assignments: Vec<Assignment>,
    pub exclusions: Vec<Exclusion>,
    /// The value of `kernel.osrelease` when the file is a dump.
    pub kernel_release: Option<Spanned<String>>,
    /// Problems found in this file alone.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one text, deciding with [`is_dump`] whether it is configuration or a dump.
/// Every assignment is kept, a dump's too; judging a dump needs only a few of its lines
/// ([`DumpLines`], [`load_registered_dump`]).
pub fn parse_text(file: FileId, text: &str) -> ParsedFile {
    let kind = if is_dump(text) {
        SourceKind::Dump
    } else {
        SourceKind::File
    };
    parse::parse(file, text, kind)
}

/// A text recognised as a `sysctl -a` dump, with the lines twlint reads from it: the keys it
/// judges and `kernel.osrelease`. Finding them is the same pass as recognising the dump, and
/// needs no [`FileId`], so it can run before the text is registered.
#[derive(Debug, Clone)]
pub struct DumpLines(Vec<dump::LineAt>);

/// Whether twlint reads a key of a dump.
fn judged_in_dump(key: &str) -> bool {
    key == "kernel.osrelease" || crate::kernel::spec(key).is_some()
}

impl DumpLines {
    /// `None` when `text` is not a dump (see [`is_dump`]).
    pub fn scan(text: &str) -> Option<DumpLines> {
        dump::scan::<false>(text, judged_in_dump).map(|s| DumpLines(s.kept))
    }

    /// [`DumpLines::scan`], and the dump as it is registered under `path`: reduced to the lines
    /// twlint reads (the others emptied, every line keeping its number and every kept line its
    /// columns), with the line index found in the same pass. A thousand dumps then take a few
    /// megabytes instead of their whole text; nothing twlint reports points elsewhere in them
    /// (tests/dump_lines.rs compares reports both ways). `None` when `text` is not a dump.
    pub(crate) fn scan_compact(
        path: String,
        text: &str,
    ) -> Option<(DumpLines, crate::source::SourceFile)> {
        let s = dump::scan::<true>(text, judged_in_dump)?;
        Some((
            DumpLines(s.kept),
            crate::source::SourceFile::with_line_starts(path, s.compact, s.line_starts),
        ))
    }
}

/// Whether a dotted glob pattern (`net.ipv4.conf.*.rp_filter`) matches a dotted key as procps
/// and systemd-sysctl expand it over /proc/sys.
pub fn glob_matches(pattern: &str, key: &str) -> bool {
    resolve::glob_match(pattern, key)
}

/// Registers one in-memory file under `path` and resolves it alone.
pub fn load_text(path: &str, text: &str, sources: &mut SourceMap) -> SysctlSet {
    let file = sources.add(path, text);
    load_registered(file, text)
}

/// Resolves one file already registered in a [`SourceMap`] as `file` (with `text` its text)
/// alone. It needs no access to the map, so many files can be read at once.
pub fn load_registered(file: FileId, text: &str) -> SysctlSet {
    resolve::resolve(vec![parse_text(file, text)], None)
}

/// [`load_registered`] for a text already recognised as a dump by [`DumpLines::scan`]: only
/// the lines it kept are parsed. The others are the kernel's output for keys no rule or check
/// reads (tests/dump_lines.rs judges dumps both ways and compares the reports).
pub fn load_registered_dump(file: FileId, text: &str, lines: &DumpLines) -> SysctlSet {
    resolve::resolve(vec![parse::parse_dump_lines(file, text, &lines.0)], None)
}
