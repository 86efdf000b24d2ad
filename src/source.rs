//! Source texts and the spans that point into them.
//!
//! Every file twlint reads (a sysctl file, a dump, a topology, a rule) is registered once in a
//! [`SourceMap`], and everything derived from it carries a [`Span`]: a file id plus a byte range.
//! Line and column numbers are computed only when a diagnostic is rendered or serialised, so the
//! parsers never have to track them, and ariadne gets exact byte ranges (`IndexType::Byte`).

use serde::Serialize;

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one registered file.
///
/// Offsets are `u32`: every registered text is far below 4 GiB (each reader caps what it reads,
/// at 64 MiB for the largest, and [`SourceMap::add`] keeps only the first 4 GiB of anything
/// longer), and a large file holds several spans per line, so they are 12 bytes, not 24.
/// [`Span::new`] and [`Span::range`] convert to and from the `usize` offsets of the texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// Whether `inner` lies within this span, in the same file.
    pub fn contains(self, inner: Span) -> bool {
        self.file == inner.file && self.start <= inner.start && inner.end <= self.end
    }

    /// The span of bytes `start..end` of `file`'s text.
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: offset(start),
            end: offset(end),
        }
    }

    /// The byte range of the text this span covers.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The offset of its first byte.
    pub fn from(self) -> usize {
        self.start as usize
    }

    /// The offset just past its last byte.
    pub fn to(self) -> usize {
        self.end as usize
    }
}

/// Keeps the first 4 GiB of a text (at a character boundary), so that every offset into it fits
/// a span: no reader reads that much (the largest cap is 64 MiB). Whether it cut anything.
fn within_offsets(text: &mut String) -> bool {
    cut_to(text, u32::MAX as usize)
}

/// Cuts `text` to at most `max` bytes, at a character boundary; whether it cut anything.
fn cut_to(text: &mut String, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    true
}

/// An offset into a registered text as a span holds it. Registered texts are shorter than
/// 4 GiB ([`SourceMap::add`]), so this only saturates for an offset past every text.
fn offset(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}

/// A value together with the place it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// One registered file: the path as the user should see it, and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as displayed in diagnostics and in JSON (relative paths stay relative).
    pub path: String,
    /// The text, with invalid UTF-8 replaced by U+FFFD (the byte offsets of the replaced text are
    /// what the parsers saw, so spans stay consistent).
    pub text: String,
    /// Byte offset of the start of every [`LINE_STRIDE`]th line (0, 16, 32, ...), for
    /// line/column lookups (`u32`, as in spans); the lines between are counted from there. A
    /// file is kept for the whole run, and an offset for every line was a tenth of what a large
    /// sysctl file takes.
    line_starts: Vec<u32>,
    /// The input format (`--input-format` name) its assignments were read with, set by the
    /// reader seam when it reads the file; `None` for a file read as no such input (a topology,
    /// a rule) or prepared as a host of its own. `crate::fix` reads it again with that reader.
    pub format: Option<&'static str>,
}

/// A 1-based line and column (column counted in characters, as editors do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub path: String,
    pub line: usize,
    pub column: usize,
}

/// How many lines apart the starts [`SourceFile`] keeps are: a lookup counts at most this many
/// newlines past the one it finds.
const LINE_STRIDE: usize = 16;

impl SourceFile {
    fn new(path: String, mut text: String) -> SourceFile {
        within_offsets(&mut text);
        let mut line_starts = vec![0];
        // memchr: a fleet run registers a thousand dumps of 1,300 lines on one thread.
        line_starts.extend(
            memchr::memchr_iter(b'\n', text.as_bytes())
                .skip(LINE_STRIDE - 1)
                .step_by(LINE_STRIDE)
                .map(|i| offset(i + 1)),
        );
        SourceFile {
            path,
            text,
            line_starts,
            format: None,
        }
    }

    /// A file whose line index is already known: `line_starts` must be 0 and the offset after
    /// every newline. A fleet run gets it for free from recognising a dump, on the thread that
    /// read it.
    pub(crate) fn with_line_starts(
        path: String,
        mut text: String,
        mut line_starts: Vec<u32>,
    ) -> SourceFile {
        if within_offsets(&mut text) {
            line_starts.retain(|&l| l as usize <= text.len());
        }
        let mut line = 0;
        line_starts.retain(|_| {
            line += 1;
            (line - 1) % LINE_STRIDE == 0
        });
        debug_assert_eq!(
            line_starts,
            SourceFile::new(String::new(), text.clone()).line_starts
        );
        SourceFile {
            path,
            text,
            line_starts,
            format: None,
        }
    }

