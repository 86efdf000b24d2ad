//! Diagnostics: problems in the user's content, as data.
//!
//! A [`Diagnostic`] is what every stage (sysctl reader, topology loader, rule engine) produces
//! for something the user wrote: a syntax error, an unknown key, a dangerous value. It is plain
//! data with spans; the renderers in `render` turn it into ariadne frames, JSON and the rest.
//! Problems are collected, never returned early, so one run reports everything at once.

use crate::source::Span;
use serde::Serialize;
use std::fmt;

/// How bad a diagnostic is. `Error` maps to the `dangerous` level of `--fail-on`, `Warning` to
/// `pointless`; `Info` never fails a run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// twlint's judgement of a setting. Ordered from best to worst, so `max()` picks the worst.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Safe,
    Pointless,
    Dangerous,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::Pointless => "pointless",
            Verdict::Dangerous => "dangerous",
        }
    }

    /// The severity a diagnostic about a value with this verdict gets.
    pub fn severity(self) -> Severity {
        match self {
            Verdict::Safe => Severity::Info,
            Verdict::Pointless => Severity::Warning,
            Verdict::Dangerous => Severity::Error,
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "safe" => Some(Verdict::Safe),
            "pointless" => Some(Verdict::Pointless),
            "dangerous" => Some(Verdict::Dangerous),
            _ => None,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place in a file with a short message ("overridden here").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn new(span: Span, message: impl Into<String>) -> Label {
        Label {
            span,
            message: message.into(),
        }
    }
}

/// One problem in the user's content.
///
/// Messages follow one style, checked by a meta-test: they start with a lowercase letter and do
/// not end with a period. `help` says what to do instead, as a full sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule id (`TW001`); every built-in check has one too, documented in `rules/`.
    pub code: String,
    pub severity: Severity,
    /// Set when the diagnostic judges a value (the verdict of that value).
    pub verdict: Option<Verdict>,
    /// Node (topology mode) or linted set (file mode) the diagnostic is about.
    pub node: Option<String>,
    /// The sysctl key concerned, in dotted form.
    pub key: Option<String>,
    pub message: String,
    pub help: Option<String>,
    /// Where it is; `None` for problems with no place (a default value, a missing file argument).
    pub primary: Option<Label>,
    /// Related places: "overridden here", "peer disables timestamps here".
    pub secondary: Vec<Label>,
    /// Extra context lines (kernel behaviour, which tool does what).
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(code: impl Into<String>, severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic {
            code: code.into(),
            severity,
            verdict: None,
            node: None,
            key: None,
            message: message.into(),
            help: None,
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, message)
    }

    pub fn warning(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, message)
    }

    pub fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.primary = Some(Label::new(span, label));
        self
    }

    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push(Label::new(span, label));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    pub fn with_node(mut self, node: impl Into<String>) -> Self {
        self.node = Some(node.into());
        self
    }

    pub fn with_verdict(mut self, verdict: Verdict) -> Self {
        self.verdict = Some(verdict);
        self
    }
}

/// Most diagnostics of one rule kept per file. A generated file can repeat one mistake on
/// every line; past this many, more of the same tell the reader nothing and only cost memory
/// and output (a 100,000-line file would otherwise print 100,000 warnings). The judge keeps the
/// first this many of each rule in each file, in place order; a check that can find more than
/// this many in one file builds only those and counts the rest as a [`LeftOut`].
pub const MAX_PER_RULE_AND_FILE: usize = 200;

/// Diagnostics of one rule in one file that were counted but not built, because at least
/// [`MAX_PER_RULE_AND_FILE`] of that rule came before them in the file: the report would drop
/// them, and only their number shows ("N more ... are not shown").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeftOut {
    pub code: &'static str,
    pub file: crate::source::FileId,
    pub count: usize,
}

/// `text` cut to at most `max_chars` characters, with `…` in place of the rest. Messages quote
/// what the input says (a rule id, a word of a directive), and an input may say anything at any
/// length: a message must stay a line.
pub fn shorten(text: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => std::borrow::Cow::Borrowed(text),
        Some((cut, _)) => {
            let keep = text[..cut]
                .char_indices()
                .nth(max_chars.saturating_sub(1))
                .map_or(cut, |(i, _)| i);
            std::borrow::Cow::Owned(format!("{}…", &text[..keep]))
        }
    }
}

