//! `twlint completions SHELL` and `twlint man`: the shell completion scripts and the manual
//! pages, generated from the argument definitions (`args.rs`), so they never disagree with
//! `--help`. The manual is whole: `twlint(1)` lists every subcommand, each has a page of its own
//! (`twlint-advise(1)`, ...), and the pages add what `--help` has no room for: EXIT STATUS,
//! ENVIRONMENT, FILES, EXAMPLES and SEE ALSO.

use super::args::Args;
use super::env::NO_LIVE_ENV;
use clap::CommandFactory;
use clap_mangen::roff::{bold, italic, roman, Roff};
use std::io::{self, Write};
use std::path::Path;

pub fn completions(out: &mut dyn Write, shell: clap_complete::Shell) -> io::Result<u8> {
    let mut cmd = Args::command();
    // Generated into memory first: clap_complete panics when its writer fails, and a closed
    // stdout (`| head`) must not be a panic.
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "twlint", &mut buf);
    out.write_all(&buf)?;
    out.flush()?;
    Ok(0)
}

/// The command as the pages describe it: built (so subcommands are named `twlint-advise`),
/// without the `help` subcommand, whose page would say nothing.
fn command() -> clap::Command {
    let mut cmd = Args::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The subcommands that get a page of their own, in `--help` order.
pub fn pages() -> Vec<String> {
    command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect()
}

/// `twlint man [SUBCOMMAND]`: one page on stdout.
pub fn man(io: &mut super::output::Io, page: Option<&str>) -> io::Result<u8> {
    let text = match page {
        None => render(&command(), None)?,
        Some(name) => {
            let cmd = command();
            let Some(sub) = cmd.find_subcommand(name).cloned() else {
                return io.fail(format!(
                    "there is no page twlint-{name}; the pages are twlint and twlint-{}",
                    pages().join(", twlint-")
                ));
            };
            render(&sub, Some(&cmd))?
        }
    };
    io.out.write_all(&text)?;
    io.out.flush()?;
    Ok(0)
}

/// `twlint man --out DIR`: every page into DIR (`twlint.1`, `twlint-SUBCOMMAND.1`), for
/// packages and tarballs; the files written are listed on stdout.
pub fn man_to(io: &mut super::output::Io, dir: &Path) -> io::Result<u8> {
    if !dir.is_dir() {
        return io.fail(format!(
            "{} is not a folder; create it first (the pages are written into it)",
            dir.display()
        ));
    }
    let cmd = command();
    let mut written = vec![("twlint.1".to_string(), render(&cmd, None)?)];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        written.push((
            format!("twlint-{}.1", sub.get_name()),
            render(sub, Some(&cmd))?,
        ));
    }
    for (name, text) in &written {
        std::fs::write(dir.join(name), text)?;
        writeln!(io.out, "{}", dir.join(name).display())?;
    }
    io.out.flush()?;
    Ok(0)
}

