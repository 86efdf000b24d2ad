//! Writing a [`HostSnapshot`] to a folder, and the manifest that goes with it.
//!
//! A snapshot is laid out like `/` with only the files host mode reads, verbatim
//! (`proc/sys/net/ipv4/<key>`, `proc/sys/kernel/osrelease`, `proc/sys/kernel/hostname`,
//! `proc/net/netstat`, `proc/net/sockstat`), the socket summary in `sockets.json` when the
//! sockets were read, plus `twlint-snapshot.json` for what is not a file of `/proc` (the addresses, the network namespace, when it was taken, the keys that could
//! not be read and why). Replaying it goes through the same reader as a live run, so the two
//! give the same report. Writing never touches anything but those files in the named folder,
//! and refuses a folder that already holds something unless told to.

use super::{HostError, HostSnapshot, Netns, Unreadable};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The manifest's file name; its presence marks a folder as a twlint snapshot.
pub const MANIFEST: &str = "twlint-snapshot.json";

/// What the manifest holds.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub taken_at: Option<String>,
    pub hostname: Option<String>,
    pub addresses: Vec<IpAddr>,
    pub netns: Netns,
    pub unreadable: BTreeMap<String, Unreadable>,
}

impl Manifest {
    pub fn read(path: &Path) -> Result<Manifest, HostError> {
        let text = crate::read::read_text(path, 1 << 20)?;
        let bad = |message: String| HostError::BadManifest {
            path: path.to_path_buf(),
            message,
        };
        let v: Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        if v["format"] != 1 {
            return Err(bad(format!(
                "snapshot format {} is not one this twlint reads (1)",
                v["format"]
            )));
        }
        let mut m = Manifest {
            taken_at: v["taken_at"].as_str().map(String::from),
            hostname: v["hostname"].as_str().map(String::from),
            ..Manifest::default()
        };
        for a in v["addresses"].as_array().into_iter().flatten() {
            let s = a.as_str().unwrap_or("");
            m.addresses.push(
                s.parse()
                    .map_err(|_| bad(format!("`{s}` in addresses is not an IP address")))?,
            );
        }
        m.netns = Netns {
            inode: v["netns"]["inode"].as_u64(),
            initial: v["netns"]["initial"].as_bool(),
            how: v["netns"]["how"].as_str().unwrap_or("").to_string(),
        };
        if let Some(u) = v["unreadable"].as_object() {
            for (k, why) in u {
                let reason = why["reason"].as_str().unwrap_or("").to_string();
                let w = match why["kind"].as_str() {
                    Some("absent") => Unreadable::Absent,
                    Some("permission") => Unreadable::Permission,
                    _ => Unreadable::Other(reason),
                };
                m.unreadable.insert(k.clone(), w);
            }
        }
        Ok(m)
    }
}

/// The current time as RFC 3339 UTC, to the second. Days to a civil date follow Howard
/// Hinnant's `civil_from_days`, exact for the proleptic Gregorian calendar; one function is
/// lighter than a date crate for one timestamp.
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    rfc3339(secs)
}

fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn manifest_json(s: &HostSnapshot, taken_at: &str) -> Value {
    json!({
        "format": 1,
        "tool": crate::build_info::TOOL,
        "taken_at": taken_at,
        "hostname": s.identity.hostname,
        "addresses": s.identity.addresses.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        "netns": {
            "inode": s.identity.netns.inode,
            "initial": s.identity.netns.initial,
            "how": s.identity.netns.how,
        },
        "release": s.release.as_ref().map(|r| &r.0),
        "unreadable": s.unreadable.iter().map(|(k, why)| (k.to_string(), json!({"kind": why.kind(), "reason": why.reason()}))).collect::<serde_json::Map<_, _>>(),
        "files": s.files.iter().map(|f| f.rel.as_str()).chain(summary(s).map(|_| super::sockets::FILE)).collect::<Vec<_>>(),
        "sockets": summary(s).map(|_| super::sockets::FILE),
        "sockets_missing": s.sockets.as_ref().and_then(|c| c.missing.as_deref()),
    })
}

fn summary(s: &HostSnapshot) -> Option<&crate::sockets::SocketSummary> {
    s.sockets.as_ref().and_then(|c| c.summary.as_ref())
}

/// Writes `s` into `out` (created if missing). A folder that holds anything is refused unless
/// `force`; then only the snapshot's own files are replaced. Returns the paths written.
pub fn write(s: &HostSnapshot, out: &Path, force: bool) -> Result<Vec<PathBuf>, HostError> {
    let werr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| HostError::Write { path, source }
    };
    match std::fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() && !force {
                return Err(HostError::NotEmpty {
                    path: out.to_path_buf(),
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(out).map_err(werr(out))?
        }
        Err(e) => return Err(werr(out)(e)),
    }
    let mut written = Vec::new();
    for f in &s.files {
        // Relative paths built by the reader; refuse anything that would leave the folder.
        if f.rel.split('/').any(|c| c == ".." || c.is_empty()) {
            continue;
        }
        let path = out.join(&f.rel);
        // A folder prepared with links (`proc -> /proc`, a file linked elsewhere) must not make
        // the snapshot write outside it.
        crate::contain::write_inside(out, &path, f.text.as_bytes()).map_err(werr(&path))?;
        written.push(path);
    }
    let path = out.join(super::sockets::FILE);
    if let Some(summary) = summary(s) {
        let mut text = serde_json::to_string_pretty(summary).expect("a socket summary serialises");
        text.push('\n');
        crate::contain::write_inside(out, &path, text.as_bytes()).map_err(werr(&path))?;
        written.push(path);
    } else {
        // Over an older snapshot (--force), a summary of another moment must not be replayed
        // as this one's.
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(werr(&path)(e)),
            _ => {}
        }
    }
    let manifest = manifest_json(s, &s.taken_at.clone().unwrap_or_else(now_utc));
    let path = out.join(MANIFEST);
    let mut text = serde_json::to_string_pretty(&manifest).expect("a manifest serialises");
    text.push('\n');
    crate::contain::write_inside(out, &path, text.as_bytes()).map_err(werr(&path))?;
    written.push(path);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forced_snapshot_without_sockets_leaves_no_older_summary() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/host/proc-db");
        let mut s = super::super::read(&super::super::HostSource::Root(fixture)).unwrap();
        s.read_sockets().unwrap();
        assert!(s.sockets.as_ref().unwrap().summary.is_none());
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(super::super::sockets::FILE);
        std::fs::write(&stale, "{}").unwrap();
        write(&s, dir.path(), true).unwrap();
        assert!(!stale.exists());
        let m: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(MANIFEST)).unwrap())
                .unwrap();
        assert!(m["sockets"].is_null());
        assert!(m["sockets_missing"]
            .as_str()
            .unwrap()
            .contains("no socket data"));
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}
