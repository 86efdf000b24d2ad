//! Output safe for terminals and CI logs: control characters that came from an input never
//! reach the output raw.
//!
//! Everything a report shows may come from a pull request or a ticket: a sysctl file's lines,
//! keys and values, paths, topology names, a suppression's reason, a capture's host name. An
//! escape sequence among them (`ESC ]0;...BEL` sets a terminal's title, `ESC [2J` clears it, a
//! C1 `CSI` does the same in 8 bits) would act on the terminal of whoever reads the report, and
//! a line break in a one-line field would start a line of its own in a CI log (where a line
//! starting `::error::` is a workflow command). Every renderer goes through this module:
//!
//! - [`Writer`] sits between a renderer and its output and escapes every control character
//!   in the bytes that pass (all of C0 but line feed and tab, DEL, and C1), in text (`\x1b`,
//!   `\u{9b}`) or JSON (`\u001b`, which is the same string to a JSON reader). It is the
//!   boundary of every format that writes no control characters of its own: gcc, github,
//!   markdown, prometheus, json, sarif, and the human report without colour.
//! - The human report in colour writes escape sequences of its own, so there the fields that
//!   come from inputs are escaped one by one: [`text`] for messages (which may hold line
//!   breaks of their own), [`line`] for one-line fields (a path, a name, a value), and
//!   [`picture`] for the source lines of a frame, where each control character becomes one
//!   visible character (its Unicode control picture, `␛` for ESC), so that columns stay
//!   where they are.
//!
//! The Unicode bidirectional controls (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C)
//! are treated the same way: they print nothing themselves but reorder what follows on the
//! line, so a value could be shown to a reviewer in an order other than the one the kernel
//! reads ("Trojan Source", CVE-2021-42574).
//!
//! Ordinary output has no control characters but line feeds and tabs, so it passes unchanged.

use std::borrow::Cow;
use std::io::{self, Write};

/// Whether `c` is a bidirectional control: an embedding, override or isolate, or an implicit
/// mark (Unicode's Bidi_Control property).
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

/// Whether `c` must not be printed raw (a line feed and a tab may, where they are allowed).
fn is_unsafe(c: char, keep_newline: bool) -> bool {
    (c.is_control() && c != '\t' && !(keep_newline && c == '\n')) || is_bidi(c)
}

/// How a control character is written in text: `\n`, `\r`, `\x1b` for C0 and DEL, `\u{9b}`
/// for C1 (a character of its own, not a byte).
fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// Whether no character of `s` is unsafe. Printable ASCII, tabs and (where kept) line feeds,
/// nearly all of every field, pass eight bytes at a time; only the other characters (a table's
/// borders, a message's dashes) are decoded.
fn is_safe(s: &str, keep_newline: bool) -> bool {
    let other: fn(u8) -> bool = match keep_newline {
        true => |b| b != b'\t' && b != b'\n',
        false => |b| b != b'\t',
    };
    let mut i = 0;
    loop {
        // `i` is on a character's first byte: the search stops on first bytes only.
        i = crate::bytes::find_unusual(s.as_bytes(), i, other);
        let Some(c) = s[i..].chars().next() else {
            return true;
        };
        if is_unsafe(c, keep_newline) {
            return false;
        }
        i += c.len_utf8();
    }
}

fn escape(s: &str, keep_newline: bool) -> Cow<'_, str> {
    if is_safe(s, keep_newline) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c, keep_newline) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A message, help or note: its own line breaks stay, every other control character is
/// escaped.
pub fn text(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// A one-line field (a path, a name, a key, a value, a reason): every control character is
/// escaped, line breaks included.
pub fn line(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// The one visible character a control character of a source line is drawn as: its Unicode
/// control picture (`␛` for ESC, `␡` for DEL), or `�` for C1 and the bidirectional
/// controls, which have no pictures. `None`
/// for a character drawn as it is (tab and line feed among the controls).
pub fn picture(c: char) -> Option<char> {
    match c {
        '\t' | '\n' => None,
        '\x7f' => Some('\u{2421}'),
        c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32),
        c if c.is_control() || is_bidi(c) => Some('\u{fffd}'),
        _ => None,
    }
}

/// The form of the escapes a [`Writer`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `\x1b`, `\u{9b}`: for text.
    Text,
    /// `\u001b`, `\u009b`: inside a JSON string (the only place a JSON writer puts such a
    /// character), the same string to a reader.
    Json,
}

