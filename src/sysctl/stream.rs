//! Reading a sysctl file as a stream, in memory that does not grow with the file.
//!
//! The in-memory reader (`parse`, `resolve`) keeps every line with its place, because a report
//! points at lines. This module is for what does not need places: inputs of any length, and
//! embedders that only want values. It reads through a fixed buffer, applies the very grammar of
//! the in-memory reader to each line ([`crate::inputs::scan_line_with`], the same value checks)
//! and hands every line to a callback as borrowed text, so memory depends on the longest line,
//! not on the number of lines. [`effective`] folds the lines into effective values with the
//! precedence `resolve` uses: memory then grows with the number of distinct keys only.
//!
//! Speed matters here (the goal is 15 M lines/s on one core, BENCHMARKS.md): a line's end and
//! its first `=` are found in one pass eight bytes at a time, and [`effective`] looks a key up by
//! its spelling as written, so only the first line with a spelling pays for its dotted form.

use super::resolve::glob_match;
use super::SourceKind;
use crate::inputs::{comment_start, is_quoted, scan_line_with, Line};
use std::collections::{HashMap, HashSet};
use std::io::{self, Read};

/// The read buffer; a line longer than this grows it (to the length of that line).
pub const BUFFER: usize = 64 * 1024;

const BOM: &[u8] = "\u{feff}".as_bytes();

/// A problem a single line shows, with the code of the diagnostic the in-memory reader gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Problem {
    /// TW001: neither a comment nor an assignment.
    NotAssignment,
    /// TW012: the first line starts with a byte-order mark.
    ByteOrderMark,
    /// TW011: nothing before `=`.
    EmptyKey,
    /// TW008: a value wrapped in quotes (configuration files only).
    QuotedValue,
    /// TW005: `#` or `;` after a value (configuration files only).
    InlineComment,
}

impl Problem {
    pub fn code(self) -> &'static str {
        match self {
            Problem::NotAssignment => "TW001",
            Problem::ByteOrderMark => "TW012",
            Problem::EmptyKey => "TW011",
            Problem::QuotedValue => "TW008",
            Problem::InlineComment => "TW005",
        }
    }
}

/// One line of interest, borrowed from the buffer (valid only during the callback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// `key = value`: the key in dotted form (see [`super::normalize_key`]), the value trimmed.
    Assignment {
        key: &'a str,
        value: &'a str,
        ignore_failure: bool,
        glob: bool,
        line: u64,
    },
    /// `-key` without `=`.
    Exclusion { key: &'a str, line: u64 },
    /// A problem on a line; an assignment line with a problem is also reported as assignment.
    Problem { problem: Problem, line: u64 },
}

/// What a stream held.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub bytes: u64,
    pub lines: u64,
    pub assignments: u64,
    pub problems: u64,
}

