//! The terminal report: a table per hop (the seed article's "scheme" tables, made exact), then
//! the diagnostics as ariadne frames pointing into the files, then a summary line.
//!
//! Colour is decided by the caller (`Style`); ariadne always renders with byte offsets because
//! our spans are bytes.

use super::{safe, Style};
use crate::diag::{Diagnostic, Severity, Verdict};
use crate::number::format_number;
use crate::report::{HopSummary, Mode, Report, Totals, VerdictEntry};
use crate::source::{FileId, SourceMap};
use ariadne::{Color, Config, IndexType, Label, ReportKind};
use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::OnceLock;

mod frame;

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
    // A middlebox's table says once that its keys are conntrack's.
    key.strip_prefix("net.ipv4.")
        .or_else(|| key.strip_prefix("net.netfilter.nf_conntrack_"))
        .unwrap_or(key)
}

fn shown_value(v: &VerdictEntry) -> String {
    let value = match &v.value {
        Some(s) if s.is_empty() => "(empty)".to_string(),
        Some(s) => s.clone(),
        None if v.source == crate::config::SourceKindOut::Default => "memory-dependent".to_string(),
        None => "?".to_string(),
    };
    // A value is the file's text: escaped here, where every table gets it.
    let value = safe::line(&value);
    if v.source == crate::config::SourceKindOut::Default {
        format!("{value} (default)")
    } else {
        value.into_owned()
    }
}

/// The characters of [`shown_value`], counted without making it (every row of every table is
/// measured, most of them folded into the line of safe settings).
fn shown_value_width(v: &VerdictEntry) -> usize {
    let default = v.source == crate::config::SourceKindOut::Default;
    let value = match &v.value {
        Some(s) if s.is_empty() => "(empty)".len(),
        Some(s) => {
            let shown = safe::line(s);
            match shown.is_ascii() {
                true => shown.len(),
                false => shown.chars().count(),
            }
        }
        None if default => "memory-dependent".len(),
        None => "?".len(),
    };
    value + if default { " (default)".len() } else { 0 }
}

/// What a node stands for beyond one host in the host's namespace: ", 3 hosts, own network
/// namespace", or nothing.
fn node_shape(n: &crate::report::NodeSummary) -> String {
    let mut out = String::new();
    if n.hosts > 1 {
        out.push_str(&format!(", {} hosts", n.hosts));
    }
    match n.namespace.as_deref() {
        Some("") => out.push_str(", own network namespace"),
        Some(owner) => out.push_str(&format!(", in {}'s network namespace", safe::line(owner))),
        None => {}
    }
    out
}

fn hop_header(out: &mut dyn Write, style: Style, h: &HopSummary) -> io::Result<()> {
    let c = &h.client;
    // Names are the topology's text.
    let (link, from, closes_first) = (
        safe::line(&h.link),
        safe::line(&h.from),
        safe::line(&h.closes_first),
    );
    let via = h
        .via
        .as_ref()
        .map(|v| format!(" via {}", safe::line(v)))
        .unwrap_or_default();
    writeln!(
        out,
        "{}",
        paint(
            style,
            "1",
            &format!(
                "hop {}{} (port {}), {} closes first",
                link, via, h.port, closes_first
            )
        )
    )?;
    let rate = match h.rate {
        Some(r) if c.unseen_clients => format!(
            "{}/s declared; TIME_WAIT lands on {}",
            format_number(r),
            closes_first
        ),
        Some(r) => format!(
            "{}/s declared over {} tuple{}, {}/s per tuple; {} TIME_WAIT sockets on {}{}{}",
            format_number(r),
            c.tuples,
            if c.tuples == 1 { "" } else { "s" },
            format_number(c.rate_per_tuple),
            format_number(h.time_wait_sockets),
            closes_first,
            if h.time_wait_per_host != h.time_wait_sockets {
                format!(" ({} per host)", format_number(h.time_wait_per_host))
            } else {
                String::new()
            },
            if h.time_wait_bounded {
                format!(", bounded by {from}'s ports")
            } else {
                String::new()
            }
        ),
        None => format!("no rate declared; TIME_WAIT lands on {closes_first}"),
    };
    under(out, style, 2, 4, &rate)?;
    if !c.sources.is_empty() || !c.source_assumption.is_empty() || c.open > 0 {
        let mut line = String::new();
        if !c.sources.is_empty() {
            line.push_str(&format!(
                "from {} to {}",
                safe::line(&c.sources.join(", ")),
                if c.destinations.is_empty() {
                    "its hosts".to_string()
                } else {
                    safe::line(&c.destinations.join(", ")).into_owned()
                }
            ));
        }
        if c.open > 0 {
            if !line.is_empty() {
                line.push_str("; ");
            }
            line.push_str(&format!(
                "{} held open ({} per tuple)",
                c.open, c.open_per_tuple
            ));
        }
        if !c.source_assumption.is_empty() {
            if !line.is_empty() {
                line.push_str("; ");
            }
            line.push_str(&format!("assumed: {}", safe::line(&c.source_assumption)));
        }
        under(out, style, 2, 4, &line)?;
    }
    middlebox_lines(out, style, h)?;
    if c.unseen_clients {
        return under(
            out,
            style,
            2,
            4,
            &format!(
                "{} stands for many unseen hosts: their ports and TIME_WAIT are spread over them",
                from
            ),
        );
    }
    let capacity = format!(
        "{} can open {}/s per tuple without reuse, {}/s with reuse ({} usable ports){}",
        from,
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
    );
    under(out, style, 2, 4, &capacity)
}

/// The hop's middlebox figures: each conntrack box's table and SNAT ports, and the smallest idle
/// timeout on the way when connections are held open.
fn middlebox_lines(out: &mut dyn Write, style: Style, h: &HopSummary) -> io::Result<()> {
    for (name, ct) in &h.via_conntrack {
        let name = safe::line(name);
        let max = if ct.max >= 0 {
            format!("nf_conntrack_max {}", ct.max)
        } else {
            format!("nf_conntrack_max default, {}", ct.limit)
        };
        let table = format!(
            "{name} conntrack: {} entries per host{} of {max}, {} s TIME_WAIT: {} new connections/s fit{}",
            format_number(ct.entries),
            if ct.entries_known { "" } else { " (some links declare no rate)" },
            ct.tw_timeout,
            format_number(ct.rate_capacity),
            if ct.overflows { "; the table overflows" } else { "" }
        );
        under(out, style, 2, 4, &table)?;
        if ct.snat {
            let snat = format!(
                "{name} SNAT: {}/s per (public address, destination address, port) hold {} of {} ports, {}/s fit{}",
                format_number(ct.snat_rate_per_tuple),
                format_number(ct.snat_held),
                ct.snat_ports,
                format_number(ct.snat_capacity),
                if ct.snat_exhausts { "; ports run out" } else { "" }
            );
            under(out, style, 2, 4, &snat)?;
        }
    }
    let p = &h.client.path;
    if p.open > 0.0 && p.idle_timeout > 0.0 {
        let idle = format!(
            "{} connections held open; {} forgets a flow idle for {} s; keepalive set by the application: {}",
            format_number(p.open),
            safe::line(&p.idle_by),
            format_number(p.idle_timeout),
            p.keepalive
        );
        under(out, style, 2, 4, &idle)?;
    }
    Ok(())
}

/// Column widths shared by every table of a hop (both endpoints) or of a linted set, so the
/// columns stay put between them.
#[derive(Debug, Clone, Copy)]
struct Columns {
    key: usize,
    value: usize,
}

/// Widest value column: a longer value makes its row longer rather than every row.
const VALUE_COLUMN_MAX: usize = 28;

/// Where a row's reason and fix start when they go under it.
const UNDER: usize = 6;

impl Columns {
    fn of<'a>(rows: impl IntoIterator<Item = &'a VerdictEntry>) -> Columns {
        let mut c = Columns { key: 0, value: 0 };
        for v in rows {
            c.key = c.key.max(short_key(v.key).chars().count());
            c.value = c.value.max(shown_value_width(v));
        }
        c.value = c.value.min(VALUE_COLUMN_MAX);
        c
    }
}