/// An output through which no control character but a line feed or a tab passes raw (see the
/// module docs). Call [`Writer::finish`] at the end: the start of a multi-byte character that
/// ends a write (`0xC2` of a C1 control, `0xE2` of a bidirectional one) waits for the next
/// bytes to know what it is.
pub struct Writer<'a> {
    inner: &'a mut dyn Write,
    form: Form,
    /// The bytes of an unfinished character held back from the end of the last write (at most
    /// two).
    pending: Vec<u8>,
}

/// What the bytes at the start of `rest` hold, for the [`Writer`].
enum Lead {
    /// An ordinary byte: passes.
    Pass,
    /// A character to escape, of this code point, this many bytes long.
    Escape(u32, usize),
    /// A character that may be one to escape, cut by the end of the write.
    Cut,
}

/// Whether [`lead`] may find something other than [`Lead::Pass`] at this byte: a C0 control
/// but line feed and tab, DEL, or the first byte of a C1 control (`0xC2`), of U+061C (`0xD8`)
/// or of the other bidirectional controls (`0xE2`): all below `0x20` or from `0x7F`, as
/// [`crate::bytes::find_unusual`] asks.
#[inline(always)]
fn may_lead(b: u8) -> bool {
    ((b < 0x20) & (b != b'\n') & (b != b'\t'))
        | (b == 0x7F)
        | (b == 0xC2)
        | (b == 0xD8)
        | (b == 0xE2)
}

