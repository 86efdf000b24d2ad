//! A large topology's YAML read in two halves at once: the text cut at an item of its `links:`
//! list, the two halves parsed on two threads, the second half's items appended to the
//! first's list. Reading the YAML was the longest step left on one core before judging (about
//! 2,200 parser instructions an event, a quarter of a million events at 10,000 nodes).
//!
//! The halves give the whole text's tree only where nothing reaches across the cut, so the
//! whole text is parsed as before ([`crate::yaml::parse`]) unless every one of these holds:
//! the text has no anchor, alias, tag, directive, block scalar or tab (`&`, `*`, `!`, `%`,
//! `|`, `>`, a tab byte anywhere, even where they would mean nothing), and no document marker
//! after its start; it has one top-level `links:` list of block items, and the cut is at the
//! start of one of them; each half parses without an error or a diagnostic; the first half's
//! last top-level key is `links` with a list; the second half is a list of items nested well
//! below the depth limit. A half that cannot be cut cleanly fails to parse on its own (a
//! quoted text or a flow collection left open), and then the whole text is parsed. Test
//! `halves_give_the_tree_the_whole_text_gives`.

use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use crate::yaml::{self, Document, YamlNode};

/// Bytes from which a topology's text is parsed in two halves: below, a thread costs more
/// than half of the parse.
const PARALLEL_FROM: usize = 256 * 1024;

/// How deep the second half's items may nest (they are one level deeper in the whole text; a
/// topology needs about five, [`yaml::MAX_DEPTH`] is far above).
const MAX_HALF_HEIGHT: usize = 32;

/// Parses a topology's text as [`yaml::parse`] does, in two halves at once when it is large
/// and can be cut (see the module docs).
#[allow(clippy::result_large_err)]
pub(super) fn parse(file: FileId, text: &str) -> Result<Document, Diagnostic> {
    parse_from(PARALLEL_FROM, file, text)
}

/// [`parse`], cutting texts from `min` bytes.
#[allow(clippy::result_large_err)]
fn parse_from(min: usize, file: FileId, text: &str) -> Result<Document, Diagnostic> {
    if text.len() >= min {
        if let Some(doc) = cut_at(text).and_then(|at| parse_halves(file, text, at)) {
            return Ok(doc);
        }
    }
    yaml::parse(file, text)
}

/// Where to cut `text`: the start of the first item of its top-level `links:` list from the
/// middle of the text on, when the text can be cut at all.
fn cut_at(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes
        .iter()
        .any(|b| matches!(b, b'&' | b'*' | b'!' | b'%' | b'|' | b'>' | b'\t'))
    {
        return None;
    }
    let line_starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
    let mut links_body = None;
    for s in line_starts.filter(|&s| s < bytes.len()) {
        let line = &bytes[s..];
        if s > 0 && (line.starts_with(b"---") || line.starts_with(b"...")) {
            return None;
        }
        let line = &line[..memchr::memchr(b'\n', line).unwrap_or(line.len())];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line == b"links:" {
            if links_body.is_some() {
                return None;
            }
            links_body = Some(s + line.len());
        }
    }
    let body = links_body?;
    // The list's first item: its indent and dash are what every item of the list starts with.
    let mut first_item = None;
    let mut s = body;
    while s < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[s..]).map_or(bytes.len(), |i| s + i);
        let line = &bytes[s..end];
        let content = line.trim_ascii_start();
        if !content.is_empty() && !content.starts_with(b"#") {
            if content.starts_with(b"- ") {
                first_item = Some((s, line.len() - content.len()));
            }
            break;
        }
        s = end + 1;
    }
    let (first, indent) = first_item?;
    let target = (bytes.len() / 2).max(first + 1);
    let starts = memchr::memchr_iter(b'\n', &bytes[target..]).map(|i| target + i + 1);
    starts.take_while(|&s| s < bytes.len()).find(|&s| {
        let line = &bytes[s..];
        line.len() > indent + 2
            && line[..indent].iter().all(|&b| b == b' ')
            && line[indent..].starts_with(b"- ")
    })
}

/// The whole text's document from its halves cut at `at`, when they give it (see the module
/// docs); `None` to parse the whole text.
fn parse_halves(file: FileId, text: &str, at: usize) -> Option<Document> {
    let (first, second) = text.split_at(at);
    let (first, second) = std::thread::scope(|s| {
        let second = crate::pool::spawn_scoped(s, || second_items(file, second, at));
        let first = yaml::parse(file, first);
        let second = second
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (first, second)
    });
    let (first, more) = (first.ok()?, second?);
    if !first.diagnostics.is_empty() {
        return None;
    }
    let YamlNode::Mapping {
        mut entries,
        mut span,
    } = first.root
    else {
        return None;
    };
    let (key, YamlNode::Sequence { items, span: list }) = entries.last_mut()? else {
        return None;
    };
    if key.value != "links" {
        return None;
    }
    items.extend(more);
    // A block list ends with its last item, a block mapping with its last value.
    let end = items.last().map_or(list.start, |i| i.span().end);
    list.end = end.max(list.start);
    span.end = list.end.max(span.start);
    Some(Document {
        root: YamlNode::Mapping { entries, span },
        diagnostics: Vec::new(),
    })
}

