//! The rule catalog as a run sees it, shared by the subcommands that judge or describe rules
//! (a lint or topology run, `advise`, `explain`, `rules`): finding and checking `.twlint.yaml`,
//! loading the built-in rules with the configuration's and `--rules` folders, and resolving the
//! configuration's severity overrides. A broken rule file or configuration stops the run here,
//! with its problems located in the file.

use super::output::{plural, with_hint, ColorChoice, Io};
use crate::contain::Outside;
use crate::rules::load::{is_shipped, load_catalog_for, shipped_headers, Need};
use crate::rules::{Header, RuleSet};
use crate::settings::{self, Level, Settings};
use crate::source::SourceMap;
use std::io;
use std::path::{Path, PathBuf};

/// `--config FILE` and `--no-config`, for the subcommands that read the configuration too
/// (`explain`, `rules`, `advise`): they see the catalog a check run would.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigFlags {
    /// Read this configuration file instead of searching for .twlint.yaml
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Rules",
        conflicts_with = "no_config"
    )]
    pub config: Option<PathBuf>,

    /// Do not read any .twlint.yaml
    #[arg(long = "no-config", help_heading = "Rules")]
    pub no_config: bool,

    /// The file the run judges (a topology, the first PATH): the search for `.twlint.yaml`
    /// starts in its folder, as ruff and ShellCheck search, then in the working directory.
    #[arg(skip)]
    pub start: Option<PathBuf>,
}

/// The rule catalog as a run sees it: built-in rules, then the configuration's `rules` folders,
/// then `--rules`; with the configuration's severity overrides (resolved to rule ids, not yet
/// applied) and the configuration itself.
pub struct Catalog {
    pub rules: RuleSet,
    pub levels: Vec<(String, Level)>,
    pub project: Option<Settings>,
}

impl Catalog {
    /// The override of one rule, if the configuration sets one.
    pub fn level(&self, id: &str) -> Option<Level> {
        self.levels.iter().find(|(r, _)| r == id).map(|(_, l)| *l)
    }
}

/// Reads the configuration (as a check run does) and the rules it and `--rules` name. `Err`
/// holds the exit code of a failure already reported.
pub fn catalog(
    io: &mut Io,
    flags: &ConfigFlags,
    extra: &[PathBuf],
    color: ColorChoice,
    sources: &mut SourceMap,
) -> Result<Catalog, io::Result<u8>> {
    load(io, flags, extra, false, Want::All, color, sources)
}

/// [`catalog`] for a run about one rule (`twlint explain`): of the shipped rules only that one
/// and those the configuration's overrides name are loaded, when all of them are shipped rules
/// (by the build's index). Otherwise the whole catalog is, so that an unknown name gets its
/// error and its suggestion from every rule, as a check run would give them.
pub fn catalog_for_rule(
    io: &mut Io,
    flags: &ConfigFlags,
    extra: &[PathBuf],
    rule: &str,
    color: ColorChoice,
    sources: &mut SourceMap,
) -> Result<Catalog, io::Result<u8>> {
    load(io, flags, extra, false, Want::Rule(rule), color, sources)
}

/// [`catalog`] for a check run; with `allow_outside` (`--allow-outside-paths`) the
/// configuration and its rule folders may lead outside the configuration's folder. Without
/// `docs` (every format but SARIF shows no rule's documentation) the shipped built-in checks
/// come from the build's index ([`Need::Judging`]).
pub fn catalog_with(
    io: &mut Io,
    flags: &ConfigFlags,
    extra: &[PathBuf],
    allow_outside: bool,
    docs: bool,
    color: ColorChoice,
    sources: &mut SourceMap,
) -> Result<Catalog, io::Result<u8>> {
    let want = if docs { Want::All } else { Want::Judging };
    load(io, flags, extra, allow_outside, want, color, sources)
}