/// `text` broken at spaces into a first line of at most `first` characters and further lines of
/// at most `width` (a longer word gets a line of its own). Spacing inside a line is kept (padded
/// columns stay padded); a break drops the spaces it falls on.
fn wrap(text: &str, first: usize, width: usize) -> Vec<String> {
    wrap_counting(text, first, width, text.is_ascii())
}

/// [`wrap`]; `ascii`: `text` is ASCII, so its characters are its bytes and are counted without
/// decoding (nearly every message, reason and fix: a row's wrapping decoded each character
/// twice per line). The test compares both ways on ASCII texts.
fn wrap_counting(text: &str, first: usize, width: usize, ascii: bool) -> Vec<String> {
    let mut lines = Vec::new();
    wrap_each(text, first, width, ascii, |l| lines.push(l.to_string()));
    lines
}

/// [`wrap_counting`], giving each line to `each` as a slice of `text` instead of a copy (a
/// frame's message, help and notes and a row's reason and fix are written as they are cut).
fn wrap_each<'t>(
    text: &'t str,
    first: usize,
    width: usize,
    ascii: bool,
    mut each: impl FnMut(&'t str),
) {
    let chars = |s: &str| if ascii { s.len() } else { s.chars().count() };
    let mut lines = 0usize;
    let mut rest = text.trim_end();
    let mut room = first.max(20);
    while chars(rest) > room {
        // The byte offset just past `room` characters, then the last space at or before it.
        let limit = match ascii {
            true => room.min(rest.len()),
            false => rest.char_indices().nth(room).map_or(rest.len(), |(i, _)| i),
        };
        // The character at `limit` is looked at too (a space there is a break that fits);
        // slicing past it whole keeps the cut on a character boundary.
        let through = rest[limit..]
            .chars()
            .next()
            .map_or(rest.len(), |c| limit + c.len_utf8());
        let cut = match rest[..through].rfind(' ') {
            Some(i) if i > 0 => i,
            // One long word: it gets its line, up to the next space.
            _ => match rest[limit..].find(' ') {
                Some(i) => limit + i,
                None => break,
            },
        };
        each(rest[..cut].trim_end());
        lines += 1;
        rest = rest[cut..].trim_start();
        room = width.max(20);
    }
    if !rest.is_empty() || lines == 0 {
        each(rest);
    }
}

/// Writes `text` under a row, indented by `indent` and wrapped to the style's width; lines after
/// the first are indented by `rest` (a hanging indent shows where a wrapped line goes on).
fn under(
    out: &mut dyn Write,
    style: Style,
    indent: usize,
    rest: usize,
    text: &str,
) -> io::Result<()> {
    // Made in memory and written at once: `out` is a dyn writer, a write per line and pad cost
    // more than the wrapping.
    let mut buf = String::with_capacity(text.len() + 4 * indent.max(rest));
    let mut first = true;
    wrap_each(
        text,
        style.width.saturating_sub(indent),
        style.width.saturating_sub(rest),
        text.is_ascii(),
        |l| {
            let pad = if first { indent } else { rest };
            first = false;
            buf.extend(std::iter::repeat_n(' ', pad));
            buf.push_str(l);
            buf.push('\n');
        },
    );
    out.write_all(buf.as_bytes())
}