fn lead(rest: &[u8]) -> Lead {
    let b = rest[0];
    if (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7F {
        return Lead::Escape(u32::from(b), 1);
    }
    // A box-drawing character of a frame's margin (`│`, `─`: `E2 94 ..`, `E2 95 ..`), or any other
    // character from `E2` but the bidirectional controls (`E2 80 ..`, `E2 81 ..`), passes on its
    // second byte, undecoded: frames are full of them.
    if b == 0xE2 && rest.get(1).is_some_and(|&n| n != 0x80 && n != 0x81) {
        return Lead::Pass;
    }
    let width = match b {
        0xC2 | 0xD8 => 2,
        0xE2 => 3,
        _ => return Lead::Pass,
    };
    if rest.len() < width {
        // A continuation byte already seen that rules the character out lets it pass now.
        let ruled_out = match (b, rest.get(1)) {
            (0xE2, Some(&n)) => n != 0x80 && n != 0x81,
            _ => false,
        };
        return if ruled_out { Lead::Pass } else { Lead::Cut };
    }
    match std::str::from_utf8(&rest[..width])
        .ok()
        .and_then(|s| s.chars().next())
    {
        Some(c) if c.is_control() || is_bidi(c) => Lead::Escape(c as u32, width),
        _ => Lead::Pass,
    }
}

impl<'a> Writer<'a> {
    pub fn new(inner: &'a mut dyn Write, form: Form) -> Writer<'a> {
        Writer {
            inner,
            form,
            pending: Vec::new(),
        }
    }

    /// Writes a byte held back, if any.
    pub fn finish(mut self) -> io::Result<()> {
        let held = std::mem::take(&mut self.pending);
        self.inner.write_all(&held)?;
        self.inner.flush()
    }

    fn escape(&mut self, c: u32) -> io::Result<()> {
        match (self.form, c) {
            (Form::Json, c) => write!(self.inner, "\\u{c:04x}"),
            (Form::Text, 0x0D) => self.inner.write_all(b"\\r"),
            (Form::Text, c) if c < 0x80 => write!(self.inner, "\\x{c:02x}"),
            (Form::Text, c) => write!(self.inner, "\\u{{{c:x}}}"),
        }
    }
}

/// Runs a renderer with its output behind a [`Writer`], and finishes it.
pub fn escaped<T>(
    out: &mut dyn Write,
    form: Form,
    render: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> io::Result<T> {
    let mut w = Writer::new(out, form);
    let value = render(&mut w)?;
    w.finish()?;
    Ok(value)
}

/// A whole text (complete characters) as a [`Writer`] of `form` writes it. Nearly every text
/// has nothing to escape and is given back as it is, without a copy: a large report's JSON is
/// escaped batch by batch on the threads that write it, instead of in one pass over hundreds of
/// megabytes on one core.
pub fn escape_whole(form: Form, text: Vec<u8>) -> Vec<u8> {
    if crate::bytes::find_unusual(&text, 0, may_lead) == text.len() {
        return text;
    }
    let mut out = Vec::with_capacity(text.len() + 16);
    escaped(&mut out, form, |w| w.write_all(&text)).expect("writing to memory does not fail");
    out
}

impl Write for Writer<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Only the rare write that follows a held-back character is copied.
        let joined;
        let rest: &[u8] = if self.pending.is_empty() {
            buf
        } else {
            let mut v = std::mem::take(&mut self.pending);
            v.extend_from_slice(buf);
            joined = v;
            &joined
        };
        let mut from = 0;
        let mut i = 0;
        while i < rest.len() {
            // Ordinary bytes (nearly all) pass in runs: only a byte `lead` may not pass stops
            // the search.
            i = crate::bytes::find_unusual(rest, i, may_lead);
            if i == rest.len() {
                break;
            }
            match lead(&rest[i..]) {
                Lead::Pass => i += 1,
                Lead::Escape(c, width) => {
                    self.inner.write_all(&rest[from..i])?;
                    self.escape(c)?;
                    i += width;
                    from = i;
                }
                Lead::Cut => {
                    self.inner.write_all(&rest[from..i])?;
                    self.pending = rest[i..].to_vec();
                    return Ok(buf.len());
                }
            }
        }
        self.inner.write_all(&rest[from..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(form: Form, pieces: &[&[u8]]) -> String {
        String::from_utf8(bytes(form, pieces)).unwrap()
    }

    fn bytes(form: Form, pieces: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        escaped(&mut out, form, |w| {
            for p in pieces {
                w.write_all(p)?;
            }
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn may_lead_stops_at_every_byte_lead_does_not_pass() {
        for b in 0..=255u8 {
            // The byte followed by each possible continuation, and alone at the end.
            for next in [None, Some(0x80u8), Some(0x81), Some(0x9b), Some(0xAA)] {
                let mut v = vec![b];
                v.extend(next);
                v.extend([0x80, 0xAE]);
                for len in 1..=v.len() {
                    if !matches!(lead(&v[..len]), Lead::Pass) {
                        assert!(may_lead(b), "{b:#x} {:?}", &v[..len]);
                    }
                }
            }
        }
    }

    #[test]
    fn is_safe_decides_as_every_character_would() {
        let pieces = [
            "a", " ", "\t", "\n", "\r", "\x1b", "\x7f", "é", "─", "\u{9b}", "\u{202e}", "\u{a0}",
            "…",
        ];
        for a in pieces {
            for b in pieces {
                for pad in ["", "abcdefg", "abcdefghijklmno"] {
                    let s = format!("{pad}{a}{pad}{b}{pad}");
                    for keep in [true, false] {
                        let each = !s.chars().any(|c| is_unsafe(c, keep));
                        assert_eq!(is_safe(&s, keep), each, "{s:?} {keep}");
                    }
                }
            }
        }
    }

    #[test]
    fn fields_are_escaped_and_ordinary_text_is_borrowed() {
        assert!(matches!(text("a\tb\nc é"), Cow::Borrowed(_)));
        assert_eq!(text("a\x1b]0;x\x07\nb"), "a\\x1b]0;x\\x07\nb");
        assert_eq!(line("a\nb\r\x7f\u{9b}\t"), "a\\nb\\r\\x7f\\u{9b}\t");
        assert_eq!(picture('\x1b'), Some('␛'));
        assert_eq!(picture('\x7f'), Some('␡'));
        assert_eq!(picture('\u{9b}'), Some('\u{fffd}'));
        assert_eq!(picture('\t'), None);
        assert_eq!(picture('a'), None);
    }

    #[test]
    fn the_writer_escapes_controls_in_either_form() {
        let raw: &[u8] = "ok é\tline\n\x1b[2J\x07 del\x7f c1\u{9b}x ñ\r".as_bytes();
        assert_eq!(
            through(Form::Text, &[raw]),
            "ok é\tline\n\\x1b[2J\\x07 del\\x7f c1\\u{9b}x ñ\\r"
        );
        assert_eq!(
            through(Form::Json, &[raw]),
            "ok é\tline\n\\u001b[2J\\u0007 del\\u007f c1\\u009bx ñ\\u000d"
        );
        let plain = "twlint: nothing to see ─╯ é\n";
        assert_eq!(through(Form::Text, &[plain.as_bytes()]), plain);
    }

    #[test]
    fn a_whole_text_is_escaped_as_the_writer_escapes_it() {
        let pieces = [
            "a", " ", "\t", "\n", "\r", "\x1b", "\x7f", "é", "─", "\u{9b}", "\u{202e}", "\u{a0}",
            "…", "\u{61c}", "\u{2013}",
        ];
        for a in pieces {
            for b in pieces {
                for pad in ["", "abcdefg", "abcdefghijklmno"] {
                    let s = format!("{pad}{a}{pad}{b}{pad}");
                    for form in [Form::Json, Form::Text] {
                        let whole = escape_whole(form, s.as_bytes().to_vec());
                        assert_eq!(whole, bytes(form, &[s.as_bytes()]), "{s:?} {form:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_c1_character_split_between_writes_is_still_escaped() {
        let c1 = "a\u{9b}b".as_bytes();
        assert_eq!(through(Form::Text, &[&c1[..2], &c1[2..]]), "a\\u{9b}b");
        let n = "a\u{a0}b".as_bytes();
        assert_eq!(through(Form::Text, &[&n[..2], &n[2..]]), "a\u{a0}b");
        assert_eq!(through(Form::Text, &[&n[..2], b"", &n[2..]]), "a\u{a0}b");
        assert_eq!(bytes(Form::Text, &[&c1[..2]]), b"a\xC2");
    }

    #[test]
    fn bidirectional_controls_are_escaped_in_fields_frames_and_writers() {
        let trojan = "x = 1\u{202e} # \u{2066}y\u{2069}\u{200f}\u{61c}";
        assert_eq!(
            line(trojan),
            "x = 1\\u{202e} # \\u{2066}y\\u{2069}\\u{200f}\\u{61c}"
        );
        assert_eq!(picture('\u{202e}'), Some('\u{fffd}'));
        assert_eq!(picture('\u{2013}'), None);
        assert_eq!(
            through(Form::Text, &[trojan.as_bytes()]),
            "x = 1\\u{202e} # \\u{2066}y\\u{2069}\\u{200f}\\u{61c}"
        );
        assert_eq!(
            through(Form::Json, &[trojan.as_bytes()]),
            "x = 1\\u202e # \\u2066y\\u2069\\u200f\\u061c"
        );
        // Cut anywhere between writes, the character is still found; its neighbours in the
        // same lead byte's range pass.
        let b = "a\u{202e}b\u{2013}c─d".as_bytes();
        for cut in 0..b.len() {
            for cut2 in cut..b.len() {
                assert_eq!(
                    through(Form::Text, &[&b[..cut], &b[cut..cut2], &b[cut2..]]),
                    "a\\u{202e}b\u{2013}c─d",
                    "cut at {cut} and {cut2}"
                );
            }
        }
    }
}
