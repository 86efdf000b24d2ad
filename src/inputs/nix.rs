//! The NixOS reader: `boot.kernel.sysctl` in a `.nix` module.
//!
//! NixOS writes the option's entries to `/etc/sysctl.d/60-nixos.conf` (`true` as `1`, `false`
//! as `0`, `null` left out), which systemd-sysctl applies at boot. This is not a Nix
//! evaluator: a small lexer (identifiers, numbers, `"..."` and `''...''` strings with their
//! escapes and `${...}` interpolations, `#` and `/* */` comments, punctuation) and a reader of
//! attribute bindings for this shape only. It follows attribute paths through nested sets
//! (`boot = { kernel.sysctl = { ... }; };`, a module's `config = mkIf c { ... };`, `mkMerge [
//! { ... } ]`), and reads `boot.kernel.sysctl = { "net.ipv4.tcp_tw_reuse" = 1; };` and
//! `boot.kernel.sysctl."net.ipv4.tcp_tw_reuse" = 1;`. A value that is a literal (a number, a
//! string without interpolation, a boolean), possibly under `mkDefault`, `mkForce` or
//! `mkOverride N`, is read; any other expression is reported as not judged (TW076). An unquoted
//! dotted key inside the set (`net.ipv4.tcp_tw_reuse = 1;`), which Nix reads as nested sets and
//! the option refuses, is TW077.

use super::container::{assignment, line_at};
use super::{template, ParsedFile, Reader, SourceKind};
use crate::code::Code;
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};

#[allow(non_upper_case_globals)] // named like the other readers' kinds
impl SourceKind {
    /// NixOS's `boot.kernel.sysctl`, written to a sysctl.d file applied at boot.
    pub const Nix: SourceKind = SourceKind::written("nix");
}

/// The registration of this reader.
pub(super) static READER: Reader = Reader {
    name: "nix",
    kind: SourceKind::Nix,
    recognises: is_nix,
    read,
    host: None,
    units: None,
};

/// Whether a text is a Nix expression that sets `boot.kernel.sysctl`.
pub fn is_nix(text: &str) -> bool {
    if !(has_word(text, "sysctl") && has_word(text, "boot")) {
        return false;
    }
    let mut r = Read::new(FileId(0), text);
    r.body(Vec::new(), false);
    r.seen
}

/// Whether `word` occurs in `text` as a whole Nix identifier (or a whole quoted attribute name):
/// `boot.kernel.sysctl` names both, however it is spelt, and no sysctl file does (its keys say
/// `kernel.sysctl_writes_strict`, `bootp_relay`). Tokenising a large sysctl file to find out
/// that it sets no `boot.kernel.sysctl` cost more than reading it.
fn has_word(text: &str, word: &str) -> bool {
    let ident = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'\'' | b'-');
    let b = text.as_bytes();
    memchr::memmem::find_iter(b, word.as_bytes()).any(|i| {
        let end = i + word.len();
        (i == 0 || !ident(b[i - 1])) && b.get(end).is_none_or(|&c| !ident(c))
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// A string's value (escapes applied), whether it interpolates, and the span of its text
    /// inside the quotes.
    Str(String, bool),
    Num,
    Punct(u8),
}

/// A token and where it was written (for a string, inside its quotes).
struct Token {
    tok: Tok,
    span: (usize, usize),
}

/// Splits a Nix text into tokens; comments and blanks are dropped.
fn lex(text: &str) -> Vec<Token> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' {
            // Bytes, not `text[i..]`: `i` may stand inside a multi-byte character (the lexer
            // steps over bytes it does not know one at a time), where slicing the text panicked.
            i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |e| i + e);
        } else if b[i..].starts_with(b"/*") {
            i = memchr::memmem::find(&b[i + 2..], b"*/").map_or(b.len(), |e| i + 2 + e + 2);
        } else if c == b'"' {
            let (value, interp, end) = string(text, i + 1);
            out.push(Token {
                tok: Tok::Str(value, interp),
                span: (i + 1, end),
            });
            i = (end + 1).min(b.len());
        } else if b[i..].starts_with(b"''") {
            let (value, interp, end) = indented(text, i + 2);
            out.push(Token {
                tok: Tok::Str(value, interp),
                span: (i + 2, end),
            });
            i = (end + 2).min(b.len());
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'\'' | b'-'))
            {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(text[start..i].to_string()),
                span: (start, i),
            });
        } else if c.is_ascii_digit() {
            while i < b.len()
                && (b[i].is_ascii_digit()
                    || b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
            {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Num,
                span: (start, i),
            });
        } else {
            // One character of anything else: punctuation, operators, or a multi-byte
            // character (never one the reader looks for), taken whole so that the next
            // token starts on a character boundary.
            let len = text[i..].chars().next().map_or(1, char::len_utf8);
            out.push(Token {
                tok: Tok::Punct(c),
                span: (i, i + len),
            });
            i += len;
        }
    }
    out
}

