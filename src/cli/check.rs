//! The default run, `twlint [PATHS] [--topology FILE]`: lint sysctl files and dumps, or judge every
//! hop of a topology (reading this host or a capture in host mode), then write the report in the
//! chosen format and give the exit code of the contract (0: nothing at or above `--fail-on`; 1:
//! findings at or above it; 2: twlint could not do its whole job, such as a fleet's dump it could
//! not read while it judged the others).
//!
//! This file owns the flags' meaning for such a run: which combinations are refused, when the
//! host is read (`--live`, `--no-live`, `--root`, `--interval`, `TWLINT_NO_LIVE`), and how
//! `.twlint.yaml` and the flags make the judge's options.

use super::args::{Args, FailOn, Format, Show};
use super::config::{catalog_with, ConfigFlags};
use super::output::{with_hint, Io};
use crate::diag::{did_you_mean, Verdict};
use crate::host::judge::{self as host_judge, HostOptions, HostRun, LiveMode};
use crate::host::{self, HostSource};
use crate::judge::{self, Request};
use crate::kernel::KernelVersion;
use crate::render;
use crate::report::Report;
use crate::rules::RuleSet;
use crate::settings::{self, Level};
use crate::source::SourceMap;
use std::io::{self, Write};
use std::path::Path;

pub fn run(io: &mut Io, args: Args) -> io::Result<u8> {
    if let Err(e) = check_flags(&args) {
        return io.fail(e);
    }
    // The flag, else the environment variable a CI job sets once, else the default.
    let format = match (args.format, io.env.format.as_deref()) {
        (Some(f), _) => f,
        (None, Some(v)) => match from_env::<Format>("TWLINT_FORMAT", v) {
            Ok(f) => f,
            Err(e) => return io.fail(e),
        },
        (None, None) => Format::Human,
    };
    let env_fail_on = match io.env.fail_on.as_deref() {
        Some(v) => match from_env::<FailOn>("TWLINT_FAIL_ON", v) {
            Ok(f) => Some(f),
            Err(e) => return io.fail(e),
        },
        None => None,
    };
    let kernel = match &args.kernel {
        Some(k) => match KernelVersion::parse(k) {
            Some(v) => Some(v),
            None => {
                return io.fail(format!(
                    "invalid --kernel `{k}`: expected a release such as 5.15 or 6.8.0-45-generic"
                ))
            }
        },
        None => None,
    };
    if args.node.is_some() && args.topology.is_none() {
        return io.fail("--node names a node of a topology: add --topology FILE, or drop --node to lint the files on their own");
    }
    if args.topology.is_none() && args.paths.is_empty() {
        return io.fail(
            "nothing to judge: give sysctl files or folders, or --topology FILE (see --help)",
        );
    }
    if args.topology.is_some() && !args.paths.is_empty() {
        return io.fail("give either PATHs or --topology, not both: a topology names its nodes' sysctl files itself");
    }
    let forced = match args.input_format.as_deref() {
        None => None,
        Some(f) => match crate::inputs::reader_named(f) {
            Some(r) => Some(r),
            None => {
                let names: Vec<&str> = crate::inputs::format_names().collect();
                return io.fail(format!(
                    "invalid --input-format `{f}`: twlint reads {}",
                    names.join(", ")
                ));
            }
        },
    };
    let mut sources = SourceMap::new();
    // SARIF carries each rule's documentation; no other format shows it.
    let docs = format == Format::Sarif;
    // A run that says this machine is a node of the topology (`--live`, `--node`) reads its
    // sockets from the start, on a thread, while the rules and the topology load
    // (`host::sockets::Pending`). Not with `--interval`: the view is of the end of the wait.
    let early = (args.topology.is_some()
        && !no_live(&args, io.env.no_live)
        && (args.live || args.node.is_some())
        && args.root.is_none()
        && args.interval.is_none())
    .then(|| host::sockets::Pending::start(host::Origin::Live));
    let run = match prepare(io, &args, kernel, docs, &mut sources) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let mut host = None;
    let mut unread = Vec::new();
    let result = match &args.topology {
        Some(t) if !no_live(&args, io.env.no_live) => {
            // The run waits between the two readings: said on a terminal, so nobody wonders why
            // nothing shows (a CI log gets the report only).
            if let (Some(i), true) = (args.interval, io.env.stderr_is_terminal) {
                let _ = writeln!(
                    io.err,
                    "twlint: reading this host's counters twice, {i} s apart..."
                );
            }
            match judge_host(&args, t, &run.opts, &run.rules, &mut sources, early) {
                Ok((r, h)) => {
                    host = h;
                    Ok(r)
                }
                Err(e) => return io.fail(e),
            }
        }
        Some(t) => judge::load_topology(t, &run.opts, &mut sources).and_then(|loaded| {
            judge::judge(
                Request::topology(loaded),
                &run.opts,
                &run.rules,
                &mut sources,
            )
        }),
        None => {
            let inputs = match read_inputs(&args) {
                Ok(i) => i,
                Err(e) => return io.fail(e),
            };
            // Many paths in the human or JSON report: written host by host as each is judged,
            // in flat memory (`super::fleet`).
            let streamed = matches!(format, Format::Human | Format::Json);
            if streamed && inputs.len() > 1 && !(args.fix || args.diff || args.add_noqa) {
                let fail_on = args.fail_on.or(env_fail_on).unwrap_or(run.fail_on);
                let mut style = io.style(args.color);
                style.show_safe = args.verbose || args.show.contains(&Show::Safe);
                style.summary_only = args.summary;
                let json = format == Format::Json;
                let code = super::fleet::run(
                    io,
                    &inputs,
                    forced,
                    &run,
                    &mut sources,
                    json,
                    style,
                    threshold_of(fail_on),
                );
                if io.env.ends_process {
                    left_to_exit((run, sources));
                }
                return code;
            }
            judge::read_sysctl_inputs(&inputs, forced, &mut sources).and_then(|read| {
                // Every broken path is named now, with what to do about it; the report then lists
                // them among the hosts and the run ends with exit code 2.
                for u in &read.unread {
                    let _ = writeln!(io.err, "twlint: error: {}", with_hint(&u.error));
                }
                unread = read.unread.iter().map(judge::Unread::to_report).collect();
                judge::judge(
                    Request::sets(read.sets),
                    &run.opts,
                    &run.rules,
                    &mut sources,
                )
            })
        }
    };
    let mut report: Report = match result {
        Ok(r) => r,
        Err(e) => return io.fail(with_hint(&e)),
    };
    report.unread = unread;
    run.finish(&mut report);
    if let (Some(node), false) = (&args.node, report.fatal) {
        if !report.nodes.iter().any(|n| &n.name == node) {
            let names: Vec<&str> = report.nodes.iter().map(|n| n.name.as_str()).collect();
            let hint = did_you_mean(node, names.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_else(|| format!("; its nodes are: {}", names.join(", ")));
            return io.fail(format!(
                "--node `{node}` is not a node of the topology{hint}"
            ));
        }
    }
    if args.fix || args.diff {
        if !report.incomplete() {
            return super::fix::run(io, args, &report, &sources);
        }
        // A run that ends with exit 2 judged less than it was given: nothing is fixed, and the
        // report below says what went wrong.
        writeln!(
            io.err,
            "twlint: warning: not fixing: the run is incomplete (exit 2)"
        )?;
    }
    if args.add_noqa {
        return super::baseline::run(io, args, &report, &sources);
    }
    let fail_on = args.fail_on.or(env_fail_on).unwrap_or(run.fail_on);
    let threshold = threshold_of(fail_on);
    // The verdict is known before anything is written, so a reader that stops early
    // (`| head`) does not change the exit code a pipeline with pipefail sees.
    let code = if report.incomplete() {
        2
    } else if report.fails(threshold) {
        1
    } else {
        0
    };
    let mut style = io.style(args.color);
    style.show_safe = args.verbose || args.show.contains(&Show::Safe);
    style.summary_only = args.summary;
    // Buffered: stdout is line-buffered, and a report of many hosts has many lines.
    let mut out = io::BufWriter::with_capacity(1 << 16, &mut *io.out);
    let host = host.as_ref();
    let written = match format {
        Format::Human => render::host::write_human(&mut out, style, host, &report)
            .and_then(|_| render::human::write(&mut out, style, &sources, &report, threshold)),
        Format::Json => render::host::write_json(&mut out, &sources, &report, host),
        Format::Sarif => render::sarif::write(&mut out, &sources, &run.rules, &report),
        Format::Github => render::github::write(&mut out, &sources, &run.rules, &report),
        Format::Markdown => render::markdown::write(&mut out, &sources, &run.rules, &report),
        Format::Gcc => render::gcc::write(&mut out, &sources, &report),
        Format::Prometheus => render::host::write_prometheus(&mut out, &report, host),
        Format::Gitlab => render::gitlab::write(&mut out, &sources, &report),
        Format::Junit => render::junit::write(&mut out, &sources, &report),
        Format::Rdjson => render::rdjson::write(&mut out, &sources, &run.rules, &report),
        Format::Dot => render::diagram::write_dot(&mut out, &report),
    }
    .and_then(|_| out.flush());
    drop(out);
    if io.env.ends_process {
        left_to_exit((run, sources, report));
    }
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(code),
        Err(e) => Err(e),
        Ok(()) => Ok(code),
    }
}

