//! The socket view (`twlint observe`): this network namespace's TCP sockets, counted rather
//! than listed. It owns reading the socket table (netlink `sock_diag` first, `/proc/net/tcp`
//! and `tcp6` where netlink is refused, or a captured /proc-like folder for replay), the
//! ephemeral port range it is judged against, the owners of CLOSE_WAIT sockets, and the
//! [`SocketSummary`] those become: TIME_WAIT per remote and per local address, CLOSE_WAIT per
//! owning process, ephemeral-port pressure per (local address, remote address, remote port),
//! and totals per state and family.
//!
//! Sockets are aggregated as they are read, into maps keyed by small fixed-size keys, so memory
//! grows with the number of peers and tuples, not with the number of sockets; only CLOSE_WAIT
//! sockets are remembered one by one (their inodes), to find the processes that own them.
//! The JSON form of [`SocketSummary`] is a contract (version [`SUMMARY_VERSION`], documented
//! in docs/reference/json-report.md, "Socket summary JSON").

mod aggregate;
pub mod human;
mod netlink;
mod owners;
mod procnet;
mod summary;

pub use summary::*;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Version of the JSON summary; bumped when a field changes meaning or disappears.
pub const SUMMARY_VERSION: u32 = 1;

/// How long a socket stays in TIME_WAIT on Linux (`TCP_TIMEWAIT_LEN`, not tunable).
pub const TIME_WAIT_SECS: f64 = 60.0;

/// The kernel's TCP states, numbered as in `include/net/tcp_states.h` (and in the `st`
/// column of /proc/net/tcp). Request sockets (`TCP_NEW_SYN_RECV`) are reported as SYN_RECV
/// by both netlink and /proc, as `ss` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum TcpState {
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
}

impl TcpState {
    pub const ALL: [TcpState; 11] = [
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::Closing,
    ];

    pub fn from_number(n: u8) -> Option<TcpState> {
        TcpState::ALL.get(usize::from(n).wrapping_sub(1)).copied()
    }

    /// The JSON and `--state` name: snake case.
    pub fn name(self) -> &'static str {
        match self {
            TcpState::Established => "established",
            TcpState::SynSent => "syn_sent",
            TcpState::SynRecv => "syn_recv",
            TcpState::FinWait1 => "fin_wait1",
            TcpState::FinWait2 => "fin_wait2",
            TcpState::TimeWait => "time_wait",
            TcpState::Close => "close",
            TcpState::CloseWait => "close_wait",
            TcpState::LastAck => "last_ack",
            TcpState::Listen => "listen",
            TcpState::Closing => "closing",
        }
    }

    /// The name `ss` prints, for the human table.
    pub fn ss_name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTAB",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynRecv => "SYN-RECV",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::TimeWait => "TIME-WAIT",
            TcpState::Close => "UNCONN",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::LastAck => "LAST-ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
        }
    }

    /// Accepts the snake-case name, the `ss` name, or `ss`'s state-filter spelling
    /// (`time-wait`), case-insensitively.
    pub fn parse(s: &str) -> Option<TcpState> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        TcpState::ALL.into_iter().find(|st| {
            st.name() == norm
                || st.ss_name().to_ascii_lowercase().replace('-', "_") == norm
                || (norm == "fin_wait_1" && *st == TcpState::FinWait1)
                || (norm == "fin_wait_2" && *st == TcpState::FinWait2)
        })
    }

    pub(crate) fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of TCP states: the sockets counted. As a netlink request it is the kernel-side state
/// filter (`idiag_states`), so sockets in other states never reach twlint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateSet(u32);

impl StateSet {
    pub fn all() -> StateSet {
        StateSet(TcpState::ALL.iter().fold(0, |m, s| m | s.bit()))
    }
    pub fn empty() -> StateSet {
        StateSet(0)
    }
    pub fn with(self, s: TcpState) -> StateSet {
        StateSet(self.0 | s.bit())
    }
    pub fn contains(self, s: TcpState) -> bool {
        self.0 & s.bit() != 0
    }
    pub fn is_all(self) -> bool {
        self == StateSet::all()
    }
    pub fn states(self) -> impl Iterator<Item = TcpState> {
        TcpState::ALL.into_iter().filter(move |s| self.contains(*s))
    }
    pub(crate) fn mask(self) -> u32 {
        self.0
    }
}

impl Default for StateSet {
    fn default() -> StateSet {
        StateSet::all()
    }
}

