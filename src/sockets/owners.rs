//! Owners of CLOSE_WAIT sockets: the socket table gives each socket's inode; the processes
//! holding it are found by walking `<root>/<pid>/fd` once (through the `procfs` crate, which
//! reads a captured folder as well as /proc), and only when there is a CLOSE_WAIT socket at
//! all. A socket shared by several processes (a fork that kept it) counts for each of them.

use super::summary::{OwnerLookup, ProcessCount};
use super::Options;
use rustc_hash::{FxHashMap, FxHashSet};
use std::path::{Path, PathBuf};

pub(crate) struct OwnerResolver {
    root: PathBuf,
    skip: bool,
}

pub(crate) fn resolver(root: &Path, options: &Options) -> OwnerResolver {
    OwnerResolver {
        root: root.to_path_buf(),
        skip: options.skip_owners,
    }
}

impl OwnerResolver {
    /// (per process, unattributed sockets, how the lookup went).
    pub fn resolve(&self, inodes: &[u64]) -> (Vec<ProcessCount>, u64, OwnerLookup) {
        if self.skip || inodes.is_empty() {
            return (Vec::new(), inodes.len() as u64, OwnerLookup::Skipped);
        }
        let wanted: FxHashSet<u64> = inodes.iter().copied().filter(|i| *i != 0).collect();
        let mut partial = false;
        let mut denied = false;
        let mut found: FxHashSet<u64> = FxHashSet::default();
        let mut per_pid: FxHashMap<i32, u64> = FxHashMap::default();
        let procs = match procfs::process::all_processes_with_root(&self.root) {
            Ok(p) => p,
            Err(_) => return (Vec::new(), inodes.len() as u64, OwnerLookup::Partial),
        };
        for proc in procs {
            let Ok(proc) = proc else {
                partial = true;
                continue;
            };
            // In a replayed folder, a process folder that links out of it (`1 -> /proc/1`) is
            // a process of the machine twlint runs on, not of the capture: left out, and the
            // view marked incomplete. Live, /proc's own folders are all inside /proc.
            let dir = self.root.join(proc.pid().to_string());
            if crate::contain::check_real(&self.root, &dir.join("fd")).is_err() {
                partial = true;
                continue;
            }
            let fds = match proc.fd() {
                Ok(f) => f,
                Err(e) => {
                    // Not ours to read (not root), or gone: say the view may be incomplete.
                    denied |= matches!(e, procfs::ProcError::PermissionDenied(_));
                    partial = true;
                    continue;
                }
            };
            for fd in fds.flatten() {
                if let procfs::process::FDTarget::Socket(inode) = fd.target {
                    if wanted.contains(&inode) {
                        found.insert(inode);
                        *per_pid.entry(proc.pid()).or_insert(0) += 1;
                    }
                }
            }
        }
        let mut out: Vec<ProcessCount> = per_pid
            .into_iter()
            .map(|(pid, count)| ProcessCount {
                pid: pid as u32,
                command: command(&self.root, pid),
                count,
            })
            .collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then(a.pid.cmp(&b.pid)));
        let unattributed = inodes
            .iter()
            .filter(|i| **i == 0 || !found.contains(i))
            .count() as u64;
        let lookup = if denied && unattributed > 0 && !running_as_root() {
            OwnerLookup::Denied
        } else if partial && unattributed > 0 {
            OwnerLookup::Partial
        } else {
            OwnerLookup::Done
        };
        (out, unattributed, lookup)
    }
}

/// Whether this process runs with effective uid 0 (the second `Uid:` field of
/// /proc/self/status): root is never told to run as root.
fn running_as_root() -> bool {
    crate::read::read_text(Path::new("/proc/self/status"), 1 << 16)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|u| u.split_ascii_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// The process's `comm` (what `ss -p` and `top` show); `?` when it has gone.
fn command(root: &Path, pid: i32) -> String {
    let path = root.join(pid.to_string()).join("comm");
    // The kernel keeps 16 bytes of a command name; a longer file, one that is not a regular
    // file or one that leads out of a replayed folder is not a process's `comm`.
    if crate::contain::check_real(root, &path).is_err() {
        return "?".to_string();
    }
    crate::read::read_text(&path, 4096)
        .map(|s| s.trim_end_matches('\n').to_string())
        .unwrap_or_else(|_| "?".to_string())
}
