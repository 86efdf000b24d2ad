//! YAML, read into a tree that remembers where everything was written.
//!
//! This is the only module that talks to the YAML parser (`saphyr-parser`). It turns the parser's
//! events into a [`YamlNode`] tree whose every scalar, key, list and mapping carries a byte
//! [`Span`], so later stages can point at a value that is well-formed YAML but wrong for twlint
//! (an unknown field, a port of 0). It also keeps how a scalar was written ([`ScalarStyle`]), so a
//! quoted `"80"` is known to be a string and a plain `80` a number.
//!
//! What is refused, with a diagnostic rather than a hang or an allocation storm:
//! - syntax errors (TW050, at the position the parser reports);
//! - nesting deeper than [`MAX_DEPTH`] and aliases that expand, together, to more than
//!   [`MAX_NODES`] nodes (TW050: an "alias bomb" is stopped before it is expanded). The nodes a
//!   file writes itself are not counted: the file's size bounds them (`MAX_FILE_SIZE`), and a
//!   10,000-node topology writes more than 200,000.
//!
//! What is reported but not fatal: a key written twice in one mapping (TW064, the first one is
//! kept) and further documents after the first (TW069, a warning; they are checked for syntax
//! errors, then ignored).
//!
//! Aliases (`*name`) are resolved by copying the anchored node; the copy's outer span is the
//! alias, the spans inside it are those of the anchor's definition. Merge keys (`<<`) and tags
//! other than `!!str` and `!!null` have no special meaning here.

use crate::code::Code;
use crate::diag::Diagnostic;
#[cfg(test)]
use crate::diag::Severity;
use crate::source::{FileId, Span, Spanned};
use saphyr_parser::{Event, Parser, ScanError};
use std::collections::HashMap;

pub mod de;
pub mod replay;

/// Deepest nesting of lists and mappings accepted (a topology needs about five).
pub const MAX_DEPTH: usize = 64;
/// Most nodes the aliases of a document may add when they are expanded (the nodes written in
/// the file are bounded by its size, not by this).
pub const MAX_NODES: usize = 200_000;

/// Help for a value that should have been a single scalar ("expected X, found a list").
pub const HELP_SCALAR: &str = "write a single value here, not a list or a mapping";
/// Help for a quoted scalar where a number or keyword belongs.
pub const HELP_PLAIN: &str = "remove the quotes: a quoted value is a string in YAML";
/// Help for a value that should have been a list.
pub const HELP_LIST: &str = "write a YAML list here: `[a, b]`, or one `- item` per line";
/// Help for a value that should have been a mapping.
pub const HELP_MAPPING: &str = "write a YAML mapping here, one `key: value` per line";

/// How a scalar was written. Only a plain scalar can be a number, a boolean or null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    /// `80`, `web`, `6.8`.
    Plain,
    /// `'80'`, `"80"`, or tagged `!!str`.
    Quoted,
    /// A literal (`|`) or folded (`>`) block.
    Block,
}

/// One node of a YAML document.
#[derive(Debug, Clone, PartialEq)]
pub enum YamlNode {
    /// A scalar; `value.span` covers the text as written, quotes included.
    Scalar {
        value: Spanned<String>,
        style: ScalarStyle,
    },
    Sequence {
        items: Vec<YamlNode>,
        span: Span,
    },
    /// A mapping, entries in file order, keys unique (duplicates are dropped with TW064).
    Mapping {
        entries: Vec<(Spanned<String>, YamlNode)>,
        span: Span,
    },
    /// `~`, `null`, or nothing at all (`key:` with no value); the span may be empty.
    Null(Span),
}

/// A parsed document: the first document's root, and the non-fatal diagnostics found on the way.
#[derive(Debug, Clone)]
pub struct Document {
    pub root: YamlNode,
    pub diagnostics: Vec<Diagnostic>,
}

