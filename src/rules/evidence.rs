//! Counters as evidence, declared in the rule files (`evidence:`), so that a new rule brings its
//! own evidence in the same file and no Rust changes.
//!
//! Each item names a counter (a TcpExt counter of `/proc/net/netstat` or `time_wait`, the
//! TIME_WAIT count of `/proc/net/sockstat`, or a figure of the socket view such as
//! `close_wait`: `crate::counters::FIGURES`), whether it `supports` or `contradicts` the verdict,
//! a CEL condition over the reading, and a note. In host mode, when the rule gives a verdict on
//! the host's node, every item whose counter this kernel has and whose condition holds is
//! attached to that verdict.

use super::load::{err, locate, recode, scalar, Unknown};
use super::raw;
use super::{Template, TemplatePart};
use crate::counters::{CONNTRACK, FIGURES, TCPEXT, TIME_WAIT};
use crate::diag::{did_you_mean, Diagnostic};
use crate::source::Spanned;
use crate::yaml::de::Field;
use std::sync::Arc;

/// What an evidence condition and note see.
pub const VARIABLES: &[&str] = &["value", "delta", "interval"];
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    Supports,
    Contradicts,
}

impl Meaning {
    pub fn as_str(self) -> &'static str {
        match self {
            Meaning::Supports => "supports",
            Meaning::Contradicts => "contradicts",
        }
    }
}

#[derive(Debug, Clone)]
pub struct EvidenceSpec {
    pub counter: String,
    pub meaning: Meaning,
    pub when: Arc<super::program::Program>,
    pub note: Template,
    /// The condition and note as written, for `twlint explain`.
    pub when_source: String,
    pub note_source: String,
}

impl EvidenceSpec {
    /// One line for `twlint explain`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} when {}: {}",
            self.counter,
            self.meaning.as_str(),
            self.when_source,
            self.note_source
        )
    }
}

/// One reading as an evidence condition sees it.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    /// The total since boot (for `time_wait`: the sockets now).
    pub value: u64,
    /// The increase over `--interval`, 0 without one.
    pub delta: u64,
    /// The interval in seconds, 0 without one.
    pub interval: f64,
}

impl EvidenceSpec {
    /// The note when the condition holds on this reading.
    pub fn applies(&self, r: Reading) -> Result<Option<String>, String> {
        super::eval::with_root(|root| {
            let mut ctx = root.new_inner_scope();
            ctx.add_variable_from_value("value", r.value as i64);
            ctx.add_variable_from_value("delta", r.delta as i64);
            ctx.add_variable_from_value("interval", r.interval);
            if !super::eval::condition(&self.when, &ctx)? {
                return Ok(None);
            }
            super::eval::render(&self.note, &ctx).map(Some)
        })
    }
}

fn compile(
    expr: &Spanned<String>,
    text: &str,
    defer: bool,
    diags: &mut Vec<Diagnostic>,
) -> Option<Arc<super::program::Program>> {
    if defer {
        return Some(Arc::new(super::program::Program::deferred(
            expr.value.clone(),
        )));
    }
    match super::program::parse(&expr.value) {
        Ok(p) => {
            let mut bad: Vec<String> = p
                .references()
                .variables()
                .into_iter()
                .filter(|v| !VARIABLES.contains(v))
                .map(String::from)
                .collect();
            // The references are a hash set: sorted, so the errors come in the same order on
            // every run.
            bad.sort_unstable();
            for v in &bad {
                diags.push(
                    err(
                        expr.span,
                        format!("an evidence expression uses `{v}`, which evidence does not have"),
                        "in this expression",
                    )
                    .with_help(format!(
                        "evidence sees {}; see rules/README.md",
                        VARIABLES.join(", ")
                    )),
                );
            }
            bad.is_empty()
                .then(|| Arc::new(super::program::Program::compiled(expr.value.clone(), p)))
        }
        Err(super::program::ParseError::Syntax(errors)) => {
            for e in errors.errors {
                diags.push(err(
                    locate(expr, text, e.pos.0, e.pos.1),
                    format!("an evidence expression is not valid CEL: {}", e.msg),
                    "here",
                ));
            }
            None
        }
        Err(bound) => {
            diags.push(super::load::too_costly(
                expr,
                "an evidence expression",
                &bound,
            ));
            None
        }
    }
}