/// Leaves what a run held to the process's exit (see `Env::ends_process`): freeing the catalog's
/// thousands of allocations one by one is work the kernel does at once when the process ends.
pub(super) fn left_to_exit<T>(held: T) {
    std::mem::forget(held);
}

/// The verdict `--fail-on` fails at (`None`: never).
fn threshold_of(fail_on: FailOn) -> Option<Verdict> {
    match fail_on {
        FailOn::Dangerous => Some(Verdict::Dangerous),
        FailOn::Pointless => Some(Verdict::Pointless),
        FailOn::Never => None,
    }
}

/// The rules `--select` and `--ignore` turn off: every rule `--select` does not name (when it
/// names any), and every rule `--ignore` names. A word names a rule by id, by name, or by an id
/// prefix (`TW1`); one that names none is an error with a did-you-mean.
fn turned_off(
    rules: &RuleSet,
    select: &[String],
    ignore: &[String],
) -> Result<Vec<String>, String> {
    let named = |flag: &str, words: &[String]| -> Result<Vec<String>, String> {
        let mut ids = Vec::new();
        for w in words.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
            let hits: Vec<String> = rules
                .rules
                .iter()
                .filter(|r| {
                    r.name == w
                        || r.id
                            .get(..w.len())
                            .is_some_and(|p| p.eq_ignore_ascii_case(w))
                })
                .map(|r| r.id.clone())
                .collect();
            if hits.is_empty() {
                let hint = did_you_mean(
                    w,
                    rules
                        .rules
                        .iter()
                        .flat_map(|r| [r.id.as_str(), r.name.as_str()]),
                )
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| "`twlint rules` lists them".into());
                return Err(format!("{flag} `{w}` names no rule\n  help: {hint}"));
            }
            ids.extend(hits);
        }
        Ok(ids)
    };
    let selected = named("--select", select)?;
    let mut off = named("--ignore", ignore)?;
    if !selected.is_empty() {
        off.extend(
            rules
                .rules
                .iter()
                .filter(|r| !selected.contains(&r.id))
                .map(|r| r.id.clone()),
        );
    }
    off.sort();
    off.dedup();
    Ok(off)
}

