//! The command line: arguments, subcommands, output selection and the exit-code contract
//! (0: nothing at or above `--fail-on`; 1: findings at or above it; 2: twlint could not do its
//! job). Library errors and rule-file diagnostics are printed here, to stderr.

use clap::{Parser, Subcommand, ValueEnum};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use twlint::diag::{did_you_mean, Verdict};
use twlint::judge::{self, Request};
use twlint::kernel::KernelVersion;
use twlint::render::{self, Style};
use twlint::report::Report;
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
  twlint --topology topologies/lb-web-db.yaml --node lb --interval 5   (on the host lb)
  twlint snapshot --out /tmp/lb-snap && twlint --topology FILE --root /tmp/lb-snap
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

    /// The topology node this host (or the --root capture) is; otherwise found by hostname, then address
    #[arg(long, value_name = "NAME", help_heading = "Input")]
    pub node: Option<String>,

    /// Read this host's live values: it must be a node of the topology (--node, hostname, address)
    #[arg(
        long,
        help_heading = "Host",
        conflicts_with = "no_live",
        requires = "topology"
    )]
    pub live: bool,

    /// Judge the declared values only, even on a host the topology names (TWLINT_NO_LIVE=1 in the
    /// environment does the same unless --live, --root or --interval is given)
    #[arg(long = "no-live", help_heading = "Host")]
    pub no_live: bool,

    /// Judge a capture instead of this host: a `twlint snapshot` folder, an sosreport, or a folder laid out like / or /proc
    #[arg(
        long,
        value_name = "DIR",
        help_heading = "Host",
        conflicts_with = "no_live",
        requires = "topology"
    )]
    pub root: Option<PathBuf>,

    /// Read the counters twice, SECONDS apart, and show rates besides the totals since boot
    #[arg(
        long,
        value_name = "SECONDS",
        help_heading = "Host",
        conflicts_with = "no_live",
        requires = "topology"
    )]
    pub interval: Option<f64>,

    /// Let a topology's sysctl.files lead outside its folder (absolute paths, `..`, symlinks);
    /// refused by default, since topologies from pull requests are untrusted
    #[arg(long, help_heading = "Input", requires = "topology")]
    pub allow_outside_paths: bool,

    /// Kernel release to judge for (overrides the topology and dumps), e.g. 4.9 or 6.8
    #[arg(long, value_name = "RELEASE", help_heading = "Input")]
    pub kernel: Option<String>,

    /// A folder of extra rule files (`TW123-name.yaml`), added to the built-in catalog
    #[arg(long = "rules", value_name = "DIR", help_heading = "Rules")]
    pub rules: Vec<PathBuf>,

    /// Lowest level that makes the exit code 1 [default: dangerous, or `fail-on` of .twlint.yaml]
    #[arg(long, value_enum, help_heading = "Rules")]
    pub fail_on: Option<FailOn>,

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

    /// Ignore suppressions (`# twlint: disable=...` comments and topology `ignore:` entries)
    #[arg(long = "no-inline-ignores", help_heading = "Rules")]
    pub no_inline_ignores: bool,

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
        /// Output format
        #[arg(long, value_enum, default_value = "human", help_heading = "Output")]
        format: DocFormat,
        /// A folder of extra rule files, added to the built-in catalog
        #[arg(long = "rules", value_name = "DIR", help_heading = "Rules")]
        rules: Vec<PathBuf>,
        #[command(flatten)]
        config: crate::cli_ci::ConfigFlags,
    },
    /// Write the sysctl.d drop-in each node of a topology needs to follow the advice
    Advise(crate::cli_advise::AdviseArgs),
    /// The socket view of this host: TIME_WAIT, CLOSE_WAIT and ephemeral-port pressure
    Observe(crate::cli_observe::ObserveArgs),
    /// Write what host mode reads on this machine (values, release, identity, counters) to a folder
    Snapshot {
        /// The folder to write (created if missing; refused if it holds anything, unless --force)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Write into a folder that is not empty (only the snapshot's own files are replaced)
        #[arg(long)]
        force: bool,
    },
    /// Show what host mode reads on this machine (or in a capture), without judging it
    Host {
        /// A capture to read instead: a `twlint snapshot` folder, an sosreport, or a folder laid out like / or /proc
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value = "human", help_heading = "Output")]
        format: DocFormat,
        /// Leave the socket view out (values, release, identity and counters only)
        #[arg(long)]
        no_sockets: bool,
    },
    /// List the rule catalog
    Rules {
        /// Output format
        #[arg(long, value_enum, default_value = "human", help_heading = "Output")]
        format: DocFormat,
        /// A folder of extra rule files, added to the built-in catalog
        #[arg(long = "rules", value_name = "DIR", help_heading = "Rules")]
        rules: Vec<PathBuf>,
        #[command(flatten)]
        config: crate::cli_ci::ConfigFlags,
    },
    /// Print a shell completion script (source it, or install it where your shell looks)
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `twlint man > twlint.1`
    Man,
    /// Print the JSON Schema of a file format, for editors and validators
    Schema {
        /// Which format
        #[arg(value_enum)]
        kind: crate::cli_ci::SchemaKind,
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
    /// Tables per hop and frames at the lines, for a terminal
    Human,
    /// The report as one JSON object (version 1)
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, Azure DevOps, SARIF viewers)
    Sarif,
    /// GitHub Actions workflow commands: annotations on the PR's lines
    Github,
    /// Markdown for a PR comment or $GITHUB_STEP_SUMMARY
    Markdown,
    /// `file:line:col: severity: message [TW001]`, for editors
    Gcc,
    /// Prometheus text format, for node_exporter's textfile collector
    Prometheus,
}