/// The closest candidate to `word` by edit distance, for "did you mean" hints.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // Two lower bounds of the distance let most candidates be skipped without computing it (same
    // answer, far less work on a file full of unknown keys, which made fuzzing crawl): the
    // difference in length, and the bag distance (characters one side has and the other lacks;
    // non-ASCII characters share one bucket, which only lowers the bound).
    let bucket = |c: char| (c as usize).min(128);
    let chars = word.chars().count();
    let mut counts = [0i32; 129];
    for c in word.chars() {
        counts[bucket(c)] += 1;
    }
    candidates
        .into_iter()
        .filter(|c| {
            let max = (c.len() / 4).clamp(1, 4);
            if chars.abs_diff(c.chars().count()) > max {
                return false;
            }
            let mut d = counts;
            for ch in c.chars() {
                d[bucket(ch)] -= 1;
            }
            let extra: i32 = d.iter().filter(|&&x| x > 0).sum();
            let missing: i32 = -d.iter().filter(|&&x| x < 0).sum::<i32>();
            extra.max(missing) as usize <= max
        })
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d > 0 && *d <= (c.len() / 4).clamp(1, 4))
        // Ties go to the first candidate in byte order, not in iteration order: the known keys
        // are a hash set, and a hint must not change from one run to the next.
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tie_is_broken_the_same_way_whatever_the_order_of_the_candidates() {
        let a = ["net.netfilter.nf_log.10", "net.netfilter.nf_log.1"];
        let b = ["net.netfilter.nf_log.1", "net.netfilter.nf_log.10"];
        let word = "net.netfilter.nf_log.0";
        assert_eq!(did_you_mean(word, a), did_you_mean(word, b));
        assert_eq!(did_you_mean(word, a), Some("net.netfilter.nf_log.1"));
    }

    #[test]
    fn the_lower_bounds_skip_nothing_the_distance_would_keep() {
        let naive = |word: &str, cands: &[&'static str]| {
            cands
                .iter()
                .map(|c| (strsim::damerau_levenshtein(word, c), *c))
                .filter(|(d, c)| *d > 0 && *d <= (c.len() / 4).clamp(1, 4))
                .min_by_key(|(d, _)| *d)
                .map(|(_, c)| c)
        };
        let cands = [
            "net.ipv4.tcp_tw_reuse",
            "net.ipv4.tcp_tw_recycle",
            "net.ipv4.tcp_timestamps",
            "net.ipv4.tcp_fin_timeout",
            "vm.swappiness",
            "kernel.pid_max",
            "net.core.somaxconn",
            "ab",
            "é.ü",
        ];
        for word in [
            "net.ipv4.tcp_tw_resue",
            "net.ipv4.tcp_tw_reuse",
            "net.ipv4.tcp_tw_recyle",
            "net.ipv4.tcp_timestamp",
            "net.ipv4.tcp_fin_timeoutt",
            "vm.swapiness",
            "kernel.pidmax",
            "net.core.somaxconm",
            "ba",
            "é.u",
            "e.ü",
            "net.ipv4.tcp_tw_reu\u{fffd}\u{fffd}\u{fffd}se",
            "",
            "x",
        ] {
            assert_eq!(did_you_mean(word, cands), naive(word, &cands), "{word:?}");
        }
    }

    #[test]
    fn suggestion_finds_near_misses_only() {
        let keys = ["net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_timestamps"];
        assert_eq!(
            did_you_mean("net.ipv4.tcp_tw_resue", keys),
            Some("net.ipv4.tcp_tw_reuse")
        );
        assert_eq!(did_you_mean("vm.swappiness", keys), None);
        assert_eq!(did_you_mean("net.ipv4.tcp_tw_reuse", keys), None);
    }

    #[test]
    fn a_long_text_is_cut_to_its_length_with_an_ellipsis() {
        assert_eq!(shorten("ab006", 5), "ab006");
        assert_eq!(shorten("ab0066", 5), "ab00…");
        assert_eq!(shorten("ééééé", 3), "éé…");
        assert_eq!(shorten("", 3), "");
        assert_eq!(shorten(&"x".repeat(24_000), 40).chars().count(), 40);
    }

    #[test]
    fn verdicts_order_from_safe_to_dangerous() {
        assert!(Verdict::Dangerous > Verdict::Pointless);
        assert!(Verdict::Pointless > Verdict::Safe);
    }
}
