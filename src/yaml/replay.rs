//! YAML parser events, recorded once and replayed: how the shipped rule files skip YAML parsing.
//!
//! Scanning and parsing YAML was two fifths of judging one `sysctl -a` dump, all of it spent on
//! the ~100 KB of rule files embedded in the binary, which never change after the build. So the
//! build script (`build.rs`, which includes this file with `#[path]`) runs the same YAML parser
//! over each shipped rule file and [`record`]s its event stream, and at run time [`Replay`] gives
//! those events back to the same tree builder `yaml::parse` uses (`yaml::parse_recorded`).
//! Everything after the parser — spans, styles, nulls, tags, duplicate keys, the limits, and all
//! of the rule loader — runs as it does on text, so diagnostics point at the same bytes.
//!
//! This file is compiled twice, into the build script and into the crate, so it uses only `std`
//! and `saphyr_parser`. The encoding is private to the two: the length of the events part, the
//! events (one tag byte per event, then its span, start and end index, line and column, and its
//! fields; integers as LEB128 varints, a string as its length), then the strings' text, one after
//! the other in event order, so the replay checks that it is UTF-8 once rather than per string.
//! A file the parser refuses is not recorded (the loader parses its text and reports the error
//! as it always has).

use saphyr_parser::{Event, Marker, ScalarStyle, ScanError, Span, Tag};
use std::borrow::Cow;

const NOTHING: u8 = 0;
const STREAM_START: u8 = 1;
const STREAM_END: u8 = 2;
const DOCUMENT_START_IMPLICIT: u8 = 3;
const DOCUMENT_START_EXPLICIT: u8 = 4;
const DOCUMENT_END: u8 = 5;
const ALIAS: u8 = 6;
const SCALAR: u8 = 7;
const SEQUENCE_START: u8 = 8;
const SEQUENCE_END: u8 = 9;
const MAPPING_START: u8 = 10;
const MAPPING_END: u8 = 11;

/// Records every event the parser gives for `text`; `None` when the parser refuses it.
#[allow(dead_code)] // The crate only replays (and records in its tests); the build script records.
pub fn record(text: &str) -> Option<Vec<u8>> {
    record_skipping(text, None)
}

/// [`record`], leaving out one entry of the document's top-level mapping: the key `skip` and its
/// whole value. The shipped rules' `docs` are nearly two thirds of their text and no report but
/// SARIF shows them, so a run that judges reads each CEL rule without them (`rules::load`).
/// Every span stays the one the whole file gives. `None` when the parser refuses the text.
#[allow(dead_code)] // The crate only replays (and records in its tests); the build script records.
pub fn record_without(text: &str, skip: &str) -> Option<Vec<u8>> {
    record_skipping(text, Some(skip))
}

fn record_skipping(text: &str, skip: Option<&str>) -> Option<Vec<u8>> {
    let mut events = Vec::with_capacity(text.len() / 2);
    let mut strings = String::with_capacity(text.len());
    // `depth` counts the open collections; the top-level mapping's entries are at depth 1,
    // where nodes alternate key and value. `skipping` is the depth below which the value being
    // left out ends.
    let (mut depth, mut at_key, mut skipping) = (0usize, true, None::<usize>);
    for item in saphyr_parser::Parser::new_from_str(text) {
        let (event, span) = item.ok()?;
        let opens = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
        let closes = matches!(event, Event::MappingEnd | Event::SequenceEnd);
        let node = opens || matches!(event, Event::Scalar(..) | Event::Alias(_));
        let at_top = depth == 1 && skipping.is_none();
        if at_top
            && node
            && at_key
            && matches!(&event, Event::Scalar(v, ..) if Some(v.as_ref()) == skip)
        {
            // The key: left out, and the value after it too.
            skipping = Some(depth);
            continue;
        }
        if let Some(level) = skipping {
            if opens {
                depth += 1;
            } else if closes {
                depth -= 1;
            }
            // The value ends with its own scalar or alias, or when its collection closes.
            if depth == level && (node && !opens || closes) {
                skipping = None;
            }
            continue;
        }
        if depth == 1 && node {
            at_key = !at_key;
        }
        if opens {
            depth += 1;
        } else if closes {
            depth -= 1;
        }
        encode(&event, span, &mut events, &mut strings);
    }
    let mut out = Vec::with_capacity(events.len() + strings.len() + 4);
    varint(events.len(), &mut out);
    out.extend_from_slice(&events);
    out.extend_from_slice(strings.as_bytes());
    Some(out)
}