    /// 0-based index of the line holding a byte offset (clamped to the text), and the offset
    /// where that line starts: what a renderer needs to show one line without counting the
    /// lines before it.
    pub fn line_at(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.text.len());
        let block = match self.line_starts.binary_search(&offset(at)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let base = self.line_starts[block] as usize;
        let (mut line, mut start) = (block * LINE_STRIDE, base);
        for nl in memchr::memchr_iter(b'\n', &self.text.as_bytes()[base..at]) {
            line += 1;
            start = base + nl + 1;
        }
        (line, start)
    }

    /// 1-based line and column of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let (line, start) = self.line_at(offset);
        // Count characters, not bytes; a span may (wrongly) land inside a character, so floor it.
        let mut end = offset;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let column = self.text[start..end].chars().count() + 1;
        (line + 1, column)
    }
}

/// All files read in one run.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Registers a file and returns its id. The same path may be added twice (for example a file
    /// linked into two directories); each gets its own id.
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<String>) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile::new(path.into(), text.into()));
        id
    }

    /// Registers a file built elsewhere (see [`SourceFile::with_line_starts`]).
    pub(crate) fn push(&mut self, file: SourceFile) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(file);
        id
    }

    /// Records the input format `file` was read with (see [`SourceFile::format`]).
    pub fn set_format(&mut self, file: FileId, format: &'static str) {
        self.files[file.0 as usize].format = Some(format);
    }

    /// How many files are registered.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Forgets the files registered after the first `len`: a read that failed half-way leaves
    /// nothing behind for renderers that list every registered file.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.files.truncate(len);
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// Path, line and column of the start of a span.
    pub fn location(&self, span: Span) -> Location {
        let file = self.get(span.file);
        let (line, column) = file.line_col(span.from());
        Location {
            path: file.path.clone(),
            line,
            column,
        }
    }

    /// The text a span covers.
    pub fn slice(&self, span: Span) -> &str {
        let text = &self.get(span.file).text;
        text.get(span.from()..span.to().min(text.len()))
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_twelve_bytes_and_convert_to_text_offsets() {
        // Three spans and more per assignment of a large file: u32 offsets, not usize.
        assert_eq!(std::mem::size_of::<Span>(), 12);
        assert_eq!(std::mem::size_of::<Option<Span>>(), 16);
        let s = Span::new(FileId(2), 3, 7);
        assert_eq!((s.from(), s.to(), s.range()), (3, 7, 3..7));
        // An offset past every registered text saturates rather than wrapping.
        assert_eq!(Span::new(FileId(0), usize::MAX, usize::MAX).start, u32::MAX);
    }

    #[test]
    fn texts_longer_than_span_offsets_reach_are_cut_at_a_character_boundary() {
        let mut text = String::from("ab\u{e9}cd");
        assert!(!cut_to(&mut text, 10));
        assert_eq!(text, "ab\u{e9}cd");
        // Byte 3 is inside the two bytes of the accented letter: cut before it.
        assert!(cut_to(&mut text, 3));
        assert_eq!(text, "ab");
    }

    #[test]
    fn every_offset_finds_its_line_between_the_kept_line_starts() {
        // Lines of every length around the stride, an empty last line, CRLF and no newline at
        // the end: each offset's line and column as counted from the start of the text.
        for end in ["", "\n", "x"] {
            let mut text: String = (0..70)
                .map(|i| {
                    format!(
                        "{}{}\n",
                        "k".repeat(i % 7),
                        if i % 5 == 0 { "\r" } else { "" }
                    )
                })
                .collect();
            text.push_str(end);
            let mut map = SourceMap::new();
            let id = map.add("a.conf", text.as_str());
            let lines = map.get(id).clone();
            let dump = SourceFile::with_line_starts(
                String::new(),
                text.clone(),
                std::iter::once(0)
                    .chain(text.match_indices('\n').map(|(i, _)| i as u32 + 1))
                    .collect(),
            );
            for at in 0..=text.len() + 2 {
                let clamped = at.min(text.len());
                let before = &text[..clamped];
                let line = before.matches('\n').count();
                let start = before.rfind('\n').map_or(0, |i| i + 1);
                assert_eq!(lines.line_at(at), (line, start), "{at}");
                assert_eq!(dump.line_at(at), (line, start), "{at}");
                assert_eq!(lines.line_col(at), (line + 1, clamped - start + 1), "{at}");
            }
        }
    }

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let mut map = SourceMap::new();
        let id = map.add("a.conf", "ab\nçd = 1\n");
        assert_eq!(map.get(id).line_col(0), (1, 1));
        assert_eq!(map.get(id).line_col(3), (2, 1));
        // 'ç' is two bytes: byte 6 is the third character of line 2.
        assert_eq!(map.get(id).line_col(6), (2, 3));
        assert_eq!(map.location(Span::new(id, 3, 4)).line, 2);
    }
}