/// A flag's value given by an environment variable; `Err` says which values it takes.
fn from_env<T: clap::ValueEnum>(name: &str, value: &str) -> Result<T, String> {
    T::from_str(value, true).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        format!(
            "invalid {name} `{value}`\n  help: set it to one of {}, or unset it",
            names.join(", ")
        )
    })
}

/// Whether the host is left unread: `--no-live`, or `TWLINT_NO_LIVE` set (`env_no_live`) when no
/// flag asks for the host (`--live`, `--root`, `--interval`).
fn no_live(args: &Args, env_no_live: bool) -> bool {
    // A baseline is of the files: on a host the topology names, its live values are not read.
    if args.no_live || args.add_noqa {
        return true;
    }
    let asked = args.live || args.root.is_some() || args.interval.is_some();
    !asked && env_no_live
}

/// The PATHs as the judge takes them, `-` read from standard input (here: the library never
/// reads it) within the limits of a file; `Err` is the message for exit code 2.
fn read_inputs(args: &Args) -> Result<Vec<judge::Input>, String> {
    use std::io::Read;
    let name = args.stdin_filename.as_deref().unwrap_or("<stdin>");
    let mut inputs = Vec::with_capacity(args.paths.len());
    for p in &args.paths {
        if p.as_os_str() != "-" {
            inputs.push(judge::Input::Path(p.clone()));
            continue;
        }
        // One more byte than the limit tells a text over it from one at it without reading
        // an endless pipe whole.
        let limit = crate::inputs::system::MAX_FILE_SIZE;
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        let text = match crate::inputs::system::sysctl_text_from_bytes(bytes, Path::new(name)) {
            Err(crate::error::Error::TooLarge { limit, .. }) => {
                return Err(format!("standard input ({name}) is larger than {limit} bytes, the limit of a file; twlint refuses to read it whole"))
            }
            r => r.map_err(|e| with_hint(&e))?,
        };
        inputs.push(judge::Input::Text {
            name: name.to_string(),
            text,
        });
    }
    Ok(inputs)
}