fn encode(event: &Event<'_>, span: Span, out: &mut Vec<u8>, strings: &mut String) {
    let (tag, anchor, yaml_tag) = match event {
        Event::Nothing => (NOTHING, None, None),
        Event::StreamStart => (STREAM_START, None, None),
        Event::StreamEnd => (STREAM_END, None, None),
        Event::DocumentStart(false) => (DOCUMENT_START_IMPLICIT, None, None),
        Event::DocumentStart(true) => (DOCUMENT_START_EXPLICIT, None, None),
        Event::DocumentEnd => (DOCUMENT_END, None, None),
        Event::Alias(id) => (ALIAS, Some(*id), None),
        Event::Scalar(_, _, anchor, t) => (SCALAR, Some(*anchor), Some(t)),
        Event::SequenceStart(anchor, t) => (SEQUENCE_START, Some(*anchor), Some(t)),
        Event::SequenceEnd => (SEQUENCE_END, None, None),
        Event::MappingStart(anchor, t) => (MAPPING_START, Some(*anchor), Some(t)),
        Event::MappingEnd => (MAPPING_END, None, None),
    };
    out.push(tag);
    for m in [span.start, span.end] {
        varint(m.index(), out);
        varint(m.line(), out);
        varint(m.col(), out);
    }
    if let Event::Scalar(text, style, _, _) = event {
        string(text, out, strings);
        out.push(match style {
            ScalarStyle::Plain => 0,
            ScalarStyle::SingleQuoted => 1,
            ScalarStyle::DoubleQuoted => 2,
            ScalarStyle::Literal => 3,
            ScalarStyle::Folded => 4,
        });
    }
    if let Some(anchor) = anchor {
        varint(anchor, out);
    }
    match yaml_tag {
        None => {}
        Some(None) => out.push(0),
        Some(Some(t)) => {
            out.push(1);
            string(&t.handle, out, strings);
            string(&t.suffix, out, strings);
        }
    }
}

fn varint(mut n: usize, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn string(s: &str, out: &mut Vec<u8>, strings: &mut String) {
    varint(s.len(), out);
    strings.push_str(s);
}

/// The events of a recording, in the form the parser gives them. A recording that does not
/// decode (it cannot happen to one `record` made: the tests replay every shipped one) ends with
/// an error, which the tree builder reports like a syntax error, so nothing half-read is used.
pub struct Replay<'a> {
    /// The events not yet given back.
    bytes: &'a [u8],
    /// The text of their strings.
    strings: &'a str,
    /// The stream's last event was given back, or an error: nothing more follows.
    done: bool,
}

