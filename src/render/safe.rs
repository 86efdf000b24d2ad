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
//! Ordinary output has no control characters but line feeds and tabs, so it passes unchanged.

use std::borrow::Cow;
use std::io::{self, Write};

/// Whether `c` must not be printed raw (a line feed and a tab may, where they are allowed).
fn is_unsafe(c: char, keep_newline: bool) -> bool {
    c.is_control() && c != '\t' && !(keep_newline && c == '\n')
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

fn escape(s: &str, keep_newline: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c, keep_newline)) {
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
/// control picture (`␛` for ESC, `␡` for DEL), or `�` for C1, which has no pictures. `None`
/// for a character drawn as it is (tab and line feed among the controls).
pub fn picture(c: char) -> Option<char> {
    match c {
        '\t' | '\n' => None,
        '\x7f' => Some('\u{2421}'),
        c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32),
        c if c.is_control() => Some('\u{fffd}'),
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
/// module docs). Call [`Writer::finish`] at the end: a `0xC2` that ends a write waits for the
/// next byte to know whether it starts a C1 character.
pub struct Writer<'a> {
    inner: &'a mut dyn Write,
    form: Form,
    /// A `0xC2` byte held back from the end of the last write.
    pending: bool,
}

impl<'a> Writer<'a> {
    pub fn new(inner: &'a mut dyn Write, form: Form) -> Writer<'a> {
        Writer {
            inner,
            form,
            pending: false,
        }
    }

    /// Writes a byte held back, if any.
    pub fn finish(mut self) -> io::Result<()> {
        if std::mem::take(&mut self.pending) {
            self.inner.write_all(&[0xC2])?;
        }
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

impl Write for Writer<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        if std::mem::take(&mut self.pending) {
            match rest.first() {
                Some(&b) if (0x80..=0x9F).contains(&b) => {
                    self.escape(u32::from(b))?;
                    rest = &rest[1..];
                }
                Some(_) => self.inner.write_all(&[0xC2])?,
                None => {
                    self.pending = true;
                    return Ok(0);
                }
            }
        }
        let mut from = 0;
        let mut i = 0;
        while i < rest.len() {
            let b = rest[i];
            let c1 = b == 0xC2;
            if !(c1 || (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7F) {
                i += 1;
                continue;
            }
            if c1 {
                match rest.get(i + 1) {
                    Some(&n) if (0x80..=0x9F).contains(&n) => {
                        self.inner.write_all(&rest[from..i])?;
                        self.escape(u32::from(n))?;
                        i += 2;
                        from = i;
                    }
                    Some(_) => i += 1,
                    None => {
                        self.inner.write_all(&rest[from..i])?;
                        self.pending = true;
                        return Ok(buf.len());
                    }
                }
                continue;
            }
            self.inner.write_all(&rest[from..i])?;
            self.escape(u32::from(b))?;
            i += 1;
            from = i;
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
    fn a_c1_character_split_between_writes_is_still_escaped() {
        let c1 = "a\u{9b}b".as_bytes();
        assert_eq!(through(Form::Text, &[&c1[..2], &c1[2..]]), "a\\u{9b}b");
        let n = "a\u{a0}b".as_bytes();
        assert_eq!(through(Form::Text, &[&n[..2], &n[2..]]), "a\u{a0}b");
        assert_eq!(through(Form::Text, &[&n[..2], b"", &n[2..]]), "a\u{a0}b");
        assert_eq!(bytes(Form::Text, &[&c1[..2]]), b"a\xC2");
    }
}