impl YamlNode {
    pub fn span(&self) -> Span {
        match self {
            YamlNode::Scalar { value, .. } => value.span,
            YamlNode::Sequence { span, .. }
            | YamlNode::Mapping { span, .. }
            | YamlNode::Null(span) => *span,
        }
    }

    /// What the node is, for "expected X, found Y" messages: "a number", "a list", ...
    pub fn describe(&self) -> &'static str {
        match self {
            YamlNode::Scalar {
                value,
                style: ScalarStyle::Plain,
            } => {
                let v = value.value.as_str();
                if parse_int(v).is_some() || parse_float(v).is_some() {
                    "a number"
                } else if matches!(v, "true" | "false" | "True" | "False" | "TRUE" | "FALSE") {
                    "a boolean"
                } else {
                    "a string"
                }
            }
            YamlNode::Scalar {
                style: ScalarStyle::Quoted,
                ..
            } => "a quoted string",
            YamlNode::Scalar {
                style: ScalarStyle::Block,
                ..
            } => "a block string",
            YamlNode::Sequence { .. } => "a list",
            YamlNode::Mapping { .. } => "a mapping",
            YamlNode::Null(_) => "nothing (null)",
        }
    }

    /// The scalar's text and style, if this is a scalar.
    pub fn as_scalar(&self) -> Option<(&Spanned<String>, ScalarStyle)> {
        match self {
            YamlNode::Scalar { value, style } => Some((value, *style)),
            _ => None,
        }
    }

    /// The value under `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&YamlNode> {
        match self {
            YamlNode::Mapping { entries, .. } => {
                entries.iter().find(|(k, _)| k.value == key).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// The entries of a mapping; null counts as an empty mapping. Anything else pushes TW053.
    pub fn expect_mapping(
        &self,
        expected: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<&[(Spanned<String>, YamlNode)]> {
        match self {
            YamlNode::Mapping { entries, .. } => Some(entries),
            YamlNode::Null(_) => Some(&[]),
            _ => {
                diags.push(self.wrong_type(expected).with_help(HELP_MAPPING));
                None
            }
        }
    }

    /// TW053 wrong-type, pointing at this node: "expected a list of ports, found a number".
    pub fn wrong_type(&self, expected: &str) -> Diagnostic {
        Diagnostic::error(
            Code::TW053,
            format!("expected {expected}, found {}", self.describe()),
        )
        .at(self.span(), format!("expected {expected}"))
    }

    /// Number of nodes in this subtree, and its height (a scalar has height 0).
    fn size_and_height(&self) -> (usize, usize) {
        match self {
            YamlNode::Scalar { .. } | YamlNode::Null(_) => (1, 0),
            YamlNode::Sequence { items, .. } => items.iter().fold((1, 1), |(s, h), n| {
                let (ns, nh) = n.size_and_height();
                (s + ns, h.max(nh + 1))
            }),
            YamlNode::Mapping { entries, .. } => entries.iter().fold((1, 1), |(s, h), (_, n)| {
                let (ns, nh) = n.size_and_height();
                (s + ns + 1, h.max(nh + 1))
            }),
        }
    }

    fn with_span(mut self, new: Span) -> YamlNode {
        match &mut self {
            YamlNode::Scalar { value, .. } => value.span = new,
            YamlNode::Sequence { span, .. }
            | YamlNode::Mapping { span, .. }
            | YamlNode::Null(span) => *span = new,
        }
        self
    }
}

/// A YAML 1.2 core-schema integer: decimal with an optional sign, `0x...` or `0o...`.
pub fn parse_int(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16)
            .ok()
            .filter(|_| !hex.starts_with(['+', '-']));
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8)
            .ok()
            .filter(|_| !oct.starts_with(['+', '-']));
    }
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A YAML 1.2 core-schema number (integer or float), including `.inf` and `.nan`.
pub fn parse_float(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let negative = text.starts_with('-');
    match unsigned {
        ".inf" | ".Inf" | ".INF" => {
            return Some(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        ".nan" | ".NaN" | ".NAN" if unsigned.len() == text.len() => return Some(f64::NAN),
        _ => {}
    }
    if let Some(i) = parse_int(text) {
        return Some(i as f64);
    }
    // Rust also accepts "inf", "NaN" and "infinity"; YAML does not, so check the shape first.
    let mantissa_has_digit = unsigned
        .split(['e', 'E'])
        .next()
        .is_some_and(|m| m.bytes().any(|b| b.is_ascii_digit()));
    let shape_ok = unsigned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !(mantissa_has_digit && shape_ok) {
        return None;
    }
    text.parse().ok()
}

/// Converts the parser's character indices into byte offsets. Events arrive roughly in order, so
/// it walks from the last position instead of keeping a table as large as the text.
struct Offsets<'t> {
    text: &'t str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl<'t> Offsets<'t> {
    fn new(text: &'t str) -> Self {
        Offsets {
            text,
            ascii: text.is_ascii(),
            chars: 0,
            bytes: 0,
        }
    }

    fn byte(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        if char_index < self.chars {
            self.chars = 0;
            self.bytes = 0;
        }
        for c in self.text[self.bytes..].chars() {
            if self.chars == char_index {
                break;
            }
            self.chars += 1;
            self.bytes += c.len_utf8();
        }
        self.bytes
    }

    fn span(&mut self, file: FileId, span: saphyr_parser::Span) -> Span {
        let start = self.byte(span.start.index());
        let end = self.byte(span.end.index());
        Span::new(file, start, end.max(start))
    }
}

/// A list or mapping being built.
enum Frame {
    Sequence {
        items: Vec<YamlNode>,
        start: usize,
        anchor: usize,
    },
    Mapping {
        entries: Vec<(Spanned<String>, YamlNode)>,
        start: usize,
        anchor: usize,
        /// The key waiting for its value; `Some(None)` for a key that was refused (its value is
        /// dropped), `Some(Some(span))` for a duplicate key (value dropped too).
        key: Option<Option<Spanned<String>>>,
        /// foldhash rather than SipHash: hashing keys was a tenth of loading the rule catalog.
        seen: HashMap<String, Span, foldhash::fast::RandomState>,
    },
}

struct Builder<'t> {
    file: FileId,
    offsets: Offsets<'t>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, YamlNode>,
    /// Nodes added by expanding aliases so far.
    expanded: usize,
    diagnostics: Vec<Diagnostic>,
    root: Option<YamlNode>,
}

