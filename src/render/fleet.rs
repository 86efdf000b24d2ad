//! The fleet summary of a run over many hosts in the human format: which hosts have which
//! dangerous settings, and which could not be read and why (see [`crate::report::Fleet`]; the
//! JSON form is part of `render::json`); and the human report of such a run written host by
//! host ([`HumanStream`]).

use super::human::{paint, short_key};
use super::spool::Spool;
use super::Style;
use crate::diag::Verdict;
use crate::report::{Fleet, FleetHost, Report, Totals, Unread};
use crate::source::SourceMap;
use std::io::{self, Write};

/// One host's part of a streamed human report, drawn on the thread that judged it: its table
/// and findings (none with `--summary`), its fleet row and its counts.
pub struct HumanPart {
    text: Vec<u8>,
    /// It ends with a finding: a blank line parts it from what follows.
    gap: bool,
    hosts: Vec<FleetHost>,
    totals: Totals,
}

impl HumanPart {
    /// The part of the report `r` (one host, or the files judged together), drawn from
    /// `sources`; `draw` is false when only the summary will be shown.
    pub fn new(
        style: Style,
        sources: &SourceMap,
        r: &Report,
        threshold: Option<Verdict>,
        draw: bool,
    ) -> io::Result<HumanPart> {
        // Sized for the usual host (a table and two or three frames, about 3 KiB): grown from
        // empty, it was copied a dozen times on the way.
        let mut text = Vec::with_capacity(if draw { 4096 } else { 0 });
        let gap = draw && super::human::write_nodes(&mut text, style, sources, r)?;
        Ok(HumanPart {
            text,
            gap,
            hosts: Fleet::hosts_of(r),
            totals: Totals::of(r, threshold),
        })
    }
}

/// The human report of a run over many hosts, laid out as [`super::human::write`] lays out the
/// whole report: the fleet summary first (worst hosts at the top), then each host's table and
/// findings in argument order, then the last lines. The summary is known only once every host
/// is judged, so the hosts' parts wait in a [`Spool`] (memory, then an unlinked temporary file);
/// only the fleet summary's rows stay in memory. Everything goes to `out` unescaped: write
/// through [`super::human::behind_safe`].
pub struct HumanStream {
    style: Style,
    hosts: Vec<FleetHost>,
    totals: Totals,
    /// The hosts' tables and findings drawn so far, in argument order.
    parts: Spool,
    /// The one host drawn under `--summary`, written if the run turns out to be no fleet.
    held: Option<Vec<u8>>,
    /// What was written last ends with a finding.
    gap: bool,
}

impl HumanStream {
    /// Writes the report's beginning; `config` is the `.twlint.yaml` the run used.
    pub fn start(out: &mut dyn Write, style: Style, config: Option<&str>) -> io::Result<Self> {
        super::human::configuration(out, config)?;
        Ok(HumanStream {
            style,
            hosts: Vec::new(),
            totals: Totals::default(),
            parts: Spool::new(),
            held: None,
            gap: false,
        })
    }

    /// Keeps one host's part for its place after the summary (under `--summary`, only the
    /// first one, in case the run is no fleet after all).
    pub fn push(&mut self, part: HumanPart) -> io::Result<()> {
        if self.style.summary_only {
            if self.hosts.is_empty() && self.held.is_none() {
                self.held = Some(part.text);
            }
        } else if !part.text.is_empty() {
            if self.gap {
                self.parts.append(b"\n")?;
            }
            self.parts.append(&part.text)?;
            self.gap = part.gap;
        }
        self.hosts.extend(part.hosts);
        self.totals.add(&part.totals);
        Ok(())
    }

    /// Writes the fleet summary (two hosts or more, those not read included) and the last
    /// lines, `fail_on` being the run's threshold.
    pub fn finish(
        mut self,
        out: &mut dyn Write,
        unread: &[Unread],
        fail_on: Option<Verdict>,
    ) -> io::Result<()> {
        self.totals.unread = unread.len();
        let fleet = self.hosts.len() + unread.len() >= 2;
        if fleet {
            write_human(out, self.style, &Fleet::from_hosts(self.hosts, unread))?;
        } else if let Some(text) = &self.held {
            // `--summary` of a run that is one host after all: the report as without it.
            out.write_all(text)?;
        }
        self.parts.write_to(out)?;
        super::human::summary(out, self.style, &self.totals, fail_on)?;
        super::human::unread_and_suppressed(out, self.style, &self.totals)
    }

