//! Loading and validating rule files.
//!
//! Each file is parsed with the spanned YAML reader and read into the raw types of
//! `rules::raw` (the format's one description, through `yaml::de`), then validated in full: unknown or missing
//! fields, an id or name of the wrong shape, a file name that does not match, a CEL condition that
//! does not compile or names variables the fact model lacks, keys twlint does not judge. Every
//! problem becomes a diagnostic pointing into the rule file, and a catalog with any error is not
//! used (the CLI exits 2), because a half-loaded catalog would give silently different verdicts.

use super::eval::VARIABLES;
use super::program::{ParseError, Program};
use super::raw::{self, RuleFile};
use super::{
    CelRule, Check, Docs, Example, LabelSpec, Rule, RuleSet, Scope, Template, TemplatePart,
};
use crate::diag::{did_you_mean, Diagnostic, Severity, Verdict};
use crate::source::{FileId, SourceMap, Span, Spanned};
use crate::yaml::de::{Field, UnknownField};
use crate::yaml::{self};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The catalog shipped in `rules/`, embedded at build time as (path, text) pairs.
pub static EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

/// The YAML parser's events for each file of [`EMBEDDED`], in the same order, recorded at build
/// time (`None` for a file the parser refused, which is then parsed, and refused, at run time).
/// Replaying them instead of parsing the text was two fifths of judging one dump.
pub static EMBEDDED_EVENTS: &[Option<&[u8]>] =
    include!(concat!(env!("OUT_DIR"), "/embedded_rule_events.rs"));

/// For each CEL rule of [`EMBEDDED`], in the same order, the parser's events without the
/// top-level `docs` entry (`None` for a built-in check, or a file the parser refused): what a
/// run that judges reads of the file ([`Need::Judging`]) when the build did not prepare it
/// (`rules::prepared`) or what it prepared does not read. The documentation is nearly two thirds
/// of a rule file and only SARIF and the documentation commands show it.
pub static EMBEDDED_JUDGING_EVENTS: &[Option<&[u8]>] =
    include!(concat!(env!("OUT_DIR"), "/embedded_rule_judging_events.rs"));

/// Code of every rule-file problem; rule files are not user content that verdicts are about, so
/// these share one code.
const RULE_FILE: &str = "rule-file";

/// Moves diagnostics from the shared YAML accessors into `diags` under the rule-file code.
pub(super) fn recode(from: Vec<Diagnostic>, diags: &mut Vec<Diagnostic>) {
    diags.extend(from.into_iter().map(|mut d| {
        d.code = RULE_FILE.into();
        d
    }));
}

pub(super) fn err(span: Span, message: impl Into<String>, label: impl Into<String>) -> Diagnostic {
    Diagnostic::new(RULE_FILE, Severity::Error, message).at(span, label)
}

/// The header of a shipped rule file as `build.rs` read it from the file's YAML: the plain
/// scalars of these top-level keys.
#[derive(Debug, Clone, Copy)]
pub struct Indexed {
    pub id: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    pub check: Option<&'static str>,
    pub verdict: Option<&'static str>,
    pub severity: Option<&'static str>,
}

/// The header of each file of [`EMBEDDED`], in the same order (`None` for a file without an
/// `id`, `name` and `summary`, which is then always loaded, and its problem reported): how a run
/// that names its rules finds their files without loading the others, and how `twlint rules`
/// lists the shipped catalog without loading it. `the_index_is_what_the_loader_reads` holds
/// every entry to the rule the loader makes of its file.
pub static EMBEDDED_INDEX: &[Option<Indexed>] =
    include!(concat!(env!("OUT_DIR"), "/embedded_rule_index.rs"));

impl Indexed {
    /// The `verdict:` word read as the loader reads it: `Some(None)` for none, `None` for a
    /// word that is no verdict.
    fn verdict(&self) -> Option<Option<Verdict>> {
        match self.verdict {
            Some(v) => Some(Some(Verdict::parse(v)?)),
            None => Some(None),
        }
    }
}

/// Which of the shipped rules a run loads.
#[derive(Debug, Clone, Copy)]
pub enum Need<'a> {
    /// All of them: a run that judges, or lists the catalog.
    All,
    /// Those named by these ids or names (as [`RuleSet::get`] finds them): `twlint explain`
    /// loads one rule file instead of a hundred.
    Named(&'a [&'a str]),
    /// All of them, for a run that judges and shows no rule's documentation (every report
    /// format but SARIF): the built-in checks, half the catalog, are made from the build's
    /// index (see [`indexed_check`]) instead of loaded from their files, whose documentation is
    /// nearly all of them, and the CEL rules are made from what the build prepared of them
    /// without their `docs` (`rules::prepared`: no YAML read, no file registered), their
    /// programs from the trees the build parsed (`rules::program`). Loading the catalog was
    /// seven tenths of linting one small file, and then a quarter of a host run of a topology.
    Judging,
}

/// Whether `want` names this index entry, as [`RuleSet::get`] matches a rule.
fn names(entry: &Indexed, want: &str) -> bool {
    let want = want.trim();
    entry.id.eq_ignore_ascii_case(want) || entry.name == want
}

/// Whether a shipped rule file has this id or name, by the index (no file is loaded).
pub fn is_shipped(id_or_name: &str) -> bool {
    EMBEDDED_INDEX
        .iter()
        .any(|e| e.as_ref().is_some_and(|e| names(e, id_or_name)))
}

