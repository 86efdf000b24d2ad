//! The command line's grammar: the flags of a lint or topology run and the subcommands, as clap
//! reads them. `--help`, the man page and the completions are generated from these types, so
//! their doc comments are user-facing text. What each subcommand does is in its own file.

use super::advise::AdviseArgs;
use super::config::ConfigFlags;
use super::observe::ObserveArgs;
use super::output::{ColorChoice, DocFormat};
use super::schema::SchemaKind;
use clap::error::ErrorKind;
use clap::{ArgMatches, Args as _, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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
    version = crate::build_info::long_version(),
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

    /// Sysctl files, sysctl.d folders (read with `sysctl --system` precedence) or `sysctl -a` dumps;
    /// `-` reads standard input as one file
    #[arg(value_name = "PATH", help_heading = "Input")]
    pub paths: Vec<PathBuf>,

    /// The name standard input (`-`) goes by in messages and reports; its file name may say the
    /// format, as a file's does [default: <stdin>]
    #[arg(long, value_name = "NAME", help_heading = "Input")]
    pub stdin_filename: Option<String>,

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

    /// Read the PATHs as this format instead of deciding by content: sysctl, dump, kubernetes,
    /// compose, salt, ansible, nix, jinja, cloud-init, tuned, shell
    #[arg(
        long,
        value_name = "FORMAT",
        help_heading = "Input",
        conflicts_with = "topology"
    )]
    pub input_format: Option<String>,

    /// Kernel release to judge for (overrides the topology and dumps), e.g. 4.9 or 6.8
    #[arg(long, value_name = "RELEASE", help_heading = "Input")]
    pub kernel: Option<String>,

    /// A folder of extra rule files (`TW123-name.yaml`), added to the built-in catalog
    #[arg(long = "rules", value_name = "DIR", help_heading = "Rules")]
    pub rules: Vec<PathBuf>,

    /// Lowest level that makes the exit code 1 [default: TWLINT_FAIL_ON, else `fail-on` of
    /// .twlint.yaml, else dangerous]
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

    /// Judge with these rules only: ids, names or id prefixes such as TW1, comma-separated (the
    /// others are off for this run)
    #[arg(
        long,
        value_name = "RULES",
        value_delimiter = ',',
        help_heading = "Rules"
    )]
    pub select: Vec<String>,

    /// Turn these rules off for this run: ids, names or id prefixes, comma-separated (as
    /// `severity: {ID: off}` in .twlint.yaml)
    #[arg(
        long,
        value_name = "RULES",
        value_delimiter = ',',
        help_heading = "Rules"
    )]
    pub ignore: Vec<String>,

    /// Ignore suppressions (`# twlint: disable=...` comments and topology `ignore:` entries)
    #[arg(long = "no-inline-ignores", help_heading = "Rules")]
    pub no_inline_ignores: bool,

    /// Apply the safe fixes to the files read (in place, atomically), then report what is left
    #[arg(long, help_heading = "Fix", conflicts_with = "diff")]
    pub fix: bool,

    /// Print the fixes as a unified diff instead of the report; change nothing (exit 1 when
    /// there is something to fix)
    #[arg(long, help_heading = "Fix")]
    pub diff: bool,

    /// With --fix or --diff, also the fixes that change what a file asks for (a suggested key,
    /// a duplicate in another file)
    #[arg(long, help_heading = "Fix")]
    pub unsafe_fixes: bool,

    /// Baseline: add a `# twlint: disable=... -- baseline DATE` directive above every finding's
    /// line in the files that hold it (so new problems fail first), then report what is left
    #[arg(
        long,
        help_heading = "Fix",
        conflicts_with_all = ["fix", "diff", "no_inline_ignores"]
    )]
    pub add_noqa: bool,

    /// Output format [default: human, or TWLINT_FORMAT]
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<Format>,

    /// When to use colour (auto: on a terminal unless TERM=dumb; never with NO_COLOR, always with
    /// CLICOLOR_FORCE)
    #[arg(long, value_enum, default_value = "auto", help_heading = "Output")]
    pub color: ColorChoice,

    /// Rows the human report folds by default: `--show safe` lists every safe setting
    #[arg(long, value_enum, value_name = "WHAT", help_heading = "Output")]
    pub show: Vec<Show>,

    /// The same as `--show safe`
    #[arg(short, long, help_heading = "Output")]
    pub verbose: bool,

    /// Over many hosts, show the fleet summary and the last lines only (no per-host tables)
    #[arg(long, help_heading = "Output")]
    pub summary: bool,
}

/// What `--show` brings back into the human report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Show {
    /// Every safe row (by default an endpoint's safe settings are one line)
    Safe,
}

