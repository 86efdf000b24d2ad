//! How a file keeps its assignments: [`Assignments`], a compact table of them, read back as
//! [`AssignmentRef`] views.
//!
//! This module owns the memory a read file takes. A 100,000-line sysctl file keeps a row per
//! line for the whole run, so the row is what decides its peak: an [`Assignment`] as readers
//! build it takes over 100 bytes (spans that each repeat the file, the key and value as
//! strings), a row here 24. The row keeps the line's offset and the key, value and entry as
//! offsets within the line; the key as an index into the table's text of distinct keys (a
//! large file sets the same few thousand keys again and again); the value as an offset into
//! the table's text of values, laid end to end in row order, so that where the next row's
//! starts is where this one ends. What does not fit those fields (a span outside its line, a
//! line over 64 KiB, a value read with escapes, so that its text is not as long as its span,
//! the rare `via` and `collection`) is kept whole beside the rows, so that every assignment
//! reads back exactly as it was pushed
//! (pinned by `every_assignment_reads_back_as_it_was_pushed`).

use super::Assignment;
use crate::source::{FileId, Span, Spanned};
use std::hash::BuildHasher;

/// The assignment is `-key = value`: write failures are ignored.
const IGNORE_FAILURE: u8 = 1;
/// The key is a glob pattern.
const GLOB: u8 = 2;
/// How the entry is kept: none, the line itself, or from `entry_off` in the line to the end of
/// the key or the value, whichever is later (a sysctl file's line without its blanks).
const ENTRY: u8 = 0b1100;
const ENTRY_NONE: u8 = 0;
const ENTRY_LINE: u8 = 0b0100;
const ENTRY_FROM: u8 = 0b1000;
/// The spans are kept whole in `extras` (see the module docs).
const EXTRA: u8 = 16;

/// One assignment, in 24 bytes (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    /// Index of the key in the table's keys.
    key: u32,
    /// Where the line starts in the file.
    line: u32,
    /// Where the value starts in the table's `values`.
    value_at: u32,
    key_off: u16,
    key_len: u16,
    value_off: u16,
    line_len: u16,
    entry_off: u8,
    flags: u8,
}

/// The spans of an assignment that a [`Row`] cannot hold, and the parts few have.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Extra {
    key: Span,
    value: Span,
    line: Span,
    entry: Option<Span>,
    via: Option<Span>,
    collection: Option<(Span, usize)>,
}

/// A row's offsets within its line: key start, key length, value start, line length, entry
/// start.
type Offsets = (u16, u16, u16, u16, u8);

/// The hasher of the keys' index: fixed, so that a table hashes alike wherever it is built.
type Hasher = foldhash::fast::FixedState;

/// The assignments of one file, in the order they were read (see the module docs).
#[derive(Clone)]
pub struct Assignments {
    file: FileId,
    rows: Vec<Row>,
    /// Every value's text, in row order.
    values: String,
    /// Every distinct key's text, end to end; `key_ends[i]` is where key `i` ends.
    keys: String,
    key_ends: Vec<u32>,
    /// What rows flagged [`EXTRA`] keep, by row index, in row order.
    extras: Vec<(u32, Extra)>,
    /// The keys by text while the table is filled; `None` once it is done (or for a table whose
    /// keys are all different, a dump's): a key then gets an index of its own.
    index: Option<hashbrown::HashTable<u32>>,
}

/// One assignment of an [`Assignments`] table, read in place.
#[derive(Clone, Copy)]
pub struct AssignmentRef<'a> {
    table: &'a Assignments,
    index: usize,
}

/// What [`Assignments::push_parts`] takes: an assignment without the parts few have.
pub(crate) struct Parts<'t> {
    pub key: &'t str,
    pub key_span: Span,
    pub value: &'t str,
    pub value_span: Span,
    pub line: Span,
    pub ignore_failure: bool,
    pub glob: bool,
    pub entry: Option<Span>,
}