/// Checks the host flags against each other; `Err` is the message for exit code 2.
fn check_flags(args: &Args) -> Result<(), String> {
    let stdin = args.paths.iter().filter(|p| p.as_os_str() == "-").count();
    if stdin > 1 {
        return Err("`-` (standard input) may be named once".into());
    }
    if stdin == 1 && args.fix {
        return Err("--fix cannot write fixes back to standard input: use --diff to see them, or name the file".into());
    }
    if stdin == 1 && args.add_noqa {
        return Err(
            "--add-noqa cannot write suppressions back to standard input: name the file".into(),
        );
    }
    if args.add_noqa && (args.live || args.root.is_some() || args.interval.is_some()) {
        return Err("--add-noqa suppresses findings where the files write them; a host's values have no place there: drop --live, --root and --interval".into());
    }
    if stdin == 0 && args.stdin_filename.is_some() {
        return Err("--stdin-filename names standard input: add `-` to the PATHs".into());
    }
    if args.unsafe_fixes && !(args.fix || args.diff) {
        return Err("--unsafe-fixes goes with --fix or --diff".into());
    }
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
fn judge_host(
    args: &Args,
    topology: &Path,
    engine_opts: &judge::Options,
    rules: &RuleSet,
    sources: &mut SourceMap,
    early: Option<host::sockets::Pending>,
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
    host_judge::judge_topology(topology, engine_opts, &opts, rules, sources, early)
        .map_err(|e| e.to_string())
}

/// What a lint or topology run needs beyond its inputs, from the flags and `.twlint.yaml`.
pub(super) struct Run {
    pub(super) rules: RuleSet,
    pub(super) opts: judge::Options,
    /// `--fail-on` when the flag is absent: the file's `fail-on`, else dangerous.
    fail_on: FailOn,
    levels: Vec<(String, Level)>,
    pub(super) config: Option<String>,
}

impl Run {
    /// Applies the severity overrides and records the configuration file used.
    pub(super) fn finish(&self, report: &mut Report) {
        settings::apply_levels(report, &self.levels);
        report.config = self.config.clone();
    }
}

/// Reads the configuration and the rules (the file's `rules` folders, then `--rules`), and
/// builds the judge's options. `Err` holds the exit code of a failure already reported.
fn prepare(
    io: &mut Io,
    args: &Args,
    kernel: Option<KernelVersion>,
    docs: bool,
    sources: &mut SourceMap,
) -> Result<Run, io::Result<u8>> {
    let flags = ConfigFlags {
        config: args.config.clone(),
        no_config: args.no_config,
        start: args
            .topology
            .clone()
            .or_else(|| args.paths.first().cloned()),
    };
    let catalog = catalog_with(
        io,
        &flags,
        &args.rules,
        args.allow_outside_paths,
        docs,
        args.color,
        sources,
    )?;
    let (rules, mut levels, project) = (catalog.rules, catalog.levels, catalog.project);
    match turned_off(&rules, &args.select, &args.ignore) {
        Ok(off) => {
            for id in off {
                levels.retain(|(r, _)| *r != id);
                levels.push((id, Level::Off));
            }
        }
        Err(e) => return Err(io.fail(e)),
    }
    // Copying the catalog (and dropping the original) was a twentieth of judging one dump; most
    // runs turn no rule off and can keep it as loaded.
    let rules = if levels.iter().any(|(_, l)| *l == Level::Off) {
        settings::without_rules(&rules, &levels)
    } else {
        rules
    };
    let fail_on = match project.as_ref().and_then(|p| p.fail_on) {
        Some(settings::FailOn::Pointless) => FailOn::Pointless,
        Some(settings::FailOn::Never) => FailOn::Never,
        _ => FailOn::Dangerous,
    };
    Ok(Run {
        rules,
        opts: judge::Options {
            kernel,
            default_kernel: project.as_ref().and_then(|p| p.kernel),
            inline_ignores: !args.no_inline_ignores,
            allow_outside_paths: args.allow_outside_paths,
            kubernetes: project
                .as_ref()
                .map(|p| p.kubernetes.clone())
                .unwrap_or_default(),
        },
        fail_on,
        levels,
        config: project.map(|p| p.path.display().to_string()),
    })
}