fn syntax_error(file: FileId, offsets: &mut Offsets<'_>, err: &ScanError) -> Diagnostic {
    let start = offsets.byte(err.marker().index());
    let end = offsets.text[start..]
        .chars()
        .next()
        .map_or(start, |c| start + c.len_utf8());
    Diagnostic::error(Code::TW050, format!("invalid YAML: {}", err.info()))
        .at(Span::new(file, start, end), "the YAML parser stopped here")
        .with_help("fix the YAML syntax here; a YAML linter or editor shows the structure it sees")
}

fn limit_error(span: Span, message: String) -> Diagnostic {
    Diagnostic::error(Code::TW050, message)
        .at(span, "refused here")
        .with_help("write the document out plainly: a topology needs neither deep nesting nor large alias expansions")
}

// The error path runs at most once per document; boxing the diagnostic would buy nothing.
#[allow(clippy::result_large_err)]
impl Builder<'_> {
    /// Counts the nodes an alias adds ([`MAX_NODES`]).
    fn count(&mut self, added: usize, span: Span) -> Result<(), Diagnostic> {
        self.expanded += added;
        if self.expanded > MAX_NODES {
            return Err(limit_error(
                span,
                format!("the document expands to more than {MAX_NODES} YAML nodes"),
            ));
        }
        Ok(())
    }

    fn open(&mut self, frame: Frame, span: Span) -> Result<(), Diagnostic> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(limit_error(
                span,
                format!("the document nests lists and mappings deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Attaches a finished node to its parent (or makes it the root).
    fn finish(&mut self, node: YamlNode, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Sequence { items, .. }) => items.push(node),
            Some(Frame::Mapping {
                entries, key, seen, ..
            }) => match key.take() {
                None => {
                    let span = node.span();
                    match node {
                        YamlNode::Scalar { value, .. } => {
                            if let Some(first) = seen.get(&value.value) {
                                self.diagnostics.push(
                                    Diagnostic::error(
                                        Code::TW064,
                                        format!("duplicate key `{}`", value.value),
                                    )
                                    .at(value.span, "written again here")
                                    .with_secondary(*first, "first written here")
                                    .with_help("remove one of the two; twlint keeps the first"),
                                );
                                *key = Some(None);
                            } else {
                                seen.insert(value.value.clone(), span);
                                *key = Some(Some(value));
                            }
                        }
                        YamlNode::Null(_) => *key = Some(Some(Spanned::new(String::new(), span))),
                        other => {
                            self.diagnostics.push(
                                other
                                    .wrong_type("a plain key")
                                    .with_help("use a string as the key of this mapping"),
                            );
                            *key = Some(None);
                        }
                    }
                }
                Some(Some(k)) => entries.push((k, node)),
                Some(None) => {}
            },
        }
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), Diagnostic> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                use saphyr_parser::ScalarStyle as Written;
                // Only the core schema's `!!str` and `!!null` change the meaning of a scalar.
                let tag = tag.as_deref().filter(|t| t.is_yaml_core_schema());
                let tag = tag.map(|t| t.suffix.as_str());
                let plain_null = style == Written::Plain
                    && tag.is_none()
                    && matches!(&*text, "" | "~" | "null" | "Null" | "NULL");
                let node = if plain_null || tag == Some("null") {
                    YamlNode::Null(span)
                } else {
                    let style = match style {
                        Written::Plain if tag != Some("str") => ScalarStyle::Plain,
                        Written::Literal | Written::Folded => ScalarStyle::Block,
                        _ => ScalarStyle::Quoted,
                    };
                    YamlNode::Scalar {
                        value: Spanned::new(text.into_owned(), span),
                        style,
                    }
                };
                self.finish(node, anchor);
            }
            Event::Alias(id) => {
                let Some((size, height)) = self.anchors.get(&id).map(YamlNode::size_and_height)
                else {
                    // The parser refuses unknown anchors itself; this is only a safety net.
                    return Err(limit_error(span, "alias to an unknown anchor".to_string()));
                };
                if self.stack.len() + height > MAX_DEPTH {
                    return Err(limit_error(
                        span,
                        format!("this alias nests the document deeper than {MAX_DEPTH} levels"),
                    ));
                }
                // Count before copying, so a bomb is refused before it takes memory.
                self.count(size, span)?;
                let node = self.anchors[&id].clone().with_span(span);
                self.finish(node, 0);
            }
            Event::SequenceStart(anchor, _) => self.open(
                Frame::Sequence {
                    items: Vec::new(),
                    start: span.from(),
                    anchor,
                },
                span,
            )?,
            Event::MappingStart(anchor, _) => self.open(
                Frame::Mapping {
                    entries: Vec::new(),
                    start: span.from(),
                    anchor,
                    key: None,
                    seen: HashMap::default(),
                },
                span,
            )?,
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = self.stack.pop().expect("parser balances starts and ends");
                let (node, anchor) = match frame {
                    Frame::Sequence {
                        items,
                        start,
                        anchor,
                    } => {
                        let end = end_of(span, items.last().map(YamlNode::span), start);
                        let span = Span::new(self.file, start, end);
                        (YamlNode::Sequence { items, span }, anchor)
                    }
                    Frame::Mapping {
                        entries,
                        start,
                        anchor,
                        ..
                    } => {
                        let end = end_of(span, entries.last().map(|(_, v)| v.span()), start);
                        let span = Span::new(self.file, start, end);
                        (YamlNode::Mapping { entries, span }, anchor)
                    }
                };
                self.finish(node, anchor);
            }
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::Nothing => {}
        }
        Ok(())
    }
}