impl Assignments {
    /// An empty table of `file`'s assignments, which keeps each distinct key once.
    pub fn new(file: FileId) -> Assignments {
        Assignments {
            file,
            rows: Vec::new(),
            values: String::new(),
            keys: String::new(),
            key_ends: Vec::new(),
            extras: Vec::new(),
            index: Some(hashbrown::HashTable::new()),
        }
    }

    /// An empty table with room for `rows` assignments.
    pub(crate) fn with_capacity(file: FileId, rows: usize) -> Assignments {
        let mut t = Assignments::new(file);
        t.rows.reserve_exact(rows);
        t
    }

    /// An empty table for assignments whose keys are all different (a `sysctl -a` dump names
    /// each key once, save a multi-line value's lines): an index of the keys would only cost.
    pub(crate) fn unshared(file: FileId, rows: usize) -> Assignments {
        let mut t = Assignments::with_capacity(file, rows);
        t.index = None;
        t
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The assignment at `index` (panics past the end, as a slice does).
    pub fn get(&self, index: usize) -> AssignmentRef<'_> {
        assert!(
            index < self.rows.len(),
            "assignment {index} of {}",
            self.len()
        );
        AssignmentRef { table: self, index }
    }

    /// Every assignment, in the order read.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            table: self,
            range: 0..self.rows.len(),
        }
    }

    /// Every assignment as readers build them (for tests and the few callers that rebuild a
    /// table).
    pub fn to_vec(&self) -> Vec<Assignment> {
        self.iter().map(|a| a.to_owned()).collect()
    }

    /// Appends an assignment.
    pub fn push(&mut self, a: Assignment) {
        let parts = Parts {
            key: &a.key.value,
            key_span: a.key.span,
            value: &a.value.value,
            value_span: a.value.span,
            line: a.line,
            ignore_failure: a.ignore_failure,
            glob: a.glob,
            entry: a.entry,
        };
        let (via, collection) = (a.via(), a.collection());
        self.push_with(parts, via, collection);
    }

    /// Appends an assignment that has neither `via` nor `collection`, without building it first:
    /// the sysctl reader's way, once per line of a large file.
    pub(crate) fn push_parts(&mut self, parts: Parts<'_>) {
        self.push_with(parts, None, None);
    }

    fn push_with(&mut self, p: Parts<'_>, via: Option<Span>, collection: Option<(Span, usize)>) {
        let index = self.rows.len() as u32;
        let key = self.key_index(p.key);
        let value_at = offset(self.values.len());
        self.values.push_str(p.value);
        let mut flags = 0;
        if p.ignore_failure {
            flags |= IGNORE_FAILURE;
        }
        if p.glob {
            flags |= GLOB;
        }
        let (entry, offsets) = match self.compact(&p, via, collection) {
            Some(compact) => compact,
            None => {
                self.extras.push((
                    index,
                    Extra {
                        key: p.key_span,
                        value: p.value_span,
                        line: p.line,
                        entry: p.entry,
                        via,
                        collection,
                    },
                ));
                (EXTRA, Offsets::default())
            }
        };
        let (key_off, key_len, value_off, line_len, entry_off) = offsets;
        self.rows.push(Row {
            key,
            line: p.line.start,
            value_at,
            key_off,
            key_len,
            value_off,
            line_len,
            entry_off,
            flags: flags | entry,
        });
    }

    /// The row fields and entry flag of `p`, when a row can hold it (see the module docs).
    fn compact(
        &self,
        p: &Parts<'_>,
        via: Option<Span>,
        collection: Option<(Span, usize)>,
    ) -> Option<(u8, Offsets)> {
        if via.is_some() || collection.is_some() {
            return None;
        }
        let file = self.file;
        let (line, key, value) = (p.line, p.key_span, p.value_span);
        if line.file != file || key.file != file || value.file != file {
            return None;
        }
        let within = |at: u32| {
            at.checked_sub(line.start)
                .and_then(|d| u16::try_from(d).ok())
        };
        let key_off = within(key.start)?;
        let key_len = u16::try_from(key.end.checked_sub(key.start)?).ok()?;
        let value_off = within(value.start)?;
        let line_len = u16::try_from(line.end.checked_sub(line.start)?).ok()?;
        // The value's span must be as long as its text: its end is read from where the next
        // value starts.
        if (value.end.checked_sub(value.start)?) as usize != p.value.len() {
            return None;
        }
        let (entry, entry_off) = match p.entry {
            None => (ENTRY_NONE, 0),
            Some(e) if e == line => (ENTRY_LINE, 0),
            Some(e) if e.file == file && e.end == key.end.max(value.end) => {
                let off = u8::try_from(e.start.checked_sub(line.start)?).ok()?;
                (ENTRY_FROM, off)
            }
            Some(_) => return None,
        };
        Some((entry, (key_off, key_len, value_off, line_len, entry_off)))
    }

    /// The index of `key` among the table's keys, added when new.
    fn key_index(&mut self, key: &str) -> u32 {
        let hash = Hasher::default().hash_one(key);
        let (keys, ends) = (&self.keys, &self.key_ends);
        let text = |i: u32| key_text(keys, ends, i);
        if let Some(index) = &mut self.index {
            if let Some(&i) = index.find(hash, |&i| text(i) == key) {
                return i;
            }
            let i = ends.len() as u32;
            index.insert_unique(hash, i, |&j| Hasher::default().hash_one(text(j)));
        }
        self.keys.push_str(key);
        self.key_ends.push(offset(self.keys.len()));
        (self.key_ends.len() - 1) as u32
    }

    /// Fits the table to what it holds and forgets the keys' index: a read file's table is kept
    /// for the whole run. Assignments pushed later get keys of their own.
    pub fn shrink_to_fit(&mut self) {
        self.rows.shrink_to_fit();
        self.values.shrink_to_fit();
        self.keys.shrink_to_fit();
        self.key_ends.shrink_to_fit();
        self.extras.shrink_to_fit();
        self.index = None;
    }

    /// Keeps the assignments `keep` accepts, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(AssignmentRef<'_>) -> bool) {
        let mut kept = Assignments::new(self.file);
        for a in self.iter() {
            if keep(a) {
                kept.push(a.to_owned());
            }
        }
        *self = kept;
    }

    /// Puts the assignments in the order of `key` (a stable sort).
    pub fn sort_by_key<K: Ord>(&mut self, mut key: impl FnMut(AssignmentRef<'_>) -> K) {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_by_cached_key(|&i| key(self.get(i)));
        let mut sorted = Assignments::new(self.file);
        for i in order {
            sorted.push(self.get(i).to_owned());
        }
        *self = sorted;
    }

    /// How many distinct keys the table holds; [`AssignmentRef::key_index`] is below it.
    pub(crate) fn key_count(&self) -> usize {
        self.key_ends.len()
    }

    /// The text of key `i` of the table.
    pub(crate) fn key_text(&self, i: u32) -> &str {
        key_text(&self.keys, &self.key_ends, i)
    }

    fn extra(&self, index: usize) -> &Extra {
        let at = self
            .extras
            .binary_search_by_key(&(index as u32), |e| e.0)
            .expect("a row flagged EXTRA has its extra");
        &self.extras[at].1
    }
}

