//! `twlint observe`: the socket view of this host's network namespace (or of a captured
//! /proc-like folder), as a table or JSON. Binary side only: the counting lives in
//! `twlint::sockets` and its table is `twlint::sockets::human`.

use super::output::{DocFormat as Format, Io};
use crate::sockets::{self, Options, Reader, StateSet, TcpState};
use clap::{Args, ValueEnum};
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
#[command(after_help = "\
Exit codes: 0 the view was printed; 2 twlint could not read the sockets or the folder.

Examples:
  twlint observe
  twlint observe --interval 5 --format json
  twlint observe --state time-wait,close-wait
  twlint observe --root sosreport/proc")]
pub struct ObserveArgs {
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,

    /// Take two samples this many seconds apart and report per-tuple rates and the time
    /// until the ephemeral ports run out (without it, rates are unknown)
    #[arg(long, value_name = "SECONDS", value_parser = parse_interval)]
    pub interval: Option<Duration>,

    /// Count only these states (comma-separated, e.g. time-wait,close-wait); the filter runs
    /// in the kernel
    #[arg(long = "state", value_name = "STATE", value_delimiter = ',', value_parser = parse_state)]
    pub states: Vec<TcpState>,

    /// Replay a capture instead of reading this host: a /proc-like folder (net/tcp, net/tcp6,
    /// sys/net/ipv4/..., <pid>/fd), as `--root` reads one everywhere (`--proc-dir` is the old
    /// name)
    #[arg(
        long = "root",
        alias = "proc-dir",
        value_name = "DIR",
        conflicts_with = "interval"
    )]
    pub proc_dir: Option<PathBuf>,

    /// Where to read the live socket table (auto: netlink, /proc where netlink is refused)
    #[arg(long, value_enum, default_value = "auto")]
    pub reader: ReaderArg,

    /// Rows per list in the table (0: all); JSON always has every row
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// Do not walk /proc/<pid>/fd for the owners of CLOSE_WAIT sockets
    #[arg(long)]
    pub no_owners: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReaderArg {
    Auto,
    Netlink,
    Proc,
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(x) if x > 0.0 && x <= 3600.0 => Ok(Duration::from_secs_f64(x)),
        _ => Err(format!(
            "`{s}` is not a number of seconds above 0 and at most 3600"
        )),
    }
}

/// A `--state` name. The error lists the names as `--help` writes them (`time-wait`); the JSON's
/// `time_wait` and `ss`'s `TIME-WAIT` are accepted too.
fn parse_state(s: &str) -> Result<TcpState, String> {
    TcpState::parse(s).ok_or_else(|| {
        let names: Vec<String> = TcpState::ALL
            .iter()
            .map(|s| s.name().replace('_', "-"))
            .collect();
        format!(
            "`{s}` is not a TCP state; use one of {} (time_wait and ss's TIME-WAIT are read too)",
            names.join(", ")
        )
    })
}

pub fn run(io: &mut Io, args: ObserveArgs) -> io::Result<u8> {
    let states = if args.states.is_empty() {
        StateSet::all()
    } else {
        args.states
            .iter()
            .fold(StateSet::empty(), |set, s| set.with(*s))
    };
    let options = Options {
        states,
        interval: args.interval,
        reader: match args.reader {
            ReaderArg::Auto => Reader::Auto,
            ReaderArg::Netlink => Reader::Netlink,
            ReaderArg::Proc => Reader::Proc,
        },
        skip_owners: args.no_owners,
    };
    let result = match &args.proc_dir {
        // A capture laid out like / (a sosreport, a `twlint snapshot` with proc/) is read at its
        // proc/ folder, as `--root` of a check run reads it.
        Some(dir) if dir.join("proc/net").is_dir() => {
            sockets::collect_from_proc_dir(&dir.join("proc"), &options)
        }
        Some(dir) => sockets::collect_from_proc_dir(dir, &options),
        None => sockets::collect(&options),
    };
    let summary = match result {
        Ok(s) => s,
        Err(e) => return io.fail(e),
    };
    // Buffered: stdout is line-buffered, and a busy host's view has many lines.
    let out = &mut io::BufWriter::with_capacity(1 << 16, &mut *io.out);
    match args.format {
        Format::Human => sockets::human::write_summary(out, &summary, args.top)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &summary).map_err(io::Error::from)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(0)
}
