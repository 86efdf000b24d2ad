//! `--add-noqa`: the directives of [`crate::baseline`] written into the files that hold the
//! findings, each with the reason `baseline YYYY-MM-DD`. Files are written as `--fix` writes
//! them (`super::fix`): atomically, only inside the folders the run was given (or, with
//! `--allow-outside-paths`, where the topology leads), never a file that changed since twlint
//! read it, keeping its permissions. Nothing is written when the run could not judge
//! everything (exit code 2). Then the run starts over on the files as they are now, so the
//! report shows the findings suppressed and the exit code is about what is left.

use super::args::Args;
use super::fix::{allowed, base_for, dotted, plural};
use super::output::Io;
use crate::baseline;
use crate::report::Report;
use crate::source::SourceMap;
use std::io;
use std::path::Path;

/// The reason every directive gives: the day the baseline was taken (UTC).
fn reason() -> String {
    let now = crate::host::snapshot::now_utc();
    format!("baseline {}", &now[..10])
}

pub fn run(io: &mut Io, mut args: Args, report: &Report, sources: &SourceMap) -> io::Result<u8> {
    if report.incomplete() {
        let style = io.err_style(args.color);
        crate::render::human::write_diagnostics(io.err, style, sources, &report.diagnostics)?;
        for u in &report.unread {
            writeln!(io.err, "twlint: error: {}: {}", u.path, u.error)?;
        }
        return io.fail("--add-noqa wrote nothing: the run could not judge everything");
    }
    let reason = reason();
    let topology = args.topology.as_ref().map(|t| t.display().to_string());
    let plan = baseline::baseline(report, sources, &reason, topology.as_deref());
    let allowed = allowed(&args);
    // Decide every file first: one refused means nothing is written, as the run's input stays
    // as it was rather than half baselined.
    for edit in &plan.files {
        let path = Path::new(&edit.path);
        if base_for(&args, &allowed, path).is_none() {
            return io.fail(format!(
                "--add-noqa wrote nothing: {} is outside the folders this run was given (--allow-outside-paths lets a topology's files be written)",
                edit.path
            ));
        }
        let now = std::fs::read(path);
        if now.as_deref().ok() != Some(sources.get(edit.file).text.as_bytes()) {
            return io.fail(format!(
                "--add-noqa wrote nothing: {} changed while twlint read it",
                edit.path
            ));
        }
    }
    let (mut directives, mut findings) = (0, 0);
    for edit in &plan.files {
        let path = Path::new(&edit.path);
        let base = base_for(&args, &allowed, path).expect("checked above");
        let perms = std::fs::metadata(path).map(|m| m.permissions());
        if let Err(e) = crate::contain::write_inside(&base, &dotted(path), edit.text.as_bytes()) {
            return io.fail(format!(
                "cannot write the suppressions to {}: {e}",
                edit.path
            ));
        }
        if let Ok(p) = perms {
            let _ = std::fs::set_permissions(path, p);
        }
        directives += edit.directives;
        findings += edit.findings;
    }
    if plan.files.is_empty() {
        writeln!(io.err, "twlint: no finding to suppress")?;
    } else {
        writeln!(
            io.err,
            "twlint: added {} for {} in {} (reason: {reason})",
            plural(directives, "suppression", "suppressions"),
            plural(findings, "finding", "findings"),
            plural(plan.files.len(), "file", "files"),
        )?;
    }
    for u in &plan.unsuppressible {
        let what: String = [u.node.as_deref(), u.key.as_deref()]
            .into_iter()
            .flatten()
            .map(|w| format!(" {w}"))
            .collect();
        let place = u
            .place
            .as_deref()
            .map(|p| format!(" at {p}"))
            .unwrap_or_default();
        writeln!(
            io.err,
            "twlint: not suppressible: {}{what}{place}: {}",
            u.rule, u.why
        )?;
    }
    // What is left, judged again from the files as they are now.
    args.add_noqa = false;
    super::check::run(io, args)
}