fn key_text<'a>(keys: &'a str, ends: &[u32], i: u32) -> &'a str {
    let i = i as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &keys[start..ends[i] as usize]
}

/// A text offset as a `u32`: a table's texts are no longer than the file they were read from,
/// which [`crate::source`] keeps within `u32` offsets.
fn offset(at: usize) -> u32 {
    u32::try_from(at).expect("a file's texts stay within u32 offsets")
}

impl<'a> AssignmentRef<'a> {
    fn row(&self) -> &'a Row {
        &self.table.rows[self.index]
    }

    fn extra(&self) -> Option<&'a Extra> {
        (self.row().flags & EXTRA != 0).then(|| self.table.extra(self.index))
    }

    fn span(&self, from: u32, len: usize) -> Span {
        let start = self.row().line as usize + from as usize;
        Span::new(self.table.file, start, start + len)
    }

    /// Where this assignment is in its table.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The key in dotted form (see [`super::normalize_key`]).
    pub fn key(&self) -> &'a str {
        self.table.key_text(self.row().key)
    }

    /// The index of the key among its table's keys: two assignments of one table have the same
    /// key exactly when they have the same index, while the table is filled with its index (see
    /// [`Assignments::shrink_to_fit`]).
    pub(crate) fn key_index(&self) -> u32 {
        self.row().key
    }

    /// The key as written, without a leading `-`.
    pub fn key_span(&self) -> Span {
        match self.extra() {
            Some(e) => e.key,
            None => self.span(
                u32::from(self.row().key_off),
                usize::from(self.row().key_len),
            ),
        }
    }

    /// The value as procps writes it (see [`Assignment::value`]).
    pub fn value(&self) -> &'a str {
        let t = self.table;
        let end = t
            .rows
            .get(self.index + 1)
            .map_or(t.values.len(), |next| next.value_at as usize);
        &t.values[self.row().value_at as usize..end]
    }

    /// Where the value is written.
    pub fn value_span(&self) -> Span {
        match self.extra() {
            Some(e) => e.value,
            None => self.span(u32::from(self.row().value_off), self.value().len()),
        }
    }

    /// The whole line, without its end-of-line bytes.
    pub fn line(&self) -> Span {
        match self.extra() {
            Some(e) => e.line,
            None => self.span(0, usize::from(self.row().line_len)),
        }
    }

    /// See [`Assignment::ignore_failure`].
    pub fn ignore_failure(&self) -> bool {
        self.row().flags & IGNORE_FAILURE != 0
    }

    /// See [`Assignment::glob`].
    pub fn glob(&self) -> bool {
        self.row().flags & GLOB != 0
    }

    /// See [`Assignment::entry`].
    pub fn entry(&self) -> Option<Span> {
        if let Some(e) = self.extra() {
            return e.entry;
        }
        let row = self.row();
        match row.flags & ENTRY {
            ENTRY_LINE => Some(self.line()),
            ENTRY_FROM => {
                let start = row.line as usize + usize::from(row.entry_off);
                let end = self.key_span().to().max(self.value_span().to());
                Some(Span::new(self.table.file, start, end))
            }
            _ => None,
        }
    }

    /// See [`Assignment::via`].
    pub fn via(&self) -> Option<Span> {
        self.extra().and_then(|e| e.via)
    }

    /// See [`Assignment::collection`].
    pub fn collection(&self) -> Option<(Span, usize)> {
        self.extra().and_then(|e| e.collection)
    }

    /// The assignment as readers build it.
    pub fn to_owned(&self) -> Assignment {
        let mut a = Assignment {
            key: Spanned::new(self.key().to_string(), self.key_span()),
            value: Spanned::new(self.value().into(), self.value_span()),
            ignore_failure: self.ignore_failure(),
            glob: self.glob(),
            line: self.line(),
            placement: None,
            entry: self.entry(),
        };
        a.set_via(self.via());
        a.set_collection(self.collection());
        a
    }
}

