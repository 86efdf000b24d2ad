//! The twlint binary: hands the process's arguments, streams and environment to
//! `twlint::cli::run`, which owns everything else (output, errors, a closed stdout), and exits
//! with the code it gives.

use std::io;
use std::process::ExitCode;

fn main() -> ExitCode {
    let env = twlint::cli::Env::from_process();
    let code = twlint::cli::run(
        std::env::args_os(),
        &mut io::stdout().lock(),
        &mut io::stderr().lock(),
        &env,
    );
    ExitCode::from(code)
}