/// The reason of a row as shown: with what a suppression or a severity override says about it.
fn row_reason(v: &VerdictEntry) -> String {
    // A suppressed verdict keeps its row, says so, and shows the reason it was accepted
    // (the directive's text, as the reason of a rule may quote the file's).
    let mut reason = match &v.suppressed {
        Some(s) => format!(
            "[suppressed: {}] {}",
            safe::line(&s.reason),
            safe::line(&v.reason)
        ),
        None => safe::line(&v.reason).into_owned(),
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
    reason
}

/// One endpoint's rows: problems first (dangerous, then pointless), each with its reason and
/// fix; then its safe settings on one line (every row with `--show safe`). The rows of a host
/// twlint cannot see are one line: not judged.
fn table(
    out: &mut dyn Write,
    style: Style,
    cols: Columns,
    rows: &[&VerdictEntry],
) -> io::Result<()> {
    if !rows.is_empty() && rows.iter().all(|v| v.unseen) && !style.show_safe {
        let text = format!(
            "not judged: hosts twlint cannot see; {} settings at kernel defaults, not counted (--show safe lists them)",
            rows.len()
        );
        return under(out, style, 4, UNDER, &text);
    }
    let mut ordered: Vec<&VerdictEntry> = rows.to_vec();
    // Stable: within a verdict the keys keep the catalog's order.
    ordered.sort_by_key(|v| std::cmp::Reverse(v.verdict));
    let mut folded: Vec<&str> = Vec::new();
    for v in ordered {
        let quiet = v.verdict == Verdict::Safe && v.suppressed.is_none() && v.level.is_none();
        if quiet && !style.show_safe {
            folded.push(short_key(v.key));
            continue;
        }
        let rule = safe::line(v.rule.as_deref().unwrap_or("-"));
        let word = if v.unseen {
            paint(style, "2", &format!("{:<9}", "unjudged"))
        } else {
            verdict_word(style, v.verdict)
        };
        let head = format!(
            "    {} {:<kw$}  {:<vw$}  {:<5}",
            word,
            short_key(v.key),
            shown_value(v),
            rule,
            kw = cols.key,
            vw = cols.value,
        );
        // The row's width as the terminal counts it: the padded fields, without colour codes.
        let head_width = 4
            + 9
            + 1
            + cols.key
            + 2
            + shown_value(v).chars().count().max(cols.value)
            + 2
            + rule.chars().count().max(5);
        let reason = row_reason(v);
        if head_width + 2 + reason.chars().count() <= style.width {
            writeln!(out, "{head}  {reason}")?;
        } else {
            writeln!(out, "{}", head.trim_end())?;
            under(out, style, UNDER, UNDER, &reason)?;
        }
        if v.verdict != Verdict::Safe {
            if let Some(h) = v.help.as_deref().filter(|h| !h.is_empty()) {
                under(out, style, UNDER, UNDER, &format!("fix: {}", safe::line(h)))?;
            }
        }
    }
    if !folded.is_empty() {
        // Wrapped before it is painted, so the escape codes count for nothing.
        let text = format!(
            "safe ({}): {} (--show safe says why)",
            folded.len(),
            folded.join(", ")
        );
        let lines = wrap(
            &text,
            style.width.saturating_sub(4),
            style.width.saturating_sub(UNDER),
        );
        for (i, l) in lines.into_iter().enumerate() {
            match i {
                0 => writeln!(
                    out,
                    "    {}{}",
                    paint(style, "32", "safe"),
                    l.strip_prefix("safe").unwrap_or(&l)
                )?,
                _ => writeln!(out, "{}{l}", " ".repeat(UNDER))?,
            }
        }
    }
    Ok(())
}

/// ariadne's view of each whole file drawn so far, by file id, shared by every thread drawing
/// the report: making one indexes every line of the file, so each file is made at most once
/// (a fleet report draws many findings from each 1,300-line dump, and one copy and index per
/// finding was a ninth of a fleet run).
type SourceCache = [OnceLock<Shown>];

/// A new, empty [`SourceCache`] for the files of `sources`.
fn source_cache(sources: &SourceMap) -> Vec<OnceLock<Shown>> {
    sources.files().map(|_| OnceLock::new()).collect()
}

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

/// Most lines before a finding that its own window repeats as empty lines (see [`Shown`]); a
/// finding further down is drawn from the whole file, indexed once for the report. Either way
/// drawing a finding costs at most this many lines besides the lines it shows, so drawing a
/// report is linear in what it shows: 20,000 stacked directives, each a finding drawn from a
/// window of every line above it, took minutes.
const WINDOW_LINES_BEFORE: usize = 2_000;

/// What ariadne is given of a file to draw a finding: a window of the lines the finding's labels
/// cover, or the whole file. In a window the lines before are emptied (ariadne numbers lines
/// itself and 0.6 shows the margin numbers without its display offset, so they must still be
/// there) and the lines after are left out: ariadne indexes every line it is given, and a
/// finding in a 1,300-line dump had it index the whole dump, a tenth of judging one dump.
///
/// Either way the text is drawable: line breaks as twlint counts them
/// ([`only_newlines_break`]), and every other control character drawn as one visible character
/// (`super::safe::picture`), so an escape sequence in a linted file never reaches the terminal
/// and every column stays where it is. A picture is longer in bytes than the character it
/// stands for, so the text grows there; [`Shown::shift`] moves a range of the file past it.
struct Shown {
    /// Where each kept part of the file starts, in the file and in the text shown, in order.
    parts: Vec<Part>,
    /// Where the text grew: (offset in the file just past a character drawn as its picture,
    /// bytes added up to there), in order.
    growth: Vec<(usize, usize)>,
    source: ariadne::Source<String>,
    /// For a frame drawn from only its labelled lines ([`Shown::lines`]): the file's 1-based
    /// number of each line shown (0 for the one line standing for a gap), which
    /// [`renumber`] puts in the margin in place of the numbers ariadne counts.
    numbers: Option<Vec<usize>>,
}

/// One kept part of a file in a [`Shown`].
struct Part {
    /// Byte offset in the file of its first byte.
    file: usize,
    /// Byte offset of that byte in the text shown.
    shown: usize,
    /// The text's growth before it (see [`Shown::growth`]).
    grown: usize,
}

impl Shown {
    /// The lines of `file` from the one holding `lo` through the one holding the last byte
    /// before `hi`, with `lines_before` empty lines before them.
    fn window(file: &crate::source::SourceFile, lo: usize, hi: usize) -> Shown {
        let text = &file.text;
        let bytes = text.as_bytes();
        let (lines_before, start) = file.line_at(lo);
        // Through the end of the line of the last labelled byte.
        let last = hi.max(lo + 1).min(bytes.len()).saturating_sub(1).max(start);
        let end = memchr::memchr(b'\n', &bytes[last..]).map_or(bytes.len(), |i| last + i + 1);
        Shown::of(text, start, end, lines_before)
    }

    fn whole(text: &str) -> Shown {
        Shown::of(text, 0, text.len(), 0)
    }

    fn of(text: &str, start: usize, end: usize, lines_before: usize) -> Shown {
        let mut shown = String::with_capacity(lines_before + (end - start) + 1);
        shown.extend(std::iter::repeat_n('\n', lines_before));
        let mut growth = Vec::new();
        let mut grown = 0;
        append_drawable(&mut shown, text, start, end, &mut growth, &mut grown);
        Shown::finish(
            shown,
            vec![Part {
                file: start,
                shown: lines_before,
                grown: 0,
            }],
            growth,
            None,
        )
    }

    /// Only the given lines of `file` ((0-based index, start offset), sorted, distinct: the
    /// lines a finding's one-line labels are on), each run of lines that follow each other kept
    /// as it is, and one empty line in place of every gap between runs. ariadne draws a gap of
    /// any length between labelled lines, none inside a label, as one empty margin line, so the
    /// frame is the one the whole file gives once [`renumber`] has put the file's line numbers
    /// in the margin; `primary_line` is the line ariadne's header names. Drawing a finding so
    /// costs the lines it shows, wherever they are: a duplicate 98,000 lines after the first
    /// assignment had ariadne copy, index and walk every line between.
    fn lines(
        file: &crate::source::SourceFile,
        lines: &[(usize, usize)],
        primary_line: usize,
    ) -> Shown {
        let text = &file.text;
        let bytes = text.as_bytes();
        let mut shown = String::new();
        let mut parts = Vec::new();
        let mut growth = Vec::new();
        let mut grown = 0;
        let mut numbers = Vec::with_capacity(lines.len() + 1);
        let mut i = 0;
        while i < lines.len() {
            let (first, start) = lines[i];
            let mut last = first;
            while i + 1 < lines.len() && lines[i + 1].0 == last + 1 {
                i += 1;
                last += 1;
            }
            let last_start = lines[i].1;
            i += 1;
            if !parts.is_empty() {
                shown.push('\n');
                numbers.push(0);
            }
            let end = memchr::memchr(b'\n', &bytes[last_start..])
                .map_or(bytes.len(), |j| last_start + j + 1);
            parts.push(Part {
                file: start,
                shown: shown.len(),
                grown,
            });
            append_drawable(&mut shown, text, start, end, &mut growth, &mut grown);
            numbers.extend(first + 1..=last + 1);
        }
        let shown_primary = numbers
            .iter()
            .position(|&n| n == primary_line + 1)
            .unwrap_or(0);
        let mut out = Shown::finish(shown, parts, growth, Some(numbers));
        // The header's line: ariadne adds this offset there (and only there, in 0.6).
        out.source = out
            .source
            .with_display_line_offset(primary_line - shown_primary.min(primary_line));
        out
    }

    fn finish(
        mut shown: String,
        parts: Vec<Part>,
        growth: Vec<(usize, usize)>,
        numbers: Option<Vec<usize>>,
    ) -> Shown {
        // As for a whole file: ariadne counts a final line without newline oddly; give it one.
        if !shown.ends_with('\n') {
            shown.push('\n');
        }
        Shown {
            parts,
            growth,
            source: ariadne::Source::from(shown),
            numbers,
        }
    }

    /// A range of the file, as a range of the text shown.
    fn shift(&self, r: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let at = |o: usize| {
            let grown = match self.growth.partition_point(|&(past, _)| past <= o) {
                0 => 0,
                i => self.growth[i - 1].1,
            };
            let part = &self.parts[self
                .parts
                .partition_point(|p| p.file <= o)
                .saturating_sub(1)];
            o - part.file + part.shown + grown - part.grown
        };
        at(r.start)..at(r.end)
    }
}

/// Appends `text[start..end]` to `shown` as it is drawn: line breaks as twlint counts them
/// ([`only_newlines_break`]), every other control character as its picture, recording in
/// `growth` where the text grows (see [`Shown`]); `grown` is the growth so far.
fn append_drawable(
    shown: &mut String,
    text: &str,
    start: usize,
    end: usize,
    growth: &mut Vec<(usize, usize)>,
    grown: &mut usize,
) {
    let part = only_newlines_break(&text[start..end]);
    // After `only_newlines_break` a `\r` is the first half of a CRLF, which ends a line.
    let pictured = |c: char| super::safe::picture(c).filter(|_| c != '\r');
    if part.chars().any(|c| pictured(c).is_some()) {
        for (i, c) in part.char_indices() {
            match pictured(c) {
                Some(p) => {
                    shown.push(p);
                    *grown += p.len_utf8() - c.len_utf8();
                    growth.push((start + i + c.len_utf8(), *grown));
                }
                None => shown.push(c),
            }
        }
    } else {
        shown.push_str(&part);
    }
}

/// Decimal digits of a line number, as ariadne sizes its margin.
fn digits(n: usize) -> usize {
    n.max(1).ilog10() as usize + 1
}

/// A frame ariadne drew from [`Shown::lines`], with the file's line numbers in its margin
/// (`numbers`, as there) and the margin as wide as the file's last labelled line number makes
/// it. Every line of the frame from its header on starts with the margin: a space, the margin
/// colour's escape when colour is on, then as many places as the widest number and one more
/// (a right-aligned number and a blank, or blanks), then a bar, a corner or an escape; the
/// frame's last line is a rule of `─` that long and one more, closed by `╯`. Those parts are
/// rewritten; anything else (a label message's own next line) is left as it is.
fn renumber(frame: &str, numbers: &[usize]) -> String {
    let narrow = digits(numbers.len());
    let wide = digits(numbers.last().copied().unwrap_or(0));
    let esc_len = |s: &str| {
        if s.starts_with("\x1b[") {
            s.find('m').map_or(0, |m| m + 1)
        } else {
            0
        }
    };
    let mut out = String::with_capacity(frame.len() + 64);
    let mut in_frame = false;
    for line in frame.split_inclusive('\n') {
        let mut done = false;
        if let Some(rest) = line.strip_prefix(' ') {
            let e = esc_len(rest);
            let (esc, rest) = rest.split_at(e);
            let is_margin = rest.len() > narrow + 1
                && rest.as_bytes()[..=narrow]
                    .iter()
                    .all(|b| *b == b' ' || b.is_ascii_digit());
            if is_margin {
                let (region, after) = rest.split_at(narrow + 1);
                let after_bare = &after[esc_len(after)..];
                in_frame |= after_bare.starts_with('╭');
                let ends_margin = ['│', '┆', '╭', '├', '\x1b']
                    .iter()
                    .any(|c| after.starts_with(*c));
                let number = region.trim();
                let real = if number.is_empty() {
                    Some(None)
                } else {
                    number
                        .parse::<usize>()
                        .ok()
                        .filter(|n| format!("{n:>narrow$} ") == region)
                        .and_then(|n| numbers.get(n.wrapping_sub(1)))
                        .filter(|&&r| r > 0)
                        .map(|&r| Some(r))
                };
                if let (true, true, Some(real)) = (in_frame, ends_margin, real) {
                    out.push(' ');
                    out.push_str(esc);
                    match real {
                        Some(r) => {
                            use std::fmt::Write as _;
                            let _ = write!(out, "{r:>wide$} ");
                        }
                        None => out.extend(std::iter::repeat_n(' ', wide + 1)),
                    }
                    out.push_str(after);
                    done = true;
                }
            }
        } else if in_frame {
            let e = esc_len(line);
            let (esc, rest) = line.split_at(e);
            let rule = "─".len() * (narrow + 2);
            if rest.len() > rule
                && rest[..rule].chars().all(|c| c == '─')
                && rest[rule..].starts_with('╯')
            {
                out.push_str(esc);
                out.extend(std::iter::repeat_n('─', wide + 2));
                out.push_str(&rest[rule..]);
                done = true;
            }
        }
        if !done {
            out.push_str(line);
        }
    }
    out
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

/// A frame's message, help or note broken into lines that fit the width once ariadne puts
/// `first` characters before the first line and `rest` before the others (it indents a help's
/// or note's further lines as it does the first; a message's go on at the left edge).
fn fitted(style: Style, text: &str, first: usize, rest: usize) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut started = false;
    for (i, l) in text.split('\n').enumerate() {
        let lead = if i == 0 { first } else { rest };
        wrap_each(
            l,
            style.width.saturating_sub(lead),
            style.width.saturating_sub(rest),
            l.is_ascii(),
            |line| {
                if started {
                    out.push('\n');
                }
                started = true;
                out.push_str(line);
            },
        );
    }
    out
}

fn render_diag(
    out: &mut dyn Write,
    style: Style,
    sources: &SourceMap,
    cache: &SourceCache,
    d: &Diagnostic,
) -> io::Result<()> {
    render_diag_with(out, style, sources, cache, d, true)
}

/// [`render_diag`]; `windows: false` always draws from the whole file (the tests compare both).
fn render_diag_with(
    out: &mut dyn Write,
    style: Style,
    sources: &SourceMap,
    cache: &SourceCache,
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
        writeln!(
            out,
            "[{}] {}: {}",
            safe::line(&d.code),
            head,
            safe::text(&d.message)
        )?;
        if let Some(h) = &d.help {
            writeln!(out, "  help: {}", safe::text(h))?;
        }
        for n in &d.notes {
            writeln!(out, "  note: {}", safe::text(n))?;
        }
        return writeln!(out);
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
        let start = floor(s.from());
        let end = floor(s.to());
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
    // (see `Shown`), or the whole file from the report's cache.
    let spans: Vec<crate::source::Span> = std::iter::once(primary.span)
        .chain(d.secondary.iter().map(|l| l.span))
        .collect();
    // Each span's path as shown, escaped once (borrowed when nothing needs escaping): paths are
    // input too (a file in a folder may be named anything).
    let paths: Vec<std::borrow::Cow<'_, str>> = spans
        .iter()
        .map(|s| safe::line(&sources.get(s.file).path))
        .collect();
    let mut files: Vec<(String, FileId, Option<Shown>)> = Vec::new();
    // Every label on one line of the primary's file: the frame is drawn from those lines alone.
    if windows && spans.iter().all(|t| t.file == primary.span.file) {
        let f = sources.get(primary.span.file);
        let mut lines = Vec::with_capacity(spans.len());
        for s in &spans {
            let r = range(*s);
            let line = f.line_at(r.start);
            if f.line_at(r.end - 1).0 != line.0 {
                lines.clear();
                break;
            }
            lines.push(line);
        }
        if !lines.is_empty() {
            let primary_line = lines[0].0;
            lines.sort_unstable();
            lines.dedup();
            let shown = Shown::lines(f, &lines, primary_line);
            files.push((paths[0].to_string(), primary.span.file, Some(shown)));
        }
    }
    let drawn_from_lines = !files.is_empty();
    for (s, p) in spans.iter().zip(&paths).filter(|_| !drawn_from_lines) {
        let f = sources.get(s.file);
        if files.iter().any(|(fp, _, _)| fp == p) {
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
        let window = (windows && one_file && f.line_at(lo).0 <= WINDOW_LINES_BEFORE)
            .then(|| Shown::window(f, lo, hi));
        files.push((p.to_string(), s.file, window));
    }
    let shown: Vec<&Shown> = files
        .iter()
        .map(|(_, id, w)| match w {
            Some(w) => w,
            None => cache[id.0 as usize].get_or_init(|| Shown::whole(&sources.get(*id).text)),
        })
        .collect();
    // Each span's file (its place in `files`, found by path as ariadne finds it) and range as
    // ariadne sees it, in what is shown of that file.
    let places: Vec<(usize, std::ops::Range<usize>)> = spans
        .iter()
        .zip(&paths)
        .map(|(s, p)| {
            let at = files.iter().position(|(fp, _, _)| fp == p).unwrap_or(0);
            (at, shown[at].shift(range(*s)))
        })
        .collect();
    // What ariadne puts before a line: `[TW001] Warning: ` before the message, the margin of
    // line numbers (` 12 │ `) before a help (`Help: `) or a note (`Note 1: `).
    let kind_len = match kind {
        ReportKind::Error => "Error".len(),
        ReportKind::Warning => "Warning".len(),
        _ => "Advice".len(),
    };
    let head = d.code.chars().count() + 3 + kind_len + 2;
    let digits = digits(
        spans
            .iter()
            .map(|s| sources.get(s.file).line_col(s.from()).0)
            .max()
            .unwrap_or(1),
    );
    let margin = digits + 4;
    // ariadne starts a new frame section (with the report's own place in its header) whenever a
    // label lies above the one before it in the same file: the labels go to it in the order of
    // their files, then of their places, so each file is one section.
    let rank = |i: usize| (places[i].0, places[i].1.start);
    let mut keys: Vec<(usize, usize)> = (0..spans.len()).map(rank).collect();
    keys.sort_unstable();
    let order = |i: usize| {
        let k = rank(i);
        i32::try_from(keys.partition_point(|x| *x < k)).unwrap_or(i32::MAX)
    };
    let frame = Frame {
        color: style.color,
        severity: d.severity,
        code: safe::line(&d.code).into_owned(),
        message: fitted(style, &safe::text(&d.message), head, 0),
        labels: std::iter::once(primary)
            .chain(&d.secondary)
            .enumerate()
            .map(|(i, l)| {
                let (file, r) = places[i].clone();
                (file, r, safe::text(&l.message).into_owned(), order(i))
            })
            .collect(),
        help: d
            .help
            .as_ref()
            .map(|h| fitted(style, &safe::text(h), margin + 6, margin + 6)),
        notes: d
            .notes
            .iter()
            .map(|n| fitted(style, &safe::text(n), margin + 8, margin + 8))
            .collect(),
        lines: None,
    };
    if drawn_from_lines {
        // One file, named only in the header: the frame is drawn once for every finding that
        // shows the same lines the same way (see `FRAMES`), with the path put in afterwards.
        let shown = shown[0];
        let frame = Frame {
            lines: Some((
                shown.source.text().to_string(),
                shown.source.display_line_offset(),
                shown.numbers.clone().unwrap_or_default(),
            )),
            ..frame
        };
        let p = &files[0].0;
        let frames = FRAMES.get_or_init(Default::default);
        // A poisoned lock (a panic elsewhere while it was held) holds frames as whole as ever:
        // each is inserted complete.
        let lock = || {
            frames
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((text, at)) = lock().get(&frame) {
            return write_named(out, text, *at, p);
        }
        // Drawn without the lock: the other threads go on finding theirs meanwhile. A frame of
        // one label on one line of ASCII (nearly every frame of a fleet) is drawn by our own
        // code, which is ariadne's frame at a fraction of the cost (see `frame`).
        let (text, at) = match frame::draw(&frame) {
            Some(drawn) => drawn,
            None => {
                let mut text = ariadne_frame(&frame, vec![(PATH_MARK.to_string(), &shown.source)])?;
                // `PATH_MARK` is one NUL.
                let at = memchr::memchr(0, text.as_bytes()).unwrap_or(text.len());
                text.replace_range(at..(at + PATH_MARK.len()).min(text.len()), "");
                (text, at)
            }
        };
        write_named(out, &text, at, p)?;
        let mut frames = lock();
        if frames.len() >= FRAMES_KEPT {
            frames.clear();
        }
        frames.insert(frame, (text, at));
        return Ok(());
    }
    let files: Vec<(String, &ariadne::Source<String>)> = files
        .iter()
        .zip(&shown)
        .map(|((p, _, _), s)| (p.clone(), &s.source))
        .collect();
    let text = ariadne_frame(&frame, files)?;
    out.write_all(text.as_bytes())
}

/// Writes a frame drawn with its file's path left out at byte `at`, with `path` there.
fn write_named(out: &mut dyn Write, text: &str, at: usize, path: &str) -> io::Result<()> {
    out.write_all(&text.as_bytes()[..at])?;
    out.write_all(path.as_bytes())?;
    out.write_all(&text.as_bytes()[at..])
}

/// Everything ariadne is given to draw a frame but the files' paths, made from a diagnostic by
/// [`render_diag_with`]: the frame is a function of it.
#[derive(PartialEq, Eq, Hash)]
struct Frame {
    color: bool,
    severity: Severity,
    code: String,
    /// The message, help and notes as [`fitted`] to the width.
    message: String,
    /// Each label's file (its place in the files drawn), range in what is shown of that file,
    /// message and order; the primary first.
    labels: Vec<(usize, std::ops::Range<usize>, String, i32)>,
    help: Option<String>,
    notes: Vec<String>,
    /// For a frame drawn from [`Shown::lines`], all that is shown of its one file: the text,
    /// the header's line offset and the margin's line numbers.
    lines: Option<(String, usize, Vec<usize>)>,
}

/// The path a frame drawn from [`Shown::lines`] is drawn with and that [`write_named`] replaces:
/// a NUL, which nothing else in a frame holds (a file's control characters are drawn as their
/// pictures, a message's and a path's are escaped by `safe`), and which ariadne writes as it is
/// in the header's `╭─[ path:line:col ]` and nowhere else.
const PATH_MARK: &str = "\0";

/// Most frames [`FRAMES`] keeps (about 2 KiB each) before it starts over.
const FRAMES_KEPT: usize = 2048;

/// The frames drawn from [`Shown::lines`] lately, path left out, by what they were drawn from,
/// shared by the threads drawing (a fleet's are started anew for each window of hosts). The
/// hosts of a fleet are judged by the same rules and mostly set the same values at the same
/// lines, so most of a fleet's findings draw a frame drawn before for another host (14,568 of
/// the 24,968 of the 10,000 generated dumps); drawing one with ariadne costs about 60 K
/// instructions, copying it out a few hundred. ariadne's frame depends on nothing but what
/// [`Frame`] holds and the path, which it only prints.
static FRAMES: OnceLock<std::sync::Mutex<foldhash::HashMap<Frame, (String, usize)>>> =
    OnceLock::new();

/// The frame ariadne draws of `frame` in `files` (path and what is shown of the file), its
/// line numbers put right when it is drawn from [`Shown::lines`], and trailing blanks trimmed.
fn ariadne_frame(
    frame: &Frame,
    files: Vec<(String, &ariadne::Source<String>)>,
) -> io::Result<String> {
    let kind = match frame.severity {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
        Severity::Info => ReportKind::Advice,
    };
    let config = Config::default()
        .with_index_type(IndexType::Byte)
        .with_color(frame.color);
    let main_color = match frame.severity {
        Severity::Error => Color::Red,
        Severity::Warning => Color::Yellow,
        Severity::Info => Color::Cyan,
    };
    let (primary_file, primary_range, _, _) = &frame.labels[0];
    let mut b = ariadne::Report::build(
        kind,
        (files[*primary_file].0.clone(), primary_range.clone()),
    )
    .with_config(config)
    .with_code(&frame.code)
    .with_message(&frame.message);
    for (i, (file, r, message, order)) in frame.labels.iter().enumerate() {
        b = b.with_label(
            Label::new((files[*file].0.clone(), r.clone()))
                .with_message(message)
                .with_color(if i == 0 { main_color } else { Color::Blue })
                .with_order(*order),
        );
    }
    if let Some(h) = &frame.help {
        b = b.with_help(h);
    }
    for n in &frame.notes {
        b = b.with_note(n);
    }
    // Sized for the usual frame (about 1 KiB): ariadne writes it in hundreds of small pieces.
    let mut buf = Vec::with_capacity(2048);
    b.finish().write(DiagSources { files }, &mut buf)?;
    // The frame is UTF-8 (ariadne writes `str`s): checked with `from_utf8`, which walks valid
    // text several times faster than `from_utf8_lossy`, the fallback.
    let mut text = match String::from_utf8(buf) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    if let Some((_, _, numbers)) = &frame.lines {
        text = renumber(&text, numbers);
    }
    Ok(trim_blanks(&text))
}

/// `text` with each line's trailing blanks cut (ariadne pads lines with them, which makes
/// snapshots and terminals noisy) and each line ended by a newline.
fn trim_blanks(text: &str) -> String {
    let mut trimmed = String::with_capacity(text.len());
    for line in text.lines() {
        trimmed.push_str(line.trim_end());
        trimmed.push('\n');
    }
    trimmed
}

/// Writes the report; `fail_on` is the run's `--fail-on` threshold (`None`: never), which the
/// last line weighs the findings against, as the exit code does.
pub fn write(
    out: &mut dyn Write,
    style: Style,
    sources: &SourceMap,
    r: &Report,
    fail_on: Option<Verdict>,
) -> io::Result<()> {
    behind_safe(out, style, |out| {
        write_report(out, style, sources, r, fail_on)
    })
}

fn write_report(
    out: &mut dyn Write,
    style: Style,
    sources: &SourceMap,
    r: &Report,
    fail_on: Option<Verdict>,
) -> io::Result<()> {
    let fleet = crate::report::Fleet::of(r);
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
                        safe::line(r.topology.as_deref().unwrap_or("(unnamed)"))
                    )
                )
            )?;
            configuration(out, r.config.as_deref())?;
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
                let via = r
                    .verdicts
                    .iter()
                    .any(|v| *v.node == *n.name && v.side == Some("via"));
                let line = if via {
                    format!(
                        "node {:<12} {:<14} kernel {}{}; a middlebox, judged on the links through it",
                        safe::line(&n.name),
                        safe::line(&n.role),
                        n.kernel,
                        origin
                    )
                } else if n.role == "nat" {
                    format!(
                        "node {:<12} {:<14} a middlebox without conntrack: no values judged",
                        safe::line(&n.name),
                        safe::line(&n.role)
                    )
                } else {
                    format!(
                        "node {:<12} {:<14} kernel {}{}{}",
                        safe::line(&n.name),
                        safe::line(&n.role),
                        n.kernel,
                        origin,
                        node_shape(n)
                    )
                };
                under(out, style, 2, 4, &line)?;
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
                let sides = ["client", "server", "via"].map(|side| {
                    let rows = by_side
                        .get(&(h.link.as_str(), side))
                        .map_or(&[][..], Vec::as_slice);
                    (side, rows)
                });
                let cols =
                    Columns::of(sides[..2].iter().flat_map(|(_, rows)| rows.iter().copied()));
                // A middlebox's keys are long: its table has its own columns, fitted to the rows
                // it shows (safe ones fold into one line unless asked for).
                let via_cols = Columns::of(sides[2].1.iter().copied().filter(|v| {
                    style.show_safe
                        || v.verdict != Verdict::Safe
                        || v.suppressed.is_some()
                        || v.level.is_some()
                }));
                for (side, rows) in sides {
                    let cols = if side == "via" { via_cols } else { cols };
                    // The middleboxes on the way, each with its own rows, in path order.
                    let mut by_node: Vec<(&str, Vec<&VerdictEntry>)> = Vec::new();
                    for v in rows {
                        match by_node.iter_mut().find(|(n, _)| *n == &*v.node) {
                            Some((_, r)) => r.push(v),
                            None => by_node.push((&*v.node, vec![v])),
                        }
                    }
                    for (node, rows) in by_node {
                        let what = if side == "via" {
                            "a middlebox on the way; keys under net.netfilter.nf_conntrack_"
                                .to_string()
                        } else {
                            format!("{side} side")
                        };
                        writeln!(out, "  {} ({what})", safe::line(node))?;
                        table(out, style, cols, &rows)?;
                    }
                }
                writeln!(out)?;
            }
            let unlinked: Vec<&VerdictEntry> =
                r.verdicts.iter().filter(|v| v.link.is_none()).collect();
            if !unlinked.is_empty() {
                writeln!(out, "{}", paint(style, "1", "nodes on no link"))?;
                let cols = Columns::of(unlinked.iter().copied());
                let mut by_node: Vec<(&str, Vec<&VerdictEntry>)> = Vec::new();
                for v in unlinked {
                    match by_node.iter_mut().find(|(n, _)| *n == &*v.node) {
                        Some((_, rows)) => rows.push(v),
                        None => by_node.push((&*v.node, vec![v])),
                    }
                }
                for (node, rows) in by_node {
                    writeln!(out, "  {}", safe::line(node))?;
                    table(out, style, cols, &rows)?;
                }
                writeln!(out)?;
            }
        }
        Mode::Files => {
            configuration(out, r.config.as_deref())?;
            let totals = Totals::of(r, fail_on);
            // `--summary` over many hosts: the fleet summary, worst hosts at the top, and the
            // last lines only.
            if let (Some(fleet), true) = (&fleet, style.summary_only) {
                super::fleet::write_human(out, style, fleet)?;
                summary(out, style, &totals, fail_on)?;
                return unread_and_suppressed(out, style, &totals);
            }
            // Many hosts: the summary comes first, worst hosts at the top, then each host's
            // table and findings.
            if let Some(fleet) = &fleet {
                super::fleet::write_human(out, style, fleet)?;
            }
            write_nodes(out, style, sources, r)?;
            summary(out, style, &totals, fail_on)?;
            return unread_and_suppressed(out, style, &totals);
        }
        Mode::Topology => {}
    }
    draw_diagnostics(out, style, sources, &r.diagnostics)?;
    let errors = r.diagnostics_of(Severity::Error);
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
        let totals = Totals::of(r, fail_on);
        summary(out, style, &totals, fail_on)?;
        unread_and_suppressed(out, style, &totals)?;
    }
    Ok(())
}