impl std::fmt::Debug for AssignmentRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_owned().fmt(f)
    }
}

impl std::fmt::Debug for Assignments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Assignments {
    /// The same assignments in the same order, however they are kept.
    fn eq(&self, other: &Assignments) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| a.to_owned() == b.to_owned())
    }
}

impl Eq for Assignments {}

/// The assignments of a table, in order (see [`Assignments::iter`]).
#[derive(Clone)]
pub struct Iter<'a> {
    table: &'a Assignments,
    range: std::ops::Range<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = AssignmentRef<'a>;
    fn next(&mut self) -> Option<AssignmentRef<'a>> {
        let index = self.range.next()?;
        Some(AssignmentRef {
            table: self.table,
            index,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.range.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let index = self.range.next_back()?;
        Some(AssignmentRef {
            table: self.table,
            index,
        })
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Assignments {
    type Item = AssignmentRef<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: usize, end: usize) -> Span {
        Span::new(FileId(3), start, end)
    }

    fn assignment(key: &str, k: (usize, usize), value: &str, v: (usize, usize)) -> Assignment {
        Assignment {
            key: Spanned::new(key.to_string(), span(k.0, k.1)),
            value: Spanned::new(value.into(), span(v.0, v.1)),
            ignore_failure: false,
            glob: false,
            line: span(k.0, v.1),
            placement: None,
            entry: None,
        }
    }

    #[test]
    fn an_assignment_of_a_large_file_takes_24_bytes() {
        // A 100,000-line file keeps one per line for the whole run.
        assert_eq!(std::mem::size_of::<Row>(), 24);
    }

    #[test]
    fn every_assignment_reads_back_as_it_was_pushed() {
        let mut all = Vec::new();
        // A sysctl file's line: entry from the `-` to the value's end.
        let mut a = assignment("net.ipv4.tcp_fin_timeout", (11, 35), "30", (38, 40));
        a.line = span(9, 42);
        a.entry = Some(span(10, 40));
        a.ignore_failure = true;
        all.push(a);
        // The same key again, an empty value, the entry its line, a glob.
        let mut a = assignment("net.ipv4.tcp_fin_timeout", (50, 74), "", (77, 77));
        a.entry = Some(a.line);
        a.glob = true;
        all.push(a);
        // A value read with escapes: its text is shorter than its span.
        all.push(assignment("vm.swappiness", (80, 93), "a\"b", (95, 101)));
        // A key before its line, a line over 64 KiB, a value in another file.
        let mut a = assignment("k.before", (100, 108), "1", (120, 121));
        a.line = span(110, 122);
        all.push(a);
        let mut a = assignment("k.long", (200, 206), "2", (70_209, 70_210));
        a.entry = Some(span(200, 70_210));
        all.push(a);
        let mut a = assignment("k.elsewhere", (300, 311), "3", (0, 1));
        a.value.span = Span::new(FileId(9), 0, 1);
        all.push(a);
        // An entry that is neither, `via` and `collection`.
        let mut a = assignment("k.entry", (400, 407), "4", (410, 411));
        a.entry = Some(span(398, 420));
        all.push(a);
        let mut a = assignment("net.ipv4.tcp_fin_timeout", (500, 524), "5", (527, 528));
        a.set_via(Some(span(1, 2)));
        a.set_collection(Some((span(3, 600), 2)));
        all.push(a);
        let mut table = Assignments::new(FileId(3));
        for a in &all {
            table.push(a.clone());
        }
        assert_eq!(table.to_vec(), all);
        assert_eq!(table.len(), all.len());
        // Keys are kept once: the first, second and last assignment share theirs.
        assert_eq!(table.key_count(), 6);
        assert_eq!(table.get(0).key_index(), table.get(7).key_index());
        // Read back from either end.
        let keys: Vec<&str> = table.iter().rev().map(|a| a.key()).collect();
        assert_eq!(keys[0], "net.ipv4.tcp_fin_timeout");
        assert_eq!(keys[7], "net.ipv4.tcp_fin_timeout");
        // Kept assignments read back the same after a table is rebuilt.
        let mut kept = table.clone();
        kept.retain(|a| a.key() != "net.ipv4.tcp_fin_timeout");
        assert_eq!(kept.to_vec(), all[2..7].to_vec());
        // An unshared table gives each key its own index and reads back the same.
        let mut unshared = Assignments::unshared(FileId(3), 0);
        for a in &all {
            unshared.push(a.clone());
        }
        assert_eq!(unshared.key_count(), all.len());
        assert_eq!(unshared, table);
    }
}
