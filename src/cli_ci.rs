//! The binary's side of the CI and editor integration: shell completions, the man page, the
//! JSON Schemas, and finding and checking `.twlint.yaml` before a run. Kept apart from `cli.rs`,
//! which only calls in here.

use crate::cli::{Args, ColorChoice, FailOn};
use clap::{CommandFactory, ValueEnum};
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use twlint::diag::Diagnostic;
use twlint::judge;
use twlint::kernel::KernelVersion;
use twlint::render;
use twlint::report::Report;
use twlint::rules::RuleSet;
use twlint::settings::{self, Level, Settings};
use twlint::source::SourceMap;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaKind {
    /// Topology files (format version 1)
    Topology,
    /// Rule files (rules/*.yaml and --rules folders)
    Rule,
    /// The project configuration, .twlint.yaml
    Config,
}

pub fn completions(shell: clap_complete::Shell) -> io::Result<u8> {
    let mut cmd = Args::command();
    // Generated into memory first: clap_complete panics when its writer fails, and a closed
    // stdout (`| head`) must not be a panic.
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "twlint", &mut buf);
    let mut out = io::stdout().lock();
    out.write_all(&buf)?;
    out.flush()?;
    Ok(0)
}

pub fn man() -> io::Result<u8> {
    let mut out = io::stdout().lock();
    clap_mangen::Man::new(Args::command()).render(&mut out)?;
    out.flush()?;
    Ok(0)
}

pub fn schema(kind: SchemaKind) -> io::Result<u8> {
    let v = match kind {
        SchemaKind::Topology => twlint::schema::topology(),
        SchemaKind::Rule => twlint::schema::rule(),
        SchemaKind::Config => twlint::schema::config(),
    };
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &v)?;
    writeln!(out)?;
    Ok(0)
}

fn stderr_style(color: ColorChoice) -> render::Style {
    let on = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    render::Style { color: on }
}

/// Prints configuration problems and the closing line; exit code 2.
fn config_failed(
    sources: &SourceMap,
    diags: &[Diagnostic],
    path: &str,
    color: ColorChoice,
) -> io::Result<u8> {
    let mut err = io::stderr().lock();
    render::human::write_diagnostics(&mut err, stderr_style(color), sources, diags)?;
    writeln!(
        err,
        "twlint: error: {path} has {} problem{}; fix it, or run with --no-config to ignore it",
        diags.len(),
        if diags.len() == 1 { "" } else { "s" }
    )?;
    Ok(2)
}

/// The configuration for this run: `--config FILE`, else the nearest `.twlint.yaml` from the
/// working directory upward, none with `--no-config`. `Err` holds the exit code of a failure
/// already reported.
fn project_settings(
    config: Option<&Path>,
    no_config: bool,
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
            match settings::find(&cwd) {
                // Shown relative to the working directory when it is below it.
                Some(p) => p.strip_prefix(&cwd).map(|r| r.to_path_buf()).unwrap_or(p),
                None => return Ok(None),
            }
        }
    };
    let (s, diags) = match settings::load(&path, sources) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(
                io::stderr(),
                "twlint: error: {e}; give --config an existing file, or --no-config"
            );
            return Err(Ok(2));
        }
    };
    if !diags.is_empty() {
        return Err(config_failed(
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
            sources,
            &diags,
            &p.path.display().to_string(),
            color,
        ));
    }
    Ok(levels)
}

/// What to do next about a library error, appended to its message.
pub fn with_hint(e: &twlint::error::Error) -> String {
    use twlint::error::Error;
    let hint = match e {
        Error::Read { source, .. } => match source.kind() {
            io::ErrorKind::NotFound => {
                "check the path; relative paths start at the working directory (topology files name theirs relative to the topology)"
            }
            io::ErrorKind::PermissionDenied => {
                "run twlint as a user that may read it, or copy the file somewhere readable"
            }
            _ => "check that the path names a readable file or folder",
        },
        Error::NotReadable { .. } => {
            "give a regular file or a folder (sysctl files, sysctl.d folders, `sysctl -a` dumps)"
        }
        Error::TooLarge { .. } => "split the file, or give the folder it belongs to",
        Error::RuleFailed(_) => {
            "this is a bug in that rule file: fix it, or turn the rule off with `severity: {ID: off}` in .twlint.yaml"
        }
        // Errors added later get no hint rather than a build failure.
        #[allow(unreachable_patterns)]
        _ => "see `twlint --help`",
    };
    format!("{e}\n  help: {hint}")
}

