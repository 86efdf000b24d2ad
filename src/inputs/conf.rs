//! The sysctl.conf reader: the line grammar of one sysctl file, as procps-ng 4 `sysctl -p` and
//! systemd-sysctl read it.
//!
//! This module owns turning one text into assignments, exclusions and the diagnostics that
//! concern a single line (TW001, TW005, TW008, TW011, TW012). It knows nothing about other files:
//! precedence, duplicates and globs are `crate::sysctl`'s job. The rules below were checked
//! against procps-ng 4.0.2 and systemd 252 inside a throwaway network namespace; where the two
//! tools differ, the reader follows procps and says so in a comment. A `sysctl -a` dump shares
//! the grammar, so the dump reader reads its lines here too.

use super::{Assignments, Exclusion, ParsedFile, Parts, Reader, SourceKind};
use crate::code::Code;
use crate::diag::{Diagnostic, Severity, Verdict};
use crate::source::{FileId, Span, Spanned};
use std::borrow::Cow;

#[allow(non_upper_case_globals)] // named like the `{File, Dump}` variants it replaced
impl SourceKind {
    /// Settings in a sysctl.conf or sysctl.d file.
    pub const File: SourceKind = SourceKind::written("file");
}

/// The registration of this reader: procps applies any text with this grammar, so it is
/// registered last, and takes every text that reads as a sysctl file ([`is_sysctl_conf`]).
pub(super) static READER: Reader = Reader {
    name: "sysctl",
    kind: SourceKind::File,
    recognises: |text| is_sysctl_conf(text).is_ok(),
    read: |file, text| parse(file, text, SourceKind::File),
    host: None,
    units: None,
};

const BOM: &str = "\u{feff}";

/// Blanks as C's `isspace()` sees them, minus the newline that ends a line. procps strips these
/// around keys and values; `\r` is among them, which is why CRLF files work with both tools.
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')
}

/// Byte range of `text[start..end]` with blanks removed on both sides.
fn trim_range(text: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && is_blank(text[start]) {
        start += 1;
    }
    while end > start && is_blank(text[end - 1]) {
        end -= 1;
    }
    (start, end)
}

/// The key in twlint's dotted form, from a key as written.
///
/// procps and systemd accept both `.` and `/` as separators, and decide by the first one: when it
/// is `/`, the key is a path and a `.` is part of a component (a VLAN interface `eth0.100`); when
/// it is `.`, a `/` stands for a literal dot. twlint stores the dotted form, in which path
/// components are separated by `.` and a literal dot inside a component is written `/`, so every
/// key has exactly one spelling: `net/ipv4/conf/eth0.100/rp_filter` becomes
/// `net.ipv4.conf.eth0/100.rp_filter`, which is also how `sysctl -a` prints it.
pub fn normalize_key(raw: &str) -> String {
    normalized(raw).into_owned()
}

/// [`normalize_key`], borrowing a key already in dotted form, as nearly every key is.
fn normalized(raw: &str) -> Cow<'_, str> {
    match raw.bytes().find(|&b| b == b'.' || b == b'/') {
        Some(b'/') => Cow::Owned(
            raw.chars()
                .map(|c| match c {
                    '/' => '.',
                    '.' => '/',
                    c => c,
                })
                .collect(),
        ),
        _ => Cow::Borrowed(raw),
    }
}

/// Whether a key uses glob(3) syntax, which procps 4 and systemd expand over `/proc/sys`.
pub fn has_glob(key: &str) -> bool {
    memchr::memchr3(b'*', b'?', b'[', key.as_bytes()).is_some()
}

/// What one line is, as byte ranges into the text; finding it allocates nothing.
///
/// The line grammar of the reader ([`parse`]), kept apart from it so that a reader which finds
/// line ends its own way reaches the same decision for every line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    /// Blank, a comment, or too short to be anything: both tools skip it.
    Skip,
    /// `-key` without `=`: the key is excluded from globs.
    Exclusion { ks: usize, ke: usize },
    /// No `=` on a line that is not a comment (TW001, or TW012 on a line that starts with a
    /// byte-order mark); `s` is its first non-blank byte.
    NoEquals { s: usize },
    /// Nothing before `=` (TW011): `s` is the first non-blank byte, `eq` the `=`.
    EmptyKey { s: usize, eq: usize },
    /// `key = value`: the key without a leading `-` and both trimmed of blanks. An empty value
    /// is the empty range right after `=`.
    Assign {
        ks: usize,
        ke: usize,
        vs: usize,
        ve: usize,
        dash: bool,
    },
}

