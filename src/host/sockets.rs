//! The socket view of the host a run reads, and the figures of it that rules cite as evidence.
//!
//! Live, the view is `sockets::collect` of this network namespace. A twlint snapshot carries the
//! summary it took ([`FILE`], next to the manifest), so a replay shows the figures of the moment
//! it was taken; an sosreport or a copy of `/proc` is summarised from its `net/tcp` and
//! `net/tcp6`. A capture without either has no socket data, and the run says so rather than
//! showing zeros. Reading the sockets never fails a run: what went wrong is the note.
//!
//! [`figures`] turns a summary into named numbers that rule files cite under `evidence:` like the
//! TcpExt counters (`close_wait`, `max_tuple_ports_in_use`, ...): the sockets now, not totals.

use super::{HostError, Origin};
use crate::counters::{
    CLOSE_WAIT, MAX_TUPLE_PORTS_IN_USE, MAX_TUPLE_PORTS_PERCENT, TIME_WAIT_BUCKETS_PERCENT,
};
use crate::sockets::{self, SocketSummary};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file of a twlint snapshot that holds its socket summary (JSON, `sockets::SocketSummary`).
pub const FILE: &str = "sockets.json";

/// Largest `sockets.json` read back: a summary grows with peers, never with sockets; 64 MiB is
/// hundreds of thousands of peers.
const MAX_FILE: u64 = 64 << 20;

/// The socket view of one host, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct SocketCapture {
    pub summary: Option<SocketSummary>,
    /// Why `summary` is missing.
    pub missing: Option<String>,
    /// What the summary cannot be trusted for, when the capture disagrees with itself (its
    /// port range known only from `sysctl -a`, so the view counted the kernel default's ports).
    pub caveat: Option<String>,
}

impl SocketCapture {
    fn none(why: String) -> SocketCapture {
        SocketCapture {
            summary: None,
            missing: Some(why),
            caveat: None,
        }
    }
}

/// The folder that plays `/proc` in a replayed tree: `DIR/proc` when there is one, else `DIR`.
fn proc_of(dir: &Path) -> PathBuf {
    let p = dir.join("proc");
    if p.is_dir() {
        p
    } else {
        dir.to_path_buf()
    }
}

/// A reading of this machine's socket view started ahead of the run that needs it.
///
/// Live, reading the sockets costs the kernel a walk of its whole established hash, however
/// few sockets there are (262,144 buckets and 1.5 ms of system time on a 24 GiB machine): a
/// run that will judge this host as a node (`--live`, `--node`) starts it first, on a thread
/// of its own, so that it overlaps loading the rules and the topology and judging them. The
/// result is the same reading [`read`] makes; a run that turns out not to need it drops it.
pub struct Pending(std::thread::JoinHandle<Result<SocketCapture, HostError>>);

impl Pending {
    /// Starts reading the socket view of `origin`.
    pub fn start(origin: Origin) -> Pending {
        Pending(crate::pool::spawn(move || read(&origin)))
    }

    /// The reading, once it is done; a panic on its thread is raised here.
    pub fn wait(self) -> Result<SocketCapture, HostError> {
        self.0
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }
}

/// Reads the socket view for a capture of `origin`. Only a `sockets.json` that is there but is
/// not a summary is an error (a damaged snapshot); everything else is a note.
pub fn read(origin: &Origin) -> Result<SocketCapture, HostError> {
    let options = sockets::Options::default();
    match origin {
        Origin::Live => Ok(match sockets::collect(&options) {
            Ok(s) => SocketCapture {
                summary: Some(s),
                missing: None,
                caveat: None,
            },
            Err(e) => SocketCapture::none(format!("the socket table could not be read: {e}")),
        }),
        Origin::Snapshot(dir) => {
            let path = dir.join(FILE);
            if !path.exists() {
                return Ok(SocketCapture::none(format!(
                    "this snapshot has no socket data (no {FILE}: taken by an older twlint)"
                )));
            }
            inside(dir, std::slice::from_ref(&path))?;
            let text = crate::read::read_text(&path, MAX_FILE)?;
            let summary: SocketSummary =
                serde_json::from_str(&text).map_err(|e| HostError::BadManifest {
                    path: path.clone(),
                    message: format!("not a socket summary: {e}"),
                })?;
            if summary.version != sockets::SUMMARY_VERSION {
                return Err(HostError::BadManifest {
                    path,
                    message: format!(
                        "socket summary version {} is not one this twlint reads ({})",
                        summary.version,
                        sockets::SUMMARY_VERSION
                    ),
                });
            }
            Ok(SocketCapture {
                summary: Some(summary),
                missing: None,
                caveat: None,
            })
        }
        Origin::Sosreport(dir) | Origin::ProcTree(dir) => {
            let proc = proc_of(dir);
            // The same containment rule as the rest of the capture (host::read): the socket
            // tables of the machine twlint runs on are not the capture's.
            inside(
                dir,
                &[
                    "net/tcp",
                    "net/tcp6",
                    "sys/net/ipv4/ip_local_port_range",
                    "sys/net/ipv4/ip_local_reserved_ports",
                ]
                .map(|r| proc.join(r)),
            )?;
            if !proc.join("net/tcp").is_file() && !proc.join("net/tcp6").is_file() {
                return Ok(SocketCapture::none(format!(
                    "this capture has no socket data (no net/tcp or net/tcp6 under {})",
                    proc.display()
                )));
            }
            Ok(match sockets::collect_from_proc_dir(&proc, &options) {
                Ok(s) => SocketCapture {
                    summary: Some(s),
                    missing: None,
                    caveat: None,
                },
                Err(e) => SocketCapture::none(format!("the capture's socket table: {e}")),
            })
        }
    }
}

