//! The binary's side of host mode: choosing what to read from the flags (`--live`, `--no-live`,
//! `--node`, `--root`, `--interval`), printing the host's section of the report (human and
//! JSON, with the host's socket view), and `twlint snapshot`.

use crate::cli::Args;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;
use twlint::config::SourceKindOut;
use twlint::engine::Report;
use twlint::host::evidence::Evidence;
use twlint::host::judge::{self, HostOptions, HostRun, LiveMode};
use twlint::host::{self, HostSnapshot, HostSource, Origin};
use twlint::render::{self, Style};
use twlint::rules::eval::format_number;
use twlint::rules::RuleSet;
use twlint::source::SourceMap;

/// The environment variable that makes a plain `--topology` run judge the declared values, as
/// `--no-live` does: for test suites and CI jobs whose output must not depend on whether the
/// machine's hostname or addresses match a node. Read here, in the binary, never by the library.
pub const NO_LIVE_ENV: &str = "TWLINT_NO_LIVE";

/// Whether the host is left unread: `--no-live`, or [`NO_LIVE_ENV`] set (to anything but empty
/// or `0`) when no flag asks for the host (`--live`, `--root`, `--interval`).
pub fn no_live(args: &Args) -> bool {
    if args.no_live {
        return true;
    }
    let asked = args.live || args.root.is_some() || args.interval.is_some();
    !asked && std::env::var_os(NO_LIVE_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Checks the host flags against each other; `Err` is the message for exit code 2.
pub fn check_flags(args: &Args) -> Result<(), String> {
    if let Some(i) = args.interval {
        if !(i.is_finite() && i > 0.0 && i <= 3600.0) {
            return Err(format!(
                "invalid --interval `{i}`: give a number of seconds above 0 and at most 3600"
            ));
        }
        if args.root.is_some() {
            return Err("--interval needs a live host: a capture given with --root is one reading of the counters".into());
        }
    }
    Ok(())
}

/// Judges the topology, reading this host (or `--root`) unless `--no-live`.
pub fn judge(
    args: &Args,
    topology: &Path,
    engine_opts: &twlint::engine::Options,
    rules: &RuleSet,
    sources: &mut SourceMap,
) -> Result<(Report, Option<HostRun>), String> {
    let opts = HostOptions {
        source: match &args.root {
            Some(d) => HostSource::Root(d.clone()),
            None => HostSource::Live,
        },
        mode: if args.live || args.root.is_some() || args.interval.is_some() {
            LiveMode::Force
        } else {
            LiveMode::Auto
        },
        node: args.node.clone(),
        interval: args.interval,
    };
    judge::judge_topology(topology, engine_opts, &opts, rules, sources).map_err(|e| e.to_string())
}

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

fn paint(style: Style, code: &str, text: &str) -> String {
    if style.color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
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
        (Some((r, _)), Some(n)) if n.kernel_origin == twlint::config::KernelOrigin::Flag => {
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
    let mut parts: Vec<String> = host::counters::TCPEXT
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
        let rates: Vec<String> = host::counters::TCPEXT
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
                twlint::rules::evidence::Meaning::Supports => paint(style, "32", &word),
                twlint::rules::evidence::Meaning::Contradicts => paint(style, "33", &word),
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
    use twlint::sockets::{Direction, SourceKind};
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
        let place = v.link.clone().unwrap_or_else(|| v.node.clone());
        if !g.1.contains(&place) {
            g.1.push(place);
        }
    }
    groups
        .into_iter()
        .map(|((_, key, _), (e, links))| (e, (key, links)))
        .collect()
}

/// `twlint host`: what host mode reads here (or in a capture), without judging it.
pub fn host_command(root: Option<&Path>, json_out: bool, no_sockets: bool) -> io::Result<u8> {
    let source = match root {
        Some(d) => HostSource::Root(d.to_path_buf()),
        None => HostSource::Live,
    };
    let read = host::read(&source).and_then(|mut s| {
        if !no_sockets {
            s.read_sockets()?;
        }
        Ok(s)
    });
    let s = match read {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(io::stderr(), "twlint: error: {e}");
            return Ok(2);
        }
    };
    let mut out = io::stdout().lock();
    if json_out {
        render::json::write_host_read(&mut out, &s)?;
        return Ok(0);
    }
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
    write_netns(&mut out, &s)?;
    let ns = &s.identity.netns;
    for (k, v) in &s.values {
        writeln!(out, "  {k} = {v}")?;
    }
    for (k, why) in &s.unreadable {
        writeln!(out, "  {k}: {}", why.reason())?;
    }
    let c = &s.counters;
    let mut parts: Vec<String> = host::counters::TCPEXT
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
    write_sockets(&mut out, &s)?;
    Ok(0)
}

/// The JSON report, with the host's object and each verdict's evidence in host mode.
pub fn write_json(
    out: &mut dyn Write,
    sources: &SourceMap,
    report: &Report,
    run: Option<&HostRun>,
) -> io::Result<()> {
    let json = render::json::Json::new(sources, report);
    render::json::write(
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
    render::prometheus::write(out, report)?;
    for f in run.map(host::metrics::families).unwrap_or_default() {
        f.write(out)?;
    }
    Ok(())
}

/// `twlint snapshot --out DIR`: this host's values, release, identity and counters.
pub fn snapshot(out_dir: &Path, force: bool) -> io::Result<u8> {
    let fail = |msg: String| {
        let _ = writeln!(io::stderr(), "twlint: error: {msg}");
        Ok(2)
    };
    let snap = match host::read(&HostSource::Live).and_then(|mut s| s.read_sockets().map(|_| s)) {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    let written = match host::snapshot::write(&snap, out_dir, force) {
        Ok(w) => w,
        Err(e) => return fail(e.to_string()),
    };
    let mut out = io::stdout().lock();
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

/// The network namespace line of the host sections: which namespace was read, and how twlint
/// knows whether it is the host's own (a container's is not, and starts from kernel defaults).
fn write_netns(out: &mut dyn Write, s: &twlint::host::HostSnapshot) -> io::Result<()> {
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