/// Classifies the line `bytes[start..end]` (without its end-of-line bytes, which end at
/// `raw_end`). `bom_line` is true for the first line of a text that starts with a byte-order mark.
pub(crate) fn scan_line(
    bytes: &[u8],
    start: usize,
    end: usize,
    raw_end: usize,
    bom_line: bool,
) -> Line {
    scan_line_with(bytes, start, end, raw_end, bom_line, |s| {
        memchr::memchr(b'=', &bytes[s..end]).map(|i| s + i)
    })
}

/// [`scan_line`], with the search for the first `=` of `bytes[s..end]` left to `first_eq(s)`
/// (called at most once, with `s` the first non-blank byte), so a scanner that finds the `=` in
/// the same pass as the end of the line can hand it over instead of searching twice.
#[inline]
pub(crate) fn scan_line_with(
    bytes: &[u8],
    start: usize,
    end: usize,
    raw_end: usize,
    bom_line: bool,
    first_eq: impl FnOnce(usize) -> Option<usize>,
) -> Line {
    let mut s = start;
    while s < end && is_blank(bytes[s]) {
        s += 1;
    }
    // procps skips a line shorter than two bytes, counting its EOL, after leading blanks: a lone
    // `x` on the last line without a final newline is skipped, `x` followed by a newline is a
    // syntax error (systemd reports both; twlint follows procps, the stricter reader of the two
    // would be noise for a line that cannot be anything but a typo).
    if s == end || raw_end - s < 2 {
        return Line::Skip;
    }
    // A byte-order mark is not a blank to either tool, so `#` after it does not start a comment.
    if !bom_line && (bytes[s] == b'#' || bytes[s] == b';') {
        return Line::Skip;
    }
    // The key starts after a leading '-' (the "ignore failure" / exclusion marker). procps keeps
    // blanks after the '-' as part of the key (and fails to find it); systemd strips them. twlint
    // strips them too, so the key is the one the author meant.
    // After a byte-order mark the '-' is inside the key, so it is no marker (the tools agree).
    let dash = bytes[s] == b'-';
    let key_from = s + usize::from(dash);
    let Some(eq) = first_eq(s) else {
        if dash {
            let (ks, ke) = trim_range(bytes, key_from, end);
            return Line::Exclusion { ks, ke };
        }
        return Line::NoEquals { s };
    };
    let (ks, ke) = trim_range(bytes, key_from, eq);
    let (vs, ve) = match trim_range(bytes, eq + 1, end) {
        // An empty value points right after `=`, where the value was expected.
        (vs, ve) if vs == ve => (eq + 1, eq + 1),
        range => range,
    };
    if ks == ke || (bom_line && &bytes[ks..ke] == BOM.as_bytes()) {
        return Line::EmptyKey { s, eq };
    }
    Line::Assign {
        ks,
        ke,
        vs,
        ve,
        dash,
    }
}

/// The lines of a text as (start, end without EOL bytes, start of the next line). Lines end at
/// '\n'; a '\r' before it belongs to the EOL, not to the line.
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= bytes.len() {
            return None;
        }
        let (end, next) = match memchr::memchr(b'\n', &bytes[pos..]) {
            Some(i) => (pos + i, pos + i + 1),
            None => (bytes.len(), bytes.len()),
        };
        let line_end = if end > pos && bytes[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        let line = (pos, line_end, next);
        pos = next;
        Some(line)
    })
}

/// TW008: the value starts with a quote and the same quote comes again later.
pub(crate) fn is_quoted(v: &[u8]) -> bool {
    match v.first() {
        Some(&q) if q == b'"' || q == b'\'' => v[1..].contains(&q),
        _ => false,
    }
}

/// TW005: where a comment-looking part of a value starts. A ';' anywhere, or a '#' that starts
/// the value or follows a blank, reads as a comment to the author. A '#' glued to text
/// (`core#%p`) is more likely part of a string value.
pub(crate) fn comment_start(v: &[u8]) -> Option<usize> {
    // Values are short: a plain loop beats setting up a vectorised search.
    (0..v.len()).find(|&i| {
        v[i] == b';' || (v[i] == b'#' && (i == 0 || v[i - 1] == b' ' || v[i - 1] == b'\t'))
    })
}