/// Skips a `${ ... }` interpolation starting at `i` (after `${`): where it ends.
fn skip_interpolation(b: &[u8], mut i: usize) -> usize {
    let mut depth = 1;
    while i < b.len() && depth > 0 {
        match b[i] {
            b'{' => depth += 1,
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    i
}

/// A `"` string from `i` (after the quote): its value, whether it interpolates, and where its
/// closing quote is.
fn string(text: &str, mut i: usize) -> (String, bool, usize) {
    let b = text.as_bytes();
    let (mut v, mut interp) = (String::new(), false);
    while i < b.len() && b[i] != b'"' {
        if b[i] == b'\\' && i + 1 < b.len() {
            let c = text[i + 1..].chars().next().unwrap_or(' ');
            v.push(match c {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                c => c,
            });
            i += 1 + c.len_utf8();
        } else if text[i..].starts_with("${") {
            interp = true;
            i = skip_interpolation(b, i + 2);
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            v.push(c);
            i += c.len_utf8();
        }
    }
    (v, interp, i.min(b.len()))
}

/// A `''` string from `i` (after the quotes): as [`string`]; it ends at `''` that is not an
/// escape (`'''`, `''$`, `''\`).
fn indented(text: &str, mut i: usize) -> (String, bool, usize) {
    let b = text.as_bytes();
    let (mut v, mut interp) = (String::new(), false);
    while i < b.len() {
        if text[i..].starts_with("''") {
            match b.get(i + 2) {
                Some(b'\'') => {
                    v.push_str("''");
                    i += 3;
                }
                Some(b'$') => {
                    v.push('$');
                    i += 3;
                }
                Some(b'\\') => {
                    v.push(text[i + 3..].chars().next().unwrap_or(' '));
                    i += 3 + text[i + 3..].chars().next().map_or(0, char::len_utf8);
                }
                _ => return (v, interp, i),
            }
        } else if text[i..].starts_with("${") {
            interp = true;
            i = skip_interpolation(b, i + 2);
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            v.push(c);
            i += c.len_utf8();
        }
    }
    (v, interp, b.len())
}

/// One segment of an attribute path: its name (a string's value), whether it was quoted or
/// interpolated, and its span.
#[derive(Clone)]
struct Seg {
    name: String,
    quoted: bool,
    interp: bool,
    span: (usize, usize),
}

/// The reader over one file's tokens.
struct Read<'a> {
    file: FileId,
    text: &'a str,
    toks: Vec<Token>,
    at: usize,
    out: ParsedFile,
    /// Whether a `boot.kernel.sysctl` binding was found.
    seen: bool,
}

/// How a path relates to `boot.kernel.sysctl`, a module's `config.` prefix dropped.
enum Place {
    Elsewhere,
    /// The option itself: a set of entries.
    Option,
    /// One entry, by its segment.
    Entry(Seg),
    /// Deeper: an unquoted dotted key, or a set as a value.
    Nested(Seg),
}

fn place(path: &[Seg]) -> Place {
    let p = match path.first() {
        Some(s) if s.name == "config" && !s.quoted => &path[1..],
        _ => path,
    };
    let names: Vec<&str> = p.iter().take(3).map(|s| s.name.as_str()).collect();
    if names != ["boot", "kernel", "sysctl"] {
        return Place::Elsewhere;
    }
    match p.len() {
        3 => Place::Option,
        4 => Place::Entry(p[3].clone()),
        _ => Place::Nested(p[3].clone()),
    }
}

impl<'a> Read<'a> {
    fn new(file: FileId, text: &'a str) -> Read<'a> {
        Read {
            file,
            text,
            toks: lex(text),
            at: 0,
            out: ParsedFile::empty(file, SourceKind::Nix),
            seen: false,
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.tok)
    }

    fn span(&self, (s, e): (usize, usize)) -> Span {
        Span::new(self.file, s, e)
    }

    /// The bindings of a set (or of the file), under `prefix`, up to its closing `}` when
    /// `closed`.
    fn body(&mut self, prefix: Vec<Seg>, closed: bool) {
        while let Some(tok) = self.peek() {
            match tok {
                Tok::Punct(b'}') => {
                    self.at += 1;
                    if closed {
                        return;
                    }
                }
                Tok::Punct(b'{') => {
                    self.at += 1;
                    self.body(Vec::new(), true);
                }
                Tok::Ident(_) | Tok::Str(..) => {
                    let before = self.at;
                    match self.attrpath() {
                        Some(path) if self.peek() == Some(&Tok::Punct(b'=')) => {
                            self.at += 1;
                            let mut full = prefix.clone();
                            full.extend(path);
                            self.value(full);
                        }
                        _ => self.at = before + 1,
                    }
                }
                _ => self.at += 1,
            }
        }
    }

    /// An attribute path (`a.b."c.d"`), or `None` (nothing consumed past a failed segment).
    fn attrpath(&mut self) -> Option<Vec<Seg>> {
        let mut path = Vec::new();
        loop {
            let t = self.toks.get(self.at)?;
            let seg = match &t.tok {
                Tok::Ident(n) => Seg {
                    name: n.clone(),
                    quoted: false,
                    interp: false,
                    span: t.span,
                },
                Tok::Str(v, interp) => Seg {
                    name: v.clone(),
                    quoted: true,
                    interp: *interp,
                    span: t.span,
                },
                _ => return None,
            };
            path.push(seg);
            self.at += 1;
            if self.peek() != Some(&Tok::Punct(b'.')) {
                return Some(path);
            }
            self.at += 1;
        }
    }

    /// The value of the binding of `path`, up to its `;`.
    fn value(&mut self, path: Vec<Seg>) {
        match place(&path) {
            Place::Entry(key) => {
                self.seen = true;
                self.entry(key);
                return;
            }
            Place::Nested(key) => {
                self.seen = true;
                let k = path
                    .iter()
                    .skip_while(|s| s.name != key.name)
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                self.out.diagnostics.push(
                    Diagnostic::error(Code::TW077, format!("`{k}` is not quoted: Nix reads it as nested sets, which `boot.kernel.sysctl` refuses"))
                        .with_key(&k)
                        .at(self.span(key.span), "quote the whole key")
                        .with_help(format!("write `\"{k}\" = VALUE;`")),
                );
            }
            Place::Option => self.seen = true,
            Place::Elsewhere => {}
        }
        // Any set in the value (directly, or under `mkIf c`, `mkMerge [ ... ]`) holds bindings
        // of this path.
        let mut depth = 0usize;
        while let Some(tok) = self.peek() {
            match tok {
                Tok::Punct(b';') if depth == 0 => {
                    self.at += 1;
                    return;
                }
                Tok::Punct(b'{') => {
                    self.at += 1;
                    self.body(path.clone(), true);
                }
                Tok::Punct(b'(' | b'[') => {
                    depth += 1;
                    self.at += 1;
                }
                Tok::Punct(b')' | b']') => {
                    depth = depth.saturating_sub(1);
                    self.at += 1;
                }
                // The enclosing set ends: a binding without its `;`.
                Tok::Punct(b'}') => return,
                _ => self.at += 1,
            }
        }
    }

    /// One entry of the option: `"key" = value;`.
    fn entry(&mut self, key: Seg) {
        let start = self.at;
        let mut end = start;
        let mut depth = 0usize;
        while let Some(t) = self.toks.get(end) {
            match t.tok {
                Tok::Punct(b';') if depth == 0 => break,
                Tok::Punct(b'}') if depth == 0 => break,
                Tok::Punct(b'(' | b'[' | b'{') => depth += 1,
                Tok::Punct(b')' | b']' | b'}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            end += 1;
        }
        // The binding ends with its `;`; one that ends at the set's `}` has none to remove
        // with it.
        let semicolon = self
            .toks
            .get(end)
            .filter(|t| t.tok == Tok::Punct(b';'))
            .map(|t| t.span.1);
        self.at = if semicolon.is_some() { end + 1 } else { end };
        let toks = &self.toks[start..end];
        let key_span = self.span(key.span);
        if key.interp {
            let written = &self.text[key.span.0..key.span.1];
            self.out
                .diagnostics
                .push(template::not_judged(None, written, key_span));
            return;
        }
        let k = super::conf::normalize_key(&key.name);
        // The literal under `mkDefault`, `mkForce`, `mkOverride N` (with or without `lib.`).
        let words: Vec<&Tok> = toks.iter().map(|t| &t.tok).collect();
        let literal = match words.as_slice() {
            [_] => Some(&toks[0]),
            [Tok::Ident(f), _] if matches!(f.as_str(), "mkDefault" | "mkForce") => Some(&toks[1]),
            [Tok::Ident(l), Tok::Punct(b'.'), Tok::Ident(f), _]
                if l == "lib" && matches!(f.as_str(), "mkDefault" | "mkForce") =>
            {
                Some(&toks[3])
            }
            [Tok::Ident(f), Tok::Num, _] if f == "mkOverride" => Some(&toks[2]),
            [Tok::Ident(l), Tok::Punct(b'.'), Tok::Ident(f), Tok::Num, _]
                if l == "lib" && f == "mkOverride" =>
            {
                Some(&toks[4])
            }
            _ => None,
        };
        let value = literal.and_then(|t| match &t.tok {
            Tok::Num => Some(self.text[t.span.0..t.span.1].to_string()),
            Tok::Str(v, false) => Some(v.clone()),
            Tok::Ident(b) if b == "true" => Some("1".into()),
            Tok::Ident(b) if b == "false" => Some("0".into()),
            Tok::Ident(b) if b == "null" => Some(String::new()),
            _ => None,
        });
        match (value, literal) {
            // `null`: NixOS leaves the key out of the file.
            (Some(v), Some(_))
                if v.is_empty() && matches!(&literal.unwrap().tok, Tok::Ident(_)) => {}
            (Some(v), Some(t)) => {
                let mut a = assignment(
                    self.file,
                    self.text,
                    &key.name,
                    key_span,
                    &v,
                    self.span(t.span),
                );
                a.line = line_at(self.file, self.text, key.span.0);
                // The binding, from the first byte of its line when what precedes the key there
                // is its attribute path (`boot.kernel.sysctl.`), to its `;`.
                let line_start = a.line.from();
                let lead = &self.text[line_start..key.span.0];
                let first = line_start + (lead.len() - lead.trim_start().len());
                let path_only = !self.text[first..key.span.0]
                    .contains([';', '=', '{', '}', '(', ')', '[', ']', ' ', '\t']);
                a.entry = semicolon
                    .filter(|_| path_only)
                    .map(|end| self.span((first, end)));
                self.out.assignments.push(a);
            }
            _ => {
                let (s, e) = match (toks.first(), toks.last()) {
                    (Some(f), Some(l)) => (f.span.0, l.span.1),
                    _ => (key.span.1, key.span.1),
                };
                let written = &self.text[s..e];
                self.out.diagnostics.push(template::not_judged(
                    Some(&k),
                    written,
                    self.span((s, e)),
                ));
            }
        }
    }
}

/// Reads every `boot.kernel.sysctl` entry of a Nix text.
fn read(file: FileId, text: &str) -> ParsedFile {
    let mut r = Read::new(file, text);
    r.body(Vec::new(), false);
    r.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    #[test]
    fn text_with_multi_byte_characters_outside_strings_is_recognised_without_a_panic() {
        // A Markdown page naming `boot.kernel.sysctl`, with box-drawing characters right
        // before a comment, a `/*` and a `''`: the lexer steps into them byte by byte.
        for tail in ["─# c\n", "─/* c */", "─''x''", "é"] {
            let text = format!("boot.kernel.sysctl = {{ }};\n{tail}\n");
            assert!(is_nix(&text), "{text}");
        }
        assert!(!is_nix("─ sysctl and boot ─#\n"));
    }

    #[test]
    fn whole_words_decide_whether_a_text_is_tokenised() {
        assert!(has_word("boot.kernel.sysctl", "boot"));
        assert!(has_word("x.\"boot\".y", "boot"));
        assert!(has_word("a.sysctl", "sysctl"));
        assert!(!has_word("kernel.bootloader_type = 1", "boot"));
        assert!(!has_word("kernel.sysctl_writes_strict = 1", "sysctl"));
        assert!(!has_word("net.ipv4.conf.all.bootp_relay = 0", "boot"));
        assert!(!has_word("reboot", "boot"));
    }

    #[test]
    fn both_shapes_nested_sets_strings_and_comments_are_read() {
        let text = r#"{ config, lib, ... }:
{
  # boot.kernel.sysctl."vm.swappiness" = 1;  (a comment)
  boot.kernel.sysctl = {
    "net.ipv4.tcp_tw_reuse" = 1; /* "vm.x" = 2; */
    "net.ipv4.ip_local_port_range" = "1024 65000";
    "net.core.somaxconn" = lib.mkDefault 4096;
    "net.ipv4.tcp_timestamps" = true;
    "vm.dirty_ratio" = null;
    "net.core.rmem_max" = toString (4 * 1024);
    net.ipv4.tcp_fin_timeout = 30;
  };
  boot.kernel.sysctl."net.ipv4.tcp_max_tw_buckets" = 5000;
  config = lib.mkIf true { boot = { kernel.sysctl = { "fs.file-max" = ''100000''; }; }; };
  description = "boot.kernel.sysctl = {";
}
"#;
        assert!(is_nix(text));
        let mut map = SourceMap::new();
        let id = map.add("c.nix", text);
        let read = read(id, text);
        let got: Vec<(String, &str)> = read
            .assignments
            .iter()
            .map(|a| {
                (
                    format!("{}={}", a.key(), a.value()),
                    map.slice(a.value_span()),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("net.ipv4.tcp_tw_reuse=1".to_string(), "1"),
                (
                    "net.ipv4.ip_local_port_range=1024 65000".to_string(),
                    "1024 65000"
                ),
                ("net.core.somaxconn=4096".to_string(), "4096"),
                ("net.ipv4.tcp_timestamps=1".to_string(), "true"),
                ("net.ipv4.tcp_max_tw_buckets=5000".to_string(), "5000"),
                ("fs.file-max=100000".to_string(), "100000"),
            ]
        );
        let diags: Vec<(&str, &str)> = read
            .diagnostics
            .iter()
            .map(|d| (d.code.as_str(), map.slice(d.primary.as_ref().unwrap().span)))
            .collect();
        assert_eq!(diags, [("TW076", "toString (4 * 1024)"), ("TW077", "net")]);
        assert!(!is_nix("kernel.sysctl_writes_strict = 1\n"));
    }

    #[test]
    fn multi_byte_characters_between_tokens_do_not_split() {
        // A character of several bytes outside a string (prose, an arrow, a dash) is one
        // token; the next starts on a character boundary, so `/*` or `''` right after it is
        // still found.
        for text in [
            "a → /* c */ b",
            "x —/* c */",
            "é''s''",
            "— ${",
            "→\"$\"",
            "ü",
        ] {
            let tokens = lex(text);
            for t in &tokens {
                assert!(text.is_char_boundary(t.span.0) && text.is_char_boundary(t.span.1));
            }
        }
        let _ = is_nix("boot.kernel.sysctl → { \"net.ipv4.tcp_tw_reuse\" = 1; } — /* done */");
    }
}
