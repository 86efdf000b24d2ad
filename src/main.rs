//! The twlint binary: hands the process's arguments, streams and environment to
//! `twlint::cli::run`, which owns everything else (output, errors, a closed stdout), and exits
//! with the code it gives.

use std::io;
use std::process::ExitCode;

fn main() -> ExitCode {
    return_large_blocks();
    let env = twlint::cli::Env::from_process();
    let code = twlint::cli::run(
        std::env::args_os(),
        &mut io::stdout().lock(),
        &mut io::stderr().lock(),
        &env,
    );
    ExitCode::from(code)
}

/// Has glibc's malloc give every large block (128 KiB and more) a mapping of its own, returned
/// to the system when it is freed: glibc starts so, but once the first such block is freed it
/// raises that threshold to the block's size (up to 32 MiB), and later large blocks come from
/// its heaps, which keep what is freed for reuse, one heap per thread that allocates. A run
/// frees large blocks as it goes (the buffer a file's text is read into, a file's table fitted
/// to what it holds), so the raised threshold kept a 100,000-line file's run 1.5 MiB above what
/// it holds, most of it in the heaps of the threads that draw its frames. Setting the threshold
/// keeps it where glibc starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks() {
    // SAFETY: sets one of malloc's parameters; called first, before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks() {}
