//! The frame of a finding with one label on one line of printable ASCII, drawn by twlint itself,
//! byte for byte as ariadne 0.6 draws it (after [`super::renumber`] and the trimming of
//! trailing blanks that [`super::ariadne_frame`] applies to ariadne's frames).
//!
//! Why our own code here when the house prefers crates: ariadne lays out any set of labels over
//! any text (multi-line spans, crossing arrows, wide characters, tabs), and pays for that
//! generality on every frame: about 60 K instructions, most of a fleet's human report once the
//! repeated frames are kept (`FRAMES`). Nearly every frame of a fleet (94% of the 24,968 of the
//! 10,000 generated dumps) is this one shape: one label on one line of ASCII, a message, a help,
//! notes. Drawing that shape is a few hundred bytes written in order (about 7.6 K instructions a
//! frame, the trimming included). Every other shape (two
//! labels, a line with a tab, a control picture or any other non-ASCII character, a frame drawn
//! from a whole file or a window) is still drawn by ariadne, which stays the one layout engine;
//! [`draw`] answers `None` for them. The test `own_frames_are_the_frames_ariadne_draws` draws
//! generated frames of this shape both ways and compares them byte for byte, in colour and not.

#[cfg(doc)]
use super::trim_blanks;
use super::{digits, Frame};
use crate::diag::Severity;
use ariadne::{Color, Fmt};
use std::sync::OnceLock;

/// The colours ariadne's default configuration gives the parts of such a frame.
#[derive(Clone, Copy)]
enum Ink {
    Red,
    Yellow,
    Cyan,
    /// The header of an advice (`Fixed(147)`).
    Advice,
    /// The margin of the header, the line numbers and the last rule (`Fixed(246)`).
    Margin,
    /// The margin of the arrows, help and notes (`Fixed(240)`).
    Skipped,
    /// The characters of the line outside the label (`Fixed(249)`).
    Unimportant,
    /// `Help` and `Note` (`Fixed(115)`).
    Note,
}

impl Ink {
    const ALL: [Ink; 8] = [
        Ink::Red,
        Ink::Yellow,
        Ink::Cyan,
        Ink::Advice,
        Ink::Margin,
        Ink::Skipped,
        Ink::Unimportant,
        Ink::Note,
    ];

    fn color(self) -> Color {
        match self {
            Ink::Red => Color::Red,
            Ink::Yellow => Color::Yellow,
            Ink::Cyan => Color::Cyan,
            Ink::Advice => Color::Fixed(147),
            Ink::Margin => Color::Fixed(246),
            Ink::Skipped => Color::Fixed(240),
            Ink::Unimportant => Color::Fixed(249),
            Ink::Note => Color::Fixed(115),
        }
    }
}

/// What ariadne writes before and after a text painted in each [`Ink`], taken from ariadne's own
/// painting (its `Fmt`, which is what it paints with) rather than written out here.
fn escapes() -> &'static [(String, String); 8] {
    static ESCAPES: OnceLock<[(String, String); 8]> = OnceLock::new();
    ESCAPES.get_or_init(|| {
        Ink::ALL.map(|ink| {
            let painted = format!("{}", '\u{1}'.fg(ink.color()));
            let at = painted.find('\u{1}').unwrap_or(painted.len());
            let after = (at + 1).min(painted.len());
            (painted[..at].to_string(), painted[after..].to_string())
        })
    })
}

/// The text of a frame being drawn, painted when `color`, each line's trailing blanks cut as
/// it ends (as [`trim_blanks`] cuts them from ariadne's frames).
struct Pen {
    out: String,
    color: bool,
    /// Where the line being written starts in `out`.
    line_start: usize,
}

impl Pen {
    fn paint(&mut self, ink: Ink, text: &str) {
        if self.color {
            let (before, after) = &escapes()[ink as usize];
            self.out.push_str(before);
            self.out.push_str(text);
            self.out.push_str(after);
        } else {
            self.out.push_str(text);
        }
    }

    fn paint_char(&mut self, ink: Ink, c: char) {
        if self.color {
            self.paint(ink, c.encode_utf8(&mut [0; 4]));
        } else {
            self.out.push(c);
        }
    }

    fn blanks(&mut self, n: usize) {
        self.out.extend(std::iter::repeat_n(' ', n));
    }

    /// `n` in decimal, right-aligned in `width` places.
    fn number(&mut self, n: usize, width: usize) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = n;
        loop {
            at -= 1;
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let digits = &digits[at..];
        self.blanks(width.saturating_sub(digits.len()));
        // ASCII digits.
        self.out
            .push_str(std::str::from_utf8(digits).unwrap_or_default());
    }

    /// Ends the line being written: its trailing blanks cut, a newline.
    fn end_line(&mut self) {
        let kept = self.out[self.line_start..].trim_end().len();
        self.out.truncate(self.line_start + kept);
        self.out.push('\n');
        self.line_start = self.out.len();
    }