/// Each node of a report over sysctl files and dumps ([`write_node`]) in the report's order,
/// then the findings that belong to none of them; whether it ended with a finding (a blank
/// line then parts it from a next node or the fleet summary).
pub(crate) fn write_nodes(
    out: &mut dyn Write,
    style: Style,
    sources: &SourceMap,
    r: &Report,
) -> io::Result<bool> {
    // Rows and findings grouped by node once: filtering every verdict for every host
    // was quadratic in a fleet run.
    let mut by_node: HashMap<&str, (Vec<&VerdictEntry>, Vec<&Diagnostic>)> = HashMap::new();
    for v in &r.verdicts {
        by_node.entry(&*v.node).or_default().0.push(v);
    }
    // A finding belongs to the node it names, else to the node whose file it is in (the
    // suppression directives' own findings name none); one node takes them all. Each node's
    // findings keep the report's order, the order they have in a report of that node alone.
    let names: std::collections::HashSet<&str> = r.nodes.iter().map(|n| n.name.as_str()).collect();
    let mut by_path: HashMap<&str, &str> = HashMap::new();
    for n in &r.nodes {
        for p in &n.sources {
            by_path.entry(p.as_str()).or_insert(n.name.as_str());
        }
    }
    let only = match r.nodes.as_slice() {
        [n] => Some(n.name.as_str()),
        _ => None,
    };
    let mut elsewhere = Vec::new();
    for d in &r.diagnostics {
        let node = only
            .or_else(|| d.node.as_deref().filter(|n| names.contains(n)))
            .or_else(|| {
                let l = d.primary.as_ref()?;
                by_path.get(sources.get(l.span.file).path.as_str()).copied()
            });
        match node {
            Some(n) => by_node.entry(n).or_default().1.push(d),
            None => elsewhere.push(d),
        }
    }
    let cache = source_cache(sources);
    // A blank line between a node's last finding and what follows it.
    let mut gap = false;
    for n in &r.nodes {
        // Two nodes of one name (a dump named twice) show the same rows; their findings once.
        let (rows, diags) = match by_node.get_mut(n.name.as_str()) {
            Some((rows, diags)) => (rows.as_slice(), std::mem::take(diags)),
            None => (&[][..], Vec::new()),
        };
        if gap {
            writeln!(out)?;
        }
        write_node(out, style, sources, &cache, n, rows, &diags)?;
        gap = !diags.is_empty();
    }
    draw_with(out, style, sources, &cache, &elsewhere)?;
    Ok(gap || !elsewhere.is_empty())
}