fn note(
    t: &Spanned<String>,
    text: &str,
    defer: bool,
    diags: &mut Vec<Diagnostic>,
) -> Option<Template> {
    let parts = note_parts(&t.value, super::load::owned, |src| {
        compile(&Spanned::new(src.to_string(), t.span), text, defer, diags)
    });
    match parts {
        Ok(parts) => parts.map(|parts| Template { parts }),
        Err(()) => {
            diags.push(err(
                t.span,
                "a `{{` in the note has no closing `}}`",
                "in this note",
            ));
            None
        }
    }
}

/// The parts of an evidence note: its text before and after each `{{ expression }}` hole (empty
/// ones too), and each hole (its source trimmed) made into a program by `hole`. `Ok(None)` when
/// `hole` gives none for one, `Err` when a `{{` has no closing `}}`. Rules read from YAML and
/// prepared ones (`rules::prepared`) split their notes here.
pub(super) fn note_parts<'t>(
    text: &'t str,
    keep: fn(&'t str) -> std::borrow::Cow<'static, str>,
    mut hole: impl FnMut(&'t str) -> Option<Arc<super::program::Program>>,
) -> Result<Option<Vec<TemplatePart>>, ()> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = super::load::doubled(rest, b'{') {
        parts.push(TemplatePart::Text(keep(&rest[..open])));
        let after = &rest[open + 2..];
        let close = super::load::doubled(after, b'}').ok_or(())?;
        let src = after[..close].trim();
        let Some(p) = hole(src) else {
            return Ok(None);
        };
        parts.push(TemplatePart::Expr(p, keep(src)));
        rest = &after[close + 2..];
    }
    parts.push(TemplatePart::Text(keep(rest)));
    Ok(Some(parts))
}

/// Reads a rule's `evidence:` list; problems are pushed as rule-file diagnostics. With `defer`
/// (the shipped catalog) the CEL is compiled on first use, see `rules::program`.
pub(super) fn parse(
    node: &Field<Vec<Field<raw::Evidence<'_>>>>,
    unknown: &mut Unknown,
    text: &str,
    defer: bool,
    diags: &mut Vec<Diagnostic>,
) -> Vec<EvidenceSpec> {
    let mut out = Vec::new();
    let mut local = Vec::new();
    let items = node
        .list("a list of evidence items", &mut local)
        .map_or(&[][..], |l| l.value);
    for item in items {
        let Some(found) = item.mapping(
            "an evidence item (counter, meaning, when, note)",
            &mut local,
        ) else {
            continue;
        };
        let (e, span) = (found.value, found.span);
        unknown.report(span, "an evidence item", diags);
        let (Some(counter), Some(meaning), Some(when_text), Some(note_text)) = (
            scalar(&e.counter, "text", diags),
            scalar(&e.meaning, "text", diags),
            scalar(&e.when, "text", diags),
            scalar(&e.note, "text", diags),
        ) else {
            diags.push(err(
                span,
                "an evidence item needs `counter`, `meaning`, `when` and `note`",
                "incomplete evidence",
            ));
            continue;
        };
        let known = TCPEXT
            .iter()
            .copied()
            .chain([TIME_WAIT])
            .chain(FIGURES.iter().copied())
            .chain(CONNTRACK.iter().copied());
        if !known.clone().any(|k| k == counter.value) {
            let mut d = err(
                counter.span,
                format!("twlint does not read a counter `{}`", counter.value),
                "unknown counter",
            );
            d = match did_you_mean(&counter.value, known) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!(
                    "counters: {}, {TIME_WAIT}, {}, {}",
                    TCPEXT.join(", "),
                    FIGURES.join(", "),
                    CONNTRACK.join(", ")
                )),
            };
            diags.push(d);
            continue;
        }
        let meaning = match meaning.value.as_str() {
            "supports" => Meaning::Supports,
            "contradicts" => Meaning::Contradicts,
            other => {
                diags.push(
                    err(meaning.span, format!("unknown meaning `{other}`"), "here")
                        .with_help("use `supports` or `contradicts`"),
                );
                continue;
            }
        };
        let (Some(when), Some(note)) = (
            compile(&when_text, text, defer, diags),
            note(&note_text, text, defer, diags),
        ) else {
            continue;
        };
        out.push(EvidenceSpec {
            counter: counter.value,
            meaning,
            when,
            note,
            when_source: when_text.value,
            note_source: note_text.value,
        });
    }
    recode(local, diags);
    out
}