    /// `text` as ariadne writes it, raw: each of its line breaks ends a line here.
    fn text(&mut self, text: &str) {
        let mut rest = text;
        while let Some(nl) = memchr::memchr(b'\n', rest.as_bytes()) {
            self.out.push_str(&rest[..nl]);
            self.end_line();
            rest = &rest[nl + 1..];
        }
        self.out.push_str(rest);
    }

    /// The margin ariadne puts before an arrow, a help or a note line: a blank, blanks as wide
    /// as the line numbers and one more, a bar, a blank.
    fn skipped_margin(&mut self, width: usize) {
        self.out.push(' ');
        if self.color {
            let (before, after) = &escapes()[Ink::Skipped as usize];
            self.out.push_str(before);
            self.blanks(width + 1);
            self.out.push('│');
            self.out.push_str(after);
        } else {
            self.blanks(width + 1);
            self.out.push('│');
        }
        self.out.push(' ');
    }

    /// A help's or notes' lines after a blank margin line: the first after `prefix` (painted)
    /// and `: `, the others indented by `pad` (split as ariadne splits them, by `lines`).
    fn block(&mut self, width: usize, prefix: &str, pad: usize, text: &str) {
        self.skipped_margin(width);
        self.end_line();
        let mut lines = text.lines();
        if let Some(first) = lines.next() {
            self.skipped_margin(width);
            self.paint(Ink::Note, prefix);
            self.out.push_str(": ");
            self.out.push_str(first);
            self.end_line();
        }
        for line in lines {
            self.skipped_margin(width);
            self.blanks(pad);
            self.out.push_str(line);
            self.end_line();
        }
    }
}

/// The frame of `frame` as ariadne draws it with the path [`super::PATH_MARK`], its line numbers put
/// right and trailing blanks trimmed (what [`super::ariadne_frame`] makes of ariadne's), but
/// with the path left out, and where it goes; when it is drawn from one line of printable
/// ASCII with one label. `None` for every other frame.
pub(super) fn draw(frame: &Frame) -> Option<(String, usize)> {
    let (text, offset, numbers) = frame.lines.as_ref()?;
    let [(_, range, message, _)] = frame.labels.as_slice() else {
        return None;
    };
    let &[number] = numbers.as_slice() else {
        return None;
    };
    let line = text.strip_suffix('\n')?;
    // Printable ASCII: one character a byte, one column a character, and no character ariadne
    // takes for a line break, a tab or a blank of another width.
    if !line.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return None;
    }
    // Within the line and its newline, not empty (as `render_diag_with` makes every range).
    if range.start >= range.end || range.end > text.len() {
        return None;
    }
    let (kind, kind_ink, label_ink) = match frame.severity {
        Severity::Error => ("Error", Ink::Red, Ink::Red),
        Severity::Warning => ("Warning", Ink::Yellow, Ink::Yellow),
        Severity::Info => ("Advice", Ink::Advice, Ink::Cyan),
    };
    let width = digits(number);
    let notes: usize = frame.notes.iter().map(String::len).sum();
    let help = frame.help.as_ref().map_or(0, String::len);
    let mut pen = Pen {
        out: String::with_capacity(
            (256 + 4 * text.len() + frame.message.len() + message.len() + help + notes)
                * if frame.color { 4 } else { 1 },
        ),
        color: frame.color,
        line_start: 0,
    };
    // The header: `[CODE] Kind:` painted, then the message.
    if frame.color {
        let (before, after) = &escapes()[kind_ink as usize];
        pen.out.push_str(before);
        pen.out.push('[');
        pen.out.push_str(&frame.code);
        pen.out.push_str("] ");
        pen.out.push_str(kind);
        pen.out.push(':');
        pen.out.push_str(after);
    } else {
        pen.out.push('[');
        pen.out.push_str(&frame.code);
        pen.out.push_str("] ");
        pen.out.push_str(kind);
        pen.out.push(':');
    }
    pen.out.push(' ');
    pen.text(&frame.message);
    pen.end_line();
    // The place: `╭─[ path:line:column ]`, then an empty margin line.
    pen.blanks(width + 2);
    pen.paint_char(Ink::Margin, '╭');
    pen.paint_char(Ink::Margin, '─');
    pen.paint_char(Ink::Margin, '[');
    pen.out.push(' ');
    let path_at = pen.out.len();
    pen.out.push(':');
    pen.number(offset + 1, 0);
    pen.out.push(':');
    pen.number(range.start + 1, 0);
    pen.out.push(' ');
    pen.paint_char(Ink::Margin, ']');
    pen.end_line();
    pen.blanks(width + 2);
    pen.paint_char(Ink::Margin, '│');
    pen.end_line();
    // The line, each character painted as the label or as unimportant.
    pen.out.push(' ');
    if frame.color {
        let (before, after) = &escapes()[Ink::Margin as usize];
        pen.out.push_str(before);
        pen.number(number, width);
        pen.out.push_str(" │");
        pen.out.push_str(after);
        pen.out.push(' ');
        for (col, c) in line.trim_end().chars().enumerate() {
            let ink = if range.contains(&col) {
                label_ink
            } else {
                Ink::Unimportant
            };
            pen.paint_char(ink, c);
        }
    } else {
        pen.number(number, width);
        pen.out.push_str(" │ ");
        pen.out.push_str(line);
    }
    pen.end_line();
    // The underline with the arrow's start in the label's middle, then the arrow to the message.
    let middle = (range.start + range.end) / 2;
    pen.skipped_margin(width);
    pen.blanks(range.start);
    for col in range.clone() {
        pen.paint_char(label_ink, if col == middle { '┬' } else { '─' });
    }
    pen.end_line();
    pen.skipped_margin(width);
    pen.blanks(middle);
    pen.paint_char(label_ink, '╰');
    // To two places past the label, as ariadne draws it.
    for _ in middle + 1..range.end + 2 {
        pen.paint_char(label_ink, '─');
    }
    pen.out.push(' ');
    pen.text(message);
    pen.end_line();
    if let Some(help) = &frame.help {
        pen.block(width, "Help", 6, help);
    }
    let many = frame.notes.len() > 1;
    for (i, note) in frame.notes.iter().enumerate() {
        if many {
            let prefix = format!("Note {}", i + 1);
            pen.block(width, &prefix, prefix.len() + 2, note);
        } else {
            pen.block(width, "Note", 6, note);
        }
    }
    // The last rule.
    let mut rule = String::with_capacity(3 * (width + 3));
    rule.extend(std::iter::repeat_n('─', width + 2));
    rule.push('╯');
    pen.paint(Ink::Margin, &rule);
    pen.end_line();
    Some((pen.out, path_at))
}