/// Reads `input` line by line and calls `f` for every assignment, exclusion and problem, in
/// file order. `kind` says whether the text is configuration or a `sysctl -a` dump (a dump's
/// values are not checked for quotes and comments, as in the in-memory reader).
pub fn read(input: impl Read, kind: SourceKind, f: impl FnMut(Event<'_>)) -> io::Result<Summary> {
    let mut events = Events {
        f,
        key: String::new(),
    };
    drive(input, kind, &mut events)
}

/// Where the reader hands the lines of interest. Keys come as written (trimmed, without the
/// leading `-`), not yet in dotted form: a consumer that meets the same spelling again, as
/// [`effective`] does for nearly every line of a long file, need not convert it again.
trait Sink {
    /// `key` and `value` are the byte ranges of the key as written and of the value in `text`
    /// (both on character boundaries).
    fn assignment(
        &mut self,
        text: &str,
        key: (usize, usize),
        value: (usize, usize),
        dash: bool,
        line: u64,
    );
    fn exclusion(&mut self, key: &str, line: u64);
    fn problem(&mut self, problem: Problem, line: u64);
}

/// The sink of [`read`]: every line as an [`Event`], keys in dotted form.
struct Events<F> {
    f: F,
    /// The dotted form of a key written with `/`, reused from line to line.
    key: String,
}

impl<F: FnMut(Event<'_>)> Sink for Events<F> {
    fn assignment(
        &mut self,
        text: &str,
        (ks, ke): (usize, usize),
        (vs, ve): (usize, usize),
        dash: bool,
        line: u64,
    ) {
        let raw = &text[ks..ke];
        let (slashed, glob) = key_shape(raw.as_bytes());
        let key = if slashed {
            swap_separators(raw, &mut self.key)
        } else {
            raw
        };
        (self.f)(Event::Assignment {
            key,
            value: &text[vs..ve],
            ignore_failure: dash,
            glob,
            line,
        });
    }

    fn exclusion(&mut self, raw: &str, line: u64) {
        let key = dotted(raw, &mut self.key);
        (self.f)(Event::Exclusion { key, line });
    }

    fn problem(&mut self, problem: Problem, line: u64) {
        (self.f)(Event::Problem { problem, line });
    }
}

/// The buffer loop shared by [`read`] and [`effective`].
fn drive(mut input: impl Read, kind: SourceKind, sink: &mut impl Sink) -> io::Result<Summary> {
    let mut st = State {
        kind,
        summary: Summary::default(),
    };
    let mut buf = vec![0u8; BUFFER];
    let mut filled = 0;
    // How much of the partial line at the start of the buffer is known to hold no newline, so a
    // long line read in many small pieces is searched once, not once per piece.
    let mut scanned = 0;
    loop {
        if filled == buf.len() {
            // One line fills the whole buffer: make room for the rest of it.
            buf.resize(buf.len() * 2, 0);
        }
        let n = match input.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        st.summary.bytes += n as u64;
        let eof = n == 0;
        filled += n;
        // The complete lines in the buffer (all of it at the end of the input).
        let complete = if eof {
            filled
        } else {
            match memchr::memrchr(b'\n', &buf[scanned..filled]) {
                Some(i) => scanned + i + 1,
                None => {
                    scanned = filled;
                    continue;
                }
            }
        };
        st.lines(&buf[..complete], sink);
        if eof {
            return Ok(st.summary);
        }
        buf.copy_within(complete..filled, 0);
        filled -= complete;
        scanned = filled;
    }
}

struct State {
    kind: SourceKind,
    summary: Summary,
}

impl State {
    /// Whole lines (the last one may lack its '\n' at the end of the input).
    fn lines(&mut self, chunk: &[u8], sink: &mut impl Sink) {
        // Validating a whole chunk at once is much cheaper than line by line; only a chunk with
        // invalid UTF-8 is read line by line with U+FFFD, as the in-memory reader sees it (an
        // invalid sequence never spans a newline, so the result is the same).
        match std::str::from_utf8(chunk) {
            Ok(text) => self.text(text, sink),
            Err(_) => {
                let mut pos = 0;
                while pos < chunk.len() {
                    let next =
                        memchr::memchr(b'\n', &chunk[pos..]).map_or(chunk.len(), |i| pos + i + 1);
                    self.text(&String::from_utf8_lossy(&chunk[pos..next]), sink);
                    pos = next;
                }
            }
        }
    }

    /// Every line of `text`, found with the first `=` of each in one pass ([`eq_and_newline`]).
    fn text(&mut self, text: &str, sink: &mut impl Sink) {
        let b = text.as_bytes();
        let mut start = 0;
        while start < b.len() {
            let (eq, nl) = eq_and_newline(b, start);
            let raw_end = (nl + 1).min(b.len());
            let mut end = nl;
            if end > start && b[end - 1] == b'\r' {
                end -= 1;
            }
            self.line(text, start, end, raw_end, eq, sink);
            start = raw_end;
        }
    }

    fn problem(&mut self, problem: Problem, line: u64, sink: &mut impl Sink) {
        self.summary.problems += 1;
        sink.problem(problem, line);
    }

    /// The line `text[start..end]`, its end-of-line bytes ending at `raw_end`; `eq` is its first
    /// `=`, if it has one.
    #[inline]
    fn line(
        &mut self,
        text: &str,
        start: usize,
        end: usize,
        raw_end: usize,
        eq: Option<usize>,
        sink: &mut impl Sink,
    ) {
        let line = self.summary.lines + 1;
        self.summary.lines = line;
        let b = text.as_bytes();
        let bom_line = line == 1 && b[start..raw_end].starts_with(BOM);
        match scan_line_with(b, start, end, raw_end, bom_line, |_| eq) {
            Line::Skip => {}
            Line::Exclusion { ks, ke } => sink.exclusion(&text[ks..ke], line),
            Line::NoEquals { .. } if bom_line => self.problem(Problem::ByteOrderMark, line, sink),
            Line::NoEquals { .. } => self.problem(Problem::NotAssignment, line, sink),
            Line::EmptyKey { .. } => self.problem(Problem::EmptyKey, line, sink),
            Line::Assign {
                ks,
                ke,
                vs,
                ve,
                dash,
            } => {
                if bom_line && b[ks..].starts_with(BOM) {
                    self.problem(Problem::ByteOrderMark, line, sink);
                }
                if self.kind == SourceKind::File && !plain(&b[vs..ve]) {
                    let value = &b[vs..ve];
                    if is_quoted(value) {
                        self.problem(Problem::QuotedValue, line, sink);
                    }
                    if comment_start(value).is_some() {
                        self.problem(Problem::InlineComment, line, sink);
                    }
                }
                self.summary.assignments += 1;
                sink.assignment(text, (ks, ke), (vs, ve), dash, line);
            }
        }
    }
}

/// Bytes that make a value worth the checks of how it is written: the quotes of TW008, the
/// comment marks of TW005.
static NOT_PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'\'' as usize] = true;
    t[b'#' as usize] = true;
    t[b';' as usize] = true;
    t
};

