//! Autofix: the edits that repair a finding in the file it is written in (`--fix`, `--diff`,
//! SARIF `fixes`), as ruff does.
//!
//! A fix is computed from a diagnostic of the report and the spans the file's reader records
//! for the assignment it is about: the key, the value, and the entry that sets it and nothing
//! else (a line of a sysctl file or a tuned profile, a YAML list item or mapping entry, a
//! script's command, a Nix attribute, an Ansible task; see [`Assignment::entry`]). The file is
//! read again with the reader that read it ([`SourceFile::format`]), so every format is
//! repaired from the places its one reader found, never by parsing it a second way; a dump is
//! a host's state, not a file to edit. Every fix replaces one byte range and leaves every other
//! byte of the file as it was. A fix is **safe** when the file then says what its author
//! evidently meant and nothing else changes: an entry the judged kernel does not have is
//! dropped (the write fails there anyway), a reversed port range is put in order, the quotes
//! the kernel would receive are removed, an inline comment moves to its own line above, an
//! overridden earlier assignment is dropped (the later one wins under both tools). A fix that
//! picks a value or a key the author did not write (the suggested spelling of an unknown key)
//! is **unsafe** and needs `--unsafe-fixes`. This module only computes and applies edits to
//! text; the command line writes the files.

use crate::code::Code;
use crate::config::KernelOrigin;
use crate::diag::Diagnostic;
use crate::inputs::{AssignmentRef, ParsedFile, Reader};
use crate::report::Report;
use crate::source::{FileId, SourceFile, SourceMap, Span};
use std::collections::HashMap;

/// Whether a fix may be applied without asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Safety {
    /// Keeps the meaning the author wrote: applied by `--fix`.
    Safe,
    /// Changes what the file asks for: applied only with `--unsafe-fixes`.
    Unsafe,
}

impl Safety {
    pub fn as_str(self) -> &'static str {
        match self {
            Safety::Safe => "safe",
            Safety::Unsafe => "unsafe",
        }
    }
}

/// Every fix twlint makes: the rule, the fix's safety and what it does. `fix_for` takes its
/// titles from here, and the rule pages of `docs/rules/` list them.
pub const CATALOG: &[(&str, Safety, &str)] = &[
    ("TW002", Safety::Unsafe, "use the suggested key"),
    (
        "TW004",
        Safety::Safe,
        "put the reversed port range in order",
    ),
    ("TW005", Safety::Safe, "move the comment to its own line"),
    (
        "TW006",
        Safety::Safe,
        "drop the assignment a later one of the same file overrides",
    ),
    (
        "TW006",
        Safety::Unsafe,
        "drop the assignment another file, or a later one applied another way, overrides",
    ),
    ("TW008", Safety::Safe, "remove the quotes"),
    (
        "TW100",
        Safety::Safe,
        "drop the setting: the kernel has no such key",
    ),
    (
        "TW100",
        Safety::Unsafe,
        "drop the setting: the assumed kernel has no such key",
    ),
    (
        "TW101",
        Safety::Safe,
        "drop the setting: the kernel has no such key",
    ),
    (
        "TW101",
        Safety::Unsafe,
        "drop the setting: the assumed kernel has no such key",
    ),
];

/// The formats whose files apply values in more than one way (see TW006 in [`fix_in`]).
const MIXED: [&str; 4] = ["cloud-init", "shell", "ansible", "kubernetes"];

/// The catalog's title of the fix of `code` with `safety`.
fn title(code: &str, safety: Safety) -> &'static str {
    CATALOG
        .iter()
        .find(|(c, s, _)| *c == code && *s == safety)
        .map_or("fix", |(_, _, t)| t)
}

/// One fix: replace the bytes of `span` with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// The rule whose finding it repairs.
    pub code: String,
    pub safety: Safety,
    /// What the fix does, in a few words ("drop the line", "remove the quotes").
    pub title: String,
    pub span: Span,
    pub replacement: String,
}