#[cfg(test)]
mod tests {
    use super::super::{ariadne_frame, Frame, PATH_MARK};
    use super::*;

    /// [`draw`]'s frame with the path [`super::PATH_MARK`] put where it goes.
    fn own(frame: &Frame) -> Option<String> {
        let (mut text, at) = draw(frame)?;
        text.insert_str(at, PATH_MARK);
        Some(text)
    }

    /// Draws `frame` with ariadne as `render_diag_with` does for a frame drawn from its lines.
    fn by_ariadne(frame: &Frame) -> String {
        let (text, offset, _) = frame.lines.as_ref().unwrap();
        let source = ariadne::Source::from(text.clone()).with_display_line_offset(*offset);
        ariadne_frame(frame, vec![(PATH_MARK.to_string(), &source)]).unwrap()
    }

    fn frame(
        severity: Severity,
        color: bool,
        line: &str,
        range: std::ops::Range<usize>,
        number: usize,
        texts: (&str, &str, Option<&str>, &[&str]),
    ) -> Frame {
        let (message, label, help, notes) = texts;
        Frame {
            color,
            severity,
            code: "TW198".to_string(),
            message: message.to_string(),
            labels: vec![(0, range, label.to_string(), 0)],
            help: help.map(str::to_string),
            notes: notes.iter().map(|n| n.to_string()).collect(),
            lines: Some((format!("{line}\n"), number - 1, vec![number])),
        }
    }