/// Where the live socket table is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reader {
    /// netlink sock_diag, and /proc/net/tcp{,6} when netlink is refused.
    #[default]
    Auto,
    /// netlink only: refusal is an error.
    Netlink,
    /// /proc/net/tcp and tcp6 only.
    Proc,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The states counted (the kernel-side filter). Listening sockets are always read, apart,
    /// to tell accepted connections from ones this host opened.
    pub states: StateSet,
    /// Take two samples this far apart and derive per-tuple rates (live only).
    pub interval: Option<Duration>,
    pub reader: Reader,
    /// Do not look for the processes that own CLOSE_WAIT sockets.
    pub skip_owners: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0} holds neither net/tcp nor net/tcp6: it is not a /proc-like folder")]
    NoSocketTables(PathBuf),
    #[error("netlink sock_diag refused: {0}")]
    Netlink(std::io::Error),
    #[error("--interval needs two live samples; a captured folder is one moment")]
    IntervalOnReplay,
}

/// Reads this network namespace's TCP sockets (netlink first, /proc as the fallback) and
/// summarises them; with `interval`, takes two samples that far apart (blocking meanwhile).
pub fn collect(options: &Options) -> Result<SocketSummary, SocketError> {
    let proc_root = Path::new("/proc");
    let range = procnet::read_port_range(&proc_root.join("sys/net/ipv4"), true)?;
    let interval_ms = options
        .interval
        .map(|d| d.as_millis().min(u32::MAX as u128) as u32);
    let (first, source) = live_sample(options, &range, interval_ms)?;
    let (agg, rates) = match options.interval {
        Some(d) => {
            std::thread::sleep(d);
            let (second, _) = live_sample(options, &range, interval_ms)?;
            let rates = aggregate::rates(&first, &second, d.as_secs_f64());
            (second, Some(rates))
        }
        None => (first, None),
    };
    Ok(agg.finish(
        source,
        &range,
        options,
        rates,
        owners::resolver(proc_root, options),
    ))
}

fn live_sample(
    options: &Options,
    range: &procnet::PortRange,
    interval_ms: Option<u32>,
) -> Result<(aggregate::Aggregator, Source), SocketError> {
    let mut agg = aggregate::Aggregator::new(options.states, range, interval_ms);
    if options.reader != Reader::Proc {
        match netlink::dump(&mut agg, options.states) {
            Ok(()) => {
                return Ok((
                    agg,
                    Source {
                        kind: SourceKind::Netlink,
                        path: None,
                        fallback_reason: None,
                    },
                ))
            }
            Err(e) if options.reader == Reader::Netlink => return Err(SocketError::Netlink(e)),
            Err(e) => {
                let mut agg = aggregate::Aggregator::new(options.states, range, interval_ms);
                procnet::read_tables(Path::new("/proc"), &mut agg)?;
                return Ok((
                    agg,
                    Source {
                        kind: SourceKind::Proc,
                        path: Some("/proc/net".into()),
                        fallback_reason: Some(format!("netlink sock_diag refused: {e}")),
                    },
                ));
            }
        }
    }
    procnet::read_tables(Path::new("/proc"), &mut agg)?;
    Ok((
        agg,
        Source {
            kind: SourceKind::Proc,
            path: Some("/proc/net".into()),
            fallback_reason: None,
        },
    ))
}

/// Summarises a captured /proc-like folder: `net/tcp` and `net/tcp6` (either may be missing,
/// not both), `sys/net/ipv4/ip_local_port_range` and `ip_local_reserved_ports` when present
/// (the kernel defaults otherwise, and the summary says so), and `<pid>/fd/*` links with
/// `<pid>/comm` to attribute CLOSE_WAIT sockets. A sosreport's `proc/` folder, or `/proc`
/// itself, has that layout.
pub fn collect_from_proc_dir(root: &Path, options: &Options) -> Result<SocketSummary, SocketError> {
    if options.interval.is_some() {
        return Err(SocketError::IntervalOnReplay);
    }
    let range = procnet::read_port_range(&root.join("sys/net/ipv4"), false)?;
    let mut agg = aggregate::Aggregator::new(options.states, &range, None);
    procnet::read_tables(root, &mut agg)?;
    let source = Source {
        kind: SourceKind::Replay,
        path: Some(root.display().to_string()),
        fallback_reason: None,
    };
    Ok(agg.finish(
        source,
        &range,
        options,
        None,
        owners::resolver(root, options),
    ))
}