/// Whether a value holds none of the bytes [`is_quoted`] and [`comment_start`] look for, so
/// neither can find anything: nearly every value, and a table lookup per byte is cheaper than
/// the two checks.
#[inline]
fn plain(value: &[u8]) -> bool {
    !value.iter().any(|&c| NOT_PLAIN[c as usize])
}

const ONES: u64 = u64::from_ne_bytes([1; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
const NEWLINES: u64 = u64::from_ne_bytes([b'\n'; 8]);
const EQUALS: u64 = u64::from_ne_bytes([b'='; 8]);

/// The high bit of the bytes of `w` that are zero, and perhaps of some bytes after the first
/// of them (a borrow runs from a zero byte into the next one), never before it: the lowest bit
/// set is exact, which is all [`eq_and_newline`] uses.
#[inline(always)]
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// The first `=` of the line that starts at `b[start]`, if it has one before its newline, and
/// where the line ends: at its '\n', or at `b.len()`.
///
/// Eight bytes at a time, looking for `=` or '\n' until the first of them and for '\n' only
/// after it. Lines are about 40 bytes: two `memchr` calls per line cost more in setting up
/// their vector search than this costs in total.
#[inline]
fn eq_and_newline(b: &[u8], start: usize) -> (Option<usize>, usize) {
    let mut i = start;
    let first = loop {
        let Some(w) = b.get(i..).and_then(<[u8]>::first_chunk::<8>) else {
            break b[i..]
                .iter()
                .position(|&c| c == b'=' || c == b'\n')
                .map_or(b.len(), |j| i + j);
        };
        // Bytes in memory order: the first byte is the lowest, whatever the platform.
        let w = u64::from_le_bytes(*w);
        let found = zero_bytes(w ^ EQUALS) | zero_bytes(w ^ NEWLINES);
        if found != 0 {
            break i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    };
    if first == b.len() || b[first] == b'\n' {
        return (None, first);
    }
    let mut i = first + 1;
    let nl = loop {
        let Some(w) = b.get(i..).and_then(<[u8]>::first_chunk::<8>) else {
            break memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |j| i + j);
        };
        let found = zero_bytes(u64::from_le_bytes(*w) ^ NEWLINES);
        if found != 0 {
            break i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    };
    (Some(first), nl)
}

/// One pass over a key as written: whether its first separator is `/` (so it needs
/// [`swap_separators`]), and whether it has glob characters (which the swap does not change).
fn key_shape(key: &[u8]) -> (bool, bool) {
    let mut first_sep = 0u8;
    let mut glob = false;
    for &c in key {
        match c {
            b'.' | b'/' if first_sep == 0 => first_sep = c,
            b'*' | b'?' | b'[' => glob = true,
            _ => {}
        }
    }
    (first_sep == b'/', glob)
}

/// A key written with `/` separators in dotted form (see [`super::normalize_key`]), built in
/// `scratch` so no line allocates.
fn swap_separators<'a>(raw: &str, scratch: &'a mut String) -> &'a str {
    scratch.clear();
    // Both separators are ASCII, so the text between them is copied as it is.
    let mut from = 0;
    for (i, c) in raw.bytes().enumerate() {
        if c == b'.' || c == b'/' {
            scratch.push_str(&raw[from..i]);
            scratch.push(if c == b'/' { '.' } else { '/' });
            from = i + 1;
        }
    }
    scratch.push_str(&raw[from..]);
    scratch
}

/// `raw` in dotted form: borrowed when it already is, else swapped into `scratch`.
fn dotted<'a>(raw: &'a str, scratch: &'a mut String) -> &'a str {
    if key_shape(raw.as_bytes()).0 {
        swap_separators(raw, scratch)
    } else {
        raw
    }
}

/// The effective values of one stream, with the precedence of the in-memory reader: the last
/// explicit assignment of a key wins; a glob reaches only keys that no explicit assignment and
/// no exclusion names, and among globs the last match wins.
#[derive(Debug, Default, Clone)]
pub struct Effective {
    /// Each explicitly assigned key in dotted form, and the slot of its value in `values` (the
    /// fold's own map, kept as it is rather than copied into a map of strings at the end).
    // foldhash instead of SipHash: hashing keys was an eighth of the reader's instructions.
    keys: HashMap<String, usize, foldhash::fast::RandomState>,
    values: Vec<String>,
    globs: Vec<(String, String)>,
    excluded: HashSet<String, foldhash::fast::RandomState>,
    /// How many lines showed each problem.
    pub problems: HashMap<Problem, u64>,
    pub summary: Summary,
}

impl Effective {
    /// The effective value of a dotted key.
    pub fn get(&self, key: &str) -> Option<&str> {
        if let Some(&slot) = self.keys.get(key) {
            return Some(&self.values[slot]);
        }
        if self.excluded.contains(key) {
            return None;
        }
        self.globs
            .iter()
            .rev()
            .find(|(pattern, _)| glob_match(pattern, key))
            .map(|(_, v)| v.as_str())
    }

    /// Explicitly assigned keys and their effective values, in no particular order.
    pub fn explicit(&self) -> impl Iterator<Item = (&str, &str)> {
        self.keys
            .iter()
            .map(|(k, &slot)| (k.as_str(), self.values[slot].as_str()))
    }
}

/// Reads a stream into its effective values.
pub fn effective(input: impl Read, kind: SourceKind) -> io::Result<Effective> {
    let mut fold = Fold::default();
    let summary = drive(input, kind, &mut fold)?;
    let Fold {
        spellings,
        keys,
        values,
        globs,
        excluded,
        problems,
        ..
    } = fold;
    // Free the spellings before the values are turned into strings (in place: `from_utf8` takes
    // over each buffer), so the peak stays that of the fold.
    drop(spellings);
    let values = values
        .into_iter()
        .map(|v| {
            // Slices of UTF-8 text on character boundaries: the conversion checks, never fails.
            String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
        })
        .collect();
    Ok(Effective {
        keys,
        values,
        globs,
        excluded,
        problems,
        summary,
    })
}

/// The sink of [`effective`]. A long file assigns the same few thousand keys over and over, so
/// each spelling of a key is looked up once per line by its bytes as written, and only the first
/// time it is seen is it brought to dotted form, checked for glob characters and given a slot
/// for its value: a later line costs one hash lookup and one copy of its value.
#[derive(Default)]
struct Fold {
    /// Each explicit key as written (`a.b`, `a/b`) to the slot of its dotted form in `values`;
    /// at most two spellings per dotted key, so this grows with the keys, not with the lines.
    spellings: HashMap<Box<[u8]>, usize, foldhash::fast::RandomState>,
    /// Each explicit key in dotted form to its slot.
    keys: HashMap<String, usize, foldhash::fast::RandomState>,
    /// The value of the last assignment of each slot, as bytes: copying them is all a line that
    /// assigns a known spelling costs after the lookup.
    values: Vec<Vec<u8>>,
    globs: Vec<(String, String)>,
    excluded: HashSet<String, foldhash::fast::RandomState>,
    problems: HashMap<Problem, u64>,
    /// The dotted form of a key written with `/`, reused from line to line.
    scratch: String,
}

impl Fold {
    /// An assignment whose spelling is not in `spellings`: a key seen for the first time as
    /// written, or a glob (globs are not remembered there: each one is kept in file order).
    #[cold]
    fn first_spelling(&mut self, raw: &str, value: &str) {
        let (slashed, glob) = key_shape(raw.as_bytes());
        let key = if slashed {
            swap_separators(raw, &mut self.scratch)
        } else {
            raw
        };
        if glob {
            self.globs.push((key.to_owned(), value.to_owned()));
            return;
        }
        let slot = match self.keys.get(key) {
            Some(&slot) => slot,
            None => {
                let slot = self.values.len();
                self.values.push(Vec::new());
                self.keys.insert(key.to_owned(), slot);
                slot
            }
        };
        self.spellings.insert(raw.as_bytes().into(), slot);
        let v = &mut self.values[slot];
        v.clear();
        v.extend_from_slice(value.as_bytes());
    }
}

impl Sink for Fold {
    // Inlined into the line loop: this runs for nearly every line.
    #[inline]
    fn assignment(
        &mut self,
        text: &str,
        (ks, ke): (usize, usize),
        (vs, ve): (usize, usize),
        _dash: bool,
        _line: u64,
    ) {
        let b = text.as_bytes();
        match self.spellings.get(&b[ks..ke]) {
            // Reuse the value's allocation: most lines of a long file assign a key seen before.
            Some(&slot) => {
                let v = &mut self.values[slot];
                v.clear();
                v.extend_from_slice(&b[vs..ve]);
            }
            None => self.first_spelling(&text[ks..ke], &text[vs..ve]),
        }
    }

    fn exclusion(&mut self, raw: &str, _line: u64) {
        let key = dotted(raw, &mut self.scratch);
        if !self.excluded.contains(key) {
            self.excluded.insert(key.to_owned());
        }
    }

    fn problem(&mut self, problem: Problem, _line: u64) {
        *self.problems.entry(problem).or_default() += 1;
    }
}

/// Reads a text in memory as a stream; for tests and callers that hold the text already.
pub fn effective_text(text: &str, kind: SourceKind) -> Effective {
    effective(text.as_bytes(), kind).expect("reading from memory cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{SourceMap, Span};
    use crate::sysctl::{load_text, parse_text};

    /// The streaming reader and the in-memory reader agree on every value and every line-level
    /// problem of `text`.
    fn agree(text: &str) {
        let mut sources = SourceMap::new();
        let set = load_text("t.conf", text, &mut sources);
        let file = &set.files[0];
        let eff = effective_text(text, file.kind);
        for a in &file.assignments {
            assert_eq!(
                eff.get(&a.key.value),
                set.get(&a.key.value).map(|s| s.value.value).as_deref(),
                "{:?} in {text:?}",
                a.key.value
            );
        }
        let mut explicit = 0;
        for (k, v) in eff.explicit() {
            assert_eq!(Some(v), set.get(k).map(|s| s.value.value).as_deref());
            explicit += 1;
        }
        let mut keys: Vec<&str> = file
            .assignments
            .iter()
            .filter(|a| !a.glob)
            .map(|a| a.key.value.as_str())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(explicit, keys.len());
        let line_codes = ["TW001", "TW005", "TW008", "TW011", "TW012"];
        let mut expected: HashMap<&str, u64> = HashMap::new();
        for d in &file.diagnostics {
            if line_codes.contains(&d.code.as_str()) {
                *expected.entry(d.code.as_str()).or_default() += 1;
            }
        }
        let got: HashMap<&str, u64> = eff.problems.iter().map(|(p, n)| (p.code(), *n)).collect();
        assert_eq!(got, expected, "{text:?}");
        assert_eq!(eff.summary.assignments as usize, file.assignments.len());
        assert_eq!(eff.summary.bytes as usize, text.len());
        assert_eq!(
            eff.summary.lines as usize,
            text.split_inclusive('\n').count()
        );

        // Line by line, in order: what `read` reports is what the in-memory reader holds.
        let line_of = |span: Span| sources.location(span).line as u64;
        let mut expected = Vec::new();
        for a in &file.assignments {
            expected.push(Seen::Assignment(
                a.key.value.clone(),
                a.value.value.clone(),
                a.ignore_failure,
                a.glob,
                line_of(a.line),
            ));
        }
        for x in &file.exclusions {
            expected.push(Seen::Exclusion(
                x.pattern.value.clone(),
                line_of(x.pattern.span),
            ));
        }
        for d in &file.diagnostics {
            if line_codes.contains(&d.code.as_str()) {
                let span = d
                    .primary
                    .as_ref()
                    .expect("a line diagnostic has a place")
                    .span;
                expected.push(Seen::Problem(d.code.clone(), line_of(span)));
            }
        }
        let mut seen = events(text.as_bytes(), file.kind);
        seen.sort();
        expected.sort();
        assert_eq!(seen, expected, "{text:?}");

        // Reads of every size cut lines (and the eight-byte words they are scanned in) anywhere.
        for step in [1, 3, 8] {
            let trickled = effective(Trickle(text.as_bytes(), 0, step), file.kind).unwrap();
            let mut a: Vec<_> = eff.explicit().collect();
            let mut b: Vec<_> = trickled.explicit().collect();
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b, "{text:?}");
            assert_eq!(eff.problems, trickled.problems);
            assert_eq!(eff.summary, trickled.summary);
            assert_eq!(eff.globs, trickled.globs);
            assert_eq!(eff.excluded, trickled.excluded);
        }
    }

    /// What [`read`] reported, owned.
    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    enum Seen {
        Assignment(String, String, bool, bool, u64),
        Exclusion(String, u64),
        Problem(String, u64),
    }

    fn events(input: impl Read, kind: SourceKind) -> Vec<Seen> {
        let mut seen = Vec::new();
        read(input, kind, |e| {
            seen.push(match e {
                Event::Assignment {
                    key,
                    value,
                    ignore_failure,
                    glob,
                    line,
                } => Seen::Assignment(key.into(), value.into(), ignore_failure, glob, line),
                Event::Exclusion { key, line } => Seen::Exclusion(key.into(), line),
                Event::Problem { problem, line } => Seen::Problem(problem.code().into(), line),
            })
        })
        .unwrap();
        seen
    }

    /// A reader that returns a few bytes at a time (from 1 to its third field, varying), so lines
    /// are split everywhere.
    struct Trickle<'a>(&'a [u8], usize, usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.1 = self.1 % self.2 + 1;
            let n = self.1.min(out.len()).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn agrees_with_the_in_memory_reader_on_the_grammar() {
        for text in [
            "# a\n  ; b\n\t# c = 1\nnet.ipv4.tcp_fin_timeout = 30 # thirty\n",
            "\n  net.ipv4.tcp_tw_reuse\t=  1  \n",
            "net/ipv4/conf/eth0.100/rp_filter = 1\nnet.ipv4.conf.eth0/100.arp_filter = 1\n",
            "net.ipv4.tcp_fin_timeout = 35\r\nnet.ipv4.ip_local_port_range = 40000 50000\r\n",
            "net.ipv4.tcp_fin_timeout = 30\nnet.ipv4.tcp_tw_reuse = 2",
            "net.ipv4.tcp_fin_timeout =   \n",
            "-net.ipv4.tcp_tw_recycle = 0\n - net.ipv4.tcp_tw_reuse = 1\n",
            "net.ipv4.conf.*.rp_filter = 2\r\n-net/ipv4/conf/all/rp_filter \r\n",
            "net.ipv4.conf.*.rp_filter = 2\nnet.ipv4.conf.l?.x = 1\nnet.ipv4.conf.[al]*.y = 1\n",
            "# ok\nnet.ipv4.tcp_tw_reuse 1\nnet.ipv4.tcp_fin_timeout = 30\n",
            "net.ipv4.tcp_fin_timeout = 43\nx",
            "x\nnet.ipv4.tcp_fin_timeout = 43\n",
            "net.ipv4.tcp_fin_timeout = 30\n  = 5\n",
            "net.ipv4.tcp_tw_reuse = 1 # enable\nkernel.core_pattern = core#%p\nnet.ipv4.tcp_timestamps = 1;\n",
            "net.ipv4.ip_local_port_range = \"1024 65535\"\nnet.ipv4.tcp_tw_reuse = '1'\n",
            "\u{feff}net.ipv4.tcp_tw_reuse = 2\nnet.ipv4.tcp_fin_timeout = 33\n",
            "\u{feff}# settings\nnet.ipv4.tcp_fin_timeout = 34\n",
            "\u{feff}\n",
            "\u{feff}=1\n",
            "net.ipv4.tcp_fin_timeout = 34\n# \u{feff}\n",
            "a.b = 1\na.b = 2\n-a.b\nc.* = 3\nc.d = 4\n-c.e\n",
            "k.\u{fffd} = \u{fffd}\n\r\n\r",
            "",
            "\n\n\n",
        ] {
            agree(text);
        }
    }

    #[test]
    fn agrees_on_lines_that_cross_the_words_the_reader_scans() {
        // The reader looks for '\n' and `=` eight bytes at a time: put them at every offset,
        // next to the bytes one bit away from them (VT is '\n' ^ 1, `<` is `=` ^ 1, which a
        // careless zero-byte test reports as matches), after multi-byte characters, and at the
        // very end of the input where fewer than eight bytes are left.
        let mut texts = Vec::new();
        for pad in 0..20 {
            let p = "k".repeat(pad);
            texts.push(format!("{p}=1\n{p}x.y = {p}\n"));
            texts.push(format!("a.{p} = v\x0b<\x0b\n\x0b{p}<=\x0b\n<\n"));
            texts.push(format!("a.b<{p}<=<{p}=\r\n\x0b\x0b-{p}\x0b\r\n"));
            texts.push(format!("é.{p}ü = ä{p}\n€{p}=€\r\n#{p}=\n;=\n"));
            texts.push(format!("{p}\n={p}\n -{p}.q\n-{p}\r\n"));
            texts.push(format!("n/{p}.x/y = 1 # c\r\nn.{p}/x.y = \"q\"\r\n{p}"));
            texts.push(format!("x.{p} ={p}"));
            texts.push(format!("x.{p}"));
            texts.push(format!("{BOM}{p}=1\n{p}=2", BOM = '\u{feff}'));
        }
        for text in &texts {
            agree(text);
        }
    }

    #[test]
    fn agrees_on_random_texts_of_the_bytes_that_matter() {
        // Bytes the grammar and the eight-byte scan treat specially, and some that it does not.
        const PIECES: [&str; 24] = [
            " ",
            "\t",
            "\r",
            "\n",
            "\n",
            "=",
            "=",
            "<",
            "\x0b",
            "\x0c",
            "#",
            ";",
            "-",
            ".",
            "/",
            "*",
            "?",
            "[",
            "\"",
            "'",
            "é",
            "\u{feff}",
            "net.ipv4.tcp_tw_reuse",
            "a",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let len = next() % 60;
            let text: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            agree(&text);
        }
    }

    #[test]
    fn invalid_utf8_is_read_as_the_in_memory_reader_reads_it() {
        let bytes: &[u8] = b"a.b = \xff\xfe\n\xff\nc.d=\xc3";
        let text = String::from_utf8_lossy(bytes);
        let eff = effective(bytes, SourceKind::File).unwrap();
        let mut sources = SourceMap::new();
        let set = load_text("t.conf", &text, &mut sources);
        assert_eq!(eff.get("a.b"), Some("\u{fffd}\u{fffd}"));
        assert_eq!(
            eff.get("c.d"),
            set.get("c.d").map(|s| s.value.value).as_deref()
        );
        assert_eq!(eff.problems.get(&Problem::NotAssignment), Some(&1));
    }

    #[test]
    fn lines_longer_than_the_buffer_and_reads_of_any_size_give_the_same_values() {
        let long = "x".repeat(BUFFER * 3);
        let text = format!("a.b = 1\nlong.key = {long}\r\nc.d = 2\n-e.f = 3");
        let eff = effective(Trickle(text.as_bytes(), 0, 7), SourceKind::File).unwrap();
        assert_eq!(eff.get("long.key"), Some(long.as_str()));
        assert_eq!(eff.get("c.d"), Some("2"));
        assert_eq!(eff.get("e.f"), Some("3"));
        assert_eq!(eff.summary.lines, 4);
        agree(&text);
    }

    #[test]
    fn dumps_skip_the_value_checks_as_the_in_memory_reader_does() {
        let mut text = String::from("kernel.osrelease = 6.8.0\nkernel.core_pattern = |/x # %p\n");
        for i in 0..120 {
            text.push_str(&format!("vm.k{i} = {i}\nfs.k{i} = \"q\"\n"));
        }
        assert_eq!(
            parse_text(crate::source::FileId(0), &text).kind,
            SourceKind::Dump
        );
        agree(&text);
        assert!(effective_text(&text, SourceKind::Dump).problems.is_empty());
    }
}
