//! The /proc text side of the socket view: `net/tcp` and `net/tcp6` (the fallback where netlink
//! is refused, and the only source when replaying a captured folder) and the namespace's
//! ephemeral range (`sys/net/ipv4/ip_local_port_range`, `ip_local_reserved_ports`).
//!
//! The tables are parsed here rather than through the `procfs` crate: its `TcpNetEntries`
//! drops the `tm->when` column (the time left in TIME_WAIT, needed for rates), allocates an
//! entry per socket, refuses the whole file on one bad line without saying which, and only
//! reads the live /proc. Errors here carry path:line:column.

use super::aggregate::{mapped_v4, Aggregator, Sock};
use super::summary::{RangeSource, ReuseView};
use super::{SocketError, TcpState};
use std::path::Path;

/// The kernel's default ephemeral range (since about 4.2).
pub const DEFAULT_RANGE: (u16, u16) = (32768, 60999);

#[derive(Debug, Clone)]
pub(crate) struct PortRange {
    pub low: u16,
    pub high: u16,
    pub reserved: Vec<(u16, u16)>,
    pub source: RangeSource,
    /// What connect() may reuse: tcp_tw_reuse, tcp_tw_reuse_delay and tcp_timestamps.
    pub reuse: ReuseView,
}

impl PortRange {
    /// The reserved ports inside the range, each counted once: the length of the union of the
    /// reserved intervals clipped to it (the kernel's list may overlap and repeat itself).
    pub fn reserved_in_range(&self) -> u32 {
        let mut clipped: Vec<(u32, u32)> = self
            .reserved
            .iter()
            .map(|&(a, b)| (u32::from(a.max(self.low)), u32::from(b.min(self.high))))
            .filter(|(a, b)| a <= b)
            .collect();
        clipped.sort_unstable();
        // `next` is the first port the intervals before have not counted.
        let (mut count, mut next) = (0, 0);
        for (a, b) in clipped {
            let start = a.max(next);
            if start <= b {
                count += b - start + 1;
                next = b + 1;
            }
        }
        count
    }
    pub fn usable(&self) -> u32 {
        u32::from(self.high - self.low) + 1 - self.reserved_in_range()
    }
}