/// One node of a report over sysctl files and dumps: its name and kernel, its table, then its
/// findings. A fleet run writes each host this way as soon as it is judged.
fn write_node(
    out: &mut dyn Write,
    style: Style,
    sources: &SourceMap,
    cache: &SourceCache,
    n: &crate::report::NodeSummary,
    rows: &[&VerdictEntry],
    diags: &[&Diagnostic],
) -> io::Result<()> {
    let origin = match n.kernel_origin {
        crate::config::KernelOrigin::Assumed => " (assumed; pass --kernel to judge for another)",
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
            &format!("{}: kernel {}{}", safe::line(&n.name), n.kernel, origin)
        )
    )?;
    table(out, style, Columns::of(rows.iter().copied()), rows)?;
    writeln!(out)?;
    draw_with(out, style, sources, cache, diags)
}

/// The lines after the summary: the paths that could not be read (exit code 2 says why) and
/// what suppressions hid.
pub(crate) fn unread_and_suppressed(
    out: &mut dyn Write,
    style: Style,
    t: &Totals,
) -> io::Result<()> {
    // The exit code is 2 when a path could not be read; the last line says why.
    if t.unread > 0 {
        let n = t.unread;
        writeln!(
            out,
            "{}",
            paint(
                style,
                "1;31",
                &format!(
                    "twlint: {n} path{} could not be read (listed above); the run is incomplete",
                    if n == 1 { "" } else { "s" }
                )
            )
        )?;
    }
    let hidden = t.suppressed_verdicts;
    if hidden > 0 || t.suppressed_diagnostics > 0 {
        writeln!(
            out,
            "suppressed: {hidden} verdict{}, {} diagnostic{} (--no-inline-ignores shows them)",
            if hidden == 1 { "" } else { "s" },
            t.suppressed_diagnostics,
            if t.suppressed_diagnostics == 1 {
                ""
            } else {
                "s"
            }
        )?;
    }
    Ok(())
}

