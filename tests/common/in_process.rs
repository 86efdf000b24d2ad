//! The command line run in-process through `twlint::cli::run`, with the facts the spawning
//! tests give the binary: no terminal on either stream, `TWLINT_NO_LIVE` set, `NO_COLOR` unset,
//! the repository root as working directory (cargo runs integration tests there). The result is
//! a `std::process::Output`, so a test reads it with the same helpers whether it spawned the
//! binary or not, and its human output can be pinned by a snapshot. Tests about the process
//! itself (the binary's exit status, a closed pipe, a terminal) still spawn it.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitStatus, Output};

/// `twlint ARGS`, from the repository root.
pub fn twlint(args: &[&str]) -> Output {
    let env = twlint::cli::Env {
        no_live: true,
        ..Default::default()
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let argv = std::iter::once("twlint").chain(args.iter().copied());
    let code = twlint::cli::run(argv, &mut stdout, &mut stderr, &env);
    Output {
        // A wait status: the exit code sits in the second byte.
        status: ExitStatus::from_raw(i32::from(code) << 8),
        stdout,
        stderr,
    }
}

/// The text with the temporary folder `dir` written as `[TMP]`, so a snapshot does not depend
/// on where the test ran.
pub fn masked(text: &str, dir: &Path) -> String {
    text.replace(dir.to_str().expect("a UTF-8 temporary path"), "[TMP]")
}
