//! The terminal form of a [`SocketSummary`]: totals, then TIME_WAIT, CLOSE_WAIT and ephemeral
//! port pressure as tables, the longest lists cut to `top` rows (the JSON form has them all).

use super::summary::*;
use super::TcpState;
use crate::number::format_number;
use std::io::{self, Write};
use std::net::IpAddr;

fn endpoint(a: IpAddr, port: u16) -> String {
    match a {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

fn more(w: &mut dyn Write, shown: usize, total: usize, what: &str) -> io::Result<()> {
    if total > shown {
        writeln!(
            w,
            "    ... and {} more {what} (--top 0 shows all; --format json has all)",
            total - shown
        )?;
    }
    Ok(())
}

fn duration(secs: f64) -> String {
    if secs < 120.0 {
        format!("{} s", format_number(secs))
    } else if secs < 7200.0 {
        format!("{} min", format_number(secs / 60.0))
    } else {
        format!("{} h", format_number(secs / 3600.0))
    }
}

/// Writes the summary; `top` limits each list (0: no limit).
pub fn write_summary(w: &mut dyn Write, s: &SocketSummary, top: usize) -> io::Result<()> {
    let limit = |n: usize| if top == 0 { n } else { n.min(top) };
    let from = match (&s.source.kind, &s.source.path) {
        (SourceKind::Netlink, _) => "netlink sock_diag, this network namespace".to_string(),
        (SourceKind::Proc, _) => "/proc/net/tcp and tcp6, this network namespace".to_string(),
        (SourceKind::Replay, Some(p)) => format!("replayed from {p}"),
        (SourceKind::Replay, None) => "replayed".to_string(),
    };
    writeln!(
        w,
        "TCP sockets: {} ({}; {} IPv4, {} IPv6)",
        s.totals.sockets, from, s.totals.ipv4, s.totals.ipv6
    )?;
    if let Some(r) = &s.source.fallback_reason {
        writeln!(w, "  read from /proc because {r}")?;
    }
    if s.states.len() != TcpState::ALL.len() {
        writeln!(w, "  counting only: {}", s.states.join(", "))?;
    }
    let mut states: Vec<String> = TcpState::ALL
        .iter()
        .filter_map(|st| {
            s.totals
                .by_state
                .get(st.name())
                .filter(|n| **n > 0)
                .map(|n| format!("{} {n}", st.ss_name()))
        })
        .collect();
    if states.is_empty() {
        states.push("none".into());
    }
    writeln!(w, "  {}", states.join(", "))?;

    writeln!(w)?;
    writeln!(w, "TIME_WAIT: {}", s.time_wait.total)?;
    if !s.time_wait.by_remote.is_empty() {
        let n = limit(s.time_wait.by_remote.len());
        let rows: Vec<(String, &str, u64)> = s.time_wait.by_remote[..n]
            .iter()
            .map(|r| match r.direction {
                Direction::Outbound => (endpoint(r.address, r.port), "outbound", r.count),
                Direction::Inbound => (
                    format!("{} -> port {}", r.address, r.port),
                    "inbound",
                    r.count,
                ),
            })
            .collect();
        let wd = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(14);
        writeln!(w, "  {:<wd$}  {:<9} {:>8}", "remote", "direction", "count")?;
        for (name, dir, count) in &rows {
            writeln!(w, "  {name:<wd$}  {dir:<9} {count:>8}")?;
        }
        more(w, n, s.time_wait.by_remote.len(), "remotes")?;
        let n = limit(s.time_wait.by_local.len());
        let wd = wd + 11;
        writeln!(w, "  {:<wd$} {:>8}", "local address", "count")?;
        for l in &s.time_wait.by_local[..n] {
            writeln!(w, "  {:<wd$} {:>8}", l.address.to_string(), l.count)?;
        }
        more(w, n, s.time_wait.by_local.len(), "local addresses")?;
    }

    writeln!(w)?;
    let cw = &s.close_wait;
    writeln!(w, "CLOSE_WAIT: {}", cw.total)?;
    if cw.total > 0 {
        if !cw.by_process.is_empty() {
            let n = limit(cw.by_process.len());
            let wd = cw.by_process[..n]
                .iter()
                .map(|p| p.command.chars().count())
                .max()
                .unwrap_or(0)
                .max(16);
            writeln!(w, "  {:>8}  {:<wd$} {:>8}", "pid", "command", "count")?;
            for p in &cw.by_process[..n] {
                writeln!(w, "  {:>8}  {:<wd$} {:>8}", p.pid, p.command, p.count)?;
            }
            more(w, n, cw.by_process.len(), "processes")?;
        }
        if cw.unattributed > 0 {
            let why = match cw.owner_lookup {
                OwnerLookup::Skipped => "owners not looked up",
                OwnerLookup::Partial => {
                    "some processes could not be read (they exited, or lead out of the replayed folder)"
                }
                OwnerLookup::Denied => {
                    "some processes could not be read (run as root to see them all)"
                }
                OwnerLookup::Done => {
                    "no process twlint can see holds them (another PID namespace, or it exited)"
                }
            };
            writeln!(w, "  {} without a known owner: {why}", cw.unattributed)?;
        }
        writeln!(w, "  {}", cw.advice)?;
    }

    writeln!(w)?;
    let e = &s.ephemeral;
    let r = &e.range;
    let origin = match r.source {
        RangeSource::Live => "",
        RangeSource::Replay => " (from the replayed folder)",
        RangeSource::Default => " (kernel default: not in the replayed folder)",
    };
    writeln!(
        w,
        "Ephemeral ports: range {}-{}{origin}, {} reserved in it: {} usable per (local address, remote address, remote port)",
        r.low, r.high, r.reserved_in_range, r.usable
    )?;
    writeln!(
        w,
        "  a tuple sustains {}/s new connections when this host closes first and tcp_tw_reuse cannot take TIME_WAIT ports",
        format_number(e.sustainable_per_sec_without_reuse)
    )?;
    if e.tuples.is_empty() {
        writeln!(w, "  no port of the range in use")?;
        return Ok(());
    }
    let n = limit(e.tuples.len());
    let wl = e.tuples[..n]
        .iter()
        .map(|t| t.local.to_string().len())
        .max()
        .unwrap_or(0)
        .max(5);
    let wr = e.tuples[..n]
        .iter()
        .map(|t| endpoint(t.remote, t.remote_port).len())
        .max()
        .unwrap_or(0)
        .max(6);
    writeln!(
        w,
        "  {:<wl$}  {:<wr$} {:>7} {:>9} {:>6} {:>9}  exhausted in",
        "local", "remote", "in use", "TIME_WAIT", "used", "new/s"
    )?;
    for t in &e.tuples[..n] {
        let used = 100.0 * t.in_use as f64 / f64::from(t.usable.max(1));
        let rate = t
            .rate_per_sec
            .map_or("?".to_string(), |r| format_number(r).to_string());
        let steady = t
            .steady_state_percent
            .map(|p| format_number((p * 10.0).round() / 10.0).to_string());
        let exhausted = match (t.exhausted_in_secs, t.growth_per_sec, steady) {
            (Some(x), _, _) if x <= 0.0 => "now: every usable port is held".to_string(),
            (Some(x), _, Some(p)) => {
                format!("{} at the observed growth (steady state {p}%)", duration(x))
            }
            (Some(x), _, None) => format!("{} at the observed growth", duration(x)),
            (None, Some(_), Some(p))
                if t.steady_state_in_use.unwrap_or(0.0) < f64::from(t.usable) =>
            {
                format!("not exhausting: steady state {p}%")
            }
            (None, Some(_), Some(p)) => format!("at the limit: steady state {p}%"),
            (None, Some(_), None) => "not growing".to_string(),
            (None, None, _) => "?".to_string(),
        };
        writeln!(
            w,
            "  {:<wl$}  {:<wr$} {:>7} {:>9} {:>5}% {:>9}  {exhausted}",
            t.local.to_string(),
            endpoint(t.remote, t.remote_port),
            t.in_use,
            t.time_wait,
            format_number((used * 10.0).round() / 10.0),
            rate
        )?;
    }
    more(w, n, e.tuples.len(), "tuples")?;
    match e.interval_secs {
        None => writeln!(
            w,
            "  rates unknown: one sample was taken; run with --interval SECONDS to measure them"
        )?,
        Some(secs) => writeln!(
            w,
            "  rates from two samples {} s apart",
            format_number(secs)
        )?,
    }
    Ok(())
}