/// Output of `explain`, `rules` and `observe`: documentation and the socket view have no SARIF
/// or metrics form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocFormat {
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

pub(crate) fn load_rules(
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
        Err(e) => Err(fail(crate::cli_ci::with_hint(&e))),
    }
}

pub fn run(args: Args) -> io::Result<u8> {
    match args.command {
        Some(Command::Explain {
            rule,
            format,
            rules,
            config,
        }) => explain(&rule, format, &rules, &config),
        Some(Command::Rules {
            format,
            rules,
            config,
        }) => list_rules(format, &rules, &config),
        Some(Command::Completions { shell }) => crate::cli_ci::completions(shell),
        Some(Command::Man) => crate::cli_ci::man(),
        Some(Command::Schema { kind }) => crate::cli_ci::schema(kind),
        Some(Command::Advise(a)) => crate::cli_advise::run(a),
        Some(Command::Observe(a)) => crate::cli_observe::run(a),
        Some(Command::Snapshot { out, force }) => crate::cli_host::snapshot(&out, force),
        Some(Command::Host {
            root,
            format,
            no_sockets,
        }) => crate::cli_host::host_command(root.as_deref(), format == DocFormat::Json, no_sockets),
        None => check(args),
    }
}

fn check(args: Args) -> io::Result<u8> {
    if let Err(e) = crate::cli_host::check_flags(&args) {
        return fail(e);
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
    if args.node.is_some() && args.topology.is_none() {
        return fail("--node names a node of a topology: add --topology FILE, or drop --node to lint the files on their own");
    }
    if args.topology.is_none() && args.paths.is_empty() {
        return fail(
            "nothing to judge: give sysctl files or folders, or --topology FILE (see --help)",
        );
    }
    if args.topology.is_some() && !args.paths.is_empty() {
        return fail("give either PATHs or --topology, not both: a topology names its nodes' sysctl files itself");
    }
    let mut sources = SourceMap::new();
    let run = match crate::cli_ci::prepare(&args, kernel, &mut sources) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let mut host = None;
    let result = match &args.topology {
        Some(t) if !crate::cli_host::no_live(&args) => {
            match crate::cli_host::judge(&args, t, &run.opts, &run.rules, &mut sources) {
                Ok((r, h)) => {
                    host = h;
                    Ok(r)
                }
                Err(e) => return fail(e),
            }
        }
        Some(t) => judge::load_topology(t, &run.opts, &mut sources).and_then(|loaded| {
            judge::judge(
                Request::topology(loaded),
                &run.opts,
                &run.rules,
                &mut sources,
            )
        }),
        None => judge::read_sysctl_paths(&args.paths, &mut sources).and_then(|sets| {
            judge::judge(Request::sets(sets), &run.opts, &run.rules, &mut sources)
        }),
    };
    let mut report: Report = match result {
        Ok(r) => r,
        Err(e) => return fail(crate::cli_ci::with_hint(&e)),
    };
    run.finish(&mut report);
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
    let fail_on = args.fail_on.unwrap_or(run.fail_on);
    let threshold = match fail_on {
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
        Format::Human => {
            crate::cli_host::write_human(&mut out, style(args.color), host.as_ref(), &report)
                .and_then(|_| render::human::write(&mut out, style(args.color), &sources, &report))
        }
        Format::Json => crate::cli_host::write_json(&mut out, &sources, &report, host.as_ref()),
        Format::Sarif => render::sarif::write(&mut out, &sources, &run.rules, &report),
        Format::Github => render::github::write(&mut out, &sources, &run.rules, &report),
        Format::Markdown => render::markdown::write(&mut out, &sources, &run.rules, &report),
        Format::Gcc => render::gcc::write(&mut out, &sources, &report),
        Format::Prometheus => crate::cli_host::write_prometheus(&mut out, &report, host.as_ref()),
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

fn explain(
    id: &str,
    format: DocFormat,
    dirs: &[PathBuf],
    config: &crate::cli_ci::ConfigFlags,
) -> io::Result<u8> {
    let mut sources = SourceMap::new();
    let catalog = match crate::cli_ci::catalog(config, dirs, ColorChoice::Auto, &mut sources) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let rules = &catalog.rules;
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
    // The rule's `fix` (what `twlint advise` sets), templates as written.
    let fix: Vec<(String, String)> = rule
        .cel()
        .map(|c| c.fix.iter().map(|(k, t)| (k.clone(), t.source())).collect())
        .unwrap_or_default();
    if format == DocFormat::Json {
        let v = serde_json::json!({
            "id": rule.id, "name": rule.name, "summary": rule.summary, "kind": kind, "level": level,
            "keys": keys, "scope": scope, "when": when,
            "override": catalog.level(&rule.id).map(|l| format!("{l:?}").to_lowercase()),
            "fix": fix.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
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
    if let (Some(l), Some(p)) = (catalog.level(&rule.id), &catalog.project) {
        writeln!(
            out,
            "{} ({})",
            crate::cli_ci::level_note(l),
            p.path.display()
        )?;
    }
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
    if !fix.is_empty() {
        let lines: Vec<String> = fix.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        section(
            &mut out,
            "Fix (what `twlint advise` writes in the node's drop-in)",
            &indent(&lines.join("\n")),
        )?;
    }
    if let Some(c) = rule.cel().filter(|c| !c.evidence.is_empty()) {
        let lines: Vec<String> = c
            .evidence
            .iter()
            .map(|e| format!("- {}", e.describe()))
            .collect();
        section(&mut out, "Evidence in host mode", &lines.join("\n"))?;
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

fn list_rules(
    format: DocFormat,
    dirs: &[PathBuf],
    config: &crate::cli_ci::ConfigFlags,
) -> io::Result<u8> {
    let mut sources = SourceMap::new();
    let catalog = match crate::cli_ci::catalog(config, dirs, ColorChoice::Auto, &mut sources) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let rules = &catalog.rules;
    let level_of = |id: &str| catalog.level(id).map(|l| format!("{l:?}").to_lowercase());
    let mut out = io::stdout().lock();
    if format == DocFormat::Json {
        let v: Vec<_> = rules
            .rules
            .iter()
            .map(|r| {
                let mut v = serde_json::json!({"id": r.id, "name": r.name, "summary": r.summary, "verdict": r.verdict(), "severity": r.severity(), "builtin": r.cel().is_none()});
                // The configuration's severity override, only where it sets one.
                if let Some(l) = level_of(&r.id) {
                    v["override"] = l.into();
                }
                v
            })
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
        let summary = match catalog.level(&r.id) {
            Some(l) => format!("[{}] {}", crate::cli_ci::level_note(l), r.summary),
            None => r.summary.clone(),
        };
        writeln!(out, "{}  {:<w$}  {:<9}  {}", r.id, r.name, level, summary)?;
    }
    Ok(0)
}
