//! The rule catalog: rules as data, one YAML file per rule in `rules/`.
//!
//! A rule is either a CEL rule (a condition over the fact model that gives a verdict to one or
//! more keys) or a built-in check (implemented by the sysctl reader, the kernel-aware config
//! resolver or the topology loader) that still has its id and documentation here, so that
//! `twlint explain` and the meta-tests treat every code alike. The catalog in the repository is
//! embedded in the binary at build time; `--rules DIR` adds a user's rules.

mod celfacts;
mod celval;
pub mod eval;
pub mod evidence;
pub mod load;
#[cfg(test)]
mod prepare;
pub mod prepared;
pub mod program;
pub mod raw;
mod tree;

use crate::diag::{Severity, Verdict};
use crate::source::Span;

/// Where a CEL rule is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Once per node (also without a topology); sees `node`, never `peer` or `hop`.
    Node,
    /// Once per endpoint of every link; sees `node`, `peer` and `hop`. Skipped without topology.
    Hop,
}

/// A message with `{{ expression }}` holes, each a CEL expression over the same facts.
#[derive(Debug, Clone)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
}

impl Template {
    /// The template as a rule file writes it, `{{ expression }}` parts included (for
    /// `twlint explain`).
    pub fn source(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                TemplatePart::Text(t) => t.to_string(),
                TemplatePart::Expr(_, src) => format!("{{{{ {src} }}}}"),
            })
            .collect()
    }
}

/// A piece of a template: text, or a hole's program with its source. Shipped rules keep both
/// as the static text the build prepared (`rules::prepared`); rules read from YAML own theirs.
#[derive(Debug, Clone)]
pub enum TemplatePart {
    Text(std::borrow::Cow<'static, str>),
    Expr(
        std::sync::Arc<program::Program>,
        std::borrow::Cow<'static, str>,
    ),
}

/// A secondary label to draw when the rule fires: the place where a related key was set.
#[derive(Debug, Clone)]
pub struct LabelSpec {
    /// `node` or `peer`.
    pub on_peer: bool,
    pub key: String,
    pub message: String,
    /// Draw the label only when this condition holds (for example only when the value is 0).
    pub when: Option<std::sync::Arc<program::Program>>,
}

#[derive(Debug, Clone)]
pub struct CelRule {
    pub scope: Scope,
    pub keys: Vec<String>,
    pub verdict: Verdict,
    pub when: std::sync::Arc<program::Program>,
    pub when_source: String,
    pub message: Template,
    pub help: Template,
    pub labels: Vec<LabelSpec>,
    /// Values a drop-in sets to follow the advice (`fix: {set: ...}`), for `twlint advise`.
    /// Empty when the rule's advice is not a value on this node (delete a line, add addresses).
    pub fix: Vec<(String, Template)>,
    /// Counters that back or contradict the verdict in host mode (`evidence:`).
    pub evidence: Vec<evidence::EvidenceSpec>,
    /// `severity:`, the level of the rule's findings when it is not the verdict's (a dangerous
    /// verdict that is a warning: the rule cannot know whether the harm applies here).
    pub level: Option<crate::diag::Severity>,
}

#[derive(Debug, Clone)]
pub enum Check {
    Cel(Box<CelRule>),
    Builtin {
        severity: Severity,
        verdict: Option<Verdict>,
    },
}

/// A documentation example: the input a rule's test runs.
#[derive(Debug, Clone, Default)]
pub struct Example {
    /// A sysctl file, linted alone (file mode).
    pub sysctl: Option<String>,
    /// A topology (version 1) with inline values.
    pub topology: Option<String>,
    /// The kernel to judge a sysctl example for (`--kernel`).
    pub kernel: Option<String>,
    /// The input format of `sysctl` when it is not sysctl.conf (`--input-format`).
    pub format: Option<String>,
    /// The node the rule must fire on (topology examples).
    pub node: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Docs {
    pub what: String,
    pub why: String,
    pub example: Example,
    pub use_instead: Example,
    pub kernel: String,
    pub references: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub summary: String,
    pub check: Check,
    pub docs: Docs,
    /// The file it was loaded from, as displayed.
    pub path: String,
    pub span: Option<Span>,
}

/// What `twlint rules` lists of a rule: read from a loaded rule ([`Rule::header`]), or for a
/// shipped rule from the index the build made of its file (`load::shipped_headers`), so that
/// listing the catalog does not load it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub summary: &'a str,
    /// [`Rule::verdict`].
    pub verdict: Option<Verdict>,
    /// [`Rule::severity`].
    pub severity: Severity,
    /// A built-in check, not a CEL rule.
    pub builtin: bool,
}

impl Rule {
    /// What `twlint rules` lists of it.
    pub fn header(&self) -> Header<'_> {
        Header {
            id: &self.id,
            name: &self.name,
            summary: &self.summary,
            verdict: self.verdict(),
            severity: self.severity(),
            builtin: self.cel().is_none(),
        }
    }

    pub fn cel(&self) -> Option<&CelRule> {
        match &self.check {
            Check::Cel(c) => Some(c),
            Check::Builtin { .. } => None,
        }
    }

    /// The severity diagnostics of this rule get.
    pub fn severity(&self) -> Severity {
        match &self.check {
            Check::Cel(c) => c.verdict.severity(),
            Check::Builtin { severity, .. } => *severity,
        }
    }

    pub fn verdict(&self) -> Option<Verdict> {
        match &self.check {
            Check::Cel(c) => Some(c.verdict),
            Check::Builtin { verdict, .. } => *verdict,
        }
    }
}

/// The loaded catalog, sorted by id.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

impl RuleSet {
    pub fn get(&self, id_or_name: &str) -> Option<&Rule> {
        let wanted = id_or_name.trim();
        self.rules
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(wanted) || r.name == wanted)
    }
}
