//! What a run knows about its surroundings, read once: whether stdout and stderr are terminals,
//! the environment variables twlint honours (`NO_COLOR`, `CLICOLOR_FORCE`, `TERM`,
//! `TWLINT_NO_LIVE`, `TWLINT_FORMAT`, `TWLINT_FAIL_ON`, `COLUMNS`) and the
//! terminal's width. The binary reads them from the process ([`Env::from_process`]); tests
//! running [`crate::cli::run`] in-process state them, so the outcome does not depend on the
//! terminal or the environment the test suite happens to run in. The working directory is not
//! among them: the operating system resolves relative paths in the arguments against the
//! process's, so the search for `.twlint.yaml` starts there too.

use std::io::{self, IsTerminal};

/// The environment variable that makes a plain `--topology` run judge the declared values, as
/// `--no-live` does: for test suites and CI jobs whose output must not depend on whether the
/// machine's hostname or addresses match a node. Read by the binary, never by the judging code.
pub const NO_LIVE_ENV: &str = "TWLINT_NO_LIVE";

/// The facts about the process a run depends on besides its arguments.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// stdout is a terminal (`--color auto` paints it).
    pub stdout_is_terminal: bool,
    /// stderr is a terminal (`--color auto` paints the diagnostics written there).
    pub stderr_is_terminal: bool,
    /// `NO_COLOR` is set to something other than empty: `--color auto` paints nothing.
    pub no_color: bool,
    /// `CLICOLOR_FORCE` is set to something other than empty or `0`: `--color auto` paints even
    /// off a terminal (a CI log that shows colour), unless `NO_COLOR` says otherwise.
    pub clicolor_force: bool,
    /// `TERM=dumb`: the terminal shows escape codes as text, so `--color auto` paints nothing.
    pub term_dumb: bool,
    /// [`NO_LIVE_ENV`] is set to something other than empty or `0`.
    pub no_live: bool,
    /// `TWLINT_FORMAT`: the `--format` of a run that gives none (a CI job sets it once).
    pub format: Option<String>,
    /// `TWLINT_FAIL_ON`: the `--fail-on` of a run that gives none, before `.twlint.yaml`'s.
    pub fail_on: Option<String>,
    /// Whether clap's own messages (help, usage errors) are painted on stdout and on stderr.
    /// Clap decides this with its own rules (`NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE`, `TERM`
    /// and the terminal), which twlint keeps so its help looks as it always did.
    pub clap_color_stdout: bool,
    pub clap_color_stderr: bool,
    /// The width the human report fits: `COLUMNS` when set to a number, else the width of the
    /// terminal stdout is; `None` when neither says (the report then fits 100 columns).
    pub columns: Option<usize>,
    /// The process ends when the run returns (the binary, not a test calling `cli::run`): what
    /// a run holds at its end (the rule catalog, the files read, the report) is left for the
    /// kernel to take back at exit instead of freed piece by piece, a twentieth of linting one
    /// small file.
    pub ends_process: bool,
}

impl Env {
    /// The facts of this process: its streams and its environment.
    pub fn from_process() -> Env {
        let painted = |choice| choice != anstream::ColorChoice::Never;
        Env {
            stdout_is_terminal: io::stdout().is_terminal(),
            stderr_is_terminal: io::stderr().is_terminal(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            clicolor_force: std::env::var_os("CLICOLOR_FORCE")
                .is_some_and(|v| !v.is_empty() && v != "0"),
            term_dumb: std::env::var_os("TERM").is_some_and(|v| v == "dumb"),
            no_live: std::env::var_os(NO_LIVE_ENV).is_some_and(|v| !v.is_empty() && v != "0"),
            format: std::env::var("TWLINT_FORMAT")
                .ok()
                .filter(|v| !v.is_empty()),
            fail_on: std::env::var("TWLINT_FAIL_ON")
                .ok()
                .filter(|v| !v.is_empty()),
            clap_color_stdout: painted(anstream::AutoStream::choice(&io::stdout())),
            clap_color_stderr: painted(anstream::AutoStream::choice(&io::stderr())),
            columns: std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.trim().parse::<usize>().ok())
                .filter(|&c| c > 0)
                .or_else(|| {
                    rustix::termios::tcgetwinsize(io::stdout())
                        .ok()
                        .map(|w| usize::from(w.ws_col))
                        .filter(|&c| c > 0)
                }),
            ends_process: true,
        }
    }
}