/// End of a list or mapping: a flow collection ends at its closing bracket (a non-empty end
/// event); a block one ends with its last child (its end event sits at the next token).
fn end_of(end_event: Span, last_child: Option<Span>, start: usize) -> usize {
    if end_event.end > end_event.start {
        end_event.to()
    } else {
        last_child.map_or(start, |s| s.to()).max(start)
    }
}

/// Parses the first YAML document of `text` (registered in a source map as `file`).
///
/// A syntax error anywhere in the stream, nesting deeper than [`MAX_DEPTH`] or an expansion past
/// [`MAX_NODES`] is the `Err`: a TW050 diagnostic at the exact position. An empty document's root
/// is [`YamlNode::Null`].
#[allow(clippy::result_large_err)]
pub fn parse(file: FileId, text: &str) -> Result<Document, Diagnostic> {
    build(file, text, Parser::new_from_str(text))
}

/// [`parse`], from the parser events [`replay::record`] recorded for `text` (the shipped rule
/// files, recorded at build time): the same document, without scanning the text again.
#[allow(clippy::result_large_err)]
pub fn parse_recorded(file: FileId, text: &str, events: &[u8]) -> Result<Document, Diagnostic> {
    build(file, text, replay::Replay::new(events))
}

/// Every document of a YAML stream, in order (a `kubectl get -o yaml` list, a `helm template`
/// output): the roots of the non-empty documents, and the non-fatal diagnostics of all of them.
#[derive(Debug, Clone)]
pub struct Stream {
    pub documents: Vec<YamlNode>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses every document of `text`, where [`parse`] reads the first and warns about the rest
/// (TW069): formats such as Kubernetes manifests hold several on purpose. Anchors are per
/// document, as YAML defines them; the limits ([`MAX_DEPTH`], [`MAX_NODES`]) hold per document.
#[allow(clippy::result_large_err)]
pub fn parse_stream(file: FileId, text: &str) -> Result<Stream, Diagnostic> {
    let mut builder = Builder {
        file,
        offsets: Offsets::new(text),
        stack: Vec::new(),
        anchors: HashMap::new(),
        expanded: 0,
        diagnostics: Vec::new(),
        root: None,
    };
    let mut documents = Vec::new();
    for event in Parser::new_from_str(text) {
        let (event, raw_span) = match event {
            Ok(ok) => ok,
            Err(err) => return Err(syntax_error(file, &mut builder.offsets, &err)),
        };
        let span = builder.offsets.span(file, raw_span);
        if let Event::DocumentEnd = event {
            // A document of nothing but comments (`---` at the end of a Helm output) is no
            // document for a reader.
            if let Some(root) = builder
                .root
                .take()
                .filter(|r| !matches!(r, YamlNode::Null(_)))
            {
                documents.push(root);
            }
            builder.anchors.clear();
            builder.expanded = 0;
            continue;
        }
        builder.event(event, span)?;
    }
    documents.extend(builder.root.take());
    Ok(Stream {
        documents,
        diagnostics: builder.diagnostics,
    })
}

#[allow(clippy::result_large_err)]
fn build<'e>(
    file: FileId,
    text: &str,
    events: impl Iterator<Item = Result<(Event<'e>, saphyr_parser::Span), ScanError>>,
) -> Result<Document, Diagnostic> {
    let mut builder = Builder {
        file,
        offsets: Offsets::new(text),
        stack: Vec::new(),
        anchors: HashMap::new(),
        expanded: 0,
        diagnostics: Vec::new(),
        root: None,
    };
    let mut documents = 0;
    let mut warned = false;
    for event in events {
        let (event, raw_span) = match event {
            Ok(ok) => ok,
            Err(err) => return Err(syntax_error(file, &mut builder.offsets, &err)),
        };
        let span = builder.offsets.span(file, raw_span);
        if let Event::DocumentStart(_) = event {
            documents += 1;
        }
        if documents <= 1 {
            builder.event(event, span)?;
        } else if !warned && matches!(event, Event::DocumentStart(_)) {
            warned = true;
            builder.diagnostics.push(
                Diagnostic::warning(Code::TW069, "only the first YAML document is read")
                    .at(span, "a second document starts here")
                    .with_help(
                        "remove the `---` and what follows, or move it to a file of its own",
                    ),
            );
        }
    }
    let root = builder
        .root
        .unwrap_or_else(|| YamlNode::Null(Span::new(file, 0, 0)));
    Ok(Document {
        root,
        diagnostics: builder.diagnostics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;
    use std::time::{Duration, Instant};

    fn doc(text: &str) -> (SourceMap, Result<Document, Diagnostic>) {
        let mut map = SourceMap::new();
        let file = map.add("t.yaml", text);
        let parsed = parse(file, text);
        (map, parsed)
    }

    fn at(map: &SourceMap, span: Span) -> (usize, usize) {
        let l = map.location(span);
        (l.line, l.column)
    }

    fn error_at(text: &str) -> (String, String, (usize, usize)) {
        let (map, parsed) = doc(text);
        let d = parsed.expect_err("should be refused");
        let pos = at(&map, d.primary.as_ref().unwrap().span);
        (d.code, d.message, pos)
    }

    #[test]
    fn scalars_keep_their_style_and_place() {
        let (map, parsed) = doc("a: 1\nb: '1'\nc: \"x\"\nd: |\n  text\ne: !!str 2\n");
        let root = parsed.unwrap().root;
        let (a, sa) = root.get("a").unwrap().as_scalar().unwrap();
        assert_eq!((a.value.as_str(), sa), ("1", ScalarStyle::Plain));
        assert_eq!(at(&map, a.span), (1, 4));
        let (b, sb) = root.get("b").unwrap().as_scalar().unwrap();
        assert_eq!((b.value.as_str(), sb), ("1", ScalarStyle::Quoted));
        assert_eq!(map.slice(b.span), "'1'");
        assert_eq!(
            root.get("c").unwrap().as_scalar().unwrap().1,
            ScalarStyle::Quoted
        );
        let (d, sd) = root.get("d").unwrap().as_scalar().unwrap();
        assert_eq!((d.value.as_str(), sd), ("text\n", ScalarStyle::Block));
        assert_eq!(
            root.get("e").unwrap().as_scalar().unwrap().1,
            ScalarStyle::Quoted
        );
    }

    #[test]
    fn lists_and_mappings_have_spans_in_block_and_flow_style() {
        let text = "nodes:\n  - name: web\n    listen: [80, 443]\n  - {name: db}\n";
        let (map, parsed) = doc(text);
        let root = parsed.unwrap().root;
        let YamlNode::Sequence { items, span } = root.get("nodes").unwrap() else {
            panic!("nodes is a list");
        };
        assert_eq!(at(&map, *span), (2, 3));
        assert_eq!(items.len(), 2);
        assert_eq!(
            map.slice(items[0].span()),
            "name: web\n    listen: [80, 443]"
        );
        assert_eq!(map.slice(items[1].span()), "{name: db}");
        let listen = items[0].get("listen").unwrap();
        assert_eq!(map.slice(listen.span()), "[80, 443]");
        let YamlNode::Mapping { entries, .. } = &items[1] else {
            panic!("a node is a mapping");
        };
        assert_eq!(at(&map, entries[0].0.span), (4, 6));
    }

    #[test]
    fn null_forms_are_null() {
        let (_, parsed) = doc("a:\nb: ~\nc: null\nd: !!null x\ne: 'null'\n");
        let root = parsed.unwrap().root;
        for key in ["a", "b", "c", "d"] {
            assert!(matches!(root.get(key), Some(YamlNode::Null(_))), "{key}");
        }
        assert!(matches!(root.get("e"), Some(YamlNode::Scalar { .. })));
        let (_, empty) = doc("");
        assert!(matches!(empty.unwrap().root, YamlNode::Null(_)));
    }

    #[test]
    fn syntax_error_is_tw050_at_the_parsers_position() {
        let (code, message, pos) = error_at("a: 1\nb: [1,\n");
        assert_eq!(code, "TW050");
        assert!(message.starts_with("invalid YAML: "), "{message}");
        assert_eq!(pos, (3, 1));
        assert_eq!(error_at("a: 1\nb: c: d\n").2, (2, 5));
    }

    #[test]
    fn non_ascii_before_an_error_keeps_the_column() {
        // 'é' and 'ü' are two bytes each; the column counts characters.
        assert_eq!(error_at("é: 1\nüü: c: d\n").2, (2, 6));
        let (map, parsed) = doc("zürich: [münchen, wien]\n");
        let root = parsed.unwrap().root;
        let YamlNode::Sequence { items, .. } = root.get("zürich").unwrap() else {
            panic!("a list");
        };
        assert_eq!(at(&map, items[1].span()), (1, 19));
        assert_eq!(map.slice(items[1].span()), "wien");
    }

    #[test]
    fn crlf_line_ends_keep_lines_and_columns() {
        let (map, parsed) = doc("a: 1\r\nb:\r\n  - x\r\n");
        let root = parsed.unwrap().root;
        let YamlNode::Sequence { items, .. } = root.get("b").unwrap() else {
            panic!("a list");
        };
        assert_eq!(at(&map, items[0].span()), (3, 5));
        assert_eq!(map.slice(items[0].span()), "x");
        assert_eq!(error_at("a: 1\r\nb: c: d\r\n").2, (2, 5));
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let text = "\u{FEFF}a: 1\n";
        let (map, parsed) = doc(text);
        let root = parsed.unwrap().root;
        let (a, _) = root.get("a").unwrap().as_scalar().unwrap();
        // The BOM is three bytes; the value is right after "a: ".
        assert_eq!(a.span.start, 6);
        assert_eq!(map.slice(a.span), "1");
    }

    #[test]
    fn aliases_are_copied_with_the_alias_as_outer_span() {
        let (map, parsed) = doc("a: &ports [80, 443]\nb: *ports\n");
        let root = parsed.unwrap().root;
        let b = root.get("b").unwrap();
        assert_eq!(map.slice(b.span()), "*ports");
        let YamlNode::Sequence { items, .. } = b else {
            panic!("the alias resolves to the list");
        };
        assert_eq!(items.len(), 2);
        assert_eq!(at(&map, items[1].span()), (1, 16));
    }

    #[test]
    fn alias_bomb_is_refused_quickly() {
        let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let started = Instant::now();
        let (code, message, (line, _)) = error_at(&text);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(code, "TW050");
        assert!(message.contains("more than 200000"), "{message}");
        // 9^5 * 10 nodes is past the limit: refused on the line of a5.
        assert_eq!(line, 6);
    }

    /// The node limit is for what aliases expand to: a long file written out plainly (a
    /// 10,000-node topology writes about 300,000 YAML nodes) is read whole.
    #[test]
    fn nodes_written_in_the_file_are_not_limited() {
        let text: String = (0..60_000)
            .map(|i| format!("- {{a: {i}, b: [x, y]}}\n"))
            .collect();
        let (_, parsed) = doc(&text);
        let root = parsed.unwrap().root;
        assert!(root.size_and_height().0 > MAX_NODES);
        let YamlNode::Sequence { items, .. } = root else {
            panic!("a list");
        };
        assert_eq!(items.len(), 60_000);
    }

    #[test]
    fn deep_nesting_is_refused_quickly() {
        // The parser itself gives up on flow nesting past 255 levels; either way it is TW050.
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let started = Instant::now();
        assert_eq!(error_at(&text).0, "TW050");
        let text = format!("{}x", "- ".repeat(100_000));
        assert_eq!(error_at(&text).0, "TW050");
        assert!(started.elapsed() < Duration::from_secs(2));
        let (code, message, pos) = error_at(&format!("{}{}", "[".repeat(200), "]".repeat(200)));
        assert_eq!(code, "TW050");
        assert!(message.contains("deeper than 64"), "{message}");
        assert_eq!(pos, (1, 65));
        // Nesting reached through an alias counts too.
        let deep = format!("a: &d {}1{}\nb: [[[*d]]]\n", "[".repeat(62), "]".repeat(62));
        let (code, message, pos) = error_at(&deep);
        assert_eq!(code, "TW050");
        assert!(message.contains("alias"), "{message}");
        assert_eq!(pos, (2, 7));
        // 64 levels are fine.
        let ok = format!("{}1{}", "[".repeat(64), "]".repeat(64));
        assert!(doc(&ok).1.is_ok());
    }

    #[test]
    fn duplicate_key_is_tw064_and_the_first_is_kept() {
        let (map, parsed) = doc("name: a\nport: 1\nname: b\n");
        let parsed = parsed.unwrap();
        assert_eq!(parsed.diagnostics.len(), 1);
        let d = &parsed.diagnostics[0];
        assert_eq!(d.code, "TW064");
        assert_eq!(at(&map, d.primary.as_ref().unwrap().span), (3, 1));
        assert_eq!(at(&map, d.secondary[0].span), (1, 1));
        let (name, _) = parsed.root.get("name").unwrap().as_scalar().unwrap();
        assert_eq!(name.value, "a");
    }

    #[test]
    fn only_the_first_document_is_read_with_a_warning() {
        let (map, parsed) = doc("a: 1\n---\nb: 2\n---\nc: 3\n");
        let parsed = parsed.unwrap();
        assert!(parsed.root.get("a").is_some());
        assert!(parsed.root.get("b").is_none());
        assert_eq!(parsed.diagnostics.len(), 1);
        let d = &parsed.diagnostics[0];
        assert_eq!((d.code.as_str(), d.severity), ("TW069", Severity::Warning));
        assert_eq!(at(&map, d.primary.as_ref().unwrap().span), (2, 1));
        // A syntax error in a later document still fails.
        assert_eq!(error_at("a: 1\n---\nb: [\n").2, (4, 1));
    }

    #[test]
    fn complex_keys_are_refused() {
        let (map, parsed) = doc("? [a, b]\n: 1\nc: 2\n");
        let parsed = parsed.unwrap();
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(parsed.diagnostics[0].code, "TW053");
        assert_eq!(
            at(&map, parsed.diagnostics[0].primary.as_ref().unwrap().span),
            (1, 3)
        );
        assert!(parsed.root.get("c").is_some());
    }

    #[test]
    fn numbers_follow_the_yaml_core_schema() {
        assert_eq!(parse_int("80"), Some(80));
        assert_eq!(parse_int("+80"), Some(80));
        assert_eq!(parse_int("-1"), Some(-1));
        assert_eq!(parse_int("0x50"), Some(80));
        assert_eq!(parse_int("0o120"), Some(80));
        assert_eq!(parse_int("80.0"), None);
        assert_eq!(parse_int("http"), None);
        assert_eq!(parse_int("0x-5"), None);
        assert_eq!(parse_float("1500.5"), Some(1500.5));
        assert_eq!(parse_float("1e3"), Some(1000.0));
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(parse_float("-.inf"), Some(f64::NEG_INFINITY));
        assert!(parse_float(".nan").unwrap().is_nan());
        assert_eq!(parse_float("inf"), None);
        assert_eq!(parse_float("NaN"), None);
        assert_eq!(parse_float("fast"), None);
        assert_eq!(parse_float("."), None);
    }
}