/// One page: clap_mangen's NAME, SYNOPSIS, DESCRIPTION, OPTIONS (and, on the main page,
/// SUBCOMMANDS), then the sections written here, then VERSION.
fn render(cmd: &clap::Command, parent: Option<&clap::Command>) -> io::Result<Vec<u8>> {
    // The main command's after-help (exit codes, examples) becomes proper sections below
    // instead of clap_mangen's EXTRA; the version goes last, as man pages have it.
    let bare = cmd
        .clone()
        .after_help(None::<&'static str>)
        .after_long_help(None::<&'static str>)
        .version(None::<&'static str>)
        .long_version(None::<&'static str>);
    let mut out = Vec::new();
    // The version is left out of the command above, so the page's footer names it here.
    clap_mangen::Man::new(bare)
        .source(format!("twlint {}", crate::build_info::VERSION))
        .manual("twlint manual")
        .render(&mut out)?;
    let mut r = Roff::new();
    exit_status(&mut r);
    if parent.is_none() {
        environment(&mut r);
        files(&mut r);
        examples(&mut r);
    }
    see_also(&mut r, cmd, parent);
    r.control("SH", ["VERSION"]);
    r.text([roman(format!(
        "twlint {}",
        crate::build_info::long_version()
    ))]);
    // Each rendering starts with the same apostrophe preamble; the sections follow the page's.
    let preamble = Roff::new().render();
    let sections = r.render();
    out.extend_from_slice(
        sections
            .strip_prefix(&preamble)
            .unwrap_or(&sections)
            .as_bytes(),
    );
    Ok(out)
}

fn tagged(r: &mut Roff, tag: &str, text: &str) {
    r.control("TP", []);
    r.text([bold(tag)]);
    r.text([roman(text)]);
}

fn exit_status(r: &mut Roff) {
    r.control("SH", ["EXIT STATUS"]);
    tagged(
        r,
        "0",
        "Nothing at or above --fail-on (and for the other subcommands: done).",
    );
    tagged(
        r,
        "1",
        "Findings at or above --fail-on: a dangerous (or, with --fail-on pointless, pointless) verdict, or a diagnostic of that severity.",
    );
    tagged(
        r,
        "2",
        "twlint could not do its job: bad arguments, unreadable or invalid input (a topology with errors), a broken rule file.",
    );
    r.control("PP", []);
    r.text([roman(
        "A closed standard output (twlint ... | head) is not an error.",
    )]);
}

fn environment(r: &mut Roff) {
    r.control("SH", ["ENVIRONMENT"]);
    tagged(
        r,
        "NO_COLOR",
        "Set to anything but empty: --color auto paints nothing (https://no-color.org).",
    );
    tagged(
        r,
        "CLICOLOR, CLICOLOR_FORCE, TERM",
        "Honoured for the colour of --help and of usage errors, as clap decides it.",
    );
    tagged(
        r,
        NO_LIVE_ENV,
        "Set to anything but empty or 0: a topology run judges the declared values even on a machine the topology names, unless --live, --root or --interval asks for the host. For test suites, CI jobs and golden files.",
    );
}

fn files(r: &mut Roff) {
    r.control("SH", ["FILES"]);
    tagged(
        r,
        ".twlint.yaml",
        "The configuration (fail-on, kernel, rules folders, severity overrides), looked for in the working directory, then in each parent up to the root; --config FILE names one, --no-config reads none.",
    );
    tagged(
        r,
        "/etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d, /lib/sysctl.d, /etc/sysctl.conf",
        "Read as sysctl --system reads them when twlint is given a root file system (twlint /).",
    );
    tagged(
        r,
        "/proc/sys/net/ipv4, /proc/sys/kernel/osrelease, /proc/sys/kernel/hostname",
        "The live values and kernel release, in host mode (a topology that names this host), twlint host and twlint snapshot.",
    );
    tagged(
        r,
        "/proc/net/netstat, /proc/net/sockstat, /proc/net/tcp, /proc/net/tcp6",
        "The TcpExt counters and socket tables of host mode (sockets are read through netlink sock_diag when live).",
    );
    r.control("PP", []);
    r.text([roman(
        "twlint never writes outside the folders given to advise --out, snapshot --out and man --out.",
    )]);
}

fn examples(r: &mut Roff) {
    r.control("SH", ["EXAMPLES"]);
    for (cmd, what) in [
        (
            "twlint --topology topology.yaml",
            "judge every hop of a topology",
        ),
        (
            "twlint /etc/sysctl.d/ /etc/sysctl.conf --kernel 5.15",
            "lint files for a kernel",
        ),
        (
            "twlint dumps/*.txt",
            "many hosts at once, one per sysctl -a dump",
        ),
        (
            "twlint --topology topology.yaml --format sarif > twlint.sarif",
            "for code scanning",
        ),
        (
            "twlint / --format prometheus --fail-on never",
            "for node_exporter's textfile collector",
        ),
        (
            "twlint advise --topology topology.yaml --out advised/",
            "the drop-in each node needs",
        ),
        ("twlint explain TW101", "a rule's documentation"),
    ] {
        r.control("TP", []);
        r.text([bold(cmd)]);
        r.text([roman(what)]);
    }
}

fn see_also(r: &mut Roff, cmd: &clap::Command, parent: Option<&clap::Command>) {
    r.control("SH", ["SEE ALSO"]);
    let mut refs: Vec<String> = Vec::new();
    match parent {
        None => {
            for s in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                refs.push(format!("twlint-{}(1)", s.get_name()));
            }
        }
        Some(_) => refs.push("twlint(1)".into()),
    }
    refs.extend(["sysctl(8)".into(), "sysctl.d(5)".into(), "tcp(7)".into()]);
    r.text([roman(format!("{}.", refs.join(", ")))]);
    r.control("PP", []);
    r.text([
        roman("The README and the rule catalog: "),
        italic(env!("CARGO_PKG_REPOSITORY")),
    ]);
}
