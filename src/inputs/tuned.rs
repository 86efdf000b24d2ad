//! The tuned profile reader: the `[sysctl]` section of a `tuned.conf`.
//!
//! tuned reads a profile with Python's configparser (`=` the only delimiter, `#` and `;`
//! comment lines, ` #` starting an inline comment) and its sysctl plugin writes each option of
//! `[sysctl]` to /proc/sys when the profile is applied. The other sections (`[main]`, `[cpu]`,
//! `[vm]`, ...) tune other things and are not read. `${var}` and `${f:...}` values are expanded
//! by tuned and not judged (TW083). `include=` in `[main]` loads other profiles first, so the
//! including profile wins: [`includes`] names them, and the folder reader applies a profile
//! found beside (`../NAME/tuned.conf`) before the one that includes it; one not found is said
//! (TW084).

use super::container::line_at;
use super::script::not_judged;
use super::{conf, Assignment, ParsedFile, Reader, SourceKind};
use crate::code::Code;
use crate::diag::{Diagnostic, Severity};
use crate::source::{FileId, Span, Spanned};

#[allow(non_upper_case_globals)] // named like the other readers' kinds
impl SourceKind {
    /// The `[sysctl]` section of a tuned profile, written when tuned applies it.
    pub const Tuned: SourceKind = SourceKind::written("tuned");
}

/// The registration of this reader.
pub(super) static READER: Reader = Reader {
    name: "tuned",
    kind: SourceKind::Tuned,
    recognises: is_profile,
    read: |file, text| read(file, text, &[]),
    host: None,
    units: None,
};

/// Whether a text is a tuned profile: INI sections, one of them `[main]` or `[sysctl]`. A
/// sysctl file has no line that starts with `[`.
pub fn is_profile(text: &str) -> bool {
    // A section header holds `]`; a large text without one is not walked line by line.
    memchr::memchr(b']', text.as_bytes()).is_some()
        && sections(text).any(|(name, _)| name == "main" || name == "sysctl")
}

/// The section headers of an INI text: (name, byte offset of the line after the header).
fn sections(text: &str) -> impl Iterator<Item = (&str, usize)> {
    let mut pos = 0;
    text.split_inclusive('\n').filter_map(move |line| {
        let start = pos;
        pos += line.len();
        let t = line.trim();
        let name = t.strip_prefix('[')?.strip_suffix(']')?;
        (start == 0 || !line.starts_with([' ', '\t'])).then_some((name.trim(), pos))
    })
}

/// The lines of an INI text, each (offset, line without its end of line) with the section it
/// is in.
fn lines_in(text: &str) -> Vec<(&str, usize, &str)> {
    let mut section = "";
    let mut out = Vec::new();
    let mut pos = 0;
    for raw in text.split_inclusive('\n') {
        let at = pos;
        pos += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let t = line.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = name.trim();
            continue;
        }
        out.push((section, at, line));
    }
    out
}

/// The profiles named by `include=` in `[main]`, in order (a comma or blank separated list).
pub fn includes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (section, _, line) in lines_in(text) {
        if section != "main" {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if k.trim() == "include" {
            let v = strip_comment(v);
            out.extend(
                v.split([',', ' ', '\t'])
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
        }
    }
    out
}

/// A value without an inline comment (configparser's `inline_comment_prefixes=('#',)`: a `#`
/// after a blank).
fn strip_comment(v: &str) -> &str {
    let b = v.as_bytes();
    let cut = (1..b.len()).find(|&i| b[i] == b'#' && (b[i - 1] == b' ' || b[i - 1] == b'\t'));
    match cut {
        Some(i) => &v[..i],
        None => v,
    }
}

/// Reads the `[sysctl]` section. `found` lists the included profiles the caller found and
/// applies before this one; the others are reported (TW084).
pub fn read(file: FileId, text: &str, found: &[String]) -> ParsedFile {
    let mut out = ParsedFile::empty(file, SourceKind::Tuned);
    for (section, at, line) in lines_in(text) {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with(['#', ';']) {
            continue;
        }
        let Some(eq) = line.find('=') else { continue };
        let (k, v) = (&line[..eq], strip_comment(&line[eq + 1..]));
        let ks = at + (k.len() - k.trim_start().len());
        let key = k.trim();
        let vs = at + eq + 1 + (v.len() - v.trim_start().len());
        let value = v.trim();
        let key_span = Span::new(file, ks, ks + key.len());
        let value_span = Span::new(file, vs, vs + value.len());
        if section == "main" && key == "include" {
            for name in value.split([',', ' ', '\t']).filter(|s| !s.is_empty()) {
                if !found.iter().any(|f| f == name) && !name.contains("${") {
                    out.diagnostics.push(not_found(name, value_span));
                }
            }
            continue;
        }
        if section != "sysctl" || key.is_empty() {
            continue;
        }
        let dotted = conf::normalize_key(key);
        if value.contains("${") {
            out.diagnostics
                .push(not_judged(&dotted, value, value_span, "tuned"));
            continue;
        }
        out.assignments.push(Assignment {
            key: Spanned::new(dotted, key_span),
            value: Spanned::new(value.into(), value_span),
            ignore_failure: false,
            // tuned writes the name as given, without expanding globs.
            glob: false,
            line: line_at(file, text, ks),
            // tuned writes each option of the section on its own: its line goes alone.
            entry: Some(line_at(file, text, ks)),
            placement: None,
        });
    }
    out
}

/// TW084: an included profile not read.
fn not_found(name: &str, at: Span) -> Diagnostic {
    Diagnostic::new(
        Code::TW084,
        Severity::Info,
        format!("this profile includes `{name}`, which twlint judges only when named or beside it"),
    )
    .at(at, "applied before this profile's values")
    .with_help(format!(
        "name `{name}/tuned.conf` too, or keep it in the folder beside this profile's (`../{name}/tuned.conf`)"
    ))
    .with_note("tuned applies an included profile first: this profile's values win where both set a key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_recognised_by_their_sections_and_inline_comments_are_stripped() {
        assert!(is_profile("[main]\ninclude=x\n"));
        assert!(is_profile("# c\n[sysctl]\nvm.swappiness=1\n"));
        assert!(!is_profile("net.ipv4.tcp_tw_reuse = 1\n"));
        assert!(!is_profile("[cpu]\nforce_latency=1\n"));
        assert_eq!(strip_comment("3 # note"), "3 ");
        assert_eq!(strip_comment("a#b"), "a#b");
        assert_eq!(
            includes("[main]\ninclude=a, b # c\n[sysctl]\ninclude=z\n"),
            ["a", "b"]
        );
    }
}