/// Parses a configuration file (kind `File`) or a `sysctl -a` dump (kind `Dump`).
///
/// Both use the same line grammar: a dump is a file that only contains assignments. What differs
/// is what gets reported: dump values are the kernel's own output, so the checks on how a value
/// was written (inline comments, quotes) are skipped there.
pub fn parse(file: FileId, text: &str, kind: SourceKind) -> ParsedFile {
    parse_weighing(file, text, kind, None)
}

/// [`parse`] of a text named for linting that no other reader recognised, deciding in the same
/// pass whether it reads as a sysctl file at all: `Err` carries what [`is_sysctl_conf`] gives.
/// Recognising a large file in a pass of its own was a sixth of reading it.
pub(crate) fn parse_recognised(
    file: FileId,
    text: &str,
    kind: SourceKind,
) -> Result<ParsedFile, usize> {
    let mut tally = Tally::default();
    let parsed = parse_weighing(file, text, kind, Some(&mut tally));
    tally.verdict().map(|()| parsed)
}

/// The most assignments [`parse`] makes room for before reading.
const MAX_ROOM: usize = 1 << 20;

fn parse_weighing(
    file: FileId,
    text: &str,
    kind: SourceKind,
    mut tally: Option<&mut Tally>,
) -> ParsedFile {
    let bytes = text.as_bytes();
    let most_lines = memchr::memchr_iter(b'\n', bytes).count() + 1;
    if let Some(tally) = tally.as_deref_mut() {
        tally.most_lines = most_lines;
    }
    let mut parsed = ParsedFile {
        file,
        kind,
        // Room for one assignment per line: grown by doubling, a large file's list held up to
        // twice its room at the peak of reading it. Not past a million, which only a hostile
        // file of blank lines could ask for: beyond that it grows as it is filled.
        assignments: Assignments::with_capacity(file, most_lines.min(MAX_ROOM)),
        exclusions: Vec::new(),
        kernel_release: None,
        diagnostics: Vec::new(),
    };
    let has_bom = text.starts_with(BOM);
    for (i, (pos, line_end, next)) in lines(bytes).enumerate() {
        let bom_line = i == 0 && has_bom;
        let line = scan_line(bytes, pos, line_end, next, bom_line);
        if let Some(tally) = tally.as_deref_mut() {
            tally.count(text, line, pos, line_end);
        }
        parse_line(&mut parsed, text, line, pos, line_end, bom_line);
    }
    if kind.is_printed() {
        parsed.kernel_release = release_of(&parsed.assignments);
    }
    // Fitted to what was read: a file's list is kept for the whole run.
    parsed.assignments.shrink_to_fit();
    parsed
}

/// Reads sysctl.conf text found inside another file (a heredoc of a script, a cloud-init
/// `content` block): `pieces` are (offset in `text`, text found there), each read where it was
/// written, so every span, line and column is one of `text`. The rest of `text` reads as blank
/// lines, which both tools skip.
pub(crate) fn parse_placed(
    file: FileId,
    text: &str,
    pieces: &[(usize, &str)],
    kind: SourceKind,
) -> ParsedFile {
    let mut masked: Vec<u8> = text
        .bytes()
        .map(|b| if b == b'\n' { b'\n' } else { b' ' })
        .collect();
    for &(at, piece) in pieces {
        if let Some(dst) = masked.get_mut(at..at + piece.len()) {
            dst.copy_from_slice(piece.as_bytes());
        }
    }
    // Whole pieces over ASCII blanks: still UTF-8.
    let masked = String::from_utf8(masked).unwrap_or_default();
    parse(file, &masked, kind)
}

/// Whether a key as written could name a sysctl: path characters and globs only, not a path
/// from the root.
fn looks_like_key(k: &str) -> bool {
    !k.is_empty() && !k.starts_with('/') && k.bytes().all(|b| KEY_BYTES[usize::from(b)])
}

/// The bytes [`looks_like_key`] accepts, by value: it looks at every key of a file, and a
/// search of the punctuation list for each byte was most of recognising a large file.
static KEY_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric()
            || byte >= 0x80
            || matches!(
                byte,
                b'.' | b'_'
                    | b'-'
                    | b'/'
                    | b'*'
                    | b'?'
                    | b'['
                    | b']'
                    | b'!'
                    | b'+'
                    | b'@'
                    | b'%'
                    | b'~'
            );
        b += 1;
    }
    table
};