impl<'a> Replay<'a> {
    #[allow(dead_code)] // Only the crate replays.
    pub fn new(recording: &'a [u8]) -> Replay<'a> {
        let mut replay = Replay {
            bytes: recording,
            strings: "",
            done: false,
        };
        let parts = replay.varint().and_then(|len| {
            let events = replay.bytes.get(..len)?;
            let strings = std::str::from_utf8(&replay.bytes[len..]).ok()?;
            Some((events, strings))
        });
        // Parts that do not split or decode leave nothing to read: the first event is an error.
        (replay.bytes, replay.strings) = parts.unwrap_or_default();
        replay
    }

    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    #[inline]
    fn varint(&mut self) -> Option<usize> {
        // Most fields (lines, columns, anchors, short lengths) fit in one byte.
        if let Some((&b, rest)) = self.bytes.split_first() {
            if b < 0x80 {
                self.bytes = rest;
                return Some(usize::from(b));
            }
        }
        let mut n = 0usize;
        for shift in (0..usize::BITS).step_by(7) {
            let b = self.byte()?;
            n |= usize::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn string(&mut self) -> Option<&'a str> {
        let len = self.varint()?;
        let s = self.strings.get(..len)?;
        self.strings = &self.strings[len..];
        Some(s)
    }

    fn marker(&mut self) -> Option<Marker> {
        Some(Marker::new(self.varint()?, self.varint()?, self.varint()?))
    }

    fn tag(&mut self) -> Option<Option<Cow<'a, Tag>>> {
        match self.byte()? {
            0 => Some(None),
            1 => Some(Some(Cow::Owned(Tag {
                handle: self.string()?.to_string(),
                suffix: self.string()?.to_string(),
            }))),
            _ => None,
        }
    }

    fn event(&mut self) -> Option<(Event<'a>, Span)> {
        let tag = self.byte()?;
        let span = Span::new(self.marker()?, self.marker()?);
        let event = match tag {
            NOTHING => Event::Nothing,
            STREAM_START => Event::StreamStart,
            STREAM_END => Event::StreamEnd,
            DOCUMENT_START_IMPLICIT => Event::DocumentStart(false),
            DOCUMENT_START_EXPLICIT => Event::DocumentStart(true),
            DOCUMENT_END => Event::DocumentEnd,
            ALIAS => Event::Alias(self.varint()?),
            SCALAR => {
                let text = self.string()?;
                let style = match self.byte()? {
                    0 => ScalarStyle::Plain,
                    1 => ScalarStyle::SingleQuoted,
                    2 => ScalarStyle::DoubleQuoted,
                    3 => ScalarStyle::Literal,
                    4 => ScalarStyle::Folded,
                    _ => return None,
                };
                let anchor = self.varint()?;
                Event::Scalar(Cow::Borrowed(text), style, anchor, self.tag()?)
            }
            SEQUENCE_START => Event::SequenceStart(self.varint()?, self.tag()?),
            SEQUENCE_END => Event::SequenceEnd,
            MAPPING_START => Event::MappingStart(self.varint()?, self.tag()?),
            MAPPING_END => Event::MappingEnd,
            _ => return None,
        };
        Some((event, span))
    }
}

impl<'a> Iterator for Replay<'a> {
    type Item = Result<(Event<'a>, Span), ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // A recording ends with the stream's end, so one cut short anywhere is an error too.
        match self.event() {
            Some((event, span)) => {
                self.done = event == Event::StreamEnd;
                if self.done && !(self.bytes.is_empty() && self.strings.is_empty()) {
                    return Some(Err(damaged()));
                }
                Some(Ok((event, span)))
            }
            None => {
                self.done = true;
                Some(Err(damaged()))
            }
        }
    }
}

fn damaged() -> ScanError {
    ScanError::new_str(
        Marker::new(0, 1, 0),
        "the recorded events of this embedded rule file are damaged; rebuild twlint",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Vec<(Event<'_>, Span)> {
        saphyr_parser::Parser::new_from_str(text)
            .map(|e| e.expect("valid YAML"))
            .collect()
    }

    /// Every kind of event and field the encoding has, replayed exactly as the parser gave it.
    #[test]
    fn replay_gives_back_the_parsers_events() {
        let texts = [
            String::new(),
            "a: 1\nb: '1'\nc: \"x\\ty\"\nd: |\n  text\n  more\ne: >-\n  folded\n  line\n".into(),
            "nodes:\n  - name: web\n    listen: [80, 443]\n  - {name: db, x: ~}\n".into(),
            "base: &b {k: v}\nuse: *b\nlist: &l [1, 2]\nagain: *l\ns: &s text\nt: *s\n".into(),
            "a: !!str 2\nb: !!null x\nc: !custom {x: 1}\nd: !<tag:example.com,2000:x> [1]\n".into(),
            "%YAML 1.2\n---\nfirst: 1\n...\n---\nsecond: 2\n".into(),
            // Non-ASCII text, and lengths and offsets past one varint byte.
            format!("é: ünïcödé\nlong: \"{}\"\nlast: 1\n", "x".repeat(300)),
        ];
        for text in &texts {
            let bytes = record(text).expect("valid YAML records");
            let replayed: Vec<_> = Replay::new(&bytes)
                .map(|e| e.expect("a recording replays"))
                .collect();
            assert_eq!(replayed, parsed(text), "{text:?}");
        }
    }

    /// A recording without a top-level key gives the tree of the whole text without that
    /// entry, every span the one the whole text gives (the mapping's own ends with the last
    /// entry read); the same key deeper down is kept.
    #[test]
    fn a_recording_without_a_key_is_the_tree_without_its_entry() {
        use crate::source::FileId;
        use crate::yaml::{self, YamlNode};
        let texts = [
            "id: TW1\ndocs:\n  what: |\n    text é\n  refs: [a, {b: c}]\nwhen: x\n",
            "docs: plain\nnext: {docs: kept}\n",
            "a: 1\ndocs:\n- x\n- [y, z]\n",
            "a: 1\ndocs:\nb: 2\n",
            "a: &x 1\ndocs: {q: *x}\nc: [docs, 2]\n",
            "no: docs\n",
            "{docs: 1, a: 2}\n",
        ];
        let file = FileId(0);
        for text in texts {
            let bytes = record_without(text, "docs").expect("valid YAML records");
            let left = yaml::parse_recorded(file, text, &bytes).expect("replays");
            let whole = yaml::parse(file, text).unwrap().root;
            let (
                YamlNode::Mapping {
                    entries: left,
                    span: a,
                },
                YamlNode::Mapping {
                    entries: mut all,
                    span: b,
                },
            ) = (left.root, whole)
            else {
                panic!("{text:?}: not a mapping");
            };
            all.retain(|(k, _)| k.value != "docs");
            assert_eq!(format!("{left:?}"), format!("{all:?}"), "{text:?}");
            let last = all.last().map_or(a.start, |(_, v)| v.span().end);
            assert_eq!(a.start, b.start, "{text:?}");
            assert!(last <= a.end && a.end <= b.end, "{text:?}");
        }
    }

    #[test]
    fn invalid_yaml_is_not_recorded() {
        assert_eq!(record("a: [1, 2\nb: 3\n"), None);
        assert_eq!(record("a: *nowhere\n"), None);
    }

    #[test]
    fn a_damaged_recording_ends_with_an_error_not_a_panic() {
        let bytes = record("a: {b: [1, 2]}\nc: text\n").unwrap();
        // Cut anywhere, even between two events: the replay ends with exactly one error.
        for cut in 0..bytes.len() {
            let items: Vec<_> = Replay::new(&bytes[..cut]).collect();
            let errors = items.iter().filter(|e| e.is_err()).count();
            assert_eq!(errors, 1, "cut at {cut}");
            assert!(
                items.last().unwrap().is_err(),
                "cut at {cut}: the error ends it"
            );
        }
        let mut longer = bytes.clone();
        longer.push(STREAM_START);
        assert!(
            Replay::new(&longer).any(|e| e.is_err()),
            "bytes past the end"
        );
        let mut bad = bytes.clone();
        bad[0] = 0xEE;
        let first = Replay::new(&bad).next().unwrap();
        assert!(first.unwrap_err().info().contains("damaged"));
    }
}
