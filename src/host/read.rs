//! Reading a [`HostSnapshot`]: live from `/proc`, or replayed from a folder.
//!
//! Only the in-scope keys are read, one small file each under `proc/sys/net/ipv4/` (a full
//! `sysctl -a` costs about 30 times more and reads keys twlint never judges). A replay accepts
//! three layouts with one code path, because all of them hold a copy of `/proc`:
//!
//! - a twlint snapshot: `proc/...` plus `twlint-snapshot.json` (hostname, addresses, network
//!   namespace and the keys that could not be read when it was taken);
//! - an sosreport tree: `proc/...` where sos copied it, and `sos_commands/kernel/sysctl_-a`,
//!   `sos_commands/kernel/uname_-a`, `hostname` and `sos_commands/networking/ip_-o_addr` for
//!   what it did not copy;
//! - a folder laid out like `/` (with `proc/`) or like `/proc` itself (`sys/`, `net/`).
//!
//! A key that cannot be read is recorded with the reason (absent on this kernel, permission),
//! never fatal.

use super::counters::{self, Counters};
use super::snapshot::{Manifest, MANIFEST};
use super::{CapturedFile, HostError, HostSnapshot, Identity, Netns, Origin, Unreadable};
use crate::contain::Outside;
use crate::kernel::ValueKind;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};
use std::path::{Path, PathBuf};

/// What to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostSource {
    /// This machine, now (`/proc`).
    Live,
    /// A capture: a twlint snapshot, an sosreport, or a folder laid out like `/` or `/proc`.
    Root(PathBuf),
}

/// Largest file read from a capture; every file host mode reads is far smaller (a routing
/// table in `fib_trie` is the largest, and a full BGP table is about 100 MB: then addresses
/// are left out rather than read without bound).
const MAX_FILE: u64 = 16 * 1024 * 1024;

/// The inode the kernel reserves for the initial network namespace (0xEFFFFFF9, seen on 6.18;
/// the release that made it fixed is UNVERIFIED). Dynamic namespace inodes start at
/// 0xF0000000, so no other namespace can have it; on kernels that give init_net a dynamic
/// inode, the comparison with process 1 (or kthreadd) decides.
const NET_INIT_INO: u64 = 0xEFFF_FFF9;
/// The inode of the initial PID namespace (`PROC_PID_INIT_INO`), fixed since 3.8.
const PID_INIT_INO: u64 = 0xEFFF_FFFC;

struct Tree {
    /// The folder that plays the role of `/proc`.
    proc: PathBuf,
    /// The sosreport root, when it is one.
    sos: Option<PathBuf>,
    manifest: Option<Manifest>,
    origin: Origin,
}