/// The `.twlint.yaml` the run used, named in the header (nothing when none was read).
pub(crate) fn configuration(out: &mut dyn Write, config: Option<&str>) -> io::Result<()> {
    match config {
        Some(c) => writeln!(out, "  configuration {}", safe::line(c)),
        None => Ok(()),
    }
}

/// The last lines: what the rules said about the values (verdicts), then the findings by
/// severity and whether they fail the run (`t.fails`, weighed against `fail_on`), in the words
/// of the exit code.
pub(crate) fn summary(
    out: &mut dyn Write,
    style: Style,
    t: &Totals,
    fail_on: Option<Verdict>,
) -> io::Result<()> {
    let s = |n: usize| if n == 1 { "" } else { "s" };
    let unjudged = match t.not_judged {
        0 => String::new(),
        n => format!(", {n} not judged"),
    };
    writeln!(
        out,
        "verdicts: {} dangerous, {} pointless, {} safe{unjudged}",
        t.dangerous, t.pointless, t.safe,
    )?;
    let (errors, warnings, notes) = (t.errors, t.warnings, t.notes);
    let mut findings = format!(
        "{errors} error{}, {warnings} warning{}",
        s(errors),
        s(warnings)
    );
    if notes > 0 {
        findings.push_str(&format!(", {notes} note{}", s(notes)));
    }
    let threshold = match fail_on {
        Some(Verdict::Dangerous) => "--fail-on dangerous: errors fail",
        Some(Verdict::Pointless) => "--fail-on pointless: errors and warnings fail",
        _ => "--fail-on never",
    };
    let line = if t.fails {
        paint(
            style,
            "1;31",
            &format!("twlint: failed: {findings} ({threshold})"),
        )
    } else {
        format!("twlint: passed: {findings} ({threshold})")
    };
    writeln!(out, "{line}")
}