/// The byte range of the line holding `offset`: its start, the end of its content (before `\n`
/// and a `\r` before it) and the end of the line with its line feed.
fn line_of(text: &str, offset: usize) -> (usize, usize, usize) {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let (content_end, end) = match text[offset..].find('\n') {
        Some(i) => (offset + i, offset + i + 1),
        None => (text.len(), text.len()),
    };
    let content_end = if text[start..content_end].ends_with('\r') {
        content_end - 1
    } else {
        content_end
    };
    (start, content_end, end)
}

/// The reader whose spans a file's fixes are computed from: the one that read it, when its
/// values are settings someone wrote (not a dump, a host's state as the kernel printed it).
pub fn reader_of(file: &SourceFile) -> Option<&'static Reader> {
    let reader = crate::inputs::reader_named(file.format?)?;
    (!reader.kind.is_printed()).then_some(reader)
}

/// The line feed a file uses (CRLF kept for CRLF files).
fn newline(text: &str, line_end: usize, content_end: usize) -> &'static str {
    if line_end > content_end + 1 || text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// The bytes to delete to remove an entry (see [`Assignment::entry`]) from `text`: its whole
/// lines, indentation and line feed included, when nothing but blanks is before it on its
/// first line and nothing but blanks and a comment after it on its last. `None` when something
/// else shares those lines: removing the entry alone would leave that text behind, joined to
/// what follows in ways the format may read differently.
fn removal(text: &str, entry: Span) -> Option<(usize, usize)> {
    if entry.to() <= entry.from() || entry.to() > text.len() {
        return None;
    }
    let (ls, _, _) = line_of(text, entry.from());
    // A span that ends with its line feed (a YAML block node) ends on the line before.
    let last = if text.as_bytes()[entry.to() - 1] == b'\n' {
        entry.to() - 1
    } else {
        entry.to()
    };
    let (_, ce, le) = line_of(text, last);
    let blank = |s: &str| s.bytes().all(|b| b == b' ' || b == b'\t');
    let after = text[last.min(ce)..ce].trim_start_matches([' ', '\t', '\r']);
    (blank(&text[ls..entry.from()]) && (after.is_empty() || after.starts_with('#')))
        .then_some((ls, le))
}

/// The assignment a diagnostic is about: the one of its key whose key or value holds its
/// place, or whose line does (TW006 points at the whole overridden line).
fn assignment_at<'a>(
    d: &Diagnostic,
    parsed: &'a ParsedFile,
    at: Span,
) -> Option<AssignmentRef<'a>> {
    let key = d.key.as_deref();
    parsed.assignments.iter().find(|a| {
        key.is_none_or(|k| a.key() == k)
            && (a.key_span().contains(at)
                || a.value_span().contains(at)
                || (key.is_some() && a.line().contains(at)))
    })
}

