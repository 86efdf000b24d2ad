//! How every subcommand talks to the user, written once: the streams a run writes to, the colour
//! decision (`--color`, the terminal, `NO_COLOR`), twlint's error line (`twlint: error: ...`
//! with exit code 2), the closing line after located diagnostics, the hint appended to a
//! library error, clap's own messages, and turning a failed write into the exit code.
//!
//! Nothing here decides what a report says; the renderers in `twlint::render` do.

use super::env::Env;
use crate::diag::Diagnostic;
use crate::render::{self, Style};
use crate::source::SourceMap;
use clap::ValueEnum;
use std::io::{self, Write};

/// `--color`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The output format of `explain`, `rules`, `observe` and `host`: documentation and the socket
/// view have no SARIF or metrics form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocFormat {
    /// For a terminal (`text` is accepted as the same)
    #[value(alias = "text")]
    Human,
    Json,
}

/// The two streams of a run and the facts that decide how to write to them. Subcommands write
/// only here: never to the process's own stdout or stderr.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub env: &'a Env,
}

impl Io<'_> {
    /// Colour for stdout.
    pub fn style(&self, choice: ColorChoice) -> Style {
        style_for(choice, self.env.stdout_is_terminal, self.env)
    }

    /// Colour for stderr (the located diagnostics of a file that stops the run).
    pub fn err_style(&self, choice: ColorChoice) -> Style {
        style_for(choice, self.env.stderr_is_terminal, self.env)
    }

    /// Prints a failure to stderr and gives exit code 2. A failed write is ignored: the exit
    /// code already says the run failed.
    pub fn fail(&mut self, msg: impl std::fmt::Display) -> io::Result<u8> {
        let _ = writeln!(self.err, "twlint: error: {msg}");
        Ok(2)
    }

    /// Prints the diagnostics of an input that stops the run (a rule file, the configuration),
    /// then the error line saying what was refused; exit code 2.
    pub fn fail_located(
        &mut self,
        color: ColorChoice,
        sources: &SourceMap,
        diags: &[Diagnostic],
        what: impl std::fmt::Display,
    ) -> io::Result<u8> {
        let style = self.err_style(color);
        render::human::write_diagnostics(self.err, style, sources, diags)?;
        writeln!(self.err, "twlint: error: {what}")?;
        Ok(2)
    }
}

/// Colour for a stream, decided here once for every subcommand: forced by `--color`; else
/// never with `NO_COLOR`, always with `CLICOLOR_FORCE`, and otherwise on a terminal that is not
/// `TERM=dumb` (the conventions anstream follows for clap's own messages).
fn style_for(choice: ColorChoice, is_terminal: bool, env: &Env) -> Style {
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if env.no_color => false,
        ColorChoice::Auto if env.clicolor_force => true,
        ColorChoice::Auto => is_terminal && !env.term_dumb,
    };
    Style {
        color,
        width: env.columns.unwrap_or(Style::DEFAULT_WIDTH).clamp(40, 1000),
        show_safe: false,
        summary_only: false,
    }
}

/// `s` after a count: "1 problem", "2 problems".
pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What to do next about a library error, appended to its message.
pub fn with_hint(e: &crate::error::Error) -> String {
    use crate::error::Error;
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
        // A folder of `sysctl -a` dumps (or of manifests, scripts...) is not a sysctl.d folder:
        // its files are read one by one when they are named.
        Error::EmptyFolder { .. } => {
            "if it holds `sysctl -a` dumps or files of another format, name them (`twlint DIR/*`): each dump is a host of a fleet report"
        }
        Error::RuleFailed(_) => {
            "this is a bug in that rule file: fix it, or turn the rule off with `severity: {ID: off}` in .twlint.yaml"
        }
        // Errors added later get no hint rather than a build failure.
        #[allow(unreachable_patterns)]
        _ => "see `twlint --help`",
    };
    format!("{e}\n  help: {hint}")
}

/// Clap's answer to the arguments (help, version, or a usage error), written where and as clap
/// itself would print it: help and version on stdout with exit code 0, errors on stderr with 2.
/// A failed write is ignored, as clap ignores it.
pub fn clap_message(e: &clap::Error, out: &mut dyn Write, err: &mut dyn Write, env: &Env) -> u8 {
    // A usage error reads like every other twlint error: `twlint: error: ...`, then what to do.
    if e.use_stderr() {
        let _ = err
            .write_all(usage_error(&e.render().to_string()).as_bytes())
            .and_then(|_| err.flush());
        return u8::try_from(e.exit_code()).unwrap_or(2);
    }
    let rendered = e.render();
    let paint = |color: bool| {
        if color {
            rendered.ansi().to_string()
        } else {
            rendered.to_string()
        }
    };
    let _ = if e.use_stderr() {
        err.write_all(paint(env.clap_color_stderr).as_bytes())
            .and_then(|_| err.flush())
    } else {
        out.write_all(paint(env.clap_color_stdout).as_bytes())
            .and_then(|_| out.flush())
    };
    u8::try_from(e.exit_code()).unwrap_or(2)
}

/// Clap's usage error (`error: ...`, indented details, `tip:` lines, `Usage: ...`, a pointer to
/// `--help`) in twlint's error style: one `twlint: error:` line with the details, a `help:` line
/// per tip, the usage, and where to read more.
fn usage_error(rendered: &str) -> String {
    let mut message = String::new();
    let mut tips = Vec::new();
    let mut usage = None;
    for line in rendered.lines() {
        let t = line.trim();
        if let Some(m) = t.strip_prefix("error: ") {
            message.push_str(m);
        } else if let Some(tip) = t.strip_prefix("tip: ") {
            tips.push(tip.to_string());
        } else if let Some(u) = t.strip_prefix("Usage: ") {
            usage = Some(u.to_string());
        } else if t.is_empty() || t.starts_with("For more information") {
            continue;
        } else if usage.is_none() && tips.is_empty() {
            // The error's details: the missing arguments, the possible values.
            message.push(' ');
            message.push_str(t);
        }
    }
    let mut out = format!("twlint: error: {message}\n");
    for tip in tips {
        out.push_str(&format!("  help: {tip}\n"));
    }
    match usage {
        Some(u) => out.push_str(&format!("  help: usage: {u}; `--help` lists every flag\n")),
        None => out.push_str("  help: `twlint --help` lists every flag\n"),
    }
    out
}

/// The exit code of a run whose output could not all be written: a closed stdout
/// (`twlint ... | head`) is the reader's choice, not a failure; anything else is exit code 2.
pub fn exit_code(result: io::Result<u8>, err: &mut dyn Write) -> u8 {
    match result {
        Ok(code) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            let _ = writeln!(err, "twlint: cannot write output: {e}");
            2
        }
    }
}