fn locate(source: &HostSource) -> Result<Tree, HostError> {
    let dir = match source {
        HostSource::Live => {
            return Ok(Tree {
                proc: PathBuf::from("/proc"),
                sos: None,
                manifest: None,
                origin: Origin::Live,
            })
        }
        HostSource::Root(d) => d,
    };
    let meta = std::fs::metadata(dir).map_err(|source| HostError::Read {
        path: dir.clone(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(HostError::NotACapture { path: dir.clone() });
    }
    let manifest_path = dir.join(MANIFEST);
    if manifest_path.exists() {
        if let Err(Outside::Link(target)) = crate::contain::check_real(dir, &manifest_path) {
            return Err(HostError::OutsideCapture {
                root: dir.clone(),
                links: vec![(manifest_path, target)],
            });
        }
        let manifest = Manifest::read(&manifest_path)?;
        return Ok(Tree {
            proc: dir.join("proc"),
            sos: None,
            manifest: Some(manifest),
            origin: Origin::Snapshot(dir.clone()),
        });
    }
    if dir.join("sos_commands").is_dir() {
        return Ok(Tree {
            proc: dir.join("proc"),
            sos: Some(dir.clone()),
            manifest: None,
            origin: Origin::Sosreport(dir.clone()),
        });
    }
    if dir.join("proc/sys").is_dir() {
        return Ok(Tree {
            proc: dir.join("proc"),
            sos: None,
            manifest: None,
            origin: Origin::ProcTree(dir.clone()),
        });
    }
    if dir.join("sys/net").is_dir() || dir.join("sys/kernel").is_dir() {
        return Ok(Tree {
            proc: dir.clone(),
            sos: None,
            manifest: None,
            origin: Origin::ProcTree(dir.clone()),
        });
    }
    Err(HostError::NotACapture { path: dir.clone() })
}

/// Reads one small text file; the error says why in the words of [`Unreadable`].
fn read_file(path: &Path) -> Result<String, Unreadable> {
    unreadable(crate::read::read_text(path, MAX_FILE))
}

/// Reads one file of the live host's `/proc` (see [`crate::read::read_live_proc`]).
fn read_live(path: &Path) -> Result<String, Unreadable> {
    unreadable(crate::read::read_live_proc(path, MAX_FILE))
}

/// A read's error in the words of [`Unreadable`].
fn unreadable(read: crate::error::Result<String>) -> Result<String, Unreadable> {
    match read {
        Ok(t) => Ok(t),
        Err(crate::error::Error::Read { source, .. }) => Err(match source.kind() {
            std::io::ErrorKind::NotFound => Unreadable::Absent,
            std::io::ErrorKind::PermissionDenied => Unreadable::Permission,
            _ => Unreadable::Other(source.to_string()),
        }),
        Err(e) => Err(Unreadable::Other(e.to_string())),
    }
}

/// The files of one reading, all read through [`Capture::read`]: the same size limit and file
/// type checks for each, and, for a capture, the containment rule of [`crate::contain`].
///
/// A capture comes from a ticket or a pull request as often as from the machine it describes:
/// a link in it (`hostname -> /etc/shadow`, `proc/sys -> /proc/sys`) would make twlint print a
/// file of the machine it runs on, or judge that machine's values as the capture's. Such a file
/// is never opened; every one met is collected, and [`Capture::finish`] refuses the reading
/// naming them all.
struct Capture {
    /// The capture's folder (`--root`); `None` for a live reading, where `/proc` is what was
    /// asked for and its links (`self`, `mounts`) are the kernel's.
    root: Option<PathBuf>,
    /// Files whose links lead outside the capture: (the path in the capture, where it leads).
    refused: RefCell<Vec<(PathBuf, PathBuf)>>,
}

impl Capture {
    fn new(source: &HostSource) -> Capture {
        Capture {
            root: match source {
                HostSource::Live => None,
                HostSource::Root(d) => Some(d.clone()),
            },
            refused: RefCell::new(Vec::new()),
        }
    }

    /// Whether `path` may be opened: live always, in a capture only if it stays inside.
    fn allows(&self, path: &Path) -> bool {
        let Some(root) = &self.root else {
            return true;
        };
        match crate::contain::check_real(root, path) {
            Ok(()) => true,
            Err(outside) => {
                let target = match outside {
                    Outside::Link(target) => target,
                    // check_real only reports links; the paths here are built inside the root.
                    Outside::Written => path.to_path_buf(),
                };
                self.refused.borrow_mut().push((path.to_path_buf(), target));
                false
            }
        }
    }

    /// Reads one small text file of the capture (see [`read_file`]).
    fn read(&self, path: &Path) -> Result<String, Unreadable> {
        if !self.allows(path) {
            return Err(Unreadable::Other(format!(
                "{} leads outside the capture; twlint does not read it",
                path.display()
            )));
        }
        match self.root {
            Some(_) => read_file(path),
            None => read_live(path),
        }
    }

    /// The reading's result: refused whole when any file led outside the capture. Reading on
    /// first lets the error name every such file, not only the first.
    fn finish<T>(self, value: T) -> Result<T, HostError> {
        let refused = self.refused.into_inner();
        match self.root {
            Some(root) if !refused.is_empty() => Err(HostError::OutsideCapture {
                root,
                links: refused,
            }),
            _ => Ok(value),
        }
    }
}

/// The longest host name taken from a capture: a fully qualified name is at most 253 bytes
/// (RFC 1035); the kernel keeps 64.
const MAX_HOSTNAME: usize = 253;
/// The longest kernel release: the kernel's `utsname` field holds 64 bytes.
const MAX_RELEASE: usize = 64;

/// A host name as the kernel or `hostname` prints it: one line of letters, digits, `-`, `.` and
/// `_`. Anything else is not a host name (a file linked or pasted in its place); it is left
/// out rather than printed, since it would go into every format verbatim (a newline and
/// `::error::` is a GitHub workflow command, an escape sequence drives the terminal).
fn host_name(text: &str) -> Option<String> {
    let h = text.trim();
    let ok = !h.is_empty()
        && h.len() <= MAX_HOSTNAME
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    ok.then(|| h.to_string())
}

/// A kernel release as `uname -r` prints it: one word of printable ASCII, at most 64 bytes.
fn release_name(text: &str) -> Option<String> {
    let r = text.trim();
    let ok = !r.is_empty() && r.len() <= MAX_RELEASE && r.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| r.to_string())
}

/// Checks a replayed value the way the kernel prints the key: one line with one decimal integer,
/// two for the port range, a list of ports for the reserved ports. The kernel never prints
/// anything else, so anything else is not this key's value (a file linked or pasted in its
/// place): judging it would call it safe, or quote it. The reason names the shape, never the
/// content.
fn printed_value(key: &str, text: &str) -> Result<String, Unreadable> {
    let value = one_space(text);
    let Some(spec) = crate::kernel::spec(key) else {
        return Ok(value);
    };
    let int = |t: &str| {
        let digits = t.strip_prefix('-').unwrap_or(t);
        !digits.is_empty() && digits.len() <= 19 && digits.bytes().all(|b| b.is_ascii_digit())
    };
    let port = |t: &str| t.parse::<u16>().is_ok();
    let tokens: Vec<&str> = value.split(' ').filter(|t| !t.is_empty()).collect();
    let one_line = text.trim_end_matches('\n').lines().count() <= 1;
    // Every era of a key prints the same shape; the first is as good as any.
    let (ok, shape) = match spec.eras.first().map(|e| e.kind) {
        Some(ValueKind::Int { .. }) => (tokens.len() == 1 && int(tokens[0]), "one integer"),
        Some(ValueKind::PortRange) => (
            tokens.len() == 2 && tokens.iter().all(|t| port(t)),
            "two port numbers",
        ),
        Some(ValueKind::PortList) => (
            tokens.len() <= 1 && crate::kernel::parse_port_list(&value).is_ok(),
            "a list of ports and port ranges",
        ),
        None => (true, ""),
    };
    if ok && one_line {
        Ok(value)
    } else {
        Err(Unreadable::Other(format!(
            "not a value as the kernel prints this key ({shape} on one line), so it is not judged"
        )))
    }
}

/// `key = value` lines of an sosreport's `sysctl -a`.
fn parse_sysctl_a(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(" = ").or_else(|| l.split_once('=')))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn one_space(v: &str) -> String {
    v.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

/// The inode in a namespace link (`net:[4026531833]`).
fn ns_inode(link: &Path) -> Result<u64, String> {
    let target = std::fs::read_link(link).map_err(|e| e.to_string())?;
    let t = target.to_string_lossy();
    t.split_once(":[")
        .and_then(|(_, rest)| rest.strip_suffix(']'))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("unexpected link target `{t}`"))
}

/// Which network namespace `proc` shows (`proc/self/ns/net`), and whether it is the host's.
fn netns(capture: &Capture, proc: &Path) -> Netns {
    let link = proc.join("self/ns/net");
    if std::fs::symlink_metadata(&link).is_err() {
        return Netns {
            inode: None,
            initial: None,
            how: format!(
                "cannot tell: {} does not exist, so the capture does not record it",
                link.display()
            ),
        };
    }
    let inode = match ns_inode(&link) {
        Ok(i) => i,
        Err(e) => {
            return Netns {
                inode: None,
                initial: None,
                how: format!("cannot tell: {}/self/ns/net: {e}", proc.display()),
            }
        }
    };
    if inode == NET_INIT_INO {
        return Netns {
            inode: Some(inode),
            initial: Some(true),
            how: "the initial namespace: its inode is the one the kernel reserves for it".into(),
        };
    }
    let own_pid_ns = ns_inode(&proc.join("self/ns/pid")).ok();
    // Process 1 (init) and process 2 (kthreadd, a kernel thread, always in the initial
    // namespace) stand for the host; reading another process's links may be refused (ptrace
    // rules), so the first readable one is used.
    let reference = ns_inode(&proc.join("1/ns/net"))
        .map(|i| (i, "process 1"))
        .or_else(|e1| {
            let kthreadd = capture
                .read(&proc.join("2/comm"))
                .is_ok_and(|c| c.trim() == "kthreadd");
            match ns_inode(&proc.join("2/ns/net")) {
                Ok(i) if kthreadd => Ok((i, "kthreadd")),
                _ => Err(e1),
            }
        });
    match reference {
        Ok((one, who)) if own_pid_ns != Some(PID_INIT_INO) => Netns {
            inode: Some(inode),
            initial: None,
            how: format!(
                "cannot tell: twlint runs in a PID namespace of its own (a container), so {who} (net:[{one}]) is not the host's"
            ),
        },
        Ok((one, who)) if one == inode => Netns {
            inode: Some(inode),
            initial: Some(true),
            how: format!("the initial namespace: the same as {who}'s"),
        },
        Ok((one, who)) => Netns {
            inode: Some(inode),
            initial: Some(false),
            how: format!(
                "not the initial namespace ({who} is in net:[{one}]): a container, a pod or `ip netns`; its values started from the kernel defaults, not from the host's"
            ),
        },
        Err(e) => Netns {
            inode: Some(inode),
            initial: None,
            how: format!("cannot tell: {}/1/ns/net: {e}", proc.display()),
        },
    }
}

/// Local addresses from `net/fib_trie` (IPv4, `/32 host LOCAL` leaves) and `net/if_inet6`.
fn proc_addresses(capture: &Capture, proc: &Path) -> Vec<IpAddr> {
    let mut out = Vec::new();
    if let Ok(text) = capture.read(&proc.join("net/fib_trie")) {
        let mut last: Option<IpAddr> = None;
        for line in text.lines() {
            let t = line.trim_start();
            if let Some(a) = t.strip_prefix("|-- ") {
                last = a.trim().parse().ok();
            } else if t.starts_with("/32 host LOCAL") {
                if let Some(a) = last {
                    out.push(a);
                }
            }
        }
    }
    if let Ok(text) = capture.read(&proc.join("net/if_inet6")) {
        for line in text.lines() {
            let Some(hex) = line.split_whitespace().next() else {
                continue;
            };
            if let Ok(n) = u128::from_str_radix(hex, 16) {
                if hex.len() == 32 {
                    out.push(IpAddr::V6(Ipv6Addr::from(n)));
                }
            }
        }
    }
    out
}

/// Addresses in `ip addr` / `ip -o addr` output (an sosreport's `sos_commands/networking`).
fn ip_addr_addresses(text: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let tokens: Vec<&str> = text.split_whitespace().collect();
    for w in tokens.windows(2) {
        if w[0] == "inet" || w[0] == "inet6" {
            if let Ok(a) = w[1].split('/').next().unwrap_or("").parse() {
                out.push(a);
            }
        }
    }
    out
}

/// Loopback and link-local addresses are the same on every machine: they identify no one.
fn identifying(mut addrs: Vec<IpAddr>) -> Vec<IpAddr> {
    addrs.retain(|a| match a {
        IpAddr::V4(v) => !v.is_loopback() && !v.is_unspecified(),
        IpAddr::V6(v) => {
            !v.is_loopback() && !v.is_unspecified() && (v.segments()[0] & 0xffc0) != 0xfe80
        }
    });
    addrs.sort();
    addrs.dedup();
    addrs
}

fn sos_file(capture: &Capture, sos: &Option<PathBuf>, rels: &[&str]) -> Option<(String, String)> {
    let root = sos.as_ref()?;
    rels.iter().find_map(|r| {
        capture
            .read(&root.join(r))
            .ok()
            .map(|t| (root.join(r).display().to_string(), t))
    })
}

/// Reads the counters of a capture (also used for the second reading of `--interval`).
pub fn read_counters(source: &HostSource) -> Result<Counters, HostError> {
    let tree = locate(source)?;
    let capture = Capture::new(source);
    let counters = counters_of(&capture, &tree.proc, &mut Vec::new());
    capture.finish(counters)
}

fn counters_of(capture: &Capture, proc: &Path, files: &mut Vec<CapturedFile>) -> Counters {
    let mut c = Counters::default();
    for (rel, is_netstat) in [("net/netstat", true), ("net/sockstat", false)] {
        match capture.read(&proc.join(rel)) {
            Ok(text) => {
                if is_netstat {
                    c.tcpext = counters::parse_netstat(&text);
                } else {
                    c.time_wait = counters::parse_sockstat(&text);
                }
                files.push(CapturedFile {
                    rel: format!("proc/{rel}"),
                    text,
                });
            }
            Err(why) => c.missing.push((format!("proc/{rel}"), why.reason())),
        }
    }
    // Conntrack's figures, on a host where the module is loaded (a NAT, a kube-proxy node).
    // Absent files are normal elsewhere and not reported as missing.
    if let Ok(text) = capture.read(&proc.join("net/stat/nf_conntrack")) {
        c.conntrack = counters::parse_nf_conntrack_stat(&text);
        files.push(CapturedFile {
            rel: "proc/net/stat/nf_conntrack".into(),
            text,
        });
    }
    if let Ok(text) = capture.read(&proc.join("sys/net/netfilter/nf_conntrack_count")) {
        if let Ok(n) = text.trim().parse::<u64>() {
            c.conntrack
                .insert(crate::counters::NF_CONNTRACK_COUNT.to_string(), n);
        }
        files.push(CapturedFile {
            rel: "proc/sys/net/netfilter/nf_conntrack_count".into(),
            text,
        });
    }
    c
}

/// Reads everything host mode needs from this machine or a capture.
pub fn read(source: &HostSource) -> Result<HostSnapshot, HostError> {
    let tree = locate(source)?;
    let capture = Capture::new(source);
    let proc = &tree.proc;
    let mut files = Vec::new();
    let sysctl_a = sos_file(&capture, &tree.sos, &["sos_commands/kernel/sysctl_-a"])
        .map(|(path, text)| (path, parse_sysctl_a(&text)));

    let mut values = BTreeMap::new();
    let mut value_sources = BTreeMap::new();
    let mut unreadable = BTreeMap::new();
    for key in super::keys() {
        let rel = format!("sys/{}", key.replace('.', "/"));
        let path = proc.join(&rel);
        // A value is checked like the file it came from: one that is not what the kernel
        // prints is unreadable, with the reason, and the declared value is judged instead.
        let read = capture.read(&path).and_then(|text| {
            printed_value(key, &text)
                .map(|v| (v, text))
                .map_err(|why| Unreadable::Other(format!("{}: {}", path.display(), why.reason())))
        });
        match read {
            Ok((value, text)) => {
                values.insert(key, value);
                value_sources.insert(key, path.to_string_lossy().into_owned());
                files.push(CapturedFile {
                    rel: format!("proc/{rel}"),
                    text,
                });
            }
            Err(why) => {
                // The dump stands in only for a file that is not there: a file that is there
                // but refused or malformed is reported, not quietly replaced.
                let dumped = match why {
                    Unreadable::Absent | Unreadable::Permission => {
                        sysctl_a.as_ref().and_then(|(p, m)| Some((p, m.get(key)?)))
                    }
                    _ => None,
                };
                if let Some((dump, v)) = dumped {
                    match printed_value(key, v) {
                        Ok(v) => {
                            values.insert(key, v);
                            value_sources.insert(key, dump.clone());
                        }
                        Err(why) => {
                            unreadable.insert(
                                key,
                                Unreadable::Other(format!("{dump}: {}", why.reason())),
                            );
                        }
                    }
                    continue;
                }
                // A snapshot records why a key was missing when it was taken; a file that is
                // there but refused keeps its own reason.
                let recorded = match why {
                    Unreadable::Absent => tree
                        .manifest
                        .as_ref()
                        .and_then(|m| m.unreadable.get(key).cloned()),
                    _ => None,
                };
                let why = recorded.unwrap_or(why);
                // Conntrack's keys exist only where its module is loaded (a NAT, a kube-proxy
                // node); elsewhere their absence says nothing about the kernel.
                if why == Unreadable::Absent && key.starts_with("net.netfilter.") {
                    continue;
                }
                unreadable.insert(key, why);
            }
        }
    }

    // The release and the host name go into every output format: one short line each, or
    // nothing (a file that holds anything else is not kept, so a snapshot does not copy it).
    let release = match capture
        .read(&proc.join("sys/kernel/osrelease"))
        .map(|text| (release_name(&text), text))
    {
        Ok((Some(r), text)) => {
            files.push(CapturedFile {
                rel: "proc/sys/kernel/osrelease".into(),
                text,
            });
            Some((r, proc.join("sys/kernel/osrelease").display().to_string()))
        }
        _ => sos_file(
            &capture,
            &tree.sos,
            &["sos_commands/kernel/uname_-a", "uname"],
        )
        .and_then(|(p, t)| {
            t.split_whitespace()
                .nth(2)
                .and_then(release_name)
                .map(|r| (r, p))
        })
        .or_else(|| {
            sysctl_a.as_ref().and_then(|(p, m)| {
                m.get("kernel.osrelease")
                    .and_then(|r| release_name(r))
                    .map(|r| (r, format!("{p} (kernel.osrelease)")))
            })
        }),
    };

    let hostname = match capture
        .read(&proc.join("sys/kernel/hostname"))
        .map(|text| (host_name(&text), text))
    {
        Ok((Some(h), text)) => {
            files.push(CapturedFile {
                rel: "proc/sys/kernel/hostname".into(),
                text,
            });
            Some(h)
        }
        _ => sos_file(
            &capture,
            &tree.sos,
            &[
                "hostname",
                "sos_commands/general/hostname",
                "sos_commands/host/hostname",
            ],
        )
        .and_then(|(_, t)| host_name(&t))
        .or_else(|| {
            sysctl_a
                .as_ref()
                .and_then(|(_, m)| m.get("kernel.hostname").and_then(|h| host_name(h)))
        }),
    }
    .or_else(|| {
        tree.manifest
            .as_ref()
            .and_then(|m| m.hostname.as_deref().and_then(host_name))
    });

    let (addresses, netns) = match &tree.manifest {
        Some(m) => (m.addresses.clone(), m.netns.clone()),
        None => {
            let mut addrs = proc_addresses(&capture, proc);
            if addrs.is_empty() {
                if let Some((_, t)) = sos_file(
                    &capture,
                    &tree.sos,
                    &[
                        "sos_commands/networking/ip_-o_addr",
                        "sos_commands/networking/ip_addr",
                        "sos_commands/networking/ip_address",
                    ],
                ) {
                    addrs = ip_addr_addresses(&t);
                }
            }
            let netns = if tree.sos.is_some() && !proc.join("self/ns/net").exists() {
                Netns {
                    inode: None,
                    initial: None,
                    how: "cannot tell: an sosreport does not record the network namespace (sos normally runs in the host's)".into(),
                }
            } else {
                netns(&capture, proc)
            };
            (addrs, netns)
        }
    };

    let mut counters = counters_of(&capture, proc, &mut files);
    let max = values
        .get("net.netfilter.nf_conntrack_max")
        .and_then(|m: &String| m.trim().parse::<u64>().ok());
    if let (Some(n), Some(max)) = (
        counters.conntrack.get(crate::counters::NF_CONNTRACK_COUNT),
        max,
    ) {
        if let Some(p) = (n * 100).checked_div(max) {
            counters
                .conntrack
                .insert(crate::counters::NF_CONNTRACK_PERCENT.to_string(), p);
        }
    }
    capture.finish(HostSnapshot {
        origin: tree.origin,
        identity: Identity {
            hostname,
            addresses: identifying(addresses),
            netns,
        },
        release,
        values,
        value_sources,
        unreadable,
        counters,
        taken_at: tree.manifest.as_ref().and_then(|m| m.taken_at.clone()),
        files,
        sockets: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fib_trie_local_leaves_are_this_hosts_addresses() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("net")).unwrap();
        std::fs::write(
            dir.path().join("net/fib_trie"),
            "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n     |-- 10.0.2.15\n        /32 host LOCAL\n     |-- 127.0.0.1\n        /32 host LOCAL\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("net/if_inet6"),
            "fd000000000000000000000000000002 04 40 00 82     eth0\n00000000000000000000000000000001 01 80 10 80       lo\nfe8000000000000000fc00fffe000001 04 40 20 80     eth0\n",
        )
        .unwrap();
        let capture = Capture::new(&HostSource::Root(dir.path().to_path_buf()));
        let a = identifying(proc_addresses(&capture, dir.path()));
        assert_eq!(
            a,
            vec![
                "10.0.2.15".parse::<IpAddr>().unwrap(),
                "fd00::2".parse().unwrap()
            ]
        );
    }

    #[test]
    fn ip_addr_output_gives_addresses() {
        let text = "1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet 10.162.74.10/24 brd 10.162.74.255 scope global eth0\n2: eth0    inet6 2001:db8::5/64 scope global\n";
        assert_eq!(
            identifying(ip_addr_addresses(text)),
            vec![
                "10.162.74.10".parse::<IpAddr>().unwrap(),
                "2001:db8::5".parse().unwrap()
            ]
        );
    }

    #[test]
    fn a_folder_that_is_no_capture_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read(&HostSource::Root(dir.path().to_path_buf())),
            Err(HostError::NotACapture { .. })
        ));
    }

    #[test]
    fn namespace_links_are_read_from_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let ns = dir.path().join("self/ns");
        std::fs::create_dir_all(&ns).unwrap();
        std::os::unix::fs::symlink("net:[4026531833]", ns.join("net")).unwrap();
        let capture = Capture::new(&HostSource::Root(dir.path().to_path_buf()));
        let n = netns(&capture, dir.path());
        assert_eq!(n.inode, Some(4026531833));
        assert_eq!(n.initial, Some(true));
        std::fs::remove_file(ns.join("net")).unwrap();
        std::os::unix::fs::symlink("net:[4026532177]", ns.join("net")).unwrap();
        std::os::unix::fs::symlink("pid:[4026531836]", ns.join("pid")).unwrap();
        let one = dir.path().join("1/ns");
        std::fs::create_dir_all(&one).unwrap();
        std::os::unix::fs::symlink("net:[4026531840]", one.join("net")).unwrap();
        let n = netns(&capture, dir.path());
        assert_eq!(n.initial, Some(false), "{}", n.how);
        // In a PID namespace of its own, process 1 is the container's init: cannot tell.
        std::fs::remove_file(ns.join("pid")).unwrap();
        std::os::unix::fs::symlink("pid:[4026532300]", ns.join("pid")).unwrap();
        assert_eq!(netns(&capture, dir.path()).initial, None);
    }
}