/// The fix for one diagnostic of `report` about the assignment `a` (as its reader recorded it
/// in `text`, a file of `format`), when twlint knows one.
fn fix_in(
    d: &Diagnostic,
    format: &str,
    text: &str,
    parsed: &ParsedFile,
    a: AssignmentRef<'_>,
    report: &Report,
) -> Option<Fix> {
    let at = d.primary.as_ref()?.span;
    let file = at.file;
    let fix = |safety, (start, end): (usize, usize), replacement: String| {
        Some(Fix {
            code: d.code.clone(),
            safety,
            title: title(&d.code, safety).to_string(),
            span: Span::new(file, start, end),
            replacement,
        })
    };
    let (ks, ke) = (a.key_span().from(), a.key_span().to());
    let (vs, ve) = (a.value_span().from(), a.value_span().to());
    // The value as the file writes it is the value the reader read: a span that stands for
    // more (a YAML scalar with escapes, whose parts map to the whole scalar) is not edited.
    let value_exact = text.get(vs..ve) == Some(a.value());
    let code = d.code.as_str();
    if code == Code::TW006 {
        // The diagnostic sits on the overridden assignment; the later one wins under procps and
        // systemd-sysctl alike. In another file the winner only wins when both are applied
        // together (`sysctl --system`), not after a `sysctl -p` of this file alone: unsafe.
        // A format that applies values in more than one way (a file written for every boot and
        // a command run once, a pod's sysctls and its init containers' commands) may override
        // a lasting value with a passing one: there dropping the earlier one changes what a
        // reboot or a restart ends with.
        // Two members of one YAML collection (a pod's `sysctls` list) are applied the same way.
        let winner_beside = d.secondary.iter().all(|l| {
            parsed.assignments.iter().any(|w| {
                w.line() == l.span
                    && w.key() == a.key()
                    && w.collection().is_some()
                    && w.collection().map(|c| c.0) == a.collection().map(|c| c.0)
            })
        });
        let one_way = !MIXED.contains(&format) || winner_beside;
        let same_file = d.secondary.iter().all(|l| l.span.file == file);
        let safety = if same_file && one_way {
            Safety::Safe
        } else {
            Safety::Unsafe
        };
        return fix(safety, removal(text, a.entry()?)?, String::new());
    }
    if code == Code::TW008 {
        // Only the sysctl.conf grammar reports quotes (elsewhere they are the format's syntax).
        let value = a.value();
        let inner = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))?;
        if inner.contains(['"', '\'']) || !value_exact {
            return None;
        }
        return fix(Safety::Safe, (vs, ve), inner.to_string());
    }
    if code == Code::TW005 {
        // The comment starts at the diagnostic's place; the value before it is kept, the
        // comment goes on its own line above, with the setting's indentation, so a reader still
        // sees it next to the setting. Only an assignment alone on its line (a sysctl file's,
        // or one in a YAML block) moves.
        let (ls, ce, le) = line_of(text, ks);
        let indent_end = ls + text[ls..].len() - text[ls..].trim_start_matches([' ', '\t']).len();
        let head = &text[indent_end..ks];
        let in_value = vs < at.from() && at.from() <= ve && value_exact;
        if !in_value || !(head.is_empty() || head == "-") || !text[ve..ce].trim().is_empty() {
            return None;
        }
        let comment = text[at.from()..ve].trim_end();
        let kept = text[ls..at.from()].trim_end();
        let nl = newline(text, le, ce);
        let tail = &text[ce..le];
        let indent = &text[ls..indent_end];
        return fix(
            Safety::Safe,
            (ls, le),
            format!("{indent}{comment}{nl}{kept}{tail}"),
        );
    }
    if code == Code::TW004 && a.key() == "net.ipv4.ip_local_port_range" && value_exact {
        // The two numbers swap places inside the value as written: its quotes and the blanks
        // between the numbers stay the format's own.
        let v = &text[vs..ve];
        let numbers: Vec<(usize, usize)> = {
            let b = v.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < b.len() {
                if b[i].is_ascii_digit() {
                    let s = i;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    out.push((s, i));
                } else if b[i] == b' ' || b[i] == b'\t' {
                    i += 1;
                } else {
                    return None;
                }
            }
            out
        };
        let [(a0, a1), (b0, b1)] = numbers[..] else {
            return None;
        };
        let (lo, hi): (u32, u32) = (v[a0..a1].parse().ok()?, v[b0..b1].parse().ok()?);
        if lo <= hi {
            return None;
        }
        let swapped = format!("{}{}{}", &v[b0..b1], &v[a1..b0], &v[a0..a1]);
        return fix(Safety::Safe, (vs + a0, vs + b1), swapped);
    }
    if code == "TW100" || code == "TW101" {
        // Safe only for a kernel the input or the flags named: a key dropped because twlint
        // assumed its newest kernel may still work on the host the file is for.
        let named = report
            .nodes
            .iter()
            .any(|n| Some(&n.name) == d.node.as_ref() && n.kernel_origin != KernelOrigin::Assumed);
        let safety = if named { Safety::Safe } else { Safety::Unsafe };
        return fix(safety, removal(text, a.entry()?)?, String::new());
    }
    if code == Code::TW002 {
        // The suggested spelling is a guess: applying it writes a key the author did not name.
        let help = d.help.as_deref()?;
        let suggested = help
            .strip_prefix("did you mean `")
            .and_then(|h| h.split_once('`'))
            .map(|(s, _)| s)?;
        let written = text.get(ks..ke)?;
        if a.key() != crate::inputs::normalize_key(written) {
            return None;
        }
        // Written with slashes, it stays so.
        let suggested = if written.contains('/') {
            suggested.replace('.', "/")
        } else {
            suggested.to_string()
        };
        return fix(Safety::Unsafe, (ks, ke), suggested);
    }
    None
}

