//! twlint: a sysctl tuning advisor and linter for the Linux TCP settings that decide what
//! happens when connections close (TIME_WAIT, CLOSE_WAIT, port exhaustion).
//!
//! The library reads sysctl files and dumps (`sysctl`), topologies (`topology`), and the rule
//! catalog (`rules`); it derives per-hop facts (`facts`), evaluates the rules into verdicts and
//! diagnostics (`engine`), and renders reports (`render`). It never prints and never exits: the
//! binary in `src/main.rs` owns the terminal and the exit code.

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod diag;
pub mod error;
pub mod kernel;
pub mod source;
pub mod topology;
pub mod yaml;
