//! The command line's grammar: the flags of a lint or topology run and the subcommands, as clap
//! reads them. `--help`, the man page and the completions are generated from these types, so
//! their doc comments are user-facing text. What each subcommand does is in its own file.

use super::advise::AdviseArgs;
use super::config::ConfigFlags;
use super::observe::ObserveArgs;
use super::output::{ColorChoice, DocFormat};
use super::schema::SchemaKind;
use clap::{Parser, Subcommand, ValueEnum};
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
        /// Accepted so a check run's flags work here too; nothing here reads the host
        #[arg(long = "no-live", hide = true)]
        no_live: bool,
        #[command(flatten)]
        config: ConfigFlags,
    },
    /// Write the sysctl.d drop-in each node of a topology needs to follow the advice
    Advise(AdviseArgs),
    /// The socket view of this host: TIME_WAIT, CLOSE_WAIT and ephemeral-port pressure
    Observe(ObserveArgs),
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
        /// Accepted so a check run's flags work here too; nothing here reads the host
        #[arg(long = "no-live", hide = true)]
        no_live: bool,
        #[command(flatten)]
        config: ConfigFlags,
    },
    /// Print a shell completion script (source it, or install it where your shell looks)
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `twlint man > twlint.1`
    ///
    /// `twlint man SUBCOMMAND` prints that subcommand's page (twlint-SUBCOMMAND(1)), `twlint man
    /// --out DIR` writes every page into DIR.
    Man {
        /// The subcommand whose page to print (twlint-SUBCOMMAND(1)); the main page without one
        #[arg(value_name = "SUBCOMMAND")]
        page: Option<String>,
        /// Write every page (twlint.1 and twlint-SUBCOMMAND.1) into this existing folder instead
        #[arg(long, value_name = "DIR", conflicts_with = "page")]
        out: Option<PathBuf>,
    },
    /// Print the JSON Schema of a file format, for editors and validators
    Schema {
        /// Which format
        #[arg(value_enum)]
        kind: SchemaKind,
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
