//! The suppression directive parser (`# twlint: disable=ID -- why`): every line of the input
//! read as a comment that may be a directive, and every place it reports must lie in that line
//! on character boundaries (renderers slice the text there). The same text, after a line that
//! sets a dangerous value, is then judged and rendered, so applying the directives is fuzzed too.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use twlint::source::{FileId, SourceMap, Span};
use twlint::suppress::parse_directive;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let end = start + body.len();
        let in_line = |s: Span| {
            assert!(
                start <= s.from() && s.from() <= s.to() && s.to() <= end,
                "{s:?} outside {start}..{end}"
            );
            assert!(text.is_char_boundary(s.from()) && text.is_char_boundary(s.to()));
            let _ = &text[s.range()];
        };
        match parse_directive(FileId(0), &text, start, end) {
            None => {}
            Some(Ok(d)) => {
                assert!(!d.rules.is_empty(), "a directive names at least one rule");
                for r in &d.rules {
                    in_line(r.span);
                    assert_eq!(&text[r.span.range()], r.value);
                }
                in_line(d.reason.span);
                assert_eq!(
                    &text[d.reason.span.range()],
                    d.reason.value
                );
            }
            Some(Err(diag)) => {
                for l in diag.primary.iter().chain(&diag.secondary) {
                    in_line(l.span);
                }
            }
        }
        start += line.len();
    }
    // Directives above and beside a value some rule flags, so those that parse are applied.
    let conf = format!("{text}\nnet.ipv4.tcp_tw_recycle = 1\n{text}\nnet.ipv4.tcp_tw_reuse = 2\n");
    let mut sources = SourceMap::new();
    let report = common::lint_text("fuzz.conf", &conf, None, common::rules(), &mut sources)
        .expect("the catalog's rules do not fail");
    common::render_all(&sources, &report);
});
