//! Project configuration: `.twlint.yaml`, found from the working directory upward.
//!
//! This module owns finding the file, reading it with spans (through `yaml`), and the two things
//! it changes in a run that the engine does not know about: per-rule severity overrides
//! ([`apply_levels`], [`without_rules`]) and the defaults the command line can override
//! (`fail-on`, `kernel`, `rules`). Command-line flags always win; `rules` folders are added to
//! those given with `--rules`. Problems in the file are diagnostics with the code `config-file`
//! (like rule files, a configuration is not content that verdicts are about), and a file with
//! any of them is not used: the CLI exits 2, because a half-read configuration would silently
//! change what fails a build.
//!
//! Containment: a configuration found from the working directory comes with the checkout (in
//! CI, from the pull request), so its `rules` folders must stay inside the file's folder, as a
//! topology's files must stay inside the topology's (`contain`, one rule for both): an absolute
//! path elsewhere, a `..` that climbs out, a folder that is a link out, or a rule file in the
//! folder that is a link out is an error at the `rules` entry. `--allow-outside-paths` lifts it.
//! A file that is not a configuration at all (a scalar, or a mapping none of whose keys is a
//! field) is said to be so without quoting it: its keys are someone else's content.
//!
//! What a severity override means: `off` removes the rule (a value rule no longer judges, so the
//! key gets the next rule's verdict or `safe`; a built-in check's diagnostics are dropped).
//! `error`, `warning` or `info` set the severity of the rule's diagnostics and the weight of its
//! verdicts for `--fail-on` (error counts as dangerous, warning as pointless, info never fails);
//! the verdict itself (safe, pointless, dangerous) stays twlint's judgement of the value and is
//! shown unchanged, with the level beside it. A topology with errors stays unusable whatever the
//! overrides say.

use crate::contain::Outside;
use crate::diag::{did_you_mean, Diagnostic, Severity};
use crate::kernel::KernelVersion;
use crate::report::Report;
use crate::rules::{Check, RuleSet};
use crate::source::{SourceMap, Span, Spanned};
use crate::yaml::de::{Entries, Field, KernelRelease, UnknownField};
use crate::yaml::{self, YamlNode};
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file name searched for.
pub const FILE_NAME: &str = ".twlint.yaml";

/// The code of every problem in a configuration file.
pub const CODE: &str = "config-file";

// `fail-on` as the file says it. (A comment, not a doc comment: that would be its description
// in the JSON Schema, which describes the field where it is used.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "FailOnName")]
pub enum FailOn {
    Dangerous,
    Pointless,
    Never,
}

// A severity override. (A comment: see `FailOn`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "LevelName")]
pub enum Level {
    /// The rule is not used.
    Off,
    Error,
    Warning,
    Info,
}

impl Level {
    pub const NAMES: [&'static str; 4] = ["off", "error", "warning", "info"];

    fn parse(s: &str) -> Option<Level> {
        match s {
            "off" => Some(Level::Off),
            "error" => Some(Level::Error),
            "warning" => Some(Level::Warning),
            "info" => Some(Level::Info),
            _ => None,
        }
    }

    fn severity(self) -> Option<Severity> {
        match self {
            Level::Off => None,
            Level::Error => Some(Severity::Error),
            Level::Warning => Some(Severity::Warning),
            Level::Info => Some(Severity::Info),
        }
    }
}

/// A read configuration file.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub path: PathBuf,
    pub fail_on: Option<FailOn>,
    pub kernel: Option<KernelVersion>,
    /// Extra rule folders, relative to the file's folder.
    pub rules: Vec<PathBuf>,
    /// Rule id or name as written, and its level.
    pub severity: Vec<(Spanned<String>, Level)>,
    /// The cluster Kubernetes manifests are judged for (`kubernetes`).
    pub kubernetes: crate::kubernetes::Cluster,
}

/// The nearest `.twlint.yaml` in `start` or one of its parents, up to the filesystem root.
pub fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// A file that is not a configuration at all, said without quoting any of it.
fn not_a_configuration(path: &str, why: &str) -> Diagnostic {
    Diagnostic::new(
        CODE,
        Severity::Error,
        format!("{path} is not a twlint configuration: {why}"),
    )
    .with_help(format!(
        "{FILE_NAME} is a YAML mapping; see `twlint schema config`"
    ))
}

