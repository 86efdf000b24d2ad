//! `twlint completions SHELL` and `twlint man`: the shell completion scripts and the manual page,
//! both generated from the argument definitions (`args.rs`), so they never disagree with
//! `--help`.

use super::args::Args;
use clap::CommandFactory;
use std::io::{self, Write};

pub fn completions(out: &mut dyn Write, shell: clap_complete::Shell) -> io::Result<u8> {
    let mut cmd = Args::command();
    // Generated into memory first: clap_complete panics when its writer fails, and a closed
    // stdout (`| head`) must not be a panic.
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "twlint", &mut buf);
    out.write_all(&buf)?;
    out.flush()?;
    Ok(0)
}

pub fn man(out: &mut dyn Write) -> io::Result<u8> {
    clap_mangen::Man::new(Args::command()).render(out)?;
    out.flush()?;
    Ok(0)
}
