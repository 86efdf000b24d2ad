//! `twlint snapshot --out DIR`: writes what host mode reads on this machine (values, release,
//! identity, counters, sockets) to a folder (`crate::host::snapshot`), then says what it wrote
//! and how to judge it elsewhere.

use super::output::Io;
use crate::host::{self, HostSource};
use std::io;
use std::path::Path;

/// `twlint snapshot --out DIR`: this host's values, release, identity and counters.
pub fn run(io: &mut Io, out_dir: &Path, force: bool) -> io::Result<u8> {
    let snap = match host::read(&HostSource::Live).and_then(|mut s| s.read_sockets().map(|_| s)) {
        Ok(s) => s,
        Err(e) => return io.fail(e),
    };
    let written = match host::snapshot::write(&snap, out_dir, force) {
        Ok(w) => w,
        Err(e) => return io.fail(e),
    };
    let out = &mut *io.out;
    writeln!(
        out,
        "wrote {} files to {}: {} values, kernel {}, hostname {}, {} counters",
        written.len(),
        out_dir.display(),
        snap.values.len(),
        snap.release
            .as_ref()
            .map(|r| r.0.as_str())
            .unwrap_or("unknown"),
        snap.identity.hostname.as_deref().unwrap_or("unknown"),
        snap.counters.tcpext.len() + usize::from(snap.counters.time_wait.is_some())
    )?;
    match snap.sockets.as_ref() {
        Some(host::sockets::SocketCapture {
            summary: Some(sum), ..
        }) => writeln!(
            out,
            "sockets: {} TCP, {} TIME_WAIT, {} CLOSE_WAIT (in {})",
            sum.totals.sockets,
            sum.time_wait.total,
            sum.close_wait.total,
            host::sockets::FILE
        )?,
        Some(host::sockets::SocketCapture {
            missing: Some(why), ..
        }) => writeln!(out, "sockets: {why}")?,
        _ => {}
    }
    if !snap.unreadable.is_empty() {
        writeln!(
            out,
            "not readable: {}",
            snap.unreadable
                .iter()
                .map(|(k, why)| format!("{k} ({})", why.reason()))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    writeln!(
        out,
        "judge it anywhere with: twlint --topology FILE --root {}",
        out_dir.display()
    )?;
    out.flush()?;
    Ok(0)
}
