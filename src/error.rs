//! The library's errors: failures that stop twlint from doing its job.
//!
//! Problems in what the user wrote are [`crate::diag::Diagnostic`]s, not errors. Only I/O
//! failures and a rule that fails while it runs end up here;
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
    #[error(
        "{path}:{line}:{column}: a NUL byte: this is binary data, not a text file twlint can read"
    )]
    Binary {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    #[error("{path} holds no `*.conf` file: there is nothing to lint in this folder")]
    EmptyFolder { path: PathBuf },
    #[error("{path} holds no rule file (`*.yaml` or `*.yml`): name a folder of rule files")]
    NoRuleFile { path: PathBuf },
    #[error("{path} leads to {target}, outside the topology's folder; twlint does not read it (pass --allow-outside-paths if you trust this topology)")]
    Outside { path: PathBuf, target: PathBuf },
    #[error("{path} is a {format} file: each of its units is judged as a node of its own, so twlint reads it only when it is named on the command line, not inside a folder or a topology's sysctl.files")]
    Units { path: PathBuf, format: &'static str },
    #[error("{path} (standard input) is a sysctl file that would join the other files named in one set, applied in their order; twlint reads such a set from disk only: save it to a file and name that, or lint standard input on its own")]
    StdinInSet { path: PathBuf },
    #[error("{path}:{line}: not in a format twlint reads (this line is no sysctl assignment, and no other reader recognises the file); twlint reads: {formats}; force one with --input-format")]
    Unrecognised {
        path: PathBuf,
        line: usize,
        formats: String,
    },
    #[error("{0}")]
    RuleFailed(String),
}

pub type Result<T> = std::result::Result<T, Error>;
