//! The command line, callable in-process: [`run`] takes the arguments, the two streams and the
//! facts about the process ([`Env`]), and gives the exit code of the contract (0: nothing at or
//! above `--fail-on`; 1: findings at or above it; 2: twlint could not do its job). It never
//! prints to the process's own streams and never exits, so the binary (`src/main.rs`) only
//! wires them, and tests run the command line as a function and snapshot what it wrote.
//!
//! Layout: `args` is the grammar; one file per subcommand (`check` is the default lint or
//! topology run, then `advise`, `observe`, `explain`, `rules`, `host`, `snapshot`, `schema`,
//! `completions` with `man`); `config` loads the rule catalog and `.twlint.yaml` for those that
//! need it; `output` is how all of them write (colour, errors, exit codes); `env` is the facts.
//! Imports go one way: this file uses the subcommands, they use `config`, `output` and `env`.

mod advise;
mod args;
mod baseline;
mod check;
mod completions;
mod config;
mod env;
mod explain;
mod fix;
mod fleet;
mod host;
mod observe;
mod output;
mod rules;
mod schema;
mod snapshot;

pub use args::{Args, Command};
pub use env::{Env, NO_LIVE_ENV};

use clap::{CommandFactory, FromArgMatches};
use output::Io;
use std::ffi::OsString;
use std::io::{self, Write};

/// Runs the command line `args` (the program name first, as in `std::env::args_os`), writing
/// to `out` and `err`, and gives the exit code.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write, env: &Env) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // `Args::try_parse_from` in its parts, so that the command clap built and its matches can
    // be left to exit.
    let mut grammar = Args::command();
    let parsed = grammar
        .try_get_matches_from_mut(args)
        .and_then(|mut matches| {
            let args =
                Args::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut grammar))?;
            Ok((args, matches))
        });
    let (args, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return output::clap_message(&e, out, err, env),
    };
    if env.ends_process {
        check::left_to_exit((grammar, matches));
    }
    let mut io = Io { out, err, env };
    let result = dispatch(&mut io, args);
    output::exit_code(result, io.err)
}

fn dispatch(io: &mut Io, args: Args) -> io::Result<u8> {
    match args.command {
        Some(Command::Explain(a)) => {
            let c = a.catalog;
            explain::run(io, &a.rule, c.format, &c.rules, &c.config)
        }
        Some(Command::Rules(args::RulesArgs { catalog: c })) => {
            rules::run(io, c.format, &c.rules, &c.config)
        }
        Some(Command::Completions(a)) => completions::completions(io.out, a.shell),
        Some(Command::Man(args::ManArgs { page, out: None })) => {
            completions::man(io, page.as_deref())
        }
        Some(Command::Man(args::ManArgs { out: Some(dir), .. })) => completions::man_to(io, &dir),
        Some(Command::Schema(a)) => schema::run(io.out, a.kind),
        Some(Command::Advise(a)) => advise::run(io, a),
        Some(Command::Observe(a)) => observe::run(io, a),
        Some(Command::Snapshot(a)) => snapshot::run(io, &a.out, a.force),
        Some(Command::Host(a)) => host::run(io, a.root.as_deref(), a.format, a.no_sockets),
        None => check::run(io, args),
    }
}
