//! twlint: a sysctl tuning advisor and linter for the Linux TCP settings that decide what
//! happens when connections close (TIME_WAIT, CLOSE_WAIT, port exhaustion).
//!
//! The library reads sysctl files and dumps (`sysctl`), topologies (`topology`, over `yaml`),
//! and the rule catalog (`rules`); it resolves each node's effective values (`config`, with the
//! kernel knowledge in `kernel`), derives per-hop facts (`facts`), evaluates the rules into
//! verdicts and diagnostics (`engine`), and renders reports (`render`). In host mode (`host`) it
//! reads one machine's live values, identity and counters, or a capture of them; `sockets` is
//! the socket view of a host (`twlint observe`). The command line is `cli`: it writes to the
//! streams it is given and returns the exit code; nothing here prints to the process's own
//! streams or exits, and the binary in `src/main.rs` only wires them.

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod advise;
pub mod build_info;
pub mod cli;
pub mod config;
pub mod contain;
pub mod diag;
pub mod engine;
pub mod error;
pub mod facts;
pub mod fleet;
pub mod host;
pub mod kernel;
pub mod read;
pub mod render;
pub mod rules;
pub mod schema;
pub mod settings;
pub mod sockets;
pub mod source;
pub mod suppress;
pub mod sysctl;
pub mod topology;
pub mod yaml;