/// Every fix the report's diagnostics have, in file order, with the index of the diagnostic in
/// `report.diagnostics` it repairs. Each file with a finding is read again once, with its
/// reader.
pub fn fixes(report: &Report, sources: &SourceMap) -> Vec<(usize, Fix)> {
    let mut read: HashMap<FileId, Option<(&str, ParsedFile)>> = HashMap::new();
    // Each fix with the collection its assignment is a member of (see
    // `Assignment::collection`).
    type Collection = Option<(Span, usize)>;
    let mut found: Vec<(usize, Fix, Collection)> = Vec::new();
    for (i, d) in report.diagnostics.iter().enumerate() {
        let Some(at) = d.primary.as_ref() else {
            continue;
        };
        let id = at.span.file;
        let file = sources.get(id);
        let parsed = read
            .entry(id)
            .or_insert_with(|| reader_of(file).map(|r| (r.name, (r.read)(id, &file.text))));
        let Some((format, parsed)) = parsed.as_ref() else {
            continue;
        };
        let Some(a) = assignment_at(d, parsed, at.span) else {
            continue;
        };
        if let Some(f) = fix_in(d, format, &file.text, parsed, a, report) {
            found.push((i, f, a.collection()));
        }
    }
    found.sort_by_key(|(_, f, _)| (f.span.file, f.span.start, f.safety));
    // A collection never loses all its members in one run (a YAML list left empty may be no
    // longer what its format wants): past its last but one, drops wait for a reader to decide.
    let mut dropped: HashMap<Span, Vec<Span>> = HashMap::new();
    found
        .into_iter()
        .filter(|(_, f, collection)| {
            let Some((c, members)) = collection.filter(|_| f.replacement.is_empty()) else {
                return true;
            };
            let gone = dropped.entry(c).or_default();
            if gone.contains(&f.span) {
                return true;
            }
            if gone.len() + 1 >= members {
                return false;
            }
            gone.push(f.span);
            true
        })
        .map(|(i, f, _)| (i, f))
        .collect()
}

/// The fixes of one file applied to its text: edits in order, an edit that overlaps one already
/// taken is left for the next run (as ruff does). Returns the new text and the fixes applied.
pub fn apply<'a>(text: &str, fixes: &[&'a Fix]) -> (String, Vec<&'a Fix>) {
    // At one place, dropping the line goes first: it repairs every finding on it at once.
    let mut sorted: Vec<&Fix> = fixes.to_vec();
    sorted.sort_by_key(|f| (f.span.start, f.span.end, !f.replacement.is_empty()));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut applied = Vec::new();
    for f in sorted {
        if f.span.from() < at {
            continue;
        }
        out.push_str(&text[at..f.span.from()]);
        out.push_str(&f.replacement);
        at = f.span.to();
        applied.push(f);
    }
    out.push_str(&text[at..]);
    (out, applied)
}

/// The files that have fixes, each with the fixes allowed (`unsafe_ok` adds the unsafe ones).
pub fn by_file(all: &[(usize, Fix)], unsafe_ok: bool) -> Vec<(FileId, Vec<&Fix>)> {
    let mut out: Vec<(FileId, Vec<&Fix>)> = Vec::new();
    for (_, f) in all {
        if f.safety == Safety::Unsafe && !unsafe_ok {
            continue;
        }
        match out.last_mut() {
            Some((id, v)) if *id == f.span.file => v.push(f),
            _ => out.push((f.span.file, vec![f])),
        }
    }
    out
}

