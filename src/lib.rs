//! twlint: a sysctl tuning advisor and linter for the Linux TCP settings that decide what
//! happens when connections close (TIME_WAIT, CLOSE_WAIT, port exhaustion).
//!
//! The library reads sysctl files and dumps (`sysctl`), topologies (`topology`, over `yaml`),
//! and the rule catalog (`rules`); it resolves each node's effective values (`config`, with the
//! kernel knowledge in `kernel`), derives per-hop facts (`facts`), evaluates the rules into
//! verdicts and diagnostics (`engine`), and renders reports (`render`). It never prints and never
//! exits: the binary in `src/main.rs` owns the terminal and the exit code.

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod config;
pub mod diag;
pub mod engine;
pub mod error;
pub mod facts;
pub mod fleet;
pub mod kernel;
pub mod read;
pub mod render;
pub mod rules;
pub mod source;
pub mod sysctl;
pub mod topology;
pub mod yaml;
