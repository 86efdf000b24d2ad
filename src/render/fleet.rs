//! The fleet summary of a run over many hosts in the human format: which hosts have which
//! dangerous settings, and which could not be read and why (see [`crate::report::Fleet`]; the
//! JSON form is part of `render::json`).

use super::human::{paint, short_key};
use super::Style;
use crate::report::Fleet;
use std::io::{self, Write};

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
    for h in hosts {
        write!(out, "  {:<host_w$}  {:<kernel_w$}", h.name, h.kernel)?;
        if h.error.is_some() {
            // No verdict to show: the reason follows the table, where it has room.
            writeln!(out, "  {}", paint(style, "1;31", "not read"))?;
            continue;
        }
        for (k, w) in keys.iter().zip(&widths) {
            // Pad before painting so escape codes do not break the column.
            let cell = if h.dangerous.contains(k) {
                paint(style, "1;31", &format!("{:<w$}", "dangerous"))
            } else {
                format!("{:<w$}", "-")
            };
            write!(out, "  {cell}")?;
        }
        writeln!(out, "  {:<9}  {}", h.pointless.len(), h.errors)?;
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