fn problem(span: Span, message: impl Into<String>, label: impl Into<String>) -> Diagnostic {
    Diagnostic::new(CODE, Severity::Error, message).at(span, label)
}

/// The folder that holds the configuration file `path` (`.` for a bare file name).
pub fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Reads a configuration file. I/O failures are errors; everything else is a diagnostic. With
/// `contain`, its `rules` folders and their rule files must stay inside the file's folder (see
/// the module doc); `--allow-outside-paths` turns it off.
pub fn load(
    path: &Path,
    contain: bool,
    sources: &mut SourceMap,
) -> crate::error::Result<(Settings, Vec<Diagnostic>)> {
    let text = crate::read::read_text(path, 1 << 20)?;
    let dir = folder(path);
    Ok(load_text_with(
        &path.display().to_string(),
        dir,
        &text,
        contain,
        sources,
    ))
}

/// Reads configuration text as if from `path`; `rules` folders are relative to `dir` and must
/// stay inside it.
pub fn load_text(
    path: &str,
    dir: &Path,
    text: &str,
    sources: &mut SourceMap,
) -> (Settings, Vec<Diagnostic>) {
    load_text_with(path, dir, text, true, sources)
}

/// [`load_text`], with containment of the `rules` folders as `contain` says.
pub fn load_text_with(
    path: &str,
    dir: &Path,
    text: &str,
    contain: bool,
    sources: &mut SourceMap,
) -> (Settings, Vec<Diagnostic>) {
    let file = sources.add(path, text);
    let mut settings = Settings {
        path: PathBuf::from(path),
        ..Settings::default()
    };
    let mut diags = Vec::new();
    let doc = match yaml::parse(file, text) {
        Ok(doc) => doc,
        Err(d) => {
            diags.push(d);
            return (settings, recode(diags));
        }
    };
    diags.extend(doc.diagnostics);
    if !matches!(doc.root, YamlNode::Mapping { .. } | YamlNode::Null(_)) {
        // Not located: the place would quote the file, which is not a configuration at all
        // (a link to some other file of the machine, say).
        diags.push(not_a_configuration(
            path,
            "it is not a mapping of `fail-on`, `kernel`, `rules`, `severity`",
        ));
        return (settings, recode(diags));
    }
    let (raw, unknown) = yaml::de::read::<ConfigFile>(&doc.root);
    let Some(raw) = raw.get().map(|r| r.value) else {
        // Unreachable: a mapping or a null always reads as the raw type.
        return (settings, recode(diags));
    };
    let known = [
        raw.fail_on.is_some(),
        raw.kernel.is_some(),
        raw.rules.is_some(),
        raw.severity.is_some(),
    ];
    if !unknown.is_empty() && !known.contains(&true) {
        // Every key unknown: a file that is something else, whose keys are its content.
        diags.push(not_a_configuration(
            path,
            &format!(
                "none of its {} keys is a field of {FILE_NAME}",
                unknown.len()
            ),
        ));
        return (settings, recode(diags));
    }
    validate(raw, &unknown, dir, contain, &mut settings, &mut diags);
    diags.sort_by_key(|d| d.primary.as_ref().map(|l| l.span.start));
    (settings, recode(diags))
}

// `.twlint.yaml` as written: the file's one description, read by `yaml::de` and printed by
// `twlint schema config`. Values are the text written; `validate` says what they mean. (The doc
// comment below is the schema's description, for the file's users.)
/// twlint's project configuration (`.twlint.yaml`); command-line flags win over it.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "twlint configuration (.twlint.yaml)")]
pub struct ConfigFile {
    /// Lowest level that makes the exit code 1 (`--fail-on`).
    #[schemars(with = "Option<FailOn>")]
    fail_on: Option<Field<String>>,
    /// Kernel assumed where the input names none (instead of 6.18).
    kernel: Option<Field<KernelRelease>>,
    /// Extra rule folders, relative to this file (added to `--rules`).
    rules: Option<Field<Vec<Field<String>>>>,
    /// Per rule id or name: off, error, warning or info.
    #[schemars(with = "Option<std::collections::BTreeMap<String, Level>>")]
    severity: Option<Field<Entries<String>>>,
    /// The cluster that runs the Kubernetes manifests twlint reads.
    kubernetes: Option<Field<crate::kubernetes::ClusterRaw>>,
}