/// What `twlint rules` lists: the headers of the shipped rules from the build's index when the
/// run adds no rule folder and the configuration overrides no severity (the catalog is then the
/// shipped one, unchanged), else the catalog, loaded.
pub enum Listing {
    Index(Vec<Header<'static>>),
    Loaded(Catalog),
}

/// Reads the configuration (as a check run does) and what `twlint rules` lists ([`Listing`]).
pub fn listing(
    io: &mut Io,
    flags: &ConfigFlags,
    extra: &[PathBuf],
    color: ColorChoice,
    sources: &mut SourceMap,
) -> Result<Listing, io::Result<u8>> {
    let (project, rule_dirs) = settings_and_folders(io, flags, extra, false, color, sources)?;
    let plain = rule_dirs.is_empty() && project.as_ref().is_none_or(|p| p.severity.is_empty());
    if let Some(headers) = shipped_headers().filter(|_| plain) {
        return Ok(Listing::Index(headers));
    }
    finish(io, project, &rule_dirs, Want::All, color, sources).map(Listing::Loaded)
}

/// Which rules a command asks for, before the configuration's overrides are known.
#[derive(Clone, Copy)]
enum Want<'a> {
    /// Every rule as its file says.
    All,
    /// Every rule, as a check run without rules' documentation needs them ([`Need::Judging`]).
    Judging,
    /// One rule (`twlint explain`, see [`catalog_for_rule`]).
    Rule(&'a str),
}

/// The catalog a command asks for.
fn load(
    io: &mut Io,
    flags: &ConfigFlags,
    extra: &[PathBuf],
    allow_outside: bool,
    want: Want<'_>,
    color: ColorChoice,
    sources: &mut SourceMap,
) -> Result<Catalog, io::Result<u8>> {
    let (project, rule_dirs) =
        settings_and_folders(io, flags, extra, allow_outside, color, sources)?;
    finish(io, project, &rule_dirs, want, color, sources)
}

/// The configuration, and the rule folders it and `extra` name, each once.
fn settings_and_folders(
    io: &mut Io,
    flags: &ConfigFlags,
    extra: &[PathBuf],
    allow_outside: bool,
    color: ColorChoice,
    sources: &mut SourceMap,
) -> Result<(Option<Settings>, Vec<PathBuf>), io::Result<u8>> {
    let project = project_settings(
        io,
        flags.start.as_deref(),
        flags.config.as_deref(),
        flags.no_config,
        allow_outside,
        color,
        sources,
    )?;
    let mut rule_dirs = project
        .as_ref()
        .map(|p| p.rules.clone())
        .unwrap_or_default();
    rule_dirs.extend(extra.iter().cloned());
    // A folder named both in .twlint.yaml and with --rules is read once, not reported as
    // redefining its own rules.
    let mut seen = std::collections::HashSet::new();
    rule_dirs.retain(|d| seen.insert(std::fs::canonicalize(d).unwrap_or_else(|_| d.clone())));
    Ok((project, rule_dirs))
}

/// Loads the rules `want` asks for and resolves the overrides.
fn finish(
    io: &mut Io,
    project: Option<Settings>,
    rule_dirs: &[PathBuf],
    want: Want<'_>,
    color: ColorChoice,
    sources: &mut SourceMap,
) -> Result<Catalog, io::Result<u8>> {
    let rule = match want {
        Want::Rule(r) => Some(r),
        Want::All | Want::Judging => None,
    };
    let named: Option<Vec<&str>> = rule.map(|r| {
        let overrides = project.iter().flat_map(|p| &p.severity);
        std::iter::once(r)
            .chain(overrides.map(|(rule, _)| rule.value.as_str()))
            .collect()
    });
    let need = match &named {
        Some(names) if names.iter().all(|n| is_shipped(n)) => Need::Named(names),
        None if matches!(want, Want::Judging) => Need::Judging,
        _ => Need::All,
    };
    let rules = load_rules(io, need, rule_dirs, sources, color)?;
    let levels = levels(io, project.as_ref(), &rules, sources, color)?;
    Ok(Catalog {
        rules,
        levels,
        project,
    })
}

/// The built-in rules and those of `dirs`; any problem in a rule file stops the run, since a
/// catalog missing a rule would judge less than it says.
fn load_rules(
    io: &mut Io,
    need: Need<'_>,
    dirs: &[PathBuf],
    sources: &mut SourceMap,
    color: ColorChoice,
) -> Result<RuleSet, io::Result<u8>> {
    let refs: Vec<&Path> = dirs.iter().map(|p| p.as_path()).collect();
    match load_catalog_for(need, &refs, sources) {
        Ok((set, diags)) if diags.is_empty() => Ok(set),
        Ok((_, diags)) => Err(io.fail_located(
            color,
            sources,
            &diags,
            format!(
                "the rule files have {} problem{}; no rule was used",
                diags.len(),
                plural(diags.len())
            ),
        )),
        Err(e) => Err(io.fail(with_hint(&e))),
    }
}

/// Prints configuration problems and the closing line; exit code 2.
fn config_failed(
    io: &mut Io,
    sources: &SourceMap,
    diags: &[crate::diag::Diagnostic],
    path: &str,
    color: ColorChoice,
) -> io::Result<u8> {
    io.fail_located(
        color,
        sources,
        diags,
        format!(
            "{path} has {} problem{}; fix it, or run with --no-config to ignore it",
            diags.len(),
            plural(diags.len())
        ),
    )
}

/// The configuration for this run: `--config FILE`, else the nearest `.twlint.yaml` from the
/// folder of the judged file (`start`) upward, else from the working directory upward; none
/// with `--no-config`. `Err` holds the exit code of a failure already reported.
fn project_settings(
    io: &mut Io,
    start: Option<&Path>,
    config: Option<&Path>,
    no_config: bool,
    allow_outside: bool,
    color: ColorChoice,
    sources: &mut SourceMap,
) -> Result<Option<Settings>, io::Result<u8>> {
    if no_config {
        return Ok(None);
    }
    let path = match config {
        Some(p) => p.to_path_buf(),
        None => {
            let cwd = std::env::current_dir().map_err(Err)?;
            // The judged file's folder (a file named relative to the working directory is
            // below it; a folder is its own start), then the working directory.
            let from_input = start.and_then(|s| {
                let s = cwd.join(s);
                let dir = if s.is_dir() {
                    s
                } else {
                    s.parent()?.to_path_buf()
                };
                settings::find(&dir)
            });
            match from_input.or_else(|| settings::find(&cwd)) {
                // Shown relative to the working directory when it is below it.
                Some(p) => p.strip_prefix(&cwd).map(|r| r.to_path_buf()).unwrap_or(p),
                None => return Ok(None),
            }
        }
    };
    // A file found from the working directory comes with the checkout: a link from it to a
    // file elsewhere would make twlint read (and quote, in its errors) a file of the machine.
    // One named with --config was chosen by whoever runs twlint.
    if config.is_none() && !allow_outside {
        if let Err(Outside::Link(target)) =
            crate::contain::check_real(settings::folder(&path), &path)
        {
            return Err(io.fail(format!(
                "{} leads to {}, outside its folder; twlint does not read it (name a configuration you trust with --config, or run with --no-config)",
                path.display(),
                target.display()
            )));
        }
    }
    let (s, diags) = match settings::load(&path, !allow_outside, sources) {
        Ok(r) => r,
        Err(e) => {
            return Err(io.fail(format!(
                "{e}; give --config an existing file, or --no-config"
            )))
        }
    };
    if !diags.is_empty() {
        return Err(config_failed(
            io,
            sources,
            &diags,
            &path.display().to_string(),
            color,
        ));
    }
    Ok(Some(s))
}

/// The severity overrides by rule id; unknown rules in them stop the run (exit 2).
fn levels(
    io: &mut Io,
    project: Option<&Settings>,
    rules: &RuleSet,
    sources: &SourceMap,
    color: ColorChoice,
) -> Result<Vec<(String, Level)>, io::Result<u8>> {
    let Some(p) = project else {
        return Ok(Vec::new());
    };
    let (levels, diags) = settings::resolve_levels(p, rules);
    if !diags.is_empty() {
        return Err(config_failed(
            io,
            sources,
            &diags,
            &p.path.display().to_string(),
            color,
        ));
    }
    Ok(levels)
}