/// Whether a text reads as a sysctl file: nothing but blanks and comments, or lines of which
/// at least as many are assignments (`key = value`, `-key`, `= value`) as are not. procps
/// applies any text, but a text that is mostly something else (YAML, a script, prose) was not
/// written for it, and reading it so gives findings that make no sense. `Err` carries the byte
/// offset of the first line that is not an assignment.
pub fn is_sysctl_conf(text: &str) -> Result<(), usize> {
    let bytes = text.as_bytes();
    let bom = text.starts_with(BOM);
    let mut tally = Tally::default();
    for (i, (pos, end, next)) in lines(bytes).enumerate() {
        tally.count(
            text,
            scan_line(bytes, pos, end, next, i == 0 && bom),
            pos,
            end,
        );
    }
    tally.verdict()
}

/// The lines of a text weighed as [`is_sysctl_conf`] weighs them, one at a time, so that
/// [`parse_recognised`] decides in the pass that reads the text.
#[derive(Debug)]
struct Tally {
    assignments: usize,
    others: usize,
    first_other: Option<usize>,
    /// At least the number of lines of the text, when known: once half of them are
    /// assignments, the rest cannot outnumber them, and lines are no longer looked at.
    most_lines: usize,
}

impl Default for Tally {
    fn default() -> Tally {
        Tally {
            assignments: 0,
            others: 0,
            first_other: None,
            most_lines: usize::MAX,
        }
    }
}

impl Tally {
    /// Counts the line `text[pos..end]`, scanned as `line`.
    fn count(&mut self, text: &str, line: Line, pos: usize, end: usize) {
        if self.assignments >= self.most_lines - self.assignments {
            return;
        }
        match line {
            Line::Skip => {}
            // A YAML list item (`- /tmp/x`, `- name: y`) or mapping line (`a: b=c`) has the
            // shape of an exclusion or an assignment, but no key a sysctl file names.
            Line::Assign { ks, ke, .. } | Line::Exclusion { ks, ke }
                if looks_like_key(&text[ks..ke]) =>
            {
                self.assignments += 1
            }
            Line::EmptyKey { .. } => self.assignments += 1,
            // `net.ipv4.tcp_tw_reuse 1`: an assignment that lost its `=` (TW001), still a line
            // of a sysctl file.
            Line::NoEquals { s }
                if text[s..end].split([' ', '\t']).next().is_some_and(|w| {
                    w.contains('.') && looks_like_key(w) && !w.starts_with(['-', '.'])
                }) =>
            {
                self.assignments += 1
            }
            _ => {
                self.others += 1;
                self.first_other.get_or_insert(pos);
            }
        }
    }

    /// `Err` with the byte offset of the first line that is not an assignment when the text
    /// does not read as a sysctl file.
    fn verdict(&self) -> Result<(), usize> {
        match self.first_other {
            Some(at) if self.others > self.assignments => Err(at),
            _ => Ok(()),
        }
    }
}

/// The value of a dump's last `kernel.osrelease` line.
fn release_of(assignments: &Assignments) -> Option<Spanned<String>> {
    assignments
        .iter()
        .rev()
        .find(|a| a.key() == "kernel.osrelease")
        .map(|a| Spanned::new(a.value().to_string(), a.value_span()))
}

/// Parses a text already scanned as a dump by [`super::dump::scan`]: only the `lines` it kept
/// (those whose keys twlint reads) are parsed, each exactly as [`parse`] would parse it. The
/// other lines of a dump are the kernel's own output for keys no rule or check looks at: they
/// cannot be unknown, misspelt, quoted, or overridden (TW006 skips dumps).
pub(crate) fn parse_dump_lines(
    file: FileId,
    text: &str,
    lines: &[super::dump::LineAt],
) -> ParsedFile {
    let mut parsed = ParsedFile {
        file,
        kind: SourceKind::Dump,
        assignments: Assignments::unshared(file, lines.len()),
        exclusions: Vec::new(),
        kernel_release: None,
        diagnostics: Vec::new(),
    };
    for &(pos, line_end, next) in lines {
        // A dump never starts with a byte-order mark (`scan` refuses one).
        let line = scan_line(text.as_bytes(), pos, line_end, next, false);
        parse_line(&mut parsed, text, line, pos, line_end, false);
    }
    parsed.kernel_release = release_of(&parsed.assignments);
    parsed
}

