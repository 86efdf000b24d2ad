//! The socket summary: what `twlint observe` prints and what host runs and snapshots embed.
//! Its JSON form (serde) is a versioned contract documented in docs/reference/json-report.md; fields may be added,
//! never renamed or dropped without bumping [`super::SUMMARY_VERSION`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketSummary {
    pub version: u32,
    pub source: Source,
    /// The states counted, snake case (`time_wait`); all of them unless `--state` narrowed it.
    pub states: Vec<String>,
    pub totals: Totals,
    pub time_wait: TimeWaitView,
    pub close_wait: CloseWaitView,
    pub ephemeral: EphemeralView,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// netlink sock_diag, this process's network namespace
    Netlink,
    /// /proc/net/tcp and tcp6 of this process's network namespace
    Proc,
    /// a captured /proc-like folder
    Replay,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub kind: SourceKind,
    /// The folder read (`/proc/net`, or the replayed folder); null for netlink.
    pub path: Option<String>,
    /// Why netlink was not used, when twlint fell back to /proc.
    pub fallback_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Sockets counted (in the counted states).
    pub sockets: u64,
    pub ipv4: u64,
    /// IPv6 sockets, including IPv4-mapped ones (`::ffff:a.b.c.d`).
    pub ipv6: u64,
    /// Every counted state with its number, zeros included.
    pub by_state: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// This host connected to `address:port`.
    Outbound,
    /// `address` connected to this host's listening `port`.
    Inbound,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteCount {
    pub address: IpAddr,
    /// The connection's service port: the remote port for outbound connections, this host's
    /// listening port for inbound ones (whose remote ports are ephemeral and meaningless here).
    pub port: u16,
    pub direction: Direction,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressCount {
    pub address: IpAddr,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeWaitView {
    pub total: u64,
    /// Largest first; every remote.
    pub by_remote: Vec<RemoteCount>,
    /// Largest first; every local address.
    pub by_local: Vec<AddressCount>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerLookup {
    /// The /proc/<pid>/fd walk ran and saw every process it tried.
    Done,
    /// It ran, but some processes could not be read (they exited, or their folders lead out
    /// of a replayed folder).
    Partial,
    /// It ran without root and was refused some processes: run as root to see them all.
    Denied,
    /// It did not run: no CLOSE_WAIT socket, or `--no-owners`.
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessCount {
    pub pid: u32,
    pub command: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloseWaitView {
    pub total: u64,
    /// Largest first.
    pub by_process: Vec<ProcessCount>,
    /// CLOSE_WAIT sockets whose owner was not found (another PID namespace, an exited process,
    /// a process twlint may not read, or a replay without fd links).
    pub unattributed: u64,
    pub owner_lookup: OwnerLookup,
    /// The plain statement: no sysctl fixes CLOSE_WAIT.
    pub advice: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeSource {
    /// Read from /proc/sys of this namespace.
    Live,
    /// Read from the replayed folder.
    Replay,
    /// Not in the replayed folder: the kernel default (32768 60999, nothing reserved).
    Default,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortRangeView {
    pub low: u16,
    pub high: u16,
    pub source: RangeSource,
    /// Ports of `ip_local_reserved_ports` inside the range.
    pub reserved_in_range: u32,
    /// Ports connect() may pick per tuple: range minus reserved.
    pub usable: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuplePressure {
    pub local: IpAddr,
    pub remote: IpAddr,
    pub remote_port: u16,
    /// Local ports of the range held on this tuple, in any counted state (TIME_WAIT included).
    pub in_use: u64,
    /// Of which in TIME_WAIT.
    pub time_wait: u64,
    pub usable: u32,
    /// New connections per second on this tuple between the two samples; null without
    /// `--interval`.
    pub rate_per_sec: Option<f64>,
    /// Net growth of `in_use` per second between the two samples; null without `--interval`.
    pub growth_per_sec: Option<f64>,
    /// Seconds until `in_use` reaches `usable` at the observed growth: 0 when it already has,
    /// null when the rate is unknown, `in_use` is not growing, or the steady state fits.
    pub exhausted_in_secs: Option<f64>,
    /// Seconds a closed connection keeps its port from connect(): 60 (TIME_WAIT) where this
    /// host closes first (the tuple holds TIME_WAIT sockets), the reuse delay where
    /// tcp_tw_reuse takes TIME_WAIT ports over, 0 where the peer closes first; null in a
    /// summary written before twlint computed it.
    #[serde(default)]
    pub hold_secs: Option<f64>,
    /// Ports the tuple holds once the observed rate has run for a whole hold: the open
    /// connections plus rate x hold; null without `--interval`.
    #[serde(default)]
    pub steady_state_in_use: Option<f64>,
    /// `steady_state_in_use` as a share of `usable`, in percent: below 100 the tuple never runs
    /// out at this rate, whatever its growth now.
    #[serde(default)]
    pub steady_state_percent: Option<f64>,
}

/// What lets connect() take over a TIME_WAIT port here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReuseView {
    /// What `tcp_tw_reuse` does: 0 off, 1 every destination, 2 loopback only.
    pub tw_reuse: i64,
    /// `tcp_tw_reuse_delay` (1000 where the kernel has no such key).
    pub reuse_delay_ms: u32,
    /// `tcp_timestamps` is not 0 (reuse needs them).
    pub timestamps: bool,
}

impl Default for ReuseView {
    /// The kernel defaults since 4.19 (what a replayed folder without the files is judged as).
    fn default() -> ReuseView {
        ReuseView {
            tw_reuse: 2,
            reuse_delay_ms: 1000,
            timestamps: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EphemeralView {
    pub range: PortRangeView,
    /// usable / 60 s: the new connections per second a tuple sustains when this host closes
    /// first and tcp_tw_reuse cannot take over TIME_WAIT ports.
    pub sustainable_per_sec_without_reuse: f64,
    /// The sampling interval in seconds; null when one sample was taken (rates unknown).
    pub interval_secs: Option<f64>,
    /// tcp_tw_reuse and what it needs, as read next to the range.
    #[serde(default)]
    pub reuse: ReuseView,
    /// Most ports in use first; every tuple with at least one port of the range in use.
    pub tuples: Vec<TuplePressure>,
}
