//! The terminal report: a table per hop (the seed article's "scheme" tables, made exact), then
//! the diagnostics as ariadne frames pointing into the files, then a summary line.
//!
//! Colour is decided by the caller (`Style`); ariadne always renders with byte offsets because
//! our spans are bytes.

use super::Style;
use crate::diag::{Diagnostic, Severity, Verdict};
use crate::number::format_number;
use crate::report::{HopSummary, Mode, Report, VerdictEntry};
use crate::source::{FileId, SourceMap};
use ariadne::{Color, Config, IndexType, Label, ReportKind};
use std::collections::HashMap;
use std::io::{self, Write};

pub(crate) fn paint(style: Style, code: &str, text: &str) -> String {
    if style.color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn verdict_word(style: Style, v: Verdict) -> String {
    let code = match v {
        Verdict::Safe => "32",
        Verdict::Pointless => "33",
        Verdict::Dangerous => "1;31",
    };
    // Pad before painting so escape codes do not break the column.
    paint(style, code, &format!("{:<9}", v.as_str()))
}

pub(crate) fn short_key(key: &str) -> &str {
    key.strip_prefix("net.ipv4.").unwrap_or(key)
}

fn shown_value(v: &VerdictEntry) -> String {
    let value = match &v.value {
        Some(s) if s.is_empty() => "(empty)".to_string(),
        Some(s) => s.clone(),
        None if v.source == crate::config::SourceKindOut::Default => "memory-dependent".to_string(),
        None => "?".to_string(),
    };
    if v.source == crate::config::SourceKindOut::Default {
        format!("{value} (default)")
    } else {
        value
    }
}

fn hop_header(out: &mut dyn Write, style: Style, h: &HopSummary) -> io::Result<()> {
    let c = &h.client;
    let via = h
        .via
        .as_ref()
        .map(|v| format!(" via {v}"))
        .unwrap_or_default();
    writeln!(
        out,
        "{}",
        paint(
            style,
            "1",
            &format!(
                "hop {}{} (port {}), {} closes first",
                h.link, via, h.port, h.closes_first
            )
        )
    )?;
    let rate = match h.rate {
        Some(r) if c.unseen_clients => format!(
            "{}/s declared; TIME_WAIT lands on {}",
            format_number(r),
            h.closes_first
        ),
        Some(r) => format!(
            "{}/s declared over {} tuple{}, {}/s per tuple; {} TIME_WAIT sockets on {}",
            format_number(r),
            c.tuples,
            if c.tuples == 1 { "" } else { "s" },
            format_number(c.rate_per_tuple),
            format_number(r * crate::facts::TIME_WAIT_SECONDS),
            h.closes_first
        ),
        None => format!("no rate declared; TIME_WAIT lands on {}", h.closes_first),
    };
    writeln!(out, "  {rate}")?;
    if c.unseen_clients {
        return writeln!(
            out,
            "  {} stands for many unseen hosts: their ports and TIME_WAIT are spread over them",
            h.from
        );
    }
    writeln!(
        out,
        "  {} can open {}/s per tuple without reuse, {}/s with reuse ({} usable ports){}",
        h.from,
        format_number(c.capacity.without_reuse),
        format_number(c.capacity.with_reuse),
        c.capacity.ports,
        if c.closes_first {
            if c.capacity.reuse_works {
                "; reuse works here"
            } else {
                "; reuse does not work here"
            }
        } else {
            "; ports are not held in TIME_WAIT on this side"
        }
    )
}

fn table(out: &mut dyn Write, style: Style, rows: &[&VerdictEntry]) -> io::Result<()> {
    let kw = rows
        .iter()
        .map(|v| short_key(v.key).len())
        .max()
        .unwrap_or(0);
    let vw = rows
        .iter()
        .map(|v| shown_value(v).chars().count())
        .max()
        .unwrap_or(0)
        .min(28);
    for v in rows {
        let rule = v.rule.clone().unwrap_or_else(|| "-".into());
        // A suppressed verdict keeps its row, says so, and shows the reason it was accepted.
        let mut reason = match &v.suppressed {
            Some(s) => format!("[suppressed: {}] {}", s.reason, v.reason),
            None => v.reason.clone(),
        };
        // A .twlint.yaml severity override changes what the verdict weighs, not the verdict.
        if let Some(level) = v.level {
            let weight = match level {
                Severity::Error => "counts as error",
                Severity::Warning => "counts as warning",
                Severity::Info => "counts as info",
            };
            reason = format!("[{weight}] {reason}");
        }
        writeln!(
            out,
            "    {} {:<kw$}  {:<vw$}  {:<5}  {}",
            verdict_word(style, v.verdict),
            short_key(v.key),
            shown_value(v),
            rule,
            reason,
        )?;
    }
    Ok(())
}

/// ariadne's view of each file drawn so far, kept for the whole report: making one indexes every
/// line of the file, and a fleet report draws many findings from each 1,300-line dump (that was
/// a ninth of a fleet run, one copy and index per finding).
type SourceCache = HashMap<FileId, ariadne::Source<String>>;

/// The files of one diagnostic, named by path as ariadne shows them.
struct DiagSources<'c> {
    files: Vec<(String, &'c ariadne::Source<String>)>,
}

impl ariadne::Cache<String> for DiagSources<'_> {
    type Storage = String;

    fn fetch(&mut self, id: &String) -> Result<&ariadne::Source<String>, impl std::fmt::Debug> {
        self.files
            .iter()
            .find(|(p, _)| p == id)
            .map(|(_, s)| *s)
            .ok_or_else(|| format!("Failed to fetch source '{id}'"))
    }

    fn display<'a>(&self, id: &'a String) -> Option<impl std::fmt::Display + 'a> {
        Some(id)
    }
}