/// Reads the line `text[start..end]`, scanned as `scanned`, into `parsed`.
fn parse_line(
    parsed: &mut ParsedFile,
    text: &str,
    scanned: Line,
    start: usize,
    end: usize,
    bom_line: bool,
) {
    let file = parsed.file;
    let line = Span::new(file, start, end);
    match scanned {
        Line::Skip => {}
        Line::Exclusion { ks, ke } => {
            let pattern = Spanned::new(normalize_key(&text[ks..ke]), Span::new(file, ks, ke));
            parsed.exclusions.push(Exclusion { pattern });
        }
        Line::NoEquals { s } => {
            if bom_line {
                parsed.diagnostics.push(bom_diagnostic(file, start, None));
            } else {
                parsed.diagnostics.push(syntax_error(line, &text[s..end]));
            }
        }
        Line::EmptyKey { s, eq } => {
            parsed
                .diagnostics
                .push(empty_key(Span::new(file, s, eq + 1), line));
        }
        Line::Assign {
            ks,
            ke,
            vs,
            ve,
            dash,
        } => {
            let key_text = &text[ks..ke];
            let key = normalized(key_text);
            if bom_line && key_text.starts_with(BOM) {
                parsed.diagnostics.push(bom_diagnostic(
                    file,
                    start,
                    Some((key[BOM.len()..].to_owned(), Span::new(file, ks, ke))),
                ));
            }
            let bytes = text.as_bytes();
            if dash && ks > start && is_blank(bytes[ks - 1]) {
                // Found by the differential test (tests/differential.rs): the tools end differently.
                let mut d = ks - 1;
                while d > start && bytes[d] != b'-' {
                    d -= 1;
                }
                parsed.diagnostics.push(
                    Diagnostic::warning(
                        Code::TW010,
                        format!("a blank after `-`: procps never applies `{key}`, systemd-sysctl does"),
                    )
                    .with_key(&*key)
                    .at(Span::new(file, d, ks), "procps keeps this blank in the key")
                    .with_help("write `-` directly before the key")
                    .with_note("procps looks up `/proc/sys/ net/...`, which does not exist, and skips the line; systemd-sysctl strips the blank; twlint shows systemd's value"),
                );
            }
            let value = Spanned::new(&text[vs..ve], Span::new(file, vs, ve));
            // How a value was written matters only where someone wrote it.
            if !parsed.kind.is_printed() {
                check_value(parsed, &key, &value);
            }
            // The assignment from its first byte (a `-`, the key) to the end of its value: the
            // line without its blanks, which is all procps reads of it.
            let first = start + (text[start..end].len() - text[start..end].trim_start().len());
            parsed.assignments.push_parts(Parts {
                key: &key,
                key_span: Span::new(file, ks, ke),
                value: value.value,
                value_span: value.span,
                line,
                ignore_failure: dash,
                glob: has_glob(&key),
                entry: Some(Span::new(file, first.min(ks), ve.max(ke))),
            });
        }
    }
}

/// TW005 and TW008: the two ways a value is written that the tools do not read as the author
/// meant, because neither tool knows comments after a value or quoting.
fn check_value(parsed: &mut ParsedFile, key: &str, value: &Spanned<&str>) {
    let v = value.value.as_bytes();
    let file = value.span.file;
    let base = value.span.from();
    if is_quoted(v) {
        parsed.diagnostics.push(
            Diagnostic::error(
                Code::TW008,
                format!("the value of `{key}` is wrapped in quotes"),
            )
            .with_verdict(Verdict::Dangerous)
            .with_key(key)
            .at(value.span, "the quotes are part of the value")
            .with_help(
                "Remove the quotes: write the fields separated by blanks, as in \
                     `key = 32768 60999`.",
            )
            .with_note(
                "procps sysctl and systemd-sysctl write everything after `=` to the kernel, \
                     quotes included, and the kernel rejects a number that starts with a quote \
                     (EINVAL)",
            ),
        );
    }
    if let Some(i) = comment_start(v) {
        let mark = v[i] as char;
        parsed.diagnostics.push(
            Diagnostic::warning(
                Code::TW005,
                format!("`{mark}` after the value of `{key}` does not start a comment"),
            )
            .with_key(key)
            .at(
                Span::new(file, base + i, value.span.to()),
                "this text is written to the kernel as part of the value",
            )
            .with_help(format!(
                "Move the comment to a line of its own that starts with `{mark}`."
            ))
            .with_note(
                "procps sysctl and systemd-sysctl only know comment lines; for a single number the \
                 kernel reads the number and ignores the rest, but for a key with several fields \
                 the extra words are parsed as fields and the write fails with EINVAL",
            ),
        );
    }
}

