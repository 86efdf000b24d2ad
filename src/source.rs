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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    /// Whether `inner` lies within this span, in the same file.
    pub fn contains(self, inner: Span) -> bool {
        self.file == inner.file && self.start <= inner.start && inner.end <= self.end
    }

    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span { file, start, end }
    }
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
    /// Byte offset of the start of every line, for line/column lookups.
    line_starts: Vec<usize>,
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

impl SourceFile {
    fn new(path: String, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        // memchr: a fleet run registers a thousand dumps of 1,300 lines on one thread.
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        SourceFile {
            path,
            text,
            line_starts,
            format: None,
        }
    }

    /// A file whose line index is already known: `line_starts` must be what [`SourceFile::new`]
    /// computes (0, and the offset after every newline). A fleet run gets it for free from
    /// recognising a dump, on the thread that read it.
    pub(crate) fn with_line_starts(
        path: String,
        text: String,
        line_starts: Vec<usize>,
    ) -> SourceFile {
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
    pub fn line_at(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        (line, self.line_starts[line])
    }

    /// 1-based line and column of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
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
        let (line, column) = file.line_col(span.start);
        Location {
            path: file.path.clone(),
            line,
            column,
        }
    }

    /// The text a span covers.
    pub fn slice(&self, span: Span) -> &str {
        let text = &self.get(span.file).text;
        text.get(span.start..span.end.min(text.len())).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