/// The subcommands. Each one's arguments are added to the grammar only when the command line
/// names it (`clap::Command::defer`): parsing one command line used to build all nine, a
/// third of what a host read executes. `--help`, the man pages and the completions expand
/// them all, as clap's `build` does.
#[derive(Debug)]
pub enum Command {
    Explain(ExplainArgs),
    Advise(AdviseArgs),
    Observe(ObserveArgs),
    Snapshot(SnapshotArgs),
    Host(HostArgs),
    Rules(RulesArgs),
    Completions(CompletionsArgs),
    Man(ManArgs),
    Schema(SchemaArgs),
}

/// A subcommand as `--help` lists it: its name, its one-line description, the longer one of
/// `help SUBCOMMAND` where it has one, how its arguments are added, and how its matches are
/// read into its variant.
struct Sub {
    name: &'static str,
    about: &'static str,
    long_about: Option<&'static str>,
    args: fn(clap::Command) -> clap::Command,
    parse: fn(&mut ArgMatches) -> Result<Command, clap::Error>,
}

impl Sub {
    fn described(&self, cmd: clap::Command) -> clap::Command {
        cmd.about(self.about).long_about(self.long_about)
    }

    /// Adds a subcommand's arguments, then its description again: a flattened group's doc
    /// comment (`ConfigFlags`) would otherwise stand as the subcommand's.
    fn expand(cmd: clap::Command) -> clap::Command {
        match SUBCOMMANDS.iter().find(|sub| sub.name == cmd.get_name()) {
            Some(sub) => sub.described((sub.args)(cmd)),
            None => cmd,
        }
    }
}

/// The subcommands in the order `--help` lists them.
const SUBCOMMANDS: [Sub; 9] = [
    Sub {
        name: "explain",
        about: "Print a rule's documentation",
        long_about: None,
        args: ExplainArgs::augment_args,
        parse: |m| ExplainArgs::from_arg_matches_mut(m).map(Command::Explain),
    },
    Sub {
        name: "advise",
        about: "Write the sysctl.d drop-in each node of a topology needs to follow the advice",
        long_about: None,
        args: AdviseArgs::augment_args,
        parse: |m| AdviseArgs::from_arg_matches_mut(m).map(Command::Advise),
    },
    Sub {
        name: "observe",
        about: "The socket view of this host: TIME_WAIT, CLOSE_WAIT and ephemeral-port pressure",
        long_about: None,
        args: ObserveArgs::augment_args,
        parse: |m| ObserveArgs::from_arg_matches_mut(m).map(Command::Observe),
    },
    Sub {
        name: "snapshot",
        about: "Write what host mode reads on this machine (values, release, identity, counters) \
                to a folder",
        long_about: None,
        args: SnapshotArgs::augment_args,
        parse: |m| SnapshotArgs::from_arg_matches_mut(m).map(Command::Snapshot),
    },
    Sub {
        name: "host",
        about: "Show what host mode reads on this machine (or in a capture), without judging it",
        long_about: None,
        args: HostArgs::augment_args,
        parse: |m| HostArgs::from_arg_matches_mut(m).map(Command::Host),
    },
    Sub {
        name: "rules",
        about: "List the rule catalog",
        long_about: None,
        args: RulesArgs::augment_args,
        parse: |m| RulesArgs::from_arg_matches_mut(m).map(Command::Rules),
    },
    Sub {
        name: "completions",
        about: "Print a shell completion script (source it, or install it where your shell looks)",
        long_about: None,
        args: CompletionsArgs::augment_args,
        parse: |m| CompletionsArgs::from_arg_matches_mut(m).map(Command::Completions),
    },
    Sub {
        name: "man",
        about: "Print the manual page (roff), e.g. `twlint man > twlint.1`",
        long_about: Some(
            "Print the manual page (roff), e.g. `twlint man > twlint.1`\n\n`twlint man \
             SUBCOMMAND` prints that subcommand's page (twlint-SUBCOMMAND(1)), `twlint man --out \
             DIR` writes every page into DIR.",
        ),
        args: ManArgs::augment_args,
        parse: |m| ManArgs::from_arg_matches_mut(m).map(Command::Man),
    },
    Sub {
        name: "schema",
        about: "Print the JSON Schema of a file format, for editors and validators",
        long_about: None,
        args: SchemaArgs::augment_args,
        parse: |m| SchemaArgs::from_arg_matches_mut(m).map(Command::Schema),
    },
];

impl Subcommand for Command {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        SUBCOMMANDS.iter().fold(cmd, |cmd, sub| {
            cmd.subcommand(
                sub.described(clap::Command::new(sub.name))
                    .defer(Sub::expand),
            )
        })
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_subcommands(cmd)
    }

    fn has_subcommand(name: &str) -> bool {
        SUBCOMMANDS.iter().any(|sub| sub.name == name)
    }
}