/// A small file of the range (`ip_local_port_range`, `ip_local_reserved_ports`), or `None` where
/// it does not exist. Read through [`crate::read::read_text`]: regular files only and bounded,
/// since a replayed folder may hold anything under those names.
fn read_optional(path: &Path) -> Result<Option<String>, SocketError> {
    // The longest reserved-ports list (every other port, as `1,3,5,...`) is under 400 KB.
    const LIMIT: u64 = 1 << 20;
    match crate::read::read_text(path, LIMIT) {
        Ok(s) => Ok(Some(s)),
        Err(crate::error::Error::Read { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(crate::error::Error::Read { source, .. }) => Err(SocketError::Read {
            path: path.to_path_buf(),
            source,
        }),
        Err(e) => Err(SocketError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        }),
    }
}

fn parse_error(path: &Path, line: usize, column: usize, message: String) -> SocketError {
    SocketError::Parse {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

/// Fields of a line with their 1-based columns.
fn fields(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.split_ascii_whitespace()
        .map(move |f| (f.as_ptr() as usize - line.as_ptr() as usize + 1, f))
}

/// Reads `ip_local_port_range` and `ip_local_reserved_ports` from `dir` (a
/// `.../sys/net/ipv4` folder). Live, both must exist; replayed, a missing file means the
/// kernel default, and the range's `source` says so.
pub(crate) fn read_port_range(dir: &Path, live: bool) -> Result<PortRange, SocketError> {
    let range_path = dir.join("ip_local_port_range");
    let found_source = if live {
        RangeSource::Live
    } else {
        RangeSource::Replay
    };
    let (low, high, source) = match read_optional(&range_path)? {
        Some(text) => {
            let fs: Vec<(usize, &str)> = fields(&text).collect();
            let num = |i: usize| -> Result<u16, SocketError> {
                let (col, f) = fs
                    .get(i)
                    .copied()
                    .unwrap_or((text.trim_end().len() + 1, ""));
                f.parse::<u16>().map_err(|_| {
                    parse_error(
                        &range_path,
                        1,
                        col,
                        format!("expected a port number (0-65535), found `{f}`"),
                    )
                })
            };
            let (low, high) = (num(0)?, num(1)?);
            if fs.len() > 2 {
                return Err(parse_error(
                    &range_path,
                    1,
                    fs[2].0,
                    "expected two ports, found more".into(),
                ));
            }
            if low > high {
                return Err(parse_error(
                    &range_path,
                    1,
                    1,
                    format!("the range {low}-{high} is empty (low above high)"),
                ));
            }
            (low, high, found_source)
        }
        None if live => {
            return Err(SocketError::Read {
                path: range_path,
                source: std::io::ErrorKind::NotFound.into(),
            })
        }
        None => (DEFAULT_RANGE.0, DEFAULT_RANGE.1, RangeSource::Default),
    };
    let reserved_path = dir.join("ip_local_reserved_ports");
    let reserved = match read_optional(&reserved_path)? {
        Some(text) if source != RangeSource::Default => parse_reserved(&reserved_path, &text)?,
        _ => Vec::new(),
    };
    Ok(PortRange {
        low,
        high,
        reserved,
        source,
        reuse: read_reuse(dir),
    })
}

/// `tcp_tw_reuse`, `tcp_tw_reuse_delay` and `tcp_timestamps` next to the range, each the
/// kernel's default where it cannot be read (a replayed folder without it, or a kernel before
/// 6.14 for the delay, which was a fixed second). The release in `../../kernel/osrelease` says
/// what a non-zero `tcp_tw_reuse` means (every non-zero value was "all destinations" before 4.19).
fn read_reuse(dir: &Path) -> ReuseView {
    let int = |name: &str| -> Option<i64> {
        read_optional(&dir.join(name))
            .ok()
            .flatten()
            .and_then(|t| t.trim().parse().ok())
    };
    let kernel = read_optional(&dir.join("../../kernel/osrelease"))
        .ok()
        .flatten()
        .and_then(|t| crate::kernel::KernelVersion::parse(&t));
    let written = int("tcp_tw_reuse");
    let tw_reuse = match (kernel, written) {
        (Some(k), Some(v)) => crate::kernel::tw_reuse_mode(k, v),
        (None, Some(v)) => v,
        (_, None) => 2,
    };
    ReuseView {
        tw_reuse,
        reuse_delay_ms: int("tcp_tw_reuse_delay").map_or(1000, |d| d.clamp(1, 60_000) as u32),
        timestamps: int("tcp_timestamps").is_none_or(|t| t != 0),
    }
}

/// `8080,9000-9100` (the kernel prints ranges and single ports, comma-separated).
fn parse_reserved(path: &Path, text: &str) -> Result<Vec<(u16, u16)>, SocketError> {
    let line = text.trim_end_matches(['\n', '\r']);
    let mut out = Vec::new();
    let mut offset = 0;
    for part in line.split(',') {
        let col = offset + 1 + (part.len() - part.trim_start().len());
        offset += part.len() + 1;
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let bad = || {
            parse_error(
                path,
                1,
                col,
                format!("expected a port or a range like 9000-9100, found `{part}`"),
            )
        };
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<u16>(), b.parse::<u16>()),
            None => (part.parse::<u16>(), part.parse::<u16>()),
        };
        match (a, b) {
            (Ok(a), Ok(b)) if a <= b => out.push((a, b)),
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

/// The longest line a socket table holds: the kernel pads `tcp` lines to 150 bytes and `tcp6`
/// lines to 178; a longer one is not a socket table (a sparse or binary file), and reading it as
/// one line would take the whole file into memory.
const MAX_LINE: usize = 4096;

/// Reads `root/net/tcp` and `root/net/tcp6` into the aggregator: every listener of both
/// files first (so accepted sockets are known as such), then the rest.
///
/// The tables are streamed, once per pass, rather than read whole: a busy host's table is
/// hundreds of megabytes (150 bytes a socket), and a capture's may be anything, so memory stays
/// at one line whatever the size. Read live, the second pass sees the table a moment later; a
/// socket that appears in between is classified as it would be by the next run.
pub(crate) fn read_tables(root: &Path, agg: &mut Aggregator) -> Result<(), SocketError> {
    let mut tables = Vec::new();
    for (name, v6) in [("tcp", false), ("tcp6", true)] {
        let path = root.join("net").join(name);
        if table_exists(&path)? {
            tables.push((path, v6));
        }
    }
    if tables.is_empty() {
        return Err(SocketError::NoSocketTables(root.to_path_buf()));
    }
    for listeners in [true, false] {
        for (path, v6) in &tables {
            stream_table(path, *v6, &mut |s: &Sock| {
                let is_listen = s.state == TcpState::Listen as u8;
                if is_listen && listeners {
                    agg.add_listener(s);
                } else if !is_listen && !listeners {
                    agg.add(s);
                }
            })?;
        }
    }
    Ok(())
}

/// Whether a socket table is there to read; one that is not a regular file (a FIFO would block,
/// a device never ends) is an error, checked before it is opened.
fn table_exists(path: &Path) -> Result<bool, SocketError> {
    let read_err = |source| SocketError::Read {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(true),
        Ok(_) => Err(read_err(std::io::Error::other(
            "not a regular file, so not a socket table",
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(read_err(e)),
    }
}

/// Streams one table line by line through [`Table`], calling `each` per socket.
fn stream_table(path: &Path, v6: bool, each: &mut dyn FnMut(&Sock)) -> Result<(), SocketError> {
    use std::io::{BufRead, Read};
    let read_err = |source| SocketError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    // The path may have been swapped since the check; look at what was opened.
    if !file.metadata().map_err(read_err)?.is_file() {
        return Err(read_err(std::io::Error::other(
            "not a regular file, so not a socket table",
        )));
    }
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut table = Table::new(path, v6);
    let mut buf = Vec::with_capacity(256);
    for ln in 1.. {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(read_err)?;
        if n == 0 {
            break;
        }
        if buf.len() > MAX_LINE {
            return Err(parse_error(
                path,
                ln,
                1,
                format!("a line longer than {MAX_LINE} bytes: this is not a socket table"),
            ));
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        let line = String::from_utf8_lossy(&buf);
        table.line(ln, &line, each)?;
    }
    Ok(())
}

/// Parses one table, calling `each` per socket. Line 1 must be the header.
#[cfg(test)]
pub(crate) fn parse_table(
    path: &Path,
    text: &str,
    v6: bool,
    each: &mut dyn FnMut(&Sock),
) -> Result<(), SocketError> {
    let mut table = Table::new(path, v6);
    for (i, line) in text.lines().enumerate() {
        table.line(i + 1, line, each)?;
    }
    Ok(())
}

/// The parser of one table, fed a line at a time.
struct Table<'a> {
    path: &'a Path,
    v6: bool,
    header_seen: bool,
}

impl<'a> Table<'a> {
    fn new(path: &'a Path, v6: bool) -> Self {
        Table {
            path,
            v6,
            header_seen: false,
        }
    }

    /// Parses line `ln` (1-based), calling `each` for the socket it holds.
    fn line(
        &mut self,
        ln: usize,
        line: &str,
        each: &mut dyn FnMut(&Sock),
    ) -> Result<(), SocketError> {
        let path = self.path;
        let v6 = self.v6;
        if !self.header_seen {
            if !line.contains("local_address") {
                return Err(parse_error(
                    path,
                    1,
                    1,
                    "expected the header line of /proc/net/tcp (`sl local_address rem_address st ...`)"
                        .into(),
                ));
            }
            self.header_seen = true;
            return Ok(());
        }
        let addr_len = if v6 { 32 } else { 8 };
        if line.trim().is_empty() {
            return Ok(());
        }
        let fs: Vec<(usize, &str)> = fields(line).take(10).collect();
        let field = |n: usize, what: &str| -> Result<(usize, &str), SocketError> {
            fs.get(n).copied().ok_or_else(|| {
                parse_error(
                    path,
                    ln,
                    line.len() + 1,
                    format!("the line ends before the {what} column"),
                )
            })
        };
        let endpoint = |n: usize, what: &str| -> Result<([u8; 16], u16), SocketError> {
            let (col, f) = field(n, what)?;
            let bad = |m: String| parse_error(path, ln, col, m);
            let (a, p) = f
                .split_once(':')
                .ok_or_else(|| bad(format!("expected ADDRESS:PORT in hex, found `{f}`")))?;
            if a.len() != addr_len {
                return Err(bad(format!(
                    "expected a {addr_len}-digit hex {} address, found `{a}`",
                    if v6 { "IPv6" } else { "IPv4" }
                )));
            }
            let port = u16::from_str_radix(p, 16)
                .map_err(|_| bad(format!("expected a 4-digit hex port, found `{p}`")))?;
            // The kernel prints each 32-bit word of the address in host order (%08X).
            let mut bytes = [0u8; 16];
            for (w, chunk) in a.as_bytes().chunks(8).enumerate() {
                let word = std::str::from_utf8(chunk)
                    .ok()
                    .and_then(|c| u32::from_str_radix(c, 16).ok())
                    .ok_or_else(|| bad(format!("`{a}` is not a hex address")))?;
                bytes[w * 4..w * 4 + 4].copy_from_slice(&word.to_ne_bytes());
            }
            let addr = if v6 {
                bytes
            } else {
                mapped_v4([bytes[0], bytes[1], bytes[2], bytes[3]])
            };
            Ok((addr, port))
        };
        let (src, sport) = endpoint(1, "local_address")?;
        let (dst, dport) = endpoint(2, "rem_address")?;
        let (col, st) = field(3, "st")?;
        let state = u8::from_str_radix(st, 16)
            .ok()
            .filter(|n| TcpState::from_number(*n).is_some())
            .ok_or_else(|| {
                parse_error(path, ln, col, format!("`{st}` is not a known TCP state"))
            })?;
        let (col, timer) = field(5, "tr:tm->when")?;
        // tm->when is in USER_HZ ticks (1/100 s).
        let expires_ms = timer
            .split_once(':')
            .and_then(|(_, when)| u32::from_str_radix(when, 16).ok())
            .map(|t| t.saturating_mul(10))
            .ok_or_else(|| {
                parse_error(
                    path,
                    ln,
                    col,
                    format!("expected TIMER:WHEN in hex, found `{timer}`"),
                )
            })?;
        let (col, inode) = field(9, "inode")?;
        let inode = inode
            .parse::<u64>()
            .map_err(|_| parse_error(path, ln, col, format!("`{inode}` is not an inode number")))?;
        each(&Sock {
            v6,
            state,
            src,
            sport,
            dst,
            dport,
            expires_ms,
            inode,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv6Addr};

    const HEADER: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

    fn parse(text: &str, v6: bool) -> Result<Vec<Sock>, SocketError> {
        let mut out = Vec::new();
        parse_table(Path::new("net/tcp"), text, v6, &mut |s| out.push(*s))?;
        Ok(out)
    }

    fn addr(b: [u8; 16]) -> IpAddr {
        Ipv6Addr::from(b).to_canonical()
    }

    #[test]
    fn ipv4_line_little_endian_address_big_endian_port() {
        let text = format!("{HEADER}   0: 0500000A:9C40 0100007F:1B58 06 00000000:00000000 03:00000BB8 00000000     0        0 0 3 0000000000000000\n");
        let s = parse(&text, false).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(addr(s[0].src), "10.0.0.5".parse::<IpAddr>().unwrap());
        assert_eq!(s[0].sport, 40000);
        assert_eq!(addr(s[0].dst), "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(s[0].dport, 7000);
        assert_eq!(s[0].state, TcpState::TimeWait as u8);
        // 0xBB8 = 3000 ticks of 1/100 s
        assert_eq!(s[0].expires_ms, 30_000);
        assert!(!s[0].v6);
    }

    #[test]
    fn ipv6_line_words_in_host_order() {
        let text = format!("{HEADER}   0: B80D0120000000000000000010000000:01BB 0000000000000000FFFF00000500000A:1538 01 00000000:00000000 00:00000000 00000000  1000        0 4711 1 0000000000000000 20 4 30 10 -1\n");
        let s = parse(&text, true).unwrap();
        assert_eq!(addr(s[0].src), "2001:db8::10".parse::<IpAddr>().unwrap());
        assert_eq!(s[0].sport, 443);
        // IPv4-mapped collapses to the IPv4 address: one peer, one port space.
        assert_eq!(addr(s[0].dst), "10.0.0.5".parse::<IpAddr>().unwrap());
        assert_eq!(s[0].dport, 5432);
        assert_eq!(s[0].inode, 4711);
        assert!(s[0].v6);
    }

    #[test]
    fn bad_lines_name_path_line_and_column() {
        let cases = [
            ("   0: 0500000A:9C40 0100007F:1B58 0Z 00000000:00000000 03:00000BB8 00000000     0        0 0\n", 2, 35, "not a known TCP state"),
            ("   0: 0500000A 0100007F:1B58 06\n", 2, 7, "expected ADDRESS:PORT"),
            ("   0: 0500000A:9C40 0100:1B58 06 00000000:00000000 03:00000BB8 00000000     0        0 0\n", 2, 21, "8-digit hex IPv4"),
            ("   0: 0500000A:9C40 0100007F:1B58 06\n", 2, 37, "ends before the tr:tm->when"),
            ("   0: 0500000A:9C40 0100007F:1B58 0C 00000000:00000000 03:00000BB8 00000000     0        0 0\n", 2, 35, "`0C` is not a known TCP state"),
            ("   0: 0500000A:9C40 0100007F:1B58 06 00000000:00000000 03:00000BB8 00000000     0        0 x1\n", 2, 92, "not an inode"),
        ];
        for (line, l, c, msg) in cases {
            let err = parse(&format!("{HEADER}{line}"), false)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("net/tcp:{l}:{c}: ")) && err.contains(msg),
                "{line:?} gave {err}"
            );
        }
        let err = parse("0: nonsense\n", false).unwrap_err().to_string();
        assert!(
            err.starts_with("net/tcp:1:1: expected the header line"),
            "{err}"
        );
    }

    #[test]
    fn port_range_and_reserved_ports() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ip_local_port_range"), "1024\t65535\n").unwrap();
        std::fs::write(
            dir.path().join("ip_local_reserved_ports"),
            "80,1000-1100,5000-5009,5005\n",
        )
        .unwrap();
        let r = read_port_range(dir.path(), false).unwrap();
        assert_eq!(
            (r.low, r.high, r.source),
            (1024, 65535, RangeSource::Replay)
        );
        // 1024-1100 (77) and 5000-5009 (10) fall inside; 80 does not; 5005 counted once.
        assert_eq!(r.reserved_in_range(), 87);
        assert_eq!(r.reserved_in_range(), port_by_port(&r));
        assert_eq!(r.usable(), 64512 - 87);

        std::fs::write(dir.path().join("ip_local_reserved_ports"), "80,9x\n").unwrap();
        let err = read_port_range(dir.path(), false).unwrap_err().to_string();
        assert!(err.ends_with("ip_local_reserved_ports:1:4: expected a port or a range like 9000-9100, found `9x`"), "{err}");
        std::fs::write(dir.path().join("ip_local_port_range"), "60999 32768\n").unwrap();
        let err = read_port_range(dir.path(), false).unwrap_err().to_string();
        assert!(
            err.contains("ip_local_port_range:1:1: the range 60999-32768 is empty"),
            "{err}"
        );
        std::fs::write(dir.path().join("ip_local_port_range"), "32768 big\n").unwrap();
        let err = read_port_range(dir.path(), false).unwrap_err().to_string();
        assert!(
            err.contains("ip_local_port_range:1:7: expected a port number"),
            "{err}"
        );

        let empty = tempfile::tempdir().unwrap();
        let r = read_port_range(empty.path(), false).unwrap();
        assert_eq!(
            (r.low, r.high, r.source),
            (32768, 60999, RangeSource::Default)
        );
        assert!(read_port_range(empty.path(), true).is_err());
    }

    /// The reserved ports inside the range, found by marking each port: what
    /// `reserved_in_range` counts by merging intervals.
    fn port_by_port(r: &PortRange) -> u32 {
        (r.low..=r.high)
            .filter(|p| r.reserved.iter().any(|&(a, b)| (a..=b).contains(p)))
            .count() as u32
    }

    #[test]
    fn reserved_ports_in_range_count_each_port_once_however_the_intervals_overlap() {
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = |n: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % u64::from(n)) as u16
        };
        for _ in 0..300 {
            let low = next(65535);
            let high = low + next(u32::from(65535 - low) + 1);
            let reserved = (0..next(6))
                .map(|_| {
                    let a = next(65536);
                    (a, a + next(u32::from(65535 - a).min(3000) + 1))
                })
                .collect();
            let mut r = read_port_range(Path::new("/nonexistent"), false).unwrap();
            (r.low, r.high, r.reserved) = (low, high, reserved);
            assert_eq!(r.reserved_in_range(), port_by_port(&r), "{r:?}");
        }
    }
}