/// Renders diagnostics alone (rule-file errors, before any report exists).
pub fn write_diagnostics(
    out: &mut dyn Write,
    style: Style,
    sources: &SourceMap,
    diags: &[Diagnostic],
) -> io::Result<()> {
    behind_safe(out, style, |out| {
        draw_diagnostics(out, style, sources, diags)
    })
}

/// Runs `render` behind a `safe::Writer` when the report has no colour, as a last line of
/// defence for any field that came from an input. In colour the escape sequences are twlint's
/// own and cannot go through it: there the fields themselves are escaped (`safe::text`,
/// `safe::line`, and the source lines drawn as `Shown`).
pub(crate) fn behind_safe<T>(
    out: &mut dyn Write,
    style: Style,
    render: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> io::Result<T> {
    if style.color {
        render(out)
    } else {
        safe::escaped(out, safe::Form::Text, render)
    }
}

fn draw_diagnostics<D: std::borrow::Borrow<Diagnostic> + Sync>(
    out: &mut dyn Write,
    style: Style,
    sources: &SourceMap,
    diags: &[D],
) -> io::Result<()> {
    draw_with(out, style, sources, &source_cache(sources), diags)
}

/// [`draw_diagnostics`] with a source cache the caller made once for the report.
fn draw_with<D: std::borrow::Borrow<Diagnostic> + Sync>(
    out: &mut dyn Write,
    style: Style,
    sources: &SourceMap,
    cache: &SourceCache,
    diags: &[D],
) -> io::Result<()> {
    // Drawing a diagnostic with its source lines is the costly part of a human report (a fleet
    // run has hundreds): batches are drawn on all cores, sharing one source cache, and written
    // in order.
    const BATCH: usize = 32;
    let batches: Vec<&[D]> = diags.chunks(BATCH).collect();
    let drawn = crate::pool::par_map(&batches, |batch| {
        let mut buf = Vec::new();
        for d in *batch {
            render_diag(&mut buf, style, sources, cache, d.borrow())?;
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

    /// Wrapping never cuts inside a character, at any width: a line ends before a character of
    /// several bytes as well as before a space (found by fuzzing: a message quoting a file's
    /// replacement characters).
    #[test]
    fn wrap_keeps_every_word_and_cuts_only_between_characters() {
        let texts = [
            "byte-order mark before `net.ipv4.tcp_fin_timeo\u{fffd}\u{fffd}\u{fffd}\u{fffd}`",
            "unknown field `n\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}`, expected one of",
            "é é é é é é é é é é é é é é é é é é é é é é é é é é é é é é é é é",
            "日本語のテキスト 日本語のテキスト 日本語のテキスト 日本語のテキスト 日本語",
        ];
        for text in texts {
            let long = text.repeat(3);
            for first in 0..60 {
                for width in [0, 1, 20, 21, 33, 80] {
                    let lines = wrap(&long, first, width);
                    let words: Vec<&str> = long.split_whitespace().collect();
                    let got: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
                    assert_eq!(got, words, "{long:?} at {first}/{width}");
                }
            }
        }
    }
    /// Counting an ASCII text's characters as its bytes wraps it as decoding them does, at
    /// every width, whatever its spaces (none, runs, at the ends, a word longer than a line).
    #[test]
    fn wrapping_ascii_by_bytes_wraps_as_by_characters() {
        let texts = [
            "tcp_rfc1337 = 25 makes TIME_WAIT ignore a reset and re-arm its full 60 s instead of ending; the network maintainers report real applications broken by distributions that set it",
            "  leading and trailing  spaces, and  runs   of them   ",
            "averyveryverylongwordwithoutanyspaceatallthatgoesonandonpastanywidth then short",
            "",
            " ",
            "x",
        ];
        for text in texts {
            for first in 0..70 {
                for width in [0, 1, 19, 20, 21, 33, 80, 200] {
                    assert_eq!(
                        wrap_counting(text, first, width, true),
                        wrap_counting(text, first, width, false),
                        "{text:?} at {first}/{width}"
                    );
                }
            }
        }
    }

    /// A value's width as the table measures it is the number of characters of the value as
    /// the table shows it: empty, unknown, defaults, escaped control characters, non-ASCII.
    #[test]
    fn a_shown_values_width_is_the_characters_it_shows() {
        use crate::config::SourceKindOut;
        let values = [
            None,
            Some(""),
            Some("1"),
            Some("4096\t87380\t6291456"),
            Some("a\x1bb\r\n"),
            Some("é — ─ \u{9b} \u{202e}"),
        ];
        let sources = [
            SourceKindOut::Default,
            SourceKindOut::Inline,
            SourceKindOut::Live,
            SourceKindOut::Read(crate::inputs::SourceKind::Dump),
        ];
        for value in values {
            for source in sources {
                let v = VerdictEntry {
                    link: None,
                    node: "n".into(),
                    side: None,
                    key: "net.ipv4.tcp_tw_reuse",
                    value: value.map(str::to_string),
                    source,
                    span: None,
                    verdict: Verdict::Safe,
                    rule: None,
                    rule_name: None,
                    reason: "r".into(),
                    help: None,
                    suppressed: None,
                    level: None,
                    fix: Vec::new(),
                    unseen: false,
                };
                assert_eq!(
                    shown_value_width(&v),
                    shown_value(&v).chars().count(),
                    "{value:?} {source:?}"
                );
            }
        }
    }

    use crate::source::Span;

    fn drawn(sources: &SourceMap, d: &Diagnostic, windows: bool) -> String {
        drawn_in(sources, d, windows, false)
    }

    fn drawn_in(sources: &SourceMap, d: &Diagnostic, windows: bool, color: bool) -> String {
        let mut out = Vec::new();
        let cache = source_cache(sources);
        let style = Style {
            color,
            ..Style::plain()
        };
        render_diag_with(&mut out, style, sources, &cache, d, windows).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// A finding whose labels are lines apart is drawn from those lines alone (`Shown::lines`),
    /// numbered as in the file and with the margin the file's numbers need, in colour or not:
    /// the very frame the whole file gives.
    #[test]
    fn labels_far_apart_are_drawn_from_their_lines_as_from_the_whole_file() {
        let text: String = (1..=12_000)
            .map(|i| format!("net.key{i} = {i}\n"))
            .collect();
        let mut sources = SourceMap::new();
        let id = sources.add("long.conf", text.clone());
        let at = |line: usize| {
            let needle = format!("net.key{line} =");
            let o = if line == 1 {
                0
            } else {
                text.find(&format!("\n{needle}")).unwrap() + 1
            };
            Span::new(id, o, o + needle.len() - 2)
        };
        let cases: &[(usize, &[usize])] = &[
            (3, &[11_500]),
            (11_500, &[3]),
            (9, &[10, 99, 100, 12_000]),
            (950, &[951, 9_999, 10_000]),
            (1, &[2, 3]),
            (42, &[]),
            (8, &[8, 9_000]),
        ];
        for (primary, others) in cases {
            let mut d = Diagnostic::warning("TW006", "set again")
                .at(at(*primary), "this one")
                .with_help("one help")
                .with_note("a note\nover two lines");
            for o in *others {
                d = d.with_secondary(at(*o), "and this one");
            }
            for color in [false, true] {
                let frame = drawn_in(&sources, &d, true, color);
                assert_eq!(
                    frame,
                    drawn_in(&sources, &d, false, color),
                    "{primary} {others:?}"
                );
            }
            let frame = drawn(&sources, &d, true);
            assert!(frame.contains(&format!("long.conf:{primary}:1")), "{frame}");
            assert!(
                frame.contains(&format!("{primary} │ net.key{primary} =")),
                "{frame}"
            );
        }
    }

    /// Drawing only the labelled lines of a file (`Shown::window`) must give the very frame drawing the
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
                    if start % 5 == 0 {
                        assert_eq!(
                            drawn_in(&sources, &d, true, true),
                            drawn_in(&sources, &d, false, true),
                            "file {id:?}, {start}..{end}, in colour"
                        );
                    }
                    checked += 1;
                }
                if start % 7 == 0 {
                    let other = Span::new(*id, len / 3, len / 3 + 1);
                    let d = Diagnostic::error("TW002", "a finding")
                        .at(Span::new(*id, start, start + 1), "here")
                        .with_secondary(other, "and there");
                    assert_eq!(drawn(&sources, &d, true), drawn(&sources, &d, false));
                    let d = d.with_secondary(Span::new(ids[0], 5, 9), "in another file");
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

    /// A frame drawn from its lines is kept by what it is drawn from, without its path
    /// (`FRAMES`): drawn again, for the same file or for another of other path and length,
    /// in colour or not, it is the very frame ariadne draws from the whole file with that path;
    /// and a frame that differs in anything but the path (a value, a line, the colour, the
    /// width) is not taken for another.
    #[test]
    fn a_kept_frame_is_the_frame_ariadne_draws_for_each_path() {
        let text = |value: &str| -> String {
            (1..=40)
                .map(|i| match i {
                    7 => "net.ipv4.tcp_timestamps = 0\n".to_string(),
                    30 => format!("net.ipv4.tcp_rfc1337 = {value}\n"),
                    i => format!("net.k{i} = {i}\n"),
                })
                .collect()
        };
        let paths = [
            "a.conf",
            "/a/much/longer/path/to/host-00042.txt",
            "odd\0path\x1b[31m\u{202e}.txt",
            "é/日本.txt",
        ];
        let mut sources = SourceMap::new();
        let mut ids = Vec::new();
        for p in paths {
            for value in ["1", "25", "1"] {
                ids.push(sources.add(p, text(value)));
            }
        }
        let mut checked = 0;
        for round in 0..2 {
            for &id in &ids {
                let t = sources.get(id).text.clone();
                let v = t.find("rfc1337 = ").unwrap() + "rfc1337 = ".len();
                let end = v + t[v..].find('\n').unwrap();
                let ts = t.find("= 0").unwrap() + 2;
                let d = Diagnostic::error("TW198", format!("tcp_rfc1337 = {} re-arms", &t[v..end]))
                    .at(Span::new(id, v, end), "dangerous here")
                    .with_secondary(Span::new(id, ts, ts + 1), "and here")
                    .with_help("remove the line")
                    .with_note("a note");
                for color in [false, true] {
                    for width in [100, 60] {
                        let style = Style {
                            color,
                            width,
                            ..Style::plain()
                        };
                        let draw = |windows: bool| {
                            let mut out = Vec::new();
                            let cache = source_cache(&sources);
                            render_diag_with(&mut out, style, &sources, &cache, &d, windows)
                                .unwrap();
                            String::from_utf8(out).unwrap()
                        };
                        let kept = draw(true);
                        assert_eq!(kept, draw(false), "{id:?} round {round} {color} {width}");
                        assert!(!kept.contains('\0'), "{kept}");
                        let shown = safe::line(&sources.get(id).path).into_owned();
                        assert!(kept.contains(&format!(" {shown}:30:")), "{kept}");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 2 * ids.len() * 4);
    }

    /// A related place above the finding's own in the same file is drawn in the same section
    /// of the frame, under the one header that names the finding's place.
    #[test]
    fn a_label_above_the_primary_in_the_same_file_shares_its_section() {
        let text = "net.ipv4.tcp_timestamps = 0\nnet.ipv4.tcp_tw_reuse = 1\n";
        let mut sources = SourceMap::new();
        let id = sources.add("same.conf", text.to_string());
        let reuse = text.find("1\n").unwrap();
        let ts = text.find('0').unwrap();
        let d = Diagnostic::warning("TW115", "reuse needs timestamps")
            .at(Span::new(id, reuse, reuse + 1), "pointless here")
            .with_secondary(Span::new(id, ts, ts + 1), "timestamps disabled here");
        for windows in [true, false] {
            let frame = drawn(&sources, &d, windows);
            assert_eq!(frame.matches("same.conf:").count(), 1, "{frame}");
            assert!(frame.contains("╭─[ same.conf:2:25 ]"), "{frame}");
            assert!(!frame.contains("├─["), "{frame}");
            let one = frame.find(" 1 │ net.ipv4.tcp_timestamps").unwrap();
            let two = frame.find(" 2 │ net.ipv4.tcp_tw_reuse").unwrap();
            assert!(one < two, "{frame}");
        }
    }

    #[test]
    fn a_window_holds_only_the_labelled_lines() {
        let text: String = (1..=100).map(|i| format!("k{i} = {i}\n")).collect();
        let at = text.find("k90 ").unwrap();
        let mut sources = SourceMap::new();
        let id = sources.add("k.conf", text.clone());
        let w = Shown::window(sources.get(id), at, at + 3);
        assert_eq!(w.parts[0].shown, 89);
        assert_eq!(w.source.text(), format!("{}k90 = 90\n", "\n".repeat(89)));
    }

    #[test]
    fn a_finding_far_down_a_file_is_drawn_from_the_whole_file_as_a_window_would_draw_it() {
        let text: String = (1..=3 * WINDOW_LINES_BEFORE)
            .map(|i| format!("k{i} = {i}\n"))
            .collect();
        let mut sources = SourceMap::new();
        let id = sources.add("long.conf", text.clone());
        let at = text.find("k5000 ").unwrap();
        let d = Diagnostic::error("TW002", "a finding").at(Span::new(id, at, at + 5), "here");
        let frame = drawn(&sources, &d, true);
        assert!(frame.contains(" 5000 │ k5000 = 5000"), "{frame}");
        assert_eq!(frame, drawn(&sources, &d, false));
    }

    #[test]
    fn control_characters_in_a_source_line_are_drawn_as_pictures_in_their_columns() {
        let text = "net.ipv4.tcp_\x1b]0;pwned\x07fin = 1\r\nk\u{9b}2J = \x7f2\nend = 3\n";
        let mut sources = SourceMap::new();
        let id = sources.add("esc.conf", text.to_string());
        for (needle, len) in [("fin", 3), ("2J", 2), ("2\n", 1), ("\x07", 1), ("end", 3)] {
            let at = text.find(needle).unwrap();
            let alone = Diagnostic::error("TW002", "a \x1b[2J finding")
                .at(Span::new(id, at, at + len), "here\x1b[0m");
            let d = alone
                .clone()
                .with_secondary(Span::new(id, 0, text.len()), "all")
                .with_help("help \u{9b}");
            for windows in [true, false] {
                let frame = drawn(&sources, &d, windows);
                assert!(
                    !frame.chars().any(|c| c.is_control() && c != '\n'),
                    "{frame:?}"
                );
                assert!(frame.contains("net.ipv4.tcp_␛]0;pwned␇fin = 1"), "{frame}");
                assert!(frame.contains("a \\x1b[2J finding"), "{frame}");
                assert!(frame.contains("here\\x1b[0m"), "{frame}");
                assert!(frame.contains("help \\u{9b}"), "{frame}");
                // The header's column is twlint's, counted in characters of the file.
                let frame = drawn(&sources, &alone, windows);
                let (line, column) = sources.get(id).line_col(at);
                if line == 2 {
                    assert!(frame.contains("k\u{fffd}2J = ␡2"), "{frame}");
                }
                assert!(
                    frame.contains(&format!("esc.conf:{line}:{column}")),
                    "{needle}: {frame}"
                );
                // The underline starts under the labelled character.
                let lines: Vec<&str> = frame.lines().collect();
                let row = lines
                    .iter()
                    .position(|l| l.starts_with(&format!(" {line} │ ")))
                    .unwrap();
                let under = lines[row + 1];
                let drawn_line = lines[row];
                let bar = drawn_line.find('│').unwrap();
                let col_of = |l: &str, byte: usize| l[..byte].chars().count();
                let first_mark = under
                    .char_indices()
                    .skip(col_of(under, bar) + 2)
                    .find(|(_, c)| *c != ' ')
                    .map(|(i, _)| col_of(under, i))
                    .unwrap();
                assert_eq!(
                    first_mark - col_of(drawn_line, bar) - 2,
                    column - 1,
                    "{frame}"
                );
            }
        }
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