/// What a lint or topology run needs beyond its inputs, from the flags and `.twlint.yaml`.
pub struct Run {
    pub rules: RuleSet,
    pub opts: judge::Options,
    /// `--fail-on` when the flag is absent: the file's `fail-on`, else dangerous.
    pub fail_on: FailOn,
    levels: Vec<(String, Level)>,
    config: Option<String>,
}

impl Run {
    /// Applies the severity overrides and records the configuration file used.
    pub fn finish(&self, report: &mut Report) {
        settings::apply_levels(report, &self.levels);
        report.config = self.config.clone();
    }
}

/// Reads the configuration and the rules (the file's `rules` folders, then `--rules`), and
/// builds the engine options. `Err` holds the exit code of a failure already reported.
pub fn prepare(
    args: &Args,
    kernel: Option<KernelVersion>,
    sources: &mut SourceMap,
) -> Result<Run, io::Result<u8>> {
    let Catalog {
        rules,
        levels,
        project,
    } = catalog(
        &ConfigFlags {
            config: args.config.clone(),
            no_config: args.no_config,
        },
        &args.rules,
        args.color,
        sources,
    )?;
    // Copying the catalog (and dropping the original) was a twentieth of judging one dump; most
    // runs turn no rule off and can keep it as loaded.
    let rules = if levels.iter().any(|(_, l)| *l == Level::Off) {
        settings::without_rules(&rules, &levels)
    } else {
        rules
    };
    let fail_on = match project.as_ref().and_then(|p| p.fail_on) {
        Some(settings::FailOn::Pointless) => FailOn::Pointless,
        Some(settings::FailOn::Never) => FailOn::Never,
        _ => FailOn::Dangerous,
    };
    Ok(Run {
        rules,
        opts: judge::Options {
            kernel,
            default_kernel: project.as_ref().and_then(|p| p.kernel),
            inline_ignores: !args.no_inline_ignores,
            allow_outside_paths: args.allow_outside_paths,
        },
        fail_on,
        levels,
        config: project.map(|p| p.path.display().to_string()),
    })
}

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
    pub config: Option<std::path::PathBuf>,

    /// Do not read any .twlint.yaml
    #[arg(long = "no-config", help_heading = "Rules")]
    pub no_config: bool,
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

/// Reads the configuration (as `check` does) and the rules it and `--rules` name. `Err` holds
/// the exit code of a failure already reported.
pub fn catalog(
    flags: &ConfigFlags,
    extra: &[std::path::PathBuf],
    color: ColorChoice,
    sources: &mut SourceMap,
) -> Result<Catalog, io::Result<u8>> {
    let project = project_settings(flags.config.as_deref(), flags.no_config, color, sources)?;
    let mut rule_dirs = project
        .as_ref()
        .map(|p| p.rules.clone())
        .unwrap_or_default();
    rule_dirs.extend(extra.iter().cloned());
    // A folder named both in .twlint.yaml and with --rules is read once, not reported as
    // redefining its own rules.
    let mut seen = std::collections::HashSet::new();
    rule_dirs.retain(|d| seen.insert(std::fs::canonicalize(d).unwrap_or_else(|_| d.clone())));
    let rules = crate::cli::load_rules(&rule_dirs, sources, color)?;
    let levels = levels(project.as_ref(), &rules, sources, color)?;
    Ok(Catalog {
        rules,
        levels,
        project,
    })
}

/// How `twlint rules` and `twlint explain` name an override.
pub fn level_note(l: Level) -> &'static str {
    match l {
        Level::Off => "off in the configuration",
        Level::Error => "counts as error in the configuration",
        Level::Warning => "counts as warning in the configuration",
        Level::Info => "counts as info in the configuration",
    }
}