/// Second phase: what the values of a [`ConfigFile`] mean, every problem pushed in file order.
fn validate(
    raw: &ConfigFile,
    unknown: &[UnknownField],
    dir: &Path,
    contain: bool,
    settings: &mut Settings,
    diags: &mut Vec<Diagnostic>,
) {
    for u in unknown {
        let k = &u.key;
        let help = match did_you_mean(&k.value, u.fields.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("the fields of {FILE_NAME} are: {}", u.fields.join(", ")),
        };
        diags.push(
            problem(
                k.span,
                format!("unknown field `{}` in {FILE_NAME}", k.value),
                "unknown field",
            )
            .with_help(help),
        );
    }
    if let Some(v) = &raw.fail_on {
        if let Some(t) = v.scalar("dangerous, pointless or never", diags) {
            settings.fail_on = match t.value.as_str() {
                "dangerous" => Some(FailOn::Dangerous),
                "pointless" => Some(FailOn::Pointless),
                "never" => Some(FailOn::Never),
                other => {
                    diags.push(
                        problem(
                            t.span,
                            format!("`{other}` is not a fail-on level"),
                            "not a level",
                        )
                        .with_help("write dangerous, pointless or never"),
                    );
                    None
                }
            };
        }
    }
    if let Some(v) = &raw.kernel {
        if let Some(t) = v.scalar("a kernel release such as \"6.8\"", diags) {
            settings.kernel = KernelVersion::parse(&t.value);
            if settings.kernel.is_none() {
                diags.push(
                    problem(
                        t.span,
                        format!("`{}` is not a kernel release", t.value),
                        "not a kernel release",
                    )
                    .with_help("write the release as `uname -r` prints it, quoted: \"5.15\""),
                );
            }
        }
    }
    if let Some(v) = &raw.rules {
        for item in v
            .list("a list of rule folders", diags)
            .map_or(&[][..], |l| l.value)
        {
            if let Some(t) = item.scalar("a folder path", diags) {
                let p = dir.join(&t.value);
                if contain {
                    if let Some(d) = rules_outside(dir, &t, &p) {
                        diags.push(d);
                        continue;
                    }
                }
                if p.is_dir() {
                    settings.rules.push(p);
                } else {
                    diags.push(
                        problem(
                            t.span,
                            format!("rule folder `{}` does not exist", t.value),
                            format!("not found as {}", p.display()),
                        )
                        .with_help(format!("paths are relative to the folder of {FILE_NAME}")),
                    );
                }
            }
        }
    }
    if let Some(k) = raw
        .kubernetes
        .as_ref()
        .and_then(|k| k.mapping("a mapping (`version`, `allowed-unsafe-sysctls`)", diags))
    {
        k.value
            .apply(&mut settings.kubernetes, ".twlint.yaml", diags);
    }
    if let Some(v) = &raw.severity {
        let map = v.mapping(
            "a mapping of rule ids to off, error, warning or info",
            diags,
        );
        for (rule, level) in map.map_or(&[][..], |m| &m.value.0) {
            let Some(t) = level.scalar("off, error, warning or info", diags) else {
                continue;
            };
            match Level::parse(&t.value) {
                Some(l) => settings.severity.push((rule.clone(), l)),
                None => {
                    // `warn`, `err`: a prefix is as good a hint as a typo.
                    let prefix = Level::NAMES
                        .into_iter()
                        .find(|n| !t.value.is_empty() && n.starts_with(t.value.as_str()));
                    let help = match prefix.or_else(|| did_you_mean(&t.value, Level::NAMES)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "write off, error, warning or info".to_string(),
                    };
                    diags.push(
                        problem(
                            t.span,
                            format!("`{}` is not a severity", t.value),
                            "not a severity",
                        )
                        .with_help(help),
                    );
                }
            }
        }
    }
}

