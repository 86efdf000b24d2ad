//! The capture reader (`--root`): the input is cut into the files of a small capture (host
//! name, release, a few `proc/sys/net/ipv4` values, `proc/net/tcp`, the counters and an
//! sosreport's `sysctl -a`), laid out in a scratch folder and read with the library's host
//! reader, sockets included, then printed as `twlint host` prints it. A capture comes from a
//! ticket or a pull request: whatever it holds must give a reading or an error, never a panic,
//! and a file that is a link out of the capture must never be printed.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use twlint::host::{self, HostSource};

/// The files each part of the input becomes, in order (parts are separated by a line `%%`).
const FILES: [&str; 10] = [
    "hostname",
    "proc/sys/kernel/osrelease",
    "proc/sys/net/ipv4/tcp_tw_reuse",
    "proc/sys/net/ipv4/tcp_fin_timeout",
    "proc/sys/net/ipv4/ip_local_port_range",
    "proc/sys/net/ipv4/tcp_max_tw_buckets",
    "proc/net/tcp",
    "sos_commands/kernel/sysctl_-a",
    "proc/net/netstat",
    "proc/net/sockstat",
];

/// A part that is exactly this becomes a link to a file outside the capture holding
/// [`CANARY`], as a hostile capture would link to a password file.
const LINK: &[u8] = b"@link";

/// What the file outside the capture holds; no output may contain it.
const CANARY: &str = "CANARY-outside-the-capture";

fuzz_target!(|data: &[u8]| {
    let (layout, data) = match data.split_first() {
        Some((b, rest)) => (*b, rest),
        None => (0, data),
    };
    let cap = fresh_capture();
    let outside = common::scratch().join("outside-secret");
    if !outside.exists() {
        std::fs::write(&outside, format!("{CANARY}\n")).expect("scratch file");
    }
    for (rel, part) in FILES.iter().zip(split(data)) {
        // An sosreport is told by its `sos_commands/` folder: the layout byte decides whether
        // the capture is one, so both readers (with and without the dump) are fuzzed.
        if rel.starts_with("sos_commands/") && layout % 2 == 0 {
            continue;
        }
        let path = cap.join(rel);
        std::fs::create_dir_all(path.parent().expect("a file in a folder")).expect("scratch");
        if part == LINK {
            std::os::unix::fs::symlink(&outside, &path).expect("scratch link");
        } else {
            std::fs::write(&path, part).expect("scratch file");
        }
    }
    let source = HostSource::Root(cap.clone());
    let mut printed = Vec::new();
    match host::read(&source) {
        Ok(mut snapshot) => {
            // A socket table that cannot be read is an error to report, not a panic.
            let _ = snapshot.read_sockets();
            let _ = snapshot.kernel();
            twlint::render::json::write_host_read(&mut printed, &snapshot)
                .expect("writing to memory cannot fail");
            twlint::render::host::write_host(&mut printed, &snapshot)
                .expect("writing to memory cannot fail");
        }
        Err(e) => printed.extend_from_slice(e.to_string().as_bytes()),
    }
    let _ = host::read::read_counters(&source);
    let printed = String::from_utf8_lossy(&printed);
    assert!(
        !printed.contains(CANARY),
        "a file outside the capture was printed:\n{printed}"
    );
});

/// The input cut at lines `%%`; missing parts leave their files out of the capture.
fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(i) = find(rest, b"\n%%\n") {
        parts.push(&rest[..i]);
        rest = &rest[i + 4..];
    }
    parts.push(rest);
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// An empty capture folder of this process, emptied of the previous input's files.
fn fresh_capture() -> PathBuf {
    let cap: &Path = &common::scratch().join("capture");
    let _ = std::fs::remove_dir_all(cap);
    std::fs::create_dir_all(cap).expect("scratch folder");
    cap.to_path_buf()
}
