//! What the configuration-management readers share about Jinja: finding templated text, hiding
//! it from a grammar that does not know it, and saying that a templated setting is not judged.
//!
//! Ansible, Salt and the templates of sysctl.conf they render hold `{{ expression }}` values,
//! `{% statement %}` lines and `{# comment #}`s. twlint cannot know what an expression renders
//! to, so a setting whose key or value is templated (and cannot be resolved from the same file)
//! is reported as not judged (TW076, info), never as wrong. [`mask`] blanks the template parts
//! byte for byte, so a reader can run its grammar (YAML, sysctl.conf) over the rest and every
//! span it finds is still a span of the file as the user wrote it.

use crate::code::Code;
use crate::diag::{Diagnostic, Severity};
use crate::source::Span;

/// Whether a text holds Jinja markup.
pub fn has_markup(text: &str) -> bool {
    // One pass for `{`, which most texts lack, instead of one search per opening.
    let b = text.as_bytes();
    memchr::memchr_iter(b'{', b).any(|i| matches!(b.get(i + 1), Some(b'{' | b'%' | b'#')))
}

/// Whether a piece of text is (partly) templated: its rendering is decided at apply time.
pub fn is_templated(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// `text` with the blanks inside each `{{ ... }}` turned into `_`, byte for byte (the same
/// length), so a shell reads one expression as one word: `sysctl -w k={{ v }}` sets `k` to the
/// template's value, not to `{{`. Reading the original text at the places found gives the
/// expression as written.
pub fn glue_expressions(text: &str) -> String {
    let mut out = text.as_bytes().to_vec();
    let mut i = 0;
    while let Some(open) = text[i..].find("{{") {
        let start = i + open;
        let Some(close) = text[start..].find("}}") else {
            break;
        };
        let end = start + close + 2;
        for b in &mut out[start..end] {
            if matches!(*b, b' ' | b'\t') {
                *b = b'_';
            }
        }
        i = end;
    }
    // Only ASCII blanks were replaced by ASCII: still UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// `text` with its template parts blanked, byte for byte (the same length, newlines kept):
/// `{% ... %}` and `{# ... #}` become blanks, which both YAML and sysctl.conf skip, and each
/// `{{ ... }}` becomes a word of `_` and base-36 digits of its offset, which both grammars read
/// as a plain word. The digits make two expressions different words, so two templated YAML keys
/// (`{{ a }}:` and `{{ b }}:`) are not a duplicate key. A part left open runs to the end of its
/// line, as a sysctl.conf line would end it.
pub fn mask(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    while i + 1 < b.len() {
        let close: &[u8] = match (b[i], b[i + 1]) {
            (b'{', b'{') => b"}}",
            (b'{', b'%') => b"%}",
            (b'{', b'#') => b"#}",
            _ => {
                i += 1;
                continue;
            }
        };
        let end = find(b, i + 2, close)
            .map(|e| e + 2)
            .unwrap_or_else(|| find(b, i, b"\n").unwrap_or(b.len()));
        if close == b"}}" {
            let digits = radix36(i);
            for (n, at) in (i..end).enumerate() {
                out[at] = match b[at] {
                    b'\n' => b'\n',
                    // The first byte stays `_`, which no grammar reads as an indicator.
                    _ if n == 0 => b'_',
                    _ => *digits.get(n - 1).unwrap_or(&b'_'),
                };
            }
        } else {
            for at in i..end {
                if b[at] != b'\n' {
                    out[at] = b' ';
                }
            }
        }
        i = end;
    }
    // Only ASCII bytes replaced whole template parts (multi-byte characters inside them
    // included), so the result is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

fn radix36(mut n: usize) -> Vec<u8> {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut d = Vec::new();
    loop {
        d.push(DIGITS[n % 36]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    d.reverse();
    d
}

/// TW076: a setting whose key or value is decided when the template is rendered.
///
/// `key` is the setting's key when it is known; `what` is the templated text as written, and
/// `span` where it was written.
pub fn not_judged(key: Option<&str>, what: &str, span: Span) -> Diagnostic {
    let shown = crate::diag::shorten(what.trim(), 80);
    let message = match key {
        Some(k) => format!("`{k}` is set to `{shown}`, rendered at apply time: not judged"),
        None => format!("the key `{shown}` is rendered at apply time: not judged"),
    };
    let d = Diagnostic::new(Code::TW076, Severity::Info, message).at(span, "templated");
    match key {
        Some(k) => d.with_key(k),
        None => d,
    }
    .with_help(
        "twlint does not render templates: lint the rendered file \
         (`ansible --check --diff`, `salt-call state.show_sls`, the generated sysctl.d file)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_an_opening_of_an_expression_a_statement_or_a_comment() {
        for text in ["a = {{ b }}\n", "{% if x %}\n", "x {# c #}", "{{"] {
            assert!(has_markup(text), "{text}");
        }
        for text in ["", "a = 1\n", "{ x }", "a = {", "}}{ %}", "%}"] {
            assert!(!has_markup(text), "{text}");
        }
    }

    #[test]
    fn masking_keeps_every_offset_and_blanks_statements() {
        let text = "{% if x %}\nnet.core.somaxconn = {{ n }}\n{# c #}a = 1\n";
        let m = mask(text);
        assert_eq!(m.len(), text.len());
        assert_eq!(m.lines().next().unwrap().trim(), "");
        let line2 = m.lines().nth(1).unwrap();
        assert!(line2.starts_with("net.core.somaxconn = _"), "{line2}");
        assert!(!line2.contains('{'));
        assert_eq!(m.lines().nth(2).unwrap(), "       a = 1");
        // Two expressions of the same length are two different words.
        let m = mask("{{ a }}: 1\n{{ b }}: 2\n");
        let words: Vec<&str> = m.lines().map(|l| l.split(':').next().unwrap()).collect();
        assert_ne!(words[0], words[1]);
        // An expression left open ends with its line.
        assert_eq!(mask("a = {{ b\nc = 1\n"), "a = _4__\nc = 1\n");
    }
}