impl FromArgMatches for Command {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut matches.clone())
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        let Some((name, mut m)) = matches.remove_subcommand() else {
            return Err(clap::Error::raw(
                ErrorKind::MissingSubcommand,
                "a subcommand is required but none was given",
            ));
        };
        match SUBCOMMANDS.iter().find(|sub| sub.name == name) {
            Some(sub) => (sub.parse)(&mut m),
            None => Err(clap::Error::raw(
                ErrorKind::InvalidSubcommand,
                format!("unknown subcommand '{name}'"),
            )),
        }
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches_mut(matches)?;
        Ok(())
    }
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Rule id (TW101) or name (tw-recycle-removed)
    pub rule: String,
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

// What `explain` and `rules` share: the format of the rule documentation, and the catalog a
// check run would see. No doc comment: a flattened group's would stand as the subcommand's
// description until `Sub::expand` puts that back.
#[derive(Debug, clap::Args)]
pub struct CatalogArgs {
    /// Output format
    #[arg(long, value_enum, default_value = "human", help_heading = "Output")]
    pub format: DocFormat,
    /// A folder of extra rule files, added to the built-in catalog
    #[arg(long = "rules", value_name = "DIR", help_heading = "Rules")]
    pub rules: Vec<PathBuf>,
    /// Accepted so a check run's flags work here too; nothing here reads the host
    #[arg(long = "no-live", hide = true)]
    pub no_live: bool,
    #[command(flatten)]
    pub config: ConfigFlags,
}

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// The folder to write (created if missing; refused if it holds anything, unless --force)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write into a folder that is not empty (only the snapshot's own files are replaced)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
pub struct HostArgs {
    /// A capture to read instead: a `twlint snapshot` folder, an sosreport, or a folder laid out like / or /proc
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value = "human", help_heading = "Output")]
    pub format: DocFormat,
    /// Leave the socket view out (values, release, identity and counters only)
    #[arg(long)]
    pub no_sockets: bool,
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (twlint-SUBCOMMAND(1)); the main page without one
    #[arg(value_name = "SUBCOMMAND")]
    pub page: Option<String>,
    /// Write every page (twlint.1 and twlint-SUBCOMMAND.1) into this existing folder instead
    #[arg(long, value_name = "DIR", conflicts_with = "page")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Which format
    #[arg(value_enum)]
    pub kind: SchemaKind,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    Dangerous,
    Pointless,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables per hop and frames at the lines, for a terminal (`text` is accepted as the same)
    #[value(alias = "text")]
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
    /// GitLab Code Quality JSON, for the merge-request widget (`artifacts:reports:codequality`)
    Gitlab,
    /// JUnit XML, for CI test reports: one failed case per finding
    Junit,
    /// reviewdog's diagnostic format (`reviewdog -f=rdjson`): review comments on the lines
    Rdjson,
    /// The topology as a Graphviz graph (`dot -Tsvg`)
    Dot,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_grammar_passes_claps_own_checks() {
        // Expands every deferred subcommand and checks names, conflicts and requirements.
        Args::command().debug_assert();
    }

    #[test]
    fn every_deferred_subcommand_parses_into_its_variant() {
        let lines: [(&str, &[&str]); 9] = [
            ("explain", &["TW101"]),
            ("advise", &["--topology", "t.yaml"]),
            ("observe", &[]),
            ("snapshot", &["--out", "dir"]),
            ("host", &["--no-sockets"]),
            ("rules", &[]),
            ("completions", &["bash"]),
            ("man", &[]),
            ("schema", &["topology"]),
        ];
        let listed: Vec<&str> = SUBCOMMANDS.iter().map(|s| s.name).collect();
        let tried: Vec<&str> = lines.iter().map(|(n, _)| *n).collect();
        assert_eq!(listed, tried, "a subcommand of the table is not tried here");
        for (name, rest) in lines {
            let head = ["twlint", name];
            let argv = head.iter().chain(rest).copied();
            let args = Args::try_parse_from(argv).unwrap_or_else(|e| panic!("{name}: {e}"));
            let parsed = match args.command {
                Some(Command::Explain(a)) => ("explain", a.rule == "TW101"),
                Some(Command::Advise(_)) => ("advise", true),
                Some(Command::Observe(_)) => ("observe", true),
                Some(Command::Snapshot(a)) => ("snapshot", a.out == std::path::Path::new("dir")),
                Some(Command::Host(a)) => ("host", a.no_sockets),
                Some(Command::Rules(_)) => ("rules", true),
                Some(Command::Completions(a)) => {
                    ("completions", a.shell == clap_complete::Shell::Bash)
                }
                Some(Command::Man(a)) => ("man", a.page.is_none()),
                Some(Command::Schema(a)) => ("schema", matches!(a.kind, SchemaKind::Topology)),
                None => ("", false),
            };
            assert_eq!(parsed, (name, true), "{name} parsed into another variant");
        }
    }
}