/// The problem with a `rules` entry (`t`, the folder `p` in the configuration's folder `dir`)
/// that leads outside `dir`: as written, through a link, or through a rule file in it that is a
/// link. A configuration found from the working directory comes with the checkout (in CI, from
/// the pull request), so like a topology's files its rules must not make twlint read, and quote
/// in its errors, a file of the machine. The rule is `contain`'s, as for topologies.
fn rules_outside(dir: &Path, t: &Spanned<String>, p: &Path) -> Option<Diagnostic> {
    let outside = |label: String| {
        problem(
            t.span,
            format!("rule folder `{}` is outside the folder of {FILE_NAME}", t.value),
            label,
        )
        .with_help(
            "keep the rules in the checkout, or name a folder you trust with --rules DIR \
             (or pass --allow-outside-paths with a topology you trust)",
        )
        .with_note("twlint does not read it: a configuration from a pull request must not make CI read files of the machine it runs on")
    };
    match crate::contain::check(dir, Path::new(&t.value)) {
        Err(Outside::Written) => {
            return Some(outside(
                "leads out of the configuration's folder".to_string(),
            ))
        }
        Err(Outside::Link(real)) => {
            return Some(outside(format!(
                "a symlink leads to {}, out of the folder",
                real.display()
            )))
        }
        Ok(()) => {}
    }
    // A folder that cannot be listed is reported when the catalog reads it.
    let files = crate::rules::load::rule_files(p).unwrap_or_default();
    let linked: Vec<String> = files
        .iter()
        .filter_map(|f| match crate::contain::check_real(dir, f) {
            Err(Outside::Link(real)) => {
                Some(format!("{} leads to {}", f.display(), real.display()))
            }
            _ => None,
        })
        .collect();
    if linked.is_empty() {
        return None;
    }
    let mut d = problem(
        t.span,
        format!(
            "rule folder `{}` holds {} rule file{} linked outside the folder of {FILE_NAME}",
            t.value,
            linked.len(),
            if linked.len() == 1 { "" } else { "s" }
        ),
        "in this folder",
    )
    .with_help(
        "copy the rule files into the checkout, or name a folder you trust with --rules DIR \
         (or pass --allow-outside-paths with a topology you trust)",
    );
    for l in linked {
        d = d.with_note(format!("{l}; twlint does not read it"));
    }
    Some(d)
}

/// The YAML accessors report under topology codes; here every problem is a `config-file` error.
fn recode(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags
        .into_iter()
        .map(|mut d| {
            d.code = CODE.into();
            d.severity = Severity::Error;
            d
        })
        .collect()
}

/// Resolves the severity overrides' rule ids (or names) against the catalog: the overrides by
/// rule id, and a diagnostic for every one the catalog lacks.
pub fn resolve_levels(
    settings: &Settings,
    rules: &RuleSet,
) -> (Vec<(String, Level)>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for (rule, level) in &settings.severity {
        match rules.get(&rule.value) {
            Some(r) => out.push((r.id.clone(), *level)),
            None => {
                let all = rules
                    .rules
                    .iter()
                    .flat_map(|r| [r.id.as_str(), r.name.as_str()]);
                let help = match did_you_mean(&rule.value, all) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "name a rule of `twlint rules` by id or name".to_string(),
                };
                diags.push(
                    problem(
                        rule.span,
                        format!("unknown rule `{}` in `severity`", rule.value),
                        "no such rule",
                    )
                    .with_help(help),
                );
            }
        }
    }
    (out, diags)
}

/// The catalog without the value rules turned `off` (built-in checks stay: they run inside the
/// readers, so their diagnostics are dropped by [`apply_levels`] instead).
pub fn without_rules(rules: &RuleSet, levels: &[(String, Level)]) -> RuleSet {
    let off = |id: &str| levels.iter().any(|(r, l)| r == id && *l == Level::Off);
    RuleSet {
        rules: rules
            .rules
            .iter()
            .filter(|r| !(matches!(r.check, Check::Cel(_)) && off(&r.id)))
            .cloned()
            .collect(),
    }
}

