//! Host mode: what twlint reads on (or from a capture of) one machine, and how that machine is
//! tied to a node of the topology.
//!
//! This module owns the [`HostSnapshot`]: the in-scope sysctl values of one network namespace,
//! the kernel release, the machine's identity (hostname, addresses, network namespace) and the
//! TcpExt/sockstat counters. It is read either live from `/proc` or from a folder laid out like
//! it ([`read`]): a twlint snapshot (`twlint snapshot --out`), an sosreport tree, or any copy of
//! `/proc`. Every capture keeps the files it was made from verbatim, so one replay path serves
//! all three, and a snapshot written here ([`snapshot`]) is judged elsewhere exactly as it was
//! here. `identify` decides which node of a topology this host is, `judge` judges the topology
//! with that node's live values laid over its declared ones (a `crate::judge::Overlay`), and
//! `evidence` attaches counters to the verdicts they bear on, as declared in the rule files.
//!
//! Nothing here ever writes a sysctl: the only writes are a snapshot's files in the folder the
//! user named.

pub mod counters;
pub mod evidence;
pub mod identify;
pub mod judge;
pub mod read;
pub mod snapshot;
pub mod sockets;

pub use counters::Counters;
pub use identify::{identify, Match, MatchedBy};
pub use read::{read, HostSource};

use crate::kernel::KernelVersion;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// The in-scope keys host mode reads: every key twlint knows (judged ones and their
/// companions), never a whole `sysctl -a`.
pub fn keys() -> impl Iterator<Item = &'static str> {
    crate::kernel::KEYS.iter().map(|s| s.key)
}

/// Where a capture was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// This machine's `/proc`, now.
    Live,
    /// A folder written by `twlint snapshot`.
    Snapshot(PathBuf),
    /// An sosreport tree (`proc/`, `sos_commands/`).
    Sosreport(PathBuf),
    /// A folder laid out like `/` (with `proc/`) or like `/proc` itself.
    ProcTree(PathBuf),
}

impl Origin {
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::Live => "live",
            Origin::Snapshot(_) => "snapshot",
            Origin::Sosreport(_) => "sosreport",
            Origin::ProcTree(_) => "proc-tree",
        }
    }

    /// The folder a replay reads, `None` for a live read.
    pub fn dir(&self) -> Option<&PathBuf> {
        match self {
            Origin::Live => None,
            Origin::Snapshot(d) | Origin::Sosreport(d) | Origin::ProcTree(d) => Some(d),
        }
    }
}

/// Which network namespace the values belong to. Every in-scope key is per namespace, and a new
/// namespace starts from the kernel's defaults, not from the host's values (KERNEL-FACTS 1.9):
/// values read in a container or pod say nothing about the host, and the reverse.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Netns {
    /// The inode of the namespace (`/proc/self/ns/net` reads `net:[INODE]`).
    pub inode: Option<u64>,
    /// Whether it is the initial (host) namespace; `None` when that cannot be told.
    pub initial: Option<bool>,
    /// How `initial` was decided, or why it could not be.
    pub how: String,
}

/// Who this machine is, as far as the capture says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    pub hostname: Option<String>,
    /// Local addresses, loopback left out (they identify no one).
    pub addresses: Vec<IpAddr>,
    pub netns: Netns,
}

/// Why a key could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// No such file: the kernel (or this namespace) does not have the key.
    Absent,
    /// The file exists but may not be read by this user.
    Permission,
    /// Anything else (an I/O error, a value that is not text).
    Other(String),
}

impl Unreadable {
    pub fn reason(&self) -> String {
        match self {
            Unreadable::Absent => "absent: this kernel or namespace has no such key".into(),
            Unreadable::Permission => "permission denied".into(),
            Unreadable::Other(e) => e.clone(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Unreadable::Absent => "absent",
            Unreadable::Permission => "permission",
            Unreadable::Other(_) => "error",
        }
    }
}

/// One file of a capture, kept verbatim: what a snapshot writes and a replay reads back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedFile {
    /// Path inside a snapshot folder (`proc/sys/net/ipv4/tcp_tw_reuse`).
    pub rel: String,
    pub text: String,
}

