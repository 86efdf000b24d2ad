//! The shipped CEL rules as `build.rs` prepared them (`rules::prepare`), for a run that judges
//! ([`super::load::Need::Judging`]): each rule's fields as its file writes them, in static data,
//! turned into a [`Rule`] without a YAML tree, serde or thread. Reading the catalog's YAML (its
//! events replayed into a tree, then read by serde and validated) was a quarter of a host run's
//! instructions.
//!
//! It is a second way to the same rules, for the shipped files only: the words (scope, verdict,
//! severity, a label's owner, an evidence item's meaning) are read and the templates split by
//! the loader's own functions, the programs are deferred as the loader defers a shipped rule's,
//! and the test `every_prepared_rule_is_the_rule_its_yaml_loads` (`rules::load`) holds every prepared rule to
//! the one the loader makes of its YAML, field for field but the span. A file the build did
//! not prepare, or whose words do not read, is loaded from its YAML, which reports what is
//! wrong; a user's rules (`--rules`) always are.

use super::evidence::{note_parts, EvidenceSpec, Meaning};
use super::load::{severity_word, template_parts};
use super::program::Program;
use super::{CelRule, Check, Docs, LabelSpec, Rule, Scope, Template};
use crate::diag::Verdict;
use std::borrow::Cow;
use std::sync::Arc;

/// A shipped CEL rule file's fields as written (see `rules::raw::RuleFile`), but its docs.
#[derive(Debug)]
pub struct Prepared {
    pub id: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    pub scope: &'static str,
    pub verdict: &'static str,
    pub when: &'static str,
    pub message: &'static str,
    pub help: &'static str,
    /// The byte range of the rule's mapping as the loader reads it without its docs (for the
    /// tests: a prepared rule has no span, see `rule`).
    pub span: (usize, usize),
    pub severity: Option<&'static str>,
    pub keys: &'static [&'static str],
    pub labels: &'static [PreparedLabel],
    /// `fix: {set: {KEY: VALUE}}`, in file order.
    pub fix: &'static [(&'static str, &'static str)],
    pub evidence: &'static [PreparedEvidence],
}

/// A label as written (`rules::raw::LabelSpec`).
#[derive(Debug)]
pub struct PreparedLabel {
    pub on: &'static str,
    pub key: &'static str,
    pub message: &'static str,
    pub when: Option<&'static str>,
}

/// An evidence item as written (`rules::raw::Evidence`).
#[derive(Debug)]
pub struct PreparedEvidence {
    pub counter: &'static str,
    pub meaning: &'static str,
    pub when: &'static str,
    pub note: &'static str,
}

/// For each file of `load::EMBEDDED`, in the same order, the rule `build.rs` prepared from it
/// (`None` for a built-in check or a file not in the plain shape, see `rules::prepare`).
pub static PREPARED: &[Option<Prepared>] =
    include!(concat!(env!("OUT_DIR"), "/embedded_rule_prepared.rs"));

/// A program of the shipped catalog, compiled on first use as the loader defers them.
fn deferred(source: &'static str) -> Option<Arc<Program>> {
    Some(Arc::new(Program::deferred(source)))
}

/// The rule the loader makes of a shipped file read without its docs, from what the build
/// prepared of it (shown as `path`), but without a span: the file is not registered, as a
/// built-in check made from the index is not (a rule's span only places an error in its file,
/// and a run that judges reads no shipped file). `None` when a word does not read or a
/// template does not split, so that the file is loaded from its YAML and the problem reported.
pub(super) fn rule(p: &Prepared, path: &str) -> Option<Rule> {
    let scope = match p.scope {
        "node" => Scope::Node,
        "hop" => Scope::Hop,
        _ => return None,
    };
    let verdict = Verdict::parse(p.verdict)?;
    let level = match p.severity {
        Some(word) => Some(severity_word(word)?),
        None => None,
    };
    let template = |text: &'static str| {
        Some(Template {
            parts: template_parts(text, Cow::Borrowed, deferred).ok()?,
        })
    };
    let labels = p
        .labels
        .iter()
        .map(|l| {
            let on_peer = match (l.on, scope) {
                ("node", _) => false,
                ("peer", Scope::Hop) => true,
                _ => return None,
            };
            Some(LabelSpec {
                on_peer,
                key: l.key.to_string(),
                message: l.message.to_string(),
                when: match l.when {
                    Some(w) => Some(deferred(w)?),
                    None => None,
                },
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let fix = p
        .fix
        .iter()
        .map(|(key, value)| Some((key.to_string(), template(value)?)))
        .collect::<Option<Vec<_>>>()?;
    let evidence = p
        .evidence
        .iter()
        .map(|e| {
            let meaning = match e.meaning {
                "supports" => Meaning::Supports,
                "contradicts" => Meaning::Contradicts,
                _ => return None,
            };
            Some(EvidenceSpec {
                counter: e.counter.to_string(),
                meaning,
                when: deferred(e.when)?,
                note: Template {
                    parts: note_parts(e.note, Cow::Borrowed, deferred).ok()??,
                },
                when_source: e.when.to_string(),
                note_source: e.note.to_string(),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let cel = CelRule {
        scope,
        keys: p.keys.iter().map(|k| k.to_string()).collect(),
        verdict,
        when: deferred(p.when)?,
        when_source: p.when.to_string(),
        message: template(p.message)?,
        help: template(p.help)?,
        labels,
        fix,
        evidence,
        level,
    };
    Some(Rule {
        id: p.id.to_string(),
        name: p.name.to_string(),
        summary: p.summary.to_string(),
        check: Check::Cel(Box::new(cel)),
        docs: Docs::default(),
        path: path.to_string(),
        span: None,
    })
}