/// Applies the overrides to a judged report (a report that could not be judged is left alone).
pub fn apply_levels(report: &mut Report, levels: &[(String, Level)]) {
    if report.fatal || levels.is_empty() {
        return;
    }
    let level_of = |id: &str| levels.iter().find(|(r, _)| r == id).map(|(_, l)| *l);
    let keep = |d: &mut Diagnostic| match level_of(&d.code) {
        Some(Level::Off) => false,
        Some(l) => {
            d.severity = l.severity().expect("not off");
            true
        }
        None => true,
    };
    report.diagnostics.retain_mut(keep);
    // Suppressed diagnostics get the same levels, so every format shows a suppressed finding at
    // the level it would have had, and an `off` rule's findings are gone from both lists.
    report.suppressed.retain_mut(|(d, _)| keep(d));
    for v in &mut report.verdicts {
        if let Some(l) = v.rule.as_deref().and_then(level_of) {
            v.level = l.severity();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> (Settings, Vec<Diagnostic>) {
        let mut sources = SourceMap::new();
        load_text(".twlint.yaml", Path::new("."), text, &mut sources)
    }

    #[test]
    fn a_full_file_is_read() {
        let (s, d) =
            load("fail-on: never\nkernel: \"5.4\"\nseverity:\n  TW006: off\n  TW121: error\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(s.fail_on, Some(FailOn::Never));
        assert_eq!(s.kernel, KernelVersion::parse("5.4"));
        let levels: Vec<_> = s
            .severity
            .iter()
            .map(|(r, l)| (r.value.as_str(), *l))
            .collect();
        assert_eq!(levels, [("TW006", Level::Off), ("TW121", Level::Error)]);
    }

    #[test]
    fn rules_folders_stay_in_the_configuration_folder() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("in")).unwrap();
        std::fs::create_dir_all(dir.path().join("out")).unwrap();
        std::fs::write(dir.path().join("out/TW901-x.yaml"), "secret: 1\n").unwrap();
        std::os::unix::fs::symlink("../out", repo.join("up")).unwrap();
        std::os::unix::fs::symlink("../../out/TW901-x.yaml", repo.join("in/TW901-x.yaml")).unwrap();
        let out = dir.path().join("out");
        let text = format!("rules: [in, up, ../out, {}]\n", out.display());
        let mut sources = SourceMap::new();
        let (s, d) = load_text(".twlint.yaml", &repo, &text, &mut sources);
        assert!(s.rules.is_empty());
        assert_eq!(d.len(), 4, "{d:#?}");
        assert!(d[0].message.contains("linked outside"), "{}", d[0].message);
        assert!(d[1..]
            .iter()
            .all(|d| d.message.contains("is outside the folder")));
        // Each at its entry.
        let at: Vec<usize> = d
            .iter()
            .map(|d| d.primary.as_ref().unwrap().span.from())
            .collect();
        assert_eq!(at, [8, 12, 16, 24]);
        // Not contained (`--allow-outside-paths`): all four are used.
        let (s, d) = load_text_with(".twlint.yaml", &repo, &text, false, &mut sources);
        assert!(d.is_empty(), "{d:#?}");
        assert_eq!(s.rules.len(), 4);
    }

    #[test]
    fn a_file_that_is_not_a_configuration_is_not_quoted() {
        for text in ["root:x:0:0:root:/root\nbin:x:1:1\n", "root: x\nsecret: y\n"] {
            let (_, d) = load(text);
            assert_eq!(d.len(), 1, "{d:#?}");
            assert!(d[0].primary.is_none(), "located, so quoted: {d:#?}");
            assert!(d[0].message.contains("is not a twlint configuration"));
            assert!(!d[0].message.contains("root") && !d[0].message.contains("secret"));
        }
        // One misspelt field among known ones is still reported at its place.
        let (_, d) = load("fail-on: never\nrulez: []\n");
        assert!(d[0].primary.is_some());
    }

    #[test]
    fn an_empty_file_is_no_configuration() {
        let (s, d) = load("");
        assert!(d.is_empty());
        assert_eq!(s.fail_on, None);
    }

    #[test]
    fn every_problem_is_reported_with_its_place() {
        let (_, d) = load("kernel: six\nfail-on: sometimes\nrulez: []\nseverity: [TW006]\n");
        let lines: Vec<usize> = d
            .iter()
            .map(|d| d.primary.as_ref().unwrap().span.from())
            .collect();
        assert_eq!(d.len(), 4, "{d:#?}");
        assert!(lines.windows(2).all(|w| w[0] <= w[1]), "sorted by place");
        assert!(d
            .iter()
            .all(|d| d.code == CODE && d.severity == Severity::Error));
    }

    #[test]
    fn the_nearest_file_upward_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(dir.path().join("a").join(FILE_NAME), "").unwrap();
        assert_eq!(find(&deep), Some(dir.path().join("a").join(FILE_NAME)));
        std::fs::write(deep.join(FILE_NAME), "").unwrap();
        assert_eq!(find(&deep), Some(deep.join(FILE_NAME)));
    }
}