/// The headers of the shipped rules in id order, from the index, as [`Rule::header`] gives them
/// for the loaded rules; `None` when an entry is missing or does not read (the catalog is then
/// loaded, and the loader says what is wrong).
pub fn shipped_headers() -> Option<Vec<super::Header<'static>>> {
    let mut out = EMBEDDED_INDEX
        .iter()
        .map(|e| {
            let e = e.as_ref()?;
            // As the loader reads them: any `check` makes a built-in check, whose severity is
            // its own; a CEL rule's is its verdict's.
            let builtin = e.check.is_some();
            let verdict = e.verdict()?;
            let severity = if builtin {
                severity_word(e.severity?)?
            } else {
                verdict?.severity()
            };
            Some(super::Header {
                id: e.id,
                name: e.name,
                summary: e.summary,
                verdict,
                severity,
                builtin,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    out.sort_by(|a, b| a.id.cmp(b.id));
    Some(out)
}

/// A rule file's `severity:` word.
pub(super) fn severity_word(s: &str) -> Option<Severity> {
    match s {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        _ => None,
    }
}

/// A shipped built-in check made from its index entry without loading its file: what a run
/// that judges needs of it (id, name, summary, severity, verdict, path), with its
/// documentation left empty and no span. `None` when the entry is not a built-in check or does
/// not read; the file is then loaded, and the loader says what is wrong. The unit test
/// `indexed_checks_are_the_loaded_ones` holds every such rule to the one the loader makes.
fn indexed_check(entry: &Indexed, path: &str) -> Option<Rule> {
    if entry.check != Some("builtin") {
        return None;
    }
    let verdict = entry.verdict()?;
    let severity = severity_word(entry.severity?)?;
    Some(Rule {
        id: entry.id.to_string(),
        name: entry.name.to_string(),
        summary: entry.summary.to_string(),
        check: Check::Builtin { severity, verdict },
        docs: Docs::default(),
        path: path.to_string(),
        span: None,
    })
}

/// Where a rule file comes from, and so how it is read (see [`load_rule_as`]).
#[derive(Debug, Clone, Copy)]
enum Origin {
    /// A user's file: parsed from its text, its CEL compiled at once.
    User,
    /// A shipped file, with the events recorded at build time if it has some.
    Shipped(Option<&'static [u8]>),
    /// A shipped CEL rule read from its events without the `docs` entry, for a run that shows
    /// no documentation: the rule comes with empty [`Docs`].
    ShippedUndocumented(&'static [u8]),
}

/// Loads the embedded catalog and any extra rule folders. Diagnostics are errors in rule files.
pub fn load_catalog(
    extra_dirs: &[&Path],
    sources: &mut SourceMap,
) -> crate::error::Result<(RuleSet, Vec<Diagnostic>)> {
    load_catalog_for(Need::All, extra_dirs, sources)
}

/// [`load_catalog`], of the shipped rules only those `need` asks for. With extra folders every
/// shipped rule is loaded whatever `need` says: a user's rule that takes a shipped id or name is
/// an error, reported at both rules, and which shipped rules those are is known only once the
/// user's files are read.
pub fn load_catalog_for(
    need: Need<'_>,
    extra_dirs: &[&Path],
    sources: &mut SourceMap,
) -> crate::error::Result<(RuleSet, Vec<Diagnostic>)> {
    let wanted = |n: usize| match (need, EMBEDDED_INDEX.get(n).copied().flatten()) {
        (Need::Named(want), Some(entry)) if extra_dirs.is_empty() => {
            want.iter().any(|w| names(&entry, w))
        }
        _ => true,
    };
    // The built-in checks a judging run makes from the index; with extra folders every shipped
    // file is loaded (see above), its span needed to report a clash.
    let indexed = |n: usize| match need {
        Need::Judging if extra_dirs.is_empty() => {
            indexed_check(&EMBEDDED_INDEX.get(n).copied().flatten()?, EMBEDDED[n].0)
        }
        _ => None,
    };
    let mut rules = Vec::new();
    // (path, text, where the file comes from).
    let mut texts: Vec<(String, String, Origin)> = Vec::new();
    for (n, (p, t)) in EMBEDDED.iter().enumerate().filter(|(n, _)| wanted(*n)) {
        if let Some(rule) = indexed(n) {
            rules.push(rule);
            continue;
        }
        let undocumented = match need {
            Need::Judging if extra_dirs.is_empty() => {
                EMBEDDED_JUDGING_EVENTS.get(n).copied().flatten()
            }
            _ => None,
        };
        let origin = match undocumented {
            Some(events) => {
                // What the build prepared of the rule, when it makes one (`rules::prepared`):
                // no YAML is read, and the file is not registered, as for a built-in check
                // made from the index.
                let prepared = super::prepared::PREPARED.get(n).and_then(Option::as_ref);
                if let Some(rule) = prepared.and_then(|r| super::prepared::rule(r, p)) {
                    rules.push(rule);
                    continue;
                }
                Origin::ShippedUndocumented(events)
            }
            None => Origin::Shipped(EMBEDDED_EVENTS.get(n).copied().flatten()),
        };
        texts.push((p.to_string(), t.to_string(), origin));
    }
    for dir in extra_dirs {
        let files = rule_files(dir).map_err(|source| crate::error::Error::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        if files.is_empty() {
            // A folder named to add rules that adds none is a mistake (a wrong path, rules
            // named `.yml.txt`), not a catalog to run silently without them.
            return Err(crate::error::Error::NoRuleFile {
                path: dir.to_path_buf(),
            });
        }
        for path in files {
            let text = crate::read::read_text(&path, 1 << 20)?;
            texts.push((path.display().to_string(), text, Origin::User));
        }
    }
    let mut diags = Vec::new();
    let ids: Vec<(String, FileId, Origin)> = texts
        .into_iter()
        .map(|(path, text, origin)| {
            let id = sources.add(path.clone(), text);
            (path, id, origin)
        })
        .collect();
    // The shipped rules come first; their CEL is compiled on first use (see `rules::program`),
    // a user's rules now, so their errors are reported before anything is judged. Compiling is
    // most of the work here: spread it over the cores.
    let shared: &SourceMap = sources;
    let load = |(path, id, origin): &(String, FileId, Origin)| {
        let mut diags = Vec::new();
        let text = &shared.get(*id).text;
        let rule = load_rule_as(*id, path, text, *origin, &mut diags);
        (rule, diags)
    };
    // One file (`explain`) is loaded on the calling thread (`par_map` starts no thread for it).
    let loaded = crate::pool::par_map(&ids, load);
    for (rule, d) in loaded {
        diags.extend(d);
        rules.extend(rule);
    }
    // Ids and names are permanent and unique across the shipped and the user's rules. Keys
    // borrowed and hashed with foldhash: a judging run checks its 99 rules here.
    let mut seen: HashMap<&str, &Rule, foldhash::fast::RandomState> =
        HashMap::with_capacity_and_hasher(rules.len() * 2, Default::default());
    let mut dup = Vec::new();
    for r in &rules {
        for k in [r.id.as_str(), r.name.as_str()] {
            if let Some(first) = seen.get(k) {
                let message = format!("`{k}` is already used by {}", first.path);
                // A rule made without its file (from the index, or prepared) has no span; only
                // shipped rules are, and those are unique (the tests load each by its names).
                let mut d = match r.span {
                    Some(at) => err(at, message, "defined again here"),
                    None => Diagnostic::new(RULE_FILE, Severity::Error, message),
                };
                if let Some(s) = first.span {
                    d = d.with_secondary(s, "first defined here");
                }
                dup.push(d.with_help("give the rule a new id and name; ids are never reused"));
            } else {
                seen.insert(k, r);
            }
        }
    }
    diags.extend(dup);
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((RuleSet { rules }, diags))
}

/// The rule files of a rules folder (`*.yaml`, `*.yml`), sorted: what [`load_catalog`] reads
/// there, and what the configuration's containment check looks at.
pub fn rule_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        // Not filtered on `is_file`: a FIFO, device or link loop named `*.yaml` is refused by
        // the reader with a clear error instead of being skipped without a word.
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

/// A field's scalar text; a value of another shape is a rule-file error.
pub(super) fn scalar<T: AsRef<str>>(
    field: &Field<T>,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Spanned<String>> {
    let mut local = Vec::new();
    let out = field.scalar(what, &mut local);
    recode(local, diags);
    out
}

/// The keys of a rule file that its raw types do not declare, reported mapping by mapping as
/// each is checked, so they come in the order the checks come.
pub(super) struct Unknown(Vec<UnknownField>);

impl Unknown {
    /// Reports the unknown keys of the mapping at `within` (as "unknown field ... in `what`",
    /// with did-you-mean) and hands them back. A mapping copied by an alias has the span of the
    /// anchored one: its unknown keys are reported with the first copy.
    pub(super) fn report(
        &mut self,
        within: Span,
        what: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<UnknownField> {
        if self.0.is_empty() {
            return Vec::new();
        }
        let (here, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.0)
            .into_iter()
            .partition(|u| u.within == within);
        self.0 = rest;
        for u in &here {
            let (k, allowed) = (&u.key, u.fields);
            let mut d = err(
                k.span,
                format!("unknown field `{}` in {what}", k.value),
                "unknown field",
            );
            d = match did_you_mean(&k.value, allowed.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("allowed fields: {}", allowed.join(", "))),
            };
            diags.push(d);
        }
        here
    }
}

fn compile(
    expr: &Spanned<String>,
    file_text: &str,
    what: &str,
    scope: Option<Scope>,
    defer: bool,
    diags: &mut Vec<Diagnostic>,
) -> Option<Arc<Program>> {
    if defer {
        return Some(Arc::new(Program::deferred(expr.value.clone())));
    }
    match super::program::parse(&expr.value) {
        Ok(p) => {
            let refs = p.references();
            let mut ok = true;
            // The references are a hash set: sorted, so the errors come in the same order on
            // every run.
            let mut vars = refs.variables();
            vars.sort_unstable();
            for var in vars {
                let allowed = VARIABLES.contains(&var)
                    && !(scope == Some(Scope::Node) && (var == "peer" || var == "hop"));
                if !allowed {
                    let mut d = err(
                        expr.span,
                        format!(
                            "{what} uses `{var}`, which a {} rule does not have",
                            match scope {
                                Some(Scope::Node) => "node-scope",
                                _ => "",
                            }
                            .trim()
                        ),
                        "in this expression",
                    );
                    d = match did_you_mean(var, VARIABLES.iter().copied()) {
                        Some(s) if s != var => d.with_help(format!("did you mean `{s}`?")),
                        _ if var == "peer" || var == "hop" => {
                            d.with_help("use `scope: hop` to see the peer and the hop")
                        }
                        _ => d.with_help(format!(
                            "the fact model has: {}; see rules/README.md",
                            VARIABLES.join(", ")
                        )),
                    };
                    diags.push(d);
                    ok = false;
                }
            }
            ok.then(|| Arc::new(Program::compiled(expr.value.clone(), p)))
        }
        Err(ParseError::Syntax(errors)) => {
            for e in errors.errors {
                let span = locate(expr, file_text, e.pos.0, e.pos.1);
                diags.push(err(
                    span,
                    format!("{what} is not valid CEL: {}", e.msg),
                    "here",
                ));
            }
            None
        }
        Err(bound) => {
            diags.push(too_costly(expr, what, &bound));
            None
        }
    }
}

/// The error for a program over one of the bounds of `rules::program` (too long, too deep, too
/// costly to evaluate), at the expression.
pub(super) fn too_costly(expr: &Spanned<String>, what: &str, why: &ParseError) -> Diagnostic {
    err(
        expr.span,
        format!("{what} is refused: {why}"),
        "in this expression",
    )
    .with_help(
        "twlint bounds every expression so that no rule file can exhaust its stack or run \
         without end; write it more simply, or split a long condition over several rules",
    )
}

/// Maps a (line, column) inside an expression to a span in the rule file, by finding that line of
/// the expression in the YAML text (block scalars are re-indented, so offsets do not carry over).
pub(super) fn locate(expr: &Spanned<String>, file_text: &str, line: isize, col: isize) -> Span {
    let raw = file_text.get(expr.span.range()).unwrap_or("");
    let line_idx = (line.max(1) - 1) as usize;
    if let Some(expr_line) = expr.value.lines().nth(line_idx) {
        let trimmed = expr_line.trim_start();
        if !trimmed.is_empty() {
            if let Some(pos) = raw.find(trimmed) {
                // CEL counts columns in characters; the span is in bytes and must cover whole
                // characters (a span inside one made the renderer panic; found by fuzzing).
                let lead = expr_line[..expr_line.len() - trimmed.len()].chars().count();
                let col = (col.max(0) as usize).saturating_sub(lead);
                let (offset, width) = trimmed
                    .char_indices()
                    .nth(col)
                    .map_or((trimmed.len(), 0), |(i, c)| (i, c.len_utf8()));
                let at = expr.span.from() + pos + offset;
                return Span::new(expr.span.file, at, (at + width).min(expr.span.to()).max(at));
            }
        }
    }
    expr.span
}

/// Splits `{{ expr }}` holes out of a message and compiles them.
/// `fix: {set: {KEY: VALUE}}`: the values a sysctl.d drop-in sets to follow the rule's advice
/// (`twlint advise`). Keys must be keys twlint judges; values are templates like `message`.
fn load_fix(
    fix: &Field<raw::Fix<'_>>,
    unknown: &mut Unknown,
    file_text: &str,
    scope: Scope,
    defer: bool,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(String, Template)> {
    let mut out = Vec::new();
    let mut local = Vec::new();
    if let Some(f) = fix.mapping("a fix (`set: {KEY: VALUE}`)", &mut local) {
        unknown.report(f.span, "a fix", diags);
        if let set @ Field::Present { .. } = &f.value.set {
            if let Some(pairs) = set.mapping("a map of KEY: VALUE", &mut local) {
                for (k, v) in &pairs.value.0 {
                    let judged = crate::kernel::spec(&k.value).is_some_and(|s| s.judged);
                    if !judged {
                        diags.push(err(
                            k.span,
                            format!("`{}` is not a key twlint judges", k.value),
                            "unknown key",
                        ));
                        continue;
                    }
                    if let Some(value) =
                        scalar(v, "a value (text, may hold {{ expressions }})", diags)
                    {
                        out.push((
                            k.value.clone(),
                            template(&value, file_text, scope, defer, diags),
                        ));
                    }
                }
            }
        } else {
            diags.push(err(f.span, "a fix needs `set`", "here"));
        }
    }
    recode(local, diags);
    out
}

/// Where `text` first has `byte` twice in a row (`{{`, `}}`), as `text.find("{{")` says, without
/// setting up a substring searcher for each of a catalog's few hundred short messages.
pub(super) fn doubled(text: &str, byte: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(byte, bytes).find(|&at| bytes.get(at + 1) == Some(&byte))
}

fn template(
    text: &Spanned<String>,
    file_text: &str,
    scope: Scope,
    defer: bool,
    diags: &mut Vec<Diagnostic>,
) -> Template {
    let parts = template_parts(&text.value, owned, |src| {
        let spanned = Spanned::new(src.to_string(), text.span);
        compile(
            &spanned,
            file_text,
            "a message expression",
            Some(scope),
            defer,
            diags,
        )
    });
    match parts {
        Ok(parts) => Template { parts },
        Err(parts) => {
            diags.push(err(
                text.span,
                "a `{{` in the message has no closing `}}`",
                "in this message",
            ));
            Template { parts }
        }
    }
}

/// The parts of a message template: its text, and each `{{ expression }}` hole (its source
/// trimmed) made into a program by `hole`, left out when `hole` gives none. `Err` with the parts
/// before it when a `{{` has no closing `}}`. Rules read from YAML and prepared ones
/// (`rules::prepared`) split their templates here.
pub(super) fn template_parts<'t>(
    text: &'t str,
    keep: fn(&'t str) -> Cow<'static, str>,
    mut hole: impl FnMut(&'t str) -> Option<Arc<Program>>,
) -> Result<Vec<TemplatePart>, Vec<TemplatePart>> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = doubled(rest, b'{') {
        if open > 0 {
            parts.push(TemplatePart::Text(keep(&rest[..open])));
        }
        let after = &rest[open + 2..];
        let Some(close) = doubled(after, b'}') else {
            return Err(parts);
        };
        let src = after[..close].trim();
        if let Some(p) = hole(src) {
            parts.push(TemplatePart::Expr(p, keep(src)));
        }
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Text(keep(rest)));
    }
    Ok(parts)
}

/// The `keep` of [`template_parts`] for text that does not outlive the call: a copy.
pub(super) fn owned(text: &str) -> Cow<'static, str> {
    Cow::Owned(text.to_owned())
}

fn example(
    node: &Field<raw::Example<'_>>,
    unknown: &mut Unknown,
    what: &str,
    parent: Span,
    diags: &mut Vec<Diagnostic>,
) -> Example {
    if let Field::Missing = node {
        diags.push(
            err(parent, format!("docs has no `{what}`"), "in these docs").with_help(format!(
                "add `{what}:` with a `sysctl:` or `topology:` input; it runs as a test"
            )),
        );
        return Example::default();
    }
    let mut ex = Example::default();
    let mut local = Vec::new();
    let Some(found) = node.mapping("a mapping with `sysctl:` or `topology:`", &mut local) else {
        recode(local, diags);
        return ex;
    };
    let (raw, span) = (found.value, found.span);
    let stray = unknown.report(span, &format!("`{what}`"), diags);
    // Every value of the mapping must be text, the unknown ones too; in file order.
    let mut shapes = Vec::new();
    let read = |f: &Option<Field<&str>>, shapes: &mut Vec<Diagnostic>| {
        f.as_ref()
            .and_then(|f| f.scalar("text", shapes))
            .map(|s| s.value)
    };
    ex.sysctl = read(&raw.sysctl, &mut shapes);
    ex.topology = read(&raw.topology, &mut shapes);
    ex.kernel = raw
        .kernel
        .as_ref()
        .and_then(|f| f.scalar("text", &mut shapes))
        .map(|s| s.value);
    ex.node = read(&raw.node, &mut shapes);
    ex.format = read(&raw.format, &mut shapes);
    shapes.extend(stray.iter().filter_map(|u| u.expect_scalar("text")));
    shapes.sort_by_key(|d| d.primary.as_ref().map(|l| l.span.start));
    recode(shapes, diags);
    if ex.sysctl.is_none() && ex.topology.is_none() {
        diags.push(err(
            span,
            format!("`{what}` needs a `sysctl:` or a `topology:` input"),
            "no input",
        ));
    }
    ex
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// A file that is not a rule file at all, said without quoting any of it.
fn not_a_rule_file(path: &str, why: &str) -> Diagnostic {
    Diagnostic::new(
        RULE_FILE,
        Severity::Error,
        format!("{path} is not a rule file: {why}"),
    )
    .with_help(
        "a rule file is a YAML mapping with `id`, `name`, `summary`, ...; see rules/README.md",
    )
}

/// Loads one rule file; `None` when it has errors (all of which are pushed).
pub fn load_rule(
    file: FileId,
    path: &str,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    load_rule_as(file, path, text, Origin::User, diags)
}

/// [`load_rule`], for a file of any [`Origin`]: a shipped file's CEL is compiled on first use
/// (the tests compile and check every shipped program, see `rules::program`), and its YAML is
/// read from the parser events recorded at build time when there are some.
fn load_rule_as(
    file: FileId,
    path: &str,
    text: &str,
    origin: Origin,
    diags: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let before = diags.len();
    let defer = !matches!(origin, Origin::User);
    let documented = !matches!(origin, Origin::ShippedUndocumented(_));
    let parsed = match origin {
        Origin::Shipped(Some(events)) | Origin::ShippedUndocumented(events) => {
            yaml::parse_recorded(file, text, events)
        }
        Origin::Shipped(None) | Origin::User => yaml::parse(file, text),
    };
    let doc = match parsed {
        Ok(doc) => doc,
        Err(mut d) => {
            d.code = RULE_FILE.into();
            diags.push(d);
            return None;
        }
    };
    recode(doc.diagnostics, diags);
    let root = &doc.root;
    let yaml::YamlNode::Mapping { entries, .. } = root else {
        // Not located: the place would quote the file, which is not a rule file at all (a
        // link to some other file of the machine, say).
        diags.push(not_a_rule_file(path, "it is not a mapping"));
        return None;
    };
    let whole = root.span();
    let (raw, unknown) = yaml::de::read::<RuleFile>(root);
    let stray = unknown.iter().filter(|u| u.within == whole).count();
    if !entries.is_empty() && stray == entries.len() {
        // Every key unknown: a file that is something else, whose keys are its content.
        diags.push(not_a_rule_file(
            path,
            &format!("none of its {stray} keys is a field of a rule"),
        ));
        return None;
    }
    // A mapping always reads as the raw type; its fields hold what did not fit.
    let raw = raw.get()?.value;
    let mut unknown = Unknown(unknown);
    unknown.report(whole, "a rule", diags);
    let req = |f: Option<&Field<&str>>, k: &str, diags: &mut Vec<Diagnostic>| match f {
        Some(n @ Field::Present { .. }) => scalar(n, "text", diags),
        _ => {
            diags.push(
                err(
                    Span::new(file, 0, 0),
                    format!("the rule has no `{k}`"),
                    "missing field",
                )
                .with_help(format!("add `{k}:`; see rules/README.md")),
            );
            None
        }
    };
    let id = req(Some(&raw.id), "id", diags);
    let name = req(Some(&raw.name), "name", diags);
    let summary = req(Some(&raw.summary), "summary", diags);
    if let Some(id) = &id {
        let ok = id.value.len() == 5
            && id.value.starts_with("TW")
            && id.value[2..].bytes().all(|b| b.is_ascii_digit());
        if !ok {
            diags.push(err(
                id.span,
                format!("rule id `{}` is not of the form TW123", id.value),
                "bad id",
            ));
        }
    }
    if let Some(name) = &name {
        if !is_kebab(&name.value) {
            diags.push(
                err(
                    name.span,
                    format!("rule name `{}` is not kebab-case", name.value),
                    "bad name",
                )
                .with_help("use lowercase words joined by `-`, naming what the rule flags"),
            );
        }
    }
    if let (Some(id), Some(name)) = (&id, &name) {
        let file_name = Path::new(path)
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("");
        let expected = format!("{}-{}.yaml", id.value, name.value);
        if file_name != expected {
            diags.push(
                err(
                    id.span,
                    format!("the file is named `{file_name}`, not `{expected}`"),
                    "from this id and name",
                )
                .with_help("name rule files `<id>-<name>.yaml` so the catalog can be browsed"),
            );
        }
    }
    if let Some(s) = &summary {
        style_check(s, "summary", diags);
    }

    let builtin = match &raw.check {
        Some(n) => match scalar(n, "`builtin`", diags) {
            Some(s) if s.value == "builtin" => true,
            Some(s) => {
                diags.push(err(s.span, format!("unknown check `{}`", s.value), "here").with_help("write `check: builtin` for a built-in check, or leave it out for a CEL rule"));
                true
            }
            None => true,
        },
        None => false,
    };

    let verdict = raw
        .verdict
        .as_ref()
        .and_then(|n| scalar(n, "a verdict", diags))
        .and_then(|s| {
            let v = Verdict::parse(&s.value);
            if v.is_none() {
                diags.push(
                    err(s.span, format!("unknown verdict `{}`", s.value), "here")
                        .with_help("use safe, pointless or dangerous"),
                );
            }
            v
        });

    let severity = raw
        .severity
        .as_ref()
        .and_then(|n| scalar(n, "a severity", diags))
        .map(|s| match severity_word(&s.value) {
            Some(level) => level,
            None => {
                diags.push(
                    err(s.span, format!("unknown severity `{}`", s.value), "here")
                        .with_help("use error, warning or info"),
                );
                Severity::Error
            }
        });
    let check = if builtin {
        let severity = match severity {
            Some(s) => s,
            None => {
                diags.push(err(
                    whole,
                    "a built-in check needs `severity:`",
                    "in this rule",
                ));
                Severity::Error
            }
        };
        let span = |f: Option<&Field<_>>| f.and_then(Field::span);
        for (k, at) in [
            ("when", span(raw.when.as_ref())),
            ("message", span(raw.message.as_ref())),
            ("scope", raw.scope.as_ref().and_then(Field::span)),
            ("keys", raw.keys.as_ref().and_then(Field::span)),
            ("evidence", raw.evidence.as_ref().and_then(Field::span)),
        ] {
            if let Some(at) = at {
                diags.push(err(
                    at,
                    format!("`{k}` is for CEL rules; a built-in check's logic lives in the code"),
                    "not used",
                ));
            }
        }
        Check::Builtin { severity, verdict }
    } else {
        let scope = match raw
            .scope
            .as_ref()
            .and_then(|n| scalar(n, "`node` or `hop`", diags))
        {
            Some(s) if s.value == "node" => Scope::Node,
            Some(s) if s.value == "hop" => Scope::Hop,
            Some(s) => {
                diags.push(err(s.span, format!("unknown scope `{}`", s.value), "here").with_help("use `node` (judged per node, also without a topology) or `hop` (per endpoint of every link)"));
                Scope::Node
            }
            None => {
                diags.push(
                    err(whole, "the rule has no `scope`", "in this rule")
                        .with_help("add `scope: node` or `scope: hop`"),
                );
                Scope::Node
            }
        };
        if verdict.is_none() && raw.verdict.is_none() {
            diags.push(
                err(whole, "the rule has no `verdict`", "in this rule")
                    .with_help("add `verdict: safe`, `pointless` or `dangerous`"),
            );
        }
        let mut keys = Vec::new();
        match &raw.keys {
            Some(n) => {
                let mut local = Vec::new();
                if let Some(items) = n.list("a list of keys", &mut local) {
                    for item in items.value {
                        if let Some(k) = scalar(item, "a key", diags) {
                            match crate::kernel::spec(&k.value) {
                                Some(s) if s.judged => keys.push(k.value.clone()),
                                _ => {
                                    let judged = crate::kernel::KEYS
                                        .iter()
                                        .filter(|s| s.judged)
                                        .map(|s| s.key);
                                    let mut d = err(
                                        k.span,
                                        format!("`{}` is not a key twlint judges", k.value),
                                        "unknown key",
                                    );
                                    if let Some(s) = did_you_mean(&k.value, judged) {
                                        d = d.with_help(format!("did you mean `{s}`?"));
                                    }
                                    diags.push(d);
                                }
                            }
                        }
                    }
                }
                recode(local, diags);
            }
            None => diags.push(err(whole, "the rule has no `keys`", "in this rule")),
        }
        let when = req(raw.when.as_ref(), "when", diags);
        let when_p = when
            .as_ref()
            .and_then(|w| compile(w, text, "the condition", Some(scope), defer, diags));
        let message = req(raw.message.as_ref(), "message", diags);
        if let Some(m) = &message {
            style_check(m, "message", diags);
        }
        let help = req(raw.help.as_ref(), "help", diags);
        let message_t = message
            .as_ref()
            .map(|m| template(m, text, scope, defer, diags));
        let help_t = help
            .as_ref()
            .map(|h| template(h, text, scope, defer, diags));
        let mut labels = Vec::new();
        if let Some(n) = &raw.labels {
            let mut local = Vec::new();
            for item in n
                .list("a list of labels", &mut local)
                .map_or(&[][..], |l| l.value)
            {
                let Some(label) = item.mapping("a label (on, key, message)", &mut local) else {
                    continue;
                };
                let (label, item_span) = (label.value, label.span);
                unknown.report(item_span, "a label", diags);
                let on = scalar(&label.on, "`node` or `peer`", diags);
                let key = scalar(&label.key, "a key", diags);
                let msg = scalar(&label.message, "text", diags);
                let label_when = label
                    .when
                    .as_ref()
                    .and_then(|n| super::load::scalar(n, "a CEL condition", diags))
                    .and_then(|w| {
                        compile(&w, text, "the label condition", Some(scope), defer, diags)
                    });
                match (on, key, msg) {
                    (Some(on), Some(key), Some(msg))
                        if on.value == "node" || (on.value == "peer" && scope == Scope::Hop) =>
                    {
                        labels.push(LabelSpec {
                            on_peer: on.value == "peer",
                            key: key.value.clone(),
                            message: msg.value.clone(),
                            when: label_when,
                        })
                    }
                    (Some(on), Some(_), Some(_)) => diags.push(
                        err(
                            on.span,
                            format!("a label cannot be `on: {}` in this rule", on.value),
                            "here",
                        )
                        .with_help("use `node`, or `peer` in a `scope: hop` rule"),
                    ),
                    _ => diags.push(err(
                        item_span,
                        "a label needs `on`, `key` and `message`",
                        "incomplete label",
                    )),
                }
            }
            recode(local, diags);
        }
        let fix = raw
            .fix
            .as_ref()
            .map(|n| load_fix(n, &mut unknown, text, scope, defer, diags))
            .unwrap_or_default();
        let evidence = raw
            .evidence
            .as_ref()
            .map(|n| super::evidence::parse(n, &mut unknown, text, defer, diags))
            .unwrap_or_default();
        match (when_p, message_t, help_t) {
            (Some(w), Some(m), Some(h)) => Check::Cel(Box::new(CelRule {
                scope,
                keys,
                verdict: verdict.unwrap_or(Verdict::Dangerous),
                when: w,
                when_source: when.map(|w| w.value).unwrap_or_default(),
                message: m,
                help: h,
                labels,
                fix,
                evidence,
                level: severity,
            })),
            _ => Check::Builtin {
                severity: Severity::Error,
                verdict,
            },
        }
    };

    // Documentation: every section present and non-empty (left out of a shipped rule read for
    // a run that shows none: the tests hold each shipped rule's docs).
    let mut docs = Docs::default();
    match &raw.docs {
        _ if !documented => {}
        n @ Field::Present { .. } => {
            let mut local = Vec::new();
            if let Some(d) = n.mapping("the docs (a mapping)", &mut local) {
                let (d, at) = (d.value, d.span);
                unknown.report(at, "docs", diags);
                for (section, field) in [("what", &d.what), ("why", &d.why), ("kernel", &d.kernel)]
                {
                    match scalar(field, "text", diags) {
                        Some(s) if !s.value.trim().is_empty() => {
                            let t = s.value.trim().to_string();
                            match section {
                                "what" => docs.what = t,
                                "why" => docs.why = t,
                                _ => docs.kernel = t,
                            }
                        }
                        Some(s) => diags.push(err(s.span, format!("docs section `{section}` is empty"), "empty")),
                        None if matches!(field, Field::Missing) => diags.push(err(at, format!("docs have no `{section}` section"), "in these docs").with_help("every rule documents what, why, example, use_instead, kernel and references")),
                        None => {}
                    }
                }
                docs.example = example(&d.example, &mut unknown, "example", at, diags);
                docs.use_instead = example(&d.use_instead, &mut unknown, "use_instead", at, diags);
                match &d.references {
                    r @ Field::Present { span, .. } => {
                        for item in r
                            .list("a list of references", &mut local)
                            .map_or(&[][..], |l| l.value)
                        {
                            if let Some(s) = scalar(item, "a reference", diags) {
                                docs.references.push(s.value);
                            }
                        }
                        if docs.references.is_empty() {
                            diags.push(err(*span, "docs list no references", "empty").with_help("cite the kernel source, documentation or article each claim rests on"));
                        }
                    }
                    Field::Missing => diags.push(err(
                        at,
                        "docs have no `references` section",
                        "in these docs",
                    )),
                }
            }
            recode(local, diags);
        }
        Field::Missing => diags.push(
            err(whole, "the rule has no `docs`", "in this rule")
                .with_help("add docs with what, why, example, use_instead, kernel and references"),
        ),
    }

    if diags.len() > before {
        return None;
    }
    Some(Rule {
        id: id?.value,
        name: name?.value,
        summary: summary?.value,
        check,
        docs,
        path: path.to_string(),
        span: Some(whole),
    })
}

/// Messages and summaries share one style: lowercase start, no trailing period.
fn style_check(s: &Spanned<String>, what: &str, diags: &mut Vec<Diagnostic>) {
    let t = s.value.trim();
    let first = t.chars().next();
    if first.is_some_and(|c| c.is_uppercase()) {
        diags.push(
            err(
                s.span,
                format!("the {what} starts with a capital letter"),
                "here",
            )
            .with_help("start messages in lowercase, as rustc and clippy do"),
        );
    }
    if t.ends_with('.') {
        diags.push(
            err(s.span, format!("the {what} ends with a period"), "here")
                .with_help("leave out the final period"),
        );
    }
}

/// Every CEL program of a rule: condition, message and help holes, label conditions, fix
/// values, evidence conditions and notes (for the tests that hold each of them to something).
#[cfg(test)]
pub(crate) fn programs(rule: &Rule) -> Vec<&Program> {
    fn holes<'a>(t: &'a Template, out: &mut Vec<&'a Program>) {
        for part in &t.parts {
            if let TemplatePart::Expr(p, _) = part {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(c) = rule.cel() {
        out.push(c.when.as_ref());
        holes(&c.message, &mut out);
        holes(&c.help, &mut out);
        out.extend(c.labels.iter().filter_map(|l| l.when.as_deref()));
        for (_, t) in &c.fix {
            holes(t, &mut out);
        }
        for e in &c.evidence {
            out.push(e.when.as_ref());
            holes(&e.note, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubled_finds_where_find_finds_the_pair() {
        let mut texts: Vec<String> = [
            "",
            "{",
            "{{",
            "{{{",
            "a{b{{c}}",
            "}}{{",
            "x { y } {{ z }} }}",
            "é{{ü}}ß",
            "{}{}{{",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        // Every message and note of the shipped catalog, each from every place it could be
        // searched from.
        for (_, text) in EMBEDDED {
            texts.extend(text.lines().filter(|l| l.contains('{')).map(String::from));
        }
        for text in &texts {
            for (start, _) in text.char_indices() {
                let t = &text[start..];
                assert_eq!(doubled(t, b'{'), t.find("{{"), "{t:?}");
                assert_eq!(doubled(t, b'}'), t.find("}}"), "{t:?}");
            }
        }
    }

    /// The shipped catalog defers its CEL to first use; this is where its programs are compiled
    /// and checked (syntax, and the variables each scope has), as a user's rules are at load.
    #[test]
    fn every_shipped_program_compiles_and_uses_known_variables() {
        let mut sources = SourceMap::default();
        for (path, text) in EMBEDDED {
            let id = sources.add(path.to_string(), text.to_string());
            let mut diags = Vec::new();
            let rule = load_rule(id, path, text, &mut diags);
            assert!(diags.is_empty(), "{path}: {diags:?}");
            rule.unwrap_or_else(|| panic!("{path} did not load"));
        }
    }

    /// A condition naming several variables its scope lacks gets its errors in one order on
    /// every run (the compiler hands the references over as a hash set).
    #[test]
    fn errors_for_unknown_variables_come_in_a_stable_order() {
        let text = "id: X001\nname: stable-order\nsummary: stable order\nverdict: pointless\n\
            scope: node\nkeys: [net.ipv4.tcp_fin_timeout]\n\
            when: zeta > 0 && peer.set && hop.rate > 0 && alpha > 0\n\
            message: \"m\"\nhelp: \"h\"\n";
        let mut sources = SourceMap::default();
        let id = sources.add("X001-stable-order.yaml".to_string(), text.to_string());
        let mut diags = Vec::new();
        let _ = load_rule(id, "X001-stable-order.yaml", text, &mut diags);
        let named: Vec<&str> = diags
            .iter()
            .filter(|d| d.message.starts_with("the condition uses"))
            .filter_map(|d| d.message.split('`').nth(1))
            .collect();
        assert_eq!(named, ["alpha", "hop", "peer", "zeta"], "{diags:?}");
    }

    /// The shipped rules are read from the YAML events recorded at build time
    /// (`yaml::replay`); they must give the same documents, spans included, and the same catalog
    /// as parsing the text would.
    #[test]
    fn every_shipped_file_is_recorded_and_replays_as_its_text_parses() {
        assert_eq!(EMBEDDED_EVENTS.len(), EMBEDDED.len());
        let mut sources = SourceMap::default();
        for ((path, text), events) in EMBEDDED.iter().zip(EMBEDDED_EVENTS) {
            let events = events.unwrap_or_else(|| panic!("{path} has no recorded events"));
            let id = sources.add(path.to_string(), text.to_string());
            let parsed = yaml::parse(id, text).unwrap();
            let replayed = yaml::parse_recorded(id, text, events).unwrap();
            assert_eq!(replayed.root, parsed.root, "{path}");
            assert!(parsed.diagnostics.is_empty() && replayed.diagnostics.is_empty());
        }
    }

    #[test]
    fn the_catalog_from_recorded_events_equals_the_catalog_from_text() {
        let (recorded, diags) = load_catalog(&[], &mut SourceMap::default()).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        let mut sources = SourceMap::default();
        let mut from_text: Vec<Rule> = EMBEDDED
            .iter()
            .map(|(path, text)| {
                let id = sources.add(path.to_string(), text.to_string());
                let mut diags = Vec::new();
                let rule = load_rule_as(id, path, text, Origin::Shipped(None), &mut diags);
                assert!(diags.is_empty(), "{path}: {diags:?}");
                rule.unwrap()
            })
            .collect();
        from_text.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(recorded.rules.len(), from_text.len());
        for (a, b) in recorded.rules.iter().zip(&from_text) {
            // Rules hold CEL programs, which have no equality; their debug form shows every
            // field, spans and program sources included.
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
        }
    }

    /// A judging run's built-in checks, made from the index, are the loaded ones but for their
    /// documentation and span; its CEL rules, prepared by the build without their `docs`, are
    /// the loaded ones but for their documentation and span.
    #[test]
    fn indexed_checks_are_the_loaded_ones() {
        let (all, diags) = load_catalog(&[], &mut SourceMap::default()).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        let (judging, diags) =
            load_catalog_for(Need::Judging, &[], &mut SourceMap::default()).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(all.rules.len(), judging.rules.len());
        let (mut from_index, mut prepared) = (0, 0);
        // The file ids differ: the judging run adds fewer files.
        let file_id = regex::Regex::new(r"FileId\(\d+\)").unwrap();
        for (full, light) in all.rules.iter().zip(&judging.rules) {
            assert_eq!(full.header(), light.header());
            assert_eq!(full.path, light.path);
            match (&full.check, &light.check) {
                (
                    Check::Builtin { severity, verdict },
                    Check::Builtin {
                        severity: s,
                        verdict: v,
                    },
                ) => {
                    assert_eq!((severity, verdict), (s, v), "{}", full.id);
                    // Made from the index: no documentation, no span.
                    assert!(
                        light.span.is_none() && light.docs.what.is_empty(),
                        "{}",
                        full.id
                    );
                    from_index += 1;
                }
                (Check::Cel(_), Check::Cel(_)) => {
                    // Prepared by the build from its file without its documentation: the same
                    // rule, field for field (program sources included), with empty docs and,
                    // made without its file, no span (its span as the YAML without docs gives
                    // it is held by `every_prepared_rule_is_the_rule_its_yaml_loads`).
                    assert!(light.docs.what.is_empty(), "{}", full.id);
                    assert!(light.span.is_none(), "{}", full.id);
                    let undocumented = Rule {
                        docs: Docs::default(),
                        span: None,
                        ..full.clone()
                    };
                    let unspanned = Rule {
                        span: None,
                        ..light.clone()
                    };
                    let unplaced = |r: &Rule| {
                        file_id
                            .replace_all(&format!("{r:?}"), "FileId")
                            .into_owned()
                    };
                    assert_eq!(unplaced(&undocumented), unplaced(&unspanned), "{}", full.id);
                    prepared += 1;
                }
                _ => panic!("{}: not the same kind of check", full.id),
            }
        }
        assert!(
            from_index > 40,
            "{from_index} built-in checks from the index"
        );
        assert_eq!(
            prepared,
            EMBEDDED_JUDGING_EVENTS.iter().flatten().count(),
            "every CEL rule is prepared without its docs"
        );
        assert!(prepared > 40, "{prepared} CEL rules prepared");
    }

    /// The build's index of the shipped files is what the loader reads of them: every file is
    /// indexed, `twlint rules` lists from the index what it would list from the loaded catalog,
    /// and a run that names a rule loads exactly the file of that rule.
    #[test]
    fn the_index_is_what_the_loader_reads() {
        assert_eq!(EMBEDDED_INDEX.len(), EMBEDDED.len());
        let (all, diags) = load_catalog(&[], &mut SourceMap::default()).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        let loaded: Vec<_> = all.rules.iter().map(Rule::header).collect();
        assert_eq!(
            shipped_headers().expect("every shipped file is indexed"),
            loaded
        );
        for rule in &all.rules {
            let upper = rule.id.to_lowercase();
            for want in [rule.id.as_str(), rule.name.as_str(), upper.as_str()] {
                assert!(is_shipped(want));
                let need = [want];
                let (one, diags) =
                    load_catalog_for(Need::Named(&need), &[], &mut SourceMap::default()).unwrap();
                assert!(diags.is_empty(), "{diags:?}");
                assert_eq!(one.rules.len(), 1, "{want}");
                // The same rule but for its span's file id: it is the first file loaded here.
                let unplaced = |r: &Rule| {
                    format!(
                        "{:?}",
                        Rule {
                            span: None,
                            ..r.clone()
                        }
                    )
                };
                assert_eq!(unplaced(&one.rules[0]), unplaced(rule));
                let (a, b) = (one.rules[0].span.unwrap(), rule.span.unwrap());
                assert_eq!((a.start, a.end), (b.start, b.end));
            }
        }
        assert!(!is_shipped("TW999") && !is_shipped("no-such-rule"));
    }

    /// The second way to a shipped CEL rule (`rules::prepared`, what `build.rs` prepared of
    /// its file) gives the rule its YAML gives, read as a judging run read it before: field for
    /// field, spans, program sources and deferred programs included. Every CEL rule is
    /// prepared, and no built-in check.
    #[test]
    fn every_prepared_rule_is_the_rule_its_yaml_loads() {
        use super::super::prepared::{rule, PREPARED};
        assert_eq!(PREPARED.len(), EMBEDDED.len());
        let mut sources = SourceMap::default();
        let mut compared = 0;
        for (n, (path, text)) in EMBEDDED.iter().enumerate() {
            let events = EMBEDDED_JUDGING_EVENTS[n];
            assert_eq!(PREPARED[n].is_some(), events.is_some(), "{path}");
            let (Some(prepared), Some(events)) = (&PREPARED[n], events) else {
                continue;
            };
            let id = sources.add(*path, *text);
            let fast = rule(prepared, path).unwrap_or_else(|| panic!("{path}: not made"));
            let mut diags = Vec::new();
            let from_yaml = load_rule_as(
                id,
                path,
                text,
                Origin::ShippedUndocumented(events),
                &mut diags,
            )
            .unwrap();
            assert!(diags.is_empty(), "{path}: {diags:?}");
            // Made without its file, the rule has no span; the build prepared the one the
            // YAML gives.
            let span = from_yaml.span.unwrap();
            assert_eq!(prepared.span, (span.from(), span.to()), "{path}");
            assert!(fast.span.is_none());
            let unspanned = Rule {
                span: None,
                ..from_yaml
            };
            assert_eq!(format!("{fast:#?}"), format!("{unspanned:#?}"));
            compared += 1;
        }
        assert!(compared > 40, "{compared} prepared rules");
        // And the whole catalog of a judging run is the one read from the YAML.
        let (judging, diags) =
            load_catalog_for(Need::Judging, &[], &mut SourceMap::default()).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        let mut sources = SourceMap::default();
        let mut from_yaml: Vec<Rule> = Vec::new();
        for (n, (path, text)) in EMBEDDED.iter().enumerate() {
            let origin = match EMBEDDED_JUDGING_EVENTS[n] {
                Some(events) => Origin::ShippedUndocumented(events),
                None => match indexed_check(&EMBEDDED_INDEX[n].unwrap(), path) {
                    Some(rule) => {
                        from_yaml.push(rule);
                        continue;
                    }
                    None => Origin::Shipped(EMBEDDED_EVENTS[n]),
                },
            };
            let id = sources.add(*path, *text);
            let mut diags = Vec::new();
            let rule = load_rule_as(id, path, text, origin, &mut diags).unwrap();
            assert!(diags.is_empty(), "{path}: {diags:?}");
            from_yaml.push(Rule { span: None, ..rule });
        }
        from_yaml.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(format!("{:?}", judging.rules), format!("{from_yaml:?}"));
    }

    /// A prepared rule whose words do not read, or whose template does not split, is not made
    /// (its file is then loaded from its YAML, which reports the problem).
    #[test]
    fn a_prepared_rule_whose_words_do_not_read_is_not_made() {
        use super::super::prepared::{rule, Prepared, PREPARED};
        let n = PREPARED.iter().position(Option::is_some).unwrap();
        let good = PREPARED[n].as_ref().unwrap();
        let bad = Prepared {
            verdict: "perilous",
            ..*good
        };
        let path = EMBEDDED[n].0;
        assert!(rule(&bad, path).is_none());
        let unclosed = Prepared {
            message: "{{ node.name",
            ..*good
        };
        assert!(rule(&unclosed, path).is_none());
        assert!(rule(good, path).is_some());
    }

    #[test]
    fn a_damaged_recording_is_a_rule_file_error_not_a_panic() {
        let (path, text) = EMBEDDED[0];
        let events = EMBEDDED_EVENTS[0].unwrap();
        let mut sources = SourceMap::default();
        let id = sources.add(path.to_string(), text.to_string());
        let mut diags = Vec::new();
        let cut = &events[..events.len() / 2];
        assert!(load_rule_as(id, path, text, Origin::Shipped(Some(cut)), &mut diags).is_none());
        assert!(diags[0].message.contains("damaged"), "{diags:?}");
    }

    #[test]
    fn the_shipped_catalog_has_programs_of_every_kind() {
        // Guards the test above: if `programs` missed a kind, it would check nothing for it.
        let (rules, diags) = load_catalog(&[], &mut SourceMap::default()).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        let cel: Vec<_> = rules.rules.iter().filter_map(Rule::cel).collect();
        assert!(cel
            .iter()
            .any(|c| c.labels.iter().any(|l| l.when.is_some())));
        assert!(cel.iter().any(|c| !c.fix.is_empty()));
        assert!(cel.iter().any(|c| !c.evidence.is_empty()));
        let total: usize = rules.rules.iter().map(|r| programs(r).len()).sum();
        assert!(total > 100, "only {total} programs");
    }

    #[test]
    fn a_file_that_is_not_a_rule_file_is_not_quoted() {
        for text in ["root:x:0:0:root:/root\nbin:x:1:1\n", "root: x\nsecret: y\n"] {
            let mut sources = SourceMap::default();
            let file = sources.add("x.yaml", text);
            let mut diags = Vec::new();
            assert!(load_rule(file, "x.yaml", text, &mut diags).is_none());
            assert_eq!(diags.len(), 1, "{diags:#?}");
            assert!(diags[0].primary.is_none(), "located, so quoted: {diags:#?}");
            assert!(diags[0].message.contains("is not a rule file"));
            assert!(!diags[0].message.contains("root") && !diags[0].message.contains("secret"));
        }
    }

    #[test]
    fn shipped_programs_are_deferred_and_user_programs_compiled_at_load() {
        let mut sources = SourceMap::default();
        let (rules, diags) = load_catalog(&[], &mut sources).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        let cel = rules
            .rules
            .iter()
            .find_map(|r| match &r.check {
                Check::Cel(c) => Some(c),
                _ => None,
            })
            .expect("the catalog has CEL rules");
        assert!(cel.when.get().is_ok());
        let bad = Program::deferred("node.");
        let e = bad.get().unwrap_err();
        assert!(e.contains("does not compile"), "{e}");
    }
}