/// The lines of a file that one diagnostic's labels cover, as ariadne should see them: the lines
/// before them emptied (ariadne numbers lines itself and 0.6 shows the margin numbers without its
/// display offset, so they must still be there), the lines after them left out. ariadne indexes
/// every line it is given, and a finding in a 1,300-line dump had it index the whole dump: a
/// tenth of judging one dump.
struct Window {
    /// Byte offset of the window in the file.
    start: usize,
    /// Lines before it, each now a lone `\n`.
    lines_before: usize,
    source: ariadne::Source<String>,
}

impl Window {
    fn of(text: &str, lo: usize, hi: usize) -> Window {
        let bytes = text.as_bytes();
        let start = memchr::memrchr(b'\n', &bytes[..lo.min(bytes.len())]).map_or(0, |i| i + 1);
        let lines_before = memchr::memchr_iter(b'\n', &bytes[..start]).count();
        // Through the end of the line of the last labelled byte.
        let last = hi.max(lo + 1).min(bytes.len()).saturating_sub(1).max(start);
        let end = memchr::memchr(b'\n', &bytes[last..]).map_or(bytes.len(), |i| last + i + 1);
        let mut shown = String::with_capacity(lines_before + end - start + 1);
        shown.extend(std::iter::repeat_n('\n', lines_before));
        shown.push_str(&only_newlines_break(&text[start..end]));
        // As for a whole file: ariadne counts a final line without newline oddly; give it one.
        if !shown.ends_with('\n') {
            shown.push('\n');
        }
        Window {
            start,
            lines_before,
            source: ariadne::Source::from(shown),
        }
    }

    /// A range of the file, as a range of the window.
    fn shift(&self, r: std::ops::Range<usize>) -> std::ops::Range<usize> {
        r.start - self.start + self.lines_before..r.end - self.start + self.lines_before
    }
}

/// `text` as ariadne must see it for its line numbers to be twlint's (and procps's, which
/// break lines at `\n` only): ariadne also breaks at a `\r` of its own, vertical tab, form feed,
/// U+0085, U+2028 and U+2029. Each becomes a blank of the same length in bytes and characters,
/// so every span and column stays where it is (and a terminal does not jump at a carriage return
/// in a snippet). Found by the `dump` fuzz target: a value ending in `\r` moved the frame of a
/// finding further down one line.
fn only_newlines_break(text: &str) -> std::borrow::Cow<'_, str> {
    let b = text.as_bytes();
    let lone_cr = memchr::memchr_iter(b'\r', b).any(|i| b.get(i + 1) != Some(&b'\n'));
    if !lone_cr
        && memchr::memchr2(0x0B, 0x0C, b).is_none()
        && memchr::memchr2(0xC2, 0xE2, b).is_none()
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() != Some(&'\n') => out.push(' '),
            '\x0B' | '\x0C' => out.push(' '),
            '\u{85}' => out.push('\u{a0}'),
            '\u{2028}' | '\u{2029}' => out.push('\u{2002}'),
            c => out.push(c),
        }
    }
    debug_assert_eq!(out.len(), text.len());
    std::borrow::Cow::Owned(out)
}

