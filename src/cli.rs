//! The command line: arguments, subcommands, output selection and the exit-code contract
//! (0: nothing at or above `--fail-on`; 1: findings at or above it; 2: twlint could not do its
//! job). Library errors and rule-file diagnostics are printed here, to stderr.

use clap::{Parser, Subcommand, ValueEnum};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use twlint::diag::{did_you_mean, Verdict};
use twlint::engine::{self, Report};
use twlint::kernel::KernelVersion;
use twlint::render::{self, Style};
use twlint::rules::load::load_catalog;
use twlint::rules::{Check, Example, RuleSet, Scope};
use twlint::source::SourceMap;

const AFTER_HELP: &str = "\
Exit codes:
  0  nothing at or above --fail-on
  1  findings at or above --fail-on
  2  twlint could not do its job (bad arguments, unreadable or invalid input, broken rule file)

Examples:
  twlint --topology topologies/lb-web-db.yaml
  twlint --topology topologies/lb-web-db.yaml --format json
  twlint /etc/sysctl.d/ /etc/sysctl.conf --kernel 5.15
  twlint explain TW101";

#[derive(Debug, Parser)]
#[command(
    name = "twlint",
    version,
    about = "Sysctl advisor and linter for TCP TIME_WAIT, CLOSE_WAIT and port exhaustion",
    long_about = "twlint judges the Linux TCP settings that decide what happens when connections close \
(tcp_tw_reuse, tcp_tw_recycle, tcp_timestamps, ip_local_port_range and companions). Give it sysctl \
files, folders or `sysctl -a` dumps to lint them, or a topology to judge every hop: for each host on \
each hop, every setting is safe, pointless or dangerous, with the reason and the fix.",
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Sysctl files, sysctl.d folders (read with `sysctl --system` precedence) or `sysctl -a` dumps
    #[arg(value_name = "PATH", help_heading = "Input")]
    pub paths: Vec<PathBuf>,

    /// A topology (format version 1) whose every hop is judged
    #[arg(long, value_name = "FILE", help_heading = "Input")]
    pub topology: Option<PathBuf>,

    /// The topology node this host is (checked against the topology)
    #[arg(
        long,
        value_name = "NAME",
        help_heading = "Input",
        requires = "topology"
    )]
    pub node: Option<String>,

    /// Read this host's live values (not available yet: values come from files and dumps)
    #[arg(long, help_heading = "Input", conflicts_with = "no_live")]
    pub live: bool,

    /// Judge the declared values only, never the live ones (the current behaviour)
    #[arg(long = "no-live", help_heading = "Input")]
    pub no_live: bool,

    /// Kernel release to judge for (overrides the topology and dumps), e.g. 4.9 or 6.8
    #[arg(long, value_name = "RELEASE", help_heading = "Input")]
    pub kernel: Option<String>,

    /// A folder of extra rule files (`TW123-name.yaml`), added to the built-in catalog
    #[arg(long = "rules", value_name = "DIR", help_heading = "Rules")]
    pub rules: Vec<PathBuf>,

    /// Lowest level that makes the exit code 1
    #[arg(long, value_enum, default_value = "dangerous", help_heading = "Rules")]
    pub fail_on: FailOn,

    /// Output format
    #[arg(long, value_enum, default_value = "human", help_heading = "Output")]
    pub format: Format,

    /// When to use colour (auto: only on a terminal and without NO_COLOR)
    #[arg(long, value_enum, default_value = "auto", help_heading = "Output")]
    pub color: ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a rule's documentation
    Explain {
        /// Rule id (TW101) or name (tw-recycle-removed)
        rule: String,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// List the rule catalog
    Rules {
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    Dangerous,
    Pointless,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Colour for a stream: forced by `--color`, else only on a terminal and without `NO_COLOR`.
fn style_for(choice: ColorChoice, is_terminal: bool) -> Style {
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    Style { color }
}

fn style(choice: ColorChoice) -> Style {
    style_for(choice, io::stdout().is_terminal())
}

fn stderr_style(choice: ColorChoice) -> Style {
    style_for(choice, io::stderr().is_terminal())
}

/// Prints a failure to stderr and gives exit code 2.
fn fail(msg: impl std::fmt::Display) -> io::Result<u8> {
    let _ = writeln!(io::stderr(), "twlint: error: {msg}");
    Ok(2)
}

fn load_rules(
    dirs: &[PathBuf],
    sources: &mut SourceMap,
    color: ColorChoice,
) -> Result<RuleSet, io::Result<u8>> {
    let refs: Vec<&std::path::Path> = dirs.iter().map(|p| p.as_path()).collect();
    match load_catalog(&refs, sources) {
        Ok((set, diags)) if diags.is_empty() => Ok(set),
        Ok((_, diags)) => {
            let mut err = io::stderr().lock();
            let r =
                render::human::write_diagnostics(&mut err, stderr_style(color), sources, &diags)
                    .and_then(|_| {
                        writeln!(
                            err,
                            "twlint: error: the rule files have {} problem{}; no rule was used",
                            diags.len(),
                            if diags.len() == 1 { "" } else { "s" }
                        )
                    });
            Err(r.map(|_| 2))
        }
        Err(e) => Err(fail(e)),
    }
}

pub fn run(args: Args) -> io::Result<u8> {
    match args.command {
        Some(Command::Explain {
            rule,
            format,
            rules,
        }) => explain(&rule, format, &rules),
        Some(Command::Rules { format, rules }) => list_rules(format, &rules),
        None => check(args),
    }
}

fn check(args: Args) -> io::Result<u8> {
    if args.live {
        return fail("--live is not available yet: twlint judges declared values from files, dumps and the topology (use --no-live, the default)");
    }
    let kernel = match &args.kernel {
        Some(k) => match KernelVersion::parse(k) {
            Some(v) => Some(v),
            None => {
                return fail(format!(
                    "invalid --kernel `{k}`: expected a release such as 5.15 or 6.8.0-45-generic"
                ))
            }
        },
        None => None,
    };
    if args.topology.is_none() && args.paths.is_empty() {
        return fail(
            "nothing to judge: give sysctl files or folders, or --topology FILE (see --help)",
        );
    }
    if args.topology.is_some() && !args.paths.is_empty() {
        return fail("give either PATHs or --topology, not both: a topology names its nodes' sysctl files itself");
    }
    let mut sources = SourceMap::new();
    let rules = match load_rules(&args.rules, &mut sources, args.color) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let result = match &args.topology {
        Some(t) => engine::judge_topology(t, kernel, &rules, &mut sources),
        None => engine::lint_files(&args.paths, kernel, &rules, &mut sources),
    };
    let report: Report = match result {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if let (Some(node), false) = (&args.node, report.fatal) {
        if !report.nodes.iter().any(|n| &n.name == node) {
            let names: Vec<&str> = report.nodes.iter().map(|n| n.name.as_str()).collect();
            let hint = did_you_mean(node, names.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_else(|| format!("; its nodes are: {}", names.join(", ")));
            return fail(format!(
                "--node `{node}` is not a node of the topology{hint}"
            ));
        }
    }
    let threshold = match args.fail_on {
        FailOn::Dangerous => Some(Verdict::Dangerous),
        FailOn::Pointless => Some(Verdict::Pointless),
        FailOn::Never => None,
    };
    // The verdict is known before anything is written, so a reader that stops early
    // (`| head`) does not change the exit code a pipeline with pipefail sees.
    let code = if report.fatal {
        2
    } else if report.fails(threshold) {
        1
    } else {
        0
    };
    // Buffered: stdout is line-buffered, and a report of many hosts has many lines.
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let written = match args.format {
        Format::Human => render::human::write(&mut out, style(args.color), &sources, &report),
        Format::Json => render::json::write(&mut out, &sources, &report),
    }
    .and_then(|_| out.flush());
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(code),
        Err(e) => Err(e),
        Ok(()) => Ok(code),
    }
}

fn example_text(e: &Example) -> String {
    let mut s = String::new();
    if let Some(k) = &e.kernel {
        s.push_str(&format!("(judged for kernel {k})\n"));
    }
    if let Some(t) = &e.sysctl {
        s.push_str(t);
    }
    if let Some(t) = &e.topology {
        s.push_str(t);
    }
    s
}

fn explain(id: &str, format: Format, dirs: &[PathBuf]) -> io::Result<u8> {
    let mut sources = SourceMap::new();
    let rules = match load_rules(dirs, &mut sources, ColorChoice::Auto) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let Some(rule) = rules.get(id) else {
        let all = rules
            .rules
            .iter()
            .flat_map(|r| [r.id.as_str(), r.name.as_str()]);
        let hint = did_you_mean(id, all)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_else(|| "; run `twlint rules` to list them".into());
        return fail(format!("unknown rule `{id}`{hint}"));
    };
    let mut out = io::stdout().lock();
    let (kind, level, keys, scope, when) = match &rule.check {
        Check::Cel(c) => (
            "rule",
            c.verdict.as_str().to_string(),
            c.keys.join(", "),
            match c.scope {
                Scope::Node => "node",
                Scope::Hop => "hop",
            },
            c.when_source.trim().to_string(),
        ),
        Check::Builtin { severity, verdict } => (
            "built-in check",
            match verdict {
                Some(v) => format!(
                    "{} ({})",
                    format!("{severity:?}").to_lowercase(),
                    v.as_str()
                ),
                None => format!("{severity:?}").to_lowercase(),
            },
            String::new(),
            "",
            String::new(),
        ),
    };
    if format == Format::Json {
        let v = serde_json::json!({
            "id": rule.id, "name": rule.name, "summary": rule.summary, "kind": kind, "level": level,
            "keys": keys, "scope": scope, "when": when,
            "docs": {
                "what": rule.docs.what, "why": rule.docs.why,
                "example": example_text(&rule.docs.example), "use_instead": example_text(&rule.docs.use_instead),
                "kernel": rule.docs.kernel, "references": rule.docs.references,
            },
            "path": rule.path,
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        return Ok(0);
    }
    writeln!(out, "{} {}: {}", rule.id, rule.name, rule.summary)?;
    writeln!(
        out,
        "{kind}, {level}{}",
        if keys.is_empty() {
            String::new()
        } else {
            format!(", judges {keys} per {scope}")
        }
    )?;
    let section = |out: &mut dyn Write, title: &str, body: &str| -> io::Result<()> {
        writeln!(out, "\n## {title}\n")?;
        for line in body.trim_end().lines() {
            writeln!(out, "{line}")?;
        }
        Ok(())
    };
    section(&mut out, "What it does", &rule.docs.what)?;
    section(&mut out, "Why", &rule.docs.why)?;
    section(
        &mut out,
        "Example",
        &indent(&example_text(&rule.docs.example)),
    )?;
    section(
        &mut out,
        "Use instead",
        &indent(&example_text(&rule.docs.use_instead)),
    )?;
    section(&mut out, "Kernel versions", &rule.docs.kernel)?;
    if !when.is_empty() {
        section(&mut out, "Condition (CEL)", &indent(&when))?;
    }
    section(
        &mut out,
        "References",
        &rule
            .docs
            .references
            .iter()
            .map(|r| format!("- {r}"))
            .collect::<Vec<_>>()
            .join("\n"),
    )?;
    Ok(0)
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn list_rules(format: Format, dirs: &[PathBuf]) -> io::Result<u8> {
    let mut sources = SourceMap::new();
    let rules = match load_rules(dirs, &mut sources, ColorChoice::Auto) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let mut out = io::stdout().lock();
    if format == Format::Json {
        let v: Vec<_> = rules
            .rules
            .iter()
            .map(|r| serde_json::json!({"id": r.id, "name": r.name, "summary": r.summary, "verdict": r.verdict(), "severity": r.severity(), "builtin": r.cel().is_none()}))
            .collect();
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        return Ok(0);
    }
    let w = rules.rules.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for r in &rules.rules {
        let level = match r.verdict() {
            Some(v) => v.as_str().to_string(),
            None => format!("{:?}", r.severity()).to_lowercase(),
        };
        writeln!(out, "{}  {:<w$}  {:<9}  {}", r.id, r.name, level, r.summary)?;
    }
    Ok(0)
}