/// Refuses the capture `dir` when any of `paths` is a link leading out of it.
fn inside(dir: &Path, paths: &[PathBuf]) -> Result<(), HostError> {
    let links: Vec<(PathBuf, PathBuf)> = paths
        .iter()
        .filter_map(|p| match crate::contain::check_real(dir, p) {
            Err(crate::contain::Outside::Link(target)) => Some((p.clone(), target)),
            _ => None,
        })
        .collect();
    if links.is_empty() {
        Ok(())
    } else {
        Err(HostError::OutsideCapture {
            root: dir.to_path_buf(),
            links,
        })
    }
}

/// The caveat for a replayed summary that counted the kernel default range while the host's
/// own range (`live_range`, from an sosreport's `sysctl -a`) is another one: the ports in use
/// per tuple were counted in the wrong range.
pub fn range_caveat(s: &SocketSummary, live_range: Option<&str>) -> Option<String> {
    let r = &s.ephemeral.range;
    if r.source != crate::sockets::RangeSource::Default {
        return None;
    }
    let live = live_range?;
    let mut f = live.split_whitespace().map(|p| p.parse::<u16>().ok());
    let (Some(Some(low)), Some(Some(high))) = (f.next(), f.next()) else {
        return None;
    };
    if (low, high) == (r.low, r.high) {
        return None;
    }
    Some(format!(
        "the capture has no proc/sys/net/ipv4/ip_local_port_range: the socket view counted the ports of the kernel default range {}-{}, not the host's {low}-{high}; its port figures are left out of the evidence",
        r.low, r.high
    ))
}

/// The evidence figures of a summary. `max_tw_buckets` is the host's live value, when read
/// (`-1` or unreadable: no percentage, since the memory-dependent default is not known here).
pub fn figures(s: &SocketSummary, max_tw_buckets: Option<&str>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    out.insert(CLOSE_WAIT.to_string(), s.close_wait.total);
    let worst = s.ephemeral.tuples.iter().max_by_key(|t| t.in_use);
    let in_use = worst.map_or(0, |t| t.in_use);
    out.insert(MAX_TUPLE_PORTS_IN_USE.to_string(), in_use);
    if let Some(p) = (in_use * 100).checked_div(u64::from(s.ephemeral.range.usable)) {
        out.insert(MAX_TUPLE_PORTS_PERCENT.to_string(), p);
    }
    let buckets = max_tw_buckets.and_then(|b| b.trim().parse::<u64>().ok());
    if let Some(p) = buckets.and_then(|b| (s.time_wait.total * 100).checked_div(b)) {
        out.insert(TIME_WAIT_BUCKETS_PERCENT.to_string(), p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> SocketSummary {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/host/sosreport-web");
        match read(&Origin::Sosreport(dir)).unwrap() {
            SocketCapture {
                summary: Some(s), ..
            } => s,
            other => panic!("no summary: {other:?}"),
        }
    }

    #[test]
    fn figures_are_the_busiest_tuple_and_close_wait() {
        let s = summary();
        let f = figures(&s, Some("1000"));
        assert_eq!(f[CLOSE_WAIT], s.close_wait.total);
        assert!(
            s.close_wait.total > 0,
            "the fixture holds CLOSE_WAIT sockets"
        );
        let worst = s.ephemeral.tuples.iter().map(|t| t.in_use).max().unwrap();
        assert_eq!(f[MAX_TUPLE_PORTS_IN_USE], worst);
        assert_eq!(
            f[MAX_TUPLE_PORTS_PERCENT],
            worst * 100 / u64::from(s.ephemeral.range.usable)
        );
        assert_eq!(f[TIME_WAIT_BUCKETS_PERCENT], s.time_wait.total * 100 / 1000);
        // The memory-dependent default (-1) has no known size: no percentage.
        assert!(!figures(&s, Some("-1")).contains_key(TIME_WAIT_BUCKETS_PERCENT));
    }

    #[test]
    fn a_capture_without_socket_tables_says_so() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/host/proc-db");
        let c = read(&Origin::ProcTree(dir)).unwrap();
        assert!(c.summary.is_none());
        assert!(c.missing.unwrap().contains("no socket data"));
    }
}
