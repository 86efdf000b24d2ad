//! What host mode read, laid out: the host's section before the human report (identity, kernel,
//! values that differ from the topology, counters, sockets, evidence), the `host` object and
//! per-verdict evidence of the JSON report, the host's Prometheus families, and `twlint host`
//! (what is read, without judging). Reading the host is `crate::host`'s; this only formats.

use super::human::paint;
use super::Style;
use crate::config::SourceKindOut;
use crate::host::evidence::Evidence;
use crate::host::judge::HostRun;
use crate::host::{self, HostSnapshot, Origin};
use crate::number::format_number;
use crate::report::Report;
use crate::source::SourceMap;
use std::collections::BTreeMap;
use std::io::{self, Write};

fn short(key: &str) -> &str {
    key.strip_prefix("net.ipv4.").unwrap_or(key)
}

fn origin_text(o: &Origin) -> String {
    match o {
        Origin::Live => "read live from /proc".into(),
        Origin::Snapshot(d) => format!("replayed from the twlint snapshot {}", d.display()),
        Origin::Sosreport(d) => format!("replayed from the sosreport {}", d.display()),
        Origin::ProcTree(d) => format!("replayed from {}", d.display()),
    }
}

/// The host's section, printed before the report when the host is a node of the topology.
pub fn write_human(
    out: &mut dyn Write,
    style: Style,
    run: Option<&HostRun>,
    report: &Report,
) -> io::Result<()> {
    let Some(run) = run else { return Ok(()) };
    let Some(m) = &run.matched else {
        // Not a node: the report is the declared one, as without host mode.
        return Ok(());
    };
    let s = &run.snapshot;
    writeln!(
        out,
        "{}",
        paint(
            style,
            "1",
            &format!(
                "host {} is node {} ({}), {}",
                s.identity.hostname.as_deref().unwrap_or("(no hostname)"),
                m.node,
                m.by.describe(),
                origin_text(&s.origin)
            )
        )
    )?;
    if let Some(t) = &s.taken_at {
        writeln!(out, "  taken at {t}")?;
    }
    let judged = report.nodes.iter().find(|n| n.name == m.node);
    match (&s.release, judged) {
        (Some((r, _)), Some(n)) if n.kernel_origin == crate::config::KernelOrigin::Flag => {
            writeln!(out, "  kernel {r}; judged for {} (--kernel)", n.kernel)?
        }
        (Some((r, _)), _) => match run.declared_kernel {
            Some(d) if s.kernel() != Some(d) => {
                writeln!(out, "  kernel {r}; the topology says {d}: judged for {r}")?
            }
            _ => writeln!(out, "  kernel {r}")?,
        },
        (None, Some(n)) => writeln!(
            out,
            "  kernel release not readable: judged for {} ({})",
            n.kernel,
            n.kernel_origin.as_str()
        )?,
        (None, None) => writeln!(out, "  kernel release not readable")?,
    }
    write_netns(out, s)?;
    let (absent, unreadable): (Vec<_>, Vec<_>) = s
        .unreadable
        .iter()
        .partition(|(_, why)| **why == host::Unreadable::Absent);
    let mut line = format!("  {} values read", s.values.len());
    if !absent.is_empty() {
        line.push_str(&format!(
            "; not on this kernel: {}",
            absent
                .iter()
                .map(|(k, _)| short(k))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !unreadable.is_empty() {
        line.push_str(&format!(
            "; not readable, declared values judged instead: {}",
            unreadable
                .iter()
                .map(|(k, why)| format!("{} ({})", short(k), why.reason()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    writeln!(out, "{line}")?;
    for d in &run.drift {
        let declared = match (&d.declared, &d.declared_at) {
            (None, _) => "the topology leaves it at the memory-dependent default".to_string(),
            (Some(v), Some(l)) => format!("declared {} at {}:{}", show(v), l.path, l.line),
            (Some(v), None) if d.declared_kind == SourceKindOut::Default => {
                format!("the topology leaves it at the default {}", show(v))
            }
            (Some(v), None) => format!("declared {} ({})", show(v), d.declared_kind.as_str()),
        };
        writeln!(
            out,
            "  differs from the topology: {} is {} here; {declared}",
            short(d.key),
            show(&d.live),
        )?;
    }
    let c = &s.counters;
    let mut parts: Vec<String> = crate::counters::TCPEXT
        .iter()
        .filter_map(|n| c.tcpext.get(*n).map(|v| format!("{n} {v}")))
        .collect();
    if let Some(tw) = c.time_wait {
        parts.push(format!("{tw} TIME_WAIT sockets now"));
    }
    if parts.is_empty() {
        writeln!(out, "  counters not readable")?;
    } else {
        writeln!(
            out,
            "  counters {}: {}",
            host::counters::since_words(s.identity.netns.initial),
            parts.join(", ")
        )?;
    }
    if let Some(r) = &c.rates {
        let rates: Vec<String> = crate::counters::TCPEXT
            .iter()
            .filter_map(|n| {
                r.delta.get(*n).map(|d| {
                    format!(
                        "{n} +{d} ({}/s)",
                        format_number(*d as f64 / r.interval_seconds)
                    )
                })
            })
            .collect();
        writeln!(
            out,
            "  over {} s: {}",
            format_number(r.interval_seconds),
            rates.join(", ")
        )?;
    }
    write_sockets(out, s)?;
    if !run.evidence.is_empty() {
        writeln!(out, "  evidence:")?;
        for (e, links) in grouped_evidence(&run.evidence, report) {
            let since = match (e.since, e.delta) {
                ("now", _) => "now".to_string(),
                (_, Some((d, i))) => format!(
                    "{}, +{d} in {} s",
                    host::counters::since_words(s.identity.netns.initial),
                    format_number(i)
                ),
                _ => host::counters::since_words(s.identity.netns.initial).to_string(),
            };
            let word = format!("{:<11}", e.meaning.as_str());
            let word = match e.meaning {
                crate::rules::evidence::Meaning::Supports => paint(style, "32", &word),
                crate::rules::evidence::Meaning::Contradicts => paint(style, "33", &word),
            };
            writeln!(
                out,
                "    {word} {} {} on {}: {} {} {since}: {}",
                e.rule,
                short(links.0),
                links.1.join(", "),
                e.counter,
                e.value,
                e.note
            )?;
        }
    }
    writeln!(out)
}

/// Rows of each socket list shown in the host section (`twlint observe` shows them all).
const SOCKET_ROWS: usize = 3;

fn endpoint(a: std::net::IpAddr, port: u16) -> String {
    match a {
        std::net::IpAddr::V4(v4) => format!("{v4}:{port}"),
        std::net::IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// The short socket view of the host section: totals, top TIME_WAIT peers, CLOSE_WAIT owners
/// with the statement that no sysctl fixes them, and the tuples under port pressure.
fn write_sockets(out: &mut dyn Write, s: &HostSnapshot) -> io::Result<()> {
    use crate::sockets::{Direction, SourceKind};
    let Some(cap) = &s.sockets else {
        return Ok(());
    };
    let Some(sum) = &cap.summary else {
        return writeln!(
            out,
            "  sockets: {}",
            cap.missing.as_deref().unwrap_or("not read")
        );
    };
    let from = match (sum.source.kind, &s.origin) {
        (SourceKind::Replay, _) => "from the capture's net/tcp and net/tcp6",
        (_, Origin::Snapshot(_)) => "when the snapshot was taken",
        (SourceKind::Netlink, _) => "now, netlink sock_diag",
        (SourceKind::Proc, _) => "now, /proc/net/tcp and tcp6",
    };
    writeln!(
        out,
        "  sockets ({from}): {} TCP, {} TIME_WAIT, {} CLOSE_WAIT",
        sum.totals.sockets, sum.time_wait.total, sum.close_wait.total
    )?;
    if !sum.time_wait.by_remote.is_empty() {
        let peers: Vec<String> = sum
            .time_wait
            .by_remote
            .iter()
            .take(SOCKET_ROWS)
            .map(|r| match r.direction {
                Direction::Outbound => format!("{} {}", endpoint(r.address, r.port), r.count),
                Direction::Inbound => format!("{} -> port {} {}", r.address, r.port, r.count),
            })
            .collect();
        let more = sum.time_wait.by_remote.len().saturating_sub(SOCKET_ROWS);
        writeln!(
            out,
            "    TIME_WAIT by peer: {}{}",
            peers.join(", "),
            if more > 0 {
                format!(", and {more} more")
            } else {
                String::new()
            }
        )?;
    }
    let cw = &sum.close_wait;
    if cw.total > 0 {
        let mut owners: Vec<String> = cw
            .by_process
            .iter()
            .take(SOCKET_ROWS)
            .map(|p| format!("{} (pid {}) {}", p.command, p.pid, p.count))
            .collect();
        if cw.unattributed > 0 {
            owners.push(format!("{} without a known owner", cw.unattributed));
        }
        writeln!(out, "    CLOSE_WAIT by process: {}", owners.join(", "))?;
        writeln!(out, "    {}", cw.advice)?;
    }
    let e = &sum.ephemeral;
    let pressed: Vec<String> = e
        .tuples
        .iter()
        .take(SOCKET_ROWS)
        .map(|t| {
            format!(
                "{} -> {} {} of {} ({}%)",
                t.local,
                endpoint(t.remote, t.remote_port),
                t.in_use,
                t.usable,
                format_number(
                    (1000.0 * t.in_use as f64 / f64::from(t.usable.max(1))).round() / 10.0
                )
            )
        })
        .collect();
    if pressed.is_empty() {
        writeln!(out, "    ephemeral ports: none of the range in use")?;
    } else {
        writeln!(
            out,
            "    ephemeral ports in use per tuple: {}",
            pressed.join(", ")
        )?;
    }
    if let Some(c) = &cap.caveat {
        writeln!(out, "    caution: {c}")?;
    }
    Ok(())
}

fn show(v: &str) -> String {
    if v.is_empty() {
        "(empty)".into()
    } else {
        v.to_string()
    }
}

/// Evidence grouped by (rule, key, counter), with the links it applies to.
fn grouped_evidence<'a>(
    ev: &'a [(usize, Evidence)],
    report: &'a Report,
) -> Vec<(&'a Evidence, (&'a str, Vec<String>))> {
    let mut groups: BTreeMap<(String, &str, String), (&Evidence, Vec<String>)> = BTreeMap::new();
    for (i, e) in ev {
        let v = &report.verdicts[*i];
        let g = groups
            .entry((e.rule.clone(), v.key, e.counter.clone()))
            .or_insert((e, Vec::new()));
        let place = v.link.as_deref().unwrap_or(&v.node).to_string();
        if !g.1.contains(&place) {
            g.1.push(place);
        }
    }
    groups
        .into_iter()
        .map(|((_, key, _), (e, links))| (e, (key, links)))
        .collect()
}

/// `twlint host`: what was read, one fact a line.
pub fn write_host(out: &mut dyn Write, s: &HostSnapshot) -> io::Result<()> {
    super::safe::escaped(out, super::safe::Form::Text, |out| {
        write_host_unescaped(out, s)
    })
}

fn write_host_unescaped(out: &mut dyn Write, s: &HostSnapshot) -> io::Result<()> {
    writeln!(
        out,
        "host {}, {}",
        s.identity.hostname.as_deref().unwrap_or("(no hostname)"),
        origin_text(&s.origin)
    )?;
    if let Some(t) = &s.taken_at {
        writeln!(out, "  taken at {t}")?;
    }
    writeln!(
        out,
        "  kernel {}",
        s.release
            .as_ref()
            .map(|r| r.0.as_str())
            .unwrap_or("unknown")
    )?;
    let addrs: Vec<String> = s.identity.addresses.iter().map(|a| a.to_string()).collect();
    writeln!(
        out,
        "  addresses {}",
        if addrs.is_empty() {
            "unknown".into()
        } else {
            addrs.join(", ")
        }
    )?;
    write_netns(out, s)?;
    let ns = &s.identity.netns;
    for (k, v) in &s.values {
        writeln!(out, "  {k} = {v}")?;
    }
    for (k, why) in &s.unreadable {
        writeln!(out, "  {k}: {}", why.reason())?;
    }
    let c = &s.counters;
    let mut parts: Vec<String> = crate::counters::TCPEXT
        .iter()
        .filter_map(|n| c.tcpext.get(*n).map(|v| format!("{n} {v}")))
        .collect();
    if let Some(tw) = c.time_wait {
        parts.push(format!("{tw} TIME_WAIT sockets now"));
    }
    writeln!(
        out,
        "  counters {}: {}",
        host::counters::since_words(ns.initial),
        if parts.is_empty() {
            "not readable".into()
        } else {
            parts.join(", ")
        }
    )?;
    write_sockets(out, s)
}

/// The JSON report, with the host's object and each verdict's evidence in host mode.
pub fn write_json(
    out: &mut dyn Write,
    sources: &SourceMap,
    report: &Report,
    run: Option<&HostRun>,
) -> io::Result<()> {
    let json = super::json::Json::new(sources, report);
    super::json::write(
        out,
        match run {
            Some(run) => json.with_host(run),
            None => json,
        },
    )
}

/// The Prometheus text: the report's families, then the host's own (sockets, counters).
pub fn write_prometheus(
    out: &mut dyn Write,
    report: &Report,
    run: Option<&HostRun>,
) -> io::Result<()> {
    super::prometheus::write(out, report)?;
    // The node's role rides on twlint_host_info, so an alert can pick the middleboxes (a
    // conntrack table matters on a NAT or a load balancer, not on a database).
    let role = |node: &str| {
        report
            .nodes
            .iter()
            .find(|n| n.name == node)
            .map(|n| n.role.to_string())
            .unwrap_or_default()
    };
    for f in run
        .map(|r| super::host_metrics::families(r, &role))
        .unwrap_or_default()
    {
        f.write(out)?;
    }
    Ok(())
}

/// The network namespace line of the host sections: which namespace was read, and how twlint
/// knows whether it is the host's own (a container's is not, and starts from kernel defaults).
fn write_netns(out: &mut dyn Write, s: &HostSnapshot) -> io::Result<()> {
    let ns = &s.identity.netns;
    writeln!(
        out,
        "  network namespace {}: {}",
        ns.inode
            .map(|i| format!("net:[{i}]"))
            .unwrap_or_else(|| "?".into()),
        ns.how
    )
}