/// The items of the second half, a list on its own, placed in the whole text (`at` bytes
/// further); `None` when it is not such a list or gives a diagnostic.
fn second_items(file: FileId, text: &str, at: usize) -> Option<Vec<YamlNode>> {
    let doc = yaml::parse(file, text).ok()?;
    if !doc.diagnostics.is_empty() {
        return None;
    }
    let YamlNode::Sequence { mut items, .. } = doc.root else {
        return None;
    };
    for item in &mut items {
        place(item, at, 0)?;
    }
    Some(items)
}

/// Moves every span of `node` `by` bytes; `None` when it nests deeper than
/// [`MAX_HALF_HEIGHT`].
fn place(node: &mut YamlNode, by: usize, depth: usize) -> Option<()> {
    if depth > MAX_HALF_HEIGHT {
        return None;
    }
    let moved = |s: Span| Span::new(s.file, s.from() + by, s.to() + by);
    match node {
        YamlNode::Scalar { value, .. } => value.span = moved(value.span),
        YamlNode::Null(span) => *span = moved(*span),
        YamlNode::Sequence { items, span } => {
            *span = moved(*span);
            for item in items {
                place(item, by, depth + 1)?;
            }
        }
        YamlNode::Mapping { entries, span } => {
            *span = moved(*span);
            for (key, value) in entries {
                key.span = moved(key.span);
                place(value, by, depth + 1)?;
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;
    use crate::topology::yaml_files;
    use std::path::Path;

    /// Parsed whole and in halves (every text cut, however small): the same tree and
    /// diagnostics, or the same error. Returns whether the halves were used.
    fn same_both_ways(text: &str) -> bool {
        let mut sources = SourceMap::new();
        let file = sources.add("t.yaml", text);
        let whole = yaml::parse(file, text);
        let halves = parse_from(0, file, text);
        match (&whole, &halves) {
            (Ok(w), Ok(h)) => {
                assert_eq!(w.root, h.root, "{text}");
                assert_eq!(
                    format!("{:?}", w.diagnostics),
                    format!("{:?}", h.diagnostics),
                    "{text}"
                );
            }
            (Err(w), Err(h)) => assert_eq!(format!("{w:?}"), format!("{h:?}"), "{text}"),
            _ => panic!("one way fails, the other does not: {text}"),
        }
        // A text `cut_at` may cut (a small one: this parses it once per line) cut at every
        // line, not only where `cut_at` cuts: what the halves give, when they give anything,
        // is the whole text's tree.
        let lines = memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1);
        let every_line = text.len() < 8192 && cut_at(text).is_some();
        for at in lines.filter(|&at| every_line && at < text.len()) {
            if let Some(h) = parse_halves(file, text, at) {
                let w = whole
                    .as_ref()
                    .expect("the halves parse where the whole does");
                assert!(w.diagnostics.is_empty(), "{text}");
                assert_eq!(w.root, h.root, "cut at {at}: {text}");
            }
        }
        cut_at(text).is_some_and(|at| parse_halves(file, text, at).is_some())
    }

    #[test]
    fn halves_give_the_tree_the_whole_text_gives() {
        let mut files = Vec::new();
        yaml_files(Path::new("topologies"), &mut files);
        yaml_files(Path::new("examples"), &mut files);
        let mut cut = 0;
        for path in &files {
            let text = std::fs::read_to_string(path).unwrap();
            cut += usize::from(same_both_ways(&text));
        }
        for (nodes, links) in [(40, 200), (300, 1500)] {
            let text = super::super::gen::topology(nodes, links);
            assert!(same_both_ways(&text), "a generated topology is cut");
            assert!(same_both_ways(&text.replace('\n', "\r\n")), "with CRLF too");
        }
        assert!(cut > 0, "some reference topologies are cut");
        let item = "  - {from: a, to: b, port: 80}\n";
        let head = "version: 1\nnodes:\n  - name: a\n  - name: b\nlinks:\n";
        let many = item.repeat(8);
        // Texts that may not be cut, or whose halves must not be taken: something reaching
        // across the cut, keys after the list, errors on either side, duplicate keys.
        let cases = [
            format!("{head}{many}"),
            format!("{head}{many}defaults:\n  kernel: '6.1'\n"),
            format!("{head}{many}links:\n{many}"),
            format!("{head}{many}  - {{from: a, to: b,\n{many}"),
            format!("{head}{many}  - {{from: a, to: \"b\n{many}  \"}}\n{many}"),
            format!("{head}{many}  - from: a\n    to: b\n    port: 80\n{many}"),
            format!("{head}{many}  - from: a\n    note: a text\n     that goes on\n{many}"),
            format!("{head}{many}  - {{from: a, from: b}}\n{many}"),
            format!("{head}{many}  - {{from: a\n{many}"),
            format!("{head}{many}# a comment\n\n{many}  # another\n{many}"),
            format!("{head}{many}- {{from: a, to: b, port: 80}}\n{many}"),
            format!("{head}{many}    - {{from: a, to: b, port: 80}}\n{many}"),
            format!("{head}{many}  - [a, b]\n  - plain\n  -\n  - ~\n{many}"),
            format!("{head}{many}---\n{many}"),
            format!("{head}{many}  - {{from: é, to: ü, port: 80}}\n{many}"),
            format!("links:\n{many}"),
            format!("{head}{item}"),
            format!("{head}  - {}\n", "[".repeat(70)),
            format!("{head}{many}  - {}{}\n", "[".repeat(63), "]".repeat(63)),
            format!("{head}{many}  - {}{}\n", "[".repeat(20), "]".repeat(20)),
        ];
        for text in &cases {
            same_both_ways(text);
        }
        assert!(same_both_ways(&cases[0]));
    }
}