/// Everything host mode reads from one machine. Each section is read and written on its own,
/// so a new kind of evidence is one more field and its own files in the folder.
#[derive(Debug, Clone)]
pub struct HostSnapshot {
    pub origin: Origin,
    pub identity: Identity,
    /// The release as the kernel prints it (`6.18.44-...`), and the file it came from.
    pub release: Option<(String, String)>,
    /// In-scope values as the kernel prints them, fields joined by one space.
    pub values: BTreeMap<&'static str, String>,
    /// Where each value was read (a path under the capture, or a line of an sosreport's
    /// `sysctl -a`).
    pub value_sources: BTreeMap<&'static str, String>,
    pub unreadable: BTreeMap<&'static str, Unreadable>,
    pub counters: Counters,
    /// When a snapshot was taken (RFC 3339, UTC), for replays of twlint snapshots.
    pub taken_at: Option<String>,
    /// The files this capture was made from, verbatim (values, release, hostname, counters).
    pub files: Vec<CapturedFile>,
    /// The socket view, once read ([`sockets::read`]; kept apart from [`read()`] so that reading
    /// the values stays as cheap as `sysctl -n`).
    pub sockets: Option<sockets::SocketCapture>,
}

impl HostSnapshot {
    /// Reads the socket view of this capture and makes its figures citable as evidence.
    pub fn read_sockets(&mut self) -> Result<(), HostError> {
        let capture = sockets::read(&self.origin)?;
        self.attach_sockets(capture);
        Ok(())
    }

    /// Keeps a socket view read by [`sockets::read`] of this capture's origin and makes its
    /// figures citable as evidence. Apart from the reading, so that a run can read the sockets
    /// on one thread while it judges on another: only evidence needs them.
    pub fn attach_sockets(&mut self, mut capture: sockets::SocketCapture) {
        if let Some(s) = &capture.summary {
            self.counters.sockets = sockets::figures(
                s,
                self.values
                    .get("net.ipv4.tcp_max_tw_buckets")
                    .map(String::as_str),
            );
            capture.caveat = sockets::range_caveat(
                s,
                self.values
                    .get("net.ipv4.ip_local_port_range")
                    .map(String::as_str),
            );
            if capture.caveat.is_some() {
                self.counters
                    .sockets
                    .remove(crate::counters::MAX_TUPLE_PORTS_IN_USE);
                self.counters
                    .sockets
                    .remove(crate::counters::MAX_TUPLE_PORTS_PERCENT);
            }
        }
        self.sockets = Some(capture);
    }

    pub fn kernel(&self) -> Option<KernelVersion> {
        self.release
            .as_ref()
            .and_then(|(r, _)| KernelVersion::parse(r))
    }
}

/// The message of [`HostError::OutsideCapture`]: every link named with where it leads (a path,
/// never what the file there holds).
fn outside_capture(root: &std::path::Path, links: &[(PathBuf, PathBuf)]) -> String {
    let named: Vec<String> = links
        .iter()
        .map(|(path, target)| format!("{} leads to {}", path.display(), target.display()))
        .collect();
    format!(
        "the capture {} links outside itself ({}); twlint does not read it: a capture must not make twlint read files of the machine it runs on",
        root.display(),
        named.join("; ")
    )
}

/// Errors of host mode: the capture cannot be read at all, or the host cannot be placed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("{path} is not a host capture: it has neither proc/sys/ (a twlint snapshot, an sosreport or a copy of /), sys/net/ (a copy of /proc) nor sos_commands/")]
    NotACapture { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    BadManifest { path: PathBuf, message: String },
    /// Files of a capture (`--root`) that are links leading out of it: (the path in the
    /// capture, where it leads). Nothing of the reading is used.
    #[error("{}", outside_capture(.root, .links))]
    OutsideCapture {
        root: PathBuf,
        links: Vec<(PathBuf, PathBuf)>,
    },
    #[error("{0}")]
    Identify(String),
    #[error("cannot write the snapshot: {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not empty; give --force to write the snapshot into it anyway (only twlint's own files are replaced)")]
    NotEmpty { path: PathBuf },
    #[error(transparent)]
    Library(#[from] crate::error::Error),
}