/// A unified diff (`diff -u`, three lines of context) between two texts of `path`, for
/// `--diff`; empty when they are equal. Lines are compared whole; the texts differ only where
/// fixes replaced lines, so a longest-common-subsequence of lines is cheap.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    // Common prefix and suffix, then an LCS table over the middle (small: the fixed region).
    let mut pre = 0;
    while pre < a.len() && pre < b.len() && a[pre] == b[pre] {
        pre += 1;
    }
    let mut suf = 0;
    while suf < a.len() - pre && suf < b.len() - pre && a[a.len() - 1 - suf] == b[b.len() - 1 - suf]
    {
        suf += 1;
    }
    let (am, bm) = (&a[pre..a.len() - suf], &b[pre..b.len() - suf]);
    let mut lcs = vec![vec![0u32; bm.len() + 1]; am.len() + 1];
    for i in (0..am.len()).rev() {
        for j in (0..bm.len()).rev() {
            lcs[i][j] = if am[i] == bm[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // The edit script over the whole texts: (' ' | '-' | '+', line).
    let mut ops: Vec<(char, &str)> = a[..pre].iter().map(|l| (' ', *l)).collect();
    let (mut i, mut j) = (0, 0);
    while i < am.len() || j < bm.len() {
        if i < am.len() && j < bm.len() && am[i] == bm[j] {
            ops.push((' ', am[i]));
            i += 1;
            j += 1;
        } else if i < am.len() && (j == bm.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', am[i]));
            i += 1;
        } else {
            ops.push(('+', bm[j]));
            j += 1;
        }
    }
    ops.extend(a[a.len() - suf..].iter().map(|l| (' ', *l)));
    let mut out = format!("--- {path}\n+++ {path}\n");
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut k = 0;
    while k < changed.len() {
        // A hunk: changes closer than 2 * 3 context lines join.
        let first = changed[k];
        let mut last = first;
        while k + 1 < changed.len() && changed[k + 1] <= last + 7 {
            k += 1;
            last = changed[k];
        }
        k += 1;
        let from = first.saturating_sub(3);
        let to = (last + 4).min(ops.len());
        let old_start = ops[..from].iter().filter(|o| o.0 != '+').count();
        let new_start = ops[..from].iter().filter(|o| o.0 != '-').count();
        let old_len = ops[from..to].iter().filter(|o| o.0 != '+').count();
        let new_len = ops[from..to].iter().filter(|o| o.0 != '-').count();
        let start = |s: usize, len: usize| if len == 0 { s } else { s + 1 };
        out.push_str(&format!(
            "@@ -{},{old_len} +{},{new_len} @@\n",
            start(old_start, old_len),
            start(new_start, new_len)
        ));
        for (op, line) in &ops[from..to] {
            out.push(*op);
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_shows_only_the_changed_lines_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(
            unified_diff("x.conf", old, new),
            "--- x.conf\n+++ x.conf\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"
        );
        assert_eq!(
            unified_diff("x", "a\nb\n", "b\n"),
            "--- x\n+++ x\n@@ -1,2 +1,1 @@\n-a\n b\n"
        );
        assert_eq!(unified_diff("x", "a\n", "a\n"), "");
    }

    #[test]
    fn overlapping_fixes_apply_once() {
        let f = |s, e, r: &str| Fix {
            code: "TW000".into(),
            safety: Safety::Safe,
            title: String::new(),
            span: Span::new(FileId(0), s, e),
            replacement: r.into(),
        };
        let (a, b) = (f(0, 2, ""), f(0, 2, "x\n"));
        let (text, applied) = apply("a\nb\n", &[&a, &b]);
        assert_eq!(text, "b\n");
        assert_eq!(applied.len(), 1);
    }

    #[test]
    fn lines_are_found_with_their_line_feed() {
        assert_eq!(line_of("a\r\nbc\n", 4), (3, 5, 6));
        assert_eq!(line_of("a\r\nbc", 0), (0, 1, 3));
        assert_eq!(line_of("a\nbc", 3), (2, 4, 4));
    }
}