    /// Every frame of the shape [`draw`] draws is the frame ariadne draws: each severity, in
    /// colour and not, labels of every length at every place on lines with and without
    /// trailing blanks (a label on the line's newline too), line numbers of one to six
    /// digits, messages, label texts, helps and notes of one and several lines, empty ones,
    /// non-ASCII ones, and none, one or several notes. Frames of other shapes are left to
    /// ariadne (`None`).
    #[test]
    fn own_frames_are_the_frames_ariadne_draws() {
        let lines = [
            "net.ipv4.tcp_rfc1337 = 1",
            "net.ipv4.ip_local_port_range = 60000    60100",
            "k=v",
            "x",
            "net.core.somaxconn = 4096   ",
            " -net.ipv4.tcp_tw_reuse=1",
        ];
        let texts: [(&str, &str, Option<&str>, &[&str]); 6] = [
            ("a message", "dangerous here", Some("remove the line"), &[]),
            (
                "a message\nwrapped onto a second line ",
                "",
                Some("a help\nof two lines"),
                &["one note"],
            ),
            (
                "",
                "x",
                None,
                &["a note\nof two lines", "another", "a third"],
            ),
            (
                "é — “quoted” 日本",
                "ends here\nand here",
                Some(""),
                &["", "n"],
            ),
            (
                "m",
                "l",
                Some("h  \n  indented"),
                &["n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "n10"],
            ),
            ("m\n   \n n ", "l ", None, &[]),
        ];
        let mut checked = 0;
        for severity in [Severity::Error, Severity::Warning, Severity::Info] {
            for color in [false, true] {
                for line in lines {
                    // Every label within the line and its newline.
                    for start in 0..=line.len() {
                        for end in start + 1..=line.len() + 1 {
                            let number = [1, 9, 10, 733, 12345, 999_999][(start + end) % 6];
                            let t = texts[(start * 7 + end) % texts.len()];
                            let f = frame(severity, color, line, start..end, number, t);
                            let own = own(&f).expect("the shape is drawn");
                            assert_eq!(
                                own,
                                by_ariadne(&f),
                                "{severity:?} {color} {line:?} {start}..{end}"
                            );
                            checked += 1;
                        }
                    }
                }
                // Each text with a label at the line's middle and one character long.
                for t in texts {
                    for (range, number) in [(23..24, 733), (0..3, 1), (10..24, 100)] {
                        let f = frame(severity, color, lines[0], range, number, t);
                        assert_eq!(own(&f).unwrap(), by_ariadne(&f));
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 3 * 2 * 300, "{checked}");
    }

    /// Frames of other shapes are not drawn here: a tab, a control picture, a non-ASCII
    /// character, two labels, two lines, a frame drawn from a whole file or a window.
    #[test]
    fn frames_of_other_shapes_are_left_to_ariadne() {
        let t: (&str, &str, Option<&str>, &[&str]) = ("m", "l", None, &[]);
        for line in ["a\tb = 1", "a = ␛1", "a = é", "a = 1\r"] {
            assert!(draw(&frame(Severity::Error, false, line, 0..1, 3, t)).is_none());
        }
        let base = frame(Severity::Error, false, "a = 1", 4..5, 3, t);
        assert!(draw(&base).is_some());
        let two_labels = Frame {
            labels: vec![(0, 4..5, "l".into(), 0), (0, 0..1, "m".into(), 1)],
            ..frame(Severity::Error, false, "a = 1", 4..5, 3, t)
        };
        assert!(draw(&two_labels).is_none());
        let two_lines = Frame {
            lines: Some(("a = 1\n\nb = 2\n".into(), 2, vec![3, 0, 9])),
            ..frame(Severity::Error, false, "a = 1", 4..5, 3, t)
        };
        assert!(draw(&two_lines).is_none());
        let whole = Frame {
            lines: None,
            ..frame(Severity::Error, false, "a = 1", 4..5, 3, t)
        };
        assert!(draw(&whole).is_none());
    }
}

/// The frames twlint draws for generated fleets, drawn through `render_diag_with` from the
/// labelled lines (the own frames, and ariadne for the other shapes) and from the whole file
/// (ariadne alone): the same text, finding for finding, in colour and not.
/// The benchmarks' generators, for the test that draws a generated fleet's frames (the judge's
/// tests load them too, as a module private to `judge`).
#[cfg(test)]
#[path = "../../../benches/gen/mod.rs"]
#[allow(clippy::duplicate_mod)]
mod gen;

#[cfg(test)]
mod fleet_frames {
    use super::super::{render_diag_with, source_cache};
    use super::gen;
    use crate::judge::{self, Request};
    use crate::render::Style;
    use crate::source::SourceMap;

    #[test]
    fn a_fleets_frames_are_the_frames_ariadne_draws_from_the_whole_file() {
        let mut sources = SourceMap::new();
        let (rules, _) = crate::rules::load::load_catalog(&[], &mut sources).unwrap();
        let mut drawn = 0;
        let mut own = 0;
        for n in 0..28 {
            let shown = format!("/fleet/host-{n:05}.txt");
            let set = crate::sysctl::load_text(&shown, &gen::dump(n, 1300), &mut sources);
            let report = judge::judge(
                Request::sets(vec![(shown, set)]),
                &judge::Options::default(),
                &rules,
                &mut sources,
            )
            .unwrap();
            for d in &report.diagnostics {
                for color in [false, true] {
                    let style = Style {
                        color,
                        ..Style::plain()
                    };
                    let draw = |windows: bool| {
                        let mut out = Vec::new();
                        let cache = source_cache(&sources);
                        render_diag_with(&mut out, style, &sources, &cache, d, windows).unwrap();
                        String::from_utf8(out).unwrap()
                    };
                    assert_eq!(draw(true), draw(false), "{} of host {n}", d.code);
                    drawn += 1;
                }
                own += usize::from(d.primary.is_some() && d.secondary.is_empty());
            }
        }
        // Most of them of the shape drawn here.
        assert!(
            drawn > 100 && 2 * 2 * own > drawn,
            "{drawn} drawn, {own} of one label"
        );
    }
}
