//! twlint: a sysctl tuning advisor and linter for the Linux TCP settings that decide what
//! happens when connections close (TIME_WAIT, CLOSE_WAIT, port exhaustion).
//!
//! The library reads sysctl files, folders and dumps through one seam of readers (`inputs`),
//! topologies (`topology`, over `yaml`), and the rule catalog (`rules`); it resolves which
//! assignment wins (`sysctl`) and each node's effective values (`config`, with the kernel
//! knowledge in `kernel`), derives per-hop facts (`facts`), evaluates the rules into verdicts
//! and diagnostics (`judge`), which it records in a `report`, and renders reports (`render`).
//! Data flows one way: inputs -> effective values -> facts -> rules -> report -> render. In
//! host mode (`host`) it reads one machine's live values, identity and counters, or a capture of
//! them, and judges them as values laid over the node's declared ones; `sockets` is the socket
//! view of a host (`twlint observe`). Below them all sit small shared pieces: the thread pool
//! (`pool`), the counter names rules cite (`counters`), how numbers are written (`number`) and
//! what a suppression is (`suppress`). The command line is `cli`: it writes to the streams it is
//! given and returns the exit code; nothing here prints to the process's own streams or exits,
//! and the binary in `src/main.rs` only wires them.

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod address;
pub mod advise;
pub mod baseline;
pub mod build_info;
pub mod bytes;
pub mod cli;
pub mod code;
pub mod config;
pub mod contain;
pub mod counters;
pub mod diag;
pub mod error;
pub mod facts;
pub mod fix;
pub mod host;
pub mod inputs;
pub mod judge;
pub mod kernel;
pub mod kubernetes;
pub mod middlebox;
pub mod number;
pub mod pool;
pub mod read;
pub mod render;
pub mod report;
pub mod rules;
pub mod schema;
pub mod settings;
pub mod sockets;
pub mod source;
pub mod suppress;
pub mod sysctl;
pub mod topology;
pub mod yaml;
