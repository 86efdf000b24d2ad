//! The library's errors: failures that stop twlint from doing its job.
//!
//! Problems in what the user wrote are [`crate::diag::Diagnostic`]s, not errors. Only I/O
//! failures, a rule pack that cannot be loaded and bad requests (an unknown rule id) end up here;
//! the CLI prints them and exits with code 2.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a file or directory that twlint can read")]
    NotReadable { path: PathBuf },
    #[error("{path} is larger than {limit} bytes; twlint refuses to read it whole")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("unknown rule `{0}`; run `twlint rules` to list them")]
    UnknownRule(String),
    #[error("invalid kernel version `{0}`: expected a release such as 5.15 or 6.8.0-45-generic")]
    KernelVersion(String),
    #[error("the rule files have errors")]
    Rules,
    #[error("{0}")]
    RuleFailed(String),
}

pub type Result<T> = std::result::Result<T, Error>;
