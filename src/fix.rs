//! Autofix: the edits that repair a finding in the file it is written in (`--fix`, `--diff`,
//! SARIF `fixes`), as ruff does.
//!
//! A fix is computed from a diagnostic of the report and the text of its file, for sysctl.conf
//! files only (the sysctl reader's grammar; a dump is a host's state, not a file to edit, and
//! the other formats are left alone). Every fix replaces whole lines and leaves every other byte
//! of the file as it was. A fix is **safe** when the file then says what its author evidently
//! meant and nothing else changes: a line the judged kernel does not have is dropped (the write
//! fails there anyway), a reversed port range is put in order, the quotes the kernel would
//! receive are removed, an inline comment moves to its own line above, an overridden earlier
//! assignment is dropped (the later one wins under both tools). A fix that picks a value or a
//! key the author did not write (the suggested spelling of an unknown key) is **unsafe** and
//! needs `--unsafe-fixes`. This module only computes and applies edits to text; the command
//! line writes the files.

use crate::code::Code;
use crate::config::KernelOrigin;
use crate::diag::Diagnostic;
use crate::report::Report;
use crate::source::{FileId, SourceMap, Span};

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
        "drop the assignment a later line of the file overrides",
    ),
    (
        "TW006",
        Safety::Unsafe,
        "drop the assignment another file overrides",
    ),
    ("TW008", Safety::Safe, "remove the quotes"),
    (
        "TW100",
        Safety::Safe,
        "drop the line: the kernel has no such key",
    ),
    (
        "TW100",
        Safety::Unsafe,
        "drop the line: the assumed kernel has no such key",
    ),
    (
        "TW101",
        Safety::Safe,
        "drop the line: the kernel has no such key",
    ),
    (
        "TW101",
        Safety::Unsafe,
        "drop the line: the assumed kernel has no such key",
    ),
];

/// The catalog's title of the fix of `code` with `safety`.
fn title(code: &str, safety: Safety) -> &'static str {
    CATALOG
        .iter()
        .find(|(c, s, _)| *c == code && *s == safety)
        .map_or("fix", |(_, _, t)| t)
}

/// One fix: replace the whole lines in `span` (from a line's start to just after a line feed,
/// or the end of the text) with `replacement`.
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

/// Whether a file is one twlint may edit: a sysctl.conf-format text (not a dump, not a YAML or
/// script format).
pub fn editable(text: &str) -> bool {
    crate::inputs::recognised(text).is_some_and(|r| r.name == "sysctl")
}

/// The assignment on a line: (key, value) byte ranges within `text`, trimmed, or `None` for a
/// line that is not one.
fn assignment(text: &str, start: usize, end: usize) -> Option<((usize, usize), (usize, usize))> {
    let line = &text[start..end];
    let eq = line.find('=')?;
    let trim = |a: usize, b: usize| {
        let s = &text[a..b];
        let lead = s.len() - s.trim_start().len();
        let trail = s.len() - s.trim_end().len();
        (a + lead, b - trail)
    };
    let key = trim(start, start + eq);
    let value = trim(start + eq + 1, end);
    (key.0 < key.1).then_some((key, value))
}

/// The line feed a file uses (CRLF kept for CRLF files).
fn newline(text: &str, line_end: usize, content_end: usize) -> &'static str {
    if line_end > content_end + 1 || text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// The fix for one diagnostic of `report`, when twlint knows one and the file is one it may
/// edit.
pub fn fix_for(d: &Diagnostic, sources: &SourceMap, report: &Report) -> Option<Fix> {
    let primary = d.primary.as_ref()?;
    let file = sources.get(primary.span.file);
    let text = file.text.as_str();
    if !editable(text) {
        return None;
    }
    let (ls, ce, le) = line_of(text, primary.span.start);
    let line_span = Span::new(primary.span.file, ls, le);
    let fix = |safety, replacement: String| {
        Some(Fix {
            code: d.code.clone(),
            safety,
            title: title(&d.code, safety).to_string(),
            span: line_span,
            replacement,
        })
    };
    let ((ks, ke), (vs, ve)) = assignment(text, ls, ce)?;
    let key = &text[ks..ke];
    let value = &text[vs..ve];
    let code = d.code.as_str();
    if code == Code::TW006 {
        // The diagnostic sits on the overridden assignment; the later one wins under procps and
        // systemd-sysctl alike. In another file the winner only wins when both are applied
        // together (`sysctl --system`), not after a `sysctl -p` of this file alone: unsafe.
        let same_file = d.secondary.iter().all(|l| l.span.file == primary.span.file);
        let safety = if same_file {
            Safety::Safe
        } else {
            Safety::Unsafe
        };
        return fix(safety, String::new());
    }
    if code == Code::TW008 {
        let inner = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))?;
        if inner.contains(['"', '\'']) {
            return None;
        }
        let line = format!("{}{inner}{}", &text[ls..vs], &text[ve..le]);
        return fix(Safety::Safe, line);
    }
    if code == Code::TW005 {
        // The comment starts at the diagnostic's place; the value before it is kept, the
        // comment goes on its own line above, so a reader still sees it next to the setting.
        let at = primary.span.start;
        if !(vs < at && at <= ve) {
            return None;
        }
        let comment = text[at..ve].trim_end();
        let kept = text[ls..at].trim_end();
        let nl = newline(text, le, ce);
        let tail = if le > ce { &text[ce..le] } else { "" };
        let indent = &text[ls..ks];
        return fix(Safety::Safe, format!("{indent}{comment}{nl}{kept}{tail}"));
    }
    if code == "TW004" && key.replace('/', ".") == "net.ipv4.ip_local_port_range" {
        let fields: Vec<&str> = value.split_whitespace().collect();
        let [a, b] = fields[..] else { return None };
        let (lo, hi): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
        if lo <= hi {
            return None;
        }
        let line = format!("{}{b} {a}{}", &text[ls..vs], &text[ve..le]);
        return fix(Safety::Safe, line);
    }
    if code == "TW100" || code == "TW101" {
        // Safe only for a kernel the input or the flags named: a key dropped because twlint
        // assumed its newest kernel may still work on the host the file is for.
        let named = report
            .nodes
            .iter()
            .any(|n| Some(&n.name) == d.node.as_ref() && n.kernel_origin != KernelOrigin::Assumed);
        let safety = if named { Safety::Safe } else { Safety::Unsafe };
        return fix(safety, String::new());
    }
    if code == Code::TW002 {
        // The suggested spelling is a guess: applying it writes a key the author did not name.
        let help = d.help.as_deref()?;
        let suggested = help
            .strip_prefix("did you mean `")
            .and_then(|h| h.split_once('`'))
            .map(|(s, _)| s)?;
        let line = format!("{}{suggested}{}", &text[ls..ks], &text[ke..le]);
        return fix(Safety::Unsafe, line);
    }
    None
}

/// Every fix the report's diagnostics have, in file order, with the index of the diagnostic in
/// `report.diagnostics` it repairs.
pub fn fixes(report: &Report, sources: &SourceMap) -> Vec<(usize, Fix)> {
    let mut out: Vec<(usize, Fix)> = report
        .diagnostics
        .iter()
        .enumerate()
        .filter_map(|(i, d)| fix_for(d, sources, report).map(|f| (i, f)))
        .collect();
    out.sort_by_key(|(_, f)| (f.span.file, f.span.start, f.safety));
    out
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
        if f.span.start < at {
            continue;
        }
        out.push_str(&text[at..f.span.start]);
        out.push_str(&f.replacement);
        at = f.span.end;
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