fn render_diag(
    out: &mut dyn Write,
    style: Style,
    sources: &SourceMap,
    cache: &mut SourceCache,
    d: &Diagnostic,
) -> io::Result<()> {
    render_diag_with(out, style, sources, cache, d, true)
}

/// [`render_diag`]; `windows: false` always draws from the whole file (the tests compare both).
fn render_diag_with(
    out: &mut dyn Write,
    style: Style,
    sources: &SourceMap,
    cache: &mut SourceCache,
    d: &Diagnostic,
    windows: bool,
) -> io::Result<()> {
    let kind = match d.severity {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
        Severity::Info => ReportKind::Advice,
    };
    let Some(primary) = &d.primary else {
        // Nothing to point at: same shape, without a frame.
        let head = match d.severity {
            Severity::Error => paint(style, "1;31", "Error"),
            Severity::Warning => paint(style, "1;33", "Warning"),
            Severity::Info => paint(style, "1;36", "Advice"),
        };
        writeln!(out, "[{}] {}: {}", d.code, head, d.message)?;
        if let Some(h) = &d.help {
            writeln!(out, "  help: {h}")?;
        }
        for n in &d.notes {
            writeln!(out, "  note: {n}")?;
        }
        return writeln!(out);
    };
    let path = |s: crate::source::Span| sources.get(s.file).path.clone();
    let config = Config::default()
        .with_index_type(IndexType::Byte)
        .with_color(style.color);
    let main_color = match d.severity {
        Severity::Error => Color::Red,
        Severity::Warning => Color::Yellow,
        Severity::Info => Color::Cyan,
    };
    let range = |s: crate::source::Span| {
        // ariadne needs a non-empty range to draw a label, and slices the text by it: both ends
        // go to character boundaries, an empty range covers the next whole character.
        let text = &sources.get(s.file).text;
        let floor = |mut i: usize| {
            i = i.min(text.len());
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let start = floor(s.start);
        let end = floor(s.end);
        if end > start {
            start..end
        } else {
            match text[start..].chars().next() {
                Some(c) => start..start + c.len_utf8(),
                // At the very end: a text that lacks a final newline gets one below; in one that
                // has it, point at that newline (past it there is no line; found by fuzzing).
                None if text.ends_with('\n') => text.len() - 1..text.len(),
                None => start..start + 1,
            }
        }
    };
    // The first file of each path, as ariadne names sources by path; of each, the labelled lines
    // (see `Window`), or the whole file from the report's cache.
    let spans: Vec<crate::source::Span> = std::iter::once(primary.span)
        .chain(d.secondary.iter().map(|l| l.span))
        .collect();
    let mut files: Vec<(String, FileId, Option<Window>)> = Vec::new();
    for s in &spans {
        let f = sources.get(s.file);
        if files.iter().any(|(p, _, _)| *p == f.path) {
            continue;
        }
        let ranges = spans.iter().filter(|t| t.file == s.file).map(|t| range(*t));
        let (lo, hi) = ranges.fold((usize::MAX, 0), |(lo, hi), r| {
            (lo.min(r.start), hi.max(r.end))
        });
        // A file registered twice under one path (named twice on the command line) is drawn
        // whole, as before: its labels are all drawn on the first one's text.
        let one_file = spans
            .iter()
            .all(|t| t.file == s.file || sources.get(t.file).path != f.path);
        let window = if windows && one_file {
            Some(Window::of(&f.text, lo, hi))
        } else {
            None
        };
        if window.is_none() {
            cache.entry(s.file).or_insert_with(|| {
                // ariadne counts a final line without newline oddly; give it one.
                let mut text = only_newlines_break(&f.text).into_owned();
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                ariadne::Source::from(text)
            });
        }
        files.push((f.path.clone(), s.file, window));
    }
    // A span's range as ariadne sees it, in its file's window if it has one.
    let placed = |s: crate::source::Span| {
        let p = path(s);
        let r = range(s);
        let window = files
            .iter()
            .find(|(fp, _, _)| *fp == p)
            .and_then(|(_, _, w)| w.as_ref());
        let r = match window {
            Some(w) => w.shift(r),
            None => r,
        };
        (p, r)
    };
    let mut b = ariadne::Report::build(kind, placed(primary.span))
        .with_config(config)
        .with_code(&d.code)
        .with_message(&d.message)
        .with_label(
            Label::new(placed(primary.span))
                .with_message(&primary.message)
                .with_color(main_color),
        );
    for l in &d.secondary {
        b = b.with_label(
            Label::new(placed(l.span))
                .with_message(&l.message)
                .with_color(Color::Blue),
        );
    }
    if let Some(h) = &d.help {
        b = b.with_help(h);
    }
    for n in &d.notes {
        b = b.with_note(n);
    }
    let cache: &SourceCache = cache;
    let files = files
        .iter()
        .map(|(p, id, w)| {
            let source = match w {
                Some(w) => &w.source,
                None => &cache[id],
            };
            (p.clone(), source)
        })
        .collect();
    let mut buf = Vec::new();
    b.finish().write(DiagSources { files }, &mut buf)?;
    // Trailing blanks from the frame make snapshots and terminals noisy.
    let text = String::from_utf8_lossy(&buf);
    for line in text.lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

pub fn write(out: &mut dyn Write, style: Style, sources: &SourceMap, r: &Report) -> io::Result<()> {
    match r.mode {
        Mode::Topology if !r.fatal => {
            writeln!(
                out,
                "{}",
                paint(
                    style,
                    "1",
                    &format!(
                        "twlint: topology {}",
                        r.topology.as_deref().unwrap_or("(unnamed)")
                    )
                )
            )?;
            for n in &r.nodes {
                let origin = match n.kernel_origin {
                    crate::config::KernelOrigin::Assumed => {
                        " (assumed: the topology names no kernel)"
                    }
                    crate::config::KernelOrigin::Flag => " (from --kernel)",
                    crate::config::KernelOrigin::Dump => " (from the dump)",
                    crate::config::KernelOrigin::Config => " (from the configuration file)",
                    crate::config::KernelOrigin::Live => " (this host's, read live)",
                    _ => "",
                };
                if n.role == "nat" {
                    writeln!(
                        out,
                        "  node {:<12} {:<14} a middlebox, not a TCP endpoint: not judged",
                        n.name, n.role
                    )?;
                } else {
                    writeln!(
                        out,
                        "  node {:<12} {:<14} kernel {}{}",
                        n.name, n.role, n.kernel, origin
                    )?;
                }
            }
            writeln!(out)?;
            // Rows grouped once: filtering every verdict for every hop was quadratic.
            let mut by_side: HashMap<(&str, &str), Vec<&VerdictEntry>> = HashMap::new();
            for v in &r.verdicts {
                if let (Some(link), Some(side)) = (v.link.as_deref(), v.side) {
                    by_side.entry((link, side)).or_default().push(v);
                }
            }
            for h in &r.hops {
                hop_header(out, style, h)?;
                for side in ["client", "server"] {
                    let rows = by_side
                        .get(&(h.link.as_str(), side))
                        .map_or(&[][..], Vec::as_slice);
                    if let Some(first) = rows.first() {
                        writeln!(out, "  {} ({side} side)", first.node)?;
                        table(out, style, rows)?;
                    }
                }
                writeln!(out)?;
            }
            let unlinked: Vec<&VerdictEntry> =
                r.verdicts.iter().filter(|v| v.link.is_none()).collect();
            if !unlinked.is_empty() {
                writeln!(out, "{}", paint(style, "1", "nodes on no link"))?;
                table(out, style, &unlinked)?;
                writeln!(out)?;
            }
        }
        Mode::Files => {
            // Rows grouped by node once: filtering every verdict for every host was quadratic
            // in a fleet run.
            let mut by_node: HashMap<&str, Vec<&VerdictEntry>> = HashMap::new();
            for v in &r.verdicts {
                by_node.entry(v.node.as_str()).or_default().push(v);
            }
            for n in &r.nodes {
                let origin = match n.kernel_origin {
                    crate::config::KernelOrigin::Assumed => {
                        " (assumed; pass --kernel to judge for another)"
                    }
                    crate::config::KernelOrigin::Dump => " (from the dump)",
                    crate::config::KernelOrigin::Config => " (from the configuration file)",
                    crate::config::KernelOrigin::Live => " (this host's, read live)",
                    _ => "",
                };
                writeln!(
                    out,
                    "{}",
                    paint(
                        style,
                        "1",
                        &format!("{}: kernel {}{}", n.name, n.kernel, origin)
                    )
                )?;
                let rows = by_node.get(n.name.as_str()).map_or(&[][..], Vec::as_slice);
                table(out, style, rows)?;
                writeln!(out)?;
            }
        }
        Mode::Topology => {}
    }
    write_diagnostics(out, style, sources, &r.diagnostics)?;
    let errors = r.diagnostics_of(Severity::Error);
    let warnings = r.diagnostics_of(Severity::Warning);
    if let Some(fleet) = crate::report::Fleet::of(r) {
        super::fleet::write_human(out, style, &fleet)?;
    }
    if r.fatal {
        writeln!(
            out,
            "{}",
            paint(
                style,
                "1;31",
                &format!(
                    "twlint: the topology has {errors} error{}; nothing was judged",
                    if errors == 1 { "" } else { "s" }
                )
            )
        )?;
    } else {
        writeln!(
            out,
            "{} dangerous, {} pointless, {} safe; {} error{}, {} warning{}",
            r.count(Verdict::Dangerous),
            r.count(Verdict::Pointless),
            r.count(Verdict::Safe),
            errors,
            if errors == 1 { "" } else { "s" },
            warnings,
            if warnings == 1 { "" } else { "s" }
        )?;
        let hidden = r.suppressed_verdicts();
        if hidden > 0 || !r.suppressed.is_empty() {
            writeln!(
                out,
                "suppressed: {hidden} verdict{}, {} diagnostic{} (--no-inline-ignores shows them)",
                if hidden == 1 { "" } else { "s" },
                r.suppressed.len(),
                if r.suppressed.len() == 1 { "" } else { "s" }
            )?;
        }
    }
    Ok(())
}

/// Renders diagnostics alone (rule-file errors, before any report exists).
pub fn write_diagnostics(
    out: &mut dyn Write,
    style: Style,
    sources: &SourceMap,
    diags: &[Diagnostic],
) -> io::Result<()> {
    // Drawing a diagnostic with its source lines is the costly part of a human report (a fleet
    // run has hundreds): batches are drawn on all cores, each with its own source cache, and
    // written in order.
    const BATCH: usize = 32;
    let batches: Vec<&[Diagnostic]> = diags.chunks(BATCH).collect();
    let drawn = crate::pool::par_map(&batches, |batch| {
        let mut buf = Vec::new();
        let mut cache = SourceCache::new();
        for d in *batch {
            render_diag(&mut buf, style, sources, &mut cache, d)?;
        }
        Ok::<_, io::Error>(buf)
    });
    for buf in drawn {
        out.write_all(&buf?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn drawn(sources: &SourceMap, d: &Diagnostic, windows: bool) -> String {
        let mut out = Vec::new();
        let mut cache = SourceCache::new();
        let style = Style { color: false };
        render_diag_with(&mut out, style, sources, &mut cache, d, windows).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Drawing only the labelled lines of a file (`Window`) must give the very frame drawing the
    /// whole file gives: same line numbers, columns, margins and ends.
    #[test]
    fn a_window_draws_what_the_whole_file_draws() {
        let long: String = (1..=120).map(|i| format!("net.key{i} = {i}\n")).collect();
        let texts = [
            long.clone(),
            format!("{long}last = line without newline"),
            "a = 1\r\nb = 2\r\nc = 3\r\n".to_string(),
            "x = é\ny\t= 🙂 two\n\nz = ü\n".to_string(),
            "first\nlone\rcarriage = 1\nthen = 2\nsep\u{2028}arated = 3\nform\x0cfeed = 4\nend\n"
                .to_string(),
            String::new(),
            "\n\n\n".to_string(),
            "no newline".to_string(),
        ];
        let mut sources = SourceMap::new();
        let ids: Vec<FileId> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| sources.add(format!("f{i}.conf"), t.clone()))
            .collect();
        let mut checked = 0;
        for (id, text) in ids.iter().zip(&texts) {
            let len = text.len();
            // Every byte offset, as an empty span and as a span to the end of its line; a span
            // over several lines; and pairs of labels far apart.
            for start in 0..=len {
                let line_end = text.as_bytes()[start..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(len, |i| start + i);
                for end in [start, line_end, (start + 40).min(len)] {
                    let d = Diagnostic::error("TW002", "a finding")
                        .at(Span::new(*id, start, end), "here");
                    assert_eq!(
                        drawn(&sources, &d, true),
                        drawn(&sources, &d, false),
                        "file {id:?}, {start}..{end}"
                    );
                    checked += 1;
                }
                if start % 7 == 0 {
                    let other = Span::new(*id, len / 3, len / 3 + 1);
                    let d = Diagnostic::error("TW002", "a finding")
                        .at(Span::new(*id, start, start + 1), "here")
                        .with_secondary(other, "and there")
                        .with_secondary(Span::new(ids[0], 5, 9), "in another file");
                    assert_eq!(drawn(&sources, &d, true), drawn(&sources, &d, false));
                }
            }
        }
        assert!(checked > 1000);
    }

    #[test]
    fn a_path_registered_twice_is_drawn_as_before() {
        let text: String = (1..=50).map(|i| format!("k{i} = {i}\n")).collect();
        let mut sources = SourceMap::new();
        let first = sources.add("same.conf", text.clone());
        let again = sources.add("same.conf", text.clone());
        let late = text.find("k40 ").unwrap();
        let early = text.find("k3 ").unwrap();
        let d = Diagnostic::error("TW006", "set again")
            .at(Span::new(again, late, late + 3), "this one wins")
            .with_secondary(Span::new(first, early, early + 2), "overridden");
        assert_eq!(drawn(&sources, &d, true), drawn(&sources, &d, false));
    }

    #[test]
    fn a_window_holds_only_the_labelled_lines() {
        let text: String = (1..=100).map(|i| format!("k{i} = {i}\n")).collect();
        let at = text.find("k90 ").unwrap();
        let w = Window::of(&text, at, at + 3);
        assert_eq!(w.lines_before, 89);
        assert_eq!(w.source.text(), format!("{}k90 = 90\n", "\n".repeat(89)));
    }

    #[test]
    fn the_frame_numbers_lines_as_twlint_does_whatever_else_breaks_them() {
        // A lone `\r`, vertical tab, form feed, U+0085, U+2028 and U+2029 before a finding:
        // twlint (like procps) reads one line each, and so must the frame.
        let before = "a = 1\r\rb = 2\x0bc\x0cd\u{85}e\u{2028}f\u{2029}g\r\n";
        let text = format!("{before}{}net.key = oops\n", "x = 1\n".repeat(3));
        let mut sources = SourceMap::new();
        let id = sources.add("odd.conf", text.clone());
        let at = text.find("oops").unwrap();
        let d = Diagnostic::error("TW004", "a finding").at(Span::new(id, at, at + 4), "here");
        let (line, column) = sources.get(id).line_col(at);
        assert_eq!((line, column), (5, 11));
        for windows in [true, false] {
            let frame = drawn(&sources, &d, windows);
            assert!(frame.contains("odd.conf:5:11"), "{frame}");
            assert!(frame.contains(" 5 │ net.key = oops"), "{frame}");
        }
        assert_eq!(only_newlines_break("a\r\nb").as_ref(), "a\r\nb");
    }
}