fn syntax_error(line: Span, content: &str) -> Diagnostic {
    // An error, as systemd-sysctl fails on it (exit status 1, a failed unit at boot): a run fails
    // on it by default.
    let mut d = Diagnostic::new(Code::TW001, Severity::Error, "line is not an assignment")
        .with_verdict(Verdict::Dangerous)
        .at(line, "no `=` on this line")
        .with_help(
            "Write `key = value`, or start the line with `#` to make it a comment. procps sysctl \
             prints `invalid syntax, continuing...` and systemd-sysctl `Line is not an assignment, \
             ignoring`; both skip the line, and systemd-sysctl then exits with status 1.",
        );
    // A line such as `net.ipv4.tcp_tw_reuse 1` names a key; saying which one helps filtering.
    let word = content.split([' ', '\t']).next().unwrap_or("");
    if word.len() > 2 && word.contains(['.', '/']) && !has_glob(word) {
        d = d.with_key(normalize_key(word));
    }
    d
}

fn empty_key(span: Span, line: Span) -> Diagnostic {
    Diagnostic::error(Code::TW011, "assignment without a key")
        .at(span, "nothing before `=`")
        .with_secondary(line, "this line is not applied")
        .with_help(
            "Write the key before `=`, or delete the line. procps sysctl tries to write the \
             directory /proc/sys/ itself and exits with status 1; systemd-sysctl fails the same \
             way (`Is a directory`).",
        )
}

/// TW012. Neither procps nor systemd strips a UTF-8 byte-order mark: it becomes the first bytes
/// of the first key, which then names no file under /proc/sys, or it turns a first comment line
/// into a syntax error. Either way the first line is lost and the tools report a failure.
fn bom_diagnostic(file: FileId, start: usize, key: Option<(String, Span)>) -> Diagnostic {
    let bom = Span::new(file, start, start + BOM.len());
    let help = "Save the file as UTF-8 without a byte-order mark (for example `sed -i '1s/^\\xEF\\xBB\\xBF//' FILE`).";
    match key {
        Some((key, key_span)) => Diagnostic::error(
            Code::TW012,
            format!("byte-order mark before `{key}` becomes part of the key"),
        )
        .with_key(key)
        .at(bom, "invisible byte-order mark")
        .with_secondary(key_span, "written to a key with three extra bytes, which does not exist")
        .with_help(help)
        .with_note(
            "procps sysctl reports `cannot stat /proc/sys/\u{feff}...` and exits with status 1; \
             systemd-sysctl warns that it could not write the key",
        ),
        None => Diagnostic::error(Code::TW012, "byte-order mark turns the first line into a syntax error")
            .at(bom, "invisible byte-order mark")
            .with_help(help)
            .with_note(
                "the mark is not a blank to procps or systemd, so the first line is neither a \
                 comment nor an assignment: procps prints `invalid syntax` and systemd-sysctl exits \
                 with status 1",
            ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_bytes_are_path_characters_globs_and_non_ascii() {
        let listed =
            |b: u8| b.is_ascii_alphanumeric() || b"._-/*?[]!+@%~".contains(&b) || b >= 0x80;
        for b in 0..=255u8 {
            assert_eq!(KEY_BYTES[usize::from(b)], listed(b), "byte {b}");
        }
        assert!(looks_like_key("net.ipv4.conf.eth0/100.rp_filter"));
        assert!(!looks_like_key("/proc/sys/net") && !looks_like_key("a: b"));
    }

    #[test]
    fn a_text_is_recognised_in_the_pass_that_reads_it_as_in_a_pass_of_its_own() {
        let texts = [
            "",
            "# only comments\n\n",
            "net.ipv4.tcp_tw_reuse = 1\n-net.a.b\n= 3\n",
            "\u{feff}net.core.somaxconn = 1\nstray words\n",
            "- item\n- /tmp/path\nkey: value\n",
            "not: yaml, really\nnet.a.b 1\n",
            "prose here\nand more prose\nnet.a = 1\n",
            "net.a = 1\nnet.b = 2\nprose\nprose\nprose\n",
            "net.a = 1\nnet.b = 2\nprose\n",
            "net.a = 1\nnet.b = 2\nprose\nprose",
        ];
        for text in texts {
            let read = parse_recognised(FileId(0), text, SourceKind::File);
            assert_eq!(
                read.as_ref().err().copied(),
                is_sysctl_conf(text).err(),
                "{text:?}"
            );
            if let Ok(read) = read {
                assert_eq!(read, parse(FileId(0), text, SourceKind::File), "{text:?}");
            }
        }
    }
}