    /// The counts written so far.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }
}

/// A table of hosts by the keys that are dangerous on at least one of them, then one line per
/// key with the number of hosts, then one line per host that could not be read, with why.
pub fn write_human(out: &mut dyn Write, style: Style, f: &Fleet) -> io::Result<()> {
    let affected = f.hosts.iter().filter(|h| !h.dangerous.is_empty()).count();
    let unread = f.hosts.iter().filter(|h| h.error.is_some()).count();
    // Said only when there are some, so a fleet read whole keeps the heading it always had.
    let unread_note = match unread {
        0 => String::new(),
        1 => ", 1 not read".to_string(),
        n => format!(", {n} not read"),
    };
    writeln!(
        out,
        "{}",
        paint(
            style,
            "1",
            &format!(
                "fleet: {} hosts, {affected} with dangerous settings{unread_note}",
                f.hosts.len()
            )
        )
    )?;
    let keys: Vec<&'static str> = f.dangerous.keys().copied().collect();
    let host_w = f
        .hosts
        .iter()
        .map(|h| h.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let kernel_w = f
        .hosts
        .iter()
        .map(|h| h.kernel.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let widths: Vec<usize> = keys.iter().map(|k| short_key(k).len().max(9)).collect();
    let mut head = format!("  {:<host_w$}  {:<kernel_w$}", "host", "kernel");
    for (k, w) in keys.iter().zip(&widths) {
        head.push_str(&format!("  {:<w$}", short_key(k)));
    }
    head.push_str("  pointless  errors");
    writeln!(out, "{}", head.trim_end())?;
    // Worst first: hosts that could not be read, then by dangerous settings, errors and
    // pointless ones; hosts alike keep the arguments' order.
    let mut hosts: Vec<&crate::report::FleetHost> = f.hosts.iter().collect();
    hosts.sort_by_key(|h| {
        (
            h.error.is_none(),
            std::cmp::Reverse(h.dangerous.len()),
            std::cmp::Reverse(h.errors),
            std::cmp::Reverse(h.pointless.len()),
        )
    });
    // Each row made in memory and written at once: the table is written on one thread after
    // every host is judged, and a write per cell through the escaping writer cost a fleet run
    // of 10,000 hosts tens of milliseconds at its end.
    use std::fmt::Write as _;
    let mut row = String::new();
    for h in hosts {
        row.clear();
        let _ = write!(row, "  {:<host_w$}  {:<kernel_w$}", h.name, h.kernel);
        if h.error.is_some() {
            // No verdict to show: the reason follows the table, where it has room.
            let _ = writeln!(row, "  {}", paint(style, "1;31", "not read"));
            out.write_all(row.as_bytes())?;
            continue;
        }
        for (k, w) in keys.iter().zip(&widths) {
            row.push_str("  ");
            // Pad before painting so escape codes do not break the column.
            if h.dangerous.contains(k) {
                row.push_str(&paint(style, "1;31", &format!("{:<w$}", "dangerous")));
            } else {
                let _ = write!(row, "{:<w$}", "-");
            }
        }
        let _ = writeln!(row, "  {:<9}  {}", h.pointless.len(), h.errors);
        out.write_all(row.as_bytes())?;
    }
    for (k, hosts) in &f.dangerous {
        writeln!(
            out,
            "  {} is dangerous on {} of {} hosts",
            short_key(k),
            hosts.len(),
            f.hosts.len()
        )?;
    }
    // The error names the path already.
    for error in f.hosts.iter().filter_map(|h| h.error.as_ref()) {
        writeln!(out, "  {}: {error}", paint(style, "1;31", "not read"))?;
    }
    writeln!(out)
}
