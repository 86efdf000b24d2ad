//! The twlint binary: parse arguments, run, turn the outcome into an exit code.
//! Everything else lives in the library and in `cli.rs`.

mod cli;
mod cli_advise;
mod cli_ci;
mod cli_host;
mod cli_observe;

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = <cli::Args as clap::Parser>::parse();
    match cli::run(args) {
        Ok(code) => ExitCode::from(code),
        // A closed stdout (`twlint ... | head`) is the reader's choice, not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            // stderr may be failing too (both on a full disk): the exit code still says it,
            // where eprintln! would panic and exit 101.
            let _ = writeln!(std::io::stderr(), "twlint: cannot write output: {e}");
            ExitCode::from(2)
        }
    }
}
